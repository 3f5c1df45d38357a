//! The benchmarks, in report order. Each is data: see model.rs for what the fields mean
//! and main.rs for how to add one.

use crate::ctx::Ctx;
use crate::measure;
use crate::model::{
    Aim, Bench, Cmp, Measure, Metric, Num, Prog, Run, Samples, Side, Tool, Variant,
};
use crate::proc::file_size;
use crate::report::{count, th};
use crate::Result;

/// All benchmarks, in the order of the report.
pub fn all() -> Vec<Bench> {
    vec![
        hello(),
        spawn(),
        yield_(),
        mutex(),
        parked(),
        pingpong(),
        chanbuf(),
        select(),
        timers(),
        lateness(),
        syscall(),
        cpuloop(),
        echo(),
        idleconn(),
        httpd(),
        binary_trees(),
        holes(),
        crossfree(),
        trace(),
    ]
}

/// The sentence every runtime-default benchmark uses for GOMAXPROCS.
fn procs(c: &Ctx) -> String {
    format!("the default GOMAXPROCS ({} here)", c.nproc)
}

// ---------------------------------------------------------------------------------------
// Preemption (bench/preempt.rs, bench/go/preempt): three modes of one program.
// ---------------------------------------------------------------------------------------

fn lateness() -> Bench {
    const N: u64 = 200;
    Bench {
        title: "sleeper lateness beside spinning goroutines",
        summary:
            "a sleeping goroutine wakes no later than Go's beside goroutines that never block."
                .into(),
        sides: vec![
            Side::gort("bench_preempt").args([1]),
            Side::go("preempt").args([1]),
        ],
        variants: vec![
            Variant::new("loops that never block").args([N]),
            Variant::new("loops with a system call every 50 µs").args([N, 50]),
        ],
        metrics: vec![
            Metric::lower("late_max_us", "µs").label("worst lateness"),
            Metric::lower("late_mean_us", "µs").label("mean lateness"),
        ],
        aims: vec![Aim::ratio(
            "worst lateness ≤ Go's (median)",
            "late_max_us",
            Cmp::Le,
            1.0,
        )],
        what: |c| {
            format!(
                "As many goroutines as Ps ({}) spin in a loop that never calls the runtime (an atomic \
                 load and a multiply-add), so every P is busy; main sleeps 1 ms {N} times \
                 (`bench/preempt.rs` mode 1, `bench/go/preempt`). Only preemption lets main's timer run. \
                 In the second variant each loop also makes a getpid system call every 50 µs \
                 (`gort::blocking`; Go's syscall.Getpid): each takes its P back at once, so the \
                 goroutine holds it across calls.",
                procs(c)
            )
        },
        how: |_| {
            "for each sleep, the wall time (CLOCK_MONOTONIC) it took minus the 1 ms asked for; the worst \
             and the mean over the run, in µs."
                .into()
        },
        ..Bench::new("lateness")
    }
}

fn syscall() -> Bench {
    const N: u64 = 1_000_000;
    Bench {
        title: "system call fast path",
        summary:
            "a short system call through `gort::blocking` costs no more than Go's syscall.Getpid."
                .into(),
        sides: vec![
            Side::gort("bench_preempt").args([2]),
            Side::go("preempt").args([2]),
        ],
        variants: vec![Variant::default().args([N])],
        metrics: vec![Metric::lower("ns_per_syscall", "ns/call")],
        aims: vec![Aim::ratio(
            "getpid ≤ Go's (median)",
            "ns_per_syscall",
            Cmp::Le,
            1.0,
        )],
        what: |_| {
            format!(
                "{} getpid system calls in a loop, each wrapped in entersyscall/exitsyscall: \
                 `gort::blocking(|| syscall!(Sysno::getpid))` (`bench/preempt.rs` mode 2) and Go's \
                 `syscall.Getpid()` (`bench/go/preempt`), which does the same.",
                th(N)
            )
        },
        how: |_| {
            format!(
                "wall time (CLOCK_MONOTONIC) of the loop divided by {}, in ns per call.",
                th(N)
            )
        },
        ..Bench::new("syscall")
    }
}

fn cpuloop() -> Bench {
    const N: u64 = 100_000_000;
    Bench {
        title: "CPU-bound throughput with preemption on and off",
        summary: "preemption costs a CPU-bound loop at most 1%.".into(),
        sides: vec![
            Side::gort("bench_preempt").args([3]),
            Side::new("gort, asyncpreemptoff=1", Prog::Gort("bench_preempt"))
                .args([3])
                .env("GODEBUG", "asyncpreemptoff=1"),
            Side::go("preempt").args([3]),
        ],
        variants: vec![Variant::default().args([N])],
        metrics: vec![Metric::lower("ns_per_iter", "ns/iteration")],
        aims: vec![Aim::ratio(
            "preemption on ≤ 1.01× off (median)",
            "ns_per_iter",
            Cmp::Le,
            1.01,
        )
        .vs("gort, asyncpreemptoff=1")],
        what: |c| {
            format!(
                "2 × GOMAXPROCS goroutines each run {} steps of xorshift64 (a dependent chain the \
                 compiler cannot shorten) at {}, so each P has two goroutines and every 10 ms slice \
                 ends in a preemption (`bench/preempt.rs` mode 3, `bench/go/preempt`); gort also runs \
                 with `GODEBUG=asyncpreemptoff=1`, where the goroutines switch only when they finish.",
                th(N),
                procs(c)
            )
        },
        how: |_| {
            "wall time (CLOCK_MONOTONIC) from the first spawn until all are done, divided by the \
                  total number of steps, in ns per step."
                .into()
        },
        ..Bench::new("cpuloop")
    }
}

