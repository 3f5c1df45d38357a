//! `procs [W] [N]`: W worker goroutines (default 16) each do N units of work
//! (default 20000), yielding now and then and spawning a helper goroutine every
//! 1000 units, while main changes GOMAXPROCS through a fixed cycle, stopping the world
//! each time, starting before the workers are released. Prints the work done (must be W*N + the helpers' work) and the last
//! GOMAXPROCS values seen.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use gort::sync::WaitGroup;

gort::main!(main);

fn arg(i: usize, default: u64) -> u64 {
    gort::env::args()
        .nth(i)
        .and_then(|a| a.to_str()?.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let (w, n) = (arg(1, 16), arg(2, 20_000));
    let work = Arc::new(AtomicU64::new(0));
    let helpers = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let wg = Arc::new(WaitGroup::new());
    // The workers start behind a gate that opens after main's first resizes, so
    // that some resizes find them queued on Ps that go away.
    let gate = Arc::new(WaitGroup::new());
    gate.add(1);
    wg.add(w as i32);
    for _ in 0..w {
        let (work, helpers, wg, gate) = (work.clone(), helpers.clone(), wg.clone(), gate.clone());
        gort::go(move || {
            gate.wait();
            for i in 0..n {
                work.fetch_add(1, Relaxed);
                if i % 1000 == 999 {
                    wg.add(1);
                    let (helpers, wg) = (helpers.clone(), wg.clone());
                    gort::go(move || {
                        helpers.fetch_add(1, Relaxed);
                        wg.done();
                    });
                }
                if i % 64 == 0 {
                    gort::gosched();
                }
            }
            wg.done();
        });
    }
    let cycle = [1, 4, 2, 8, 3, 1, 2];
    let mut changes = 0;
    let mut last = 0;
    let d = done.clone();
    let watcher = Arc::new(WaitGroup::new());
    watcher.add(1);
    let wt = watcher.clone();
    gort::go(move || {
        wg.wait();
        d.store(true, Relaxed);
        wt.done();
    });
    while !done.load(Relaxed) || changes < 3 {
        let want = cycle[changes % cycle.len()];
        gort::gomaxprocs(want);
        last = gort::gomaxprocs(0);
        assert_eq!(last, want);
        changes += 1;
        if changes == 3 {
            gate.done();
        }
        gort::gosched();
    }
    watcher.wait();
    gort::println!("work={}", work.load(Relaxed));
    gort::println!("want={}", w * n);
    gort::println!("helpers={}", helpers.load(Relaxed));
    gort::println!("helpers.want={}", w * (n / 1000));
    gort::println!("changes.enough={}", changes >= 3);
    gort::println!("gomaxprocs.last={last}");
}
