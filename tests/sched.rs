//! The M:N scheduler: goroutines on many threads, stealing, parking on goroutine
//! locks, and Go's fatal errors and panics for misuse. Each check runs natively and
//! under qemu-x86_64, with GOMAXPROCS=1 and the default.

mod common;

use common::*;

#[test]
fn hundred_thousand_goroutines_sum_exactly() {
    for &mode in modes() {
        for procs in PROCS {
            let r = run_procs(mode, "goroutines", &["100000"], procs);
            r.assert_exit(0);
            assert_eq!(r.get("goroutines"), "100000", "{mode:?} {procs:?}");
            assert_eq!(r.get("sum"), r.get("want"), "{mode:?} {procs:?}");
            assert_eq!(r.get("sum"), "4999950000");
            assert_eq!(r.get("big.sum"), r.get("big.want"), "{mode:?} {procs:?}");
            if procs == Some("1") {
                assert_eq!(r.get("gomaxprocs"), "1");
            }
        }
    }
}

/// Goroutines one goroutine spawns also run on the other P's thread. That thread
/// must get a CPU while the 20,000 run (a few ms): the host's scheduler may not
/// give it one when the machine is loaded (CI runs tests side by side: one run in
/// a CI saw every goroutine on one M; none in 200 on a quiet host), so the best of
/// three attempts is checked.
#[test]
fn goroutines_spawned_by_one_run_on_other_threads() {
    for &mode in modes() {
        let mut r = run_env(mode, "goroutines", &["20000"], &[("GOMAXPROCS", "2")]);
        for _ in 0..2 {
            if r.num("threads.used") >= 2 {
                break;
            }
            r = run_env(mode, "goroutines", &["20000"], &[("GOMAXPROCS", "2")]);
        }
        r.assert_exit(0);
        assert_eq!(r.get("sum"), r.get("want"));
        assert!(
            r.num("threads.used") >= 2,
            "{mode:?}: all ran on one M, three times:\n{}",
            r.stdout
        );
        assert_eq!(
            r.get("spin.done"),
            "64",
            "{mode:?}: goroutines queued behind a busy P never ran"
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
    for &mode in modes() {
        for procs in PROCS {
            let r = run_procs(mode, "mutex", &["8", "1000000"], procs);
            r.assert_exit(0);
            assert_eq!(r.get("count"), "8000000", "{mode:?} {procs:?}");
        }
    }
}

#[test]
fn deadlock_is_reported_with_the_blocked_goroutines() {
    for &mode in modes() {
        for procs in PROCS {
            let r = run_procs(mode, "misuse", &["deadlock"], procs);
            r.assert_exit(2);
            let (head, created) = r
                .stderr
                .split_once("created by goroutine 1\n\texamples/misuse.rs:")
                .unwrap_or_else(|| panic!("{mode:?}: {}", r.stderr));
            assert_eq!(
                head,
                "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [semacquire]:\n\ngoroutine 2 [semacquire]:\n",
                "{mode:?} {procs:?}"
            );
            assert!(
                created.ends_with('\n')
                    && created
                        .trim_end()
                        .split(':')
                        .all(|n| n.parse::<u32>().is_ok()),
                "{created:?}"
            );
        }
    }
}

#[test]
fn misuse_gives_go_messages_and_exit_2() {
    for &mode in modes() {
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

        for (arg, what) in [
            ("ticker-zero", "NewTicker"),
            ("ticker-reset-zero", "Ticker.Reset"),
        ] {
            let r = run(mode, "misuse", &[arg]);
            r.assert_exit(2);
            assert_eq!(r.stdout, "tick0_nil=true\n", "{mode:?} {arg}");
            assert!(
                r.stderr.starts_with(&format!(
                    "panic: non-positive interval for {what}\n\ngoroutine 1 [running]:\n"
                )),
                "{mode:?} {arg}: {}",
                r.stderr
            );
        }

        let r = run_env(mode, "misuse", &["threads"], &[("GOMAXPROCS", "4")]);
        r.assert_exit(2);
        assert_eq!(
            r.stderr,
            "runtime: program exceeds 1-thread limit\nfatal error: thread exhaustion\n"
        );
        // A limit of 0 or less is stored as given, as Go's SetMaxThreads, and the
        // program, having threads, dies at once naming it (it used to say 1).
        for n in ["0", "-5", "-2147483648"] {
            let r = run(mode, "misuse", &["max-threads", n]);
            r.assert_exit(2);
            assert_eq!(r.stdout, "", "{mode:?} {n}");
            assert_eq!(
                r.stderr,
                format!(
                    "runtime: program exceeds {n}-thread limit\nfatal error: thread exhaustion\n"
                ),
                "{mode:?} {n}"
            );
        }
    }
}

#[test]
fn gomaxprocs_changes_under_load_lose_nothing() {
    for &mode in modes() {
        for procs in PROCS {
            let r = run_procs(mode, "procs", &["16", "20000"], procs);
            r.assert_exit(0);
            assert_eq!(r.get("work"), r.get("want"), "{mode:?} {procs:?}");
            assert_eq!(r.get("work"), "320000");
            assert_eq!(
                r.get("helpers"),
                r.get("helpers.want"),
                "{mode:?} {procs:?}"
            );
            assert_eq!(r.get("changes.enough"), "true");
        }
    }
}

#[test]
fn stack_overflow_is_fatal_with_go_messages() {
    for &mode in modes() {
        for (how, goid) in [("overflow", 1), ("overflow-goroutine", 2)] {
            let r = run(mode, "fault", &[how]);
            r.assert_exit(2);
            assert!(
                r.stderr.starts_with(
                    "runtime: goroutine stack exceeds 262144-byte limit\nruntime: sp="
                ),
                "{mode:?} {how}: {}",
                r.stderr
            );
            assert!(
                r.stderr.contains("\nfatal error: stack overflow\n"),
                "{mode:?} {how}: {}",
                r.stderr
            );
            assert!(
                r.stderr
                    .contains("[signal SIGSEGV: segmentation violation code="),
                "{}",
                r.stderr
            );
            assert!(
                r.stderr
                    .ends_with(&format!("\ngoroutine {goid} [running]:\n")),
                "{}",
                r.stderr
            );
        }
        // The limit follows GORT_STACKSIZE.
        let r = run_env(
            mode,
            "fault",
            &["overflow-goroutine"],
            &[("GORT_STACKSIZE", "64k")],
        );
        r.assert_exit(2);
        assert!(
            r.stderr
                .starts_with("runtime: goroutine stack exceeds 65536-byte limit\n"),
            "{}",
            r.stderr
        );
    }
}

/// A malformed GORT_STACKSIZE is a fatal error that says what is accepted; an
/// empty one counts as unset, as GOMAXPROCS= and GORT_TRACE= do (it was a fatal
/// error).
#[test]
fn bad_gort_stacksize_is_a_clear_fatal_error() {
    for &mode in modes() {
        for bad in ["abc", "8k", "2g", "12q", " ", "0"] {
            let r = run_env(mode, "hello", &[], &[("GORT_STACKSIZE", bad)]);
            r.assert_exit(2);
            assert_eq!(r.stdout, "");
            assert_eq!(
                r.stderr,
                format!(
                    "fatal error: GORT_STACKSIZE={bad:?} is not a stack size (bytes, or with a k, m or g suffix, from 16k to 1g)\n"
                )
            );
        }
        let r = run_env(mode, "goroutines", &["1000"], &[("GORT_STACKSIZE", "16k")]);
        r.assert_exit(0);
        assert_eq!(r.get("sum"), "499500");
        // Empty: the default size (256 KiB), as if unset.
        let r = run_env(
            mode,
            "fault",
            &["overflow-goroutine"],
            &[("GORT_STACKSIZE", "")],
        );
        r.assert_exit(2);
        assert!(
            r.stderr
                .starts_with("runtime: goroutine stack exceeds 262144-byte limit\n"),
            "{mode:?}: {}",
            r.stderr
        );
    }
}

/// Large stacks make small chunks (one stack per mapping at 1 GiB, not 64): under
/// qemu-user, whose page tracking costs per mapped page, 64 GiB mappings made 1,000
/// goroutines take seconds. Natively the goroutines yield, so hundreds hold a 1 GiB
/// stack at once; under qemu each finishes first (every live 1 GiB stack still costs
/// qemu 7.2 about 6 MB of its own memory, which gort cannot avoid).
#[test]
fn one_gib_stacks_are_cheap_to_make() {
    for &mode in modes() {
        let args: &[&str] = match mode {
            Mode::Native => &["10000"],
            Mode::Qemu => &["10000", "noyield"],
        };
        let r = run_env(mode, "goroutines", args, &[("GORT_STACKSIZE", "1g")]);
        r.assert_exit(0);
        assert_eq!(r.get("sum"), "49995000", "{mode:?}");
    }
}

/// A fault signal sent by a process (kill) is reported as a signal, as Go reports
/// SI_USER signals, not as a nil dereference at a made-up address.
#[test]
fn signals_from_kill_are_not_faults() {
    for &mode in modes() {
        for (how, name) in [
            ("kill-segv", "SIGSEGV: segmentation violation"),
            ("kill-fpe", "SIGFPE: floating-point exception"),
        ] {
            let r = run(mode, "fault", &[how]);
            r.assert_exit(2);
            assert_eq!(r.stdout, format!("fault: {how}\n"), "{mode:?}");
            assert!(
                r.stderr.starts_with(&format!("{name}\nPC=0x"))
                    // SI_TKILL (-6): the example signals its own thread with tgkill.
                    && r.stderr.contains(" sigcode=-6\n\ngoroutine 1 [running]:\n")
                    && !r.stderr.contains("panic"),
                "{mode:?} {how}: {}",
                r.stderr
            );
        }
    }
}

#[test]
fn faults_become_go_panics() {
    for &mode in modes() {
        let r = run(mode, "fault", &["nil"]);
        r.assert_exit(2);
        assert!(
            r.stderr.starts_with(
                "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x"
            ),
            "{mode:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.ends_with("]\n\ngoroutine 1 [running]:\n"),
            "{}",
            r.stderr
        );

        let r = run(mode, "fault", &["wild"]);
        r.assert_exit(2);
        assert!(
            r.stderr.starts_with(
                "unexpected fault address 0x7dead0000000\nfatal error: fault\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x7dead0000000 pc=0x"
            ),
            "{mode:?}: {}",
            r.stderr
        );

        let r = run(mode, "fault", &["divide"]);
        r.assert_exit(2);
        assert!(
            r.stderr.starts_with("panic: runtime error: integer divide by zero\n[signal SIGFPE: floating-point exception code=0x1 addr=0x"),
            "{mode:?}: {}",
            r.stderr
        );

        // Go's sigtable throws on SIGILL: the signal, where, every goroutine.
        let r = run(mode, "fault", &["ud2"]);
        r.assert_exit(2);
        assert!(
            r.stderr.starts_with("SIGILL: illegal instruction\nPC=0x")
                && r.stderr.contains(" sigcode=2\n")
                && r.stderr.contains("\ngoroutine 1 [running]:\n"),
            "{mode:?}: {}",
            r.stderr
        );
    }
}

/// A million goroutines parked at once, then released: native only (under qemu-user
/// stacks need mprotect guards, two mappings each, and vm.max_map_count stops that
/// near 32k); slow but bounded.
#[test]
fn a_million_goroutines_park_and_wake() {
    let mut cmd = command(Mode::Native, "park", &["1000000"]);
    cmd.env_remove("GORT_STACKSIZE");
    let r = run_cmd(cmd, std::time::Duration::from_secs(180));
    r.assert_exit(0);
    assert_eq!(r.get("started"), "1000000");
    assert_eq!(r.get("goroutines"), "1000001");
    assert_eq!(r.get("finished"), "1000000");
    // Resident memory per parked goroutine: within one page plus the G.
    assert!(r.num("rss.per_goroutine") <= 4096 + 1024, "{}", r.stdout);
}

#[test]
fn parked_goroutines_under_qemu() {
    for procs in PROCS {
        let r = run_procs(Mode::Qemu, "park", &["10000"], procs);
        r.assert_exit(0);
        assert_eq!(r.get("finished"), "10000");
    }
}

fn assert_sched_line(line: &str, procs: usize) {
    // SCHED 0ms: gomaxprocs=2 idleprocs=1 threads=2 spinningthreads=0 idlethreads=1 runqueue=0 [0 0]
    let rest = line
        .strip_prefix("SCHED ")
        .unwrap_or_else(|| panic!("not a SCHED line: {line}"));
    let (ms, rest) = rest.split_once("ms: ").unwrap();
    ms.parse::<u64>().unwrap();
    let mut fields = rest.split(' ');
    for key in [
        "gomaxprocs",
        "idleprocs",
        "threads",
        "spinningthreads",
        "idlethreads",
        "runqueue",
    ] {
        let f = fields.next().unwrap();
        let v = f
            .strip_prefix(&format!("{key}="))
            .unwrap_or_else(|| panic!("{key} in {line}"));
        let v: usize = v.parse().unwrap();
        if key == "gomaxprocs" {
            assert_eq!(v, procs, "{line}");
        }
    }
    let queues: Vec<&str> = fields.collect();
    assert_eq!(queues.len(), procs, "one run queue length per P: {line}");
    assert!(
        queues[0].starts_with('[') && queues[procs - 1].ends_with(']'),
        "{line}"
    );
}

#[test]
fn schedtrace_in_go_format() {
    for &mode in modes() {
        let r = run_env(mode, "schedtrace", &[], &[("GOMAXPROCS", "3")]);
        r.assert_exit(0);
        assert_eq!(r.stdout, "ok\n");
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_sched_line(lines[0], 3);
        assert!(
            lines[1].starts_with("SCHED ")
                && lines[1].contains(" gcwaiting=0 nmidlelocked=0 stopwait=0"),
            "{}",
            r.stderr
        );
        for p in 0..3 {
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with(&format!("  P{p}: status="))),
                "P{p}: {}",
                r.stderr
            );
        }
        assert!(
            lines.iter().any(|l| l.starts_with("  M0: p=")),
            "{}",
            r.stderr
        );
        assert!(
            lines.iter().any(|l| l.starts_with("  G1: status=2() m=")),
            "{}",
            r.stderr
        );
        assert!(
            lines.contains(&"  G2: status=4(semacquire) m=-1 lockedm=-1"),
            "{}",
            r.stderr
        );

        // GODEBUG=schedtrace=N prints it every N ms from the monitor thread.
        let r = run_env(
            mode,
            "cpu",
            &["1", "120"],
            &[("GODEBUG", "schedtrace=20"), ("GOMAXPROCS", "2")],
        );
        r.assert_exit(0);
        let sched: Vec<&str> = r
            .stderr
            .lines()
            .filter(|l| l.starts_with("SCHED "))
            .collect();
        assert!(sched.len() >= 3, "{mode:?}: {}", r.stderr);
        for l in sched {
            assert_sched_line(l, 2);
        }
    }
}

