//! Preemption and system calls (examples/preempt.rs): loops that never block do not
//! stop timers, channel partners, `gomaxprocs` or each other; preempted code keeps
//! every register; the runtime survives a storm of preemption signals; system calls
//! through `gort::blocking` do not hold up the P; hand-off pairs and full stdout
//! pipes starve nobody; a loop preempted for a due timer yields to its goroutine.
//! Natively and under qemu-x86_64, with GOMAXPROCS=1 and the default.

mod common;

use common::*;
use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

const STORM: (&str, &str) = ("GORT_PREEMPTSTORM", "100");

fn env_procs<'a>(procs: Option<&'a str>, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = extra.to_vec();
    if let Some(p) = procs {
        env.push(("GOMAXPROCS", p));
    }
    env
}

#[test]
fn loops_that_never_block_do_not_starve_sleepers_partners_or_gomaxprocs() {
    each("preempt", &["starve"], |r, mode, procs| {
        r.assert_exit(0);
        assert_eq!(r.get("sleeps"), "50", "{mode:?} {procs:?}");
        assert_eq!(r.get("partner.sum"), "5050", "{mode:?} {procs:?}");
        let n = r.get("spinners.done");
        let (done, all) = n.split_once('/').unwrap();
        assert_eq!(done, all, "{mode:?} {procs:?}: {}", r.stdout);
        assert_eq!(r.get("preemptions.nonzero"), "true");
        let g: Vec<u64> = r
            .get("gomaxprocs")
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(g[1], g[0] + 1, "{mode:?} {procs:?}: {}", r.stdout);
        assert_eq!(g[2], g[0], "{mode:?} {procs:?}: {}", r.stdout);
        // Without preemption the program never ends (the sleeps never wake); the
        // lateness is reported here and measured in bench (`lateness`).
        eprintln!(
            "{mode:?} {procs:?}: worst sleeper lateness {} us",
            r.num("late.max_us")
        );
    });
}

#[test]
fn four_loops_on_one_p_share_it() {
    for &mode in modes() {
        let r = run_env(mode, "preempt", &["fair"], &[("GOMAXPROCS", "1")]);
        r.assert_exit(0);
        let (min, max) = (r.num("fair.min"), r.num("fair.max"));
        assert!(
            min > 0 && max <= 3 * min,
            "{mode:?}: shares not within 3x: {}",
            r.stdout
        );
    }
}

#[test]
fn preempted_code_keeps_every_register_flag_and_red_zone_word() {
    for &mode in modes() {
        for procs in PROCS {
            let env = env_procs(procs, &[STORM]);
            let r = run_env(mode, "preempt", &["regs", "10000", "30000"], &env);
            r.assert_exit(0);
            assert_eq!(
                r.get("regs.lost"),
                "0",
                "{mode:?} {procs:?}: a preemption lost state (1-15 a GPR, 16-31 a vector \
                 register, 40 the red zone, 41 CF, 42 DF): {}",
                r.stdout
            );
            assert_eq!(r.get("regs.rounds.nonzero"), "true");
            assert!(
                r.num("regs.preemptions") >= 10_000,
                "{mode:?} {procs:?}: too few preemptions to mean much: {}",
                r.stdout
            );
        }
    }
}

