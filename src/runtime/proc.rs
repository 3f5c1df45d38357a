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
//! A goroutine may lose its M at any instruction where `m.locks == 0` (asynchronous
//! preemption, preempt.rs) and continue on another M with another P. So code running on a
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
//! While the network is busy, a spinning M that found nothing also polls it for a
//! few microseconds before it gives up its P (`poll_spin`; Go's Ms do not).
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
//! sees gcwaiting and gives the P up (`gcstopm`). The stopper preempts every
//! running goroutine (`preemptall`, again every 100 us while it waits) and takes Ps
//! in system calls outright (CAS PSYSCALL -> PGCSTOP), so a goroutine that never
//! parks delays the stop only while it holds a runtime lock. WORLDSEMA lets one
//! stopper at a time in (Go's worldsema): concurrent `gomaxprocs` calls queue.
//!
//! # Unsafe code and orderings
//!
//! SCHED is a `static mut` whose plain fields sched.lock protects, so no `&Schedt`
//! is ever made: `sched_shared()` hands out references to the parts that are shared
//! by design (its locks, its note and its atomics), and the locked fields are
//! reached through the raw `sched()` with the lock held. Ps, Ms and Gs are never
//! freed, so a pointer to one stays valid; a `&P` is taken only to use its atomics,
//! run queue and timers, while its plain fields are touched through the raw pointer
//! by its owner.
//!
//! Each atomic operation says at its use why its ordering suffices. One case recurs
//! and is explained once, here: `sched.nmspinning` is changed by AcqRel
//! read-modify-writes (Go's are sequentially consistent). The counter publishes no
//! data, and the StoreLoad ordering the spinning handshake needs comes from the
//! explicit barriers in `must_wake_after_submit` and `recheck_after_spinning`, so
//! Relaxed would do; on x86-64 every read-modify-write is one locked instruction
//! whatever its ordering, so the stronger one costs nothing and is kept.

use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr;
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize,
};

