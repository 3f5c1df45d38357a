//! Running programs: benchmark programs (clean environment, time limit, strict exit
//! status), build tools, and apt-get for missing tools.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::ctx::Ctx;
use crate::{log, Result};

/// Read by gort and Go alike: unset for every benchmark program, so both run with the
/// runtimes' defaults whatever the caller's shell has set (a variant or side may set them).
/// GORT_TRACE is read by gort's runtime and by the Go twins that trace
/// (bench/go/benchtrace): a caller's trace would slow every program down.
pub const RUNTIME_KNOBS: [&str; 6] = [
    "GOMAXPROCS",
    "GODEBUG",
    "GOGC",
    "GOMEMLIMIT",
    "GORT_STACKSIZE",
    "GORT_TRACE",
];

/// Variables `cargo run` (and rustup's cargo proxy) add for the program it runs, this
/// driver: removed again, so that the benchmark programs see the caller's environment.
fn cargo_run_var(name: &str) -> bool {
    name == "CARGO"
        || name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_MANIFEST_")
        || matches!(
            name,
            "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "RUST_RECURSION_COUNT"
        )
}

/// LD_LIBRARY_PATH without the directories `cargo run` put in front (this driver's target
/// directory and the Rust toolchain's libraries); None if nothing else is left.
fn caller_ld_library_path() -> Option<std::ffi::OsString> {
    let v = std::env::var_os("LD_LIBRARY_PATH")?;
    let exe = std::env::current_exe().ok();
    let target = exe.as_deref().and_then(Path::parent).and_then(Path::parent);
    let rustup = std::env::var_os("RUSTUP_HOME").map(|h| PathBuf::from(h).join("toolchains"));
    let keep: Vec<PathBuf> = std::env::split_paths(&v)
        .filter(|d| {
            !(target.is_some_and(|t| d.starts_with(t))
                || rustup.as_ref().is_some_and(|r| d.starts_with(r))
                || d.to_string_lossy().contains("/lib/rustlib/"))
        })
        .collect();
    (!keep.is_empty())
        .then(|| std::env::join_paths(keep).ok())
        .flatten()
}

/// The command that runs cargo (cargo sets CARGO for the programs it runs).
pub fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| "cargo".into(), PathBuf::from)
}

/// A command: a program, its arguments and environment additions.
#[derive(Clone, Debug)]
pub struct Cmd {
    pub prog: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Cmd {
    pub fn new(prog: impl Into<PathBuf>) -> Cmd {
        Cmd {
            prog: prog.into(),
            args: vec![],
            env: vec![],
        }
    }
    pub fn args<I: IntoIterator<Item = A>, A: ToString>(mut self, args: I) -> Cmd {
        self.args.extend(args.into_iter().map(|a| a.to_string()));
        self
    }
    pub fn envs(mut self, env: Vec<(String, String)>) -> Cmd {
        self.env.extend(env);
        self
    }
    /// As a shell would show it, paths relative to the repository root.
    pub fn show(&self, c: &Ctx) -> String {
        let mut s: Vec<String> = self.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        s.push(c.rel(&self.prog));
        s.extend(self.args.iter().cloned());
        s.join(" ")
    }
}

/// What a benchmark program printed.
pub struct Output {
    pub stdout: String,
    #[allow(dead_code)]
    pub stderr: String,
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn geteuid() -> u32;
}
const SIGKILL: i32 = 9;

/// Collects a pipe's bytes on a thread; `done` fires at end of file.
fn collect<R: Read + Send + 'static>(mut r: R) -> (Arc<Mutex<Vec<u8>>>, mpsc::Receiver<()>) {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let b = Arc::clone(&buf);
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = r.read(&mut chunk) {
            if n == 0 {
                break;
            }
            b.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
        let _ = tx.send(());
    });
    (buf, rx)
}

