//! Child processes (Go's `os/exec`, with std's `std::process` names): [`Command`]
//! builds one, [`Child`] waits for it, and pipes to its standard streams are read and
//! written through the network poller, so a goroutine waiting on a child parks,
//! never its thread.
//!
//! Spawning follows Go's forkAndExecInChild: everything the child needs (the path,
//! argv, envp, the directory) is built before the fork; the forking thread blocks
//! every signal around the fork; the child only makes raw system calls (dup3,
//! chdir, the runtime's signal handlers back to the default, an empty signal
//! mask, execve) and reports an exec failure through a
//! close-on-exec pipe, so `spawn` returns the real error (`NotFound` for a missing
//! program) rather than a child that exits 127.
//!
//! `wait` parks on a pidfd (readable when the child exits) in the poller, then reaps
//! the child with wait4; where pidfd_open is missing it waits in wait4 inside a
//! system call (`gort::blocking`: the P is handed off).

use alloc::ffi::CString;
use alloc::string::String;
use alloc::vec::Vec;

use crate::io::{Error, ErrorKind, Result};
use crate::net::PollFd;
use crate::runtime::sys_linux::{self, procsys};

/// What to connect a child's standard stream to (std's `Stdio`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stdio {
    /// The parent's own stream (the default for `spawn` and `status`).
    Inherit,
    /// /dev/null.
    Null,
    /// A new pipe, whose other end is the child's `stdin`/`stdout`/`stderr`.
    Piped,
}

impl Stdio {
    /// The parent's stream.
    pub fn inherit() -> Stdio {
        Stdio::Inherit
    }
    /// /dev/null.
    pub fn null() -> Stdio {
        Stdio::Null
    }
    /// A pipe.
    pub fn piped() -> Stdio {
        Stdio::Piped
    }
}

/// A process to start (std's `Command`, Go's `exec.Cmd`).
pub struct Command {
    program: String,
    args: Vec<String>,
    env_clear: bool,
    env: Vec<(String, Option<String>)>,
    dir: Option<String>,
    stdio: [Option<Stdio>; 3],
}

/// How a child ended (std's `ExitStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus(i32);

impl ExitStatus {
    /// Whether it exited with status 0.
    pub fn success(&self) -> bool {
        self.0 == 0
    }
    /// Its exit status, if it exited (not killed by a signal).
    pub fn code(&self) -> Option<i32> {
        if self.0 & 0x7f == 0 {
            Some((self.0 >> 8) & 0xff)
        } else {
            None
        }
    }
    /// The signal that killed it, if one did.
    pub fn signal(&self) -> Option<i32> {
        let s = self.0 & 0x7f;
        if s != 0 && s != 0x7f {
            Some(s)
        } else {
            None
        }
    }
}

impl core::fmt::Display for ExitStatus {
    /// Go's texts: "exit status 1", "signal: killed", "signal: interrupt",
    /// "signal: segmentation fault (core dumped)".
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match (self.code(), self.signal()) {
            (Some(c), _) => write!(f, "exit status {c}"),
            (_, Some(s)) => {
                write!(f, "signal: {}", crate::os::signal::Signal::from_raw(s))?;
                // WCOREDUMP.
                if self.0 & 0x80 != 0 {
                    f.write_str(" (core dumped)")?;
                }
                Ok(())
            }
            _ => write!(f, "wait status {:#x}", self.0),
        }
    }
}

/// What `output` collects (std's `Output`).
#[derive(Debug)]
pub struct Output {
    /// How the child ended.
    pub status: ExitStatus,
    /// Everything it wrote to standard output.
    pub stdout: Vec<u8>,
    /// Everything it wrote to standard error.
    pub stderr: Vec<u8>,
}

/// A pipe end of a child's stream, read or written through the poller.
pub struct ChildPipe {
    fd: PollFd,
}

