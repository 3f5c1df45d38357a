//! Runtime introspection for users and tests: the boot state (`boot_info`) and Go's
//! scheduler trace (`schedtrace`, GODEBUG=schedtrace=N,scheddetail=1).

use core::fmt::Write;
use core::sync::atomic::{AtomicI32, AtomicI64, AtomicUsize, Ordering::Relaxed};

use crate::runtime::print::FdWriter;
use crate::runtime::proc::{self, getg, sched, sched_shared};
use crate::runtime::runtime2::*;

/// SP at `_start` and the value read back through FS by rt0_go's 0x123 check. Written
/// once by rt0_go (assembly, through `sym`), before any other code runs.
pub(crate) static ENTRY_SP: AtomicUsize = AtomicUsize::new(0);
pub(crate) static TLS_CHECK: AtomicUsize = AtomicUsize::new(0);

/// GODEBUG settings (parsedebugvars, at boot). schedtrace is in milliseconds.
/// Written during schedinit, before any other thread exists, so every access is
/// Relaxed (as for START_NANOS).
pub(crate) static SCHEDTRACE: AtomicI32 = AtomicI32::new(0);
pub(crate) static SCHEDDETAIL: AtomicI32 = AtomicI32::new(0);
/// nanotime at boot, for the SCHED line's "Nms" (Go: runtimeInitTime).
static START_NANOS: AtomicI64 = AtomicI64::new(0);

/// parsedebugvars: read GODEBUG (comma-separated name=value). Unknown names and
/// malformed values are ignored, as in Go. Runs during schedinit, on m0.
pub(crate) fn parsedebugvars() {
    // Relaxed (all three): see SCHEDTRACE.
    START_NANOS.store(crate::runtime::vdso_linux::nanotime(), Relaxed);
    if let Some(v) = crate::runtime::runtime1::getenv(b"GODEBUG") {
        for (key, val) in parse_godebug(v) {
            let Some(n) = crate::runtime::runtime1::atoi32(val) else {
                continue;
            };
            match key {
                b"schedtrace" => SCHEDTRACE.store(n, Relaxed),
                b"scheddetail" => SCHEDDETAIL.store(n, Relaxed),
                b"asyncpreemptoff" => {
                    crate::runtime::preempt::ASYNC_PREEMPT_OFF.store(n != 0, Relaxed)
                }
                _ => {}
            }
        }
    }
}

/// The name=value pairs of a GODEBUG string.
pub(crate) fn parse_godebug(v: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    v.split(|&c| c == b',').filter_map(|kv| {
        let i = kv.iter().position(|&c| c == b'=')?;
        Some((&kv[..i], &kv[i + 1..]))
    })
}

/// The id of the M (OS thread) running the calling goroutine.
pub fn m_id() -> i64 {
    let mp = proc::acquirem();
    // SAFETY: pinned to the M, which is never freed; id is immutable once set.
    unsafe { (*mp.m()).id }
}

/// The number of goroutines parked (waiting) right now.
pub fn num_waiting() -> usize {
    proc::allgs()
        // SAFETY: Gs are never freed; the status is atomic. Relaxed: a snapshot.
        .filter(|&gp| unsafe { (*gp).atomicstatus.load(Relaxed) } == GWAITING)
        .count()
}

/// How many times an M found work by stealing from another P.
pub fn steals() -> u64 {
    // Relaxed: a statistics counter.
    proc::STEALS.load(Relaxed)
}

