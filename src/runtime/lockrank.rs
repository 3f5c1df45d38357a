//! Lock ranks, after Go's lockrank.go: the order in which runtime locks may be
//! taken, written down as data and checked in debug builds.
//!
//! Every runtime `Mutex` (lock_futex.rs) is created with a rank. Ranks are a total
//! order: a lock may only be taken while the locks already held have lower or equal
//! rank. On top of that, `LOCK_PARTIAL_ORDER[r]` lists the ranks that may be the most
//! recently taken lock still held when a lock of rank `r` is taken; two locks of the
//! same rank may be held together only if `r` lists itself (several channels in
//! select, two P timer heaps while one P is destroyed). A `LEAF` lock may be taken
//! after anything but another leaf, and nothing may be taken while a leaf is held.
//!
//! Debug builds record each M's held locks (`M::locks_held`, most recent last) and
//! throw `lock ordering problem` on a violation, and `assert_lock_held` checks that a
//! function documented as "X must be held" is called with X held (Go's
//! assertLockHeld). The allocator's locks (a central list's, the page heap's) rank so
//! that nothing else may be held when one is taken (but a timer's send lock, the
//! lowest rank, under which anything may happen, as in Go): the runtime never allocates while
//! it holds one of its own locks, and the allocator holds one of its own at a time. Release
//! builds carry none of this: a lock is a futex word and the `m.locks` count.

/// A lock's rank. Lower ranks are taken first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[repr(u8)]
pub(crate) enum LockRank {
    /// A timer's send lock (time.rs): held across a timer channel's send, which
    /// may ready a goroutine, start an M and allocate; taken with nothing held, and
    /// anything may be taken under it (Go: NONE < timerSend).
    TimerSend = 1,
    /// sched.lock: idle Ps and Ms, the global run queue, stop-the-world.
    Sched,
    /// sched.gfree_lock: the global free G list (taken under sched.lock in procresize).
    Gfree,
    /// A P's timer heap (two at once only while moving a dead P's timers).
    Timers,
    /// One timer's state (time.rs), taken under its heap's lock or alone.
    Timer,
    /// A channel (several at once only in select, in address order).
    Hchan,
    /// A semaphore root (sema.rs).
    SemaRoot,
    /// A notifyList (sync.Cond).
    NotifyList,
    /// The shared pool of free goroutine stacks.
    StackPool,
    /// The chunk goroutine stacks are carved from.
    StackChunk,
    /// A size class's central list (mcentral.rs): nothing else may be held (no
    /// allocation under a runtime lock).
    MCentral,
    /// The page heap (mheap.rs): nothing else may be held; the central lists drop
    /// theirs before they take it.
    MHeap,
    /// A lock under which no other lock is taken (unit tests, small leaf locks).
    Leaf,
}

use LockRank::*;

/// For each rank, the ranks that may be the most recently acquired lock still held
/// when a lock of this rank is acquired (Go's lockPartialOrder).
const fn partial_order(r: LockRank) -> &'static [LockRank] {
    match r {
        TimerSend => &[],
        Sched => &[],
        Gfree => &[Sched],
        Timers => &[Sched, Timers],
        Timer => &[Timers],
        Hchan => &[Hchan],
        SemaRoot => &[],
        NotifyList => &[],
        StackPool => &[Sched],
        StackChunk => &[],
        MCentral => &[],
        MHeap => &[],
        Leaf => &[],
    }
}

impl LockRank {
    /// Whether the runtime may allocate while a lock of this rank is held (the
    /// malloc guard asks, see nheld_no_alloc): only under a timer's send lock,
    /// held across a send that may start an M.
    pub(crate) const fn allows_allocation(self) -> bool {
        matches!(self, TimerSend)
    }

    /// The rank's name, for the lock ordering report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TimerSend => "timerSend",
            Sched => "sched",
            Gfree => "gfree",
            Timers => "timers",
            Timer => "timer",
            Hchan => "hchan",
            SemaRoot => "semaRoot",
            NotifyList => "notifyList",
            StackPool => "stackpool",
            StackChunk => "stackchunk",
            MCentral => "mcentral",
            MHeap => "mheap",
            Leaf => "leaf",
        }
    }
}

