//! Go's execution trace: traces written by gort (GORT_TRACE at boot, and
//! gort::trace::start/stop while goroutines exist) are parsed by Go's own parser
//! (`go tool trace -d`, from Debian's golang-go) and hold the events of what the
//! programs did: goroutines created, started, blocked on channels and the network,
//! sleeping, preempted, unblocked, in system calls; Ps starting and stopping. A
//! fatal exit (SIGQUIT) still leaves a parseable trace. Natively and under
//! qemu-x86_64, GOMAXPROCS=1 and the default.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::process::Command;

/// Parse a trace with `go tool trace -d`: event counts by name, or the parser's
/// complaint.
fn parse(path: &std::path::Path) -> BTreeMap<String, u64> {
    let out = Command::new("go")
        .args(["tool", "trace", "-d"])
        .arg(path)
        .output()
        .expect("go tool trace (golang-go; make test installs it)");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !text.contains("failed to parse"),
        "{}: go tool trace -d failed:\n{}",
        path.display(),
        &text[..text.len().min(2000)]
    );
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        // "<ts> <Event> p=.. g=.. off=.. ..."
        let mut f = line.split_whitespace();
        if let (Some(ts), Some(ev)) = (f.next(), f.next()) {
            if ts.parse::<u64>().is_ok() {
                *counts.entry(ev.to_string()).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// A fresh trace path for one run.
fn trace_path(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gort-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{tag}.trace"));
    let _ = std::fs::remove_file(&p);
    p
}

/// Run example with GORT_TRACE in every mode and GOMAXPROCS; check the exit code
/// and that each `want` event appears.
fn traced(name: &str, args: &[&str], code: i32, want: &[&str]) {
    for &mode in modes() {
        for procs in PROCS {
            let tag = format!("{name}-{}-{mode:?}-{procs:?}", args.join("_"));
            let path = trace_path(&tag);
            let p = path.to_str().unwrap();
            let mut env = vec![("GORT_TRACE", p)];
            if let Some(n) = procs {
                env.push(("GOMAXPROCS", n));
            }
            let r = run_env(mode, name, args, &env);
            r.assert_exit(code);
            let counts = parse(&path);
            for ev in want {
                assert!(
                    counts.get(*ev).copied().unwrap_or(0) > 0,
                    "{tag}: no {ev} event; events: {counts:?}"
                );
            }
        }
    }
}

#[test]
fn channels_and_goroutines_trace() {
    traced(
        "sieve",
        &[],
        0,
        &[
            "ProcStart",
            "Gomaxprocs",
            "GoCreate",
            "GoStart",
            "GoBlockRecv",
            "GoUnblock",
        ],
    );
}

#[test]
fn sleepers_trace() {
    traced(
        "timers",
        &["sleepers", "1000", "5"],
        0,
        &["GoSleep", "GoUnblock", "GoStart"],
    );
}

#[test]
fn preempted_loops_trace() {
    traced("preempt", &["spin", "100"], 0, &["GoPreempt", "GoSleep"]);
}

#[test]
fn network_waits_trace() {
    traced(
        "echo",
        &["self", "50", "2000"],
        0,
        &["GoBlockNet", "GoUnblock", "GoSysCall"],
    );
}

/// start/stop from inside the program, with goroutines already blocked, sleeping
/// and in a system call when it starts.
#[test]
fn start_and_stop_from_the_program() {
    for &mode in modes() {
        for procs in PROCS {
            let tag = format!("api-{mode:?}-{procs:?}");
            let path = trace_path(&tag);
            let r = run_procs(mode, "trace", &["api", path.to_str().unwrap()], procs);
            r.assert_exit(0);
            assert_eq!(r.get("trace.enabled"), "true", "{tag}");
            assert_eq!(r.get("trace.second_start_fails"), "true", "{tag}");
            assert_eq!(r.get("trace.enabled_after_stop"), "false", "{tag}");
            assert_eq!(r.get("trace.count"), "400", "{tag}");
            let counts = parse(&path);
            for ev in [
                "GoWaiting",
                "GoInSyscall",
                "GoCreate",
                "GoBlockSend",
                "GoSleep",
                "GoPreempt",
                "GoSysCall",
                "GoSysExit",
                "GoBlockSelect",
                "GoEnd",
            ] {
                assert!(
                    counts.get(ev).copied().unwrap_or(0) > 0,
                    "{tag}: no {ev} event; events: {counts:?}"
                );
            }
            // 1,000 round trips: each side blocks and is unblocked on every one.
            assert!(counts["GoUnblock"] >= 2000, "{tag}: {counts:?}");
        }
    }
}

/// SIGQUIT kills the program (exit 2) and the trace is still complete enough to
/// parse.
#[test]
fn sigquit_flushes_the_trace() {
    for &mode in modes() {
        let path = trace_path(&format!("quit-{mode:?}"));
        let mut cmd = command(mode, "echo", &["serve", "127.0.0.1:0"]);
        cmd.env("GORT_TRACE", &path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert!(line.starts_with("listening="), "{line}");
        // Let the server reach accept and park there (its GoBlockNet).
        std::thread::sleep(std::time::Duration::from_millis(300));
        let k = Command::new("kill")
            .args(["-QUIT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(k.success());
        let st = child.wait().unwrap();
        assert_eq!(st.code(), Some(2), "{mode:?}: SIGQUIT exits 2");
        let counts = parse(&path);
        assert!(
            counts.get("GoBlockNet").copied().unwrap_or(0) > 0,
            "{mode:?}: {counts:?}"
        );
    }
}
