//! `cargo test`: each function listed in gort::test_main! runs as goroutine 1 of its
//! own child process, with libtest's output and exit status.
#![no_std]
#![no_main]

gort::test_main!(channels_carry_values, goroutines_sum_exactly, sleep_waits);

fn channels_carry_values() {
    let c = gort::chan::<&str>(1);
    c.send("hello");
    assert_eq!(c.recv(), Some("hello"));
}

fn goroutines_sum_exactly() {
    let c = gort::chan::<u64>(0);
    for i in 1..=1000u64 {
        let c = c.clone();
        gort::go(move || c.send(i));
    }
    let sum: u64 = (0..1000).map(|_| c.recv().unwrap()).sum();
    assert_eq!(sum, 500_500);
}

fn sleep_waits() {
    let t = gort::time::Instant::now();
    gort::time::sleep(gort::time::Duration::from_millis(20));
    assert!(t.elapsed() >= gort::time::Duration::from_millis(20));
}
