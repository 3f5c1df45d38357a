//! Timers, one scenario per argument: `sleep MS` (how long a sleep really took),
//! `sleepers N MS` (N goroutines sleep MS at once; all must wake), `after` (after() as
//! a select timeout), `tick` (a ticker's ticks), `deadlock-free` (main sleeps while
//! nothing else runs: not a deadlock), `load N MS ROUNDS` (N goroutines sleep MS
//! repeatedly; wake-ups per second and CPU used, for the benchmark).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use gort::sync::WaitGroup;
use gort::time::{after, sleep, tick, Duration, Instant};
use gort::{chan, println, select};

gort::main!(main);

fn arg(i: usize, default: u64) -> u64 {
    gort::env::args()
        .nth(i)
        .and_then(|a| a.to_str()?.parse().ok())
        .unwrap_or(default)
}

fn process_cpu_ns() -> u64 {
    let mut ts = [0u64; 2];
    // SAFETY: the kernel writes one timespec into ts.
    unsafe { syscalls::syscall!(syscalls::Sysno::clock_gettime, 2, ts.as_mut_ptr()).unwrap() };
    ts[0] * 1_000_000_000 + ts[1]
}

fn main() {
    let how = gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str())
        .unwrap_or("");
    match how {
        "sleep" => {
            let ms = arg(2, 50);
            let t0 = Instant::now();
            sleep(Duration::from_millis(ms));
            println!("slept_us={}", t0.elapsed().as_micros());
            println!("asked_us={}", ms * 1000);
        }
        "sleepers" => {
            let (n, ms) = (arg(2, 10_000), arg(3, 20));
            let woke = Arc::new(AtomicU64::new(0));
            let early = Arc::new(AtomicU64::new(0));
            let wg = Arc::new(WaitGroup::new());
            wg.add(n as i32);
            let t0 = Instant::now();
            for i in 0..n {
                let (woke, early, wg) = (woke.clone(), early.clone(), wg.clone());
                gort::go(move || {
                    let d = Duration::from_millis(ms + i % 7);
                    let t = Instant::now();
                    sleep(d);
                    if t.elapsed() < d {
                        early.fetch_add(1, Relaxed);
                    }
                    woke.fetch_add(1, Relaxed);
                    wg.done();
                });
            }
            wg.wait();
            println!("woke={}", woke.load(Relaxed));
            println!("early={}", early.load(Relaxed));
            println!("total_ms={}", t0.elapsed().as_millis());
        }
        "after" => {
            let never = chan::<u32>(0);
            let t0 = Instant::now();
            let r = select! {
                recv(never) -> _v => "value",
                recv(after(Duration::from_millis(30))) -> _t => "timeout",
            };
            println!("after.result={r}");
            println!(
                "after.waited_ms_at_least_30={}",
                t0.elapsed() >= Duration::from_millis(30)
            );
            // A value that arrives first wins over the timeout.
            let c = chan::<u32>(1);
            c.send(9);
            let r = select! {
                recv(c) -> v => v.unwrap(),
                recv(after(Duration::from_millis(1000))) -> _t => 0,
            };
            println!("after.value_first={r}");
        }
        "tick" => {
            let t0 = Instant::now();
            let t = tick(Duration::from_millis(10));
            let mut n = 0;
            let mut prev = t0;
            let mut spaced = true;
            for at in &t {
                n += 1;
                spaced &= at >= prev;
                prev = at;
                if n == 5 {
                    break;
                }
            }
            println!("tick.count={n}");
            println!("tick.ordered={spaced}");
            println!(
                "tick.elapsed_ms_at_least_50={}",
                t0.elapsed() >= Duration::from_millis(49)
            );
        }
        "deadlock-free" => {
            // Only main exists and it sleeps: the runtime must wait, not report a
            // deadlock.
            sleep(Duration::from_millis(100));
            println!("woke=true");
        }
        "load" => {
            let (n, ms, rounds) = (arg(2, 10_000), arg(3, 1), arg(4, 100));
            let wakes = Arc::new(AtomicU64::new(0));
            let wg = Arc::new(WaitGroup::new());
            wg.add(n as i32);
            let (t0, c0) = (Instant::now(), process_cpu_ns());
            for _ in 0..n {
                let (wakes, wg) = (wakes.clone(), wg.clone());
                gort::go(move || {
                    for _ in 0..rounds {
                        sleep(Duration::from_millis(ms));
                        wakes.fetch_add(1, Relaxed);
                    }
                    wg.done();
                });
            }
            wg.wait();
            let secs = t0.elapsed().as_secs_f64();
            let cpu = (process_cpu_ns() - c0) as f64 / 1e9;
            println!("wakeups={}", wakes.load(Relaxed));
            println!("wakeups_per_sec={:.0}", wakes.load(Relaxed) as f64 / secs);
            println!("cpu_per_wall={:.2}", cpu / secs);
        }
        _ => gort::eprintln!("usage: timers sleep|sleepers|after|tick|deadlock-free|load"),
    }
}
