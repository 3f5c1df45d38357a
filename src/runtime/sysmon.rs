//! sysmon, after Go's proc.go sysmon: a monitor thread that runs on an M of its own
//! without a P, so it never competes with goroutines for a P and keeps running when
//! every P is busy.
//!
//! Today it has one job, Go's `GODEBUG=schedtrace=N[,scheddetail=1]`: every N ms it
//! prints the scheduler trace. It starts only when that is asked for. It counts in
//! `sched.nmsys`, so checkdead does not take it for a running thread.

use core::sync::atomic::Ordering::Relaxed;

use super::debug::{schedtrace, SCHEDDETAIL, SCHEDTRACE};
use super::proc::{checkdead, newm, sched, sched_shared};

/// Start sysmon if GODEBUG asked for schedtrace. Runs in runtime main, on goroutine 1
/// (newm needs a P for the allocation of the M).
pub(crate) fn start_sysmon() {
    // Relaxed: set at boot, before any other thread exists (see debug.rs).
    if SCHEDTRACE.load(Relaxed) > 0 {
        newm(Some(sysmon), core::ptr::null_mut(), -1);
    }
}

/// The sysmon M's start function: runs on its g0, without a P, forever. It never
/// allocates (it has no P) and holds no lock while it sleeps.
fn sysmon() {
    let lock = sched_shared().lock;
    lock.lock();
    // SAFETY: sched.lock (held) protects nmsys, and checkdead needs it held.
    unsafe {
        (*sched()).nmsys += 1;
        checkdead();
    }
    lock.unlock();
    // Relaxed (both): set at boot, before any other thread exists.
    let period = SCHEDTRACE.load(Relaxed).max(1) as u64;
    loop {
        super::sys_linux::nanosleep(period * 1_000_000);
        schedtrace(SCHEDDETAIL.load(Relaxed) > 0);
    }
}
