//! `scoped N`: goroutines started with gort::scope borrow a local Vec (no Arc, no
//! 'static) and sum its chunks into a local Mutex; scope returns only when all have
//! finished. Prints `sum=` (must be N*(N-1)/2), `goroutines=` (how many ran) and
//! `borrowed_after=` (the Vec is still ours to use after the scope).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

gort::main!(main);

fn main() {
    let n: u64 = gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str()?.parse().ok())
        .unwrap_or(100_000);
    let v: Vec<u64> = (0..n).collect();
    let total = gort::sync::Mutex::new(0u64);
    let ran = AtomicUsize::new(0);
    let chunks = gort::scope(|s| {
        let mut chunks = 0;
        for chunk in v.chunks(1000) {
            chunks += 1;
            s.go(|| {
                let part: u64 = chunk.iter().sum();
                *total.lock() += part;
                ran.fetch_add(1, Relaxed);
                gort::gosched(); // finish later than the loop: scope must still wait
            });
        }
        chunks
    });
    gort::println!("sum={}", *total.lock());
    gort::println!("goroutines={} of {chunks}", ran.load(Relaxed));
    gort::println!("borrowed_after={}", v.len());
}
