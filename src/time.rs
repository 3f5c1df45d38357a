//! Time: the monotonic clock, sleeping, timeouts and tickers (Go's package `time`).
//!
//! [`Instant`] reads `CLOCK_MONOTONIC` through the vDSO (no system call). [`sleep`]
//! parks the goroutine, never its thread: the thread runs other goroutines, and one
//! idle thread waits for the earliest timer of the whole process. [`after`] and
//! [`tick`] deliver the time on a channel, for use with [`select!`](crate::select!).

pub use core::time::Duration;

use crate::chan::Chan;
use crate::runtime::time::{chan_timer, dur_ns, time_sleep};
use crate::runtime::vdso_linux::nanotime;

/// A point on the monotonic clock (Go's time.Now() monotonic reading).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(i64);

impl Instant {
    /// Now, read through the vDSO (or the clock_gettime system call without one).
    pub fn now() -> Instant {
        Instant(nanotime())
    }

    /// Time since self (zero if self is later).
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// Time from `earlier` to self (zero if `earlier` is later).
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos((self.0 - earlier.0).max(0) as u64)
    }

    /// Nanoseconds on the monotonic clock.
    pub fn as_nanos(&self) -> i64 {
        self.0
    }

    /// The instant `ns` nanoseconds into the monotonic clock.
    pub(crate) fn from_nanos(ns: i64) -> Instant {
        Instant(ns)
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(dur_ns(d)))
    }
}

impl core::ops::Sub for Instant {
    type Output = Duration;
    fn sub(self, other: Instant) -> Duration {
        self.duration_since(other)
    }
}

/// Pause the current goroutine for at least `d` (Go's `time.Sleep`). Other
/// goroutines run meanwhile; the thread sleeps only if nothing else is runnable. A
/// zero duration returns at once.
pub fn sleep(d: Duration) {
    time_sleep(dur_ns(d))
}

/// A channel that receives the time once, after d (Go's time.After).
pub fn after(d: Duration) -> Chan<Instant> {
    chan_timer(d, 0)
}

/// A channel that receives the time every d; slow receivers miss ticks (Go's
/// time.Tick). The ticker stops when every handle to the channel is gone. Panics
/// if d is zero, as Go's NewTicker does.
#[track_caller]
pub fn tick(d: Duration) -> Chan<Instant> {
    let p = dur_ns(d);
    if p <= 0 {
        panic!("non-positive interval for NewTicker");
    }
    chan_timer(d, p)
}
