//! Semaphores for goroutines, after Go's sema.go: the sleep/wakeup underneath
//! sync.Mutex, WaitGroup and friends.
//!
//! A semaphore is a u32 counter somewhere in user memory. `semacquire` waits until
//! it is > 0 and decrements it; `semrelease` increments it and wakes one waiter.
//! Waiters hang off a table of 251 roots hashed by address. Each root has a runtime
//! lock, a waiter count (`nwait`, read without the lock so that a release with no
//! waiters costs one atomic load), and a list of per-address nodes: the first waiting
//! sudog of each address, with the other waiters of that address linked behind it
//! (Go keeps the nodes in a treap; a root rarely holds more than a few addresses).
//!
//! A sudog here lives on the waiting goroutine's own stack: the goroutine is parked
//! for exactly as long as the sudog is on a list (it is dequeued before it is
//! readied), so no allocation is needed.
//!
//! Ordering: a waiter increments nwait, then re-checks the counter; a releaser
//! increments the counter, then reads nwait (both SeqCst). Either the waiter sees the
//! count or the releaser sees the waiter.

use core::ptr;
use core::sync::atomic::{
    AtomicU32,
    Ordering::{Relaxed, SeqCst},
};

use crate::runtime::lock_futex::Mutex;
use crate::runtime::lockrank::LockRank;
use crate::runtime::proc::{getg, getm, goparkunlock, goready, goyield};
use crate::runtime::runtime2::{WaitReason, G};

const SEMTABSZ: usize = 251;

/// A waiting goroutine, on its own stack.
pub(crate) struct Sudog {
    g: *mut G,
    addr: usize,
    /// Next waiter for the same address (only meaningful from the address node).
    waitlink: *mut Sudog,
    /// Last waiter for the same address (on the address node only).
    waittail: *mut Sudog,
    /// Next address node of the root (on address nodes only).
    nextaddr: *mut Sudog,
    /// Set to 1 by a handoff release: the semaphore was acquired for us.
    ticket: u32,
}

impl Sudog {
    fn new() -> Sudog {
        Sudog {
            g: ptr::null_mut(),
            addr: 0,
            waitlink: ptr::null_mut(),
            waittail: ptr::null_mut(),
            nextaddr: ptr::null_mut(),
            ticket: 0,
        }
    }
}

#[repr(align(64))] // one root per cache line: roots are independent locks
struct SemaRoot {
    lock: Mutex,
    /// Waiters on this root (all addresses). Atomic: read without the lock.
    nwait: AtomicU32,
    /// First address node. Protected by lock.
    head: core::cell::UnsafeCell<*mut Sudog>,
}

// SAFETY: `head` and the sudogs it reaches are only touched with `lock` held.
unsafe impl Sync for SemaRoot {}

static SEMTABLE: [SemaRoot; SEMTABSZ] = [const {
    SemaRoot {
        lock: Mutex::new(LockRank::SemaRoot),
        nwait: AtomicU32::new(0),
        head: core::cell::UnsafeCell::new(ptr::null_mut()),
    }
}; SEMTABSZ];

/// The root for addr. Any g.
fn semroot(addr: &AtomicU32) -> &'static SemaRoot {
    &SEMTABLE[(addr.as_ptr() as usize >> 3) % SEMTABSZ]
}

/// Try to decrement a positive counter. Any g; no lock needed.
fn cansemacquire(addr: &AtomicU32) -> bool {
    // SeqCst (load and CAS): the waiter's half of the nwait handshake (file head).
    let mut v = addr.load(SeqCst);
    loop {
        if v == 0 {
            return false;
        }
        match addr.compare_exchange_weak(v, v - 1, SeqCst, SeqCst) {
            Ok(_) => return true,
            Err(x) => v = x,
        }
    }
}

