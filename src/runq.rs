//! Per-P run queues, after Go's runqput/runqget family in proc.go.
//!
//! Each P has a ring of RUNQ_SIZE G pointers plus `runnext`. The ring is a
//! single-producer, multi-consumer queue:
//!
//! - `runqtail` is written only by the P's owner (the producer), with Release after the
//!   slot it publishes, so a consumer that loads it with Acquire sees the slot.
//! - `runqhead` is advanced by the owner and by thieves (runqgrab), always by CAS with
//!   Release, after reading the slots it consumes; a producer loads it with Acquire
//!   before overwriting slots, so it never reuses a slot still being read.
//! - Slots are AtomicPtr accessed Relaxed: the head/tail orderings above order them.
//!   A consumer may read a slot that the owner is overwriting (when it loses the CAS
//!   race); the value is then discarded, so the race is benign but must be atomic.
//! - `runnext` is swapped by the owner and CASed to null by whoever takes it.
//!
//! Invariants: 0 <= tail - head <= RUNQ_SIZE (wrapping u32 arithmetic); every G is in
//! at most one queue; nothing is lost or run twice (the stress test checks both).

use core::ptr;
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use crate::proc::globrunqputbatch;
use crate::runtime2::{G, P, RUNQ_SIZE};

const N: u32 = RUNQ_SIZE as u32;

/// runqempty reports whether pp has no Gs on its local run queue. It never returns
/// true spuriously: head, tail and runnext are read as one snapshot (tail re-checked),
/// because a G can move from runnext into the ring (runqput) while we look.
pub fn runqempty(pp: &P) -> bool {
    loop {
        let head = pp.runqhead.load(Acquire);
        let tail = pp.runqtail.load(Acquire);
        let runnext = pp.runnext.load(Acquire);
        if tail == pp.runqtail.load(Acquire) {
            return head == tail && runnext.is_null();
        }
    }
}

/// runqput tries to put gp on the local runnable queue. If next, gp goes to runnext
/// and the G it displaces goes to the tail. If the ring is full, half of it moves to
/// the global queue. Executed only by the owner P.
///
/// # Safety
/// gp is a valid, runnable G in no other queue; the caller owns pp.
pub unsafe fn runqput(pp: &P, mut gp: *mut G, next: bool) {
    if next {
        let old = pp.runnext.swap(gp, Relaxed);
        if old.is_null() {
            return;
        }
        // Kick the old runnext out to the regular run queue.
        gp = old;
    }
    loop {
        let h = pp.runqhead.load(Acquire); // synchronize with consumers
        let t = pp.runqtail.load(Relaxed); // only we write it
        if t.wrapping_sub(h) < N {
            pp.runq[(t % N) as usize].store(gp, Relaxed);
            pp.runqtail.store(t.wrapping_add(1), Release); // publish the slot
            return;
        }
        // SAFETY: forwarded from our caller.
        if unsafe { runqputslow(pp, gp, h, t) } {
            return;
        }
        // The queue is not full any more (a thief took some): retry.
    }
}

/// Put gp and a batch of work from the local queue on the global queue.
/// Executed only by the owner P.
///
/// # Safety
/// As runqput; h and t are the head and tail runqput saw, with t - h == RUNQ_SIZE.
unsafe fn runqputslow(pp: &P, gp: *mut G, h: u32, t: u32) -> bool {
    let mut batch = [ptr::null_mut::<G>(); RUNQ_SIZE / 2 + 1];
    // First, grab a batch from the local queue.
    let n = t.wrapping_sub(h) / 2;
    if n != N / 2 {
        crate::runtime1::throw("runqputslow: queue is not full");
    }
    for (i, b) in batch.iter_mut().enumerate().take(n as usize) {
        *b = pp.runq[(h.wrapping_add(i as u32) % N) as usize].load(Relaxed);
    }
    if pp
        .runqhead
        .compare_exchange(h, h.wrapping_add(n), Release, Relaxed)
        .is_err()
    {
        return false;
    }
    batch[n as usize] = gp;
    // Link the goroutines.
    for i in 0..n as usize {
        // SAFETY: the batch's Gs are ours now: we won the CAS that removed them.
        unsafe { (*batch[i]).schedlink = batch[i + 1] };
    }
    // SAFETY: as above, for the last one.
    unsafe { (*batch[n as usize]).schedlink = ptr::null_mut() };
    // Now put the batch on the global queue.
    // SAFETY: the list batch[0]..batch[n] is linked through schedlink and owned by us.
    unsafe { globrunqputbatch(batch[0], batch[n as usize], n as i32 + 1) };
    true
}

/// runqget: a G from the local runnable queue, and whether it should inherit the
/// time slice (it came from runnext). Executed only by the owner P.
pub fn runqget(pp: &P) -> Option<(*mut G, bool)> {
    // If there's a runnext, it's the next G to run. Only we set it non-null, but a
    // thief may CAS it to null, so take it by CAS too.
    let next = pp.runnext.load(Relaxed);
    if !next.is_null()
        && pp
            .runnext
            .compare_exchange(next, ptr::null_mut(), Relaxed, Relaxed)
            .is_ok()
    {
        return Some((next, true));
    }
    loop {
        let h = pp.runqhead.load(Acquire); // synchronize with other consumers
        let t = pp.runqtail.load(Relaxed);
        if t == h {
            return None;
        }
        let gp = pp.runq[(h % N) as usize].load(Relaxed);
        if pp
            .runqhead
            .compare_exchange(h, h.wrapping_add(1), Release, Relaxed)
            .is_ok()
        {
            return Some((gp, false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime2::G;
    extern crate std;
    use std::boxed::Box;
    use std::vec::Vec;

    fn gs(n: usize) -> Vec<*mut G> {
        (0..n)
            .map(|i| {
                let mut g = Box::new(G::new());
                g.goid = i as u64;
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
        let ids: Vec<u64> = got.iter().map(|&(g, _)| unsafe { (*g).goid }).collect();
        assert_eq!(ids, [6, 0, 1, 2, 3, 4, 5]);
        assert!(
            got[0].1 && !got[1].1,
            "only runnext inherits the time slice"
        );
        assert!(runqempty(&pp));
    }

    #[test]
    fn overflow_spills_half_to_global() {
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
        let global = crate::proc::globrunq_drain_for_test();
        assert_eq!(global.len(), RUNQ_SIZE / 2 + 1);
        let mut all: Vec<u64> = local
            .iter()
            .chain(global.iter())
            .map(|&g| unsafe { (*g).goid })
            .collect();
        all.sort();
        assert_eq!(
            all,
            (0..=RUNQ_SIZE as u64).collect::<Vec<_>>(),
            "nothing lost or duplicated"
        );
    }
}
