//! The Rust side of the assembly in rt0/ (Go's stubs.go and the glue around its
//! asm_amd64.s): the one place that includes the assembly, the structure offsets it
//! uses (from `offset_of!`, never literals), the declarations of its entry points,
//! and `getg`.
//!
//! The assembly files:
//! - rt0/rt0_linux_amd64.s: `_start` and `rt0_go`, the boot path (freestanding
//!   programs only: a host test binary has its own `_start`);
//! - rt0/asm_amd64.s: the goroutine switch (`mcall`, `gogo`, `gosave`,
//!   `systemstack`, `mstart`, `goexit`);
//! - rt0/sys_linux_amd64.s: `settls`, the `clone` child path, the signal trampoline
//!   and `sigreturn`;
//! - rt0/preempt_amd64.s: `gort_async_preempt`, where asynchronous preemption
//!   (preempt.rs) makes a goroutine yield.
//!
//! All of it is linked in `.text.gort_asm` (and `.text._start`), between the
//! symbols `__gort_asm_start` and `__gort_asm_end` of linker.ld: a goroutine is
//! never preempted by signal there.
//!
//! The assembly reaches G, M and Gobuf only through the offsets below, so their
//! Rust-only fields (closures, `&str`) do not matter to it.

use core::mem::offset_of;

use super::runtime2::{Gobuf, Stack, G, M};
use super::{debug, os_linux, preempt, proc, runtime1, signal_linux, sys_linux};

pub(crate) const OFF_G_STACK_LO: usize = offset_of!(G, stack) + offset_of!(Stack, lo);
pub(crate) const OFF_G_STACK_HI: usize = offset_of!(G, stack) + offset_of!(Stack, hi);
pub(crate) const OFF_G_STACKGUARD0: usize = offset_of!(G, stackguard0);
pub(crate) const OFF_G_STACKGUARD1: usize = offset_of!(G, stackguard1);
pub(crate) const OFF_G_M: usize = offset_of!(G, m);
pub(crate) const OFF_G_SCHED: usize = offset_of!(G, sched);
pub(crate) const OFF_GOBUF_SP: usize = offset_of!(Gobuf, sp);
pub(crate) const OFF_GOBUF_PC: usize = offset_of!(Gobuf, pc);
pub(crate) const OFF_GOBUF_G: usize = offset_of!(Gobuf, g);
pub(crate) const OFF_GOBUF_CTXT: usize = offset_of!(Gobuf, ctxt);
pub(crate) const OFF_GOBUF_BP: usize = offset_of!(Gobuf, bp);
pub(crate) const OFF_GOBUF_RBX: usize = offset_of!(Gobuf, rbx);
pub(crate) const OFF_GOBUF_R12: usize = offset_of!(Gobuf, r12);
pub(crate) const OFF_GOBUF_R13: usize = offset_of!(Gobuf, r13);
pub(crate) const OFF_GOBUF_R14: usize = offset_of!(Gobuf, r14);
pub(crate) const OFF_GOBUF_R15: usize = offset_of!(Gobuf, r15);
pub(crate) const OFF_GOBUF_FPCSR: usize = offset_of!(Gobuf, fpcsr);
pub(crate) const OFF_M_TLS: usize = offset_of!(M, tls);
pub(crate) const OFF_M_G0: usize = offset_of!(M, g0);
pub(crate) const OFF_M_LOCKS: usize = offset_of!(M, locks);
/// M.p, read FS-relative by the allocator's fast path (malloc.rs current_p).
pub(crate) const OFF_M_P: usize = offset_of!(M, p);

#[cfg(not(test))]
core::arch::global_asm!(
    include_str!("../../rt0/rt0_linux_amd64.s"),
    entry_sp = sym debug::ENTRY_SP,
    tls_check = sym debug::TLS_CHECK,
    g0 = sym proc::G0,
    m0 = sym proc::M0,
    g_stackguard0 = const OFF_G_STACKGUARD0,
    g_stackguard1 = const OFF_G_STACKGUARD1,
    g_stack_lo = const OFF_G_STACK_LO,
    g_stack_hi = const OFF_G_STACK_HI,
    g_m = const OFF_G_M,
    m_tls = const OFF_M_TLS,
    m_g0 = const OFF_M_G0,
    tls_verify = sym runtime1::tls_verify,
    tls_check_failed = sym runtime1::tls_check_failed,
    args = sym runtime1::args,
    osinit = sym os_linux::osinit,
    schedinit = sym proc::schedinit,
    newproc_main = sym proc::newproc_main,
    check_os_stack = sym super::stack::check_os_stack,
    boot_stack = sym super::stack::BOOT_STACK,
    boot_stack_size = const super::stack::BOOT_STACK_SIZE,
    options(att_syntax)
);

