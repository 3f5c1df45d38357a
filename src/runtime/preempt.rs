//! Asynchronous preemption by signal, after Go's preempt.go, signal_unix.go
//! (doSigPreempt, wantAsyncPreempt, isAsyncSafePoint) and preempt_amd64.s.
//!
//! # The protocol
//!
//! A goroutine that computes without blocking would keep its P for ever. sysmon
//! (sysmon.rs) notices a P whose schedtick has not moved for 10 ms and calls
//! `preemptone`: it sets `g.preempt` on the P's current goroutine and `p.preempt` on
//! the P, then `preempt_m` sends SIGURG to the M with tgkill. `m.signal_pending`
//! (CAS 0 -> 1 by the sender, cleared by the handler) keeps at most one signal in
//! flight per M, so a storm of requests cannot live-lock the thread (golang/go#37741).
//!
//! The handler (`sigpreempt`, on the M's signal stack, all signals blocked) looks at
//! what it interrupted and injects a call only at an *async safe point*:
//!
//! - the thread runs its M's current goroutine (not g0, not the handler itself), in
//!   status Grunning, with a preemption requested;
//! - the M holds a P that is running, and `m.locks == 0`: no runtime lock is held and
//!   no runtime code keeps the M or P in a local (proc.rs "Pinning"), the allocator
//!   included;
//! - the PC is in the program's own text and not in the runtime's assembly (rt0/ is
//!   linked between `__gort_asm_start` and `__gort_asm_end`): the goroutine switch,
//!   clone, the signal trampoline and `gort_async_preempt` itself, where the g, the
//!   stack and the registers do not yet agree. This excludes the vDSO too;
//! - there is room on the goroutine's stack below the red zone for what
//!   `gort_async_preempt` pushes (`PREEMPT_NEED`).
//!
//! Rust has no compiler-marked safe points, and none are needed: gort has no garbage
//! collector, so a goroutine stopped anywhere in its own code needs nothing but its
//! whole register state saved, which `gort_async_preempt` does (flags, every general
//! register, the full XSAVE state). The state checks above replace Go's PC tables.
//!
//! Injection makes the goroutine look as if it had called `gort_async_preempt` from
//! the interrupted PC: the PC is stored at SP-128-8, below the 128-byte red zone that
//! Rust leaf code keeps live data in, and the context's SP and PC are set to that
//! slot and to the trampoline. The trampoline saves everything, `mcall`s
//! `gopreempt_m` (the goroutine goes to the global run queue, as in Go), and when the
//! goroutine is next run it restores everything and returns with `ret $128`.
//!
//! A request that arrives at an unsafe point is only acknowledged; `g.preempt` stays
//! set and sysmon asks again at its next tick. Cooperative checks at runtime exits
//! (`preempt_check`: the end of ready, exitsyscall) catch goroutines that spend their
//! time inside runtime locks. `GODEBUG=asyncpreemptoff=1` sends no signals at all.
//!
//! # What the handler may do
//!
//! It can interrupt any instruction, including the allocator and a runtime lock
//! holder, so it allocates nothing, takes no lock and prints nothing: it reads the
//! interrupted thread's own g, m and p (stable while the thread is stopped in the
//! handler) and writes 8 bytes below the goroutine's SP after the headroom check.

use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize};

use super::proc::{allp, allp_len, getg, getm};
use super::runtime2::{GRUNNING, M, P, PRUNNING};

/// SIGURG: Go's preemption signal (unused by libc, passed through by debuggers,
/// harmless when spurious).
pub(crate) const SIGURG: usize = 23;

/// Bytes gort_async_preempt needs for the extended state (XSAVE standard format for
/// the components it saves; 512 for FXSAVE). Written once by `preemptinit` during
/// boot, before any signal can be sent; read by the assembly.
pub(crate) static XSAVE_SIZE: AtomicUsize = AtomicUsize::new(512);
/// Whether gort_async_preempt uses XSAVE (1) or FXSAVE (0). As XSAVE_SIZE.
pub(crate) static USE_XSAVE: AtomicU32 = AtomicU32::new(0);
/// The XSAVE component bitmap (EDX:EAX), as XSAVE_SIZE.
pub(crate) static XSAVE_MASK_LO: AtomicU32 = AtomicU32::new(0);
pub(crate) static XSAVE_MASK_HI: AtomicU32 = AtomicU32::new(0);
/// Stack bytes an injection needs below the interrupted SP: the red zone, the
/// trampoline's frame, the aligned XSAVE area and mcall's return address, plus
/// slack. Set by preemptinit.
static PREEMPT_NEED: AtomicUsize = AtomicUsize::new(4096);

