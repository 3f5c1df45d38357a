//! The M:N scheduler: goroutines on many threads, stealing, parking on goroutine
//! locks, and Go's fatal errors and panics for misuse. Each check runs natively and
//! under qemu-x86_64, with GOMAXPROCS=1 and the default.

mod common;

use common::*;

const PROCS: [Option<&str>; 2] = [Some("1"), None];

fn run_procs(mode: Mode, name: &str, args: &[&str], procs: Option<&str>) -> Run {
    match procs {
        Some(p) => run_env(mode, name, args, &[("GOMAXPROCS", p)]),
        None => run(mode, name, args),
    }
}

#[test]
fn hundred_thousand_goroutines_sum_exactly() {
    for mode in MODES {
        for procs in PROCS {
            let r = run_procs(mode, "goroutines", &["100000"], procs);
            r.assert_exit(0);
            assert_eq!(r.get("goroutines"), "100000", "{mode:?} {procs:?}");
            assert_eq!(r.get("sum"), r.get("want"), "{mode:?} {procs:?}");
            assert_eq!(r.get("sum"), "4999950000");
            if procs == Some("1") {
                assert_eq!(r.get("gomaxprocs"), "1");
            }
        }
    }
}

#[test]
fn goroutines_spawned_by_one_run_on_other_threads() {
    for mode in MODES {
        let r = run_env(mode, "goroutines", &["20000"], &[("GOMAXPROCS", "2")]);
        r.assert_exit(0);
        assert_eq!(r.get("sum"), r.get("want"));
        assert!(
            r.num("threads.used") >= 2,
            "{mode:?}: all ran on one M:\n{}",
            r.stdout
        );
        assert!(
            r.num("steals") > 0,
            "{mode:?}: no work was stolen:\n{}",
            r.stdout
        );
    }
}

#[test]
fn mutex_increments_are_exact() {
    for mode in MODES {
        for procs in PROCS {
            let r = run_procs(mode, "mutex", &["8", "1000000"], procs);
            r.assert_exit(0);
            assert_eq!(r.get("count"), "8000000", "{mode:?} {procs:?}");
        }
    }
}

#[test]
fn deadlock_is_reported_with_the_blocked_goroutines() {
    for mode in MODES {
        for procs in PROCS {
            let r = run_procs(mode, "misuse", &["deadlock"], procs);
            r.assert_exit(2);
            assert_eq!(
                r.stderr,
                "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [semacquire]:\n\ngoroutine 2 [semacquire]:\n",
                "{mode:?} {procs:?}"
            );
        }
    }
}

#[test]
fn misuse_gives_go_messages_and_exit_2() {
    for mode in MODES {
        let r = run(mode, "misuse", &["unlock"]);
        r.assert_exit(2);
        assert_eq!(r.stderr, "fatal error: sync: unlock of unlocked mutex\n");

        let r = run(mode, "misuse", &["waitgroup"]);
        r.assert_exit(2);
        assert!(
            r.stderr
                .starts_with("panic: sync: negative WaitGroup counter\n\ngoroutine 1 [running]:\n"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("examples/misuse.rs:"),
            "the caller's location: {}",
            r.stderr
        );

        let r = run(mode, "misuse", &["goroutine-panic"]);
        r.assert_exit(2);
        assert_eq!(r.stdout, "in goroutine 2\n");
        assert!(
            r.stderr.starts_with("panic: index out of bounds: the len is 0 but the index is 3\n\ngoroutine 2 [running]:\n"),
            "{}",
            r.stderr
        );

        let r = run_env(mode, "misuse", &["threads"], &[("GOMAXPROCS", "4")]);
        r.assert_exit(2);
        assert_eq!(
            r.stderr,
            "runtime: program exceeds 1-thread limit\nfatal error: thread exhaustion\n"
        );
    }
}
