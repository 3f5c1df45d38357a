//! Timers, after Go 1.23's time.go: timers that can be stopped and reset, on per-P
//! heaps whose entries carry their `when` inline.
//!
//! # Heaps
//!
//! Each P keeps its timers in `Timers`: a 4-ary min-heap of `TimerWhen {when, t}`
//! under the heap's lock, and beside it a run of entries already in `when` order
//! (`Queue`): a timer whose when is at or after the run's last goes there, so
//! timers of one duration (sleeps, deadlines, tickers) are added and popped in
//! O(1). Sifting compares the inline `when`s and never touches the timers
//! themselves (which live in poll descriptors and boxes; following 10,000
//! pointers per pop was 30% of the CPU).
//! `min_when_heap` mirrors the earliest entry, `min_when_modified` the earliest `when` a
//! timer was modified to since the last `adjust`; `wake_time` is the earlier of
//! the two, read without the lock by the scheduler, sysmon and the timer sleeper.
//!
//! # A timer's state (Go's timerHeaped, timerModified, timerZombie)
//!
//! A timer has its own lock `mu` (rank Timer, taken after its heap's lock) over its
//! fields. `HEAPED`: it is in `ts`'s heap. `MODIFIED`: its `when` changed since the
//! heap entry was written: the entry is stale and whoever meets it (run, adjust)
//! rewrites it. `ZOMBIE`: stopped while in a heap: the entry is removed when met.
//! So stop and reset never take a heap lock, and never search a heap:
//!
//! - `modify` (reset) sets `when`; if the timer is heaped it marks it MODIFIED (and
//!   not a zombie) and lowers `min_when_modified` so the scheduler looks in time;
//!   if it is not heaped, `maybe_add` puts it on the current P's heap.
//! - `stop` clears `when` and marks a heaped timer a zombie. Zombies are removed at
//!   the top of the heap, in `adjust`, and all at once when they are a quarter of
//!   the heap or the heap would otherwise grow.
//! - `run_timers` (findrunnable, or a thief stealing with work) pops due entries:
//!   a periodic timer is rescheduled in place, a one-shot leaves the heap; then `f`
//!   runs with no lock held.
//!
//! # Firing into a full run queue
//!
//! Go fires every due timer at each check, so a burst of wake-ups (10,000 sleepers
//! due at once) overflows the P's 256-slot run queue and half of it goes through
//! the global queue under sched.lock, and back. gort fires only as many as the
//! running P's ring has room for (`run_timers`' budget); the rest stay due in the
//! heap, which keeps them in `when` order as well as a queue would, and the next
//! schedule round or an idle P (which runs others' due timers) takes them. Below
//! `ROOM_MIN` free slots a check does not take the heap's lock at all, unless the
//! earliest entry is `OVERDUE_MAX` late: then it fires a batch as Go would, so a
//! run queue kept full (goroutines spawning their successors) delays a timer by
//! at most that, never starves it.
//!
//! # Timer channels (Go 1.23's synchronous channels)
//!
//! A channel timer (`time::Timer`, `Ticker`, `after`, `tick`) sends under its
//! `send_lock`, after checking that `seq` (bumped by stop and reset while they hold
//! `send_lock`) is still what it was when the timer fired; stop and reset then drain
//! the channel. So once `stop` or `reset` returns, no value from the old schedule
//! is received, and their result says whether the timer was still pending (Go's
//! `isSending` covers a one-shot caught between its pop and its send).
//!
//! # Who frees a boxed timer
//!
//! The runtime's own timers live in poll descriptors (never freed). The timers behind
//! `time::Timer`, `Ticker`, `after`, `tick` and `after_func` are boxed (`BoxTimer`);
//! dropping the user's handle marks the box `ORPHAN` without stopping it (Go 1.23:
//! an unreferenced timer still fires, and `after_func`'s function still runs), and
//! the box is freed by whoever ends its last use: the handle's drop if it is neither
//! heaped nor running, the heap when it drops the entry, or the runner after `f`
//! (`inflight` counts runs in progress). An orphaned channel timer whose channel
//! nobody else holds can never be received from: it is dropped like a zombie (Go's
//! collection of unreferenced timers), so a million `after` calls in a loop do not
//! hold a million timers.
//!
//! # Locks and allocation
//!
//! Order: TimerSend < Timers < Timer < Hchan. No allocation under a heap lock: the
//! heap grows by allocating a bigger array with the lock released and swapping it
//! in (`lock_with_room`); boxes to free are chained through `free_next` and freed
//! after the lock is dropped.
//!
//! # Sleeps (Go 1.23's resetForSleep)
//!
//! A sleep is never stopped or reset, so it has no timer: its heap entry names
//! the sleeping goroutine itself (`TimerWhen::sleep`), and taking a due entry
//! readies it. The entry is filed by the sleep's park commit (`sleep_park`), once
//! the goroutine is off its stack and waiting, so the firing cannot race with the
//! park and needs no handshake; a commit must not allocate, so on a full heap it
//! refuses and the sleeper grows the heap and parks again. A wake-up then touches
//! the entry and the goroutine, nothing on its stack; `Queue::warm_next` and
//! `Fire::fire` prefetch what the next wake-ups touch.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering::{Relaxed, SeqCst};
use core::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, AtomicUsize};
use core::time::Duration;

use crate::chan::Chan;
use crate::runtime::asm_amd64::prefetch;
use crate::runtime::lock_futex::Mutex;
use crate::runtime::lockrank::LockRank;
use crate::runtime::proc::{acquirem, gopark, ready_nowake, wake_timer_sleeper, wakep};
use crate::runtime::runtime2::{WaitReason, G, P, RUNQ_SIZE};
use crate::runtime::vdso_linux::nanotime;
use crate::time::Instant;

/// What a timer does when it fires: f(arg, seq, delay), on g0 with no runtime lock
/// held (a channel timer's send lock aside). delay is how late it runs (ns).
pub(crate) type TimerFn = unsafe fn(arg: usize, seq: usize, delay: i64);

/// In `ts`'s heap.
const HEAPED: u8 = 1;
/// `when` changed since the heap entry was written.
const MODIFIED: u8 = 2;
/// Stopped while heaped: the entry is to be removed.
const ZOMBIE: u8 = 4;
/// A boxed timer whose handle is gone: its last user frees it.
const ORPHAN: u8 = 8;

/// What kind of timer, fixed at creation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Owned elsewhere (a poll descriptor).
    Plain,
    /// A `BoxTimer` that sends on its channel under `send_lock`.
    Chan,
    /// A `BoxTimer` that starts a goroutine (after_func).
    Func,
}

/// A timer's fields under its lock.
struct TState {
    state: u8,
    /// Runs of f in progress (boxed timers only).
    inflight: u32,
    /// When to fire (nanotime); 0 when not pending.
    when: i64,
    /// Period in ns, 0 for a one-shot.
    period: i64,
    f: TimerFn,
    arg: usize,
    /// The heap this timer is in, while HEAPED.
    ts: *const Timers,
    /// Chains boxes to free once the heap lock is dropped.
    free_next: *mut Timer,
}

/// A timer (Go's runtime timer).
pub(crate) struct Timer {
    mu: Mutex,
    st: UnsafeCell<TState>,
    /// Go's seq: channel timers bump it (stop, reset) with send_lock and mu held; a
    /// poll descriptor's deadline timers carry the descriptor's sequence. Written
    /// under mu, read under mu or (channel timers) send_lock: Relaxed, the locks
    /// order it.
    seq: AtomicUsize,
    /// Go's isSending: one-shot fires between their pop and taking send_lock.
    sending: AtomicU32,
    send_lock: Mutex,
    kind: Kind,
}