// ---------------------------------------------------------------------------------------
// Servers (examples/echo.rs, examples/httpd.rs; bench/go/echo, bench/go/httpd): one load
// generator drives both.
// ---------------------------------------------------------------------------------------

const WRK: Tool = Tool {
    name: "wrk",
    cmd: "wrk",
    packages: &["wrk"],
    version_args: &["-v"],
};

/// Start the side's server on 127.0.0.1:0 (its arguments, then the address), wait for
/// its `listening=ADDR` line, run `load(ADDR)`, and kill the server.
fn with_server(c: &Ctx, r: &Run, load: impl FnOnce(&str) -> Result<Vec<Num>>) -> Result<Vec<Num>> {
    with_server_pid(c, r, |addr, _| load(addr))
}

/// with_server, giving `load` the server's pid too.
fn with_server_pid(
    c: &Ctx,
    r: &Run,
    load: impl FnOnce(&str, u32) -> Result<Vec<Num>>,
) -> Result<Vec<Num>> {
    use std::io::BufRead;
    let mut cmd = std::process::Command::new(&c.exe(r.side.prog).path);
    cmd.args(&r.side.args).arg("127.0.0.1:0");
    for k in crate::proc::RUNTIME_KNOBS {
        cmd.env_remove(k);
    }
    cmd.envs(r.side.env.iter().cloned());
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", r.side.label))?;
    let mut line = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).map_err(|e| e.to_string())?;
    let addr = line.trim().strip_prefix("listening=").map(str::to_string);
    let pid = child.id();
    let res = match addr {
        Some(a) => load(&a, pid),
        None => Err(format!("{}: no listening= line: {line:?}", r.side.label)),
    };
    let _ = child.kill();
    let _ = child.wait();
    res
}

fn echo_run(c: &Ctx, r: &Run) -> Result<Vec<Num>> {
    with_server(c, r, |addr| {
        let mut args = vec![addr.to_string()];
        args.extend(r.variant.args.iter().cloned());
        let cmd = crate::proc::Cmd::new(&c.exe(Prog::Go("echoclient")).path).args(args);
        let out = crate::proc::run(c, &cmd)?;
        measure::parse_metrics(&out.stdout, &["rt_per_s"])
    })
}

fn echo() -> Bench {
    Bench {
        title: "TCP echo round trips",
        summary: "a TCP echo server answers at least as many round trips per second as Go's."
            .into(),
        sides: vec![
            Side::gort("echo").args(["serve"]),
            Side::go("echo").args(["serve"]),
        ],
        variants: vec![
            Variant::new("1 connection").args([1, 2000, 64]),
            Variant::new("50 connections").args([50, 2000, 64]),
            Variant::new("1,000 connections").args([1000, 2000, 64]),
        ],
        metrics: vec![Metric::higher("rt_per_s", "round trips/s")],
        aims: vec![Aim::ratio(
            "round trips ≥ Go's (median)",
            "rt_per_s",
            Cmp::Ge,
            1.0,
        )],
        what: |_| {
            "An echo server, one goroutine per connection reading up to 16 KiB and writing it back \
             (`examples/echo.rs serve`, `bench/go/echo`). One load generator, a Go program \
             (`bench/go/echoclient`), drives both: it opens the connections, then on each for 2 s \
             writes 64 bytes and reads them back (checking them), as fast as the server answers. \
             Server and client share the machine's two cores."
                .into()
        },
        how: |_| {
            "round trips completed on all connections together, divided by the wall time.".into()
        },
        measure: Measure::Runs(echo_run),
        extra: vec![Prog::Go("echoclient")],
        ..Bench::new("echo")
    }
}

/// Resident bytes of process pid (/proc/PID/statm, field 2, in pages).
fn rss_of(pid: u32) -> Result<u64> {
    let t = std::fs::read_to_string(format!("/proc/{pid}/statm")).map_err(|e| e.to_string())?;
    let pages: u64 = t
        .split(' ')
        .nth(1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("bad statm: {t}"))?;
    Ok(pages * 4096)
}

