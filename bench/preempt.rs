//! Benchmark `preempt MODE [N]`: preemption and the system-call fast path, three
//! measures (twin: bench/go/preempt/main.go):
//!
//! - MODE 1, lateness: as many goroutines as Ps spin in loops that never call the
//!   runtime while main sleeps 1 ms N times (default 200); prints `late_max_us=` and
//!   `late_mean_us=` (how much later than asked each sleep returned). With a third
//!   argument US, each loop makes a getpid system call (through `gort::blocking`;
//!   Go: syscall.Getpid) every US microseconds of spinning.
//! - MODE 2, syscall: N getpid system calls (default 1,000,000), each through
//!   `gort::blocking` (entersyscall/exitsyscall; Go: syscall.Getpid does the same);
//!   prints `ns_per_syscall=`.
//! - MODE 3, cpu: 2 × GOMAXPROCS goroutines each run N iterations (default
//!   100,000,000) of a xorshift64 step; prints `ns_per_iter=` (wall time / total
//!   iterations). With more goroutines than Ps, every 10 ms slice ends in a
//!   preemption.
#![no_std]
#![no_main]

mod common;

extern crate alloc;

use alloc::sync::Arc;
use core::hint::black_box;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};
use gort::sync::WaitGroup;
use gort::time::{sleep, Duration, Instant};
use syscalls::{syscall, Sysno};

gort::main!(main);

fn main() {
    match common::arg(1, 1) {
        1 => lateness(common::arg(2, 200), common::arg(3, 0)),
        2 => getpid(common::arg(2, 1_000_000)),
        3 => cpu(common::arg(2, 100_000_000)),
        _ => common::fail("MODE is 1 (lateness), 2 (syscall) or 3 (cpu)"),
    }
}

fn lateness(n: u64, call_us: u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let wg = Arc::new(WaitGroup::new());
    for _ in 0..gort::gomaxprocs(0) {
        let (stop, wg) = (stop.clone(), wg.clone());
        wg.add(1);
        gort::go(move || {
            let mut x = 1u64;
            let step = |x: u64| {
                x.wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407)
            };
            if call_us == 0 {
                while !stop.load(Relaxed) {
                    x = step(x);
                }
            } else {
                let every = Duration::from_micros(call_us);
                while !stop.load(Relaxed) {
                    let t = Instant::now();
                    while t.elapsed() < every {
                        x = step(x);
                    }
                    // SAFETY: getpid takes no arguments and cannot fail.
                    x ^= gort::blocking(|| unsafe { syscall!(Sysno::getpid) }.unwrap_or(0) as u64);
                }
            }
            black_box(x);
            wg.done();
        });
    }
    let (mut worst, mut total) = (0u64, 0u64);
    for _ in 0..n {
        let t = common::now_ns();
        sleep(Duration::from_millis(1));
        let late = (common::now_ns() - t).saturating_sub(1_000_000);
        worst = worst.max(late);
        total += late;
    }
    stop.store(true, Relaxed);
    wg.wait();
    gort::println!("late_max_us={:.1}", worst as f64 / 1e3);
    gort::println!("late_mean_us={:.1}", total as f64 / n as f64 / 1e3);
}

fn getpid(n: u64) {
    let mut acc = 0u64;
    let t0 = common::now_ns();
    for _ in 0..n {
        // SAFETY: getpid takes no arguments and cannot fail.
        acc = acc.wrapping_add(gort::blocking(|| {
            unsafe { syscall!(Sysno::getpid) }.unwrap_or(0) as u64
        }));
    }
    let t1 = common::now_ns();
    black_box(acc);
    gort::println!("ns_per_syscall={:.1}", (t1 - t0) as f64 / n as f64);
}

fn cpu(n: u64) {
    let g = 2 * gort::gomaxprocs(0) as u64;
    let wg = Arc::new(WaitGroup::new());
    let t0 = common::now_ns();
    for i in 0..g {
        let wg = wg.clone();
        wg.add(1);
        gort::go(move || {
            let mut x = i + 1;
            for _ in 0..n {
                // xorshift64: a dependent chain the compiler cannot shorten.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
            }
            if black_box(x) == 0 {
                common::fail("impossible");
            }
            wg.done();
        });
    }
    wg.wait();
    let t1 = common::now_ns();
    gort::println!("ns_per_iter={:.3}", (t1 - t0) as f64 / (g * n) as f64);
}
