//! Benchmark `chanbuf [N]`: a buffered channel between one producer and one consumer.
//! A producer goroutine sends 0, 1, …, N−1 (default N = 10,000,000) on a channel of
//! capacity 128 and closes it; main receives until the channel is closed and drained
//! (`for v in &c`), summing, and checks the count is N and the sum N(N−1)/2 (exits 1 if
//! not). Default GOMAXPROCS. Prints `ns_per_item=` (wall time from before the spawn
//! until the channel is drained, divided by N). Twin: bench/go/chanbuf/main.go.
#![no_std]
#![no_main]

mod common;

gort::main!(main);

const CAP: usize = 128;

fn main() {
    let n = common::arg(1, 10_000_000);
    let c = gort::chan::<u64>(CAP);
    let t0 = common::now_ns();
    let p = c.clone();
    gort::go(move || {
        for i in 0..n {
            p.send(i);
        }
        p.close();
    });
    let (mut count, mut sum) = (0u64, 0u64);
    for v in &c {
        count += 1;
        sum = sum.wrapping_add(v);
    }
    let t1 = common::now_ns();
    let want = (n as u128 * (n as u128 - 1) / 2) as u64;
    if count != n || sum != want {
        gort::eprintln!("bench: chanbuf: count={count} sum={sum}, want count={n} sum={want}");
        gort::exit(1);
    }
    gort::println!("ns_per_item={:.1}", (t1 - t0) as f64 / n as f64);
}
