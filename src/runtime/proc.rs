//! The scheduler, after Go's proc.go: boot-time setup (schedinit, mcommoninit,
//! procresize), goroutine creation (newproc), the scheduling loop (mstart, schedule,
//! findrunnable, execute), parking (gopark/goready), threads (newm, startm, stopm,
//! wakep, handoffp) and stop-the-world.
//!
//! # Structures and stacks
//!
//! The G, M and P of runtime2.rs. A goroutine runs on its own stack; the scheduler
//! runs on its M's g0 stack (for m0, a 64 KiB slice of the OS stack carved out by
//! rt0_go; for other Ms, a mapping of their own). Switching is in rt0/asm_amd64.s:
//! `mcall(fn)` saves the goroutine's context and calls fn on g0; `gogo(&g.sched)`
//! restores a goroutine; `systemstack(f)` runs f on g0 and comes back. The current G
//! is always -8(FS) (`getg`), never cached across anything that may switch Ms.
//!
//! # Boot
//!
//! rt0_go calls `args`, `osinit`, `schedinit`, then `newproc_main` (goroutine 1,
//! running runtime `main`, goes to p0's runnext) and `mstart`, which enters
//! `schedule` on g0 and never returns. The user's main runs as goroutine 1; when it
//! returns, goroutine 1 leaves through goexit like every goroutine, and `goexit0`
//! ends the process with status 0 (Go's runtime.main calls exit(0) at that point).
//!
//! # Pinning: m.locks, acquirem, the P in a local
//!
//! A goroutine may lose its M at any instruction where `m.locks == 0` (once
//! preemption exists) and continue on another M with another P. So code running on a
//! goroutine that keeps its M or P in a local (`newproc`'s galloc and runqput, `ready`,
//! `fastrand`, adding a timer to "my" P) raises m.locks first with `acquirem()` and
//! lowers it when done; a runtime lock raises it too (lock_futex.rs). g0 never loses
//! its M. Debug builds check the rule where a P is used (`assert_pinned`), and
//! `schedule` checks that no count is left over (`schedule: holding locks`).
//!
//! # One door per state change
//!
//! A G's status changes only in `casgstatus`, a P's only in `P::set_status` (or
//! `P::cas_status` where two threads race for it): each checks the transition, and is
//! where sysmon, preemption and the trace hook in.
//!
//! # Worker thread parking/unparking (Go's design, kept as is)
//!
//! We need to balance between keeping enough running worker threads to utilize
//! available hardware parallelism and parking excessive running worker threads to
//! conserve CPU resources and power. The rule: an M is unparked (`wakep`) when a G
//! becomes runnable (newproc, ready) if there is an idle P and no *spinning* M. A
//! spinning M is one that is out of local work and is looking for work in the global
//! queue and other Ps' queues (`sched.nmspinning`); at most about half the busy Ps
//! worth of Ms spin at once (`2*nmspinning < gomaxprocs - npidle`). When a spinning M
//! finds work it stops spinning and calls wakep, so that the next spinning M takes
//! over: bursts of work get threads quickly, and steady state has at most one spinner.
//!
//! The general pattern for submission is:
//! 1. Submit work to the local run queue, timer heap, or the global queue.
//! 2. #StoreLoad-style memory barrier.
//! 3. Check sched.nmspinning (and npidle) in wakep.
//!
//! The general pattern for spinning -> non-spinning transition is:
//! 1. Decrement nmspinning.
//! 2. #StoreLoad-style memory barrier.
//! 3. Check all per-P work queues (`check_runqs_no_p`).
//!
//! With a barrier on both sides, either the submitter sees an idle P and no spinner
//! and wakes an M, or the parking M sees the new G; without one (x86 lets a store
//! pass a later load) both can miss the other and the G waits until some other event
//! wakes an M. Idle Ms sleep on their `park` note (a futex), so an idle runtime uses
//! no CPU. The loom models in runq.rs check this handshake.
//!
//! # Stop-the-world
//!
//! `stop_the_world` sets `sched.gcwaiting`, takes every idle P, and waits on
//! `sched.stopnote` until each running P has passed through `schedule`, where its M
//! sees gcwaiting and gives the P up (`gcstopm`). Preemption is cooperative: a
//! goroutine that never parks, yields or exits delays the stop until it does.

use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr;
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize,
};

pub(crate) use super::asm_amd64::{getg, mlocks_dec, mlocks_inc};
use super::asm_amd64::{gort_gogo, gort_mcall, gort_systemstack};
use super::lock_futex::Mutex;
use super::os_linux::newosproc;
use super::runq::{
    globrunq_nonempty, globrunqget, globrunqput, globrunqputhead, must_wake_after_submit,
    recheck_after_spinning, runqempty, runqget, runqput, runqsteal,
};
use super::runtime1::throw;
use super::runtime2::*;
use super::stack::{stack_attach, stack_detach, STACK_GUARD, STACK_SIZE};

/// m0 and g0: the first thread and its scheduling goroutine, set up by rt0_go.
/// Reached only through raw pointers (`m0()`, `g0()`): they are shared with assembly.
pub(crate) static mut M0: M = M::new();
/// g0 of m0 (see M0).
pub(crate) static mut G0: G = G::new();
/// The scheduler. Reached through `sched()`; fields are protected as Schedt says.
static mut SCHED: Schedt = Schedt::new();

/// allp: all Ps ever made, indexed by id; `ALLP_LEN` of them are live
/// (= gomaxprocs). A P is made by `allpgrow` (Release, so that a reader loading the
/// entry with Acquire sees it initialised) and never freed, so a stale index still
/// points at a valid (maybe dead) P.
static ALLP: [AtomicPtr<P>; MAX_GOMAXPROCS] =
    [const { AtomicPtr::new(ptr::null_mut()) }; MAX_GOMAXPROCS];
/// The number of live Ps: written by procresize (world stopped) with Release, read
/// with Acquire so that the reader also sees the Ps' new statuses.
static ALLP_LEN: AtomicUsize = AtomicUsize::new(0);
/// Head of the allm list (linked through M.alllink). Prepended under sched.lock,
/// published with Release so lock-free readers (Acquire) see a complete M.
static ALLM: AtomicPtr<M> = AtomicPtr::new(ptr::null_mut());
/// The newest G on the allgs list (linked older through G.alllink, newer through
/// G.allnewer); ALLG_FIRST is the oldest. Pushed by CAS (Release: a reader that loads
/// the head with Acquire sees the G's alllink); Gs are never freed. ALLGLEN counts
/// them.
static ALLG: AtomicPtr<G> = AtomicPtr::new(ptr::null_mut());
static ALLG_FIRST: AtomicPtr<G> = AtomicPtr::new(ptr::null_mut());
static ALLGLEN: AtomicUsize = AtomicUsize::new(0);
/// GOMAXPROCS: written by procresize with the world stopped; read everywhere as a
/// hint (Relaxed: no data is published through it).
static GOMAXPROCS: AtomicI32 = AtomicI32::new(0);
/// Set by runtime main once the user's main is about to run (Go's mainStarted): from
/// then on new goroutines wake idle Ps. Relaxed both sides: a hint, publishing no
/// data (a newproc that misses it only skips one wakep during start-up).
static MAIN_STARTED: AtomicBool = AtomicBool::new(false);
/// Goroutine 1. Written once by newproc_main on m0 during boot, before any other
/// thread exists.
static MAIN_G: AtomicPtr<G> = AtomicPtr::new(ptr::null_mut());
/// stealOrder: the order in which an M looks at other Ps for work.
/// Written by procresize with the world stopped.
static mut STEAL_ORDER: RandomOrder = RandomOrder::new();
/// The signal mask m0 started with; new Ms restore it in minit. Written once at boot.
static INIT_SIGMASK: AtomicU64 = AtomicU64::new(0);
/// How often an M found work by stealing (for tests of stealing). Relaxed counter.
pub(crate) static STEALS: AtomicU64 = AtomicU64::new(0);
/// The timer sleeper: at most one idle M sleeps on TIMER_WAKE (a futex generation
/// counter) until TIMER_UNTIL, the earliest timer when it went to sleep. addtimer
/// wakes it if the new timer is earlier (wake_timer_sleeper). SeqCst throughout:
/// a sleeper sets TIMER_SLEEPING then reads the timers; an adder pushes its timer
/// then reads TIMER_SLEEPING, so one of them sees the other.
static TIMER_SLEEPING: AtomicBool = AtomicBool::new(false);
static TIMER_UNTIL: AtomicI64 = AtomicI64::new(0);
static TIMER_WAKE: AtomicU32 = AtomicU32::new(0);

/// g0 stack of Ms other than m0.
const G0_STACK_SIZE: usize = 64 << 10;
/// Dead Gs a P keeps before spilling half to the global list (Go: 64).
const GFREE_LOCAL_MAX: i32 = 64;
/// Steal attempts over all Ps before an M gives up (Go: stealTries).
const STEAL_TRIES: usize = 4;

/// m0, the first M.
pub(crate) fn m0() -> *mut M {
    &raw mut M0
}

/// m0's g0.
pub(crate) fn g0() -> *mut G {
    &raw mut G0
}

/// The scheduler's global state.
pub(crate) fn sched() -> *mut Schedt {
    &raw mut SCHED
}

/// The current M. Only stable while the goroutine is pinned (acquirem, a runtime
/// lock held) or on g0: otherwise the goroutine may run on another M by the time the
/// result is used.
#[inline(always)]
pub(crate) fn getm() -> *mut M {
    // SAFETY: every g the runtime runs has a valid m while it runs.
    unsafe { (*getg()).m() }
}

/// The running goroutine's id.
pub(crate) fn curgoid() -> u64 {
    // SAFETY: getg() is the running goroutine, valid while it runs.
    unsafe { (*getg()).goid() }
}

/// A pin of the current goroutine to its M (Go's acquirem/releasem): m.locks stays
/// raised until the guard is dropped, so the M and P read through it stay the
/// goroutine's own. Must not be held across anything that parks or switches
/// goroutines (schedule throws "holding locks" if it is).
pub(crate) struct AcquireM {
    mp: *mut M,
    /// Not Send: the guard belongs to the thread whose m.locks it raised.
    _not_send: PhantomData<*mut ()>,
}

/// acquirem: pin the current goroutine to its M. Runs on any g.
#[inline(always)]
pub(crate) fn acquirem() -> AcquireM {
    mlocks_inc();
    AcquireM {
        mp: getm(),
        _not_send: PhantomData,
    }
}

