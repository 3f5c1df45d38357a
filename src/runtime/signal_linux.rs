//! Synchronous signals, after Go's signal_unix.go and signal_amd64.go: faults in
//! goroutine code become Go's messages instead of raw crashes.
//!
//! - A fault in the guard page below a goroutine's stack (or g0's) is a stack
//!   overflow: `runtime: goroutine stack exceeds N-byte limit`, then
//!   `fatal error: stack overflow`, exit 2.
//! - SIGSEGV/SIGBUS near address 0 is Go's nil dereference panic; SIGFPE is Go's
//!   divide or overflow panic; other faults are `unexpected fault address` and
//!   `fatal error: fault`. Each prints Go's `[signal SIG...: ... code=.. addr=..
//!   pc=..]` line and exits 2.
//!
//! SIGURG is the preemption signal: its handler is preempt.rs's `sigpreempt`.
//!
//! Handlers run on the M's signal stack (sigaltstack, set up in minit): a stack
//! overflow leaves no room on the faulting stack. They are entered through
//! `gort_sigtramp` (rt0/sys_linux_amd64.s), which realigns SP because qemu-user
//! enters handlers misaligned, and return through `gort_sigreturn`.

use core::fmt::Write;

use crate::runtime::asm_amd64::{gort_sigreturn, gort_sigtramp};
use crate::runtime::panic::{startpanic, Death, Report};
use crate::runtime::preempt::SIGURG;
use crate::runtime::print::FdWriter;
use crate::runtime::proc::{getg, m0};
use crate::runtime::runtime2::{G, M};
use crate::runtime::sys_linux;

const SIGQUIT: usize = 3;
const SIGILL: usize = 4;
const SIGBUS: usize = 7;
const SIGFPE: usize = 8;
const SIGSEGV: usize = 11;

const SA_SIGINFO: u64 = 0x4;
const SA_ONSTACK: u64 = 0x0800_0000;
const SA_RESTORER: u64 = 0x0400_0000;
/// Restart system calls a handler interrupted (those the kernel can restart: see
/// signal(7); the runtime's own timed waits re-check their deadline anyway).
const SA_RESTART: u64 = 0x1000_0000;

/// Size of each M's signal stack (Go: 32 KiB).
const SIGSTACK_SIZE: usize = 32 << 10;

// Offsets into siginfo_t and ucontext_t (x86-64 Linux ABI).
const SI_CODE: usize = 8;
const SI_ADDR: usize = 16;
const UC_MCONTEXT: usize = 40;
const REG_RSP: usize = 15;
const REG_RIP: usize = 16;

/// The kernel's struct sigaction for rt_sigaction.
#[repr(C)]
struct SigAction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// initsig: install the fault handlers, the preemption handler and SIGQUIT's
/// goroutine dump. Runs once, on m0
/// in minit, before any goroutine runs; the handlers are process-wide.
pub(crate) fn initsig() {
    for sig in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGURG, SIGQUIT] {
        let sa = SigAction {
            handler: gort_sigtramp as *const () as usize,
            // As Go's setsig: siginfo, the signal stack, our restorer, and restart.
            flags: SA_SIGINFO | SA_ONSTACK | SA_RESTORER | SA_RESTART,
            restorer: gort_sigreturn as *const () as usize,
            mask: !0, // block everything while a handler runs
        };
        // SAFETY: a valid sigaction for a synchronous signal; the handler and
        // restorer are ours and live forever.
        let r = unsafe { sys_linux::rt_sigaction(sig, &sa as *const SigAction as usize, 0) };
        if r < 0 {
            crate::runtime::print::rt_eprintln!(
                "runtime: rt_sigaction({sig}) failed: errno {}",
                -r
            );
            crate::runtime::runtime1::throw("initsig");
        }
    }
}

/// minit's part: give the thread its signal stack, and on m0 install the handlers.
///
/// # Safety
/// Runs on mp's own thread (its g0), once.
pub(crate) unsafe fn minit_signals(mp: *mut M) {
    let r = sys_linux::mmap_anon(
        SIGSTACK_SIZE,
        sys_linux::PROT_READ | sys_linux::PROT_WRITE,
        0,
    );
    if sys_linux::is_err(r) {
        crate::runtime::print::rt_eprintln!("runtime: cannot allocate signal stack: errno {}", -r);
        crate::runtime::runtime1::throw("out of memory");
    }
    // stack_t: ss_sp, ss_flags (int + padding), ss_size.
    let ss: [usize; 3] = [r as usize, 0, SIGSTACK_SIZE];
    // SAFETY: the kernel reads one stack_t; the mapping is this thread's forever.
    let e = unsafe { sys_linux::sigaltstack(ss.as_ptr() as usize) };
    if e < 0 {
        crate::runtime::print::rt_eprintln!("runtime: sigaltstack failed: errno {}", -e);
        crate::runtime::runtime1::throw("minit");
    }
    if mp == m0() {
        initsig();
    }
}