// SAFETY: the UnsafeCell fields are touched only under mu (see TState); the rest is
// atomic or immutable.
unsafe impl Sync for Timer {}
// SAFETY: as Sync; the raw pointers in TState are owned by the timer protocol.
unsafe impl Send for Timer {}

impl Timer {
    /// A timer that calls f(arg, ..) when it fires; not pending.
    pub(crate) const fn new(kind: Kind, f: TimerFn, arg: usize) -> Timer {
        Timer {
            mu: Mutex::new(LockRank::Timer),
            st: UnsafeCell::new(TState {
                state: 0,
                inflight: 0,
                when: 0,
                period: 0,
                f,
                arg,
                ts: ptr::null(),
                free_next: ptr::null_mut(),
            }),
            seq: AtomicUsize::new(0),
            sending: AtomicU32::new(0),
            send_lock: Mutex::new(LockRank::TimerSend),
            kind,
        }
    }

    /// The fields, for the holder of mu.
    ///
    /// # Safety
    /// mu is held, and no other reference to the fields is alive.
    #[allow(clippy::mut_from_ref)]
    unsafe fn st(&self) -> &mut TState {
        // SAFETY: the caller holds mu.
        unsafe { &mut *self.st.get() }
    }

    /// Set f's argument (a timer learns its container's address once that is
    /// final).
    ///
    /// # Safety
    /// No other thread can reach the timer yet (it was never scheduled).
    pub(crate) unsafe fn set_arg(&self, arg: usize) {
        // SAFETY: the caller's contract: nobody else touches the fields.
        unsafe { self.st().arg = arg };
    }

    /// Go's modify: (re)schedule the timer at `when` (> 0), then every `period` ns
    /// (0: once). With `seq`, apply only if seq is newer than the timer's (a poll
    /// descriptor's deadline: concurrent setters apply in their order). Returns
    /// whether the timer was pending. Runs on a goroutine with no runtime lock held
    /// (it may add to the heap, which may allocate).
    pub(crate) fn modify(&self, when: i64, period: i64, seq: Option<usize>) -> bool {
        let when = when.max(1);
        let chan = self.kind == Kind::Chan;
        if !self.lock_for_change(chan, seq) {
            return false;
        }
        // SAFETY: mu held.
        let st = unsafe { self.st() };
        let old_period = st.period;
        let mut pending = st.when > 0;
        st.when = when;
        st.period = period;
        let mut wake = false;
        if st.state & HEAPED != 0 {
            st.state |= MODIFIED;
            // SAFETY: a heaped timer's ts is a P's Timers (never freed).
            let ts = unsafe { &*st.ts };
            if st.state & ZOMBIE != 0 {
                st.state &= !ZOMBIE;
                // Relaxed: a count for the cleanup heuristic.
                ts.zombies.fetch_sub(1, Relaxed);
            }
            wake = ts.lower_min_when_modified(when);
        }
        let add = st.state & HEAPED == 0;
        if chan {
            // Relaxed: mu and send_lock are held (see seq).
            self.seq
                .store(self.seq.load(Relaxed).wrapping_add(1), Relaxed);
            // Relaxed: written under send_lock, which we hold.
            if old_period == 0 && self.sending.load(Relaxed) > 0 {
                pending = true;
            }
        }
        self.mu.unlock();
        if chan {
            // SAFETY: a Chan timer is the first field of a BoxTimer.
            if unsafe { BoxTimer::drain(self) } {
                pending = true;
            }
            self.send_lock.unlock();
        }
        if add {
            self.maybe_add();
        } else if wake {
            wake_timer_sleeper(when);
        }
        pending
    }

    /// Go's stop: the timer will not fire (a channel timer's channel is drained).
    /// With `seq`, apply only if seq is newer than the timer's. Returns whether it
    /// was pending. Runs on a goroutine with no runtime lock held.
    pub(crate) fn stop(&self, seq: Option<usize>) -> bool {
        let chan = self.kind == Kind::Chan;
        if !self.lock_for_change(chan, seq) {
            return false;
        }
        // SAFETY: mu held.
        let st = unsafe { self.st() };
        let mut pending = st.when > 0;
        if chan {
            // Relaxed: mu and send_lock are held (see seq).
            self.seq
                .store(self.seq.load(Relaxed).wrapping_add(1), Relaxed);
            // Relaxed: written under send_lock, which we hold.
            if st.period == 0 && self.sending.load(Relaxed) > 0 {
                pending = true;
            }
        }
        st.when = 0;
        if st.state & HEAPED != 0 {
            st.state |= MODIFIED;
            if st.state & ZOMBIE == 0 {
                st.state |= ZOMBIE;
                // SAFETY: a heaped timer's ts is a P's Timers (never freed).
                // Relaxed: a count for the cleanup heuristic.
                unsafe { (*st.ts).zombies.fetch_add(1, Relaxed) };
            }
        }
        self.mu.unlock();
        if chan {
            self.send_lock.unlock();
            // SAFETY: a Chan timer is the first field of a BoxTimer.
            if unsafe { BoxTimer::drain(self) } {
                pending = true;
            }
        }
        pending
    }

    /// The prologue of modify and stop: take send_lock (a channel timer) and mu,
    /// and check seq (see newer). Returns false, with both released, when seq is
    /// stale. No runtime lock held on entry.
    fn lock_for_change(&self, chan: bool, seq: Option<usize>) -> bool {
        if chan {
            self.send_lock.lock();
        }
        self.mu.lock();
        if self.newer(seq) {
            return true;
        }
        self.mu.unlock();
        if chan {
            self.send_lock.unlock();
        }
        false
    }

    /// With Some(seq): whether seq is newer than the timer's, recording it if so.
    /// mu held.
    fn newer(&self, seq: Option<usize>) -> bool {
        let Some(s) = seq else { return true };
        // Relaxed: mu is held.
        let cur = self.seq.load(Relaxed);
        if (s.wrapping_sub(cur) as isize) <= 0 {
            return false;
        }
        self.seq.store(s, Relaxed);
        true
    }

    /// Go's maybeAdd: put the timer on the current P's heap if it is pending and in
    /// none. Runs on a goroutine with no runtime lock held (the heap may grow).
    fn maybe_add(&self) {
        let me = self as *const Timer as *mut Timer;
        let mut when = 0;
        // Inside gort::blocking the goroutine has no P: leave the system call for this.
        crate::runtime::proc::with_p(|| {
            // Pinned: the P must stay ours while we add to its heap.
            let mp = acquirem();
            let pp = mp.p();
            if pp.is_null() {
                crate::runtime::runtime1::throw("addtimer: no P");
            }
            // SAFETY: pp is the pinned M's P, never freed; Timers is shared by
            // design (its heap is under its lock).
            let ts = unsafe { &(*pp).timers };
            let mut frees = ptr::null_mut();
            ts.lock_with_room(1, &mut frees);
            ts.clean_head(&mut frees);
            self.mu.lock();
            // SAFETY: mu held.
            let st = unsafe { self.st() };
            if st.state & HEAPED == 0 && st.when > 0 {
                st.state = (st.state | HEAPED) & !(MODIFIED | ZOMBIE);
                st.ts = ts;
                let w = ts.wake_time();
                if w == 0 || st.when < w {
                    when = st.when;
                }
                // SAFETY: ts.lock is held and lock_with_room left room.
                unsafe {
                    ts.push(TimerWhen {
                        when: st.when,
                        t: me,
                    })
                };
            }
            self.mu.unlock();
            ts.lock.unlock();
            drop(mp);
            free_list(frees);
        });
        if when != 0 {
            wake_timer_sleeper(when);
        }
    }
}

