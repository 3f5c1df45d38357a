//! `park [N]`: N goroutines (default 100000) park at once on a gate, then are
//! released together. Prints how many started and finished, and the resident memory
//! per parked goroutine (from /proc/self/statm, RSS while parked minus RSS before).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use gort::sync::WaitGroup;

gort::main!(main);

/// Resident set size in bytes.
fn rss() -> u64 {
    use syscalls::{syscall, Sysno};
    let mut buf = [0u8; 128];
    // SAFETY: a NUL-terminated path; read into a local buffer.
    let n = unsafe {
        let fd = syscall!(Sysno::open, c"/proc/self/statm".as_ptr(), 0).unwrap_or(usize::MAX);
        if fd == usize::MAX {
            return 0;
        }
        let n = syscall!(Sysno::read, fd, buf.as_mut_ptr(), buf.len()).unwrap_or(0);
        let _ = syscall!(Sysno::close, fd);
        n
    };
    let text = core::str::from_utf8(&buf[..n]).unwrap_or("");
    let pages: u64 = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() {
    let n: u64 = gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str()?.parse().ok())
        .unwrap_or(100_000);
    let started = Arc::new(WaitGroup::new());
    let finished = Arc::new(WaitGroup::new());
    let gate = Arc::new(WaitGroup::new());
    let count = Arc::new(AtomicU64::new(0));
    gate.add(1);
    started.add(n as i32);
    finished.add(n as i32);
    let before = rss();
    for _ in 0..n {
        let (started, finished, gate, count) = (
            started.clone(),
            finished.clone(),
            gate.clone(),
            count.clone(),
        );
        gort::go(move || {
            started.done();
            gate.wait();
            count.fetch_add(1, Relaxed);
            finished.done();
        });
    }
    started.wait();
    let parked = rss();
    gort::println!("started={n}");
    gort::println!("goroutines={}", gort::num_goroutine());
    gort::println!("rss.per_goroutine={}", parked.saturating_sub(before) / n);
    gate.done();
    finished.wait();
    gort::println!("finished={}", count.load(Relaxed));
}
