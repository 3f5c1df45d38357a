//! The network poller, after Go's netpoll.go and netpoll_epoll.go: goroutines wait
//! for file descriptors to become readable or writable without holding a thread.
//!
//! # Poll descriptors
//!
//! Every fd registered with the poller has a `PollDesc`. They come from a type-stable
//! cache (`POLLCACHE`) and are never freed, so an event that arrives for a closed fd
//! finds memory that is still a PollDesc; each registration gets a new `fdseq`, and
//! the epoll event carries it beside the pointer (`tag`), so a stale event for a
//! descriptor that has since been reused for another fd is dropped.
//!
//! Each fd is registered once, edge-triggered, for reading and writing
//! (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLPRI|EPOLLET). Users retry the system call until
//! EAGAIN and only then wait, so an edge is never missed; a TCP reader may also wait
//! after a short read, which empties the queue as surely, unless the descriptor has
//! reported urgent data, end of stream or an error (`PollDesc::unreadable_tail`;
//! gort::net's NetFd::read).
//!
//! # The rg / wg semaphores (Go's pdReady / pdWait)
//!
//! `rg` (reads) and `wg` (writes) each hold NIL (0), READY (1), WAIT (2) or a
//! waiting G's address:
//!
//! - `netpollblock` (the waiter): NIL -> WAIT by CAS (READY: consume it, return at
//!   once); then gopark, whose commit CASes WAIT -> G. If the commit finds READY
//!   (the event came in between) the park is refused and the goroutine goes on.
//!   After waking it swaps NIL in: READY means I/O is possible, NIL that it was woken
//!   by close.
//! - `netpollunblock` (the poller, close): G or WAIT or NIL -> READY on an event
//!   (returning the G to ready, if one was parked), or -> NIL on close.
//!
//! A deadline (`set_deadline`, Go's pollSetDeadline) is a timer per direction in
//! the descriptor: when it fires it marks the deadline expired (`rd`/`wd` = -1) and
//! makes the semaphore NIL, waking the waiter, which returns `Wait::TimedOut`. Each
//! change bumps `rseq`/`wseq` under the descriptor's lock, so a timer that fires for
//! a deadline since replaced does nothing.
//!
//! At most one goroutine waits per direction (a second is a fatal error, as Go's
//! "double wait"): gort::net serialises readers and writers of one stream.
//!
//! # Expiry and close against a parking waiter
//!
//! An expiry (`set_deadline` to the past, the deadline timer) or a close stores
//! `rd`/`wd` = -1 or `closing`, then takes the semaphore (`netpollunblock`); the
//! waiter CASes the semaphore NIL -> WAIT, then reads `rd`/`wd` and `closing` to
//! decide whether to park. Each side stores one word and then loads the other's:
//! with Release/Acquire only, both loads may see the old values (x86 lets a store
//! wait in the store buffer past a later load), so the setter finds NIL and leaves,
//! and the waiter finds no expiry and parks with nobody to wake it. Go's atomics
//! are sequentially consistent; here each side puts a StoreLoad barrier between
//! its store and its load (`look_after_publish`), so at least one sees the other:
//! the waiter does not park, or the setter finds WAIT or the parked G and takes it
//! (modelled with loom below).
//!
//! # Who polls
//!
//! `netpoll(delay)` waits in epoll_pwait and returns the goroutines that became
//! runnable. The scheduler calls it with delay 0 before stealing (findrunnable),
//! sysmon every 10 ms when nobody polled lately, and one idle M blocks in it with the
//! next timer as its timeout (the timer sleeper in proc.rs, which uses the poller
//! once it exists): `netpoll_break` (an eventfd write) wakes it when an earlier timer
//! arrives. `LASTPOLL` is 0 while an M blocks in netpoll, else the time of the last
//! poll. A timed wait uses epoll_pwait2's nanoseconds where the kernel has it (Linux
//! 5.11), so a timer is not late by up to a millisecond as with epoll_pwait's whole
//! milliseconds (Go's netpoll rounds so). Where it is missing (older kernels,
//! qemu-user), a timerfd in the epoll set, armed before each timed wait, ends the
//! wait on time instead; the millisecond timeout, rounded up, only backs it up.

use core::ptr;
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicPtr, AtomicU32, AtomicUsize};

use super::lock_futex::Mutex;
use super::lockrank::LockRank;
use super::proc::{casgstatus, gopark};
use super::runtime1::throw;
use super::runtime2::{WaitReason, G, GRUNNABLE, GWAITING};
use super::sys_linux::{self, EAGAIN, EINTR, ENOSYS, EPERM};
use super::time::{Kind, Timer};

const PD_NIL: usize = 0;
const PD_READY: usize = 1;
const PD_WAIT: usize = 2;

/// Wait for reading ('r') or writing ('w').
pub(crate) const MODE_READ: u8 = b'r';
pub(crate) const MODE_WRITE: u8 = b'w';