/// A heap entry: the `when` it is filed under, and what it fires: a timer, or (a
/// sleep's entry, bit 0 of `t` set) a goroutine parked in `time_sleep`, readied
/// when the entry is due. A sleep has no timer: it is never stopped or reset, so
/// its entry is all there is of it, and running it touches only the goroutine.
#[derive(Clone, Copy)]
struct TimerWhen {
    when: i64,
    t: *mut Timer,
}

/// Bit 0 of `TimerWhen::t`: the entry is a sleeping goroutine's (G is aligned).
const SLEEPER: usize = 1;

impl TimerWhen {
    /// The entry of gp, parked in time_sleep until `when`.
    fn sleep(when: i64, gp: *mut G) -> TimerWhen {
        TimerWhen {
            when,
            t: gp.map_addr(|a| a | SLEEPER).cast(),
        }
    }

    /// The sleeping goroutine of a sleep's entry; None for a timer's.
    fn sleeper(self) -> Option<*mut G> {
        (self.t.addr() & SLEEPER != 0).then(|| self.t.map_addr(|a| a & !SLEEPER).cast())
    }
}

/// A P's timer entries: a 4-ary min-heap, and beside it a run of entries already
/// in `when` order (a FIFO). An entry goes to the back of the run when its when is
/// at or after the run's last (sleeps, deadlines and tickers of one duration come
/// in that order), else into the heap; the earliest entry is the earlier of the two
/// fronts. So timers of one duration are added and popped in O(1), without the
/// heap's sifting (a sixth of a wake-up's instructions with 10,000 sleepers).
///
/// Room: the heap's capacity covers every entry of both, so any entry can always
/// move into the heap without allocating (adjust merges the run into it; take_due
/// re-files a modified or periodic top there if the run is full); the run's
/// capacity is its own, and an entry goes to the run only if it has room.
struct Queue {
    heap: Vec<TimerWhen>,
    run: VecDeque<TimerWhen>,
}

impl Queue {
    const fn new() -> Queue {
        Queue {
            heap: Vec::new(),
            run: VecDeque::new(),
        }
    }

    fn len(&self) -> usize {
        self.heap.len() + self.run.len()
    }

    /// Entries that can be added without allocating.
    fn room(&self) -> usize {
        self.heap.capacity() - self.len()
    }

    /// The earliest entry, and whether it is the run's.
    fn first(&self) -> Option<(TimerWhen, bool)> {
        match (self.heap.first(), self.run.front()) {
            (Some(&h), Some(&r)) => Some(if r.when < h.when {
                (r, true)
            } else {
                (h, false)
            }),
            (Some(&h), None) => Some((h, false)),
            (None, Some(&r)) => Some((r, true)),
            (None, None) => None,
        }
    }

    /// Add an entry; room() > 0.
    fn push(&mut self, tw: TimerWhen) {
        debug_assert!(self.room() > 0);
        if self.run.len() < self.run.capacity() && self.run.back().is_none_or(|b| b.when <= tw.when)
        {
            self.run.push_back(tw);
        } else {
            self.heap.push(tw);
            let last = self.heap.len() - 1;
            siftup(&mut self.heap, last);
        }
    }

    /// Remove the earliest entry (first() said where it is).
    fn pop_first(&mut self, in_run: bool) {
        if in_run {
            self.run.pop_front();
        } else {
            let last = self.heap.pop().unwrap();
            if !self.heap.is_empty() {
                self.heap[0] = last;
                siftdown(&mut self.heap, 0);
            }
        }
    }

    /// Warm the caches for the sleepers next in the run: the Gs (their first 128
    /// bytes, the switch path's fields) of the two entries the next fired batch
    /// starts with. Sleeps of one duration fire in the run's order, and 10,000
    /// sleepers' Gs and stacks are not in the cache, nor their pages in the TLB: a
    /// wake-up was mostly a wait on those lines. Prefetches only, no loads: a
    /// parked G's saved SP (where its stack lines are) is read when its entry
    /// fires, with the G's line by then in the cache (Fire::fire). Called when a
    /// batch has been taken, under the heap's lock.
    #[inline(always)]
    fn warm_next(&self) {
        for k in 0..2 {
            if let Some(gp) = self.run.get(k).and_then(|e| e.sleeper()) {
                // The switch path's fields: G's first 128 bytes, two or three lines.
                prefetch(gp.addr());
                prefetch(gp.addr() + 64);
                prefetch(gp.addr() + 127);
            }
        }
    }

    /// Move the run's entries into the heap (the heap has room for them) and
    /// re-heapify, so that a pass over the heap sees every entry.
    fn merge_run(&mut self) {
        if self.run.is_empty() {
            return;
        }
        self.heap.extend(self.run.drain(..));
        heapify(&mut self.heap);
    }
}

/// A P's timers: a 4-ary heap by `when` (see the file head).
pub(crate) struct Timers {
    /// Protects q.
    pub(crate) lock: Mutex,
    q: UnsafeCell<Queue>,
    /// The number of entries: written under lock, read by schedtrace and the
    /// cleanup heuristic (Relaxed).
    len: AtomicU32,
    /// Zombies in the heap (Relaxed: a heuristic).
    zombies: AtomicI32,
    /// Channel timers in the heap (the only kind that can become collectible),
    /// written under lock (Relaxed): with no zombies and none of these, clean_head
    /// has nothing to look for and does not touch the top timer (a cache miss, on
    /// every add).
    chans: AtomicU32,
    /// The earliest entry's when, 0 if empty. Written under lock.
    min_when_heap: AtomicI64,
    /// The earliest when a heaped timer was modified to since the last adjust, 0 if
    /// none.
    min_when_modified: AtomicI64,
}

// SAFETY: q is touched only under lock; the rest is atomic.
unsafe impl Sync for Timers {}

impl Timers {
    /// No timers.
    pub(crate) const fn new() -> Timers {
        Timers {
            lock: Mutex::new(LockRank::Timers),
            q: UnsafeCell::new(Queue::new()),
            len: AtomicU32::new(0),
            zombies: AtomicI32::new(0),
            chans: AtomicU32::new(0),
            min_when_heap: AtomicI64::new(0),
            min_when_modified: AtomicI64::new(0),
        }
    }

    /// The entries, for the lock holder.
    ///
    /// # Safety
    /// lock is held, and no other reference to the entries is alive.
    #[allow(clippy::mut_from_ref)]
    unsafe fn q(&self) -> &mut Queue {
        // SAFETY: the caller holds lock.
        unsafe { &mut *self.q.get() }
    }

    /// When the earliest timer may be due (0: none), without the lock (Go's
    /// wakeTime). Any thread.
    ///
    /// SeqCst: the timer sleeper's handshake (proc.rs TIMER_SLEEPING): a sleeper
    /// announces itself and then reads this; a modifier writes it and then reads the
    /// announcement.
    pub(crate) fn wake_time(&self) -> i64 {
        let m = self.min_when_modified.load(SeqCst);
        let h = self.min_when_heap.load(SeqCst);
        if h == 0 || (m != 0 && m < h) {
            m
        } else {
            h
        }
    }

    /// Whether no timer is pending (a snapshot). Any thread.
    pub(crate) fn is_empty(&self) -> bool {
        self.wake_time() == 0
    }

    /// The number of heap entries (a snapshot, for schedtrace). Any thread.
    pub(crate) fn len_hint(&self) -> u32 {
        // Relaxed: a number for schedtrace, publishing nothing.
        self.len.load(Relaxed)
    }

