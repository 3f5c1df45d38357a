//! Timers: sleep lasts at least its duration, 10,000 concurrent sleepers all wake,
//! after() works as a select timeout, tick() ticks, and a sleeping program is not a
//! deadlock. Natively and under qemu-x86_64, GOMAXPROCS=1 and the default.

mod common;

use common::*;

#[test]
fn sleep_lasts_at_least_its_duration() {
    each("timers", &["sleep", "50"], |r, mode, procs| {
        r.assert_exit(0);
        let slept = r.num("slept_us");
        assert!(
            slept >= 50_000,
            "{mode:?} {procs:?}: slept {slept} us for 50 ms"
        );
        assert!(
            slept < 5_000_000,
            "{mode:?} {procs:?}: slept far too long: {slept} us"
        );
    });
}

#[test]
fn ten_thousand_sleepers_all_wake() {
    each("timers", &["sleepers", "10000", "20"], |r, mode, procs| {
        r.assert_exit(0);
        assert_eq!(r.get("woke"), "10000", "{mode:?} {procs:?}");
        assert_eq!(
            r.get("early"),
            "0",
            "{mode:?} {procs:?}: a sleep ended early"
        );
    });
}

#[test]
fn after_is_a_select_timeout() {
    each("timers", &["after"], |r, _, _| {
        r.assert_exit(0);
        assert_eq!(r.get("after.result"), "timeout");
        assert_eq!(r.get("after.waited_ms_at_least_30"), "true");
        assert_eq!(r.get("after.value_first"), "9");
    });
}

#[test]
fn tick_ticks_in_order() {
    each("timers", &["tick"], |r, _, _| {
        r.assert_exit(0);
        assert_eq!(r.get("tick.count"), "5");
        assert_eq!(r.get("tick.ordered"), "true");
        assert_eq!(r.get("tick.elapsed_ms_at_least_50"), "true");
    });
}

#[test]
fn a_sleeping_goroutine_is_not_a_deadlock() {
    each("timers", &["deadlock-free"], |r, _, _| {
        r.assert_exit(0);
        assert_eq!(r.stdout, "woke=true\n");
        assert_eq!(r.stderr, "");
    });
}

#[test]
fn a_timer_load_completes() {
    each("timers", &["load", "2000", "1", "20"], |r, _, _| {
        r.assert_exit(0);
        assert_eq!(r.get("wakeups"), "40000");
    });
}

/// Go 1.23's timer semantics under races: N goroutines stop or reset timers at
/// random moments around their firing; no value from before a stop or reset is
/// ever received, a reset timer fires exactly once, and both orders happened.
#[test]
fn timer_stop_and_reset_race_with_firing() {
    for how in ["stop-race", "reset-race"] {
        each("timers", &[how, "100", "20"], |r, mode, procs| {
            r.assert_exit(0);
            let ctx = format!("{how} {mode:?} {procs:?}");
            assert_eq!(r.get("race.total"), "2000", "{ctx}");
            assert_eq!(r.get("race.stale"), "0", "{ctx}: stale value received");
            assert_eq!(r.get("race.missing"), "0", "{ctx}: reset timer never fired");
            // A value sent but not received is drained by stop/reset: pending.
            assert_eq!(r.get("race.pending"), "2000", "{ctx}");
            let fired = r.num("race.fired_first");
            assert!(
                fired > 0 && fired < 2000,
                "{ctx}: the race was not exercised: {fired} of 2000 fired first"
            );
        });
    }
}

#[test]
fn after_func_runs_stops_and_resets() {
    each("timers", &["after-func"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        assert_eq!(
            r.get("afterfunc.dropped_runs"),
            "1",
            "{ctx}: a dropped handle still runs"
        );
        assert_eq!(r.get("afterfunc.stop_pending"), "true", "{ctx}");
        assert_eq!(
            r.get("afterfunc.after_stop_runs"),
            "1",
            "{ctx}: ran after stop"
        );
        assert_eq!(r.get("afterfunc.reset_pending"), "false", "{ctx}");
        assert_eq!(
            r.get("afterfunc.after_reset_runs"),
            "2",
            "{ctx}: reset runs it again"
        );
        assert_eq!(r.get("afterfunc.final_runs"), "3", "{ctx}");
    });
}