/// Whether a lock of rank `rank` may be taken when `prev` is the most recently
/// acquired lock still held (Go's checkRanks).
pub(crate) fn rank_ok(prev: LockRank, rank: LockRank) -> bool {
    if prev == TimerSend && rank != TimerSend {
        // The lowest rank, held across a timer channel's send: anything after it.
        true
    } else if rank < prev {
        false
    } else if rank == Leaf {
        prev != Leaf
    } else {
        partial_order(rank).contains(&prev)
    }
}

/// Locks an M holds: `count` locks of one rank taken one after another, the first
/// at `addr` (0 once that one is released). A run of same-rank locks (a select holds
/// one lock per channel, up to 65,536) is one entry, so the table never overflows;
/// only the first of a run can be asserted held by address.
#[cfg(debug_assertions)]
#[derive(Clone, Copy)]
pub(crate) struct HeldLock {
    pub(crate) addr: usize,
    pub(crate) rank: LockRank,
    pub(crate) count: u32,
}

/// How many locks one M may hold at once in debug builds (Go: 10).
#[cfg(debug_assertions)]
pub(crate) const MAX_HELD: usize = 10;

#[cfg(debug_assertions)]
mod checks {
    use super::*;
    use crate::runtime::proc::getm;

    /// The current M's held-lock list and its length: references to those two
    /// owner-only fields alone (never to the whole M, whose atomics other threads
    /// read meanwhile).
    ///
    /// # Safety
    /// The goroutine cannot change M while the references live (m.locks > 0: a lock
    /// or acquirem counts in it), and no other reference to these fields is alive.
    #[allow(clippy::mut_from_ref)]
    unsafe fn held_list<'a>() -> (&'a mut [HeldLock; MAX_HELD], &'a mut usize) {
        let mp = getm();
        // SAFETY: mp is the M running us (never freed); the fields are its own and
        // the caller guarantees no other reference to them.
        unsafe { (&mut (*mp).locks_held, &mut (*mp).locks_held_len) }
    }

    /// Record that the current M takes the lock at addr with rank, checking the order
    /// against the lock taken last. m.locks must already count the lock (so the
    /// goroutine cannot move to another M here). Any g; no allocation.
    pub(crate) fn acquire(addr: usize, rank: LockRank) {
        // SAFETY: m.locks > 0, so this goroutine stays on this M, and locks_held is
        // touched only by its own M, here and in release, held and nheld.
        let (held, len) = unsafe { held_list() };
        let n = *len;
        if n > 0 && !rank_ok(held[n - 1].rank, rank) {
            report(&held[..n], rank);
            crate::runtime::runtime1::throw("lock ordering problem");
        }
        if n > 0 && held[n - 1].rank == rank {
            // Another lock of a rank that may be held with itself: extend the run.
            held[n - 1].count += 1;
            return;
        }
        if n >= MAX_HELD {
            crate::runtime::runtime1::throw("too many locks held concurrently for rank checking");
        }
        held[n] = HeldLock {
            addr,
            rank,
            count: 1,
        };
        *len = n + 1;
    }

    /// Forget the lock at addr, of rank (most recent first). It must be held. Any g.
    pub(crate) fn release(addr: usize, rank: LockRank) {
        // SAFETY: as acquire: the caller still counts the lock in m.locks.
        let (held, len) = unsafe { held_list() };
        let n = *len;
        // The entry whose first lock this is, else a run of its rank with unnamed
        // locks in it.
        let i = held[..n].iter().rposition(|h| h.addr == addr).or_else(|| {
            held[..n]
                .iter()
                .rposition(|h| h.rank == rank && h.count > (h.addr != 0) as u32)
        });
        let Some(i) = i else {
            crate::runtime::runtime1::throw("unlock without matching lock acquire")
        };
        let h = &mut held[i];
        if h.addr == addr {
            h.addr = 0;
        }
        h.count -= 1;
        if h.count == 0 {
            held.copy_within(i + 1..n, i);
            *len = n - 1;
        }
    }

    /// Whether the current M holds the lock at addr. Any g.
    pub(crate) fn held(addr: usize) -> bool {
        // Pinned for the read (a goroutine may be preempted at any point where it
        // holds no lock, and would then read an M that runs someone else).
        let _pin = super::super::proc::acquirem();
        // SAFETY: pinned (m.locks > 0): the current M's own list, no other reference.
        let (held, len) = unsafe { held_list() };
        held[..*len].iter().any(|h| h.addr == addr)
    }

    /// The number of entries (runs of same-rank locks) the current M holds: 0 iff it
    /// holds no runtime lock. Any g.
    pub(crate) fn nheld() -> usize {
        // Pinned for the read, as in held.
        let _pin = super::super::proc::acquirem();
        // SAFETY: pinned (m.locks > 0): the current M's own list, no other reference.
        let (_, len) = unsafe { held_list() };
        *len
    }

    /// The number of held entries under which the runtime must not allocate (see
    /// LockRank::allows_allocation). Any g.
    pub(crate) fn nheld_no_alloc() -> usize {
        // Pinned for the read, as in held.
        let _pin = super::super::proc::acquirem();
        // SAFETY: pinned (m.locks > 0): the current M's own list, no other reference.
        let (held, len) = unsafe { held_list() };
        held[..*len]
            .iter()
            .filter(|h| !h.rank.allows_allocation())
            .count()
    }

    /// Print the locks the current M holds (for a fatal error about them). Any g
    /// with m.locks > 0; no allocation.
    pub(crate) fn report_held() {
        // SAFETY: the caller is pinned (m.locks > 0): the current M's own list.
        let (held, len) = unsafe { held_list() };
        report(&held[..*len], LockRank::Leaf);
    }

    /// Print the locks the current M holds, for a lock ordering problem. Any g; no
    /// allocation, no lock.
    fn report(held: &[HeldLock], rank: LockRank) {
        // SAFETY: getm() is the M running us (never freed); id is immutable.
        let id = unsafe { (*getm()).id };
        crate::runtime::print::rt_eprintln!(
            "runtime: M{} acquiring a {} lock, holding:",
            id,
            rank.name()
        );
        for (i, h) in held.iter().enumerate() {
            crate::runtime::print::rt_eprintln!(
                "{i} : {} {:#x} (x{})",
                h.rank.name(),
                h.addr,
                h.count
            );
        }
    }
}

