//! Go's execution trace: traces written by gort (GORT_TRACE at boot, and
//! gort::trace::start/stop while goroutines exist) are parsed by Go's own parser
//! (`go tool trace -d`, from Debian's golang-go) and hold the events of what the
//! programs did: goroutines created, started, blocked on channels and the network,
//! sleeping, preempted, unblocked, in system calls; Ps starting and stopping. A
//! fatal exit (SIGQUIT) still leaves a parseable trace. A path ending in .json gets
//! Chrome's trace-event JSON instead, checked here by a small JSON parser of our own:
//! valid (also after SIGQUIT), a named row per P, a running slice for every
//! goroutine that ran, times within the run. Natively and under qemu-x86_64,
//! GOMAXPROCS=1 and the default.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::process::Command;

/// Parse a trace with `go tool trace -d`: event counts by name, or the parser's
/// complaint. A Local form (GoStartLocal, GoUnblockLocal: the goroutine's last
/// event was on the same P) counts under its own name and the plain one.
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
                if let Some(plain) = ev.strip_suffix("Local") {
                    *counts.entry(plain.to_string()).or_insert(0) += 1;
                }
            }
        }
    }
    counts
}

/// A fresh trace path for one run.
/// Eight goroutines start a trace at the same moment: exactly one succeeds, the
/// others get EBUSY (two used to succeed, leaking the first file's descriptor
/// and writing each goroutine's creation twice).
#[test]
fn racing_trace_starts_let_exactly_one_through() {
    let prefix = trace_path("racing");
    let p = prefix.to_str().unwrap().to_string();
    each("trace", &["racing-starts", &p], |r, mode, procs| {
        r.assert_exit(0);
        assert_eq!(r.get("racing.started"), "1", "{mode:?} {procs:?}");
    });
    for i in 0..8 {
        let _ = std::fs::remove_file(format!("{p}.{i}"));
    }
}

fn trace_path(tag: &str) -> TraceFile {
    trace_path_ext(tag, "trace")
}

/// A fresh trace path for one run, ending in .ext, in the temporary directory.
fn trace_path_ext(tag: &str, ext: &str) -> TraceFile {
    let name = format!("gort-trace-{}-{tag}.{ext}", std::process::id());
    let p = std::env::temp_dir().join(name);
    let _ = std::fs::remove_file(&p);
    TraceFile(p)
}

/// A trace file of one run, removed when dropped, unless the test is failing:
/// then it stays for a look, and the failure message names it. (A run of this file
/// writes about 20 MB of traces.)
struct TraceFile(std::path::PathBuf);

impl std::ops::Deref for TraceFile {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TraceFile {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.0);
        }
    }
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

/// Run example natively with GORT_TRACE and GOMAXPROCS=procs; check it exits 0 and
/// return the parsed trace's event counts.
fn traced_native(tag: &str, name: &str, args: &[&str], procs: &str) -> BTreeMap<String, u64> {
    let path = trace_path(tag);
    let p = path.to_str().unwrap();
    let r = run_env(
        Mode::Native,
        name,
        args,
        &[("GORT_TRACE", p), ("GOMAXPROCS", procs)],
    );
    r.assert_exit(0);
    parse(&path)
}

/// Goroutines handed between Ps many times a millisecond (a select over two
/// producers, more Ps than CPUs): each GoStart and GoUnblock must be stamped after
/// what caused it on another P, or go tool trace rejects the trace as "time stamps
/// out of order" (with a bare RDTSC, one trace of a million selects in five
/// failed here, one of 200,000 in sixteen: this test catches a regression about one
/// time in four, a stress loop of the same runs reliably). Natively only: the race
/// needs real threads on real CPUs, and qemu serialises them.
#[test]
fn cross_p_handoffs_keep_time_order() {
    for i in 0..4 {
        let tag = format!("select-order-{i}");
        let counts = traced_native(&tag, "bench_select", &["200000"], "4");
        assert!(
            counts.get("GoUnblock").copied().unwrap_or(0) > 0,
            "{counts:?}"
        );
    }
}