/// GODEBUG=asyncpreemptoff=1: never send preemption signals. Set at boot.
pub(crate) static ASYNC_PREEMPT_OFF: AtomicBool = AtomicBool::new(false);
/// GORT_PREEMPTSTORM=N: sysmon asks every running goroutine to yield every N
/// microseconds (a test knob for the preemption paths). 0: off. Set at boot.
pub(crate) static PREEMPT_STORM_US: AtomicU32 = AtomicU32::new(0);
/// This process's id, for tgkill. Set at boot.
static PID: AtomicU64 = AtomicU64::new(0);

/// Preemption signals sent (preempt_m) and injections made (sigpreempt). Relaxed
/// statistics counters, for tests and the benchmarks.
pub(crate) static SIGNALS_SENT: AtomicU64 = AtomicU64::new(0);
pub(crate) static PREEMPTIONS: AtomicU64 = AtomicU64::new(0);

// Offsets into ucontext_t (x86-64 Linux ABI).
const UC_MCONTEXT: usize = 40;
const REG_RSP: usize = 15;
const REG_RIP: usize = 16;
/// The red zone below SP that the interrupted code may be using.
const RED_ZONE: usize = 128;

/// XSAVE components never saved: PKRU (9: per-thread protection keys, not a
/// goroutine's) and the AMX tile configuration and data (17, 18: 8 KiB, and only
/// usable after a permission request gort never makes).
const XSAVE_EXCLUDED: u64 = (1 << 9) | (1 << 17) | (1 << 18);

/// preemptinit: size the trampoline's save area from CPUID, read the knobs. Runs
/// once during boot (schedinit), on m0, before any other thread exists.
pub(crate) fn preemptinit() {
    use core::arch::x86_64::__cpuid_count;
    // Relaxed throughout: boot is single-threaded, and threads are created after
    // (clone orders everything before it).
    PID.store(super::sys_linux::getpid() as u64, Relaxed);
    let max_leaf = __cpuid_count(0, 0).eax;
    let osxsave = __cpuid_count(1, 0).ecx & (1 << 27) != 0;
    let (use_xsave, mask, size) = if osxsave && max_leaf >= 0xd {
        // SAFETY: CPUID.1:ECX.OSXSAVE says the OS enabled XGETBV (and XSAVE).
        let xcr0 = unsafe { xgetbv0() };
        let mask = xcr0 & !XSAVE_EXCLUDED;
        // Standard format: the legacy area and header (576 bytes), then each
        // component at its fixed offset (CPUID.(0xD, i): EAX size, EBX offset).
        let mut size = 576usize;
        for i in 2..63 {
            if mask & (1 << i) != 0 {
                let l = __cpuid_count(0xd, i);
                size = size.max(l.ebx as usize + l.eax as usize);
            }
        }
        (true, mask, size.next_multiple_of(64))
    } else {
        (false, 0, 512)
    };
    USE_XSAVE.store(use_xsave as u32, Relaxed);
    XSAVE_MASK_LO.store(mask as u32, Relaxed);
    XSAVE_MASK_HI.store((mask >> 32) as u32, Relaxed);
    XSAVE_SIZE.store(size, Relaxed);
    // The resume PC, RFLAGS, RBP and 14 GPRs (17 words), the area and its 64-byte
    // alignment, mcall's return address: then slack for the kernel's own rounding.
    PREEMPT_NEED.store(RED_ZONE + 17 * 8 + size + 64 + 8 + 256, Relaxed);
    if let Some(v) = super::runtime1::getenv(b"GORT_PREEMPTSTORM") {
        match super::runtime1::atoi32(v) {
            Some(n) if n > 0 => PREEMPT_STORM_US.store(n as u32, Relaxed),
            _ => {}
        }
    }
}

/// XGETBV(0): the OS-enabled XSAVE components (XCR0).
///
/// # Safety
/// CPUID says OSXSAVE (else XGETBV faults).
#[target_feature(enable = "xsave")]
unsafe fn xgetbv0() -> u64 {
    // SAFETY: the caller checked OSXSAVE.
    unsafe { core::arch::x86_64::_xgetbv(0) }
}

