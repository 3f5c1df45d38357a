//! The scavenger, after Go's mgcscavenge.go: memory the program no longer uses goes
//! back to the OS, in the background and, on request, at once.
//!
//! # What is returned
//!
//! - Free page runs of the heap (mheap.rs): MADV_DONTNEED on the run, which the
//!   kernel frees at once (MADV_FREE would leave them counted as resident until
//!   memory is short, so a program and its operator could not see the effect; the
//!   pages are re-faulted as zero pages either way). The run stays in the heap,
//!   marked released, and is handed out after resident runs of the same fit.
//! - Batches idle in the central transfer caches (mcentral.rs): their objects go
//!   back to their spans, and spans that become empty to the heap.
//! - Goroutine stacks idle in the shared stack pool (stack.rs): all but the top page
//!   of each, which stays mapped and guarded.
//!
//! Under qemu-user madvise is a no-op that returns 0: everything above is done and
//! counted, but the memory stays resident.
//!
//! # The background scavenger
//!
//! A thread of its own (an M without a P, like sysmon: it never competes with
//! goroutines for a P, and counts in `sched.nmsys` so checkdead ignores it). It is
//! started lazily, the first time the heap holds `START_BYTES` of free resident
//! pages, from the end of an allocator slow path where no runtime lock is held (a
//! program that never frees much never pays for the thread). Every `PERIOD_NS` it
//! advances the scavenger generation (`SCAV_GEN`) and returns what has been unused
//! for `AGE` generations: free runs freed, transfer-cache batches last used, pooled
//! stacks pooled, at or before generation `gen - AGE` (one to two seconds ago). So
//! memory freed and soon reused is never released, and memory that stays free is
//! within two seconds. After `IDLE_PASSES` passes with nothing to do it sleeps until
//! the heap again holds START_BYTES of free resident pages (`poke` wakes it).
//!
//! # free_os_memory
//!
//! Go's debug.FreeOSMemory: stop the world, empty every P's object cache and stack
//! cache into the central lists and the stack pool, restart the world, then return
//! everything free now, whatever its age. Runs on the calling goroutine.

use core::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use core::sync::atomic::{AtomicBool, AtomicU32};

use super::mcentral::drain_centrals;
use super::mheap::{release_pages, MSpan, MHEAP};
use super::sizeclasses::PAGE_SIZE;

/// The scavenger generation: advanced once per background pass (and by
/// free_os_memory). Freed spans, transfer-cache uses and pooled stacks are stamped
/// with it. Relaxed: an age is a heuristic, and what it stamps is protected by the
/// stamping structure's own lock.
pub(crate) static SCAV_GEN: AtomicU32 = AtomicU32::new(1);

/// Set by the heap (under its lock) when its free resident pages reach START_BYTES:
/// the scavenger should run. Cleared by the scavenger once it has started or woken.
pub(crate) static WANTED: AtomicBool = AtomicBool::new(false);

/// Free resident bytes in the heap that call for the scavenger.
pub(crate) const START_BYTES: usize = 8 << 20;
/// The background pass period.
const PERIOD_NS: i64 = 1_000_000_000;
/// Generations a thing must be unused before it is released.
const AGE: u32 = 2;
/// Empty passes before the scavenger sleeps until poked.
const IDLE_PASSES: u32 = 3;

const NOT_STARTED: u32 = 0;
const STARTING: u32 = 1;
const RUNNING: u32 = 2;
/// NOT_STARTED, STARTING (a thread is being made) or RUNNING.
static STATE: AtomicU32 = AtomicU32::new(NOT_STARTED);
/// The futex the scavenger sleeps on: bumped by poke (and the value waited on).
static WAKE: AtomicU32 = AtomicU32::new(0);
/// Set while the scavenger sleeps without a timeout.
static PARKED: AtomicBool = AtomicBool::new(false);

/// Called at the end of allocator slow paths (a batch or a page run went back),
/// with no runtime lock held: start or wake the scavenger if the heap asked for it.
#[inline]
pub(crate) fn poke() {
    if WANTED.load(Relaxed) {
        poke_slow();
    }
}