/// Goroutines that yield go through the global run queue and are started on any P,
/// often timed by the stop event just before their GoStart instead of a clock read
/// (trace::globq_got). Every such GoStart must still come after the GoSched that
/// queued the goroutine, on whichever P that was, or go tool trace rejects the trace.
/// Natively only, as above.
#[test]
fn yields_across_ps_keep_time_order() {
    for procs in ["2", "4"] {
        for i in 0..3 {
            let tag = format!("yield-order-{procs}-{i}");
            let counts = traced_native(&tag, "goroutines", &["30000"], procs);
            assert!(
                counts.get("GoSched").copied().unwrap_or(0) >= 30000 / 7,
                "{counts:?}"
            );
        }
    }
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

/// trace::start to a FIFO that has no reader yet waits in open, as a blocking
/// system call: with GOMAXPROCS=1 another goroutine goes on ticking meanwhile (the
/// open used to keep the only P, so every goroutine waited for a reader, or, with
/// asynchronous preemption on, for a preemption signal to pull the opener off it).
/// Asynchronous preemption is off here, as a goroutine in a system call must not
/// need it. Once the test opens the FIFO the trace goes through it, and parses.
#[test]
fn trace_start_to_a_fifo_lets_other_goroutines_run() {
    for &mode in modes() {
        let tag = format!("fifo-{mode:?}");
        let fifo = trace_path_ext(&tag, "fifo");
        let out = trace_path(&tag);
        let st = Command::new("mkfifo").arg(&*fifo).status().unwrap();
        assert!(st.success(), "mkfifo");
        let mut cmd = command(mode, "trace", &["fifo", fifo.to_str().unwrap()]);
        cmd.env("GOMAXPROCS", "1")
            .env("GODEBUG", "asyncpreemptoff=1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let lines = Lines::new(child.stdout.take().unwrap());
        let limit = std::time::Duration::from_secs(20);
        while lines.next_or_kill(&mut child, limit, &tag) != "fifo.starting=true" {}
        // Five ticks while the open waits for a reader (nothing has opened the
        // FIFO, so the trace cannot have started).
        let mut ticks = 0;
        while ticks < 5 {
            match lines.next_within(limit) {
                Some(l) if l.starts_with("tick=") => ticks += 1,
                Some(l) => {
                    child.kill().ok();
                    panic!("{tag}: {l} before the FIFO had a reader");
                }
                None => {
                    // Unblock the open, so the program can be killed and reaped.
                    child.kill().ok();
                    let _ = std::fs::File::open(&*fifo);
                    child.wait().ok();
                    panic!(
                        "{tag}: {ticks} ticks within {limit:?} while trace::start waited \
                         for a reader: the open held the only P"
                    );
                }
            }
        }
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut std::fs::File::open(&*fifo).unwrap(), &mut data).unwrap();
        std::fs::write(&*out, &data).unwrap();
        let mut rest = Vec::new();
        while let Some(l) = lines.next_within(limit) {
            rest.push(l);
        }
        let st = child.wait().unwrap();
        let err = stderr_text(&mut child);
        assert!(st.success(), "{tag}: {st:?}\n{err}");
        assert!(
            rest.iter().any(|l| l == "fifo.started=true"),
            "{tag}: {rest:?}"
        );
        assert!(rest.iter().any(|l| l == "fifo.ok=true"), "{tag}: {rest:?}");
        let counts = parse(&out);
        assert!(
            counts.get("GoStart").copied().unwrap_or(0) > 0,
            "{tag}: {counts:?}"
        );
    }
}

/// GOMAXPROCS shrinks from 8 to 2 while a trace is written, then grows back to 8
/// during a second trace: both parse, and the first holds the events of the Ps that
/// went away. (The buffers of removed Ps were never written: their events were
/// missing from the first trace, which go tool trace rejected, and turned up in the
/// second once the Ps came back, which it rejected too.)
#[test]
fn traces_survive_gomaxprocs_shrinking() {
    for &mode in modes() {
        let tag = format!("shrink-{mode:?}");
        let path = trace_path(&tag);
        let path2 = TraceFile(std::path::PathBuf::from(format!(
            "{}.2",
            path.to_str().unwrap()
        )));
        let r = run(mode, "trace", &["shrink", path.to_str().unwrap()]);
        r.assert_exit(0);
        assert_eq!(r.get("shrink.ok"), "true", "{tag}");
        for p in [&path, &path2] {
            let counts = parse(p);
            // Every spinner of the trace started (16 + 4, or 16), many on the Ps
            // that go away or come back.
            assert!(
                counts.get("GoStart").copied().unwrap_or(0) >= 16,
                "{tag}: {counts:?}"
            );
        }
    }
}

/// Start examples/echo serving with GORT_TRACE=path, let it reach accept and park
/// there (its GoBlockNet), SIGQUIT it and return how it ended.
fn quit_traced_server(mode: Mode, path: &std::path::Path) -> std::process::ExitStatus {
    let mut cmd = command(mode, "echo", &["serve", "127.0.0.1:0"]);
    cmd.env("GORT_TRACE", path)
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
    std::thread::sleep(std::time::Duration::from_millis(300));
    let k = Command::new("kill")
        .args(["-QUIT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(k.success());
    child.wait().unwrap()
}

/// SIGQUIT kills the program (exit 2) and the trace is still complete enough to
/// parse.
#[test]
fn sigquit_flushes_the_trace() {
    for &mode in modes() {
        let path = trace_path(&format!("quit-{mode:?}"));
        let st = quit_traced_server(mode, &path);
        assert_eq!(st.code(), Some(2), "{mode:?}: SIGQUIT exits 2");
        let counts = parse(&path);
        assert!(
            counts.get("GoBlockNet").copied().unwrap_or(0) > 0,
            "{mode:?}: {counts:?}"
        );
    }
}

// ---- GORT_TRACE=path.json: Chrome's trace-event format ----

/// A JSON value, from the parser below.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// The member `key` of an object.
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn str(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
    fn num(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            Json::Num(n) => Some(*n),
            _ => None,
        }
    }
}

/// A strict recursive-descent JSON parser (RFC 8259): the whole text must be one
/// value, with only whitespace around it.
fn parse_json(text: &[u8]) -> Result<Json, String> {
    struct P<'a> {
        b: &'a [u8],
        i: usize,
    }
    impl P<'_> {
        fn err<T>(&self, what: &str) -> Result<T, String> {
            let from = self.i.saturating_sub(40);
            let to = (self.i + 40).min(self.b.len());
            Err(format!(
                "{what} at byte {}: ...{}...",
                self.i,
                String::from_utf8_lossy(&self.b[from..to])
            ))
        }
        fn ws(&mut self) {
            while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) -> Result<(), String> {
            self.ws();
            if self.b.get(self.i) == Some(&c) {
                self.i += 1;
                Ok(())
            } else {
                self.err(&format!("expected '{}'", c as char))
            }
        }
        fn lit(&mut self, word: &str, v: Json) -> Result<Json, String> {
            if self.b[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                Ok(v)
            } else {
                self.err("bad literal")
            }
        }
        fn value(&mut self) -> Result<Json, String> {
            self.ws();
            match self.b.get(self.i) {
                None => self.err("unexpected end"),
                Some(b'{') => {
                    self.i += 1;
                    let mut m = vec![];
                    self.ws();
                    if self.b.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(Json::Obj(m));
                    }
                    loop {
                        self.ws();
                        let k = self.string()?;
                        self.eat(b':')?;
                        m.push((k, self.value()?));
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Ok(Json::Obj(m));
                            }
                            _ => return self.err("expected ',' or '}'"),
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut v = vec![];
                    self.ws();
                    if self.b.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(Json::Arr(v));
                    }
                    loop {
                        v.push(self.value()?);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Ok(Json::Arr(v));
                            }
                            _ => return self.err("expected ',' or ']'"),
                        }
                    }
                }
                Some(b'"') => Ok(Json::Str(self.string()?)),
                Some(b't') => self.lit("true", Json::Bool(true)),
                Some(b'f') => self.lit("false", Json::Bool(false)),
                Some(b'n') => self.lit("null", Json::Null),
                Some(b'-' | b'0'..=b'9') => self.number(),
                Some(_) => self.err("unexpected character"),
            }
        }
        fn digits(&mut self) -> usize {
            let s = self.i;
            while matches!(self.b.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            self.i - s
        }
        fn number(&mut self) -> Result<Json, String> {
            let s = self.i;
            if self.b[self.i] == b'-' {
                self.i += 1;
            }
            let int = self.i;
            if self.digits() == 0 || (self.b[int] == b'0' && self.i - int > 1) {
                return self.err("bad number");
            }
            if self.b.get(self.i) == Some(&b'.') {
                self.i += 1;
                if self.digits() == 0 {
                    return self.err("bad fraction");
                }
            }
            if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
                self.i += 1;
                if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                    self.i += 1;
                }
                if self.digits() == 0 {
                    return self.err("bad exponent");
                }
            }
            let t = std::str::from_utf8(&self.b[s..self.i]).unwrap();
            Ok(Json::Num(t.parse().unwrap()))
        }
        fn string(&mut self) -> Result<String, String> {
            if self.b.get(self.i) != Some(&b'"') {
                return self.err("expected a string");
            }
            self.i += 1;
            let mut out = Vec::new();
            loop {
                match self.b.get(self.i) {
                    None => return self.err("unterminated string"),
                    Some(b'"') => {
                        self.i += 1;
                        return String::from_utf8(out).or_else(|_| self.err("bad UTF-8"));
                    }
                    Some(b'\\') => {
                        self.i += 1;
                        let c = match self.b.get(self.i) {
                            Some(b'"') => b'"',
                            Some(b'\\') => b'\\',
                            Some(b'/') => b'/',
                            Some(b'b') => 8,
                            Some(b'f') => 12,
                            Some(b'n') => b'\n',
                            Some(b'r') => b'\r',
                            Some(b't') => b'\t',
                            Some(b'u') => {
                                let h = self.b.get(self.i + 1..self.i + 5);
                                let v = h
                                    .and_then(|h| std::str::from_utf8(h).ok())
                                    .and_then(|h| u32::from_str_radix(h, 16).ok());
                                let Some(v) = v else {
                                    return self.err("bad \\u escape");
                                };
                                self.i += 4;
                                let ch = char::from_u32(v).unwrap_or('\u{fffd}');
                                out.extend_from_slice(ch.to_string().as_bytes());
                                self.i += 1;
                                continue;
                            }
                            _ => return self.err("bad escape"),
                        };
                        out.push(c);
                        self.i += 1;
                    }
                    Some(&c) if c < 0x20 => return self.err("control character in a string"),
                    Some(&c) => {
                        out.push(c);
                        self.i += 1;
                    }
                }
            }
        }
    }
    let mut p = P { b: text, i: 0 };
    let v = p.value()?;
    p.ws();
    if p.i != text.len() {
        return p.err("text after the value");
    }
    Ok(v)
}

