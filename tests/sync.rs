//! RwLock, Once and Cond (examples/syncx.rs), natively and under qemu-x86_64, with
//! GOMAXPROCS=1 and the default: they park goroutines, never threads.

mod common;

use common::*;

#[test]
fn rwlock_readers_share_and_writers_exclude() {
    each("syncx", &["rwlock"], |r, _, _| {
        r.assert_exit(0);
        assert_eq!(r.get("rwlock.value"), "20000 20000");
        assert_eq!(r.get("rwlock.broken"), "0");
        assert_eq!(r.get("rwlock.readers_overlapped"), "true");
    });
}

#[test]
fn rwlock_prefers_a_waiting_writer() {
    each("syncx", &["writer-first"], |r, _, _| {
        r.assert_exit(0);
        assert_eq!(
            r.get("writer-first.order"),
            "main unlocks,writer,late reader"
        );
    });
}

#[test]
fn once_runs_exactly_once_before_anyone_returns() {
    each("syncx", &["once"], |r, _, _| {
        r.assert_exit(0);
        assert_eq!(r.get("once.calls"), "1");
        assert_eq!(r.get("once.saw_call"), "100");
    });
}

#[test]
fn cond_signal_wakes_one_broadcast_wakes_all() {
    each("syncx", &["cond"], |r, _, _| {
        r.assert_exit(0);
        assert_eq!(r.get("cond.after_signal"), "1");
        assert_eq!(r.get("cond.after_broadcast"), "10");
    });
}

/// A Mutex in starvation mode, unlocked inside a NoPreempt section: the unlock
/// hands the lock to the waiter without yielding (Go yields only when m.locks is
/// 0), so the program neither dies ("blocked or yielded inside a NoPreempt
/// section", as it did) nor loses the waiter.
#[test]
fn a_starving_mutex_unlocked_under_nopreempt_hands_over_without_yielding() {
    each("syncx", &["starving-unlock"], |r, mode, procs| {
        r.assert_exit(0);
        assert_eq!(r.stderr, "", "{mode:?} {procs:?}");
        assert_eq!(r.get("starving.count"), "1", "{mode:?} {procs:?}");
    });
}

/// A try_lock that fails leaves the lock to its holder: it unlocked it (the guard
/// was built, and dropped, whatever try_lock returned), so the holder's own unlock
/// was then `fatal error: sync: unlock of unlocked mutex`, and meanwhile another
/// goroutine could lock a mutex still in use.
#[test]
fn a_failed_try_lock_leaves_the_mutex_locked() {
    each("syncx", &["trylock"], |r, mode, procs| {
        assert_eq!(r.stderr, "", "{mode:?} {procs:?}");
        r.assert_exit(0);
        assert_eq!(r.get("trylock.while_held"), "false");
        assert_eq!(r.get("trylock.other_got_it"), "false");
        assert_eq!(r.get("trylock.value_while_held"), "0");
        assert_eq!(r.get("trylock.after_unlock"), "1");
    });
}

/// RwLock::try_read and try_write (std's names, Go's TryRLock and TryLock): a
/// reader is refused while a writer holds or waits, a writer while anyone holds.
#[test]
fn rwlock_try_read_and_try_write_follow_go() {
    each("syncx", &["tryrw"], |r, mode, procs| {
        assert_eq!(r.stderr, "", "{mode:?} {procs:?}");
        r.assert_exit(0);
        assert_eq!(r.get("tryrw.readers"), "yy writer=n");
        assert_eq!(r.get("tryrw.while_written read"), "n write=n");
        assert_eq!(r.get("tryrw.writer_waiting read"), "n");
        assert_eq!(r.get("tryrw.value"), "9");
    });
}

#[test]
fn runlock_of_unlocked_rwmutex_is_fatal() {
    each("syncx", &["runlock"], |r, _, _| {
        r.assert_exit(2);
        assert_eq!(r.stderr, "fatal error: sync: RUnlock of unlocked RWMutex\n");
    });
}

#[test]
fn scoped_goroutines_borrow_locals_and_are_awaited() {
    each("scoped", &["100000"], |r, mode, procs| {
        r.assert_exit(0);
        assert_eq!(r.get("sum"), "4999950000", "{mode:?} {procs:?}");
        assert_eq!(r.get("goroutines"), "100 of 100", "{mode:?} {procs:?}");
        assert_eq!(r.get("borrowed_after"), "100000");
    });
}
