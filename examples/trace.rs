//! The execution trace from inside a program (gort::trace::start/stop), for
//! tests/trace.rs: `api PATH` starts a trace while goroutines already exist
//! (blocked on a channel, sleeping, in a blocking system call), then runs a
//! channel ping-pong, a send that blocks, sleeps, a select, a Mutex handoff, a
//! call-free loop that must share the Ps (preempted) and a system call, and stops
//! the trace. Prints `trace.ok=true` and the events' goroutine count. `racing-starts PREFIX`: 8 goroutines start a
//! trace (to PREFIX.0 to PREFIX.7) at the same moment: exactly one may succeed.
//! `shrink PATH`: a trace (to PATH) in which eight busy Ps shrink to two, then a
//! second trace (to PATH.2) in which they grow back to eight.
//! `regrow PATH`: eight busy Ps shrink to two, then a trace (to PATH) in which they
//! grow back to eight.
//! `fifo PATH`: a goroutine prints `tick=N` every 5 ms while main starts a trace to
//! PATH (a FIFO the test made, with no reader yet): the ticks go on while the open
//! waits for a reader, even with GOMAXPROCS=1. Then stops the trace.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};
use gort::sync::{Mutex, WaitGroup};
use gort::time::{sleep, Duration, Instant};
use gort::{chan, println, select};

gort::main!(main);

fn main() {
    let mut args = gort::env::args().skip(1);
    let mode = args.next().and_then(|a| a.to_str()).unwrap_or("");
    let path = args.next().and_then(|a| a.to_str()).unwrap_or("trace.out");
    if mode == "racing-starts" {
        return racing_starts(path);
    }
    if mode == "shrink" {
        return shrink(path);
    }
    if mode == "regrow" {
        return regrow(path);
    }
    if mode == "fifo" {
        return fifo(path);
    }
    if mode != "api" {
        gort::eprintln!("usage: trace api|racing-starts|shrink|regrow|fifo PATH");
        gort::exit(2);
    }
    // Goroutines that exist before the trace starts.
    let gate = chan::<u32>(0);
    let g2 = gate.clone();
    gort::go(move || {
        g2.recv();
    });
    gort::go(|| sleep(Duration::from_millis(30)));
    let in_call = Arc::new(AtomicBool::new(false));
    let ic = in_call.clone();
    gort::go(move || {
        gort::blocking(|| {
            ic.store(true, Relaxed);
            sleep_syscall(300)
        });
    });
    while !in_call.load(Relaxed) {
        sleep(Duration::from_millis(1));
    }
    sleep(Duration::from_millis(2));

    gort::trace::start(path).unwrap();
    println!("trace.enabled={}", gort::trace::is_enabled());
    println!(
        "trace.second_start_fails={}",
        gort::trace::start(path).is_err()
    );

    // Ping-pong over unbuffered channels.
    let (a, b) = (chan::<u32>(0), chan::<u32>(0));
    let (a2, b2) = (a.clone(), b.clone());
    gort::go(move || {
        for v in &a2 {
            b2.send(v + 1);
        }
    });
    for i in 0..1000 {
        a.send(i);
        assert_eq!(b.recv(), Some(i + 1));
    }
    a.close();
    // A send that must block (GoBlockSend): its receiver sleeps first. (In the
    // ping-pong the partner is usually waiting already: with both goroutines on
    // one P, handing off through runnext, no send blocks.)
    let late = chan::<u32>(0);
    let late2 = late.clone();
    gort::go(move || {
        sleep(Duration::from_millis(20));
        late2.recv();
    });
    late.send(1);
    // Sleepers, a select with a timeout, a Mutex handed between goroutines.
    let wg = Arc::new(WaitGroup::new());
    let m = Arc::new(Mutex::new(0u64));
    for _ in 0..8 {
        let (wg, m) = (wg.clone(), m.clone());
        wg.add(1);
        gort::go(move || {
            for _ in 0..50 {
                *m.lock() += 1;
                sleep(Duration::from_micros(200));
            }
            wg.done();
        });
    }
    let never = chan::<u8>(0);
    select! {
        recv(never) -> _v => {},
        recv(gort::time::after(Duration::from_millis(5))) -> _t => {},
    }
    // A call-free loop beside main's sleep: preempted.
    // More loops than Ps, so they must share them: each is preempted.
    let stop = Arc::new(AtomicBool::new(false));
    for _ in 0..gort::gomaxprocs(0) + 2 {
        let s2 = stop.clone();
        gort::go(move || {
            let t0 = Instant::now();
            let mut x = 1u64;
            while !s2.load(Relaxed) && t0.elapsed() < Duration::from_secs(5) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            core::hint::black_box(x);
        });
    }
    sleep(Duration::from_millis(50));
    stop.store(true, Relaxed);
    wg.wait();
    gate.send(1);
    gort::blocking(|| sleep_syscall(15));
    gort::trace::stop();
    println!("trace.enabled_after_stop={}", gort::trace::is_enabled());
    println!("trace.count={}", *m.lock());
    println!("trace.ok=true");
}

