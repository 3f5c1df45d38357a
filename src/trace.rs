//! Go's execution trace (package `runtime/trace`): record what every goroutine and
//! processor does, in the format `go tool trace` reads ("go 1.19 trace").
//!
//! Set `GORT_TRACE=path` to trace a whole run (from before `main` until it returns,
//! [`exit`](crate::exit), a panic, a fatal error or SIGQUIT), or call [`start`] and
//! [`stop`] around the part to look at. Then `go tool trace path` shows the
//! goroutines (grouped by where they were created), the scheduler latency and each
//! P's timeline; `go tool trace -d path` prints the events.
//!
//! A path ending in `.json` (`GORT_TRACE=trace.json`, `start("trace.json")`) gets
//! Chrome's trace-event format instead, which ui.perfetto.dev and chrome://tracing
//! open: a row per P with a slice for every stretch a goroutine ran (`G<goid>`, with
//! what ended it: a wait reason, a yield, a preemption, a system call), instants for
//! goroutines created, unblocked and entering or leaving system calls, and a row for
//! the events of threads without a P. Times are microseconds since the trace started.
//!
//! Events go to per-P buffers without locks or allocation; with tracing off each
//! recording point costs one predictable branch. Recorded: processors starting and
//! stopping, goroutines created, started, ended, yielding, preempted, blocking (on
//! channels, select, sleep, sync, network) and unblocked, system calls, and changes
//! of GOMAXPROCS.

use crate::io::{Error, Result};

/// Start writing an execution trace to the file at `path` (created or truncated;
/// Chrome trace-event JSON when it ends in `.json`). Stops the world briefly to
/// describe the goroutines that exist. Fails if a trace is already being written
/// (`ResourceBusy`) or the file cannot be created.
pub fn start(path: &str) -> Result<()> {
    crate::runtime::trace::start(path.as_bytes()).map_err(Error::from_neg)
}

/// Stop the trace and complete its file. Does nothing if no trace is being written.
pub fn stop() {
    crate::runtime::trace::stop()
}

/// Whether a trace is being written.
pub fn is_enabled() -> bool {
    crate::runtime::trace::active()
}
