//! Shared harness of the integration tests: build the example programs once, run one
//! natively or under qemu-x86_64 with a deadline, and compare what it did.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How a program is run: directly on this kernel, or under qemu-user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Native,
    Qemu,
}

/// The modes to run in: both, or only native with GORT_TEST_MODES=native (the debug-
/// check pass of `make test` runs natively only).
pub fn modes() -> &'static [Mode] {
    match std::env::var("GORT_TEST_MODES").as_deref() {
        Ok("native") => &[Mode::Native],
        _ => &[Mode::Native, Mode::Qemu],
    }
}

/// What a run did.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
    pub stdout_bytes: Vec<u8>,
}

impl Run {
    /// The value of a `key=value` line of stdout.
    pub fn get(&self, key: &str) -> &str {
        let prefix = format!("{key}=");
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no {key}= line in stdout:\n{}", self.stdout))
    }

    pub fn num(&self, key: &str) -> u64 {
        let v = self.get(key);
        let parsed = match v.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => v.parse(),
        };
        parsed.unwrap_or_else(|_| panic!("{key}={v} is not a number"))
    }

    pub fn assert_exit(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit status; stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// The directory of the built examples (freestanding), built with the cargo profile
/// GORT_TEST_PROFILE names (default release; `checked` is release code with the
/// runtime's debug checks on).
pub fn examples_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let profile = std::env::var("GORT_TEST_PROFILE").unwrap_or_else(|_| "release".into());
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let st = Command::new(cargo)
                .args(["build", "--profile", &profile, "--examples", "--quiet"])
                .current_dir(&root)
                .status()
                .expect("cannot run cargo to build the examples");
            assert!(st.success(), "building the examples ({profile}) failed");
            root.join("target/x86_64-unknown-linux-gnu")
                .join(&profile)
                .join("examples")
        })
        .clone()
}

/// The qemu-x86_64 binary; `make test` installs Debian's qemu-user when it is missing.
pub fn qemu() -> &'static str {
    static Q: OnceLock<String> = OnceLock::new();
    Q.get_or_init(|| {
        let found = std::env::var("QEMU").ok().or_else(|| {
            std::env::var_os("PATH").and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join("qemu-x86_64"))
                    .find(|f| f.is_file())
                    .map(|f| f.to_string_lossy().into_owned())
            })
        });
        found.expect("qemu-x86_64 not found: install qemu-user (make test does it with apt-get)")
    })
}

/// RLIMIT_STACK, RLIMIT_NOFILE and RLIMIT_AS, for rlimit.
#[allow(dead_code)]
pub const RLIMIT_STACK: usize = 3;
#[allow(dead_code)]
pub const RLIMIT_NOFILE: usize = 7;
#[allow(dead_code)]
pub const RLIMIT_AS: usize = 9;

/// Set the child's `resource` limit (RLIMIT_*) to n, soft and hard, between fork
/// and exec.
#[allow(dead_code)]
pub fn rlimit(cmd: &mut Command, resource: usize, n: u64) {
    let lim = [n, n];
    // SAFETY: prlimit64 on ourselves (the forked child) is async-signal-safe, and
    // `lim` is moved into the closure, alive during the call.
    unsafe {
        in_child_before_exec(cmd, move || {
            syscalls::syscall!(syscalls::Sysno::prlimit64, 0, resource, lim.as_ptr(), 0)
        });
    }
}

/// Make `call`, a raw system call (`syscalls::syscall!`), in the child between
/// fork and exec: to start the program with a resource limit, a signal mask or a
/// disposition it inherits. A failed call fails the spawn with its errno.
///
/// # Safety
/// `call` must be async-signal-safe (a system call on memory it owns).
#[allow(dead_code)]
pub unsafe fn in_child_before_exec(
    cmd: &mut Command,
    call: impl Fn() -> Result<usize, syscalls::Errno> + Send + Sync + 'static,
) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the caller's contract: call is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            call()
                .map(drop)
                .map_err(|e| std::io::Error::from_raw_os_error(e.into_raw()))
        });
    }
}

/// `outer` followed by inner's program and arguments, with inner's environment
/// changes: an example (from [`command`]) run through a wrapper, such as
/// `sh -c '... exec "$0" "$@"'` or `unshare`.
pub fn wrap(mut outer: Command, inner: &Command) -> Command {
    outer.arg(inner.get_program()).args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => outer.env(k, v),
            None => outer.env_remove(k),
        };
    }
    outer
}

