//! Exercises the heap through `alloc`: Box, Vec, String, format!, Arc, BTreeMap, and
//! growth well past the first arena commit, checking every value it wrote. With the
//! argument `oom`, asks for an impossible 32 TiB block instead.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use gort::println;

gort::main!(main);

fn main() {
    if gort::env::args().nth(1).and_then(|a| a.to_str()) == Some("oom") {
        // black_box: an unused allocation may be optimised away entirely.
        let mut v: Vec<u8> = core::hint::black_box(Vec::with_capacity(1 << 45));
        v.push(1);
        println!("allocated {} bytes?", core::hint::black_box(v).capacity());
        return;
    }
    let b = Box::new(41u64);
    println!("box={}", *b + 1);

    let s: String = (0..5).map(|i| alloc::format!("{i},")).collect();
    println!("string={s}");

    let a = Arc::new(String::from("shared"));
    let a2 = Arc::clone(&a);
    println!("arc={} count={}", a2, Arc::strong_count(&a));

    let mut m = BTreeMap::new();
    for i in 0..1000u32 {
        m.insert(i.wrapping_mul(2654435761) % 10007, i);
    }
    println!("btree.len={}", m.len());

    // 64 MiB in 1 MiB vectors, freed and reallocated: the heap must grow and reuse.
    let mut total: u64 = 0;
    for round in 0..3u64 {
        let mut blocks: Vec<Vec<u64>> = Vec::new();
        for j in 0..64u64 {
            blocks.push((0..131072u64).map(|k| k ^ j ^ round).collect());
        }
        for (j, blk) in blocks.iter().enumerate() {
            assert!(blk
                .iter()
                .enumerate()
                .all(|(k, &v)| v == k as u64 ^ j as u64 ^ round));
            total += blk.len() as u64;
        }
    }
    println!("words checked={total}");
}
