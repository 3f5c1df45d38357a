//! Goroutine-aware locks, after Go's sync package: a blocked goroutine parks (on a
//! semaphore, sema.rs), never its thread.
//!
//! - `RawMutex` is Go's sync.Mutex, state machine and all: a CAS fast path; brief
//!   spinning while the holder is running on another P; then parking, FIFO. A waiter
//!   that has waited over 1 ms switches the mutex to starvation mode, where unlock
//!   hands ownership straight to the first waiter (no barging) until the queue is
//!   short again. Unlocking an unlocked RawMutex is fatal, as in Go.
//! - `Mutex<T>` wraps a RawMutex around data with a guard.
//! - `WaitGroup` is Go's: a 64-bit state (counter high, waiters low) and a semaphore.
//! - `RwLock<T>` is Go's RWMutex: writer-preferring (a waiting writer makes new
//!   readers wait), readers and the writer parked on semaphores.
//! - `Once` is Go's: a done flag and a mutex for the slow path.
//! - `Cond` is Go's, on a ticket-based notifyList (sema.rs).
//!
//! Everything here runs on a goroutine, outside [`blocking`](crate::blocking) (a
//! lock may park the caller, an unlock readies a waiter onto the caller's P), and
//! nothing allocates.
//!
//! Orderings follow Go's sync package, where every atomic is sequentially
//! consistent, weakened only where the pairing is plain: an operation that takes a
//! lock (or a read lock) is Acquire, one that releases it is Release, and the
//! handoffs through semaphores are ordered by sema.rs (its SeqCst counter and
//! root lock, and goready's queue publication). Each site says which case it is.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering::*};

use crate::runtime::runtime2::WaitReason;
use crate::runtime::sema::{semacquire, semacquire1, semrelease, semrelease1};

const MUTEX_LOCKED: i32 = 1; // mutex is locked
const MUTEX_WOKEN: i32 = 2; // a waiter was woken and is competing
const MUTEX_STARVING: i32 = 4; // ownership is handed off to waiters
const MUTEX_WAITER_SHIFT: i32 = 3; // the rest is the number of waiters
const STARVATION_THRESHOLD_NS: i64 = 1_000_000;
const ACTIVE_SPIN_CNT: u32 = 30;

/// Go's sync.Mutex without data: `lock` and `unlock` may be called from different
/// goroutines, as in Go. Prefer [`Mutex<T>`], whose guard cannot be misused.
pub struct RawMutex {
    state: AtomicI32,
    sema: AtomicU32,
}

impl RawMutex {
    /// An unlocked mutex.
    pub const fn new() -> RawMutex {
        RawMutex {
            state: AtomicI32::new(0),
            sema: AtomicU32::new(0),
        }
    }

    /// Lock, parking the goroutine while another holds it.
    #[inline]
    pub fn lock(&self) {
        // Fast path: grab unlocked mutex. Acquire: takes the lock (pairs with
        // unlock's Release); Relaxed on failure: lock_slow starts over.
        if self
            .state
            .compare_exchange(0, MUTEX_LOCKED, Acquire, Relaxed)
            .is_ok()
        {
            return;
        }
        self.lock_slow();
    }

    /// Try to lock without waiting.
    pub fn try_lock(&self) -> bool {
        // Relaxed: a peek; the CAS below takes the lock with Acquire.
        let old = self.state.load(Relaxed);
        if old & (MUTEX_LOCKED | MUTEX_STARVING) != 0 {
            return false;
        }
        self.state
            .compare_exchange(old, old | MUTEX_LOCKED, Acquire, Relaxed)
            .is_ok()
    }

