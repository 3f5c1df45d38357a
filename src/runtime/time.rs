//! Timers, after Go's time.go: each P keeps its timers in a 4-ary min-heap ordered by
//! `when`, under the P's timers lock; `timer0_when` mirrors the earliest one so the
//! scheduler can skip the lock when nothing is due.
//!
//! Timers run from the scheduler: findrunnable runs the current P's due timers
//! (`run_timers`), and a spinning M runs other Ps' due timers on its last steal pass
//! (so timers are stolen with work). A timer's function runs on g0 of an M holding a
//! P, with no timer lock held; it readies a goroutine (sleep) or makes a non-blocking
//! send (after, tick). When nothing is runnable, one idle M sleeps on a futex until
//! the earliest timer across all Ps is due (proc.rs `timer_sleep`); adding an earlier
//! timer wakes it (`wake_timer_sleeper`). Nothing polls.
//!
//! Timers are never deleted early: a sleep's timer lives on the sleeping goroutine's
//! stack until it fires; after/tick timers are boxed and freed when they fire for the
//! last time (a ticker stops once nobody but the ticker holds its channel).
//!
//! No allocation under the timers lock: the heap grows by allocating a bigger array
//! with the lock released and swapping it in (`Timers::add`). A sleep adds its timer
//! before it parks, not in the park commit, and settles the race with the timer
//! firing through the timer's state word (`sleep_commit`, `goroutine_ready`).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, SeqCst};
use core::sync::atomic::{AtomicI64, AtomicU32};
use core::time::Duration;

use crate::chan::Chan;
use crate::runtime::lock_futex::Mutex;
use crate::runtime::lockrank::LockRank;
use crate::runtime::proc::{acquirem, getg, gopark, goready, wake_timer_sleeper};
use crate::runtime::runtime2::{WaitReason, G, P};
use crate::runtime::vdso_linux::nanotime;
use crate::time::Instant;

/// A timer: at `when` (nanotime), call f(t, now); if f returns true and period > 0,
/// run again period later.
pub(crate) struct Timer {
    /// When to fire (nanotime). Written by the timer's owner before it is added, and
    /// by run_timers between a pop and the re-add of a periodic timer.
    pub(crate) when: i64,
    /// Period in ns, 0 for a one-shot timer. Immutable once added.
    pub(crate) period: i64,
    /// What to do when the timer fires: on g0, no timer lock held. If it returns
    /// false, run_timers does not touch the timer again (f may free it).
    pub(crate) f: unsafe fn(*mut Timer, i64) -> bool,
    /// f's argument (the sleeping G for a sleep).
    pub(crate) arg: usize,
    /// A sleep's handshake with its sleeper (TIMER_ARMED..TIMER_FIRED); unused by
    /// other timers.
    pub(crate) state: AtomicU32,
}

/// The sleep timer is in the heap; its goroutine has not finished parking.
const TIMER_ARMED: u32 = 0;
/// The sleeper is parked (its park commit ran): whoever fires the timer readies it.
const TIMER_PARKED: u32 = 1;
/// The timer fired: the sleeper must not park (or has been readied).
const TIMER_FIRED: u32 = 2;

/// A P's timers: a 4-ary heap by `when`.
pub(crate) struct Timers {
    /// Protects heap.
    pub(crate) lock: Mutex,
    heap: UnsafeCell<Vec<*mut Timer>>,
    /// The heap's length: written under lock, read by schedtrace (Relaxed).
    len: AtomicU32,
    /// when of the earliest timer, 0 if none. Written under lock, read without
    /// (SeqCst: the timer sleeper's handshake, see proc.rs TIMER_SLEEPING).
    pub(crate) timer0_when: AtomicI64,
}

impl Timers {
    /// No timers.
    pub(crate) const fn new() -> Timers {
        Timers {
            lock: Mutex::new(LockRank::Timers),
            heap: UnsafeCell::new(Vec::new()),
            len: AtomicU32::new(0),
            timer0_when: AtomicI64::new(0),
        }
    }

