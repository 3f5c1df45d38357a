//! Incoming signals (Go's `os/signal`): deliver them to channels, ignore them, or
//! give them back their default action.
//!
//! # Defaults
//!
//! Until a program asks otherwise, signals do what they do to a Go program:
//!
//! - [`SIGHUP`], [`SIGINT`] and [`SIGTERM`] end the program, which dies *by* the
//!   signal: its parent sees it killed by it (a shell prints 130 for SIGINT);
//! - [`SIGQUIT`] and [`SIGABRT`] print `SIGQUIT: quit` and every goroutine, and exit
//!   with status 2;
//! - [`SIGPIPE`] ends the program (by SIGPIPE) only when a write to standard output
//!   or error finds the reader gone, so `prog | head` ends quietly; a write to any
//!   other pipe or socket returns an error of kind
//!   [`BrokenPipe`](crate::io::ErrorKind::BrokenPipe) instead;
//! - the job-control signals ([`SIGTSTP`], [`SIGTTIN`], [`SIGTTOU`], [`SIGCONT`])
//!   do what the kernel does;
//! - every other signal ([`SIGUSR1`], [`SIGUSR2`], [`SIGWINCH`], [`SIGCHLD`],
//!   [`SIGALRM`], the real-time signals...) is caught and dropped;
//! - SIGHUP and SIGINT that the program inherited as ignored (`nohup`) stay ignored;
//! - synchronous faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL) are Go's panics and fatal
//!   errors, and SIGKILL and SIGSTOP cannot be caught.
//!
//! # Notify, stop, reset, ignore
//!
//! [`notify`] has the named signals sent to a channel instead; [`stop`] undoes it
//! for one channel and [`reset`] for some signals, and once no channel wants a
//! signal its default action is back. [`ignore`] makes signals ignored (SIG_IGN,
//! which child processes inherit), [`ignored`] tells whether one is.
//!
//! ```ignore
//! use gort::os::signal::{self, SIGINT, SIGTERM};
//! let c = gort::chan(1);
//! signal::notify(&c, &[SIGINT, SIGTERM]);
//! let s = c.recv().unwrap();
//! gort::println!("got {s}"); // "got interrupt" after Ctrl-C
//! ```
//!
//! # Delivery
//!
//! A signal is sent to each channel that asked for it without waiting: a channel
//! whose buffer is full when the signal comes misses it, so give the channel a
//! buffer (1 is enough for a signal you wait for). Instances of one signal that
//! arrive before the first is delivered are merged into one, as in Go (and as the
//! kernel merges them): count signals only as "at least one since I last looked".
//!
//! The signal handler never allocates or takes a lock: it records the signal in a
//! bit set and wakes a goroutine of this package, started by the first `notify`,
//! which sends on the channels (the runtime's sigqueue.rs has the protocol). That
//! goroutine waits with its thread blocked in the kernel, so, as in Go, a program
//! that called `notify` is never reported deadlocked: a signal may still come.

use alloc::vec::Vec;
use core::fmt;

use crate::chan::Chan;
use crate::runtime::{signal_linux, sigqueue};
use crate::sync::Mutex;

/// A signal number (Go's `syscall.Signal`, which is also an `os.Signal`). The
/// constants of this module name the standard signals; [`Signal::from_raw`] makes
/// any other (the real-time signals 34..=64).
///
/// `Display` is Go's text (`interrupt`, `terminated`, `user defined signal 1`,
/// `signal 40`); `Debug` is the constant's name (`SIGINT`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(i32);

impl Signal {
    /// The signal with number `n` (Linux's numbering; valid signals are 1..=64).
    pub const fn from_raw(n: i32) -> Signal {
        Signal(n)
    }

    /// This signal's number.
    pub const fn as_raw(self) -> i32 {
        self.0
    }

    /// The number, if it is a signal the kernel has (1..=64).
    fn num(self) -> Option<u32> {
        (1..=sigqueue::NSIG as i32)
            .contains(&self.0)
            .then_some(self.0 as u32)
    }
}