/// A blocking system call of ms milliseconds (nanosleep).
fn sleep_syscall(ms: u64) {
    let ts = [0u64, ms * 1_000_000];
    // SAFETY: nanosleep reads one timespec; the remaining-time pointer is null.
    unsafe {
        let _ = syscalls::syscall!(syscalls::Sysno::nanosleep, ts.as_ptr(), 0);
    }
}

/// See the file head: 8 goroutines call trace::start at once; prints how many
/// succeeded, then stops the trace.
fn racing_starts(prefix: &'static str) {
    use core::sync::atomic::AtomicU64;
    let go_now = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicU64::new(0));
    let wg = Arc::new(WaitGroup::new());
    for i in 0..8 {
        let (go_now, started, wg) = (go_now.clone(), started.clone(), wg.clone());
        wg.add(1);
        gort::go(move || {
            while !go_now.load(Relaxed) {
                core::hint::spin_loop();
            }
            let path = alloc::format!("{prefix}.{i}");
            if gort::trace::start(&path).is_ok() {
                started.fetch_add(1, Relaxed);
            }
            wg.done();
        });
    }
    sleep(Duration::from_millis(2));
    go_now.store(true, Relaxed);
    wg.wait();
    gort::trace::stop();
    println!("racing.started={}", started.load(Relaxed));
}

/// See the file head: the trace's open blocks (a FIFO without a reader) while a
/// ticker goroutine goes on printing.
fn fifo(path: &'static str) {
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let done = chan::<()>(0);
    let d2 = done.clone();
    gort::go(move || {
        let mut n = 0u64;
        while !s2.load(Relaxed) {
            n += 1;
            println!("tick={n}");
            sleep(Duration::from_millis(5));
        }
        d2.close();
    });
    sleep(Duration::from_millis(10));
    println!("fifo.starting=true");
    gort::trace::start(path).unwrap();
    println!("fifo.started=true");
    sleep(Duration::from_millis(10));
    stop.store(true, Relaxed);
    done.recv();
    gort::trace::stop();
    println!("fifo.ok=true");
}

/// See the file head: GOMAXPROCS shrinks from 8 to 2 while tracing to path, and
/// grows back to 8 while tracing to path.2.
fn shrink(path: &str) {
    gort::gomaxprocs(8);
    gort::trace::start(path).unwrap();
    spin_on_every_p(16);
    gort::gomaxprocs(2);
    spin_on_every_p(4);
    gort::trace::stop();
    let path2 = alloc::format!("{path}.2");
    gort::trace::start(&path2).unwrap();
    gort::gomaxprocs(8);
    spin_on_every_p(16);
    gort::trace::stop();
    println!("shrink.ok=true");
}

/// See the file head: Ps 2..7 exist but are not in use when the trace to path
/// starts, and come back during it.
fn regrow(path: &str) {
    gort::gomaxprocs(8);
    spin_on_every_p(16);
    gort::gomaxprocs(2);
    gort::trace::start(path).unwrap();
    gort::gomaxprocs(8);
    spin_on_every_p(16);
    gort::trace::stop();
    println!("regrow.ok=true");
}

/// n goroutines that each spin for 20 ms, so that every P runs some; waits for
/// them.
fn spin_on_every_p(n: u32) {
    let wg = Arc::new(WaitGroup::new());
    for _ in 0..n {
        let wg = wg.clone();
        wg.add(1);
        gort::go(move || {
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_millis(20) {
                core::hint::spin_loop();
            }
            wg.done();
        });
    }
    wg.wait();
}
