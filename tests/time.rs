//! Timers: sleep lasts at least its duration, 10,000 concurrent sleepers all wake,
//! after() works as a select timeout, tick() ticks, and a sleeping program is not a
//! deadlock. Natively and under qemu-x86_64, GOMAXPROCS=1 and the default.

mod common;

use common::*;

const PROCS: [Option<&str>; 2] = [Some("1"), None];

fn each(args: &[&str], check: impl Fn(&Run, Mode, Option<&str>)) {
    for mode in MODES {
        for procs in PROCS {
            let r = match procs {
                Some(p) => run_env(mode, "timers", args, &[("GOMAXPROCS", p)]),
                None => run(mode, "timers", args),
            };
            r.assert_exit(0);
            check(&r, mode, procs);
        }
    }
}

#[test]
fn sleep_lasts_at_least_its_duration() {
    each(&["sleep", "50"], |r, mode, procs| {
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
    each(&["sleepers", "10000", "20"], |r, mode, procs| {
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
    each(&["after"], |r, _, _| {
        assert_eq!(r.get("after.result"), "timeout");
        assert_eq!(r.get("after.waited_ms_at_least_30"), "true");
        assert_eq!(r.get("after.value_first"), "9");
    });
}

#[test]
fn tick_ticks_in_order() {
    each(&["tick"], |r, _, _| {
        assert_eq!(r.get("tick.count"), "5");
        assert_eq!(r.get("tick.ordered"), "true");
        assert_eq!(r.get("tick.elapsed_ms_at_least_50"), "true");
    });
}

#[test]
fn a_sleeping_goroutine_is_not_a_deadlock() {
    each(&["deadlock-free"], |r, _, _| {
        assert_eq!(r.stdout, "woke=true\n");
        assert_eq!(r.stderr, "");
    });
}

#[test]
fn a_timer_load_completes() {
    each(&["load", "2000", "1", "20"], |r, _, _| {
        assert_eq!(r.get("wakeups"), "40000");
    });
}