impl AcquireM {
    /// The pinned M.
    #[inline(always)]
    pub(crate) fn m(&self) -> *mut M {
        self.mp
    }

    /// The P the pinned M holds (null on an M without a P).
    #[inline(always)]
    pub(crate) fn p(&self) -> *mut P {
        // SAFETY: the M is pinned and live.
        unsafe { (*self.mp).p() }
    }
}

impl Drop for AcquireM {
    /// releasem.
    #[inline(always)]
    fn drop(&mut self) {
        mlocks_dec();
    }
}

/// Debug builds: throw unless the caller may use its M's P through a local: it is on
/// g0, or pinned (m.locks > 0). Release builds: nothing.
#[inline(always)]
pub(crate) fn assert_pinned() {
    #[cfg(debug_assertions)]
    {
        let gp = getg();
        // SAFETY: gp is running; its M is valid.
        let ok = unsafe {
            let mp = (*gp).m();
            gp == (*mp).g0 || (*mp).locks.load(Relaxed) > 0
        };
        if !ok {
            throw("runtime: M or P used without acquirem");
        }
    }
}

/// mcall switches from the current goroutine to g0 and calls f(g) there; f must not
/// return. The goroutine continues after mcall when something gogo's to it.
/// Must be called on a user goroutine, never on g0.
#[inline]
pub(crate) fn mcall(f: extern "C" fn(*mut G) -> !) {
    // SAFETY: gort_mcall saves the callee-saved context of this call site in
    // g.sched, so when gogo resumes it, this call returns normally.
    unsafe { gort_mcall(f) }
}

/// systemstack runs f on the current M's g0 stack and returns its result. f must
/// not park or switch goroutines. On g0 already, f is simply called. The goroutine
/// is pinned while f runs (it is not running on its own stack).
pub(crate) fn systemstack<R, F: FnOnce() -> R>(f: F) -> R {
    unsafe extern "C" fn tramp<R, F: FnOnce() -> R>(arg: *mut u8) {
        // SAFETY: arg is the (Option<F>, Option<R>) of our caller, alive during the call.
        let c = unsafe { &mut *(arg as *mut (Option<F>, Option<R>)) };
        c.1 = Some((c.0.take().unwrap())());
    }
    let mut c: (Option<F>, Option<R>) = (Some(f), None);
    // SAFETY: tramp::<R, F> matches the pair's type; gort_systemstack comes back.
    unsafe { gort_systemstack(tramp::<R, F>, &mut c as *mut _ as *mut u8) };
    c.1.unwrap()
}

/// fastrand: a per-M pseudo-random number (wyrand). Runs on any g.
pub(crate) fn fastrand() -> u32 {
    let mp = acquirem();
    // SAFETY: fastrand is owner-only M state, and we are pinned to its M.
    let x = unsafe {
        let r = &mut (*mp.m()).fastrand;
        *r = r.wrapping_add(0xa0761d6478bd642f);
        *r
    };
    let m = (x as u128).wrapping_mul((x ^ 0xe7037ed1a0b428db) as u128);
    ((m >> 64) as u64 ^ m as u64) as u32
}

/// The number of Ps.
pub(crate) fn gomaxprocs() -> usize {
    GOMAXPROCS.load(Relaxed) as usize
}

/// The P with index i (i < MAX_GOMAXPROCS; null if never made).
pub(crate) fn allp(i: usize) -> *mut P {
    ALLP[i].load(Acquire)
}

/// The number of live Ps.
pub(crate) fn allp_len() -> usize {
    ALLP_LEN.load(Acquire)
}

/// Iterate the allm list.
pub(crate) fn allm() -> impl Iterator<Item = *mut M> {
    let mut mp = ALLM.load(Acquire);
    core::iter::from_fn(move || {
        if mp.is_null() {
            return None;
        }
        let cur = mp;
        // SAFETY: Ms are never freed, and alllink is written before publication.
        mp = unsafe { (*mp).alllink };
        Some(cur)
    })
}

/// Iterate the allgs list (every G ever made, including dead ones), newest first.
pub(crate) fn allgs() -> impl Iterator<Item = *mut G> {
    let mut gp = ALLG.load(Acquire);
    core::iter::from_fn(move || {
        if gp.is_null() {
            return None;
        }
        let cur = gp;
        // SAFETY: Gs are never freed, and alllink is written before publication.
        gp = unsafe { (*gp).alllink };
        Some(cur)
    })
}

/// Iterate the allgs list oldest first (Go's allgs order), without allocating. A G
/// whose newer link is not yet set ends the walk early: a G created concurrently may
/// be missed, never visited twice.
pub(crate) fn allgs_in_creation_order() -> impl Iterator<Item = *mut G> {
    let mut gp = ALLG_FIRST.load(Acquire);
    core::iter::from_fn(move || {
        if gp.is_null() {
            return None;
        }
        let cur = gp;
        // SAFETY: Gs are never freed; allnewer is published with Release by allgadd.
        gp = unsafe { (*gp).allnewer.load(Acquire) };
        Some(cur)
    })
}

/// Goroutine 1.
pub(crate) fn main_g() -> *mut G {
    MAIN_G.load(Relaxed)
}

/// gcount: the number of goroutines that exist (not dead), approximately, as Go's:
/// all Gs minus those on free lists. Relaxed reads: a snapshot.
pub(crate) fn gcount() -> usize {
    let mut n = ALLGLEN.load(Relaxed) as i64;
    // SAFETY: only atomics are read; Ps are never freed.
    unsafe {
        n -= (*sched()).ngfree.load(Relaxed) as i64;
        for i in 0..allp_len() {
            n -= (*allp(i)).gfreecnt.load(Relaxed) as i64;
        }
    }
    n.max(1) as usize
}

/// casgstatus: the one door through which a G's status changes, from old to new.
/// The G's current owner makes the change (the M running it, or the one that took it
/// off a queue or a wait list), so a checked store suffices: no transition races
/// (gort has no GC scan bits). Release: a thread that reads the new status with
/// Acquire (checkdead, a waker checking GWAITING) also sees what the owner wrote
/// before it (the wait reason, the parked state). Throws on a status that is not
/// old, or (debug builds) on a transition the scheduler never makes.
///
/// # Safety
/// gp is a live G owned by the caller.
#[inline(always)]
pub(crate) unsafe fn casgstatus(gp: *mut G, old: u32, new: u32) {
    // SAFETY: the caller owns gp.
    let st = unsafe { &(*gp).atomicstatus };
    let cur = st.load(Relaxed);
    if cur != old || (cfg!(debug_assertions) && !gtransition_ok(old, new)) {
        // SAFETY: as above.
        bad_gstatus(unsafe { (*gp).goid() }, old, new, cur);
    }
    st.store(new, Release);
}

#[cold]
#[inline(never)]
fn bad_gstatus(goid: u64, old: u32, new: u32, cur: u32) -> ! {
    crate::eprintln!(
        "runtime: casgstatus: goroutine {goid}: {} -> {} but status is {}",
        gstatus_name(old),
        gstatus_name(new),
        gstatus_name(cur)
    );
    throw("casgstatus: bad incoming values")
}

/// The G status transitions the scheduler makes.
fn gtransition_ok(old: u32, new: u32) -> bool {
    matches!(
        (old, new),
        (GIDLE, GDEAD)          // galloc: a fresh G
            | (GDEAD, GRUNNABLE) // newproc1
            | (GRUNNABLE, GRUNNING) // execute
            | (GRUNNING, GRUNNABLE) // gosched, goyield
            | (GRUNNING, GWAITING) // park_m
            | (GWAITING, GRUNNABLE) // ready, a park commit that refused
            | (GRUNNING, GSYSCALL) // entersyscallblock
            | (GSYSCALL, GRUNNING) // exitsyscall
            | (GSYSCALL, GRUNNABLE) // exitsyscall0
            | (GRUNNING, GDEAD) // goexit0
    )
}

impl P {
    /// The one door through which a P's status changes when only one thread can be
    /// changing it: its owner, or the stopper under sched.lock with the world
    /// stopped. Relaxed: the status is read by other threads only as a hint
    /// (schedtrace, runqgrab's courtesy spin); ownership itself is handed over under
    /// sched.lock or through M.nextp and a note. Debug builds check the transition.
    #[inline]
    pub(crate) fn set_status(&self, new: u32) {
        #[cfg(debug_assertions)]
        {
            let old = self.status.load(Relaxed);
            if !ptransition_ok(old, new) {
                crate::eprintln!(
                    "runtime: P{}: status {} -> {}",
                    self.id,
                    pstatus_name(old),
                    pstatus_name(new)
                );
                throw("bad P status transition");
            }
        }
        self.status.store(new, Relaxed);
    }
}

/// The P status transitions the scheduler makes.
#[cfg(debug_assertions)]
fn ptransition_ok(old: u32, new: u32) -> bool {
    matches!(
        (old, new),
        (PIDLE, PRUNNING) // wirep
            | (PRUNNING, PIDLE) // releasep
            | (PRUNNING, PGCSTOP) // stop_the_world: the stopper's own P
            | (PIDLE, PGCSTOP) // stop_the_world, gcstopm, handoffp
            | (PGCSTOP, PGCSTOP) // procresize: a new P
            | (PGCSTOP, PRUNNING) // procresize: the resizer keeps its P
            | (PGCSTOP, PIDLE) // procresize: every other live P
            | (PGCSTOP, PDEAD) // procresize: removed
            | (PDEAD, PGCSTOP) // procresize: revived
    )
}

/// schedinit: the scheduler's boot-time setup. Runs on g0 of m0, once, from rt0_go.
///
/// The bootstrap sequence is:
///   call osinit
///   call schedinit
///   make & queue new G
///   call runtime·mstart
/// The new G calls runtime·main.
pub(crate) extern "C" fn schedinit() {
    let gp = getg();
    let s = sched();
    // SAFETY: single-threaded boot on m0; gp is g0, whose m rt0_go set to m0; maxmcount
    // is under sched.lock, but no other thread exists yet.
    unsafe {
        (*s).maxmcount = 10000;
        super::malloc::HEAP.init(); // mallocinit
        super::vdso_linux::vdsoinit(super::os_linux::VDSO_BASE.load(Relaxed));
        super::stack::stackinit();
        mcommoninit((*gp).m(), -1);
    }
    INIT_SIGMASK.store(super::sys_linux::sigprocmask_get(), Relaxed);
    super::debug::parsedebugvars();
    let procs = super::runtime1::gomaxprocs_from_env(
        super::runtime1::getenv(b"GOMAXPROCS"),
        super::os_linux::ncpu(),
    );
    allpgrow(procs);
    // SAFETY: procresize's contract: sched.lock held, only m0 exists.
    let runnable = unsafe {
        (*s).lock.lock();
        let r = procresize(procs as i32);
        (*s).lock.unlock();
        r
    };
    if !runnable.is_null() {
        throw("unknown runnable goroutine during bootstrap");
    }
}

