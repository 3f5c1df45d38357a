//! What a benchmark is, as data: the programs compared (sides), their variants, the
//! metrics they print, the aims, the prose of the report section and how it is measured.
//! The benchmarks themselves are in suite.rs.

use std::collections::HashMap;

use crate::ctx::Ctx;
use crate::Result;

/// A program the suite builds (once, before anything is measured) into target/bench.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Prog {
    /// A gort program, `cargo build --release --example NAME`: bench/X.rs is registered
    /// in Cargo.toml as example `bench_X`; examples/hello is `hello`.
    Gort(&'static str),
    /// A Go program: the package bench/go/NAME of the module `gortbench` (bench/go).
    Go(&'static str),
    /// A freestanding assembly program bench/NAME.S (`gcc -nostdlib -static`).
    Asm(&'static str),
    /// A hosted C program bench/NAME.c (`gcc -O2`), e.g. a timing harness.
    C(&'static str),
}

impl Prog {
    /// Where it comes from, for the report and messages.
    pub fn source(&self) -> String {
        match self {
            Prog::Gort(e) => format!("gort example `{e}`"),
            Prog::Go(p) => format!("`bench/go/{p}`"),
            Prog::Asm(n) => format!("`bench/{n}.S`"),
            Prog::C(n) => format!("`bench/{n}.c`"),
        }
    }
}

/// One of the programs compared: a column of the report's table. Its runs get the
/// side's arguments, then the variant's.
#[derive(Clone, Debug)]
pub struct Side {
    pub label: &'static str,
    pub prog: Prog,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Side {
    pub fn new(label: &'static str, prog: Prog) -> Side {
        Side {
            label,
            prog,
            args: vec![],
            env: vec![],
        }
    }
    /// The gort side: example `example`, labelled "gort".
    pub fn gort(example: &'static str) -> Side {
        Side::new("gort", Prog::Gort(example))
    }
    /// The Go side: package bench/go/`pkg`, labelled "Go".
    pub fn go(pkg: &'static str) -> Side {
        Side::new("Go", Prog::Go(pkg))
    }
    /// Arguments given to this side only, before the variant's.
    #[allow(dead_code)]
    pub fn args<I: IntoIterator<Item = A>, A: ToString>(mut self, args: I) -> Side {
        self.args.extend(args.into_iter().map(|a| a.to_string()));
        self
    }
    /// An environment variable set for this side only (e.g. a trace switch).
    #[allow(dead_code)]
    pub fn env(mut self, key: &str, value: &str) -> Side {
        self.env.push((key.into(), value.into()));
        self
    }
}

/// One setting of a benchmark: the same programs with other arguments or environment
/// (N = 100,000 vs 1,000,000; GOMAXPROCS=1 vs 2). Its rows in the table are prefixed by
/// its label, which may be empty only when it is the benchmark's only variant.
#[derive(Clone, Debug, Default)]
pub struct Variant {
    pub label: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Runs BENCH_RUNS_BIG times per side instead of BENCH_RUNS (long or huge runs).
    pub big: bool,
}

impl Variant {
    pub fn new(label: &str) -> Variant {
        Variant {
            label: label.into(),
            ..Variant::default()
        }
    }
    /// Arguments for every side's program (after the side's own).
    pub fn args<I: IntoIterator<Item = A>, A: ToString>(mut self, args: I) -> Variant {
        self.args.extend(args.into_iter().map(|a| a.to_string()));
        self
    }
    /// An environment variable set for every side's program.
    #[allow(dead_code)]
    pub fn env(mut self, key: &str, value: &str) -> Variant {
        self.env.push((key.into(), value.into()));
        self
    }
    /// Run BENCH_RUNS_BIG times per side (default 3) rather than BENCH_RUNS (5).
    pub fn big(mut self) -> Variant {
        self.big = true;
        self
    }
}

/// A number a program reports: one `KEY=NUMBER` line of its output.
#[derive(Clone, Debug)]
pub struct Metric {
    /// The KEY the program prints.
    pub key: &'static str,
    /// Unit, shown in the table: "ns/goroutine", "µs", "wake-ups/s".
    pub unit: &'static str,
    /// A name for the rows, when the unit alone does not say what it is.
    pub label: Option<&'static str>,
    pub higher_is_better: bool,
    /// One value per side (e.g. a file size, or a statistic a harness computed): one row
    /// showing it, instead of a median row and a best row over the runs.
    pub single: bool,
}

impl Metric {
    /// A metric where less is better (times, bytes).
    pub fn lower(key: &'static str, unit: &'static str) -> Metric {
        Metric {
            key,
            unit,
            label: None,
            higher_is_better: false,
            single: false,
        }
    }
    /// A metric where more is better (throughput).
    pub fn higher(key: &'static str, unit: &'static str) -> Metric {
        Metric {
            higher_is_better: true,
            ..Metric::lower(key, unit)
        }
    }
    pub fn label(mut self, label: &'static str) -> Metric {
        self.label = Some(label);
        self
    }
    pub fn single(mut self) -> Metric {
        self.single = true;
        self
    }
    /// What the metric is called in prose: its label, else its unit.
    pub fn name(&self) -> &'static str {
        self.label.unwrap_or(self.unit)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Ge,
    #[allow(dead_code)]
    Gt,
}

impl Cmp {
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Ge => a >= b,
            Cmp::Gt => a > b,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Target {
    /// The first side's median over the median of side `vs` (None: the second side).
    Ratio { vs: Option<&'static str> },
    /// The first side's median itself, shown with `unit`.
    Value { unit: &'static str },
    /// The first side's median at variant `slow` over its median at variant `fast`
    /// (a parallel speed-up): checked once, not per variant.
    Speedup {
        slow: &'static str,
        fast: &'static str,
    },
}

/// An aim: a condition on a metric's median, reported as met or NOT met (never a failure).
/// It is checked for every variant of the benchmark.
#[derive(Clone, Debug)]
pub struct Aim {
    pub text: String,
    pub metric: &'static str,
    pub target: Target,
    pub cmp: Cmp,
    pub bound: f64,
    /// Checked at this variant only (None: at every variant).
    pub at: Option<&'static str>,
}

impl Aim {
    /// first side / second side (gort / Go) `cmp` `bound`, medians.
    pub fn ratio(text: impl Into<String>, metric: &'static str, cmp: Cmp, bound: f64) -> Aim {
        Aim {
            text: text.into(),
            metric,
            target: Target::Ratio { vs: None },
            cmp,
            bound,
            at: None,
        }
    }
    /// The first side's median `cmp` `bound` (in `unit`).
    pub fn value(
        text: impl Into<String>,
        metric: &'static str,
        cmp: Cmp,
        bound: f64,
        unit: &'static str,
    ) -> Aim {
        Aim {
            text: text.into(),
            metric,
            target: Target::Value { unit },
            cmp,
            bound,
            at: None,
        }
    }
    /// The first side's median at variant `slow` over its median at variant `fast`
    /// `cmp` `bound` (checked once; the other sides' speed-ups are shown beside it).
    pub fn speedup(
        text: impl Into<String>,
        metric: &'static str,
        slow: &'static str,
        fast: &'static str,
        cmp: Cmp,
        bound: f64,
    ) -> Aim {
        Aim {
            text: text.into(),
            metric,
            target: Target::Speedup { slow, fast },
            cmp,
            bound,
            at: None,
        }
    }
    /// Check the aim at variant `label` only.
    pub fn at(mut self, label: &'static str) -> Aim {
        self.at = Some(label);
        self
    }
    /// For a ratio aim: compare with side `label` rather than the second side.
    pub fn vs(mut self, label: &'static str) -> Aim {
        self.target = Target::Ratio { vs: Some(label) };
        self
    }
}

/// One run of one side in one variant, as given to a [`Measure::Runs`] function.
pub struct Run<'a> {
    pub bench: &'a Bench,
    pub side: &'a Side,
    pub variant: &'a Variant,
}

impl Run<'_> {
    /// The side's arguments, then the variant's.
    pub fn args(&self) -> Vec<String> {
        self.side
            .args
            .iter()
            .chain(&self.variant.args)
            .cloned()
            .collect()
    }
    /// The side's environment additions, then the variant's.
    pub fn env(&self) -> Vec<(String, String)> {
        self.side
            .env
            .iter()
            .chain(&self.variant.env)
            .cloned()
            .collect()
    }
}

/// How a benchmark is measured.
#[derive(Clone, Copy)]
pub enum Measure {
    /// For every variant, BENCH_RUNS (or BENCH_RUNS_BIG) rounds, each running every side
    /// once in turn (gort, Go, gort, Go, …), so that drift and noise hit all alike. The
    /// function measures one run and returns one value per metric, in the order of
    /// `Bench::metrics`; the usual one is `measure::program` (run the side's program,
    /// which prints the metrics). A server benchmark would start the side's server, run
    /// the load generator against it and read the load generator's figures.
    Runs(fn(&Ctx, &Run) -> Result<Vec<Num>>),
    /// The function measures the whole benchmark by itself (e.g. with a harness that
    /// interleaves its own rounds, as the start-up benchmark does).
    Whole(fn(&Ctx, &Bench) -> Result<Samples>),
}

/// A benchmark: one section of the report. Start from [`Bench::pair`] (gort's
/// bench/NAME.rs against bench/go/NAME) and fill in the rest; see suite.rs.
#[derive(Clone)]
pub struct Bench {
    /// Name on the command line and in the report: `## NAME: TITLE`.
    pub name: &'static str,
    pub title: &'static str,
    /// The aim in one sentence, for the list at the top of the report.
    pub summary: String,
    /// The programs compared: the table's columns; ratios are the first over each other.
    pub sides: Vec<Side>,
    pub variants: Vec<Variant>,
    pub metrics: Vec<Metric>,
    pub aims: Vec<Aim>,
    /// What the programs do (markdown paragraph).
    pub what: fn(&Ctx) -> String,
    /// How the metrics are computed (markdown, after "**How it was measured:**"); for
    /// `Measure::Runs` a sentence on the runs and settings is appended.
    pub how: fn(&Ctx) -> String,
    pub measure: Measure,
    /// Further programs to build (a harness, a load generator).
    pub extra: Vec<Prog>,
    /// Further tools to install when missing.
    pub tools: Vec<Tool>,
}

impl Bench {
    /// A benchmark NAME with no sides yet, measured by running programs that print their
    /// metrics.
    pub fn new(name: &'static str) -> Bench {
        Bench {
            name,
            title: "",
            summary: String::new(),
            sides: vec![],
            variants: vec![Variant::default()],
            metrics: vec![],
            aims: vec![],
            what: |_| String::new(),
            how: |_| String::new(),
            measure: Measure::Runs(crate::measure::program),
            extra: vec![],
            tools: vec![],
        }
    }
    /// gort's bench/NAME.rs (example bench_NAME) against its Go twin bench/go/NAME.
    pub fn pair(name: &'static str) -> Bench {
        // Leaked: a few bytes per benchmark, once, so that programs stay `Copy` names.
        let example: &'static str = Box::leak(format!("bench_{name}").into_boxed_str());
        Bench {
            sides: vec![Side::gort(example), Side::go(name)],
            ..Bench::new(name)
        }
    }
    pub fn metric_index(&self, key: &str) -> Option<usize> {
        self.metrics.iter().position(|m| m.key == key)
    }
    pub fn side_index(&self, label: &str) -> Option<usize> {
        self.sides.iter().position(|s| s.label == label)
    }
    /// Every program it needs built.
    pub fn progs(&self) -> impl Iterator<Item = Prog> + '_ {
        self.sides
            .iter()
            .map(|s| s.prog)
            .chain(self.extra.iter().copied())
    }
    /// The side a ratio aim compares against.
    pub fn aim_other(&self, aim: &Aim) -> Option<usize> {
        match aim.target {
            Target::Ratio { vs: Some(l) } => self.side_index(l),
            Target::Ratio { vs: None } => (self.sides.len() > 1).then_some(1),
            Target::Value { .. } | Target::Speedup { .. } => None,
        }
    }
    /// The index of the variant labelled `label`.
    pub fn variant_index(&self, label: &str) -> Option<usize> {
        self.variants.iter().position(|v| v.label == label)
    }

    /// Checks the definition is complete and consistent.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let ident = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        let err = |m: String| Err(format!("benchmark '{}': {m}", self.name));
        if !ident(self.name) {
            return err("the name must be lowercase letters, digits and _".into());
        }
        if self.title.is_empty() || self.summary.is_empty() {
            return err("title and summary must be set".into());
        }
        if self.sides.is_empty() {
            return err("no sides".into());
        }
        for (i, s) in self.sides.iter().enumerate() {
            if s.label.is_empty() || self.sides[..i].iter().any(|t| t.label == s.label) {
                return err(format!(
                    "side labels must be non-empty and distinct ({:?})",
                    s.label
                ));
            }
        }
        if self.variants.is_empty() {
            return err("no variants".into());
        }
        if self.variants.len() > 1 {
            for (i, v) in self.variants.iter().enumerate() {
                if v.label.is_empty() || self.variants[..i].iter().any(|w| w.label == v.label) {
                    return err("with several variants, each needs its own label".into());
                }
            }
        }
        if self.metrics.is_empty() {
            return err("no metrics".into());
        }
        for (i, m) in self.metrics.iter().enumerate() {
            if !ident(m.key) || self.metrics[..i].iter().any(|n| n.key == m.key) {
                return err(format!(
                    "metric keys must be distinct identifiers ({:?})",
                    m.key
                ));
            }
            if m.single && matches!(self.measure, Measure::Runs(_)) {
                return err(format!(
                    "metric {}: single values need a Measure::Whole",
                    m.key
                ));
            }
        }
        for a in &self.aims {
            if self.metric_index(a.metric).is_none() {
                return err(format!("aim '{}': no metric {}", a.text, a.metric));
            }
            if matches!(a.target, Target::Ratio { .. })
                && !matches!(self.aim_other(a), Some(i) if i > 0)
            {
                return err(format!("aim '{}': no side to compare with", a.text));
            }
            let labels = match a.target {
                Target::Speedup { slow, fast } => vec![slow, fast],
                _ => a.at.into_iter().collect(),
            };
            for l in labels {
                if self.variant_index(l).is_none() {
                    return err(format!("aim '{}': no variant {l:?}", a.text));
                }
            }
        }
        Ok(())
    }
}

/// A tool installed with apt-get when `cmd` is not on PATH.
#[derive(Clone, Debug)]
pub struct Tool {
    /// Its name in the report's header.
    pub name: &'static str,
    pub cmd: &'static str,
    pub packages: &'static [&'static str],
    /// Arguments that make it print its version (first line goes in the header).
    pub version_args: &'static [&'static str],
}

/// A number as a program printed it: its value and its text (kept for the report).
#[derive(Clone, Debug, PartialEq)]
pub struct Num {
    pub v: f64,
    pub text: String,
}

impl Num {
    /// A plain decimal, `DIGITS` or `DIGITS.DIGITS`, as the benchmark programs print.
    pub fn parse(s: &str) -> Option<Num> {
        let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || !digits(frac) {
            return None;
        }
        Some(Num {
            v: s.parse().ok()?,
            text: s.into(),
        })
    }
    /// `v` shown with `decimals` decimals.
    pub fn fixed(v: f64, decimals: usize) -> Num {
        Num {
            v,
            text: format!("{v:.decimals$}"),
        }
    }
    pub fn int(v: u64) -> Num {
        Num {
            v: v as f64,
            text: v.to_string(),
        }
    }
    pub fn decimals(&self) -> usize {
        self.text.split_once('.').map_or(0, |(_, f)| f.len())
    }
}

/// The measured values of a benchmark, by (variant, metric, side) indices, in run order.
#[derive(Default, Debug)]
pub struct Samples {
    cells: HashMap<(usize, usize, usize), Vec<Num>>,
}

impl Samples {
    pub fn add(&mut self, variant: usize, metric: usize, side: usize, n: Num) {
        self.cells
            .entry((variant, metric, side))
            .or_default()
            .push(n);
    }
    /// Adds a value by metric key (for `Measure::Whole` functions).
    pub fn put(&mut self, b: &Bench, variant: usize, key: &str, side: usize, n: Num) {
        let m = b
            .metric_index(key)
            .unwrap_or_else(|| panic!("{}: no metric {key}", b.name));
        self.add(variant, m, side, n);
    }
    pub fn get(&self, variant: usize, metric: usize, side: usize) -> &[Num] {
        self.cells
            .get(&(variant, metric, side))
            .map_or(&[], Vec::as_slice)
    }
}

/// The median: the middle value, or the mean of the middle two, shown with the inputs'
/// precision (one more decimal if that would round it).
pub fn median(xs: &[Num]) -> Option<Num> {
    let mut s: Vec<&Num> = xs.iter().collect();
    s.sort_by(|a, b| a.v.total_cmp(&b.v));
    let n = s.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        return Some(s[n / 2].clone());
    }
    let v = (s[n / 2 - 1].v + s[n / 2].v) / 2.0;
    let d = s.iter().map(|x| x.decimals()).max().unwrap_or(0);
    let num = Num::fixed(v, d);
    Some(
        if (num.text.parse::<f64>().unwrap_or(v) - v).abs() > 1e-9 * v.abs().max(1.0) {
            Num::fixed(v, d + 1)
        } else {
            num
        },
    )
}

