//! `cargo test` for gort programs (the runner behind [`test_main!`](crate::test_main)):
//! libtest's output and exit status, with each test run as goroutine 1 of its own
//! child process, so a panic (Go's panic: exit 2) fails that test only.
//!
//! The test binary runs twice over: as the runner (no `GORT_TEST_CHILD` in the
//! environment), it lists the tests that match libtest's filters and runs each as a
//! child of itself (`/proc/self/exe`, through [`process::Command`](crate::process::Command))
//! with `GORT_TEST_CHILD=NAME`, up to one per CPU at a time; as a child, it runs that
//! one test and exits 0 (and dies with the runner, should the runner be killed
//! alone). The runner prints `test NAME ... ok` / `FAILED` as each finishes, the
//! failed tests' output (stdout and stderr as one stream, in order), and `test
//! result: ...`, and exits 101 if one failed, as libtest does; a test still running
//! after 60 seconds is named (`test NAME has been running for over 60 seconds`), as
//! libtest names it.
//!
//! Arguments, as libtest's: `FILTER...` (a test runs if its name contains one),
//! `--exact`, `--skip FILTER`, `--list`, `--nocapture` (children write straight to
//! the terminal), `--show-output` (the output of passing tests too), `-q`/`--quiet`
//! and `--format pretty|terse`, `--test-threads N` (the parallelism), `--ignored`
//! (only ignored tests: gort has none, so none run), `--include-ignored`, `--test`,
//! `--bench` (only benchmarks: none), `--exclude-should-panic`, `--color
//! auto|always|never`, `-Z unstable-options`, `--shuffle`, `--shuffle-seed N` (the
//! order stays the listing's), `--report-time`, `--ensure-time`,
//! `--force-run-in-process` (the last three do nothing here), `-h`/`--help`, and
//! `--` (what follows are filters). As libtest, `RUST_TEST_THREADS=N` is the
//! parallelism when `--test-threads` is not given, and `RUST_TEST_NOCAPTURE` set to
//! anything but `0` is `--nocapture`. `--logfile` is an error (not written here).
//! Options take their value as `--opt VALUE` or `--opt=VALUE`. Anything else, a bad value, or a
//! format gort does not write (json, junit) is libtest's `error: ...` and exit 101,
//! so a tool never runs no tests and calls it a pass.

use alloc::string::String;
use alloc::vec::Vec;

use crate::process::{Command, Stdio};

/// One test: its name and function.
pub type Test = (&'static str, fn());

/// How long a test runs before the runner says so (libtest's warning time).
const WARN_AFTER: crate::time::Duration = crate::time::Duration::from_secs(60);

struct Opts {
    filters: Vec<&'static str>,
    skip: Vec<&'static str>,
    exact: bool,
    list: bool,
    nocapture: bool,
    show_output: bool,
    quiet: bool,
    /// --ignored, or --bench without --test: nothing of ours is selected.
    none: bool,
    threads: usize,
}

/// What `--help` prints.
const USAGE: &str = "Usage: TESTBINARY [OPTIONS] [FILTERS...]

A gort test binary: each test runs as goroutine 1 of a child process.

Options:
        --exact         match filters exactly
        --skip FILTER   skip tests whose names contain FILTER (repeatable)
        --list          list the tests
        --nocapture     do not capture the tests' output
        --show-output   show the output of passing tests too
    -q, --quiet         one character per test (--format terse)
        --format pretty|terse
        --test-threads N
                        run N tests at a time (default: the CPUs)
        --color auto|always|never
        --ignored, --include-ignored, --exclude-should-panic, --test, --bench,
        --shuffle, --shuffle-seed N, --report-time, --ensure-time,
        --force-run-in-process, -Z unstable-options
                        accepted as libtest's (gort has no ignored tests,
                        should_panic tests or benchmarks)
    -h, --help          this text";