/// Runs a benchmark program (or harness) in the caller's environment (without what
/// `cargo run` added) minus [`RUNTIME_KNOBS`], plus `cmd.env`; stdin is /dev/null, stdout and stderr are captured.
/// Fails, with the end of its stderr, unless it exits 0 within BENCH_TIMEOUT: a program
/// that fails, crashes or hangs has no meaningful numbers.
pub fn run(c: &Ctx, cmd: &Cmd) -> Result<Output> {
    let shown = cmd.show(c);
    let mut command = Command::new(&cmd.prog);
    command.args(&cmd.args).current_dir(&c.root);
    for (k, _) in std::env::vars_os() {
        if let Some(k) = k.to_str() {
            if RUNTIME_KNOBS.contains(&k) || cargo_run_var(k) {
                command.env_remove(k);
            }
        }
    }
    match caller_ld_library_path() {
        Some(p) => command.env("LD_LIBRARY_PATH", p),
        None => command.env_remove("LD_LIBRARY_PATH"),
    };
    command.envs(cmd.env.iter().map(|(k, v)| (k, v)));
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("'{shown}': cannot start it: {e}"))?;
    let pid = child.id() as i32;
    let (out, out_done) = collect(child.stdout.take().unwrap());
    let (err, err_done) = collect(child.stderr.take().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let limit = c.knobs.timeout;
    let (status, timed_out) = match rx.recv_timeout(limit) {
        Ok(s) => (s, false),
        Err(_) => {
            // SAFETY: kill(2) has no memory effects. The waiting thread has not reported,
            // so the child is unreaped and the pid still its own (in the tiny window where
            // it was just reaped, the pid is not reused that fast).
            unsafe { kill(pid, SIGKILL) };
            (rx.recv().map_err(|e| e.to_string())?, true)
        }
    };
    let status = status.map_err(|e| format!("'{shown}': waiting for it failed: {e}"))?;
    // The pipes close when the program exits, unless it left a child holding them: wait
    // for that child a little, then go on with what was read.
    let deadline = Instant::now() + Duration::from_secs(if timed_out { 1 } else { 5 });
    for done in [&out_done, &err_done] {
        let _ = done.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    }
    let text = |b: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&b.lock().unwrap()).into_owned();
    let (stdout, stderr) = (text(&out), text(&err));
    let fail = |why: String| -> Result<Output> {
        let mut m = format!("'{shown}' {why}");
        let lines: Vec<&str> = stderr.lines().collect();
        for l in &lines[lines.len().saturating_sub(20)..] {
            m.push_str("\n    stderr: ");
            m.push_str(l);
        }
        Err(m)
    };
    if timed_out {
        return fail(format!(
            "did not finish within {}s (hung?); killed",
            limit.as_secs()
        ));
    }
    if !status.success() {
        return fail(describe(status));
    }
    Ok(Output { stdout, stderr })
}

/// Why a program did not succeed, in words.
fn describe(s: ExitStatus) -> String {
    if let Some(code) = s.code() {
        return format!("exited with status {code} (expected 0)");
    }
    let sig = s.signal().unwrap_or(0);
    let name = match sig {
        4 => " (SIGILL)",
        6 => " (SIGABRT)",
        7 => " (SIGBUS)",
        8 => " (SIGFPE)",
        9 => " (SIGKILL: out of memory?)",
        11 => " (SIGSEGV)",
        15 => " (SIGTERM)",
        _ => "",
    };
    let core = if s.core_dumped() { ", core dumped" } else { "" };
    format!("was killed by signal {sig}{name}{core}")
}

/// Runs a build command as configured; stderr goes to ours. Returns stdout; fails unless
/// it exits 0.
pub fn tool(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{what}: cannot run {:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{what}: {:?} {}",
            cmd.get_program(),
            describe(out.status)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The first line a command prints on stdout, or None if it cannot run or fails.
pub fn first_line(cmd: &mut Command) -> Option<String> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8_lossy(&out.stdout);
    out.status
        .success()
        .then(|| s.lines().next().unwrap_or("").trim().to_string())
}

/// `cmd` as found on PATH (like `command -v`).
pub fn which(cmd: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(cmd)).find(|p| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// apt-get install, as root or through sudo; waits for another apt/dpkg run to finish,
/// and refreshes the package lists once if the first attempt fails (fresh machines have
/// none).
pub fn apt_install(packages: &[&str]) -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { geteuid() } == 0;
    if !root && which("sudo").is_none() {
        return Err(format!(
            "need root (or sudo) to apt-get install {}",
            packages.join(" ")
        ));
    }
    if which("apt-get").is_none() {
        return Err(format!(
            "apt-get not found: install {} by hand",
            packages.join(" ")
        ));
    }
    let apt = |args: &[&str]| -> bool {
        let mut c = Command::new(if root { "apt-get" } else { "sudo" });
        if !root {
            c.args(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
        }
        c.env("DEBIAN_FRONTEND", "noninteractive")
            .args(["-q", "-o", "DPkg::Lock::Timeout=900"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::io::stderr()));
        c.status().is_ok_and(|s| s.success())
    };
    log(&format!("installing {} (apt-get)", packages.join(" ")));
    let install: Vec<&str> = ["install", "-y"].iter().chain(packages).copied().collect();
    if !apt(&install) {
        if !apt(&["update"]) {
            return Err("apt-get update failed".into());
        }
        if !apt(&install) {
            return Err(format!("apt-get install -y {} failed", packages.join(" ")));
        }
    }
    Ok(())
}

/// The size of a file in bytes.
pub fn file_size(p: &Path) -> Result<u64> {
    Ok(std::fs::metadata(p)
        .map_err(|e| format!("{}: {e}", p.display()))?
        .len())
}