/// One registered fd (see the file head). Never freed.
pub(crate) struct PollDesc {
    /// Next free descriptor, under POLLCACHE's lock (atomic only so that PollDesc is
    /// Sync; Relaxed: the lock orders it).
    link: AtomicPtr<PollDesc>,
    fd: AtomicI32,
    /// The registration's sequence number (tagged into epoll events).
    fdseq: AtomicU32,
    /// Set by close (evict): waiters wake and see it.
    closing: AtomicBool,
    /// An event for this registration reported something a short read does not
    /// use up: TCP urgent data (EPOLLPRI: the read stops at the urgent mark, data
    /// behind it), the peer's end of stream (EPOLLRDHUP) or a hang-up or error
    /// (EPOLLHUP, EPOLLERR): the next read returns at once, with no edge to come.
    /// Readers then no longer take a short read for "the next read would say
    /// EAGAIN" (gort::net's NetFd::read). Set by the poller before its
    /// read-modify-write of `rg` (netpoll); a reader consumes READY, or is
    /// readied, by a read-modify-write of `rg` or goready, so a mark made before it
    /// consumed the event that let it read is seen (Relaxed here, ordered by
    /// those). Sticky; reset by poll_open.
    unreadable_tail: AtomicBool,
    rg: AtomicUsize,
    wg: AtomicUsize,
    /// Serialises deadline changes and their timers' firing (rank Leaf: nothing is
    /// taken under it; the timers are changed after it is dropped).
    lock: Mutex,
    /// Read and write deadlines: 0 none, -1 expired, else nanotime. Written under
    /// lock; read anywhere (Acquire, pairing with the Release that expires them, so
    /// a woken waiter sees why).
    rd: AtomicI64,
    wd: AtomicI64,
    /// Deadline generations, under lock (Relaxed): a deadline timer that fires with
    /// an older one is stale; the timers apply changes in this order (Timer::modify's
    /// seq).
    rseq: AtomicUsize,
    wseq: AtomicUsize,
    /// The deadline timers (their argument is this descriptor: set once the batch
    /// is at its final address).
    rt: Timer,
    wt: Timer,
}

impl PollDesc {
    const fn new() -> PollDesc {
        PollDesc {
            link: AtomicPtr::new(ptr::null_mut()),
            fd: AtomicI32::new(-1),
            fdseq: AtomicU32::new(0),
            closing: AtomicBool::new(false),
            unreadable_tail: AtomicBool::new(false),
            rg: AtomicUsize::new(PD_NIL),
            wg: AtomicUsize::new(PD_NIL),
            lock: Mutex::new(LockRank::Leaf),
            rd: AtomicI64::new(0),
            wd: AtomicI64::new(0),
            rseq: AtomicUsize::new(0),
            wseq: AtomicUsize::new(0),
            rt: Timer::new(Kind::Plain, netpoll_read_deadline, 0),
            wt: Timer::new(Kind::Plain, netpoll_write_deadline, 0),
        }
    }

    /// The deadline of mode.
    fn deadline(&self, mode: u8) -> &AtomicI64 {
        if mode == MODE_READ {
            &self.rd
        } else {
            &self.wd
        }
    }

    /// Whether mode's deadline has passed (Go's netpollcheckerr's timeout case).
    pub(crate) fn expired(&self, mode: u8) -> bool {
        // Acquire: pairs with the Release that expires it.
        self.deadline(mode).load(Acquire) < 0
    }

    fn sema(&self, mode: u8) -> &AtomicUsize {
        if mode == MODE_READ {
            &self.rg
        } else {
            &self.wg
        }
    }

    /// Whether a short read empties the descriptor for good: no event has reported
    /// urgent data, end of stream or an error (see `unreadable_tail`).
    pub(crate) fn short_read_drains(&self) -> bool {
        // Relaxed: see `unreadable_tail`.
        !self.unreadable_tail.load(Relaxed)
    }

    /// Whether the descriptor was closed (evicted).
    pub(crate) fn is_closing(&self) -> bool {
        // Acquire: pairs with evict's Release, so a woken waiter sees it.
        self.closing.load(Acquire)
    }
}

/// The free PollDescs (a list through `link`), under the cache lock.
struct PollCache {
    lock: Mutex,
    first: core::cell::UnsafeCell<*mut PollDesc>,
}

// SAFETY: `first` and the `link` fields it reaches are touched only under `lock`.
unsafe impl Sync for PollCache {}

static POLLCACHE: PollCache = PollCache {
    lock: Mutex::new(LockRank::Leaf),
    first: core::cell::UnsafeCell::new(ptr::null_mut()),
};

/// Descriptors per batch the cache takes from the heap.
const PD_BATCH: usize = 64;

/// The epoll instance and the eventfd that breaks a blocked epoll_pwait, -1 until
/// netpollinit. Written once (INIT_LOCK); read anywhere.
static EPFD: AtomicI32 = AtomicI32::new(-1);
static EVENTFD: AtomicI32 = AtomicI32::new(-1);
/// Serialises netpollinit.
static INIT_LOCK: Mutex = Mutex::new(LockRank::Leaf);
/// Goroutines parked in netpollblock (Go's netpollWaiters).
pub(crate) static WAITERS: AtomicU32 = AtomicU32::new(0);
/// A break is already pending (Go's netpollWakeSig): one eventfd write suffices.
static WAKE_SIG: AtomicBool = AtomicBool::new(false);
/// The time of the last netpoll, 0 while an M blocks in it (Go's sched.lastpoll).
pub(crate) static LASTPOLL: AtomicI64 = AtomicI64::new(1);
/// When a poll last made goroutines runnable (nanotime; 0: never). While that was
/// lately, an M out of work polls a little longer before it parks (proc.rs,
/// poll_spin). Relaxed: a hint.
pub(crate) static LAST_READY: AtomicI64 = AtomicI64::new(0);