    /// Lower min_when_modified to when; returns whether it was lowered (someone
    /// may need waking). Any thread, under the modified timer's mu.
    fn lower_min_when_modified(&self, when: i64) -> bool {
        // SeqCst: as wake_time.
        let mut old = self.min_when_modified.load(SeqCst);
        loop {
            if old != 0 && old <= when {
                return false;
            }
            match self
                .min_when_modified
                .compare_exchange(old, when, SeqCst, SeqCst)
            {
                Ok(_) => return true,
                Err(o) => old = o,
            }
        }
    }

    /// Take the lock with room for n more entries, growing the heap with the lock
    /// released (the runtime never allocates under one of its locks). A full heap is
    /// first swept of zombies and unreferenced channel timers (their boxes go on
    /// frees). Returns with the lock held. The caller holds no runtime lock.
    fn lock_with_room(&self, n: usize, frees: &mut *mut Timer) {
        let mut swept = false;
        loop {
            self.lock.lock();
            // SAFETY: lock held.
            let q = unsafe { self.q() };
            if q.room() >= n {
                return;
            }
            if !swept {
                swept = true;
                // SAFETY: lock held.
                unsafe { self.adjust(0, true, frees) };
                // SAFETY: lock held.
                let q = unsafe { self.q() };
                // Grow only if the sweep left it more than three quarters full.
                if q.room() >= n && q.len() <= q.heap.capacity() / 4 * 3 {
                    return;
                }
            }
            // SAFETY: lock held.
            let (len, cap) = unsafe { (self.q().len(), self.q().heap.capacity()) };
            self.lock.unlock();
            let want = ((len + n) * 2).max(16);
            let mut bigger = Queue {
                heap: Vec::with_capacity(want),
                run: VecDeque::with_capacity(want),
            };
            self.lock.lock();
            // SAFETY: lock held.
            let q = unsafe { self.q() };
            if q.heap.capacity() == cap && bigger.heap.capacity() - q.len() >= n {
                // Nobody grew it meanwhile: move the entries over (bigger has room,
                // so this does not allocate: the run keeps its order in a run of
                // the same capacity) and keep the new arrays.
                bigger.heap.extend_from_slice(&q.heap);
                bigger.run.extend(q.run.drain(..));
                core::mem::swap(q, &mut bigger);
            }
            self.lock.unlock();
            drop(bigger); // the old arrays (or the unused new ones), freed unlocked
        }
    }

    /// Push an entry. No allocation.
    ///
    /// # Safety
    /// lock held; the heap has spare capacity; tw is a sleep's, or tw.t is live and
    /// HEAPED here.
    unsafe fn push(&self, tw: TimerWhen) {
        // SAFETY: tw.t is live (the caller's contract); kind is immutable.
        if tw.sleeper().is_none() && unsafe { (*tw.t).kind } == Kind::Chan {
            // Relaxed: under lock (see chans).
            self.chans.store(self.chans.load(Relaxed) + 1, Relaxed);
        }
        // SAFETY: the caller holds lock.
        let q = unsafe { self.q() };
        q.push(tw);
        self.update_len_min(q);
    }

    /// A Chan timer's entry leaves the heap. lock held.
    fn chan_gone(&self, t: &Timer) {
        if t.kind == Kind::Chan {
            // Relaxed: under lock (see chans).
            self.chans.store(self.chans.load(Relaxed) - 1, Relaxed);
        }
    }

    /// Publish len and min_when_heap after a change. lock held.
    fn update_len_min(&self, q: &Queue) {
        // Relaxed: a count for schedtrace and the zombie heuristic.
        self.len.store(q.len() as u32, Relaxed);
        let min = q.first().map_or(0, |(tw, _)| tw.when);
        // Only a change is stored (most pushes leave the top alone): a SeqCst store
        // is an xchg, which waits for every store before it to reach the cache.
        // Skipping an unchanged value loses nothing: readers see the same when.
        // Relaxed load: min_when_heap is written only under lock, which we hold.
        let old = self.min_when_heap.load(Relaxed);
        if old == min {
            return;
        }
        if min != 0 && (old == 0 || min < old) {
            // Earlier (0 is "none"): SeqCst, the timer sleeper's handshake (see
            // wake_time): this store, then the caller's look at the sleeper.
            self.min_when_heap.store(min, SeqCst);
        } else {
            // Later (a pop, every fired timer): Relaxed. A reader that still sees
            // the earlier when only looks too soon, and finds under our lock, whose
            // unlock publishes this store, that nothing is due.
            self.min_when_heap.store(min, Relaxed);
        }
    }

    /// File the earliest entry again as tw: its timer under a new when (modified,
    /// or a periodic timer's next period). No allocation: the pop makes the room.
    ///
    /// # Safety
    /// lock held; the queue is not empty; first() said where the entry is, and
    /// tw.t is its timer.
    unsafe fn refile_first(&self, in_run: bool, tw: TimerWhen) {
        // SAFETY: the caller holds lock.
        let q = unsafe { self.q() };
        q.pop_first(in_run);
        q.push(tw);
        self.update_len_min(q);
    }

    /// Remove the earliest entry (first() said where it is).
    ///
    /// # Safety
    /// lock held; the queue is not empty.
    unsafe fn delete_first(&self, in_run: bool) {
        // SAFETY: the caller holds lock.
        let q = unsafe { self.q() };
        q.pop_first(in_run);
        self.update_len_min(q);
    }

    /// Take t out of the heap's books (its entry is being removed): HEAPED and
    /// ZOMBIE cleared, the zombie count kept; an orphan nobody runs goes on frees.
    ///
    /// # Safety
    /// lock and t.mu held; t is in this heap.
    unsafe fn unheap(&self, t: *mut Timer, st: &mut TState, frees: &mut *mut Timer) {
        // SAFETY: t is live (the caller's contract).
        self.chan_gone(unsafe { &*t });
        if st.state & ZOMBIE != 0 {
            // Relaxed: the heuristic count.
            self.zombies.fetch_sub(1, Relaxed);
        }
        st.state &= !(HEAPED | ZOMBIE | MODIFIED);
        st.ts = ptr::null();
        if st.state & ORPHAN != 0 && st.inflight == 0 {
            st.free_next = *frees;
            *frees = t;
        }
    }

    /// Go's cleanHead: drop zombies and unreferenced timers from the top.
    /// lock held.
    fn clean_head(&self, frees: &mut *mut Timer) {
        // Relaxed: zombies is a heuristic count (a zombie missed here is removed
        // when it reaches the top in take_due, or by a sweep); chans is ours under
        // lock.
        if self.zombies.load(Relaxed) <= 0 && self.chans.load(Relaxed) == 0 {
            return;
        }
        loop {
            // SAFETY: lock held.
            let Some((top, in_run)) = unsafe { self.q() }.first() else {
                return;
            };
            if top.sleeper().is_some() {
                return; // never a zombie, never collectible
            }
            // SAFETY: heaped timers are live (their owners keep them so while
            // HEAPED; an orphan is freed only once out of the heap).
            let t = unsafe { &*top.t };
            t.mu.lock();
            // SAFETY: t.mu held.
            let st = unsafe { t.st() };
            let dead = st.state & ZOMBIE != 0 || collectible(t, st);
            if dead {
                // SAFETY: lock and t.mu held; the earliest entry is t.
                unsafe {
                    self.unheap(top.t, st, frees);
                    self.delete_first(in_run);
                }
            }
            t.mu.unlock();
            if !dead {
                return;
            }
        }
    }

