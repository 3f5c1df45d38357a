//! Signals, after Go's signal_unix.go and signal_amd64.go: what each signal does,
//! the handler every one of them enters, and the default actions.
//!
//! # What each signal does (Go's sigtable, `sigflags`)
//!
//! - Synchronous faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL raised by an instruction)
//!   become Go's messages instead of raw crashes. A fault in the guard page below a
//!   goroutine's stack (or g0's) is a stack overflow: `runtime: goroutine stack
//!   exceeds N-byte limit`, then `fatal error: stack overflow`, exit 2. SIGSEGV/SIGBUS
//!   near address 0 is Go's nil dereference panic; SIGFPE is Go's divide or
//!   overflow panic; other faults are `unexpected fault address` and `fatal error:
//!   fault`. Each prints Go's `[signal SIG...: ... code=.. addr=.. pc=..]` line and
//!   exits 2. SIGILL is reported as Go's sigtable throws it: `SIGILL: illegal
//!   instruction`, `PC=.. m=.. sigcode=..`, every goroutine, exit 2.
//! - SIGURG is the preemption signal: its handler is preempt.rs's `sigpreempt`;
//!   os::signal gets it too if it asked (as in Go), but can never ignore it or
//!   take the handler away.
//! - Every other signal os::signal may take (`SIG_NOTIFY`) goes to `sigsend`
//!   (sigqueue.rs) when a channel asked for it. Otherwise its default applies, as
//!   in Go: SIGHUP, SIGINT and SIGTERM kill the process *by that signal*
//!   (`die_from_signal`: the parent sees it signalled, a shell says 130 for SIGINT);
//!   SIGQUIT and SIGABRT print `SIGQUIT: quit`, where it landed and every goroutine,
//!   and exit 2; SIGCONT, SIGTSTP, SIGTTIN and SIGTTOU keep the kernel's default (no
//!   handler until os::signal asks); everything else (SIGUSR1, SIGPIPE, SIGCHLD,
//!   SIGWINCH, the real-time signals...) is caught and dropped. SIGKILL and SIGSTOP
//!   cannot be caught.
//! - SIGHUP and SIGINT inherited as ignored (nohup, a shell's background job) stay
//!   ignored, as Go does, until os::signal asks for them.
//! - A signal inherited blocked stays blocked on every thread (minit keeps the
//!   mask) unless it must not be (the faults, SIGURG, the killing ones); while
//!   os::signal wants it, sysmon's thread unblocks it (`sync_mask`; sysmon.rs,
//!   "The signal thread"), as Go's sigM thread.
//!
//! # SIGPIPE (Go's sigpipe and epipecheck)
//!
//! A write to a pipe or socket whose reader is gone raises SIGPIPE in the writing
//! thread. The handler drops it (or hands it to os::signal), so the write returns
//! EPIPE: an `ErrorKind::BrokenPipe` error for pipes and sockets. Writes to standard
//! output and error through print!/println!/io::stdout/io::stderr check for EPIPE
//! (`epipecheck`) and then die by SIGPIPE, as Go's os.File does, so `prog | head`
//! ends `prog` quietly, as it would end a C program. The runtime's own fatal
//! messages ignore EPIPE (they are on their way out anyway).
//!
//! # Installing and removing handlers
//!
//! `initsig` installs the handler at boot for every signal except the four
//! job-control ones (and inherited-ignored SIGHUP/SIGINT); os::signal's notify,
//! stop, reset and ignore change dispositions through `sigenable`, `sigdisable` and
//! `sigignore`, one caller at a time (os::signal's handlers lock). `HANDLING`
//! records which signals have the runtime's handler now. A handler installed by the
//! runtime is reset to the default by execve, so child processes start with the
//! kernel's defaults; an ignored signal stays ignored across exec, as in Go.
//!
//! # The handler
//!
//! Handlers run on the M's signal stack (sigaltstack, set up in minit) with every
//! signal blocked: a stack overflow leaves no room on the faulting stack. They are
//! entered through `gort_sigtramp` (rt0/sys_linux_amd64.s), which realigns SP
//! because qemu-user enters handlers misaligned, and return through
//! `gort_sigreturn`. A handler can interrupt any instruction of any thread (the
//! allocator, a lock holder), so up to the point where it decides the process dies
//! it allocates nothing, takes no lock and only makes async-signal-safe system
//! calls.

use core::fmt::Write;
use core::sync::atomic::AtomicU64;
use core::sync::atomic::Ordering::Relaxed;