macro_rules! signals {
    ($($(#[$doc:meta])* $name:ident = $n:literal, $text:literal;)*) => {
        $($(#[$doc])* pub const $name: Signal = Signal($n);)*

        /// Go's text for signal n, and the constant's name, if it is named.
        fn names(n: i32) -> Option<(&'static str, &'static str)> {
            match n {
                $($n => Some(($text, stringify!($name))),)*
                _ => None,
            }
        }
    };
}

signals! {
    /// Hangup: the terminal went away (default: end the program).
    SIGHUP = 1, "hangup";
    /// Interrupt: Ctrl-C (default: end the program).
    SIGINT = 2, "interrupt";
    /// Quit: Ctrl-\ (default: print every goroutine, exit 2).
    SIGQUIT = 3, "quit";
    /// Illegal instruction (a fault: cannot be notified when raised by one).
    SIGILL = 4, "illegal instruction";
    /// Trace or breakpoint trap (the kernel's default).
    SIGTRAP = 5, "trace/breakpoint trap";
    /// Abort (default: print every goroutine, exit 2).
    SIGABRT = 6, "aborted";
    /// Bus error (a fault).
    SIGBUS = 7, "bus error";
    /// Arithmetic fault (a fault).
    SIGFPE = 8, "floating point exception";
    /// Kill: cannot be caught, ignored or notified.
    SIGKILL = 9, "killed";
    /// User-defined signal 1 (default: dropped).
    SIGUSR1 = 10, "user defined signal 1";
    /// Segmentation fault (a fault).
    SIGSEGV = 11, "segmentation fault";
    /// User-defined signal 2 (default: dropped).
    SIGUSR2 = 12, "user defined signal 2";
    /// Write to a pipe with no reader (default: see the module's "Defaults").
    SIGPIPE = 13, "broken pipe";
    /// Alarm clock (default: dropped).
    SIGALRM = 14, "alarm clock";
    /// Termination request (default: end the program).
    SIGTERM = 15, "terminated";
    /// Stack fault (the kernel's default).
    SIGSTKFLT = 16, "stack fault";
    /// A child process stopped or ended (default: dropped).
    SIGCHLD = 17, "child exited";
    /// Continue after a stop (the kernel's default).
    SIGCONT = 18, "continued";
    /// Stop: cannot be caught, ignored or notified.
    SIGSTOP = 19, "stopped (signal)";
    /// Terminal stop: Ctrl-Z (the kernel's default).
    SIGTSTP = 20, "stopped";
    /// Background read from the terminal (the kernel's default).
    SIGTTIN = 21, "stopped (tty input)";
    /// Background write to the terminal (the kernel's default).
    SIGTTOU = 22, "stopped (tty output)";
    /// Urgent socket data; also the runtime's preemption signal (default: dropped).
    SIGURG = 23, "urgent I/O condition";
    /// CPU time limit exceeded (default: dropped).
    SIGXCPU = 24, "CPU time limit exceeded";
    /// File size limit exceeded (default: dropped).
    SIGXFSZ = 25, "file size limit exceeded";
    /// Virtual timer expired (default: dropped).
    SIGVTALRM = 26, "virtual timer expired";
    /// Profiling timer expired (default: dropped).
    SIGPROF = 27, "profiling timer expired";
    /// The terminal window changed size (default: dropped).
    SIGWINCH = 28, "window changed";
    /// I/O is possible (default: dropped).
    SIGIO = 29, "I/O possible";
    /// Power failure (default: dropped).
    SIGPWR = 30, "power failure";
    /// Bad system call (the kernel's default).
    SIGSYS = 31, "bad system call";
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match names(self.0) {
            Some((text, _)) => f.write_str(text),
            None => write!(f, "signal {}", self.0),
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match names(self.0) {
            Some((_, name)) => f.write_str(name),
            None => write!(f, "Signal({})", self.0),
        }
    }
}

/// One channel and the signals it asked for (bit n-1 for signal n).
struct Handler {
    c: Chan<Signal>,
    mask: u64,
}

impl Handler {
    fn wants(&self, n: u32) -> bool {
        self.mask & sigqueue::sigbit(n) != 0
    }
}

/// Go's `handlers`: who wants which signal. Every change of the runtime's wanted
/// set and of signal dispositions is made under this lock, one caller at a time
/// (the runtime's sigenable, sigdisable and sigignore count on it).
struct Handlers {
    /// The registered channels (compared by channel identity, as Go's map keys).
    list: Vec<Handler>,
    /// For each signal number, how many channels want it.
    refs: [u32; sigqueue::NSIG as usize + 1],
    /// Channels being stopped: they still get the signals that were already on
    /// their way when stop began (see `stop`).
    stopping: Vec<Handler>,
    /// Whether the delivering goroutine (`signal_loop`) was started.
    looping: bool,
}

static HANDLERS: Mutex<Handlers> = Mutex::new(Handlers {
    list: Vec::new(),
    refs: [0; sigqueue::NSIG as usize + 1],
    stopping: Vec::new(),
    looping: false,
});

/// The signal numbers `sigs` names: all of them (1..=64) for an empty slice, as Go;
/// numbers out of range are skipped.
fn numbers(sigs: &[Signal]) -> Vec<u32> {
    if sigs.is_empty() {
        (1..=sigqueue::NSIG).collect()
    } else {
        sigs.iter().filter_map(|s| s.num()).collect()
    }
}

/// Relay the signals in `sigs` to `c` (all signals if `sigs` is empty), Go's
/// `signal.Notify`. Each signal is sent without waiting: if `c`'s buffer is full
/// the signal is dropped for `c`, so give it a buffer. A channel may be passed to
/// `notify` again to add signals, and several channels may want one signal (each
/// gets a copy). SIGKILL, SIGSTOP and signals raised by faults are never
/// delivered. A signal the program started with blocked is unblocked (on one
/// runtime thread) when `notify` returns, and blocked again by [`stop`] or
/// [`reset`] once no channel wants it, as in Go. Runs on any goroutine.
///
/// # Panics
///
/// `os/signal: Notify using nil channel` if `c` is [`Chan::nil`].
pub fn notify(c: &Chan<Signal>, sigs: &[Signal]) {
    if c.is_nil() {
        panic!("os/signal: Notify using nil channel");
    }
    let nums = numbers(sigs);
    let mut h = HANDLERS.lock();
    let i = match h.list.iter().position(|x| x.c.hchan() == c.hchan()) {
        Some(i) => i,
        None => {
            h.list.push(Handler {
                c: c.clone(),
                mask: 0,
            });
            h.list.len() - 1
        }
    };
    for n in nums {
        if h.list[i].wants(n) {
            continue;
        }
        h.list[i].mask |= sigqueue::sigbit(n);
        if h.refs[n as usize] == 0 {
            // Wanted first, then the handler: a signal caught from now on finds
            // itself wanted.
            sigqueue::set_wanted(n);
            signal_linux::sigenable(n);
            if !h.looping {
                h.looping = true;
                crate::go(signal_loop);
            }
        }
        h.refs[n as usize] += 1;
    }
    // A signal the program started with blocked is unblocked from here on.
    signal_linux::sync_mask();
}

/// Stop relaying signals to `c` (Go's `signal.Stop`): undoes every [`notify`] with
/// `c`. When `stop` returns, `c` receives no more signals; a signal that came
/// before `stop` was called is delivered to `c` or, if nobody else wants it,
/// takes its default action, never neither. Signals no other channel wants get
/// their default action back (and are blocked again if the program started with
/// them blocked). Runs on any goroutine; waits (yielding) for the
/// signals already on their way.
pub fn stop(c: &Chan<Signal>) {
    let mut h = HANDLERS.lock();
    let Some(i) = h.list.iter().position(|x| x.c.hchan() == c.hchan()) else {
        return;
    };
    let handler = h.list.remove(i);
    // Signals nobody else wants: blocked again first if the program started with
    // them blocked, then given back their default.
    let last: u64 = (1..=sigqueue::NSIG)
        .filter(|&n| handler.wants(n) && h.refs[n as usize] == 1)
        .fold(0, |m, n| m | sigqueue::sigbit(n));
    signal_linux::block_again(last);
    for n in 1..=sigqueue::NSIG {
        if handler.wants(n) {
            h.refs[n as usize] -= 1;
            if h.refs[n as usize] == 0 {
                signal_linux::sigdisable(n);
            }
        }
    }
    // A signal may have been caught, found wanted and queued before the line above,
    // and not yet be delivered: keep c on the stopping list, where the delivering
    // goroutine still finds it, until the queue is idle (Go's Stop).
    let looping = h.looping;
    h.stopping.push(handler);
    drop(h);
    if looping {
        sigqueue::signal_wait_until_idle();
    }
    let mut h = HANDLERS.lock();
    if let Some(i) = h.stopping.iter().position(|x| x.c.hchan() == c.hchan()) {
        h.stopping.remove(i);
    }
}

/// Give the signals in `sigs` (all signals if empty) their default action back and
/// stop relaying them to any channel (Go's `signal.Reset`). Undoes [`ignore`] too.
/// Runs on any goroutine.
pub fn reset(sigs: &[Signal]) {
    cancel(sigs, signal_linux::sigdisable, true)
}

/// Ignore the signals in `sigs` (all signals if empty) and stop relaying them to
/// any channel (Go's `signal.Ignore`). Ignored signals stay ignored in child
/// processes started later. SIGPIPE ignored means writes to a closed standard
/// output fail with `BrokenPipe` instead of ending the program. Runs on any
/// goroutine.
pub fn ignore(sigs: &[Signal]) {
    cancel(sigs, signal_linux::sigignore, false)
}

/// Whether `sig` is ignored now, by [`ignore`] or from the program's start (Go's
/// `signal.Ignored`).
pub fn ignored(sig: Signal) -> bool {
    sig.num().is_some_and(sigqueue::signal_ignored)
}

/// Go's cancel: drop sigs from every channel, then apply action to each; with
/// `block`, block those the program started with blocked again first.
fn cancel(sigs: &[Signal], action: fn(u32), block: bool) {
    let nums = numbers(sigs);
    let mut h = HANDLERS.lock();
    if block {
        // reset: blocked again first if the program started with them blocked.
        // (ignore leaves the mask alone, as Go's: the signal is discarded as it
        // comes.)
        signal_linux::block_again(nums.iter().fold(0, |m, &n| m | sigqueue::sigbit(n)));
    }
    for n in nums {
        let bit = sigqueue::sigbit(n);
        let mut dropped = 0;
        h.list.retain_mut(|x| {
            if x.mask & bit != 0 {
                x.mask &= !bit;
                dropped += 1;
            }
            x.mask != 0
        });
        h.refs[n as usize] -= dropped;
        action(n);
    }
}

/// The delivering goroutine (Go's os/signal `loop`): wait for a signal from the
/// runtime's queue, then send it, without waiting, to every channel that wants it.
/// Started by the first `notify`; runs for ever.
fn signal_loop() {
    let mut pending = 0u64;
    loop {
        let n = sigqueue::signal_recv(&mut pending);
        process(n);
    }
}

/// Go's process: deliver signal n to the channels that want it, and to those being
/// stopped (see `stop`). A full channel misses it.
fn process(n: u32) {
    let sig = Signal(n as i32);
    let h = HANDLERS.lock();
    for x in h.list.iter().chain(h.stopping.iter()) {
        if x.wants(n) {
            let _ = x.c.try_send(sig);
        }
    }
}