/// The best value: the maximum if higher is better, else the minimum.
pub fn best(xs: &[Num], higher_is_better: bool) -> Option<Num> {
    let it = xs.iter();
    if higher_is_better {
        it.max_by(|a, b| a.v.total_cmp(&b.v)).cloned()
    } else {
        it.min_by(|a, b| a.v.total_cmp(&b.v)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nums(v: &[&str]) -> Vec<Num> {
        v.iter().map(|s| Num::parse(s).unwrap()).collect()
    }

    #[test]
    fn parse() {
        assert_eq!(Num::parse("12.5").unwrap().v, 12.5);
        assert_eq!(Num::parse("4416").unwrap().decimals(), 0);
        for bad in ["", "1.", ".5", "-1", "1e3", "1.2.3", " 1", "nan", "1,5"] {
            assert!(Num::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn medians() {
        assert_eq!(median(&nums(&["3.0", "1.0", "2.0"])).unwrap().text, "2.0");
        assert_eq!(median(&nums(&["4416", "4417"])).unwrap().text, "4416.5");
        assert_eq!(median(&nums(&["4416", "4418"])).unwrap().text, "4417");
        assert_eq!(median(&nums(&["1.2", "1.3"])).unwrap().text, "1.25");
        assert!(median(&[]).is_none());
        assert_eq!(best(&nums(&["3", "1", "2"]), false).unwrap().text, "1");
        assert_eq!(best(&nums(&["3", "1", "2"]), true).unwrap().text, "3");
    }
}
