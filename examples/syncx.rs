//! RwLock, Once and Cond, one scenario per argument, printing `key=value` results:
//! `rwlock` (readers share, writers exclude, nothing lost), `writer-first` (a waiting
//! writer goes before later readers), `once`, `cond` (signal wakes one, broadcast
//! all), `runlock` (RUnlock of an unlocked RWMutex: fatal), `starving-unlock` (a
//! Mutex in starvation mode unlocked inside a NoPreempt section: the waiter gets
//! the lock, and the unlock does not yield), `trylock` (a failed `Mutex::try_lock`
//! leaves the holder's lock alone), `tryrw` (RwLock's try_read and try_write, Go's
//! TryRLock and TryLock).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use gort::sync::{Cond, Mutex, Once, RawRwLock, RwLock, WaitGroup};
use gort::time::{sleep, Duration};
use gort::{gosched, println};

gort::main!(main);

fn main() {
    match gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str())
        .unwrap_or("")
    {
        "rwlock" => {
            // A pair that writers keep equal; readers check it and overlap.
            let l = Arc::new(RwLock::new((0u64, 0u64)));
            let broken = Arc::new(AtomicU64::new(0));
            let inside = Arc::new(AtomicU64::new(0));
            let max_inside = Arc::new(AtomicU64::new(0));
            let wg = Arc::new(WaitGroup::new());
            for _ in 0..2 {
                let (l, wg) = (l.clone(), wg.clone());
                wg.add(1);
                gort::go(move || {
                    for _ in 0..10_000 {
                        let mut g = l.write();
                        g.0 += 1;
                        if g.0 % 100 == 0 {
                            gosched(); // hold the write lock across a reschedule
                        }
                        g.1 += 1;
                    }
                    wg.done();
                });
            }
            for _ in 0..8 {
                let (l, wg, broken, inside, max_inside) = (
                    l.clone(),
                    wg.clone(),
                    broken.clone(),
                    inside.clone(),
                    max_inside.clone(),
                );
                wg.add(1);
                gort::go(move || {
                    for _ in 0..2_000 {
                        let g = l.read();
                        let n = inside.fetch_add(1, Relaxed) + 1;
                        max_inside.fetch_max(n, Relaxed);
                        gosched(); // hold the read lock across a reschedule
                        if g.0 != g.1 {
                            broken.fetch_add(1, Relaxed);
                        }
                        inside.fetch_sub(1, Relaxed);
                    }
                    wg.done();
                });
            }
            wg.wait();
            let g = l.read();
            println!("rwlock.value={} {}", g.0, g.1);
            println!("rwlock.broken={}", broken.load(Relaxed));
            println!("rwlock.readers_overlapped={}", max_inside.load(Relaxed) > 1);
        }
        "writer-first" => {
            let l = Arc::new(RawRwLock::new());
            let log = Arc::new(Mutex::new(Vec::new()));
            l.read_lock(); // main reads
            let wg = Arc::new(WaitGroup::new());
            let (l2, log2, wg2) = (l.clone(), log.clone(), wg.clone());
            wg.add(1);
            gort::go(move || {
                l2.write_lock(); // waits for main's read lock
                log2.lock().push("writer");
                l2.write_unlock();
                wg2.done();
            });
            while gort::debug::unstable::num_waiting() < 1 {
                gosched();
            }
            let (l3, log3, wg3) = (l.clone(), log.clone(), wg.clone());
            wg.add(1);
            gort::go(move || {
                l3.read_lock(); // a later reader: must wait for the writer
                log3.lock().push("late reader");
                l3.read_unlock();
                wg3.done();
            });
            while gort::debug::unstable::num_waiting() < 2 {
                gosched();
            }
            log.lock().push("main unlocks");
            l.read_unlock();
            wg.wait();
            println!("writer-first.order={}", log.lock().join(","));
        }
        "once" => {
            let once = Arc::new(Once::new());
            let calls = Arc::new(AtomicU64::new(0));
            let after = Arc::new(AtomicU64::new(0));
            let wg = Arc::new(WaitGroup::new());
            for _ in 0..100 {
                let (once, calls, after, wg) =
                    (once.clone(), calls.clone(), after.clone(), wg.clone());
                wg.add(1);
                gort::go(move || {
                    once.call_once(|| {
                        gosched();
                        calls.fetch_add(1, Relaxed);
                    });
                    // Everyone returns only after the call has happened.
                    after.fetch_add(calls.load(Relaxed), Relaxed);
                    wg.done();
                });
            }
            wg.wait();
            println!("once.calls={}", calls.load(Relaxed));
            println!("once.saw_call={}", after.load(Relaxed));
        }
        "cond" => {
            let m = Arc::new(Mutex::new(0u32)); // a "generation" counter
            let c = Arc::new(Cond::new());
            let woken = Arc::new(AtomicU64::new(0));
            let wg = Arc::new(WaitGroup::new());
            for _ in 0..10 {
                let (m, c, woken, wg) = (m.clone(), c.clone(), woken.clone(), wg.clone());
                wg.add(1);
                gort::go(move || {
                    let mut g = m.lock();
                    let start = *g;
                    while *g == start {
                        g = c.wait(g);
                    }
                    woken.fetch_add(1, Relaxed);
                    drop(g);
                    wg.done();
                });
            }
            while gort::debug::unstable::num_waiting() < 10 {
                gosched();
            }
            // Signal: exactly one waiter wakes (the others see no change and wait).
            *m.lock() += 1;
            c.notify_one();
            while woken.load(Relaxed) < 1 {
                gosched();
            }
            for _ in 0..100 {
                gosched();
            }
            println!("cond.after_signal={}", woken.load(Relaxed));
            // The 9 others were back waiting on the old generation... they rechecked
            // only if woken; broadcast wakes them all.
            *m.lock() += 1;
            c.notify_all();
            wg.wait();
            println!("cond.after_broadcast={}", woken.load(Relaxed));
        }
        "starving-unlock" => {
            let m = Arc::new(Mutex::new(0u64));
            let wg = Arc::new(WaitGroup::new());
            let held = m.lock();
            wg.add(1);
            let (m2, wg2) = (m.clone(), wg.clone());
            gort::go(move || {
                *m2.lock() += 1;
                wg2.done();
            });
            // The waiter parks; unlock wakes it, and we take the lock back before
            // it runs (with one P it only gets runnext). Holding on, we let it run,
            // fail again after more than 1 ms of waiting, and turn the mutex to
            // starvation mode.
            sleep(Duration::from_millis(2));
            drop(held);
            let held = m.lock();
            sleep(Duration::from_millis(2));
            {
                // Starvation mode: unlock hands the lock to the waiter directly.
                // Go yields to it only outside such sections (m.locks == 0).
                let _np = gort::NoPreempt::new();
                drop(held);
            }
            wg.wait();
            println!("starving.count={}", *m.lock());
        }
        "trylock" => {
            let m = Arc::new(Mutex::new(0u64));
            let held = m.lock();
            println!("trylock.while_held={}", m.try_lock().is_some());
            // Still locked: another goroutine's try_lock fails too, and its lock
            // waits for ours.
            let (m2, wg) = (m.clone(), Arc::new(WaitGroup::new()));
            wg.add(1);
            let wg2 = wg.clone();
            gort::go(move || {
                let tried = m2.try_lock().is_some();
                *m2.lock() += 1;
                println!("trylock.other_got_it={tried}");
                wg2.done();
            });
            sleep(Duration::from_millis(10));
            println!("trylock.value_while_held={}", *held);
            drop(held);
            wg.wait();
            let g = m.try_lock();
            println!(
                "trylock.after_unlock={}",
                g.as_ref().map(|g| **g).unwrap_or(99)
            );
        }
        "tryrw" => {
            let l = Arc::new(RwLock::new(7u32));
            let yn = |b: bool| if b { "y" } else { "n" };
            // Readers share; a writer is refused while one is in.
            let (r1, r2) = (l.try_read(), l.try_read());
            let w = l.try_write();
            println!(
                "tryrw.readers={}{} writer={}",
                yn(r1.is_some()),
                yn(r2.is_some()),
                yn(w.is_some())
            );
            drop((r1, r2, w));
            // A writer excludes both.
            let mut w = l.try_write().expect("try_write of a free lock");
            *w += 1;
            println!(
                "tryrw.while_written read={} write={}",
                yn(l.try_read().is_some()),
                yn(l.try_write().is_some())
            );
            drop(w);
            // A waiting writer turns new readers away, as it makes read() wait.
            let held = l.read();
            let wg = Arc::new(WaitGroup::new());
            wg.add(1);
            let (l2, wg2) = (l.clone(), wg.clone());
            gort::go(move || {
                *l2.write() += 1;
                wg2.done();
            });
            while gort::debug::unstable::num_waiting() < 1 {
                gosched();
            }
            println!("tryrw.writer_waiting read={}", yn(l.try_read().is_some()));
            drop(held);
            wg.wait();
            let r = l.try_read();
            println!("tryrw.value={}", r.as_deref().copied().unwrap_or(0));
        }
        "runlock" => {
            let l = RawRwLock::new();
            l.read_unlock();
        }
        other => gort::eprintln!("unknown scenario {other:?}"),
    }
}