    /// Go's adjust: rewrite MODIFIED entries and drop zombies (and unreferenced
    /// timers), then re-heapify, if a modified timer may be due by now or `force`.
    ///
    /// # Safety
    /// lock held.
    unsafe fn adjust(&self, now: i64, force: bool, frees: &mut *mut Timer) {
        if !force {
            // SeqCst: as wake_time.
            let first = self.min_when_modified.load(SeqCst);
            if first == 0 || first > now {
                return;
            }
        }
        // Cleared first: a timer modified during the pass lowers it again. But
        // the heap's minimum is lowered to wake_time first (Go 1.23's adjust does
        // the same): until update_len_min below, the heap's entries for modified
        // timers still hold their old whens, and an M reading wake_time during
        // the pass (the timer sleeper choosing how long to sleep) would see a
        // time later than a modified timer's.
        // SeqCst: as wake_time.
        self.min_when_heap.store(self.wake_time(), SeqCst);
        self.min_when_modified.store(0, SeqCst);
        // SAFETY: the caller holds lock.
        let q = unsafe { self.q() };
        // One pass over the heap sees every entry; the run fills again afterwards.
        q.merge_run();
        let h = &mut q.heap;
        let mut changed = false;
        let mut i = 0;
        while i < h.len() {
            let tw = h[i];
            if tw.sleeper().is_some() {
                i += 1; // never modified, stopped or collectible
                continue;
            }
            // SAFETY: heaped timers are live (see clean_head).
            let t = unsafe { &*tw.t };
            t.mu.lock();
            // SAFETY: t.mu held.
            let st = unsafe { t.st() };
            if st.state & ZOMBIE != 0 || (force && collectible(t, st)) {
                // SAFETY: lock and t.mu held; t is in this heap.
                unsafe { self.unheap(tw.t, st, frees) };
                h.swap_remove(i);
                changed = true;
                t.mu.unlock();
                continue;
            }
            if st.state & MODIFIED != 0 {
                h[i].when = st.when;
                st.state &= !MODIFIED;
                changed = true;
            }
            t.mu.unlock();
            i += 1;
        }
        if changed {
            heapify(h);
        }
        self.update_len_min(q);
    }

    /// Go's timers.check: run the due timers, at most `budget` of them but at
    /// least one (on g0 of an M holding a P, no runtime lock held). `own`: these
    /// are the running P's timers (zombies are swept when they are a quarter of
    /// the heap). Returns whether any ran.
    fn check(&self, now: i64, own: bool, budget: usize) -> bool {
        let next = self.wake_time();
        if next == 0 {
            return false;
        }
        // Relaxed: a heuristic.
        let force = own && self.zombies.load(Relaxed) as i64 > (self.len.load(Relaxed) / 4) as i64;
        if now < next && !force {
            return false;
        }
        let mut frees = ptr::null_mut();
        let mut ran = false;
        // Uninitialised: zeroing it on every check was half of a wake-up's cost.
        let mut batch = [const { MaybeUninit::<Fire>::uninit() }; FIRE_BATCH];
        self.lock.lock();
        // SAFETY: lock held.
        unsafe { self.adjust(now, force, &mut frees) };
        let mut budget = budget.max(1);
        loop {
            // Take up to a batch of due timers under the lock, then fire them with
            // no lock held: one lock round trip per batch, not per timer (a thief
            // running our timers while we add more contends for this lock).
            let mut n = 0;
            let lim = FIRE_BATCH.min(budget);
            while n < lim {
                // SAFETY: lock held.
                match unsafe { self.take_due(now, &mut frees) } {
                    Some(f) => {
                        batch[n].write(f);
                        n += 1;
                    }
                    None => break,
                }
            }
            if n == 0 {
                break;
            }
            // SAFETY: lock held.
            unsafe { self.q() }.warm_next();
            self.lock.unlock();
            ran = true;
            let mut owe_wakep = false;
            for i in 0..n {
                // The G two entries on (fire reads its saved SP).
                if i + 2 < n {
                    // SAFETY: the first n were written just above.
                    if let Fire::Ready(gp) = unsafe { batch[i + 2].assume_init_ref() } {
                        prefetch(gp.addr());
                    }
                }
                // SAFETY: the first n were written just above, and each is read
                // (fired) once; take_due made them and no lock is held.
                owe_wakep |= unsafe { batch[i].assume_init_read().fire() };
            }
            if owe_wakep {
                wakep();
            }
            budget -= n;
            if n < lim || budget == 0 {
                free_list(frees);
                return ran;
            }
            self.lock.lock();
        }
        self.lock.unlock();
        free_list(frees);
        ran
    }

    /// Go's timers.run, its locked half: fix up a stale top entry, and take the
    /// top timer if it is due (rescheduling a periodic one in place, removing a
    /// one-shot). Returns what to fire, or None when nothing more is due.
    ///
    /// # Safety
    /// lock held.
    unsafe fn take_due(&self, now: i64, frees: &mut *mut Timer) -> Option<Fire> {
        loop {
            // SAFETY: lock held.
            let (top, in_run) = unsafe { self.q() }.first()?;
            // Not due by its entry: nothing is (as Go 1.23's check). A stale entry
            // (MODIFIED) whose new when is due was rewritten by adjust, or lowered
            // min_when_modified after it so that the next check adjusts it; a
            // zombie on top waits for clean_head. So the top timer is not touched.
            if top.when > now {
                return None;
            }
            if let Some(gp) = top.sleeper() {
                // SAFETY: lock held; the earliest entry is gp's.
                unsafe { self.delete_first(in_run) };
                return Some(Fire::Ready(gp));
            }
            // SAFETY: heaped timers are live (see clean_head).
            let t = unsafe { &*top.t };
            t.mu.lock();
            // SAFETY: t.mu held.
            let st = unsafe { t.st() };
            if st.state & ZOMBIE != 0 || collectible(t, st) {
                // SAFETY: lock and t.mu held; the earliest entry is t.
                unsafe {
                    self.unheap(top.t, st, frees);
                    self.delete_first(in_run);
                }
                t.mu.unlock();
                continue;
            }
            if st.state & MODIFIED != 0 {
                st.state &= !MODIFIED;
                // SAFETY: lock held; the earliest entry is t's.
                unsafe {
                    self.refile_first(
                        in_run,
                        TimerWhen {
                            when: st.when,
                            t: top.t,
                        },
                    )
                };
                t.mu.unlock();
                continue;
            }
            // Relaxed: mu is held.
            let seq = t.seq.load(Relaxed);
            let delay = now - st.when;
            let oneshot = st.period == 0;
            if !oneshot {
                // The next period boundary after now (missed ones are skipped).
                let next = st
                    .when
                    .saturating_add(st.period.saturating_mul(1 + delay / st.period));
                st.when = next;
                // SAFETY: lock held; the earliest entry is t's.
                unsafe {
                    self.refile_first(
                        in_run,
                        TimerWhen {
                            when: next,
                            t: top.t,
                        },
                    )
                };
            } else {
                st.when = 0;
                st.state &= !HEAPED;
                st.ts = ptr::null();
                self.chan_gone(t);
                // SAFETY: lock held; the earliest entry is t's.
                unsafe { self.delete_first(in_run) };
            }
            if matches!(t.kind, Kind::Chan | Kind::Func) {
                st.inflight += 1;
            }
            if t.kind == Kind::Chan && oneshot {
                // Relaxed: read under send_lock, which fire takes after this.
                t.sending.fetch_add(1, Relaxed);
            }
            let fire = Fire::Run(Run {
                t: top.t,
                f: st.f,
                arg: st.arg,
                seq,
                delay,
                oneshot,
            });
            t.mu.unlock();
            return Some(fire);
        }
    }

