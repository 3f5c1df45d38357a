//! gort: Go's runtime design for freestanding Rust programs on Linux x86-64.
//!
//! A gort program is a `#![no_std] #![no_main]` binary whose `fn main()` runs as
//! goroutine 1 of an M:N scheduler with Go's G/M/P design. The crate owns the process
//! from its first instruction (`_start` follows Go's `rt0_go`); there is no libc.
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! gort::main!(main);
//! fn main() {
//!     let c = gort::chan::<u64>(0);
//!     let tx = c.clone();
//!     gort::go(move || tx.send(42));
//!     gort::println!("got {:?}", c.recv());
//! }
//! ```
//!
//! # Packages
//!
//! The public surface is laid out as Go's standard library is:
//!
//! - the crate root is Go's package `runtime` as users see it: [`go`], [`gosched`],
//!   [`gomaxprocs`], [`num_goroutine`], [`num_cpu`], [`goid`], [`exit`], [`blocking`],
//!   [`scope`] (goroutines that borrow, as std's `thread::scope`), and the [`main!`]
//!   macro that names the program's entry;
//! - [`chan`](mod@chan) and [`select!`]: Go's channels and select statement;
//! - [`sync`]: goroutine-aware locks (a blocked goroutine parks, its thread does not);
//! - [`time`]: the monotonic clock, sleeping, timeouts and tickers;
//! - [`env`](mod@env): arguments and environment (Go's `os.Args`, `os.Getenv`);
//! - [`io`]: standard input, output and error as byte streams, buffered readers
//!   and writers, `copy`, and the `embedded-io` traits every gort stream
//!   implements;
//! - [`fs`]: files and directories (std's `std::fs` names);
//! - [`net`] and [`process`]: sockets and child processes, which park the goroutine
//!   rather than its thread;
//! - [`os::signal`]: incoming signals delivered to channels (Go's `os/signal`), and
//!   Go's default action for each signal (SIGINT ends the program, SIGPIPE on
//!   standard output ends it, SIGUSR1 is dropped, ...);
//! - [`trace`]: Go's execution trace, for `go tool trace`;
//! - [`debug`]: Go's `runtime/debug` and the scheduler trace;
//! - [`print!`], [`println!`], [`eprint!`], [`eprintln!`]: formatted output that never
//!   allocates and never interleaves lines from different goroutines.
//!
//! Everything else (the scheduler, stacks, timers, the heap, signals, system calls)
//! lives in a private `runtime` module whose files carry the names of Go's
//! `src/runtime` files; none of it is reachable from user code.
//!
//! # Errors
//!
//! As in Go, a panic in any goroutine prints `panic: MESSAGE` and
//! `goroutine N [running]:` and exits with status 2; the runtime's own fatal errors
//! print `fatal error: MESSAGE` and exit 2 (`all goroutines are asleep - deadlock!`,
//! `out of memory`, `stack overflow`, ...). There is no unwinding: programs build with
//! `panic = "abort"`.
//!
//! # Preemption
//!
//! Goroutines switch when they block (channels, locks, sleeps, `gosched`), and exit;
//! a channel operation or lock that succeeds at once does not switch. A goroutine
//! that computes for more than 10 ms without blocking is preempted, as in Go since
//! 1.14: the runtime's monitor thread signals its thread (SIGURG), which stops it at
//! the next instruction where it holds no runtime lock and sends it to the back of
//! the global run queue, its registers (all of them, vector state included) saved.
//! So a loop that never blocks no longer stops timers, other goroutines or
//! [`gomaxprocs`], even with one P. What that means for your code:
//!
//! - any instruction outside the runtime may be followed by a switch to another
//!   goroutine, and the goroutine may continue on another thread (as with OS threads:
//!   use atomics or [`sync`] for shared data, as you already must with more than one
//!   P);
//! - a user spin lock (one that does not park) can cost a time slice per hand-off
//!   when its holder is preempted: hold a [`NoPreempt`] in such a section, or use
//!   [`sync::Mutex`];
//! - system calls made through gort never fail with EINTR; raw system calls you make
//!   yourself may, when a preemption signal arrives during one that `SA_RESTART`
//!   does not restart (nanosleep, poll, ...), as in Go: retry them on EINTR. Inside
//!   [`blocking`] the goroutine is never preempted, but a signal already on its way
//!   as the call starts can still interrupt it once;
//! - `GODEBUG=asyncpreemptoff=1` turns the signals off: goroutines then switch only
//!   when they block, yield, or pass a runtime call that notices the request
//!   ([`time::Instant::now`] is one: a loop on the clock spends most of its time in
//!   the kernel's vDSO, where a signal cannot stop it, so it stops there).
//!
//! The crate is `no_std` except under `cfg(test)`, where the host's std runs the unit
//! tests of the pure logic. The pieces only a freestanding program may have (the entry
//! point, the panic handler, the global allocator, the `mem*` functions) are compiled
//! only outside tests; integration tests are std programs that run the examples.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs)]