/// mcommoninit: give mp its id (id >= 0 is pre-allocated, -1 reserves the next one),
/// seed its fastrand, and link it on allm. Takes sched.lock.
///
/// # Safety
/// mp is a valid M not yet on allm.
pub(crate) unsafe fn mcommoninit(mp: *mut M, id: i64) {
    let seed = super::os_linux::STARTUP_RANDOM.load(Relaxed);
    let mut r = if seed != 0 {
        // SAFETY: AT_RANDOM points at 16 random bytes the kernel placed on the stack.
        unsafe { ptr::read_unaligned(seed as *const u64) }
    } else {
        0x9e3779b97f4a7c15
    };
    let s = sched();
    // SAFETY: mp is ours until it is published on allm; mnext and the allm prepend
    // are under sched.lock.
    unsafe {
        (*s).lock.lock();
        (*mp).id = if id >= 0 { id } else { m_reserve_id() };
        r ^= ((*mp).id as u64).wrapping_mul(0xa0761d6478bd642f);
        (*mp).fastrand = r | 1;
        (*mp).alllink = ALLM.load(Relaxed);
        ALLM.store(mp, Release); // publish a complete M (see ALLM)
        (*s).lock.unlock();
    }
}

/// mReserveID returns the next ID to use for a new M. This new M is immediately
/// considered 'running' by checkdead.
///
/// # Safety
/// sched.lock must be held.
unsafe fn m_reserve_id() -> i64 {
    let s = sched();
    // SAFETY: the caller holds sched.lock, which protects mnext's writers.
    unsafe {
        (*s).lock.assert_held();
        let id = (*s).mnext.load(Relaxed);
        if id.checked_add(1).is_none() {
            throw("runtime: thread ID overflow");
        }
        (*s).mnext.store(id + 1, Relaxed);
        checkmcount();
        id
    }
}

/// The number of Ms made (a snapshot unless sched.lock is held).
pub(crate) fn mcount() -> i64 {
    // SAFETY: reads an atomic of the static scheduler.
    unsafe { (*sched()).mnext.load(Relaxed) }
}

/// checkmcount: die if the program has made more than sched.maxmcount threads.
///
/// # Safety
/// sched.lock must be held.
unsafe fn checkmcount() {
    let s = sched();
    // SAFETY: the caller holds sched.lock, which protects maxmcount.
    unsafe {
        (*s).lock.assert_held();
        if mcount() > (*s).maxmcount as i64 {
            crate::eprintln!("runtime: program exceeds {}-thread limit", (*s).maxmcount);
            throw("thread exhaustion");
        }
    }
}

/// Set the maximum number of Ms (Go's debug.SetMaxThreads); returns the old one.
pub(crate) fn set_max_threads(n: i32) -> i32 {
    let s = sched();
    // SAFETY: maxmcount is protected by sched.lock, which we hold.
    unsafe {
        (*s).lock.lock();
        let old = (*s).maxmcount;
        (*s).maxmcount = n.max(1);
        checkmcount();
        (*s).lock.unlock();
        old
    }
}

/// allpgrow: make sure Ps 0..n exist, allocating the missing ones. Called before
/// procresize, without any lock (the runtime never allocates under one of its
/// locks). Two callers racing for the same slot both allocate; the loser frees its P.
fn allpgrow(n: usize) {
    for (i, slot) in ALLP.iter().enumerate().take(n) {
        if !slot.load(Acquire).is_null() {
            continue;
        }
        let pp = alloc::boxed::Box::into_raw(alloc::boxed::Box::new(P::new(i as i32)));
        // Release: publishes the initialised P to readers of allp (Acquire).
        if slot
            .compare_exchange(ptr::null_mut(), pp, Release, Acquire)
            .is_err()
        {
            // SAFETY: pp was never published.
            drop(unsafe { alloc::boxed::Box::from_raw(pp) });
        }
    }
}

/// procresize changes the number of Ps to nprocs and returns the list of Ps with
/// local work (linked through P.link), which the caller must schedule. The timers of
/// removed Ps are left for the caller to move with `move_dead_timers` after
/// releasing sched.lock (moving them may allocate).
///
/// # Safety
/// sched.lock must be held and the world stopped (at boot: only m0 exists); Ps
/// 0..nprocs exist (allpgrow).
unsafe fn procresize(nprocs: i32) -> *mut P {
    // SAFETY: the caller holds sched.lock.
    unsafe { (*sched()).lock.assert_held() };
    let old = GOMAXPROCS.load(Relaxed);
    if old < 0 || nprocs <= 0 || nprocs as usize > MAX_GOMAXPROCS {
        throw("procresize: invalid arg");
    }
    // Initialize new Ps.
    for i in old..nprocs {
        let pp = ALLP[i as usize].load(Relaxed);
        if pp.is_null() {
            throw("procresize: P not allocated");
        }
        // SAFETY: the world is stopped: nobody else touches a new or dead P.
        unsafe { (*pp).set_status(PGCSTOP) };
    }
    let mp = getm();
    // SAFETY: the world is stopped and sched.lock held: Ps and mp are ours to change.
    unsafe {
        let cur = (*mp).p();
        if !cur.is_null() && (*cur).id < nprocs {
            // continue to use the current P
            (*cur).set_status(PRUNNING);
        } else {
            // release the current P and acquire allp[0]
            if !cur.is_null() {
                (*cur).m.store(ptr::null_mut(), Relaxed);
            }
            (*mp).p.store(ptr::null_mut(), Relaxed);
            let pp = ALLP[0].load(Relaxed);
            (*pp).m.store(ptr::null_mut(), Relaxed);
            (*pp).set_status(PIDLE);
            acquirep(pp);
        }
        // release resources from unused Ps
        for i in nprocs..old {
            p_destroy(ALLP[i as usize].load(Relaxed));
        }
        ALLP_LEN.store(nprocs as usize, Release);

        let mut runnable_ps: *mut P = ptr::null_mut();
        for i in (0..nprocs).rev() {
            let pp = ALLP[i as usize].load(Relaxed);
            if (*mp).p() == pp {
                continue;
            }
            (*pp).set_status(PIDLE);
            if runqempty(&*pp) {
                pidleput(pp);
            } else {
                (*pp).m.store(mget(), Relaxed);
                (*pp).link = runnable_ps;
                runnable_ps = pp;
            }
        }
        let order = &raw mut STEAL_ORDER;
        (*order).reset(nprocs as u32);
        GOMAXPROCS.store(nprocs, Relaxed);
        runnable_ps
    }
}

/// p_destroy: move everything off a P that procresize is removing (its runnable Gs
/// to the head of the global queue, in order; its free Gs to the global list; its
/// stacks to the pool) and mark it dead. Its timers stay until move_dead_timers.
///
/// # Safety
/// sched.lock held, world stopped; pp is being removed.
unsafe fn p_destroy(pp: *mut P) {
    // SAFETY: the world is stopped; pp has no owner; the global queue is under
    // sched.lock (held), the global free list under gfree_lock.
    unsafe {
        // Move all runnable goroutines to the global queue, keeping their order:
        // take from the tail, push at the head.
        while let Some(gp) = (*pp).runq.pop_tail() {
            globrunqputhead(gp);
        }
        super::stack::stackcache_release(pp);
        // gfpurge
        let s = sched();
        (*s).gfree_lock.lock();
        while !(*pp).gfree.is_null() {
            let g = (*pp).gfree;
            (*pp).gfree = (*g).schedlink;
            (*pp).gfreecnt.fetch_sub(1, Relaxed);
            (*g).schedlink = (*s).gfree;
            (*s).gfree = g;
            (*s).ngfree.fetch_add(1, Relaxed);
        }
        (*s).gfree_lock.unlock();
        (*pp).set_status(PDEAD);
    }
}

/// Move the timers of the dead Ps procresize left behind (ids from..to) to the
/// current P, and give their cached objects back to the central lists (neither may
/// be done under sched.lock). Runs with the world stopped, after procresize, without
/// sched.lock.
fn move_dead_timers(from: usize, to: usize) {
    let mp = acquirem();
    for i in from..to {
        let dead = allp(i);
        // SAFETY: Ps are never freed; with the world stopped nobody else uses a dead P,
        // and the current P is ours (pinned).
        unsafe {
            (*dead).timers.move_to(&(*mp.p()).timers);
            (*dead).mcache.flush_all();
        }
    }
}

/// acquirep associates pp with the current M.
///
/// # Safety
/// On g0 (or pinned); pp is idle and owned by nobody.
pub(crate) unsafe fn acquirep(pp: *mut P) {
    // SAFETY: forwarded.
    unsafe { wirep(pp) };
}

/// wirep is the first step of acquirep, which actually associates the current M to
/// pp.
///
/// # Safety
/// As acquirep.
unsafe fn wirep(pp: *mut P) {
    assert_pinned();
    let mp = getm();
    // SAFETY: the caller guarantees pp is idle and unowned; mp is the current M.
    unsafe {
        if !(*mp).p().is_null() {
            throw("wirep: already in go");
        }
        if !(*pp).m().is_null() || (*pp).status.load(Relaxed) != PIDLE {
            let id = if (*pp).m().is_null() {
                0
            } else {
                (*(*pp).m()).id
            };
            crate::eprintln!(
                "wirep: p->m={:p}({}) p->status={}",
                (*pp).m(),
                id,
                (*pp).status.load(Relaxed)
            );
            throw("wirep: invalid p state");
        }
        (*mp).p.store(pp, Relaxed);
        (*pp).m.store(mp, Relaxed);
        (*pp).set_status(PRUNNING);
    }
}