#[test]
fn the_runtime_survives_a_preemption_storm_with_exact_counts() {
    for &mode in modes() {
        for procs in ["1", "4"] {
            let r = run_env(mode, "preempt", &["storm"], &[STORM, ("GOMAXPROCS", procs)]);
            r.assert_exit(0);
            let ctx = format!("{mode:?} GOMAXPROCS={procs}");
            assert_eq!(r.get("storm.buf.sum"), "57599920000", "{ctx}");
            assert_eq!(r.get("storm.unbuf.count"), "160000", "{ctx}");
            assert_eq!(r.get("storm.mutex"), "160000", "{ctx}");
            assert_eq!(r.get("storm.wakes"), "4000", "{ctx}");
            assert_eq!(
                r.get("storm.short_sleeps"),
                "0",
                "{ctx}: a sleep returned early"
            );
            assert_eq!(r.get("storm.alloc_ok"), "1600", "{ctx}");
            assert_eq!(r.get("storm.deep_done"), "true", "{ctx}");
            assert!(r.num("storm.preemptions") > 0, "{ctx}: {}", r.stdout);
            if procs == "1" {
                // Nothing else runs while the deep goroutine spins: it was signalled,
                // and never injected into.
                assert!(r.num("storm.deep.signals") > 0, "{ctx}: {}", r.stdout);
                assert_eq!(r.get("storm.deep.preemptions"), "0", "{ctx}");
            }
            // 8 x 250 whole lines, none lost or torn.
            let lines: Vec<&str> = r
                .stdout
                .lines()
                .filter(|l| l.starts_with("line "))
                .collect();
            assert_eq!(lines.len(), 2000, "{ctx}");
            for l in &lines {
                assert!(
                    l.ends_with(&".".repeat(56)) && l.len() < 80,
                    "{ctx}: torn line {l:?}"
                );
            }
            assert_eq!(r.stderr, "", "{ctx}");
        }
    }
}

#[test]
fn blocking_calls_do_not_stall_the_p_and_short_ones_cost_no_handoff() {
    for &mode in modes() {
        let r = run_env(mode, "preempt", &["retake"], &[("GOMAXPROCS", "1")]);
        r.assert_exit(0);
        assert!(
            r.num("retake.ticks_during_500ms") >= 100,
            "{mode:?}: a 1 ms ticker stalled behind a 500 ms system call: {}",
            r.stdout
        );
        // A hand-off needs one call to outlast a sysmon look, which only happens when
        // the host deschedules the thread in the middle of a call.
        assert!(
            r.num("retake.short_handoffs") < 1000,
            "{mode:?}: short calls were handed off: {}",
            r.stdout
        );
        assert!(
            r.num("retake.threads_after") <= r.num("retake.threads_before") + 2,
            "{mode:?}: short calls started threads: {}",
            r.stdout
        );
        eprintln!(
            "{mode:?}: {} of 1000000 short blocking calls handed off",
            r.num("retake.short_handoffs")
        );
    }
}

#[test]
fn hand_off_pairs_do_not_starve_a_yielding_goroutine_or_a_sleeper() {
    for &mode in modes() {
        // The lateness bound holds on a quiet host; a loaded one may deschedule us,
        // so the best of three attempts is checked.
        let mut best = u64::MAX;
        for _ in 0..3 {
            let r = run_env(mode, "preempt", &["handoff"], &[("GOMAXPROCS", "1")]);
            r.assert_exit(0);
            let mut worst = 0;
            for kind in ["chan", "cond"] {
                assert_eq!(r.get(&format!("handoff.{kind}.counted")), "100", "{mode:?}");
                assert_eq!(r.get(&format!("handoff.{kind}.rounds.nonzero")), "true");
                worst = worst.max(r.num(&format!("handoff.{kind}.sleep_late_us")));
                worst = worst.max(1000 * r.num(&format!("handoff.{kind}.count_ms")) / 5);
            }
            best = best.min(worst);
            if best <= 20_000 {
                break;
            }
        }
        assert!(
            best <= 20_000,
            "{mode:?}: main's sleep woke {best} us late beside a hand-off pair (or the \
             counter took more than 100 ms)"
        );
    }
}

/// At GOMAXPROCS=1, beside a goroutine that sleeps 7 ms and then spins 30 ms, over
/// and over, main's 1 ms sleeps end on time: when sysmon preempts the loop for
/// main's due timer, main runs next. (The scheduler's every-61st-round look at the
/// global queue used to pick the loop straight back from there, and main then
/// waited out the loop's 10 ms slice: 7 to 21 of 300 sleeps were 5 to 20 ms late,
/// in every run.) A loaded host may deschedule us (a reviewer saw up to 6 late
/// sleeps a run with load average 3), so the best of five attempts is checked.
#[test]
fn a_loop_preempted_for_a_timer_lets_the_timers_goroutine_run_first() {
    for &mode in modes() {
        let mut best = u64::MAX;
        for _ in 0..5 {
            let r = run_env(mode, "preempt", &["timer-loop"], &[("GOMAXPROCS", "1")]);
            r.assert_exit(0);
            assert_eq!(r.get("timer_loop.sleeps"), "300", "{mode:?}");
            best = best.min(r.num("timer_loop.late5ms"));
            if best <= 4 {
                break;
            }
        }
        assert!(
            best <= 4,
            "{mode:?}: {best} of 300 1 ms sleeps beside a loop ended more than 5 ms late"
        );
    }
}

