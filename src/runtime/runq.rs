//! Run queues, after Go's runqput/runqget and globrunq families in proc.go: each
//! P's lock-free local queue (`RunQ`), and the global queue under sched.lock.
//!
//! A `RunQ` is a ring of N G pointers plus `runnext`, a single-producer,
//! multi-consumer queue. Who writes what:
//!
//! - `tail` is written only by the P's owner (the producer), with Release after the
//!   slot it publishes, so a consumer that loads it with Acquire sees the slot (and
//!   the G it points to, as the producer left it).
//! - `head` is advanced by the owner and by thieves (`grab`), always by CAS with
//!   Release, after reading the slots it consumes; a producer loads it with Acquire
//!   before overwriting slots, so it never reuses a slot still being read.
//! - Slots are atomics accessed Relaxed: the head/tail orderings above order them. A
//!   consumer may read a slot that the owner is overwriting (when it loses the CAS
//!   race); the value is then discarded, so the race is benign but must be atomic.
//! - `runnext` is swapped in by the owner with Release (publishing the G, as the
//!   tail store does for ring slots) and CASed to null by whoever takes it; a thief
//!   loads it with Acquire.
//!
//! Invariants: 0 <= tail - head <= N (wrapping u32 arithmetic); every G is in at most
//! one queue; nothing is lost or run twice. The loom models at the end of this file
//! check them, and that runnext and the ring publish what the producer wrote, under
//! every interleaving of an owner and a thief; a stress test hammers a real-size
//! queue with several thieves. The loom models also check the submitter <-> spinning
//! M handshake of proc.rs (`must_wake_after_submit`, `recheck_after_spinning`).
//!
//! Under `cfg(loom)` (`make test` runs the models) the ring's atomics are loom's.

use core::ptr;
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

#[cfg(not(all(test, loom)))]
use core::sync::atomic::{AtomicPtr, AtomicU32};
#[cfg(all(test, loom))]
use loom::sync::atomic::{AtomicPtr, AtomicU32};

use crate::runtime::asm_amd64::storeload_fence;
use crate::runtime::proc::{gomaxprocs, sched, sched_shared};
use crate::runtime::runtime2::{G, P, PRUNNING, RUNQ_SIZE};

/// A P's local run queue: a ring of N G pointers and runnext (see the file head).
pub(crate) struct RunQ<const N: usize> {
    head: AtomicU32,
    tail: AtomicU32,
    ring: [AtomicPtr<G>; N],
    runnext: AtomicPtr<G>,
}

impl<const N: usize> RunQ<N> {
    const NU32: u32 = {
        assert!(N.is_power_of_two() && N >= 2 && N <= 1 << 16);
        N as u32
    };

    /// An empty queue.
    pub(crate) fn new() -> RunQ<N> {
        RunQ {
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            ring: core::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            runnext: AtomicPtr::new(ptr::null_mut()),
        }
    }

    fn slot(&self, i: u32) -> &AtomicPtr<G> {
        &self.ring[(i % Self::NU32) as usize]
    }

    /// Whether the queue has no Gs. It never returns true spuriously: head, tail and
    /// runnext are read as one snapshot (tail re-checked), because a G can move from
    /// runnext into the ring (put) while we look. Any thread.
    ///
    /// Acquire loads: no data is read through them, but each keeps the loads after
    /// it from moving before it, which the snapshot's tail re-check relies on (and
    /// they pair with put's Release stores, as Go's atomic loads do).
    pub(crate) fn empty(&self) -> bool {
        loop {
            let head = self.head.load(Acquire);
            let tail = self.tail.load(Acquire);
            let runnext = self.runnext.load(Acquire);
            if tail == self.tail.load(Acquire) {
                return head == tail && runnext.is_null();
            }
        }
    }

    /// The number of Gs in the ring (not counting runnext), a snapshot. Any thread.
    pub(crate) fn len_hint(&self) -> u32 {
        // Relaxed: a number for schedtrace, publishing nothing.
        let h = self.head.load(Relaxed);
        let t = self.tail.load(Relaxed);
        t.wrapping_sub(h).min(Self::NU32)
    }