/// releasep disassociates the current P from the current M and returns it.
///
/// # Safety
/// On g0 (or pinned); the current M holds a running P.
unsafe fn releasep() -> *mut P {
    assert_pinned();
    let mp = getm();
    // SAFETY: mp is the current M and owns its P.
    unsafe {
        let pp = (*mp).p();
        if pp.is_null() {
            throw("releasep: invalid arg");
        }
        if (*pp).m() != mp || (*pp).status.load(Relaxed) != PRUNNING {
            crate::eprintln!(
                "releasep: p->m={:p} m={:p} p->status={}",
                (*pp).m(),
                mp,
                (*pp).status.load(Relaxed)
            );
            throw("releasep: invalid p state");
        }
        (*mp).p.store(ptr::null_mut(), Relaxed);
        (*pp).m.store(ptr::null_mut(), Relaxed);
        (*pp).set_status(PIDLE);
        pp
    }
}

/// pidleput puts pp on the idle P list. pp must have an empty run queue.
///
/// # Safety
/// sched.lock must be held; pp is owned by the caller.
unsafe fn pidleput(pp: *mut P) {
    let s = sched();
    // SAFETY: the caller holds sched.lock, which protects pidle and P.link.
    unsafe {
        (*s).lock.assert_held();
        if !runqempty(&*pp) {
            throw("pidleput: P has non-empty run queue");
        }
        (*pp).link = (*s).pidle;
        (*s).pidle = pp;
        // Relaxed: npidle is a hint for lock-free readers (wakep re-checks under the
        // lock in pidleget); the StoreLoad of the spinning protocol is the fences'.
        (*s).npidle.fetch_add(1, Relaxed);
    }
}

/// pidleget takes a P off the idle list, or returns null.
///
/// # Safety
/// sched.lock must be held.
unsafe fn pidleget() -> *mut P {
    let s = sched();
    // SAFETY: the caller holds sched.lock.
    unsafe {
        (*s).lock.assert_held();
        let pp = (*s).pidle;
        if !pp.is_null() {
            (*s).pidle = (*pp).link;
            (*s).npidle.fetch_sub(1, Relaxed);
        }
        pp
    }
}

/// mput puts mp on the idle M list, then checks for deadlock.
///
/// # Safety
/// sched.lock must be held.
unsafe fn mput(mp: *mut M) {
    let s = sched();
    // SAFETY: the caller holds sched.lock, which protects midle.
    unsafe {
        (*s).lock.assert_held();
        (*mp).schedlink = (*s).midle;
        (*s).midle = mp;
        (*s).nmidle += 1;
        checkdead();
    }
}

/// mget takes an M off the idle list, or returns null.
///
/// # Safety
/// sched.lock must be held.
unsafe fn mget() -> *mut M {
    let s = sched();
    // SAFETY: the caller holds sched.lock, which protects midle.
    unsafe {
        (*s).lock.assert_held();
        let mp = (*s).midle;
        if !mp.is_null() {
            (*s).midle = (*mp).schedlink;
            (*s).nmidle -= 1;
        }
        mp
    }
}

/// malg allocates a new G with a stack of `stacksize` bytes (an M's g0); goroutines
/// come from galloc and get their stacks when they first run. Runs on any g, with no
/// runtime lock held (it allocates).
fn malg(stacksize: usize) -> *mut G {
    let mut g = alloc::boxed::Box::new(G::new());
    g.stack = super::stack::stackalloc(stacksize);
    g.stackguard0 = g.stack.lo + STACK_GUARD;
    g.stackguard1 = usize::MAX; // only g0 and signal stacks may run C-like code
    let gp = alloc::boxed::Box::into_raw(g);
    // SAFETY: gp is fresh and ours.
    unsafe { casgstatus(gp, GIDLE, GDEAD) };
    gp
}

/// Gs per slab: Gs are never freed (Go keeps them on allgs), so they are carved from
/// slabs instead of being allocated one by one.
const GSLAB: usize = 128;

/// galloc: a new G (dead, no stack) from pp's slab, allocating a new slab when it is
/// used up. May allocate: no runtime lock may be held.
///
/// # Safety
/// The caller owns pp and is pinned (or on g0).
unsafe fn galloc(pp: *mut P) -> *mut G {
    assert_pinned();
    // SAFETY: the caller owns pp; slab memory is fresh and never freed, and each G
    // in it is handed out once.
    unsafe {
        if (*pp).gslab_n == 0 {
            let layout = core::alloc::Layout::array::<G>(GSLAB).unwrap();
            let slab = alloc::alloc::alloc(layout) as *mut G;
            if slab.is_null() {
                throw("out of memory");
            }
            // Fault the whole slab in with one system call instead of a page fault
            // per page as Gs are handed out (MADV_POPULATE_WRITE, Linux 5.14+; where
            // it is unknown the pages simply fault in later). Not the process's first
            // slab: a program that starts few goroutines should not pay for 128.
            static SLABS: AtomicUsize = AtomicUsize::new(0);
            let page = super::os_linux::physpagesize().max(4096);
            let start = (slab as usize).next_multiple_of(page);
            let end = (slab as usize + layout.size()) & !(page - 1);
            if end > start && SLABS.fetch_add(1, Relaxed) > 0 {
                super::sys_linux::madvise(
                    start,
                    end - start,
                    super::sys_linux::MADV_POPULATE_WRITE,
                );
            }
            (*pp).gslab = slab;
            (*pp).gslab_n = GSLAB as u32;
        }
        let gp = (*pp).gslab;
        (*pp).gslab = gp.add(1);
        (*pp).gslab_n -= 1;
        gp.write(G::new());
        (*gp).stackguard1 = usize::MAX;
        casgstatus(gp, GIDLE, GDEAD);
        gp
    }
}

/// allgadd publishes a new G on allgs. Lock-free: the CAS on ALLG orders the
/// pushes; then the previous head's allnewer is set (Release), which is what lets
/// allgs_in_creation_order walk forward.
fn allgadd(gp: *mut G) {
    let mut head = ALLG.load(Relaxed);
    loop {
        // SAFETY: gp is new and not yet published: we own its alllink.
        unsafe { (*gp).alllink = head };
        // Release: a reader that loads ALLG (Acquire) sees gp's alllink.
        match ALLG.compare_exchange_weak(head, gp, Release, Relaxed) {
            Ok(_) => break,
            Err(h) => head = h,
        }
    }
    if head.is_null() {
        ALLG_FIRST.store(gp, Release);
    } else {
        // SAFETY: head is a published G; only the G that displaced it writes its
        // allnewer, once.
        unsafe { (*head).allnewer.store(gp, Release) };
    }
    ALLGLEN.fetch_add(1, Relaxed);
}

/// gfput puts a dead G on pp's free list, spilling half to the global list when the
/// local one is long.
///
/// # Safety
/// On g0 (or pinned), owning pp; gp is dead (no one else refers to it).
unsafe fn gfput(pp: *mut P, gp: *mut G) {
    assert_pinned();
    // SAFETY: the caller owns pp and gp is dead.
    unsafe {
        if (*gp).atomicstatus.load(Relaxed) != GDEAD {
            throw("gfput: bad status (not Gdead)");
        }
        (*gp).schedlink = (*pp).gfree;
        (*pp).gfree = gp;
        let mut n = (*pp).gfreecnt.load(Relaxed) + 1;
        if n >= GFREE_LOCAL_MAX {
            let s = sched();
            (*s).gfree_lock.lock();
            while n >= GFREE_LOCAL_MAX / 2 {
                let g = (*pp).gfree;
                (*pp).gfree = (*g).schedlink;
                n -= 1;
                (*g).schedlink = (*s).gfree;
                (*s).gfree = g;
                (*s).ngfree.fetch_add(1, Relaxed);
            }
            (*s).gfree_lock.unlock();
        }
        (*pp).gfreecnt.store(n, Relaxed);
    }
}

/// gfget takes a dead G from pp's free list, refilling it from the global list when
/// empty. Returns null when there is none.
///
/// # Safety
/// Pinned (or on g0), owning pp.
unsafe fn gfget(pp: *mut P) -> *mut G {
    assert_pinned();
    // SAFETY: the caller owns pp; the global list is under sched.gfree_lock.
    unsafe {
        let mut n = (*pp).gfreecnt.load(Relaxed);
        let s = sched();
        if (*pp).gfree.is_null() && (*s).ngfree.load(Relaxed) > 0 {
            (*s).gfree_lock.lock();
            while n < GFREE_LOCAL_MAX / 2 && !(*s).gfree.is_null() {
                let g = (*s).gfree;
                (*s).gfree = (*g).schedlink;
                (*s).ngfree.fetch_sub(1, Relaxed);
                (*g).schedlink = (*pp).gfree;
                (*pp).gfree = g;
                n += 1;
            }
            (*s).gfree_lock.unlock();
        }
        let gp = (*pp).gfree;
        if !gp.is_null() {
            (*pp).gfree = (*gp).schedlink;
            n -= 1;
        }
        (*pp).gfreecnt.store(n, Relaxed);
        gp
    }
}

/// The first frame of every goroutine: move the closure out of the G and run it.
/// Returning enters goexit (its return address, placed by stack_attach).
///
/// # Safety
/// arg points at an F written by newproc1 (in the G's fnbuf) and never read before.
unsafe extern "C" fn gostart<F: FnOnce()>(arg: *mut u8) {
    // SAFETY: newproc1 wrote an F there and nobody else reads it.
    let f = unsafe { ptr::read(arg as *mut F) };
    f();
}

/// newproc creates a goroutine running f, puts it on the current P's runnext and
/// wakes an idle P if there is one. Runs on any g whose M holds a P.
pub(crate) fn newproc<F: FnOnce() + Send + 'static>(f: F) {
    newproc_stack(f, STACK_SIZE.load(Relaxed))
}

/// newproc with a stack of `stacksize` bytes (see stack::parse_stack_size's bounds).
pub(crate) fn newproc_stack<F: FnOnce() + Send + 'static>(f: F, stacksize: usize) {
    if size_of::<F>() > FNBUF_SIZE || align_of::<F>() > 16 {
        let b = alloc::boxed::Box::new(f);
        newproc_inline(b, stacksize);
    } else {
        newproc_inline(f, stacksize);
    }
}

