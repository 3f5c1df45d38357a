//! Timers, after Go's time.go: each P keeps its timers in a 4-ary min-heap ordered by
//! `when`, under the P's `timers_lock`; `timer0_when` mirrors the earliest one so the
//! scheduler can skip the lock when nothing is due.
//!
//! Timers run from the scheduler: `check_timers` at the top of findrunnable runs the
//! current P's due timers, and a spinning M runs other Ps' due timers on its last
//! steal pass (so timers are stolen with work). A timer's function runs on g0 of an M
//! holding a P, with no timer lock held; it readies a goroutine (sleep) or makes a
//! non-blocking send (after, tick). When nothing is runnable, one idle M sleeps on a
//! futex until the earliest timer across all Ps is due (see proc.rs findrunnable);
//! adding an earlier timer wakes it (`wake_timer_sleeper`). Nothing polls.
//!
//! Timers are never deleted early: a sleep's timer lives on the sleeping goroutine's
//! stack until it fires; after/tick timers are boxed and freed when they fire for the
//! last time (a ticker stops once nobody but the ticker holds its channel).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::sync::atomic::AtomicI64;
use core::sync::atomic::Ordering::SeqCst;
use core::time::Duration;

use crate::chan::Chan;
use crate::runtime::lock_futex::Mutex;
use crate::runtime::proc::{getg, getm, gopark, goready};
use crate::runtime::runtime2::{G, P};
use crate::runtime::vdso_linux::nanotime;
use crate::time::Instant;

/// A timer: at `when` (nanotime), call f(t, now); if f returns true and period > 0,
/// run again period later.
pub(crate) struct Timer {
    pub(crate) when: i64,
    pub(crate) period: i64,
    pub(crate) f: unsafe fn(*mut Timer, i64) -> bool,
    pub(crate) arg: usize,
}

/// A P's timers: a 4-ary heap by `when`.
pub(crate) struct Timers {
    pub(crate) lock: Mutex,
    heap: UnsafeCell<Vec<*mut Timer>>,
    /// when of the earliest timer, 0 if none. Written under lock, read without.
    pub(crate) timer0_when: AtomicI64,
}

impl Timers {
    pub(crate) const fn new() -> Timers {
        Timers {
            lock: Mutex::new(),
            heap: UnsafeCell::new(Vec::new()),
            timer0_when: AtomicI64::new(0),
        }
    }

    /// # Safety
    /// lock is held.
    #[allow(clippy::mut_from_ref)]
    unsafe fn heap(&self) -> &mut Vec<*mut Timer> {
        // SAFETY: the caller holds lock.
        unsafe { &mut *self.heap.get() }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.timer0_when.load(SeqCst) == 0
    }

    /// Add t. lock held.
    unsafe fn push(&self, t: *mut Timer) {
        // SAFETY: lock held; timers in the heap are live.
        unsafe {
            let h = self.heap();
            h.push(t);
            let last = h.len() - 1;
            siftup(h, last);
            self.timer0_when.store((*h[0]).when, SeqCst);
        }
    }

    /// Remove and return the earliest timer if it is due at now. lock held.
    unsafe fn pop_due(&self, now: i64) -> Option<*mut Timer> {
        // SAFETY: lock held; timers in the heap are live.
        unsafe {
            let h = self.heap();
            let &t = h.first()?;
            if (*t).when > now {
                return None;
            }
            let last = h.pop().unwrap();
            if !h.is_empty() {
                h[0] = last;
                siftdown(h, 0);
            }
            self.timer0_when
                .store(h.first().map_or(0, |&t| (*t).when), SeqCst);
            Some(t)
        }
    }

    /// Move every timer to `to` (procresize removing this P). Both locks are taken.
    pub(crate) fn move_to(&self, to: &Timers) {
        self.lock.lock();
        to.lock.lock();
        // SAFETY: both locks held.
        unsafe {
            for t in self.heap().drain(..) {
                to.push(t);
            }
            self.timer0_when.store(0, SeqCst);
        }
        to.lock.unlock();
        self.lock.unlock();
    }
}

impl Default for Timers {
    fn default() -> Self {
        Timers::new()
    }
}

