//! A test program (`gort::test_main!`) for tests of the runner itself: `passes`
//! returns at once, `hangs` never returns (it sleeps in a loop, so it is not a
//! deadlock either), `panics` panics, `exits3` ends its process with status 3.
//! Run it with a filter, as `cargo test -- NAME` would.
#![no_std]
#![no_main]

gort::test_main!(passes, hangs, panics, exits3);

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
