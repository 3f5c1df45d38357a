//! Timers, one scenario per argument: `sleep MS` (how long a sleep really took),
//! `sleepers N MS` (N goroutines sleep MS at once; all must wake), `after` (after() as
//! a select timeout), `tick` (a ticker's ticks), `deadlock-free` (main sleeps while
//! nothing else runs: not a deadlock), `load N MS ROUNDS` (N goroutines sleep MS
//! repeatedly; wake-ups per second and CPU used, for the benchmark), and the timers
//! that stop: `stop-race N K` and `reset-race N K` (N goroutines x K timers
//! stopped or reset around their firing: nothing stale is ever received),
//! `after-func`, `ticker`, `resets N` (memory after N resets of one timer and N
//! abandoned `after`s), `precise N US` (N sleeps of US microseconds while a
//! goroutine waits on a socket, so the scheduler sleeps in the network poller:
//! the shortest and the median sleep), `crowded K` (K sleeps of 1 ms while
//! goroutines spawning their successors keep the run queue all but full: how
//! late the latest woke), `closed-chan` (timer channels closed by their user: the
//! timers fire into them and the program goes on).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use gort::sync::WaitGroup;
use gort::time::{after, after_func, sleep, tick, Duration, Instant, Ticker, Timer};
use gort::{chan, println, select};

gort::main!(main);

fn arg(i: usize, default: u64) -> u64 {
    gort::env::args()
        .nth(i)
        .and_then(|a| a.to_str()?.parse().ok())
        .unwrap_or(default)
}

fn process_cpu_ns() -> u64 {
    let mut ts = [0u64; 2];
    // SAFETY: the kernel writes one timespec into ts.
    unsafe { syscalls::syscall!(syscalls::Sysno::clock_gettime, 2, ts.as_mut_ptr()).unwrap() };
    ts[0] * 1_000_000_000 + ts[1]
}

/// The process's peak resident set in KiB (getrusage's ru_maxrss).
fn maxrss_kb() -> u64 {
    let mut ru = [0u64; 18];
    // SAFETY: the kernel writes one struct rusage (144 bytes) into ru.
    unsafe { syscalls::syscall!(syscalls::Sysno::getrusage, 0, ru.as_mut_ptr()).unwrap() };
    ru[4]
}