// 4-ary heap, as Go's: children of i are 4i+1..4i+4.
unsafe fn siftup(h: &mut [*mut Timer], mut i: usize) {
    // SAFETY: the heap's timers are live (caller holds the lock).
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
/// time. Runs on g0 or a goroutine of an M holding a P.
///
/// # Safety
/// t stays valid until it fires for the last time.
pub(crate) unsafe fn addtimer(t: *mut Timer) {
    // SAFETY: the current M holds a P.
    unsafe {
        let pp = (*getm()).p;
        let ts = &(*pp).timers;
        ts.lock.lock();
        ts.push(t);
        ts.lock.unlock();
        crate::runtime::proc::wake_timer_sleeper((*t).when);
    }
}

/// Run pp's due timers. Returns (whether any ran, the next when on pp or 0). Runs on
/// g0 of an M holding a P (pp is ours, or another P whose timers we steal).
///
/// # Safety
/// pp is a live P.
pub(crate) unsafe fn run_timers(pp: *mut P, now: i64) -> bool {
    // SAFETY: pp is live; the lock guards its heap; timer functions run unlocked.
    unsafe {
        let ts = &(*pp).timers;
        let w = ts.timer0_when.load(SeqCst);
        if w == 0 || w > now {
            return false;
        }
        let mut ran = false;
        ts.lock.lock();
        while let Some(t) = ts.pop_due(now) {
            ts.lock.unlock();
            ran = true;
            let keep = ((*t).f)(t, now);
            if keep && (*t).period > 0 {
                // Next run: the next period boundary after now (skipping missed ones).
                let p = (*t).period;
                let behind = now - (*t).when;
                (*t).when += p * (1 + behind / p);
                addtimer(t);
            }
            ts.lock.lock();
        }
        ts.lock.unlock();
        ran
    }
}

/// A Duration in nanoseconds, saturating at i64::MAX.
pub(crate) fn dur_ns(d: Duration) -> i64 {
    d.as_nanos().min(i64::MAX as u128) as i64
}

/// goroutineReady: a sleep's timer fired.
unsafe fn goroutine_ready(t: *mut Timer, _now: i64) -> bool {
    // SAFETY: arg is the sleeping goroutine, parked until now.
    unsafe { goready((*t).arg as *mut G) };
    false
}

/// resetForSleep: runs on g0 once the sleeping goroutine is parked, so the timer
/// cannot fire before the goroutine is off its stack.
unsafe fn reset_for_sleep(_gp: *mut G, t: *mut u8) -> bool {
    // SAFETY: t is the Timer on the sleeper's stack, valid until it fires.
    unsafe { addtimer(t as *mut Timer) };
    true
}

/// timeSleep: park the current goroutine for at least ns nanoseconds. Runs on a
/// goroutine.
pub(crate) fn time_sleep(ns: i64) {
    if ns <= 0 {
        return;
    }
    let mut t = Timer {
        when: nanotime().saturating_add(ns),
        period: 0,
        f: goroutine_ready,
        arg: getg() as usize,
    };
    // SAFETY: t lives on our stack until the timer fires and readies us.
    unsafe {
        gopark(
            Some(reset_for_sleep),
            &mut t as *mut Timer as *mut u8,
            "sleep",
        )
    };
}

/// A boxed timer that sends the time on a channel.
#[repr(C)]
struct ChanTimer {
    t: Timer,
    c: Chan<Instant>,
}

/// sendTime: non-blocking send of the time (a full channel drops the tick, as Go).
/// Keeps a ticker only while someone besides the ticker holds the channel.
unsafe fn send_time(t: *mut Timer, now: i64) -> bool {
    // SAFETY: t is the first field of a boxed ChanTimer that only the heap owns.
    unsafe {
        let ct = t as *mut ChanTimer;
        let _ = (*ct).c.try_send(Instant::from_nanos(now));
        if (*ct).t.period > 0 && (*ct).c.handles() > 1 {
            return true;
        }
        drop(Box::from_raw(ct));
        false
    }
}

/// A channel that gets the time at d from now and then every period ns (0: once).
pub(crate) fn chan_timer(d: Duration, period: i64) -> Chan<Instant> {
    let c = crate::chan::chan::<Instant>(1);
    let ct = Box::new(ChanTimer {
        t: Timer {
            when: nanotime().saturating_add(dur_ns(d)),
            period,
            f: send_time,
            arg: 0,
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
                }
            })
            .collect();
        ts.lock.lock();
        for t in timers.iter_mut() {
            unsafe { ts.push(t) };
        }
        let mut whens = Vec::new();
        let mut last = 0;
        for now in (0..=10_000).step_by(7) {
            while let Some(t) = unsafe { ts.pop_due(now) } {
                let w = unsafe { (*t).when };
                assert!(
                    w <= now && w >= last,
                    "out of order: {w} after {last} at {now}"
                );
                last = w;
                whens.push(w);
            }
        }
        while let Some(t) = unsafe { ts.pop_due(i64::MAX) } {
            whens.push(unsafe { (*t).when });
        }
        ts.lock.unlock();
        assert_eq!(whens.len(), 1000, "every timer comes out once");
        let mut sorted = whens.clone();
        sorted.sort();
        assert_eq!(whens, sorted);
        assert_eq!(ts.timer0_when.load(SeqCst), 0);
    }
}