fn idleconn_run(c: &Ctx, r: &Run) -> Result<Vec<Num>> {
    use std::io::{BufRead, Write};
    let n: u64 = r
        .variant
        .args
        .first()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    with_server_pid(c, r, |addr, pid| {
        let before = rss_of(pid)?;
        let mut client = std::process::Command::new(&c.exe(Prog::Go("echoclient")).path)
            .args([addr, &n.to_string(), "0", "64"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut line = String::new();
        let mut out = std::io::BufReader::new(client.stdout.take().unwrap());
        out.read_line(&mut line).map_err(|e| e.to_string())?;
        if line.trim() != "ready" {
            let _ = client.kill();
            return Err(format!(
                "echoclient: {line:?} (too few file descriptors? ulimit -n)"
            ));
        }
        // Let the server settle (its goroutines park after the round trip).
        std::thread::sleep(std::time::Duration::from_millis(200));
        let after = rss_of(pid)?;
        let _ = client.stdin.take().unwrap().write_all(b"");
        let _ = client.wait();
        Ok(vec![Num::int(after.saturating_sub(before) / n)])
    })
}

fn idleconn() -> Bench {
    const N: u64 = 10_000;
    Bench {
        title: "memory per idle connection",
        summary: "an idle connection costs the echo server no more resident memory than Go's."
            .into(),
        sides: vec![
            Side::gort("echo").args(["serve"]),
            Side::go("echo").args(["serve"]),
        ],
        variants: vec![Variant::default().args([N])],
        metrics: vec![Metric::lower("rss_per_conn", "B/connection")],
        aims: vec![Aim::ratio(
            "bytes per idle connection ≤ Go's (median)",
            "rss_per_conn",
            Cmp::Le,
            1.0,
        )],
        what: |_| {
            format!(
                "The echo servers of `echo` (a goroutine per connection, each with a 16 KiB read \
                 buffer). The load generator (`bench/go/echoclient` with MS = 0) opens {} connections, \
                 makes one 64-byte round trip on each, and holds them open, idle.",
                th(N)
            )
        },
        how: |_| {
            "the server's resident memory (/proc/PID/statm) 200 ms after every connection made its \
             round trip, minus its resident memory before the first connection, divided by the \
             number of connections."
                .into()
        },
        measure: Measure::Runs(idleconn_run),
        extra: vec![Prog::Go("echoclient")],
        ..Bench::new("idleconn")
    }
}

fn httpd_run(c: &Ctx, r: &Run) -> Result<Vec<Num>> {
    with_server(c, r, |addr| {
        let conns = r
            .variant
            .args
            .first()
            .cloned()
            .unwrap_or_else(|| "50".into());
        let url = format!("http://{addr}/");
        let args = ["-t2", &format!("-c{conns}"), "-d2s", &url];
        let cmd = crate::proc::Cmd::new("wrk").args(args);
        let out = crate::proc::run(c, &cmd)?;
        let rps = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))
            .map(|v| v.trim().to_string())
            .ok_or_else(|| format!("wrk printed no Requests/sec: {}", out.stdout))?;
        if out.stdout.contains("Non-2xx") || out.stdout.contains("Socket errors") {
            return Err(format!("wrk saw errors: {}", out.stdout));
        }
        let v: f64 = rps
            .parse()
            .map_err(|_| format!("wrk: bad Requests/sec {rps}"))?;
        Ok(vec![Num::fixed(v, 0)])
    })
}

fn httpd() -> Bench {
    Bench {
        title: "HTTP/1.1 keep-alive requests",
        summary:
            "a minimal HTTP/1.1 responder serves at least as many requests per second as Go's."
                .into(),
        sides: vec![Side::gort("httpd"), Side::go("httpd")],
        variants: vec![
            Variant::new("50 connections").args([50]),
            Variant::new("500 connections").args([500]),
        ],
        metrics: vec![Metric::higher("req_per_s", "requests/s")],
        aims: vec![Aim::ratio(
            "requests ≥ Go's (median)",
            "req_per_s",
            Cmp::Ge,
            1.0,
        )],
        what: |_| {
            "A keep-alive responder that reads each request head up to the blank line and answers \
             `200 OK` with `hello, world\\n`, one goroutine per connection (`examples/httpd.rs`, \
             `bench/go/httpd` on Go's net). `wrk -t2 -cN -d2s` drives both; server and wrk share the \
             machine's two cores."
                .into()
        },
        how: |_| "wrk's Requests/sec (any non-2xx answer or socket error fails the run).".into(),
        measure: Measure::Runs(httpd_run),
        tools: vec![WRK],
        ..Bench::new("httpd")
    }
}

// ---------------------------------------------------------------------------------------
// hello: start-up time and binary size of "hello, world" in gort, Go and the asm floor.
// ---------------------------------------------------------------------------------------