core::arch::global_asm!(
    include_str!("../../rt0/asm_amd64.s"),
    include_str!("../../rt0/sys_linux_amd64.s"),
    include_str!("../../rt0/preempt_amd64.s"),
    g_sched = const OFF_G_SCHED,
    g_m = const OFF_G_M,
    m_g0 = const OFF_M_G0,
    m_tls = const OFF_M_TLS,
    gobuf_sp = const OFF_GOBUF_SP,
    gobuf_pc = const OFF_GOBUF_PC,
    gobuf_g = const OFF_GOBUF_G,
    gobuf_ctxt = const OFF_GOBUF_CTXT,
    gobuf_bp = const OFF_GOBUF_BP,
    gobuf_rbx = const OFF_GOBUF_RBX,
    gobuf_r12 = const OFF_GOBUF_R12,
    gobuf_r13 = const OFF_GOBUF_R13,
    gobuf_r14 = const OFF_GOBUF_R14,
    gobuf_r15 = const OFF_GOBUF_R15,
    gobuf_fpcsr = const OFF_GOBUF_FPCSR,
    badmcall = sym proc::badmcall,
    mstart0 = sym proc::mstart0,
    goexit1 = sym proc::goexit1,
    arch_set_fs = const sys_linux::ARCH_SET_FS,
    sys_arch_prctl = const syscalls::Sysno::arch_prctl as usize,
    settls_failed = sym runtime1::settls_failed,
    sys_clone = const syscalls::Sysno::clone as usize,
    sys_exit = const syscalls::Sysno::exit as usize,
    sys_rt_sigreturn = const syscalls::Sysno::rt_sigreturn as usize,
    sighandler = sym signal_linux::sighandler,
    xsave_size = sym preempt::XSAVE_SIZE,
    use_xsave = sym preempt::USE_XSAVE,
    xsave_mask_lo = sym preempt::XSAVE_MASK_LO,
    xsave_mask_hi = sym preempt::XSAVE_MASK_HI,
    gopreempt_m = sym proc::gopreempt_m,
    options(att_syntax)
);

// The entry points of the assembly. Their contracts are in the .s files.
#[allow(improper_ctypes)]
extern "C" {
    /// Restore the context in buf and jump to its PC; never returns.
    pub(crate) fn gort_gogo(buf: *const Gobuf) -> !;
    /// Save the caller's context in g.sched and call f(g) on g0.
    pub(crate) fn gort_mcall(f: extern "C" fn(*mut G) -> !);
    /// Run f(arg) on g0's stack and come back.
    pub(crate) fn gort_systemstack(f: unsafe extern "C" fn(*mut u8), arg: *mut u8);
    /// The return address of every goroutine's entry function (its address + 1).
    pub(crate) fn gort_goexit();
    /// The start of every M's g0.
    pub(crate) fn gort_mstart();
    /// Start an OS thread on stk with FS = &mp.tls[1] and g = gp, running f.
    pub(crate) fn gort_clone(
        flags: usize,
        stk: usize,
        mp: *mut M,
        gp: *mut G,
        f: unsafe extern "C" fn(),
    ) -> isize;
    /// The entry of every signal handler (realigns SP, calls sighandler).
    pub(crate) fn gort_sigtramp();
    /// sa_restorer: rt_sigreturn.
    pub(crate) fn gort_sigreturn();
    /// Where the SIGURG handler makes a goroutine "call" at a safe point: saves all
    /// state, yields (mcall gopreempt_m), restores, returns past the red zone.
    pub(crate) fn gort_async_preempt();
}

/// getg: the current goroutine, read from -8(FS) afresh on every call (the asm is not
/// `pure`, so the compiler cannot reuse an earlier read across a switch of Ms).
#[cfg(not(test))]
#[inline(always)]
pub(crate) fn getg() -> *mut G {
    let g: *mut G;
    // SAFETY: after rt0_go's settls, FS points at the current M's tls[1] on every
    // thread the runtime runs, so -8(FS) is tls[0], the current g.
    unsafe {
        core::arch::asm!("mov {}, qword ptr fs:[-8]", out(reg) g, options(nostack, preserves_flags, readonly));
    }
    g
}