/// The marker in an event's data that says "the eventfd" rather than a PollDesc.
const BREAK_TAG: u64 = 1;
/// The marker that says "the timerfd" (see arm_timerfd).
const TIMER_TAG: u64 = 2;

// epoll(7) constants.
const EPOLLIN: u32 = 0x1;
const EPOLLPRI: u32 = 0x2;
const EPOLLOUT: u32 = 0x4;
const EPOLLERR: u32 = 0x8;
const EPOLLHUP: u32 = 0x10;
const EPOLLRDHUP: u32 = 0x2000;
const EPOLLET: u32 = 1 << 31;

/// Whether the poller exists (some fd was registered). Any thread.
#[inline]
pub(crate) fn netpollinited() -> bool {
    // Acquire: pairs with netpollinit's Release, so EPFD's user sees the eventfd.
    EPFD.load(Acquire) >= 0
}

/// Whether goroutines wait on the poller. Any thread.
#[inline]
pub(crate) fn netpoll_any_waiters() -> bool {
    // Relaxed: a hint; every caller re-checks the queues it feeds.
    WAITERS.load(Relaxed) > 0
}

/// Create the epoll instance and its eventfd, once. Runs on any g with no runtime
/// lock held. Returns false if the kernel refuses (the error is left for the
/// caller's open to report).
fn netpollinit() -> bool {
    if netpollinited() {
        return true;
    }
    INIT_LOCK.lock();
    if !netpollinited() {
        let ep = sys_linux::epoll_create1();
        let ev = if ep >= 0 {
            sys_linux::eventfd_nonblock()
        } else {
            -1
        };
        if ep < 0 || ev < 0 {
            if ep >= 0 {
                sys_linux::close(ep as i32);
            }
            INIT_LOCK.unlock();
            return false;
        }
        // Level-triggered: a break written before the poller blocks still wakes it.
        let r = sys_linux::epoll_ctl(
            ep as i32,
            sys_linux::EPOLL_CTL_ADD,
            ev as i32,
            EPOLLIN,
            BREAK_TAG,
        );
        if r < 0 {
            throw("runtime: netpollinit: cannot register the eventfd");
        }
        EVENTFD.store(ev as i32, Relaxed);
        probe_pwait2(ep as i32);
        // Release: publishes EVENTFD with EPFD (see netpollinited).
        EPFD.store(ep as i32, Release);
        INIT_LOCK.unlock();
        // The timer sleeper may be asleep on its futex: wake it so that it waits in
        // the poller from now on (it must see fds registered from now on).
        super::proc::wake_sleeper_for_poller();
        // And a sleeper that read the timers before the poller existed, but finds
        // it now, blocks in it: an earlier timer added meanwhile asked for a break
        // that netpoll_break could not write yet (no poller). Write one now, so its
        // first poll returns at once and it looks at the timers again (Go makes
        // its poller before any timer, in doaddtimer, so has no such window).
        netpoll_break();
        return true;
    }
    INIT_LOCK.unlock();
    true
}

/// Take a PollDesc from the cache (allocating a batch when it is empty). Runs on a
/// goroutine with no runtime lock held (it may allocate).
fn pd_alloc() -> *mut PollDesc {
    loop {
        POLLCACHE.lock.lock();
        // SAFETY: under the cache lock, the free list is ours.
        let pd = unsafe { *POLLCACHE.first.get() };
        if !pd.is_null() {
            // SAFETY: pd is on the free list (never freed); the list is ours under the
            // lock.
            unsafe { *POLLCACHE.first.get() = (*pd).link.load(Relaxed) };
            POLLCACHE.lock.unlock();
            return pd;
        }
        POLLCACHE.lock.unlock();
        // Allocate outside the lock (no allocation under a runtime lock); never freed.
        let batch: &'static mut [PollDesc] = alloc::boxed::Box::leak(
            (0..PD_BATCH)
                .map(|_| PollDesc::new())
                .collect::<alloc::vec::Vec<_>>()
                .into_boxed_slice(),
        );
        for pd in batch.iter() {
            let arg = pd as *const PollDesc as usize;
            // SAFETY: the batch is at its final address and nobody else reaches it.
            unsafe {
                pd.rt.set_arg(arg);
                pd.wt.set_arg(arg);
            }
        }
        POLLCACHE.lock.lock();
        for pd in batch.iter_mut() {
            // SAFETY: under the cache lock, the list head is ours; pd is fresh.
            unsafe {
                pd.link.store(*POLLCACHE.first.get(), Relaxed);
                *POLLCACHE.first.get() = pd;
            }
        }
        POLLCACHE.lock.unlock();
    }
}

/// Return pd to the cache. The fd was closed and nobody waits on pd.
fn pd_free(pd: *mut PollDesc) {
    POLLCACHE.lock.lock();
    // SAFETY: under the cache lock, the list head is ours; pd is live (never freed)
    // and its user is done with it.
    unsafe {
        (*pd).link.store(*POLLCACHE.first.get(), Relaxed);
        *POLLCACHE.first.get() = pd;
    }
    POLLCACHE.lock.unlock();
}

