//! Runtime locks and notes on futexes, after Go's lock_futex.go.
//!
//! `Mutex` is the runtime's internal lock (sched.lock and friends): it blocks the
//! thread, never a goroutine, so it may be taken on g0 and must only be held for short,
//! non-blocking sections. The key is 0 (unlocked), 1 (locked) or 2 (locked, sleepers
//! may exist); an unlocker that sees 2 wakes one sleeper.
//!
//! Holding a runtime lock pins the goroutine to its M, as Go's lock2 does: `lock`
//! counts the lock in `m.locks` *before* acquiring it and `unlock` uncounts it
//! *after* releasing it, so a goroutine is never preempted (moved to another M, or
//! descheduled while others spin on its lock) with a runtime lock held. Each lock has
//! a rank (lockrank.rs); debug builds check the order in which locks are taken and
//! can assert that a lock is held.
//!
//! `Note` is a one-shot sleep/wakeup: `notesleep` blocks the calling thread until
//! `notewakeup`, which must happen at most once between two `noteclear`s. The key is 0
//! (clear) or 1 (woken).

use core::sync::atomic::{AtomicU32, Ordering};

use super::lockrank::LockRank;
use super::proc::{mlocks_dec, mlocks_inc};
use crate::runtime::sys_linux::{futex_wait, futex_wake, osyield};

const MUTEX_UNLOCKED: u32 = 0;
const MUTEX_LOCKED: u32 = 1;
const MUTEX_SLEEPING: u32 = 2;
/// Spins on a multicore machine before yielding, then sleeping (Go: active_spin=4).
const ACTIVE_SPIN: u32 = 4;
const ACTIVE_SPIN_CNT: u32 = 30;
const PASSIVE_SPIN: u32 = 1;

/// A runtime lock (Go's mutex).
#[repr(C)]
pub(crate) struct Mutex {
    key: AtomicU32,
    /// Where this lock sits in the lock order (checked in debug builds only).
    #[cfg(debug_assertions)]
    rank: LockRank,
}

impl Mutex {
    /// An unlocked mutex of the given rank.
    pub(crate) const fn new(rank: LockRank) -> Mutex {
        #[cfg(not(debug_assertions))]
        let _ = rank;
        Mutex {
            key: AtomicU32::new(MUTEX_UNLOCKED),
            #[cfg(debug_assertions)]
            rank,
        }
    }

    /// Acquire the lock, sleeping the thread if it is contended. Counts in m.locks
    /// until unlock. Runs on any g whose M is set up (after settls).
    #[inline]
    pub(crate) fn lock(&self) {
        mlocks_inc();
        #[cfg(debug_assertions)]
        super::lockrank::acquire(self as *const Mutex as usize, self.rank);
        self.lock2();
    }

    /// Release the lock. Must be held by the current M. Runs on any g; never blocks.
    #[inline]
    pub(crate) fn unlock(&self) {
        #[cfg(debug_assertions)]
        super::lockrank::release(self as *const Mutex as usize, self.rank);
        self.unlock2();
        mlocks_dec();
    }

    /// Debug builds: throw unless the current M holds this lock (Go's
    /// assertLockHeld). Release builds: nothing. Runs on any g.
    #[inline(always)]
    pub(crate) fn assert_held(&self) {
        #[cfg(debug_assertions)]
        if !super::lockrank::held(self as *const Mutex as usize) {
            crate::runtime::print::rt_eprintln!(
                "runtime: caller requires a {} lock it does not hold",
                self.rank.name()
            );
            crate::runtime::runtime1::throw("not holding required lock!");
        }
    }

    /// Acquire the key. Acquire ordering: everything the previous holder wrote
    /// before unlock is visible. Every exchange that can take the lock below is
    /// Acquire for that reason, pairing with unlock2's Release swap.
    fn lock2(&self) {
        // Fast path: uncontended. Acquire: takes the lock (see above).
        let mut v = self.key.swap(MUTEX_LOCKED, Ordering::Acquire);
        if v == MUTEX_UNLOCKED {
            return;
        }
        // wait is LOCKED or SLEEPING depending on whether there is a thread sleeping
        // on this mutex. If we ever change the key from SLEEPING to some other
        // value, we must be careful to change it back to SLEEPING before returning,
        // to ensure that the sleeping thread gets its wakeup call.
        let mut wait = v;
        loop {
            for i in 0..ACTIVE_SPIN + PASSIVE_SPIN {
                // Relaxed: a peek; the CAS that follows takes the lock with Acquire
                // (Relaxed on failure: nothing was taken).
                while self.key.load(Ordering::Relaxed) == MUTEX_UNLOCKED {
                    if self
                        .key
                        .compare_exchange(
                            MUTEX_UNLOCKED,
                            wait,
                            Ordering::Acquire,
                            Ordering::Relaxed,
                        )
                        .is_ok()
                    {
                        return;
                    }
                }
                if i < ACTIVE_SPIN {
                    for _ in 0..ACTIVE_SPIN_CNT {
                        core::hint::spin_loop();
                    }
                } else {
                    osyield();
                }
            }
            // Sleep, announcing that there is a sleeper. Acquire: if the lock was
            // free, this swap takes it.
            v = self.key.swap(MUTEX_SLEEPING, Ordering::Acquire);
            if v == MUTEX_UNLOCKED {
                return;
            }
            // Other threads may sleep here too: from now on, take the lock as
            // SLEEPING so that our unlock wakes them.
            wait = MUTEX_SLEEPING;
            futex_wait(&self.key, MUTEX_SLEEPING);
        }
    }