    /// The heap, for the lock holder.
    ///
    /// # Safety
    /// lock is held, and no other reference to the heap is alive.
    #[allow(clippy::mut_from_ref)]
    unsafe fn heap(&self) -> &mut Vec<*mut Timer> {
        // SAFETY: the caller holds lock.
        unsafe { &mut *self.heap.get() }
    }

    /// Whether no timer is pending (a snapshot). Any thread.
    pub(crate) fn is_empty(&self) -> bool {
        // SeqCst: as the field's other readers; a snapshot needs no more than Relaxed
        // (x86-64: a plain load either way).
        self.timer0_when.load(SeqCst) == 0
    }

    /// The number of timers (a snapshot, for schedtrace). Any thread.
    pub(crate) fn len_hint(&self) -> u32 {
        // Relaxed: a number for schedtrace, publishing nothing.
        self.len.load(Relaxed)
    }

    /// Add t, growing the heap with the lock released when it is full (the runtime
    /// never allocates under one of its locks). Takes the lock, so the caller must
    /// hold no runtime lock; may allocate. Any g.
    ///
    /// # Safety
    /// t is live until it fires for the last time and is in no heap.
    unsafe fn add(&self, t: *mut Timer) {
        loop {
            self.lock.lock();
            // SAFETY: lock held.
            let h = unsafe { self.heap() };
            if h.len() < h.capacity() {
                // SAFETY: lock held; there is room, so push does not allocate.
                unsafe { self.push(t) };
                self.lock.unlock();
                return;
            }
            let cap = h.capacity();
            self.lock.unlock();
            let mut bigger: Vec<*mut Timer> = Vec::with_capacity((cap * 2).max(16));
            self.lock.lock();
            // SAFETY: lock held.
            let h = unsafe { self.heap() };
            if h.capacity() == cap {
                // Nobody grew it meanwhile: move the timers over (bigger has room
                // for all of them, so this does not allocate) and keep the new array.
                bigger.extend_from_slice(h);
                core::mem::swap(h, &mut bigger);
            }
            self.lock.unlock();
            drop(bigger); // the old array (or the unused new one), freed unlocked
        }
    }

    /// Push t onto the heap. No allocation.
    ///
    /// # Safety
    /// lock held; t is live; the heap has spare capacity.
    unsafe fn push(&self, t: *mut Timer) {
        // SAFETY: lock is held (our caller's contract), and this is the only
        // reference to the heap while we run.
        let h = unsafe { self.heap() };
        debug_assert!(h.len() < h.capacity());
        h.push(t);
        let last = h.len() - 1;
        // SAFETY: lock held: the heap's timers, t included, are live.
        unsafe { siftup(h, last) };
        // Relaxed: a count for schedtrace.
        self.len.store(h.len() as u32, Relaxed);
        // SAFETY: as above; h[0] is a live timer.
        let when0 = unsafe { (*h[0]).when };
        // SeqCst: the timer sleeper's handshake (see timer0_when).
        self.timer0_when.store(when0, SeqCst);
    }

    /// Remove and return the earliest timer if it is due at now. No allocation.
    ///
    /// # Safety
    /// lock held.
    unsafe fn pop_due(&self, now: i64) -> Option<*mut Timer> {
        // SAFETY: lock is held (our caller's contract), and this is the only
        // reference to the heap while we run.
        let h = unsafe { self.heap() };
        let &t = h.first()?;
        // SAFETY: lock held: the heap's timers are live.
        if unsafe { (*t).when } > now {
            return None;
        }
        let last = h.pop().unwrap();
        if !h.is_empty() {
            h[0] = last;
            // SAFETY: as above.
            unsafe { siftdown(h, 0) };
        }
        // Relaxed: a count for schedtrace.
        self.len.store(h.len() as u32, Relaxed);
        // SAFETY: as above.
        let when0 = h.first().map_or(0, |&t| unsafe { (*t).when });
        // SeqCst: the timer sleeper's handshake (see timer0_when).
        self.timer0_when.store(when0, SeqCst);
        Some(t)
    }

