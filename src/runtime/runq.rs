//! Run queues, after Go's runqput/runqget and globrunq families in proc.go: each
//! P's lock-free local queue, and the global queue under sched.lock.
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
use core::sync::atomic::AtomicPtr;
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use crate::runtime::proc::{gomaxprocs, sched};
use crate::runtime::runtime2::{G, P, RUNQ_SIZE};

const N: u32 = RUNQ_SIZE as u32;

/// runqempty reports whether pp has no Gs on its local run queue. It never returns
/// true spuriously: head, tail and runnext are read as one snapshot (tail re-checked),
/// because a G can move from runnext into the ring (runqput) while we look.
pub(crate) fn runqempty(pp: &P) -> bool {
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
pub(crate) unsafe fn runqput(pp: &P, mut gp: *mut G, next: bool) {
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
        crate::runtime::runtime1::throw("runqputslow: queue is not full");
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
pub(crate) fn runqget(pp: &P) -> Option<(*mut G, bool)> {
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

/// runqgrab: take about half of pp's runnable Gs into batch[batch_head..] (a ring of
/// RUNQ_SIZE, indexed mod RUNQ_SIZE) and return how many. If steal_runnext, pp's
/// runnext may be taken too (only when the ring is empty). Executed by a thief: any
/// M other than pp's owner.
pub(crate) fn runqgrab(
    pp: &P,
    batch: &[AtomicPtr<G>; RUNQ_SIZE],
    batch_head: u32,
    steal_runnext: bool,
) -> u32 {
    loop {
        let h = pp.runqhead.load(Acquire); // synchronize with other consumers
        let t = pp.runqtail.load(Acquire); // synchronize with the producer
        let mut n = t.wrapping_sub(h);
        n -= n / 2;
        if n == 0 {
            if steal_runnext {
                // Try to steal from pp.runnext.
                let next = pp.runnext.load(Acquire);
                if !next.is_null() {
                    // pp's owner likely just readied this G and is about to run
                    // (and block) on its own; taking it at once would bounce it
                    // between Ps. Go sleeps ~3us here when pp is running; a
                    // spin-yield of similar length keeps the same courtesy.
                    if pp.status.load(Relaxed) == crate::runtime::runtime2::PRUNNING {
                        for _ in 0..100 {
                            core::hint::spin_loop();
                        }
                    }
                    if pp
                        .runnext
                        .compare_exchange(next, ptr::null_mut(), AcqRel, Relaxed)
                        .is_err()
                    {
                        continue;
                    }
                    batch[(batch_head % N) as usize].store(next, Relaxed);
                    return 1;
                }
            }
            return 0;
        }
        if n > N / 2 {
            // read inconsistent h and t
            continue;
        }
        for i in 0..n {
            let g = pp.runq[(h.wrapping_add(i) % N) as usize].load(Relaxed);
            batch[(batch_head.wrapping_add(i) % N) as usize].store(g, Relaxed);
        }
        if pp
            .runqhead
            .compare_exchange(h, h.wrapping_add(n), AcqRel, Relaxed)
            .is_ok()
        {
            return n;
        }
    }
}

/// runqsteal: steal half of the elements from p2's local run queue and put them onto
/// pp's; return one of the stolen Gs (or None). Executed by pp's owner.
pub(crate) fn runqsteal(pp: &P, p2: &P, steal_runnext: bool) -> Option<*mut G> {
    let t = pp.runqtail.load(Relaxed);
    let mut n = runqgrab(p2, &pp.runq, t, steal_runnext);
    if n == 0 {
        return None;
    }
    n -= 1;
    let gp = pp.runq[(t.wrapping_add(n) % N) as usize].load(Relaxed);
    if n == 0 {
        return Some(gp);
    }
    let h = pp.runqhead.load(Acquire);
    if t.wrapping_sub(h).wrapping_add(n) >= N {
        crate::runtime::runtime1::throw("runqsteal: runq overflow");
    }
    pp.runqtail.store(t.wrapping_add(n), Release); // publish the stolen Gs
    Some(gp)
}

// The global run queue: a list through G.schedlink under sched.lock. runqsize is
// written under the lock and read without it only as a hint ("is there global
// work?"); whoever acts on it re-checks under the lock.

/// globrunqput puts gp at the tail of the global queue.
///
/// # Safety
/// sched.lock must be held; gp is runnable and in no other queue.
#[inline]
pub(crate) unsafe fn globrunqput(gp: *mut G) {
    // SAFETY: forwarded.
    unsafe { globrunqputbatch_locked(gp, gp, 1) }
}

/// globrunqputhead puts gp at the head of the global queue.
///
/// # Safety
/// As globrunqput.
#[inline]
pub(crate) unsafe fn globrunqputhead(gp: *mut G) {
    let s = sched();
    // SAFETY: the caller holds sched.lock, which protects the list; gp is ours.
    unsafe {
        (*s).lock.assert_held();
        (*gp).schedlink = (*s).runqhead;
        (*s).runqhead = gp;
        if (*s).runqtail.is_null() {
            (*s).runqtail = gp;
        }
        (*s).runqsize
            .store((*s).runqsize.load(Relaxed) + 1, Relaxed);
    }
}

/// Append the schedlink-linked list head..tail of n Gs to the global queue.
///
/// # Safety
/// sched.lock must be held; the caller owns the batch.
#[inline]
unsafe fn globrunqputbatch_locked(head: *mut G, tail: *mut G, n: i32) {
    let s = sched();
    // SAFETY: the caller holds sched.lock and owns the batch.
    unsafe {
        (*s).lock.assert_held();
        (*tail).schedlink = ptr::null_mut();
        if (*s).runqtail.is_null() {
            (*s).runqhead = head;
        } else {
            (*(*s).runqtail).schedlink = head;
        }
        (*s).runqtail = tail;
        (*s).runqsize
            .store((*s).runqsize.load(Relaxed) + n, Relaxed);
    }
}

/// globrunqputbatch puts a linked batch of n Gs on the global runnable queue.
/// Takes sched.lock.
///
/// # Safety
/// head..tail is a schedlink-linked list of n runnable Gs owned by the caller.
pub(crate) unsafe fn globrunqputbatch(head: *mut G, tail: *mut G, n: i32) {
    let s = sched();
    // SAFETY: sched.lock protects the global queue; the batch is the caller's.
    unsafe {
        (*s).lock.lock();
        globrunqputbatch_locked(head, tail, n);
        (*s).lock.unlock();
    }
}

/// globrunqget takes a batch of Gs from the global queue: returns one to run and
/// moves up to max-1 more (and at most half the local ring) to pp's run queue.
/// max = 0 means no limit.
///
/// # Safety
/// sched.lock must be held; the caller owns pp.
pub(crate) unsafe fn globrunqget(pp: *mut P, max: i32) -> *mut G {
    let s = sched();
    // SAFETY: the caller holds sched.lock and owns pp.
    unsafe {
        (*s).lock.assert_held();
        let size = (*s).runqsize.load(Relaxed);
        if size == 0 {
            return ptr::null_mut();
        }
        let np = gomaxprocs().max(1) as i32;
        let mut n = (size / np + 1).min(size);
        if max > 0 && n > max {
            n = max;
        }
        n = n.min(RUNQ_SIZE as i32 / 2);
        (*s).runqsize.store(size - n, Relaxed);
        let gp = globrunq_pop();
        for _ in 1..n {
            runqput(&*pp, globrunq_pop(), false);
        }
        gp
    }
}

/// Pop the head of the global queue (runqsize is the caller's to adjust).
///
/// # Safety
/// sched.lock must be held; the queue is not empty.
#[inline]
unsafe fn globrunq_pop() -> *mut G {
    let s = sched();
    // SAFETY: the caller holds sched.lock.
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
/// lock by whoever acts on it).
#[inline]
pub(crate) fn globrunq_nonempty() -> bool {
    // SAFETY: reads an atomic of the static scheduler.
    unsafe { (*sched()).runqsize.load(Relaxed) != 0 }
}

/// Serializes the unit tests that use the global run queue.
#[cfg(test)]
pub(crate) static GLOBRUNQ_TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Empty the global queue (unit tests).
#[cfg(test)]
pub(crate) fn globrunq_drain_for_test() -> alloc::vec::Vec<*mut G> {
    let s = sched();
    let mut v = alloc::vec::Vec::new();
    // SAFETY: the test is the only user of the global queue.
    unsafe {
        (*s).lock.lock();
        while (*s).runqsize.load(Relaxed) > 0 {
            v.push(globrunq_pop());
            (*s).runqsize
                .store((*s).runqsize.load(Relaxed) - 1, Relaxed);
        }
        (*s).lock.unlock();
    }
    v
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
