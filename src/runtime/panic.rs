//! Dying, after Go's panic.go (startpanic_m, dopanic_m, throw): the one path every
//! fatal report takes, so that a process prints exactly one report, whole, however
//! many threads fail at once.
//!
//! The first thread to fail (a panic, a `throw`, a fault) becomes the dying thread:
//! it claims `DYING` with its kernel thread id, prints its report and exits the
//! process with status 2. Any other thread that fails meanwhile finds `DYING` taken
//! and sleeps until the exit ends it (Go's paniclk, which the dying thread never
//! unlocks): its report would only tear or replace the first. The dying thread may
//! claim again (a `runtime: ...` detail line, then `throw`); a panic that starts
//! while the dying thread is formatting a panic is Go's "panic while printing panic
//! value"; anything deeper gives up and exits at once.
//!
//! A goroutine's panic formats its value first, before it claims `DYING`, while it
//! may still park (Go's preprintpanics): a Display that sleeps or takes a
//! contended lock then works, as `fmt.Sprint` of a panic value does in Go. It is
//! counted in `PREPRINTING`, so that main's return waits for its report (Go's
//! runningPanicDefers), and marked on its G, so that a panic inside that
//! formatting is "panic while printing panic value" (entry.rs).
//!
//! Everything else here works at any point after `_start`: before settls (no g:
//! the thread id comes from gettid), on g0, in a signal handler, with runtime locks
//! held, with the heap exhausted. Nothing allocates.

use core::fmt::Write;
use core::sync::atomic::Ordering::{Acquire, Relaxed};
use core::sync::atomic::{AtomicI64, AtomicU32};

use super::print::FdWriter;
use super::sys_linux;

/// The kernel thread id of the dying thread, 0 while nobody is dying. Claimed once by
/// CAS; never released (the process exits).
static DYING: AtomicI64 = AtomicI64::new(0);
/// How deep the dying thread is in reports: 1 in its first. Only it writes this.
static DEPTH: AtomicU32 = AtomicU32::new(0);
/// A word nobody ever changes: losers of DYING sleep on it until the exit.
static NEVER: AtomicU32 = AtomicU32::new(0);
/// Goroutines formatting a panic value ahead of their report (entry.rs).
static PREPRINTING: AtomicU32 = AtomicU32::new(0);

/// Whether some thread is reporting a panic or a fatal error: a goroutine about to
/// format its panic value skips that (it would only sleep in startpanic after).
pub(crate) fn dying() -> bool {
    // Relaxed: a hint; startpanic's CAS decides.
    DYING.load(Relaxed) != 0
}

/// A goroutine starts formatting its panic value (entry.rs). It is never
/// uncounted: what follows is its report (startpanic) and the exit, or, when another
/// thread's report won, that report's exit.
pub(crate) fn preprint_begin() {
    // Relaxed: main's look in wait_preprinting sees the count if the goroutine
    // began before main returned (whatever ordered the two also orders this).
    PREPRINTING.fetch_add(1, Relaxed);
}

/// Main returned: if a goroutine is formatting its panic value, its report (or the
/// report of whichever failure wins) will end the process with status 2, so park
/// for ever rather than exit 0 under it (Go's runtime.main waits on
/// runningPanicDefers and parks while panicking). Parked, not sleeping: a value
/// whose Display blocks for ever leaves every goroutine asleep, which checkdead
/// reports as a deadlock. Called on goroutine 1.
pub(crate) fn wait_preprinting() {
    // Relaxed: see preprint_begin. A goroutine that starts after this look started
    // after main returned, and the exit wins that race, as in Go.
    if PREPRINTING.load(Relaxed) != 0 {
        super::chan::block_forever(super::runtime2::WaitReason::PanicWait);
    }
}

/// What a fatal path is about to report.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Death {
    /// A `runtime: ...` detail line, a throw, a fatal signal: the runtime's own.
    Fatal,
    /// A Rust panic (Go's panic).
    Panic,
}

/// What the caller should do, once it is the dying thread.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report {
    /// Print the report and exit 2.
    Full,
    /// A panic started while this thread was already reporting a panic (formatting
    /// the value panicked): print Go's "panic while printing panic value" and exit.
    PanicInPanic,
    /// Too deep: exit 2 now, printing nothing more.
    GiveUp,
}