impl SemaRoot {
    /// Add s as a waiter on addr: at the back of addr's queue, or at the front if
    /// lifo. Any g; no allocation.
    ///
    /// # Safety
    /// lock is held; s is on no list, and stays put (and live) until dequeued.
    unsafe fn queue(&self, addr: usize, s: *mut Sudog, lifo: bool) {
        // SAFETY: s is live and on no list yet: its fields are ours.
        unsafe {
            (*s).addr = addr;
            (*s).waitlink = ptr::null_mut();
            (*s).waittail = ptr::null_mut();
        }
        // The invariant for the blocks below: lock is held (our caller's contract),
        // so head and the lists are ours; pt points at head or at a listed node's
        // nextaddr; listed sudogs are live (their goroutines stay parked until
        // dequeued).
        let mut pt: *mut *mut Sudog = self.head.get();
        loop {
            // SAFETY: pt is head or a listed node's link, ours under the lock.
            let t = unsafe { *pt };
            if t.is_null() {
                break;
            }
            // SAFETY: t is listed, so live.
            if unsafe { (*t).addr } == addr {
                if lifo {
                    // s replaces t as the address node, t goes behind it.
                    // SAFETY: t and the link at pt are listed (live, ours under the
                    // lock); s is ours.
                    unsafe {
                        (*s).nextaddr = (*t).nextaddr;
                        (*s).waitlink = t;
                        (*s).waittail = if (*t).waittail.is_null() {
                            t
                        } else {
                            (*t).waittail
                        };
                        (*t).nextaddr = ptr::null_mut();
                        (*t).waittail = ptr::null_mut();
                        *pt = s;
                    }
                } else {
                    // Add s to the end of t's wait list.
                    // SAFETY: t and its tail are listed (live, ours under the lock);
                    // s is ours.
                    unsafe {
                        if (*t).waittail.is_null() {
                            (*t).waitlink = s;
                        } else {
                            (*(*t).waittail).waitlink = s;
                        }
                        (*t).waittail = s;
                    }
                }
                return;
            }
            // SAFETY: t is listed, so live.
            pt = unsafe { &raw mut (*t).nextaddr };
        }
        // First waiter for addr: a new address node at the front.
        // SAFETY: head is ours under the lock; s is ours.
        unsafe {
            (*s).nextaddr = *self.head.get();
            *self.head.get() = s;
        }
    }

    /// Remove and return the first waiter on addr, or null. Any g; no allocation.
    ///
    /// # Safety
    /// lock is held.
    unsafe fn dequeue(&self, addr: usize) -> *mut Sudog {
        // The invariant for the blocks below: as in queue.
        let mut pt: *mut *mut Sudog = self.head.get();
        let s = loop {
            // SAFETY: pt is head or a listed node's link, ours under the lock.
            let s = unsafe { *pt };
            if s.is_null() {
                return ptr::null_mut();
            }
            // SAFETY: s is listed, so live.
            if unsafe { (*s).addr } == addr {
                break s;
            }
            // SAFETY: as above.
            pt = unsafe { &raw mut (*s).nextaddr };
        };
        // Unlink s, its first follower t (if any) taking its place.
        // SAFETY: s, t and the link at pt are listed (live, ours under the lock).
        unsafe {
            let t = (*s).waitlink;
            if t.is_null() {
                *pt = (*s).nextaddr;
            } else {
                // t becomes the address node.
                (*t).nextaddr = (*s).nextaddr;
                (*t).waittail = if (*s).waittail == t {
                    ptr::null_mut()
                } else {
                    (*s).waittail
                };
                *pt = t;
            }
        }
        // SAFETY: s is off the list now, ours, and live (its goroutine is parked).
        unsafe {
            (*s).nextaddr = ptr::null_mut();
            (*s).waitlink = ptr::null_mut();
            (*s).waittail = ptr::null_mut();
        }
        s
    }
}

/// semacquire: wait until *addr > 0, then decrement it. If lifo, queue at the front
/// (a waiter that already waited once, as sync.Mutex does). Runs on a goroutine,
/// with no runtime lock held; no allocation (the sudog is on our stack).
pub(crate) fn semacquire1(addr: &AtomicU32, lifo: bool, reason: WaitReason) {
    // Easy case.
    if cansemacquire(addr) {
        return;
    }
    let root = semroot(addr);
    let mut s = Sudog::new();
    s.g = getg();
    loop {
        root.lock.lock();
        // Add ourselves to nwait to disable the "easy case" in semrelease.
        // SeqCst: the waiter's half of the nwait handshake (file head).
        root.nwait.fetch_add(1, SeqCst);
        // Check cansemacquire to avoid missed wakeup.
        if cansemacquire(addr) {
            // SeqCst: as Go's atomic add (under the lock, any ordering would do).
            root.nwait.fetch_sub(1, SeqCst);
            root.lock.unlock();
            break;
        }
        // Any semrelease after the cansemacquire knows we're waiting (we set
        // nwait above), so go to sleep.
        // SAFETY: root.lock is held; s is on our stack, on no list, and stays in
        // place until a releaser dequeues it: we leave this function only after
        // that (a wakeup comes from the releaser that dequeued s).
        unsafe { root.queue(addr.as_ptr() as usize, &mut s, lifo) };
        // SAFETY: we hold root.lock, which park_m releases once we are off our
        // stack; the releaser that dequeues s readies us.
        unsafe { goparkunlock(&root.lock, reason) };
        // The releaser wrote ticket before readying us: goready's queue
        // publication orders the two.
        if s.ticket != 0 || cansemacquire(addr) {
            break;
        }
    }
}

