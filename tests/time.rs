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
