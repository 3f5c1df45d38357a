//! gort's benchmark driver (`make bench`): installs the tools the suite needs when
//! missing, builds the programs compared (gort's bench/NAME.rs examples, their Go twins
//! bench/go/NAME, the asm floor bench/floor.S, the timing harness bench/startup.c) into
//! target/bench, runs them interleaved (gort, Go, gort, Go, …) and writes the markdown
//! report bench/RESULTS.md.
//!
//! Usage, from the repository root:
//!
//!   cargo run --release --manifest-path bench/driver/Cargo.toml \
//!       --target-dir target/bench/driver -- [BENCHMARK...]
//!
//! With no BENCHMARK all run, in report order, and bench/RESULTS.md is rewritten; a run of
//! only some writes target/bench/RESULTS.md and leaves bench/RESULTS.md alone. `--list`
//! lists the benchmarks. Knobs (environment):
//!
//!   BENCH_ROUNDS=2000 BENCH_WARMUP=50  timed / discarded rounds of the start-up benchmark
//!   BENCH_RUNS=5                       runs per side of every other benchmark (variant),
//!                                      sides alternating; median and best are reported
//!   BENCH_RUNS_BIG=3                   runs per side of the big variants (parked at N =
//!                                      1,000,000: seconds and GBs each)
//!   BENCH_TIMEOUT=300                  seconds one program (or the start-up harness) may
//!                                      run before it counts as hung (the suite fails)
//!   BENCH_GORT_HELLO=PATH              time PATH instead of gort's hello; ONLY for testing
//!                                      the driver (the report then says STAND-IN)
//!
//! Benchmarks measure, they never judge: a slow number is reported, never a failure. The
//! suite fails only when something cannot be built or a program misbehaves (non-zero
//! exit, crash, wrong output, time-out), since then there is nothing meaningful to report.
//!
//! # How to add a benchmark NAME
//!
//! 1. Programs: bench/NAME.rs (it may `mod common;` for bench/common.rs: clock, arguments,
//!    RSS), registered in Cargo.toml as `[[example]] name = "bench_NAME"`, and its Go twin
//!    bench/go/NAME/main.go (`benchutil.Arg` reads arguments the same way). Both take
//!    their parameters as arguments, print one line `KEY=NUMBER` per metric, in a fixed
//!    order, and exit 0; on a wrong result they complain on stderr and exit non-zero.
//! 2. Definition: a function in suite.rs returning a `Bench`, listed in `suite::all()` in
//!    report order. Start from `Bench::pair("NAME")` (gort's bench_NAME against Go's NAME)
//!    and set title, summary (the aim in one sentence), `variants` (one line each:
//!    `Variant::new("GOMAXPROCS=1").args([17]).env("GOMAXPROCS", "1")`, `.big()` for few
//!    runs), `metrics` (`Metric::lower("ns_per_op", "ns/op")`, `Metric::higher(..)`),
//!    `aims` (`Aim::ratio(text, key, Cmp::Le, 0.5)`: gort/Go median ≤ 0.5;
//!    `Aim::value(text, key, Cmp::Le, 4446.0, "B")`: gort's median ≤ 4446 B; none: "no
//!    stated aim"), and the prose `what` / `how` (closures over `&Ctx`: knobs, nproc, the
//!    built programs). Copy `spawn` (one metric), `parked` (variants) or `timers` (two
//!    metrics, higher is better). The table, the "all runs" lines, the aim lines and the
//!    sentence on how the runs were made are generated.
//! 3. Special measurements plug in a function: `measure: Measure::Runs(f)` where `f`
//!    measures one run of one side (e.g. start the side's server, run a load generator
//!    against it, return its figures; proc::run and measure::parse_metrics do the
//!    checking), keeping the interleaving, run counts and statistics; or
//!    `Measure::Whole(f)` to produce all samples at once (see `hello`, timed by the
//!    bench/startup.c harness). Extra programs to build go in `extra` (`Prog::Go("client")`,
//!    `Prog::C(..)`), tools to apt-get install when missing in `tools` (e.g. wrk).
//!
//! After a change, `cargo test --manifest-path bench/driver/Cargo.toml` checks every
//! definition (`Bench::validate`, also run at start-up) and the table and run machinery.

mod builder;
mod ctx;
mod gotrace;
mod measure;
mod model;
mod proc;
mod report;
mod suite;

use std::path::PathBuf;

use ctx::{Ctx, Knobs};
use model::Bench;

/// Errors are messages for the user; the suite stops at the first.
pub type Result<T> = std::result::Result<T, String>;

/// A progress line on stderr.
pub fn log(msg: &str) {
    eprintln!("bench: {msg}");
}

const USAGE: &str = "usage: bench-driver [--list] [BENCHMARK...]
  (cargo run --release --manifest-path bench/driver/Cargo.toml --target-dir target/bench/driver -- ...)
With no BENCHMARK, runs all and rewrites bench/RESULTS.md; with some, only those, and
writes target/bench/RESULTS.md. Knobs: BENCH_ROUNDS, BENCH_WARMUP, BENCH_RUNS,
BENCH_RUNS_BIG, BENCH_TIMEOUT, BENCH_GORT_HELLO (see bench/driver/src/main.rs).";

fn main() {
    if let Err(e) = run() {
        eprintln!("bench: ERROR: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let all = suite::all();
    for b in &all {
        b.validate()?;
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    if args.iter().any(|a| a == "--list") {
        for b in &all {
            println!("{:10} {}", b.name, b.title);
        }
        return Ok(());
    }
    let names: Vec<&str> = all.iter().map(|b| b.name).collect();
    let mut selected: Vec<Bench> = vec![];
    for a in &args {
        if a.starts_with('-') {
            return Err(format!("unknown option '{a}'\n{USAGE}"));
        }
        let b = all
            .iter()
            .find(|b| b.name == a)
            .ok_or_else(|| format!("unknown benchmark '{a}' (have: {})", names.join(" ")))?;
        if !selected.iter().any(|s| s.name == b.name) {
            selected.push(b.clone());
        }
    }
    let partial = !args.is_empty();
    if !partial {
        selected = all;
    }

    let knobs = Knobs::from_env()?;
    // The repository root: two levels above this crate, wherever cargo is run from.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = std::fs::canonicalize(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut c = Ctx::new(root, knobs);
    std::fs::create_dir_all(&c.out).map_err(|e| format!("{}: {e}", c.out.display()))?;

    let tools = builder::tools(&selected);
    builder::ensure_tools(&tools)?;
    builder::build_all(&mut c, &selected)?;

    let mut sections = String::new();
    for b in &selected {
        let samples = measure::measure(&c, b)?;
        sections.push_str(&report::section(&c, b, &samples));
    }
    let text = format!(
        "{}{}",
        report::header(&c, &selected, &tools, partial),
        sections
    );
    let text = text.trim_end().to_string() + "\n";

    // A partial run must not replace the full report with a part of it.
    let dest = if partial {
        c.out.join("RESULTS.md")
    } else {
        c.root.join("bench/RESULTS.md")
    };
    let tmp = c.out.join("RESULTS.md.tmp");
    std::fs::write(&tmp, &text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    println!("\n{text}");
    log(&format!("results written to {}", c.rel(&dest)));
    Ok(())
}