#[test]
fn stack_size_per_spawn() {
    for &mode in modes() {
        let r = run(mode, "fault", &["overflow-small"]);
        r.assert_exit(2);
        assert!(
            r.stderr
                .starts_with("runtime: goroutine stack exceeds 32768-byte limit\n"),
            "{mode:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("\nfatal error: stack overflow\n"),
            "{}",
            r.stderr
        );
        // Recursion that overflows the default 256 KiB fits in a spawn-time 8 MiB.
        let r = run(mode, "fault", &["deep"]);
        r.assert_exit(0);
        assert_eq!(r.get("deep"), "2000", "{mode:?}");
    }
}

#[test]
fn a_blocking_system_call_hands_off_its_p() {
    for &mode in modes() {
        for procs in PROCS {
            let r = run_procs(mode, "cpu", &["blocking", "300"], procs);
            r.assert_exit(0);
            // The worker needs the only P while the sleeper's thread is in nanosleep.
            assert_eq!(r.get("order"), "worker,sleeper", "{mode:?} {procs:?}");
        }
    }
}

#[test]
fn print_goroutines_lists_each_with_its_wait_reason_and_creator() {
    each("dump", &[], |r, mode, procs| {
        r.assert_exit(0);
        let e = &r.stderr;
        assert!(
            e.starts_with("\ngoroutine 1 [running]:\n"),
            "{mode:?} {procs:?}: {e}"
        );
        assert_dump_lists_the_waiters(e, mode);
        assert_eq!(r.stdout, "done\n");
    });
}