/// The Rust side of every handler. SIGURG goes to the preemption handler, which
/// returns; for a fault, decide what it was, say it as Go does, and exit 2. Runs on
/// the signal stack with all signals blocked.
///
/// # Safety
/// info and ctx are the kernel's siginfo_t and ucontext_t for this signal.
pub(crate) unsafe extern "C" fn sighandler(sig: usize, info: *const u8, ctx: *mut u8) {
    if sig == SIGURG {
        // SAFETY: ctx is this signal's ucontext, on this thread.
        unsafe { crate::runtime::preempt::sigpreempt(ctx) };
        return;
    }
    // SAFETY: the kernel's layouts; we only read.
    let (code, addr, pc, sp) = unsafe {
        let code = *(info.add(SI_CODE) as *const i32);
        let addr = *(info.add(SI_ADDR) as *const usize);
        let gregs = ctx.add(UC_MCONTEXT) as *const usize;
        (code, addr, *gregs.add(REG_RIP), *gregs.add(REG_RSP))
    };
    // One report per process: if another thread is already dying, wait for its exit.
    if startpanic(Death::Fatal) == Report::GiveUp {
        sys_linux::exit_group(2);
    }
    let gp = getg();
    let mut w = FdWriter::new(2);
    if sig == SIGQUIT {
        // Go's SIGQUIT: "SIGQUIT: quit", where it landed, every goroutine, exit 2.
        // SAFETY: FS is set on every thread that runs runtime or user code, so gp and
        // its m are valid.
        let mid = unsafe { (*(*gp).m()).id };
        let _ = writeln!(w, "SIGQUIT: quit\nPC={pc:#x} m={mid} sigcode={code}");
        crate::runtime::traceback::print_all(&mut w);
        w.flush();
        sys_linux::exit_group(2);
    }
    if code <= 0 {
        // Sent by a process (kill, tgkill, sigqueue: SI_USER and the other non-positive
        // codes), not raised by a fault: report the signal as such, as Go does for
        // SI_USER, not as a fault at a made-up address.
        let _ = writeln!(w, "{}", signal_name(sig));
        // SAFETY: as below.
        let mid = unsafe { (*(*gp).m()).id };
        let _ = writeln!(w, "PC={pc:#x} m={mid} sigcode={code}");
        // SAFETY: as below.
        unsafe { goroutine_line(&mut w, gp) };
        w.flush();
        sys_linux::exit_group(2);
    }
    // SAFETY: FS is set on every thread that runs runtime or user code, so gp is the
    // interrupted g (a goroutine or g0) and its m and stack bounds are valid.
    unsafe {
        if (sig == SIGSEGV || sig == SIGBUS) && in_guard(gp, addr) {
            let size = (*gp).stack.hi - (*gp).stack.lo;
            let _ = writeln!(w, "runtime: goroutine stack exceeds {size}-byte limit");
            let _ = writeln!(
                w,
                "runtime: sp={sp:#x} stack=[{:#x}, {:#x}]",
                (*gp).stack.lo,
                (*gp).stack.hi
            );
            let _ = writeln!(w, "fatal error: stack overflow\n");
            signal_line(&mut w, sig, code, addr, pc);
            goroutine_line(&mut w, gp);
            w.flush();
            sys_linux::exit_group(2);
        }
        match sig {
            SIGSEGV | SIGBUS if addr < 0x1000 => {
                let _ = writeln!(
                    w,
                    "panic: runtime error: invalid memory address or nil pointer dereference"
                );
            }
            SIGFPE => {
                let what = match code {
                    1 => "integer divide by zero", // FPE_INTDIV
                    2 => "integer overflow",       // FPE_INTOVF
                    _ => "floating point error",
                };
                let _ = writeln!(w, "panic: runtime error: {what}");
            }
            _ => {
                let _ = writeln!(w, "unexpected fault address {addr:#x}");
                let _ = writeln!(w, "fatal error: fault");
            }
        }
        signal_line(&mut w, sig, code, addr, pc);
        goroutine_line(&mut w, gp);
    }
    w.flush();
    sys_linux::exit_group(2)
}

/// Whether addr is in the guard region below gp's stack (up to one guard page below
/// lo; a probe of a big frame faults there first).
unsafe fn in_guard(gp: *mut G, addr: usize) -> bool {
    // SAFETY: gp's stack bounds are valid while it runs.
    let lo = unsafe { (*gp).stack.lo };
    lo != 0 && addr < lo && addr >= lo - crate::runtime::stack::guard_size()
}

/// Go's name for a signal, as its tracebacks print it.
fn signal_name(sig: usize) -> &'static str {
    match sig {
        SIGSEGV => "SIGSEGV: segmentation violation",
        SIGBUS => "SIGBUS: bus error",
        SIGFPE => "SIGFPE: floating-point exception",
        SIGILL => "SIGILL: illegal instruction",
        _ => "signal",
    }
}

fn signal_line(w: &mut FdWriter, sig: usize, code: i32, addr: usize, pc: usize) {
    let name = signal_name(sig);
    let _ = writeln!(
        w,
        "[signal {name} code={code:#x} addr={addr:#x} pc={pc:#x}]"
    );
}

unsafe fn goroutine_line(w: &mut FdWriter, gp: *mut G) {
    // SAFETY: gp and its m are valid (see sighandler).
    unsafe {
        let mp = (*gp).m();
        if gp == (*mp).g0 {
            let _ = writeln!(w, "\ngoroutine 0 [running on g0 of m{}]:", (*mp).id);
        } else {
            let _ = writeln!(w, "\ngoroutine {} [running]:", (*gp).goid());
        }
    }
}