#[test]
fn the_json_parser_is_strict() {
    let ok = r#" {"a":[1,-2.5,3e2,true,false,null,"x\"\\\n\u00e9"],"b":{}} "#;
    let v = parse_json(ok.as_bytes()).unwrap();
    assert_eq!(v.get("b"), Some(&Json::Obj(vec![])));
    for bad in [
        "",
        "{",
        "[1,]",
        "{\"a\":1,}",
        "[01]",
        "[1.]",
        "\"a\nb\"",
        "{\"a\" 1}",
        "[1] x",
        "[\"\\x\"]",
        "{a:1}",
    ] {
        assert!(parse_json(bad.as_bytes()).is_err(), "{bad:?} parsed");
    }
}

/// What a JSON trace holds, checked for what every trace must be: one object with
/// displayTimeUnit and traceEvents; process "gort"; a thread_name for every row
/// used; slices with non-negative times ending within `wall_us`.
struct JsonTrace {
    /// Row names by tid.
    rows: BTreeMap<u64, String>,
    /// Running slices: (tid, goid, ts, dur, end).
    slices: Vec<(u64, u64, f64, f64, String)>,
    /// Instants: (name, args.goid if any).
    instants: Vec<(String, Option<u64>)>,
}

impl JsonTrace {
    fn load(path: &std::path::Path, wall_us: f64, tag: &str) -> JsonTrace {
        let text = std::fs::read(path).unwrap();
        let v = parse_json(&text).unwrap_or_else(|e| panic!("{tag}: not JSON: {e}"));
        assert_eq!(v.str("displayTimeUnit"), Some("ns"), "{tag}");
        let Some(Json::Arr(evs)) = v.get("traceEvents") else {
            panic!("{tag}: no traceEvents array");
        };
        let mut t = JsonTrace {
            rows: BTreeMap::new(),
            slices: vec![],
            instants: vec![],
        };
        let mut process = None;
        let mut used = std::collections::BTreeSet::new();
        for e in evs {
            let ph = e.str("ph").unwrap_or_else(|| panic!("{tag}: no ph: {e:?}"));
            assert_eq!(e.num("pid"), Some(1.0), "{tag}: {e:?}");
            let tid = e
                .num("tid")
                .unwrap_or_else(|| panic!("{tag}: no tid: {e:?}")) as u64;
            let name = e
                .str("name")
                .unwrap_or_else(|| panic!("{tag}: no name: {e:?}"));
            let args = e
                .get("args")
                .unwrap_or_else(|| panic!("{tag}: no args: {e:?}"));
            let goid = args.num("goid").map(|g| g as u64);
            match ph {
                "M" => {
                    let value = args.str("name").unwrap().to_string();
                    match name {
                        "thread_name" => {
                            t.rows.insert(tid, value);
                        }
                        "process_name" => process = Some(value),
                        _ => panic!("{tag}: metadata {name}"),
                    }
                }
                "X" => {
                    let (ts, dur) = (e.num("ts").unwrap(), e.num("dur").unwrap());
                    assert!(ts >= 0.0 && dur >= 0.0, "{tag}: {e:?}");
                    assert!(ts + dur <= wall_us, "{tag}: {e:?} ends after {wall_us} µs");
                    assert_eq!(name, format!("G{}", goid.unwrap()), "{tag}: {e:?}");
                    let end = args.str("end").unwrap().to_string();
                    t.slices.push((tid, goid.unwrap(), ts, dur, end));
                    used.insert(tid);
                }
                "i" => {
                    let ts = e.num("ts").unwrap();
                    assert!(ts >= 0.0 && ts <= wall_us, "{tag}: {e:?}");
                    assert_eq!(e.str("s"), Some("t"), "{tag}: {e:?}");
                    t.instants.push((name.to_string(), goid));
                    used.insert(tid);
                }
                _ => panic!("{tag}: phase {ph}: {e:?}"),
            }
        }
        assert_eq!(process.as_deref(), Some("gort"), "{tag}");
        for tid in used {
            assert!(t.rows.contains_key(&tid), "{tag}: row {tid} has no name");
        }
        t
    }