/// A small pseudo-random number (xorshift), per caller state.
fn rnd(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// N goroutines x K timers, each stopped (reset: false) or reset (true) at a random
/// moment around its firing. Counts what Go 1.23 forbids: a value received after
/// stop returned, or one from before a reset, or none (or two) after a reset.
fn race(reset: bool, n: u64, k: u64) {
    let stale = Arc::new(AtomicU64::new(0));
    let missing = Arc::new(AtomicU64::new(0));
    let pending = Arc::new(AtomicU64::new(0));
    let fired = Arc::new(AtomicU64::new(0));
    let wg = Arc::new(WaitGroup::new());
    wg.add(n as i32);
    for g in 0..n {
        let (stale, missing, pending, fired, wg) = (
            stale.clone(),
            missing.clone(),
            pending.clone(),
            fired.clone(),
            wg.clone(),
        );
        gort::go(move || {
            let mut s = 0x9e37_79b9_7f4a_7c15 ^ (g + 1);
            for _ in 0..k {
                let t = Timer::new(Duration::from_micros(rnd(&mut s) % 2000));
                sleep(Duration::from_micros(rnd(&mut s) % 2000));
                if !t.c().is_empty() {
                    fired.fetch_add(1, Relaxed);
                }
                if !reset {
                    if t.stop() {
                        pending.fetch_add(1, Relaxed);
                    }
                    sleep(Duration::from_millis(3));
                    if t.c().try_recv().is_ok() {
                        stale.fetch_add(1, Relaxed);
                    }
                    continue;
                }
                let at = Instant::now();
                if t.reset(Duration::from_millis(1)) {
                    pending.fetch_add(1, Relaxed);
                }
                let got = select! {
                    recv(t.c()) -> v => v,
                    recv(after(Duration::from_secs(5))) -> _x => None,
                };
                match got {
                    // The value names when the timer was due: not before the reset's.
                    Some(v) if v < at + Duration::from_millis(1) => {
                        stale.fetch_add(1, Relaxed);
                    }
                    Some(_) => {}
                    None => {
                        missing.fetch_add(1, Relaxed);
                    }
                }
                sleep(Duration::from_millis(3));
                if t.c().try_recv().is_ok() {
                    stale.fetch_add(1, Relaxed);
                }
            }
            wg.done();
        });
    }
    wg.wait();
    println!("race.total={}", n * k);
    println!("race.stale={}", stale.load(Relaxed));
    println!("race.missing={}", missing.load(Relaxed));
    // Stop and reset drain a value that was sent but not received: still pending.
    println!("race.pending={}", pending.load(Relaxed));
    println!("race.fired_first={}", fired.load(Relaxed));
}

/// Set by `crowded` once its sleeps are done: the churn ends.
static CHURN_STOP: AtomicBool = AtomicBool::new(false);
static CHURN_WG: WaitGroup = WaitGroup::new();

/// One link of a churn chain: spawn the next link and exit, until CHURN_STOP or
/// the deadline.
fn churn(deadline: Instant) {
    if CHURN_STOP.load(Relaxed) || Instant::now() >= deadline {
        CHURN_WG.done();
        return;
    }
    gort::go(move || churn(deadline));
}

/// K sleeps of 1 ms while 250 churn chains keep the run queue all but full, for
/// at most 5 s. A spawn goes to runnext, kicking the goroutine there into the
/// ring, so main's 250 spawns leave 249 in the ring; then a chain hands on
/// through runnext, and when the scheduler takes one from the ring instead (for
/// fairness) its spawn kicks runnext back in: at GOMAXPROCS=1 the ring stays at
/// 249 of 256 slots. A due timer must still fire soon, not wait for room that
/// never comes.
fn crowded(k: u64) {
    let n = 250;
    let deadline = Instant::now() + Duration::from_secs(5);
    CHURN_WG.add(n);
    for _ in 0..n {
        gort::go(move || churn(deadline));
    }
    let d = Duration::from_millis(1);
    let mut worst = Duration::ZERO;
    for _ in 0..k {
        let t0 = Instant::now();
        sleep(d);
        worst = worst.max(t0.elapsed().saturating_sub(d));
    }
    let in_time = Instant::now() < deadline;
    CHURN_STOP.store(true, Relaxed);
    CHURN_WG.wait();
    println!("crowded.sleeps={k}");
    println!("crowded.worst_late_us={}", worst.as_micros());
    // Whether the sleeps ended while the churn still ran.
    println!("crowded.during_churn={in_time}");
}

fn main() {
    let how = gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str())
        .unwrap_or("");
    match how {
        "sleep" => {
            let ms = arg(2, 50);
            let t0 = Instant::now();
            sleep(Duration::from_millis(ms));
            println!("slept_us={}", t0.elapsed().as_micros());
            println!("asked_us={}", ms * 1000);
        }
        "sleepers" => {
            let (n, ms) = (arg(2, 10_000), arg(3, 20));
            let woke = Arc::new(AtomicU64::new(0));
            let early = Arc::new(AtomicU64::new(0));
            let wg = Arc::new(WaitGroup::new());
            wg.add(n as i32);
            let t0 = Instant::now();
            for i in 0..n {
                let (woke, early, wg) = (woke.clone(), early.clone(), wg.clone());
                gort::go(move || {
                    let d = Duration::from_millis(ms + i % 7);
                    let t = Instant::now();
                    sleep(d);
                    if t.elapsed() < d {
                        early.fetch_add(1, Relaxed);
                    }
                    woke.fetch_add(1, Relaxed);
                    wg.done();
                });
            }
            wg.wait();
            println!("woke={}", woke.load(Relaxed));
            println!("early={}", early.load(Relaxed));
            println!("total_ms={}", t0.elapsed().as_millis());
        }
        "after" => {
            let never = chan::<u32>(0);
            let t0 = Instant::now();
            let r = select! {
                recv(never) -> _v => "value",
                recv(after(Duration::from_millis(30))) -> _t => "timeout",
            };
            println!("after.result={r}");
            println!(
                "after.waited_ms_at_least_30={}",
                t0.elapsed() >= Duration::from_millis(30)
            );
            // A value that arrives first wins over the timeout.
            let c = chan::<u32>(1);
            c.send(9);
            let r = select! {
                recv(c) -> v => v.unwrap(),
                recv(after(Duration::from_millis(1000))) -> _t => 0,
            };
            println!("after.value_first={r}");
        }
        "tick" => {
            let t0 = Instant::now();
            let t = tick(Duration::from_millis(10));
            let mut n = 0;
            let mut prev = t0;
            let mut spaced = true;
            for at in &t {
                n += 1;
                spaced &= at >= prev;
                prev = at;
                if n == 5 {
                    break;
                }
            }
            println!("tick.count={n}");
            println!("tick.ordered={spaced}");
            println!(
                "tick.elapsed_ms_at_least_50={}",
                t0.elapsed() >= Duration::from_millis(49)
            );
        }
        "deadlock-free" => {
            // Only main exists and it sleeps: the runtime must wait, not report a
            // deadlock.
            sleep(Duration::from_millis(100));
            println!("woke=true");
        }
        "load" => {
            let (n, ms, rounds) = (arg(2, 10_000), arg(3, 1), arg(4, 100));
            let wakes = Arc::new(AtomicU64::new(0));
            let wg = Arc::new(WaitGroup::new());
            wg.add(n as i32);
            let (t0, c0) = (Instant::now(), process_cpu_ns());
            for _ in 0..n {
                let (wakes, wg) = (wakes.clone(), wg.clone());
                gort::go(move || {
                    for _ in 0..rounds {
                        sleep(Duration::from_millis(ms));
                        wakes.fetch_add(1, Relaxed);
                    }
                    wg.done();
                });
            }
            wg.wait();
            let secs = t0.elapsed().as_secs_f64();
            let cpu = (process_cpu_ns() - c0) as f64 / 1e9;
            println!("wakeups={}", wakes.load(Relaxed));
            println!("wakeups_per_sec={:.0}", wakes.load(Relaxed) as f64 / secs);
            println!("cpu_per_wall={:.2}", cpu / secs);
        }
        "stop-race" => race(false, arg(2, 100), arg(3, 20)),
        "reset-race" => race(true, arg(2, 100), arg(3, 20)),
        "after-func" => {
            let runs = Arc::new(AtomicU64::new(0));
            let r = runs.clone();
            // Dropping the handle does not stop it.
            drop(after_func(Duration::from_millis(5), move || {
                r.fetch_add(1, Relaxed);
            }));
            sleep(Duration::from_millis(60));
            println!("afterfunc.dropped_runs={}", runs.load(Relaxed));
            let r = runs.clone();
            let t = after_func(Duration::from_millis(50), move || {
                r.fetch_add(1, Relaxed);
            });
            println!("afterfunc.stop_pending={}", t.stop());
            sleep(Duration::from_millis(100));
            println!("afterfunc.after_stop_runs={}", runs.load(Relaxed));
            // A reset after it fired runs it again.
            println!(
                "afterfunc.reset_pending={}",
                t.reset(Duration::from_millis(1))
            );
            sleep(Duration::from_millis(60));
            println!("afterfunc.after_reset_runs={}", runs.load(Relaxed));
            println!(
                "afterfunc.reset_again={}",
                t.reset(Duration::from_millis(1))
            );
            sleep(Duration::from_millis(60));
            println!("afterfunc.final_runs={}", runs.load(Relaxed));
        }
        "ticker" => {
            let t0 = Instant::now();
            let tk = Ticker::new(Duration::from_millis(5));
            for _ in 0..5 {
                tk.c().recv().unwrap();
            }
            println!(
                "ticker.five_ms_at_least_25={}",
                t0.elapsed() >= Duration::from_millis(24)
            );
            tk.stop();
            sleep(Duration::from_millis(30));
            println!("ticker.after_stop_empty={}", tk.c().try_recv().is_err());
            let t0 = Instant::now();
            tk.reset(Duration::from_millis(2));
            for _ in 0..3 {
                tk.c().recv().unwrap();
            }
            println!(
                "ticker.reset_ticks_ms_at_least_6={}",
                t0.elapsed() >= Duration::from_millis(5)
            );
            drop(tk);
            println!("ticker.done=true");
        }
        "precise" => {
            let (n, us) = (arg(2, 50).max(1) as usize, arg(3, 200));
            // A goroutine blocked on a socket: idle Ms now wait in the poller.
            let sock = Arc::new(gort::net::UdpSocket::bind("127.0.0.1:0").unwrap());
            let s = sock.clone();
            gort::go(move || {
                let mut b = [0u8; 8];
                let _ = s.recv_from(&mut b);
            });
            sleep(Duration::from_millis(5));
            let mut took = alloc::vec::Vec::with_capacity(n);
            for _ in 0..n {
                let t0 = Instant::now();
                sleep(Duration::from_micros(us));
                took.push(t0.elapsed().as_micros() as u64);
            }
            took.sort_unstable();
            println!("precise.min_us={}", took[0]);
            println!("precise.median_us={}", took[n / 2]);
            // Wake the reader so that main's return finds nothing blocked.
            sock.send_to(b"x", &sock.local_addr().unwrap()).unwrap();
        }
        "resets" => {
            let n = arg(2, 1_000_000);
            let t = Timer::new(Duration::from_secs(3600));
            // Warm up: the first resets and afters settle the heap's size.
            for _ in 0..1000 {
                t.reset(Duration::from_secs(3600));
                let _ = after(Duration::from_secs(3600));
            }
            let before = maxrss_kb();
            for _ in 0..n {
                t.reset(Duration::from_secs(3600));
            }
            let mid = maxrss_kb();
            let ready = chan::<u32>(1);
            for i in 0..n {
                ready.send(i as u32);
                // The ready channel wins; the abandoned timer must not be kept.
                select! {
                    recv(ready) -> _v => {},
                    recv(after(Duration::from_secs(3600))) -> _t => {},
                }
            }
            let end = maxrss_kb();
            println!("resets.n={n}");
            println!("resets.reset_growth_kb={}", mid.saturating_sub(before));
            println!("resets.after_growth_kb={}", end.saturating_sub(mid));
            println!("resets.pending={}", t.stop());
        }
        "crowded" => crowded(arg(2, 50)),
        "closed-chan" => {
            // Timer channels closed by their user (Go's are receive-only, so
            // this cannot happen there): the timers fire into them and the
            // program goes on.
            // Closed long before they fire, then (Timer, Ticker) reset to fire
            // soon: whatever the machine's speed, every send meets a closed
            // channel.
            let a = after(Duration::from_millis(50));
            a.close();
            let t = Timer::new(Duration::from_secs(3600));
            t.c().close();
            t.reset(Duration::from_millis(1));
            let tk = Ticker::new(Duration::from_secs(3600));
            tk.c().close();
            tk.reset(Duration::from_millis(1));
            sleep(Duration::from_millis(100));
            println!("closed.after_recv={:?}", a.recv());
            println!("closed.timer_recv={:?}", t.c().recv());
            println!("closed.ticker_recv={:?}", tk.c().recv());
            println!("closed.ok=true");
        }
        _ => {
            gort::eprintln!(
                "usage: timers sleep|sleepers|after|tick|deadlock-free|load|stop-race|reset-race|after-func|ticker|resets|precise|crowded|closed-chan"
            );
            gort::exit(2);
        }
    }
}
