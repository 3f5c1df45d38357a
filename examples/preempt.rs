//! Preemption and system calls, one scenario per argument, printing `key=value`
//! results for tests/preempt.rs:
//!
//! - `starve`: as many call-free loops as Ps, beside 50 `sleep(1ms)`, a channel
//!   partner and `gomaxprocs(2); gomaxprocs(1)`: all finish; prints the worst
//!   sleeper lateness.
//! - `fair`: 4 call-free loops for 400 ms; prints each one's share of the work.
//! - `regs`: two workers keep patterns in every register, the red zone, CF and a
//!   DF=1 window (examples/preempt_regs.s) while they are preempted (run it with
//!   GORT_PREEMPTSTORM); prints what was lost (nothing) and the preemptions.
//! - `storm`: channels, select, Mutex, WaitGroup, timers, allocation and printing
//!   from many goroutines, with exact counts (run it with GORT_PREEMPTSTORM); a
//!   goroutine spinning near the bottom of a 16 KiB stack is never injected into.
//! - `retake`: a 500 ms blocking system call does not stall a 1 ms ticker; a million
//!   short ones never hand the P off and start no threads.
//! - `handoff`: a channel ping-pong pair and a Cond pair never starve a goroutine
//!   that yields, nor main's sleep.
//! - `stdout` / `stdout-nonblock`: 1 MiB to a stdout nobody reads yet, beside a
//!   10 ms ticker; prints the ticks and the CPU used to stderr.
//! - `spin MS [urg]`: one call-free loop for MS ms beside main's sleep; prints the
//!   signals sent and the preemptions made (GODEBUG=asyncpreemptoff=1: none; with
//!   `urg`, main also sends the spinner's thread a SIGURG every ms, which must
//!   not preempt it then either).
//! - `timer-loop N`: beside a goroutine that sleeps 7 ms then spins 30 ms, over and
//!   over, main sleeps 1 ms N times (default 300); prints how many sleeps ended more
//!   than 5 ms late, and the latest. Each preemption for main's timer must let main
//!   run, not the loop again (run it with GOMAXPROCS=1).
//! - `blocking-ready N`: at GOMAXPROCS=1, N rounds of: main spins 40 ms (sysmon
//!   backs off), then inside `gort::blocking` sends to a parked goroutine (or,
//!   every other round, starts one) and sleeps 30 ms in the kernel; prints how
//!   many rounds that goroutine ran more than 5 ms after the send, and the latest. The P the call holds must be taken
//!   for the readied goroutine within about a look, not after sysmon's back-off.
//! - `clock-loop N`: two goroutines loop on the clock (`while t.elapsed() <
//!   50us {}`), each offering the time to main on an unbuffered channel between
//!   loops; main takes N of them. Prints how many took main more than 100 ms to
//!   get (a goroutine in such a loop is in the vDSO most of the time, where a
//!   preemption signal is refused: Instant::now must act on the request).
//! - `procs`: 8 goroutines x 100 rounds of gomaxprocs(n) beside spinners.
//! - `blocking-ops`: every gort operation inside `gort::blocking`.
//! - `nopreempt`: a loop in a NoPreempt section is not preempted.
//! - `nopreempt-sleep`: sleeping in a NoPreempt section (fatal error).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::hint::black_box;
use core::sync::atomic::Ordering::{Relaxed, SeqCst};
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use gort::sync::{Cond, Mutex, WaitGroup};
use gort::time::{sleep, Duration, Instant};
use gort::{chan, eprintln, println, select};
use syscalls::{syscall, Sysno};

gort::main!(main);

core::arch::global_asm!(include_str!("preempt_regs.s"));

extern "C" {
    fn preempt_check_regs(iters: u64, patterns: *const u64, avx: u64) -> u64;
}

fn arg(n: usize) -> Option<&'static str> {
    gort::env::args().nth(n).and_then(|a| a.to_str())
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn stats() -> (u64, u64) {
    gort::debug::unstable::preempt_stats()
}

/// CPU time of the process, in ms.
fn cpu_ms() -> u64 {
    let mut ts = [0u64; 2];
    // SAFETY: the kernel writes one timespec into ts (CLOCK_PROCESS_CPUTIME_ID).
    unsafe { syscall!(Sysno::clock_gettime, 2, ts.as_mut_ptr()).unwrap() };
    ts[0] * 1000 + ts[1] / 1_000_000
}