    /// put: gp goes to runnext (if next, kicking the old runnext to the tail) or to
    /// the tail. If the ring is full, half of it plus the G being put are linked
    /// through schedlink and handed to spill(head, tail, n) (the global queue).
    /// Owner only.
    ///
    /// # Safety
    /// gp is a valid, runnable G in no other queue.
    pub(crate) unsafe fn put(
        &self,
        mut gp: *mut G,
        next: bool,
        mut spill: impl FnMut(*mut G, *mut G, i32),
    ) {
        if next {
            // Release: the thief that takes gp from runnext (Acquire) sees what was
            // written to it before. The old runnext is still ours if non-null (only
            // a CAS to null takes it away).
            let old = self.runnext.swap(gp, Release);
            if old.is_null() {
                return;
            }
            // Kick the old runnext out to the regular run queue.
            gp = old;
        }
        loop {
            let h = self.head.load(Acquire); // synchronize with consumers
            let t = self.tail.load(Relaxed); // only we write it
            if t.wrapping_sub(h) < Self::NU32 {
                // Relaxed: ordered by the tail store (file head).
                self.slot(t).store(gp, Relaxed);
                self.tail.store(t.wrapping_add(1), Release); // publish the slot
                return;
            }
            // SAFETY: forwarded from our caller.
            if unsafe { self.put_slow(gp, h, t, &mut spill) } {
                return;
            }
            // The queue is not full any more (a thief took some): retry.
        }
    }

    /// Move gp and the older half of the ring to spill. Owner only; false if a thief
    /// took some meanwhile (then there is room: retry).
    ///
    /// # Safety
    /// As put; h and t are the head and tail put saw, with t - h == N.
    unsafe fn put_slow(
        &self,
        gp: *mut G,
        h: u32,
        t: u32,
        spill: &mut impl FnMut(*mut G, *mut G, i32),
    ) -> bool {
        let n = t.wrapping_sub(h) / 2;
        if n != Self::NU32 / 2 {
            crate::runtime::runtime1::throw("runqputslow: queue is not full");
        }
        // Claim the older half. Release: the producer side of head (ourselves) and
        // consumers see the claim after our earlier slot writes. Relaxed on failure:
        // we only retry.
        if self
            .head
            .compare_exchange(h, h.wrapping_add(n), Release, Relaxed)
            .is_err()
        {
            return false;
        }
        // The batch's Gs are ours now. Their slots are past head, so no consumer takes
        // them, and only we (the producer) ever write slots: reading them now is safe.
        let first = self.slot(h).load(Relaxed);
        let mut last = first;
        for i in 1..n {
            let g = self.slot(h.wrapping_add(i)).load(Relaxed);
            // SAFETY: g is ours since the CAS.
            unsafe { (*last).schedlink = g };
            last = g;
        }
        // SAFETY: last is ours since the CAS, as above, and gp by the caller's
        // contract: their schedlinks are ours to write.
        unsafe {
            (*last).schedlink = gp;
            (*gp).schedlink = ptr::null_mut();
        }
        spill(first, gp, n as i32 + 1);
        true
    }

    /// get: a G, and whether it inherits the time slice (it came from runnext).
    /// Owner only.
    pub(crate) fn get(&self) -> Option<(*mut G, bool)> {
        if let Some(next) = self.take_runnext() {
            return Some((next, true));
        }
        self.get_ring().map(|gp| (gp, false))
    }

    /// get_fair: a G from the ring's head (the oldest), or runnext if the ring is
    /// empty: a fair round of the scheduler, which does not let runnext jump the
    /// queue. Owner only.
    pub(crate) fn get_fair(&self) -> Option<*mut G> {
        self.get_ring().or_else(|| self.take_runnext())
    }

    /// Take runnext. Owner only.
    fn take_runnext(&self) -> Option<*mut G> {
        // If there's a runnext, it's the next G to run. Only we set it non-null, but a
        // thief may CAS it to null, so take it by CAS too. Relaxed: we put it there.
        let next = self.runnext.load(Relaxed);
        if !next.is_null()
            && self
                .runnext
                .compare_exchange(next, ptr::null_mut(), Relaxed, Relaxed)
                .is_ok()
        {
            return Some(next);
        }
        None
    }

    /// Take the ring's head. Owner only.
    fn get_ring(&self) -> Option<*mut G> {
        loop {
            let h = self.head.load(Acquire); // synchronize with other consumers
            let t = self.tail.load(Relaxed); // only we write it
            if t == h {
                return None;
            }
            // Relaxed: ordered by the head and tail loads above (file head); a stale
            // value is discarded by the failing CAS.
            let gp = self.slot(h).load(Relaxed);
            // Release: the slot read is done before the slot can be reused. Relaxed
            // on failure: we retry.
            if self
                .head
                .compare_exchange(h, h.wrapping_add(1), Release, Relaxed)
                .is_ok()
            {
                return Some(gp);
            }
        }
    }

