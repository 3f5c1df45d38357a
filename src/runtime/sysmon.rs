//! sysmon, after Go's proc.go sysmon: a monitor thread that runs on an M of its own
//! without a P, so it never competes with goroutines for a P and keeps running when
//! every P is busy.
//!
//! Today it has one job, Go's `GODEBUG=schedtrace=N[,scheddetail=1]`: every N ms it
//! prints the scheduler trace. It starts only when that is asked for. It counts in
//! `sched.nmsys`, so checkdead does not take it for a running thread.

use core::sync::atomic::Ordering::Relaxed;

use super::debug::{schedtrace, SCHEDDETAIL, SCHEDTRACE};
use super::proc::{checkdead, newm, sched};

/// Start sysmon if GODEBUG asked for schedtrace. Runs in runtime main, on goroutine 1
/// (newm needs a P for the allocation of the M).
pub(crate) fn start_sysmon() {
    if SCHEDTRACE.load(Relaxed) > 0 {
        newm(Some(sysmon), core::ptr::null_mut(), -1);
    }
}

/// The sysmon M's start function: runs on its g0, without a P, forever.
fn sysmon() {
    let s = sched();
    // SAFETY: nmsys and checkdead's counts are under sched.lock, which we hold.
    unsafe {
        (*s).lock.lock();
        (*s).nmsys += 1;
        checkdead();
        (*s).lock.unlock();
    }
    let period = SCHEDTRACE.load(Relaxed).max(1) as u64;
    loop {
        super::sys_linux::nanosleep(period * 1_000_000);
        schedtrace(SCHEDDETAIL.load(Relaxed) > 0);
    }
}
