//! Goroutine listings for fatal errors, after Go's traceback.go: the
//! `goroutine N [reason]:` headers Go prints under a fatal error, a deadlock report
//! or a panic. gort keeps no symbol tables, so a header has no frames under it.
//!
//! Everything here runs on a dying process, possibly with runtime locks held or the
//! heap exhausted: it never allocates and never takes a lock.

use core::fmt::Write;
use core::sync::atomic::Ordering::Relaxed;

use super::print::FdWriter;
use super::proc::allgs_in_creation_order;
use super::runtime2::{gstatus_name, WaitReason, G, GDEAD, GIDLE, GWAITING};

/// Write gp's header: `goroutine N [status or wait reason]:`.
///
/// # Safety
/// gp is a G from allgs (Gs are never freed).
pub(crate) unsafe fn goroutine_header(w: &mut FdWriter, gp: *mut G) {
    // SAFETY: Gs are never freed; the fields read are atomics. Relaxed: a dying
    // process's snapshot, only printed.
    let (st, reason, goid) = unsafe {
        (
            (*gp).atomicstatus.load(Relaxed),
            (*gp).waitreason(),
            (*gp).goid(),
        )
    };
    let what = if st == GWAITING && reason != WaitReason::Zero {
        reason.as_str()
    } else {
        gstatus_name(st)
    };
    let _ = writeln!(w, "\ngoroutine {goid} [{what}]:");
}

/// Print "fatal error: msg", then each goroutine that exists, oldest first, as Go's
/// traceback headers, and exit 2. Safe with locks held: no allocation, no locks.
pub(crate) fn fatal_with_goroutines(msg: &str) -> ! {
    let mut w = FdWriter::new(2);
    let _ = writeln!(w, "fatal error: {msg}");
    for gp in allgs_in_creation_order() {
        // SAFETY: Gs are never freed; only atomics are read. Relaxed: as above.
        let st = unsafe { (*gp).atomicstatus.load(Relaxed) };
        if st == GDEAD || st == GIDLE {
            continue;
        }
        // SAFETY: gp comes from allgs (goroutine_header's contract).
        unsafe { goroutine_header(&mut w, gp) };
    }
    w.flush();
    super::sys_linux::exit_group(2)
}