#[test]
fn a_goroutine_readied_inside_blocking_runs_before_the_call_ends() {
    // 20 rounds of a 30 ms kernel sleep inside gort::blocking, after 40 ms in
    // which sysmon backs off, at GOMAXPROCS=1: the goroutine the call readies (or
    // starts) needs the call's P. The code before this test took it at sysmon's
    // second look, 16-19 ms later, in 16-20 rounds of 20; now within 1 ms
    // natively, 3 ms under qemu. Best of three: a loaded CI host can delay a look.
    for &mode in modes() {
        let mut best = u64::MAX;
        for _ in 0..3 {
            let r = run(mode, "preempt", &["blocking-ready", "20"]);
            r.assert_exit(0);
            assert_eq!(r.get("blocking_ready.rounds"), "20", "{mode:?}");
            best = best.min(r.num("blocking_ready.late5"));
            if best <= 2 {
                break;
            }
        }
        assert!(
            best <= 2,
            "{mode:?}: in {best} of 20 rounds a goroutine readied inside blocking waited more than 5 ms"
        );
    }
}

#[test]
fn a_full_stdout_pipe_holds_up_only_the_writer() {
    for &mode in modes() {
        for arg in ["stdout", "stdout-nonblock"] {
            let mut cmd = command(mode, "preempt", &[arg]);
            cmd.env("GOMAXPROCS", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            let mut out = child.stdout.take().unwrap();
            let mut err = child.stderr.take().unwrap();
            let te = std::thread::spawn(move || {
                let mut s = String::new();
                err.read_to_string(&mut s).unwrap();
                s
            });
            // Nobody reads stdout for 2 s: the writer waits, the ticker must not.
            std::thread::sleep(Duration::from_secs(2));
            let mut bytes = Vec::new();
            out.read_to_end(&mut bytes).unwrap();
            let st = child.wait().unwrap();
            let stderr = te.join().unwrap();
            assert!(st.success(), "{mode:?} {arg}: {st:?} {stderr}");
            assert_eq!(bytes.len(), 1 << 20, "{mode:?} {arg}: output lost");
            for (i, line) in bytes.chunks(64).enumerate() {
                let want = format!("{i:08}{}\n", ".".repeat(55));
                assert_eq!(line, want.as_bytes(), "{mode:?} {arg}: line {i}");
            }
            let get = |k: &str| -> u64 {
                stderr
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{k}=")))
                    .unwrap_or_else(|| panic!("{mode:?} {arg}: no {k} in {stderr}"))
                    .parse()
                    .unwrap()
            };
            // All 150 ticks came while stdout was full (the test read nothing yet).
            assert_eq!(get("stdout.ticks"), 150, "{mode:?} {arg}");
            if mode == Mode::Native {
                // A writer waiting on a full non-blocking stdout sleeps in poll(2).
                assert!(
                    get("stdout.cpu_ms") < 500,
                    "{mode:?} {arg}: the writer spun: {stderr}"
                );
            }
        }
    }
}

#[test]
fn asyncpreemptoff_sends_no_signals() {
    for &mode in modes() {
        let r = run_env(mode, "preempt", &["spin", "100"], &[("GOMAXPROCS", "2")]);
        r.assert_exit(0);
        assert!(r.num("spin.signals") > 0, "{mode:?}: {}", r.stdout);
        let r = run_env(
            mode,
            "preempt",
            &["spin", "100"],
            &[("GOMAXPROCS", "2"), ("GODEBUG", "asyncpreemptoff=1")],
        );
        r.assert_exit(0);
        assert_eq!(r.get("spin.signals"), "0", "{mode:?}");
        assert_eq!(r.get("spin.preemptions"), "0", "{mode:?}");
        // A SIGURG from outside the runtime does not preempt either (it did: 6
        // preemptions in 100 ms).
        let r = run_env(
            mode,
            "preempt",
            &["spin", "100", "urg"],
            &[("GOMAXPROCS", "2"), ("GODEBUG", "asyncpreemptoff=1")],
        );
        r.assert_exit(0);
        assert_eq!(r.get("spin.preemptions"), "0", "{mode:?}: {}", r.stdout);
    }
}

/// Goroutines that loop on the clock (`while t.elapsed() < d {}`) are in the vDSO
/// most of the time, where a preemption signal is refused; Instant::now acts on a
/// pending request, as a function call would in Go. Before, main, readied by their
/// sends, waited 90 ms on average and up to 500 ms, more than 100 ms in 11-13 of
/// 30 takes (natively; qemu's clock is no vDSO). Now about 20 ms, a slice, as Go.
/// Best of three: a loaded host can stretch a slice.
#[test]
fn loops_on_the_clock_are_preempted() {
    for &mode in modes() {
        let mut best = u64::MAX;
        for _ in 0..3 {
            let r = run(mode, "preempt", &["clock-loop", "30"]);
            r.assert_exit(0);
            assert_eq!(r.get("clock_loop.takes"), "30", "{mode:?}");
            best = best.min(r.num("clock_loop.late100"));
            if best <= 2 {
                break;
            }
        }
        assert!(
            best <= 2,
            "{mode:?}: {best} of 30 takes more than 100 ms late"
        );
    }
}

/// GORT_PREEMPTSTORM only adds preemptions: an interval longer than sysmon's
/// own (here 100 s) must not stretch sysmon's looks to it. It did: no look for
/// 100 s, so a loop beside main's sleep at GOMAXPROCS=1 was never preempted and
/// the program hung.
#[test]
fn a_long_preempt_storm_interval_leaves_sysmon_its_own_looks() {
    for &mode in modes() {
        let r = run_env(
            mode,
            "preempt",
            &["spin", "200"],
            &[("GOMAXPROCS", "1"), ("GORT_PREEMPTSTORM", "100000000")],
        );
        r.assert_exit(0);
        assert!(r.num("spin.preemptions") > 0, "{mode:?}: {}", r.stdout);
    }
}

#[test]
fn concurrent_gomaxprocs_calls_beside_loops_complete() {
    each("preempt", &["procs"], |r, mode, procs| {
        r.assert_exit(0);
        assert_eq!(r.get("procs.calls"), "800", "{mode:?} {procs:?}");
        assert_eq!(r.get("procs.final"), "2", "{mode:?} {procs:?}");
    });
}

#[test]
fn every_gort_operation_works_inside_blocking() {
    each("preempt", &["blocking-ops"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        assert_eq!(r.get("blocking.sum"), "45", "{ctx}"); // 0+1+2 + 40 + 2
        assert_eq!(r.get("blocking.slept"), "true", "{ctx}");
        assert_eq!(r.get("blocking.gomaxprocs"), "true", "{ctx}");
        assert_eq!(r.get("blocking.mutex"), "1", "{ctx}");
        assert_eq!(r.get("blocking.locked_inside"), "2", "{ctx}");
        // trace start/stop, free_os_memory, heap_stats(true): they stop the world.
        assert_eq!(r.get("blocking.trace"), "true", "{ctx}");
        assert_eq!(r.get("blocking.heap_stats"), "true", "{ctx}");
    });
}

#[test]
fn no_preempt_sections_are_not_preempted_and_must_not_block() {
    for &mode in modes() {
        let r = run_env(mode, "preempt", &["nopreempt"], &[("GOMAXPROCS", "1")]);
        r.assert_exit(0);
        assert_eq!(r.get("nopreempt.preemptions"), "0", "{mode:?}");
        let r = run(mode, "preempt", &["nopreempt-sleep"]);
        r.assert_exit(2);
        assert!(
            r.stderr.starts_with(
                "fatal error: gort: goroutine blocked or yielded inside a NoPreempt section\n"
            ),
            "{mode:?}: {}",
            r.stderr
        );
    }
}
