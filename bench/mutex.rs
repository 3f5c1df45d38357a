//! Benchmark `mutex [G] [M]`: a contended lock. G goroutines (default 8) each do M
//! (default 1,000,000) lock / increment / unlock on one gort::sync::Mutex, at the
//! default GOMAXPROCS. Checks the final count is exactly G*M (exits 1 if not) and
//! prints `ns_per_op=` (wall time from the first spawn until all are done, divided by
//! G*M). Twin: bench/go/mutex/main.go.
#![no_std]
#![no_main]

mod common;

use gort::sync::{Mutex, WaitGroup};

gort::main!(main);

static COUNT: Mutex<u64> = Mutex::new(0);
static WG: WaitGroup = WaitGroup::new();

fn main() {
    let (g, m) = (common::arg(1, 8), common::arg(2, 1_000_000));
    let t0 = common::now_ns();
    WG.add(g as i32);
    for _ in 0..g {
        gort::go(move || {
            for _ in 0..m {
                *COUNT.lock() += 1;
            }
            WG.done();
        });
    }
    WG.wait();
    let t1 = common::now_ns();
    let count = *COUNT.lock();
    if count != g * m {
        gort::eprintln!("bench: mutex: count={count}, want {}", g * m);
        gort::exit(1);
    }
    gort::println!("ns_per_op={:.1}", (t1 - t0) as f64 / (g * m) as f64);
}
