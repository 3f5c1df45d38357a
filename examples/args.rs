//! Echoes what the kernel passed: `argc=N`, then each argument as `arg[i]=` followed by
//! its raw bytes, the number of environment variables, and the value of every variable
//! named in GORT_SHOW (comma-separated) as `env[NAME]=value` or `env[NAME] unset`.
#![no_std]
#![no_main]

use gort::{env, print, println};

gort::main!(main);

fn main() {
    println!("argc={}", env::args().len());
    for (i, a) in env::args().enumerate() {
        // Raw bytes, not Display: the test checks non-UTF-8 arguments byte for byte.
        let mut line = alloc::vec::Vec::new();
        line.extend_from_slice(alloc::format!("arg[{i}]=").as_bytes());
        line.extend_from_slice(a.as_bytes());
        line.push(b'\n');
        gort::io::stdout().write_all(&line).unwrap();
        if a.to_str().is_none() {
            println!("arg[{i}] lossy={a}");
        }
    }
    println!("environ={}", env::vars_bytes().count());
    if let Some(names) = env::var("GORT_SHOW") {
        for name in names.split(',') {
            match env::var(name) {
                Some(v) => println!("env[{name}]={v}"),
                None => println!("env[{name}] unset"),
            }
        }
    }
    print!("");
}

extern crate alloc;