#[test]
fn ticker_stops_and_resets() {
    each("timers", &["ticker"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        assert_eq!(r.get("ticker.five_ms_at_least_25"), "true", "{ctx}");
        assert_eq!(
            r.get("ticker.after_stop_empty"),
            "true",
            "{ctx}: ticked after stop"
        );
        assert_eq!(r.get("ticker.reset_ticks_ms_at_least_6"), "true", "{ctx}");
        assert_eq!(r.get("ticker.done"), "true", "{ctx}");
    });
}

/// A million resets of one timer, and a million `after`s abandoned in a select,
/// hold no memory (each `after` used to be kept until it fired: 187 MB).
#[test]
fn a_million_resets_keep_memory_flat() {
    each("timers", &["resets", "1000000"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        assert_eq!(r.get("resets.n"), "1000000", "{ctx}");
        let (a, b) = (
            r.num("resets.reset_growth_kb"),
            r.num("resets.after_growth_kb"),
        );
        assert!(a < 1024, "{ctx}: 1M resets grew the heap by {a} KiB");
        assert!(b < 4096, "{ctx}: 1M abandoned afters grew it by {b} KiB");
        assert_eq!(r.get("resets.pending"), "true", "{ctx}");
    });
}

/// With the network poller in use, the scheduler sleeps in epoll: a sleep still
/// lasts as long as asked, and is not rounded to epoll_pwait's whole milliseconds,
/// as Go's is: a 200 us sleep does not take 1 ms, nor a 1.5 ms one 2 ms. Natively
/// that is epoll_pwait2 (Linux 5.11); under qemu-user, which lacks it, the
/// timerfd fallback that older kernels use too (it took 1,077 and 2,152 us there).
#[test]
fn sleeps_beside_the_poller_are_not_rounded_to_milliseconds() {
    for (us, bound) in [(200, 1000), (1500, 2000)] {
        let args = ["precise", "30", &us.to_string()];
        each("timers", &args, |r, mode, procs| {
            r.assert_exit(0);
            let ctx = format!("{mode:?} {procs:?}");
            let (min, median) = (r.num("precise.min_us"), r.num("precise.median_us"));
            assert!(min >= us, "{ctx}: a {us} us sleep took {min} us");
            assert!(
                median < bound,
                "{ctx}: {us} us sleeps took {median} us (median): rounded to milliseconds"
            );
        });
    }
}

/// Goroutines spawning their successors keep the run queue all but full (249 of
/// 256 slots at GOMAXPROCS=1), so timers find no room to fire a batch into; a
/// due timer must still fire within about a millisecond of its time, not wait
/// for the churn (5 s) to end.
#[test]
fn a_full_run_queue_does_not_starve_timers() {
    each("timers", &["crowded", "50"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        assert_eq!(r.get("crowded.sleeps"), "50", "{ctx}");
        assert_eq!(
            r.get("crowded.during_churn"),
            "true",
            "{ctx}: the sleeps outlasted the churn: timers starved"
        );
        let late = r.num("crowded.worst_late_us");
        assert!(late < 500_000, "{ctx}: a 1 ms sleep ended {late} us late");
    });
}

/// Timer channels closed by their user (after, Timer, Ticker): the timers fire
/// into them and the program goes on; a closed channel receives None. (Go's are
/// receive-only; the timer's send used to panic "send on closed channel" on g0,
/// ending the program.)
#[test]
fn closing_a_timer_channel_does_not_crash_the_timer() {
    each("timers", &["closed-chan"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        assert_eq!(r.stderr, "", "{ctx}");
        assert_eq!(r.get("closed.after_recv"), "None", "{ctx}");
        assert_eq!(r.get("closed.timer_recv"), "None", "{ctx}");
        assert_eq!(r.get("closed.ticker_recv"), "None", "{ctx}");
        assert_eq!(r.get("closed.ok"), "true", "{ctx}");
    });
}