/// preemptone: ask the goroutine running on pp to yield. Returns whether there was
/// one to ask. Any thread (sysmon, the stopper); no lock, no allocation.
///
/// The M and G read here may move on at any moment; a request that lands on a
/// goroutine that has since stopped running is harmless (execute clears the flag
/// when it runs again), as in Go.
#[inline(never)]
pub(crate) fn preemptone(pp: *mut P) -> bool {
    // SAFETY: Ps are never freed; m and preempt are atomics.
    let p = unsafe { &*pp };
    let mp = p.m();
    if mp.is_null() || mp == getm() {
        return false;
    }
    // SAFETY: Ms are never freed; curg is atomic and g0 immutable.
    let (gp, g0) = unsafe { ((*mp).curg(), (*mp).g0) };
    if gp.is_null() || gp == g0 {
        return false;
    }
    // A goroutine in a system call keeps its P wired (the fast path) but is not
    // preemptible, and a signal would only interrupt its call (EINTR for calls that
    // SA_RESTART does not restart): Go's preemptone never sees one (its P has no M
    // then). Relaxed: a hint; the handler re-checks at the moment it runs.
    // SAFETY: Gs are never freed; atomicstatus is atomic.
    if p.status.load(Relaxed) != PRUNNING || unsafe { (*gp).atomicstatus.load(Relaxed) } != GRUNNING
    {
        return false;
    }
    // Relaxed (both): requests, publishing no data. The handler on mp's thread reads
    // them after the tgkill below, which the kernel orders after these stores (the
    // system call and the signal delivery are full barriers).
    // SAFETY: Gs are never freed; preempt is atomic.
    unsafe { (*gp).preempt.store(true, Relaxed) };
    p.preempt.store(true, Relaxed);
    preempt_m(mp);
    true
}

/// preemptall: ask every running P's goroutine to yield (stop-the-world, the storm
/// knob). Returns whether any was asked. Any thread; no lock, no allocation.
pub(crate) fn preemptall() -> bool {
    let mut res = false;
    for i in 0..allp_len() {
        let pp = allp(i);
        // SAFETY: Ps are never freed; status is atomic. Relaxed: a hint, as in Go.
        if unsafe { (*pp).status.load(Relaxed) } == PRUNNING && preemptone(pp) {
            res = true;
        }
    }
    res
}

/// preemptM: send SIGURG to mp unless one is already in flight or preemption
/// signals are off. Any thread; no lock, no allocation.
pub(crate) fn preempt_m(mp: *mut M) {
    // Relaxed: set at boot.
    if ASYNC_PREEMPT_OFF.load(Relaxed) {
        return;
    }
    // SAFETY: Ms are never freed; signal_pending and procid are atomics.
    let m = unsafe { &*mp };
    // Acquire: pairs with the handler's Release clear, so a new signal is sent only
    // after the previous one was handled. Relaxed on failure: one is in flight.
    if m.signal_pending
        .compare_exchange(0, 1, Acquire, Relaxed)
        .is_err()
    {
        return;
    }
    // Relaxed: written by the M itself in minit, before it ran any goroutine (and so
    // before anyone wants to preempt it: we found it through a P it holds).
    let tid = m.procid.load(Relaxed);
    // Relaxed: set at boot.
    let pid = PID.load(Relaxed) as i64;
    if tid == 0 || super::sys_linux::tgkill(pid, tid, SIGURG) < 0 {
        // Release: as the handler's clear.
        m.signal_pending.store(0, Release);
        return;
    }
    // Relaxed: a statistics counter.
    SIGNALS_SENT.fetch_add(1, Relaxed);
}

