//! The allocator under load (tests/heap.rs). One scenario per argument, each printing
//! `key=value` lines:
//!
//! - `crossp ROUNDS PAIRS ITEMS`: PAIRS producer/consumer pairs per round; each producer
//!   allocates ITEMS boxes of varied sizes and sends them over a channel to its
//!   consumer, which checks and frees them (so objects are freed on another P than
//!   the one that allocated them whenever GOMAXPROCS > 1), while PAIRS more goroutines
//!   allocate and free locally. Counts are exact; the heap's live objects and
//!   committed bytes are read after every round (caches flushed).
//! - `holes`: 20,000 allocations of 300-400 bytes beside 10,000 small holes, timed.
//! - `realloc`: a Vec<u8> grown by appending to 1 GiB, checked.
//! - `align`: zero-sized types and alignments from 1 byte to 64 MiB.
//! - `rss`: 1 GiB of small objects allocated and freed beside a live set of 64 MiB, then
//!   free_os_memory: resident memory against what is live.
//! - `scavenge`: 64 MiB of small objects freed, then the background scavenger's work
//!   is waited for (no free_os_memory).
//! - `stacks`: goroutines that used deep stacks exit; free_os_memory returns the
//!   stacks' memory.
//! - `big`: one 2.5 GiB allocation, then 48 of 64 MiB (3 GiB) held at once: the
//!   arena's reservation grows past its first GiB, step by step and in one go;
//!   prints what was checked and the arena's size.
//! - `nop`: allocation and free on an M without a P (inside gort::blocking), of
//!   objects that cross between it and goroutines.
//! - `oom`: grows a Vec of 1 MiB blocks until memory runs out.
//! - `regrow`: a block of 40% of the arena, freed, then one of 70%: the second
//!   fits only with the first's pages (run under a low RLIMIT_AS, which shrinks
//!   the arena).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use gort::debug::unstable::heap_stats;
use gort::println;
use gort::sync::WaitGroup;

gort::main!(main);

fn arg(i: usize, default: u64) -> u64 {
    gort::env::args()
        .nth(i)
        .and_then(|a| a.to_str().and_then(|s| s.parse().ok()))
        .unwrap_or(default)
}

fn main() {
    let which = gort::env::args().nth(1);
    match which.as_ref().and_then(|a| a.to_str()) {
        Some("crossp") => crossp(arg(2, 5), arg(3, 4), arg(4, 20_000)),
        Some("holes") => holes(),
        Some("realloc") => realloc(),
        Some("align") => align(),
        Some("rss") => rss_main(),
        Some("scavenge") => scavenge(),
        Some("nop") => nop(),
        Some("stacks") => stacks(),
        Some("oom") => oom(),
        Some("regrow") => regrow(),
        Some("big") => big(),
        _ => println!("unknown scenario"),
    }
}

/// A heap object whose contents say who made it: a length between 8 and 1000
/// bytes, every byte derived from the seed.
fn make(seed: u64) -> Box<[u8]> {
    let len = 8 + (seed.wrapping_mul(2654435761) % 993) as usize;
    (0..len).map(|k| (seed as usize + k) as u8).collect()
}

fn good(seed: u64, b: &[u8]) -> bool {
    b.len() == 8 + (seed.wrapping_mul(2654435761) % 993) as usize
        && b.iter()
            .enumerate()
            .all(|(k, &x)| x == (seed as usize + k) as u8)
}

static RECEIVED: AtomicU64 = AtomicU64::new(0);
static BAD: AtomicU64 = AtomicU64::new(0);
static LOCAL: AtomicU64 = AtomicU64::new(0);