    /// grab: take about half of self's Gs into batch's ring from batch_head on, and
    /// return how many. If steal_runnext, self's runnext may be taken too (only when
    /// the ring is empty); if victim_running, a thief waits a moment first (the
    /// victim likely just readied that G and is about to run it). Any thread but
    /// self's owner (a thief), writing into a batch it owns.
    pub(crate) fn grab(
        &self,
        batch: &RunQ<N>,
        batch_head: u32,
        steal_runnext: bool,
        victim_running: bool,
    ) -> u32 {
        loop {
            let h = self.head.load(Acquire); // synchronize with other consumers
            let t = self.tail.load(Acquire); // synchronize with the producer
            let mut n = t.wrapping_sub(h);
            n -= n / 2;
            if n == 0 {
                if steal_runnext {
                    // Acquire: pairs with put's Release swap.
                    let next = self.runnext.load(Acquire);
                    if !next.is_null() {
                        // The victim's owner likely just readied this G and is about
                        // to run (and block) on its own; taking it at once would
                        // bounce it between Ps. Go sleeps ~3us here when the victim
                        // runs; a spin of similar length keeps the same courtesy.
                        if victim_running {
                            for _ in 0..100 {
                                core::hint::spin_loop();
                            }
                        }
                        // AcqRel: the Acquire half takes the G as the load above does;
                        // the Release half pairs with nothing (the owner never reads
                        // runnext with Acquire) and is stronger than needed. Relaxed on
                        // failure: we retry.
                        if self
                            .runnext
                            .compare_exchange(next, ptr::null_mut(), AcqRel, Relaxed)
                            .is_err()
                        {
                            continue;
                        }
                        // Relaxed: batch is our own queue; steal publishes it.
                        batch.slot(batch_head).store(next, Relaxed);
                        return 1;
                    }
                }
                return 0;
            }
            if n > Self::NU32 / 2 {
                // read inconsistent h and t
                continue;
            }
            // Relaxed: our slot loads are ordered by the tail load above and
            // validated by the CAS below; the stores go to our own batch, which
            // steal publishes with its tail store.
            for i in 0..n {
                let g = self.slot(h.wrapping_add(i)).load(Relaxed);
                batch.slot(batch_head.wrapping_add(i)).store(g, Relaxed);
            }
            // AcqRel: Release so the producer (loading head with Acquire) knows our
            // slot reads are done before it reuses them. Relaxed on failure: we retry.
            if self
                .head
                .compare_exchange(h, h.wrapping_add(n), AcqRel, Relaxed)
                .is_ok()
            {
                return n;
            }
        }
    }

    /// steal: steal about half of victim's Gs onto self's ring and return one of
    /// them. Executed by self's owner.
    pub(crate) fn steal(
        &self,
        victim: &RunQ<N>,
        steal_runnext: bool,
        victim_running: bool,
    ) -> Option<*mut G> {
        let t = self.tail.load(Relaxed); // only we write it
        let mut n = victim.grab(self, t, steal_runnext, victim_running);
        if n == 0 {
            return None;
        }
        n -= 1;
        // Relaxed: grab wrote this slot on this thread.
        let gp = self.slot(t.wrapping_add(n)).load(Relaxed);
        if n == 0 {
            return Some(gp);
        }
        // Acquire: synchronize with consumers (as put), for the overflow check.
        let h = self.head.load(Acquire);
        if t.wrapping_sub(h).wrapping_add(n) >= Self::NU32 {
            crate::runtime::runtime1::throw("runqsteal: runq overflow");
        }
        self.tail.store(t.wrapping_add(n), Release); // publish the stolen Gs
        Some(gp)
    }

    /// Take the G at the tail of the ring, or else runnext, or None: the order that,
    /// pushed one by one at the head of another queue, keeps the queue's order.
    /// Owner only, with no thief possible (procresize: the world is stopped).
    pub(crate) fn pop_tail(&self) -> Option<*mut G> {
        // Relaxed throughout: with the world stopped nobody else touches the queue,
        // and restarting the world orders what we leave behind.
        let h = self.head.load(Relaxed);
        let t = self.tail.load(Relaxed);
        if h != t {
            let t = t.wrapping_sub(1);
            let gp = self.slot(t).load(Relaxed);
            self.tail.store(t, Relaxed);
            return Some(gp);
        }
        let next = self.runnext.swap(ptr::null_mut(), Relaxed);
        (!next.is_null()).then_some(next)
    }

    /// The G in runnext (boot: goroutine 1), or null. Owner only.
    pub(crate) fn peek_runnext(&self) -> *mut G {
        // Relaxed: the owner reads what it put there.
        self.runnext.load(Relaxed)
    }
}

// The P-level operations the scheduler calls.

/// runqempty reports whether pp has no Gs on its local run queue (see RunQ::empty).
pub(crate) fn runqempty(pp: &P) -> bool {
    pp.runq.empty()
}