fn newproc_inline<F: FnOnce() + Send + 'static>(f: F, stacksize: usize) {
    {
        // Pinned: galloc/gfget use the P's slab and free list, runqput its ring.
        let mp = acquirem();
        let pp = mp.p();
        if pp.is_null() {
            throw("newproc: no P (a goroutine started from gort::blocking?)");
        }
        // SAFETY: pinned to an M holding pp; newproc1 returns a fresh runnable G that
        // no queue holds yet.
        unsafe {
            let newg = newproc1(f, pp, stacksize);
            runqput(&*pp, newg, true);
        }
    }
    if MAIN_STARTED.load(Relaxed) {
        wakep();
    }
}

/// newproc1 makes a runnable G for f: a G from the free list or a new one, with f
/// in its fnbuf and a gobuf that enters gostart::<F> (on the stack execute will
/// attach), which returns into goexit.
///
/// # Safety
/// Pinned (or on g0), owning pp.
unsafe fn newproc1<F: FnOnce() + Send + 'static>(f: F, pp: *mut P, stacksize: usize) -> *mut G {
    const { assert!(size_of::<F>() <= FNBUF_SIZE && align_of::<F>() <= 16) };
    // SAFETY: the caller owns pp; newg is dead or new, so it is ours alone.
    unsafe {
        let mut newg = gfget(pp);
        if newg.is_null() {
            newg = galloc(pp);
            allgadd(newg);
        }
        let g = &mut *newg;
        let fptr = g.fnbuf.0.as_mut_ptr() as *mut F;
        ptr::write(fptr, f);
        g.stacksize = stacksize;
        g.sched = Gobuf::new();
        g.sched.pc = gostart::<F> as *const () as usize;
        g.sched.g = newg;
        g.sched.ctxt = fptr as usize;
        g.startfn = core::any::type_name::<F>();
        g.goid
            .store((*sched()).goidgen.fetch_add(1, Relaxed) + 1, Relaxed);
        g.waitreason.store(WaitReason::Zero as u8, Relaxed);
        casgstatus(newg, GDEAD, GRUNNABLE);
        newg
    }
}

/// newproc(runtime main): goroutine 1. Called by rt0_go on g0 of m0.
pub(crate) extern "C" fn newproc_main() {
    newproc(main);
    // SAFETY: boot is single-threaded; newproc just put goroutine 1 in p0.runnext.
    unsafe {
        let pp = (*getm()).p();
        MAIN_G.store((*pp).runq.peek_runnext(), Relaxed);
    }
}

/// runtime main: the body of goroutine 1. Runs the user's main; returning from it
/// leaves through goexit, and goexit0 ends the process.
fn main() {
    if getm() != m0() {
        throw("runtime.main not on m0");
    }
    MAIN_STARTED.store(true, Relaxed);
    super::sysmon::start_sysmon();
    #[cfg(not(test))]
    {
        extern "Rust" {
            fn gort_user_main();
        }
        // SAFETY: gort::main! defines gort_user_main as the user's fn main().
        unsafe { gort_user_main() };
    }
}

/// mstart0: the Rust side of mstart, on g0 with g0.sched.sp recorded. Never returns.
pub(crate) extern "C" fn mstart0() -> ! {
    minit();
    mstart1()
}

/// mstart1: run the M's start function, take the P newm gave it, and schedule.
/// Runs on g0.
fn mstart1() -> ! {
    let mp = getm();
    // SAFETY: on g0 of mp, before it runs anything else; nextp was set by the M
    // that created this one and is ours now.
    unsafe {
        if let Some(f) = (*mp).mstartfn {
            f();
        }
        if mp != m0() {
            let pp = (*mp).nextp;
            (*mp).nextp = ptr::null_mut();
            acquirep(pp);
        }
    }
    schedule()
}

/// minit: per-thread setup on the M's own thread: its kernel tid, its signal stack,
/// and the signal mask it should run with. Runs on g0.
fn minit() {
    let mp = getm();
    // SAFETY: on mp's own thread; procid is its own.
    unsafe {
        (*mp).procid.store(super::sys_linux::gettid(), Relaxed);
        super::signal_linux::minit_signals(mp);
    }
    if mp != m0() {
        super::sys_linux::sigprocmask_set(INIT_SIGMASK.load(Relaxed));
    }
}

/// mspinning: the start function of Ms started to spin for work. Runs on g0.
fn mspinning() {
    // SAFETY: on the new M's g0; spinning is its own.
    unsafe { (*getm()).spinning.store(true, Relaxed) };
}

/// allocm: a new M with its g0 (a G with a G0_STACK_SIZE stack). Allocates: no
/// runtime lock may be held.
fn allocm(f: Option<fn()>) -> *mut M {
    let mut mp = alloc::boxed::Box::new(M::new());
    mp.mstartfn = f;
    let g0 = malg(G0_STACK_SIZE);
    let mp = alloc::boxed::Box::into_raw(mp);
    // SAFETY: g0 and mp are new and ours; g0 is never scheduled, so its status is
    // set directly.
    unsafe {
        (*g0).m.store(mp, Relaxed);
        (*g0).stackguard1 = (*g0).stackguard0;
        (*g0).atomicstatus.store(GRUNNING, Relaxed);
        (*mp).g0 = g0;
    }
    mp
}

/// newm creates a new M that will start by running f (if any) and then take pp.
/// id is an id from mReserveID, or -1. Runs on any g; no runtime lock may be held.
pub(crate) fn newm(f: Option<fn()>, pp: *mut P, id: i64) {
    systemstack(|| {
        let mp = allocm(f);
        // SAFETY: mp is new; mcommoninit publishes it on allm; newosproc starts it.
        unsafe {
            (*mp).nextp = pp;
            mcommoninit(mp, id);
            newosproc(mp);
        }
    })
}

/// startm schedules some M to run pp (creating an M if necessary). If pp is null,
/// tries to get an idle P; if there is none, does nothing. If spinning, the M starts
/// spinning (and the caller has already incremented nmspinning). Must not hold
/// sched.lock.
fn startm(mut pp: *mut P, spinning: bool) {
    let s = sched();
    // SAFETY: sched.lock protects pidle and midle; the P and M we take are ours to
    // hand over.
    unsafe {
        (*s).lock.lock();
        if pp.is_null() {
            if spinning {
                throw("startm: P required for spinning=true");
            }
            pp = pidleget();
            if pp.is_null() {
                (*s).lock.unlock();
                return;
            }
        }
        let nmp = mget();
        if nmp.is_null() {
            // No M is available, we must drop sched.lock and call newm. However, we
            // already own a P to assign to the M. Once sched.lock is released,
            // another G (e.g., in a syscall) could find no idle P and no idle M and
            // call checkdead, so reserve the M's id (counted as running) first.
            let id = m_reserve_id();
            (*s).lock.unlock();
            newm(if spinning { Some(mspinning) } else { None }, pp, id);
            return;
        }
        (*s).lock.unlock();
        if (*nmp).spinning.load(Relaxed) {
            throw("startm: m is spinning");
        }
        if !(*nmp).nextp.is_null() {
            throw("startm: m has p");
        }
        if spinning && !runqempty(&*pp) {
            throw("startm: p has runnable gs");
        }
        // The caller incremented nmspinning, so set m.spinning in the new M.
        (*nmp).spinning.store(spinning, Relaxed);
        (*nmp).nextp = pp;
        // The note's Release (notewakeup) publishes nextp and spinning to the woken M.
        (*nmp).park.wakeup();
    }
}

/// handoffp hands off pp from a blocking or exiting M. Always runs without a P.
///
/// # Safety
/// pp was released by the caller (releasep) and is owned by nobody else.
pub(crate) unsafe fn handoffp(pp: *mut P) {
    let s = sched();
    // SAFETY: pp is ours to give away; sched fields under sched.lock.
    unsafe {
        // if it has local work, start it straight away
        if !runqempty(&*pp) || globrunq_nonempty() {
            startm(pp, false);
            return;
        }
        // no local work, check that there are no spinning/idle M's,
        // otherwise our help is not required
        if (*s).nmspinning.load(Relaxed) + (*s).npidle.load(Relaxed) as u32 == 0
            && (*s)
                .nmspinning
                .compare_exchange(0, 1, AcqRel, Relaxed)
                .is_ok()
        {
            startm(pp, true);
            return;
        }
        (*s).lock.lock();
        if (*s).gcwaiting.load(Relaxed) {
            (*pp).set_status(PGCSTOP);
            (*s).stopwait -= 1;
            if (*s).stopwait == 0 {
                (*s).stopnote.wakeup();
            }
            (*s).lock.unlock();
            return;
        }
        if (*s).runqsize.load(Relaxed) != 0 {
            (*s).lock.unlock();
            startm(pp, false);
            return;
        }
        pidleput(pp);
        (*s).lock.unlock();
    }
}

/// wakep tries to add one more P to execute G's. Called when a G is made runnable
/// (newproc, ready). Runs on any g, after the G was queued.
pub(crate) fn wakep() {
    let s = sched();
    // SAFETY: nmspinning/npidle are atomics; startm takes sched.lock itself.
    unsafe {
        // Steps 2 and 3 of the submission pattern (see the file head): a StoreLoad
        // barrier between the caller's queueing of the G and the loads of npidle and
        // nmspinning. Be conservative about spinning threads: only start one if none
        // exist already, and only when there is an idle P for it.
        if !must_wake_after_submit(
            || (*s).npidle.load(Relaxed),
            || (*s).nmspinning.load(Relaxed),
        ) {
            return;
        }
        if (*s)
            .nmspinning
            .compare_exchange(0, 1, AcqRel, Relaxed)
            .is_err()
        {
            return;
        }
        (*s).lock.lock();
        let pp = pidleget();
        if pp.is_null() {
            if ((*s).nmspinning.fetch_sub(1, AcqRel) as i32) - 1 < 0 {
                throw("wakep: negative nmspinning");
            }
            (*s).lock.unlock();
            return;
        }
        (*s).lock.unlock();
        startm(pp, true);
    }
}

/// stopm stops execution of the current M until new work is available, then
/// returns with a P acquired. Runs on g0 without a P.
fn stopm() {
    let mp = getm();
    let s = sched();
    // SAFETY: on mp's g0; mput under sched.lock; after the wakeup, nextp was set by
    // the waker (startm) before notewakeup.
    unsafe {
        if !(*mp).p().is_null() {
            throw("stopm holding p");
        }
        if (*mp).spinning.load(Relaxed) {
            throw("stopm spinning");
        }
        (*s).lock.lock();
        mput(mp);
        (*s).lock.unlock();
        mpark(mp);
        acquirep((*mp).nextp);
        (*mp).nextp = ptr::null_mut();
    }
}