impl ChildPipe {
    /// Read into buf; 0 when the child closed its end (or exited).
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        self.fd.read(buf)
    }
    /// Read everything until the child closes its end; returns the count.
    pub fn read_to_end(&self, out: &mut Vec<u8>) -> Result<usize> {
        let start = out.len();
        let mut buf = [0u8; 16 << 10];
        loop {
            let n = self.read(&mut buf)?;
            if n == 0 {
                return Ok(out.len() - start);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }
    /// Write some of buf.
    pub fn write(&self, buf: &[u8]) -> Result<usize> {
        self.fd.write(buf)
    }
    /// Write all of buf.
    pub fn write_all(&self, buf: &[u8]) -> Result<()> {
        self.fd.write_all(buf)
    }
}

/// The parent's end of the child's standard input.
pub type ChildStdin = ChildPipe;
/// The parent's end of the child's standard output.
pub type ChildStdout = ChildPipe;
/// The parent's end of the child's standard error.
pub type ChildStderr = ChildPipe;

/// A started child process (std's `Child`).
pub struct Child {
    pid: i32,
    status: Option<ExitStatus>,
    /// Its standard input, if piped (drop it to close the pipe: the child reads EOF).
    pub stdin: Option<ChildStdin>,
    /// Its standard output, if piped.
    pub stdout: Option<ChildStdout>,
    /// Its standard error, if piped.
    pub stderr: Option<ChildStderr>,
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s)
        .map_err(|_| Error::new_static(ErrorKind::InvalidInput, "nul byte in a command argument"))
}

fn check(r: isize) -> Result<isize> {
    if r < 0 {
        Err(Error::from_neg(r))
    } else {
        Ok(r)
    }
}

/// Closes a raw descriptor on drop (the child's ends in the parent, and the
/// parent's until the poller owns them).
struct RawFd(i32);

impl RawFd {
    /// Give up ownership: the caller closes the descriptor.
    fn into_raw(self) -> i32 {
        let fd = self.0;
        core::mem::forget(self);
        fd
    }
}

impl Drop for RawFd {
    fn drop(&mut self) {
        if self.0 >= 0 {
            sys_linux::close(self.0);
        }
    }
}

const O_CLOEXEC: usize = 0o2000000;

impl Command {
    /// A command running `program` (looked up in PATH when it has no '/').
    pub fn new(program: &str) -> Command {
        Command {
            program: program.into(),
            args: Vec::new(),
            env_clear: false,
            env: Vec::new(),
            dir: None,
            stdio: [None, None, None],
        }
    }

    /// Add an argument.
    pub fn arg(&mut self, a: &str) -> &mut Command {
        self.args.push(a.into());
        self
    }

    /// Add arguments.
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(&mut self, args: I) -> &mut Command {
        for a in args {
            self.args.push(a.as_ref().into());
        }
        self
    }

    /// Set an environment variable for the child.
    pub fn env(&mut self, k: &str, v: &str) -> &mut Command {
        self.env.push((k.into(), Some(v.into())));
        self
    }

    /// Remove a variable from the child's environment.
    pub fn env_remove(&mut self, k: &str) -> &mut Command {
        self.env.push((k.into(), None));
        self
    }

    /// Start the child with only the variables set with `env`.
    pub fn env_clear(&mut self) -> &mut Command {
        self.env_clear = true;
        self.env.clear();
        self
    }

    /// Run the child in directory dir.
    pub fn current_dir(&mut self, dir: &str) -> &mut Command {
        self.dir = Some(dir.into());
        self
    }

    /// Connect the child's standard input.
    pub fn stdin(&mut self, s: Stdio) -> &mut Command {
        self.stdio[0] = Some(s);
        self
    }

    /// Connect the child's standard output.
    pub fn stdout(&mut self, s: Stdio) -> &mut Command {
        self.stdio[1] = Some(s);
        self
    }

    /// Connect the child's standard error.
    pub fn stderr(&mut self, s: Stdio) -> &mut Command {
        self.stdio[2] = Some(s);
        self
    }