/// runqput tries to put gp on pp's local runnable queue. If next, gp goes to runnext
/// and the G it displaces goes to the tail. If the ring is full, half of it moves to
/// the global queue.
///
/// # Safety
/// gp is a valid, runnable G in no other queue; the caller owns pp (pinned or g0).
#[inline]
pub(crate) unsafe fn runqput(pp: &P, gp: *mut G, next: bool) {
    crate::runtime::proc::assert_pinned();
    let spill = |h, t, n| {
        // SAFETY: put hands over the batch it took off the ring (and gp), linked
        // through schedlink: runnable Gs in no queue, ours.
        unsafe { globrunqputbatch(h, t, n) }
    };
    // SAFETY: forwarded: gp is a valid, runnable G in no other queue.
    unsafe { pp.runq.put(gp, next, spill) }
}

/// runqget: a G from pp's local runnable queue, and whether it should inherit the
/// time slice (it came from runnext). The caller owns pp (on g0, or pinned).
#[inline]
pub(crate) fn runqget(pp: &P) -> Option<(*mut G, bool)> {
    pp.runq.get()
}

/// runqsteal: steal half of the elements from p2's local run queue and put them onto
/// pp's; return one of the stolen Gs (or None). The caller owns pp (on g0).
pub(crate) fn runqsteal(pp: &P, p2: &P, steal_runnext: bool) -> Option<*mut G> {
    // Relaxed: only decides whether to wait a moment (see grab).
    let p2_running = p2.status.load(Relaxed) == PRUNNING;
    pp.runq.steal(&p2.runq, steal_runnext, p2_running)
}

/// The submitter's half of the spinning handshake (Go's proc.go, "the general
/// pattern for submission"): after work has been queued, a StoreLoad barrier, then
/// whether an M must be woken: an idle P exists and no M is spinning. npidle and
/// nmspinning load the two counters. Runs on any g.
#[inline(always)]
pub(crate) fn must_wake_after_submit(
    npidle: impl FnOnce() -> i32,
    nmspinning: impl FnOnce() -> u32,
) -> bool {
    // The queueing store must be visible before the counters are read: pairs with the
    // barrier in recheck_after_spinning.
    storeload_fence();
    npidle() != 0 && nmspinning() == 0
}

/// The spinning M's half (Go's "spinning -> non-spinning transition"): after its
/// nmspinning decrement, a StoreLoad barrier, then look at every queue again
/// (`any_work`): if it finds work it must go back to spinning. Runs on g0.
#[inline(always)]
pub(crate) fn recheck_after_spinning(any_work: impl FnOnce() -> bool) -> bool {
    // The decrement must be visible before the queues are read: pairs with the
    // barrier in must_wake_after_submit.
    storeload_fence();
    any_work()
}

// The global run queue: a list through G.schedlink under sched.lock. runqsize is
// written under the lock and read without it only as a hint ("is there global
// work?"); whoever acts on it re-checks under the lock.

/// globrunqput puts gp at the tail of the global queue.
///
/// # Safety
/// sched.lock must be held; gp is runnable and in no other queue.
#[inline(always)]
pub(crate) unsafe fn globrunqput(gp: *mut G) {
    // SAFETY: forwarded.
    unsafe { globrunqputbatch_locked(gp, gp, 1) };
    if super::trace::on() {
        super::trace::globq_put(false);
    }
}

/// globrunqput for the goroutine whose stop event (GoSched, GoPreempt) is the
/// last event this M recorded: the trace may then time the next GoStart of a
/// goroutine from the global queue without reading the clock (trace::globq_put).
///
/// # Safety
/// As globrunqput.
#[inline(always)]
pub(crate) unsafe fn globrunqput_stopped(gp: *mut G) {
    // SAFETY: forwarded.
    unsafe { globrunqputbatch_locked(gp, gp, 1) };
    if super::trace::on() {
        super::trace::globq_put(true);
    }
}

/// globrunqputhead puts gp at the head of the global queue. Any g; no allocation.
///
/// # Safety
/// As globrunqput.
#[inline]
pub(crate) unsafe fn globrunqputhead(gp: *mut G) {
    let ss = sched_shared();
    let s = sched();
    ss.lock.assert_held();
    // SAFETY: sched.lock (held: the caller's contract) protects the list; gp and its
    // schedlink are ours.
    unsafe {
        (*gp).schedlink = (*s).runqhead;
        (*s).runqhead = gp;
        if (*s).runqtail.is_null() {
            (*s).runqtail = gp;
        }
    }
    // Relaxed: written under sched.lock (held), read without it as a hint (above).
    ss.runqsize.store(ss.runqsize.load(Relaxed) + 1, Relaxed);
    if super::trace::on() {
        super::trace::globq_put(false);
    }
}

