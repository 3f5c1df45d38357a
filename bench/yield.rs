//! Benchmark `yield [K]`: the cost of a goroutine switch. With GOMAXPROCS=1, two
//! goroutines each call gort::gosched() K times (default 1,000,000), so each call
//! switches to the other. Prints `ns_per_switch=` (wall time from the first spawn until
//! both are done, divided by 2K). Twin: bench/go/yield/main.go.
#![no_std]
#![no_main]

mod common;

use gort::sync::WaitGroup;

gort::main!(main);

static WG: WaitGroup = WaitGroup::new();

fn main() {
    let k = common::arg(1, 1_000_000);
    gort::gomaxprocs(1);
    if gort::gomaxprocs(0) != 1 {
        common::fail("GOMAXPROCS is not 1");
    }
    let t0 = common::now_ns();
    WG.add(2);
    for _ in 0..2 {
        gort::go(move || {
            for _ in 0..k {
                gort::gosched();
            }
            WG.done();
        });
    }
    WG.wait();
    let t1 = common::now_ns();
    gort::println!("ns_per_switch={:.1}", (t1 - t0) as f64 / (2 * k) as f64);
}
