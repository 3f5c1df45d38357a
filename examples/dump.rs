//! `dump`: goroutines waiting in different ways, then `gort::debug::print_goroutines()`
//! lists them on stderr (tests/sched.rs checks the headers and "created by" lines).
//! `dump wait`: the same goroutines, then main waits on a channel for ever (a
//! sleeping goroutine keeps it from being a deadlock): for SIGQUIT's dump.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use gort::sync::Mutex;
use gort::time::{sleep, Duration};

gort::main!(main);

fn main() {
    let c = gort::chan::<u32>(0);
    let c2 = c.clone();
    gort::go(move || {
        c2.recv();
    });
    gort::go(|| sleep(Duration::from_secs(60)));
    let m = Arc::new(Mutex::new(0u32));
    let g = m.lock();
    let m2 = m.clone();
    gort::go(move || {
        *m2.lock() += 1;
    });
    let l = gort::net::TcpListener::bind("127.0.0.1:0").unwrap();
    gort::go(move || {
        let _ = l.accept();
    });
    sleep(Duration::from_millis(50));
    if gort::env::args().nth(1).and_then(|a| a.to_str()) == Some("wait") {
        gort::println!("waiting");
        gort::chan::<u32>(0).recv();
    }
    gort::debug::print_goroutines();
    drop(g);
    gort::println!("done");
}
