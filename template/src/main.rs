//! A gort program: goroutines fan out work over a channel and main sums the results.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

gort::main!(main);

/// The sum of the squares of 1..=n, computed by one goroutine per number.
pub fn sum_of_squares(n: u64) -> u64 {
    let results = gort::chan::<u64>(0);
    for i in 1..=n {
        let results = results.clone();
        gort::go(move || results.send(i * i));
    }
    let squares: Vec<u64> = (0..n).map(|_| results.recv().unwrap()).collect();
    squares.iter().sum()
}

fn main() {
    let n = gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str()?.parse().ok())
        .unwrap_or(10);
    gort::println!("sum of squares 1..={n} = {}", sum_of_squares(n));
}