/// Append the schedlink-linked list head..tail of n Gs to the global queue. Any g;
/// no allocation.
///
/// # Safety
/// sched.lock must be held; the caller owns the batch.
#[inline(always)]
unsafe fn globrunqputbatch_locked(head: *mut G, tail: *mut G, n: i32) {
    let ss = sched_shared();
    let s = sched();
    ss.lock.assert_held();
    // SAFETY: sched.lock (held: the caller's contract) protects the list, and the
    // batch, tail's schedlink included, is the caller's.
    unsafe {
        (*tail).schedlink = ptr::null_mut();
        if (*s).runqtail.is_null() {
            (*s).runqhead = head;
        } else {
            (*(*s).runqtail).schedlink = head;
        }
        (*s).runqtail = tail;
    }
    // Relaxed: as in globrunqputhead.
    ss.runqsize.store(ss.runqsize.load(Relaxed) + n, Relaxed);
}

/// globrunqputbatch puts a linked batch of n Gs on the global runnable queue.
/// Takes sched.lock, so the caller must not hold it. Any g; no allocation.
///
/// # Safety
/// head..tail is a schedlink-linked list of n runnable Gs owned by the caller.
pub(crate) unsafe fn globrunqputbatch(head: *mut G, tail: *mut G, n: i32) {
    let lock = sched_shared().lock;
    lock.lock();
    // SAFETY: sched.lock is held; the batch is the caller's.
    unsafe { globrunqputbatch_locked(head, tail, n) };
    if super::trace::on() {
        super::trace::globq_put(false);
    }
    lock.unlock();
}

/// globrunqget takes a batch of Gs from the global queue: returns one to run and
/// moves up to max-1 more (and at most half the local ring) to pp's run queue.
/// max = 0 means no limit. Runs on g0; no allocation.
///
/// # Safety
/// sched.lock must be held; the caller owns pp.
pub(crate) unsafe fn globrunqget(pp: *mut P, max: i32) -> *mut G {
    let ss = sched_shared();
    ss.lock.assert_held();
    // Relaxed: written under sched.lock, which we hold.
    let size = ss.runqsize.load(Relaxed);
    if size == 0 {
        return ptr::null_mut();
    }
    let np = gomaxprocs().max(1) as i32;
    let mut n = (size / np + 1).min(size);
    if max > 0 && n > max {
        n = max;
    }
    n = n.min(RUNQ_SIZE as i32 / 2);
    ss.runqsize.store(size - n, Relaxed);
    if super::trace::on() {
        super::trace::globq_got(size == n);
    }
    // SAFETY: sched.lock is held and the queue holds size >= n >= 1 Gs.
    let gp = unsafe { globrunq_pop() };
    // SAFETY: Ps are never freed, and pp is ours (the caller's contract).
    let p = unsafe { &*pp };
    for _ in 1..n {
        // SAFETY: as above, for the next G; it leaves the global queue for pp's
        // alone, and we own pp (runqput's contract).
        unsafe { runqput(p, globrunq_pop(), false) };
    }
    gp
}

/// Pop the head of the global queue (runqsize is the caller's to adjust). Any g.
///
/// # Safety
/// sched.lock must be held; the queue is not empty.
#[inline]
unsafe fn globrunq_pop() -> *mut G {
    let s = sched();
    // SAFETY: sched.lock (held: the caller's contract) protects the list, which is
    // not empty: its head is a G.
    unsafe {
        let gp = (*s).runqhead;
        (*s).runqhead = (*gp).schedlink;
        if (*s).runqhead.is_null() {
            (*s).runqtail = ptr::null_mut();
        }
        gp
    }
}

/// Whether the global queue may hold work (a hint: Relaxed, re-checked under the
/// lock by whoever acts on it). Any thread.
#[inline]
pub(crate) fn globrunq_nonempty() -> bool {
    sched_shared().runqsize.load(Relaxed) != 0
}