fn hello() -> Bench {
    Bench {
        title: "start-up and size",
        summary: "gort's hello is ≤ 64 KiB, and its start-up is within 1.5× of the floor (a bare \
                  `_start` → `write` → `exit_group` program)."
            .into(),
        sides: vec![
            Side::gort("hello"),
            Side::go("hello"),
            Side::new("floor", Prog::Asm("floor")),
        ],
        metrics: vec![
            Metric::lower("startup_median", "µs")
                .single()
                .label("start-up median"),
            Metric::lower("startup_mean", "µs")
                .single()
                .label("start-up mean"),
            Metric::lower("startup_p10", "µs")
                .single()
                .label("start-up p10"),
            Metric::lower("startup_p90", "µs")
                .single()
                .label("start-up p90"),
            Metric::lower("size_bytes", "bytes")
                .single()
                .label("binary size"),
            Metric::lower("size_kib", "KiB")
                .single()
                .label("binary size"),
        ],
        aims: vec![
            Aim::value("hello ≤ 64 KiB", "size_kib", Cmp::Le, 64.0, "KiB"),
            Aim::ratio(
                "start-up within 1.5× of the floor (median)",
                "startup_median",
                Cmp::Le,
                1.5,
            )
            .vs("floor"),
        ],
        what: |c| {
            format!(
                "\"hello, world\" three ways: gort's `examples/hello` (`cargo build --release`, `{}`), \
                 Go's `fmt.Println` (`bench/go/hello`, `CGO_ENABLED=0 go build -trimpath -ldflags='-s -w'`) \
                 and the floor (`bench/floor.S`: `_start`, `write`, `exit_group`, nothing else). \
                 Each must print exactly `hello, world` and exit 0 (checked once before timing).",
                c.rel(&c.exe(Prog::Gort("hello")).path)
            )
        },
        how: |c| {
            format!(
                "start-up is the wall time (CLOCK_MONOTONIC) of posix_spawn → waitpid as the harness \
                 `bench/startup.c` sees it (stdin and stdout on /dev/null), {} after {} of warm-up, \
                 the three run interleaved round-robin (gort, Go, floor, gort, …) so noise hits \
                 all alike; median, mean, 10th and 90th percentile per program. Binary size is the size \
                 of the executable file. Ratios gort/Go and gort/floor.",
                count(c.knobs.rounds, "round"),
                count(c.knobs.warmup, "round")
            )
        },
        measure: Measure::Whole(hello_measure),
        extra: vec![Prog::C("startup")],
        ..Bench::new("hello")
    }
}

/// hello's measurement: output checked, start-up timed by the harness, sizes read.
fn hello_measure(c: &Ctx, b: &Bench) -> Result<Samples> {
    for s in &b.sides {
        measure::check_stdout(c, &c.exe(s.prog).path, "hello, world\n")?;
    }
    let times = measure::startup(c, b)?;
    let mut s = Samples::default();
    for (si, (side, t)) in b.sides.iter().zip(times).enumerate() {
        s.put(b, 0, "startup_median", si, t.median);
        s.put(b, 0, "startup_mean", si, t.mean);
        s.put(b, 0, "startup_p10", si, t.p10);
        s.put(b, 0, "startup_p90", si, t.p90);
        let size = file_size(&c.exe(side.prog).path)?;
        s.put(b, 0, "size_bytes", si, Num::int(size));
        s.put(b, 0, "size_kib", si, Num::fixed(size as f64 / 1024.0, 1));
    }
    Ok(s)
}

// ---------------------------------------------------------------------------------------
// Scheduler: spawn, yield, mutex, parked.
// ---------------------------------------------------------------------------------------

fn spawn() -> Bench {
    const N: u64 = 1_000_000;
    Bench {
        title: "goroutine creation and exit",
        summary: "creating and finishing a goroutine takes at most half of Go's time.".into(),
        variants: vec![Variant::default().args([N])],
        metrics: vec![Metric::lower("ns_per_goroutine", "ns/goroutine")],
        aims: vec![Aim::ratio(
            "spawn ≤ ½ of Go's time (median)",
            "ns_per_goroutine",
            Cmp::Le,
            0.5,
        )],
        what: |_| {
            format!(
                "Main starts {} goroutines, calling `wg.add(1)` before each spawn; each goroutine only \
                 calls `wg.done()`; main then waits on the WaitGroup (a static `gort::sync::WaitGroup` in \
                 gort's `bench/spawn.rs`, a package-level `sync.WaitGroup` in `bench/go/spawn`).",
                th(N)
            )
        },
        how: |_| {
            format!(
                "wall time (CLOCK_MONOTONIC) from before the first spawn until `wait` returns, divided \
                 by {}, in ns per goroutine.",
                th(N)
            )
        },
        ..Bench::pair("spawn")
    }
}

fn yield_() -> Bench {
    const K: u64 = 1_000_000;
    Bench {
        title: "goroutine switch",
        summary: "a goroutine switch (gosched) takes at most half of Go's time.".into(),
        variants: vec![Variant::default().args([K])],
        metrics: vec![Metric::lower("ns_per_switch", "ns/switch")],
        aims: vec![Aim::ratio(
            "yield ≤ ½ of Go's time (median)",
            "ns_per_switch",
            Cmp::Le,
            0.5,
        )],
        what: |_| {
            format!(
                "The program sets GOMAXPROCS to 1 (`gort::gomaxprocs(1)` / `runtime.GOMAXPROCS(1)`), \
                 then two goroutines each call `gort::gosched()` / `runtime.Gosched()` {} times, so every \
                 call switches to the other; main waits for both on a WaitGroup (`bench/yield.rs`, \
                 `bench/go/yield`).",
                th(K)
            )
        },
        how: |_| {
            format!(
                "wall time (CLOCK_MONOTONIC) from before the first spawn until both are done, divided by \
                 the {} gosched calls, in ns per switch.",
                th(2 * K)
            )
        },
        ..Bench::pair("yield")
    }
}

