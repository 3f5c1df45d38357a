//! A user's own crate, set up exactly as README.md says (Cargo.toml, build.rs,
//! .cargo/config.toml), depends on gort by path, builds, and runs natively and under
//! qemu: the instructions users follow must work.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

const MAIN_RS: &str = r#"#![no_std]
#![no_main]

gort::main!(main);

fn main() {
    gort::println!("hello from a user crate, goroutine {}", gort::goid());
    let v: alloc::vec::Vec<u32> = (1..=10).collect();
    gort::println!("sum={}", v.iter().sum::<u32>());
}

extern crate alloc;
"#;

const BUILD_RS: &str = r#"fn main() {
    for arg in ["-nostartfiles", "-nostdlib", "-static", "-no-pie", "-Wl,--gc-sections"] {
        println!("cargo:rustc-link-arg={arg}");
    }
    let script = std::env::var("DEP_GORT_LINKER_SCRIPT").unwrap();
    println!("cargo:rustc-link-arg=-Wl,-T,{script}");
}
"#;

const CONFIG: &str = r#"[build]
target = "x86_64-unknown-linux-gnu"

[target.x86_64-unknown-linux-gnu]
rustflags = ["-C", "relocation-model=static", "-C", "panic=abort"]
"#;

/// Set up a user crate in target/NAME exactly as README.md says, with main.rs.
fn user_crate(name: &str, main_rs: &str) -> PathBuf {
    user_crate_with(name, main_rs, "", "")
}

/// user_crate, with extra keys for the gort dependency (`, default-features = false`)
/// and more manifest text (targets) appended.
fn user_crate_with(name: &str, main_rs: &str, gort_keys: &str, more_manifest: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target").join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join(".cargo")).unwrap();
    let manifest = format!(
        "[package]\nname = \"usercrate\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [workspace]\n\n[dependencies]\ngort = {{ path = {:?}{gort_keys} }}\n\n\
         [profile.dev]\npanic = \"abort\"\n\n[profile.release]\npanic = \"abort\"\n{more_manifest}",
        root.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.join("build.rs"), BUILD_RS).unwrap();
    std::fs::write(dir.join(".cargo/config.toml"), CONFIG).unwrap();
    std::fs::write(dir.join("src/main.rs"), main_rs).unwrap();
    // gort's own lock file pins the same dependency versions, so no index is needed.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    dir
}

/// Run cargo SUBCOMMAND --release --quiet in dir; the output.
fn cargo(dir: &std::path::Path, sub: &str) -> std::process::Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    Command::new(cargo)
        .args([sub, "--release", "--quiet"])
        .current_dir(dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("run cargo")
}

