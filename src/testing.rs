//! `cargo test` for gort programs (the runner behind [`test_main!`](crate::test_main)):
//! libtest's output and exit status, with each test run as goroutine 1 of its own
//! child process, so a panic (Go's panic: exit 2) fails that test only.
//!
//! The test binary runs twice over: as the runner (no `GORT_TEST_CHILD` in the
//! environment), it lists the tests that match libtest's filters and runs each as a
//! child of itself (`/proc/self/exe`, through [`process::Command`](crate::process::Command))
//! with `GORT_TEST_CHILD=NAME`, up to one per CPU at a time; as a child, it runs that
//! one test and exits 0. The runner prints `test NAME ... ok` / `FAILED` as each
//! finishes, the failed tests' output, and `test result: ...`, and exits 101 if one
//! failed, as libtest does.
//!
//! Arguments, as libtest's: `FILTER...` (a test runs if its name contains one),
//! `--exact`, `--skip FILTER`, `--list`, `--nocapture` (children write straight to
//! the terminal), `-q`/`--quiet`; `--test-threads N` sets the parallelism. Others
//! are ignored.

use alloc::string::String;
use alloc::vec::Vec;

use crate::process::{Command, Stdio};

/// One test: its name and function.
pub type Test = (&'static str, fn());

struct Opts {
    filters: Vec<&'static str>,
    skip: Vec<&'static str>,
    exact: bool,
    list: bool,
    nocapture: bool,
    quiet: bool,
    threads: usize,
}

fn parse_args() -> Opts {
    let mut o = Opts {
        filters: Vec::new(),
        skip: Vec::new(),
        exact: false,
        list: false,
        nocapture: false,
        quiet: false,
        threads: crate::num_cpu().max(1),
    };
    let mut args = crate::env::args().skip(1).filter_map(|a| a.to_str());
    while let Some(a) = args.next() {
        match a {
            "--exact" => o.exact = true,
            "--list" => o.list = true,
            "--nocapture" | "--no-capture" => o.nocapture = true,
            "-q" | "--quiet" => o.quiet = true,
            "--skip" => o.skip.extend(args.next()),
            "--test-threads" => {
                if let Some(n) = args.next().and_then(|n| n.parse().ok()) {
                    o.threads = n;
                }
            }
            _ if a.starts_with("--test-threads=") => {
                if let Ok(n) = a["--test-threads=".len()..].parse() {
                    o.threads = n;
                }
            }
            _ if a.starts_with('-') => {}
            _ => o.filters.push(a),
        }
    }
    o.threads = o.threads.max(1);
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
    (o.filters.is_empty() || o.filters.iter().any(m)) && !o.skip.iter().any(m)
}

/// Run the tests as libtest would (see the file head). Called by `test_main!` as the
/// program's main; does not return.
#[doc(hidden)]
pub fn run(tests: &[Test]) -> ! {
    if let Some(name) = crate::env::var("GORT_TEST_CHILD") {
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
        crate::println!();
        crate::println!("{} tests, 0 benchmarks", chosen.len());
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
            let (ok, out) = run_child(name, nocapture);
            slots.recv();
            results.send((i, ok, out));
        });
    }
    let mut failures: Vec<(usize, String)> = Vec::new();
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
        } else {
            failures.push((i, out));
        }
    }
    if o.quiet && quiet_col % 88 != 0 {
        crate::println!();
    }
    failures.sort_by_key(|f| f.0);
    if !failures.is_empty() {
        crate::println!();
        crate::println!("failures:");
        crate::println!();
        for (i, out) in &failures {
            crate::println!("---- {} stdout ----", chosen[*i].0);
            crate::print!("{out}");
            if !out.ends_with('\n') && !out.is_empty() {
                crate::println!();
            }
            crate::println!();
        }
        crate::println!();
        crate::println!("failures:");
        for (i, _) in &failures {
            crate::println!("    {}", chosen[*i].0);
        }
    }
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

/// Run test `name` in a child of this program; whether it passed, and what it
/// printed (stdout, then stderr) unless nocapture.
fn run_child(name: &str, nocapture: bool) -> (bool, String) {
    let mut cmd = Command::new("/proc/self/exe");
    cmd.env("GORT_TEST_CHILD", name);
    if nocapture {
        return match cmd.status() {
            Ok(st) => (st.success(), String::new()),
            Err(e) => (false, alloc::format!("gort test: cannot run {name}: {e}\n")),
        };
    }
    cmd.stdin(Stdio::Null);
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
