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
//! The delicate part is the transition from spinning to idle: the M first releases
//! its P (pidleput) and decrements nmspinning, and only then re-checks every run
//! queue (`check_runqs_no_p`); a submitter does the opposite order (put the G, then
//! check nmspinning/npidle in wakep). With both orders, either the submitter sees an
//! idle P and no spinner and wakes an M, or the parking M sees the new G. Idle Ms
//! sleep on their `park` note (a futex), so an idle runtime uses no CPU.
//!
//! # Stop-the-world
//!
//! `stop_the_world` sets `sched.gcwaiting`, takes every idle P, and waits on
//! `sched.stopnote` until each running P has passed through `schedule`, where its M
//! sees gcwaiting and gives the P up (`gcstopm`). Preemption is cooperative: a
//! goroutine that never parks, yields or exits delays the stop until it does.

use core::mem::{align_of, size_of};
use core::ptr;
use core::sync::atomic::Ordering::SeqCst;
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize,
};

use crate::runtime::runq::{runqempty, runqget, runqput, runqsteal};
use crate::runtime::runtime1::throw;
use crate::runtime::runtime2::*;

/// m0 and g0: the first thread and its scheduling goroutine, set up by rt0_go.
/// Reached only through raw pointers (`m0()`, `g0()`): they are shared with assembly.
pub(crate) static mut M0: M = M::new();
pub(crate) static mut G0: G = G::new();
/// The scheduler. Reached through `sched()`; fields are protected as Schedt says.
static mut SCHED: Schedt = Schedt::new();

/// allp: all Ps ever made, indexed by id; `ALLP_LEN` of them are live
/// (= gomaxprocs). Entries are written only by procresize (world stopped); Ps are
/// never freed, so a stale index still points at a valid (maybe dead) P.
static ALLP: [AtomicPtr<P>; MAX_GOMAXPROCS] =
    [const { AtomicPtr::new(ptr::null_mut()) }; MAX_GOMAXPROCS];
static ALLP_LEN: AtomicUsize = AtomicUsize::new(0);
/// Head of the allm list (linked through M.alllink). Prepended under sched.lock,
/// published with Release so lock-free readers see a complete M.
static ALLM: AtomicPtr<M> = AtomicPtr::new(ptr::null_mut());
/// Head of the allgs list (linked through G.alllink), pushed by CAS; Gs are never
/// freed. ALLGLEN counts them.
static ALLG: AtomicPtr<G> = AtomicPtr::new(ptr::null_mut());
static ALLGLEN: AtomicUsize = AtomicUsize::new(0);
static GOMAXPROCS: AtomicI32 = AtomicI32::new(0);
/// Set by runtime main once the user's main is about to run (Go's mainStarted):
/// from then on new goroutines wake idle Ps.
static MAIN_STARTED: AtomicBool = AtomicBool::new(false);
/// Goroutine 1. Written once by newproc_main on m0 during boot.
static MAIN_G: AtomicPtr<G> = AtomicPtr::new(ptr::null_mut());
/// stealOrder: the order in which an M looks at other Ps for work.
/// Written by procresize with the world stopped.
static mut STEAL_ORDER: RandomOrder = RandomOrder::new();
/// The signal mask m0 started with; new Ms restore it in minit.
static INIT_SIGMASK: AtomicU64 = AtomicU64::new(0);
/// How often an M found work by stealing (for tests of stealing).
pub(crate) static STEALS: AtomicU64 = AtomicU64::new(0);
/// The timer sleeper: at most one idle M sleeps on TIMER_WAKE (a futex generation
/// counter) until TIMER_UNTIL, the earliest timer when it went to sleep. addtimer
/// wakes it if the new timer is earlier (wake_timer_sleeper). SeqCst throughout:
/// a sleeper sets TIMER_SLEEPING then reads the timers; an adder pushes its timer
/// then reads TIMER_SLEEPING, so one of them sees the other.
static TIMER_SLEEPING: AtomicBool = AtomicBool::new(false);
static TIMER_UNTIL: AtomicI64 = AtomicI64::new(0);
static TIMER_WAKE: AtomicU32 = AtomicU32::new(0);

/// Size of the stack given to new goroutines.
pub(crate) static STACK_SIZE: AtomicUsize =
    AtomicUsize::new(crate::runtime::stack::DEFAULT_STACK_SIZE);
/// Bytes below stackguard0 that runtime code may still use (Go's _StackGuard).
const STACK_GUARD: usize = 928;
/// g0 stack of Ms other than m0.
const G0_STACK_SIZE: usize = 64 << 10;
/// Dead Gs a P keeps before spilling half to the global list (Go: 64).
const GFREE_LOCAL_MAX: i32 = 64;
/// Steal attempts over all Ps before an M gives up (Go: stealTries).
const STEAL_TRIES: usize = 4;

pub(crate) fn m0() -> *mut M {
    &raw mut M0
}

pub(crate) fn g0() -> *mut G {
    &raw mut G0
}

pub(crate) fn sched() -> *mut Schedt {
    &raw mut SCHED
}

pub(crate) use super::asm_amd64::getg;
use super::asm_amd64::{
    gort_clone, gort_goexit, gort_gogo, gort_mcall, gort_mstart, gort_systemstack,
};

/// The current M.
#[inline(always)]
pub(crate) fn getm() -> *mut M {
    // SAFETY: every g the runtime runs has a valid m while it runs.
    unsafe { (*getg()).m }
}

