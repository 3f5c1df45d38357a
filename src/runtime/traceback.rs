//! Goroutine listings for fatal errors, after Go's traceback.go: the
//! `goroutine N [reason, N minutes]:` headers Go prints under a fatal error, a
//! deadlock report or a panic. gort keeps no symbol tables, so a header has no
//! frames under it: instead `created by goroutine P` and the `go` call's location.
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
    // SAFETY: as above; waitsince is atomic, parentgoid and createdat are written
    // before the G is published and not after.
    let (since, parent, at) = unsafe {
        (
            (*gp).waitsince.load(Relaxed),
            (*gp).parentgoid,
            (*gp).createdat,
        )
    };
    // Go prints how long a goroutine has waited once it is a minute or more.
    let mins = if st == GWAITING && since != 0 {
        (super::vdso_linux::nanotime() - since) / 60_000_000_000
    } else {
        0
    };
    match mins {
        0 => {
            let _ = writeln!(w, "\ngoroutine {goid} [{what}]:");
        }
        1 => {
            let _ = writeln!(w, "\ngoroutine {goid} [{what}, 1 minute]:");
        }
        m => {
            let _ = writeln!(w, "\ngoroutine {goid} [{what}, {m} minutes]:");
        }
    }
    // No symbol tables, so no frames: where the goroutine was started instead.
    if let Some(at) = at {
        if goid != 1 {
            let _ = writeln!(
                w,
                "created by goroutine {parent}\n\t{}:{}:{}",
                at.file(),
                at.line(),
                at.column()
            );
        }
    }
}

/// Print every goroutine that exists, oldest first, as goroutine_header does, to w.
/// Never allocates or locks.
pub(crate) fn print_all(w: &mut FdWriter) {
    for gp in allgs_in_creation_order() {
        // SAFETY: Gs are never freed; only atomics are read. Relaxed: a snapshot.
        let st = unsafe { (*gp).atomicstatus.load(Relaxed) };
        if st == GDEAD || st == GIDLE {
            continue;
        }
        // SAFETY: gp comes from allgs (goroutine_header's contract).
        unsafe { goroutine_header(w, gp) };
    }
}

/// Stamp waitsince on goroutines sysmon finds waiting without one (Go stamps it
/// lazily in its GC). Runs on sysmon's g0; no lock, no allocation.
pub(crate) fn stamp_waiting(now: i64) {
    for gp in allgs_in_creation_order() {
        // SAFETY: Gs are never freed; only atomics are touched. Relaxed: an
        // approximate age (a G that resumed meanwhile gets 0 again in execute, or
        // keeps a stale stamp until it parks and runs again: only printed).
        unsafe {
            if (*gp).atomicstatus.load(Relaxed) == GWAITING && (*gp).waitsince.load(Relaxed) == 0 {
                let _ = (*gp).waitsince.compare_exchange(0, now, Relaxed, Relaxed);
            }
        }
    }
}

/// Print "fatal error: msg", then each goroutine that exists, oldest first, as Go's
/// traceback headers, and exit 2. Safe with locks held: no allocation, no locks.
pub(crate) fn fatal_with_goroutines(msg: &str) -> ! {
    let mut w = FdWriter::new(2);
    let _ = writeln!(w, "fatal error: {msg}");
    print_all(&mut w);
    w.flush();
    super::sys_linux::exit_group(2)
}