pub(crate) use super::asm_amd64::{getg, mlocks_dec, mlocks_inc};
use super::asm_amd64::{gort_gogo, gort_mcall, gort_systemstack};
use super::lock_futex::{Mutex, Note};
use super::netpoll;
use super::os_linux::newosproc;
use super::preempt::preemptall;
use super::runq::{
    globrunq_nonempty, globrunqget, globrunqput, globrunqput_stopped, globrunqputhead,
    must_wake_after_submit, recheck_after_spinning, runqempty, runqget, runqput, runqsteal,
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
/// with Acquire. The pair is what makes `allp(i)` non-null for every i below the
/// length a reader sees: the Ps were made (allpgrow) before the store. Readers run
/// even while the world is stopped (the timer sleeper, sysmon, Ms in system calls
/// hold no P), and they also see the statuses procresize set before the store.
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
/// The signal mask m0 started with; new Ms restore it in minit, and a forked
/// child process before it execs (Go's initSigmask). Written once at boot.
static INIT_SIGMASK: AtomicU64 = AtomicU64::new(0);

/// The signal mask the process started with (INIT_SIGMASK). Any thread.
pub(crate) fn init_sigmask() -> u64 {
    // Relaxed: written once at boot, before any other thread exists.
    INIT_SIGMASK.load(Relaxed)
}
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

/// The scheduler's global state, for the fields under sched.lock (the shared ones
/// are reached through `sched_shared`).
pub(crate) fn sched() -> *mut Schedt {
    &raw mut SCHED
}

/// The parts of SCHED that any thread may use without sched.lock: the locks, the
/// stop note and the atomics, each as a shared reference to that field alone (see
/// Schedt for what each protects and what its atomics mean).
#[derive(Clone, Copy)]
pub(crate) struct SchedShared {
    pub(crate) lock: &'static Mutex,
    pub(crate) goidgen: &'static AtomicU64,
    pub(crate) mnext: &'static AtomicI64,
    pub(crate) npidle: &'static AtomicI32,
    pub(crate) nmspinning: &'static AtomicU32,
    pub(crate) runqsize: &'static AtomicI32,
    pub(crate) gfree_lock: &'static Mutex,
    pub(crate) ngfree: &'static AtomicI32,
    pub(crate) gcwaiting: &'static AtomicBool,
    pub(crate) stopnote: &'static Note,
    pub(crate) sysmonwait: &'static AtomicBool,
    pub(crate) sysmonnote: &'static Note,
}

/// The shared parts of SCHED (see SchedShared). Free: the references are constant
/// addresses inside the static.
#[inline(always)]
pub(crate) fn sched_shared() -> SchedShared {
    let s = sched();
    // SAFETY: SCHED is a static, never moved or freed, and none of these fields is
    // ever written except through its own &self methods (atomics, a Mutex, a Note):
    // each reference covers one such field, never the plain fields sched.lock
    // protects.
    unsafe {
        SchedShared {
            lock: &(*s).lock,
            goidgen: &(*s).goidgen,
            mnext: &(*s).mnext,
            npidle: &(*s).npidle,
            nmspinning: &(*s).nmspinning,
            runqsize: &(*s).runqsize,
            gfree_lock: &(*s).gfree_lock,
            ngfree: &(*s).ngfree,
            gcwaiting: &(*s).gcwaiting,
            stopnote: &(*s).stopnote,
            sysmonwait: &(*s).sysmonwait,
            sysmonnote: &(*s).sysmonnote,
        }
    }
}

/// The current M. Only stable while the goroutine is pinned (acquirem, a runtime
/// lock held) or on g0: otherwise the goroutine may run on another M by the time the
/// result is used. Runs on any g.
#[inline(always)]
pub(crate) fn getm() -> *mut M {
    // SAFETY: getg() is the running G, live while it runs, and every g the runtime
    // runs has a valid m while it runs.
    unsafe { (*getg()).m() }
}

/// The running goroutine's id. Runs on any g.
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
        // SAFETY: the M is pinned to us and live (Ms are never freed); p is atomic.
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

/// gort::NoPreempt::new: pin the goroutine to its M (m.locks, which the SIGURG
/// handler and preempt_check respect) and count the section. Runs on a goroutine.
#[inline]
pub(crate) fn nopreempt_enter() {
    mlocks_inc();
    // SAFETY: pinned (m.locks raised): getm() is our M; nopreempt is owner-only.
    unsafe { (*getm()).nopreempt += 1 };
}

/// NoPreempt's drop: end the section (see nopreempt_enter). Runs on the goroutine
/// that entered, on the same M (it could not move).
#[inline]
pub(crate) fn nopreempt_exit() {
    // SAFETY: still pinned by our own count: getm() is our M; nopreempt is
    // owner-only.
    unsafe { (*getm()).nopreempt -= 1 };
    mlocks_dec();
    preempt_check();
}

/// Debug builds: throw unless the caller may use its M's P through a local: it is on
/// g0, or pinned (m.locks > 0). Release builds: nothing.
#[inline(always)]
pub(crate) fn assert_pinned() {
    #[cfg(debug_assertions)]
    {
        let gp = getg();
        // SAFETY: gp is the running G, live while it runs.
        let mp = unsafe { (*gp).m() };
        // SAFETY: mp is the M running us (Ms are never freed); g0 is immutable and
        // locks atomic. Relaxed: only this thread writes m.locks.
        let ok = unsafe { gp == (*mp).g0 || (*mp).locks.load(Relaxed) > 0 };
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

/// fastrand: a per-M pseudo-random number (wyrand). Runs on any g; no allocation.
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

/// The number of Ps. Any thread.
pub(crate) fn gomaxprocs() -> usize {
    // Relaxed: a hint (see GOMAXPROCS).
    GOMAXPROCS.load(Relaxed) as usize
}

/// The P with index i (i < MAX_GOMAXPROCS; null if never made). Any thread.
pub(crate) fn allp(i: usize) -> *mut P {
    // Acquire: pairs with allpgrow's Release CAS, so the P is seen initialised.
    ALLP[i].load(Acquire)
}

/// The number of live Ps. Any thread.
pub(crate) fn allp_len() -> usize {
    // Acquire: pairs with procresize's Release store (see ALLP_LEN).
    ALLP_LEN.load(Acquire)
}

/// Iterate the allm list. Any thread.
pub(crate) fn allm() -> impl Iterator<Item = *mut M> {
    // Acquire: pairs with mcommoninit's Release store, so each M is seen complete.
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
/// Any thread.
pub(crate) fn allgs() -> impl Iterator<Item = *mut G> {
    // Acquire: pairs with allgadd's Release CAS, so each G's alllink is seen.
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
/// be missed, never visited twice. Any thread; no allocation, no lock.
pub(crate) fn allgs_in_creation_order() -> impl Iterator<Item = *mut G> {
    // Acquire: pairs with allgadd's Release store of the first G.
    let mut gp = ALLG_FIRST.load(Acquire);
    core::iter::from_fn(move || {
        if gp.is_null() {
            return None;
        }
        let cur = gp;
        // SAFETY: Gs are never freed, and allnewer is atomic. Acquire: pairs with
        // allgadd's Release store, so the newer G is seen complete.
        gp = unsafe { (*gp).allnewer.load(Acquire) };
        Some(cur)
    })
}

/// Goroutine 1. Any thread.
pub(crate) fn main_g() -> *mut G {
    // Relaxed: written once during boot, before any other thread exists.
    MAIN_G.load(Relaxed)
}

/// gcount: the number of goroutines that exist (not dead), approximately, as Go's:
/// all Gs minus those on free lists. Any thread; no lock.
pub(crate) fn gcount() -> usize {
    // Relaxed throughout: a snapshot of counters that publish no data.
    let mut n = ALLGLEN.load(Relaxed) as i64;
    n -= sched_shared().ngfree.load(Relaxed) as i64;
    for i in 0..allp_len() {
        // SAFETY: Ps are never freed; gfreecnt is atomic.
        n -= unsafe { (*allp(i)).gfreecnt.load(Relaxed) } as i64;
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
    // SAFETY: gp is live (the caller's contract); atomicstatus is atomic.
    let st = unsafe { &(*gp).atomicstatus };
    // Relaxed: only the owner changes the status, and we are the owner.
    let cur = st.load(Relaxed);
    if cur != old || (cfg!(debug_assertions) && !gtransition_ok(old, new)) {
        // SAFETY: as above; goid is atomic.
        bad_gstatus(unsafe { (*gp).goid() }, old, new, cur);
    }
    // Release: see above (pairs with checkdead's Acquire load).
    st.store(new, Release);
}

#[cold]
#[inline(never)]
fn bad_gstatus(goid: u64, old: u32, new: u32, cur: u32) -> ! {
    crate::runtime::print::rt_eprintln!(
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
            | (GRUNNING, GSYSCALL) // entersyscall
            | (GSYSCALL, GRUNNING) // exitsyscall
            | (GSYSCALL, GRUNNABLE) // exitsyscall0
            | (GSYSCALL, GWAITING) // park_m: a park inside gort::blocking
            | (GWAITING, GSYSCALL) // ... whose commit refused
            | (GRUNNING, GDEAD) // goexit0
    )
}

impl P {
    /// The one door through which a P's status changes when only one thread can be
    /// changing it: its owner, or the stopper under sched.lock with the world
    /// stopped. Release: when the new status is PSYSCALL, whoever takes the P by
    /// CAS (`cas_status`, Acquire) sees everything its owner wrote before giving it
    /// up; other statuses are read by other threads only as hints (schedtrace,
    /// runqgrab's courtesy spin), their ownership handed over under sched.lock or
    /// through M.nextp and a note. On x86-64 a Release store is a plain store.
    /// Debug builds check the transition.
    #[inline]
    pub(crate) fn set_status(&self, new: u32) {
        #[cfg(debug_assertions)]
        {
            // Relaxed: we are the only thread changing it (see above).
            let old = self.status.load(Relaxed);
            if !ptransition_ok(old, new) {
                bad_pstatus(self.id, old, new);
            }
        }
        // Release: see above.
        self.status.store(new, Release);
    }

    /// The door for the transitions several threads race for: a P in PSYSCALL is
    /// taken back by its M (exitsyscallfast), retaken by sysmon, or stopped by
    /// stop-the-world, and the one CAS decides who wins. AcqRel: the winner owns the
    /// P and sees what its previous owner wrote (pairs with set_status's Release);
    /// Relaxed on failure: the loser touches nothing.
    #[inline]
    pub(crate) fn cas_status(&self, old: u32, new: u32) -> bool {
        #[cfg(debug_assertions)]
        if !ptransition_ok(old, new) {
            bad_pstatus(self.id, old, new);
        }
        self.status
            .compare_exchange(old, new, AcqRel, Relaxed)
            .is_ok()
    }
}

#[cfg(debug_assertions)]
#[cold]
fn bad_pstatus(id: i32, old: u32, new: u32) -> ! {
    crate::runtime::print::rt_eprintln!(
        "runtime: P{}: status {} -> {}",
        id,
        pstatus_name(old),
        pstatus_name(new)
    );
    throw("bad P status transition")
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
            | (PRUNNING, PSYSCALL) // entersyscall
            | (PSYSCALL, PIDLE) // exitsyscallfast, retake (CAS)
            | (PSYSCALL, PGCSTOP) // stop_the_world, entersyscall_gcwait (CAS)
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
    // SAFETY: maxmcount is under sched.lock, but boot is single-threaded: no other
    // thread exists to take the lock or read the field.
    unsafe { (*sched()).maxmcount = 10000 };
    super::malloc::HEAP.init(); // mallocinit
                                // Relaxed: written by sysargs earlier on this same thread.
    let vdso = super::os_linux::VDSO_BASE.load(Relaxed);
    // SAFETY: vdso is AT_SYSINFO_EHDR from the kernel's auxv (or 0): its vDSO image.
    unsafe { super::vdso_linux::vdsoinit(vdso) };
    super::stack::stackinit();
    // SAFETY: gp is g0 of m0 (rt0_go set its m); m0 is not on allm yet.
    unsafe { mcommoninit((*gp).m(), -1) };
    // Relaxed: read by new Ms in minit, which start after this (newosproc's clone).
    INIT_SIGMASK.store(super::sys_linux::sigprocmask_get(), Relaxed);
    super::os_linux::checkfds();
    super::debug::parsedebugvars();
    super::preempt::preemptinit();
    let procs = super::runtime1::gomaxprocs_from_env(
        super::runtime1::getenv(b"GOMAXPROCS"),
        super::os_linux::ncpu(),
    );
    // GORT_TRACE: before the Ps exist (allpgrow gives each a buffer) and before
    // any goroutine.
    super::trace::init_from_env();
    allpgrow(procs);
    let s = sched_shared();
    s.lock.lock();
    // SAFETY: sched.lock is held and only m0 exists, so the world is stopped;
    // allpgrow made Ps 0..procs.
    let runnable = unsafe { procresize(procs as i32) };
    s.lock.unlock();
    if super::trace::on() {
        super::trace::gomaxprocs(procs);
    }
    if !runnable.is_null() {
        throw("unknown runnable goroutine during bootstrap");
    }
}

/// mcommoninit: give mp its id (id >= 0 is pre-allocated, -1 reserves the next one),
/// seed its fastrand, and link it on allm. Runs on any g; takes sched.lock, so the
/// caller must not hold it.
///
/// # Safety
/// mp is a valid M not yet on allm.
pub(crate) unsafe fn mcommoninit(mp: *mut M, id: i64) {
    // Relaxed: written by sysargs during boot, before any other thread existed.
    let seed = super::os_linux::STARTUP_RANDOM.load(Relaxed);
    let mut r = if seed != 0 {
        // SAFETY: AT_RANDOM points at 16 random bytes the kernel placed on the stack.
        unsafe { ptr::read_unaligned(seed as *const u64) }
    } else {
        0x9e3779b97f4a7c15
    };
    let s = sched_shared();
    s.lock.lock();
    let id = if id >= 0 {
        id
    } else {
        // SAFETY: sched.lock is held.
        unsafe { m_reserve_id() }
    };
    r ^= (id as u64).wrapping_mul(0xa0761d6478bd642f);
    // SAFETY: mp is not yet on allm (the caller's contract), so no other thread
    // reaches it: its fields are ours to write.
    unsafe {
        (*mp).id = id;
        (*mp).fastrand = r | 1;
        // Relaxed: prepends to allm are serialized by sched.lock, which we hold.
        (*mp).alllink = ALLM.load(Relaxed);
    }
    // Release: publishes the complete M to lock-free readers (allm's Acquire load).
    ALLM.store(mp, Release);
    s.lock.unlock();
}

/// mReserveID returns the next ID to use for a new M. This new M is immediately
/// considered 'running' by checkdead. Runs on any g.
///
/// # Safety
/// sched.lock must be held.
unsafe fn m_reserve_id() -> i64 {
    let s = sched_shared();
    s.lock.assert_held();
    // Relaxed: mnext's writers hold sched.lock (as we do); lock-free readers take a
    // snapshot that publishes nothing.
    let id = s.mnext.load(Relaxed);
    if id.checked_add(1).is_none() {
        throw("runtime: thread ID overflow");
    }
    s.mnext.store(id + 1, Relaxed);
    // SAFETY: sched.lock is held (our caller's contract).
    unsafe { checkmcount() };
    id
}

/// The number of Ms made (a snapshot unless sched.lock is held). Any thread.
pub(crate) fn mcount() -> i64 {
    // Relaxed: see m_reserve_id.
    sched_shared().mnext.load(Relaxed)
}

/// checkmcount: die if the program has made more than sched.maxmcount threads.
/// Runs on any g.
///
/// # Safety
/// sched.lock must be held.
unsafe fn checkmcount() {
    let s = sched();
    sched_shared().lock.assert_held();
    // SAFETY: sched.lock, which protects maxmcount, is held (our caller's contract).
    unsafe {
        if mcount() > (*s).maxmcount as i64 {
            crate::runtime::print::rt_eprintln!(
                "runtime: program exceeds {}-thread limit",
                (*s).maxmcount
            );
            throw("thread exhaustion");
        }
    }
}

/// Set the maximum number of Ms (Go's debug.SetMaxThreads); returns the old one.
/// n is stored as given, as Go does: a limit below the threads made so far (any
/// n <= 0) is a fatal error at once, naming n. Runs on any g; takes sched.lock.
pub(crate) fn set_max_threads(n: i32) -> i32 {
    let s = sched_shared();
    s.lock.lock();
    // SAFETY: sched.lock, which protects maxmcount, is held (as checkmcount needs).
    let old = unsafe {
        let old = (*sched()).maxmcount;
        (*sched()).maxmcount = n;
        checkmcount();
        old
    };
    s.lock.unlock();
    old
}

/// allpgrow: make sure Ps 0..n exist, allocating the missing ones. Called before
/// procresize, without any lock (the runtime never allocates under one of its
/// locks). Two callers racing for the same slot both allocate; the loser frees its P.
/// Runs on any g.
fn allpgrow(n: usize) {
    for (i, slot) in ALLP.iter().enumerate().take(n) {
        // Acquire: pairs with the Release CAS below (of whoever made the P), so that
        // procresize, which loads the slot Relaxed after us on this thread, sees the
        // P initialised.
        if !slot.load(Acquire).is_null() {
            continue;
        }
        let pp = alloc::boxed::Box::into_raw(alloc::boxed::Box::new(P::new(i as i32)));
        // While tracing, the P gets its event buffer before anyone can hold it.
        super::trace::alloc_pbuf(pp);
        // Release: publishes the initialised P to readers of allp (Acquire). Acquire
        // on failure: the winner's P, as for the load above.
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
/// releasing sched.lock (moving them may allocate). Runs on g0 (or on m0 at boot);
/// does not allocate.
///
/// # Safety
/// sched.lock must be held and the world stopped (at boot: only m0 exists); Ps
/// 0..nprocs exist (allpgrow).
unsafe fn procresize(nprocs: i32) -> *mut P {
    sched_shared().lock.assert_held();
    // Relaxed: only procresize writes GOMAXPROCS, under sched.lock (held).
    let old = GOMAXPROCS.load(Relaxed);
    if old < 0 || nprocs <= 0 || nprocs as usize > MAX_GOMAXPROCS {
        throw("procresize: invalid arg");
    }
    // Initialize new Ps.
    for i in old..nprocs {
        // Relaxed: our caller's allpgrow saw (or made) every slot up to nprocs, with
        // Acquire, on this thread.
        let pp = ALLP[i as usize].load(Relaxed);
        if pp.is_null() {
            throw("procresize: P not allocated");
        }
        // SAFETY: Ps are never freed; the world is stopped, so nobody else touches a
        // new or dead P.
        unsafe { (*pp).set_status(PGCSTOP) };
    }
    let mp = getm();
    // SAFETY: mp is the M running us (Ms are never freed); p is atomic.
    let cur = unsafe { (*mp).p() };
    // SAFETY: Ps are never freed; id is immutable.
    if !cur.is_null() && unsafe { (*cur).id } < nprocs {
        // continue to use the current P
        // SAFETY: cur is our P; with the world stopped only we change its status.
        unsafe { (*cur).set_status(PRUNNING) };
    } else {
        // release the current P and acquire allp[0]
        // Relaxed, here and below: P.m and M.p are informational for other threads
        // (see runtime2); sched.lock and the stopped world order the handover.
        if !cur.is_null() {
            if super::trace::on() {
                // The running goroutine moves with us to allp[0] (Go's procresize).
                // SAFETY: mp is our M; curg is atomic.
                if !unsafe { (*mp).curg() }.is_null() {
                    super::trace::go_sched(false);
                }
                super::trace::proc_stop(cur);
            }
            // SAFETY: cur is our P, live; m is atomic.
            unsafe { (*cur).m.store(ptr::null_mut(), Relaxed) };
        }
        // SAFETY: mp is our M; p is atomic.
        unsafe { (*mp).p.store(ptr::null_mut(), Relaxed) };
        // Relaxed: as in the loop above.
        let pp = ALLP[0].load(Relaxed);
        // SAFETY: allp[0] always exists; with the world stopped it is ours to take,
        // and once idle and unowned it meets acquirep's contract.
        unsafe {
            (*pp).m.store(ptr::null_mut(), Relaxed);
            (*pp).set_status(PIDLE);
            acquirep(pp);
        }
        if super::trace::on() && !cur.is_null() {
            // SAFETY: mp is our M; curg is atomic.
            let gp = unsafe { (*mp).curg() };
            if !gp.is_null() {
                super::trace::go_start(gp);
            }
        }
    }
    // release resources from unused Ps
    for i in nprocs..old {
        // Relaxed: a live P until now, seen before by this thread.
        let pp = ALLP[i as usize].load(Relaxed);
        // SAFETY: sched.lock is held, the world stopped, and pp is being removed.
        unsafe { p_destroy(pp) };
    }
    // Release: pairs with allp_len's Acquire: a reader that sees the new length
    // finds Ps 0..nprocs made (allpgrow ran before us on this thread) and the
    // statuses set above. (The PIDLE statuses below are set after it: a reader may
    // still see PGCSTOP, a hint only.)
    ALLP_LEN.store(nprocs as usize, Release);

    let mut runnable_ps: *mut P = ptr::null_mut();
    for i in (0..nprocs).rev() {
        // Relaxed: as in the first loop.
        let pp = ALLP[i as usize].load(Relaxed);
        // SAFETY: mp is our M; p is atomic.
        if unsafe { (*mp).p() } == pp {
            continue;
        }
        // SAFETY: Ps are never freed; with the world stopped, pp has no owner but us.
        let p = unsafe { &*pp };
        p.set_status(PIDLE);
        if runqempty(p) {
            // SAFETY: sched.lock is held and pp is ours.
            unsafe { pidleput(pp) };
        } else {
            // SAFETY: sched.lock is held. Relaxed: as above.
            p.m.store(unsafe { mget() }, Relaxed);
            // SAFETY: sched.lock (held) protects P.link, and pp is ours.
            unsafe { (*pp).link = runnable_ps };
            runnable_ps = pp;
        }
    }
    let order = &raw mut STEAL_ORDER;
    // SAFETY: STEAL_ORDER is written only here, with the world stopped: no spinning
    // M reads it now.
    unsafe { (*order).reset(nprocs as u32) };
    // Relaxed: a hint (see GOMAXPROCS).
    GOMAXPROCS.store(nprocs, Relaxed);
    runnable_ps
}

/// p_destroy: move everything off a P that procresize is removing (its runnable Gs
/// to the head of the global queue, in order; its free Gs to the global list; its
/// stacks to the pool) and mark it dead. Its timers stay until move_dead_timers.
///
/// Runs on g0 (procresize); does not allocate.
///
/// # Safety
/// sched.lock held, world stopped; pp is being removed.
unsafe fn p_destroy(pp: *mut P) {
    // Move all runnable goroutines to the global queue, keeping their order:
    // take from the tail, push at the head.
    // SAFETY: Ps are never freed, and with the world stopped no thief can run: the
    // queue is ours to empty (pop_tail's condition).
    while let Some(gp) = unsafe { (*pp).runq.pop_tail() } {
        // SAFETY: sched.lock is held; gp just left pp's queue, so it is in no queue.
        unsafe { globrunqputhead(gp) };
    }
    // SAFETY: the world is stopped and pp is being destroyed.
    unsafe { super::stack::stackcache_release(pp) };
    // gfpurge
    let ss = sched_shared();
    let s = sched();
    // SAFETY: pp is live; gfreecnt is atomic.
    let gfreecnt = unsafe { &(*pp).gfreecnt };
    ss.gfree_lock.lock();
    // SAFETY: pp's free list is ours (the world is stopped and pp has no owner).
    while !unsafe { (*pp).gfree }.is_null() {
        // SAFETY: as above, and gfree_lock (held) protects the global list; the Gs
        // on both are dead, so their schedlinks belong to the lists.
        unsafe {
            let g = (*pp).gfree;
            (*pp).gfree = (*g).schedlink;
            (*g).schedlink = (*s).gfree;
            (*s).gfree = g;
        }
        // Relaxed: counts for lock-free snapshots (gcount, gfget's hint); the lists
        // themselves are ordered by gfree_lock and the stopped world.
        gfreecnt.fetch_sub(1, Relaxed);
        ss.ngfree.fetch_add(1, Relaxed);
    }
    ss.gfree_lock.unlock();
    // SAFETY: as above: with the world stopped only we change pp's status.
    unsafe { (*pp).set_status(PDEAD) };
}

/// Move the timers of the dead Ps procresize left behind (ids from..to) to the
/// current P, give their cached objects back to the central lists and write out
/// their trace buffers (none of which may be done under sched.lock). Runs with the
/// world stopped, after procresize, without sched.lock.
fn move_dead_timers(from: usize, to: usize) {
    let mp = acquirem();
    for i in from..to {
        let dead = allp(i);
        // SAFETY: Ps are never freed and Timers is shared by design (its heap is under
        // its own lock); with the world stopped nobody else uses a dead P (its mcache
        // included), and the current P is ours (pinned).
        unsafe {
            (*dead).timers.move_to(&(*mp.p()).timers);
            (*dead).mcache.flush_all();
        }
        super::trace::flush_dead_p(dead);
    }
}

/// acquirep associates pp with the current M. Runs on g0 (or pinned); no
/// allocation.
///
/// # Safety
/// On g0 (or pinned); pp is idle and owned by nobody.
pub(crate) unsafe fn acquirep(pp: *mut P) {
    // SAFETY: forwarded.
    unsafe { wirep(pp) };
    // Taking a P off the idle list (or a hand-off) counts as a scheduling round for
    // sysmon's "stuck" test (retake): a goroutine that goes on running on such a P
    // without one (back from a system call, the first of a poll) gets a look's
    // time before a due timer of the P has it preempted. Not a goroutine taking
    // back its own P after a system call (wirep alone): it has held that P since
    // before the call. Relaxed: the owner's counter (we own pp now).
    // SAFETY: Ps are never freed; fairtick is atomic.
    let t = unsafe { &(*pp).fairtick };
    t.store(t.load(Relaxed).wrapping_add(1), Relaxed);
}

/// wirep is the first step of acquirep, which actually associates the current M to
/// pp.
///
/// # Safety
/// As acquirep.
unsafe fn wirep(pp: *mut P) {
    assert_pinned();
    let mp = getm();
    // SAFETY: mp is the M running us (pinned or on g0); p is atomic.
    if !unsafe { (*mp).p() }.is_null() {
        throw("wirep: already in go");
    }
    // SAFETY: Ps are never freed; we use only pp's atomics, and the caller
    // guarantees pp is idle and unowned, so we are the one changing them.
    let p = unsafe { &*pp };
    // Relaxed: the status check is ours alone (see P::set_status).
    if !p.m().is_null() || p.status.load(Relaxed) != PIDLE {
        let id = if p.m().is_null() {
            0
        } else {
            // SAFETY: Ms are never freed; id is immutable once set.
            unsafe { (*p.m()).id }
        };
        crate::runtime::print::rt_eprintln!(
            "wirep: p->m={:p}({}) p->status={}",
            p.m(),
            id,
            p.status.load(Relaxed)
        );
        throw("wirep: invalid p state");
    }
    // Relaxed: M.p and P.m are informational for other threads (see runtime2); the
    // handover of pp was ordered by sched.lock or a note.
    // SAFETY: mp is our M; p is atomic.
    unsafe { (*mp).p.store(pp, Relaxed) };
    p.m.store(mp, Relaxed);
    p.set_status(PRUNNING);
    if super::trace::on() {
        super::trace::proc_start(pp);
    }
}

/// releasep disassociates the current P from the current M and returns it.
///
/// # Safety
/// On g0 (or pinned); the current M holds a running P.
unsafe fn releasep() -> *mut P {
    assert_pinned();
    let mp = getm();
    // SAFETY: mp is the M running us (pinned or on g0); p is atomic.
    let pp = unsafe { (*mp).p() };
    if pp.is_null() {
        throw("releasep: invalid arg");
    }
    // SAFETY: Ps are never freed, and pp is ours (our M holds it); we use only its
    // atomics.
    let p = unsafe { &*pp };
    // Relaxed: we are the owner, the one thread changing these (see wirep).
    if p.m() != mp || p.status.load(Relaxed) != PRUNNING {
        crate::runtime::print::rt_eprintln!(
            "releasep: p->m={:p} m={:p} p->status={}",
            p.m(),
            mp,
            p.status.load(Relaxed)
        );
        throw("releasep: invalid p state");
    }
    if super::trace::on() {
        super::trace::proc_stop(pp);
    }
    // Relaxed: as in wirep; whoever takes pp next gets it under sched.lock.
    // SAFETY: mp is our M; p is atomic.
    unsafe { (*mp).p.store(ptr::null_mut(), Relaxed) };
    p.m.store(ptr::null_mut(), Relaxed);
    p.set_status(PIDLE);
    pp
}

/// pidleput puts pp on the idle P list. pp must have an empty run queue. Runs on
/// any g; no allocation.
///
/// # Safety
/// sched.lock must be held; pp is owned by the caller.
unsafe fn pidleput(pp: *mut P) {
    let ss = sched_shared();
    let s = sched();
    ss.lock.assert_held();
    // SAFETY: Ps are never freed; runqempty reads atomics only.
    if !runqempty(unsafe { &*pp }) {
        throw("pidleput: P has non-empty run queue");
    }
    // SAFETY: sched.lock (held: the caller's contract) protects pidle and P.link.
    unsafe {
        (*pp).link = (*s).pidle;
        (*s).pidle = pp;
    }
    // Relaxed: npidle is a hint for lock-free readers (wakep re-checks under the
    // lock in pidleget); the StoreLoad of the spinning protocol is the fences'.
    ss.npidle.fetch_add(1, Relaxed);
}

/// pidleget takes a P off the idle list, or returns null. Runs on any g; no
/// allocation.
///
/// # Safety
/// sched.lock must be held.
unsafe fn pidleget() -> *mut P {
    let ss = sched_shared();
    let s = sched();
    ss.lock.assert_held();
    // SAFETY: sched.lock (held: the caller's contract) protects pidle and P.link.
    let pp = unsafe { (*s).pidle };
    if !pp.is_null() {
        // SAFETY: as above.
        unsafe { (*s).pidle = (*pp).link };
        // Relaxed: as in pidleput.
        ss.npidle.fetch_sub(1, Relaxed);
        // A P is about to run: sysmon must watch it (sysmon.rs, "Deep sleep").
        // SAFETY: sched.lock is held.
        unsafe { sysmon_wake_locked(false) };
    }
    pp
}

/// If sysmon is in its deep sleep, wake it: always if `force`, else only if the
/// sleep would last longer than SYSMON_SLACK_NS (a P that starts running is then
/// watched within that time anyway). pidleget calls this unforced (a program
/// whose timers make a P run every millisecond woke sysmon each time: half of its
/// CPU); start_the_world and a system call forced (entersyscall_sysmon). If it was
/// woken already and is not up yet, a forced call makes that wake a forced one.
/// Runs on any g; no allocation.
///
/// # Safety
/// sched.lock must be held.
pub(crate) unsafe fn sysmon_wake_locked(force: bool) {
    let ss = sched_shared();
    ss.lock.assert_held();
    // Relaxed: sysmonwait is written under sched.lock, which we hold.
    if !ss.sysmonwait.load(Relaxed) {
        return;
    }
    // SAFETY: sched.lock (held) protects sysmon_until, sysmon_woken and
    // sysmon_forced.
    unsafe {
        let sp = sched();
        if (*sp).sysmon_woken {
            // Woken already, not yet up: a forced wake still counts as one (a
            // system call right after a P left the idle list).
            if force {
                (*sp).sysmon_forced = true;
                // Nothing more to upgrade: spare later system calls the lock.
                ss.sysmonwait.store(false, Relaxed);
            }
            return;
        }
        let until = (*sp).sysmon_until;
        if force || until - super::vdso_linux::nanotime() > super::sysmon::SYSMON_SLACK_NS {
            (*sp).sysmon_woken = true;
            (*sp).sysmon_forced = force;
            // sysmonwait stays set after an unforced wake, so that a forced one
            // before sysmon is up can still mark it (above).
            if force {
                ss.sysmonwait.store(false, Relaxed);
            }
            ss.sysmonnote.wakeup();
        }
    }
}

/// A goroutine enters a system call while sysmon deep-sleeps (a P started
/// running without waking it, see sysmon_wake_locked): wake it, so that it can
/// hand the P off if the call lasts (Go's entersyscall_sysmon). Runs on any g.
#[cold]
#[inline(never)]
fn entersyscall_sysmon() {
    let s = sched_shared();
    s.lock.lock();
    // SAFETY: sched.lock is held.
    unsafe { sysmon_wake_locked(true) };
    s.lock.unlock();
}

/// mput puts mp on the idle M list, then checks for deadlock. Runs on g0; no
/// allocation.
///
/// # Safety
/// sched.lock must be held.
unsafe fn mput(mp: *mut M) {
    let s = sched();
    sched_shared().lock.assert_held();
    // SAFETY: sched.lock (held: the caller's contract) protects midle, nmidle and
    // M.schedlink, and checkdead needs it.
    unsafe {
        (*mp).schedlink = (*s).midle;
        (*s).midle = mp;
        (*s).nmidle += 1;
        checkdead();
    }
}

/// mget takes an M off the idle list, or returns null. Runs on any g; no
/// allocation.
///
/// # Safety
/// sched.lock must be held.
unsafe fn mget() -> *mut M {
    let s = sched();
    sched_shared().lock.assert_held();
    // SAFETY: sched.lock (held: the caller's contract) protects midle, nmidle and
    // M.schedlink.
    unsafe {
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
    // SAFETY: gp is fresh and ours (not published anywhere yet).
    unsafe { casgstatus(gp, GIDLE, GDEAD) };
    gp
}

/// Gs per slab: Gs are never freed (Go keeps them on allgs), so they are carved from
/// slabs instead of being allocated one by one. A slab is a page run of its own:
/// as many Gs as fill whole pages exactly (256 of 336 bytes: 21 pages), so no page
/// tail is wasted per slab.
const GSLAB: usize = {
    let (mut a, mut b) = (4096, core::mem::size_of::<G>());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    4096 / a
};
const _: () = assert!(GSLAB >= 64 && GSLAB <= 1024);

/// galloc: a new G (dead, no stack) from pp's slab, allocating a new slab when it is
/// used up. Runs on any g; may allocate: no runtime lock may be held.
///
/// # Safety
/// The caller owns pp and is pinned (or on g0).
unsafe fn galloc(pp: *mut P) -> *mut G {
    assert_pinned();
    // SAFETY: the caller owns pp, and gslab_n is owner-only.
    if unsafe { (*pp).gslab_n } == 0 {
        let layout = core::alloc::Layout::array::<G>(GSLAB).unwrap();
        // SAFETY: the layout has a non-zero size (GSLAB Gs).
        let slab = unsafe { alloc::alloc::alloc(layout) } as *mut G;
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
        // Relaxed: a counter; only "was there an earlier slab" matters.
        if end > start && SLABS.fetch_add(1, Relaxed) > 0 {
            // SAFETY: [start, end) lies inside the fresh slab, which nothing uses yet;
            // populating it only faults the pages in.
            unsafe {
                super::sys_linux::madvise(start, end - start, super::sys_linux::MADV_POPULATE_WRITE)
            };
        }
        // SAFETY: the caller owns pp; the slab fields are owner-only.
        unsafe {
            (*pp).gslab = slab;
            (*pp).gslab_n = GSLAB as u32;
        }
    }
    // SAFETY: the caller owns pp (slab fields are owner-only); gslab_n > 0, so gp is
    // a slot in the slab that was never handed out.
    let gp = unsafe {
        let gp = (*pp).gslab;
        (*pp).gslab = gp.add(1);
        (*pp).gslab_n -= 1;
        gp
    };
    // SAFETY: gp is an unused slot of a live slab, ours alone, and suitably aligned
    // (the slab is an array of G).
    unsafe {
        gp.write(G::new());
        (*gp).stackguard1 = usize::MAX;
        casgstatus(gp, GIDLE, GDEAD);
    }
    gp
}

/// allgadd publishes a new G on allgs. Lock-free: the CAS on ALLG orders the
/// pushes; then the previous head's allnewer is set (Release), which is what lets
/// allgs_in_creation_order walk forward.
/// Runs on any g; no allocation, no lock.
fn allgadd(gp: *mut G) {
    // Relaxed: only a guess for the CAS below, which re-reads on failure.
    let mut head = ALLG.load(Relaxed);
    loop {
        // SAFETY: gp is new and not yet published: we own its alllink.
        unsafe { (*gp).alllink = head };
        // Release: a reader that loads ALLG (Acquire) sees gp's alllink. Relaxed on
        // failure: the new head is only the next guess.
        match ALLG.compare_exchange_weak(head, gp, Release, Relaxed) {
            Ok(_) => break,
            Err(h) => head = h,
        }
    }
    // Release (both): a reader that loads the link with Acquire sees gp complete.
    if head.is_null() {
        ALLG_FIRST.store(gp, Release);
    } else {
        // SAFETY: head is a published G (never freed); only the G that displaced it
        // writes its allnewer, once.
        unsafe { (*head).allnewer.store(gp, Release) };
    }
    // Relaxed: a count for snapshots (gcount); it publishes no data.
    ALLGLEN.fetch_add(1, Relaxed);
}

/// gfput puts a dead G on pp's free list, spilling half to the global list when the
/// local one is long. Takes gfree_lock then; no allocation.
///
/// # Safety
/// On g0 (or pinned), owning pp; gp is dead (no one else refers to it).
unsafe fn gfput(pp: *mut P, gp: *mut G) {
    assert_pinned();
    // SAFETY: gp is live (Gs are never freed); atomicstatus is atomic. Relaxed: gp
    // is ours and we set GDEAD ourselves.
    if unsafe { (*gp).atomicstatus.load(Relaxed) } != GDEAD {
        throw("gfput: bad status (not Gdead)");
    }
    // SAFETY: the caller owns pp (gfree is owner-only) and gp is dead: its schedlink
    // is ours.
    unsafe {
        (*gp).schedlink = (*pp).gfree;
        (*pp).gfree = gp;
    }
    // SAFETY: pp is live and ours; gfreecnt is atomic.
    let gfreecnt = unsafe { &(*pp).gfreecnt };
    // Relaxed (gfreecnt, ngfree): counts for lock-free snapshots (gcount, gfget's
    // hint); the lists are ordered by ownership and gfree_lock.
    let mut n = gfreecnt.load(Relaxed) + 1;
    if n >= GFREE_LOCAL_MAX {
        let ss = sched_shared();
        let s = sched();
        ss.gfree_lock.lock();
        while n >= GFREE_LOCAL_MAX / 2 {
            // SAFETY: pp's list is ours and holds n > 0 dead Gs; gfree_lock (held)
            // protects the global list.
            unsafe {
                let g = (*pp).gfree;
                (*pp).gfree = (*g).schedlink;
                n -= 1;
                (*g).schedlink = (*s).gfree;
                (*s).gfree = g;
            }
            ss.ngfree.fetch_add(1, Relaxed);
        }
        ss.gfree_lock.unlock();
    }
    gfreecnt.store(n, Relaxed);
}

/// gfget takes a dead G from pp's free list, refilling it from the global list when
/// empty. Returns null when there is none. Takes gfree_lock then; no allocation.
///
/// # Safety
/// Pinned (or on g0), owning pp.
unsafe fn gfget(pp: *mut P) -> *mut G {
    assert_pinned();
    // SAFETY: pp is live and ours; gfreecnt is atomic.
    let gfreecnt = unsafe { &(*pp).gfreecnt };
    // Relaxed (gfreecnt, ngfree): as in gfput; ngfree is only a hint here, the list
    // is re-checked under gfree_lock.
    let mut n = gfreecnt.load(Relaxed);
    let ss = sched_shared();
    let s = sched();
    // SAFETY: the caller owns pp; gfree is owner-only.
    if unsafe { (*pp).gfree }.is_null() && ss.ngfree.load(Relaxed) > 0 {
        ss.gfree_lock.lock();
        // SAFETY: gfree_lock (held) protects the global list, whose Gs are dead; pp's
        // list is ours.
        unsafe {
            while n < GFREE_LOCAL_MAX / 2 && !(*s).gfree.is_null() {
                let g = (*s).gfree;
                (*s).gfree = (*g).schedlink;
                ss.ngfree.fetch_sub(1, Relaxed);
                (*g).schedlink = (*pp).gfree;
                (*pp).gfree = g;
                n += 1;
            }
        }
        ss.gfree_lock.unlock();
    }
    // SAFETY: pp's list is ours, and its Gs are dead: their schedlinks are ours.
    let gp = unsafe { (*pp).gfree };
    if !gp.is_null() {
        // SAFETY: as above.
        unsafe { (*pp).gfree = (*gp).schedlink };
        n -= 1;
    }
    gfreecnt.store(n, Relaxed);
    gp
}

/// The first frame of every goroutine: move the closure out of the G and run it.
/// Returning enters goexit (its return address, placed by stack_attach). Runs on
/// the new goroutine's own stack.
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
#[track_caller]
pub(crate) fn newproc<F: FnOnce() + Send + 'static>(f: F) {
    // Relaxed: written once at boot (stackinit), before any goroutine exists.
    newproc_stack(f, STACK_SIZE.load(Relaxed))
}

/// newproc with a stack of `stacksize` bytes (see stack::parse_stack_size's bounds).
/// Runs on any g whose M holds a P, with no runtime lock held (it may allocate).
#[track_caller]
pub(crate) fn newproc_stack<F: FnOnce() + Send + 'static>(f: F, stacksize: usize) {
    // Where `go` was called from, for "created by" in goroutine listings.
    let at = core::panic::Location::caller();
    if size_of::<F>() > FNBUF_SIZE || align_of::<F>() > 16 {
        let b = alloc::boxed::Box::new(f);
        newproc_inline(b, stacksize, at);
    } else {
        newproc_inline(f, stacksize, at);
    }
}

/// newproc for a closure that fits in a G's fnbuf. As newproc_stack; `at` is the
/// `go` statement's location.
fn newproc_inline<F: FnOnce() + Send + 'static>(
    f: F,
    stacksize: usize,
    at: &'static core::panic::Location<'static>,
) {
    if in_syscall() {
        // Inside gort::blocking: leave the system call to get a P. The new G is
        // then on that P's queue, which waits for the call.
        with_p(|| newproc_inline(f, stacksize, at));
        super::sysmon::syscall_work_stuck();
        return;
    }
    {
        // Pinned: galloc/gfget use the P's slab and free list, runqput its ring.
        let mp = acquirem();
        let pp = mp.p();
        if pp.is_null() {
            throw("newproc: no P");
        }
        // SAFETY: pinned to the M holding pp, so pp is ours.
        let newg = unsafe { newproc1(f, pp, stacksize, at) };
        // SAFETY: newg is a fresh runnable G that no queue holds yet; pp is ours
        // (pinned) and never freed.
        unsafe { runqput(&*pp, newg, true) };
    }
    // Relaxed: a hint (see MAIN_STARTED).
    if MAIN_STARTED.load(Relaxed) {
        wakep();
    }
}

/// newproc1 makes a runnable G for f: a G from the free list or a new one, with f
/// in its fnbuf and a gobuf that enters gostart::<F> (on the stack execute will
/// attach), which returns into goexit.
///
/// Runs on any g; may allocate (galloc), so no runtime lock may be held.
///
/// # Safety
/// Pinned (or on g0), owning pp.
unsafe fn newproc1<F: FnOnce() + Send + 'static>(
    f: F,
    pp: *mut P,
    stacksize: usize,
    at: &'static core::panic::Location<'static>,
) -> *mut G {
    // Not a const assert: newproc_stack's branch for a closure too large to fit
    // instantiates this function too (it never runs: that branch boxes f), and a
    // const assert would fail to compile every program with such a closure. The
    // check is constant, so it costs nothing.
    if size_of::<F>() > FNBUF_SIZE || align_of::<F>() > 16 {
        throw("newproc1: closure does not fit in fnbuf");
    }
    // SAFETY: pinned (or on g0) and owning pp: gfget's and galloc's contract.
    let mut newg = unsafe { gfget(pp) };
    if newg.is_null() {
        // SAFETY: as above.
        newg = unsafe { galloc(pp) };
        allgadd(newg);
    }
    // SAFETY: newg is dead (from the free list) or fresh, and not on any queue: no
    // other thread reads or writes it until runqput publishes it. Gs are not freed.
    let g = unsafe { &mut *newg };
    let fptr = g.fnbuf.0.as_mut_ptr() as *mut F;
    // SAFETY: fnbuf holds any F up to FNBUF_SIZE bytes aligned to 16 (checked above);
    // the old contents were moved out by gostart (or never written), so nothing is
    // overwritten that needs dropping.
    unsafe { ptr::write(fptr, f) };
    g.stacksize = stacksize;
    g.sched = Gobuf::new();
    g.sched.pc = gostart::<F> as *const () as usize;
    g.sched.g = newg;
    g.sched.ctxt = fptr as usize;
    g.startfn = core::any::type_name::<F>();
    // Relaxed: goidgen only has to hand out unique ids (the RMW does); goid and
    // waitreason are published with the G by runqput's Release.
    g.goid
        .store(sched_shared().goidgen.fetch_add(1, Relaxed) + 1, Relaxed);
    g.waitreason.store(WaitReason::Zero as u8, Relaxed);
    g.waitsince.store(0, Relaxed);
    g.createdat = Some(at);
    let parent = getg();
    // SAFETY: getg() is the running g (g0 for goroutine 1: goid 0); goid is atomic.
    g.parentgoid = unsafe { (*parent).goid() };
    if super::trace::on() {
        super::trace::go_create(newg, Some(at));
    }
    // SAFETY: newg is ours (see above).
    unsafe { casgstatus(newg, GDEAD, GRUNNABLE) };
    newg
}

/// newproc(runtime main): goroutine 1. Called by rt0_go on g0 of m0.
pub(crate) extern "C" fn newproc_main() {
    newproc(main);
    // SAFETY: on g0 of m0, whose M is live; p is atomic.
    let pp = unsafe { (*getm()).p() };
    // SAFETY: pp is p0, ours; boot is single-threaded, and newproc just put
    // goroutine 1 in its runnext.
    let g1 = unsafe { (*pp).runq.peek_runnext() };
    // Relaxed: no other thread exists yet (see MAIN_G).
    MAIN_G.store(g1, Relaxed);
}

/// runtime main: the body of goroutine 1. Runs the user's main; returning from it
/// leaves through goexit, and goexit0 ends the process.
fn main() {
    if getm() != m0() {
        throw("runtime.main not on m0");
    }
    // Relaxed: a hint (see MAIN_STARTED).
    MAIN_STARTED.store(true, Relaxed);
    super::sysmon::start_sysmon();
    #[cfg(not(test))]
    {
        extern "Rust" {
            fn gort_user_main();
        }
        // SAFETY: gort::main! defines gort_user_main as the user's fn main().
        unsafe { gort_user_main() };
        super::panic::wait_preprinting();
        // Normal exit: the execution trace is complete.
        super::trace::stop();
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
    // SAFETY: on g0 of mp; mstartfn was set by newm before the thread started.
    if let Some(f) = unsafe { (*mp).mstartfn } {
        f();
    }
    if mp != m0() {
        // SAFETY: nextp was set by the M that created this one (newm) before the
        // thread started, and nobody else touches it until we are idle again; the P
        // it names was handed to us, idle and unowned (acquirep's contract).
        unsafe {
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
    // SAFETY: mp is the M running us; procid is atomic. Relaxed: informational.
    unsafe { (*mp).procid.store(super::sys_linux::gettid(), Relaxed) };
    // SAFETY: on mp's own thread (its g0), once.
    unsafe { super::signal_linux::minit_signals(mp) };
    if mp != m0() {
        // The mask the process started with, less the signals the runtime always
        // takes (m0 unblocked them in initsig). Relaxed: stored during boot, before
        // this thread was cloned.
        super::sys_linux::sigprocmask_set(
            INIT_SIGMASK.load(Relaxed) & !super::signal_linux::unblocked_signals(),
        );
    }
}

/// mspinning: the start function of Ms started to spin for work. Runs on g0.
fn mspinning() {
    // SAFETY: on the new M's g0: getm() is live; spinning is atomic. Relaxed: the
    // owner's flag (the count is sched.nmspinning, raised by whoever started us).
    unsafe { (*getm()).spinning.store(true, Relaxed) };
}

/// allocm: a new M with its g0 (a G with a G0_STACK_SIZE stack). Runs on any g (newm
/// calls it on g0); allocates: no runtime lock may be held.
fn allocm(f: Option<fn()>) -> *mut M {
    let mut mp = alloc::boxed::Box::new(M::new());
    mp.mstartfn = f;
    let g0 = malg(G0_STACK_SIZE);
    let mp = alloc::boxed::Box::into_raw(mp);
    // SAFETY: g0 and mp are new and ours (not yet published anywhere); g0 is never
    // scheduled, so its status is set directly. Relaxed: both are published later
    // by mcommoninit's Release store to allm.
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
        // SAFETY: mp is new and not yet on allm: its fields are ours, and it meets
        // mcommoninit's contract; after it, mp is fully set up with no thread yet, as
        // newosproc needs. nextp is published to the new thread by the clone.
        unsafe {
            (*mp).nextp = pp;
            mcommoninit(mp, id);
            newosproc(mp);
        }
    })
}

/// startm schedules some M to run pp (creating an M if necessary). If pp is null,
/// tries to get an idle P; if there is none, does nothing. If spinning, the M starts
/// spinning (and the caller has already incremented nmspinning). Runs on any g; must
/// not hold sched.lock (it takes it, and newm allocates).
fn startm(mut pp: *mut P, spinning: bool) {
    // Pinned (not preemptible) while we own a P in transit to its M: a goroutine
    // preempted here would hold an idle P that no M runs and no list has, and the
    // next stop-the-world would wait for it forever (Go's startm does the same).
    let _pin = acquirem();
    let s = sched_shared();
    s.lock.lock();
    if pp.is_null() {
        if spinning {
            throw("startm: P required for spinning=true");
        }
        // SAFETY: sched.lock is held.
        pp = unsafe { pidleget() };
        if pp.is_null() {
            s.lock.unlock();
            return;
        }
    }
    // SAFETY: sched.lock is held.
    let nmp = unsafe { mget() };
    if nmp.is_null() {
        // No M is available, we must drop sched.lock and call newm. However, we
        // already own a P to assign to the M. Once sched.lock is released,
        // another G (e.g., in a syscall) could find no idle P and no idle M and
        // call checkdead, so reserve the M's id (counted as running) first.
        // SAFETY: sched.lock is held.
        let id = unsafe { m_reserve_id() };
        s.lock.unlock();
        newm(if spinning { Some(mspinning) } else { None }, pp, id);
        return;
    }
    s.lock.unlock();
    // SAFETY: Ms are never freed; spinning is atomic. Relaxed: nmp sleeps in stopm
    // (we took it off the idle list), so only we, its waker, touch it now.
    if unsafe { (*nmp).spinning.load(Relaxed) } {
        throw("startm: m is spinning");
    }
    // SAFETY: as above: nmp's nextp is ours to read and write until we wake it.
    if !unsafe { (*nmp).nextp }.is_null() {
        throw("startm: m has p");
    }
    // SAFETY: Ps are never freed; runqempty reads atomics only.
    if spinning && !runqempty(unsafe { &*pp }) {
        throw("startm: p has runnable gs");
    }
    // The caller incremented nmspinning, so set m.spinning in the new M.
    // SAFETY: as above: nmp's spinning and nextp are ours to set until we wake it;
    // park is a Note, made for another thread's wakeup. Relaxed: the note's Release
    // (notewakeup) publishes nextp and spinning to the woken M.
    unsafe {
        (*nmp).spinning.store(spinning, Relaxed);
        (*nmp).nextp = pp;
        (*nmp).park.wakeup();
    }
}

/// handoffp hands off pp from a blocking or exiting M. Always runs without a P, on
/// g0; must not hold sched.lock.
///
/// # Safety
/// pp was released by the caller (releasep) and is owned by nobody else.
pub(crate) unsafe fn handoffp(pp: *mut P) {
    let s = sched_shared();
    // if it has local work, start it straight away
    // SAFETY: Ps are never freed; runqempty reads atomics only.
    if !runqempty(unsafe { &*pp }) || globrunq_nonempty() {
        startm(pp, false);
        return;
    }
    // no local work, check that there are no spinning/idle M's,
    // otherwise our help is not required
    // Relaxed loads: a hint, the CAS decides; AcqRel: see the file head.
    if s.nmspinning.load(Relaxed) + s.npidle.load(Relaxed) as u32 == 0
        && s.nmspinning.compare_exchange(0, 1, AcqRel, Relaxed).is_ok()
    {
        startm(pp, true);
        return;
    }
    s.lock.lock();
    // Relaxed: gcwaiting is written under sched.lock, which we hold.
    if s.gcwaiting.load(Relaxed) {
        let sp = sched();
        // SAFETY: pp is ours to give away (the caller's contract), and sched.lock
        // (held) protects stopwait.
        unsafe {
            (*pp).set_status(PGCSTOP);
            (*sp).stopwait -= 1;
            if (*sp).stopwait == 0 {
                s.stopnote.wakeup();
            }
        }
        s.lock.unlock();
        return;
    }
    // Relaxed: written under sched.lock, which we hold.
    if s.runqsize.load(Relaxed) != 0 {
        s.lock.unlock();
        startm(pp, false);
        return;
    }
    // If this is the last running P and nobody is polling the network, start an M
    // to poll it (it will block in netpoll: Go's handoffp rule).
    // Relaxed: hints (npidle is written under sched.lock, which we hold).
    if netpoll::netpoll_any_waiters()
        && s.npidle.load(Relaxed) as usize == gomaxprocs() - 1
        && !TIMER_SLEEPING.load(SeqCst)
    {
        s.lock.unlock();
        startm(pp, false);
        return;
    }
    // SAFETY: sched.lock is held and pp is ours.
    unsafe { pidleput(pp) };
    s.lock.unlock();
    // An idle P's timers still need an M to run them: the timer sleeper, or one
    // woken to become it (Go's wakeNetPoller(nobarrierWakeTime(pp))).
    // SAFETY: Ps are never freed; wake_time reads atomics. SeqCst: the timer
    // sleeper's handshake (see TIMER_SLEEPING).
    let when = unsafe { (*pp).timers.wake_time() };
    if when != 0 {
        wake_timer_sleeper(when);
    }
}

/// wakep tries to add one more P to execute G's. Called when a G is made runnable
/// (newproc, ready). Runs on any g, after the G was queued; must not hold sched.lock.
pub(crate) fn wakep() {
    let s = sched_shared();
    // Steps 2 and 3 of the submission pattern (see the file head): a StoreLoad
    // barrier between the caller's queueing of the G and the loads of npidle and
    // nmspinning. Be conservative about spinning threads: only start one if none
    // exist already, and only when there is an idle P for it. Relaxed loads: the
    // barrier orders them.
    if !must_wake_after_submit(|| s.npidle.load(Relaxed), || s.nmspinning.load(Relaxed)) {
        return;
    }
    // AcqRel: see the file head.
    if s.nmspinning
        .compare_exchange(0, 1, AcqRel, Relaxed)
        .is_err()
    {
        return;
    }
    // Pinned from taking the idle P until startm has handed it to an M (see
    // startm; Go's wakep does the same).
    let _pin = acquirem();
    s.lock.lock();
    // SAFETY: sched.lock is held.
    let pp = unsafe { pidleget() };
    if pp.is_null() {
        // AcqRel: as above.
        if (s.nmspinning.fetch_sub(1, AcqRel) as i32) - 1 < 0 {
            throw("wakep: negative nmspinning");
        }
        s.lock.unlock();
        return;
    }
    s.lock.unlock();
    startm(pp, true);
}

/// stopm stops execution of the current M until new work is available, then
/// returns with a P acquired. Runs on g0 without a P; must not hold sched.lock.
fn stopm() {
    let mp = getm();
    let s = sched_shared();
    // SAFETY: mp is the M running us (on its g0), never freed; p is atomic.
    if !unsafe { (*mp).p() }.is_null() {
        throw("stopm holding p");
    }
    // SAFETY: as above; spinning is atomic. Relaxed: our own flag.
    if unsafe { (*mp).spinning.load(Relaxed) } {
        throw("stopm spinning");
    }
    s.lock.lock();
    // SAFETY: sched.lock is held.
    unsafe { mput(mp) };
    s.lock.unlock();
    mpark(mp);
    // SAFETY: our waker (startm, start_the_world) set nextp before its notewakeup,
    // whose Release the note's Acquire paired with; nobody else touches nextp while
    // we run. The P was handed to us idle and unowned, as acquirep needs.
    unsafe {
        acquirep((*mp).nextp);
        (*mp).nextp = ptr::null_mut();
    }
}

/// mpark: sleep on the M's park note until startm (or start_the_world) wakes it.
/// Runs on g0 of mp.
fn mpark(mp: *mut M) {
    // SAFETY: Ms are never freed; park is a Note (shared by design), and only this
    // M sleeps on its own note.
    let park = unsafe { &(*mp).park };
    park.sleep();
    park.clear();
}

/// resetspinning: the M found work while spinning: stop spinning and, as it may be
/// the last spinner, wake another M to keep looking. Runs on g0.
fn resetspinning() {
    let mp = getm();
    // SAFETY: mp is the M running us (on its g0), never freed; spinning is atomic.
    let spinning = unsafe { &(*mp).spinning };
    // Relaxed: our own flag (the count other threads read is sched.nmspinning).
    if !spinning.load(Relaxed) {
        throw("resetspinning: not a spinning m");
    }
    spinning.store(false, Relaxed);
    // AcqRel: see the file head.
    let n = sched_shared().nmspinning.fetch_sub(1, AcqRel) as i32 - 1;
    if n < 0 {
        throw("resetspinning: negative nmspinning");
    }
    // M wakeup policy is deliberately somewhat conservative, so check if we need to
    // wakeup another P here.
    wakep();
}

/// schedule: one round of the scheduler: find a runnable goroutine and run it.
/// Runs on g0 of an M holding a P, with no lock held; never returns.
pub(crate) fn schedule() -> ! {
    let mp = getm();
    // SAFETY: mp is the M running us (on its g0), never freed; locks is atomic.
    // Relaxed: only this thread writes m.locks.
    if unsafe { (*mp).locks.load(Relaxed) } != 0 {
        throw("schedule: holding locks");
    }
    #[cfg(debug_assertions)]
    {
        // SAFETY: as above; locks_held_len is owner-only.
        if unsafe { (*mp).locks_held_len } != 0 {
            throw("schedule: holding runtime locks");
        }
    }
    // SAFETY: as above; spinning is atomic.
    let spinning = unsafe { &(*mp).spinning };
    loop {
        // SAFETY: as above; p is atomic.
        let pp = unsafe { (*mp).p() };
        // Relaxed: our own flag.
        // SAFETY: Ps are never freed; runqempty reads atomics only.
        if spinning.load(Relaxed) && !runqempty(unsafe { &*pp }) {
            throw("schedule: spinning with local work");
        }
        let (gp, inherit) = findrunnable(); // blocks until work is available
                                            // This thread is going to run a goroutine and is not spinning anymore,
                                            // so if it was marked as spinning we need to reset it now and
                                            // potentially start a new spinning M.
        if spinning.load(Relaxed) {
            resetspinning();
        }
        if gp.is_null() {
            continue;
        }
        // SAFETY: on g0 of an M holding a P (findrunnable returns with one); gp was
        // just taken off a queue, so it is runnable and ours.
        unsafe { execute(gp, inherit) };
    }
}

/// findrunnable finds a runnable goroutine to execute: from the local queue, the
/// global queue, or other Ps (stealing), parking the M when there is nothing.
/// Returns with the M holding a P. Runs on g0 of an M holding a P, with no lock
/// held.
fn findrunnable() -> (*mut G, bool) {
    let mp = getm();
    let s = sched_shared();
    // SAFETY: mp is the M running us (on its g0), never freed; spinning is atomic.
    let spinning = unsafe { &(*mp).spinning };
    'top: loop {
        // SAFETY: as above; p is atomic. It is non-null: we hold a P on every pass
        // (the P given up below is replaced by acquirep before `continue 'top`).
        let pp = unsafe { (*mp).p() };
        // SAFETY: Ps are never freed and pp is ours until releasep below; through p
        // we use only its atomics, run queue and timers.
        let p = unsafe { &*pp };
        // Acquire: pairs with stop_the_world's Release (stronger than needed: a
        // gcstopm M reads the stopper's stopwait under sched.lock anyway).
        if s.gcwaiting.load(Acquire) {
            gcstopm();
            continue 'top;
        }
        // Run the timers that are due (they ready goroutines onto our queue).
        // SeqCst: stronger than this check needs (only we add timers to our P, and
        // run_timers re-checks under the timers lock); on x86-64 it is a plain load.
        let w = p.timers.wake_time();
        // SAFETY: mp is the M running us (on its g0), never freed; now_fresh and
        // now_hint are owner-only.
        let fresh = unsafe { core::mem::replace(&mut (*mp).now_fresh, false) };
        if w != 0 {
            // The time is the clock's, or the hint left by the sleep that just
            // parked here, moments ago (a vDSO call was a sixth of a wake-up): if
            // timers are due by it, they run with that time, without a clock read.
            // If none is due by it and other work is queued, timers due since
            // (the few hundred ns the park took) wait for the next round, as if
            // this check had come that much earlier: the clock is read once per
            // wake-up, not twice. An older hint is not used: run_timers judges
            // how late a timer is by the time it is given (OVERDUE_MAX).
            // SAFETY: as above.
            let mut now = unsafe { (*mp).now_hint };
            if !fresh || (w > now && runqempty(p)) {
                now = super::vdso_linux::nanotime();
                // SAFETY: as above.
                unsafe { (*mp).now_hint = now };
            }
            if w <= now {
                // SAFETY: pp is a live P (ours); no runtime lock is held.
                unsafe { super::time::run_timers(pp, now) };
            }
        }
        // Check the global runnable queue once in a while to ensure fairness.
        // Otherwise two goroutines can completely occupy the local runqueue by
        // constantly respawning each other. Go counts non-inherited rounds
        // (schedtick) and bounds an inherited chain with sysmon's 10 ms preemption;
        // gort also counts every round (fairtick), so two goroutines handing off to
        // each other through runnext let the global queue and the rest of the local
        // queue in every 61 hand-offs; and when sysmon says the slice is over
        // (p.preempt) the local queue is taken oldest first, so the chain ends at
        // once. (Not the global queue first then, even on a 61st round: the
        // preempted goroutine has just gone there, and would be picked straight
        // back, ahead of the goroutine whose due timer the preemption was for: a
        // 1 ms sleep beside a loop then took a whole slice, 10 ms.)
        // Relaxed (schedtick, fairtick, preempt): we, the owner, are the only writer
        // of the ticks; preempt is a request.
        let slice_over = p.preempt.load(Relaxed);
        if slice_over {
            p.preempt.store(false, Relaxed);
        }
        let ft = p.fairtick.load(Relaxed).wrapping_add(1);
        p.fairtick.store(ft, Relaxed);
        let fair61 = ft.is_multiple_of(61);
        let fair = slice_over || fair61;
        if !slice_over
            && (fair61 || p.schedtick.load(Relaxed).is_multiple_of(61))
            && globrunq_nonempty()
        {
            s.lock.lock();
            // SAFETY: sched.lock is held and pp is ours.
            let gp = unsafe { globrunqget(pp, 1) };
            s.lock.unlock();
            if !gp.is_null() {
                return (gp, false);
            }
        }
        // local runq (oldest first, runnext last, on a fair round)
        if fair {
            if let Some(gp) = p.runq.get_fair() {
                return (gp, false);
            }
        } else if let Some((gp, inherit)) = runqget(p) {
            return (gp, inherit);
        }
        // global runq (globrunqget tells the trace whether our last stop event is
        // late enough to time the GoStart: trace::globq_got)
        if globrunq_nonempty() {
            s.lock.lock();
            // SAFETY: sched.lock is held and pp is ours.
            let gp = unsafe { globrunqget(pp, 0) };
            s.lock.unlock();
            if !gp.is_null() {
                return (gp, false);
            }
        }
        // Past our own run queue and the global one: whatever runs next may have
        // been made runnable elsewhere, after our last event (see trace::slow_round).
        if super::trace::on() {
            super::trace::slow_round();
        }
        // Poll network: a non-blocking check for goroutines whose fds became ready
        // (Go does this before stealing; it is only an optimisation: the M blocked
        // in netpoll below, or sysmon, would find them too).
        // Relaxed: a hint (a stale zero only skips an optimisation).
        if netpoll::netpollinited()
            && netpoll::netpoll_any_waiters()
            && netpoll::LASTPOLL.load(Relaxed) != 0
        {
            let list = netpoll::netpoll(0);
            if !list.head.is_null() {
                // SAFETY: on g0 of the M that owns pp; the list came from netpoll.
                return (unsafe { take_polled(pp, list) }, false);
            }
        }

        // Spinning Ms: steal work from other Ps.
        //
        // Limit the number of spinning Ms to half the number of busy Ps. This is
        // necessary to prevent excessive CPU consumption when GOMAXPROCS>>1 but
        // the program parallelism is low.
        let procs = gomaxprocs() as i32;
        // Relaxed: spinning is our own flag; the counters are hints for a heuristic.
        if spinning.load(Relaxed)
            || 2 * (s.nmspinning.load(Relaxed) as i32) < procs - s.npidle.load(Relaxed)
        {
            if !spinning.load(Relaxed) {
                spinning.store(true, Relaxed);
                // AcqRel: see the file head.
                s.nmspinning.fetch_add(1, AcqRel);
            }
            // SAFETY: on g0 of a spinning M that owns pp.
            if let Some(gp) = unsafe { steal_work(pp) } {
                // Relaxed: a statistics counter.
                STEALS.fetch_add(1, Relaxed);
                return (gp, false);
            }
            // SAFETY: as above.
            match unsafe { poll_spin(pp) } {
                Spun::Got(gp) => return (gp, false),
                Spun::Again => continue 'top,
                Spun::Nothing => {}
            }
            // Acquire: as at the top.
            if s.gcwaiting.load(Acquire) {
                continue 'top;
            }
        // SAFETY: on g0 of an M that owns pp, no lock held.
        } else if unsafe { run_others_timers(pp) } {
            if let Some((gp, _)) = runqget(p) {
                return (gp, false);
            }
        }

        // We have nothing to do. Return P and block.
        s.lock.lock();
        // Relaxed: gcwaiting and runqsize are written under sched.lock, which we hold.
        if s.gcwaiting.load(Relaxed) {
            s.lock.unlock();
            continue 'top;
        }
        if s.runqsize.load(Relaxed) != 0 {
            // SAFETY: sched.lock is held and pp is ours.
            let gp = unsafe { globrunqget(pp, 0) };
            s.lock.unlock();
            return (gp, false);
        }
        // SAFETY: on g0 of an M holding a running P.
        if unsafe { releasep() } != pp {
            throw("findrunnable: wrong p");
        }
        // SAFETY: sched.lock is held; pp was just released and nobody else owns it.
        unsafe { pidleput(pp) };
        s.lock.unlock();

        // Delicate dance: thread transitions from spinning to non-spinning
        // state, potentially concurrently with submission of new work. We must
        // drop nmspinning first and then check all sources again (with
        // StoreLoad memory barrier in between). If we do it the other way
        // around, another thread can submit work after we've checked all
        // sources but before we drop nmspinning; as a result nobody will unpark
        // a thread to run the work.
        // Relaxed (spinning): our own flag; AcqRel (nmspinning): see the file head.
        if spinning.load(Relaxed) {
            spinning.store(false, Relaxed);
            if (s.nmspinning.fetch_sub(1, AcqRel) as i32) - 1 < 0 {
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
                // SAFETY: on g0 without a P; pp2 came off the idle list, so it is
                // idle and nobody else owns it.
                unsafe { acquirep(pp2) };
                // Back to spinning; orderings as above.
                spinning.store(true, Relaxed);
                s.nmspinning.fetch_add(1, AcqRel);
                continue 'top;
            }
        }
        // Timers pending or goroutines waiting on fds: one idle M sleeps until the
        // earliest timer is due, in the network poller once it exists (Go's
        // netpoll(delay)), then takes an idle P to run what it found.
        if let Some(list) = timer_sleep() {
            s.lock.lock();
            // SAFETY: sched.lock is held.
            let pp2 = unsafe { pidleget() };
            s.lock.unlock();
            if !pp2.is_null() {
                // SAFETY: on g0 without a P; pp2 came off the idle list, so it is
                // idle and nobody else owns it.
                unsafe { acquirep(pp2) };
                if !list.head.is_null() {
                    // SAFETY: on g0 of the M that now owns pp2; the list came from
                    // netpoll.
                    return (unsafe { take_polled(pp2, list) }, false);
                }
                continue 'top;
            }
            // No P: the goroutines wait on the global queue for one.
            netpoll::injectglist(list);
        }
        stopm();
    }
}

/// How long a spinning M keeps polling the network and the other Ps for work
/// before it gives up its P, while the network is busy (see poll_spin).
const POLL_SPIN_NS: i64 = 2_500;
/// The network counts as busy if a poll made goroutines runnable this recently.
const POLL_HOT_NS: i64 = 1_000_000;

/// What poll_spin found.
enum Spun {
    /// A goroutine to run (runnable, ours).
    Got(*mut G),
    /// Something for findrunnable's top: the global queue, a due timer of ours, or
    /// a stop-the-world.
    Again,
    /// Nothing: give up the P.
    Nothing,
}

/// poll_spin: a spinning M that found no work polls the network (and the other
/// Ps) for up to POLL_SPIN_NS before it gives up its P, if a poll made goroutines
/// runnable within POLL_HOT_NS. A goroutine in a request-response exchange parks
/// on its socket and is usually ready again within microseconds; an M that parks
/// at once pays a sleep and a wake-up, and the peer whose write wakes it pays too
/// (echo at 1 connection, client and server on two CPUs: about 19,000 round trips
/// a second without the spin, 28,000 with it, and less server CPU per round trip;
/// 1 and 5 us spins did worse). The spin costs at most POLL_SPIN_NS per time the
/// M runs out of work while requests come; a server quiet for a millisecond, and
/// a program without sockets, never spin. Runs on g0 of a spinning M that owns
/// pp, no lock held.
///
/// # Safety
/// On g0 of a spinning M that owns pp.
unsafe fn poll_spin(pp: *mut P) -> Spun {
    if !netpoll::netpollinited() || !netpoll::netpoll_any_waiters() {
        return Spun::Nothing;
    }
    let t0 = super::vdso_linux::nanotime();
    // Relaxed: LAST_READY and LASTPOLL are hints (a stale one costs a spin, or
    // skips one); gcwaiting is re-read with Acquire at the top.
    if t0 - netpoll::LAST_READY.load(Relaxed) > POLL_HOT_NS {
        return Spun::Nothing;
    }
    let s = sched_shared();
    // SAFETY: Ps are never freed and pp is ours; through p we use its timers'
    // atomics.
    let p = unsafe { &*pp };
    loop {
        for _ in 0..64 {
            core::hint::spin_loop();
        }
        let now = super::vdso_linux::nanotime();
        let w = p.timers.wake_time();
        if s.gcwaiting.load(Relaxed) || globrunq_nonempty() || (w != 0 && w <= now) {
            return Spun::Again;
        }
        if netpoll::LASTPOLL.load(Relaxed) != 0 {
            let list = netpoll::netpoll(0);
            if !list.head.is_null() {
                // SAFETY: on g0 of the M that owns pp; the list came from netpoll.
                return Spun::Got(unsafe { take_polled(pp, list) });
            }
        }
        // One stealing pass, but not a runnext (a goroutine its owner just readied
        // and is about to run: steal_work takes it only on its last pass, and a
        // spin repeats passes).
        // SAFETY: the caller's contract.
        if let Some(gp) = unsafe { steal_pass(pp, false) } {
            // Relaxed: a statistics counter.
            STEALS.fetch_add(1, Relaxed);
            return Spun::Got(gp);
        }
        if now - t0 >= POLL_SPIN_NS {
            return Spun::Nothing;
        }
    }
}

/// Of goroutines a poll made ready (non-empty list): the first, runnable, for this M
/// to run, the rest onto pp's run queue (injectglist_local).
///
/// # Safety
/// On g0 of the M that owns pp; list came from netpoll (its Gs are parked and ours).
unsafe fn take_polled(pp: *mut P, list: netpoll::GList) -> *mut G {
    let gp = list.head;
    // SAFETY: the caller's contract: gp and the rest are ours; pp is ours.
    unsafe {
        let rest = netpoll::GList {
            head: (*gp).schedlink,
            n: list.n - 1,
        };
        (*gp).schedlink = ptr::null_mut();
        netpoll::injectglist_local(pp, rest);
        if super::trace::on() {
            super::trace::go_unblock(gp);
        }
        casgstatus(gp, GWAITING, GRUNNABLE);
    }
    gp
}

/// The earliest timer across all Ps (0: none). Any thread; no lock.
pub(crate) fn earliest_timer() -> i64 {
    let mut best = 0i64;
    for i in 0..allp_len() {
        // SAFETY: Ps are never freed; wake_time reads atomics. SeqCst: the timer
        // sleeper's handshake (see TIMER_SLEEPING).
        let w = unsafe { (*allp(i)).timers.wake_time() };
        if w != 0 && (best == 0 || w < best) {
            best = w;
        }
    }
    best
}

/// timer_sleep: if timers are pending or goroutines wait on the poller, and no
/// other M is the sleeper, sleep until the earliest timer is due (or an earlier one
/// is added): in netpoll once the poller exists (so fd events wake us too), else on
/// the timer futex. Returns None if this M did not sleep, else the goroutines the
/// poll made runnable (possibly none: go and run timers). Runs on g0 without a P.
///
/// SeqCst throughout: the sleeper's handshake with addtimer (see TIMER_SLEEPING).
fn timer_sleep() -> Option<netpoll::GList> {
    let polling = netpoll::netpollinited() && netpoll::netpoll_any_waiters();
    let earliest = earliest_timer();
    if earliest == 0 && !polling {
        return None;
    }
    if TIMER_SLEEPING
        .compare_exchange(false, true, SeqCst, SeqCst)
        .is_err()
    {
        // Another M is the sleeper. If it sleeps past the earliest timer we see,
        // wake it to look again (Go's findRunnable does so before stopm): it may
        // have read the timers before one was moved to another P (procresize),
        // and it would otherwise sleep on while this M stops and the timer's P
        // lies idle.
        if earliest != 0 {
            wake_sleeper_before(earliest);
        }
        return None;
    }
    let gen = TIMER_WAKE.load(SeqCst);
    // Read the timers after announcing ourselves: an addtimer from now on wakes us.
    let when = earliest_timer();
    let mut res = None;
    if netpoll::netpollinited() {
        // until: i64::MAX while waiting for fds alone (any new timer is earlier).
        TIMER_UNTIL.store(if when == 0 { i64::MAX } else { when }, SeqCst);
        let delay = if when == 0 {
            -1
        } else {
            (when - super::vdso_linux::nanotime()).max(0)
        };
        // Relaxed: LASTPOLL is a hint for the non-blocking polls (see netpoll.rs).
        netpoll::LASTPOLL.store(0, Relaxed);
        let list = netpoll::netpoll(delay);
        netpoll::LASTPOLL.store(super::vdso_linux::nanotime(), Relaxed);
        res = Some(list);
    } else if when != 0 {
        TIMER_UNTIL.store(when, SeqCst);
        let delay = when - super::vdso_linux::nanotime();
        if delay > 0 {
            super::sys_linux::futex_wait_timeout(&TIMER_WAKE, gen, delay);
        }
        res = Some(netpoll::GList {
            head: ptr::null_mut(),
            n: 0,
        });
    }
    TIMER_UNTIL.store(0, SeqCst);
    TIMER_SLEEPING.store(false, SeqCst);
    res
}

/// The poller was just created: a timer sleeper on the futex must come back and
/// sleep in the poller instead, or fds registered from now on would go unwatched
/// until its timer. Any g; no lock.
pub(crate) fn wake_sleeper_for_poller() {
    // SeqCst: the sleeper's handshake (see TIMER_SLEEPING).
    TIMER_WAKE.fetch_add(1, SeqCst);
    super::sys_linux::futex_wake(&TIMER_WAKE, 1);
}

/// A timer due at `when` was added: make sure some M will run it in time: wake the
/// timer sleeper if it sleeps past `when`, or wake an idle P if there is no sleeper.
/// Runs on any g, after the timer is in its heap; must not hold sched.lock.
///
/// SeqCst throughout: the adder's half of the handshake (see TIMER_SLEEPING).
pub(crate) fn wake_timer_sleeper(when: i64) {
    if !wake_sleeper_before(when) {
        wakep();
    }
}

/// If an M is the timer sleeper, wake it when it sleeps past `when` (or has not
/// yet said until when), and return true; false if there is no sleeper. Any g;
/// no lock. SeqCst: as wake_timer_sleeper.
fn wake_sleeper_before(when: i64) -> bool {
    if !TIMER_SLEEPING.load(SeqCst) {
        return false;
    }
    let until = TIMER_UNTIL.load(SeqCst);
    if until == 0 || when < until {
        TIMER_WAKE.fetch_add(1, SeqCst);
        super::sys_linux::futex_wake(&TIMER_WAKE, 1);
        // Or it sleeps in the poller (Go's wakeNetPoller).
        netpoll::netpoll_break();
    }
    true
}

/// Whether the global queue or any P's run queue has work (findrunnable's re-check
/// after it dropped its P). Any thread; no lock.
fn any_work_no_p() -> bool {
    // SAFETY: Ps are never freed; runqempty reads atomics only.
    globrunq_nonempty() || (0..allp_len()).any(|i| unsafe { !runqempty(&*allp(i)) })
}

/// An idle P, taken under sched.lock, or null. Runs on any g; must not hold
/// sched.lock.
fn pidleget_locked() -> *mut P {
    let s = sched_shared();
    s.lock.lock();
    // SAFETY: sched.lock is held.
    let pp = unsafe { pidleget() };
    s.lock.unlock();
    pp
}

/// Run the due timers of the other Ps (a spinning M does so in steal_work); they
/// ready goroutines onto pp's queue. For an M about to give up its P that may not
/// spin: another P's M runs that P's timers only at its next scheduling round,
/// which may be a time slice away, and without this the idle M finds the timer
/// due in timer_sleep, does not sleep, and takes a P again to look once more,
/// round after round (at 2 Ps with 10,000 sleepers, 4% of all rounds went so).
/// Returns whether any ran.
///
/// # Safety
/// On g0 of an M that owns pp, with no lock held.
unsafe fn run_others_timers(pp: *mut P) -> bool {
    let mut now = 0;
    let mut ran = false;
    for i in 0..allp_len() {
        let p2 = allp(i);
        if p2 == pp || p2.is_null() {
            continue;
        }
        // SAFETY: Ps are never freed; wake_time reads atomics.
        let w = unsafe { (*p2).timers.wake_time() };
        if w == 0 {
            continue;
        }
        if now == 0 {
            now = super::vdso_linux::nanotime();
        }
        // SAFETY: p2 is a live P; on g0 of an M holding a P, no lock held.
        if w <= now && unsafe { super::time::run_timers(p2, now) } {
            ran = true;
        }
    }
    ran
}

/// steal_work attempts to steal a runnable goroutine from any P: STEAL_TRIES
/// passes, the last also taking runnext and running due timers. Runs on g0, with
/// no lock held (it may run another P's timers).
///
/// # Safety
/// On g0 of a spinning M that owns pp.
unsafe fn steal_work(pp: *mut P) -> Option<*mut G> {
    for i in 0..STEAL_TRIES {
        // SAFETY: the caller's contract.
        if let Some(gp) = unsafe { steal_pass(pp, i == STEAL_TRIES - 1) } {
            return Some(gp);
        }
    }
    None
}

/// One pass of steal_work over the other Ps, from a random one: take about half
/// of a run queue; if `last`, also a running P's runnext, and run each P's due
/// timers first (they ready goroutines onto our queue: timers are stolen with
/// work). Returns None at once when a stop-the-world is pending.
///
/// # Safety
/// As steal_work.
unsafe fn steal_pass(pp: *mut P, last: bool) -> Option<*mut G> {
    let order = &raw const STEAL_ORDER;
    let gcwaiting = sched_shared().gcwaiting;
    // SAFETY: Ps are never freed, and pp is ours (the caller's contract); through p
    // we use only its run queue.
    let p = unsafe { &*pp };
    // SAFETY: STEAL_ORDER changes only in procresize, with the world stopped, when
    // no M is spinning (as we are); start copies what it needs.
    for pos in unsafe { (*order).start(fastrand()) } {
        // Relaxed: a hint to give up early; findrunnable re-checks with Acquire.
        if gcwaiting.load(Relaxed) {
            return None;
        }
        let p2 = allp(pos as usize);
        if p2 == pp || p2.is_null() {
            continue;
        }
        if last {
            // SAFETY: p2 is a live P (never freed); we are on g0 of an M holding a
            // P, with no lock held.
            let ran = unsafe { super::time::run_timers(p2, super::vdso_linux::nanotime()) };
            if ran {
                if let Some((gp, _)) = runqget(p) {
                    return Some(gp);
                }
            }
        }
        // SAFETY: Ps are never freed; a thief uses only the victim's run queue and
        // status, which are atomic.
        if let Some(gp) = runqsteal(p, unsafe { &*p2 }, last) {
            return Some(gp);
        }
    }
    None
}

/// execute runs gp on the current M. If inherit, gp inherits the remaining time slice
/// (schedtick is not advanced). Runs on g0, with no lock held.
///
/// # Safety
/// On g0 of an M holding a P; gp is runnable and was just taken off a queue, so it is
/// ours. Never returns.
unsafe fn execute(gp: *mut G, inherit: bool) -> ! {
    let mp = getm();
    // SAFETY: mp is the M running us (on its g0), never freed; p is atomic.
    let pp = unsafe { (*mp).p() };
    // SAFETY: gp is ours (the caller's contract), so its stack is ours to check and
    // attach; pp is our P (stack_attach: on g0, owning pp and gp, gp stackless).
    unsafe {
        if (*gp).stack.lo == 0 {
            stack_attach(pp, gp);
        }
    }
    // SAFETY: mp is our M and gp ours: we are the one thread writing mp.curg and
    // gp's m and status now. Relaxed: curg and G.m are informational for other
    // threads (see runtime2); casgstatus publishes with its own Release. A
    // preemption asked of gp before it stopped is served by this new start.
    unsafe {
        (*mp).curg.store(gp, Relaxed);
        (*gp).m.store(mp, Relaxed);
        (*gp).preempt.store(false, Relaxed);
        (*gp).waitsince.store(0, Relaxed);
        casgstatus(gp, GRUNNABLE, GRUNNING);
    }
    if super::trace::on() {
        super::trace::go_start(gp);
    }
    if !inherit {
        // SAFETY: pp is our P (never freed); schedtick is atomic.
        let t = unsafe { &(*pp).schedtick };
        // Relaxed: we, the owner, are the only writer; readers take a snapshot.
        t.store(t.load(Relaxed).wrapping_add(1), Relaxed);
    }
    // SAFETY: gp.sched is gp's saved context (from newproc1, or saved when it parked
    // or yielded), and gp runs nowhere else; gogo switches to it for good.
    unsafe { gort_gogo(&(*gp).sched) }
}

/// dropg removes the association between the M and its current goroutine.
/// Runs on g0.
#[inline(always)]
fn dropg() {
    let mp = getm();
    // SAFETY: mp is the M running us (on its g0), never freed; curg is atomic.
    let gp = unsafe { (*mp).curg() };
    // Relaxed: see execute.
    if !gp.is_null() {
        // SAFETY: gp was mp's curg and has stopped running on it: ours; m is atomic.
        unsafe { (*gp).m.store(ptr::null_mut(), Relaxed) };
    }
    // SAFETY: as above; only mp writes its curg.
    unsafe { (*mp).curg.store(ptr::null_mut(), Relaxed) };
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
    // SAFETY: mp is the M running us (pinned: m.locks is raised), never freed; curg
    // is atomic.
    let gp = unsafe { (*mp).curg() };
    check_no_nopreempt(mp);
    // SAFETY: gp is the running goroutine (us); atomicstatus is atomic. Relaxed: only
    // we change our own status.
    let st = unsafe { (*gp).atomicstatus.load(Relaxed) };
    if st != GRUNNING && st != GSYSCALL {
        throw("gopark: bad g status");
    }
    // SAFETY: pinned: waitlock and waitunlockf are owner-only fields of our M, which
    // park_m reads on this same M; waitreason is atomic. Relaxed: other threads see
    // the reason after park_m's casgstatus (Release).
    unsafe {
        (*mp).waitlock = lock;
        (*mp).waitunlockf = unlockf;
        (*gp).waitreason.store(reason as u8, Relaxed);
    }
    mcall(park_m);
    // Parked from inside gort::blocking: we resume with a P (execute), or without
    // one in GSYSCALL if the commit refused; in the first case enter the system call
    // state again, as our caller expects.
    // SAFETY: gp is us, running; atomicstatus is atomic. Relaxed: our own status.
    if st == GSYSCALL && unsafe { (*gp).atomicstatus.load(Relaxed) } == GRUNNING {
        // SAFETY: gp is running on an M with a P (execute ran it).
        unsafe { reentersyscall(gp) };
    }
}

/// Throw if the goroutine is about to block or yield inside a gort::NoPreempt
/// section: the guard's pin belongs to this M, which the goroutine would leave.
/// Runs on a goroutine.
#[inline(always)]
fn check_no_nopreempt(mp: *mut M) {
    // SAFETY: mp is the M running us; nopreempt is owner-only.
    if unsafe { (*mp).nopreempt } != 0 {
        throw("gort: goroutine blocked or yielded inside a NoPreempt section");
    }
}

/// Unlock function for goparkunlock: releases a runtime Mutex. Runs on g0 (park_m).
///
/// # Safety
/// lock is a runtime Mutex that the parking goroutine holds (goparkunlock's).
unsafe fn parkunlock_c(_gp: *mut G, lock: *mut u8) -> bool {
    // SAFETY: lock is the Mutex the parking goroutine held (goparkunlock's contract).
    unsafe { (*(lock as *const Mutex)).unlock() };
    true
}

/// goparkunlock parks the goroutine and releases lock once it is off its stack.
/// Runs on a user goroutine, as gopark.
///
/// # Safety
/// The caller holds lock; someone will goready the goroutine later.
pub(crate) unsafe fn goparkunlock(lock: &Mutex, reason: WaitReason) {
    // SAFETY: parkunlock_c only unlocks lock, which the caller holds: it neither
    // parks nor allocates. The later goready is the caller's promise.
    unsafe { gopark(Some(parkunlock_c), lock as *const _ as *mut u8, reason) }
}

/// park continuation on g0.
extern "C" fn park_m(gp: *mut G) -> ! {
    let mp = getm();
    mlocks_dec(); // gopark's pin: on g0 now, which never changes M
                  // GRUNNING, or GSYSCALL inside gort::blocking (then this M has no P).
                  // SAFETY: gp was this M's curg and is now off its stack: ours. Relaxed: we own
                  // its status.
    let st = unsafe { (*gp).atomicstatus.load(Relaxed) };
    // A goroutine parking from a system call is already waiting in the trace
    // (its call was traced as blocking).
    let traced = st != GSYSCALL && super::trace::on();
    if traced {
        // SAFETY: gp is ours; waitreason is atomic (set by gopark on this M).
        let r = unsafe { (*gp).waitreason.load(Relaxed) };
        super::trace::go_park(WaitReason::from_u8(r));
    }
    // SAFETY: as above.
    unsafe { casgstatus(gp, st, GWAITING) };
    dropg();
    // SAFETY: waitunlockf is an owner-only field of our M, set by gopark on this M.
    let unlockf = unsafe { (*mp).waitunlockf.take() };
    if let Some(f) = unlockf {
        // SAFETY: as above, for waitlock.
        let lock = unsafe { core::mem::replace(&mut (*mp).waitlock, ptr::null_mut()) };
        #[cfg(debug_assertions)]
        {
            // SAFETY: parking is an owner-only field of our M.
            unsafe { (*mp).parking = true };
        }
        // SAFETY: gopark's caller promised that f may be called with lock on g0.
        let park = unsafe { f(gp, lock) };
        #[cfg(debug_assertions)]
        {
            // SAFETY: parking is an owner-only field of our M.
            unsafe { (*mp).parking = false };
        }
        // SAFETY: park_timer_wake is an owner-only field of our M.
        let when = unsafe { core::mem::replace(&mut (*mp).park_timer_wake, 0) };
        if when != 0 {
            wake_timer_sleeper(when);
        }
        if !park {
            if st == GSYSCALL {
                // SAFETY: the commit refused, so gp is still ours; it goes back to
                // its system call on this M, without a P, as it was.
                unsafe { resume_in_syscall(gp) };
            }
            if traced {
                super::trace::go_unblock(gp);
            }
            // SAFETY: the commit refused, so no waker has seen gp: it is still ours,
            // and we are on g0 of an M holding a P.
            unsafe {
                casgstatus(gp, GWAITING, GRUNNABLE);
                execute(gp, true); // Schedule it back, never returns.
            }
        }
    }
    if st == GSYSCALL {
        reacquirep_after_syscall();
    }
    schedule()
}

/// Resume gp, parked from GSYSCALL by a commit that refused, on this M without a P.
/// Runs on g0; never returns.
///
/// # Safety
/// gp is ours (it was this M's curg), GWAITING, and nobody else has seen it parked.
unsafe fn resume_in_syscall(gp: *mut G) -> ! {
    let mp = getm();
    // SAFETY: gp is ours (the caller's contract); mp is our M. Relaxed: see execute.
    unsafe {
        casgstatus(gp, GWAITING, GSYSCALL);
        (*mp).curg.store(gp, Relaxed);
        (*gp).m.store(mp, Relaxed);
        gort_gogo(&(*gp).sched)
    }
}

/// goready marks gp (which is parked) runnable and puts it in the current P's
/// runnext, waking an idle P if there is one. Runs on any g whose M holds a P; must
/// not hold sched.lock.
///
/// # Safety
/// gp is parked (GWAITING) and no one else will ready it.
pub(crate) unsafe fn goready(gp: *mut G) {
    // SAFETY: forwarded contract.
    unsafe { ready(gp, true) }
}

/// ready: make gp runnable on the current P (runnext if next). As goready.
///
/// # Safety
/// As goready.
unsafe fn ready(gp: *mut G, next: bool) {
    // SAFETY: forwarded contract.
    let no_p = unsafe { ready_nowake(gp, next) };
    wakep();
    if no_p {
        // Readied without a P (from inside gort::blocking): onto the global queue,
        // which no M may look at while our P waits for the call.
        super::sysmon::syscall_work_stuck();
    }
    preempt_check();
}

/// ready's first half: make gp runnable on the current P, without waking an idle
/// P. For a caller readying a batch (the timers): it calls wakep once after the
/// batch, which loses nothing, as until then the Gs sit on the queue of a running
/// P, which runs them itself if no other M comes. (Go's ready calls wakep once per
/// G; ours starts with a StoreLoad barrier, see must_wake_after_submit.)
///
/// Returns whether the caller had no P (gp went to the global queue).
///
/// # Safety
/// As goready; on g0 (which is never preempted: no preempt_check is owed).
pub(crate) unsafe fn ready_nowake(gp: *mut G, next: bool) -> bool {
    {
        // Pinned: runqput needs the P to stay ours.
        let mp = acquirem();
        let pp = mp.p();
        // The waker's writes to gp (param, a sudog's fields) are published to
        // whoever runs gp by runqput's Release store (or sched.lock).
        if super::trace::on() {
            super::trace::go_unblock(gp);
        }
        // SAFETY: gp is parked and ours to ready (the caller's contract).
        unsafe { casgstatus(gp, GWAITING, GRUNNABLE) };
        if pp.is_null() {
            // No P (a waker inside gort::blocking, or an M without one): the global
            // queue, as Go's injectglist.
            let s = sched_shared();
            s.lock.lock();
            // SAFETY: sched.lock is held; gp is runnable and in no queue.
            unsafe { globrunqput(gp) };
            s.lock.unlock();
            true
        } else {
            // SAFETY: gp is runnable and in no queue; pp is our P (pinned), never
            // freed.
            unsafe { runqput(&*pp, gp, next) };
            false
        }
    }
}

/// gosched yields the processor, allowing other goroutines to run. The current
/// goroutine goes to the global queue, as in Go. Runs on a goroutine, with no
/// runtime lock held.
pub(crate) fn gosched() {
    check_no_nopreempt(getm());
    with_p(|| mcall(gosched_m));
}

/// gopreempt_m: the continuation of a preemption (the SIGURG trampoline's mcall, or
/// preempt_check) on g0: the goroutine goes to the global queue, as after gosched.
pub(crate) extern "C" fn gopreempt_m(gp: *mut G) -> ! {
    if super::trace::on() {
        super::trace::go_sched(true);
    }
    goschedimpl(gp)
}

/// gosched continuation on g0.
extern "C" fn gosched_m(gp: *mut G) -> ! {
    if super::trace::on() {
        super::trace::go_sched(false);
    }
    // With one P and nothing in the global queue, the global queue would only hand
    // the goroutine back to us after our own queue: the back of our own queue is
    // the same place, without taking sched.lock twice (Go's goyield). Relaxed: a
    // hint; a goroutine queued globally just after this read is as one queued just
    // after the gosched, and runs before us at the latest on the next fair round.
    if gomaxprocs() == 1 && !globrunq_nonempty() {
        // SAFETY: gp was this M's curg, stopped by gosched's mcall.
        unsafe { requeue_local(gp) }
    }
    goschedimpl(gp)
}

/// The running goroutine, just stopped, goes to the tail of our P's run queue;
/// then schedule. On g0.
///
/// # Safety
/// gp was this M's curg and is off its stack (an mcall continuation).
unsafe fn requeue_local(gp: *mut G) -> ! {
    // SAFETY: on g0 of the M running us, never freed; p is atomic.
    let pp = unsafe { (*getm()).p() };
    // SAFETY: gp was this M's curg and is off its stack: ours (the caller's
    // contract).
    unsafe { casgstatus(gp, GRUNNING, GRUNNABLE) };
    dropg();
    // SAFETY: gp is runnable and in no queue; pp is our P (we are on g0), never
    // freed.
    unsafe { runqput(&*pp, gp, false) };
    schedule()
}

/// gosched and preemption, after their trace event: to the global queue. On g0.
fn goschedimpl(gp: *mut G) -> ! {
    let s = sched_shared();
    // SAFETY: gp was this M's curg and is off its stack: ours.
    unsafe { casgstatus(gp, GRUNNING, GRUNNABLE) };
    dropg();
    s.lock.lock();
    // SAFETY: sched.lock is held; gp is runnable and in no queue, and its GoSched
    // or GoPreempt (when tracing) is the last event we recorded.
    unsafe { globrunqput_stopped(gp) };
    s.lock.unlock();
    // An idle P should run it (as Go's goschedImpl): a preempted goroutine would
    // otherwise wait in the global queue until this P gets round to it, while
    // another P idles. Relaxed pre-check: a P that went idle before our globrunqput
    // did so under sched.lock, which we took after it; one that goes idle later
    // sees gp in the global queue before it parks (findrunnable's last check).
    if s.npidle.load(Relaxed) > 0 {
        wakep();
    }
    schedule()
}

/// goyield is like gosched, but puts the goroutine on the current P's local run
/// queue instead of the global one (used after a direct handoff). Runs on a
/// goroutine, with no runtime lock held.
pub(crate) fn goyield() {
    check_no_nopreempt(getm());
    with_p(|| mcall(goyield_m));
}

/// goyield continuation on g0.
extern "C" fn goyield_m(gp: *mut G) -> ! {
    if super::trace::on() {
        super::trace::go_sched(true);
    }
    // SAFETY: gp was this M's curg, stopped by goyield's mcall.
    unsafe { requeue_local(gp) }
}

// System calls, after Go's entersyscall/exitsyscall (proc.go).
//
// A goroutine about to make a system call that may block calls entersyscall: its
// status becomes GSYSCALL and its P becomes PSYSCALL with no M (the M keeps it in
// m.oldp). Nothing else happens: no lock, no wakeup, so a short call costs only these
// stores. If the call lasts, sysmon retakes the P (CAS PSYSCALL -> PIDLE) and hands
// it off, so the other goroutines go on running. exitsyscall takes the P back with
// one CAS if it is still PSYSCALL (exitsyscallfast), else any idle P; failing both,
// the goroutine goes to the global queue and the M stops (exitsyscall0). The CAS on
// the P's status settles every race between its M, sysmon and stop-the-world.
//
// A goroutine in GSYSCALL is never preempted (the signal handler wants GRUNNING)
// and never moves to another M (no queue holds it), so the code between the two
// calls runs with m.locks == 0. That code is the system call, or, through
// gort::blocking, any user code: the runtime operations that need a P leave the
// system call for their duration (`with_p`: newproc, addtimer, gosched,
// gomaxprocs), and a goroutine that parks in one (a channel, a lock, a sleep) parks
// from GSYSCALL: its M gives up the P it no longer has, and the goroutine re-enters
// the system call state when it resumes (gopark).

/// entersyscall: the goroutine is about to make a system call that may block.
/// Returns whether it entered: false (and nothing done) on g0, when the goroutine is
/// already in a system call (nested), or when m.locks > 0 (a runtime lock or a
/// NoPreempt guard is held: the caller keeps its P, as a plain system call would).
/// Pass the result to exitsyscall. Runs on any g.
#[inline]
pub(crate) fn entersyscall() -> bool {
    let gp = getg();
    let mp = getm();
    // SAFETY: gp is the running g and mp its M (on this thread, which only we run);
    // g0 is immutable, locks and atomicstatus atomic. Relaxed: our own values.
    let ok = unsafe {
        gp != (*mp).g0
            && (*mp).locks.load(Relaxed) == 0
            && (*gp).atomicstatus.load(Relaxed) == GRUNNING
    };
    if ok {
        // SAFETY: mp is our M; syscall_seq is owner-only.
        unsafe { (*mp).syscall_seq = (*mp).syscall_seq.wrapping_add(1) };
        // SAFETY: gp is the running goroutine, in GRUNNING, with its M holding a P.
        unsafe { reentersyscall(gp) };
    }
    ok
}

/// The body of entersyscall (Go's reentersyscall): GRUNNING -> GSYSCALL, P ->
/// PSYSCALL kept in m.oldp. Runs on the goroutine.
///
/// # Safety
/// gp is the running goroutine (not g0), in GRUNNING, and its M holds a P.
unsafe fn reentersyscall(gp: *mut G) {
    // Pinned while the M and P are read and changed (a preemption between them
    // would leave them torn); from GSYSCALL on the goroutine is not preemptible.
    let mp = acquirem();
    let pp = mp.p();
    if super::trace::on() {
        // While the M still owns pp: the call is traced as blocking.
        super::trace::go_syscall(gp, pp);
    }
    // SAFETY: gp is ours and running (the caller's contract).
    unsafe { casgstatus(gp, GRUNNING, GSYSCALL) };
    // SAFETY: pinned: mp and pp are ours (owner-only oldp and syscalltick; p and m
    // atomic). Relaxed for P.m and M.p: informational (see wirep); set_status's
    // Release publishes the P to whoever takes it by CAS.
    unsafe {
        let m = mp.m();
        (*m).syscalltick = (*pp).syscalltick.load(Relaxed);
        (*pp).m.store(ptr::null_mut(), Relaxed);
        (*m).oldp = pp;
        (*m).p.store(ptr::null_mut(), Relaxed);
        (*pp).set_status(PSYSCALL);
    }
    // The stopper sets gcwaiting, then reads P statuses; we set PSYSCALL, then read
    // gcwaiting: with a StoreLoad barrier on each side one of us sees the other, so
    // a stop-the-world never waits for a P nobody will give up (Go's atomic.Store
    // of the status is an XCHG for the same reason).
    super::asm_amd64::storeload_fence();
    // Relaxed: ordered by the barrier above.
    if sched_shared().gcwaiting.load(Relaxed) {
        entersyscall_gcwait(pp);
    }
    // Relaxed: a hint, re-checked under sched.lock.
    if sched_shared().sysmonwait.load(Relaxed) {
        entersyscall_sysmon();
    }
}

/// A stop-the-world is under way: give it our P now rather than make it wait for
/// the system call (Go's entersyscall_gcwait). Runs on the goroutine, pinned.
fn entersyscall_gcwait(pp: *mut P) {
    let s = sched_shared();
    s.lock.lock();
    // SAFETY: sched.lock (held) protects stopwait; Ps are never freed and the CAS
    // decides whether pp is ours to give (retake or the stopper may have won it).
    unsafe {
        let sp = sched();
        if (*sp).stopwait > 0 && (*pp).cas_status(PSYSCALL, PGCSTOP) {
            let t = &(*pp).syscalltick;
            // Relaxed: we own pp until stopwait is decremented under the lock.
            t.store(t.load(Relaxed).wrapping_add(1), Relaxed);
            (*sp).stopwait -= 1;
            if (*sp).stopwait == 0 {
                s.stopnote.wakeup();
            }
        }
    }
    s.lock.unlock();
}

/// entersyscallblock's role for a goroutine already in a system call: the call is
/// now known to block for long (a poll(2) on a full pipe), so hand the P off at once
/// instead of after sysmon's tick. Nothing happens if sysmon or stop-the-world took
/// the P already (the CAS decides), or outside a system call. Runs on a goroutine
/// in GSYSCALL (any g: elsewhere it does nothing).
pub(crate) fn handoff_in_syscall() {
    if !in_syscall() {
        return;
    }
    let mp = getm();
    // SAFETY: mp is our M (a GSYSCALL goroutine does not move); oldp is owner-only.
    let pp = unsafe { (*mp).oldp };
    // SAFETY: Ps are never freed; status is atomic. Relaxed: a pre-check.
    if pp.is_null() || unsafe { (*pp).status.load(Relaxed) } != PSYSCALL {
        return;
    }
    // SAFETY: as above; the CAS decides whether pp is ours to hand off.
    if unsafe { (*pp).cas_status(PSYSCALL, PIDLE) } {
        // SAFETY: as above; the CAS made pp ours.
        unsafe {
            let t = &(*pp).syscalltick;
            // Relaxed: pp is ours since the CAS.
            t.store(t.load(Relaxed).wrapping_add(1), Relaxed);
            (*mp).oldp = ptr::null_mut();
        }
        // SAFETY: pp is ours, idle, with no M (handoffp's contract); g0's stack
        // because handoffp may start an M.
        systemstack(|| unsafe { handoffp(pp) });
    }
}

/// exitsyscall: the system call returned; get a P to go on running (`entered` is
/// entersyscall's result: false means there is nothing to undo). Fast path: take
/// back our old P with one CAS, or any idle P. Slow path: queue the goroutine on the
/// global run queue and stop the M (exitsyscall0). Runs on the goroutine, with no
/// runtime lock held.
#[inline]
pub(crate) fn exitsyscall(entered: bool) {
    if !entered {
        return;
    }
    let gp = getg();
    mlocks_inc(); // wirep's pin; nothing preempts a GSYSCALL goroutine anyway
    let mp = getm();
    // SAFETY: mp is our M (pinned); oldp is owner-only.
    let oldp = unsafe { core::mem::replace(&mut (*mp).oldp, ptr::null_mut()) };
    if exitsyscallfast(oldp) {
        // SAFETY: the M holds a P again (exitsyscallfast's success); gp is ours.
        unsafe {
            let t = &(*(*mp).p()).syscalltick;
            // Relaxed: we own the P; sysmon and schedtrace only compare ticks.
            t.store(t.load(Relaxed).wrapping_add(1), Relaxed);
            casgstatus(gp, GSYSCALL, GRUNNING);
        }
        if super::trace::on() {
            super::trace::go_sysexit(gp, true);
        }
        mlocks_dec();
        preempt_check();
        return;
    }
    mlocks_dec();
    mcall(exitsyscall0);
}

/// Take back oldp (may be null), the P a system call left in PSYSCALL, unless sysmon
/// retook it meanwhile: CAS PSYSCALL -> PIDLE, after which it is ours, idle and
/// without an M. Any thread.
fn take_syscall_p(oldp: *mut P) -> bool {
    if oldp.is_null() {
        return false;
    }
    // SAFETY: Ps are never freed; status is atomic.
    let p = unsafe { &*oldp };
    // Relaxed: a pre-check, the CAS (AcqRel) decides.
    p.status.load(Relaxed) == PSYSCALL && p.cas_status(PSYSCALL, PIDLE)
}

/// exitsyscallfast: wire a P to this M without blocking: oldp if it is still in
/// PSYSCALL (one CAS; nobody retook it), else an idle P. Returns whether the M holds
/// a P. Runs on the goroutine, pinned.
#[inline]
fn exitsyscallfast(oldp: *mut P) -> bool {
    if take_syscall_p(oldp) {
        // SAFETY: pinned; the CAS made oldp ours, idle and without an M.
        unsafe { wirep(oldp) };
        return true;
    }
    // Relaxed: a hint; pidleget re-checks under the lock.
    if sched_shared().npidle.load(Relaxed) > 0 {
        return systemstack(|| {
            let pp = pidleget_locked();
            if pp.is_null() {
                return false;
            }
            // SAFETY: on g0 of this M, which has no P; pp came off the idle list.
            unsafe { acquirep(pp) };
            true
        });
    }
    false
}

/// exitsyscall slow path, on g0: try once more for an idle P, else queue gp
/// globally and stop the M.
pub(crate) extern "C" fn exitsyscall0(gp: *mut G) -> ! {
    if super::trace::on() {
        // This M has no P: into the global batch; GoStart comes from execute.
        super::trace::go_sysexit(gp, false);
    }
    let s = sched_shared();
    // SAFETY: gp was this M's curg and is off its stack: ours.
    unsafe { casgstatus(gp, GSYSCALL, GRUNNABLE) };
    dropg();
    s.lock.lock();
    // Relaxed: gcwaiting is written under sched.lock, which we hold.
    let pp = if s.gcwaiting.load(Relaxed) {
        ptr::null_mut()
    } else {
        // SAFETY: sched.lock is held.
        unsafe { pidleget() }
    };
    if pp.is_null() {
        // SAFETY: sched.lock is held; gp is runnable and in no queue.
        unsafe { globrunqput(gp) };
    }
    s.lock.unlock();
    if !pp.is_null() {
        // SAFETY: on g0 of this M, which has no P; pp came off the idle list (idle,
        // unowned); gp is ours and runnable.
        unsafe {
            acquirep(pp);
            execute(gp, false); // Never returns.
        }
    }
    stopm();
    schedule()
}

/// After the goroutine this M ran from a system call parked or yielded (gopark or
/// gosched inside gort::blocking), the M has no P and no G: take back its old P if
/// it is still in PSYSCALL, or an idle one, or sleep until given one. Returns with a
/// P. Runs on g0.
fn reacquirep_after_syscall() {
    let mp = getm();
    // SAFETY: on g0 of mp; oldp is owner-only.
    let oldp = unsafe { core::mem::replace(&mut (*mp).oldp, ptr::null_mut()) };
    if take_syscall_p(oldp) {
        // SAFETY: on g0 without a P; the CAS made oldp ours, idle and unowned. (wirep:
        // our own P back, not a new one, see acquirep.)
        unsafe { wirep(oldp) };
        return;
    }
    let pp = pidleget_locked();
    if !pp.is_null() {
        // SAFETY: on g0 without a P; pp came off the idle list.
        unsafe { acquirep(pp) };
        return;
    }
    stopm();
}

/// Whether the running goroutine is in a system call (inside gort::blocking).
#[inline(always)]
pub(crate) fn in_syscall() -> bool {
    // SAFETY: getg() is the running g; atomicstatus is atomic. Relaxed: our own.
    unsafe { (*getg()).atomicstatus.load(Relaxed) == GSYSCALL }
}

/// Run f with a P. Inside gort::blocking (the goroutine in GSYSCALL, its M without a
/// P) leave the system call for f's duration, as if the call had returned, and enter
/// it again after; elsewhere just run f. Runs on a goroutine with no runtime lock
/// held (leaving the system call may wait for a P).
#[inline(always)]
pub(crate) fn with_p<R>(f: impl FnOnce() -> R) -> R {
    if !in_syscall() {
        return f();
    }
    exitsyscall(true);
    let r = f();
    // SAFETY: exitsyscall returned with the goroutine running on an M with a P.
    unsafe { reentersyscall(getg()) };
    r
}

/// preempt_check: a cooperative preemption point. If a preemption was asked of the
/// running goroutine (sysmon saw it run past its slice, or the world is stopping)
/// and it may be stopped here, yield as an asynchronous preemption would. Called
/// where the runtime is about to return to user code (ready, exitsyscall), so that
/// goroutines that spend their time inside runtime locks, where signals find no
/// safe point, still yield. Runs on any g.
#[inline(always)]
pub(crate) fn preempt_check() {
    let gp = getg();
    // SAFETY: gp is the running g; preempt is atomic. Relaxed: a request.
    if unsafe { (*gp).preempt.load(Relaxed) } {
        preempt_check_slow(gp);
    }
}

#[cold]
#[inline(never)]
fn preempt_check_slow(gp: *mut G) {
    let mp = getm();
    // SAFETY: gp is the running g and mp its M; the fields read are atomics or
    // immutable. Relaxed: our own thread's values.
    let ok = unsafe {
        gp != (*mp).g0
            && gp == (*mp).curg()
            && (*mp).locks.load(Relaxed) == 0
            && (*gp).atomicstatus.load(Relaxed) == GRUNNING
    };
    if ok {
        mcall(gopreempt_m);
    }
}

/// goexit1: the goroutine's function returned (we came from goexit). Finish it on g0.
pub(crate) extern "C" fn goexit1() -> ! {
    mcall(goexit0);
    throw("goexit1: goroutine resumed after exit")
}

/// goexit0: on g0, after the goroutine gp has finished.
extern "C" fn goexit0(gp: *mut G) -> ! {
    let mp = getm();
    if super::trace::on() {
        super::trace::go_end();
    }
    // SAFETY: gp was the current goroutine and has returned: it is ours, and nothing
    // runs on its stack any more.
    unsafe { casgstatus(gp, GRUNNING, GDEAD) };
    // SAFETY: as above; waitreason is atomic. Relaxed: informational (G.waitreason).
    unsafe { (*gp).waitreason.store(WaitReason::Zero as u8, Relaxed) };
    dropg();
    if gp == main_g() {
        // runtime.main returned: the program is done (Go's exit(0)), unless another
        // goroutine is reporting a panic: that report ends the process, with 2.
        super::panic::wait_if_dying();
        super::sys_linux::exit_group(0);
    }
    // SAFETY: on g0 of mp (never freed; p is atomic), which owns its P; gp is dead,
    // so its stack is free and gp is ours to put on the free list.
    unsafe {
        stack_detach((*mp).p(), gp);
        gfput((*mp).p(), gp);
    }
    schedule()
}

/// Called from mcall when it is used on g0.
pub(crate) extern "C" fn badmcall() -> ! {
    throw("runtime: mcall called on m->g0 stack")
}

/// worldsema: held by the goroutine that stops the world, from stop_the_world to
/// start_the_world, so that stops are serialised (Go's worldsema): a second stopper
/// parks until the first has restarted the world. 1 = free.
static WORLDSEMA: AtomicU32 = AtomicU32::new(1);

/// stop_the_world stops all Ps from running goroutines: on return, only the calling
/// goroutine runs, and it keeps its P (in PGCSTOP). Other stoppers wait (worldsema)
/// until start_the_world. Runs on a goroutine whose M holds a P, with no runtime
/// lock held.
pub(crate) fn stop_the_world() {
    // The stopper stops its own P first: it must hold one (callers inside
    // gort::blocking leave the system call with with_p first).
    if in_syscall() {
        throw("stop_the_world: called without a P (inside gort::blocking)");
    }
    super::sema::semacquire(&WORLDSEMA);
    systemstack(stop_the_world_with_sema)
}

/// stopTheWorldWithSema, on g0 of the stopper (which holds worldsema and a P).
fn stop_the_world_with_sema() {
    let s = sched_shared();
    let sp = sched();
    let mp = getm();
    s.lock.lock();
    // SAFETY: sched.lock (held) protects stopwait.
    unsafe { (*sp).stopwait = gomaxprocs() as i32 };
    // SeqCst (a store with a StoreLoad barrier): pairs with reentersyscall's barrier
    // between its PSYSCALL store and its gcwaiting load, so a P entering a system
    // call now is either seen in PSYSCALL below or gives itself up; the Acquire
    // loads in findrunnable pair with it too.
    s.gcwaiting.store(true, SeqCst);
    preemptall();
    // stop current P
    // SAFETY: mp is the M running us (on g0) and only it changes its P's status;
    // sched.lock (held) protects stopwait.
    unsafe {
        (*(*mp).p()).set_status(PGCSTOP);
        (*sp).stopwait -= 1;
    }
    // try to retake all P's in Psyscall status
    for i in 0..allp_len() {
        let pp = allp(i);
        // SAFETY: Ps are never freed; the CAS decides whether pp is ours to stop
        // (its M or sysmon may be taking it back). sched.lock protects stopwait.
        unsafe {
            if (*pp).status.load(Relaxed) == PSYSCALL && (*pp).cas_status(PSYSCALL, PGCSTOP) {
                let t = &(*pp).syscalltick;
                // Relaxed: pp is ours since the CAS.
                t.store(t.load(Relaxed).wrapping_add(1), Relaxed);
                (*sp).stopwait -= 1;
            }
        }
    }
    // stop idle Ps
    loop {
        // SAFETY: sched.lock is held.
        let pp = unsafe { pidleget() };
        if pp.is_null() {
            break;
        }
        // SAFETY: pp came off the idle list: ours; sched.lock protects stopwait.
        unsafe {
            (*pp).set_status(PGCSTOP);
            (*sp).stopwait -= 1;
        }
    }
    // SAFETY: sched.lock (held) protects stopwait.
    let wait = unsafe { (*sp).stopwait } > 0;
    s.lock.unlock();
    // Spinning and idle Ms notice gcwaiting when they next look for work; running
    // goroutines are preempted (asked again every 100 us, in case a request was
    // lost or landed where it could not be served); Ps in system calls are given up
    // by whoever takes them next.
    if wait {
        loop {
            if s.stopnote.sleep_timeout(100_000) {
                s.stopnote.clear();
                break;
            }
            preemptall();
        }
    }
    s.lock.lock();
    // SAFETY: sched.lock (held) protects stopwait.
    let left = unsafe { (*sp).stopwait };
    s.lock.unlock();
    if left != 0 {
        throw("stopTheWorld: not stopped");
    }
    for i in 0..allp_len() {
        // SAFETY: Ps are never freed; status is atomic. Relaxed: each stopper set
        // PGCSTOP before it decremented stopwait under sched.lock, which we took
        // since.
        if unsafe { (*allp(i)).status.load(Relaxed) } != PGCSTOP {
            throw("stopTheWorld: not stopped (status != _Pgcstop)");
        }
    }
}

/// start_the_world restarts the world with `procs` Ps (0: unchanged). Runs on the
/// goroutine that stopped it, with no runtime lock held (it may allocate Ps).
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
        let s = sched_shared();
        s.lock.lock();
        let old = gomaxprocs();
        // SAFETY: sched.lock is held and the world is stopped (by our caller);
        // allpgrow made Ps 0..n.
        let mut p1 = unsafe { procresize(n) };
        // Release: pairs with findrunnable's Acquire loads (stronger than needed: an
        // M that sees false reads nothing we wrote through it).
        s.gcwaiting.store(false, Release);
        s.lock.unlock();
        // The world is still stopped for the Ps being removed: move their timers.
        move_dead_timers(n as usize, old);
        while !p1.is_null() {
            let pp = p1;
            // SAFETY: pp is on procresize's list of Ps with work, which only we reach:
            // each is ours to hand out, link included.
            p1 = unsafe { (*pp).link };
            // SAFETY: Ps are never freed; m is atomic.
            let mp = unsafe { (*pp).m() };
            if !mp.is_null() {
                // SAFETY: as above. Relaxed: see P.m; mp's note publishes the handover.
                unsafe { (*pp).m.store(ptr::null_mut(), Relaxed) };
                // SAFETY: mp came off the idle list (procresize's mget): it sleeps in
                // stopm, and only we, its waker, touch its nextp; park is a Note. The
                // note's Release publishes nextp to it.
                unsafe {
                    if !(*mp).nextp.is_null() {
                        throw("startTheWorld: inconsistent mp->nextp");
                    }
                    (*mp).nextp = pp;
                    (*mp).park.wakeup();
                }
            } else {
                // Start M to run P. Do not start another M below.
                newm(None, pp, -1);
            }
        }
        // Wakeup an additional proc in case we have excessive runnable goroutines
        // in local queues or in the global queue.
        wakep();
        // sysmon sleeps while the world is stopped; Ps run again.
        s.lock.lock();
        // SAFETY: sched.lock is held.
        unsafe { sysmon_wake_locked(true) };
        s.lock.unlock();
    });
    super::sema::semrelease(&WORLDSEMA);
}

/// gcstopm: stop the current M for stop-the-world; returns when the world restarts
/// and this M has a P again. Runs on g0 of an M holding a P, with no lock held.
fn gcstopm() {
    let s = sched_shared();
    let mp = getm();
    // Relaxed: only asserts what findrunnable has just read with Acquire.
    if !s.gcwaiting.load(Relaxed) {
        throw("gcstopm: not waiting for gc");
    }
    // SAFETY: mp is the M running us (on its g0), never freed; spinning is atomic.
    let spinning = unsafe { &(*mp).spinning };
    // Relaxed: our own flag.
    if spinning.load(Relaxed) {
        spinning.store(false, Relaxed);
        // OK to just drop nmspinning here, startTheWorld will unpark threads as
        // necessary. AcqRel: see the file head.
        if (s.nmspinning.fetch_sub(1, AcqRel) as i32) - 1 < 0 {
            throw("gcstopm: negative nmspinning");
        }
    }
    // SAFETY: on g0 of an M holding a running P.
    let pp = unsafe { releasep() };
    s.lock.lock();
    let sp = sched();
    // SAFETY: pp was just released and nobody else owns it; sched.lock (held)
    // protects stopwait.
    unsafe {
        (*pp).set_status(PGCSTOP);
        (*sp).stopwait -= 1;
        if (*sp).stopwait == 0 {
            s.stopnote.wakeup();
        }
    }
    s.lock.unlock();
    stopm();
}

/// gomaxprocs(n): set the number of Ps to n (if n > 0) and return the previous
/// value. Stops the world to resize. Runs on a goroutine, with no runtime lock held.
pub(crate) fn set_gomaxprocs(n: i32) -> i32 {
    let old = gomaxprocs() as i32;
    if n <= 0 || n == old {
        return old;
    }
    let n = n.min(MAX_GOMAXPROCS as i32);
    with_p(|| {
        stop_the_world();
        start_the_world(n);
    });
    old
}

/// checkdead: check for deadlock situation. The check is based on the number of
/// running M's; if 0, the program is deadlocked. Runs on any g; no allocation.
///
/// # Safety
/// sched.lock must be held.
#[inline(never)]
pub(crate) unsafe fn checkdead() {
    let s = sched();
    sched_shared().lock.assert_held();
    // SAFETY: sched.lock (held: the caller's contract) protects these counts.
    unsafe {
        let run = mcount() - (*s).nmidle as i64 - (*s).nmidlelocked as i64 - (*s).nmsys as i64;
        if run > 0 {
            return;
        }
        if run < 0 {
            crate::runtime::print::rt_eprintln!(
                "runtime: checkdead: nmidle={} nmidlelocked={} mcount={} nmsys={}",
                (*s).nmidle,
                (*s).nmidlelocked,
                mcount(),
                (*s).nmsys
            );
            throw("checkdead: inconsistent counts");
        }
    }
    let mut grunning = 0;
    for gp in allgs() {
        // SAFETY: Gs are never freed; atomicstatus is atomic. Acquire: pairs with
        // casgstatus's Release.
        match unsafe { (*gp).atomicstatus.load(Acquire) } {
            GWAITING => grunning += 1,
            GRUNNABLE | GRUNNING | GSYSCALL => {
                // SAFETY: as above; goid is atomic. Relaxed: only printed.
                let (goid, st) = unsafe { ((*gp).goid(), (*gp).atomicstatus.load(Relaxed)) };
                crate::runtime::print::rt_eprintln!(
                    "runtime: checkdead: find g {} in status {}",
                    goid,
                    st
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
        // SAFETY: Ps are never freed; Timers::is_empty reads an atomic.
        if !unsafe { (*allp(i)).timers.is_empty() } {
            return;
        }
    }
    super::traceback::fatal_with_goroutines("all goroutines are asleep - deadlock!");
}

/// incidlelocked: add v to sched.nmidlelocked (Ms counted as not running), and run
/// checkdead when the count goes up. sysmon (which checkdead does not count) lowers
/// it by one while it holds what only a running M would: around a retake (the M
/// whose P it takes may leave its system call meanwhile, queue its goroutine and go
/// idle while the P is still on its way to another M; Go's retake does the same),
/// and around its network poll (the goroutines the poll made ready are sysmon's
/// alone until injectglist queued them and woke an M). checkdead must not take
/// those moments for a deadlock. Takes sched.lock; must not be called with it held.
#[inline(never)]
pub(crate) fn incidlelocked(v: i32) {
    let s = sched_shared();
    s.lock.lock();
    // SAFETY: sched.lock (held) protects nmidlelocked, and checkdead needs it held.
    unsafe {
        (*sched()).nmidlelocked += v;
        if v > 0 {
            checkdead();
        }
    }
    s.lock.unlock();
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
    let s = sched_shared();
    // Relaxed: hints for a heuristic.
    let (npidle, nmspinning) = (s.npidle.load(Relaxed), s.nmspinning.load(Relaxed) as i32);
    if gomaxprocs() as i32 <= npidle + nmspinning + 1 {
        return false;
    }
    let mp = acquirem();
    let pp = mp.p();
    // SAFETY: pinned: pp is our P, never freed; runqempty reads atomics only.
    !pp.is_null() && runqempty(unsafe { &*pp })
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

/// The stealOrder count (= gomaxprocs after the last procresize). Any thread.
pub(crate) fn steal_order_count() -> u32 {
    let order = &raw const STEAL_ORDER;
    // SAFETY: written only by procresize with the world stopped; reads see the value
    // of the last procresize.
    unsafe { (*order).count() }
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