#[test]
fn a_user_crate_builds_and_runs() {
    let dir = user_crate("user-crate", MAIN_RS);
    let out = cargo(&dir, "build");
    assert!(
        out.status.success(),
        "user crate build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bin = dir.join("target/x86_64-unknown-linux-gnu/release/usercrate");
    assert_static_elf(&bin);
    for &mode in modes() {
        let cmd = match mode {
            Mode::Native => Command::new(&bin),
            Mode::Qemu => {
                let mut c = Command::new(qemu());
                c.arg(&bin);
                c
            }
        };
        let r = run_cmd(cmd, std::time::Duration::from_secs(30));
        r.assert_exit(0);
        assert_eq!(
            r.stdout, "hello from a user crate, goroutine 1\nsum=55\n",
            "{mode:?}"
        );
    }
}

/// A program using most of the public surface: it must compile.
const PUBLIC_PROBE: &str = r#"#![no_std]
#![no_main]
gort::main!(main);
fn main() {
    let c = gort::chan::<u32>(1);
    let d: gort::Chan<u32> = gort::Chan::nil();
    gort::select! {
        send(c, 1) => {},
        recv(d) -> _v => {},
        recv(gort::time::after(gort::time::Duration::from_millis(1))) -> _t => {},
        default => {},
    }
    let m = gort::sync::Mutex::new(0u32);
    *m.lock() += c.try_recv().unwrap_or(0);
    let wg = gort::sync::WaitGroup::new();
    wg.add(1);
    wg.done();
    wg.wait();
    gort::go(|| {});
    gort::gosched();
    let _ = (gort::goid(), gort::num_goroutine(), gort::num_cpu(), gort::gomaxprocs(0));
    let _ = gort::env::var("HOME");
    let _ = gort::io::stdout().write_all(b"x\n");
    gort::debug::schedtrace(false);
    gort::time::sleep(gort::time::Duration::from_millis(1));
}
"#;

/// Programs that name runtime internals: each must fail to compile, naming the item.
const INTERNAL_PROBES: [(&str, &str); 5] = [
    ("gort::proc::schedule()", "proc"),
    ("gort::runtime::proc::schedule()", "runtime"),
    ("let _ = &gort::HEAP;", "HEAP"),
    ("let _ = gort::runq::runqempty;", "runq"),
    ("let _ = unsafe { &gort::M0 };", "M0"),
];

#[test]
fn runtime_internals_are_unreachable_and_the_public_api_compiles() {
    let dir = user_crate("probe-crate", PUBLIC_PROBE);
    let out = cargo(&dir, "check");
    assert!(
        out.status.success(),
        "the public-API probe does not compile:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (body, name) in INTERNAL_PROBES {
        let src = format!("#![no_std]\n#![no_main]\ngort::main!(main);\nfn main() {{ {body} }}\n");
        std::fs::write(dir.join("src/main.rs"), src).unwrap();
        let out = cargo(&dir, "check");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "`{body}` compiled: a runtime internal is reachable"
        );
        assert!(
            err.contains(name)
                && (err.contains("private")
                    || err.contains("could not find")
                    || err.contains("cannot find")),
            "`{body}`: unexpected error:\n{err}"
        );
    }
}

const BASIC_RS: &str = r#"#![no_std]
#![no_main]
extern crate alloc;

gort::test_main!(adds, goroutines_sum_over_a_channel, fails_when_asked);

fn adds() {
    gort::println!("two and two");
    assert_eq!(2 + 2, 4);
}

fn goroutines_sum_over_a_channel() {
    let c = gort::chan::<u64>(0);
    for i in 1..=100u64 {
        let c = c.clone();
        gort::go(move || c.send(i));
    }
    let sum: u64 = (0..100).map(|_| c.recv().unwrap()).sum();
    assert_eq!(sum, 5050);
}

fn fails_when_asked() {
    if gort::env::var("FAIL").is_some() {
        panic!("deliberate failure: {}", 6 * 7);
    }
}
"#;

const TEST_TARGETS: &str =
    "\n[[bin]]\nname = \"usercrate\"\npath = \"src/main.rs\"\ntest = false\n\n\
                            [[test]]\nname = \"basic\"\nharness = false\n";