/// poll_runtime_pollOpen: register fd (non-blocking) with the poller. Returns the
/// descriptor, or -errno. Runs on a goroutine with no runtime lock held.
pub(crate) fn poll_open(fd: i32) -> Result<&'static PollDesc, isize> {
    if !netpollinit() {
        return Err(-sys_linux::ENOMEM);
    }
    let pdp = pd_alloc();
    // SAFETY: pd_alloc hands out live descriptors (never freed) that nobody else uses.
    let pd: &'static PollDesc = unsafe { &*pdp };
    // Relaxed: published to the poller by epoll_ctl below (a system call), and to
    // other goroutines by whatever hands them the stream.
    let seq = pd.fdseq.load(Relaxed).wrapping_add(1) & 0xffff;
    pd.fdseq.store(seq, Relaxed);
    pd.fd.store(fd, Relaxed);
    pd.closing.store(false, Relaxed);
    pd.unreadable_tail.store(false, Relaxed);
    pd.rg.store(PD_NIL, Relaxed);
    pd.wg.store(PD_NIL, Relaxed);
    // Relaxed: as above (no deadline timer is pending: evict stopped them).
    pd.rd.store(0, Relaxed);
    pd.wd.store(0, Relaxed);
    let tag = (pdp as u64) | ((seq as u64) << 48);
    // Relaxed: EPFD is set (netpollinit succeeded).
    let r = sys_linux::epoll_ctl(
        EPFD.load(Relaxed),
        sys_linux::EPOLL_CTL_ADD,
        fd,
        EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET,
        tag,
    );
    if r < 0 {
        pd_free(pdp);
        return Err(r);
    }
    Ok(pd)
}

/// poll_runtime_pollClose: unregister pd's fd (before the fd is closed). No waiter
/// may remain (evict first). Runs on a goroutine.
pub(crate) fn poll_close(pd: &'static PollDesc) {
    // Relaxed: the closer is the descriptor's last user.
    let fd = pd.fd.load(Relaxed);
    sys_linux::epoll_ctl(EPFD.load(Relaxed), sys_linux::EPOLL_CTL_DEL, fd, 0, 0);
    pd.fd.store(-1, Relaxed);
    pd_free(pd as *const PollDesc as *mut PollDesc);
}

/// poll_runtime_pollUnblock: mark pd closing and wake both waiters (they return
/// with is_closing set). Runs on any goroutine.
pub(crate) fn poll_evict(pd: &PollDesc) {
    pd.lock.lock();
    // Release: a woken waiter (Acquire in is_closing) sees it.
    pd.closing.store(true, Release);
    // New generations: a deadline timer still in flight is stale.
    let rs = pd.rseq.load(Relaxed).wrapping_add(1);
    let ws = pd.wseq.load(Relaxed).wrapping_add(1);
    pd.rseq.store(rs, Relaxed);
    pd.wseq.store(ws, Relaxed);
    // After closing, look for waiters (the handshake in the file head).
    let (rg, wg) = look_after_publish(|| {
        (
            netpollunblock(pd, MODE_READ, false),
            netpollunblock(pd, MODE_WRITE, false),
        )
    });
    pd.lock.unlock();
    pd.rt.stop(Some(rs));
    pd.wt.stop(Some(ws));
    for gp in [rg, wg] {
        if !gp.is_null() {
            // SAFETY: netpollunblock handed us a goroutine parked in netpollblock.
            unsafe { super::proc::goready(gp) };
        }
    }
}

/// Why poll_wait returned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Wait {
    /// I/O may be retried (an event came, or a deadline moved away).
    Ready,
    /// The descriptor was closed (evicted).
    Closed,
    /// mode's deadline passed.
    TimedOut,
}

/// Wait until pd is ready for mode ('r' or 'w'), closed or past its deadline. Runs
/// on a goroutine with no runtime lock held (it parks). Go's poll_runtime_pollWait.
pub(crate) fn poll_wait(pd: &PollDesc, mode: u8) -> Wait {
    if pd.is_closing() {
        return Wait::Closed;
    }
    if pd.expired(mode) {
        return Wait::TimedOut;
    }
    if netpollblock(pd, mode) {
        return Wait::Ready;
    }
    if pd.is_closing() {
        Wait::Closed
    } else if pd.expired(mode) {
        Wait::TimedOut
    } else {
        Wait::Ready
    }
}

/// Both halves of the expiry handshake (see the file head): a StoreLoad barrier
/// between the caller's store (the waiter's CAS to WAIT; the setter's expiry or
/// closing) and `look`, which reads the other side's word.
#[inline(always)]
fn look_after_publish<T>(look: impl FnOnce() -> T) -> T {
    super::asm_amd64::storeload_fence();
    look()
}