    /// Move every timer to `to` (procresize removing this P, the world stopped).
    /// Any g, with no runtime lock held (to's heap may grow).
    pub(crate) fn move_to(&self, to: &Timers) {
        let mut frees = ptr::null_mut();
        self.lock.lock();
        // SAFETY: lock held; taking the arrays leaves empty ones (no allocation),
        // and the heap has room for the run's entries (see Queue).
        let mut old = unsafe { core::mem::replace(self.q(), Queue::new()) };
        old.merge_run();
        let mut moved = core::mem::take(&mut old.heap);
        // SAFETY: lock held.
        self.update_len_min(unsafe { self.q() });
        // SeqCst: as wake_time.
        self.min_when_modified.store(0, SeqCst);
        // Zombies are dropped here; the rest are filed with `to` under their when.
        moved.retain(|tw| {
            if tw.sleeper().is_some() {
                return true;
            }
            // SAFETY: heaped timers are live (see clean_head).
            let t = unsafe { &*tw.t };
            t.mu.lock();
            // SAFETY: t.mu held.
            let st = unsafe { t.st() };
            let keep = st.state & ZOMBIE == 0;
            if keep {
                st.ts = to;
                st.state &= !MODIFIED;
            } else {
                // SAFETY: lock and t.mu held; t was in this heap.
                unsafe { self.unheap(tw.t, st, &mut frees) };
            }
            t.mu.unlock();
            keep
        });
        // Relaxed: the heuristic count; the zombies went with the entries. chans:
        // under lock, and the channel timers go to `to` (its push counts them).
        self.zombies.store(0, Relaxed);
        self.chans.store(0, Relaxed);
        self.lock.unlock();
        to.lock_with_room(moved.len(), &mut frees);
        for tw in &moved {
            if tw.sleeper().is_some() {
                // SAFETY: to.lock held with room.
                unsafe { to.push(*tw) };
                continue;
            }
            // SAFETY: heaped timers are live.
            let t = unsafe { &*tw.t };
            t.mu.lock();
            // SAFETY: t.mu held.
            let st = unsafe { t.st() };
            // Stopped or reset meanwhile: file it as it is now (a zombie is counted
            // with `to` already, by stop).
            st.state &= !MODIFIED;
            let when = if st.when > 0 { st.when } else { tw.when };
            // SAFETY: to.lock held with room; t is HEAPED with ts = to.
            unsafe { to.push(TimerWhen { when, t: tw.t }) };
            t.mu.unlock();
        }
        to.lock.unlock();
        drop(moved);
        drop(old); // the run's array, freed unlocked
        free_list(frees);
    }
}

/// Timers taken per lock round trip in check.
const FIRE_BATCH: usize = 32;

/// Free run-queue slots below which run_timers leaves due timers in the heap
/// (see "Firing into a full run queue").
const ROOM_MIN: usize = FIRE_BATCH / 2;

/// How late the earliest due timer may be before run_timers fires it into a run
/// queue without room (1 ms).
const OVERDUE_MAX: i64 = 1_000_000;

/// An entry taken off its heap to fire (take_due).
enum Fire {
    /// A sleep's: ready the goroutine.
    Ready(*mut G),
    /// A timer's: run it.
    Run(Run),
}

impl Fire {
    /// Fire the entry. Returns true if it readied a goroutine without waking an
    /// idle P: the caller owes a wakep (one for its whole batch).
    ///
    /// # Safety
    /// Made by take_due and fired once, on g0 of an M holding a P, with no runtime
    /// lock held.
    #[inline(always)]
    unsafe fn fire(self) -> bool {
        match self {
            Fire::Ready(gp) => {
                // SAFETY: gp is parked (Gs are never freed): its saved context stays
                // as mcall left it until we ready it (our take of its entry, under
                // the heap's lock, came after the park that filed it).
                let sp = unsafe { (*gp).sched.sp };
                // The frames it resumes on (gopark's, time_sleep's, its caller's),
                // fetched while the batch is readied and the first ones run.
                prefetch(sp);
                prefetch(sp + 64);
                prefetch(sp + 128);
                // SAFETY: a sleep's goroutine is parked until its entry fires, and
                // only the taker of the entry (us) readies it; we are on g0.
                unsafe { ready_nowake(gp, true) };
                true
            }
            Fire::Run(r) => {
                // SAFETY: forwarded.
                unsafe { r.run() };
                false
            }
        }
    }
}

/// A timer taken off its heap to run, and what to call.
struct Run {
    t: *mut Timer,
    f: TimerFn,
    arg: usize,
    seq: usize,
    delay: i64,
    oneshot: bool,
}

impl Run {
    /// Go's unlockAndRun, its unlocked half: call f (a channel timer under its
    /// send lock, unless stop or reset moved seq on), then end a boxed timer's run,
    /// freeing an orphan nobody else holds.
    ///
    /// # Safety
    /// Made by take_due and run once, with no runtime lock held. A Plain timer is
    /// not touched after f (its owner may reclaim it then); a boxed one is kept
    /// alive by the inflight count take_due added.
    unsafe fn run(self) {
        // SAFETY: the timer is live until f has run (Plain: its owner waits for
        // the fire; boxed: inflight).
        let t = unsafe { &*self.t };
        if t.kind == Kind::Chan {
            t.send_lock.lock();
            if self.oneshot {
                // Relaxed: under send_lock.
                t.sending.fetch_sub(1, Relaxed);
            }
            // Relaxed: seq changes only with send_lock held, which we hold.
            if t.seq.load(Relaxed) == self.seq {
                // SAFETY: f is the timer's function, run as TimerFn says.
                unsafe { (self.f)(self.arg, self.seq, self.delay) };
            }
            t.send_lock.unlock();
        } else if t.kind == Kind::Plain {
            // SAFETY: as above. Nothing of t is read after this call.
            unsafe { (self.f)(self.arg, self.seq, self.delay) };
            return;
        } else {
            // SAFETY: as above.
            unsafe { (self.f)(self.arg, self.seq, self.delay) };
        }
        t.mu.lock();
        // SAFETY: t.mu held.
        let st = unsafe { t.st() };
        st.inflight -= 1;
        let free = st.state & ORPHAN != 0 && st.inflight == 0 && st.state & HEAPED == 0;
        t.mu.unlock();
        if free {
            // SAFETY: an orphan, out of every heap, nobody running it: ours.
            unsafe { BoxTimer::free(self.t) };
        }
    }
}

/// Whether t is an orphaned channel timer whose channel nobody else holds: no one
/// can ever receive what it sends. t.mu held.
fn collectible(t: &Timer, st: &TState) -> bool {
    if t.kind != Kind::Chan || st.state & ORPHAN == 0 {
        return false;
    }
    // SAFETY: a Chan timer is the first field of a live BoxTimer (heaped or held).
    let c = unsafe { &(*(t as *const Timer as *const BoxTimer)).c };
    // One handle (the box's own): nobody can clone it any more.
    c.handles() <= 1
}

/// Free the boxes chained by unheap. No runtime lock held.
fn free_list(mut t: *mut Timer) {
    while !t.is_null() {
        // SAFETY: t was chained by unheap: an orphan out of every heap and not
        // running; nobody else reaches it. Read the link before freeing.
        let next = unsafe { (*t.cast::<BoxTimer>()).t.st().free_next };
        // SAFETY: as above.
        unsafe { BoxTimer::free(t) };
        t = next;
    }
}

// 4-ary heap, as Go's: children of i are 4i+1..4i+4. Only the inline whens are read.

/// Move h[i] up to its place.
fn siftup(h: &mut [TimerWhen], mut i: usize) {
    let tw = h[i];
    while i > 0 {
        let p = (i - 1) / 4; // parent
        if tw.when >= h[p].when {
            break;
        }
        h[i] = h[p];
        i = p;
    }
    h[i] = tw;
}

