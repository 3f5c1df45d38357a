//! Runtime introspection for users and tests: the boot state (`boot_info`).

use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use crate::proc::{self, getg};
use crate::runtime2::{M, P};

/// SP at `_start` and the value read back through FS by rt0_go's 0x123 check. Written
/// once by rt0_go (assembly, through `sym`), before any other code runs.
pub static ENTRY_SP: AtomicUsize = AtomicUsize::new(0);
pub static TLS_CHECK: AtomicUsize = AtomicUsize::new(0);

/// The state rt0_go, args, osinit and schedinit left behind, as seen from the calling
/// goroutine.
#[derive(Debug, Clone)]
pub struct BootInfo {
    pub argc: usize,
    pub entry_sp: usize,
    pub g0_stack_lo: usize,
    pub g0_stack_hi: usize,
    pub g0_stackguard0: usize,
    pub fsbase: usize,
    pub m0_tls1: usize,
    pub tls_check: usize,
    pub m0_id: i64,
    pub ncpu: usize,
    pub ncpu_affinity: usize,
    pub physpagesize: usize,
    pub maxmcount: i32,
    pub gomaxprocs: usize,
    pub allp_len: usize,
    pub idleprocs: i32,
    pub p0_status: u32,
    /// Id of the M holding allp[0], or -1.
    pub p0_m: i64,
    /// Ids on the allm list, newest first; `allm_len` of them are filled.
    pub allm: [i64; 8],
    pub allm_len: usize,
    pub steal_order_count: u32,
    pub cur_goid: u64,
    /// Id of the M running the calling goroutine.
    pub cur_m: i64,
}

/// Snapshot the boot state. Call from a goroutine.
pub fn boot_info() -> BootInfo {
    // SAFETY: G0, M0, SCHED and allp are initialised by boot before any goroutine
    // runs; we only read them, and the fields read are stable after boot.
    unsafe {
        let g0 = proc::g0();
        let m0 = proc::m0();
        let s = proc::sched();
        let p0: *mut P = proc::allp(0);
        let mut allm = [0i64; 8];
        let mut allm_len = 0;
        for mp in proc::allm() {
            if allm_len < allm.len() {
                allm[allm_len] = (*mp).id;
                allm_len += 1;
            }
        }
        let gp = getg();
        let m_id = |mp: *mut M| if mp.is_null() { -1 } else { (*mp).id };
        BootInfo {
            argc: crate::runtime1::argc(),
            entry_sp: ENTRY_SP.load(Relaxed),
            g0_stack_lo: (*g0).stack.lo,
            g0_stack_hi: (*g0).stack.hi,
            g0_stackguard0: (*g0).stackguard0,
            fsbase: crate::sys_linux::get_fs(),
            m0_tls1: &raw const (*m0).tls[1] as usize,
            tls_check: TLS_CHECK.load(Relaxed),
            m0_id: (*m0).id,
            ncpu: crate::os_linux::ncpu(),
            ncpu_affinity: crate::os_linux::NCPU_AFFINITY.load(Relaxed),
            physpagesize: crate::os_linux::physpagesize(),
            maxmcount: (*s).maxmcount,
            gomaxprocs: proc::gomaxprocs(),
            allp_len: proc::allp_len(),
            idleprocs: (*s).npidle.load(Relaxed),
            p0_status: (*p0).status.load(Relaxed),
            p0_m: m_id((*p0).m),
            allm,
            allm_len,
            steal_order_count: proc::steal_order_count(),
            cur_goid: (*gp).goid,
            cur_m: m_id((*gp).m),
        }
    }
}
