//! Benchmark `holes [HOLES] [M]`: allocation beside many small holes. Main allocates
//! 2 × HOLES (default 10,000) objects of 48 bytes and frees every other one, leaving
//! HOLES holes too small for what follows; then it times M (default 20,000)
//! allocations of zeroed byte vectors of 300 to 400 bytes, keeping them all alive,
//! and prints `ns_per_alloc=` (that loop's wall time / M). It checks every vector's
//! length and contents afterwards (exit 1 if wrong). Twin: bench/go/holes/main.go.
#![no_std]
#![no_main]

extern crate alloc;

mod common;

use alloc::vec;
use alloc::vec::Vec;

gort::main!(main);

fn main() {
    let holes = common::arg(1, 10_000) as usize;
    let m = common::arg(2, 20_000) as usize;
    let mut small: Vec<Vec<u8>> = (0..2 * holes).map(|i| vec![i as u8; 48]).collect();
    for (i, v) in small.iter_mut().enumerate() {
        if i % 2 == 1 {
            *v = Vec::new(); // frees the 48-byte block: a hole
        }
    }
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(m);
    let t0 = common::now_ns();
    for j in 0..m {
        kept.push(vec![0u8; 300 + (j * 37) % 101]);
    }
    let t1 = common::now_ns();
    for (j, v) in kept.iter().enumerate() {
        if v.len() != 300 + (j * 37) % 101 || v.iter().any(|&b| b != 0) {
            common::fail("wrong vector");
        }
    }
    if small
        .iter()
        .step_by(2)
        .enumerate()
        .any(|(i, v)| v[0] != (2 * i) as u8)
    {
        common::fail("a kept small object changed");
    }
    gort::println!("ns_per_alloc={:.1}", (t1 - t0) as f64 / m as f64);
}
