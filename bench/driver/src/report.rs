//! The report: its header and one markdown section per benchmark, all in one format.

use std::fmt::Write;
use std::process::Command;

use crate::builder;
use crate::ctx::Ctx;
use crate::model::{best, median, Bench, Measure, Metric, Num, Samples, Target, Tool};
use crate::proc::{self, RUNTIME_KNOBS};

/// `n` with thousands separators: 1000000 → "1,000,000".
pub fn th(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// "1 run", "5 runs".
pub fn count(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// a / b as "1.23×", or "—" when either is missing or b is zero.
fn ratio(a: Option<&Num>, b: Option<&Num>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b.v != 0.0 => format!("{:.2}×", a.v / b.v),
        _ => "—".into(),
    }
}

/// "a and b" / "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The value a metric's aims and summaries use: the median (a single value is its own).
fn central(s: &Samples, v: usize, m: usize, side: usize) -> Option<Num> {
    median(s.get(v, m, side))
}

/// A statistic over a cell's values (the flag: higher is better).
type Stat = fn(&[Num], bool) -> Option<Num>;

/// One benchmark's section.
pub fn section(c: &Ctx, b: &Bench, s: &Samples) -> String {
    let mut o = String::new();
    let multi_v = b.variants.len() > 1;
    let multi_m = b.metrics.iter().filter(|m| !m.single).count() > 1;
    let any_higher = b.metrics.iter().any(|m| m.higher_is_better);
    let labels: Vec<&str> = b.sides.iter().map(|s| s.label).collect();

    let _ = writeln!(o, "## {}: {}\n", b.name, b.title);
    for side in &b.sides {
        let exe = c.exe(side.prog);
        if exe.stand_in {
            let _ = writeln!(
                o,
                "**STAND-IN: the {} column is `{}` (BENCH_GORT_HELLO), not {}.**\n",
                side.label,
                exe.path.display(),
                side.prog.source()
            );
        }
    }
    let _ = writeln!(o, "{}\n", (b.what)(c));
    let mut how = (b.how)(c);
    if matches!(b.measure, Measure::Runs(_)) {
        how.push(' ');
        how.push_str(&runs_sentence(c, b));
    }
    let _ = writeln!(o, "**How it was measured:** {how}\n");

    // The table: a column per side, then the first side's ratio to each other one.
    let mut head = "| measurement |".to_string();
    let mut rule = "|---|".to_string();
    for l in &labels {
        let _ = write!(head, " {l} |");
        rule.push_str("---:|");
    }
    for l in &labels[1..] {
        let _ = write!(head, " {}/{l} |", labels[0]);
        rule.push_str("---:|");
    }
    let _ = writeln!(o, "{head}\n{rule}");
    for (vi, v) in b.variants.iter().enumerate() {
        for (mi, m) in b.metrics.iter().enumerate() {
            let rows: Vec<(&str, Stat)> = if m.single {
                vec![("", |x, _| x.first().cloned())]
            } else {
                let best_name = if m.higher_is_better { "max" } else { "min" };
                vec![("median", |x, _| median(x)), (best_name, best)]
            };
            for (stat, f) in rows {
                let vals: Vec<Option<Num>> = (0..b.sides.len())
                    .map(|si| f(s.get(vi, mi, si), m.higher_is_better))
                    .collect();
                let _ = write!(
                    o,
                    "| {} |",
                    row_title(v.label.as_str(), multi_m, m, stat, any_higher)
                );
                for x in &vals {
                    let _ = write!(o, " {} |", x.as_ref().map_or("—", |n| n.text.as_str()));
                }
                for x in &vals[1..] {
                    let _ = write!(o, " {} |", ratio(vals[0].as_ref(), x.as_ref()));
                }
                o.push('\n');
            }
        }
    }
    o.push('\n');

    // Every value behind the medians, in run order.
    for (vi, v) in b.variants.iter().enumerate() {
        for (mi, m) in b.metrics.iter().enumerate().filter(|(_, m)| !m.single) {
            let mut line = "- all runs".to_string();
            if multi_v {
                let _ = write!(line, " at {}", v.label);
            }
            if multi_m {
                let _ = write!(line, " of {}", m.name());
            }
            line.push_str(", in order:");
            let per_side: Vec<String> = labels
                .iter()
                .enumerate()
                .map(|(si, l)| {
                    let xs: Vec<&str> = s.get(vi, mi, si).iter().map(|n| n.text.as_str()).collect();
                    format!(" {l} {}", xs.join(", "))
                })
                .collect();
            let _ = writeln!(o, "{line}{}", per_side.join(";"));
        }
    }

    // The aims: reported, never a failure.
    for a in &b.aims {
        let mi = b.metric_index(a.metric).expect("validated");
        if let Target::Speedup { slow, fast } = a.target {
            let (vs, vf) = (
                b.variant_index(slow).expect("validated"),
                b.variant_index(fast).expect("validated"),
            );
            let speedups: Vec<Option<f64>> = (0..labels.len())
                .map(
                    |si| match (central(s, vs, mi, si), central(s, vf, mi, si)) {
                        (Some(x), Some(y)) if y.v != 0.0 => Some(x.v / y.v),
                        _ => None,
                    },
                )
                .collect();
            let met = match speedups[0] {
                None => "not measured",
                Some(x) if a.cmp.holds(x, a.bound) => "met",
                Some(_) => "NOT met",
            };
            let shown: Vec<String> = labels
                .iter()
                .zip(&speedups)
                .map(|(l, x)| match x {
                    Some(x) => format!("{l} {x:.2}×"),
                    None => format!("{l} —"),
                })
                .collect();
            let _ = writeln!(
                o,
                "- aim {} ({slow} over {fast}): **{met}** ({})",
                a.text,
                shown.join("; ")
            );
            continue;
        }
        for (vi, v) in b.variants.iter().enumerate() {
            if a.at.is_some_and(|l| l != v.label) {
                continue;
            }
            let mine = central(s, vi, mi, 0);
            let (value, shown) = match a.target {
                Target::Ratio { .. } => {
                    let other = central(s, vi, mi, b.aim_other(a).expect("validated"));
                    let r = match (&mine, &other) {
                        (Some(x), Some(y)) if y.v != 0.0 => Some(x.v / y.v),
                        _ => None,
                    };
                    (r, ratio(mine.as_ref(), other.as_ref()))
                }
                Target::Value { unit } => (
                    mine.as_ref().map(|n| n.v),
                    mine.as_ref()
                        .map_or("—".into(), |n| format!("{} {unit}", n.text)),
                ),
                Target::Speedup { .. } => unreachable!("reported above"),
            };
            let met = match value {
                None => "not measured",
                Some(x) if a.cmp.holds(x, a.bound) => "met",
                Some(_) => "NOT met",
            };
            let at = if multi_v {
                format!(" at {}", v.label)
            } else {
                String::new()
            };
            let _ = writeln!(o, "- aim {}{at}: **{met}** ({shown})", a.text);
        }
    }
    if b.aims.is_empty() && b.sides.len() > 1 {
        let mut parts = vec![];
        for (si, l) in labels.iter().enumerate().skip(1) {
            let mut items = vec![];
            for (vi, v) in b.variants.iter().enumerate() {
                for (mi, m) in b.metrics.iter().enumerate() {
                    let mut what: Vec<&str> = vec![];
                    if multi_v {
                        what.push(&v.label);
                    }
                    if b.metrics.len() > 1 {
                        what.push(m.name());
                    }
                    let r = ratio(
                        central(s, vi, mi, 0).as_ref(),
                        central(s, vi, mi, si).as_ref(),
                    );
                    items.push(if what.is_empty() {
                        r
                    } else {
                        format!("{} {r}", what.join(", "))
                    });
                }
            }
            parts.push(format!("{}/{l} median: {}", labels[0], items.join(", ")));
        }
        let _ = writeln!(o, "- no stated aim: reported only ({})", parts.join("; "));
    }
    o.push('\n');
    o
}

/// A row's title: "[VARIANT, ][LABEL: ]STAT (UNIT[, higher/lower is better])", or for a
/// single value "[VARIANT: ]LABEL (UNIT)".
fn row_title(variant: &str, multi_m: bool, m: &Metric, stat: &str, any_higher: bool) -> String {
    let mut prefix: Vec<&str> = vec![];
    if !variant.is_empty() {
        prefix.push(variant);
    }
    if m.single {
        prefix.push(m.name());
    } else if multi_m {
        if let Some(l) = m.label {
            prefix.push(l);
        }
    }
    let mut unit = m.unit.to_string();
    if any_higher && !m.single {
        unit.push_str(if m.higher_is_better {
            ", higher is better"
        } else {
            ", lower is better"
        });
    }
    let head = prefix.join(", ");
    match (head.is_empty(), stat.is_empty()) {
        (_, true) => format!("{head} ({unit})"),
        (true, false) => format!("{stat} ({unit})"),
        (false, false) => format!("{head}: {stat} ({unit})"),
    }
}

/// The sentence on how `Measure::Runs` benchmarks run, generated from the definition.
fn runs_sentence(c: &Ctx, b: &Bench) -> String {
    let k = &c.knobs;
    let labels: Vec<String> = b.sides.iter().map(|s| s.label.to_string()).collect();
    let big: Vec<String> = b
        .variants
        .iter()
        .filter(|v| v.big)
        .map(|v| v.label.clone())
        .collect();
    let runs = |n: u64| count(n, "run");
    let mut s = if big.is_empty() || big.len() == b.variants.len() {
        let n = if big.is_empty() { k.runs } else { k.runs_big };
        format!("{} per side", runs(n))
    } else {
        format!(
            "{} per side ({} at {})",
            runs(k.runs),
            k.runs_big,
            and_list(&big)
        )
    };
    if labels.len() > 1 {
        // One cycle and the start of the next: "gort, Go, gort, Go, …", "a, b, c, a, …".
        let again = if labels.len() == 2 { 2 } else { 1 };
        let cycle: Vec<&str> = labels
            .iter()
            .chain(&labels[..again])
            .map(String::as_str)
            .collect();
        let how = if labels.len() == 2 {
            "alternating"
        } else {
            "in turn"
        };
        let _ = write!(s, ", {} {how} ({}, …)", and_list(&labels), cycle.join(", "));
    }
    let (hi, lo) = (
        b.metrics.iter().any(|m| m.higher_is_better),
        b.metrics.iter().any(|m| !m.higher_is_better),
    );
    s.push_str(match (hi, lo) {
        (true, true) => "; median and best (minimum, or maximum where higher is better) per side",
        (true, false) => "; median and maximum per side",
        _ => "; median and minimum per side",
    });
    if labels.len() > 1 {
        let r: Vec<String> = labels[1..]
            .iter()
            .map(|l| format!("{}/{l}", labels[0]))
            .collect();
        let _ = write!(s, ", ratios {}", and_list(&r));
    }
    let _ = write!(
        s,
        "; default settings ({} unset)",
        and_list(&RUNTIME_KNOBS.map(String::from))
    );
    // Settings made by variants and sides, named where they apply.
    let envs = |e: &[(String, String)]| {
        let v: Vec<String> = e.iter().map(|(k, v)| format!("{k}={v}")).collect();
        v.join(" ")
    };
    let mut set: Vec<String> = vec![];
    for v in b.variants.iter().filter(|v| !v.env.is_empty()) {
        let at = if v.label.is_empty() {
            String::new()
        } else {
            format!(" at {}", v.label)
        };
        set.push(format!("{}{at}", envs(&v.env)));
    }
    for x in b.sides.iter().filter(|x| !x.env.is_empty()) {
        set.push(format!("{} for {}", envs(&x.env), x.label));
    }
    if !set.is_empty() {
        let _ = write!(s, ", except {}", and_list(&set));
    }
    s.push('.');
    s
}

/// The date and time now, UTC, as "YYYY-MM-DD HH:MM:SS".
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The report's header: what wrote it, the aims of the benchmarks that ran, the machine
/// and the toolchains.
pub fn header(c: &Ctx, benches: &[Bench], tools: &[Tool], partial: bool) -> String {
    let mut o = String::new();
    o.push_str("# gort benchmark results\n\n");
    o.push_str(
        "Written by the benchmark driver `bench/driver` (`make bench`); do not edit by hand.",
    );
    if partial {
        let names: Vec<&str> = benches.iter().map(|b| b.name).collect();
        let _ = write!(o, " A partial run: {} only.", names.join(", "));
    }
    o.push_str("\n\n**Aims** (from the issues; each section says whether it is met — a benchmark reports, it never fails on a number):\n\n");
    for b in benches {
        let _ = writeln!(o, "- {}: {}", b.name, b.summary);
    }
    let git =
        |args: &[&str]| proc::first_line(Command::new("git").arg("-C").arg(&c.root).args(args));
    let mut commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "none yet".into());
    if git(&["status", "--porcelain"]).is_some_and(|s| !s.is_empty()) {
        commit.push_str(" (+ uncommitted changes)");
    }
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let uname =
        proc::first_line(Command::new("uname").arg("-srm")).unwrap_or_else(|| "unknown".into());
    let rustc = proc::first_line(Command::new("rustc").arg("--version"))
        .unwrap_or_else(|| "unknown".into());
    let k = &c.knobs;
    o.push_str("\n| | |\n|---|---|\n");
    let _ = writeln!(o, "| date (UTC) | {} |", utc_now());
    let _ = writeln!(o, "| machine | {uname}, {} CPUs, {cpu} |", c.nproc);
    let _ = writeln!(o, "| gort commit | {commit} |");
    let _ = writeln!(o, "| rustc | {rustc} |");
    for t in tools {
        let _ = writeln!(o, "| {} | {} |", t.name, builder::version(c, t));
    }
    let _ = writeln!(
        o,
        "| builds | gort: `cargo build --release`; Go: `CGO_ENABLED=0 go build -trimpath -ldflags='-s -w'`; \
         assembly: `gcc -nostdlib -static`; C: `gcc -O2` |"
    );
    let _ = writeln!(
        o,
        "| settings | BENCH_RUNS={}, BENCH_RUNS_BIG={}, BENCH_ROUNDS={}, BENCH_WARMUP={} |",
        k.runs, k.runs_big, k.rounds, k.warmup
    );
    o.push('\n');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands() {
        assert_eq!(th(0), "0");
        assert_eq!(th(999), "999");
        assert_eq!(th(1000), "1,000");
        assert_eq!(th(49_999_995_000_000), "49,999,995,000,000");
    }

    /// A made-up benchmark with variants that set the environment, two metrics and an
    /// aim per variant: the section reads right.
    #[test]
    fn variants_section() {
        use crate::ctx::{Exe, Knobs};
        use crate::model::{Aim, Cmp, Metric, Prog, Variant};
        let knobs = Knobs {
            rounds: 1,
            warmup: 0,
            runs: 3,
            runs_big: 2,
            timeout: std::time::Duration::from_secs(1),
            gort_hello: None,
        };
        let mut c = Ctx::new("/r".into(), knobs);
        for p in [Prog::Gort("bench_trees"), Prog::Go("trees")] {
            c.exes.insert(
                p,
                Exe {
                    path: "/x".into(),
                    stand_in: false,
                },
            );
        }
        let b = Bench {
            title: "allocation",
            summary: "s".into(),
            variants: vec![
                Variant::new("depth 17, GOMAXPROCS=1")
                    .args([17])
                    .env("GOMAXPROCS", "1"),
                Variant::new("depth 18, GOMAXPROCS=2")
                    .args([18])
                    .env("GOMAXPROCS", "2")
                    .big(),
            ],
            metrics: vec![
                Metric::lower("ms", "ms"),
                Metric::higher("allocs_per_sec", "allocs/s").label("rate"),
            ],
            aims: vec![Aim::ratio("trees ≤ Go (median)", "ms", Cmp::Le, 1.0)],
            what: |_| "W.".into(),
            how: |_| "H.".into(),
            ..Bench::pair("trees")
        };
        b.validate().unwrap();
        let mut s = Samples::default();
        for (vi, vals) in [["10", "12", "11"], ["20", "22", "0"]].iter().enumerate() {
            for (i, v) in vals.iter().enumerate().take(if vi == 0 { 3 } else { 2 }) {
                for si in 0..2 {
                    s.add(vi, 0, si, Num::parse(v).unwrap());
                    s.add(vi, 1, si, Num::parse(&format!("{}{i}", si + 1)).unwrap());
                }
            }
        }
        let text = section(&c, &b, &s);
        println!("{text}");
        for want in [
            "H. 3 runs per side (2 at depth 18, GOMAXPROCS=2), gort and Go alternating (gort, Go, \
             gort, Go, …); median and best (minimum, or maximum where higher is better) per side, \
             ratios gort/Go; default settings (GOMAXPROCS, GODEBUG, GOGC, GOMEMLIMIT, \
             GORT_STACKSIZE and GORT_TRACE unset), except GOMAXPROCS=1 at depth 17, GOMAXPROCS=1 and \
             GOMAXPROCS=2 at depth 18, GOMAXPROCS=2.",
            "| measurement | gort | Go | gort/Go |",
            "| depth 17, GOMAXPROCS=1: median (ms, lower is better) | 11 | 11 | 1.00× |",
            "| depth 18, GOMAXPROCS=2, rate: max (allocs/s, higher is better) | 11 | 21 | 0.52× |",
            "- all runs at depth 18, GOMAXPROCS=2 of rate, in order: gort 10, 11; Go 20, 21",
            "- aim trees ≤ Go (median) at depth 18, GOMAXPROCS=2: **met** (1.00×)",
        ] {
            assert!(text.contains(want), "missing {want:?}");
        }
    }

    #[test]
    fn lists() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(and_list(&s(&["a"])), "a");
        assert_eq!(and_list(&s(&["a", "b"])), "a and b");
        assert_eq!(and_list(&s(&["a", "b", "c"])), "a, b and c");
    }
}