/// Print Go's scheduler trace now: the SCHED line, and with detail a line for each
/// P, M and G. Safe to call from any goroutine or from sysmon. Takes sched.lock, so
/// the counts it protects are consistent; what other threads change without it
/// (queues, statuses, the M running a G) is read through atomics, a snapshot as in
/// Go. Must not be called with a runtime lock held.
#[cold]
#[inline(never)]
pub(crate) fn schedtrace(detail: bool) {
    let mut w = FdWriter::new(2);
    let now = crate::runtime::vdso_linux::nanotime();
    let ss = sched_shared();
    let s = sched();
    let m_id = |mp: *mut M| -> i64 {
        if mp.is_null() {
            -1
        } else {
            // SAFETY: Ms are never freed; id is immutable after mcommoninit.
            unsafe { (*mp).id }
        }
    };
    // Every atomic below is read Relaxed: a snapshot to print, as Go's; nothing is
    // read through the values.
    ss.lock.lock();
    // SAFETY: sched.lock (held) protects these fields.
    let (nmidle, nmidlelocked, stopwait) =
        unsafe { ((*s).nmidle, (*s).nmidlelocked, (*s).stopwait) };
    let _ = write!(
        w,
        "SCHED {}ms: gomaxprocs={} idleprocs={} threads={} spinningthreads={} idlethreads={} runqueue={}",
        (now - START_NANOS.load(Relaxed)) / 1_000_000,
        proc::gomaxprocs(),
        ss.npidle.load(Relaxed),
        ss.mnext.load(Relaxed),
        ss.nmspinning.load(Relaxed),
        nmidle,
        ss.runqsize.load(Relaxed)
    );
    if detail {
        let _ = writeln!(
            w,
            " gcwaiting={} nmidlelocked={} stopwait={} sysmonwait=0",
            ss.gcwaiting.load(Relaxed) as i32,
            nmidlelocked,
            stopwait
        );
    }
    let np = proc::allp_len();
    for i in 0..np {
        // SAFETY: Ps are never freed; only atomics are read.
        let pp = unsafe { &*proc::allp(i) };
        let q = pp.runq.len_hint();
        if detail {
            let _ = writeln!(
                w,
                "  P{}: status={} schedtick={} syscalltick=0 m={} runqsize={} gfreecnt={} timerslen={}",
                i,
                pp.status.load(Relaxed),
                pp.schedtick.load(Relaxed),
                m_id(pp.m()),
                q,
                pp.gfreecnt.load(Relaxed),
                pp.timers.len_hint()
            );
        } else {
            // Go's format: " [" first, then space-separated per-P queue lengths.
            let _ = write!(w, "{}{}", if i == 0 { " [" } else { " " }, q);
            if i == np - 1 {
                let _ = writeln!(w, "]");
            }
        }
    }
    if detail {
        for mp in proc::allm() {
            // SAFETY: Ms are never freed; id is immutable, the rest atomic.
            let (id, pp, cur, locks, spinning) = unsafe {
                (
                    (*mp).id,
                    (*mp).p(),
                    (*mp).curg(),
                    (*mp).locks.load(Relaxed),
                    (*mp).spinning.load(Relaxed),
                )
            };
            let pid = if pp.is_null() {
                -1
            } else {
                // SAFETY: Ps are never freed; id is immutable.
                unsafe { (*pp).id }
            };
            let goid = if cur.is_null() {
                -1
            } else {
                // SAFETY: Gs are never freed; goid is atomic.
                unsafe { (*cur).goid() as i64 }
            };
            let _ = writeln!(
                w,
                "  M{}: p={} curg={} mallocing=0 throwing=0 preemptoff= locks={} dying=0 spinning={} blocked={} lockedg=-1",
                id,
                pid,
                goid,
                locks,
                spinning,
                pp.is_null() && cur.is_null()
            );
        }
        for gp in proc::allgs_in_creation_order() {
            // SAFETY: Gs are never freed; atomicstatus is atomic.
            let st = unsafe { (*gp).atomicstatus.load(Relaxed) };
            if st == GDEAD {
                continue;
            }
            // SAFETY: as above; goid, waitreason and m are atomics.
            let (goid, reason, m) = unsafe { ((*gp).goid(), (*gp).waitreason(), (*gp).m()) };
            let _ = writeln!(
                w,
                "  G{}: status={}({}) m={} lockedm=-1",
                goid,
                st,
                if st == GWAITING { reason.as_str() } else { "" },
                m_id(m)
            );
        }
    }
    ss.lock.unlock();
    w.flush();
}

