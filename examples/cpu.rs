//! `cpu G MS`: G goroutines each spin for MS milliseconds of their own CPU time
//! (measured per thread), then main reports wall time and the process's CPU time.
//! With G <= GOMAXPROCS they should run in parallel; idle Ps must not burn CPU.
//! `cpu blocking MS`: one goroutine blocks its thread in a system call for MS ms
//! (gort::blocking) while another runs: prints the order they finished in.
//! `cpu idle MS`: goroutines come and go, then main blocks MS ms in a system call
//! (the other threads idle) and reports the CPU the process used meanwhile.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use gort::sync::WaitGroup;
use syscalls::{syscall, Sysno};

gort::main!(main);

fn clock(id: usize) -> u64 {
    let mut ts = [0u64; 2];
    // SAFETY: the kernel writes one timespec into ts.
    unsafe { syscall!(Sysno::clock_gettime, id, ts.as_mut_ptr()).unwrap() };
    ts[0] * 1_000_000_000 + ts[1]
}
const MONOTONIC: usize = 1;
const PROCESS_CPU: usize = 2;
const THREAD_CPU: usize = 3;

/// Spin for ns of this thread's CPU time. The goroutine must stay on its thread
/// while it measures the thread's clock, so the loop runs in a NoPreempt section
/// (preemption could move it to another thread mid-measurement).
fn spin_for(ns: u64) {
    let _pin = gort::NoPreempt::new();
    let start = clock(THREAD_CPU);
    let mut x = 0u64;
    while clock(THREAD_CPU) - start < ns {
        for i in 0..1000 {
            x = core::hint::black_box(x.wrapping_add(i));
        }
    }
}

fn main() {
    let mode = gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str())
        .unwrap_or("1");
    let ms: u64 = gort::env::args()
        .nth(2)
        .and_then(|a| a.to_str()?.parse().ok())
        .unwrap_or(300);
    if mode == "blocking" {
        // One goroutine blocks its thread for MS in a system call (through
        // gort::blocking); on GOMAXPROCS=1 another goroutine must still run meanwhile.
        let wg = Arc::new(WaitGroup::new());
        wg.add(2);
        let log = Arc::new(gort::sync::Mutex::new(alloc::vec::Vec::new()));
        let entering = Arc::new(core::sync::atomic::AtomicBool::new(false));
        let (w, l, e) = (wg.clone(), log.clone(), entering.clone());
        gort::go(move || {
            let mut ts = [ms / 1000, (ms % 1000) * 1_000_000];
            e.store(true, core::sync::atomic::Ordering::Release);
            // EINTR (a signal racing with the entry): sleep again for what is left.
            gort::blocking(|| loop {
                // SAFETY: a plain nanosleep with a valid timespec, which also receives
                // the remaining time.
                match unsafe { syscall!(Sysno::nanosleep, ts.as_ptr(), ts.as_mut_ptr()) } {
                    Err(syscalls::Errno::EINTR) => continue,
                    r => break r.unwrap(),
                }
            });
            l.lock().push("sleeper");
            w.done();
        });
        // Start the worker only once the sleeper is (about to be) in its system call:
        // without the hand-off, nothing else could run until the sleeper wakes.
        while !entering.load(core::sync::atomic::Ordering::Acquire) {
            gort::gosched();
        }
        let (w, l) = (wg.clone(), log.clone());
        gort::go(move || {
            spin_for(20_000_000);
            l.lock().push("worker");
            w.done();
        });
        wg.wait();
        gort::println!("order={}", log.lock().join(","));
        return;
    }
    if mode == "idle" {
        let wg = Arc::new(WaitGroup::new());
        for _ in 0..100 {
            wg.add(1);
            let w = wg.clone();
            gort::go(move || w.done());
        }
        wg.wait();
        let (w0, c0) = (clock(MONOTONIC), clock(PROCESS_CPU));
        let mut ts = [ms / 1000, (ms % 1000) * 1_000_000];
        // A raw system call, through gort::blocking (its P goes to others if it
        // lasts). A signal may still interrupt it (EINTR, as in Go): sleep again for
        // what is left, which the kernel wrote back into ts.
        gort::blocking(|| loop {
            // SAFETY: a plain nanosleep on this thread, with a valid timespec that
            // also receives the remaining time.
            match unsafe { syscall!(Sysno::nanosleep, ts.as_ptr(), ts.as_mut_ptr()) } {
                Err(syscalls::Errno::EINTR) => continue,
                r => break r.unwrap(),
            }
        });
        let (w1, c1) = (clock(MONOTONIC), clock(PROCESS_CPU));
        gort::println!("wall_ms={}", (w1 - w0) / 1_000_000);
        gort::println!("cpu_ms={}", (c1 - c0) / 1_000_000);
        return;
    }
    let g: u64 = mode.parse().unwrap_or(1);
    let wg = Arc::new(WaitGroup::new());
    // Each goroutine's [start, end) on the monotonic clock and the M it ran on: two
    // goroutines ran in parallel if their intervals overlap on two different Ms,
    // which holds however loaded the host is (a wall/CPU ratio does not).
    let spans = Arc::new(gort::sync::Mutex::new(alloc::vec::Vec::new()));
    let (w0, c0) = (clock(MONOTONIC), clock(PROCESS_CPU));
    for _ in 0..g {
        wg.add(1);
        let (w, spans) = (wg.clone(), spans.clone());
        gort::go(move || {
            let start = clock(MONOTONIC);
            spin_for(ms * 1_000_000);
            let m = gort::debug::unstable::m_id();
            spans.lock().push((start, clock(MONOTONIC), m));
            w.done();
        });
    }
    wg.wait();
    let (w1, c1) = (clock(MONOTONIC), clock(PROCESS_CPU));
    gort::println!("wall_ms={}", (w1 - w0) / 1_000_000);
    gort::println!("cpu_ms={}", (c1 - c0) / 1_000_000);
    let spans = spans.lock();
    let mut ms_used: alloc::vec::Vec<i64> = spans.iter().map(|s| s.2).collect();
    ms_used.sort();
    ms_used.dedup();
    let overlap = spans.len() >= 2 && spans[0].0.max(spans[1].0) < spans[0].1.min(spans[1].1);
    gort::println!("threads={}", ms_used.len());
    gort::println!("overlap={overlap}");
}
