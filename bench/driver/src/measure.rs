//! Measuring: the interleaved runs behind `Measure::Runs`, the usual per-run function
//! (`program`), and the pieces custom measurements are made of.

use crate::ctx::Ctx;
use crate::model::{Bench, Measure, Num, Run, Samples};
use crate::proc::{self, Cmd};
use crate::report::count;
use crate::{log, Result};

/// Measures benchmark `b` as its `measure` says.
pub fn measure(c: &Ctx, b: &Bench) -> Result<Samples> {
    match b.measure {
        Measure::Runs(f) => runs(c, b, f),
        Measure::Whole(f) => f(c, b),
    }
}

/// For each variant, BENCH_RUNS (BENCH_RUNS_BIG) rounds, each measuring every side once in
/// turn (gort, Go, gort, Go, …), so that drift and noise hit both alike.
fn runs(c: &Ctx, b: &Bench, f: fn(&Ctx, &Run) -> Result<Vec<Num>>) -> Result<Samples> {
    let mut s = Samples::default();
    let labels: Vec<&str> = b.sides.iter().map(|s| s.label).collect();
    for (vi, v) in b.variants.iter().enumerate() {
        let n = if v.big {
            c.knobs.runs_big
        } else {
            c.knobs.runs
        };
        let what = if v.label.is_empty() {
            b.name.to_string()
        } else {
            format!("{} ({})", b.name, v.label)
        };
        let args = if v.args.is_empty() {
            "none".into()
        } else {
            v.args.join(" ")
        };
        log(&format!(
            "{what}: {} each of {} (args: {args}), interleaved",
            count(n, "run"),
            labels.join(", ")
        ));
        for i in 1..=n {
            for (si, side) in b.sides.iter().enumerate() {
                let vals = f(
                    c,
                    &Run {
                        bench: b,
                        side,
                        variant: v,
                    },
                )
                .map_err(|e| format!("{what}: {e}"))?;
                if vals.len() != b.metrics.len() {
                    return Err(format!(
                        "{what}: {} values for {} metrics",
                        vals.len(),
                        b.metrics.len()
                    ));
                }
                for (mi, (m, val)) in b.metrics.iter().zip(vals).enumerate() {
                    log(&format!(
                        "{what}: run {i}/{n} {}: {}={}",
                        side.label, m.key, val.text
                    ));
                    s.add(vi, mi, si, val);
                }
            }
        }
    }
    Ok(s)
}

/// The usual run: the side's program with the side's and the variant's arguments and
/// environment; it must exit 0 and print exactly one line `KEY=NUMBER` per metric, in
/// order, and nothing else on stdout.
pub fn program(c: &Ctx, r: &Run) -> Result<Vec<Num>> {
    let cmd = Cmd::new(&c.exe(r.side.prog).path)
        .args(r.args())
        .envs(r.env());
    let out = proc::run(c, &cmd)?;
    let keys: Vec<&str> = r.bench.metrics.iter().map(|m| m.key).collect();
    parse_metrics(&out.stdout, &keys).map_err(|e| format!("'{}' {e}", cmd.show(c)))
}

/// `text` must be exactly the lines `KEY=NUMBER`, one per key in `keys`, in order (the
/// last newline may be missing); returns the numbers.
pub fn parse_metrics(text: &str, keys: &[&str]) -> Result<Vec<Num>> {
    let lines: Vec<&str> = text
        .strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .collect();
    let parsed: Option<Vec<Num>> = (lines.len() == keys.len())
        .then(|| {
            lines
                .iter()
                .zip(keys)
                .map(|(l, k)| l.strip_prefix(k)?.strip_prefix('=').and_then(Num::parse))
                .collect()
        })
        .flatten();
    parsed.ok_or_else(|| {
        let want: Vec<String> = keys.iter().map(|k| format!("'{k}=NUMBER'")).collect();
        let shown: String = text.chars().take(200).collect();
        format!(
            "printed {shown:?}, expected {} (one line each)",
            want.join(" ")
        )
    })
}

/// Runs `exe` once with no arguments; it must exit 0 and print exactly `expected`.
pub fn check_stdout(c: &Ctx, exe: &std::path::Path, expected: &str) -> Result<()> {
    let cmd = Cmd::new(exe);
    let out = proc::run(c, &cmd)?;
    if out.stdout != expected {
        let shown: String = out.stdout.chars().take(200).collect();
        return Err(format!(
            "'{}' printed {shown:?}, expected {expected:?}",
            cmd.show(c)
        ));
    }
    Ok(())
}

/// Start-up times of one program from the harness, in µs.
pub struct Startup {
    pub median: Num,
    pub mean: Num,
    pub p10: Num,
    pub p90: Num,
}