/// The SIGURG handler (doSigPreempt): inject a call to gort_async_preempt if the
/// interrupted goroutine asked to yield and is at an async safe point; acknowledge
/// the signal either way. Runs on the M's signal stack with all signals blocked.
///
/// # Safety
/// ctx is the kernel's ucontext_t for this signal, on this thread.
pub(crate) unsafe fn sigpreempt(ctx: *mut u8) {
    let gp = getg();
    if gp.is_null() {
        // A signal to a thread that runs no Go code yet (cannot happen: threads
        // start with signals blocked): nothing to do.
        return;
    }
    // SAFETY: gp is the interrupted g of this thread (valid while the thread is
    // stopped in the handler); m is atomic.
    let mp = unsafe { (*gp).m() };
    if mp.is_null() {
        return;
    }
    // SAFETY: ctx is the kernel's ucontext (our contract); gregs is inside it.
    let gregs = unsafe { ctx.add(UC_MCONTEXT) as *mut usize };
    // SAFETY: as above: RIP and RSP are two words of gregs.
    let (pc, sp) = unsafe { (*gregs.add(REG_RIP), *gregs.add(REG_RSP)) };
    // With GODEBUG=asyncpreemptoff=1 a SIGURG from outside (kill, TCP urgent
    // data) injects nothing either (Go's sighandler: debug.asyncpreemptoff == 0).
    // Relaxed: set once at boot.
    let inject = !ASYNC_PREEMPT_OFF.load(Relaxed)
        // SAFETY: gp and mp are this thread's, stopped while we run.
        && unsafe { want_async_preempt(gp, mp) && is_async_safe_point(gp, mp, pc, sp) };
    if inject {
        let nsp = sp - RED_ZONE - 8;
        // SAFETY: is_async_safe_point checked that [sp - PREEMPT_NEED, sp) lies in
        // gp's own stack above its guard, so nsp is a mapped word of that stack, below
        // the red zone, which nothing live uses; writing the context's RSP and RIP
        // makes sigreturn resume in the trampoline, which pops that word.
        unsafe {
            *(nsp as *mut usize) = pc;
            *gregs.add(REG_RSP) = nsp;
            *gregs.add(REG_RIP) = super::asm_amd64::gort_async_preempt as *const () as usize;
        }
        // Relaxed: statistics counters.
        // SAFETY: mp is ours (see above); preempt_count is atomic.
        unsafe { (*mp).preempt_count.fetch_add(1, Relaxed) };
        PREEMPTIONS.fetch_add(1, Relaxed);
    }
    // SAFETY: as above; preempt_gen and signal_pending are atomics.
    unsafe {
        // Relaxed: a counter read by tests.
        (*mp).preempt_gen.fetch_add(1, Relaxed);
        // Release: pairs with preempt_m's Acquire CAS (the next signal follows this
        // one's handling).
        (*mp).signal_pending.store(0, Release);
    }
}

/// wantAsyncPreempt: a preemption was asked of gp (or of its P's slice) and gp is
/// running.
///
/// # Safety
/// gp is the thread's interrupted g and mp its M.
unsafe fn want_async_preempt(gp: *mut super::runtime2::G, mp: *mut M) -> bool {
    // SAFETY: gp and mp are live (Gs and Ms are never freed); the fields are atomic.
    // Relaxed: requests (see preemptone); the status is our own thread's.
    unsafe {
        let pp = (*mp).p();
        ((*gp).preempt.load(Relaxed) || (!pp.is_null() && (*pp).preempt.load(Relaxed)))
            && (*gp).atomicstatus.load(Relaxed) == GRUNNING
    }
}

/// isAsyncSafePoint: may gp be stopped at pc, with sp, to run the scheduler (see the
/// file head)?
///
/// # Safety
/// gp is the thread's interrupted g and mp its M.
unsafe fn is_async_safe_point(
    gp: *mut super::runtime2::G,
    mp: *mut M,
    pc: usize,
    sp: usize,
) -> bool {
    // SAFETY: gp and mp are live and this thread's, stopped while the handler runs;
    // the fields read are atomics or written only by this thread. Relaxed: our own
    // thread's values.
    unsafe {
        if gp != (*mp).curg() || (*mp).locks.load(Relaxed) != 0 {
            return false;
        }
        let pp = (*mp).p();
        if pp.is_null() || (*pp).status.load(Relaxed) != PRUNNING {
            return false;
        }
        if !pc_is_preemptible(pc) {
            return false;
        }
        let (lo, hi) = ((*gp).stack.lo, (*gp).stack.hi);
        // Relaxed: set at boot.
        let need = PREEMPT_NEED.load(Relaxed);
        lo != 0 && sp <= hi && sp >= lo + need
    }
}

/// Whether pc is in the program's text and outside the runtime's assembly.
#[cfg(not(test))]
fn pc_is_preemptible(pc: usize) -> bool {
    extern "C" {
        static __gort_text_start: u8;
        static __gort_text_end: u8;
        static __gort_asm_start: u8;
        static __gort_asm_end: u8;
    }
    // Only the symbols' addresses are used (linker.ld defines them).
    let (ts, te, as_, ae) = (
        &raw const __gort_text_start as usize,
        &raw const __gort_text_end as usize,
        &raw const __gort_asm_start as usize,
        &raw const __gort_asm_end as usize,
    );
    (ts..te).contains(&pc) && !(as_..ae).contains(&pc)
}

/// Host unit tests link without linker.ld: nothing is preemptible.
#[cfg(test)]
fn pc_is_preemptible(_pc: usize) -> bool {
    false
}

/// The number of preemption signals sent and of preemptions made so far.
pub(crate) fn stats() -> (u64, u64) {
    // Relaxed: statistics.
    (SIGNALS_SENT.load(Relaxed), PREEMPTIONS.load(Relaxed))
}