/// A command for example `name` in `mode`, with GOMAXPROCS and GODEBUG removed from
/// the environment so each test sets exactly what it means to.
pub fn command<S: AsRef<OsStr>>(mode: Mode, name: &str, args: &[S]) -> Command {
    let bin = examples_dir().join(name);
    assert!(
        bin.is_file(),
        "example {name} was not built at {}",
        bin.display()
    );
    let mut cmd = match mode {
        Mode::Native => Command::new(&bin),
        Mode::Qemu => {
            let mut c = Command::new(qemu());
            c.arg(&bin);
            c
        }
    };
    cmd.args(args);
    cmd.env_remove("GOMAXPROCS").env_remove("GODEBUG");
    cmd
}

/// Run cmd to completion (killing it after `limit`), capturing stdout and stderr.
pub fn run_cmd(mut cmd: Command, limit: Duration) -> Run {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            r.read_to_end(&mut v).ok();
            v
        })
    };
    let (to, te) = (read(Box::new(out)), read(Box::new(err)));
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout_bytes = to.join().unwrap();
    let stderr = String::from_utf8_lossy(&te.join().unwrap()).into_owned();
    use std::os::unix::process::ExitStatusExt;
    if let Some(sig) = status.signal() {
        panic!("{cmd:?} was killed by signal {sig} (a raw crash)\nstderr:\n{stderr}");
    }
    Run {
        stdout: String::from_utf8_lossy(&stdout_bytes).into_owned(),
        stderr,
        code: status.code(),
        stdout_bytes,
    }
}

/// Run example `name` with args in mode, with a 60 s deadline.
pub fn run<S: AsRef<OsStr>>(mode: Mode, name: &str, args: &[S]) -> Run {
    run_cmd(command(mode, name, args), Duration::from_secs(60))
}

/// Run with extra environment variables.
pub fn run_env(mode: Mode, name: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = command(mode, name, args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_cmd(cmd, Duration::from_secs(60))
}

/// Everything a spawned child wrote to its piped stderr (read to the end: call
/// after it exited or was killed).
pub fn stderr_text(child: &mut std::process::Child) -> String {
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    err
}

/// A child's stdout read line by line on a thread of its own, so that a test can
/// wait for the next line with a deadline (a program that stops printing fails the
/// test instead of hanging it).
pub struct Lines(std::sync::mpsc::Receiver<String>);

impl Lines {
    /// Start reading `out` (a child's piped stdout).
    pub fn new(out: impl std::io::Read + Send + 'static) -> Lines {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in std::io::BufRead::lines(std::io::BufReader::new(out)) {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Lines(rx)
    }

    /// The next line within `limit`, or None at the end of the output or the
    /// deadline.
    pub fn next_within(&self, limit: Duration) -> Option<String> {
        self.0.recv_timeout(limit).ok()
    }

    /// The next line within `limit`; otherwise kill `child` and fail with ctx.
    pub fn next_or_kill(
        &self,
        child: &mut std::process::Child,
        limit: Duration,
        ctx: &str,
    ) -> String {
        match self.0.recv_timeout(limit) {
            Ok(l) => l,
            Err(e) => {
                child.kill().ok();
                panic!("{ctx}: no line within {limit:?} ({e:?})")
            }
        }
    }
}

/// The number of CPUs this process may use (what gort's osinit should find, absent a
/// cgroup quota).
pub fn host_ncpu() -> u64 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u64)
        .unwrap_or(1)
}

/// Assert that the ELF file at path is a static executable: ET_EXEC, no PT_INTERP (no
/// dynamic loader), no PT_DYNAMIC (nothing to link at run time).
pub fn assert_static_elf(path: &std::path::Path) {
    let elf = std::fs::read(path).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF", "{}", path.display());
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap());
    assert_eq!(
        u16_at(0x10),
        2,
        "ET_EXEC (static, non-PIE): {}",
        path.display()
    );
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    for i in 0..phnum {
        let ptype = u32_at(phoff + i * phentsize);
        assert!(ptype != 3, "PT_INTERP present: {}", path.display());
        assert!(ptype != 2, "PT_DYNAMIC present: {}", path.display());
    }
}

/// GOMAXPROCS settings every scheduler-facing test runs under: 1, and the default.
pub const PROCS: [Option<&str>; 2] = [Some("1"), None];

/// Run example `name` with args in mode, with GOMAXPROCS=procs (None: unset).
pub fn run_procs(mode: Mode, name: &str, args: &[&str], procs: Option<&str>) -> Run {
    match procs {
        Some(p) => run_env(mode, name, args, &[("GOMAXPROCS", p)]),
        None => run(mode, name, args),
    }
}

/// Run example `name` natively and under qemu, each with every PROCS setting, and
/// check each run.
pub fn each(name: &str, args: &[&str], check: impl Fn(&Run, Mode, Option<&str>)) {
    for &mode in modes() {
        for procs in PROCS {
            check(&run_procs(mode, name, args, procs), mode, procs);
        }
    }
}