fn mutex() -> Bench {
    const G: u64 = 8;
    const M: u64 = 1_000_000;
    Bench {
        title: "contended lock",
        summary: "a contended lock/unlock is faster than Go's sync.Mutex.".into(),
        variants: vec![Variant::default().args([G, M])],
        metrics: vec![Metric::lower("ns_per_op", "ns/op")],
        aims: vec![Aim::ratio(
            "mutex faster than Go (median)",
            "ns_per_op",
            Cmp::Lt,
            1.0,
        )],
        what: |c| {
            format!(
                "{G} goroutines each do {} lock / increment / unlock on one mutex (a static \
                 `gort::sync::Mutex<u64>` in `bench/mutex.rs`; a `sync.Mutex` and a `uint64` in \
                 `bench/go/mutex`), at {}. Both check the final count is exactly {} and exit 1 \
                 otherwise (the suite then fails).",
                th(M),
                procs(c),
                th(G * M)
            )
        },
        how: |_| {
            format!(
                "wall time (CLOCK_MONOTONIC) from before the first spawn until all {G} are done, divided \
                 by {}, in ns per lock/unlock.",
                th(G * M)
            )
        },
        ..Bench::pair("mutex")
    }
}

fn parked() -> Bench {
    /// One page of stack plus the G (~350 B).
    const AIM: u64 = 4096 + 350;
    Bench {
        title: "memory per parked goroutine",
        summary: format!(
            "a parked goroutine costs at most one page (4096 B) of stack plus the G (~350 B) of \
             resident memory, ≤ {AIM} B."
        ),
        variants: vec![
            Variant::new("N = 100,000").args([100_000]),
            Variant::new("N = 1,000,000").args([1_000_000]).big(),
        ],
        metrics: vec![Metric::lower("bytes_per_goroutine", "B/goroutine")],
        aims: vec![Aim::value(
            format!("parked ≤ {AIM} B/goroutine (median)"),
            "bytes_per_goroutine",
            Cmp::Le,
            AIM as f64,
            "B",
        )],
        what: |_| {
            "Main spawns N goroutines; each calls `started.done()` and parks in `gate.wait()` (static \
             `gort::sync::WaitGroup`s in `bench/parked.rs`, package-level `sync.WaitGroup`s in \
             `bench/go/parked`). Once `started.wait()` returns, all N are parked; then the gate opens \
             and main waits for all N to finish (the program fails if they do not)."
                .into()
        },
        how: |_| {
            "resident set size from `/proc/self/statm` (field 2, pages × 4096), read the same way in \
             both, once before the first spawn and once with all N parked; the value is the difference \
             divided by N, in bytes per goroutine. Nothing is freed in the window: gort has no GC, and \
             the Go twin calls neither `runtime.GC()` nor `debug.FreeOSMemory()` (Go's own GC may run as \
             usual). At N = 1,000,000 a run takes seconds and GBs, hence fewer runs."
                .into()
        },
        ..Bench::pair("parked")
    }
}

// ---------------------------------------------------------------------------------------
// Channels and timers: pingpong, chanbuf, select, timers.
// ---------------------------------------------------------------------------------------

fn pingpong() -> Bench {
    const N: u64 = 1_000_000;
    Bench {
        title: "unbuffered round trip",
        summary: "an unbuffered channel round trip between two goroutines takes at most half of Go's time."
            .into(),
        variants: vec![Variant::default().args([N])],
        metrics: vec![Metric::lower("ns_per_roundtrip", "ns/round trip")],
        aims: vec![Aim::ratio("pingpong ≤ ½ of Go's time (median)", "ns_per_roundtrip", Cmp::Le, 0.5)],
        what: |c| {
            format!(
                "Main sends i on the unbuffered channel a; an echo goroutine (`for v in &a {{ b.send(v + 1) }}` \
                 / `for v := range a {{ b <- v + 1 }}`) sends i + 1 back on the unbuffered channel b; main \
                 receives it and checks it is i + 1 (the program exits 1 otherwise). {} round trips at {} \
                 (`bench/pingpong.rs`, `bench/go/pingpong`).",
                th(N),
                procs(c)
            )
        },
        how: |_| {
            format!(
                "wall time (CLOCK_MONOTONIC) from before the echo goroutine is spawned until the last reply \
                 is received, divided by {}, in ns per round trip (two channel handoffs).",
                th(N)
            )
        },
        ..Bench::pair("pingpong")
    }
}