/// Serializes the unit tests that use the global run queue.
#[cfg(test)]
pub(crate) static GLOBRUNQ_TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Empty the global queue (unit tests).
#[cfg(test)]
pub(crate) fn globrunq_drain_for_test() -> alloc::vec::Vec<*mut G> {
    let ss = sched_shared();
    let mut v = alloc::vec::Vec::new();
    ss.lock.lock();
    // Relaxed: under sched.lock, as in globrunqget.
    while ss.runqsize.load(Relaxed) > 0 {
        // SAFETY: sched.lock is held and the queue is not empty.
        v.push(unsafe { globrunq_pop() });
        ss.runqsize.store(ss.runqsize.load(Relaxed) - 1, Relaxed);
    }
    ss.lock.unlock();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::runtime2::G;
    extern crate std;
    use std::boxed::Box;
    use std::vec::Vec;

    fn gs(n: usize) -> Vec<*mut G> {
        (0..n)
            .map(|i| {
                let mut g = Box::new(G::new());
                *g.goid.get_mut() = i as u64;
                Box::into_raw(g)
            })
            .collect()
    }

    #[test]
    fn fifo_and_runnext() {
        let pp = Box::new(P::new(0));
        let v = gs(10);
        assert!(runqempty(&pp));
        for &g in &v[..5] {
            unsafe { runqput(&pp, g, false) };
        }
        unsafe { runqput(&pp, v[5], true) };
        unsafe { runqput(&pp, v[6], true) }; // kicks v[5] to the tail
        assert!(!runqempty(&pp));
        let got: Vec<_> = core::iter::from_fn(|| runqget(&pp)).collect();
        let ids: Vec<u64> = got.iter().map(|&(g, _)| unsafe { (*g).goid() }).collect();
        assert_eq!(ids, [6, 0, 1, 2, 3, 4, 5]);
        assert!(
            got[0].1 && !got[1].1,
            "only runnext inherits the time slice"
        );
        assert!(runqempty(&pp));
    }

    #[test]
    fn overflow_spills_half_to_global() {
        let _serial = GLOBRUNQ_TEST_LOCK.lock().unwrap();
        let pp = Box::new(P::new(0));
        let v = gs(RUNQ_SIZE + 1);
        for &g in &v {
            unsafe { runqput(&pp, g, false) };
        }
        // Half of the ring plus the new G went to the global queue.
        let local: Vec<_> = core::iter::from_fn(|| runqget(&pp))
            .map(|(g, _)| g)
            .collect();
        assert_eq!(local.len(), RUNQ_SIZE / 2);
        let global = globrunq_drain_for_test();
        assert_eq!(global.len(), RUNQ_SIZE / 2 + 1);
        let mut all: Vec<u64> = local
            .iter()
            .chain(global.iter())
            .map(|&g| unsafe { (*g).goid() })
            .collect();
        all.sort();
        assert_eq!(
            all,
            (0..=RUNQ_SIZE as u64).collect::<Vec<_>>(),
            "nothing lost or duplicated"
        );
    }
}

#[cfg(test)]
mod stress {
    //! Many threads hammer one P's queue: its owner puts and gets while thieves steal
    //! into their own Ps. Every G must come out exactly once.
    use super::*;
    extern crate std;
    use std::boxed::Box;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    use std::vec::Vec;

    struct SendP(*mut P);
    // SAFETY: the test gives each P exactly one owner thread; others only steal.
    unsafe impl Send for SendP {}
    unsafe impl Sync for SendP {}