/// netpollblock: park until pd's mode semaphore is made READY (true) or NIL by
/// close or a deadline (false). Runs on a goroutine with no runtime lock held.
fn netpollblock(pd: &PollDesc, mode: u8) -> bool {
    let gpp = pd.sema(mode);
    loop {
        // Acquire (all three): pairs with netpollunblock's AcqRel, so what the
        // poller saw before the event (nothing we read) is ordered; cheap on x86.
        match gpp.load(Acquire) {
            PD_READY => {
                // An RMW, not a plain store: it reads the latest write to gpp, so
                // it sees what the poller marked before its RMW
                // (PollDesc::unreadable_tail).
                if gpp
                    .compare_exchange(PD_READY, PD_NIL, AcqRel, Acquire)
                    .is_ok()
                {
                    return true;
                }
            }
            PD_NIL => {
                if gpp
                    .compare_exchange(PD_NIL, PD_WAIT, AcqRel, Acquire)
                    .is_ok()
                {
                    break;
                }
            }
            _ => throw("runtime: double wait"),
        }
    }
    // After our WAIT, look for an expiry or close (the handshake in the file head).
    if look_after_publish(|| !pd.is_closing() && !pd.expired(mode)) {
        // SAFETY: netpollblockcommit only CASes gpp (a field of a PollDesc, never
        // freed); whoever swaps our G out of it readies us.
        unsafe {
            gopark(
                Some(netpollblockcommit),
                gpp as *const AtomicUsize as *mut u8,
                WaitReason::IoWait,
            )
        };
    }
    // Acquire: as above.
    let old = gpp.swap(PD_NIL, AcqRel);
    if old > PD_WAIT {
        throw("runtime: corrupted polldesc");
    }
    old == PD_READY
}

/// gopark's commit for poll_wait: publish the G in the semaphore (WAIT -> G). Fails
/// (the goroutine goes on) when an event or close came first.
///
/// # Safety
/// arg is the &AtomicUsize of a live PollDesc; gp is the parking goroutine.
unsafe fn netpollblockcommit(gp: *mut G, arg: *mut u8) -> bool {
    // SAFETY: the caller's contract: arg is a semaphore of a never-freed PollDesc.
    let gpp = unsafe { &*(arg as *const AtomicUsize) };
    // AcqRel: publishes the parked G to netpollunblock (Acquire there).
    let ok = gpp
        .compare_exchange(PD_WAIT, gp as usize, AcqRel, Acquire)
        .is_ok();
    if ok {
        // Relaxed: a hint counter (netpoll_any_waiters).
        WAITERS.fetch_add(1, Relaxed);
    }
    ok
}

/// netpollunblock: make pd's mode semaphore READY (ioready) or NIL (close), and
/// return the G that was parked on it (null if none). Any thread; no lock.
fn netpollunblock(pd: &PollDesc, mode: u8, ioready: bool) -> *mut G {
    let gpp = pd.sema(mode);
    loop {
        // Acquire: pairs with the commit's AcqRel (we read the parked G).
        let old = gpp.load(Acquire);
        if old == PD_READY {
            return ptr::null_mut();
        }
        if old == PD_NIL && !ioready {
            return ptr::null_mut();
        }
        let new = if ioready { PD_READY } else { PD_NIL };
        if gpp.compare_exchange(old, new, AcqRel, Acquire).is_ok() {
            if old > PD_WAIT {
                // Relaxed: a hint counter.
                WAITERS.fetch_sub(1, Relaxed);
                return old as *mut G;
            }
            return ptr::null_mut();
        }
    }
}

/// poll_runtime_pollSetDeadline: set mode's deadline to d (nanotime; 0: none; in
/// the past: expire now, waking a waiter). Returns the deadline's generation,
/// for clear_deadline_if. Runs on a goroutine with no runtime lock held (the timer
/// may be added to a heap).
pub(crate) fn set_deadline(pd: &PollDesc, d: i64, mode: u8) -> usize {
    set_deadline_if(pd, d, mode, None)
}

/// Clear mode's deadline if nothing has set it since the set_deadline that
/// returned seq (a per-operation timeout's deadline, left armed after its
/// operation, once the timeout is gone; a deadline set meanwhile stays). Runs on a
/// goroutine with no runtime lock held.
pub(crate) fn clear_deadline_if(pd: &PollDesc, seq: usize, mode: u8) {
    set_deadline_if(pd, 0, mode, Some(seq));
}

/// set_deadline, only if mode's generation is still `expect` (when given).
fn set_deadline_if(pd: &PollDesc, d: i64, mode: u8, expect: Option<usize>) -> usize {
    let (dl, seqf, t) = if mode == MODE_READ {
        (&pd.rd, &pd.rseq, &pd.rt)
    } else {
        (&pd.wd, &pd.wseq, &pd.wt)
    };
    let d = if d > 0 && d <= super::vdso_linux::nanotime() {
        -1
    } else {
        d
    };
    pd.lock.lock();
    // Relaxed (deadline, generation): we hold the lock, under which they are
    // written. A deadline that expired keeps its generation (netpoll_deadline), so
    // clear_deadline_if clears it too.
    let cur = seqf.load(Relaxed);
    if pd.is_closing() || dl.load(Relaxed) == d || expect.is_some_and(|e| e != cur) {
        pd.lock.unlock();
        return cur;
    }
    let seq = cur.wrapping_add(1);
    seqf.store(seq, Relaxed);
    // Release: a waiter woken below (Acquire in expired) sees the expiry.
    dl.store(d, Release);
    let gp = if d < 0 {
        // After the expiry, look for a waiter (the handshake in the file head).
        look_after_publish(|| netpollunblock(pd, mode, false))
    } else {
        ptr::null_mut()
    };
    pd.lock.unlock();
    // After the lock: the timer applies changes in seq order however the setters
    // race to it.
    if d > 0 {
        t.modify(d, 0, Some(seq));
    } else {
        t.stop(Some(seq));
    }
    if !gp.is_null() {
        // SAFETY: netpollunblock handed us a goroutine parked in netpollblock.
        unsafe { super::proc::goready(gp) };
    }
    seq
}