    #[cold]
    fn lock_slow(&self) {
        let mut wait_start: i64 = 0;
        let mut starving = false;
        let mut awoke = false;
        let mut iter = 0;
        // Relaxed loads of state in this loop: each only feeds the next CAS, which
        // takes the lock with Acquire when it does.
        let mut old = self.state.load(Relaxed);
        loop {
            // Don't spin in starvation mode, ownership is handed off to waiters so
            // we won't be able to acquire the mutex anyway.
            if old & (MUTEX_LOCKED | MUTEX_STARVING) == MUTEX_LOCKED
                && crate::runtime::proc::sync_runtime_canspin(iter)
            {
                // Active spinning makes sense. Try to set mutexWoken flag to inform
                // Unlock to not wake other blocked goroutines. Relaxed: the flag is a
                // hint to unlock and publishes nothing.
                if !awoke
                    && old & MUTEX_WOKEN == 0
                    && old >> MUTEX_WAITER_SHIFT != 0
                    && self
                        .state
                        .compare_exchange(old, old | MUTEX_WOKEN, Relaxed, Relaxed)
                        .is_ok()
                {
                    awoke = true;
                }
                for _ in 0..ACTIVE_SPIN_CNT {
                    core::hint::spin_loop();
                }
                iter += 1;
                old = self.state.load(Relaxed); // Relaxed: see above
                continue;
            }
            let mut new = old;
            // Don't try to acquire starving mutex, new arriving goroutines must queue.
            if old & MUTEX_STARVING == 0 {
                new |= MUTEX_LOCKED;
            }
            if old & (MUTEX_LOCKED | MUTEX_STARVING) != 0 {
                new += 1 << MUTEX_WAITER_SHIFT;
            }
            // The current goroutine switches mutex to starvation mode. But if the
            // mutex is currently unlocked, don't do the switch: Unlock expects that
            // a starving mutex has waiters.
            if starving && old & MUTEX_LOCKED != 0 {
                new |= MUTEX_STARVING;
            }
            if awoke {
                // The goroutine has been woken from sleep, so we need to reset the
                // flag in either case.
                if new & MUTEX_WOKEN == 0 {
                    crate::runtime::runtime1::throw("sync: inconsistent mutex state");
                }
                new &= !MUTEX_WOKEN;
            }
            // Acquire: if old was unlocked, this takes the lock (pairs with unlock's
            // Release); Relaxed on failure: we reload and retry.
            if self
                .state
                .compare_exchange(old, new, Acquire, Relaxed)
                .is_ok()
            {
                if old & (MUTEX_LOCKED | MUTEX_STARVING) == 0 {
                    break; // locked the mutex with CAS
                }
                // If we were already waiting before, queue at the front of the queue.
                let lifo = wait_start != 0;
                if wait_start == 0 {
                    wait_start = crate::runtime::vdso_linux::nanotime();
                }
                semacquire1(&self.sema, lifo, WaitReason::Semacquire);
                starving = starving
                    || crate::runtime::vdso_linux::nanotime() - wait_start
                        > STARVATION_THRESHOLD_NS;
                // Acquire: in starvation mode the lock was handed to us (the
                // unlocker's Release fetch_sub; the semaphore orders it too).
                old = self.state.load(Acquire);
                if old & MUTEX_STARVING != 0 {
                    // If this goroutine was woken and mutex is in starvation mode,
                    // ownership was handed off to us but mutex is in somewhat
                    // inconsistent state: mutexLocked is not set and we are still
                    // accounted as waiter. Fix that.
                    if old & (MUTEX_LOCKED | MUTEX_WOKEN) != 0 || old >> MUTEX_WAITER_SHIFT == 0 {
                        crate::runtime::runtime1::throw("sync: inconsistent mutex state");
                    }
                    let mut delta = MUTEX_LOCKED - (1 << MUTEX_WAITER_SHIFT);
                    if !starving || old >> MUTEX_WAITER_SHIFT == 1 {
                        // Exit starvation mode. Critical to do it here and consider
                        // wait time: starvation mode is so inefficient that two
                        // goroutines can go lock-step infinitely once they switch
                        // mutex to starvation mode.
                        delta -= MUTEX_STARVING;
                    }
                    // Acquire: taking the handed-off lock.
                    self.state.fetch_add(delta, Acquire);
                    break;
                }
                awoke = true;
                iter = 0;
            } else {
                old = self.state.load(Relaxed);
            }
        }
    }