/// The state rt0_go, args, osinit and schedinit left behind, as seen from the calling
/// goroutine.
#[derive(Debug, Clone)]
pub struct BootInfo {
    /// argc as the kernel passed it.
    pub argc: usize,
    /// SP at `_start`.
    pub entry_sp: usize,
    /// g0's stack floor, carved from the OS stack.
    pub g0_stack_lo: usize,
    /// g0's stack top (rt0_go's aligned SP).
    pub g0_stack_hi: usize,
    /// g0's stackguard0.
    pub g0_stackguard0: usize,
    /// The FS base, read back with ARCH_GET_FS.
    pub fsbase: usize,
    /// The address of `m0.tls[1]`, where FS must point.
    pub m0_tls1: usize,
    /// What rt0_go read back after storing 0x123 through FS.
    pub tls_check: usize,
    /// m0's id.
    pub m0_id: i64,
    /// CPUs the runtime uses (affinity, cgroup quota).
    pub ncpu: usize,
    /// CPUs in the affinity mask.
    pub ncpu_affinity: usize,
    /// The page size from the auxiliary vector.
    pub physpagesize: usize,
    /// The thread limit.
    pub maxmcount: i32,
    /// GOMAXPROCS.
    pub gomaxprocs: usize,
    /// The number of Ps in allp.
    pub allp_len: usize,
    /// Ps on the idle list.
    pub idleprocs: i32,
    /// The status name of `allp[0]`.
    pub p0_status: &'static str,
    /// Id of the M holding `allp[0]`, or -1.
    pub p0_m: i64,
    /// Ids on the allm list, newest first; `allm_len` of them are filled.
    pub allm: [i64; 8],
    /// How many of `allm` are filled.
    pub allm_len: usize,
    /// The stealOrder count.
    pub steal_order_count: u32,
    /// The calling goroutine's id.
    pub cur_goid: u64,
    /// Id of the M running the calling goroutine.
    pub cur_m: i64,
}

/// Snapshot the boot state. Call from a goroutine, before starting others (later,
/// more Ms and idle Ps may exist).
pub fn boot_info() -> BootInfo {
    let g0 = proc::g0();
    let m0 = proc::m0();
    let ss = sched_shared();
    let p0: *mut P = proc::allp(0);
    let m_id = |mp: *mut M| {
        if mp.is_null() {
            -1
        } else {
            // SAFETY: Ms are never freed; id is immutable once the M is on allm.
            unsafe { (*mp).id }
        }
    };
    let mut allm = [0i64; 8];
    let mut allm_len = 0;
    for mp in proc::allm() {
        if allm_len < allm.len() {
            allm[allm_len] = m_id(mp);
            allm_len += 1;
        }
    }
    let gp = getg();
    ss.lock.lock();
    // SAFETY: sched.lock (held) protects maxmcount.
    let maxmcount = unsafe { (*sched()).maxmcount };
    ss.lock.unlock();
    // SAFETY: g0 and m0 are statics that rt0_go and schedinit set up before any
    // goroutine runs; g0's stack and m0's id are not written after boot.
    let (g0_stack, g0_stackguard0, m0_tls1, m0_id) = unsafe {
        (
            (*g0).stack,
            (*g0).stackguard0,
            &raw const (*m0).tls[1] as usize,
            (*m0).id,
        )
    };
    // SAFETY: allp[0] exists from schedinit on (Ps are never freed); status and m
    // are atomics. Relaxed: a snapshot.
    let (p0_status, p0_m) = unsafe { ((*p0).status.load(Relaxed), (*p0).m()) };
    // SAFETY: gp is the running goroutine; goid and m are atomics.
    let (cur_goid, cur_m) = unsafe { ((*gp).goid(), (*gp).m()) };
    BootInfo {
        argc: crate::runtime::runtime1::argc(),
        // Relaxed (ENTRY_SP, TLS_CHECK, NCPU_AFFINITY): written once at boot,
        // before any goroutine runs.
        entry_sp: ENTRY_SP.load(Relaxed),
        g0_stack_lo: g0_stack.lo,
        g0_stack_hi: g0_stack.hi,
        g0_stackguard0,
        fsbase: crate::runtime::sys_linux::get_fs(),
        m0_tls1,
        tls_check: TLS_CHECK.load(Relaxed),
        m0_id,
        ncpu: crate::runtime::os_linux::ncpu(),
        ncpu_affinity: crate::runtime::os_linux::NCPU_AFFINITY.load(Relaxed),
        physpagesize: crate::runtime::os_linux::physpagesize(),
        maxmcount,
        gomaxprocs: proc::gomaxprocs(),
        allp_len: proc::allp_len(),
        // Relaxed: a snapshot.
        idleprocs: ss.npidle.load(Relaxed),
        p0_status: pstatus_name(p0_status),
        p0_m: m_id(p0_m),
        allm,
        allm_len,
        steal_order_count: proc::steal_order_count(),
        cur_goid,
        cur_m: m_id(cur_m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    #[test]
    fn godebug_pairs() {
        let v: Vec<_> = parse_godebug(b"schedtrace=100,scheddetail=1,junk,x=").collect();
        assert_eq!(
            v,
            [
                (&b"schedtrace"[..], &b"100"[..]),
                (b"scheddetail", b"1"),
                (b"x", b"")
            ]
        );
    }
}