/// Floyd's heapify for a 4-ary heap.
fn heapify(h: &mut [TimerWhen]) {
    if h.len() > 1 {
        for i in (0..=(h.len() - 2) / 4).rev() {
            siftdown(h, i);
        }
    }
}

/// Move h[i] down to its place.
///
/// The earliest of four children is found as a tournament of two pairs (three
/// comparisons the compiler turns into conditional moves): which child wins is as
/// good as random for timers, so branches on it would mispredict half the time.
fn siftdown(h: &mut [TimerWhen], mut i: usize) {
    let n = h.len();
    let tw = h[i];
    loop {
        let c = i * 4 + 1; // left child
        let best = if let Some(k) = h.get(c..c + 4) {
            let a = if k[1].when < k[0].when { 1 } else { 0 };
            let b = if k[3].when < k[2].when { 3 } else { 2 };
            c + if k[b].when < k[a].when { b } else { a }
        } else {
            if c >= n {
                break;
            }
            let mut best = c;
            for k in c + 1..n {
                if h[k].when < h[best].when {
                    best = k;
                }
            }
            best
        };
        if h[best].when >= tw.when {
            break;
        }
        h[i] = h[best];
        i = best;
    }
    h[i] = tw;
}

/// Run pp's due timers, as many as our run queue has room for. Returns whether
/// any ran. `now` is the clock, read moments ago. Runs on g0 of an M holding a P
/// (pp is ours, or another P whose timers we steal), with no runtime lock held.
///
/// # Safety
/// pp is a live P.
pub(crate) unsafe fn run_timers(pp: *mut P, now: i64) -> bool {
    // SAFETY: pp is live (our caller's contract; Ps are never freed), and Timers is
    // shared by design: its heap is under its lock.
    let ts = unsafe { &(*pp).timers };
    let (own, room) = {
        let mp = acquirem();
        let ours = mp.p();
        // SAFETY: our P (pinned, never freed); only we add to its ring, so its
        // room can only grow while we look (thieves take from it).
        let len = unsafe { (*ours).runq.len_hint() } as usize;
        (ours == pp, RUNQ_SIZE - len)
    };
    // Each fired timer readies at most one goroutine onto our ring: fire no more
    // than it has room for (see "Firing into a full run queue").
    if room >= ROOM_MIN {
        return ts.check(now, own, room);
    }
    let w = ts.wake_time();
    if w != 0 && now - w >= OVERDUE_MAX {
        return ts.check(now, own, FIRE_BATCH);
    }
    false
}

/// A Duration in nanoseconds, saturating at i64::MAX.
pub(crate) fn dur_ns(d: Duration) -> i64 {
    d.as_nanos().min(i64::MAX as u128) as i64
}

/// `when` for a timer d from now (saturating; at least 1, which is "pending").
pub(crate) fn when_after(d: Duration) -> i64 {
    nanotime().saturating_add(dur_ns(d)).max(1)
}

// ---- sleep ----

/// What time_sleep hands its park commit, on the sleeper's stack.
struct SleepPark {
    /// The clock when the sleep began, and when it ends.
    now: i64,
    when: i64,
    /// Set by the commit once it files the entry (false: it refused).
    filed: bool,
}

/// A sleep's park commit (Go 1.23's resetForSleep), on g0 of an M holding a P once
/// the sleeper is off its stack and GWAITING: file the sleeper's entry on this P's
/// heap. Whoever takes the entry readies the sleeper; being parked already, it
/// cannot race with that. Refuses if the heap is full (a commit must not
/// allocate): the sleeper then makes room and parks again. Takes the heap's lock,
/// nothing else; a wake-up the new entry needs is left to park_m (waking may
/// start a thread, which allocates).
///
/// # Safety
/// arg is the SleepPark of gp, the goroutine time_sleep parks; the M holds a P.
unsafe fn sleep_park(gp: *mut G, arg: *mut u8) -> bool {
    let s = arg.cast::<SleepPark>();
    let mp = crate::runtime::proc::getm();
    // SAFETY: mp is our M (on g0), never freed; a P is never freed.
    let ts = unsafe { &(*(*mp).p()).timers };
    ts.lock.lock();
    // SAFETY: lock held.
    if unsafe { ts.q() }.room() == 0 {
        ts.lock.unlock();
        return false;
    }
    // SAFETY: s is on gp's stack, and gp stays parked until its entry is taken,
    // which needs the lock we hold: the last touch of s is here, before the push.
    let (now, when) = unsafe {
        (*s).filed = true;
        ((*s).now, (*s).when)
    };
    // The scheduler this M goes on to may take `now` as the time when it looks
    // for due timers (M::now_hint).
    // SAFETY: mp is our M; now_hint and now_fresh are owner-only.
    unsafe {
        (*mp).now_hint = now;
        (*mp).now_fresh = true;
    }
    let w = ts.wake_time();
    // SAFETY: lock held, with room.
    unsafe { ts.push(TimerWhen::sleep(when, gp)) };
    ts.lock.unlock();
    if w == 0 || when < w {
        // SAFETY: mp is our M; park_timer_wake is owner-only.
        unsafe { (*mp).park_timer_wake = when };
    }
    true
}

/// timeSleep: park the current goroutine for at least ns nanoseconds. Runs on a
/// goroutine with no runtime lock held (the heap may grow).
pub(crate) fn time_sleep(ns: i64) {
    if ns <= 0 {
        return;
    }
    // Inside gort::blocking the goroutine has no P: leave the system call for this.
    crate::runtime::proc::with_p(|| {
        let now = nanotime();
        let mut s = SleepPark {
            now,
            when: now.saturating_add(ns),
            filed: false,
        };
        loop {
            // SAFETY: sleep_park takes one lock and releases it: it neither parks
            // nor allocates; whoever takes the entry it files readies us.
            unsafe { gopark(Some(sleep_park), (&raw mut s).cast(), WaitReason::Sleep) };
            if s.filed {
                return;
            }
            // Refused: our P's heap is full. Grow it here (allocation is allowed
            // on a goroutine) and park again.
            let mp = acquirem();
            // SAFETY: the pinned M's P, never freed.
            let ts = unsafe { &(*mp.p()).timers };
            let mut frees = ptr::null_mut();
            ts.lock_with_room(1, &mut frees);
            ts.lock.unlock();
            drop(mp);
            free_list(frees);
        }
    });
}

// ---- boxed timers: time::Timer, Ticker, after, tick, after_func ----