fn crossp(rounds: u64, pairs: u64, items: u64) {
    let base = heap_stats(true);
    let mut first = None;
    let mut last = base;
    let mut threads_first = 0;
    for round in 0..rounds {
        let wg = alloc::sync::Arc::new(WaitGroup::new());
        for p in 0..pairs {
            let c = gort::chan::<Box<[u8]>>(64);
            let (tx, rx) = (c.clone(), c);
            wg.add(3);
            let w = wg.clone();
            gort::go(move || {
                for i in 0..items {
                    tx.send(make(round * 1_000_000_007 + p * items + i));
                }
                tx.close();
                w.done();
            });
            let w = wg.clone();
            gort::go(move || {
                let mut i = 0;
                for b in &rx {
                    if !good(round * 1_000_000_007 + p * items + i, &b) {
                        BAD.fetch_add(1, Relaxed);
                    }
                    i += 1;
                    drop(b);
                }
                RECEIVED.fetch_add(i, Relaxed);
                w.done();
            });
            let w = wg.clone();
            gort::go(move || {
                // Local churn: a window of live objects, allocated and freed here.
                let mut win: Vec<Box<[u8]>> = Vec::new();
                for i in 0..items {
                    win.push(make(i));
                    if win.len() > 100 {
                        let b = win.swap_remove((i as usize * 7) % win.len());
                        if b.len() < 8 {
                            BAD.fetch_add(1, Relaxed);
                        }
                    }
                    if i % 1000 == 0 {
                        gort::gosched();
                    }
                }
                LOCAL.fetch_add(items, Relaxed);
                w.done();
            });
        }
        wg.wait();
        drop(wg);
        // done() is not exit: wait until the round's goroutines are gone (with what
        // they still hold, such as their closures), or a preempted one counts.
        while gort::num_goroutine() > 1 {
            gort::gosched();
        }
        last = heap_stats(true);
        if round == 0 {
            first = Some(last);
            threads_first = gort::debug::unstable::threads();
        }
    }
    let first = first.unwrap_or(base);
    println!("received={}", RECEIVED.load(Relaxed));
    println!("local={}", LOCAL.load(Relaxed));
    println!("bad={}", BAD.load(Relaxed));
    println!(
        "live.after_first={}",
        first.small_objects as i64 - base.small_objects as i64
    );
    println!(
        "live.after_last={}",
        last.small_objects as i64 - base.small_objects as i64
    );
    println!(
        "large.after_last={}",
        last.large_objects - base.large_objects
    );
    // Each thread made after the first round holds two small objects (its M and g0).
    println!(
        "threads.growth={}",
        gort::debug::unstable::threads() - threads_first
    );
    println!(
        "committed.growth={}",
        last.committed_bytes - first.committed_bytes
    );
    println!(
        "inuse.growth={}",
        last.inuse_bytes as i64 - first.inuse_bytes as i64
    );
}

fn holes() {
    let mut small: Vec<Vec<u8>> = (0..20_000).map(|i| vec![i as u8; 48]).collect();
    for (i, v) in small.iter_mut().enumerate() {
        if i % 2 == 1 {
            *v = Vec::new();
        }
    }
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(20_000);
    let t0 = gort::time::Instant::now();
    for j in 0..20_000usize {
        kept.push(vec![j as u8; 300 + (j * 37) % 101]);
    }
    let ns = t0.elapsed().as_nanos() as u64 / 20_000;
    let ok = kept
        .iter()
        .enumerate()
        .all(|(j, v)| v.len() == 300 + (j * 37) % 101 && v.iter().all(|&b| b == j as u8))
        && small
            .iter()
            .step_by(2)
            .enumerate()
            .all(|(i, v)| v.len() == 48 && v[0] == (2 * i) as u8);
    println!("ok={ok}");
    println!("ns_per_alloc={ns}");
}

fn realloc() {
    const GIB: usize = 1 << 30;
    let large0 = heap_stats(true).large_objects;
    let mut v: Vec<u8> = Vec::new();
    let chunk: Vec<u8> = (0..(1usize << 20)).map(|i| (i % 251) as u8).collect();
    let mut moves = 0;
    let mut last = v.as_ptr();
    while v.len() < GIB {
        v.extend_from_slice(&chunk);
        if v.as_ptr() != last {
            moves += 1;
            last = v.as_ptr();
        }
    }
    // Every 4093rd byte, and the last of each chunk.
    let ok = (0..v.len())
        .step_by(4093)
        .chain((1..=1024).map(|k| k * (1 << 20) - 1))
        .all(|i| v[i] == ((i % (1 << 20)) % 251) as u8);
    println!("len={}", v.len());
    println!("ok={ok}");
    println!("moves={moves}");
    drop(chunk);
    v.truncate(10);
    v.shrink_to_fit();
    println!("shrunk={}", v.capacity());
    drop(v);
    let st = heap_stats(true);
    println!("large.after={}", st.large_objects - large0);
}