/// A command line libtest would refuse: its message, exit 101.
fn usage_error(msg: core::fmt::Arguments) -> ! {
    crate::eprintln!("error: {msg}");
    crate::exit(101)
}

fn parse_args() -> Opts {
    let mut o = Opts {
        filters: Vec::new(),
        skip: Vec::new(),
        exact: false,
        list: false,
        nocapture: false,
        show_output: false,
        quiet: false,
        none: false,
        threads: 0, // --test-threads, else RUST_TEST_THREADS, else the CPUs
    };
    let (mut ignored, mut bench, mut test) = (false, false, false);
    let mut args = crate::env::args().skip(1).map(|a| {
        a.to_str()
            .unwrap_or_else(|| usage_error(format_args!("argument {a:?} is not UTF-8")))
    });
    while let Some(a) = args.next() {
        if a == "--" {
            o.filters.extend(args.by_ref());
            break;
        }
        if !a.starts_with('-') || a == "-" {
            o.filters.push(a);
            continue;
        }
        // --opt=VALUE or --opt VALUE (a short option takes the next argument).
        let (opt, inline) = match a.split_once('=') {
            Some((opt, v)) if a.starts_with("--") => (opt, Some(v)),
            _ => (a, None),
        };
        let mut value = || {
            inline.or_else(|| args.next()).unwrap_or_else(|| {
                usage_error(format_args!(
                    "Argument to option '{}' missing",
                    opt.trim_start_matches('-')
                ))
            })
        };
        match opt {
            "--exact" => o.exact = true,
            "--list" => o.list = true,
            "--nocapture" | "--no-capture" => o.nocapture = true,
            "--show-output" => o.show_output = true,
            "-q" | "--quiet" => o.quiet = true,
            "--ignored" => ignored = true,
            "--bench" => bench = true,
            "--test" => test = true,
            "--include-ignored"
            | "--exclude-should-panic"
            | "--shuffle"
            | "--report-time"
            | "--ensure-time"
            | "--force-run-in-process" => {}
            "-h" | "--help" => {
                crate::println!("{USAGE}");
                crate::exit(0)
            }
            "--logfile" => usage_error(format_args!(
                "--logfile is not supported by gort's test runner"
            )),
            "--skip" => o.skip.push(value()),
            "--test-threads" => {
                let v = value();
                match v.parse::<usize>() {
                    Ok(n) if n > 0 => o.threads = n,
                    _ => usage_error(format_args!(
                        "argument for --test-threads must be a number > 0 (got {v:?})"
                    )),
                }
            }
            "--color" => match value() {
                "auto" | "always" | "never" => {}
                v => usage_error(format_args!(
                    "argument for --color must be auto, always, or never (was {v})"
                )),
            },
            "--format" => match value() {
                "pretty" => o.quiet = false,
                "terse" => o.quiet = true,
                v @ ("json" | "junit") => usage_error(format_args!(
                    "--format {v} is not supported by gort's test runner (pretty or terse)"
                )),
                v => usage_error(format_args!(
                    "argument for --format must be pretty, terse, json or junit (was {v})"
                )),
            },
            "-Z" => {
                value();
            }
            // getopts' attached form of a short option's value.
            _ if opt.starts_with("-Z") && opt.len() > 2 => {}
            "--shuffle-seed" => {
                let v = value();
                if v.parse::<u64>().is_err() {
                    usage_error(format_args!(
                        "argument for --shuffle-seed must be a number (error: {v:?})"
                    ));
                }
            }
            _ => usage_error(format_args!(
                "Unrecognized option: '{}'",
                opt.trim_start_matches('-')
            )),
        }
    }
    o.none = ignored || (bench && !test);
    // libtest's environment: the option wins over RUST_TEST_THREADS.
    if o.threads == 0 {
        o.threads = match crate::env::var("RUST_TEST_THREADS") {
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => usage_error(format_args!(
                    "RUST_TEST_THREADS is `{v}`, should be a positive integer."
                )),
            },
            None => crate::num_cpu().max(1),
        };
    }
    if crate::env::var("RUST_TEST_NOCAPTURE").is_some_and(|v| v != "0") {
        o.nocapture = true;
    }
    o
}