/// The Threads: line of /proc/self/status.
fn threads() -> u64 {
    let mut buf = [0u8; 4096];
    // SAFETY: open/read/close on a NUL-terminated path and a buffer we own.
    let n = unsafe {
        let fd = syscall!(Sysno::open, c"/proc/self/status".as_ptr(), 0).unwrap();
        let n = syscall!(Sysno::read, fd, buf.as_mut_ptr(), buf.len()).unwrap_or(0);
        let _ = syscall!(Sysno::close, fd);
        n
    };
    let s = core::str::from_utf8(&buf[..n]).unwrap_or("");
    s.lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// A loop with no calls in it: it yields only if preempted.
fn spin_until(stop: &AtomicBool) -> u64 {
    let (mut x, mut n) = (1u64, 0u64);
    while !stop.load(Relaxed) {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        n += 1;
    }
    black_box(x);
    n
}

fn spinners(k: usize, stop: &Arc<AtomicBool>, wg: &Arc<WaitGroup>) -> Arc<Vec<AtomicU64>> {
    let counts: Arc<Vec<AtomicU64>> = Arc::new((0..k).map(|_| AtomicU64::new(0)).collect());
    for i in 0..k {
        let (stop, wg, counts) = (stop.clone(), wg.clone(), counts.clone());
        wg.add(1);
        gort::go(move || {
            counts[i].store(spin_until(&stop), Relaxed);
            wg.done();
        });
    }
    counts
}

fn main() {
    match arg(1).unwrap_or("") {
        "starve" => starve(),
        "fair" => fair(),
        "regs" => regs(),
        "storm" => storm(),
        "retake" => retake(),
        "handoff" => handoff(),
        "stdout" => stdout(false),
        "stdout-nonblock" => stdout(true),
        "spin" => spin(
            arg(2).and_then(|a| a.parse().ok()).unwrap_or(200),
            arg(3) == Some("urg"),
        ),
        "timer-loop" => timer_loop(arg(2).and_then(|a| a.parse().ok()).unwrap_or(300)),
        "blocking-ready" => blocking_ready(arg(2).and_then(|a| a.parse().ok()).unwrap_or(20)),
        "clock-loop" => clock_loop(arg(2).and_then(|a| a.parse().ok()).unwrap_or(30)),
        "procs" => procs(),
        "blocking-ops" => blocking_ops(),
        "nopreempt" => nopreempt(),
        "nopreempt-sleep" => {
            let _np = gort::NoPreempt::new();
            sleep(ms(1));
        }
        _ => {
            eprintln!("usage: preempt starve|fair|regs|storm|retake|handoff|stdout|stdout-nonblock|spin MS [urg]|timer-loop [N]|blocking-ready [N]|clock-loop [N]|procs|blocking-ops|nopreempt|nopreempt-sleep");
            gort::exit(2);
        }
    }
}

fn starve() {
    let stop = Arc::new(AtomicBool::new(false));
    let wg = Arc::new(WaitGroup::new());
    let n = gort::gomaxprocs(0) as usize;
    let counts = spinners(n, &stop, &wg);
    // Every P is now busy with a loop that never calls the runtime.
    let mut worst = Duration::ZERO;
    for _ in 0..50 {
        let t = Instant::now();
        sleep(ms(1));
        worst = worst.max(t.elapsed().saturating_sub(ms(1)));
        if arg(2) == Some("v") {
            println!("late={}", t.elapsed().saturating_sub(ms(1)).as_micros());
        }
    }
    println!("sleeps=50");
    println!("late.max_us={}", worst.as_micros());
    // A channel partner: 100 round trips.
    let (ping, pong) = (chan::<u64>(0), chan::<u64>(0));
    let (pi, po) = (ping.clone(), pong.clone());
    gort::go(move || {
        while let Some(v) = pi.recv() {
            po.send(v + 1);
        }
    });
    let mut sum = 0;
    for i in 0..100 {
        ping.send(i);
        sum += pong.recv().unwrap();
    }
    ping.close();
    println!("partner.sum={sum}");
    let before = gort::gomaxprocs(n as i32 + 1);
    let mid = gort::gomaxprocs(n as i32);
    println!("gomaxprocs={before},{mid},{}", gort::gomaxprocs(0));
    stop.store(true, Relaxed);
    wg.wait();
    let spun = counts.iter().filter(|c| c.load(Relaxed) > 0).count();
    println!("spinners.done={spun}/{n}");
    println!("preemptions.nonzero={}", stats().1 > 0);
}

fn fair() {
    let stop = Arc::new(AtomicBool::new(false));
    let wg = Arc::new(WaitGroup::new());
    let counts = spinners(4, &stop, &wg);
    sleep(ms(400));
    stop.store(true, Relaxed);
    wg.wait();
    let c: Vec<u64> = counts.iter().map(|c| c.load(Relaxed)).collect();
    let (min, max) = (*c.iter().min().unwrap(), *c.iter().max().unwrap());
    println!("fair.counts={c:?}");
    println!("fair.min={min}");
    println!("fair.max={max}");
}

/// Whether the CPU and the kernel support AVX (CPUID.1:ECX AVX and OSXSAVE, XCR0
/// SSE|AVX state).
fn have_avx() -> bool {
    use core::arch::x86_64::__cpuid;
    let c = __cpuid(1).ecx;
    if c & (1 << 28) == 0 || c & (1 << 27) == 0 {
        return false;
    }
    let (lo, _hi): (u32, u32);
    // SAFETY: OSXSAVE is set, so XGETBV(0) is allowed.
    unsafe { core::arch::asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") _hi) };
    lo & 6 == 6
}

fn regs() {
    let avx = have_avx();
    let target: u64 = arg(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let limit = ms(arg(3).and_then(|a| a.parse().ok()).unwrap_or(20_000));
    let stop = Arc::new(AtomicBool::new(false));
    let bad = Arc::new(AtomicU64::new(0));
    let rounds = Arc::new(AtomicU64::new(0));
    let wg = Arc::new(WaitGroup::new());
    for w in 0..2u64 {
        let (stop, bad, rounds, wg) = (stop.clone(), bad.clone(), rounds.clone(), wg.clone());
        wg.add(1);
        gort::go(move || {
            // 80 distinct words, all 64 bits used, different for each worker.
            let pats: Vec<u64> = (0..80u64)
                .map(|i| {
                    (0x9E37_79B9_7F4A_7C15u64 ^ (w << 60))
                        .wrapping_mul(2 * i + 3)
                        .rotate_left(i as u32)
                })
                .collect();
            while !stop.load(Relaxed) {
                // SAFETY: pats holds the 80 words the routine reads; avx only if the
                // CPU and kernel support it.
                let r = unsafe { preempt_check_regs(200_000, pats.as_ptr(), avx as u64) };
                if r != 0 {
                    bad.store(r, Relaxed);
                    break;
                }
                rounds.fetch_add(1, Relaxed);
            }
            wg.done();
        });
    }
    let t = Instant::now();
    let p0 = stats().1;
    while stats().1 - p0 < target && t.elapsed() < limit && bad.load(Relaxed) == 0 {
        sleep(ms(10));
    }
    stop.store(true, Relaxed);
    wg.wait();
    println!("regs.avx={avx}");
    println!("regs.lost={}", bad.load(Relaxed));
    println!("regs.rounds.nonzero={}", rounds.load(Relaxed) > 0);
    println!("regs.preemptions={}", stats().1 - p0);
}

fn storm() {
    let wg = Arc::new(WaitGroup::new());
    let t0 = Instant::now();
    let p0 = stats().1;
    // Channels: 8 senders x 20,000 on a buffered and an unbuffered channel.
    let (buf, unbuf) = (chan::<u64>(16), chan::<u64>(0));
    for s in 0..8u64 {
        let (b, u, wg) = (buf.clone(), unbuf.clone(), wg.clone());
        wg.add(1);
        gort::go(move || {
            for i in 0..20_000u64 {
                b.send(s * 100_000 + i);
                u.send(1);
            }
            wg.done();
        });
    }
    let sums = Arc::new(AtomicU64::new(0));
    let ones = Arc::new(AtomicU64::new(0));
    {
        let (b, u, sums, ones, wg) = (
            buf.clone(),
            unbuf.clone(),
            sums.clone(),
            ones.clone(),
            wg.clone(),
        );
        wg.add(1);
        gort::go(move || {
            let (mut got_b, mut got_u) = (0, 0);
            while got_b + got_u < 2 * 160_000 {
                select! {
                    recv(b) -> v => { sums.fetch_add(v.unwrap(), Relaxed); got_b += 1; },
                    recv(u) -> v => { ones.fetch_add(v.unwrap(), Relaxed); got_u += 1; },
                }
            }
            wg.done();
        });
    }
    // Mutex: 8 x 20,000 increments of a counter that is not atomic.
    let m = Arc::new(Mutex::new(0u64));
    for _ in 0..8 {
        let (m, wg) = (m.clone(), wg.clone());
        wg.add(1);
        gort::go(move || {
            for _ in 0..20_000 {
                let mut g = m.lock();
                *g = black_box(*g + 1);
            }
            wg.done();
        });
    }
    // Timers: 200 goroutines x 20 sleeps of 1 ms, each at least 1 ms long.
    let wakes = Arc::new(AtomicU64::new(0));
    let short = Arc::new(AtomicU64::new(0));
    for _ in 0..200 {
        let (wakes, short, wg) = (wakes.clone(), short.clone(), wg.clone());
        wg.add(1);
        gort::go(move || {
            for _ in 0..20 {
                let t = Instant::now();
                sleep(ms(1));
                if t.elapsed() < ms(1) {
                    short.fetch_add(1, Relaxed);
                }
                wakes.fetch_add(1, Relaxed);
            }
            wg.done();
        });
    }
    // Allocation: 8 goroutines build and check lists of boxes and vectors.
    let alloc_ok = Arc::new(AtomicU64::new(0));
    for a in 0..8u64 {
        let (alloc_ok, wg) = (alloc_ok.clone(), wg.clone());
        wg.add(1);
        gort::go(move || {
            for round in 0..200u64 {
                let v: Vec<Box<[u64; 4]>> =
                    (0..500).map(|i| Box::new([a, round, i, i * 3])).collect();
                let mut s: Vec<u8> = Vec::new();
                for i in 0..4000u32 {
                    s.push(i as u8);
                }
                let okv = v
                    .iter()
                    .enumerate()
                    .all(|(i, b)| **b == [a, round, i as u64, i as u64 * 3]);
                let oks = s.iter().enumerate().all(|(i, &b)| b == i as u8);
                if okv && oks {
                    alloc_ok.fetch_add(1, Relaxed);
                }
            }
            wg.done();
        });
    }
    // Printing: 8 goroutines x 250 lines (checked by the test: none lost or torn).
    for p in 0..8 {
        let wg = wg.clone();
        wg.add(1);
        gort::go(move || {
            for i in 0..250 {
                println!("line {p} {i} ........................................................");
            }
            wg.done();
        });
    }
    // A goroutine spinning near the bottom of a 16 KiB stack, where an injection
    // would overflow it: never injected into (the handler checks the headroom).
    let deep_done = Arc::new(AtomicBool::new(false));
    {
        let (deep_done, wg) = (deep_done.clone(), wg.clone());
        wg.add(1);
        gort::go_with_stack(16 << 10, move || {
            let top = stack_pointer();
            descend(top, (16 << 10) - 900, &deep_done);
            wg.done();
        });
    }
    wg.wait();
    println!("storm.buf.sum={}", sums.load(Relaxed));
    println!("storm.unbuf.count={}", ones.load(Relaxed));
    println!("storm.mutex={}", *m.lock());
    println!("storm.wakes={}", wakes.load(Relaxed));
    println!("storm.short_sleeps={}", short.load(Relaxed));
    println!("storm.alloc_ok={}", alloc_ok.load(Relaxed));
    println!("storm.deep_done={}", deep_done.load(Relaxed));
    println!("storm.deep.signals={}", DEEP.0.load(Relaxed));
    println!("storm.deep.preemptions={}", DEEP.1.load(Relaxed));
    println!("storm.preemptions={}", stats().1 - p0);
    println!("storm.ms={}", t0.elapsed().as_millis());
}

/// Signals sent and preemptions made while the deep goroutine spun.
static DEEP: (AtomicU64, AtomicU64) = (AtomicU64::new(0), AtomicU64::new(0));

/// CLOCK_MONOTONIC in ns by the system call: no preemption point, little stack.
#[inline(never)]
fn raw_now_ns() -> u64 {
    let mut ts = [0i64; 2];
    // SAFETY: clock_gettime(CLOCK_MONOTONIC) writes one timespec into ts.
    let _ = unsafe { syscall!(Sysno::clock_gettime, 1, ts.as_mut_ptr()) };
    ts[0] as u64 * 1_000_000_000 + ts[1] as u64
}

#[inline(never)]
fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads RSP.
    unsafe { core::arch::asm!("mov {}, rsp", out(reg) sp) };
    sp
}

/// Recurse until `used` bytes below `top` are in use, then spin for 200 ms with no
/// calls: the remaining headroom is below what an injection needs.
#[inline(never)]
fn descend(top: usize, used: usize, done: &AtomicBool) {
    let pad = black_box([0u8; 256]);
    if top - stack_pointer() < used {
        descend(top, used, done);
    } else {
        let (s0, p0) = stats();
        let t = raw_now_ns();
        let (mut x, mut n) = (1u64, 0u64);
        // Read the clock rarely: the loop itself makes no calls. (With a system
        // call, not Instant::now, which is a preemption point: a cooperative
        // preemption needs no headroom, and this counts injections.)
        loop {
            for _ in 0..100_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            n += 1;
            if raw_now_ns() - t >= 200_000_000 {
                break;
            }
        }
        black_box((x, n));
        let (s1, p1) = stats();
        // With one P nothing else runs meanwhile: every preemption counted here
        // would be an injection into this goroutine.
        // (Printed by main: print! needs more stack than is left here.)
        DEEP.0.store(s1 - s0, Relaxed);
        DEEP.1.store(p1 - p0, Relaxed);
        done.store(true, Relaxed);
    }
    black_box(pad);
}

fn blocking_sleep(ns: u64) {
    let mut ts = [ns / 1_000_000_000, ns % 1_000_000_000];
    // SAFETY: a plain nanosleep with a valid timespec, which also receives the
    // remaining time (restarted by hand on EINTR with what is left).
    gort::blocking(|| {
        while let Err(syscalls::Errno::EINTR) =
            unsafe { syscall!(Sysno::nanosleep, ts.as_ptr(), ts.as_mut_ptr()) }
        {}
    })
}

fn retake() {
    let inside = Arc::new(AtomicBool::new(false));
    let ticks_inside = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let wg = Arc::new(WaitGroup::new());
    {
        let (inside, ticks_inside, done, wg) = (
            inside.clone(),
            ticks_inside.clone(),
            done.clone(),
            wg.clone(),
        );
        wg.add(1);
        gort::go(move || {
            let t = gort::time::tick(ms(1));
            while !done.load(Relaxed) {
                t.recv();
                if inside.load(Relaxed) {
                    ticks_inside.fetch_add(1, Relaxed);
                }
            }
            wg.done();
        });
    }
    sleep(ms(5));
    inside.store(true, Relaxed);
    blocking_sleep(500_000_000);
    inside.store(false, Relaxed);
    println!("retake.ticks_during_500ms={}", ticks_inside.load(Relaxed));
    let r0 = gort::debug::unstable::syscall_retakes();
    let th0 = threads();
    let mut pids = 0u64;
    for _ in 0..1_000_000 {
        // SAFETY: getpid has no arguments and cannot fail.
        pids += gort::blocking(|| unsafe { syscall!(Sysno::getpid) }.unwrap() as u64) & 1;
    }
    black_box(pids);
    println!("retake.short_calls=1000000");
    println!(
        "retake.short_handoffs={}",
        gort::debug::unstable::syscall_retakes() - r0
    );
    println!("retake.threads_before={th0}");
    println!("retake.threads_after={}", threads());
    done.store(true, Relaxed);
    wg.wait();
}

fn blocking_ready(n: u32) {
    gort::gomaxprocs(1);
    let tx = chan::<Instant>(0);
    let rx = tx.clone();
    let heard = chan::<Duration>(1);
    {
        let heard = heard.clone();
        gort::go(move || {
            while let Some(sent) = rx.recv() {
                heard.send(sent.elapsed());
            }
        });
    }
    let (mut late5, mut worst) = (0, Duration::ZERO);
    for i in 0..n {
        // Nothing for sysmon to do for 40 ms: its looks back off to 10 ms apart.
        let t = Instant::now();
        let mut x = 1u64;
        while t.elapsed() < ms(40) {
            x = black_box(x ^ (x << 13) ^ (x >> 7));
        }
        // Even rounds: the receiver is parked on rx (it ran and parked during the
        // spin's preemptions, or before); the send readies it from inside the
        // call. Odd rounds: a goroutine started inside the call.
        let (tx2, heard2) = (tx.clone(), heard.clone());
        let ready = i.is_multiple_of(2);
        gort::blocking(move || {
            let sent = Instant::now();
            if ready {
                tx2.send(sent);
            } else {
                gort::go(move || heard2.send(sent.elapsed()));
            }
            blocking_sleep(30_000_000);
        });
        let d = heard.recv().unwrap();
        if d > ms(5) {
            late5 += 1;
        }
        worst = worst.max(d);
    }
    tx.close();
    println!("blocking_ready.rounds={n}");
    println!("blocking_ready.late5={late5}");
    println!("blocking_ready.worst_us={}", worst.as_micros());
}

fn clock_loop(n: u32) {
    gort::gomaxprocs(2);
    let c = chan::<Instant>(0);
    let stop = Arc::new(AtomicBool::new(false));
    for _ in 0..2 {
        let (c, stop) = (c.clone(), stop.clone());
        gort::go(move || {
            while !stop.load(Relaxed) {
                let t = Instant::now();
                while t.elapsed() < Duration::from_micros(50) {}
                let _ = c.try_send(Instant::now());
            }
        });
    }
    let (mut late, mut worst) = (0, Duration::ZERO);
    for _ in 0..n {
        let d = c.recv().unwrap().elapsed();
        if d > ms(100) {
            late += 1;
        }
        worst = worst.max(d);
    }
    stop.store(true, Relaxed);
    println!("clock_loop.takes={n}");
    println!("clock_loop.late100={late}");
    println!("clock_loop.worst_ms={}", worst.as_millis());
}

fn timer_loop(n: u32) {
    let stop = Arc::new(AtomicBool::new(false));
    let wg = Arc::new(WaitGroup::new());
    {
        let (stop, wg) = (stop.clone(), wg.clone());
        wg.add(1);
        gort::go(move || {
            while !stop.load(Relaxed) {
                sleep(ms(7));
                let t = Instant::now();
                let mut x = 1u64;
                while t.elapsed() < ms(30) && !stop.load(Relaxed) {
                    for _ in 0..1000 {
                        x = black_box(x ^ (x << 13) ^ (x >> 7));
                    }
                }
            }
            wg.done();
        });
    }
    let (mut late5, mut worst) = (0, 0);
    for _ in 0..n {
        let t = Instant::now();
        sleep(ms(1));
        let late = (t.elapsed().as_micros() as u64).saturating_sub(1000);
        late5 += (late > 5000) as u32;
        worst = worst.max(late);
    }
    stop.store(true, Relaxed);
    wg.wait();
    println!("timer_loop.sleeps={n}");
    println!("timer_loop.late5ms={late5}");
    println!("timer_loop.worst_us={worst}");
}

fn handoff() {
    for kind in ["chan", "cond"] {
        let stop = Arc::new(AtomicBool::new(false));
        let wg = Arc::new(WaitGroup::new());
        let rounds = Arc::new(AtomicU64::new(0));
        if kind == "chan" {
            let (a, b) = (chan::<u64>(0), chan::<u64>(0));
            for (rx, tx) in [(a.clone(), b.clone()), (b.clone(), a.clone())] {
                let (stop, wg, rounds) = (stop.clone(), wg.clone(), rounds.clone());
                wg.add(1);
                gort::go(move || {
                    while let Some(v) = rx.recv() {
                        rounds.fetch_add(1, Relaxed);
                        if stop.load(Relaxed) {
                            tx.close();
                            break;
                        }
                        tx.send(v + 1);
                    }
                    wg.done();
                });
            }
            a.send(0);
        } else {
            let turn = Arc::new((Mutex::new(0u64), Cond::new()));
            for me in 0..2u64 {
                let (turn, stop, wg, rounds) =
                    (turn.clone(), stop.clone(), wg.clone(), rounds.clone());
                wg.add(1);
                gort::go(move || {
                    let (m, c) = &*turn;
                    let mut g = m.lock();
                    while !stop.load(Relaxed) {
                        while *g % 2 != me && !stop.load(Relaxed) {
                            g = c.wait(g);
                        }
                        *g += 1;
                        rounds.fetch_add(1, Relaxed);
                        c.notify_one();
                    }
                    c.notify_all();
                    drop(g);
                    wg.done();
                });
            }
        }
        // A goroutine that yields each time it counts.
        let counted = Arc::new(AtomicU64::new(0));
        let count_ms = Arc::new(AtomicU64::new(0));
        {
            let (counted, count_ms, wg) = (counted.clone(), count_ms.clone(), wg.clone());
            wg.add(1);
            let t = Instant::now();
            gort::go(move || {
                for _ in 0..100 {
                    counted.fetch_add(1, Relaxed);
                    gort::gosched();
                }
                count_ms.store(t.elapsed().as_millis() as u64, Relaxed);
                wg.done();
            });
        }
        let t = Instant::now();
        sleep(ms(100));
        let late = t.elapsed().saturating_sub(ms(100));
        // Let the counter finish (it may need more than 100 ms only if starved).
        let t2 = Instant::now();
        while counted.load(Relaxed) < 100 && t2.elapsed() < ms(5000) {
            sleep(ms(10));
        }
        stop.store(true, SeqCst);
        if kind == "cond" {
            let _ = gort::time::after(ms(1)).recv();
        }
        wg.wait();
        println!("handoff.{kind}.counted={}", counted.load(Relaxed));
        println!("handoff.{kind}.count_ms={}", count_ms.load(Relaxed));
        println!("handoff.{kind}.sleep_late_us={}", late.as_micros());
        println!("handoff.{kind}.rounds.nonzero={}", rounds.load(Relaxed) > 0);
    }
}

fn stdout(nonblock: bool) {
    if nonblock {
        // SAFETY: F_GETFL/F_SETFL on fd 1, adding O_NONBLOCK (0o4000).
        unsafe {
            let fl = syscall!(Sysno::fcntl, 1, 3).unwrap();
            syscall!(Sysno::fcntl, 1, 4, fl | 0o4000).unwrap();
        }
    }
    let ticks = Arc::new(AtomicU64::new(0));
    let wg = Arc::new(WaitGroup::new());
    {
        let (ticks, wg) = (ticks.clone(), wg.clone());
        wg.add(1);
        gort::go(move || {
            // 1.5 s of a 10 ms ticker, while stdout is full.
            let t = gort::time::tick(ms(10));
            for _ in 0..150 {
                t.recv();
                ticks.fetch_add(1, Relaxed);
            }
            eprintln!("stdout.ticks={}", ticks.load(Relaxed));
            eprintln!("stdout.cpu_ms={}", cpu_ms());
            wg.done();
        });
    }
    // 1 MiB in lines of 64 bytes: "NNNNNNNN" + 55 dots + "\n".
    let line_dots = [b'.'; 55];
    let dots = core::str::from_utf8(&line_dots).unwrap();
    for i in 0..16384u32 {
        gort::print!("{i:08}{dots}\n");
    }
    wg.wait();
}

fn spin(n: u64, urg: bool) {
    let stop = Arc::new(AtomicBool::new(false));
    let wg = Arc::new(WaitGroup::new());
    let tid = Arc::new(AtomicU64::new(0));
    {
        let (stop, wg, tid) = (stop.clone(), wg.clone(), tid.clone());
        wg.add(1);
        gort::go(move || {
            // SAFETY: gettid has no arguments and cannot fail.
            tid.store(unsafe { syscall!(Sysno::gettid) }.unwrap() as u64, Relaxed);
            spin_until(&stop);
            wg.done();
        });
    }
    if urg {
        // SIGURG from outside the runtime (kill -URG, TCP urgent data) to the
        // spinner's thread every millisecond, after sysmon has asked it to yield.
        let t0 = Instant::now();
        while t0.elapsed() < ms(n) {
            sleep(ms(1));
            let t = tid.load(Relaxed);
            if t != 0 {
                // SAFETY: tgkill sends a signal; the runtime handles SIGURG.
                let pid = unsafe { syscall!(Sysno::getpid) }.unwrap();
                // SAFETY: as above.
                let _ = unsafe { syscall!(Sysno::tgkill, pid, t, 23) };
            }
        }
    } else {
        sleep(ms(n));
    }
    stop.store(true, Relaxed);
    wg.wait();
    let (sent, made) = stats();
    println!("spin.signals={sent}");
    println!("spin.preemptions={made}");
}

fn procs() {
    let stop = Arc::new(AtomicBool::new(false));
    let spin_wg = Arc::new(WaitGroup::new());
    spinners(2, &stop, &spin_wg);
    let wg = Arc::new(WaitGroup::new());
    let calls = Arc::new(AtomicUsize::new(0));
    for i in 0..8 {
        let (wg, calls) = (wg.clone(), calls.clone());
        wg.add(1);
        gort::go(move || {
            for r in 0..100 {
                gort::gomaxprocs(1 + (i + r) % 4);
                calls.fetch_add(1, Relaxed);
            }
            wg.done();
        });
    }
    wg.wait();
    gort::gomaxprocs(2);
    stop.store(true, Relaxed);
    spin_wg.wait();
    println!("procs.calls={}", calls.load(Relaxed));
    println!("procs.final={}", gort::gomaxprocs(0));
}

fn blocking_ops() {
    let c = chan::<u64>(0);
    let c2 = c.clone();
    gort::go(move || {
        for i in 0..3 {
            c2.send(i);
        }
    });
    let m = Arc::new(Mutex::new(0u64));
    let held = m.lock();
    let m2 = m.clone();
    let r = gort::blocking(move || {
        // Runtime operations inside the system call.
        let a = c.recv().unwrap() + c.recv().unwrap() + c.recv().unwrap();
        let d = chan::<u64>(1);
        let d2 = d.clone();
        gort::go(move || d2.send(40));
        let b = d.recv().unwrap();
        let t = Instant::now();
        sleep(ms(2));
        let slept = t.elapsed() >= ms(2);
        gort::gosched();
        let procs = gort::gomaxprocs(0);
        let nested = gort::blocking(|| 2);
        // A contended Mutex: main holds it until it hears from us.
        let locker = go_join(m2);
        (a + b + nested, slept, procs > 0, locker)
    });
    drop(held);
    let (sum, slept, procs, locker) = r;
    let got = locker.recv().unwrap();
    println!("blocking.sum={sum}");
    println!("blocking.slept={slept}");
    println!("blocking.gomaxprocs={procs}");
    println!("blocking.mutex={got}");
    // A contended lock taken inside blocking itself.
    let m3 = m.clone();
    let held = m.lock();
    let w = chan::<u64>(1);
    let w2 = w.clone();
    gort::go(move || {
        let v = gort::blocking(|| {
            let mut g = m3.lock();
            *g += 1;
            *g
        });
        w2.send(v);
    });
    sleep(ms(5));
    drop(held);
    println!("blocking.locked_inside={}", w.recv().unwrap());
    // The operations that stop the world, inside blocking.
    let path = "/tmp/gort-blocking-ops.trace";
    let (traced, objects) = gort::blocking(|| {
        let started = gort::trace::start(path).is_ok();
        gort::trace::stop();
        gort::debug::free_os_memory();
        let st = gort::debug::unstable::heap_stats(true);
        (started, st.small_objects > 0)
    });
    let _ = gort::fs::remove_file(path);
    println!("blocking.trace={traced}");
    println!("blocking.heap_stats={objects}");
}

/// Start a goroutine that locks m, adds 1 and sends the value: a contended lock
/// while m is held.
fn go_join(m: Arc<Mutex<u64>>) -> gort::Chan<u64> {
    let c = chan::<u64>(1);
    let c2 = c.clone();
    gort::go(move || {
        let mut g = m.lock();
        *g += 1;
        c2.send(*g);
    });
    c
}

fn nopreempt() {
    let wg = Arc::new(WaitGroup::new());
    let p_during = Arc::new(AtomicU64::new(u64::MAX));
    {
        let (wg, p_during) = (wg.clone(), p_during.clone());
        wg.add(1);
        gort::go(move || {
            let np = gort::NoPreempt::new();
            let p0 = stats().1;
            let t = Instant::now();
            let mut x = 1u64;
            while t.elapsed() < ms(100) {
                for _ in 0..10_000 {
                    x = black_box(x.wrapping_mul(3).wrapping_add(1));
                }
            }
            p_during.store(stats().1 - p0, Relaxed);
            drop(np);
            wg.done();
        });
    }
    sleep(ms(1));
    wg.wait();
    println!("nopreempt.preemptions={}", p_during.load(Relaxed));
}