    /// Release the key. Release ordering: pairs with lock2's Acquire.
    fn unlock2(&self) {
        // Release: publishes the critical section to the next holder (see above).
        let v = self.key.swap(MUTEX_UNLOCKED, Ordering::Release);
        if v == MUTEX_UNLOCKED {
            crate::runtime::runtime1::throw("unlock of unlocked lock");
        }
        if v == MUTEX_SLEEPING {
            futex_wake(&self.key, 1);
        }
    }
}

/// A runtime Mutex around the data it protects, for state that is only ever
/// touched under one lock (the heap, the stack pool): `lock` returns a guard that
/// derefs to the data and unlocks when dropped.
pub(crate) struct Locked<T> {
    lock: Mutex,
    data: core::cell::UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, which exists only while the lock
// is held; T moves between threads with it.
unsafe impl<T: Send> Sync for Locked<T> {}

impl<T> Locked<T> {
    /// v, protected by a lock of the given rank.
    pub(crate) const fn new(rank: LockRank, v: T) -> Locked<T> {
        Locked {
            lock: Mutex::new(rank),
            data: core::cell::UnsafeCell::new(v),
        }
    }

    /// Take the lock (counting in m.locks, as Mutex::lock). Runs on any g.
    pub(crate) fn lock(&self) -> LockedGuard<'_, T> {
        self.lock.lock();
        LockedGuard { l: self }
    }
}

/// Access to a Locked's data while its lock is held.
pub(crate) struct LockedGuard<'a, T> {
    l: &'a Locked<T>,
}

impl<T> core::ops::Deref for LockedGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the lock is held.
        unsafe { &*self.l.data.get() }
    }
}

impl<T> core::ops::DerefMut for LockedGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while the lock is held, and is unique.
        unsafe { &mut *self.l.data.get() }
    }
}

impl<T> Drop for LockedGuard<'_, T> {
    fn drop(&mut self) {
        self.l.lock.unlock();
    }
}

/// A one-shot sleep/wakeup for one thread (Go's note).
#[repr(C)]
pub(crate) struct Note {
    key: AtomicU32,
}

impl Note {
    /// A clear note.
    pub(crate) const fn new() -> Note {
        Note {
            key: AtomicU32::new(0),
        }
    }

    /// Reset the note for another sleep. No sleeper or waker may be using it. Runs on
    /// the sleeper's thread (after its sleep returned) or before the note is shared.
    pub(crate) fn clear(&self) {
        // Relaxed: nobody uses the note now; the next waker learns of the sleeper
        // (and so sees this store) through the lock or queue that hands it over.
        self.key.store(0, Ordering::Relaxed);
    }

    /// Wake the sleeper (or let the next sleep return at once). At most once per clear.
    /// Release: what the waker wrote before is visible to the woken thread. Any thread.
    pub(crate) fn wakeup(&self) {
        // Release: see above; pairs with sleep's Acquire load.
        let old = self.key.swap(1, Ordering::Release);
        if old != 0 {
            crate::runtime::runtime1::throw("notewakeup - double wakeup");
        }
        futex_wake(&self.key, 1);
    }

    /// Block the thread until wakeup. Runs on g0 of the sleeping M, with no runtime
    /// lock held.
    pub(crate) fn sleep(&self) {
        // Acquire: pairs with wakeup's Release swap.
        while self.key.load(Ordering::Acquire) == 0 {
            // Spurious returns (EINTR, EAGAIN) just re-check the key.
            futex_wait(&self.key, 0);
        }
    }

    /// Block the thread until wakeup or until ns nanoseconds have passed (Go's
    /// notetsleep); returns whether it was woken. A timed futex wait is never
    /// restarted after a signal (EINTR even with SA_RESTART), so each pass sleeps
    /// for what is left of the deadline. Runs on g0, with no runtime lock held.
    pub(crate) fn sleep_timeout(&self, ns: i64) -> bool {
        let deadline = crate::runtime::vdso_linux::nanotime().saturating_add(ns);
        loop {
            // Acquire: as in sleep.
            if self.key.load(Ordering::Acquire) != 0 {
                return true;
            }
            let left = deadline - crate::runtime::vdso_linux::nanotime();
            if left <= 0 {
                return false;
            }
            crate::runtime::sys_linux::futex_wait_timeout(&self.key, 0, left);
        }
    }
}

impl Default for Note {
    fn default() -> Self {
        Note::new()
    }
}

#[cfg(test)]
mod tests {
    //! Hammer the runtime lock from more threads than cores, so that threads really
    //! sleep in the futex: a lost wakeup hangs the test, a broken exclusion loses
    //! increments.
    use super::*;
    extern crate std;
    use std::sync::Arc;
    use std::vec::Vec;

    struct Shared {
        lock: Mutex,
        count: core::cell::UnsafeCell<u64>,
    }
    // SAFETY: count is only touched with lock held.
    unsafe impl Sync for Shared {}

    #[test]
    fn contended_lock_excludes_and_wakes() {
        const THREADS: usize = 8;
        const ITERS: u64 = 100_000;
        let s = Arc::new(Shared {
            lock: Mutex::new(LockRank::Leaf),
            count: core::cell::UnsafeCell::new(0),
        });
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in 0..ITERS {
                        s.lock.lock();
                        // SAFETY: we hold the lock.
                        unsafe { *s.count.get() += 1 };
                        if i % 1000 == 0 {
                            std::thread::yield_now(); // hold it across a reschedule
                        }
                        s.lock.unlock();
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        // SAFETY: all threads are done.
        assert_eq!(unsafe { *s.count.get() }, THREADS as u64 * ITERS);
    }

    #[test]
    fn note_wakes_a_sleeper_once() {
        for _ in 0..200 {
            let n = Arc::new(Note::new());
            let n2 = n.clone();
            let h = std::thread::spawn(move || n2.sleep());
            n.wakeup();
            h.join().unwrap();
            n.clear();
        }
    }
}
