//! Runtime locks and notes on futexes, after Go's lock_futex.go.
//!
//! `Mutex` is the runtime's internal lock (sched.lock and friends): it blocks the
//! thread, never a goroutine, so it may be taken on g0 and must only be held for short,
//! non-blocking sections. The key is 0 (unlocked), 1 (locked) or 2 (locked, sleepers
//! may exist); an unlocker that sees 2 wakes one sleeper.
//!
//! `Note` is a one-shot sleep/wakeup: `notesleep` blocks the calling thread until
//! `notewakeup`, which must happen at most once between two `noteclear`s. The key is 0
//! (clear) or 1 (woken).

use core::sync::atomic::{AtomicU32, Ordering};

use crate::runtime::sys_linux::{futex_wait, futex_wake, osyield};

const MUTEX_UNLOCKED: u32 = 0;
const MUTEX_LOCKED: u32 = 1;
const MUTEX_SLEEPING: u32 = 2;
/// Spins on a multicore machine before yielding, then sleeping (Go: active_spin=4).
const ACTIVE_SPIN: u32 = 4;
const ACTIVE_SPIN_CNT: u32 = 30;
const PASSIVE_SPIN: u32 = 1;

#[repr(C)]
pub(crate) struct Mutex {
    key: AtomicU32,
}

impl Mutex {
    pub(crate) const fn new() -> Mutex {
        Mutex {
            key: AtomicU32::new(MUTEX_UNLOCKED),
        }
    }

    /// Acquire the lock, sleeping the thread if it is contended.
    /// Acquire ordering: everything the previous holder wrote before unlock is visible.
    pub(crate) fn lock(&self) {
        // Fast path: uncontended.
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
            // Sleep, announcing that there is a sleeper.
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

    /// Release the lock. Must be held by the caller.
    pub(crate) fn unlock(&self) {
        let v = self.key.swap(MUTEX_UNLOCKED, Ordering::Release);
        if v == MUTEX_UNLOCKED {
            crate::runtime::runtime1::throw("unlock of unlocked lock");
        }
        if v == MUTEX_SLEEPING {
            futex_wake(&self.key, 1);
        }
    }
}

impl Default for Mutex {
    fn default() -> Self {
        Mutex::new()
    }
}

#[repr(C)]
pub(crate) struct Note {
    key: AtomicU32,
}

impl Note {
    pub(crate) const fn new() -> Note {
        Note {
            key: AtomicU32::new(0),
        }
    }

    /// Reset the note for another sleep. No sleeper or waker may be using it.
    pub(crate) fn clear(&self) {
        self.key.store(0, Ordering::Relaxed);
    }

    /// Wake the sleeper (or let the next sleep return at once). At most once per clear.
    /// Release: what the waker wrote before is visible to the woken thread.
    pub(crate) fn wakeup(&self) {
        let old = self.key.swap(1, Ordering::Release);
        if old != 0 {
            crate::runtime::runtime1::throw("notewakeup - double wakeup");
        }
        futex_wake(&self.key, 1);
    }

    /// Block the thread until wakeup. Runs on g0 of the sleeping M.
    pub(crate) fn sleep(&self) {
        while self.key.load(Ordering::Acquire) == 0 {
            // Spurious returns (EINTR, EAGAIN) just re-check the key.
            futex_wait(&self.key, 0);
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
            lock: Mutex::new(),
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
