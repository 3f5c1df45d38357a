//! `mutex [G] [N]`: G goroutines (default 8) each increment a shared counter N times
//! (default 1000000) under a gort::sync::Mutex. Prints the count, which must be G*N.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use gort::sync::{Mutex, WaitGroup};

gort::main!(main);

fn arg(i: usize, default: u64) -> u64 {
    gort::env::args()
        .nth(i)
        .and_then(|a| a.to_str()?.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let (g, n) = (arg(1, 8), arg(2, 1_000_000));
    let counter = Arc::new(Mutex::new(0u64));
    let wg = Arc::new(WaitGroup::new());
    wg.add(g as i32);
    for _ in 0..g {
        let (counter, wg) = (counter.clone(), wg.clone());
        gort::go(move || {
            for _ in 0..n {
                *counter.lock() += 1;
            }
            wg.done();
        });
    }
    wg.wait();
    gort::println!("count={}", *counter.lock());
    gort::println!("want={}", g * n);
}
