//! `exit N` ends the process with gort::exit(N); with no argument main returns (0).
#![no_std]
#![no_main]

gort::main!(main);

fn main() {
    if let Some(arg) = gort::env::args().nth(1) {
        let code: i32 = arg
            .to_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                gort::eprintln!("usage: exit [CODE]");
                gort::exit(64)
            });
        gort::println!("exiting with {code}");
        gort::exit(code);
    }
    gort::println!("returning from main");
}
