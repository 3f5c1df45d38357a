//! Benchmark `spawn [N]`: the cost of a goroutine's whole life. Main creates N goroutines
//! (default 1,000,000), calling WG.add(1) before each spawn; each goroutine only calls
//! WG.done(); main waits for all of them. Prints `ns_per_goroutine=` (wall time of the
//! spawn loop plus the wait, divided by N). Twin: bench/go/spawn/main.go.
#![no_std]
#![no_main]

mod common;

use gort::sync::WaitGroup;

gort::main!(main);

static WG: WaitGroup = WaitGroup::new();

fn main() {
    let n = common::arg(1, 1_000_000);
    let t0 = common::now_ns();
    for _ in 0..n {
        WG.add(1);
        gort::go(|| WG.done());
    }
    WG.wait();
    let t1 = common::now_ns();
    gort::println!("ns_per_goroutine={:.1}", (t1 - t0) as f64 / n as f64);
}
