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
use core::sync::atomic::{AtomicU32, Ordering::SeqCst};

use crate::runtime::lock_futex::Mutex;
use crate::runtime::lockrank::LockRank;
use crate::runtime::proc::{getg, goparkunlock, goready, goyield};
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

fn semroot(addr: &AtomicU32) -> &'static SemaRoot {
    &SEMTABLE[(addr.as_ptr() as usize >> 3) % SEMTABSZ]
}

/// Try to decrement a positive counter.
fn cansemacquire(addr: &AtomicU32) -> bool {
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
    /// lifo. lock must be held; s must stay put until dequeued.
    unsafe fn queue(&self, addr: usize, s: *mut Sudog, lifo: bool) {
        // SAFETY: lock is held, so the lists are ours; s and every listed sudog
        // belong to parked goroutines and are live.
        unsafe {
            (*s).addr = addr;
            (*s).waitlink = ptr::null_mut();
            (*s).waittail = ptr::null_mut();
            let mut pt: *mut *mut Sudog = self.head.get();
            while !(*pt).is_null() {
                let t = *pt;
                if (*t).addr == addr {
                    if lifo {
                        // s replaces t as the address node, t goes behind it.
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
                    } else {
                        // Add s to the end of t's wait list.
                        if (*t).waittail.is_null() {
                            (*t).waitlink = s;
                        } else {
                            (*(*t).waittail).waitlink = s;
                        }
                        (*t).waittail = s;
                    }
                    return;
                }
                pt = &raw mut (*t).nextaddr;
            }
            // First waiter for addr: a new address node at the front.
            (*s).nextaddr = *self.head.get();
            *self.head.get() = s;
        }
    }

    /// Remove and return the first waiter on addr, or null. lock must be held.
    unsafe fn dequeue(&self, addr: usize) -> *mut Sudog {
        // SAFETY: lock is held; listed sudogs are live (their goroutines are parked).
        unsafe {
            let mut pt: *mut *mut Sudog = self.head.get();
            while !(*pt).is_null() {
                let s = *pt;
                if (*s).addr == addr {
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
                    (*s).nextaddr = ptr::null_mut();
                    (*s).waitlink = ptr::null_mut();
                    (*s).waittail = ptr::null_mut();
                    return s;
                }
                pt = &raw mut (*s).nextaddr;
            }
            ptr::null_mut()
        }
    }
}

/// semacquire: wait until *addr > 0, then decrement it. If lifo, queue at the front
/// (a waiter that already waited once, as sync.Mutex does). Runs on a goroutine.
pub(crate) fn semacquire1(addr: &AtomicU32, lifo: bool, reason: WaitReason) {
    // Easy case.
    if cansemacquire(addr) {
        return;
    }
    let root = semroot(addr);
    let mut s = Sudog::new();
    // SAFETY: the current goroutine is the sudog's owner; the root lock guards the
    // lists; goparkunlock releases it once we are off our stack, and the releaser
    // dequeues s before readying us, so s is never listed after we return.
    unsafe {
        s.g = getg();
        loop {
            root.lock.lock();
            // Add ourselves to nwait to disable the "easy case" in semrelease.
            root.nwait.fetch_add(1, SeqCst);
            // Check cansemacquire to avoid missed wakeup.
            if cansemacquire(addr) {
                root.nwait.fetch_sub(1, SeqCst);
                root.lock.unlock();
                break;
            }
            // Any semrelease after the cansemacquire knows we're waiting (we set
            // nwait above), so go to sleep.
            root.queue(addr.as_ptr() as usize, &mut s, lifo);
            goparkunlock(&root.lock, reason);
            if s.ticket != 0 || cansemacquire(addr) {
                break;
            }
        }
    }
}

pub(crate) fn semacquire(addr: &AtomicU32) {
    semacquire1(addr, false, WaitReason::Semacquire)
}

