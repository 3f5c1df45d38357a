//! gort::os::signal, one scenario per argument, for tests/signal.rs. Each prints
//! `ready pid=N` once it is set up, then waits for the test's signals.
//!
//! - `notify`: SIGINT, SIGTERM and SIGUSR1 to a channel, received in a select loop
//!   beside a ticker while worker goroutines compute and pass numbers through
//!   channels; each signal prints `got NAME`; SIGTERM shuts down: the workers stop,
//!   their totals are checked, and the counts are printed.
//! - `all`: notify with no signals named (all of them); prints what comes until
//!   SIGHUP.
//! - `default`: no notify: sleeps for ever (SIGUSR1 and friends are dropped,
//!   SIGINT/SIGTERM/SIGHUP kill it by that signal).
//! - `stop`, `reset`: notify SIGINT, take one, print `got interrupt`, then stop
//!   (or reset) and sleep: the next SIGINT kills.
//! - `child-mask`: print the `SigBlk` line of a child shell's /proc/self/status (the
//!   mask it inherited), then exit 0.
//! - `inherited-ign`: SIGTSTP as inherited (the test may start us with it
//!   ignored): whether it reads as ignored, its disposition while notified and
//!   after stop, then exit 0 (no `ready` line).
//! - `blocked-notify`: the test starts us with SIGUSR1 blocked: notify unblocks it
//!   on one thread and a SIGUSR1 we send ourselves arrives; after stop it is
//!   blocked on every thread and the next one waits, pending, until a second
//!   notify takes it; reset blocks it again. Prints how many threads have it
//!   unblocked at each step and what arrived, then exits 0 (no `ready` line).
//! - `ignore`: ignore SIGINT and SIGTERM; a child shell sending itself SIGINT
//!   survives (ignored signals are inherited); then waits for SIGUSR1 and exits 0.
//! - `pipe print|eprint|io`: write lines to stdout (stderr) for ever: when the test
//!   closes the pipe, the program dies by SIGPIPE.
//! - `pipe-notify`: as `pipe print` with SIGPIPE notified: the writes fail instead,
//!   the channel gets SIGPIPE, the program says so on stderr and exits 0.
//! - `epipe`: write to the stdin pipe of a child that has exited: the write fails
//!   with BrokenPipe (no signal kills us), exit 0.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use gort::os::signal::{self, Signal, SIGHUP, SIGINT, SIGPIPE, SIGTERM, SIGTSTP, SIGURG, SIGUSR1};
use gort::time::{sleep, Duration};
use gort::{chan, eprintln, print, println, select};

gort::main!(main);

/// sig's disposition now: "dfl", "ign" or "handler" (rt_sigaction, read only).
fn disposition(sig: Signal) -> &'static str {
    let mut old = [0usize; 4];
    // SAFETY: rt_sigaction with no new action only writes the old one into `old`,
    // a kernel sigaction (handler, flags, restorer, mask) of 32 bytes we own.
    let r = unsafe {
        syscalls::syscall!(
            syscalls::Sysno::rt_sigaction,
            sig.as_raw() as usize,
            0,
            old.as_mut_ptr(),
            8
        )
    };
    match (r, old[0]) {
        (Err(_), _) => "error",
        (_, 0) => "dfl",
        (_, 1) => "ign",
        _ => "handler",
    }
}

fn arg(i: usize) -> &'static str {
    gort::env::args()
        .nth(i)
        .and_then(|a| a.to_str())
        .unwrap_or("")
}

/// How many of our threads do not block sig (their /proc status `SigBlk` lines).
fn unblocked_threads(sig: Signal) -> usize {
    let bit = 1u64 << (sig.as_raw() - 1);
    let mut n = 0;
    for e in gort::fs::read_dir("/proc/self/task").unwrap() {
        let path = alloc::format!("{}/status", e.unwrap().path());
        // A thread may be gone between the listing and the read: skip it.
        let Ok(status) = gort::fs::read_to_string(&path) else {
            continue;
        };
        let blk = status
            .lines()
            .find_map(|l| l.strip_prefix("SigBlk:"))
            .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
            .unwrap();
        n += (blk & bit == 0) as usize;
    }
    n
}