    /// How many instants are called name.
    fn count(&self, name: &str) -> usize {
        self.instants.iter().filter(|(n, _)| n == name).count()
    }
}

/// The P rows a run at procs must have: P0.. up to GOMAXPROCS.
fn assert_p_rows(t: &JsonTrace, procs: Option<&str>, tag: &str) {
    let n = procs.map_or_else(host_ncpu, |p| p.parse().unwrap());
    for i in 0..n {
        assert_eq!(
            t.rows.get(&i).map(String::as_str),
            Some(format!("P{i}").as_str()),
            "{tag}: rows {:?}",
            t.rows
        );
    }
}

/// sieve 100 traced to JSON: every goroutine created appears (GoCreate), and every
/// one that must have run (main, the generator, the filters that passed a prime on)
/// has running slices.
#[test]
fn json_trace_of_goroutines() {
    for &mode in modes() {
        for procs in PROCS {
            let tag = format!("sieve-json-{mode:?}-{procs:?}");
            let path = trace_path_ext(&tag, "json");
            let mut env = vec![("GORT_TRACE", path.to_str().unwrap())];
            if let Some(n) = procs {
                env.push(("GOMAXPROCS", n));
            }
            let t0 = std::time::Instant::now();
            let r = run_env(mode, "sieve", &["100"], &env);
            let wall = t0.elapsed().as_secs_f64() * 1e6;
            r.assert_exit(0);
            assert_eq!(r.stdout.lines().count(), 100, "{tag}");
            let t = JsonTrace::load(&path, wall, &tag);
            assert_p_rows(&t, procs, &tag);
            // main (1), the generator (2) and filters 3..=102, the last of which may
            // never have run.
            let created: std::collections::BTreeSet<u64> = t
                .instants
                .iter()
                .filter(|(n, _)| n == "GoCreate")
                .map(|(_, g)| g.unwrap())
                .collect();
            assert_eq!(created, (1..=102).collect(), "{tag}");
            let ran: std::collections::BTreeSet<u64> = t.slices.iter().map(|s| s.1).collect();
            for g in 1..=101 {
                assert!(ran.contains(&g), "{tag}: goroutine {g} has no slice");
            }
            assert!(ran.iter().all(|g| created.contains(g)), "{tag}: {ran:?}");
            // Every slice is on a P's row, and the filters block on channels.
            assert!(t.slices.iter().all(|s| s.0 < 1024), "{tag}");
            assert!(
                t.slices.iter().any(|s| s.4 == "chan receive"),
                "{tag}: no chan receive"
            );
            assert!(t.count("GoUnblock") > 100, "{tag}");
            // Slices on one row do not overlap.
            let mut by_row: BTreeMap<u64, Vec<(f64, f64)>> = BTreeMap::new();
            for s in &t.slices {
                by_row.entry(s.0).or_default().push((s.2, s.2 + s.3));
            }
            for (row, mut v) in by_row {
                v.sort_by(|a, b| a.0.total_cmp(&b.0));
                for w in v.windows(2) {
                    assert!(w[0].1 <= w[1].0 + 0.001, "{tag}: P{row}: {w:?}");
                }
            }
        }
    }
}