/// semrelease: increment *addr and wake one waiter. If handoff, the semaphore is
/// passed directly to the waiter, which runs next on this P (sync.Mutex's
/// starvation mode). Runs on a goroutine.
pub(crate) fn semrelease1(addr: &AtomicU32, handoff: bool) {
    let root = semroot(addr);
    addr.fetch_add(1, SeqCst);
    // Easy case: no waiters? This check must happen after the add above, to avoid
    // a missed wakeup (see the loop in semacquire).
    if root.nwait.load(SeqCst) == 0 {
        return;
    }
    // Harder case: search for a waiter and wake it.
    root.lock.lock();
    if root.nwait.load(SeqCst) == 0 {
        // The count is already consumed by another goroutine, so no need to wake
        // up another goroutine.
        root.lock.unlock();
        return;
    }
    // SAFETY: lock held for dequeue; the sudog's goroutine is parked until we
    // goready it, so writing its ticket first is safe; we read nothing of it after.
    unsafe {
        let s = root.dequeue(addr.as_ptr() as usize);
        if !s.is_null() {
            root.nwait.fetch_sub(1, SeqCst);
        }
        root.lock.unlock();
        if !s.is_null() {
            let mut ticket = 0;
            if handoff && cansemacquire(addr) {
                ticket = 1;
            }
            (*s).ticket = ticket;
            goready((*s).g);
            if ticket == 1 {
                // Direct G handoff: the waiter we just readied is in our runnext;
                // yield so it runs now, inheriting our time slice.
                goyield();
            }
        }
    }
}

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
    pub(crate) const fn new() -> NotifyList {
        NotifyList {
            wait: AtomicU32::new(0),
            notify: AtomicU32::new(0),
            lock: Mutex::new(LockRank::NotifyList),
            head: core::cell::UnsafeCell::new(ptr::null_mut()),
        }
    }

    /// notifyListAdd: take a ticket for a later wait.
    pub(crate) fn add(&self) -> u32 {
        self.wait.fetch_add(1, SeqCst)
    }

    /// notifyListWait: park until ticket t is notified (or return at once if it
    /// already was). Runs on a goroutine.
    pub(crate) fn wait(&self, t: u32) {
        self.lock.lock();
        // Return right away if this ticket has already been notified.
        if less(t, self.notify.load(SeqCst)) {
            self.lock.unlock();
            return;
        }
        let mut w = NotifyWaiter {
            g: ptr::null_mut(),
            ticket: t,
            next: ptr::null_mut(),
        };
        // SAFETY: the list is ours under the lock; w stays on our stack while we are
        // parked and is unlinked by the notifier before it readies us.
        unsafe {
            w.g = getg();
            let mut p: *mut *mut NotifyWaiter = self.head.get();
            while !(*p).is_null() {
                p = &raw mut (**p).next;
            }
            *p = &mut w;
            goparkunlock(&self.lock, WaitReason::SyncCondWait);
        }
    }

    /// notifyListNotifyAll: wake every waiter.
    pub(crate) fn notify_all(&self) {
        // Fast-path: if there are no new waiters since the last notification we
        // don't need to acquire the lock.
        if self.wait.load(SeqCst) == self.notify.load(SeqCst) {
            return;
        }
        self.lock.lock();
        // SAFETY: under the lock we take the whole list; its waiters stay parked until
        // we ready them, after the unlock.
        unsafe {
            let mut s = core::mem::replace(&mut *self.head.get(), ptr::null_mut());
            self.notify.store(self.wait.load(SeqCst), SeqCst);
            self.lock.unlock();
            while !s.is_null() {
                let next = (*s).next;
                let g = (*s).g;
                goready(g);
                s = next;
            }
        }
    }

    /// notifyListNotifyOne: wake the waiter with the oldest unnotified ticket.
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
        // SAFETY: list surgery under the lock; the waiter found stays parked until
        // goready, after the unlock.
        unsafe {
            let mut p: *mut *mut NotifyWaiter = self.head.get();
            while !(*p).is_null() {
                let s = *p;
                if (*s).ticket == t {
                    *p = (*s).next;
                    self.lock.unlock();
                    goready((*s).g);
                    return;
                }
                p = &raw mut (*s).next;
            }
        }
        self.lock.unlock();
    }
}

impl Default for NotifyList {
    fn default() -> Self {
        NotifyList::new()
    }
}