/// Times the start-up of every side's program (no arguments, stdin and stdout on
/// /dev/null) with the harness bench/startup.c (`Prog::C("startup")` must be among the
/// benchmark's `extra` programs): BENCH_WARMUP discarded rounds, then BENCH_ROUNDS timed
/// ones, the programs interleaved round-robin. One result per side.
pub fn startup(c: &Ctx, b: &Bench) -> Result<Vec<Startup>> {
    let harness = &c.exe(crate::model::Prog::C("startup")).path;
    let k = &c.knobs;
    let labels: Vec<&str> = b.sides.iter().map(|s| s.label).collect();
    log(&format!(
        "{}: timing {} — {} rounds (+{} warm-up), interleaved",
        b.name,
        labels.join(", "),
        k.rounds,
        k.warmup
    ));
    // The harness's labels are one word each; its lines come in the order given.
    let word = |l: &str| l.replace(|ch: char| ch.is_whitespace() || ch == '=', "_");
    let progs = b
        .sides
        .iter()
        .map(|s| format!("{}={}", word(s.label), c.exe(s.prog).path.display()));
    let cmd = Cmd::new(harness).args([k.rounds, k.warmup]).args(progs);
    let out =
        proc::run(c, &cmd).map_err(|e| format!("{}: start-up benchmark aborted: {e}", b.name))?;
    // One line per program: LABEL RUNS MEDIAN MEAN P10 P90 MIN MAX (µs).
    let lines: Vec<&str> = out.stdout.lines().collect();
    if lines.len() != b.sides.len() {
        return Err(format!(
            "{}: the start-up harness printed {:?}",
            b.name, out.stdout
        ));
    }
    b.sides
        .iter()
        .zip(lines)
        .map(|(side, line)| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let nums: Option<Vec<Num>> = (f.len() == 8 && f[0] == word(side.label))
                .then(|| f[2..6].iter().map(|t| Num::parse(t)).collect())
                .flatten();
            let mut n = nums
                .ok_or_else(|| format!("{}: the start-up harness printed {line:?}", b.name))?
                .into_iter();
            let mut next = || n.next().unwrap();
            Ok(Startup {
                median: next(),
                mean: next(),
                p10: next(),
                p90: next(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics() {
        let k = ["a", "b_c"];
        let v = parse_metrics("a=1.5\nb_c=2\n", &k).unwrap();
        assert_eq!((v[0].v, v[1].text.as_str()), (1.5, "2"));
        assert!(parse_metrics("a=1.5\nb_c=2", &k).is_ok());
        for bad in [
            "",
            "a=1.5\n",
            "b_c=2\na=1.5\n",
            "a=1.5\nb_c=2\n\n",
            "a=1.5\nb_c=x\n",
            "a=1\nb_c=2\nextra\n",
            " a=1\nb_c=2\n",
            "ab=1\nb_c=2\n",
        ] {
            assert!(parse_metrics(bad, &k).is_err(), "{bad:?}");
        }
    }

    /// The usual run, end to end, with sh scripts standing in for benchmark programs.
    #[test]
    fn programs() {
        use crate::ctx::{Ctx, Exe, Knobs};
        use crate::model::{Bench, Metric, Prog, Side, Variant};
        use std::time::Duration;
        let knobs = Knobs {
            rounds: 1,
            warmup: 0,
            runs: 1,
            runs_big: 1,
            timeout: Duration::from_secs(1),
            gort_hello: None,
        };
        let mut c = Ctx::new(std::env::temp_dir(), knobs);
        c.exes.insert(
            Prog::Gort("sh"),
            Exe {
                path: "/bin/sh".into(),
                stand_in: false,
            },
        );
        // The caller's GOMAXPROCS never reaches a program; a variant's does.
        std::env::set_var("GOMAXPROCS", "7");
        let run = |script: &str, env: &[(&str, &str)]| {
            let mut v = Variant::default();
            for (k, x) in env {
                v = v.env(k, x);
            }
            let b = Bench {
                metrics: vec![Metric::lower("a", "s"), Metric::higher("b", "1/s")],
                sides: vec![Side::new("sh", Prog::Gort("sh")).args(["-c", script])],
                variants: vec![v],
                ..Bench::new("t")
            };
            let r = Run {
                bench: &b,
                side: &b.sides[0],
                variant: &b.variants[0],
            };
            program(&c, &r).map(|v| v.iter().map(|n| n.text.clone()).collect::<Vec<_>>())
        };
        let ok = "echo a=${GOMAXPROCS:-0}; echo b=2.5; echo noise >&2";
        assert_eq!(run(ok, &[]).unwrap(), ["0", "2.5"]);
        assert_eq!(run(ok, &[("GOMAXPROCS", "1")]).unwrap(), ["1", "2.5"]);
        let err = |script: &str| run(script, &[]).unwrap_err();
        assert!(err("echo a=1").contains("printed \"a=1\\n\", expected 'a=NUMBER' 'b=NUMBER'"));
        let e = err("echo a=1; echo b=2; echo why >&2; exit 3");
        assert!(
            e.contains("exited with status 3") && e.contains("stderr: why"),
            "{e}"
        );
        assert!(err("kill -SEGV $$").contains("killed by signal 11 (SIGSEGV)"));
        assert!(err("sleep 5").contains("did not finish within 1s"));
        assert!(err("exec /nonexistent").contains("exited with status 127"));
    }
}
