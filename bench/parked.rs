//! Benchmark `parked [N]`: the memory a parked goroutine holds. N goroutines (default
//! 100,000) each call STARTED.done() and then park in GATE.wait(); once all have
//! started, main reads the resident set size (/proc/self/statm, field 2 × 4096) and
//! prints `bytes_per_goroutine=` ((RSS now − RSS before the first spawn) / N). Nothing
//! frees memory in between (no GC in gort; the Go twin calls no runtime.GC either).
//! Then the gate opens and main checks all N finish. Twin: bench/go/parked/main.go.
#![no_std]
#![no_main]

mod common;

use gort::sync::WaitGroup;

gort::main!(main);

static STARTED: WaitGroup = WaitGroup::new();
static GATE: WaitGroup = WaitGroup::new();
static FINISHED: WaitGroup = WaitGroup::new();

fn main() {
    let n = common::arg(1, 100_000);
    if n > i32::MAX as u64 {
        common::fail("N is too large");
    }
    GATE.add(1);
    STARTED.add(n as i32);
    FINISHED.add(n as i32);
    let before = common::rss();
    for _ in 0..n {
        gort::go(|| {
            STARTED.done();
            GATE.wait();
            FINISHED.done();
        });
    }
    STARTED.wait();
    let parked = common::rss();
    GATE.done();
    FINISHED.wait();
    gort::println!("bytes_per_goroutine={}", parked.saturating_sub(before) / n);
}
