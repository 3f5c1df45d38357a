//! Parallelism and idleness: two CPU-bound goroutines on GOMAXPROCS=2 run at the same
//! time on two threads; one costs about one core (the idle P's thread sleeps, it does
//! not spin); an idle runtime uses no CPU. One test function, so that nothing else in
//! this binary competes for the two cores.

mod common;

use common::*;

#[test]
fn cpu_time_shows_parallelism_and_no_idle_spinning() {
    for &mode in modes() {
        let r = run_env(mode, "cpu", &["2", "400"], &[("GOMAXPROCS", "2")]);
        r.assert_exit(0);
        let (wall, cpu) = (r.num("wall_ms") as f64, r.num("cpu_ms") as f64);
        assert!(
            cpu >= 780.0,
            "{mode:?}: both goroutines spun 400 ms: {}",
            r.stdout
        );
        assert_eq!(
            (r.get("threads"), r.get("overlap")),
            ("2", "true"),
            "{mode:?}: two goroutines on two Ps must run at once, on two threads: {}",
            r.stdout
        );
        let _ = wall; // reported, not asserted: a loaded host stretches it

        let r = run_env(mode, "cpu", &["1", "400"], &[("GOMAXPROCS", "2")]);
        r.assert_exit(0);
        let (wall, cpu) = (r.num("wall_ms") as f64, r.num("cpu_ms") as f64);
        assert!(
            cpu < 1.3 * wall,
            "{mode:?}: one busy goroutine must cost one core: {}",
            r.stdout
        );

        let r = run_env(mode, "cpu", &["idle", "400"], &[("GOMAXPROCS", "2")]);
        r.assert_exit(0);
        assert!(r.num("wall_ms") >= 400);
        assert!(
            r.num("cpu_ms") < 40,
            "{mode:?}: an idle runtime must not burn CPU: {}",
            r.stdout
        );
    }
}