/// gort::trace::start with a .json path, while goroutines exist: they are described
/// (GoWaiting, GoInSyscall), and the run's 1,000 round trips appear.
#[test]
fn json_trace_from_the_program() {
    for &mode in modes() {
        for procs in PROCS {
            let tag = format!("api-json-{mode:?}-{procs:?}");
            let path = trace_path_ext(&tag, "json");
            let t0 = std::time::Instant::now();
            let r = run_procs(mode, "trace", &["api", path.to_str().unwrap()], procs);
            let wall = t0.elapsed().as_secs_f64() * 1e6;
            r.assert_exit(0);
            assert_eq!(r.get("trace.enabled_after_stop"), "false", "{tag}");
            let t = JsonTrace::load(&path, wall, &tag);
            assert_p_rows(&t, procs, &tag);
            for name in [
                "GoWaiting",
                "GoInSyscall",
                "GoCreate",
                "GoSysCall",
                "GoSysExit",
            ] {
                assert!(t.count(name) > 0, "{tag}: no {name}");
            }
            assert!(t.count("GoUnblock") >= 2000, "{tag}");
            for end in ["chan send", "sleep", "preempted", "returned", "syscall"] {
                assert!(
                    t.slices.iter().any(|s| s.4 == end),
                    "{tag}: no slice ending in {end}"
                );
            }
            // The goroutine that stopped the trace was running then.
            assert!(
                t.slices.iter().any(|s| s.4 == "trace stopped"),
                "{tag}: no slice open at the stop"
            );
        }
    }
}