    #[test]
    fn owner_and_thieves_lose_nothing() {
        let _serial = GLOBRUNQ_TEST_LOCK.lock().unwrap();
        const TOTAL: u64 = 400_000;
        const THIEVES: usize = 3;
        let victim = Arc::new(SendP(Box::into_raw(Box::new(P::new(0)))));
        let seen: Arc<Vec<AtomicU64>> = Arc::new((0..TOTAL).map(|_| AtomicU64::new(0)).collect());
        let done = Arc::new(AtomicBool::new(false));
        let record = |seen: &Vec<AtomicU64>, g: *mut G| {
            // SAFETY: every G is a leaked Box that stays valid for the whole test.
            let id = unsafe { (*g).goid() };
            seen[id as usize].fetch_add(1, Ordering::Relaxed);
        };
        let thieves: Vec<_> = (0..THIEVES)
            .map(|i| {
                let (victim, seen, done) = (victim.clone(), seen.clone(), done.clone());
                std::thread::spawn(move || {
                    let mine = Box::new(P::new(1 + i as i32));
                    let mut stolen = 0u64;
                    loop {
                        let finished = done.load(Ordering::Acquire);
                        // SAFETY: the victim P outlives the threads.
                        let v = unsafe { &*victim.0 };
                        if let Some(g) = runqsteal(&mine, v, stolen.is_multiple_of(2)) {
                            record(&seen, g);
                            stolen += 1;
                            while let Some((g, _)) = runqget(&mine) {
                                record(&seen, g);
                                stolen += 1;
                            }
                        } else if finished {
                            break;
                        }
                    }
                    stolen
                })
            })
            .collect();
        // The owner: bursts of puts (some to runnext), then a few gets.
        // SAFETY: this thread is the victim's only owner.
        let v = unsafe { &*victim.0 };
        let mut next_id = 0u64;
        let mut owner_got = 0u64;
        let mut rng = 0x2545F4914F6CDD1Du64;
        while next_id < TOTAL {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let burst = 1 + rng % 200;
            for _ in 0..burst.min(TOTAL - next_id) {
                let mut g = Box::new(G::new());
                *g.goid.get_mut() = next_id;
                next_id += 1;
                // SAFETY: a fresh G in no queue.
                unsafe { runqput(v, Box::into_raw(g), rng.is_multiple_of(5)) };
            }
            for _ in 0..rng % 50 {
                if let Some((g, _)) = runqget(v) {
                    record(&seen, g);
                    owner_got += 1;
                }
            }
        }
        while let Some((g, _)) = runqget(v) {
            record(&seen, g);
            owner_got += 1;
        }
        done.store(true, Ordering::Release);
        let stolen: u64 = thieves.into_iter().map(|t| t.join().unwrap()).sum();
        let global = globrunq_drain_for_test();
        for &g in &global {
            record(&seen, g);
        }
        assert_eq!(owner_got + stolen + global.len() as u64, TOTAL);
        for (id, c) in seen.iter().enumerate() {
            assert_eq!(
                c.load(Ordering::Relaxed),
                1,
                "G {id} seen {} times",
                c.load(Ordering::Relaxed)
            );
        }
        assert!(stolen > 0, "the thieves never stole anything");
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    //! Model checks (loom) of RunQ and the spinning handshake, over every
    //! interleaving of an owner and a thief (with loom's bounded preemption). Run by
    //! `make test`: `RUSTFLAGS="--cfg loom" cargo test --lib --release loom`.
    use super::*;
    extern crate std;
    use loom::cell::UnsafeCell;
    use loom::sync::atomic::{AtomicI32, AtomicU32 as LAtomicU32};
    use loom::sync::{Arc, Mutex};
    use loom::thread;
    use std::boxed::Box;
    use std::vec::Vec;

    /// A G with a payload the producer writes before queueing it: a consumer reading
    /// the payload without happens-before is a data race loom reports.
    #[repr(C)]
    struct Node {
        g: G,
        id: usize,
        payload: UnsafeCell<usize>,
    }

    fn nodes(n: usize) -> Vec<usize> {
        (0..n)
            .map(|id| {
                let node = Box::new(Node {
                    g: G::new(),
                    id,
                    payload: UnsafeCell::new(0),
                });
                Box::into_raw(node) as usize
            })
            .collect()
    }

    /// The producer's write of node's payload, then its G pointer.
    fn produce(addr: usize) -> *mut G {
        let node = addr as *mut Node;
        // SAFETY: the node is leaked for the model's duration and not yet queued.
        unsafe { (*node).payload.with_mut(|p| *p = (*node).id + 100) };
        node as *mut G
    }

    /// A consumer's read of the payload; returns the node's id.
    fn consume(g: *mut G) -> usize {
        let node = g as *mut Node;
        // SAFETY: the node is live; loom checks the read happens after the write.
        unsafe {
            let v = (*node).payload.with(|p| *p);
            assert_eq!(v, (*node).id + 100, "payload not published");
            (*node).id
        }
    }

    fn check_once(mut ids: Vec<usize>, n: usize) {
        ids.sort();
        assert_eq!(ids, (0..n).collect::<Vec<_>>(), "lost or duplicated");
    }

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(f);
    }

    #[test]
    fn loom_owner_and_thief_take_each_g_once() {
        model(|| {
            let q = Arc::new(RunQ::<4>::new());
            let ns = nodes(3);
            let thief = {
                let q = q.clone();
                thread::spawn(move || {
                    let mine = RunQ::<4>::new();
                    let mut got = Vec::new();
                    if let Some(g) = mine.steal(&q, true, false) {
                        got.push(consume(g));
                        while let Some((g, _)) = mine.get() {
                            got.push(consume(g));
                        }
                    }
                    got
                })
            };
            let mut got = Vec::new();
            // SAFETY: fresh Gs in no queue; we are q's only producer.
            unsafe {
                q.put(produce(ns[0]), false, |_, _, _| unreachable!());
                q.put(produce(ns[1]), false, |_, _, _| unreachable!());
                q.put(produce(ns[2]), true, |_, _, _| unreachable!());
            }
            while let Some((g, _)) = q.get() {
                got.push(consume(g));
            }
            got.extend(thief.join().unwrap());
            check_once(got, 3);
        });
    }

