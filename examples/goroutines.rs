//! `goroutines [N] [noyield]`: N goroutines (default 100000) each add their index to
//! one counter, joined by a WaitGroup; every seventh yields once on the way (not with
//! `noyield`: then each goroutine finishes without waiting, so few hold a stack at
//! once). Prints the sum (which must be N*(N-1)/2), the
//! number of distinct threads that ran them, and how often work was stolen.
//!
//! Then a phase that can only finish by stealing: main queues 64 goroutines on its
//! own P and spins, never blocking, until all 64 have run; with GOMAXPROCS >= 2 an
//! idle P must steal them (`spin.done=64`, and `steals` above 0). Skipped (0) at
//! GOMAXPROCS=1.
//!
//! Last, goroutines whose closures are too large (or too aligned) to be stored
//! inline in the G: `big.sum` must equal `big.want`.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use gort::sync::WaitGroup;

gort::main!(main);

fn main() {
    let n: u64 = gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str()?.parse().ok())
        .unwrap_or(100_000);
    let yield_some = gort::env::args().nth(2).and_then(|a| a.to_str()) != Some("noyield");
    let sum = Arc::new(AtomicU64::new(0));
    let ran = Arc::new(AtomicU64::new(0));
    let ms = Arc::new(AtomicU64::new(0)); // bit i: M i ran one
    let wg = Arc::new(WaitGroup::new());
    wg.add(n as i32);
    for i in 0..n {
        let (sum, ran, ms, wg) = (sum.clone(), ran.clone(), ms.clone(), wg.clone());
        gort::go(move || {
            sum.fetch_add(i, Relaxed);
            ran.fetch_add(1, Relaxed);
            ms.fetch_or(1 << (gort::debug::unstable::m_id() as u64 % 64), Relaxed);
            if yield_some && i % 7 == 0 {
                gort::gosched();
            }
            wg.done();
        });
    }
    wg.wait();
    gort::println!("goroutines={}", ran.load(Relaxed));
    gort::println!("sum={}", sum.load(Relaxed));
    gort::println!("want={}", n * (n - 1) / 2);
    gort::println!("threads.used={}", ms.load(Relaxed).count_ones());
    gort::println!("gomaxprocs={}", gort::gomaxprocs(0));
    // 64 fit in main's local run queue; main keeps its P busy, so the other Ps can
    // only get them by stealing.
    let done = Arc::new(AtomicU64::new(0));
    let n_spin = if gort::gomaxprocs(0) >= 2 { 64 } else { 0 };
    for _ in 0..n_spin {
        let done = done.clone();
        gort::go(move || {
            done.fetch_add(1, Relaxed);
        });
    }
    let t0 = gort::time::Instant::now();
    while done.load(Relaxed) < n_spin && t0.elapsed() < core::time::Duration::from_secs(20) {
        core::hint::spin_loop();
    }
    gort::println!("spin.done={}", done.load(Relaxed));
    gort::println!("steals={}", gort::debug::unstable::steals());
    big_closures();
}

/// A closure too large for a G's inline buffer (96 bytes) or aligned past 16 is
/// boxed: `go` takes any closure (such closures once failed to compile).
fn big_closures() {
    #[repr(align(64))]
    struct Aligned(u64);
    let sum = Arc::new(AtomicU64::new(0));
    let wg = Arc::new(WaitGroup::new());
    wg.add(200);
    for i in 0..100u64 {
        let big = [i; 40]; // 320 bytes
        let (s1, w1) = (sum.clone(), wg.clone());
        gort::go(move || {
            s1.fetch_add(big.iter().sum::<u64>(), Relaxed);
            w1.done();
        });
        let a = Aligned(i);
        let (s2, w2) = (sum.clone(), wg.clone());
        gort::go_with_stack(64 << 10, move || {
            assert_eq!((&raw const a).addr() % 64, 0);
            s2.fetch_add(a.0, Relaxed);
            w2.done();
        });
    }
    wg.wait();
    gort::println!("big.sum={}", sum.load(Relaxed));
    gort::println!("big.want={}", 41 * 99 * 100 / 2);
}