fn selected(o: &Opts, name: &str) -> bool {
    let m = |f: &&str| {
        if o.exact {
            name == *f
        } else {
            name.contains(*f)
        }
    };
    !o.none && (o.filters.is_empty() || o.filters.iter().any(m)) && !o.skip.iter().any(m)
}

/// Run the tests as libtest would (see the file head). Called by `test_main!` as the
/// program's main; does not return.
#[doc(hidden)]
pub fn run(tests: &[Test]) -> ! {
    // An empty value is unset, as for every variable of the runtime's.
    if let Some(name) = crate::env::var("GORT_TEST_CHILD").filter(|n| !n.is_empty()) {
        die_with_runner();
        if crate::env::var("GORT_TEST_CAPTURE").is_some() {
            // One stream, as libtest captures it: what the test writes to stdout
            // and stderr keeps its order (the runner reads stdout's pipe; what
            // was written to stderr before this point is in stderr's).
            crate::runtime::sys_linux::dup3(1, 2, 0);
        }
        match tests.iter().find(|t| t.0 == name) {
            Some(t) => {
                (t.1)();
                crate::exit(0)
            }
            None => {
                crate::eprintln!("gort test: no test named {name}");
                crate::exit(2)
            }
        }
    }
    let o = parse_args();
    let chosen: Vec<&Test> = tests.iter().filter(|t| selected(&o, t.0)).collect();
    let filtered_out = tests.len() - chosen.len();
    if o.list {
        for t in &chosen {
            crate::println!("{}: test", t.0);
        }
        // libtest's terse listing (what cargo-nextest reads) is the lines alone.
        if !o.quiet {
            if !chosen.is_empty() {
                crate::println!();
            }
            crate::println!(
                "{} test{}, 0 benchmarks",
                chosen.len(),
                if chosen.len() == 1 { "" } else { "s" }
            );
        }
        crate::exit(0)
    }
    let start = crate::time::Instant::now();
    crate::println!();
    crate::println!(
        "running {} test{}",
        chosen.len(),
        if chosen.len() == 1 { "" } else { "s" }
    );
    // Results as they finish: (index, passed, captured output).
    let results = crate::chan::<(usize, bool, String)>(chosen.len().max(1));
    let slots = crate::chan::<()>(o.threads);
    for (i, t) in chosen.iter().enumerate() {
        slots.send(());
        let (name, results, slots, nocapture) = (t.0, results.clone(), slots.clone(), o.nocapture);
        crate::go(move || {
            // libtest's word on a test that may hang, printed while it still runs.
            let warn = crate::time::after_func(WARN_AFTER, move || {
                crate::println!(
                    "test {name} has been running for over {} seconds",
                    WARN_AFTER.as_secs()
                )
            });
            let (ok, out) = run_child(name, nocapture);
            warn.stop();
            slots.recv();
            results.send((i, ok, out));
        });
    }
    let mut failures: Vec<(usize, String)> = Vec::new();
    let mut successes: Vec<(usize, String)> = Vec::new();
    let mut passed = 0;
    let mut quiet_col = 0;
    for _ in 0..chosen.len() {
        let (i, ok, out) = results.recv().unwrap();
        if o.quiet {
            crate::print!("{}", if ok { "." } else { "F" });
            quiet_col += 1;
            if quiet_col % 88 == 0 {
                crate::println!();
            }
        } else {
            crate::println!(
                "test {} ... {}",
                chosen[i].0,
                if ok { "ok" } else { "FAILED" }
            );
        }
        if ok {
            passed += 1;
            if o.show_output {
                successes.push((i, out));
            }
        } else {
            failures.push((i, out));
        }
    }
    if o.quiet && quiet_col % 88 != 0 {
        crate::println!();
    }
    successes.sort_by_key(|f| f.0);
    failures.sort_by_key(|f| f.0);
    outputs("successes", &successes, &chosen);
    outputs("failures", &failures, &chosen);
    let el = start.elapsed();
    crate::println!();
    crate::println!(
        "test result: {}. {} passed; {} failed; 0 ignored; 0 measured; {} filtered out; finished in {}.{:02}s",
        if failures.is_empty() { "ok" } else { "FAILED" },
        passed,
        failures.len(),
        filtered_out,
        el.as_secs(),
        el.subsec_millis() / 10
    );
    crate::println!();
    crate::exit(if failures.is_empty() { 0 } else { 101 })
}