/// netpolldeadlineimpl: mode's deadline timer fired with generation seq: unless
/// stale, expire the deadline and wake the waiter. On g0 (run_timers), no lock held.
fn netpoll_deadline(pd: &PollDesc, seq: usize, mode: u8) {
    let (dl, seqf) = if mode == MODE_READ {
        (&pd.rd, &pd.rseq)
    } else {
        (&pd.wd, &pd.wseq)
    };
    pd.lock.lock();
    // Relaxed: under lock.
    if seqf.load(Relaxed) != seq {
        pd.lock.unlock();
        return;
    }
    // Release: as in set_deadline.
    dl.store(-1, Release);
    // After the expiry, look for a waiter (the handshake in the file head).
    let gp = look_after_publish(|| netpollunblock(pd, mode, false));
    pd.lock.unlock();
    if !gp.is_null() {
        // SAFETY: netpollunblock handed us a goroutine parked in netpollblock.
        unsafe { super::proc::goready(gp) };
    }
}

/// The read deadline timer's function.
///
/// # Safety
/// arg is a PollDesc (never freed).
unsafe fn netpoll_read_deadline(arg: usize, seq: usize, _delay: i64) {
    // SAFETY: the caller's contract.
    netpoll_deadline(unsafe { &*(arg as *const PollDesc) }, seq, MODE_READ)
}

/// The write deadline timer's function.
///
/// # Safety
/// arg is a PollDesc (never freed).
unsafe fn netpoll_write_deadline(arg: usize, seq: usize, _delay: i64) {
    // SAFETY: the caller's contract.
    netpoll_deadline(unsafe { &*(arg as *const PollDesc) }, seq, MODE_WRITE)
}

/// Goroutines made runnable by a poll, linked through schedlink.
pub(crate) struct GList {
    pub(crate) head: *mut G,
    pub(crate) n: u32,
}

/// epoll_pwait2 is missing (ENOSYS: Linux before 5.11, or an emulator without it;
/// EPERM: refused by a seccomp filter): timed waits use epoll_pwait and the timerfd
/// below.
static PWAIT2_MISSING: AtomicBool = AtomicBool::new(false);

/// Where epoll_pwait2 is missing: a timerfd registered (level-triggered) in the
/// epoll set, which the blocking poll arms before each timed wait; -1 until made.
/// Relaxed throughout: only the M blocked in netpoll (the timer sleeper, one at a
/// time) makes, arms and drains it, and the fd number is all it publishes.
static TIMERFD: AtomicI32 = AtomicI32::new(-1);

/// Learn at poller creation whether epoll_pwait2 works (a wait of 0 ns on the new,
/// empty set), and if not, make the timerfd now, so the poller's descriptors are
/// all there from the start (a program that counts its fds sees no late one).
/// Runs in netpollinit (INIT_LOCK held, ep not yet published).
fn probe_pwait2(ep: i32) {
    let mut ev = [0u32; 3];
    let n = sys_linux::epoll_pwait2(ep, ev.as_mut_ptr() as *mut u8, 1, 0);
    if n == -ENOSYS || n == -EPERM {
        // Relaxed: see PWAIT2_MISSING.
        PWAIT2_MISSING.store(true, Relaxed);
        make_timerfd(ep);
    }
}

/// Make the timerfd and register it in ep, unless made already; returns it, or -1
/// if the kernel refused (at the fd limit, say). Runs on g0 or in netpollinit;
/// never allocates.
fn make_timerfd(ep: i32) -> i32 {
    let fd = TIMERFD.load(Relaxed);
    if fd >= 0 {
        return fd;
    }
    let t = sys_linux::timerfd_create();
    if t < 0 {
        return -1;
    }
    let r = sys_linux::epoll_ctl(ep, sys_linux::EPOLL_CTL_ADD, t as i32, EPOLLIN, TIMER_TAG);
    if r < 0 {
        sys_linux::close(t as i32);
        return -1;
    }
    match TIMERFD.compare_exchange(-1, t as i32, Relaxed, Relaxed) {
        Ok(_) => t as i32,
        Err(other) => {
            // Made meanwhile by another M (timed waits are serialised today, so
            // this only keeps the fd from leaking); closing ours also drops it
            // from the epoll set.
            sys_linux::close(t as i32);
            other
        }
    }
}

/// Arm the timerfd to expire ns (> 0) from now; false if there is none (the kernel
/// refused one, say at the fd limit: this wait falls back to milliseconds, and the
/// next one tries to make it again). Runs on g0 of the M about to block in netpoll;
/// never allocates.
fn arm_timerfd(ep: i32, ns: i64) -> bool {
    let fd = make_timerfd(ep);
    fd >= 0 && sys_linux::timerfd_set(fd, ns) == 0
}