    /// Unlock. Fatal ("sync: unlock of unlocked mutex") if it is not locked.
    #[inline]
    pub fn unlock(&self) {
        // Fast path: drop lock bit. Release: publishes the critical section to the
        // next holder's Acquire.
        let new = self.state.fetch_sub(MUTEX_LOCKED, Release) - MUTEX_LOCKED;
        if new != 0 {
            // Outlined slow path to allow inlining the fast path.
            self.unlock_slow(new);
        }
    }

    #[cold]
    fn unlock_slow(&self, new: i32) {
        if (new + MUTEX_LOCKED) & MUTEX_LOCKED == 0 {
            crate::runtime::runtime1::throw("sync: unlock of unlocked mutex");
        }
        if new & MUTEX_STARVING == 0 {
            let mut old = new;
            loop {
                // If there are no waiters or a goroutine has already been woken or
                // grabbed the lock, no need to wake anyone. In starvation mode
                // ownership is directly handed off from unlocking goroutine to the
                // next waiter.
                if old >> MUTEX_WAITER_SHIFT == 0
                    || old & (MUTEX_LOCKED | MUTEX_WOKEN | MUTEX_STARVING) != 0
                {
                    return;
                }
                // Grab the right to wake someone. Release: stronger than needed (the
                // fetch_sub in unlock already released the lock; this only claims
                // the wakeup), kept as Go's sequentially consistent CAS. Relaxed on
                // failure: we reload and retry.
                let new = (old - (1 << MUTEX_WAITER_SHIFT)) | MUTEX_WOKEN;
                if self
                    .state
                    .compare_exchange(old, new, Release, Relaxed)
                    .is_ok()
                {
                    semrelease1(&self.sema, false);
                    return;
                }
                // Relaxed: only feeds the next CAS.
                old = self.state.load(Relaxed);
            }
        } else {
            // Starving mode: handoff mutex ownership to the next waiter, and yield
            // our time slice so that the next waiter can start to run immediately.
            semrelease1(&self.sema, true);
        }
    }
}

impl Default for RawMutex {
    fn default() -> Self {
        RawMutex::new()
    }
}

/// A mutual-exclusion lock protecting a T, for goroutines (Go's sync.Mutex).
pub struct Mutex<T: ?Sized> {
    raw: RawMutex,
    data: UnsafeCell<T>,
}

// SAFETY: the Mutex owns its T; sending it sends the T (T: Send), as std's Mutex.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: the RawMutex gives one goroutine at a time access to data, so sharing
// the Mutex only ever moves access to the T between threads (T: Send), as std's.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `v`.
    pub const fn new(v: T) -> Mutex<T> {
        Mutex {
            raw: RawMutex::new(),
            data: UnsafeCell::new(v),
        }
    }

    /// The data, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Lock, parking the goroutine while another holds the lock.
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.raw.lock();
        MutexGuard { m: self }
    }

    /// Lock if nobody holds the lock now (Go's `TryLock`).
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        // A guard only once the lock is ours: dropping one unlocks.
        self.raw.try_lock().then(|| MutexGuard { m: self })
    }

    /// The data, through a unique borrow: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

/// Access to a locked Mutex's data; unlocks when dropped.
pub struct MutexGuard<'a, T: ?Sized> {
    m: &'a Mutex<T>,
}

// SAFETY: a guard only hands out &T across threads, like std's.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: we hold the lock.
        unsafe { &*self.m.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: we hold the lock, exclusively.
        unsafe { &mut *self.m.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.m.raw.unlock();
    }
}

/// Waits for a collection of goroutines to finish (Go's sync.WaitGroup).
pub struct WaitGroup {
    /// High 32 bits: the counter; low 32 bits: the number of waiters.
    state: AtomicU64,
    sema: AtomicU32,
}

impl WaitGroup {
    /// A WaitGroup with a zero counter.
    pub const fn new() -> WaitGroup {
        WaitGroup {
            state: AtomicU64::new(0),
            sema: AtomicU32::new(0),
        }
    }