    /// The program's path: as given if it has a '/', else the first executable
    /// PATH entry (Go's LookPath), else NotFound with Go's exec.Error text.
    fn resolve(&self) -> Result<CString> {
        if self.program.contains('/') {
            return cstring(&self.program);
        }
        let path = crate::env::var("PATH").unwrap_or("/usr/local/bin:/usr/bin:/bin");
        for dir in path.split(':') {
            let dir = if dir.is_empty() { "." } else { dir };
            let mut p = String::from(dir);
            p.push('/');
            p.push_str(&self.program);
            let c = cstring(&p)?;
            // Go's LookPath skips directories and files without an execute bit
            // and goes on to the next entry (X_OK alone passes any directory, and
            // for root any file with some execute bit).
            const X_OK: usize = 1;
            if sys_linux::access(&c, X_OK) && crate::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
                return Ok(c);
            }
        }
        Err(Error::with_detail(
            ErrorKind::NotFound,
            "exec: {}: executable file not found in $PATH",
            &self.program,
        ))
    }

    /// The child's envp: the parent's entries as the kernel passed them (bytes, not
    /// necessarily UTF-8, not necessarily NAME=value), less those whose name
    /// env/env_remove set, then each variable env set, at its last setting. With no
    /// env, env_remove or env_clear the child gets the parent's entries byte for
    /// byte, as from Go's exec.Cmd with a nil Env. The new entries' strings go to
    /// owned, which must outlive the result; the parent's live for the whole process.
    fn envp(&self, owned: &mut Vec<CString>) -> Result<Vec<*const u8>> {
        let mut out = Vec::new();
        if !self.env_clear {
            for kv in crate::runtime::runtime1::environ() {
                // The name ends at the first '=' (an entry without one is all name).
                let name = kv.split(|&c| c == b'=').next().unwrap_or(kv);
                if !self.env.iter().any(|(k, _)| k.as_bytes() == name) {
                    // The kernel's string is NUL-terminated where the slice ends.
                    out.push(kv.as_ptr());
                }
            }
        }
        for (i, (k, v)) in self.env.iter().enumerate() {
            let later = self.env[i + 1..].iter().any(|(k2, _)| k2 == k);
            if let (Some(v), false) = (v, later) {
                owned.push(cstring(&alloc::format!("{k}={v}"))?);
            }
        }
        // A CString's bytes stay where they are when owned grows.
        out.extend(owned.iter().map(|c| c.as_ptr() as *const u8));
        Ok(out)
    }

    /// Start the child (std's default: streams inherited unless set).
    pub fn spawn(&mut self) -> Result<Child> {
        self.spawn_with([Stdio::Inherit; 3])
    }

    fn spawn_with(&mut self, default: [Stdio; 3]) -> Result<Child> {
        let path = self.resolve()?;
        let mut argv_c = Vec::with_capacity(self.args.len() + 1);
        argv_c.push(cstring(&self.program)?);
        for a in &self.args {
            argv_c.push(cstring(a)?);
        }
        let mut envp_c = Vec::new();
        let mut envp = self.envp(&mut envp_c)?;
        let dir_c = match &self.dir {
            Some(d) => Some(cstring(d)?),
            None => None,
        };
        let mut argv: Vec<*const u8> = argv_c.iter().map(|c| c.as_ptr() as *const u8).collect();
        argv.push(core::ptr::null());
        envp.push(core::ptr::null());

        // The child's three descriptors (-1: inherit) and the parent's pipe ends,
        // each owned from the moment it exists, so that any error below closes it.
        let mut child_fds = [-1i32; 3];
        let mut keep: Vec<RawFd> = Vec::new(); // closed in the parent after the fork
        let mut parent_ends: [Option<RawFd>; 3] = [None, None, None];
        for i in 0..3 {
            match self.stdio[i].unwrap_or(default[i]) {
                Stdio::Inherit => child_fds[i] = i as i32,
                Stdio::Null => {
                    let flags = if i == 0 {
                        0
                    } else {
                        2 /* O_RDWR */
                    };
                    let fd = check(sys_linux::open_flags(c"/dev/null", flags | O_CLOEXEC))?;
                    child_fds[i] = fd as i32;
                    keep.push(RawFd(fd as i32));
                }
                Stdio::Piped => {
                    let mut p = [-1i32; 2];
                    check(procsys::pipe2(&mut p, O_CLOEXEC))?;
                    let (child_end, parent_end) = if i == 0 { (p[0], p[1]) } else { (p[1], p[0]) };
                    child_fds[i] = child_end;
                    keep.push(RawFd(child_end));
                    parent_ends[i] = Some(RawFd(parent_end));
                }
            }
        }
        let mut pipes: [Option<ChildPipe>; 3] = [None, None, None];
        for (pipe, end) in pipes.iter_mut().zip(parent_ends) {
            if let Some(end) = end {
                check(procsys::set_nonblock(end.0))?;
                // register owns the descriptor from here, and closes it if it fails.
                *pipe = Some(ChildPipe {
                    fd: PollFd::register(end.into_raw())?,
                });
            }
        }
        let mut errp = [-1i32; 2];
        check(procsys::pipe2(&mut errp, O_CLOEXEC))?;
        let (err_r, err_w) = (RawFd(errp[0]), RawFd(errp[1]));
        let dir_p = dir_c
            .as_ref()
            .map_or(core::ptr::null(), |d| d.as_ptr() as *const u8);

        // Fork with every signal blocked on this thread (the child must not run a
        // handler), pinned to it (no preemption between the mask and the fork).
        let pin = crate::runtime::proc::acquirem();
        let old = sys_linux::sigprocmask_set(!0);
        // SAFETY: the child calls only fork_exec_child, with the strings and arrays
        // built above (they stay alive in the parent until after the fork, and the
        // child has its own copy of memory).
        let pid = unsafe { procsys::fork() };
        if pid == 0 {
            // SAFETY: the freshly forked child, with the prepared arguments.
            unsafe {
                procsys::fork_exec_child(
                    child_fds,
                    dir_p,
                    path.as_ptr() as *const u8,
                    argv.as_ptr(),
                    envp.as_ptr(),
                    err_w.0,
                    procsys::ChildSignals {
                        // Read in the child: the dispositions it inherited at the fork.
                        handled: crate::runtime::signal_linux::handled_signals(),
                        mask: crate::runtime::proc::init_sigmask(),
                    },
                )
            }
        }
        sys_linux::sigprocmask_set(old);
        drop(pin);
        check(pid)?;
        drop(err_w);
        drop(keep);
        // The exec's verdict: EOF (close-on-exec closed the pipe) or an errno.
        let mut b = [0u8; 4];
        let n = crate::blocking(|| loop {
            let n = sys_linux::read(err_r.0, &mut b);
            if n != -sys_linux::EINTR {
                break n;
            }
        });
        if n == 4 {
            // Reap the failed child, then report why it failed.
            let mut st = 0;
            crate::blocking(|| procsys::wait4(pid as i32, &mut st, 0));
            return Err(Error::from_raw_os_error(i32::from_ne_bytes(b)));
        }
        let [stdin, stdout, stderr] = pipes;
        Ok(Child {
            pid: pid as i32,
            status: None,
            stdin,
            stdout,
            stderr,
        })
    }

    /// Run the child to completion with streams inherited (unless set), and return
    /// how it ended.
    pub fn status(&mut self) -> Result<ExitStatus> {
        self.spawn()?.wait()
    }

    /// Run the child with standard output and error piped (unless set) and standard
    /// input from /dev/null (unless set), collecting both outputs.
    pub fn output(&mut self) -> Result<Output> {
        let child = self.spawn_with([Stdio::Null, Stdio::Piped, Stdio::Piped])?;
        child.wait_with_output()
    }
}