fn chanbuf() -> Bench {
    const N: u64 = 10_000_000;
    Bench {
        title: "buffered channel throughput",
        summary: "an item through a buffered channel (capacity 128, one producer, one consumer) takes at \
                  most half of Go's time."
            .into(),
        variants: vec![Variant::default().args([N])],
        metrics: vec![Metric::lower("ns_per_item", "ns/item")],
        aims: vec![Aim::ratio("chanbuf ≤ ½ of Go's time (median)", "ns_per_item", Cmp::Le, 0.5)],
        what: |c| {
            format!(
                "A producer goroutine sends 0, 1, …, {} on a channel of capacity 128 and closes it; main \
                 receives until it is closed and drained (`for v in &c` / `for v := range c`), summing, \
                 and checks the count is {} and the sum exactly {} (the program exits 1 otherwise). At {} \
                 (`bench/chanbuf.rs`, `bench/go/chanbuf`).",
                th(N - 1),
                th(N),
                th(N * (N - 1) / 2),
                procs(c)
            )
        },
        how: |_| {
            format!(
                "wall time (CLOCK_MONOTONIC) from before the producer is spawned until the channel is \
                 drained, divided by {}, in ns per item.",
                th(N)
            )
        },
        ..Bench::pair("chanbuf")
    }
}

fn select() -> Bench {
    const N: u64 = 1_000_000;
    Bench {
        title: "two-case select loop",
        summary: "a two-case select loop — reported, no stated aim.".into(),
        variants: vec![Variant::default().args([N])],
        metrics: vec![Metric::lower("ns_per_select", "ns/select")],
        what: |c| {
            format!(
                "Two producer goroutines each send 1, 2, …, {} on their own **unbuffered** channel, a and \
                 b; main runs a two-case select (`gort::select! {{ recv(a) -> v => …, recv(b) -> v => … }}` \
                 / `select {{ case v, ok = <-a: … case v, ok = <-b: … }}`) {} times, counting and summing \
                 per channel, and checks each channel gave exactly {} values with the exact sum (the \
                 program exits 1 otherwise). At {} (`bench/select.rs`, `bench/go/select`).",
                th(N / 2),
                th(N),
                th(N / 2),
                procs(c)
            )
        },
        how: |_| {
            format!(
                "wall time (CLOCK_MONOTONIC) from before the first producer is spawned until the last \
                 select returns, divided by {}, in ns per select.",
                th(N)
            )
        },
        ..Bench::pair("select")
    }
}

fn timers() -> Bench {
    const N: u64 = 10_000;
    const MS: u64 = 1;
    const ROUNDS: u64 = 100;
    Bench {
        title: "many sleeping goroutines",
        summary: "timers: CPU per wake-up ≤ ½ of Go's (median), many sleeping goroutines".into(),
        aims: vec![Aim::ratio(
            "timers CPU per wake-up ≤ ½ of Go's (median)",
            "cpu_ns_per_wakeup",
            Cmp::Le,
            0.5,
        )],
        variants: vec![Variant::default().args([N, MS, ROUNDS])],
        metrics: vec![
            Metric::higher("wakeups_per_sec", "wake-ups/s"),
            Metric::lower("cpu_per_wall", "CPU / wall"),
            Metric::lower("cpu_ns_per_wakeup", "CPU ns per wake-up"),
        ],
        what: |c| {
            format!(
                "{} goroutines each sleep {MS} ms (`gort::time::sleep` / `time.Sleep`) {ROUNDS} times, \
                 counting their wake-ups in an atomic; main waits on a WaitGroup and checks the count is \
                 exactly {} (the program exits 1 otherwise). At {} (`bench/timers.rs`, `bench/go/timers`).",
                th(N),
                th(N * ROUNDS),
                procs(c)
            )
        },
        how: |_| {
            format!(
                "over the window from before the first spawn until `wait` returns: wake-ups per second = \
                 {} / wall time (CLOCK_MONOTONIC), **higher is better** (the ideal, every sleep exactly \
                 {MS} ms, is about {} per second); CPU / wall = process CPU time of all threads \
                 (clock_gettime(CLOCK_PROCESS_CPUTIME_ID) by system call in both) / wall time, **lower is \
                 better** (1.00 = one CPU busy the whole time); CPU ns per wake-up = that process CPU time / \
                 {}, **lower is better**. All three come from the \
                 same run.",
                th(N * ROUNDS),
                th(N * 1000 / MS),
                th(N * ROUNDS)
            )
        },
        ..Bench::pair("timers")
    }
}

// ---------------------------------------------------------------------------------------
// The allocator: binary-trees, holes, crossfree.
// ---------------------------------------------------------------------------------------

