//! Helpers shared by the scheduler benchmarks in bench/ (included with `mod common;`):
//! the monotonic and process CPU clocks, integer arguments, resident memory and a loud
//! failure.
#![allow(dead_code)] // each benchmark uses only some of these

use syscalls::{syscall, Sysno};

const CLOCK_MONOTONIC: usize = 1;
const CLOCK_PROCESS_CPUTIME_ID: usize = 2;

/// Clock `clock` in nanoseconds, read with the clock_gettime system call.
fn clock_ns(clock: usize) -> u64 {
    let mut ts = [0u64; 2];
    // SAFETY: clock_gettime writes one struct timespec (two 64-bit words) into ts.
    unsafe { syscall!(Sysno::clock_gettime, clock, ts.as_mut_ptr()) }
        .unwrap_or_else(|_| fail("clock_gettime failed"));
    ts[0] * 1_000_000_000 + ts[1]
}

/// CLOCK_MONOTONIC in nanoseconds (Go's time.Now().Sub uses the same clock).
pub fn now_ns() -> u64 {
    clock_ns(CLOCK_MONOTONIC)
}

/// CPU time of the whole process (all threads), CLOCK_PROCESS_CPUTIME_ID, in nanoseconds;
/// the Go twins read the same clock with the same system call.
pub fn cpu_ns() -> u64 {
    clock_ns(CLOCK_PROCESS_CPUTIME_ID)
}

/// Argument i as a positive integer, or default when absent; anything else fails.
pub fn arg(i: usize, default: u64) -> u64 {
    match gort::env::args().nth(i) {
        None => default,
        Some(a) => match a.to_str().and_then(|s| s.parse().ok()) {
            Some(v) if v > 0 => v,
            _ => fail("arguments must be positive integers"),
        },
    }
}

/// Resident set size in bytes: field 2 of /proc/self/statm (pages) × 4096, as the Go
/// twins compute it.
pub fn rss() -> u64 {
    let mut buf = [0u8; 256];
    // SAFETY: a NUL-terminated path; read fills at most buf.len() bytes of the local
    // buffer; the descriptor is ours and closed once.
    let n = unsafe {
        let fd = syscall!(Sysno::open, c"/proc/self/statm".as_ptr(), 0)
            .unwrap_or_else(|_| fail("cannot open /proc/self/statm"));
        let n = syscall!(Sysno::read, fd, buf.as_mut_ptr(), buf.len());
        let _ = syscall!(Sysno::close, fd);
        n.unwrap_or_else(|_| fail("cannot read /proc/self/statm"))
    };
    let pages: u64 = core::str::from_utf8(&buf[..n])
        .ok()
        .and_then(|t| t.split(' ').nth(1)?.parse().ok())
        .unwrap_or_else(|| fail("cannot parse /proc/self/statm"));
    pages * 4096
}

/// Print "bench: MESSAGE" on stderr and exit 1.
pub fn fail(msg: &str) -> ! {
    gort::eprintln!("bench: {msg}");
    gort::exit(1)
}
