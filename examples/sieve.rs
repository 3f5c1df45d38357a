//! Go's concurrent prime sieve: a daisy chain of filter goroutines connected by
//! unbuffered channels. `sieve [N]` prints the first N primes (default 100).
#![no_std]
#![no_main]

use gort::Chan;

gort::main!(main);

/// Send the sequence 2, 3, 4, ... to channel ch.
fn generate(ch: Chan<u64>) {
    let mut i = 2;
    loop {
        ch.send(i);
        i += 1;
    }
}

/// Copy the values from channel src to channel dst, removing those divisible by prime.
fn filter(src: Chan<u64>, dst: Chan<u64>, prime: u64) {
    for i in &src {
        if i % prime != 0 {
            dst.send(i);
        }
    }
}

fn main() {
    let n: usize = gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str()?.parse().ok())
        .unwrap_or(100);
    let mut ch = gort::chan::<u64>(0);
    let c = ch.clone();
    gort::go(move || generate(c));
    for _ in 0..n {
        let prime = ch.recv().unwrap();
        gort::println!("{prime}");
        let ch1 = gort::chan::<u64>(0);
        let (src, dst) = (ch.clone(), ch1.clone());
        gort::go(move || filter(src, dst, prime));
        ch = ch1;
    }
}