/// A timer with a channel (`Kind::Chan`) or a function (`Kind::Func`), boxed; the
/// user's handle is a `NonNull<BoxTimer>` (see "Who frees a boxed timer").
#[repr(C)]
pub(crate) struct BoxTimer {
    t: Timer,
    c: Chan<Instant>,
    func: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl BoxTimer {
    /// A new boxed timer: with `func` it starts a goroutine running func when it
    /// fires, else it sends the time on its channel (capacity 1). Scheduled at when
    /// (> 0) and then every period ns (0: once). Runs on a goroutine with no runtime
    /// lock held.
    pub(crate) fn start(
        when: i64,
        period: i64,
        func: Option<Arc<dyn Fn() + Send + Sync>>,
    ) -> NonNull<BoxTimer> {
        let (kind, f): (Kind, TimerFn) = if func.is_some() {
            (Kind::Func, go_func)
        } else {
            (Kind::Chan, send_time)
        };
        let b = Box::new(BoxTimer {
            t: Timer::new(kind, f, 0),
            c: crate::chan::chan::<Instant>(1),
            func,
        });
        let p = NonNull::from(Box::leak(b));
        // SAFETY: p is live (just leaked); its address is final.
        let t = unsafe { &p.as_ref().t };
        // SAFETY: the timer was never scheduled: only we reach it.
        unsafe { t.set_arg(p.as_ptr() as usize) };
        t.modify(when, period, None);
        p
    }

    /// The timer.
    pub(crate) fn timer(&self) -> &Timer {
        &self.t
    }

    /// The channel the timer sends on (never sent on for after_func).
    pub(crate) fn chan(&self) -> &Chan<Instant> {
        &self.c
    }

    /// Drop the user's handle: the box is freed now if no heap and no run holds
    /// it, else by whoever ends its last use. Runs on a goroutine, no lock held.
    ///
    /// # Safety
    /// p is a live BoxTimer whose handle is being dropped (once).
    pub(crate) unsafe fn release(p: NonNull<BoxTimer>) {
        // SAFETY: live (our contract).
        let t = unsafe { &p.as_ref().t };
        t.mu.lock();
        // SAFETY: mu held.
        let st = unsafe { t.st() };
        st.state |= ORPHAN;
        let free = st.state & HEAPED == 0 && st.inflight == 0;
        t.mu.unlock();
        if free {
            // SAFETY: an orphan in no heap and not running: nobody else reaches it.
            unsafe { BoxTimer::free(p.as_ptr().cast()) };
        }
    }

    /// Free a box.
    ///
    /// # Safety
    /// t is the timer of a BoxTimer that nobody else can reach; no lock held.
    unsafe fn free(t: *mut Timer) {
        // SAFETY: the caller's contract; the timer is the box's first field.
        drop(unsafe { Box::from_raw(t.cast::<BoxTimer>()) });
    }

    /// Empty the channel (stop, reset); returns whether a value was there.
    ///
    /// # Safety
    /// t is a Chan timer (the first field of a live BoxTimer).
    unsafe fn drain(t: &Timer) -> bool {
        // SAFETY: the caller's contract.
        let c = unsafe { &(*(t as *const Timer as *const BoxTimer)).c };
        let mut any = false;
        while c.try_recv().is_ok() {
            any = true;
        }
        any
    }
}

/// sendTime: a non-blocking send of the time the timer was due (a full channel
/// drops the tick, as Go's). On g0 under the timer's send_lock (run).
///
/// # Safety
/// arg is a live BoxTimer (inflight holds it).
unsafe fn send_time(arg: usize, _seq: usize, delay: i64) {
    // SAFETY: the caller's contract.
    let b = unsafe { &*(arg as *const BoxTimer) };
    // A channel its user closed takes nothing (see chansend_nb).
    let _ =
        b.c.try_send_unless_closed(Instant::from_nanos(nanotime() - delay));
}

/// goFunc: start a goroutine running an after_func's function. On g0 of an M with
/// a P (run), no lock held.
///
/// # Safety
/// arg is a live BoxTimer with a func (inflight holds it).
unsafe fn go_func(arg: usize, _seq: usize, _delay: i64) {
    // SAFETY: the caller's contract.
    let b = unsafe { &*(arg as *const BoxTimer) };
    if let Some(f) = &b.func {
        let f = f.clone();
        crate::runtime::proc::newproc(move || f());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    #[test]
    fn heap_pops_in_when_order() {
        let mut h: Vec<TimerWhen> = Vec::new();
        let mut rng = 12345u64;
        for _ in 0..1000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            h.push(TimerWhen {
                when: 1 + (rng % 10_000) as i64,
                t: ptr::null_mut(),
            });
            let last = h.len() - 1;
            siftup(&mut h, last);
        }
        let mut whens = Vec::new();
        while !h.is_empty() {
            whens.push(h[0].when);
            let last = h.pop().unwrap();
            if !h.is_empty() {
                h[0] = last;
                siftdown(&mut h, 0);
            }
        }
        assert_eq!(whens.len(), 1000, "every entry comes out once");
        let mut sorted = whens.clone();
        sorted.sort();
        assert_eq!(whens, sorted);
    }

    /// A xorshift step, for the tests' random whens.
    fn next(rng: &mut u64) -> u64 {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        *rng
    }

    /// The queue (heap and run) gives back every entry once, earliest first, with
    /// whens that mostly rise (they go to the run) mixed with earlier ones (the
    /// heap), a run too small for all (the heap takes the rest), and entries filed
    /// again under a later when (take_due's modified and periodic timers).
    #[test]
    fn queue_pops_in_when_order() {
        let mut q = Queue {
            heap: Vec::with_capacity(2000),
            run: VecDeque::with_capacity(300),
        };
        let mut model: Vec<i64> = Vec::new();
        let mut rng = 7u64;
        let mut clock = 1000i64;
        let mut popped = 0;
        for step in 0..4000 {
            let r = next(&mut rng);
            if !r.is_multiple_of(3) && q.room() > 0 {
                clock += (r % 5) as i64;
                let when = if r.is_multiple_of(7) {
                    clock - (r % 900) as i64
                } else {
                    clock
                };
                q.push(TimerWhen {
                    when,
                    t: ptr::null_mut(),
                });
                model.push(when);
            } else if let Some((tw, in_run)) = q.first() {
                let min = *model.iter().min().unwrap();
                assert_eq!(tw.when, min, "step {step}: not the earliest");
                let i = model.iter().position(|&w| w == min).unwrap();
                model.swap_remove(i);
                q.pop_first(in_run);
                if r.is_multiple_of(5) {
                    // Filed again later, as a periodic timer.
                    let when = min + 1000;
                    q.push(TimerWhen { when, t: tw.t });
                    model.push(when);
                } else {
                    popped += 1;
                }
            }
            assert_eq!(q.len(), model.len());
            assert!(q
                .run
                .iter()
                .zip(q.run.iter().skip(1))
                .all(|(a, b)| a.when <= b.when));
        }
        assert!(popped > 500 && q.run.capacity() == 300);
        q.merge_run();
        assert!(q.run.is_empty());
        let mut whens = Vec::new();
        while let Some((tw, in_run)) = q.first() {
            whens.push(tw.when);
            q.pop_first(in_run);
        }
        model.sort();
        assert_eq!(
            whens, model,
            "after merge_run, the heap alone gives all back"
        );
    }

    /// A TimerFn for timers that are pushed and popped but never run.
    unsafe fn never_runs(_arg: usize, _seq: usize, _delay: i64) {
        unreachable!("never_runs ran");
    }

    /// Timers publishes the earliest when and the count as entries come and go.
    #[test]
    fn timers_publish_earliest_when() {
        let ts = Timers::new();
        // push reads each timer's kind; the timers are never run.
        let timers: Vec<Timer> = (0..500)
            .map(|_| Timer::new(Kind::Plain, never_runs, 0))
            .collect();
        let mut rng = 99u64;
        let mut frees = ptr::null_mut();
        ts.lock_with_room(500, &mut frees);
        for t in &timers {
            let when = 1 + (next(&mut rng) % 1000) as i64;
            // SAFETY: lock held, room made; the timers outlive the heap's use.
            unsafe {
                ts.push(TimerWhen {
                    when,
                    t: t as *const Timer as *mut Timer,
                })
            };
        }
        for _ in 0..200 {
            // SAFETY: lock held; not empty.
            let (_, in_run) = unsafe { ts.q() }.first().unwrap();
            // SAFETY: lock held; not empty.
            unsafe { ts.delete_first(in_run) };
        }
        // SAFETY: lock held.
        let (first, _) = unsafe { ts.q() }.first().unwrap();
        assert_eq!(ts.min_when_heap.load(SeqCst), first.when);
        assert_eq!(ts.len_hint(), 300);
        ts.lock.unlock();
        assert!(frees.is_null());
    }
}
