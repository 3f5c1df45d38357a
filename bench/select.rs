//! Benchmark `select [N]`: a two-case select loop. Two producer goroutines each send N/2
//! values (1, 2, …, N/2; default N = 1,000,000) on their own unbuffered channel, A and
//! B; main runs `select! { recv(a) -> v => …, recv(b) -> v => … }` N times, counting and
//! summing per channel, and checks each channel gave exactly N/2 values summing to
//! (N/2)(N/2+1)/2 (exits 1 if not, or if a select returns None). Default GOMAXPROCS.
//! Prints `ns_per_select=` (wall time from before the first spawn until the N-th select
//! returns, divided by N). Twin: bench/go/select/main.go.
#![no_std]
#![no_main]

mod common;

gort::main!(main);

fn main() {
    let n = common::arg(1, 1_000_000) & !1; // even: N/2 per producer
    if n == 0 {
        common::fail("N must be at least 2");
    }
    let half = n / 2;
    let (a, b) = (gort::chan::<u64>(0), gort::chan::<u64>(0));
    let t0 = common::now_ns();
    for c in [&a, &b] {
        let c = c.clone();
        gort::go(move || {
            for i in 1..=half {
                c.send(i);
            }
        });
    }
    let (mut count, mut sum) = ([0u64; 2], [0u64; 2]);
    for _ in 0..n {
        let (i, v) = gort::select! {
            recv(a) -> v => (0, v),
            recv(b) -> v => (1, v),
        };
        let Some(v) = v else {
            common::fail("select: a receive returned None");
        };
        count[i] += 1;
        sum[i] += v;
    }
    let t1 = common::now_ns();
    let want = half * (half + 1) / 2;
    if count != [half; 2] || sum != [want; 2] {
        gort::eprintln!(
            "bench: select: counts={count:?} sums={sum:?}, want {half} and {want} per channel"
        );
        gort::exit(1);
    }
    gort::println!("ns_per_select={:.1}", (t1 - t0) as f64 / n as f64);
}