    /// Move every timer to `to` (procresize removing this P). Takes both locks, one
    /// at a time; the emptied array is freed with no lock held. Any g, with no
    /// runtime lock held (to's heap may grow).
    pub(crate) fn move_to(&self, to: &Timers) {
        self.lock.lock();
        // SAFETY: lock held; taking the array leaves an empty Vec (no allocation).
        let moved = unsafe { core::mem::take(self.heap()) };
        // Relaxed and SeqCst: as in pop_due.
        self.len.store(0, Relaxed);
        self.timer0_when.store(0, SeqCst);
        self.lock.unlock();
        for &t in &moved {
            // SAFETY: t was in our heap, so it is live and now in none.
            unsafe { to.add(t) };
        }
    }
}

// 4-ary heap, as Go's: children of i are 4i+1..4i+4.

/// Move h[i] up to its place.
///
/// # Safety
/// Every timer in h is live (the heap's lock is held).
unsafe fn siftup(h: &mut [*mut Timer], mut i: usize) {
    // SAFETY: the heap's timers are live (our caller's contract); we read their when.
    unsafe {
        let t = h[i];
        let when = (*t).when;
        while i > 0 {
            let p = (i - 1) / 4; // parent
            if when >= (*h[p]).when {
                break;
            }
            h[i] = h[p];
            i = p;
        }
        h[i] = t;
    }
}

/// Move h[i] down to its place.
///
/// # Safety
/// As siftup.
unsafe fn siftdown(h: &mut [*mut Timer], mut i: usize) {
    // SAFETY: as siftup.
    unsafe {
        let n = h.len();
        let t = h[i];
        let when = (*t).when;
        loop {
            let c = i * 4 + 1; // left child
            if c >= n {
                break;
            }
            let mut best = c;
            for k in c + 1..(c + 4).min(n) {
                if (*h[k]).when < (*h[best]).when {
                    best = k;
                }
            }
            if (*h[best]).when >= when {
                break;
            }
            h[i] = h[best];
            i = best;
        }
        h[i] = t;
    }
}

/// addtimer: put t on the current P's heap and make sure someone will run it in
/// time. Runs on g0 or a goroutine of an M holding a P, with no runtime lock held
/// (the heap may grow); not in a park commit.
///
/// # Safety
/// t stays valid until it fires for the last time.
pub(crate) unsafe fn addtimer(t: *mut Timer) {
    // SAFETY: t is live (the caller's contract).
    let when = unsafe { (*t).when };
    // Inside gort::blocking the goroutine has no P: leave the system call for this.
    crate::runtime::proc::with_p(|| {
        // Pinned: the P must stay ours while we add to its heap.
        let mp = acquirem();
        let pp = mp.p();
        if pp.is_null() {
            crate::runtime::runtime1::throw("addtimer: no P");
        }
        // SAFETY: pp is the pinned M's P, never freed; t is live and in no heap.
        unsafe { (*pp).timers.add(t) };
    });
    wake_timer_sleeper(when);
}