fn align() {
    // Zero-sized types: no allocation, distinct well-aligned dangling pointers.
    let units: Vec<()> = vec![(); 1_000_000];
    let zb: Box<[u64; 0]> = Box::new([]);
    let zp = &*zb as *const [u64; 0] as usize;
    println!(
        "zst.len={} zst.box={}",
        units.len(),
        zp.is_multiple_of(8) && zp != 0
    );
    let mut ok = true;
    let mut live = Vec::new();
    for shift in 0..=26u32 {
        let align = 1usize << shift;
        let big = if shift <= 20 { 3 * align + 1 } else { align };
        for size in [0usize, 1, 24, align, big] {
            let size = size.max(1);
            let l = core::alloc::Layout::from_size_align(size, align).unwrap();
            // SAFETY: l has non-zero size.
            let p = unsafe { alloc::alloc::alloc(l) };
            if p.is_null() || !(p as usize).is_multiple_of(align) {
                ok = false;
            }
            // SAFETY: p is a fresh block of l.size() bytes.
            unsafe { core::ptr::write_bytes(p, shift as u8, size) };
            live.push((p, l));
        }
    }
    for &(p, l) in &live {
        // SAFETY: written above, still ours.
        let s = unsafe { core::slice::from_raw_parts(p, l.size()) };
        let want = l.align().trailing_zeros() as u8;
        if s.iter().any(|&b| b != want) {
            ok = false;
        }
    }
    for (p, l) in live {
        // SAFETY: from alloc with l.
        unsafe { alloc::alloc::dealloc(p, l) };
    }
    // alloc_zeroed of a large block reads as zeros.
    let z = vec![0u64; 1 << 20];
    ok &= z.iter().all(|&x| x == 0);
    println!("aligned={ok}");
}

/// Resident set size in bytes (/proc/self/statm field 2 × 4096).
fn rss() -> u64 {
    let mut buf = [0u8; 128];
    let n = read_file(c"/proc/self/statm", &mut buf);
    let s = core::str::from_utf8(&buf[..n]).unwrap_or("");
    s.split(' ')
        .nth(1)
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(0)
        * 4096
}

fn read_file(path: &core::ffi::CStr, buf: &mut [u8]) -> usize {
    use syscalls::{syscall, Sysno};
    // SAFETY: a NUL-terminated path; read fills at most buf.len() bytes of buf.
    unsafe {
        let fd = syscall!(Sysno::open, path.as_ptr(), 0).unwrap();
        let n = syscall!(Sysno::read, fd, buf.as_mut_ptr(), buf.len()).unwrap_or(0);
        let _ = syscall!(Sysno::close, fd);
        n
    }
}

fn rss_scenario_objects(total: usize, size: usize) -> Vec<Box<[u8]>> {
    (0..total / size)
        .map(|i| vec![i as u8; size].into_boxed_slice())
        .collect()
}

fn rss_main() {
    let before = rss();
    // The live set: 64 MiB of 256-byte objects (a size class, no rounding).
    let live = rss_scenario_objects(64 << 20, 256);
    let live_bytes = (live.len() * 256 + live.capacity() * 16) as u64;
    // 1 GiB of garbage in objects of 64 to 1024 bytes, on several goroutines (so it
    // passes through several Ps' caches), then freed.
    // All of it live at once: each goroutine holds its part until the gate opens.
    static MADE: WaitGroup = WaitGroup::new();
    static GATE: WaitGroup = WaitGroup::new();
    static DROPPED: WaitGroup = WaitGroup::new();
    GATE.add(1);
    for g in 0..4usize {
        MADE.add(1);
        DROPPED.add(1);
        gort::go(move || {
            let sizes = [256usize, 512, 1024, 2048];
            let garbage = rss_scenario_objects(256 << 20, sizes[g]);
            MADE.done();
            GATE.wait();
            drop(garbage);
            DROPPED.done();
        });
    }
    MADE.wait();
    let peak = rss();
    GATE.done();
    DROPPED.wait();
    gort::debug::free_os_memory();
    let after = rss();
    let st = heap_stats(false);
    let ok = live
        .iter()
        .enumerate()
        .all(|(i, b)| b[0] == i as u8 && b[255] == i as u8);
    println!("ok={ok}");
    println!("live_bytes={live_bytes}");
    println!("rss.before={before}");
    println!("rss.peak={peak}");
    println!("rss.after={after}");
    println!("heap.released={}", st.released_bytes);
    println!("heap.free={}", st.free_bytes);
}

