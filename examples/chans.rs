//! Channel and select semantics, one scenario per argument; each prints `key=value`
//! results that the tests compare, or dies with Go's panic for the misuse scenarios.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use gort::sync::WaitGroup;
use gort::{chan, println, select, Chan};

gort::main!(main);

fn arg(i: usize) -> &'static str {
    gort::env::args()
        .nth(i)
        .and_then(|a| a.to_str())
        .unwrap_or("")
}

/// Counts drops, to check values are dropped exactly once.
static DROPS: AtomicU64 = AtomicU64::new(0);
struct Tracked(#[allow(dead_code)] u64);
impl Drop for Tracked {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Relaxed);
    }
}

#[derive(Debug, PartialEq)]
struct Zst;

fn main() {
    match arg(1) {
        "fifo" => {
            // Buffered: one producer, one consumer, order kept.
            let c = chan::<u64>(64);
            let p = c.clone();
            gort::go(move || {
                for i in 0..100_000 {
                    p.send(i);
                }
                p.close();
            });
            let mut next = 0;
            let mut ordered = true;
            for v in &c {
                ordered &= v == next;
                next += 1;
            }
            println!("buffered.received={next}");
            println!("buffered.ordered={ordered}");
            // A chain of unbuffered channels through 100 relays, order kept.
            let first = chan::<u64>(0);
            let mut prev = first.clone();
            for _ in 0..100 {
                let next = chan::<u64>(0);
                let (src, dst) = (prev.clone(), next.clone());
                gort::go(move || {
                    for v in &src {
                        dst.send(v);
                    }
                    dst.close();
                });
                prev = next;
            }
            gort::go(move || {
                for i in 0..10_000 {
                    first.send(i);
                }
                first.close();
            });
            let mut n = 0;
            let mut ordered = true;
            for v in &prev {
                ordered &= v == n;
                n += 1;
            }
            println!("chain.received={n}");
            println!("chain.ordered={ordered}");
        }
        "relay" => {
            // 10,000 goroutines in a line, each adding one to what passes through.
            let n = 10_000;
            let head = chan::<u64>(0);
            let mut prev = head.clone();
            for _ in 0..n {
                let next = chan::<u64>(0);
                let (src, dst) = (prev.clone(), next.clone());
                gort::go(move || {
                    let v = src.recv().unwrap();
                    dst.send(v + 1);
                });
                prev = next;
            }
            head.send(0);
            println!("relay.result={}", prev.recv().unwrap());
        }
        "nonblocking" => {
            let u = chan::<u32>(0);
            println!(
                "unbuffered.try_recv.empty={}",
                u.try_recv() == Err(gort::chan::TryRecvError::Empty)
            );
            println!("unbuffered.try_send.nobody={}", u.try_send(1) == Err(1));
            let b = chan::<u32>(2);
            println!("buffered.try_send1={}", b.try_send(1).is_ok());
            println!("buffered.try_send2={}", b.try_send(2).is_ok());
            println!("buffered.try_send3.full={}", b.try_send(3) == Err(3));
            println!("buffered.len={} cap={}", b.len(), b.cap());
            println!("buffered.try_recv={:?}", b.try_recv());
            // A receiver waiting on an unbuffered channel makes try_send succeed.
            let u2 = u.clone();
            let got = Arc::new(AtomicU64::new(0));
            let g = got.clone();
            let wg = Arc::new(WaitGroup::new());
            wg.add(1);
            let w = wg.clone();
            gort::go(move || {
                g.store(u2.recv().unwrap() as u64, Relaxed);
                w.done();
            });
            while u.try_send(7).is_err() {
                gort::gosched();
            }
            wg.wait();
            println!("unbuffered.try_send.to_waiter={}", got.load(Relaxed));
            b.close();
            println!("closed.try_recv.drains={:?}", b.try_recv());
            println!(
                "closed.try_recv.closed={}",
                b.try_recv() == Err(gort::chan::TryRecvError::Closed)
            );
        }
        "fair" => {
            // Four always-ready channels: each must be chosen ~1/4 of the time.
            let cs: Vec<Chan<u8>> = (0..4).map(|_| chan::<u8>(1)).collect();
            for c in &cs {
                c.send(0);
            }
            let mut counts = [0u64; 4];
            let n = 100_000;
            for _ in 0..n {
                let i = select! {
                    recv(cs[0]) -> _v => 0,
                    recv(cs[1]) -> _v => 1,
                    recv(cs[2]) -> _v => 2,
                    recv(cs[3]) -> _v => 3,
                };
                counts[i] += 1;
                cs[i].send(0);
            }
            for (i, c) in counts.iter().enumerate() {
                println!("fair.{i}={c}");
            }
        }
        "multisend" => {
            // A producer sends 0..N, each value by a select over three channels; three
            // consumers sum what they get. Nothing twice, nothing lost.
            let n: u64 = 30_000;
            let cs: Vec<Chan<u64>> = (0..3).map(|_| chan::<u64>(0)).collect();
            let sum = Arc::new(AtomicU64::new(0));
            let count = Arc::new(AtomicU64::new(0));
            let wg = Arc::new(WaitGroup::new());
            for c in &cs {
                let (c, sum, count, wg) = (c.clone(), sum.clone(), count.clone(), wg.clone());
                wg.add(1);
                gort::go(move || {
                    for v in &c {
                        sum.fetch_add(v, Relaxed);
                        count.fetch_add(1, Relaxed);
                    }
                    wg.done();
                });
            }
            for v in 0..n {
                select! {
                    send(cs[0], v) => {},
                    send(cs[1], v) => {},
                    send(cs[2], v) => {},
                }
            }
            for c in &cs {
                c.close();
            }
            wg.wait();
            println!("multisend.count={}", count.load(Relaxed));
            println!("multisend.sum={}", sum.load(Relaxed));
            println!("multisend.want={}", n * (n - 1) / 2);
        }
        "close" => {
            let c = chan::<u32>(5);
            for i in 0..5 {
                c.send(i);
            }
            c.close();
            let got: Vec<u32> = (&c).into_iter().collect();
            println!("close.drained={got:?}");
            println!("close.after={:?}", c.recv());
            // Receivers blocked when the close happens all wake with None.
            let d = chan::<u32>(0);
            let wg = Arc::new(WaitGroup::new());
            let nones = Arc::new(AtomicU64::new(0));
            for _ in 0..10 {
                let (d, wg, nones) = (d.clone(), wg.clone(), nones.clone());
                wg.add(1);
                gort::go(move || {
                    if d.recv().is_none() {
                        nones.fetch_add(1, Relaxed);
                    }
                    wg.done();
                });
            }
            while gort::debug::unstable::num_waiting() < 10 {
                gort::gosched();
            }
            d.close();
            wg.wait();
            println!("close.woken_with_none={}", nones.load(Relaxed));
            // select sees a closed channel as ready, with None.
            let r = select! { recv(d) -> v => v, default => Some(99) };
            println!("close.select={r:?}");
        }
        "nil" => {
            let n: Chan<u32> = Chan::nil();
            let c = chan::<u32>(1);
            c.send(5);
            let mut nil_chosen = 0;
            for _ in 0..1000 {
                select! {
                    recv(n) -> _v => { nil_chosen += 1; },
                    send(n, 1) => { nil_chosen += 1; },
                    default => {},
                }
            }
            let v = select! { recv(n) -> _v => 0, recv(c) -> v => v.unwrap() };
            println!("nil.chosen={nil_chosen}");
            println!("nil.other={v}");
        }
        "drops" => {
            {
                let c = chan::<Tracked>(10);
                for i in 0..7 {
                    c.send(Tracked(i));
                }
                drop(c.recv()); // one received and dropped
                let c2 = c.clone();
                drop(c);
                println!("drops.before_last_handle={}", DROPS.load(Relaxed));
                drop(c2); // six left in the buffer
            }
            println!("drops.after={}", DROPS.load(Relaxed));
            // A send arm that loses drops its value exactly once.
            let a = chan::<Tracked>(1);
            let full = chan::<Tracked>(0);
            DROPS.store(0, Relaxed);
            select! {
                send(full, Tracked(1)) => {},
                send(a, Tracked(2)) => {},
            }
            println!("drops.losing_send={}", DROPS.load(Relaxed));
            drop(a);
            println!("drops.total={}", DROPS.load(Relaxed));
        }
        "zst" => {
            let c = chan::<()>(3);
            let z = chan::<Zst>(0);
            let z2 = z.clone();
            gort::go(move || {
                for _ in 0..1000 {
                    z2.send(Zst);
                }
                z2.close();
            });
            c.send(());
            c.send(());
            println!("zst.len={}", c.len());
            println!("zst.recv={:?}", c.recv());
            println!(
                "zst.count={}",
                (&z).into_iter().filter(|v| *v == Zst).count()
            );
        }
        "send-closed" => {
            let c = chan::<u32>(1);
            c.close();
            c.send(1);
        }
        "close-closed" => {
            let c = chan::<u32>(1);
            c.close();
            c.close();
        }
        "close-nil" => {
            let c: Chan<u32> = Chan::nil();
            c.close();
        }
        "blocked-send-closed" => {
            let c = chan::<u32>(0);
            let c2 = c.clone();
            gort::go(move || {
                while gort::debug::unstable::num_waiting() < 1 {
                    gort::gosched();
                }
                c2.close();
            });
            c.send(1); // blocks, then the close makes it panic
        }
        "select-send-closed" => {
            let c = chan::<u32>(1);
            c.close();
            select! {
                send(c, 1) => {},
                default => {},
            }
        }
        "select-blocked-send-closed" => {
            let c = chan::<u32>(0);
            let c2 = c.clone();
            gort::go(move || {
                while gort::debug::unstable::num_waiting() < 1 {
                    gort::gosched();
                }
                c2.close();
            });
            select! {
                send(c, 1) => {}, // blocks, then the close makes it panic
            }
        }
        "makechan-huge" => {
            let _c = chan::<u64>(usize::MAX / 4);
        }
        "select-forever" => {
            let c = chan::<u32>(0);
            gort::go(move || {
                c.recv();
            });
            select! {}
        }
        "select-nil-forever" => {
            // Cases, all on nil channels: Go parks in "select", not "select (no
            // cases)".
            let n: Chan<u32> = Chan::nil();
            select! {
                recv(n) -> _v => {},
                send(n, 1) => {},
            }
        }
        other => gort::eprintln!("unknown scenario {other:?}"),
    }
}