/// netpoll: wait at most delay ns (0: do not block; < 0: for ever) for events, and
/// return the goroutines they make runnable (status GWAITING, not yet readied).
/// Runs on g0 (the scheduler, sysmon) with no lock held; never allocates.
pub(crate) fn netpoll(delay: i64) -> GList {
    let mut list = GList {
        head: ptr::null_mut(),
        n: 0,
    };
    let ep = EPFD.load(Acquire);
    if ep < 0 {
        return list;
    }
    // At most about 17 minutes: the caller loops.
    let delay = delay.min(1_000_000_000_000);
    // epoll_pwait counts in whole milliseconds (Go's netpoll rounds a shorter wait
    // up to 1 ms and truncates a longer one): the fallback when epoll_pwait2 is
    // missing.
    let timeout_ms: i32 = if delay < 0 {
        -1
    } else if delay == 0 {
        0
    } else if delay < 1_000_000 {
        1
    } else {
        (delay / 1_000_000) as i32
    };
    // struct epoll_event is packed: u32 events, u64 data (12 bytes).
    let mut events = [[0u32; 3]; 128];
    let buf = events.as_mut_ptr() as *mut u8;
    let n = loop {
        // Relaxed: PWAIT2_MISSING caches what the kernel answers every thread alike.
        let n = if delay > 0 && !PWAIT2_MISSING.load(Relaxed) {
            let n = sys_linux::epoll_pwait2(ep, buf, events.len() as i32, delay);
            // EPERM: a seccomp filter that predates the call (Docker's before
            // 20.10 answered so for any system call it did not list).
            if n == -ENOSYS || n == -EPERM {
                PWAIT2_MISSING.store(true, Relaxed);
                continue;
            }
            n
        } else if delay > 0 && arm_timerfd(ep, delay) {
            // The timerfd ends the wait on time; a timeout rounded up, never
            // shorter than delay, backs it up.
            let backstop = ((delay + 999_999) / 1_000_000) as i32;
            sys_linux::epoll_pwait(ep, buf, events.len() as i32, backstop)
        } else {
            sys_linux::epoll_pwait(ep, buf, events.len() as i32, timeout_ms)
        };
        if n == -EINTR {
            if delay > 0 {
                // A signal: return so the caller recomputes its delay.
                return list;
            }
            continue;
        }
        if n < 0 {
            throw("runtime: netpoll failed");
        }
        break n as usize;
    };
    for ev in events.iter().take(n) {
        let bits = ev[0];
        let data = ev[1] as u64 | ((ev[2] as u64) << 32);
        if data == BREAK_TAG {
            // Only a blocking poll drains the eventfd (Go's netpoll does the same).
            // A non-blocking one (findrunnable, sysmon) that saw the break leaves it
            // readable: it is level-triggered, so the M blocked in the poller, whom
            // the break is for, still wakes. Drained here, the blocked M would sleep
            // on past the earlier timer that asked for the break.
            if delay == 0 {
                continue;
            }
            // Drain it (if a timeout, not a break, woke us it may be empty).
            let mut b = [0u8; 8];
            let r = sys_linux::read(EVENTFD.load(Relaxed), &mut b);
            if r != 8 && r != -EAGAIN {
                throw("runtime: netpoll: cannot read the eventfd");
            }
            // SeqCst: pairs with netpoll_break's SeqCst CAS (a later break writes again).
            WAKE_SIG.store(false, SeqCst);
            continue;
        }
        if data == TIMER_TAG {
            // The timerfd expired. As with the eventfd, only a blocking poll drains
            // it; until then (or until it is armed again, which clears it) the
            // non-blocking ones see it and pass over it.
            if delay != 0 {
                let mut b = [0u8; 8];
                // EAGAIN: already cleared. Nothing else can fail on a timerfd.
                let _ = sys_linux::read(TIMERFD.load(Relaxed), &mut b);
            }
            continue;
        }
        let pdp = (data & ((1 << 48) - 1)) as *const PollDesc;
        let tag = (data >> 48) as u32;
        // SAFETY: the event's data is a PollDesc registered by poll_open; PollDescs
        // are never freed, so even a stale event points at one.
        let pd = unsafe { &*pdp };
        // Relaxed: a stale event (the fd was closed and pd reused) has an old tag.
        if pd.fdseq.load(Relaxed) != tag {
            continue;
        }
        if bits & (EPOLLPRI | EPOLLRDHUP | EPOLLHUP | EPOLLERR) != 0 {
            // Mark, then a read-modify-write of rg even when no waiter is woken
            // below (the value stays): a reader's next RMW of rg reads from this
            // one, and so sees the mark (see PollDesc::unreadable_tail).
            pd.unreadable_tail.store(true, Relaxed);
            pd.rg.fetch_or(0, Release);
        }
        let r = bits & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) != 0;
        let w = bits & (EPOLLOUT | EPOLLHUP | EPOLLERR) != 0;
        for (ready, mode) in [(r, MODE_READ), (w, MODE_WRITE)] {
            if ready {
                let gp = netpollunblock(pd, mode, true);
                if !gp.is_null() {
                    // SAFETY: gp is a parked goroutine now ours to ready; schedlink
                    // is free while it is off every queue.
                    unsafe { (*gp).schedlink = list.head };
                    list.head = gp;
                    list.n += 1;
                }
            }
        }
    }
    if list.n > 0 {
        // Relaxed: a hint (see LAST_READY).
        LAST_READY.store(super::vdso_linux::nanotime(), Relaxed);
    }
    list
}