use crate::runtime::asm_amd64::{gort_sigreturn, gort_sigtramp};
use crate::runtime::panic::{startpanic, Death, Report};
use crate::runtime::preempt::SIGURG;
use crate::runtime::print::FdWriter;
use crate::runtime::proc::{getg, m0};
use crate::runtime::runtime2::{G, M};
use crate::runtime::sigqueue::{self, sigbit, sigsend, NSIG};
use crate::runtime::sys_linux;

const SIGHUP: usize = 1;
const SIGINT: usize = 2;
const SIGQUIT: usize = 3;
const SIGILL: usize = 4;
const SIGABRT: usize = 6;
const SIGBUS: usize = 7;
const SIGFPE: usize = 8;
const SIGKILL: usize = 9;
const SIGSEGV: usize = 11;
pub(crate) const SIGPIPE: usize = 13;
const SIGTERM: usize = 15;
const SIGCONT: usize = 18;
const SIGSTOP: usize = 19;
const SIGTSTP: usize = 20;
const SIGTTIN: usize = 21;
const SIGTTOU: usize = 22;

/// Dispositions for rt_sigaction (the kernel's SIG_DFL and SIG_IGN).
const SIG_DFL: usize = 0;
const SIG_IGN: usize = 1;

/// si_code of a signal sent by kill(2) (Go's _SI_USER).
const SI_USER: i32 = 0;

// What a signal does (Go's sigtable flags; see the file head).
/// os::signal may take it.
const SIG_NOTIFY: u8 = 1;
/// If os::signal does not take it: die by it.
const SIG_KILL: u8 = 2;
/// If os::signal does not take it: print every goroutine and exit 2.
const SIG_THROW: u8 = 4;
/// A synchronous fault: Go's panics and fatal errors.
const SIG_PANIC: u8 = 8;
/// Keep the kernel's default until os::signal takes it (job control).
const SIG_DEFAULT: u8 = 16;

/// The flags of signal sig (Go's sigtable for Linux, trimmed to what gort does:
/// SIGTRAP, SIGSTKFLT and SIGSYS keep the kernel's default).
const fn sigflags(sig: usize) -> u8 {
    match sig {
        SIGHUP | SIGINT | SIGTERM => SIG_NOTIFY | SIG_KILL,
        SIGQUIT | SIGABRT => SIG_NOTIFY | SIG_THROW,
        SIGILL | SIGBUS | SIGFPE | SIGSEGV => SIG_PANIC,
        SIGCONT | SIGTSTP | SIGTTIN | SIGTTOU => SIG_NOTIFY | SIG_DEFAULT,
        SIGKILL | SIGSTOP | 5 | 16 | 31 => 0, // SIGTRAP, SIGSTKFLT, SIGSYS
        1..=64 => SIG_NOTIFY,
        _ => 0,
    }
}

/// The signals whose disposition is the runtime's handler now (bit n-1 for signal
/// n). Written at boot (initsig) and under os::signal's handlers lock
/// (sigenable, sigdisable, sigignore), which also orders the reads there; Relaxed
/// throughout. die_from_signal clears a bit, on the way out.
static HANDLING: AtomicU64 = AtomicU64::new(0);
/// SIGHUP, SIGINT and the job-control signals found ignored at boot (bit n-1):
/// they keep SIG_IGN until os::signal asks for them, and get it back when it
/// stops. Written once at boot.
static INHERITED_IGN: AtomicU64 = AtomicU64::new(0);

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