/// Ps made earlier but removed (GOMAXPROCS 8, then 2) when a trace starts, and
/// brought back (8) during it: their events are theirs, on their own rows. (They
/// had no trace buffer, so their events went to the no-P batch: go tool trace
/// rejected the trace, and the JSON form showed every goroutine on the "no P" row.)
#[test]
fn ps_brought_back_during_a_trace_record_their_events() {
    for &mode in modes() {
        let tag = format!("regrow-{mode:?}");
        let path = trace_path(&tag);
        let r = run(mode, "trace", &["regrow", path.to_str().unwrap()]);
        r.assert_exit(0);
        assert_eq!(r.get("regrow.ok"), "true", "{tag}");
        let counts = parse(&path);
        assert!(
            counts.get("GoStart").copied().unwrap_or(0) >= 16,
            "{tag}: {counts:?}"
        );
        let tag = format!("regrow-json-{mode:?}");
        let path = trace_path_ext(&tag, "json");
        let t0 = std::time::Instant::now();
        let r = run(mode, "trace", &["regrow", path.to_str().unwrap()]);
        let wall = t0.elapsed().as_secs_f64() * 1e6;
        r.assert_exit(0);
        let t = JsonTrace::load(&path, wall, &tag);
        assert_p_rows(&t, Some("8"), &tag);
        // The spinners ran on Ps (and goroutines run only on Ps).
        assert!(
            t.slices.iter().all(|s| s.0 < 1024),
            "{tag}: slices on the no-P row"
        );
    }
}

