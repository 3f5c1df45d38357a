//! Prints Go's scheduler trace from inside a program: gort::debug::schedtrace(false)
//! (the SCHED line) and schedtrace(true) (with a line per P, M and G), while one
//! goroutine is parked on a WaitGroup.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use gort::sync::WaitGroup;

gort::main!(main);

fn main() {
    let gate = Arc::new(WaitGroup::new());
    let done = Arc::new(WaitGroup::new());
    gate.add(1);
    done.add(1);
    let (g, d) = (gate.clone(), done.clone());
    gort::go(move || {
        g.wait();
        d.done();
    });
    // Let the goroutine run and park.
    while gort::debug::unstable::num_waiting() < 1 {
        gort::gosched();
    }
    gort::debug::schedtrace(false);
    gort::debug::schedtrace(true);
    gate.done();
    done.wait();
    gort::println!("ok");
}