/// Run pp's due timers. Returns whether any ran. Runs on g0 of an M holding a P
/// (pp is ours, or another P whose timers we steal), with no runtime lock held.
///
/// # Safety
/// pp is a live P.
pub(crate) unsafe fn run_timers(pp: *mut P, now: i64) -> bool {
    // SAFETY: pp is live (our caller's contract; Ps are never freed), and Timers is
    // shared by design: its heap is under its lock.
    let ts = unsafe { &(*pp).timers };
    // SeqCst: as the field's other readers; this check needs no more than Relaxed
    // (pop_due re-checks under the lock).
    let w = ts.timer0_when.load(SeqCst);
    if w == 0 || w > now {
        return false;
    }
    let mut ran = false;
    ts.lock.lock();
    // SAFETY: ts.lock is held.
    while let Some(t) = unsafe { ts.pop_due(now) } {
        ts.lock.unlock();
        ran = true;
        // Read before f: a timer whose f returns false may be gone after it.
        // SAFETY: t came off the heap: it is live (its owner keeps it so until it
        // fires for the last time) and ours until re-added.
        let period = unsafe { (*t).period };
        // SAFETY: as above; f runs on g0 with no timer lock held, as Timer.f expects.
        if unsafe { ((*t).f)(t, now) } && period > 0 {
            // Next run: the next period boundary after now (skipping missed ones).
            // SAFETY: f returned true, so t is still live and ours (off the heap);
            // its when is ours to set before it goes back (addtimer: no lock held).
            unsafe {
                let behind = now - (*t).when;
                (*t).when += period * (1 + behind / period);
                addtimer(t);
            }
        }
        ts.lock.lock();
    }
    ts.lock.unlock();
    ran
}

/// A Duration in nanoseconds, saturating at i64::MAX.
pub(crate) fn dur_ns(d: Duration) -> i64 {
    d.as_nanos().min(i64::MAX as u128) as i64
}

/// goroutineReady: a sleep's timer fired. If the sleeper has parked, ready it;
/// if not (its park commit has not run yet), the commit will see FIRED and not
/// park. Either way t is not touched after the swap: the sleeper may return (and
/// its stack frame, which holds t, go away) as soon as FIRED is visible.
/// Runs on g0 (run_timers), with no timer lock held.
///
/// # Safety
/// t is a sleep's timer (time_sleep's), just taken off the heap: live until its
/// state becomes FIRED, with the sleeping G in arg.
unsafe fn goroutine_ready(t: *mut Timer, _now: i64) -> bool {
    // SAFETY: t is live until the swap below publishes FIRED; arg is read first and
    // state is atomic.
    let (gp, old) = unsafe {
        let gp = (*t).arg as *mut G;
        // AcqRel: pairs with sleep_commit's CAS (the sleeper parked before PARKED).
        (gp, (*t).state.swap(TIMER_FIRED, AcqRel))
    };
    if old == TIMER_PARKED {
        // SAFETY: the sleeper is parked (GWAITING) and only we ready it.
        unsafe { goready(gp) };
    }
    false
}

/// The park commit of a sleep, on g0 once the sleeper is off its stack: park unless
/// the timer already fired. Allocates nothing.
///
/// # Safety
/// t is the Timer of time_sleep's goroutine (on its stack), called as its gopark
/// unlock function.
unsafe fn sleep_commit(_gp: *mut G, t: *mut u8) -> bool {
    // SAFETY: t is the Timer on the sleeper's stack; it has not resumed. state is
    // atomic.
    let state = unsafe { &(*(t as *mut Timer)).state };
    // AcqRel: pairs with goroutine_ready's swap (Acquire on failure: we saw FIRED,
    // and the sleeper resumes after it).
    state
        .compare_exchange(TIMER_ARMED, TIMER_PARKED, AcqRel, Acquire)
        .is_ok()
}

/// timeSleep: park the current goroutine for at least ns nanoseconds. Runs on a
/// goroutine with no runtime lock held (the heap may grow).
pub(crate) fn time_sleep(ns: i64) {
    if ns <= 0 {
        return;
    }
    let mut t = Timer {
        when: nanotime().saturating_add(ns),
        period: 0,
        f: goroutine_ready,
        arg: getg() as usize,
        state: AtomicU32::new(TIMER_ARMED),
    };
    let tp = &mut t as *mut Timer;
    // SAFETY: t lives on our stack until it has fired: we return only after the
    // timer's swap to FIRED (either it readied us, or our commit saw FIRED).
    unsafe { addtimer(tp) };
    // SAFETY: sleep_commit is one CAS: it neither parks nor allocates. If it refuses
    // (the timer fired) we resume at once, else goroutine_ready readies us.
    unsafe { gopark(Some(sleep_commit), tp as *mut u8, WaitReason::Sleep) };
}

