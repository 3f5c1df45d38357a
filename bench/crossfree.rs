//! Benchmark `crossfree [N]`: objects freed on another P than the one that allocated
//! them. A producer goroutine allocates N (default 2,000,000) boxes of 64 bytes
//! (`Box<[u64; 8]>` holding i) and sends them over a channel of capacity 128; the
//! consumer (main) receives and drops each, summing the values; at GOMAXPROCS >= 2
//! the two run on different Ps, so every object is freed on the other P. Checks the
//! count and the sum (exit 1 if wrong). Prints `ns_per_item=` (wall time / N). Twin:
//! bench/go/crossfree/main.go.
#![no_std]
#![no_main]

extern crate alloc;

mod common;

use alloc::boxed::Box;

gort::main!(main);

fn main() {
    let n = common::arg(1, 2_000_000);
    let c = gort::chan::<Box<[u64; 8]>>(128);
    let t0 = common::now_ns();
    let tx = c.clone();
    gort::go(move || {
        for i in 0..n {
            tx.send(Box::new([i; 8]));
        }
        tx.close();
    });
    let (mut count, mut sum) = (0u64, 0u64);
    for b in &c {
        count += 1;
        sum = sum.wrapping_add(b[0] + b[7]);
        drop(b);
    }
    let t1 = common::now_ns();
    if count != n || sum != n * (n - 1) {
        common::fail("wrong count or sum");
    }
    gort::println!("ns_per_item={:.1}", (t1 - t0) as f64 / n as f64);
}