fn scavenge() {
    let garbage = rss_scenario_objects(64 << 20, 128);
    drop(garbage);
    // Caches hold at most a few batches; the spans went back to the heap. The
    // background scavenger returns them within a few seconds.
    let t0 = gort::time::Instant::now();
    let mut released = 0;
    while t0.elapsed().as_secs() < 10 {
        gort::time::sleep(core::time::Duration::from_millis(100));
        released = heap_stats(false).released_bytes;
        if released >= 48 << 20 {
            break;
        }
    }
    println!("released_mib={}", released >> 20);
}

fn nop() {
    let large0 = heap_stats(true).large_objects;
    // Objects made on a goroutine, freed without a P, and the other way round.
    let made: Vec<Box<[u8]>> = (0..10_000).map(make).collect();
    let (freed, back) = gort::blocking(move || {
        let mut bad = 0;
        for (i, b) in made.into_iter().enumerate() {
            if !good(i as u64, &b) {
                bad += 1;
            }
        }
        let back: Vec<Box<[u8]>> = (0..10_000).map(|i| make(i + 7)).collect();
        (10_000 - bad, back)
    });
    let ok = back.iter().enumerate().all(|(i, b)| good(i as u64 + 7, b));
    drop(back);
    let st = heap_stats(true);
    println!("freed={freed}");
    println!("ok={ok}");
    println!("large={}", st.large_objects - large0);
}

fn big() {
    // Only the pages written become resident.
    let mut a = vec![0u8; 5 << 29];
    let n = a.len();
    a[0] = 1;
    a[n - 1] = 2;
    println!("big.one={}", a[0] == 1 && a[n - 1] == 2 && a[n / 2] == 0);
    drop(a);
    let mut held = Vec::new();
    for i in 0..48u8 {
        let mut b = vec![0u8; 64 << 20].into_boxed_slice();
        b[0] = i;
        b[(64 << 20) - 1] = i;
        held.push(b);
    }
    let ok = held
        .iter()
        .enumerate()
        .all(|(i, b)| b[0] == i as u8 && b[b.len() - 1] == i as u8);
    println!("big.many={ok}");
    let st = heap_stats(false);
    println!("big.committed_gib={}", st.committed_bytes >> 30);
    println!("big.arena_gib={}", st.arena_bytes >> 30);
}

fn regrow() {
    let arena = heap_stats(false).arena_bytes as usize;
    let mib = |f: usize| (arena / 10 * f) & !((1 << 20) - 1);
    let a = vec![1u8; mib(4)];
    println!("first_mib={}", a.len() >> 20);
    drop(a);
    let b = vec![2u8; mib(7)];
    println!("second_mib={}", b.len() >> 20);
    println!("arena_mib={}", arena >> 20);
}

fn oom() {
    let mut v: Vec<Box<[u8]>> = Vec::new();
    loop {
        v.push(vec![1u8; 1 << 20].into_boxed_slice());
        if v.len().is_multiple_of(64) {
            println!("held_mib={}", v.len());
        }
    }
}

/// Goroutines that each used 120 KiB of stack, all exited: their stacks sit in the
/// per-P caches and the pool until free_os_memory returns all but each one's top
/// page.
fn stacks() {
    const N: usize = 400;
    static STARTED: WaitGroup = WaitGroup::new();
    static GATE: WaitGroup = WaitGroup::new();
    static DONE: WaitGroup = WaitGroup::new();
    GATE.add(1);
    for _ in 0..N {
        STARTED.add(1);
        DONE.add(1);
        gort::go(|| {
            let mut buf = [0u8; 120 << 10];
            core::hint::black_box(&mut buf);
            STARTED.done();
            GATE.wait();
            core::hint::black_box(&mut buf);
            DONE.done();
        });
    }
    STARTED.wait();
    let peak = rss();
    GATE.done();
    DONE.wait();
    // Let the exited goroutines' Ms reach the scheduler and cache their stacks.
    gort::time::sleep(core::time::Duration::from_millis(20));
    let before = rss();
    gort::debug::free_os_memory();
    let after = rss();
    let (resident, released) = gort::debug::unstable::stack_pool();
    println!("stacks.resident={resident}");
    println!("stacks.released={released}");
    println!("rss.peak_kib={}", peak >> 10);
    println!("rss.freed_kib={}", before.saturating_sub(after) >> 10);
}
