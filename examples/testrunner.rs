//! A test program (`gort::test_main!`) for tests of the runner itself: `passes`
//! returns at once, `hangs` never returns (it sleeps in a loop, so it is not a
//! deadlock either). Run it with a filter, as `cargo test -- NAME` would.
#![no_std]
#![no_main]

gort::test_main!(passes, hangs);

fn passes() {}

fn hangs() {
    loop {
        gort::time::sleep(gort::time::Duration::from_secs(1));
    }
}