/// startpanic: make the calling thread the one that reports and exits, or (when
/// another thread already is) sleep until the process exits. Runs anywhere; never
/// allocates.
pub(crate) fn startpanic(kind: Death) -> Report {
    // Pin first, then read the thread id and claim: a preemption between the claim
    // and the pin moved the goroutine to another thread, where the rest of its
    // report (a panic while formatting it, a detail line's throw) found DYING held
    // by a thread that was not its own and slept for ever, with nobody left to exit
    // (`panic nested` hung in about 1 run of 100 under qemu, where a signal is
    // delivered at the start of the next translated block).
    pin_dying_thread();
    let me = sys_linux::gettid();
    // Acquire: a loser sees nothing it needs from the winner; the CAS only elects.
    match DYING.compare_exchange(0, me, Acquire, Acquire) {
        Ok(_) => {
            DEPTH.store(1, Relaxed);
            Report::Full
        }
        Err(owner) if owner == me => {
            // Only this thread writes DEPTH.
            let depth = DEPTH.load(Relaxed) + 1;
            DEPTH.store(depth, Relaxed);
            match kind {
                _ if depth > 4 => Report::GiveUp,
                Death::Panic => Report::PanicInPanic,
                Death::Fatal => Report::Full,
            }
        }
        Err(_) => loop {
            // Another thread is reporting: wait for its exit_group. NEVER stays 0,
            // so this only returns on a signal or a spurious wakeup: sleep again.
            sys_linux::futex_wait(&NEVER, 0);
        },
    }
}

/// If a thread is reporting a panic or a fatal error, sleep until its exit ends
/// the process (with status 2): the program's end (main returning) must not cut
/// the report short or exit 0 under it (Go's runtime.main parks when panicking).
/// Runs anywhere; never allocates.
pub(crate) fn wait_if_dying() {
    // Relaxed: a panic that claims DYING after this look started after main
    // returned, and the exit wins that race, as in Go.
    if DYING.load(Relaxed) != 0 {
        loop {
            sys_linux::futex_wait(&NEVER, 0);
        }
    }
}

/// Keep the failing goroutine on its thread until the exit: raise its M's m.locks
/// (never lowered again), so it is not preempted while it claims DYING and formats
/// the report. Else it could go on on another thread, which DYING (keyed by
/// thread) does not name; and another goroutine could run on this one, its panic
/// looking like a panic inside this one's. A loser of DYING stays pinned too, in
/// its sleep. One instruction (mlocks_inc), so the count lands on the M the
/// goroutine runs on even if a preemption comes just before it. Does nothing
/// before settls (FS does not point at an M yet).
fn pin_dying_thread() {
    // Relaxed: written by rt0 on m0 before any other thread existed; a thread that
    // sees 0 here is m0 itself, early in boot. Every other thread starts with FS
    // set (newm's clone).
    if super::debug::TLS_CHECK.load(Relaxed) != 0x123 {
        return;
    }
    super::asm_amd64::mlocks_inc();
}

/// Print "fatal error: MSG" on stderr and exit 2: the runtime cannot go on (Go's
/// throw). Safe anywhere: with locks held, on g0, with the heap exhausted.
#[cold]
pub(crate) fn throw(msg: &str) -> ! {
    fatal_fmt(format_args!("{msg}"))
}

/// throw with a formatted message.
#[cold]
pub(crate) fn fatal_fmt(msg: core::fmt::Arguments) -> ! {
    if startpanic(Death::Fatal) == Report::Full {
        let mut w = FdWriter::new(2);
        let _ = writeln!(w, "fatal error: {msg}");
        w.flush();
    }
    sys_linux::exit_group(2)
}

/// Print a `runtime: ...` detail line on stderr as the dying thread, ahead of the
/// throw that follows it (other failing threads wait instead of adding theirs).
#[cold]
pub(crate) fn dying_detail(msg: core::fmt::Arguments) {
    if startpanic(Death::Fatal) == Report::Full {
        let mut w = FdWriter::new(2);
        let _ = writeln!(w, "{msg}");
        w.flush();
    }
}