/// setsig: make handler (the runtime's trampoline, SIG_DFL or SIG_IGN) sig's
/// disposition. Returns the previous handler, or -errno. Any thread; async-signal-
/// safe (one system call, no allocation).
fn setsig(sig: usize, handler: usize) -> isize {
    let sa = SigAction {
        handler,
        // As Go's setsig: siginfo, the signal stack, our restorer, and restart.
        flags: SA_SIGINFO | SA_ONSTACK | SA_RESTORER | SA_RESTART,
        restorer: gort_sigreturn as *const () as usize,
        mask: !0, // block everything while a handler runs
    };
    let mut old = SigAction {
        handler: 0,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: valid sigaction structs; the handler is SIG_DFL, SIG_IGN or our
    // trampoline, and the restorer is ours: both live forever.
    let r = unsafe {
        sys_linux::rt_sigaction(
            sig,
            &sa as *const SigAction as usize,
            &mut old as *mut SigAction as usize,
        )
    };
    if r < 0 {
        r
    } else {
        old.handler as isize
    }
}

/// The disposition of sig now (a handler address, SIG_DFL or SIG_IGN), or -errno.
fn getsig(sig: usize) -> isize {
    let mut old = SigAction {
        handler: 0,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: a null new action only reads the disposition into old.
    let r = unsafe { sys_linux::rt_sigaction(sig, 0, &mut old as *mut SigAction as usize) };
    if r < 0 {
        r
    } else {
        old.handler as isize
    }
}

/// The runtime's handler, as a disposition.
fn sigtramp() -> usize {
    gort_sigtramp as *const () as usize
}

/// initsig: install the runtime's handler for the faults, the preemption signal and
/// every signal os::signal may take (see the file head). Runs once, on m0 in minit,
/// before any goroutine runs; the handlers are process-wide.
pub(crate) fn initsig() {
    for sig in 1..=NSIG as usize {
        let flags = sigflags(sig);
        if flags & SIG_DEFAULT != 0 && flags & SIG_NOTIFY != 0 && getsig(sig) == SIG_IGN as isize {
            // A job-control signal the process inherited ignored (a daemon, a shell
            // without job control): as Go's sigInitIgnored, it reads as ignored,
            // and stop or reset after a notify give SIG_IGN back, not SIG_DFL.
            // Relaxed: boot is single-threaded.
            INHERITED_IGN.fetch_or(sigbit(sig as u32), Relaxed);
            sigqueue::set_ignored(sig as u32, true);
        }
        if flags & (SIG_NOTIFY | SIG_PANIC) == 0 || flags & SIG_DEFAULT != 0 {
            continue;
        }
        // Go's sigInstallGoHandler: an ignored SIGHUP or SIGINT stays ignored.
        if (sig == SIGHUP || sig == SIGINT) && getsig(sig) == SIG_IGN as isize {
            // Relaxed: boot is single-threaded.
            INHERITED_IGN.fetch_or(sigbit(sig as u32), Relaxed);
            sigqueue::set_ignored(sig as u32, true);
            continue;
        }
        let r = setsig(sig, sigtramp());
        if r < 0 {
            if flags & SIG_PANIC != 0 || sig == SIGURG || sig == SIGQUIT {
                crate::runtime::print::rt_eprintln!(
                    "runtime: rt_sigaction({sig}) failed: errno {}",
                    -r
                );
                crate::runtime::runtime1::throw("initsig");
            }
            // A signal the kernel (or qemu-user, which keeps some real-time
            // signals for itself) will not let us catch: it keeps its default.
            continue;
        }
        // Relaxed: boot is single-threaded (see HANDLING).
        HANDLING.fetch_or(sigbit(sig as u32), Relaxed);
    }
    // m0's share of minit's mask (other Ms apply it in minit).
    sys_linux::sigunblock(unblocked_signals());
}

/// The signals every M unblocks in minit, whatever mask the process inherited
/// (Go's minitSignalMask with blockableSig): the faults, the preemption signal and
/// those whose default is to kill or throw. Others inherited blocked stay blocked.
pub(crate) fn unblocked_signals() -> u64 {
    let mut m = 0;
    let mut sig = 1;
    while sig <= NSIG as usize {
        if sigflags(sig) & (SIG_PANIC | SIG_KILL | SIG_THROW) != 0 || sig == SIGURG {
            m |= sigbit(sig as u32);
        }
        sig += 1;
    }
    m
}

/// The signals whose disposition is the runtime's handler now (bit n-1 for signal
/// n): what a forked child resets before it unblocks signals (read in the child,
/// which has the parent's memory and dispositions as they were at the fork). A set
/// bit always means the handler: bits are set after the handler is installed and
/// cleared before it is replaced, so a fork in between at worst leaves a handler
/// the child does not reset (execve resets it). Any thread; a plain load.
pub(crate) fn handled_signals() -> u64 {
    // Relaxed: in the child, the fork orders everything before it.
    HANDLING.load(Relaxed)
}

/// Whether sig has the runtime's handler when os::signal does not want it (Go's
/// sigInstallGoHandler).
fn handled_by_default(sig: usize) -> bool {
    // Relaxed: written once at boot, before any goroutine.
    sigflags(sig) & SIG_DEFAULT == 0 && INHERITED_IGN.load(Relaxed) & sigbit(sig as u32) == 0
}

/// The signals notify enabled and stop or reset have not disabled since (bit n-1
/// for signal n; ignore leaves a bit, as Go leaves the signal unblocked on its
/// sigM thread): `sync_mask` has sysmon's thread unblock those the process
/// started with blocked. Changed only under os::signal's handlers lock.
static NOTIFIED: AtomicU64 = AtomicU64::new(0);

/// Put NOTIFIED in force (after notify, or from block_again before stop or reset):
/// a signal the process started with blocked is unblocked (on sysmon's thread)
/// while it is wanted, and blocked again after, as Go's Notify, Stop and Reset do.
/// Returns once the mask is in place. Runs on a goroutine, under os::signal's
/// handlers lock.
pub(crate) fn sync_mask() {
    // Relaxed: NOTIFIED is only changed under the handlers lock, which we hold.
    let want = NOTIFIED.load(Relaxed) & crate::runtime::proc::init_sigmask() & !unblocked_signals();
    crate::runtime::sysmon::sigm_set(want);
}

/// stop or reset are about to give up the signals in `mask`: block those the
/// process started with blocked again first (sync_mask), so that one that comes
/// from now on stays pending rather than meet the default action, as in Go (whose
/// sigdisable waits for its sigM thread before it restores the handler). Runs on
/// a goroutine, under os::signal's handlers lock.
pub(crate) fn block_again(mask: u64) {
    // Relaxed: only changed under the handlers lock, which we hold.
    NOTIFIED.fetch_and(!mask, Relaxed);
    sync_mask();
}

/// sigenable: os::signal wants sig (already in sigqueue's wanted set): make sure
/// the runtime's handler catches it (and, through sync_mask, that a thread takes
/// it). Called only under os::signal's handlers lock.
pub(crate) fn sigenable(sig: u32) {
    let s = sig as usize;
    if sigflags(s) & SIG_NOTIFY == 0 || s == SIGURG {
        return;
    }
    // Relaxed: only changed under the handlers lock, which we hold.
    NOTIFIED.fetch_or(sigbit(sig), Relaxed);
    // Relaxed: HANDLING is only changed under the handlers lock, which we hold.
    if HANDLING.load(Relaxed) & sigbit(sig) == 0 && setsig(s, sigtramp()) >= 0 {
        HANDLING.fetch_or(sigbit(sig), Relaxed);
    }
}

/// sigdisable: no channel wants sig any more: restore its default (the runtime's
/// handler for most signals, else the disposition it had at boot), then drop it
/// from the wanted set. Called only under os::signal's handlers lock.
pub(crate) fn sigdisable(sig: u32) {
    let s = sig as usize;
    // Relaxed: only changed under the handlers lock, which we hold.
    NOTIFIED.fetch_and(!sigbit(sig), Relaxed);
    if sigflags(s) & SIG_NOTIFY != 0 && s != SIGURG {
        // Relaxed (HANDLING): only changed under the handlers lock, which we hold.
        if handled_by_default(s) {
            // The handler again (also after ignore: Go's default, not SIG_IGN).
            if HANDLING.load(Relaxed) & sigbit(sig) == 0 && setsig(s, sigtramp()) >= 0 {
                HANDLING.fetch_or(sigbit(sig), Relaxed);
            }
            sigqueue::set_ignored(sig, false);
        } else {
            // Relaxed: written once at boot.
            let ign = INHERITED_IGN.load(Relaxed) & sigbit(sig) != 0;
            // The disposition before `wanted`, as Go: a job-control signal that
            // arrives now gets its default action rather than a handler that drops
            // it. The bit before the disposition (see handled_signals).
            HANDLING.fetch_and(!sigbit(sig), Relaxed);
            setsig(s, if ign { SIG_IGN } else { SIG_DFL });
            sigqueue::set_ignored(sig, ign);
        }
    }
    sigqueue::clear_wanted(sig);
}

/// sigignore: make sig ignored (SIG_IGN, which child processes inherit), and drop
/// it from the wanted set. SIGURG keeps the runtime's handler (preemption needs it;
/// it is only no longer delivered). Called only under os::signal's handlers lock.
pub(crate) fn sigignore(sig: u32) {
    let s = sig as usize;
    if s == SIGURG {
        sigqueue::clear_wanted(sig);
        return;
    }
    if sigflags(s) & SIG_NOTIFY == 0 {
        return;
    }
    // Relaxed: only changed under the handlers lock, which we hold. The bit before
    // the disposition (see handled_signals).
    HANDLING.fetch_and(!sigbit(sig), Relaxed);
    setsig(s, SIG_IGN);
    sigqueue::clear_wanted(sig);
    sigqueue::set_ignored(sig, true);
}

/// dieFromSignal: end the process by sig, so that the parent sees it killed by
/// that signal (a shell prints 128+sig): restore the default action, unblock sig on
/// this thread and send it to this thread. Any thread, signal handlers included
/// (async-signal-safe: system calls only); never returns.
pub(crate) fn die_from_signal(sig: usize) -> ! {
    // Relaxed: we are on our way out; the bit only spares a later setsig.
    HANDLING.fetch_and(!sigbit(sig as u32), Relaxed);
    setsig(sig, SIG_DFL);
    // Inside a handler every signal is blocked: let this one through. The kernel
    // delivers a pending unblocked signal before tgkill returns to user space.
    sys_linux::sigunblock(sigbit(sig as u32));
    sys_linux::tgkill(sys_linux::getpid(), sys_linux::gettid(), sig);
    // If that did not kill us (it should have), give other threads a moment, then
    // exit with Go's fallback status.
    for _ in 0..3 {
        sys_linux::osyield();
    }
    sys_linux::exit_group(2)
}

/// sigpipe: a write to standard output or error failed with EPIPE. Unless SIGPIPE
/// is ignored or os::signal takes it, die by SIGPIPE (Go's os.sigpipe). Runs on any
/// g; async-signal-safe.
pub(crate) fn sigpipe() {
    if sigqueue::signal_ignored(SIGPIPE as u32) || sigsend(SIGPIPE as u32) {
        return;
    }
    // Stay on this thread from the unblock to the kill (die_from_signal works on
    // the calling thread); never released.
    core::mem::forget(crate::runtime::proc::acquirem());
    die_from_signal(SIGPIPE)
}

/// epipecheck: after a write of the program's to fd returned r (bytes or -errno):
/// EPIPE on standard output or error is SIGPIPE's business (see the file head).
/// Runs on any g.
#[inline]
pub(crate) fn epipecheck(fd: i32, r: isize) {
    if r == -sys_linux::EPIPE && (fd == 1 || fd == 2) {
        sigpipe();
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

/// The Rust side of every handler (Go's sighandler). SIGURG goes to the preemption
/// handler; an asynchronous signal goes to os::signal if it asked (sigsend), else
/// to its default action (die by it, throw, or drop it); for a fault, decide what
/// it was, say it as Go does, and exit 2. Runs on the signal stack with all signals
/// blocked; allocates nothing and takes no lock before it commits to exiting.
///
/// # Safety
/// info and ctx are the kernel's siginfo_t and ucontext_t for this signal.
pub(crate) unsafe extern "C" fn sighandler(sig: usize, info: *const u8, ctx: *mut u8) {
    if sig == SIGURG {
        // SAFETY: ctx is this signal's ucontext, on this thread.
        unsafe { crate::runtime::preempt::sigpreempt(ctx) };
        // A preemption signal may have coalesced with one sent to the program (as
        // Go): os::signal gets it if it asked; otherwise it is dropped.
        sigsend(SIGURG as u32);
        return;
    }
    // SAFETY: the kernel's layouts; we only read.
    let (code, addr, pc, sp) = unsafe {
        let code = *(info.add(SI_CODE) as *const i32);
        let addr = *(info.add(SI_ADDR) as *const usize);
        let gregs = ctx.add(UC_MCONTEXT) as *const usize;
        (code, addr, *gregs.add(REG_RIP), *gregs.add(REG_RSP))
    };
    let flags = sigflags(sig);
    // Asynchronous signals (and a fault's signal sent by kill): os::signal's, or
    // their default action. No allocation, no lock, up to the throw below.
    if flags & SIG_PANIC == 0 || code == SI_USER {
        if (code == SI_USER || flags & SIG_NOTIFY != 0) && sigsend(sig as u32) {
            return;
        }
        if code == SI_USER && sigqueue::signal_ignored(sig as u32) {
            return;
        }
        if flags & SIG_KILL != 0 {
            die_from_signal(sig);
        }
        if flags & (SIG_THROW | SIG_PANIC) == 0 {
            // Caught and dropped (SIGUSR1, SIGPIPE, SIGCHLD, ...), as Go does.
            return;
        }
    }
    // One report per process: if another thread is already dying, wait for its exit.
    if startpanic(Death::Fatal) == Report::GiveUp {
        sys_linux::exit_group(2);
    }
    let gp = getg();
    let mut w = FdWriter::new(2);
    if flags & SIG_THROW != 0 || (sig == SIGILL && code > 0) {
        // Go's SIGQUIT (and SIGABRT): "SIGQUIT: quit", where it landed, every
        // goroutine, exit 2. An illegal instruction (ud2, core::intrinsics::abort)
        // too: Go's sigtable throws on SIGILL ("SIGILL: illegal instruction"),
        // where the other faults panic.
        // SAFETY: FS is set on every thread that runs runtime or user code, so gp and
        // its m are valid.
        let mid = unsafe { (*(*gp).m()).id };
        let name = signal_name(sig);
        let _ = writeln!(w, "{name}\nPC={pc:#x} m={mid} sigcode={code}");
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
        SIGQUIT => "SIGQUIT: quit",
        SIGABRT => "SIGABRT: abort",
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