/// semacquire1 without lifo, for WaitGroup and RWMutex. Runs on a goroutine.
pub(crate) fn semacquire(addr: &AtomicU32) {
    semacquire1(addr, false, WaitReason::Semacquire)
}

/// semrelease: increment *addr and wake one waiter. If handoff, the semaphore is
/// passed directly to the waiter, which runs next on this P (sync.Mutex's
/// starvation mode). Runs on a goroutine, with no runtime lock held.
pub(crate) fn semrelease1(addr: &AtomicU32, handoff: bool) {
    let root = semroot(addr);
    // SeqCst (the add and the load): the releaser's half of the nwait handshake
    // (file head).
    addr.fetch_add(1, SeqCst);
    // Easy case: no waiters? This check must happen after the add above, to avoid
    // a missed wakeup (see the loop in semacquire).
    if root.nwait.load(SeqCst) == 0 {
        return;
    }
    // Harder case: search for a waiter and wake it.
    root.lock.lock();
    // SeqCst: as Go's atomic load (under the lock, which waiters hold to change
    // nwait, any ordering would do).
    if root.nwait.load(SeqCst) == 0 {
        // The count is already consumed by another goroutine, so no need to wake
        // up another goroutine.
        root.lock.unlock();
        return;
    }
    // SAFETY: root.lock is held.
    let s = unsafe { root.dequeue(addr.as_ptr() as usize) };
    if !s.is_null() {
        // SeqCst: as above.
        root.nwait.fetch_sub(1, SeqCst);
    }
    root.lock.unlock();
    if !s.is_null() {
        let mut ticket = 0;
        if handoff && cansemacquire(addr) {
            ticket = 1;
        }
        // SAFETY: we dequeued s, so its goroutine stays parked (and s, on its
        // stack, live) until we ready it, and no one else will; we touch nothing of
        // s after goready.
        unsafe {
            (*s).ticket = ticket;
            goready((*s).g);
        }
        // Direct G handoff: the waiter we just readied is in our runnext; yield
        // so it runs now, inheriting our time slice. Not with m.locks held (a
        // NoPreempt section, whose goroutine must keep its thread): Go's
        // semrelease1 yields only when getg().m.locks == 0. The waiter then runs
        // at our next scheduling point.
        // SAFETY: our M (never freed); locks is atomic. Relaxed: our own count.
        if ticket == 1 && unsafe { (*getm()).locks.load(Relaxed) } == 0 {
            goyield();
        }
    }
}

/// semrelease1 without handoff. Runs on a goroutine.
pub(crate) fn semrelease(addr: &AtomicU32) {
    semrelease1(addr, false)
}

/// A waiter on a notifyList, on its own stack.
struct NotifyWaiter {
    g: *mut G,
    ticket: u32,
    next: *mut NotifyWaiter,
}

/// Go's notifyList, the ticket-based wait list under sync.Cond: a waiter takes a
/// ticket (notify_list_add) before unlocking the user's mutex, then waits for it
/// (notify_list_wait); signal wakes the oldest ticket, broadcast all. A ticket
/// notified before its holder waits makes the wait return at once, so no wake-up
/// is lost between the unlock and the park.
pub(crate) struct NotifyList {
    /// Ticket of the next waiter. Atomic, taken outside the lock.
    wait: core::sync::atomic::AtomicU32,
    /// Ticket of the next waiter to be notified. Written under lock, read atomically.
    notify: core::sync::atomic::AtomicU32,
    lock: Mutex,
    /// Waiters, in arrival order. Protected by lock.
    head: core::cell::UnsafeCell<*mut NotifyWaiter>,
}

// SAFETY: head and the waiters it reaches are only touched with lock held.
unsafe impl Sync for NotifyList {}
// SAFETY: a NotifyList that moves has no waiters (they would borrow it), so its
// head is null: the raw pointer in it refers to nothing thread-bound.
unsafe impl Send for NotifyList {}