/// mpark: sleep on the M's park note until startm (or start_the_world) wakes it.
/// Runs on g0 of mp.
fn mpark(mp: *mut M) {
    // SAFETY: only this M sleeps on its own note.
    unsafe {
        (*mp).park.sleep();
        (*mp).park.clear();
    }
}

/// resetspinning: the M found work while spinning: stop spinning and, as it may be
/// the last spinner, wake another M to keep looking. Runs on g0.
fn resetspinning() {
    let mp = getm();
    let s = sched();
    // SAFETY: spinning is this M's; nmspinning is atomic.
    unsafe {
        if !(*mp).spinning.load(Relaxed) {
            throw("resetspinning: not a spinning m");
        }
        (*mp).spinning.store(false, Relaxed);
        let n = (*s).nmspinning.fetch_sub(1, AcqRel) as i32 - 1;
        if n < 0 {
            throw("resetspinning: negative nmspinning");
        }
    }
    // M wakeup policy is deliberately somewhat conservative, so check if we need to
    // wakeup another P here.
    wakep();
}

/// schedule: one round of the scheduler: find a runnable goroutine and run it.
/// Runs on g0 of an M holding a P; never returns.
pub(crate) fn schedule() -> ! {
    let mp = getm();
    // SAFETY: on g0 of mp; mp's P is its own.
    unsafe {
        if (*mp).locks.load(Relaxed) != 0 {
            throw("schedule: holding locks");
        }
        #[cfg(debug_assertions)]
        if (*mp).locks_held_len != 0 {
            throw("schedule: holding runtime locks");
        }
        loop {
            let pp = (*mp).p();
            if (*mp).spinning.load(Relaxed) && !runqempty(&*pp) {
                throw("schedule: spinning with local work");
            }
            let (gp, inherit) = findrunnable(); // blocks until work is available
                                                // This thread is going to run a goroutine and is not spinning anymore,
                                                // so if it was marked as spinning we need to reset it now and
                                                // potentially start a new spinning M.
            if (*mp).spinning.load(Relaxed) {
                resetspinning();
            }
            if gp.is_null() {
                continue;
            }
            execute(gp, inherit);
        }
    }
}

/// findrunnable finds a runnable goroutine to execute: from the local queue, the
/// global queue, or other Ps (stealing), parking the M when there is nothing.
/// Returns with the M holding a P. Runs on g0.
fn findrunnable() -> (*mut G, bool) {
    let mp = getm();
    let s = sched();
    // SAFETY: on g0 of mp, which owns its P (null only between releasep and the next
    // acquirep below); the global queue and idle lists under sched.lock.
    unsafe {
        'top: loop {
            let pp = (*mp).p();
            // Acquire: pairs with stop_the_world's Release; a gcstopm M sees the
            // stopper's stopwait under the lock anyway.
            if (*s).gcwaiting.load(Acquire) {
                gcstopm();
                continue 'top;
            }
            // Run the timers that are due (they ready goroutines onto our queue).
            let w = (*pp).timers.timer0_when.load(SeqCst);
            if w != 0 && w <= super::vdso_linux::nanotime() {
                super::time::run_timers(pp, super::vdso_linux::nanotime());
            }
            // Check the global runnable queue once in a while to ensure fairness.
            // Otherwise two goroutines can completely occupy the local runqueue by
            // constantly respawning each other.
            if (*pp).schedtick.load(Relaxed).is_multiple_of(61) && globrunq_nonempty() {
                (*s).lock.lock();
                let gp = globrunqget(pp, 1);
                (*s).lock.unlock();
                if !gp.is_null() {
                    return (gp, false);
                }
            }
            // local runq
            if let Some((gp, inherit)) = runqget(&*pp) {
                return (gp, inherit);
            }
            // global runq
            if globrunq_nonempty() {
                (*s).lock.lock();
                let gp = globrunqget(pp, 0);
                (*s).lock.unlock();
                if !gp.is_null() {
                    return (gp, false);
                }
            }
            // Spinning Ms: steal work from other Ps.
            //
            // Limit the number of spinning Ms to half the number of busy Ps. This is
            // necessary to prevent excessive CPU consumption when GOMAXPROCS>>1 but
            // the program parallelism is low.
            let procs = gomaxprocs() as i32;
            if (*mp).spinning.load(Relaxed)
                || 2 * ((*s).nmspinning.load(Relaxed) as i32) < procs - (*s).npidle.load(Relaxed)
            {
                if !(*mp).spinning.load(Relaxed) {
                    (*mp).spinning.store(true, Relaxed);
                    (*s).nmspinning.fetch_add(1, AcqRel);
                }
                if let Some(gp) = steal_work(pp) {
                    STEALS.fetch_add(1, Relaxed);
                    return (gp, false);
                }
                if (*s).gcwaiting.load(Acquire) {
                    continue 'top;
                }
            }

            // We have nothing to do. Return P and block.
            (*s).lock.lock();
            if (*s).gcwaiting.load(Relaxed) {
                (*s).lock.unlock();
                continue 'top;
            }
            if (*s).runqsize.load(Relaxed) != 0 {
                let gp = globrunqget(pp, 0);
                (*s).lock.unlock();
                return (gp, false);
            }
            if releasep() != pp {
                throw("findrunnable: wrong p");
            }
            pidleput(pp);
            (*s).lock.unlock();

            // Delicate dance: thread transitions from spinning to non-spinning
            // state, potentially concurrently with submission of new work. We must
            // drop nmspinning first and then check all sources again (with
            // StoreLoad memory barrier in between). If we do it the other way
            // around, another thread can submit work after we've checked all
            // sources but before we drop nmspinning; as a result nobody will unpark
            // a thread to run the work.
            if (*mp).spinning.load(Relaxed) {
                (*mp).spinning.store(false, Relaxed);
                if ((*s).nmspinning.fetch_sub(1, AcqRel) as i32) - 1 < 0 {
                    throw("findrunnable: negative nmspinning");
                }
                // Check all runqueues once again, after the StoreLoad barrier that
                // pairs with wakep's.
                let pp2 = if recheck_after_spinning(any_work_no_p) {
                    pidleget_locked()
                } else {
                    ptr::null_mut()
                };
                if !pp2.is_null() {
                    acquirep(pp2);
                    (*mp).spinning.store(true, Relaxed);
                    (*s).nmspinning.fetch_add(1, AcqRel);
                    continue 'top;
                }
            }
            // Timers pending: one idle M sleeps until the earliest is due, then takes
            // an idle P to run it (Go's netpoll-with-timeout, without the poller).
            if timer_sleep() {
                (*s).lock.lock();
                let pp2 = pidleget();
                (*s).lock.unlock();
                if !pp2.is_null() {
                    acquirep(pp2);
                    continue 'top;
                }
            }
            stopm();
        }
    }
}

/// The earliest timer across all Ps (0: none).
fn earliest_timer() -> i64 {
    let mut best = 0i64;
    for i in 0..allp_len() {
        // SAFETY: Ps are never freed; timer0_when is atomic.
        let w = unsafe { (*allp(i)).timers.timer0_when.load(SeqCst) };
        if w != 0 && (best == 0 || w < best) {
            best = w;
        }
    }
    best
}

/// timer_sleep: if timers are pending and no other M is their sleeper, sleep on the
/// timer futex until the earliest is due (or an earlier one is added). Returns
/// whether this M slept (and should now go and run timers). Runs on g0 without a P.
fn timer_sleep() -> bool {
    if earliest_timer() == 0
        || TIMER_SLEEPING
            .compare_exchange(false, true, SeqCst, SeqCst)
            .is_err()
    {
        return false;
    }
    let gen = TIMER_WAKE.load(SeqCst);
    // Read the timers after announcing ourselves: an addtimer from now on wakes us.
    let when = earliest_timer();
    let mut slept = false;
    if when != 0 {
        TIMER_UNTIL.store(when, SeqCst);
        let delay = when - super::vdso_linux::nanotime();
        if delay > 0 {
            super::sys_linux::futex_wait_timeout(&TIMER_WAKE, gen, delay);
        }
        slept = true;
    }
    TIMER_UNTIL.store(0, SeqCst);
    TIMER_SLEEPING.store(false, SeqCst);
    slept
}

/// A timer due at `when` was added: make sure some M will run it in time: wake the
/// timer sleeper if it sleeps past `when`, or wake an idle P if there is no sleeper.
/// Runs on any g.
pub(crate) fn wake_timer_sleeper(when: i64) {
    if TIMER_SLEEPING.load(SeqCst) {
        let until = TIMER_UNTIL.load(SeqCst);
        if until == 0 || when < until {
            TIMER_WAKE.fetch_add(1, SeqCst);
            super::sys_linux::futex_wake(&TIMER_WAKE, 1);
        }
    } else {
        wakep();
    }
}

/// Whether the global queue or any P's run queue has work (findrunnable's re-check
/// after it dropped its P). Any thread.
fn any_work_no_p() -> bool {
    // SAFETY: Ps are never freed; runqempty reads atomics.
    globrunq_nonempty() || (0..allp_len()).any(|i| unsafe { !runqempty(&*allp(i)) })
}

/// An idle P, taken under sched.lock, or null. Must not hold sched.lock.
fn pidleget_locked() -> *mut P {
    let s = sched();
    // SAFETY: pidleget under sched.lock.
    unsafe {
        (*s).lock.lock();
        let pp = pidleget();
        (*s).lock.unlock();
        pp
    }
}

/// steal_work attempts to steal a runnable goroutine from any P.
///
/// # Safety
/// On g0 of a spinning M that owns pp.
unsafe fn steal_work(pp: *mut P) -> Option<*mut G> {
    // SAFETY: runqsteal only CASes other Ps' heads; pp is ours; STEAL_ORDER changes
    // only with the world stopped, when no M is spinning.
    unsafe {
        let order = &raw const STEAL_ORDER;
        for i in 0..STEAL_TRIES {
            let steal_runnext = i == STEAL_TRIES - 1;
            for pos in (*order).start(fastrand()) {
                if (*sched()).gcwaiting.load(Relaxed) {
                    return None;
                }
                let p2 = allp(pos as usize);
                if p2 == pp || p2.is_null() {
                    continue;
                }
                // On the last pass, run p2's due timers too (they ready goroutines
                // onto our queue): timers are stolen with work.
                if steal_runnext && super::time::run_timers(p2, super::vdso_linux::nanotime()) {
                    if let Some((gp, _)) = runqget(&*pp) {
                        return Some(gp);
                    }
                }
                if let Some(gp) = runqsteal(&*pp, &*p2, steal_runnext) {
                    return Some(gp);
                }
            }
        }
        None
    }
}