/// netpollBreak: wake the M blocked in netpoll (if any). Any thread; no lock.
pub(crate) fn netpoll_break() {
    if !netpollinited() {
        return;
    }
    // SeqCst: one write per wake-up (netpoll clears the flag as it drains).
    if WAKE_SIG
        .compare_exchange(false, true, SeqCst, SeqCst)
        .is_err()
    {
        return;
    }
    let one = 1u64.to_ne_bytes();
    loop {
        // Relaxed: EVENTFD is published with EPFD (netpollinited above).
        let r = sys_linux::write(EVENTFD.load(Relaxed), &one);
        if r == -EINTR {
            continue;
        }
        // EAGAIN: the counter is full, so a wake-up is pending anyway.
        return;
    }
}

/// Make the polled goroutines of list runnable onto pp's local run queue (Go's
/// injectglist with a P: the ring spills to the global queue when full), then wake
/// an idle P, if any, to steal some. Runs on g0 of the M that owns pp, no lock held.
///
/// # Safety
/// The caller's M owns pp.
pub(crate) unsafe fn injectglist_local(pp: *mut super::runtime2::P, list: GList) {
    if list.head.is_null() {
        return;
    }
    let mut gp = list.head;
    while !gp.is_null() {
        // SAFETY: the list's Gs are ours (netpoll took them from their semaphores);
        // pp is ours (the caller's contract) and never freed.
        unsafe {
            let next = (*gp).schedlink;
            (*gp).schedlink = ptr::null_mut();
            if super::trace::on() {
                super::trace::go_unblock(gp);
            }
            casgstatus(gp, GWAITING, GRUNNABLE);
            super::runq::runqput(&*pp, gp, false);
            gp = next;
        }
    }
    super::proc::wakep();
}

/// Make the polled goroutines of list runnable (Go's injectglist): onto the global
/// queue, then wake an idle P to run them. Runs on any g with no lock held.
pub(crate) fn injectglist(list: GList) {
    if list.head.is_null() {
        return;
    }
    let s = super::proc::sched_shared();
    let mut gp = list.head;
    while !gp.is_null() {
        // SAFETY: the list's Gs are ours (netpoll took them from their semaphores).
        let next = unsafe { (*gp).schedlink };
        if super::trace::on() {
            super::trace::go_unblock(gp);
        }
        // SAFETY: as above; they are parked (GWAITING) and off every queue.
        unsafe { casgstatus(gp, GWAITING, GRUNNABLE) };
        s.lock.lock();
        // SAFETY: sched.lock is held; gp is runnable and in no queue.
        unsafe { super::runq::globrunqput(gp) };
        s.lock.unlock();
        gp = next;
    }
    super::proc::wakep();
}

/// The expiry handshake (see the file head), modelled with loom: a waiter parking
/// on a semaphore against a setter expiring its deadline. Either the waiter does
/// not park, or the setter takes its G. Run by `make loom`.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::look_after_publish;
    use core::sync::atomic::Ordering::{AcqRel, Acquire, Release};
    use loom::sync::atomic::{AtomicI64, AtomicUsize};
    use loom::sync::Arc;
    use loom::thread;

    const NIL: usize = 0;
    const WAIT: usize = 2;
    const G: usize = 0x1000;

    /// netpollblock's order: NIL -> WAIT, look for an expiry, then the commit
    /// (WAIT -> G) unless expired. Returns whether it parked.
    fn waiter(sema: &AtomicUsize, rd: &AtomicI64, barrier: bool) -> bool {
        sema.compare_exchange(NIL, WAIT, AcqRel, Acquire).unwrap();
        let look = || rd.load(Acquire) >= 0;
        let park = if barrier {
            look_after_publish(look)
        } else {
            look()
        };
        park && sema.compare_exchange(WAIT, G, AcqRel, Acquire).is_ok()
    }

    /// set_deadline's order: expire, then netpollunblock to NIL. Returns whether
    /// it took a parked G (to ready it).
    fn setter(sema: &AtomicUsize, rd: &AtomicI64, barrier: bool) -> bool {
        rd.store(-1, Release);
        let take = || loop {
            let old = sema.load(Acquire);
            if old == NIL {
                return false;
            }
            if sema.compare_exchange(old, NIL, AcqRel, Acquire).is_ok() {
                return old == G;
            }
        };
        if barrier {
            look_after_publish(take)
        } else {
            take()
        }
    }

    fn run(barrier: bool) {
        loom::model(move || {
            let sema = Arc::new(AtomicUsize::new(NIL));
            let rd = Arc::new(AtomicI64::new(0));
            let w = {
                let (s, r) = (sema.clone(), rd.clone());
                thread::spawn(move || waiter(&s, &r, barrier))
            };
            let took = setter(&sema, &rd, barrier);
            let parked = w.join().unwrap();
            assert!(
                !parked || took,
                "the waiter parked and the expiry did not wake it"
            );
        });
    }

    #[test]
    fn loom_an_expiry_never_leaves_a_waiter_parked() {
        run(true);
    }

    /// Without the two StoreLoad barriers loom finds the interleaving that strands
    /// the waiter (so the model above can fail).
    #[test]
    #[should_panic(expected = "the expiry did not wake it")]
    fn loom_without_the_barriers_a_waiter_stays_parked() {
        run(false);
    }
}
