//! Runtime misuse, one per argument, each of which must end in Go's message and exit
//! status 2: `deadlock` (main and another goroutine wait forever), `unlock` (unlock of
//! an unlocked mutex), `waitgroup` (negative WaitGroup counter), `goroutine-panic` (a
//! panic in a goroutine other than main), `threads` (more threads than allowed),
//! `max-threads N` (`set_max_threads(N)` below the threads the program has: Go's
//! SetMaxThreads checks at once, so it never returns),
//! `ticker-zero` / `ticker-reset-zero` (a ticker of period 0; `tick(0)` is instead
//! the nil channel, which main checks first).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use gort::sync::{Mutex, RawMutex, WaitGroup};

gort::main!(main);

fn main() {
    let how = gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str())
        .unwrap_or("");
    match how {
        "deadlock" => {
            let m = Arc::new(Mutex::new(0));
            let g = m.lock();
            let m2 = m.clone();
            gort::go(move || {
                *m2.lock() += 1; // blocks forever: main holds the lock
            });
            let wg = WaitGroup::new();
            wg.add(1);
            wg.wait(); // nobody calls done
            drop(g);
        }
        "unlock" => {
            let m = RawMutex::new();
            m.lock();
            m.unlock();
            m.unlock();
        }
        "waitgroup" => {
            let wg = WaitGroup::new();
            wg.add(1);
            wg.done();
            wg.done();
        }
        "goroutine-panic" => {
            let wg = Arc::new(WaitGroup::new());
            wg.add(1);
            let w = wg.clone();
            gort::go(move || {
                let v: alloc::vec::Vec<u32> = alloc::vec::Vec::new();
                gort::println!("in goroutine {}", gort::goid());
                let _ = v[3];
                w.done();
            });
            wg.wait();
        }
        "threads" => {
            // With GOMAXPROCS Ps busy, the runtime wants GOMAXPROCS threads.
            gort::debug::set_max_threads(1);
            let wg = Arc::new(WaitGroup::new());
            for _ in 0..4 {
                wg.add(1);
                let w = wg.clone();
                gort::go(move || {
                    let mut x = 0u64;
                    for i in 0..50_000_000u64 {
                        x = core::hint::black_box(x.wrapping_add(i));
                    }
                    w.done();
                });
            }
            wg.wait();
        }
        "max-threads" => {
            let n = gort::env::args()
                .nth(2)
                .and_then(|a| a.to_str().and_then(|s| s.parse().ok()))
                .unwrap_or(0);
            let old = gort::debug::set_max_threads(n);
            gort::println!("set_max_threads returned {old}");
        }
        "ticker-zero" | "ticker-reset-zero" => {
            use gort::time::{tick, Duration, Ticker};
            // Go's time.Tick(0) is nil: a channel that never delivers.
            let c = tick(Duration::ZERO);
            gort::println!("tick0_nil={}", c.is_nil());
            if how == "ticker-zero" {
                Ticker::new(Duration::ZERO);
            } else {
                Ticker::new(Duration::from_millis(1)).reset(Duration::ZERO);
            }
        }
        _ => gort::eprintln!(
            "usage: misuse deadlock|unlock|waitgroup|goroutine-panic|threads|ticker-zero|ticker-reset-zero"
        ),
    }
    gort::println!("not reached");
}