/// The JSON form of the shrinking trace above: every row used, Ps 2..7 included
/// (removed before the trace ended), is named (only the Ps live at the end were).
#[test]
fn json_rows_of_removed_ps_are_named() {
    for &mode in modes() {
        let tag = format!("shrink-json-{mode:?}");
        let path = trace_path_ext(&tag, "json");
        let path2 = TraceFile(std::path::PathBuf::from(format!(
            "{}.2",
            path.to_str().unwrap()
        )));
        let t0 = std::time::Instant::now();
        let r = run(mode, "trace", &["shrink", path.to_str().unwrap()]);
        let wall = t0.elapsed().as_secs_f64() * 1e6;
        r.assert_exit(0);
        let t = JsonTrace::load(&path, wall, &tag);
        assert_p_rows(&t, Some("8"), &tag);
        drop(path2);
    }
}

/// SIGQUIT while tracing to JSON: the file is still one valid JSON object, and shows
/// the server parked in accept.
#[test]
fn sigquit_leaves_valid_json() {
    for &mode in modes() {
        let tag = format!("quit-json-{mode:?}");
        let path = trace_path_ext(&tag, "json");
        let t0 = std::time::Instant::now();
        let st = quit_traced_server(mode, &path);
        let wall = t0.elapsed().as_secs_f64() * 1e6;
        assert_eq!(st.code(), Some(2), "{tag}: SIGQUIT exits 2");
        let t = JsonTrace::load(&path, wall, &tag);
        assert!(
            t.slices.iter().any(|s| s.4 == "IO wait"),
            "{tag}: no slice ending in IO wait"
        );
    }
}