#[cold]
#[inline(never)]
fn poke_slow() {
    match STATE.load(Acquire) {
        NOT_STARTED => {
            // Only where making a thread is safe: no runtime lock held by this M and
            // no pin (newm allocates and takes sched.lock).
            // SAFETY: the current M's own count.
            if unsafe { (*super::proc::getm()).locks.load(Relaxed) } != 0 {
                return;
            }
            #[cfg(debug_assertions)]
            if super::lockrank::nheld() != 0 {
                return;
            }
            if STATE
                .compare_exchange(NOT_STARTED, STARTING, Acquire, Relaxed)
                .is_ok()
            {
                WANTED.store(false, Relaxed);
                super::proc::newm(Some(bgscavenge), core::ptr::null_mut(), -1);
            }
        }
        // SeqCst, with the heap's store of WANTED and the sleeper's store of PARKED
        // and load of WANTED: a store followed by a load on each side, so either we
        // see PARKED and wake it, or it sees WANTED and does not sleep (with weaker
        // orderings both loads could miss, and the scavenger would sleep until the
        // next poke).
        RUNNING if PARKED.load(SeqCst) => {
            WANTED.store(false, Relaxed);
            // Release: pairs with the sleeper's Acquire load of WAKE before it waits
            // (the futex compares the value anyway).
            WAKE.fetch_add(1, Release);
            super::sys_linux::futex_wake(&WAKE, 1);
        }
        _ => {}
    }
}

/// The scavenger M's start function: runs on its g0, without a P, forever.
fn bgscavenge() {
    let s = super::proc::sched();
    // SAFETY: nmsys and checkdead's counts are under sched.lock, which we hold.
    unsafe {
        (*s).lock.lock();
        (*s).nmsys += 1;
        super::proc::checkdead();
        (*s).lock.unlock();
    }
    STATE.store(RUNNING, Release);
    let mut idle = 0;
    loop {
        let w = WAKE.load(Acquire);
        if idle >= IDLE_PASSES {
            // Announce, then re-check (SeqCst: see poke_slow): a poke from now on
            // bumps WAKE, so the wait returns at once.
            PARKED.store(true, SeqCst);
            if !WANTED.load(SeqCst) {
                super::sys_linux::futex_wait(&WAKE, w);
            }
            PARKED.store(false, Relaxed);
            WANTED.store(false, Relaxed);
            idle = 0;
        } else {
            super::sys_linux::futex_wait_timeout(&WAKE, w, PERIOD_NS);
        }
        let g = SCAV_GEN.fetch_add(1, Relaxed) + 1;
        let upto = g.saturating_sub(AGE);
        let pages = scavenge(upto);
        drain_centrals(upto, false);
        let stacks = super::stack::release_pool_stacks(upto);
        if pages == 0 && stacks == 0 {
            idle += 1;
        } else {
            idle = 0;
        }
    }
}

/// Return to the OS every free resident run of the heap freed at or before
/// generation `upto`; returns the pages released. The heap lock is dropped around
/// the madvise calls. Any M, no runtime lock held.
#[inline(never)]
pub(crate) fn scavenge(upto: u32) -> usize {
    let mut total = 0;
    loop {
        let mut spans: [*mut MSpan; 64] = [core::ptr::null_mut(); 64];
        let n = MHEAP.lock().take_for_scavenge(upto, &mut spans);
        if n == 0 {
            return total;
        }
        for &s in &spans[..n] {
            // SAFETY: s was taken off the free lists for us (SPAN_SCAVENGING).
            unsafe {
                release_pages((*s).start, (*s).npages * PAGE_SIZE);
                total += (*s).npages;
            }
        }
        // SAFETY: the spans came from take_for_scavenge and were released.
        unsafe { MHEAP.lock().scavenged_back(&spans[..n]) };
    }
}

/// Stop the world and empty every P's object cache into the central lists (and,
/// with `stacks`, its stack cache into the pool), then restart the world. Runs on a
/// goroutine (inside `gort::blocking` it leaves the system call for this).
pub(crate) fn flush_caches(stacks: bool) {
    super::proc::with_p(|| {
        super::proc::stop_the_world();
        flush_stopped(stacks);
        super::proc::start_the_world(0);
    });
}

/// flush_caches' work, with the world already stopped by the caller: every P's
/// caches emptied, then every transfer cache drained.
pub(crate) fn flush_stopped(stacks: bool) {
    for i in 0..super::proc::allp_len() {
        let pp = super::proc::allp(i);
        // SAFETY: the world is stopped: no other M uses any P's caches, and ours is
        // not in use while we run this loop.
        unsafe {
            (*pp).mcache.flush_all();
            if stacks {
                super::stack::stackcache_release(pp);
            }
        }
    }
    drain_centrals(u32::MAX, false);
}

/// Go's debug.FreeOSMemory: return to the OS, now, all memory the heap and the stack
/// pool hold free (see the file head). Runs on a goroutine.
pub(crate) fn free_os_memory() {
    flush_caches(true);
    drain_centrals(u32::MAX, true);
    SCAV_GEN.fetch_add(1, Relaxed);
    scavenge(u32::MAX);
    super::stack::release_pool_stacks(u32::MAX);
}
