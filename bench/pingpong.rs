//! Benchmark `pingpong [N]`: an unbuffered round trip between two goroutines. Main sends
//! i on the unbuffered channel A; an echo goroutine receives it and sends i + 1 on the
//! unbuffered channel B; main receives it and checks it is i + 1 (exits 1 if not). N
//! round trips (default 1,000,000) at the default GOMAXPROCS; then A is closed and the
//! echo goroutine ends. Prints `ns_per_roundtrip=` (wall time from before the spawn of
//! the echo goroutine until the last reply, divided by N). Twin: bench/go/pingpong/main.go.
#![no_std]
#![no_main]

mod common;

gort::main!(main);

fn main() {
    let n = common::arg(1, 1_000_000);
    let (a, b) = (gort::chan::<u64>(0), gort::chan::<u64>(0));
    let t0 = common::now_ns();
    let (ra, sb) = (a.clone(), b.clone());
    gort::go(move || {
        for v in &ra {
            sb.send(v + 1);
        }
    });
    for i in 0..n {
        a.send(i);
        if b.recv() != Some(i + 1) {
            common::fail("pingpong: wrong reply");
        }
    }
    let t1 = common::now_ns();
    a.close();
    gort::println!("ns_per_roundtrip={:.1}", (t1 - t0) as f64 / n as f64);
}