/// execute runs gp on the current M. If inherit, gp inherits the remaining time slice
/// (schedtick is not advanced).
///
/// # Safety
/// On g0 of an M holding a P; gp is runnable and was just taken off a queue, so it is
/// ours. Never returns.
unsafe fn execute(gp: *mut G, inherit: bool) -> ! {
    // SAFETY: as above.
    unsafe {
        let mp = getm();
        let pp = (*mp).p();
        if (*gp).stack.lo == 0 {
            stack_attach(pp, gp);
        }
        (*mp).curg.store(gp, Relaxed);
        (*gp).m.store(mp, Relaxed);
        casgstatus(gp, GRUNNABLE, GRUNNING);
        if !inherit {
            let t = &(*pp).schedtick;
            t.store(t.load(Relaxed).wrapping_add(1), Relaxed); // owner-only writer
        }
        gort_gogo(&(*gp).sched)
    }
}

/// dropg removes the association between the M and its current goroutine.
/// Runs on g0.
#[inline(always)]
fn dropg() {
    let mp = getm();
    // SAFETY: on g0 of mp; curg is written only by mp.
    unsafe {
        let gp = (*mp).curg();
        if !gp.is_null() {
            (*gp).m.store(ptr::null_mut(), Relaxed);
        }
        (*mp).curg.store(ptr::null_mut(), Relaxed);
    }
}

/// gopark puts the current goroutine into a waiting state and calls unlockf(gp,
/// lock) on g0, after the goroutine is off its stack. If unlockf returns false, the
/// goroutine is resumed at once. Whoever makes the goroutine runnable again calls
/// goready. Must be called on a user goroutine, with no acquirem pin held (the
/// runtime locks unlockf releases may be held).
///
/// The goroutine stays pinned from here until park_m: the wait fields live in the
/// M, and park_m must run on the same M that set them.
///
/// # Safety
/// unlockf must be safe to call with lock on g0; it must not park, and it must not
/// allocate (debug builds check). The caller must arrange for a later goready (or
/// accept sleeping forever).
pub(crate) unsafe fn gopark(
    unlockf: Option<unsafe fn(*mut G, *mut u8) -> bool>,
    lock: *mut u8,
    reason: WaitReason,
) {
    mlocks_inc(); // released by park_m, on g0 of this same M
    let mp = getm();
    // SAFETY: pinned: waitlock/waitunlockf are this M's, read by park_m on this M.
    unsafe {
        let gp = (*mp).curg();
        let status = (*gp).atomicstatus.load(Relaxed);
        if status != GRUNNING {
            throw("gopark: bad g status");
        }
        (*mp).waitlock = lock;
        (*mp).waitunlockf = unlockf;
        (*gp).waitreason.store(reason as u8, Relaxed);
    }
    mcall(park_m);
}

/// Unlock function for goparkunlock: releases a runtime Mutex.
unsafe fn parkunlock_c(_gp: *mut G, lock: *mut u8) -> bool {
    // SAFETY: lock is the Mutex the parking goroutine held (goparkunlock's contract).
    unsafe { (*(lock as *const Mutex)).unlock() };
    true
}

/// goparkunlock parks the goroutine and releases lock once it is off its stack.
///
/// # Safety
/// The caller holds lock; someone will goready the goroutine later.
pub(crate) unsafe fn goparkunlock(lock: &Mutex, reason: WaitReason) {
    // SAFETY: forwarded contract.
    unsafe { gopark(Some(parkunlock_c), lock as *const _ as *mut u8, reason) }
}

/// park continuation on g0.
extern "C" fn park_m(gp: *mut G) -> ! {
    let mp = getm();
    mlocks_dec(); // gopark's pin: on g0 now, which never changes M
                  // SAFETY: on g0; gp was this M's curg and is now off its stack.
    unsafe {
        casgstatus(gp, GRUNNING, GWAITING);
        dropg();
        if let Some(f) = (*mp).waitunlockf.take() {
            let lock = core::mem::replace(&mut (*mp).waitlock, ptr::null_mut());
            #[cfg(debug_assertions)]
            {
                (*mp).parking = true;
            }
            let park = f(gp, lock);
            #[cfg(debug_assertions)]
            {
                (*mp).parking = false;
            }
            if !park {
                casgstatus(gp, GWAITING, GRUNNABLE);
                execute(gp, true); // Schedule it back, never returns.
            }
        }
    }
    schedule()
}

/// goready marks gp (which is parked) runnable and puts it in the current P's
/// runnext, waking an idle P if there is one. Runs on any g whose M holds a P.
///
/// # Safety
/// gp is parked (GWAITING) and no one else will ready it.
pub(crate) unsafe fn goready(gp: *mut G) {
    // SAFETY: forwarded contract.
    unsafe { ready(gp, true) }
}

/// ready: make gp runnable on the current P (runnext if next).
///
/// # Safety
/// As goready.
unsafe fn ready(gp: *mut G, next: bool) {
    {
        // Pinned: runqput needs the P to stay ours.
        let mp = acquirem();
        let pp = mp.p();
        if pp.is_null() {
            throw("ready: no P (a goroutine readied from gort::blocking?)");
        }
        // SAFETY: gp is parked and ours to ready; pp is pinned to us.
        unsafe {
            // The waker's writes to gp (param, a sudog's fields) are published to
            // whoever runs gp by runqput's Release store.
            casgstatus(gp, GWAITING, GRUNNABLE);
            runqput(&*pp, gp, next);
        }
    }
    wakep();
}

/// gosched yields the processor, allowing other goroutines to run. The current
/// goroutine goes to the global queue, as in Go. Runs on a goroutine.
pub(crate) fn gosched() {
    mcall(gosched_m);
}

extern "C" fn gosched_m(gp: *mut G) -> ! {
    let s = sched();
    // SAFETY: on g0; gp was this M's curg and is off its stack.
    unsafe {
        casgstatus(gp, GRUNNING, GRUNNABLE);
        dropg();
        (*s).lock.lock();
        globrunqput(gp);
        (*s).lock.unlock();
    }
    schedule()
}

/// goyield is like gosched, but puts the goroutine on the current P's local run
/// queue instead of the global one (used after a direct handoff). Runs on a
/// goroutine.
pub(crate) fn goyield() {
    mcall(goyield_m);
}

extern "C" fn goyield_m(gp: *mut G) -> ! {
    // SAFETY: on g0; gp was this M's curg and is off its stack; the P is ours.
    unsafe {
        let pp = (*getm()).p();
        casgstatus(gp, GRUNNING, GRUNNABLE);
        dropg();
        runqput(&*pp, gp, false);
    }
    schedule()
}

/// entersyscallblock: the goroutine is about to block its thread in the kernel. Its P
/// is handed off (handoffp) so the other goroutines keep running; the M goes on
/// without a P until exitsyscall. Runs on a goroutine.
pub(crate) fn entersyscallblock() {
    let gp = getg();
    // SAFETY: gp is the running goroutine, ours.
    unsafe { casgstatus(gp, GRUNNING, GSYSCALL) };
    systemstack(|| {
        // SAFETY: on g0 of the M that holds the P: release it, then hand it off.
        unsafe { handoffp(releasep()) }
    });
}

/// exitsyscall: the blocking call returned; get a P to go on running. If there is
/// an idle P, take it and continue on this thread; otherwise queue the goroutine on
/// the global run queue and park the thread (exitsyscall0). Runs on a goroutine.
pub(crate) fn exitsyscall() {
    let s = sched();
    let gp = getg();
    let got = systemstack(|| {
        // SAFETY: on g0 of this M, which has no P; pidle is under sched.lock.
        unsafe {
            (*s).lock.lock();
            let pp = if (*s).gcwaiting.load(Relaxed) {
                ptr::null_mut()
            } else {
                pidleget()
            };
            (*s).lock.unlock();
            if !pp.is_null() {
                acquirep(pp);
            }
            !pp.is_null()
        }
    });
    if got {
        // SAFETY: gp is ours, and its M holds a P again.
        unsafe { casgstatus(gp, GSYSCALL, GRUNNING) };
        return;
    }
    mcall(exitsyscall0);
}

/// exitsyscall slow path, on g0: no idle P, so queue gp globally and stop the M.
extern "C" fn exitsyscall0(gp: *mut G) -> ! {
    let s = sched();
    // SAFETY: on g0; gp is off its stack; the global queue is under sched.lock.
    unsafe {
        casgstatus(gp, GSYSCALL, GRUNNABLE);
        dropg();
        (*s).lock.lock();
        let pp = if (*s).gcwaiting.load(Relaxed) {
            ptr::null_mut()
        } else {
            pidleget()
        };
        if pp.is_null() {
            globrunqput(gp);
        }
        (*s).lock.unlock();
        if !pp.is_null() {
            acquirep(pp);
            execute(gp, false); // Never returns.
        }
    }
    stopm();
    schedule()
}

/// goexit1: the goroutine's function returned (we came from goexit). Finish it on g0.
pub(crate) extern "C" fn goexit1() -> ! {
    mcall(goexit0);
    throw("goexit1: goroutine resumed after exit")
}

/// goexit0: on g0, after the goroutine gp has finished.
extern "C" fn goexit0(gp: *mut G) -> ! {
    // SAFETY: on g0; gp was the current goroutine and has returned, so nothing runs
    // on its stack any more.
    unsafe {
        let mp = getm();
        casgstatus(gp, GRUNNING, GDEAD);
        (*gp).waitreason.store(WaitReason::Zero as u8, Relaxed);
        dropg();
        if gp == main_g() {
            // runtime.main returned: the program is done (Go's exit(0)).
            super::sys_linux::exit_group(0);
        }
        stack_detach((*mp).p(), gp);
        gfput((*mp).p(), gp);
    }
    schedule()
}

/// Called from mcall when it is used on g0.
pub(crate) extern "C" fn badmcall() -> ! {
    throw("runtime: mcall called on m->g0 stack")
}