extern crate alloc;

mod runtime;

pub mod chan;
pub mod debug;
pub mod env;
pub mod fs;
pub mod io;
pub mod net;
pub mod os;
pub mod process;
pub mod sync;
pub mod testing;
pub mod time;
pub mod trace;

mod print;
mod scope;
mod select;

pub use chan::{chan, Chan};
pub use scope::{scope, Scope};

use runtime::proc;

/// What the exported macros expand to. Not part of the API: names and signatures
/// change without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::print::_print;
    pub use crate::select::{
        block_forever_select, selectgo, unreachable_select, Case, RecvArm, SendArm,
    };
    pub use gort_macros::select_impl;
}

/// Declare a test program for `cargo test` (a `[[test]]` target with
/// `harness = false`): each listed `fn()` is a test, run as goroutine 1 of its own
/// child process; the output, filters and exit status are libtest's (see
/// [`testing`]).
///
/// ```ignore
/// #![no_std]
/// #![no_main]
/// gort::test_main!(adds, sums_in_goroutines);
/// fn adds() { assert_eq!(1 + 1, 2); }
/// fn sums_in_goroutines() { /* ... */ }
/// ```
#[macro_export]
macro_rules! test_main {
    ($($t:path),* $(,)?) => {
        $crate::main!(__gort_test_main);
        fn __gort_test_main() {
            $crate::testing::run(&[$((::core::stringify!($t), $t as fn())),*]);
        }
    };
}

/// Declare the program's `fn main()`. The runtime boots, runs it as goroutine 1, and
/// exits 0 when it returns (other goroutines do not keep the program alive, as in Go).
///
/// ```ignore
/// #![no_std]
/// #![no_main]
/// gort::main!(main);
/// fn main() { gort::println!("hello, world"); }
/// ```
#[macro_export]
macro_rules! main {
    ($f:path) => {
        #[no_mangle]
        #[doc(hidden)]
        pub fn gort_user_main() {
            $f()
        }
    };
}

/// End the process now with `code`, from any goroutine. Deferred work does not run
/// and other goroutines stop where they are (Go's `os.Exit`).
pub fn exit(code: i32) -> ! {
    // A trace being written is completed first (the world stopped for it).
    runtime::trace::stop_for_exit();
    runtime::sys_linux::exit_group(code)
}

/// The current goroutine's id: goroutine 1 runs `main`, and every goroutine started
/// later gets the next number (Go's goid, as tracebacks show it).
pub fn goid() -> u64 {
    proc::curgoid()
}

/// Start a goroutine running `f` (Go's `go f()`). It may run on any thread, now or
/// later; the caller goes on at once. The goroutine gets the default stack size
/// (`GORT_STACKSIZE`, else 256 KiB of address space of which only touched pages cost
/// memory).
#[inline]
#[track_caller]
pub fn go<F: FnOnce() + Send + 'static>(f: F) {
    proc::newproc(f)
}

/// Start a goroutine with a stack of `stack_size` bytes instead of the default,
/// rounded up to 4 KiB.
///
/// # Panics
///
/// Unless 16 KiB <= `stack_size` <= 1 GiB.
#[track_caller]
pub fn go_with_stack<F: FnOnce() + Send + 'static>(stack_size: usize, f: F) {
    use runtime::stack::{MAX_STACK_SIZE, MIN_STACK_SIZE};
    if !(MIN_STACK_SIZE..=MAX_STACK_SIZE).contains(&stack_size) {
        panic!("gort: goroutine stack size {stack_size} out of range (16 KiB to 1 GiB)");
    }
    proc::newproc_stack(f, stack_size.next_multiple_of(4096))
}