/// m.locks += 1 for the M running this thread, in one instruction: `inc` through
/// FS, which points into the current M (M starts with tls, FS = &m.tls[1]). One
/// instruction cannot be split by a preemption, so the count always lands on the M
/// the goroutine is running on, which a `getm().locks += 1` (load g, load m,
/// increment) could not promise. The asm also orders memory accesses around it for
/// the compiler (no `nomem`), so the count is raised before what it protects.
#[cfg(not(test))]
#[inline(always)]
pub(crate) fn mlocks_inc() {
    // SAFETY: FS = &m.tls[1] on every runtime thread, so FS + OFF_M_LOCKS - 8 is
    // m.locks of the current M; only this thread writes it (an AtomicI32 that other
    // threads only load).
    unsafe {
        core::arch::asm!("inc dword ptr fs:[{off}]", off = const OFF_M_LOCKS - 8, options(nostack));
    }
}

/// m.locks -= 1 for the M running this thread (see mlocks_inc).
#[cfg(not(test))]
#[inline(always)]
pub(crate) fn mlocks_dec() {
    // SAFETY: as mlocks_inc.
    unsafe {
        core::arch::asm!("dec dword ptr fs:[{off}]", off = const OFF_M_LOCKS - 8, options(nostack));
    }
}

/// Hint the CPU to bring the line at addr into every cache level (prefetcht0). A
/// prefetch never faults, whatever the address: a wrong one only wastes a fetch.
#[inline(always)]
pub(crate) fn prefetch(addr: usize) {
    // SAFETY: prefetcht0 reads nothing architecturally and cannot fault.
    unsafe {
        core::arch::asm!("prefetcht0 [{}]", in(reg) addr, options(nostack, preserves_flags, readonly))
    };
}

/// A full memory barrier (StoreLoad included), as Linux's smp_mb on x86-64: a locked
/// read-modify-write of the word at the stack top, which leaves it unchanged. Locked
/// instructions order every earlier load and store before every later one, and cost
/// a fraction of `mfence` (fence(SeqCst)), which measured here made each `go`
/// statement's wakep several times slower. The asm is also a compiler barrier (no
/// `nomem`).
#[cfg(not(all(test, loom)))]
#[inline(always)]
pub(crate) fn storeload_fence() {
    // SAFETY: [rsp] is this thread's stack top, always mapped; `or 0` writes back the
    // value it read, atomically (lock), so nothing the compiler keeps there changes.
    unsafe { core::arch::asm!("lock or dword ptr [rsp], 0", options(nostack)) };
}

/// The loom models' StoreLoad barrier: a SeqCst fence, which loom understands.
#[cfg(all(test, loom))]
pub(crate) fn storeload_fence() {
    loom::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
}

// Host unit tests: FS belongs to the host's libc, so each test thread gets a G and
// an M of its own (the G is the M's g0), and getg/m.locks use them.
#[cfg(test)]
std::thread_local! {
    static TEST_GM: (*mut G, *mut M) = {
        let g = std::boxed::Box::into_raw(std::boxed::Box::new(G::new()));
        let m = std::boxed::Box::into_raw(std::boxed::Box::new(M::new()));
        // SAFETY: both are fresh and leaked: they live as long as the test process.
        unsafe {
            (*g).m.store(m, core::sync::atomic::Ordering::Relaxed);
            (*m).g0 = g;
        }
        (g, m)
    };
}

/// getg for host unit tests: this thread's own G.
#[cfg(test)]
pub(crate) fn getg() -> *mut G {
    TEST_GM.with(|gm| gm.0)
}

/// m.locks += 1 for host unit tests.
#[cfg(test)]
pub(crate) fn mlocks_inc() {
    // SAFETY: the thread's own M, leaked above.
    TEST_GM.with(|gm| unsafe {
        (*gm.1)
            .locks
            .fetch_add(1, core::sync::atomic::Ordering::Relaxed)
    });
}

/// m.locks -= 1 for host unit tests.
#[cfg(test)]
pub(crate) fn mlocks_dec() {
    // SAFETY: the thread's own M, leaked above.
    TEST_GM.with(|gm| unsafe {
        (*gm.1)
            .locks
            .fetch_sub(1, core::sync::atomic::Ordering::Relaxed)
    });
}

// m.locks is addressed as FS + OFF_M_LOCKS - 8: tls must be first and locks past it.
const _: () = assert!(OFF_M_TLS == 0 && OFF_M_LOCKS >= 8);