#[test]
fn sigquit_prints_every_goroutine_and_exits_2() {
    use std::io::{BufRead, BufReader, Read};
    for &mode in modes() {
        let mut cmd = command(mode, "dump", &["wait"]);
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, "waiting\n", "{mode:?}");
        // Let main get from its print (a system call) to its channel receive.
        std::thread::sleep(std::time::Duration::from_millis(300));
        std::process::Command::new("kill")
            .args(["-QUIT", &child.id().to_string()])
            .status()
            .unwrap();
        let st = child.wait().unwrap();
        let mut e = String::new();
        child.stderr.take().unwrap().read_to_string(&mut e).unwrap();
        assert_eq!(st.code(), Some(2), "{mode:?}: {st:?} {e}");
        assert!(e.starts_with("SIGQUIT: quit\nPC=0x"), "{mode:?}: {e}");
        assert!(
            e.contains("\n\ngoroutine 1 [chan receive]:\n"),
            "{mode:?}: {e}"
        );
        assert_dump_lists_the_waiters(&e, mode);
    }
}

/// examples/dump.rs's goroutines 2-5, each with its wait reason and creator.
fn assert_dump_lists_the_waiters(e: &str, mode: Mode) {
    for (n, what) in [
        (2, "chan receive"),
        (3, "sleep"),
        (4, "semacquire"),
        (5, "IO wait"),
    ] {
        let h = format!("\ngoroutine {n} [{what}]:\ncreated by goroutine 1\n\texamples/dump.rs:");
        assert!(e.contains(&h), "{mode:?}: no {h:?} in\n{e}");
    }
}