/// Whether sig is pending for the whole process (`ShdPnd`: sent, blocked everywhere).
fn pending_in_process(sig: Signal) -> bool {
    let status = gort::fs::read_to_string("/proc/self/status").unwrap();
    let pnd = status
        .lines()
        .find_map(|l| l.strip_prefix("ShdPnd:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .unwrap();
    pnd & (1u64 << (sig.as_raw() - 1)) != 0
}

/// Send sig to the process (any thread that does not block it takes it).
fn kill_self(sig: Signal) {
    // SAFETY: kill(2) sends a signal; the runtime handles or queues it.
    unsafe { syscalls::syscall!(syscalls::Sysno::kill, gort::os::getpid(), sig.as_raw()) }.unwrap();
}

/// The next signal on c, or "timeout" after 5 s.
fn recv_or_timeout(c: &gort::Chan<Signal>) -> alloc::string::String {
    let t = gort::time::after(Duration::from_secs(5));
    select! {
        recv(c) -> s => alloc::format!("{}", s.unwrap()),
        recv(t) -> _t => "timeout".into(),
    }
}

fn blocked_notify() {
    println!("unblocked.start={}", unblocked_threads(SIGUSR1));
    let c = chan::<Signal>(1);
    signal::notify(&c, &[SIGUSR1]);
    println!("unblocked.notified={}", unblocked_threads(SIGUSR1));
    kill_self(SIGUSR1);
    println!("got={}", recv_or_timeout(&c));
    signal::stop(&c);
    println!("unblocked.stopped={}", unblocked_threads(SIGUSR1));
    kill_self(SIGUSR1);
    sleep(Duration::from_millis(20));
    println!("pending={}", pending_in_process(SIGUSR1));
    signal::notify(&c, &[SIGUSR1]);
    println!("got.pending={}", recv_or_timeout(&c));
    signal::reset(&[SIGUSR1]);
    println!("unblocked.reset={}", unblocked_threads(SIGUSR1));
    println!("pending.after={}", pending_in_process(SIGUSR1));
}

fn ready() {
    println!("ready pid={}", gort::os::getpid());
}

fn main() {
    match arg(1) {
        "notify" => notify(),
        "all" => {
            let c = chan::<Signal>(8);
            signal::notify(&c, &[]);
            ready();
            for s in &c {
                if s == SIGURG {
                    continue; // the runtime's preemption signal, which we asked for too
                }
                println!("got {s} ({s:?}, {})", s.as_raw());
                if s == SIGHUP {
                    break;
                }
            }
        }
        "default" => {
            ready();
            loop {
                sleep(Duration::from_millis(10));
            }
        }
        how @ ("stop" | "reset") => {
            let c = chan::<Signal>(1);
            signal::notify(&c, &[SIGINT]);
            ready();
            println!("got {}", c.recv().unwrap());
            if how == "stop" {
                signal::stop(&c);
            } else {
                signal::reset(&[SIGINT]);
            }
            println!("{}", if how == "stop" { "stopped" } else { "reset" });
            loop {
                sleep(Duration::from_millis(10));
            }
        }
        "child-mask" => {
            // The signal mask a child process starts with: the one we started with
            // (the test may start us with SIGUSR1 blocked), not the runtime's. (exec:
            // dash clears the mask of the children it forks.)
            let out = gort::process::Command::new("sh")
                .args(["-c", "exec grep SigBlk /proc/self/status"])
                .output()
                .unwrap();
            print!("child {}", core::str::from_utf8(&out.stdout).unwrap());
        }
        "inherited-ign" => {
            // SIGTSTP as inherited (the test starts us with it ignored, or not):
            // ignored reports it, and notify then stop gives it back.
            println!("ignored SIGTSTP={}", signal::ignored(SIGTSTP));
            let c = chan::<Signal>(1);
            signal::notify(&c, &[SIGTSTP]);
            println!("notified SIGTSTP={}", disposition(SIGTSTP));
            signal::stop(&c);
            println!("stopped SIGTSTP={}", disposition(SIGTSTP));
            println!("ignored-after SIGTSTP={}", signal::ignored(SIGTSTP));
        }
        "blocked-notify" => blocked_notify(),
        "ignore" => {
            signal::ignore(&[SIGINT, SIGTERM]);
            println!("ignored SIGINT={}", signal::ignored(SIGINT));
            println!("ignored SIGUSR1={}", signal::ignored(SIGUSR1));
            let out = gort::process::Command::new("sh")
                .args(["-c", "kill -INT $$; echo child survived"])
                .output()
                .unwrap();
            println!(
                "child: {} {}",
                core::str::from_utf8(&out.stdout).unwrap().trim_end(),
                out.status
            );
            let c = chan::<Signal>(1);
            signal::notify(&c, &[SIGUSR1]);
            ready();
            println!("got {}", c.recv().unwrap());
        }
        "pipe" => {
            let how = arg(2);
            let mut i = 0u64;
            loop {
                match how {
                    "print" => println!("line {i}"),
                    "eprint" => eprintln!("line {i}"),
                    _ => {
                        let _ = gort::io::stdout().write_all(b"line\n");
                    }
                }
                i += 1;
            }
        }
        "pipe-notify" => {
            let c = chan::<Signal>(1);
            signal::notify(&c, &[SIGPIPE]);
            let mut i = 0u64;
            loop {
                println!("line {i}");
                if let Ok(s) = c.try_recv() {
                    eprintln!("got {s} after writing");
                    break;
                }
                i += 1;
            }
        }
        "epipe" => {
            let mut child = gort::process::Command::new("true")
                .stdin(gort::process::Stdio::piped())
                .spawn()
                .unwrap();
            let stdin = child.stdin.take().unwrap();
            println!("child {}", child.wait().unwrap());
            match stdin.write_all(b"hello") {
                Ok(()) => println!("write: ok?"),
                Err(e) => println!("write: {e} kind={:?}", e.kind()),
            }
        }
        m => {
            eprintln!("usage: signals notify|all|default|stop|reset|ignore|pipe|pipe-notify|epipe (got {m:?})");
            gort::exit(2);
        }
    }
}

/// The `notify` scenario (see the file head).
fn notify() {
    let sigs = chan::<Signal>(1);
    signal::notify(&sigs, &[SIGINT, SIGTERM, SIGUSR1]);
    let stop = Arc::new(AtomicBool::new(false));
    let done = chan::<u64>(64);
    // Compute-bound workers (preempted, never parking) ...
    const SPINNERS: u64 = 4;
    for _ in 0..SPINNERS {
        let (stop, done) = (stop.clone(), done.clone());
        gort::go(move || {
            let mut n = 0u64;
            while !stop.load(Relaxed) {
                n = n.wrapping_add(1);
                core::hint::black_box(n);
            }
            done.send(0);
        });
    }
    // ... and pairs passing a sequence through a channel, checking it arrives whole.
    const PAIRS: u64 = 32;
    let passed = Arc::new(AtomicU64::new(0));
    for _ in 0..PAIRS {
        let c = chan::<u64>(4);
        let (stop, tx) = (stop.clone(), c.clone());
        gort::go(move || {
            let mut i = 0;
            while !stop.load(Relaxed) {
                tx.send(i);
                i += 1;
            }
            tx.close();
        });
        let (done, passed) = (done.clone(), passed.clone());
        gort::go(move || {
            let mut want = 0;
            for v in &c {
                if v != want {
                    println!("sequence broken: got {v}, want {want}");
                    gort::exit(3);
                }
                want += 1;
            }
            passed.fetch_add(want, Relaxed);
            done.send(1);
        });
    }
    ready();
    let tick = gort::time::tick(Duration::from_millis(5));
    let (mut usr1, mut int, mut ticks) = (0u64, 0u64, 0u64);
    loop {
        select! {
            recv(sigs) -> s => {
                let s = s.unwrap();
                println!("got {s}");
                match s {
                    SIGUSR1 => usr1 += 1,
                    SIGINT => int += 1,
                    _ => break,
                }
            },
            recv(tick) -> _t => ticks += 1,
        }
    }
    stop.store(true, Relaxed);
    let mut finished: Vec<u64> = Vec::new();
    for _ in 0..SPINNERS + PAIRS {
        finished.push(done.recv().unwrap());
    }
    println!("usr1={usr1}");
    println!("int={int}");
    println!("ticking={}", ticks > 0);
    println!(
        "workers={} spinners={}",
        finished.len(),
        finished.iter().filter(|&&x| x == 0).count()
    );
    println!("passed.positive={}", passed.load(Relaxed) > 0);
    println!("shutdown complete");
}