impl Child {
    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.pid as u32
    }

    /// Send SIGKILL (std's `kill`).
    pub fn kill(&mut self) -> Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        check(procsys::kill(self.pid, 9)).map(|_| ())
    }

    /// Wait for the child to exit, parking the goroutine (the child's stdin, if
    /// piped, is closed first, as std does).
    pub fn wait(&mut self) -> Result<ExitStatus> {
        drop(self.stdin.take());
        if let Some(s) = self.status {
            return Ok(s);
        }
        let pidfd = procsys::pidfd_open(self.pid);
        if pidfd >= 0 {
            // Readable once the child has exited.
            let fd = PollFd::register(pidfd as i32)?;
            fd.wait_readable()?;
        }
        let mut st = 0i32;
        let r = if pidfd >= 0 {
            procsys::wait4(self.pid, &mut st, 0)
        } else {
            crate::blocking(|| loop {
                let r = procsys::wait4(self.pid, &mut st, 0);
                if r != -sys_linux::EINTR {
                    break r;
                }
            })
        };
        check(r)?;
        let s = ExitStatus(st);
        self.status = Some(s);
        Ok(s)
    }

    /// Wait for the child, collecting its piped standard output and error (each read
    /// by a goroutine of its own, so neither pipe can fill and stall the child).
    pub fn wait_with_output(mut self) -> Result<Output> {
        drop(self.stdin.take());
        let err_c = crate::chan::<Result<Vec<u8>>>(1);
        if let Some(e) = self.stderr.take() {
            let c = err_c.clone();
            crate::go(move || {
                let mut v = Vec::new();
                c.send(e.read_to_end(&mut v).map(|_| v));
            });
        } else {
            err_c.send(Ok(Vec::new()));
        }
        let mut stdout = Vec::new();
        // Read errors are returned after the child is reaped (Go's Output waits
        // whatever happened; our read end is closed by then, so a child still
        // writing gets EPIPE rather than blocking the wait).
        let out = match self.stdout.take() {
            Some(o) => o.read_to_end(&mut stdout).map(|_| ()),
            None => Ok(()),
        };
        let stderr = err_c.recv().unwrap_or(Ok(Vec::new()));
        let status = self.wait();
        out?;
        let stderr = stderr?;
        let status = status?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}
