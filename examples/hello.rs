//! The smallest gort program: prints "hello, world" and exits 0.
#![no_std]
#![no_main]

gort::main!(main);

fn main() {
    gort::println!("hello, world");
}