/// Run `f`, which may block its thread in the kernel (a raw system call that waits,
/// a long computation in foreign code), without holding up other goroutines (Go's
/// `entersyscall`/`exitsyscall`). Returns `f`'s result.
///
/// Entering costs a few stores: the goroutine keeps its thread, and its P waits for
/// it. If `f` lasts longer than about 20 us (one look of the runtime's monitor
/// thread) while other goroutines have work, the P is handed to another thread, and
/// on return the goroutine takes any free P (or waits for one). So a short call
/// costs no thread switch, and a long one holds up nobody.
///
/// Inside `f` every gort operation works: channels, `go`, `sleep`, locks, `gosched`,
/// `gomaxprocs`, a nested `blocking` (which does nothing more). Those that need a P
/// take one for their duration, and an operation that parks the goroutine gives the
/// thread's claim on its P up, so `f` resumes (after the operation) as if it had just
/// entered. While `f` runs the goroutine is not preempted, and it stays on its
/// thread.
///
/// Inside a [`NoPreempt`] section `blocking` only runs `f`: the goroutine keeps its P.
pub fn blocking<R, F: FnOnce() -> R>(f: F) -> R {
    let entered = proc::entersyscall();
    let r = f();
    proc::exitsyscall(entered);
    r
}

/// A section in which the calling goroutine is not preempted and stays on its
/// thread and P: held from [`NoPreempt::new`] until dropped.
///
/// Goroutines are preempted by the runtime when they run for more than 10 ms without
/// blocking (Go's asynchronous preemption), so a goroutine holding a user spin lock
/// (one that does not park, such as `spin::Mutex`) may be stopped while holding it,
/// and every goroutine spinning for that lock then waits for the holder's next turn:
/// up to a time slice per hand-off. Hold a `NoPreempt` for such a critical section,
/// or use [`sync::Mutex`], which parks waiters.
///
/// The goroutine must not block or yield while a `NoPreempt` is held (channel
/// operations that wait, contended [`sync`] locks, `sleep`, `gosched`): that is a
/// fatal error (`fatal error: gort: goroutine blocked or yielded inside a NoPreempt
/// section`), since the goroutine would leave the thread the section pins.
///
/// ```ignore
/// let _np = gort::NoPreempt::new();
/// // ... a short critical section under a spin lock ...
/// ```
pub struct NoPreempt {
    /// Not Send: the pin belongs to the thread that made it.
    _not_send: core::marker::PhantomData<*mut ()>,
}

impl NoPreempt {
    /// Start a section without preemption (see [`NoPreempt`]).
    #[inline]
    pub fn new() -> NoPreempt {
        proc::nopreempt_enter();
        NoPreempt {
            _not_send: core::marker::PhantomData,
        }
    }
}

impl Default for NoPreempt {
    fn default() -> Self {
        NoPreempt::new()
    }
}

impl Drop for NoPreempt {
    #[inline]
    fn drop(&mut self) {
        proc::nopreempt_exit();
    }
}

/// Yield the processor, allowing other goroutines to run (Go's `runtime.Gosched`).
/// The calling goroutine goes to the back of the global run queue.
#[inline]
pub fn gosched() {
    proc::gosched()
}

/// The number of goroutines that currently exist (Go's `runtime.NumGoroutine`).
pub fn num_goroutine() -> usize {
    proc::gcount()
}

/// Set GOMAXPROCS, the number of goroutines that may run in parallel, to `n` and
/// return the previous value; `n <= 0` only queries (Go's `runtime.GOMAXPROCS`).
/// Values above 1024 are clamped. Changing it stops the world: goroutines queued on
/// removed Ps move to the global queue, nothing is lost.
pub fn gomaxprocs(n: i32) -> i32 {
    proc::set_gomaxprocs(n)
}

/// The number of CPUs the runtime uses by default: the CPUs this process may run on
/// (its affinity mask), lowered by a cgroup v2 CPU quota (Go's `runtime.NumCPU`, with
/// the quota as Go 1.25 reads it).
pub fn num_cpu() -> usize {
    runtime::os_linux::ncpu()
}
