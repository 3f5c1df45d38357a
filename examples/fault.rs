//! Faults that must become Go's messages, one per argument: `overflow` (unbounded
//! recursion in main), `overflow-goroutine` (the same in another goroutine), `nil`
//! (a read through a null pointer), `overflow-small` (overflow of a goroutine spawned
//! with a 32 KiB stack), `deep` (deep recursion in a goroutine spawned with 8 MiB), `wild` (a read of an unmapped address), `divide`
//! (an integer division by zero done by the CPU), `ud2` (an illegal instruction,
//! as core::intrinsics::abort executes), `kill-segv` / `kill-fpe` (the
//! process sends itself SIGSEGV / SIGFPE with tgkill(2): a signal from a process,
//! not a fault).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use gort::sync::WaitGroup;

gort::main!(main);

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    let buf = [n; 100];
    core::hint::black_box(&buf);
    recurse(n + 1).wrapping_add(buf[7])
}

#[inline(never)]
fn bounded(n: u64) -> u64 {
    let buf = [n; 100];
    core::hint::black_box(&buf);
    if n == 0 {
        return 0;
    }
    bounded(n - 1).wrapping_add(buf[7]) - n + 1
}

fn main() {
    let how = gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str())
        .unwrap_or("");
    gort::println!("fault: {how}");
    match how {
        "overflow" => {
            gort::println!("{}", recurse(0));
        }
        "overflow-goroutine" => {
            let wg = Arc::new(WaitGroup::new());
            wg.add(1);
            let w = wg.clone();
            gort::go(move || {
                gort::println!("{}", recurse(0));
                w.done();
            });
            wg.wait();
        }
        "overflow-small" => {
            // A goroutine given a 32 KiB stack overflows at 32 KiB.
            let wg = Arc::new(WaitGroup::new());
            wg.add(1);
            let w = wg.clone();
            gort::go_with_stack(32 << 10, move || {
                gort::println!("{}", recurse(0));
                w.done();
            });
            wg.wait();
        }
        "deep" => {
            // 2,000 frames of ~800 bytes overflow the default 256 KiB but fit in 8 MiB.
            let wg = Arc::new(WaitGroup::new());
            wg.add(1);
            let w = wg.clone();
            gort::go_with_stack(8 << 20, move || {
                gort::println!("deep={}", bounded(2000));
                w.done();
            });
            wg.wait();
        }
        "nil" => {
            let p: *const u64 = core::hint::black_box(core::ptr::null());
            // SAFETY: none: this is the fault under test.
            gort::println!("{}", unsafe { core::ptr::read_volatile(p) });
        }
        "wild" => {
            let p: *const u64 = core::hint::black_box(0x7dea_d000_0000 as *const u64);
            // SAFETY: none: this is the fault under test.
            gort::println!("{}", unsafe { core::ptr::read_volatile(p) });
        }
        "divide" => {
            let d: u64 = core::hint::black_box(0);
            let q: u64;
            // SAFETY: none: a #DE from `div` by zero is the fault under test.
            unsafe {
                core::arch::asm!("div {d}", d = in(reg) d, inout("rax") 7u64 => q, inout("rdx") 0u64 => _);
            }
            gort::println!("{q}");
        }
        "ud2" => {
            // SAFETY: none: the #UD is the fault under test.
            unsafe { core::arch::asm!("ud2") };
        }
        "kill-segv" | "kill-fpe" => {
            use syscalls::{syscall, Sysno};
            let sig = if how == "kill-segv" { 11 } else { 8 };
            // To this thread (tgkill), as `kill` from outside reaches a thread that
            // runs the program: the goroutine may have moved off the main thread
            // (preemption), and a process-wide kill would reach that one instead.
            // SAFETY: getpid, gettid and tgkill have no memory effects; the signal is
            // the test.
            unsafe {
                let pid = syscall!(Sysno::getpid).unwrap();
                let tid = syscall!(Sysno::gettid).unwrap();
                let _ = syscall!(Sysno::tgkill, pid, tid, sig);
            }
            gort::println!("survived");
        }
        _ => gort::eprintln!(
            "usage: fault overflow|overflow-goroutine|overflow-small|deep|nil|wild|divide|ud2|kill-segv|kill-fpe"
        ),
    }
}
