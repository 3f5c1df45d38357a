//! Package runtime: everything underneath the user packages, private to the crate.
//!
//! One file per concern, each named after the Go file that owns the same protocol,
//! so Go's own design notes map one to one; each opens with the protocol it owns:
//!
//! - `asm_amd64`: the one place the assembly in rt0/ is included, its offsets and
//!   entry points, and `getg`;
//! - `runtime2`: the G, M, P and Schedt structures, and who may touch each field;
//! - `proc`: boot (schedinit, procresize), goroutine creation (newproc), the
//!   scheduling loop (schedule, findrunnable, execute), parking (gopark, goready),
//!   threads (newm, startm, stopm, wakep, handoffp) and stop-the-world;
//! - `runq`: the per-P lock-free run queues and work stealing;
//! - `lock_futex`: the runtime's own mutex and one-shot notes, on futexes;
//! - `lockrank`: the order in which runtime locks may be taken, checked in debug
//!   builds;
//! - `sema`: semaphores and notify lists for goroutines (under package sync);
//! - `chan`, `select`: channels (hchan) and selectgo;
//! - `time`: per-P timer heaps, sleep, and the timers behind `after`/`tick`;
//! - `stack`: goroutine stacks and their guard pages;
//! - `malloc`, `mcache`, `mcentral`, `mheap`, `sizeclasses`: the allocator behind
//!   the global allocator (per-P caches, central lists, the page heap);
//! - `mgcscavenge`: returning free memory to the OS (the scavenger,
//!   free_os_memory);
//! - `netpoll`: the network poller (epoll): goroutines wait for fds, not threads;
//! - `signal_linux`: the handler every signal enters: faults (stack overflow, nil
//!   dereference), the SIGURG entry, and Go's default action for each signal
//!   (SIGINT kills, SIGQUIT dumps, SIGPIPE on stdout kills, the rest is dropped);
//! - `sigqueue`: the lock-free hand-off from signal handlers to os::signal's
//!   receiving goroutine;
//! - `preempt`: asynchronous preemption: the request (preemptone), the SIGURG
//!   handler's safe-point checks and injection, XSAVE sizing;
//! - `os_linux`, `sys_linux`, `vdso_linux`: what the runtime asks of Linux;
//! - `sysmon`: the monitor thread: retake (Ps stuck in system calls, goroutines
//!   running past their slice), GODEBUG=schedtrace;
//! - `trace`: Go's execution trace (per-P event buffers, Go's binary format);
//!   `tracejson`: the same events as Chrome trace-event JSON;
//! - `traceback`: goroutine listings for fatal errors;
//! - `panic`: dying: one whole report, however many threads fail at once (throw);
//! - `runtime1`: arguments, environment, GOMAXPROCS parsing;
//! - `debug`: GODEBUG, schedtrace and boot introspection;
//! - `print`: the runtime's unbuffered, non-allocating output;
//! - `entry`: what only a freestanding program has (`_start`, the panic handler, the
//!   global allocator, `mem*`).

// Runtime structures have `const fn new` for their statics; Default would add nothing.
#![allow(clippy::new_without_default)]
// Host unit tests build the runtime without rt0 (the host has its own `_start`), so
// the boot path and what only it reaches are unused there; the freestanding build
// still checks for dead code.
#![cfg_attr(test, allow(dead_code, unused_imports))]

pub(crate) mod asm_amd64;
pub(crate) mod chan;
pub(crate) mod debug;
#[cfg(not(test))]
mod entry;
pub(crate) mod lock_futex;
// The rank table is data for debug builds' checks; release builds keep only the
// ranks the locks are created with.
#[cfg_attr(not(debug_assertions), allow(dead_code))]
pub(crate) mod lockrank;
pub(crate) mod malloc;
pub(crate) mod mcache;
pub(crate) mod mcentral;
pub(crate) mod mgcscavenge;
pub(crate) mod mheap;
pub(crate) mod netpoll;
pub(crate) mod os_linux;
pub(crate) mod panic;
pub(crate) mod preempt;
pub(crate) mod print;
pub(crate) mod proc;
pub(crate) mod runq;
pub(crate) mod runtime1;
pub(crate) mod runtime2;
pub(crate) mod select;
pub(crate) mod sema;
pub(crate) mod signal_linux;
pub(crate) mod sigqueue;
pub(crate) mod sizeclasses;
pub(crate) mod stack;
pub(crate) mod sys_linux;
pub(crate) mod sysmon;
pub(crate) mod time;
pub(crate) mod trace;
pub(crate) mod traceback;
pub(crate) mod tracejson;
pub(crate) mod vdso_linux;