    /// Add delta (possibly negative) to the counter. When it reaches zero, every
    /// goroutine blocked in wait is released. A negative counter panics.
    #[track_caller]
    pub fn add(&self, delta: i32) {
        // AcqRel: Release so that a Done's work is visible to the waiter that sees
        // the counter reach zero; Acquire so that the last Add, which wakes the
        // waiters, has seen every earlier Done (a release sequence on state).
        let state = self
            .state
            .fetch_add(((delta as i64) << 32) as u64, AcqRel)
            .wrapping_add(((delta as i64) << 32) as u64);
        let v = (state >> 32) as i32;
        let w = state as u32;
        if v < 0 {
            panic!("sync: negative WaitGroup counter");
        }
        if w != 0 && delta > 0 && v == delta {
            panic!("sync: WaitGroup misuse: Add called concurrently with Wait");
        }
        if v > 0 || w == 0 {
            return;
        }
        // This goroutine has set counter to 0 when waiters > 0. Now there can't be
        // concurrent mutations of state: Adds must not happen concurrently with Wait,
        // Wait does not increment waiters if it sees counter == 0.
        // Acquire: as Go's atomic load; a misuse check.
        if self.state.load(Acquire) != state {
            panic!("sync: WaitGroup misuse: Add called concurrently with Wait");
        }
        // Reset waiters count to 0. Release: pairs with the woken waiter's Acquire
        // reuse check (the semaphore orders it too).
        self.state.store(0, Release);
        for _ in 0..w {
            semrelease(&self.sema);
        }
    }

    /// Decrement the counter by one.
    #[track_caller]
    pub fn done(&self) {
        self.add(-1)
    }

    /// Block until the counter is zero.
    #[track_caller]
    pub fn wait(&self) {
        // Acquire: seeing the counter at zero returns at once, so it must also see
        // the work of every Done before it (pairs with add's Release).
        let mut state = self.state.load(Acquire);
        loop {
            let v = (state >> 32) as i32;
            if v == 0 {
                // Counter is 0, no need to wait.
                return;
            }
            // Increment waiters count. AcqRel: as Go's sequentially consistent CAS
            // (the wakeup itself is ordered by the semaphore); Acquire on failure, as
            // the load above.
            match self
                .state
                .compare_exchange(state, state + 1, AcqRel, Acquire)
            {
                Ok(_) => {
                    semacquire(&self.sema);
                    // Acquire: pairs with add's Release reset (a misuse check).
                    if self.state.load(Acquire) != 0 {
                        panic!("sync: WaitGroup is reused before previous Wait has returned");
                    }
                    return;
                }
                Err(s) => state = s,
            }
        }
    }
}

impl Default for WaitGroup {
    fn default() -> Self {
        WaitGroup::new()
    }
}

const RWMUTEX_MAX_READERS: i32 = 1 << 30;

/// Go's sync.RWMutex without data. Writer-preferring: once a writer is waiting,
/// new readers wait until it has had the lock. Prefer [`RwLock<T>`]. Unlocking what
/// is not locked is fatal, as in Go.
pub struct RawRwLock {
    w: RawMutex,             // held if there are pending writers
    writer_sem: AtomicU32,   // semaphore for writers to wait for completing readers
    reader_sem: AtomicU32,   // semaphore for readers to wait for completing writers
    reader_count: AtomicI32, // number of pending readers (negative: a writer is in)
    reader_wait: AtomicI32,  // number of departing readers
}

impl RawRwLock {
    /// An unlocked RWMutex.
    pub const fn new() -> RawRwLock {
        RawRwLock {
            w: RawMutex::new(),
            writer_sem: AtomicU32::new(0),
            reader_sem: AtomicU32::new(0),
            reader_count: AtomicI32::new(0),
            reader_wait: AtomicI32::new(0),
        }
    }

    /// Lock for reading.
    pub fn read_lock(&self) {
        // AcqRel: Acquire takes the read lock (pairs with write_unlock's Release);
        // Release is Go's sequential consistency, not needed for a reader's entry.
        if self.reader_count.fetch_add(1, AcqRel) + 1 < 0 {
            // A writer is pending, wait for it.
            semacquire1(&self.reader_sem, false, WaitReason::Semacquire);
        }
    }

