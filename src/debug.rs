//! Runtime introspection and limits (Go's `runtime/debug`, and the scheduler trace
//! that Go prints with `GODEBUG=schedtrace`).

use crate::runtime;

/// Print Go's scheduler trace on standard error now: the `SCHED` line (uptime,
/// gomaxprocs, idle Ps, threads, spinning and idle threads, the global queue and each
/// P's queue length), and with `detail` a line for each P, M and goroutine, in the
/// format of Go's `GODEBUG=schedtrace=N,scheddetail=1`. The figures are a snapshot
/// taken while the scheduler runs.
pub fn schedtrace(detail: bool) {
    runtime::debug::schedtrace(detail)
}

/// Set the maximum number of OS threads the program may use and return the previous
/// limit (Go's `debug.SetMaxThreads`; the default is 10,000). Creating a thread beyond
/// it is `fatal error: thread exhaustion`, and so is a limit below the number of
/// threads made so far (any `n <= 0`): then the call does not return, and the
/// message names `n`, as Go's does.
pub fn set_max_threads(n: i32) -> i32 {
    runtime::proc::set_max_threads(n)
}

/// Return as much memory to the operating system as possible, now (Go's
/// `debug.FreeOSMemory`): the world stops briefly while every P's cache of free
/// objects and stacks is emptied, then free pages of the heap and the memory of
/// free goroutine stacks go back to the OS (`MADV_DONTNEED`), whatever their age.
/// The background scavenger does the same for memory unused for a second or two.
/// Call it from a goroutine (not inside `gort::blocking`).
pub fn free_os_memory() {
    runtime::mgcscavenge::free_os_memory()
}

/// Introspection for gort's own test programs. **Unstable**: not part of the API, may
/// change or go away in any release.
/// Print every goroutine to standard error, as Go prints them on SIGQUIT or a fatal
/// error: `goroutine N [wait reason, M minutes]:` (minutes once a goroutine has
/// waited one or more), and `created by goroutine P` with the location of the
/// `go` call that started it. gort keeps no symbol tables, so there are no frames.
/// Never allocates or takes a lock: usable from a goroutine that suspects a hang.
pub fn print_goroutines() {
    let mut w = crate::runtime::print::FdWriter::new_user(2);
    crate::runtime::traceback::print_all(&mut w);
    w.flush();
}

#[doc(hidden)]
pub mod unstable {
    pub use crate::runtime::debug::{boot_info, m_id, num_waiting, steals, BootInfo};

    /// Preemption signals sent and asynchronous preemptions made so far.
    pub fn preempt_stats() -> (u64, u64) {
        crate::runtime::preempt::stats()
    }

    /// Ps that sysmon took from goroutines in system calls (retake) so far.
    pub fn syscall_retakes() -> u64 {
        crate::runtime::sysmon::RETAKES.load(core::sync::atomic::Ordering::Relaxed)
    }

    pub use crate::runtime::malloc::{heap_stats, HeapStats};

    /// The number of threads (Ms) the runtime has made.
    pub fn threads() -> i64 {
        crate::runtime::proc::mcount()
    }

    /// Goroutine stacks in the shared pool: (resident, returned to the OS).
    pub fn stack_pool() -> (usize, usize) {
        crate::runtime::stack::pool_counts()
    }
}