fn binary_trees() -> Bench {
    Bench {
        title: "binary-trees (allocation-heavy)",
        summary: "binary-trees (CLBG, a goroutine per depth) takes at most Go's time, at most the \
                  glibc-malloc peers' 0.81 s at depth 17 (tokio, measured in the issue), and with \
                  2 threads is at least 1.7× faster than with 1."
            .into(),
        variants: vec![
            Variant::new("depth 17, GOMAXPROCS=1")
                .args([17])
                .env("GOMAXPROCS", "1"),
            Variant::new("depth 17, GOMAXPROCS=2")
                .args([17])
                .env("GOMAXPROCS", "2"),
            Variant::new("depth 18, GOMAXPROCS=1")
                .args([18])
                .env("GOMAXPROCS", "1"),
            Variant::new("depth 18, GOMAXPROCS=2")
                .args([18])
                .env("GOMAXPROCS", "2"),
        ],
        metrics: vec![Metric::lower("seconds", "s")],
        aims: vec![
            Aim::ratio("binary-trees ≤ Go's time (median)", "seconds", Cmp::Le, 1.0),
            Aim::value(
                "binary-trees ≤ the glibc-malloc peers' 0.81 s (median)",
                "seconds",
                Cmp::Le,
                0.81,
                "s",
            )
            .at("depth 17, GOMAXPROCS=1"),
            Aim::speedup(
                "2 threads ≥ 1.7× faster than 1 (medians)",
                "seconds",
                "depth 17, GOMAXPROCS=1",
                "depth 17, GOMAXPROCS=2",
                Cmp::Ge,
                1.7,
            ),
            Aim::speedup(
                "2 threads ≥ 1.7× faster than 1 (medians)",
                "seconds",
                "depth 18, GOMAXPROCS=1",
                "depth 18, GOMAXPROCS=2",
                Cmp::Ge,
                1.7,
            ),
        ],
        what: |_| {
            "The Computer Language Benchmarks Game's binary-trees as Go's reference program does it: \
             a stretch tree of depth D+1, a long-lived tree of depth D, then one goroutine per depth \
             d = 4, 6, …, D building and checking 2^(D−d+4) trees of depth d; every node is a heap \
             object of two child pointers (16 bytes: `Box<Node>` / `&Node{}`), freed when its tree is \
             dropped (gort) or collected (Go). Every check is verified (`bench/binarytrees.rs`, \
             `bench/go/binarytrees`)."
                .into()
        },
        how: |_| {
            "wall time (CLOCK_MONOTONIC) of the whole computation inside the program, in seconds; \
             the ratio of the GOMAXPROCS=1 and =2 medians is the parallel speed-up."
                .into()
        },
        ..Bench::pair("binarytrees")
    }
}

fn holes() -> Bench {
    Bench {
        title: "allocation beside holes",
        summary:
            "an allocation of 300-400 bytes beside 10,000 small holes takes at most Go's time."
                .into(),
        variants: vec![Variant::default().args([10_000, 20_000])],
        metrics: vec![Metric::lower("ns_per_alloc", "ns/alloc")],
        aims: vec![Aim::ratio(
            "holes ≤ Go's time (median)",
            "ns_per_alloc",
            Cmp::Le,
            1.0,
        )],
        what: |_| {
            "Main allocates 20,000 objects of 48 bytes and frees every other one (10,000 holes too \
             small for what follows), then allocates 20,000 zeroed byte vectors of 300 to 400 bytes \
             (`vec![0u8; n]` / `make([]byte, n)`), keeping all alive; both check lengths and contents \
             afterwards (`bench/holes.rs`, `bench/go/holes`)."
                .into()
        },
        how: |_| {
            "wall time (CLOCK_MONOTONIC) of the 20,000 allocations, divided by 20,000, in ns per \
             allocation (linked_list_allocator, gort's heap before this benchmark existed, took \
             ~170,000-200,000 ns)."
                .into()
        },
        ..Bench::pair("holes")
    }
}

fn crossfree() -> Bench {
    const N: u64 = 2_000_000;
    Bench {
        title: "objects freed on another P",
        summary:
            "a box allocated on one P and freed on another — reported, no stated aim (Go frees \
                  by garbage collection)."
                .into(),
        variants: vec![Variant::default().args([N])],
        metrics: vec![Metric::lower("ns_per_item", "ns/item")],
        what: |c| {
            format!(
                "A producer goroutine allocates {} boxes of 64 bytes (`Box<[u64; 8]>` / `new([8]uint64)`) \
                 holding i and sends them over a channel of capacity 128; main receives each, adds it \
                 up and drops it, and checks the count and the sum (the program exits 1 otherwise). At \
                 {} the two run on different Ps, so every object is freed on the other P \
                 (`bench/crossfree.rs`, `bench/go/crossfree`).",
                th(N),
                procs(c)
            )
        },
        how: |_| {
            format!(
                "wall time (CLOCK_MONOTONIC) from before the producer is spawned until the channel is \
                 drained, divided by {}, in ns per item (allocation, channel send and receive, free).",
                th(N)
            )
        },
        ..Bench::pair("crossfree")
    }
}

// ---------------------------------------------------------------------------------------
// The execution trace: yield and pingpong with tracing off and on.
// ---------------------------------------------------------------------------------------

