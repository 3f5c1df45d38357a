//! Time: the monotonic clock, sleeping, timeouts and tickers (Go's package `time`).
//!
//! [`Instant`] reads `CLOCK_MONOTONIC` through the vDSO (no system call). [`sleep`]
//! parks the goroutine, never its thread: the thread runs other goroutines, and one
//! idle thread waits for the earliest timer of the whole process. [`after`] and
//! [`tick`] deliver the time on a channel, for use with [`select!`](crate::select!);
//! [`Timer`] and [`Ticker`] do so and can be stopped and reset; [`after_func`] runs
//! a function in its own goroutine. Stopping and resetting cost no allocation and
//! no search: a million resets of one timer use the memory of one.

pub use core::time::Duration;

use crate::chan::Chan;
use alloc::sync::Arc;
use core::ptr::NonNull;

use crate::runtime::time::{dur_ns, time_sleep, when_after, BoxTimer};
use crate::runtime::vdso_linux::nanotime;

/// A point on the monotonic clock (Go's time.Now() monotonic reading).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(i64);

impl Instant {
    /// Now, read through the vDSO (or the clock_gettime system call without one).
    ///
    /// Also a preemption point, as a function call is in Go: a loop that waits on
    /// the clock (`while t.elapsed() < d {}`) spends most of its time inside the
    /// vDSO, where a preemption signal is refused (preempt.rs), so sysmon's asks
    /// kept missing it, one per look, for up to seconds, while a goroutine it had
    /// readied (a Mutex waiter, a channel receiver) waited. A pending request is
    /// acted on here instead.
    pub fn now() -> Instant {
        let t = nanotime();
        crate::runtime::proc::preempt_check();
        Instant(t)
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

/// A channel that receives the time once, after d (Go's time.After). The timer
/// behind it goes away once it has fired or nobody holds the channel.
pub fn after(d: Duration) -> Chan<Instant> {
    Timer::new(d).c().clone()
}

/// A channel that receives the time every d; slow receivers miss ticks (Go's
/// time.Tick). The ticker stops when every handle to the channel is gone. For a
/// zero d, the nil channel (it never delivers), as Go's Tick returns nil.
pub fn tick(d: Duration) -> Chan<Instant> {
    if dur_ns(d) <= 0 {
        return Chan::nil();
    }
    Ticker::new(d).c().clone()
}

/// A single event (Go's time.Timer): at its time, the time is sent on [`c`](Timer::c)
/// (or, made by [`after_func`], a function runs in its own goroutine).
///
/// [`stop`](Timer::stop) and [`reset`](Timer::reset) act as in Go 1.23: once they
/// return, nothing from the old schedule is received (the channel is drained), and
/// they say whether the timer was still pending. Dropping the handle does not stop
/// the timer: an `after_func` function still runs, and a channel timer still sends
/// to anyone holding a clone of its channel (with no such clone it is simply
/// collected).
pub struct Timer {
    b: NonNull<BoxTimer>,
}

// SAFETY: a BoxTimer is shared by design: its timer is under its own locks, its
// channel and function are Send + Sync.
unsafe impl Send for Timer {}
// SAFETY: as Send: every method takes &self and goes through the timer's locks.
unsafe impl Sync for Timer {}

impl Timer {
    /// A timer that sends the time on its channel after d (Go's time.NewTimer).
    pub fn new(d: Duration) -> Timer {
        Timer {
            b: BoxTimer::start(when_after(d), 0, None),
        }
    }

    fn inner(&self) -> &BoxTimer {
        // SAFETY: the box lives at least as long as this handle (see Drop).
        unsafe { self.b.as_ref() }
    }

    /// The channel the time is sent on (Go's t.C); capacity 1. Never sent on for a
    /// timer made by [`after_func`].
    pub fn c(&self) -> &Chan<Instant> {
        self.inner().chan()
    }

    /// Keep the timer from firing. Returns true if it was pending, false if it had
    /// already fired or been stopped. Afterwards the channel is empty.
    pub fn stop(&self) -> bool {
        self.inner().timer().stop(None)
    }

    /// Make the timer fire d from now instead (whether or not it was pending).
    /// Returns true if it was pending. Afterwards the channel holds nothing from
    /// before the reset.
    pub fn reset(&self, d: Duration) -> bool {
        self.inner().timer().modify(when_after(d), 0, None)
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // SAFETY: the handle's box, released once.
        unsafe { BoxTimer::release(self.b) };
    }
}

impl core::fmt::Debug for Timer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Timer").finish_non_exhaustive()
    }
}

/// Run f in its own goroutine after d (Go's time.AfterFunc). The returned timer
/// can stop or reset it; a reset after it fired runs f again.
pub fn after_func<F: Fn() + Send + Sync + 'static>(d: Duration, f: F) -> Timer {
    Timer {
        b: BoxTimer::start(when_after(d), 0, Some(Arc::new(f))),
    }
}

/// Ticks every period (Go's time.Ticker): the time is sent on [`c`](Ticker::c);
/// a receiver that falls behind misses ticks rather than queueing them.
pub struct Ticker {
    b: NonNull<BoxTimer>,
}

// SAFETY: as Timer.
unsafe impl Send for Ticker {}
// SAFETY: as Timer.
unsafe impl Sync for Ticker {}

/// A ticker's period in ns; panics on zero as Go's NewTicker and Reset do, with
/// their messages (`what` is "NewTicker" or "Ticker.Reset").
#[track_caller]
fn period_ns(d: Duration, what: &str) -> i64 {
    let p = dur_ns(d);
    if p <= 0 {
        panic!("non-positive interval for {what}");
    }
    p
}

impl Ticker {
    /// A ticker with period d (Go's time.NewTicker). Panics if d is zero.
    #[track_caller]
    pub fn new(d: Duration) -> Ticker {
        let p = period_ns(d, "NewTicker");
        Ticker {
            b: BoxTimer::start(when_after(d), p, None),
        }
    }

    fn inner(&self) -> &BoxTimer {
        // SAFETY: the box lives at least as long as this handle (see Drop).
        unsafe { self.b.as_ref() }
    }

    /// The channel the ticks are sent on (Go's t.C); capacity 1.
    pub fn c(&self) -> &Chan<Instant> {
        self.inner().chan()
    }

    /// Turn the ticker off; no tick is received after this returns.
    pub fn stop(&self) {
        self.inner().timer().stop(None);
    }

    /// Tick every d from now on (a stopped ticker restarts). Panics if d is zero.
    #[track_caller]
    pub fn reset(&self, d: Duration) {
        let p = period_ns(d, "Ticker.Reset");
        self.inner().timer().modify(when_after(d), p, None);
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        // SAFETY: the handle's box, released once.
        unsafe { BoxTimer::release(self.b) };
    }
}

impl core::fmt::Debug for Ticker {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ticker").finish_non_exhaustive()
    }
}
