//! Benchmark `timers [N] [MS] [ROUNDS]`: many sleeping goroutines. N goroutines (default
//! 10,000) each sleep MS milliseconds (default 1) ROUNDS times (default 100), counting
//! their wake-ups; main waits on a WaitGroup and checks the count is N × ROUNDS (exits 1
//! if not). Prints two lines: `wakeups_per_sec=` (N × ROUNDS / wall time from before the
//! first spawn until wait returns), `cpu_ns_per_wakeup=` (the process CPU time over
//! the same window / wake-ups) and `cpu_per_wall=` (process CPU time, all threads,
//! CLOCK_PROCESS_CPUTIME_ID, over the same window / wall time). Twin:
//! bench/go/timers/main.go.
#![no_std]
#![no_main]

mod common;

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use gort::sync::WaitGroup;
use gort::time::{sleep, Duration};

gort::main!(main);

static WG: WaitGroup = WaitGroup::new();
static WAKES: AtomicU64 = AtomicU64::new(0);

fn main() {
    let (n, ms, rounds) = (
        common::arg(1, 10_000),
        common::arg(2, 1),
        common::arg(3, 100),
    );
    if n > i32::MAX as u64 {
        common::fail("N is too large");
    }
    let d = Duration::from_millis(ms);
    let (t0, c0) = (common::now_ns(), common::cpu_ns());
    WG.add(n as i32);
    for _ in 0..n {
        gort::go(move || {
            for _ in 0..rounds {
                sleep(d);
                WAKES.fetch_add(1, Relaxed);
            }
            WG.done();
        });
    }
    WG.wait();
    let (t1, c1) = (common::now_ns(), common::cpu_ns());
    let wakes = WAKES.load(Relaxed);
    if wakes != n * rounds {
        gort::eprintln!("bench: timers: {wakes} wake-ups, want {}", n * rounds);
        gort::exit(1);
    }
    let wall = (t1 - t0) as f64;
    gort::println!("wakeups_per_sec={:.0}", wakes as f64 * 1e9 / wall);
    gort::println!("cpu_per_wall={:.3}", (c1 - c0) as f64 / wall);
    gort::println!("cpu_ns_per_wakeup={:.0}", (c1 - c0) as f64 / wakes as f64);
}
