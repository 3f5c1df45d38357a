//! The run's context: where things are, the knobs, the machine, the built programs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::Prog;
use crate::Result;

/// The knobs, from the environment.
#[derive(Clone, Debug)]
pub struct Knobs {
    /// BENCH_ROUNDS: timed rounds of the start-up benchmark.
    pub rounds: u64,
    /// BENCH_WARMUP: discarded rounds before them (may be 0).
    pub warmup: u64,
    /// BENCH_RUNS: runs per side of each variant.
    pub runs: u64,
    /// BENCH_RUNS_BIG: runs per side of the big variants.
    pub runs_big: u64,
    /// BENCH_TIMEOUT: how long one program (or the start-up harness) may run.
    pub timeout: Duration,
    /// BENCH_GORT_HELLO: a stand-in for gort's hello, only to test the driver.
    pub gort_hello: Option<PathBuf>,
}

impl Knobs {
    pub fn from_env() -> Result<Knobs> {
        let num = |name: &str, default: u64, min: u64| -> Result<u64> {
            match std::env::var(name) {
                Err(std::env::VarError::NotPresent) => Ok(default),
                Ok(s) if s.is_empty() => Ok(default),
                Ok(s) => match s.parse::<u64>() {
                    Ok(v) if v >= min && !s.starts_with('+') => Ok(v),
                    _ if min == 0 => Err(format!("{name}={s}: expected a non-negative integer")),
                    _ => Err(format!("{name}={s}: expected a positive integer")),
                },
                Err(_) => Err(format!("{name}: not valid UTF-8")),
            }
        };
        let gort_hello = match std::env::var_os("BENCH_GORT_HELLO") {
            None => None,
            Some(p) if p.is_empty() => None,
            Some(p) => Some(
                std::fs::canonicalize(&p)
                    .map_err(|e| format!("BENCH_GORT_HELLO={}: {e}", p.to_string_lossy()))?,
            ),
        };
        Ok(Knobs {
            rounds: num("BENCH_ROUNDS", 2000, 1)?,
            warmup: num("BENCH_WARMUP", 50, 0)?,
            runs: num("BENCH_RUNS", 5, 1)?,
            runs_big: num("BENCH_RUNS_BIG", 3, 1)?,
            timeout: Duration::from_secs(num("BENCH_TIMEOUT", 300, 1)?),
            gort_hello,
        })
    }
}

/// A built program.
#[derive(Clone, Debug)]
pub struct Exe {
    pub path: PathBuf,
    /// Not built from the source it stands for (BENCH_GORT_HELLO): the report says so.
    pub stand_in: bool,
}

pub struct Ctx {
    /// The repository root.
    pub root: PathBuf,
    /// target/bench: every build product of the suite.
    pub out: PathBuf,
    pub knobs: Knobs,
    /// CPUs this process may use (what `nproc` says, and the runtimes' default GOMAXPROCS).
    pub nproc: usize,
    pub exes: HashMap<Prog, Exe>,
}

impl Ctx {
    pub fn new(root: PathBuf, knobs: Knobs) -> Ctx {
        let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ctx {
            out: root.join("target/bench"),
            root,
            knobs,
            nproc,
            exes: HashMap::new(),
        }
    }
    /// The built program `p` (built before any benchmark runs).
    pub fn exe(&self, p: Prog) -> &Exe {
        self.exes
            .get(&p)
            .unwrap_or_else(|| panic!("{p:?} was not built"))
    }
    /// `path` relative to the repository root when it is inside it.
    pub fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}