    /// Lock for reading if that needs no wait: no writer holds or waits for the
    /// lock (Go's `TryRLock`).
    pub fn try_read_lock(&self) -> bool {
        // Relaxed: a peek; the CAS below takes the read lock with Acquire.
        let mut c = self.reader_count.load(Relaxed);
        loop {
            if c < 0 {
                return false; // a writer holds or waits for the lock
            }
            // Acquire: takes the read lock (pairs with write_unlock's Release);
            // Relaxed on failure: we retry with the value seen.
            match self
                .reader_count
                .compare_exchange(c, c + 1, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(now) => c = now,
            }
        }
    }

    /// Undo one read_lock. Fatal if not read-locked.
    pub fn read_unlock(&self) {
        // AcqRel: Release publishes the reader's section to the writer, whose
        // fetch_sub on reader_count (Acquire) reads this value or a later one.
        let r = self.reader_count.fetch_sub(1, AcqRel) - 1;
        if r < 0 {
            if r + 1 == 0 || r + 1 == -RWMUTEX_MAX_READERS {
                crate::runtime::runtime1::throw("sync: RUnlock of unlocked RWMutex");
            }
            // A writer is pending. AcqRel: Release for the writer, as above; the
            // last reader's semrelease orders the wakeup.
            if self.reader_wait.fetch_sub(1, AcqRel) - 1 == 0 {
                // The last reader unblocks the writer.
                semrelease1(&self.writer_sem, false);
            }
        }
    }

    /// Lock for writing: waits for other writers, then for the readers in.
    pub fn write_lock(&self) {
        // First, resolve competition with other writers.
        self.w.lock();
        // Announce to readers there is a pending writer. AcqRel: Acquire sees the
        // sections of the readers that left (their Release); Release is Go's
        // sequential consistency.
        let r = self.reader_count.fetch_sub(RWMUTEX_MAX_READERS, AcqRel);
        // Wait for active readers. AcqRel: Acquire, as above, for readers that left
        // through reader_wait.
        if r != 0 && self.reader_wait.fetch_add(r, AcqRel) + r != 0 {
            semacquire1(&self.writer_sem, false, WaitReason::Semacquire);
        }
    }

    /// Lock for writing if that needs no wait: no writer and no reader holds the
    /// lock (Go's `TryLock`).
    pub fn try_write_lock(&self) -> bool {
        if !self.w.try_lock() {
            return false;
        }
        // Acquire: sees the sections of the readers that left (their Release);
        // Relaxed on failure: the lock was not taken.
        if self
            .reader_count
            .compare_exchange(0, -RWMUTEX_MAX_READERS, Acquire, Relaxed)
            .is_err()
        {
            self.w.unlock();
            return false;
        }
        true
    }

    /// Undo write_lock. Fatal if not write-locked.
    pub fn write_unlock(&self) {
        // Announce to readers there is no active writer. AcqRel: Release publishes
        // the writer's section to readers that enter next (their Acquire).
        let r = self.reader_count.fetch_add(RWMUTEX_MAX_READERS, AcqRel) + RWMUTEX_MAX_READERS;
        if r >= RWMUTEX_MAX_READERS {
            crate::runtime::runtime1::throw("sync: Unlock of unlocked RWMutex");
        }
        // Unblock blocked readers, if any.
        for _ in 0..r {
            semrelease1(&self.reader_sem, false);
        }
        // Allow other writers to proceed.
        self.w.unlock();
    }
}

impl Default for RawRwLock {
    fn default() -> Self {
        RawRwLock::new()
    }
}

/// A reader-writer lock protecting a T, for goroutines (Go's sync.RWMutex).
pub struct RwLock<T: ?Sized> {
    raw: RawRwLock,
    data: UnsafeCell<T>,
}