/// libtest's section of outputs (`failures:`, or `successes:` with
/// --show-output): each test's output under its name (none for a test that
/// printed nothing, as with --nocapture), then the names. Nothing if there are no
/// tests.
fn outputs(title: &str, list: &[(usize, String)], chosen: &[&Test]) {
    if list.is_empty() {
        return;
    }
    crate::println!();
    crate::println!("{title}:");
    if list.iter().any(|(_, out)| !out.is_empty()) {
        crate::println!();
    }
    for (i, out) in list {
        if out.is_empty() {
            continue;
        }
        crate::println!("---- {} stdout ----", chosen[*i].0);
        crate::print!("{out}");
        if !out.ends_with('\n') && !out.is_empty() {
            crate::println!();
        }
        crate::println!();
    }
    crate::println!();
    crate::println!("{title}:");
    for (i, _) in list {
        crate::println!("    {}", chosen[*i].0);
    }
}

/// In a test's process: end with the runner. A runner killed on its own (`kill
/// PID`, not a terminal's Ctrl-C, which reaches the whole group) would otherwise
/// leave a hung test running for ever. SIGKILL on the runner's death
/// (PR_SET_PDEATHSIG), and if the runner died before that was set (the parent is no
/// longer the one in GORT_TEST_RUNNER), exit now.
fn die_with_runner() {
    use crate::runtime::sys_linux;
    const SIGKILL: usize = 9;
    sys_linux::set_parent_death_signal(SIGKILL);
    let runner = crate::env::var("GORT_TEST_RUNNER").and_then(|p| p.parse::<i64>().ok());
    if runner.is_some_and(|p| p != sys_linux::getppid()) {
        crate::exit(101);
    }
}

/// Run test `name` in a child of this program; whether it passed, and what it
/// printed unless nocapture (one stream: the child sends stderr into stdout's
/// pipe; whatever came before that, in stderr's, follows).
fn run_child(name: &str, nocapture: bool) -> (bool, String) {
    let mut cmd = Command::new("/proc/self/exe");
    cmd.env("GORT_TEST_CHILD", name);
    cmd.env(
        "GORT_TEST_RUNNER",
        &alloc::format!("{}", crate::runtime::sys_linux::getpid()),
    );
    if nocapture {
        return match cmd.status() {
            // Not a panic (those said so on the terminal): say how it ended.
            Ok(st) if !st.success() && st.code() != Some(2) => {
                (false, alloc::format!("test process ended: {st}\n"))
            }
            Ok(st) => (st.success(), String::new()),
            Err(e) => (false, alloc::format!("gort test: cannot run {name}: {e}\n")),
        };
    }
    cmd.stdin(Stdio::Null);
    cmd.env("GORT_TEST_CAPTURE", "1");
    match cmd.output() {
        Ok(o) => {
            let mut out = String::from_utf8_lossy(&o.stdout).into_owned();
            out.push_str(&String::from_utf8_lossy(&o.stderr));
            if !o.status.success() && o.status.code() != Some(2) {
                // Not a panic (those say so themselves): say how it ended.
                out.push_str(&alloc::format!("test process ended: {}\n", o.status));
            }
            (o.status.success(), out)
        }
        Err(e) => (false, alloc::format!("gort test: cannot run {name}: {e}\n")),
    }
}
