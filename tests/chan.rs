//! Channels and select with Go's semantics (examples/chans.rs, examples/sieve.rs),
//! natively and under qemu-x86_64, with GOMAXPROCS=1 and the default.

mod common;

use common::*;

#[test]
fn prime_sieve_gives_the_first_100_primes() {
    let want: Vec<u64> = (2u64..)
        .filter(|n| (2..*n).take_while(|d| d * d <= *n).all(|d| n % d != 0))
        .take(100)
        .collect();
    each("sieve", &[], |r, mode, procs| {
        r.assert_exit(0);
        let got: Vec<u64> = r.stdout.lines().map(|l| l.parse().unwrap()).collect();
        assert_eq!(got, want, "{mode:?} {procs:?}");
    });
}

#[test]
fn fifo_through_buffered_and_unbuffered_chains() {
    each("chans", &["fifo"], |r, mode, procs| {
        r.assert_exit(0);
        assert_eq!(r.get("buffered.received"), "100000", "{mode:?} {procs:?}");
        assert_eq!(r.get("buffered.ordered"), "true");
        assert_eq!(r.get("chain.received"), "10000");
        assert_eq!(r.get("chain.ordered"), "true");
    });
}

#[test]
fn ten_thousand_goroutine_relay() {
    each("chans", &["relay"], |r, mode, procs| {
        r.assert_exit(0);
        assert_eq!(r.get("relay.result"), "10000", "{mode:?} {procs:?}");
    });
}

#[test]
fn non_blocking_sends_and_receives() {
    each("chans", &["nonblocking"], |r, _, _| {
        r.assert_exit(0);
        for key in [
            "unbuffered.try_recv.empty",
            "unbuffered.try_send.nobody",
            "buffered.try_send1",
            "buffered.try_send2",
            "buffered.try_send3.full",
            "closed.try_recv.closed",
        ] {
            assert_eq!(r.get(key), "true", "{key}");
        }
        assert_eq!(r.get("buffered.len"), "2 cap=2");
        assert_eq!(r.get("buffered.try_recv"), "Ok(1)");
        assert_eq!(r.get("unbuffered.try_send.to_waiter"), "7");
        assert_eq!(r.get("closed.try_recv.drains"), "Ok(2)");
    });
}

#[test]
fn select_is_fair_among_ready_cases() {
    each("chans", &["fair"], |r, mode, procs| {
        r.assert_exit(0);
        for i in 0..4 {
            let n = r.num(&format!("fair.{i}"));
            // 100,000 selects over 4 ready cases: 25,000 each, within 10%.
            assert!(
                (22_500..=27_500).contains(&n),
                "{mode:?} {procs:?}: case {i} chosen {n} times"
            );
        }
    });
}

#[test]
fn multi_way_select_send_loses_and_duplicates_nothing() {
    each("chans", &["multisend"], |r, mode, procs| {
        r.assert_exit(0);
        assert_eq!(r.get("multisend.count"), "30000", "{mode:?} {procs:?}");
        assert_eq!(r.get("multisend.sum"), r.get("multisend.want"));
    });
}

#[test]
fn close_drains_then_gives_none() {
    each("chans", &["close"], |r, _, _| {
        r.assert_exit(0);
        assert_eq!(r.get("close.drained"), "[0, 1, 2, 3, 4]");
        assert_eq!(r.get("close.after"), "None");
        assert_eq!(r.get("close.woken_with_none"), "10");
        assert_eq!(r.get("close.select"), "None");
    });
}

#[test]
fn nil_channels_are_never_chosen() {
    each("chans", &["nil"], |r, _, _| {
        r.assert_exit(0);
        assert_eq!(r.get("nil.chosen"), "0");
        assert_eq!(r.get("nil.other"), "5");
    });
}

#[test]
fn values_are_dropped_exactly_once() {
    each("chans", &["drops"], |r, _, _| {
        r.assert_exit(0);
        assert_eq!(r.get("drops.before_last_handle"), "1");
        assert_eq!(
            r.get("drops.after"),
            "7",
            "buffered values dropped with the channel"
        );
        assert_eq!(
            r.get("drops.losing_send"),
            "1",
            "the losing send's value is dropped"
        );
        assert_eq!(r.get("drops.total"), "2");
    });
}

#[test]
fn zero_sized_types() {
    each("chans", &["zst"], |r, _, _| {
        r.assert_exit(0);
        assert_eq!(r.get("zst.len"), "2");
        assert_eq!(r.get("zst.recv"), "Some(())");
        assert_eq!(r.get("zst.count"), "1000");
    });
}

#[test]
fn channel_misuse_panics_as_go() {
    for (scenario, msg) in [
        ("send-closed", "send on closed channel"),
        ("close-closed", "close of closed channel"),
        ("close-nil", "close of nil channel"),
        ("blocked-send-closed", "send on closed channel"),
        ("select-send-closed", "send on closed channel"),
        ("select-blocked-send-closed", "send on closed channel"),
        ("makechan-huge", "makechan: size out of range"),
    ] {
        for &mode in modes() {
            let r = run(mode, "chans", &[scenario]);
            r.assert_exit(2);
            assert!(
                r.stderr
                    .starts_with(&format!("panic: {msg}\n\ngoroutine 1 [running]:\n")),
                "{scenario}: {}",
                r.stderr
            );
            // The caller's line, never the runtime's (#[track_caller] through chan(),
            // the select! expansion and selectgo).
            assert!(
                r.stderr.contains("examples/chans.rs:") && !r.stderr.contains("src/"),
                "{scenario}: the caller's line: {}",
                r.stderr
            );
        }
    }
}

#[test]
fn empty_select_blocks_forever_and_checkdead_sees_it() {
    for &mode in modes() {
        // A select whose cases are all nil channels: Go's wait reason is "select".
        let r = run(mode, "chans", &["select-nil-forever"]);
        r.assert_exit(2);
        assert_eq!(
            r.stderr,
            "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [select]:\n",
            "{mode:?}"
        );

        let r = run(mode, "chans", &["select-forever"]);
        r.assert_exit(2);
        // Each listed goroutine but main says where it was started (the `go` call).
        let (head, created) = r
            .stderr
            .split_once("created by goroutine 1\n\texamples/chans.rs:")
            .unwrap_or_else(|| panic!("{mode:?}: {}", r.stderr));
        assert_eq!(
            head,
            "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [select (no cases)]:\n\ngoroutine 2 [chan receive]:\n"
        );
        assert!(
            created.ends_with('\n')
                && created
                    .trim_end()
                    .split(':')
                    .all(|n| n.parse::<u32>().is_ok()),
            "{created:?}"
        );
    }
}

#[test]
fn selects_of_65_and_200_cases() {
    for &mode in modes() {
        let r = run(mode, "select_big", &["300"]);
        r.assert_exit(0);
        assert_eq!(r.get("select65.ok"), "300", "{mode:?}");
        assert_eq!(r.get("select200.ok"), "300", "{mode:?}");
        assert_eq!(r.get("select200.all_chosen"), "true", "{mode:?}");
    }
}