#[cfg(debug_assertions)]
pub(crate) use checks::{acquire, held, nheld, nheld_no_alloc, release, report_held};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_as_documented() {
        assert!(rank_ok(Sched, Gfree));
        assert!(!rank_ok(Gfree, Sched), "total order: lower ranks first");
        assert!(rank_ok(Hchan, Hchan), "select holds several channels");
        assert!(
            !rank_ok(SemaRoot, SemaRoot),
            "two sema roots at once is a bug"
        );
        assert!(!rank_ok(Sched, MCentral), "no allocation under sched.lock");
        assert!(!rank_ok(Sched, MHeap), "no allocation under sched.lock");
        assert!(
            !rank_ok(MCentral, MHeap),
            "a central list drops its lock before it takes the heap's"
        );
        assert!(rank_ok(Timers, Timers) && rank_ok(Sched, Timers));
        assert!(rank_ok(Sched, Leaf) && !rank_ok(Leaf, Leaf));
        assert!(rank_ok(Timers, Timer) && !rank_ok(Timer, Timers));
        assert!(rank_ok(TimerSend, Timer) && rank_ok(TimerSend, MCentral));
        assert!(!rank_ok(TimerSend, TimerSend) && !rank_ok(Timer, TimerSend));
    }

    /// A select's many channel locks are one run: any number fit, they are released
    /// in any order, and the first stays assertable.
    #[cfg(debug_assertions)]
    #[test]
    fn runs_of_same_rank_locks() {
        use crate::runtime::lock_futex::Mutex;
        extern crate std;
        let locks: std::vec::Vec<Mutex> = (0..100).map(|_| Mutex::new(Hchan)).collect();
        for l in &locks {
            l.lock();
        }
        assert_eq!(nheld(), 1, "one run");
        locks[0].assert_held();
        for l in locks.iter().rev().step_by(2) {
            l.unlock();
        }
        for l in locks.iter().step_by(2) {
            l.unlock();
        }
        assert_eq!(nheld(), 0);
    }
}
