//! Benchmark `binarytrees [DEPTH]`: the Computer Language Benchmarks Game's
//! binary-trees with a goroutine per depth, as Go's reference program does it
//! (default depth 17). Main builds and checks a stretch tree of DEPTH+1, keeps a
//! long-lived tree of DEPTH, then one goroutine per depth d = 4, 6, ..., DEPTH builds
//! and checks 2^(DEPTH-d+4) trees of depth d; every tree node is a separate heap
//! object (two child pointers, 16 bytes), freed when its tree is dropped. Each check
//! is verified (a tree of depth d has 2^(d+1)-1 nodes); the program exits 1 on a
//! wrong one. Prints `seconds=` (wall time of the whole computation). Twin:
//! bench/go/binarytrees/main.go.
#![no_std]
#![no_main]

extern crate alloc;

mod common;

use alloc::boxed::Box;
use gort::sync::WaitGroup;

gort::main!(main);

struct Node {
    left: Option<Box<Node>>,
    right: Option<Box<Node>>,
}

fn bottom_up_tree(depth: u32) -> Box<Node> {
    if depth == 0 {
        return Box::new(Node {
            left: None,
            right: None,
        });
    }
    Box::new(Node {
        left: Some(bottom_up_tree(depth - 1)),
        right: Some(bottom_up_tree(depth - 1)),
    })
}

fn item_check(n: &Node) -> u64 {
    match (&n.left, &n.right) {
        (Some(l), Some(r)) => 1 + item_check(l) + item_check(r),
        _ => 1,
    }
}

/// Nodes in a tree of depth d.
fn nodes(d: u32) -> u64 {
    (1u64 << (d + 1)) - 1
}

static WG: WaitGroup = WaitGroup::new();
static CHECKS: [core::sync::atomic::AtomicU64; 64] =
    [const { core::sync::atomic::AtomicU64::new(0) }; 64];

fn main() {
    let n = common::arg(1, 17) as u32;
    if n > 30 {
        common::fail("depth must be at most 30");
    }
    let min_depth = 4;
    let max_depth = n.max(min_depth + 2);
    let t0 = common::now_ns();

    let stretch = max_depth + 1;
    let c = item_check(&bottom_up_tree(stretch));
    if c != nodes(stretch) {
        common::fail("wrong stretch tree check");
    }
    let long_lived = bottom_up_tree(max_depth);

    let mut d = min_depth;
    while d <= max_depth {
        WG.add(1);
        gort::go(move || {
            let iterations = 1u64 << (max_depth - d + min_depth);
            let mut check = 0;
            for _ in 0..iterations {
                check += item_check(&bottom_up_tree(d));
            }
            CHECKS[d as usize].store(check, core::sync::atomic::Ordering::Relaxed);
            WG.done();
        });
        d += 2;
    }
    WG.wait();
    let mut d = min_depth;
    while d <= max_depth {
        let iterations = 1u64 << (max_depth - d + min_depth);
        if CHECKS[d as usize].load(core::sync::atomic::Ordering::Relaxed) != iterations * nodes(d) {
            common::fail("wrong check");
        }
        d += 2;
    }
    if item_check(&long_lived) != nodes(max_depth) {
        common::fail("wrong long-lived tree check");
    }
    let t1 = common::now_ns();
    gort::println!("seconds={:.3}", (t1 - t0) as f64 / 1e9);
}
