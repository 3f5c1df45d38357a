//! A test program (`gort::test_main!`) for tests of the runner itself: `passes`
//! returns at once, `hangs` never returns (it sleeps in a loop, so it is not a
//! deadlock either), `panics` panics, `exits3` ends its process with status 3,
//! `interleaves` prints to stdout and stderr in turn, then panics.
//! Run it with a filter, as `cargo test -- NAME` would.
#![no_std]
#![no_main]

gort::test_main!(passes, hangs, panics, exits3, interleaves);

fn passes() {}

fn hangs() {
    loop {
        gort::time::sleep(gort::time::Duration::from_secs(1));
    }
}

fn panics() {
    panic!("deliberately");
}

fn exits3() {
    gort::exit(3);
}

fn interleaves() {
    gort::println!("out 1");
    gort::eprintln!("err 2");
    gort::println!("out 3");
    panic!("deliberately");
}