/// The running goroutine's id.
pub(crate) fn curgoid() -> u64 {
    // SAFETY: getg() is the running goroutine, valid while it runs.
    unsafe { (*getg()).goid }
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
/// not park or switch goroutines. On g0 already, f is simply called.
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

/// fastrand: a per-M pseudo-random number (wyrand). Runs on the M it is called on.
pub(crate) fn fastrand() -> u32 {
    // SAFETY: fastrand is owner-only M state; we are on that M.
    unsafe {
        let mp = getm();
        (*mp).fastrand = (*mp).fastrand.wrapping_add(0xa0761d6478bd642f);
        let x = (*mp).fastrand;
        let m = (x as u128).wrapping_mul((x ^ 0xe7037ed1a0b428db) as u128);
        ((m >> 64) as u64 ^ m as u64) as u32
    }
}

/// The number of Ps.
pub(crate) fn gomaxprocs() -> usize {
    GOMAXPROCS.load(Relaxed) as usize
}

/// The P with index i (i < MAX_GOMAXPROCS; null if never made).
pub(crate) fn allp(i: usize) -> *mut P {
    ALLP[i].load(Acquire)
}

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

/// Iterate the allgs list (every G ever made, including dead ones).
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

pub(crate) fn main_g() -> *mut G {
    MAIN_G.load(Acquire)
}

/// gcount: the number of goroutines that exist (not dead), approximately, as Go's:
/// all Gs minus those on free lists.
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
    // SAFETY: single-threaded boot on m0; gp is g0, whose m rt0_go set to m0.
    unsafe {
        let s = sched();
        (*s).maxmcount = 10000;
        crate::runtime::malloc::HEAP.init(); // mallocinit
        crate::runtime::vdso_linux::vdsoinit(crate::runtime::os_linux::VDSO_BASE.load(Relaxed));
        crate::runtime::stack::stackinit();
        mcommoninit((*gp).m, -1);
        INIT_SIGMASK.store(crate::runtime::sys_linux::sigprocmask_get(), Relaxed);
        crate::runtime::debug::parsedebugvars();
        let procs = crate::runtime::runtime1::gomaxprocs_from_env(
            crate::runtime::runtime1::getenv(b"GOMAXPROCS"),
            crate::runtime::os_linux::ncpu(),
        );
        (*s).lock.lock();
        let runnable = procresize(procs as i32);
        (*s).lock.unlock();
        if !runnable.is_null() {
            throw("unknown runnable goroutine during bootstrap");
        }
    }
}

/// mcommoninit: give mp its id (id >= 0 is pre-allocated, -1 reserves the next one),
/// seed its fastrand, and link it on allm. Runs on g0 or a goroutine with a P.
///
/// # Safety
/// mp is a valid M not yet on allm.
pub(crate) unsafe fn mcommoninit(mp: *mut M, id: i64) {
    let s = sched();
    // SAFETY: sched.lock guards mnext, maxmcount and the allm prepend; mp is ours
    // until it is published on allm.
    unsafe {
        (*s).lock.lock();
        (*mp).id = if id >= 0 { id } else { m_reserve_id() };
        let seed = crate::runtime::os_linux::STARTUP_RANDOM.load(Relaxed);
        let mut r = if seed != 0 {
            ptr::read_unaligned(seed as *const u64)
        } else {
            0x9e3779b97f4a7c15
        };
        r ^= ((*mp).id as u64).wrapping_mul(0xa0761d6478bd642f);
        (*mp).fastrand = r | 1;
        (*mp).alllink = ALLM.load(Relaxed);
        ALLM.store(mp, Release);
        (*s).lock.unlock();
    }
}

/// mReserveID returns the next ID to use for a new M. This new M is immediately
/// considered 'running' by checkdead. sched.lock must be held.
unsafe fn m_reserve_id() -> i64 {
    let s = sched();
    // SAFETY: the caller holds sched.lock.
    unsafe {
        if (*s).mnext + 1 < (*s).mnext {
            throw("runtime: thread ID overflow");
        }
        let id = (*s).mnext;
        (*s).mnext += 1;
        checkmcount();
        id
    }
}

/// The number of Ms made. sched.lock must be held (or the value is a snapshot).
fn mcount() -> i64 {
    // SAFETY: a plain read of a counter; callers hold sched.lock where it matters.
    unsafe { (*sched()).mnext }
}