/// stop_the_world stops all Ps from running goroutines: on return, only the calling
/// goroutine runs, and it keeps its P (in PGCSTOP). Runs on a goroutine.
pub(crate) fn stop_the_world() {
    systemstack(|| {
        let s = sched();
        let mp = getm();
        // SAFETY: on g0; sched.lock protects stopwait/pidle; gcwaiting makes every
        // other M give up its P in gcstopm.
        unsafe {
            (*s).lock.lock();
            (*s).stopwait = gomaxprocs() as i32;
            // Release: pairs with findrunnable's Acquire load.
            (*s).gcwaiting.store(true, Release);
            // stop current P
            (*(*mp).p()).set_status(PGCSTOP);
            (*s).stopwait -= 1;
            // stop idle Ps
            loop {
                let pp = pidleget();
                if pp.is_null() {
                    break;
                }
                (*pp).set_status(PGCSTOP);
                (*s).stopwait -= 1;
            }
            let wait = (*s).stopwait > 0;
            (*s).lock.unlock();
            // Spinning and idle Ms notice gcwaiting when they next look for work;
            // running goroutines when they next enter the scheduler.
            if wait {
                (*s).stopnote.sleep();
                (*s).stopnote.clear();
            }
            (*s).lock.lock();
            let left = (*s).stopwait;
            (*s).lock.unlock();
            if left != 0 {
                throw("stopTheWorld: not stopped");
            }
            for i in 0..allp_len() {
                if (*allp(i)).status.load(Relaxed) != PGCSTOP {
                    throw("stopTheWorld: not stopped (status != _Pgcstop)");
                }
            }
        }
    })
}

/// start_the_world restarts the world with `procs` Ps (0: unchanged). Runs on the
/// goroutine that stopped it.
pub(crate) fn start_the_world(procs: i32) {
    let n = if procs > 0 {
        procs
    } else {
        gomaxprocs() as i32
    };
    // The Ps come into existence before sched.lock is taken: procresize must not
    // allocate.
    allpgrow(n as usize);
    systemstack(|| {
        let s = sched();
        // SAFETY: on g0; the world is stopped and we hold sched.lock for procresize;
        // each P in the returned list is ours to hand to an M.
        unsafe {
            (*s).lock.lock();
            let old = gomaxprocs();
            let mut p1 = procresize(n);
            (*s).gcwaiting.store(false, Release);
            (*s).lock.unlock();
            // The world is still stopped for the Ps being removed: move their timers.
            move_dead_timers(n as usize, old);
            while !p1.is_null() {
                let pp = p1;
                p1 = (*pp).link;
                let mp = (*pp).m();
                if !mp.is_null() {
                    (*pp).m.store(ptr::null_mut(), Relaxed);
                    if !(*mp).nextp.is_null() {
                        throw("startTheWorld: inconsistent mp->nextp");
                    }
                    (*mp).nextp = pp;
                    (*mp).park.wakeup();
                } else {
                    // Start M to run P. Do not start another M below.
                    newm(None, pp, -1);
                }
            }
        }
        // Wakeup an additional proc in case we have excessive runnable goroutines
        // in local queues or in the global queue.
        wakep();
    })
}

/// gcstopm: stop the current M for stop-the-world; returns when the world restarts
/// and this M has a P again. Runs on g0.
fn gcstopm() {
    let s = sched();
    let mp = getm();
    // SAFETY: on g0 of mp; stopwait under sched.lock.
    unsafe {
        if !(*s).gcwaiting.load(Relaxed) {
            throw("gcstopm: not waiting for gc");
        }
        if (*mp).spinning.load(Relaxed) {
            (*mp).spinning.store(false, Relaxed);
            // OK to just drop nmspinning here, startTheWorld will unpark threads as
            // necessary.
            if ((*s).nmspinning.fetch_sub(1, AcqRel) as i32) - 1 < 0 {
                throw("gcstopm: negative nmspinning");
            }
        }
        let pp = releasep();
        (*s).lock.lock();
        (*pp).set_status(PGCSTOP);
        (*s).stopwait -= 1;
        if (*s).stopwait == 0 {
            (*s).stopnote.wakeup();
        }
        (*s).lock.unlock();
    }
    stopm();
}

/// gomaxprocs(n): set the number of Ps to n (if n > 0) and return the previous
/// value. Stops the world to resize. Runs on a goroutine.
pub(crate) fn set_gomaxprocs(n: i32) -> i32 {
    let old = gomaxprocs() as i32;
    if n <= 0 || n == old {
        return old;
    }
    let n = n.min(MAX_GOMAXPROCS as i32);
    stop_the_world();
    start_the_world(n);
    old
}

/// checkdead: check for deadlock situation. The check is based on the number of
/// running M's; if 0, the program is deadlocked.
///
/// # Safety
/// sched.lock must be held.
pub(crate) unsafe fn checkdead() {
    let s = sched();
    // SAFETY: the caller holds sched.lock; G statuses are atomic.
    unsafe {
        (*s).lock.assert_held();
        let run = mcount() - (*s).nmidle as i64 - (*s).nmidlelocked as i64 - (*s).nmsys as i64;
        if run > 0 {
            return;
        }
        if run < 0 {
            crate::eprintln!(
                "runtime: checkdead: nmidle={} nmidlelocked={} mcount={} nmsys={}",
                (*s).nmidle,
                (*s).nmidlelocked,
                mcount(),
                (*s).nmsys
            );
            throw("checkdead: inconsistent counts");
        }
        let mut grunning = 0;
        for gp in allgs() {
            // Acquire: pairs with casgstatus's Release.
            match (*gp).atomicstatus.load(Acquire) {
                GWAITING => grunning += 1,
                GRUNNABLE | GRUNNING | GSYSCALL => {
                    crate::eprintln!(
                        "runtime: checkdead: find g {} in status {}",
                        (*gp).goid(),
                        (*gp).atomicstatus.load(Relaxed)
                    );
                    throw("checkdead: runnable g");
                }
                _ => {}
            }
        }
        if grunning == 0 {
            throw("no goroutines (main called runtime.Goexit) - deadlock!");
        }
        // There are no goroutines running, so we can look at the P's: a pending
        // timer will wake someone.
        for i in 0..allp_len() {
            if !(*allp(i)).timers.is_empty() {
                return;
            }
        }
        super::traceback::fatal_with_goroutines("all goroutines are asleep - deadlock!");
    }
}

/// sync_runtime_canSpin: may sync.Mutex spin (iteration iter) instead of parking?
/// Only on a multicore machine with GOMAXPROCS > 1, at least one other running P,
/// an empty local run queue (else we had better run that work), and for at most
/// ACTIVE_SPIN iterations. Runs on a goroutine.
pub(crate) fn sync_runtime_canspin(iter: i32) -> bool {
    const ACTIVE_SPIN: i32 = 4;
    if iter >= ACTIVE_SPIN || super::os_linux::ncpu() <= 1 {
        return false;
    }
    let s = sched();
    // SAFETY: atomics of the static scheduler.
    let (npidle, nmspinning) = unsafe {
        (
            (*s).npidle.load(Relaxed),
            (*s).nmspinning.load(Relaxed) as i32,
        )
    };
    if gomaxprocs() as i32 <= npidle + nmspinning + 1 {
        return false;
    }
    let mp = acquirem();
    let pp = mp.p();
    // SAFETY: pinned: pp is our P.
    !pp.is_null() && unsafe { runqempty(&*pp) }
}

/// randomOrder/randomEnum: an enumeration of all Ps in a pseudo-random order that
/// visits each exactly once, from a start point and a stride coprime to count.
pub(crate) struct RandomOrder {
    count: u32,
    ncoprimes: usize,
    coprimes: [u32; MAX_GOMAXPROCS],
}

/// One enumeration of a RandomOrder.
pub(crate) struct RandomEnum {
    i: u32,
    count: u32,
    pos: u32,
    inc: u32,
}

impl RandomOrder {
    /// An empty order (reset before use).
    pub(crate) const fn new() -> RandomOrder {
        RandomOrder {
            count: 0,
            ncoprimes: 0,
            coprimes: [0; MAX_GOMAXPROCS],
        }
    }

    /// Prepare to enumerate count Ps.
    pub(crate) fn reset(&mut self, count: u32) {
        self.count = count;
        self.ncoprimes = 0;
        for i in 1..=count {
            if gcd(i, count) == 1 {
                self.coprimes[self.ncoprimes] = i;
                self.ncoprimes += 1;
            }
        }
    }

    /// The number of Ps enumerated.
    pub(crate) fn count(&self) -> u32 {
        self.count
    }

    /// An enumeration starting from the random number i.
    pub(crate) fn start(&self, i: u32) -> RandomEnum {
        RandomEnum {
            i: 0,
            count: self.count,
            pos: i % self.count,
            inc: self.coprimes[(i / self.count) as usize % self.ncoprimes],
        }
    }
}

impl Iterator for RandomEnum {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.i == self.count {
            return None;
        }
        let p = self.pos;
        self.i += 1;
        self.pos = (self.pos + self.inc) % self.count;
        Some(p)
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The stealOrder count (= gomaxprocs after the last procresize).
pub(crate) fn steal_order_count() -> u32 {
    // SAFETY: written only by procresize with the world stopped; reads see the value
    // of the last procresize.
    unsafe {
        let order = &raw const STEAL_ORDER;
        (*order).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    #[test]
    fn random_order_visits_each_once() {
        let mut ord = alloc::boxed::Box::new(RandomOrder::new());
        for count in 1..=40u32 {
            ord.reset(count);
            for start in 0..200u32 {
                let mut seen: Vec<u32> = ord.start(start).collect();
                seen.sort();
                assert_eq!(
                    seen,
                    (0..count).collect::<Vec<_>>(),
                    "count {count} start {start}"
                );
            }
        }
    }

    #[test]
    fn status_doors_accept_the_scheduler_transitions_only() {
        assert!(gtransition_ok(GRUNNABLE, GRUNNING));
        assert!(gtransition_ok(GWAITING, GRUNNABLE));
        assert!(
            !gtransition_ok(GWAITING, GRUNNING),
            "a parked G is readied first"
        );
        assert!(!gtransition_ok(GDEAD, GRUNNING));
        #[cfg(debug_assertions)]
        {
            assert!(ptransition_ok(PIDLE, PRUNNING));
            assert!(!ptransition_ok(PDEAD, PRUNNING));
        }
    }
}