/// Ticket comparison that survives wrap-around.
fn less(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl NotifyList {
    /// An empty list.
    pub(crate) const fn new() -> NotifyList {
        NotifyList {
            wait: AtomicU32::new(0),
            notify: AtomicU32::new(0),
            lock: Mutex::new(LockRank::NotifyList),
            head: core::cell::UnsafeCell::new(ptr::null_mut()),
        }
    }

    /// notifyListAdd: take a ticket for a later wait. Any g.
    pub(crate) fn add(&self) -> u32 {
        // SeqCst: as Go's notifyList (atomic.Xadd); the tickets' order is the RMW's,
        // and the notifiers' fast path compares wait with notify.
        self.wait.fetch_add(1, SeqCst)
    }

    /// notifyListWait: park until ticket t is notified (or return at once if it
    /// already was). Runs on a goroutine, with no runtime lock held.
    pub(crate) fn wait(&self, t: u32) {
        self.lock.lock();
        // Return right away if this ticket has already been notified.
        // SeqCst: as Go's atomic load (notify is written under the lock we hold).
        if less(t, self.notify.load(SeqCst)) {
            self.lock.unlock();
            return;
        }
        let mut w = NotifyWaiter {
            g: ptr::null_mut(),
            ticket: t,
            next: ptr::null_mut(),
        };
        w.g = getg();
        let mut p: *mut *mut NotifyWaiter = self.head.get();
        // SAFETY: the lock is held, so the list is ours; listed waiters are live
        // (their goroutines stay parked until a notifier unlinks them).
        unsafe {
            while !(*p).is_null() {
                p = &raw mut (**p).next;
            }
            *p = &mut w;
        }
        // SAFETY: we hold self.lock, which park_m releases once we are off our stack;
        // w stays on our stack while we are parked, and the notifier unlinks it
        // before it readies us.
        unsafe { goparkunlock(&self.lock, WaitReason::SyncCondWait) };
    }

    /// notifyListNotifyAll: wake every waiter. Runs on a goroutine, with no runtime
    /// lock held.
    ///
    /// SeqCst throughout, as Go's notifyList: the fast path's two loads race with
    /// add outside any lock.
    pub(crate) fn notify_all(&self) {
        // Fast-path: if there are no new waiters since the last notification we
        // don't need to acquire the lock.
        if self.wait.load(SeqCst) == self.notify.load(SeqCst) {
            return;
        }
        self.lock.lock();
        // SAFETY: the lock is held: the list is ours to take whole.
        let mut s = unsafe { core::mem::replace(&mut *self.head.get(), ptr::null_mut()) };
        self.notify.store(self.wait.load(SeqCst), SeqCst);
        self.lock.unlock();
        while !s.is_null() {
            // SAFETY: the waiters we took stay parked (and live, on their stacks)
            // until we ready them, and only we do; we read next before readying s's
            // goroutine, and nothing of s after.
            unsafe {
                let next = (*s).next;
                let g = (*s).g;
                goready(g);
                s = next;
            }
        }
    }

    /// notifyListNotifyOne: wake the waiter with the oldest unnotified ticket. Runs
    /// on a goroutine, with no runtime lock held.
    ///
    /// SeqCst throughout, as notify_all.
    pub(crate) fn notify_one(&self) {
        if self.wait.load(SeqCst) == self.notify.load(SeqCst) {
            return;
        }
        self.lock.lock();
        let t = self.notify.load(SeqCst);
        if t == self.wait.load(SeqCst) {
            self.lock.unlock();
            return;
        }
        // Update the next notify ticket number: a waiter with ticket t that has not
        // parked yet will see it and return without parking.
        self.notify.store(t.wrapping_add(1), SeqCst);
        // The invariant for the loop: the lock is held, so the list is ours; p
        // points at head or at a listed waiter's next; listed waiters are live
        // (parked).
        let mut p: *mut *mut NotifyWaiter = self.head.get();
        loop {
            // SAFETY: p is head or a listed waiter's link, ours under the lock.
            let s = unsafe { *p };
            if s.is_null() {
                break;
            }
            // SAFETY: s is listed, so live.
            if unsafe { (*s).ticket } == t {
                // SAFETY: s and its link at p are listed, ours under the lock: unlink s.
                unsafe { *p = (*s).next };
                self.lock.unlock();
                // SAFETY: s is unlinked, so its goroutine stays parked (and s live)
                // until we ready it, and no one else will.
                unsafe { goready((*s).g) };
                return;
            }
            // SAFETY: s is listed, so live.
            p = unsafe { &raw mut (*s).next };
        }
        self.lock.unlock();
    }
}

impl Default for NotifyList {
    fn default() -> Self {
        NotifyList::new()
    }
}