/// checkmcount: die if the program has made more than sched.maxmcount threads.
/// sched.lock must be held.
unsafe fn checkmcount() {
    let s = sched();
    // SAFETY: the caller holds sched.lock.
    unsafe {
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

/// procresize changes the number of Ps to nprocs and returns the list of Ps with
/// local work (linked through P.link), which the caller must schedule.
/// sched.lock must be held and the world stopped (at boot: only m0 exists).
unsafe fn procresize(nprocs: i32) -> *mut P {
    let old = GOMAXPROCS.load(Relaxed);
    if old < 0 || nprocs <= 0 || nprocs as usize > MAX_GOMAXPROCS {
        throw("procresize: invalid arg");
    }
    // Initialize new Ps.
    for i in old..nprocs {
        let mut pp = ALLP[i as usize].load(Relaxed);
        if pp.is_null() {
            pp = alloc::boxed::Box::into_raw(alloc::boxed::Box::new(P::new(i)));
            ALLP[i as usize].store(pp, Release);
        }
        // SAFETY: the world is stopped: nobody else touches a new or dead P.
        unsafe { (*pp).status.store(PGCSTOP, Relaxed) };
    }
    let mp = getm();
    // SAFETY: the world is stopped and sched.lock held: Ps and mp are ours to change.
    unsafe {
        if !(*mp).p.is_null() && (*(*mp).p).id < nprocs {
            // continue to use the current P
            (*(*mp).p).status.store(PRUNNING, Relaxed);
        } else {
            // release the current P and acquire allp[0]
            if !(*mp).p.is_null() {
                (*(*mp).p).m = ptr::null_mut();
            }
            (*mp).p = ptr::null_mut();
            let pp = ALLP[0].load(Relaxed);
            (*pp).m = ptr::null_mut();
            (*pp).status.store(PIDLE, Relaxed);
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
            if (*mp).p == pp {
                continue;
            }
            (*pp).status.store(PIDLE, Relaxed);
            if runqempty(&*pp) {
                pidleput(pp);
            } else {
                (*pp).m = mget();
                (*pp).link = runnable_ps;
                runnable_ps = pp;
            }
        }
        let order = &raw mut STEAL_ORDER;
        (*order).reset(nprocs as u32);
        GOMAXPROCS.store(nprocs, Release);
        runnable_ps
    }
}

/// p_destroy: move everything off a P that procresize is removing (its runnable Gs
/// to the head of the global queue, in order; its free Gs to the global list) and
/// mark it dead. sched.lock held, world stopped.
unsafe fn p_destroy(pp: *mut P) {
    // SAFETY: the world is stopped; pp has no owner.
    unsafe {
        // Move all runnable goroutines to the global queue, keeping their order:
        // take from the tail, push at the head.
        loop {
            let h = (*pp).runqhead.load(Relaxed);
            let t = (*pp).runqtail.load(Relaxed);
            if h == t {
                break;
            }
            let t = t.wrapping_sub(1);
            let gp = (*pp).runq[(t % RUNQ_SIZE as u32) as usize].load(Relaxed);
            (*pp).runqtail.store(t, Relaxed);
            globrunqputhead(gp);
        }
        let next = (*pp).runnext.swap(ptr::null_mut(), Relaxed);
        if !next.is_null() {
            globrunqputhead(next);
        }
        crate::runtime::stack::stackcache_release(pp);
        // move timers to the P of the M resizing
        (*pp).timers.move_to(&(*(*getm()).p).timers);
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
        (*pp).status.store(PDEAD, Relaxed);
    }
}

/// acquirep associates pp with the current M. Runs on g0 or with the M locked.
///
/// # Safety
/// pp is idle and owned by nobody.
pub(crate) unsafe fn acquirep(pp: *mut P) {
    // SAFETY: forwarded.
    unsafe { wirep(pp) };
}

/// wirep is the first step of acquirep, which actually associates the current M to
/// pp.
unsafe fn wirep(pp: *mut P) {
    let mp = getm();
    // SAFETY: the caller guarantees pp is idle and unowned; mp is the current M.
    unsafe {
        if !(*mp).p.is_null() {
            throw("wirep: already in go");
        }
        if !(*pp).m.is_null() || (*pp).status.load(Relaxed) != PIDLE {
            let id = if (*pp).m.is_null() { 0 } else { (*(*pp).m).id };
            crate::eprintln!(
                "wirep: p->m={:p}({}) p->status={}",
                (*pp).m,
                id,
                (*pp).status.load(Relaxed)
            );
            throw("wirep: invalid p state");
        }
        (*mp).p = pp;
        (*pp).m = mp;
        (*pp).status.store(PRUNNING, Relaxed);
    }
}

/// releasep disassociates the current P from the current M and returns it.
unsafe fn releasep() -> *mut P {
    let mp = getm();
    // SAFETY: mp is the current M and owns its P.
    unsafe {
        let pp = (*mp).p;
        if pp.is_null() {
            throw("releasep: invalid arg");
        }
        if (*pp).m != mp || (*pp).status.load(Relaxed) != PRUNNING {
            crate::eprintln!(
                "releasep: p->m={:p} m={:p} p->status={}",
                (*pp).m,
                mp,
                (*pp).status.load(Relaxed)
            );
            throw("releasep: invalid p state");
        }
        (*mp).p = ptr::null_mut();
        (*pp).m = ptr::null_mut();
        (*pp).status.store(PIDLE, Relaxed);
        pp
    }
}

/// pidleput puts pp on the idle P list. pp must have an empty run queue.
/// sched.lock must be held.
unsafe fn pidleput(pp: *mut P) {
    // SAFETY: the caller holds sched.lock, which protects pidle and P.link.
    unsafe {
        if !runqempty(&*pp) {
            throw("pidleput: P has non-empty run queue");
        }
        let s = sched();
        (*pp).link = (*s).pidle;
        (*s).pidle = pp;
        (*s).npidle.fetch_add(1, Relaxed);
    }
}

/// pidleget takes a P off the idle list, or returns null. sched.lock must be held.
unsafe fn pidleget() -> *mut P {
    let s = sched();
    // SAFETY: the caller holds sched.lock.
    unsafe {
        let pp = (*s).pidle;
        if !pp.is_null() {
            (*s).pidle = (*pp).link;
            (*s).npidle.fetch_sub(1, Relaxed);
        }
        pp
    }
}

/// mput puts mp on the idle M list, then checks for deadlock. sched.lock must be
/// held.
unsafe fn mput(mp: *mut M) {
    let s = sched();
    // SAFETY: the caller holds sched.lock, which protects midle.
    unsafe {
        (*mp).schedlink = (*s).midle;
        (*s).midle = mp;
        (*s).nmidle += 1;
        checkdead();
    }
}

/// mget takes an M off the idle list, or returns null. sched.lock must be held.
unsafe fn mget() -> *mut M {
    let s = sched();
    // SAFETY: the caller holds sched.lock, which protects midle.
    unsafe {
        let mp = (*s).midle;
        if !mp.is_null() {
            (*s).midle = (*mp).schedlink;
            (*s).nmidle -= 1;
        }
        mp
    }
}

/// globrunqput puts gp at the tail of the global queue. sched.lock must be held.
unsafe fn globrunqput(gp: *mut G) {
    // SAFETY: the caller holds sched.lock; gp is in no other queue.
    unsafe { globrunqputbatch_locked(gp, gp, 1) }
}

/// globrunqputhead puts gp at the head of the global queue. sched.lock must be held.
unsafe fn globrunqputhead(gp: *mut G) {
    let s = sched();
    // SAFETY: the caller holds sched.lock; gp is in no other queue.
    unsafe {
        (*gp).schedlink = (*s).runqhead;
        (*s).runqhead = gp;
        if (*s).runqtail.is_null() {
            (*s).runqtail = gp;
        }
        (*s).runqsize += 1;
    }
}

unsafe fn globrunqputbatch_locked(head: *mut G, tail: *mut G, n: i32) {
    let s = sched();
    // SAFETY: the caller holds sched.lock and owns the batch.
    unsafe {
        (*tail).schedlink = ptr::null_mut();
        if (*s).runqtail.is_null() {
            (*s).runqhead = head;
        } else {
            (*(*s).runqtail).schedlink = head;
        }
        (*s).runqtail = tail;
        (*s).runqsize += n;
    }
}

/// globrunqputbatch puts a linked batch of n Gs on the global runnable queue.
/// Takes sched.lock.
///
/// # Safety
/// head..tail is a schedlink-linked list of n runnable Gs owned by the caller.
pub(crate) unsafe fn globrunqputbatch(head: *mut G, tail: *mut G, n: i32) {
    let s = sched();
    // SAFETY: sched.lock protects the global queue; the batch is the caller's.
    unsafe {
        (*s).lock.lock();
        globrunqputbatch_locked(head, tail, n);
        (*s).lock.unlock();
    }
}

/// globrunqget takes a batch of Gs from the global queue: returns one to run and
/// moves up to max-1 more (and at most half the local ring) to pp's run queue.
/// max = 0 means no limit. sched.lock must be held; the caller owns pp.
unsafe fn globrunqget(pp: *mut P, max: i32) -> *mut G {
    let s = sched();
    // SAFETY: the caller holds sched.lock and owns pp.
    unsafe {
        if (*s).runqsize == 0 {
            return ptr::null_mut();
        }
        let np = gomaxprocs().max(1) as i32;
        let mut n = ((*s).runqsize / np + 1).min((*s).runqsize);
        if max > 0 && n > max {
            n = max;
        }
        n = n.min(RUNQ_SIZE as i32 / 2);
        (*s).runqsize -= n;
        let gp = globrunq_pop();
        for _ in 1..n {
            runqput(&*pp, globrunq_pop(), false);
        }
        gp
    }
}

/// Pop the head of the global queue. sched.lock must be held; the queue non-empty.
unsafe fn globrunq_pop() -> *mut G {
    let s = sched();
    // SAFETY: the caller holds sched.lock.
    unsafe {
        let gp = (*s).runqhead;
        (*s).runqhead = (*gp).schedlink;
        if (*s).runqhead.is_null() {
            (*s).runqtail = ptr::null_mut();
        }
        gp
    }
}

/// Serializes the unit tests that use the global run queue.
#[cfg(test)]
pub(crate) static GLOBRUNQ_TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
pub(crate) fn globrunq_drain_for_test() -> alloc::vec::Vec<*mut G> {
    let s = sched();
    let mut v = alloc::vec::Vec::new();
    // SAFETY: the test is the only user of the global queue.
    unsafe {
        (*s).lock.lock();
        while (*s).runqsize > 0 {
            v.push(globrunq_pop());
            (*s).runqsize -= 1;
        }
        (*s).lock.unlock();
    }
    v
}

/// malg allocates a new G with a stack of `stacksize` bytes (an M's g0); goroutines
/// come from galloc and get their stacks when they first run. Runs on any g.
fn malg(stacksize: usize) -> *mut G {
    let mut g = alloc::boxed::Box::new(G::new());
    g.stack = crate::runtime::stack::stackalloc(stacksize);
    g.stackguard0 = g.stack.lo + STACK_GUARD;
    g.stackguard1 = usize::MAX; // only g0 and signal stacks may run C-like code
    g.atomicstatus.store(GDEAD, Relaxed);
    alloc::boxed::Box::into_raw(g)
}

/// Gs per slab: Gs are never freed (Go keeps them on allgs), so they are carved from
/// slabs instead of being allocated one by one.
const GSLAB: usize = 128;

/// galloc: a new G (dead, no stack) from pp's slab, allocating a new slab when it is
/// used up. The caller owns pp.
unsafe fn galloc(pp: *mut P) -> *mut G {
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
            let page = crate::runtime::os_linux::physpagesize().max(4096);
            let start = (slab as usize).next_multiple_of(page);
            let end = (slab as usize + layout.size()) & !(page - 1);
            if end > start && SLABS.fetch_add(1, Relaxed) > 0 {
                crate::runtime::sys_linux::madvise(
                    start,
                    end - start,
                    crate::runtime::sys_linux::MADV_POPULATE_WRITE,
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
        (*gp).atomicstatus.store(GDEAD, Relaxed);
        gp
    }
}

/// Attach a stack to gp before it first runs: from pp's stack cache for the default
/// size, else a mapping of its own; the entry frame goes at its top (goexit+1 as the
/// return address, so that SP % 16 == 8 at gostart's entry, as after a call).
/// Runs on g0; the caller owns pp and gp.
unsafe fn stack_attach(pp: *mut P, gp: *mut G) {
    // SAFETY: gp is ours (just taken off a run queue) and has no stack.
    unsafe {
        let size = (*gp).stacksize;
        let stk = if size == STACK_SIZE.load(Relaxed) {
            crate::runtime::stack::stackcache_get(pp)
        } else {
            crate::runtime::stack::stackalloc(size)
        };
        (*gp).stack = stk;
        (*gp).stackguard0 = stk.lo + STACK_GUARD;
        let sp = stk.hi - 8;
        *(sp as *mut usize) = gort_goexit as *const () as usize + 1;
        (*gp).sched.sp = sp;
    }
}

/// Take the stack off a G that exited and keep it for the next one. Runs on g0.
unsafe fn stack_detach(pp: *mut P, gp: *mut G) {
    // SAFETY: gp is dead: nothing runs on its stack.
    unsafe {
        let stk = (*gp).stack;
        if stk.lo == 0 {
            return;
        }
        if stk.hi - stk.lo == STACK_SIZE.load(Relaxed) {
            crate::runtime::stack::stackcache_put(pp, stk);
        } else {
            crate::runtime::stack::stackfree(stk);
        }
        (*gp).stack = Stack::default();
    }
}

/// allgadd publishes a new G on allgs.
fn allgadd(gp: *mut G) {
    let mut head = ALLG.load(Relaxed);
    loop {
        // SAFETY: gp is new and not yet published: we own its alllink.
        unsafe { (*gp).alllink = head };
        match ALLG.compare_exchange_weak(head, gp, Release, Relaxed) {
            Ok(_) => break,
            Err(h) => head = h,
        }
    }
    ALLGLEN.fetch_add(1, Relaxed);
}

/// gfput puts a dead G on pp's free list, spilling half to the global list when the
/// local one is long. The caller owns pp.
unsafe fn gfput(pp: *mut P, gp: *mut G) {
    // SAFETY: the caller owns pp and gp is dead (no one else refers to it).
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
/// empty. Returns null when there is none. The caller owns pp.
unsafe fn gfget(pp: *mut P) -> *mut G {
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
    // SAFETY: the current M holds a P (every goroutine runs with one; g0 at boot has
    // p0), and newproc1 returns a fresh runnable G that no queue holds yet.
    unsafe {
        let pp = (*getm()).p;
        let newg = newproc1(f, pp, stacksize);
        runqput(&*pp, newg, true);
    }
    if MAIN_STARTED.load(Relaxed) {
        wakep();
    }
}

/// newproc1 makes a runnable G for f: a G from the free list or a new one, with f
/// in its fnbuf and a gobuf that enters gostart::<F> (on the stack execute will
/// attach), which returns into goexit. The caller owns pp.
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
        g.goid = (*sched()).goidgen.fetch_add(1, Relaxed) + 1;
        g.atomicstatus.store(GRUNNABLE, Release);
        newg
    }
}

/// newproc(runtime main): goroutine 1. Called by rt0_go on g0 of m0.
pub(crate) extern "C" fn newproc_main() {
    newproc(main);
    // SAFETY: boot is single-threaded; newproc just put goroutine 1 in p0.runnext.
    unsafe {
        let pp = (*getm()).p;
        MAIN_G.store((*pp).runnext.load(Relaxed), Release);
    }
}

/// runtime main: the body of goroutine 1. Runs the user's main; returning from it
/// leaves through goexit, and goexit0 ends the process.
fn main() {
    if getm() != m0() {
        throw("runtime.main not on m0");
    }
    MAIN_STARTED.store(true, Release);
    crate::runtime::debug::start_schedtrace();
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
/// and the signal mask it should run with.
fn minit() {
    let mp = getm();
    // SAFETY: on mp's own thread; procid and sigmask are its own.
    unsafe {
        (*mp)
            .procid
            .store(crate::runtime::sys_linux::gettid(), Relaxed);
        crate::runtime::signal_linux::minit_signals(mp);
        if mp != m0() {
            crate::runtime::sys_linux::sigprocmask_set(INIT_SIGMASK.load(Relaxed));
        }
    }
}

/// mspinning: the start function of Ms started to spin for work.
fn mspinning() {
    // SAFETY: on the new M's g0; spinning is its own.
    unsafe { (*getm()).spinning.store(true, Relaxed) };
}

/// allocm: a new M with its g0 (a G with a G0_STACK_SIZE stack). Runs on any g.
fn allocm(f: Option<fn()>) -> *mut M {
    let mut mp = alloc::boxed::Box::new(M::new());
    mp.mstartfn = f;
    let g0 = malg(G0_STACK_SIZE);
    let mp = alloc::boxed::Box::into_raw(mp);
    // SAFETY: g0 and mp are new and ours.
    unsafe {
        (*g0).m = mp;
        (*g0).stackguard1 = (*g0).stackguard0;
        (*g0).atomicstatus.store(GRUNNING, Relaxed);
        (*mp).g0 = g0;
    }
    mp
}

/// newm creates a new M that will start by running f (if any) and then take pp.
/// id is an id from mReserveID, or -1. Runs on any g with a P.
fn newm(f: Option<fn()>, pp: *mut P, id: i64) {
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

/// Go's cloneFlags, plus CLONE_SETTLS:
const CLONE_VM: usize = 0x100; // share memory
const CLONE_FS: usize = 0x200; // share cwd, etc
const CLONE_FILES: usize = 0x400; // share fd table
const CLONE_SIGHAND: usize = 0x800; // share sig handler table
const CLONE_SYSVSEM: usize = 0x40000; // share SysV semaphore undo lists
const CLONE_SETTLS: usize = 0x80000; // the new thread's FS base: &mp.tls[1]
const CLONE_THREAD: usize = 0x10000; // revisit - okay for now

/// newosproc starts mp's OS thread on mp.g0's stack, entering mstart with FS set to
/// &mp.tls[1]. All signals are blocked around the clone so that the new thread
/// takes none before minit has set it up.
///
/// # Safety
/// mp is a fully set up M (allocm, mcommoninit) with no thread yet.
unsafe fn newosproc(mp: *mut M) {
    const FLAGS: usize = CLONE_VM
        | CLONE_FS
        | CLONE_FILES
        | CLONE_SIGHAND
        | CLONE_SYSVSEM
        | CLONE_THREAD
        | CLONE_SETTLS;
    // SAFETY: the child runs gort_mstart on g0's own stack top with its own TLS; the
    // parent's frames are never touched by it.
    unsafe {
        let stk = (*(*mp).g0).stack.hi;
        let old = crate::runtime::sys_linux::sigprocmask_set(!0);
        let ret = gort_clone(FLAGS, stk, mp, (*mp).g0, gort_mstart);
        crate::runtime::sys_linux::sigprocmask_set(old);
        if ret < 0 {
            crate::eprintln!(
                "runtime: failed to create new OS thread (have {} already; errno={})",
                mcount(),
                -ret
            );
            if ret == -crate::runtime::sys_linux::EAGAIN {
                crate::eprintln!("runtime: may need to increase max user processes (ulimit -u)");
            }
            throw("newosproc");
        }
    }
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
        if !runqempty(&*pp) || (*s).runqsize != 0 {
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
            (*pp).status.store(PGCSTOP, Relaxed);
            (*s).stopwait -= 1;
            if (*s).stopwait == 0 {
                (*s).stopnote.wakeup();
            }
            (*s).lock.unlock();
            return;
        }
        if (*s).runqsize != 0 {
            (*s).lock.unlock();
            startm(pp, false);
            return;
        }
        pidleput(pp);
        (*s).lock.unlock();
    }
}

/// wakep tries to add one more P to execute G's. Called when a G is made runnable
/// (newproc, ready). Runs on any g.
pub(crate) fn wakep() {
    let s = sched();
    // SAFETY: nmspinning/npidle are atomics; startm takes sched.lock itself.
    unsafe {
        // Be conservative about spinning threads, only start one if none exist
        // already, and only when there is an idle P for it.
        if (*s).npidle.load(Relaxed) == 0 {
            return;
        }
        if (*s).nmspinning.load(Relaxed) != 0
            || (*s)
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
        if !(*mp).p.is_null() {
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
fn mpark(mp: *mut M) {
    // SAFETY: only this M sleeps on its own note.
    unsafe {
        (*mp).park.sleep();
        (*mp).park.clear();
    }
}

/// resetspinning: the M found work while spinning: stop spinning and, as it may be
/// the last spinner, wake another M to keep looking.
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
        if (*mp).locks != 0 {
            throw("schedule: holding locks");
        }
        loop {
            let pp = (*mp).p;
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
    // SAFETY: on g0 of mp; mp owns its P; shared state under sched.lock or atomic.
    unsafe {
        'top: loop {
            let pp = (*mp).p;
            if (*s).gcwaiting.load(Acquire) {
                gcstopm();
                continue 'top;
            }
            // Run the timers that are due (they ready goroutines onto our queue).
            let w = (*pp).timers.timer0_when.load(SeqCst);
            if w != 0 && w <= crate::runtime::vdso_linux::nanotime() {
                crate::runtime::time::run_timers(pp, crate::runtime::vdso_linux::nanotime());
            }
            // Check the global runnable queue once in a while to ensure fairness.
            // Otherwise two goroutines can completely occupy the local runqueue by
            // constantly respawning each other.
            if (*pp).schedtick.is_multiple_of(61) && (*s).runqsize > 0 {
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
            if (*s).runqsize != 0 {
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
            if (*s).runqsize != 0 {
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
                core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
                // Check all runqueues once again.
                let pp2 = check_runqs_no_p();
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
        let delay = when - crate::runtime::vdso_linux::nanotime();
        if delay > 0 {
            crate::runtime::sys_linux::futex_wait_timeout(&TIMER_WAKE, gen, delay);
        }
        slept = true;
    }
    TIMER_UNTIL.store(0, SeqCst);
    TIMER_SLEEPING.store(false, SeqCst);
    slept
}

/// A timer due at `when` was added: make sure some M will run it in time: wake the
/// timer sleeper if it sleeps past `when`, or wake an idle P if there is no sleeper.
pub(crate) fn wake_timer_sleeper(when: i64) {
    if TIMER_SLEEPING.load(SeqCst) {
        let until = TIMER_UNTIL.load(SeqCst);
        if until == 0 || when < until {
            TIMER_WAKE.fetch_add(1, SeqCst);
            crate::runtime::sys_linux::futex_wake(&TIMER_WAKE, 1);
        }
    } else {
        wakep();
    }
}

/// check_runqs_no_p: after dropping its P, look once more at every P's run queue
/// and the global queue; if any has work, take an idle P and return it (else null).
unsafe fn check_runqs_no_p() -> *mut P {
    let s = sched();
    // SAFETY: run queues are read lock-free (runqempty); pidleget under sched.lock.
    unsafe {
        let mut work = (*s).runqsize != 0;
        if !work {
            for i in 0..allp_len() {
                if !runqempty(&*allp(i)) {
                    work = true;
                    break;
                }
            }
        }
        if !work {
            return ptr::null_mut();
        }
        (*s).lock.lock();
        let pp = pidleget();
        (*s).lock.unlock();
        pp
    }
}

/// steal_work attempts to steal a runnable goroutine from any P. Runs on g0 of a
/// spinning M that owns pp.
unsafe fn steal_work(pp: *mut P) -> Option<*mut G> {
    // SAFETY: runqsteal only CASes other Ps' heads; pp is ours.
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
                if steal_runnext
                    && crate::runtime::time::run_timers(p2, crate::runtime::vdso_linux::nanotime())
                {
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
/// (schedtick is not advanced). Runs on g0; never returns.
unsafe fn execute(gp: *mut G, inherit: bool) -> ! {
    // SAFETY: on g0; gp is runnable and was just taken off a queue, so it is ours.
    unsafe {
        let mp = getm();
        if (*gp).stack.lo == 0 {
            stack_attach((*mp).p, gp);
        }
        (*mp).curg = gp;
        (*gp).m = mp;
        (*gp).atomicstatus.store(GRUNNING, Relaxed);
        if !inherit {
            (*(*mp).p).schedtick = (*(*mp).p).schedtick.wrapping_add(1);
        }
        gort_gogo(&(*gp).sched)
    }
}

/// dropg removes the association between the M and its current goroutine.
/// Runs on g0.
fn dropg() {
    let mp = getm();
    // SAFETY: on g0 of mp; curg is owner-only.
    unsafe {
        let gp = (*mp).curg;
        if !gp.is_null() {
            (*gp).m = ptr::null_mut();
        }
        (*mp).curg = ptr::null_mut();
    }
}

/// gopark puts the current goroutine into a waiting state and calls unlockf(gp,
/// lock) on g0, after the goroutine is off its stack. If unlockf returns false, the
/// goroutine is resumed at once. Whoever makes the goroutine runnable again calls
/// goready. Must be called on a user goroutine.
///
/// # Safety
/// unlockf must be safe to call with lock on g0 (it must not park or allocate
/// heavily); the caller must arrange for a later goready (or accept sleeping forever).
pub(crate) unsafe fn gopark(
    unlockf: Option<unsafe fn(*mut G, *mut u8) -> bool>,
    lock: *mut u8,
    reason: &'static str,
) {
    let mp = getm();
    // SAFETY: waitlock/waitunlockf are owner-only M state, read by park_m on this M.
    unsafe {
        let gp = (*mp).curg;
        let status = (*gp).atomicstatus.load(Relaxed);
        if status != GRUNNING {
            throw("gopark: bad g status");
        }
        (*mp).waitlock = lock;
        (*mp).waitunlockf = unlockf;
        (*gp).waitreason = reason;
    }
    mcall(park_m);
}

/// Unlock function for goparkunlock: releases a runtime Mutex.
unsafe fn parkunlock_c(_gp: *mut G, lock: *mut u8) -> bool {
    // SAFETY: lock is the Mutex the parking goroutine held (goparkunlock's contract).
    unsafe { (*(lock as *const crate::runtime::lock_futex::Mutex)).unlock() };
    true
}

/// goparkunlock parks the goroutine and releases lock once it is off its stack.
///
/// # Safety
/// The caller holds lock; someone will goready the goroutine later.
pub(crate) unsafe fn goparkunlock(lock: &crate::runtime::lock_futex::Mutex, reason: &'static str) {
    // SAFETY: forwarded contract.
    unsafe { gopark(Some(parkunlock_c), lock as *const _ as *mut u8, reason) }
}

/// park continuation on g0.
extern "C" fn park_m(gp: *mut G) -> ! {
    let mp = getm();
    // SAFETY: on g0; gp was this M's curg and is now off its stack.
    unsafe {
        (*gp).atomicstatus.store(GWAITING, Release);
        dropg();
        if let Some(f) = (*mp).waitunlockf.take() {
            let lock = core::mem::replace(&mut (*mp).waitlock, ptr::null_mut());
            if !f(gp, lock) {
                (*gp).atomicstatus.store(GRUNNABLE, Relaxed);
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
    // SAFETY: forwarded contract; the current M holds a P.
    unsafe { ready(gp, true) }
}

unsafe fn ready(gp: *mut G, next: bool) {
    // SAFETY: gp is parked and ours to ready; the current M's P is its own.
    unsafe {
        // Mark runnable. The CAS also orders: what the waker wrote before (param)
        // is visible to whoever runs gp.
        if (*gp)
            .atomicstatus
            .compare_exchange(GWAITING, GRUNNABLE, AcqRel, Relaxed)
            .is_err()
        {
            crate::eprintln!(
                "runtime: goroutine {} has status {}",
                (*gp).goid,
                gstatus_name((*gp).atomicstatus.load(Relaxed))
            );
            throw("bad g->status in ready");
        }
        let pp = (*getm()).p;
        runqput(&*pp, gp, next);
    }
    wakep();
}

/// gosched yields the processor, allowing other goroutines to run. The current
/// goroutine goes to the global queue, as in Go.
pub(crate) fn gosched() {
    mcall(gosched_m);
}

extern "C" fn gosched_m(gp: *mut G) -> ! {
    let s = sched();
    // SAFETY: on g0; gp was this M's curg and is off its stack.
    unsafe {
        (*gp).atomicstatus.store(GRUNNABLE, Release);
        dropg();
        (*s).lock.lock();
        globrunqput(gp);
        (*s).lock.unlock();
    }
    schedule()
}

/// goyield is like gosched, but puts the goroutine on the current P's local run
/// queue instead of the global one (used after a direct handoff).
pub(crate) fn goyield() {
    mcall(goyield_m);
}

extern "C" fn goyield_m(gp: *mut G) -> ! {
    // SAFETY: on g0; gp was this M's curg and is off its stack; the P is ours.
    unsafe {
        let pp = (*getm()).p;
        (*gp).atomicstatus.store(GRUNNABLE, Release);
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
    // SAFETY: gp is the running goroutine; the P is released on g0 and given away.
    unsafe {
        (*gp).atomicstatus.store(GSYSCALL, Release);
    }
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
    // SAFETY: this M has no P; pidle is under sched.lock.
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
            (*gp).atomicstatus.store(GRUNNING, Release);
            return;
        }
    }
    mcall(exitsyscall0);
}

/// exitsyscall slow path, on g0: no idle P, so queue gp globally and stop the M.
extern "C" fn exitsyscall0(gp: *mut G) -> ! {
    let s = sched();
    // SAFETY: on g0; gp is off its stack; the global queue is under sched.lock.
    unsafe {
        (*gp).atomicstatus.store(GRUNNABLE, Release);
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
        (*gp).atomicstatus.store(GDEAD, Relaxed);
        (*gp).waitreason = "";
        dropg();
        if gp == main_g() {
            // runtime.main returned: the program is done (Go's exit(0)).
            crate::runtime::sys_linux::exit_group(0);
        }
        stack_detach((*mp).p, gp);
        gfput((*mp).p, gp);
    }
    schedule()
}

/// Called from mcall when it is used on g0.
pub(crate) extern "C" fn badmcall() -> ! {
    throw("runtime: mcall called on m->g0 stack")
}

/// start_sysmon starts the monitor thread: an M without a P, not counted by
/// checkdead, that prints the scheduler trace (GODEBUG=schedtrace). Runs on a
/// goroutine.
pub(crate) fn start_sysmon() {
    newm(Some(sysmon), ptr::null_mut(), -1);
}

fn sysmon() {
    let s = sched();
    // SAFETY: nmsys under sched.lock.
    unsafe {
        (*s).lock.lock();
        (*s).nmsys += 1;
        checkdead();
        (*s).lock.unlock();
    }
    crate::runtime::debug::sysmon_loop()
}

/// stop_the_world stops all Ps from running goroutines: on return, only the calling
/// goroutine runs, and it keeps its P (in PGCSTOP). Runs on a goroutine.
pub(crate) fn stop_the_world() {
    systemstack(|| {
        let s = sched();
        let mp = getm();
        // SAFETY: sched.lock protects stopwait/pidle; gcwaiting makes every other M
        // give up its P in gcstopm.
        unsafe {
            (*s).lock.lock();
            (*s).stopwait = gomaxprocs() as i32;
            (*s).gcwaiting.store(true, Release);
            // stop current P
            (*(*mp).p).status.store(PGCSTOP, Relaxed);
            (*s).stopwait -= 1;
            // stop idle Ps
            loop {
                let pp = pidleget();
                if pp.is_null() {
                    break;
                }
                (*pp).status.store(PGCSTOP, Relaxed);
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
            if (*s).stopwait != 0 {
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
    systemstack(|| {
        let s = sched();
        // SAFETY: the world is stopped and we hold sched.lock for procresize; each P
        // in the returned list is ours to hand to an M.
        unsafe {
            (*s).lock.lock();
            let n = if procs > 0 {
                procs
            } else {
                gomaxprocs() as i32
            };
            let mut p1 = procresize(n);
            (*s).gcwaiting.store(false, Release);
            (*s).lock.unlock();
            while !p1.is_null() {
                let pp = p1;
                p1 = (*pp).link;
                if !(*pp).m.is_null() {
                    let mp = (*pp).m;
                    (*pp).m = ptr::null_mut();
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
        (*pp).status.store(PGCSTOP, Relaxed);
        (*s).stopwait -= 1;
        if (*s).stopwait == 0 {
            (*s).stopnote.wakeup();
        }
        (*s).lock.unlock();
    }
    stopm();
}

/// gomaxprocs(n): set the number of Ps to n (if n > 0) and return the previous
/// value. Stops the world to resize.
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
/// running M's; if 0, the program is deadlocked. sched.lock must be held.
unsafe fn checkdead() {
    let s = sched();
    // SAFETY: the caller holds sched.lock; G statuses are atomic.
    unsafe {
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
            match (*gp).atomicstatus.load(Acquire) {
                GWAITING => grunning += 1,
                GRUNNABLE | GRUNNING | GSYSCALL => {
                    crate::eprintln!(
                        "runtime: checkdead: find g {} in status {}",
                        (*gp).goid,
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
        fatal_with_goroutines("all goroutines are asleep - deadlock!");
    }
}

/// Print "fatal error: msg", then each goroutine that exists, as Go's traceback
/// headers ("goroutine N [reason]:"), and exit 2.
pub(crate) fn fatal_with_goroutines(msg: &str) -> ! {
    use core::fmt::Write;
    let mut w = crate::runtime::print::FdWriter::new(2);
    let _ = writeln!(w, "fatal error: {msg}");
    for gp in allgs_in_creation_order() {
        // SAFETY: Gs are never freed; fields read are informational.
        unsafe {
            let st = (*gp).atomicstatus.load(Relaxed);
            if st == GDEAD || st == GIDLE {
                continue;
            }
            let wr = (*gp).waitreason;
            let reason = if st == GWAITING && !wr.is_empty() {
                wr
            } else {
                gstatus_name(st)
            };
            let _ = writeln!(w, "\ngoroutine {} [{}]:", (*gp).goid, reason);
        }
    }
    w.flush();
    crate::runtime::sys_linux::exit_group(2)
}

/// allgs in the order the Gs were made (Go's allgs order; the list is newest first).
pub(crate) fn allgs_in_creation_order() -> impl Iterator<Item = *mut G> {
    let v: alloc::vec::Vec<*mut G> = allgs().collect();
    v.into_iter().rev()
}

/// randomOrder/randomEnum: an enumeration of all Ps in a pseudo-random order that
/// visits each exactly once, from a start point and a stride coprime to count.
pub(crate) struct RandomOrder {
    count: u32,
    ncoprimes: usize,
    coprimes: [u32; MAX_GOMAXPROCS],
}

pub(crate) struct RandomEnum {
    i: u32,
    count: u32,
    pos: u32,
    inc: u32,
}

impl RandomOrder {
    pub(crate) const fn new() -> RandomOrder {
        RandomOrder {
            count: 0,
            ncoprimes: 0,
            coprimes: [0; MAX_GOMAXPROCS],
        }
    }

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

    pub(crate) fn count(&self) -> u32 {
        self.count
    }

    pub(crate) fn start(&self, i: u32) -> RandomEnum {
        RandomEnum {
            i: 0,
            count: self.count,
            pos: i % self.count,
            inc: self.coprimes[(i / self.count) as usize % self.ncoprimes],
        }
    }
}

impl Default for RandomOrder {
    fn default() -> Self {
        RandomOrder::new()
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
}