/// The programs a `trace` variant runs (its label names the benchmark they come from)
/// for the run's side, and the metric they print.
fn trace_prog(r: &Run) -> Result<(Prog, &'static str)> {
    let (gort, go, key) = match r.variant.label.as_str() {
        "yield" => ("bench_yield", "yield", "ns_per_switch"),
        "pingpong" => ("bench_pingpong", "pingpong", "ns_per_roundtrip"),
        v => return Err(format!("trace: no programs for variant {v:?}")),
    };
    match r.side.prog {
        Prog::Gort(_) => Ok((Prog::Gort(gort), key)),
        Prog::Go(_) => Ok((Prog::Go(go), key)),
        p => Err(format!("trace: no programs for side {p:?}")),
    }
}

/// One run of one side: the program untraced, then traced to a file (GORT_TRACE,
/// which gort's runtime and the Go twins' benchtrace read), whose size and events
/// give bytes per event.
fn trace_run(c: &Ctx, r: &Run) -> Result<Vec<Num>> {
    let (prog, key) = trace_prog(r)?;
    let cmd = crate::proc::Cmd::new(&c.exe(prog).path)
        .args(r.args())
        .envs(r.env());
    let ns = |cmd: &crate::proc::Cmd| -> Result<Num> {
        let out = crate::proc::run(c, cmd)?;
        let mut v = measure::parse_metrics(&out.stdout, &[key])
            .map_err(|e| format!("'{}' {e}", cmd.show(c)))?;
        Ok(v.remove(0))
    };
    let off = ns(&cmd)?;
    let path = c.out.join(format!("trace-{}.trace", r.side.label));
    let _ = std::fs::remove_file(&path);
    let traced = cmd.envs(vec![("GORT_TRACE".into(), path.display().to_string())]);
    let on = ns(&traced)?;
    let bytes = file_size(&path)?;
    let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let events = crate::gotrace::count_events(&data)
        .map_err(|e| format!("'{}': {}: {e}", traced.show(c), path.display()))?;
    let _ = std::fs::remove_file(&path);
    if events == 0 {
        return Err(format!("'{}': the trace has no events", traced.show(c)));
    }
    Ok(vec![
        off.clone(),
        on.clone(),
        Num::fixed(on.v / off.v, 2),
        Num::fixed(bytes as f64 / events as f64, 2),
        Num::int(events),
    ])
}

fn trace() -> Bench {
    const N: u64 = 1_000_000;
    Bench {
        title: "execution trace overhead",
        summary: "with the execution trace on, a goroutine switch (yield) and a channel round \
                  trip (pingpong) are at most 2× slower than with it off (off: no change, \
                  one branch per recording point)."
            .into(),
        sides: vec![Side::gort("bench_yield"), Side::go("yield")],
        variants: vec![
            Variant::new("yield").args([N]),
            Variant::new("pingpong").args([N]),
        ],
        metrics: vec![
            Metric::lower("ns_off", "ns/op").label("tracing off"),
            Metric::lower("ns_on", "ns/op").label("tracing on"),
            Metric::lower("on_off", "×").label("on/off"),
            Metric::lower("bytes_per_event", "B/event").label("trace bytes per event"),
            Metric::lower("events", "events").label("events in the trace"),
        ],
        aims: vec![Aim::value(
            "gort: tracing on ≤ 2× off (median)",
            "on_off",
            Cmp::Le,
            2.0,
            "×",
        )],
        what: |c| {
            format!(
                "The programs of the `yield` benchmark (two goroutines each calling gosched {} \
                 times at GOMAXPROCS=1: `bench/yield.rs`, `bench/go/yield`) and of `pingpong` ({} \
                 unbuffered round trips at {}: `bench/pingpong.rs`, `bench/go/pingpong`), each \
                 run twice: untraced, then with `GORT_TRACE=FILE`: gort's runtime traces the whole \
                 run (Go's \"go 1.19 trace\" format), and the Go twins, which read the same \
                 variable (`bench/go/benchtrace`), call `trace.Start` on the file at the top of \
                 `main` and `trace.Stop` when it returns. Nothing else differs. Untraced, the \
                 programs are exactly the `yield` and `pingpong` benchmarks: there tracing costs \
                 gort one predictable branch per recording point, and this benchmark has no \
                 build without it to compare with, so \"off: no change\" is not measured here.",
                th(N),
                th(N),
                procs(c)
            )
        },
        how: |_| {
            "per run of a side, the program's own ns/op (ns per switch, ns per round trip) \
             untraced and traced, one right after the other, and their ratio on/off; the trace \
             file's size divided by its events. Events are counted by decoding the file \
             (`bench/driver/src/gotrace.rs`, Go's reader's rules): every record but batch \
             headers, the frequency, stacks and strings (on a gort and a Go trace checked by hand, \
             exactly the events `go tool trace -d` prints). The aim is checked on gort's \
             median on/off; Go's is reported beside it."
                .into()
        },
        measure: Measure::Runs(trace_run),
        extra: vec![Prog::Gort("bench_pingpong"), Prog::Go("pingpong")],
        ..Bench::new("trace")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn definitions_are_valid() {
        let all = super::all();
        for b in &all {
            b.validate().unwrap();
        }
        for (i, b) in all.iter().enumerate() {
            assert!(
                all[..i].iter().all(|a| a.name != b.name),
                "{} twice",
                b.name
            );
        }
    }
}