// SAFETY: the RwLock owns its T; sending it sends the T (T: Send), as std's RwLock.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: readers share &T across threads (T: Sync), the writer gets &mut T alone
// (T: Send), as std's RwLock.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// An unlocked lock holding `v`.
    pub const fn new(v: T) -> RwLock<T> {
        RwLock {
            raw: RawRwLock::new(),
            data: UnsafeCell::new(v),
        }
    }

    /// The data, consuming the lock.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Shared access; parks while a writer holds or waits for the lock.
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        self.raw.read_lock();
        RwLockReadGuard { l: self }
    }

    /// Exclusive access; parks until the writer before it and all readers are out.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.raw.write_lock();
        RwLockWriteGuard { l: self }
    }

    /// Shared access if no writer holds or waits for the lock now (Go's
    /// `TryRLock`, std's `try_read`).
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        // A guard only once the lock is ours: dropping one unlocks.
        self.raw
            .try_read_lock()
            .then(|| RwLockReadGuard { l: self })
    }

    /// Exclusive access if nobody holds the lock now (Go's `TryLock`, std's
    /// `try_write`).
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        // A guard only once the lock is ours: dropping one unlocks.
        self.raw
            .try_write_lock()
            .then(|| RwLockWriteGuard { l: self })
    }

    /// The data, through a unique borrow: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

/// Shared access to a read-locked RwLock's data; read-unlocks when dropped.
pub struct RwLockReadGuard<'a, T: ?Sized> {
    l: &'a RwLock<T>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: we hold a read lock: no writer has access.
        unsafe { &*self.l.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.l.raw.read_unlock();
    }
}

/// Exclusive access to a write-locked RwLock's data; unlocks when dropped.
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    l: &'a RwLock<T>,
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: we hold the write lock.
        unsafe { &*self.l.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: we hold the write lock, exclusively.
        unsafe { &mut *self.l.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.l.raw.write_unlock();
    }
}

/// Runs a function exactly once (Go's sync.Once).
pub struct Once {
    done: AtomicU32,
    m: RawMutex,
}

impl Once {
    /// A Once that has not run.
    pub const fn new() -> Once {
        Once {
            done: AtomicU32::new(0),
            m: RawMutex::new(),
        }
    }

    /// Call f if no call_once on this Once has run it yet; every caller returns
    /// only after f has returned.
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        // The fast path is a load: done is set (Release) only after f returned, so
        // seeing it (Acquire) means f's effects are visible.
        if self.done.load(Acquire) == 0 {
            self.do_slow(f);
        }
    }

    #[cold]
    fn do_slow<F: FnOnce()>(&self, f: F) {
        self.m.lock();
        // Relaxed: done is written only under m, which we hold.
        if self.done.load(Relaxed) == 0 {
            f();
            // Release: pairs with call_once's and is_completed's Acquire loads.
            self.done.store(1, Release);
        }
        self.m.unlock();
    }

    /// Whether a call_once has completed.
    pub fn is_completed(&self) -> bool {
        // Acquire: as call_once's fast path.
        self.done.load(Acquire) != 0
    }
}

impl Default for Once {
    fn default() -> Self {
        Once::new()
    }
}

/// A condition variable for goroutines (Go's sync.Cond), used with a [`Mutex<T>`].
pub struct Cond {
    notify: crate::runtime::sema::NotifyList,
}

impl Cond {
    /// A condition variable with no waiters.
    pub const fn new() -> Cond {
        Cond {
            notify: crate::runtime::sema::NotifyList::new(),
        }
    }

    /// Atomically unlock the guard's mutex and park; relock before returning. As in
    /// Go, wake-ups can come without the condition holding: wait in a loop.
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let t = self.notify.add();
        let m = guard.m;
        drop(guard);
        self.notify.wait(t);
        m.lock()
    }

    /// Wake one waiting goroutine, if any (Go's Signal).
    pub fn notify_one(&self) {
        self.notify.notify_one();
    }

    /// Wake all waiting goroutines (Go's Broadcast).
    pub fn notify_all(&self) {
        self.notify.notify_all();
    }
}

impl Default for Cond {
    fn default() -> Self {
        Cond::new()
    }
}
