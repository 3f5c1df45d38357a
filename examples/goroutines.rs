//! `goroutines [N]`: N goroutines (default 100000) each add their index to one
//! counter, joined by a WaitGroup. Prints the sum (which must be N*(N-1)/2), the
//! number of distinct threads that ran them, and how often work was stolen.
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
            ms.fetch_or(1 << (gort::debug::m_id() as u64 % 64), Relaxed);
            if i % 7 == 0 {
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
    gort::println!("steals={}", gort::debug::steals());
}