/// A boxed timer that sends the time on a channel.
#[repr(C)]
struct ChanTimer {
    t: Timer,
    c: Chan<Instant>,
}

/// sendTime: non-blocking send of the time (a full channel drops the tick, as Go).
/// Keeps a ticker only while someone besides the ticker holds the channel. Runs on
/// g0 (run_timers), with no timer lock held.
///
/// # Safety
/// t is the Timer of a boxed ChanTimer (chan_timer's) that run_timers just took off
/// the heap.
unsafe fn send_time(t: *mut Timer, now: i64) -> bool {
    let ct = t as *mut ChanTimer;
    // SAFETY: t is the first field of a boxed ChanTimer (repr(C)) that only the heap
    // owns, and run_timers took it off the heap: it is ours while we run.
    let c = unsafe { &(*ct).c };
    let _ = c.try_send(Instant::from_nanos(now));
    // SAFETY: as above; period is immutable.
    if unsafe { (*ct).t.period } > 0 && c.handles() > 1 {
        return true;
    }
    // SAFETY: as above: the box is ours, and once we return false nothing touches
    // the timer again.
    drop(unsafe { Box::from_raw(ct) });
    false
}

/// A channel that gets the time at d from now and then every period ns (0: once).
/// Runs on a goroutine with no runtime lock held (it allocates).
pub(crate) fn chan_timer(d: Duration, period: i64) -> Chan<Instant> {
    let c = crate::chan::chan::<Instant>(1);
    let ct = Box::new(ChanTimer {
        t: Timer {
            when: nanotime().saturating_add(dur_ns(d)),
            period,
            f: send_time,
            arg: 0,
            state: AtomicU32::new(TIMER_ARMED),
        },
        c: c.clone(),
    });
    // SAFETY: the box is owned by the timer heap from now on; send_time frees it.
    unsafe { addtimer(Box::into_raw(ct) as *mut Timer) };
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    unsafe fn noop(_: *mut Timer, _: i64) -> bool {
        false
    }

    #[test]
    fn heap_pops_in_when_order() {
        let ts = Timers::new();
        let mut rng = 12345u64;
        let mut timers: Vec<Timer> = (0..1000)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                Timer {
                    when: 1 + (rng % 10_000) as i64,
                    period: 0,
                    f: noop,
                    arg: 0,
                    state: AtomicU32::new(TIMER_ARMED),
                }
            })
            .collect();
        for t in timers.iter_mut() {
            // SAFETY: the timers outlive the heap's use of them.
            unsafe { ts.add(t) };
        }
        assert_eq!(ts.len_hint(), 1000);
        ts.lock.lock();
        let mut whens = Vec::new();
        let mut last = 0;
        for now in (0..=10_000).step_by(7) {
            // SAFETY: lock held.
            while let Some(t) = unsafe { ts.pop_due(now) } {
                // SAFETY: t is one of `timers`.
                let w = unsafe { (*t).when };
                assert!(
                    w <= now && w >= last,
                    "out of order: {w} after {last} at {now}"
                );
                last = w;
                whens.push(w);
            }
        }
        // SAFETY: lock held; the timers are live.
        while let Some(t) = unsafe { ts.pop_due(i64::MAX) } {
            whens.push(unsafe { (*t).when });
        }
        ts.lock.unlock();
        assert_eq!(whens.len(), 1000, "every timer comes out once");
        let mut sorted = whens.clone();
        sorted.sort();
        assert_eq!(whens, sorted);
        assert_eq!(ts.timer0_when.load(SeqCst), 0);
        assert_eq!(ts.len_hint(), 0);
    }
}