    #[test]
    fn loom_a_full_ring_spills_half_and_loses_nothing() {
        model(|| {
            let q = Arc::new(RunQ::<2>::new());
            let ns = nodes(3);
            let spilled = Arc::new(Mutex::new(Vec::new()));
            let thief = {
                let q = q.clone();
                thread::spawn(move || {
                    let mine = RunQ::<2>::new();
                    let mut got = Vec::new();
                    if let Some(g) = mine.steal(&q, false, false) {
                        got.push(consume(g));
                        while let Some((g, _)) = mine.get() {
                            got.push(consume(g));
                        }
                    }
                    got
                })
            };
            for &n in &ns {
                let spilled = spilled.clone();
                // SAFETY: fresh Gs in no queue; we are q's only producer.
                unsafe {
                    q.put(produce(n), false, move |head, tail, count| {
                        let mut s = spilled.lock().unwrap();
                        let mut g = head;
                        for _ in 0..count {
                            s.push(consume(g));
                            g = if g == tail {
                                ptr::null_mut()
                            } else {
                                (*g).schedlink
                            };
                        }
                        assert!(g.is_null(), "spilled batch longer than its count");
                    })
                };
            }
            let mut got = Vec::new();
            while let Some((g, _)) = q.get() {
                got.push(consume(g));
            }
            got.extend(thief.join().unwrap());
            got.extend(spilled.lock().unwrap().iter().copied());
            check_once(got, 3);
        });
    }

    #[test]
    fn loom_runnext_publishes_the_g_to_a_thief() {
        model(|| {
            let q = Arc::new(RunQ::<4>::new());
            let ns = nodes(1);
            let thief = {
                let q = q.clone();
                thread::spawn(move || {
                    let mine = RunQ::<4>::new();
                    mine.steal(&q, true, false).map(consume)
                })
            };
            // SAFETY: a fresh G; we are q's only producer.
            unsafe { q.put(produce(ns[0]), true, |_, _, _| unreachable!()) };
            let stolen = thief.join().unwrap();
            let mine = q.get().map(|(g, _)| consume(g));
            let got: Vec<usize> = stolen.into_iter().chain(mine).collect();
            check_once(got, 1);
        });
    }

    /// The spinning handshake of proc.rs: a submitter queues a G and asks whether to
    /// wake an M; meanwhile the last spinning M parks its P (npidle++), stops spinning
    /// (nmspinning--) and re-checks the queues. Either the submitter wakes someone or
    /// the parker finds the G: the G is never stranded.
    #[test]
    fn loom_a_submitted_g_is_never_stranded() {
        model(|| {
            let q = Arc::new(RunQ::<4>::new());
            let npidle = Arc::new(AtomicI32::new(0));
            let nmspinning = Arc::new(LAtomicU32::new(1));
            let ns = nodes(1);
            let parker = {
                let (q, npidle, nmspinning) = (q.clone(), npidle.clone(), nmspinning.clone());
                thread::spawn(move || {
                    npidle.fetch_add(1, Relaxed); // pidleput
                    nmspinning.fetch_sub(1, AcqRel);
                    recheck_after_spinning(|| !q.empty())
                })
            };
            // SAFETY: a fresh G; we are q's only producer.
            unsafe { q.put(produce(ns[0]), false, |_, _, _| unreachable!()) };
            let woke = must_wake_after_submit(|| npidle.load(Relaxed), || nmspinning.load(Relaxed));
            let found = parker.join().unwrap();
            assert!(
                woke || found,
                "the G is queued, nobody wakes and nobody looks"
            );
        });
    }

    /// The same protocol without the two StoreLoad barriers: loom must find the
    /// interleaving that strands the G (so the model above can fail).
    #[test]
    #[should_panic(expected = "nobody wakes and nobody looks")]
    fn loom_without_the_barriers_a_g_is_stranded() {
        model(|| {
            let q = Arc::new(RunQ::<4>::new());
            let npidle = Arc::new(AtomicI32::new(0));
            let nmspinning = Arc::new(LAtomicU32::new(1));
            let ns = nodes(1);
            let parker = {
                let (q, npidle, nmspinning) = (q.clone(), npidle.clone(), nmspinning.clone());
                thread::spawn(move || {
                    npidle.fetch_add(1, Relaxed);
                    nmspinning.fetch_sub(1, AcqRel);
                    !q.empty()
                })
            };
            // SAFETY: a fresh G; we are q's only producer.
            unsafe { q.put(produce(ns[0]), false, |_, _, _| unreachable!()) };
            let woke = npidle.load(Relaxed) != 0 && nmspinning.load(Relaxed) == 0;
            let found = parker.join().unwrap();
            assert!(
                woke || found,
                "the G is queued, nobody wakes and nobody looks"
            );
        });
    }
}