/// cargo test in dir with extra arguments and environment; the output.
fn cargo_test(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut c = Command::new(cargo);
    c.args(["test", "--release", "--quiet"])
        .args(args)
        .current_dir(dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run cargo test")
}

#[test]
fn cargo_test_runs_a_user_crates_tests_as_libtest_does() {
    let dir = user_crate_with("test-crate", MAIN_RS, "", TEST_TARGETS);
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(dir.join("tests/basic.rs"), BASIC_RS).unwrap();

    let out = cargo_test(&dir, &[], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\nrunning 3 tests\n"), "{stdout}");
    for t in ["adds", "goroutines_sum_over_a_channel", "fails_when_asked"] {
        assert!(stdout.contains(&format!("test {t} ... ok\n")), "{stdout}");
    }
    assert!(
        stdout.contains(
            "test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out;"
        ),
        "{stdout}"
    );

    // One failing test: reported with its panic, counted, exit 101.
    let out = cargo_test(&dir, &[], &[("FAIL", "1")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(101), "{stdout}");
    assert!(
        stdout.contains("test fails_when_asked ... FAILED\n"),
        "{stdout}"
    );
    assert!(stdout.contains("test adds ... ok\n"), "{stdout}");
    assert!(
        stdout.contains("---- fails_when_asked stdout ----\npanic: deliberate failure: 42\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nfailures:\n    fails_when_asked\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out;"
        ),
        "{stdout}"
    );

    // libtest's filters.
    let out = cargo_test(&dir, &["--", "sum"], &[("FAIL", "1")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("test goroutines_sum_over_a_channel ... ok\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 passed; 0 failed; 0 ignored; 0 measured; 2 filtered out;"),
        "{stdout}"
    );
    let out = cargo_test(&dir, &["--", "--exact", "adds"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 passed; 0 failed; 0 ignored; 0 measured; 2 filtered out;"),
        "{stdout}"
    );

    // The test binary itself, under qemu too.
    let deps = dir.join("target/x86_64-unknown-linux-gnu/release/deps");
    let bin = std::fs::read_dir(&deps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with("basic-") && !n.contains('.')
        })
        .expect("the basic test binary");
    let cmd_for = |mode: Mode, bin: &std::path::Path| match mode {
        Mode::Native => Command::new(bin),
        Mode::Qemu => {
            let mut c = Command::new(qemu());
            c.arg(bin);
            c
        }
    };
    for &mode in modes() {
        let args = |args: &[&str]| {
            let mut c = cmd_for(mode, &bin);
            c.args(args);
            run_cmd(c, std::time::Duration::from_secs(60))
        };
        // libtest's options with values are not filters (`--color never` ran no
        // tests and passed); an unknown option or bad value is an error.
        let r = args(&["--color", "never", "--test-threads=1"]);
        r.assert_exit(0);
        assert!(
            r.stdout.contains("\nrunning 3 tests\n"),
            "{mode:?}: {}",
            r.stdout
        );
        let r = args(&["--list", "--format", "terse"]);
        r.assert_exit(0);
        assert_eq!(
            r.stdout, "adds: test\ngoroutines_sum_over_a_channel: test\nfails_when_asked: test\n",
            "{mode:?}"
        );
        let r = args(&["-Zunstable-options", "--exclude-should-panic", "adds"]);
        r.assert_exit(0);
        assert!(
            r.stdout.contains("\nrunning 1 test\n"),
            "{mode:?}: {}",
            r.stdout
        );
        // libtest's variables: RUST_TEST_NOCAPTURE is --nocapture (the output of a
        // passing test shows), RUST_TEST_THREADS the parallelism (a bad value is an
        // error, not ignored).
        let env_args = |env: (&str, &str), args: &[&str]| {
            let mut c = cmd_for(mode, &bin);
            c.args(args).env(env.0, env.1);
            run_cmd(c, std::time::Duration::from_secs(60))
        };
        let r = env_args(("RUST_TEST_NOCAPTURE", "1"), &["adds"]);
        r.assert_exit(0);
        assert!(r.stdout.contains("two and two\n"), "{mode:?}: {}", r.stdout);
        let r = env_args(("RUST_TEST_NOCAPTURE", "0"), &["adds"]);
        r.assert_exit(0);
        assert!(!r.stdout.contains("two and two"), "{mode:?}: {}", r.stdout);
        let r = env_args(("RUST_TEST_THREADS", "1"), &[]);
        r.assert_exit(0);
        assert!(
            r.stdout.contains("test result: ok. 3 passed;"),
            "{mode:?}: {}",
            r.stdout
        );
        let r = env_args(("RUST_TEST_THREADS", "0"), &[]);
        r.assert_exit(101);
        assert_eq!(
            r.stderr, "error: RUST_TEST_THREADS is `0`, should be a positive integer.\n",
            "{mode:?}"
        );
        let r = env_args(("RUST_TEST_THREADS", "0"), &["--test-threads", "2"]);
        r.assert_exit(0);
        let r = args(&["--help"]);
        r.assert_exit(0);
        assert!(r.stdout.starts_with("Usage: "), "{mode:?}: {}", r.stdout);
        let r = args(&["--ignored"]);
        r.assert_exit(0);
        assert!(
            r.stdout
                .contains("0 passed; 0 failed; 0 ignored; 0 measured; 3 filtered out;"),
            "{mode:?}: {}",
            r.stdout
        );
        let r = args(&["--show-output", "adds"]);
        r.assert_exit(0);
        assert!(
            r.stdout.contains(
                "\nsuccesses:\n\n---- adds stdout ----\ntwo and two\n\n\nsuccesses:\n    adds\n"
            ),
            "{mode:?}: {}",
            r.stdout
        );
        for (bad, msg) in [
            (&["--bogus"][..], "error: Unrecognized option: 'bogus'\n"),
            (
                &["--test-threads", "abc"][..],
                "error: argument for --test-threads must be a number > 0 (got \"abc\")\n",
            ),
            (
                &["--format", "json"][..],
                "error: --format json is not supported by gort's test runner (pretty or terse)\n",
            ),
            (
                &["--skip"][..],
                "error: Argument to option 'skip' missing\n",
            ),
            (
                &["--logfile", "/tmp/x"][..],
                "error: --logfile is not supported by gort's test runner\n",
            ),
        ] {
            let r = args(bad);
            r.assert_exit(101);
            assert_eq!(r.stderr, msg, "{mode:?} {bad:?}");
            assert_eq!(r.stdout, "", "{mode:?} {bad:?}");
        }

        let mut cmd = cmd_for(mode, &bin);
        cmd.env("FAIL", "1");
        let r = run_cmd(cmd, std::time::Duration::from_secs(60));
        r.assert_exit(101);
        assert!(
            r.stdout.contains("test fails_when_asked ... FAILED\n"),
            "{mode:?}: {}",
            r.stdout
        );
        assert!(
            r.stdout
                .contains("test result: FAILED. 2 passed; 1 failed;"),
            "{mode:?}: {}",
            r.stdout
        );
    }
}

/// With --nocapture the failures section names the failed tests without empty
/// output blocks (libtest's), and says how a test that did not panic ended: it
/// printed `---- NAME stdout ----` with nothing under it, and no reason at all.
#[test]
fn nocapture_failures_say_how_a_test_ended_and_show_no_empty_output() {
    for &mode in modes() {
        let r = run(
            mode,
            "testrunner",
            &["--nocapture", "--test-threads=1", "panics", "exits3"],
        );
        r.assert_exit(101);
        assert!(
            r.stdout.contains(
                "\nfailures:\n\n---- exits3 stdout ----\ntest process ended: exit status 3\n\n\n\
                 failures:\n    panics\n    exits3\n"
            ),
            "{mode:?}: {}",
            r.stdout
        );
        assert!(
            r.stderr.contains("panic: deliberately\n"),
            "{mode:?}: {}",
            r.stderr
        );
        let r = run(mode, "testrunner", &["--nocapture", "panics"]);
        r.assert_exit(101);
        assert!(
            r.stdout.contains("\nfailures:\n\nfailures:\n    panics\n"),
            "{mode:?}: {}",
            r.stdout
        );
        // Captured, the output is the test's.
        let r = run(
            mode,
            "testrunner",
            &["--test-threads=1", "panics", "exits3"],
        );
        r.assert_exit(101);
        assert!(
            r.stdout
                .contains("\n---- panics stdout ----\npanic: deliberately\n"),
            "{mode:?}: {}",
            r.stdout
        );
        assert!(
            r.stdout
                .contains("\n---- exits3 stdout ----\ntest process ended: exit status 3\n"),
            "{mode:?}: {}",
            r.stdout
        );
    }
}

/// A test that hangs is named after 60 seconds, as libtest names it (the runner
/// printed nothing at all while it waited). Both modes run at once: the wait is long.
#[test]
fn the_test_runner_names_a_test_that_runs_for_over_60_seconds() {
    use std::process::Stdio;
    let mut runs: Vec<(Mode, std::process::Child, Lines)> = modes()
        .iter()
        .map(|&mode| {
            let mut cmd = command(mode, "testrunner", &["hangs"]);
            cmd.stdin(Stdio::null()).stdout(Stdio::piped());
            // A group of its own, so that the hung test (the runner's child) is
            // killed with the runner.
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            let mut child = cmd.spawn().expect("spawn testrunner");
            let lines = Lines::new(child.stdout.take().unwrap());
            (mode, child, lines)
        })
        .collect();
    // What each run printed up to the warning (None: no warning within 150 s).
    let start = std::time::Instant::now();
    let mut seen: Vec<(Mode, Option<std::time::Duration>, Vec<String>)> = Vec::new();
    for (mode, _, lines) in &runs {
        let mut printed = Vec::new();
        let warned = loop {
            let left = std::time::Duration::from_secs(150).saturating_sub(start.elapsed());
            match lines.next_within(left) {
                Some(l) if l == "test hangs has been running for over 60 seconds" => {
                    break Some(start.elapsed());
                }
                Some(l) => printed.push(l),
                None => break None,
            }
        };
        seen.push((*mode, warned, printed));
    }
    for (_, child, _) in &mut runs {
        // SAFETY: kill(2) of the child's own process group; no memory involved.
        let _ = unsafe { syscalls::syscall!(syscalls::Sysno::kill, -(child.id() as isize), 9) };
        child.wait().ok();
    }
    for (mode, warned, printed) in seen {
        let at = warned.unwrap_or_else(|| panic!("{mode:?}: no warning; printed {printed:?}"));
        assert!(at.as_secs() >= 55, "{mode:?}: warned after {at:?}");
        assert_eq!(printed, ["", "running 1 test"], "{mode:?}");
    }
}

/// An empty GORT_TEST_CHILD is unset (the runner runs), not a child asked for the
/// test named "" (which exited 2: "gort test: no test named ").
#[test]
fn an_empty_gort_test_child_is_unset() {
    for &mode in modes() {
        let r = run_env(mode, "testrunner", &["passes"], &[("GORT_TEST_CHILD", "")]);
        r.assert_exit(0);
        assert!(
            r.stdout.contains("test passes ... ok\n"),
            "{mode:?}: {}",
            r.stdout
        );
    }
}

/// A failed test's captured output is one stream, in the order it was written,
/// as libtest captures it: the runner showed all of stdout, then all of stderr.
#[test]
fn captured_output_keeps_the_order_of_stdout_and_stderr() {
    for &mode in modes() {
        let r = run(mode, "testrunner", &["interleaves"]);
        r.assert_exit(101);
        assert!(
            r.stdout.contains(
                "\n---- interleaves stdout ----\nout 1\nerr 2\nout 3\npanic: deliberately\n"
            ),
            "{mode:?}: {}",
            r.stdout
        );
    }
}

/// A runner killed on its own (`kill PID`: not the group, as a terminal's Ctrl-C
/// would) takes its running tests with it: the hung test's process ends within
/// seconds. Before, it slept on for ever, reparented to init.
#[test]
fn a_killed_runner_takes_its_running_tests_with_it() {
    use std::process::Stdio;
    for &mode in modes() {
        let mut cmd = command(mode, "testrunner", &["hangs"]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // A group of its own, to clean up whatever is left.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut runner = cmd.spawn().expect("spawn testrunner");
        let children = || -> Vec<u32> {
            let mut v = Vec::new();
            let task = format!("/proc/{}/task", runner.id());
            for t in std::fs::read_dir(task).into_iter().flatten().flatten() {
                let c = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
                v.extend(c.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
            }
            v
        };
        let start = std::time::Instant::now();
        let test = loop {
            if let Some(&c) = children().first() {
                break c;
            }
            assert!(
                start.elapsed().as_secs() < 20,
                "{mode:?}: the runner started no test"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        runner.kill().unwrap();
        runner.wait().unwrap();
        // Gone, or a zombie waiting for init to reap it.
        let alive = || {
            std::fs::read_to_string(format!("/proc/{test}/stat"))
                .map(|st| {
                    !st.rsplit(')')
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .starts_with('Z')
                })
                .unwrap_or(false)
        };
        let start = std::time::Instant::now();
        while alive() && start.elapsed().as_secs() < 10 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let left = alive();
        // SAFETY: kill(2) of the runner's own process group; no memory involved.
        let _ = unsafe { syscalls::syscall!(syscalls::Sysno::kill, -(runner.id() as isize), 9) };
        assert!(
            !left,
            "{mode:?}: the test (pid {test}) outlived its killed runner"
        );
    }
}

/// Copy dir `from` into `to` (files and subdirectories; not target/).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "target" {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        if e.file_type().unwrap().is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

#[test]
fn the_template_crate_runs_and_tests_in_a_copy() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/template-copy");
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root.join("template"), &dir);
    // Point the copy's gort dependency at this repository, as the README says.
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("gort = { path = \"..\" }"), "{manifest}");
    let manifest = manifest.replace(
        "gort = { path = \"..\" }",
        &format!("gort = {{ path = {:?} }}", root.display().to_string()),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let run = |args: &[&str]| {
        Command::new(&cargo)
            .args(args)
            .current_dir(&dir)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .expect("run cargo")
    };
    let out = run(&["run", "--release", "--quiet", "--", "5"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "sum of squares 1..=5 = 55\n"
    );
    let out = run(&["test", "--release", "--quiet"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out;"
        ),
        "{stdout}"
    );
    let bin = dir.join("target/x86_64-unknown-linux-gnu/release/gort-app");
    assert_static_elf(&bin);
}

/// A program with its own `#[global_allocator]` (gort's `global-allocator` feature
/// off): a bump allocator over a static arena that counts its calls. gort's runtime
/// (Ps, Ms, G slabs, channels, timers, a GOMAXPROCS change) lives in it.
const OWN_ALLOC: &str = r#"#![no_std]
#![no_main]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

gort::main!(main);

const ARENA: usize = 256 << 20;
#[repr(align(4096))]
struct Arena(core::cell::UnsafeCell<[u8; ARENA]>);
// SAFETY: disjoint pieces of the arena are handed out by an atomic bump pointer.
unsafe impl Sync for Arena {}
static MEM: Arena = Arena(core::cell::UnsafeCell::new([0; ARENA]));
static NEXT: AtomicUsize = AtomicUsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static FREES: AtomicUsize = AtomicUsize::new(0);

struct Bump;

// SAFETY: every block is a distinct, aligned piece of the static arena.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        let base = MEM.0.get() as usize;
        let mut cur = NEXT.load(Relaxed);
        loop {
            let start = (base + cur).next_multiple_of(l.align()) - base;
            let end = start + l.size();
            if end > ARENA {
                return core::ptr::null_mut();
            }
            match NEXT.compare_exchange_weak(cur, end, Relaxed, Relaxed) {
                Ok(_) => return (base + start) as *mut u8,
                Err(c) => cur = c,
            }
        }
    }
    unsafe fn dealloc(&self, _p: *mut u8, _l: Layout) {
        FREES.fetch_add(1, Relaxed);
    }
}

#[global_allocator]
static A: Bump = Bump;

fn main() {
    let before = ALLOCS.load(Relaxed);
    let c = gort::chan::<alloc::boxed::Box<u64>>(8);
    let wg = alloc::sync::Arc::new(gort::sync::WaitGroup::new());
    for i in 0..8u64 {
        let (tx, w) = (c.clone(), wg.clone());
        w.add(1);
        gort::go(move || {
            for k in 0..100 {
                tx.send(alloc::boxed::Box::new(i * 100 + k));
            }
            w.done();
        });
    }
    let mut sum = 0;
    for _ in 0..800 {
        sum += *c.recv().unwrap();
    }
    wg.wait();
    gort::gomaxprocs(3);
    gort::time::sleep(core::time::Duration::from_millis(5));
    let v: alloc::vec::Vec<u32> = (1..=10).collect();
    gort::println!("sum={sum} vsum={}", v.iter().sum::<u32>());
    gort::println!("own_allocs={}", ALLOCS.load(Relaxed) > before + 800);
    gort::println!("frees={}", FREES.load(Relaxed) > 0);
}
"#;

#[test]
fn a_program_brings_its_own_global_allocator() {
    let dir = user_crate_with(
        "own-alloc-crate",
        OWN_ALLOC,
        ", default-features = false",
        "",
    );
    let out = cargo(&dir, "build");
    assert!(
        out.status.success(),
        "own-allocator crate build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = dir.join("target/x86_64-unknown-linux-gnu/release/usercrate");
    for &mode in modes() {
        for procs in PROCS {
            let mut cmd = match mode {
                Mode::Native => Command::new(&bin),
                Mode::Qemu => {
                    let mut c = Command::new(qemu());
                    c.arg(&bin);
                    c
                }
            };
            if let Some(p) = procs {
                cmd.env("GOMAXPROCS", p);
            }
            let r = run_cmd(cmd, std::time::Duration::from_secs(30));
            r.assert_exit(0);
            assert_eq!(
                r.stdout, "sum=319600 vsum=55\nown_allocs=true\nfrees=true\n",
                "{mode:?} {procs:?}"
            );
        }
    }
}
