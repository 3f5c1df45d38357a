//! The scheduler, after Go's proc.go: boot-time setup (schedinit, mcommoninit,
//! procresize), goroutine creation (newproc), and the scheduling loop (mstart,
//! schedule, execute, goexit).
//!
//! # Structures and stacks
//!
//! The G, M and P of runtime2.rs. A goroutine runs on its own stack; the scheduler
//! runs on its M's g0 stack (for m0, a 64 KiB slice of the OS stack carved out by
//! rt0_go). Switching is in rt0/asm_amd64.s: `mcall(fn)` saves the goroutine's
//! context and calls fn on g0; `gogo(&g.sched)` restores a goroutine. The current G
//! is always -8(FS) (`getg`), never cached across anything that may switch.
//!
//! # Boot
//!
//! rt0_go calls `args`, `osinit`, `schedinit`, then `newproc_main` (goroutine 1,
//! running runtime `main`, goes to p0's runnext) and `mstart`, which enters
//! `schedule` on g0 and never returns. The user's main runs as goroutine 1; when it
//! returns, goroutine 1 leaves through goexit like every goroutine, and `goexit0`
//! ends the process with status 0 (Go's runtime.main calls exit(0) at that point).

use core::mem::{align_of, size_of};
use core::ptr;
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicUsize};

use crate::runq::{runqempty, runqget, runqput};
use crate::runtime1::throw;
use crate::runtime2::*;

/// m0 and g0: the first thread and its scheduling goroutine, set up by rt0_go.
/// Reached only through raw pointers (`m0()`, `g0()`): they are shared with assembly.
pub static mut M0: M = M::new();
pub static mut G0: G = G::new();
/// The scheduler. Reached through `sched()`; fields are protected as Schedt says.
static mut SCHED: Schedt = Schedt::new();

/// allp: all Ps, indexed by id; `ALLP_LEN` of them are live (= gomaxprocs).
/// Written only by procresize (on one M, with the world stopped); read by anyone.
static ALLP: [AtomicPtr<P>; MAX_GOMAXPROCS] =
    [const { AtomicPtr::new(ptr::null_mut()) }; MAX_GOMAXPROCS];
static ALLP_LEN: AtomicUsize = AtomicUsize::new(0);
/// Head of the allm list (linked through M.alllink). Prepended under sched.lock,
/// published with Release so lock-free readers see a complete M.
static ALLM: AtomicPtr<M> = AtomicPtr::new(ptr::null_mut());
static GOMAXPROCS: AtomicI32 = AtomicI32::new(0);
/// Set by runtime main once the user's main is about to run (Go's mainStarted).
static MAIN_STARTED: AtomicBool = AtomicBool::new(false);
/// Goroutine 1. Written once by newproc_main on m0 during boot.
static MAIN_G: AtomicPtr<G> = AtomicPtr::new(ptr::null_mut());
/// stealOrder: the order in which an M looks at other Ps for work.
/// Written by procresize with the world stopped.
static mut STEAL_ORDER: RandomOrder = RandomOrder::new();

/// Size of the stack given to new goroutines.
pub static STACK_SIZE: AtomicUsize = AtomicUsize::new(crate::stack::DEFAULT_STACK_SIZE);
/// Bytes below stackguard0 that runtime code may still use (Go's _StackGuard).
const STACK_GUARD: usize = 928;
/// Dead Gs a P keeps before spilling half to the global list (Go: 64).
const GFREE_LOCAL_MAX: i32 = 64;
/// Closures larger than this are boxed instead of copied onto the new stack.
const MAX_INLINE_CLOSURE: usize = 1024;

pub fn m0() -> *mut M {
    &raw mut M0
}

pub fn g0() -> *mut G {
    &raw mut G0
}

pub fn sched() -> *mut Schedt {
    &raw mut SCHED
}

// The switching primitives of rt0/asm_amd64.s.
extern "C" {
    fn gort_gogo(buf: *const Gobuf) -> !;
    fn gort_mcall(f: extern "C" fn(*mut G) -> !);
    fn gort_goexit();
}

/// getg: the current goroutine, read from -8(FS) afresh on every call (the asm is not
/// `pure`, so the compiler cannot reuse an earlier read across a switch of Ms).
#[inline(always)]
pub fn getg() -> *mut G {
    let g: *mut G;
    // SAFETY: after rt0_go's settls, FS points at the current M's tls[1] on every
    // thread the runtime runs, so -8(FS) is tls[0], the current g.
    unsafe {
        core::arch::asm!("mov {}, qword ptr fs:[-8]", out(reg) g, options(nostack, preserves_flags, readonly));
    }
    g
}

/// mcall switches from the current goroutine to g0 and calls f(g) there; f must not
/// return. The goroutine continues after mcall when something gogo's to it.
/// Must be called on a user goroutine, never on g0.
#[inline]
pub fn mcall(f: extern "C" fn(*mut G) -> !) {
    // SAFETY: gort_mcall saves the callee-saved context of this call site in
    // g.sched, so when gogo resumes it, this call returns normally.
    unsafe { gort_mcall(f) }
}

/// The number of Ps.
pub fn gomaxprocs() -> usize {
    GOMAXPROCS.load(Relaxed) as usize
}

/// The P with index i < ALLP_LEN.
pub fn allp(i: usize) -> *mut P {
    ALLP[i].load(Acquire)
}

pub fn allp_len() -> usize {
    ALLP_LEN.load(Acquire)
}

/// Iterate the allm list.
pub fn allm() -> impl Iterator<Item = *mut M> {
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

pub fn main_g() -> *mut G {
    MAIN_G.load(Acquire)
}

/// schedinit: the scheduler's boot-time setup. Runs on g0 of m0, once, from rt0_go.
///
/// The bootstrap sequence is:
///   call osinit
///   call schedinit
///   make & queue new G
///   call runtime·mstart
/// The new G calls runtime·main.
pub extern "C" fn schedinit() {
    let gp = getg();
    // SAFETY: single-threaded boot on m0; gp is g0, whose m rt0_go set to m0.
    unsafe {
        let s = sched();
        (*s).maxmcount = 10000;
        crate::HEAP.init(); // mallocinit
        mcommoninit((*gp).m, -1);
        let procs = crate::runtime1::gomaxprocs_from_env(
            crate::runtime1::getenv(b"GOMAXPROCS"),
            crate::os_linux::ncpu(),
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
/// seed its fastrand, and link it on allm. Runs on g0.
///
/// # Safety
/// mp is a valid M not yet on allm.
pub unsafe fn mcommoninit(mp: *mut M, id: i64) {
    let s = sched();
    // SAFETY: sched.lock guards mnext, maxmcount and the allm prepend; mp is ours
    // until it is published on allm.
    unsafe {
        (*s).lock.lock();
        (*mp).id = if id >= 0 { id } else { m_reserve_id() };
        let seed = crate::os_linux::STARTUP_RANDOM.load(Relaxed);
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

/// mReserveID returns the next ID to use for a new M. sched.lock must be held.
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

/// checkmcount: die if the program has made more than sched.maxmcount threads.
/// sched.lock must be held.
unsafe fn checkmcount() {
    let s = sched();
    // SAFETY: the caller holds sched.lock.
    unsafe {
        if (*s).mnext > (*s).maxmcount as i64 {
            crate::eprintln!("runtime: program exceeds {}-thread limit", (*s).maxmcount);
            throw("thread exhaustion");
        }
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
        // SAFETY: the world is stopped: nobody else touches a new P.
        unsafe { (*pp).status.store(PGCSTOP, Relaxed) };
    }
    let mp = unsafe { (*getg()).m };
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
        if nprocs < old {
            throw("procresize: shrinking needs the multi-M scheduler");
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

/// acquirep associates pp with the current M. Runs on g0 or with the M locked.
///
/// # Safety
/// pp is idle and owned by nobody.
pub unsafe fn acquirep(pp: *mut P) {
    // SAFETY: forwarded.
    unsafe { wirep(pp) };
}

/// wirep is the first step of acquirep, which actually associates the current M to
/// pp.
unsafe fn wirep(pp: *mut P) {
    let mp = unsafe { (*getg()).m };
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

/// globrunqputbatch puts a linked batch of n Gs on the global runnable queue.
/// Takes sched.lock.
///
/// # Safety
/// head..tail is a schedlink-linked list of n runnable Gs owned by the caller.
pub unsafe fn globrunqputbatch(head: *mut G, tail: *mut G, n: i32) {
    let s = sched();
    // SAFETY: sched.lock protects the global queue; the batch is the caller's.
    unsafe {
        (*s).lock.lock();
        (*tail).schedlink = ptr::null_mut();
        if (*s).runqtail.is_null() {
            (*s).runqhead = head;
        } else {
            (*(*s).runqtail).schedlink = head;
        }
        (*s).runqtail = tail;
        (*s).runqsize += n;
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

#[cfg(test)]
pub fn globrunq_drain_for_test() -> alloc::vec::Vec<*mut G> {
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

/// malg allocates a new G with a stack of `stacksize` bytes. Runs on any g.
fn malg(stacksize: usize) -> *mut G {
    let mut g = alloc::boxed::Box::new(G::new());
    g.stack = crate::stack::stackalloc(stacksize);
    g.stackguard0 = g.stack.lo + STACK_GUARD;
    g.stackguard1 = usize::MAX; // only g0 and signal stacks may run C-like code
    g.atomicstatus.store(GDEAD, Relaxed);
    alloc::boxed::Box::into_raw(g)
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
        (*pp).gfreecnt += 1;
        if (*pp).gfreecnt >= GFREE_LOCAL_MAX {
            let s = sched();
            (*s).lock.lock();
            while (*pp).gfreecnt >= GFREE_LOCAL_MAX / 2 {
                let g = (*pp).gfree;
                (*pp).gfree = (*g).schedlink;
                (*pp).gfreecnt -= 1;
                (*g).schedlink = (*s).gfree;
                (*s).gfree = g;
                (*s).ngfree += 1;
            }
            (*s).lock.unlock();
        }
    }
}

/// gfget takes a dead G from pp's free list, refilling it from the global list when
/// empty. Returns null when there is none. The caller owns pp.
unsafe fn gfget(pp: *mut P) -> *mut G {
    // SAFETY: the caller owns pp; the global list is under sched.lock.
    unsafe {
        if (*pp).gfree.is_null() && !(*sched()).gfree.is_null() {
            let s = sched();
            (*s).lock.lock();
            while (*pp).gfreecnt < GFREE_LOCAL_MAX / 2 && !(*s).gfree.is_null() {
                let g = (*s).gfree;
                (*s).gfree = (*g).schedlink;
                (*s).ngfree -= 1;
                (*g).schedlink = (*pp).gfree;
                (*pp).gfree = g;
                (*pp).gfreecnt += 1;
            }
            (*s).lock.unlock();
        }
        let gp = (*pp).gfree;
        if !gp.is_null() {
            (*pp).gfree = (*gp).schedlink;
            (*pp).gfreecnt -= 1;
        }
        gp
    }
}

/// The first frame of every goroutine: move the closure off the stack top and run it.
/// Returning enters goexit (its return address, placed by newproc1).
///
/// # Safety
/// arg points at an F written by newproc1 and never read before.
unsafe extern "C" fn gostart<F: FnOnce()>(arg: *mut u8) {
    // SAFETY: newproc1 wrote an F there and nobody else reads it.
    let f = unsafe { ptr::read(arg as *mut F) };
    f();
}

/// newproc creates a goroutine running f and puts it on the current P's runnext.
/// Runs on any g whose M holds a P.
pub fn newproc<F: FnOnce() + Send + 'static>(f: F) {
    if size_of::<F>() > MAX_INLINE_CLOSURE {
        let b = alloc::boxed::Box::new(f);
        newproc_inline(b);
    } else {
        newproc_inline(f);
    }
}

fn newproc_inline<F: FnOnce() + Send + 'static>(f: F) {
    // SAFETY: the current M holds a P (every goroutine runs with one; g0 at boot has
    // p0), and newproc1 returns a fresh runnable G that no queue holds yet.
    unsafe {
        let pp = (*(*getg()).m).p;
        let newg = newproc1(f, pp);
        runqput(&*pp, newg, true);
    }
}

/// newproc1 makes a runnable G for f: a G from the free list or a new one, with f
/// copied to the top of its stack and a gobuf that enters gostart::<F>, which returns
/// into goexit. The caller owns pp.
unsafe fn newproc1<F: FnOnce() + Send + 'static>(f: F, pp: *mut P) -> *mut G {
    const { assert!(size_of::<F>() <= MAX_INLINE_CLOSURE + 64) };
    // SAFETY: the caller owns pp; newg is dead or new, so it is ours alone.
    unsafe {
        let mut newg = gfget(pp);
        if newg.is_null() {
            newg = malg(STACK_SIZE.load(Relaxed));
        }
        let hi = (*newg).stack.hi;
        // The closure at the top, aligned; below it, goexit+1 as the return address,
        // so that SP % 16 == 8 at gostart's entry, as after a call.
        let fptr = (hi - size_of::<F>()) & !(align_of::<F>().max(16) - 1);
        ptr::write(fptr as *mut F, f);
        let sp = (fptr & !15) - 8;
        *(sp as *mut usize) = gort_goexit as *const () as usize + 1;
        let g = &mut *newg;
        g.sched = Gobuf::new();
        g.sched.sp = sp;
        g.sched.pc = gostart::<F> as *const () as usize;
        g.sched.g = newg;
        g.sched.ctxt = fptr;
        g.goid = (*sched()).goidgen.fetch_add(1, Relaxed) + 1;
        g.atomicstatus.store(GRUNNABLE, Release);
        newg
    }
}

/// newproc(runtime main): goroutine 1. Called by rt0_go on g0 of m0.
pub extern "C" fn newproc_main() {
    newproc(main);
    // SAFETY: boot is single-threaded; newproc just put goroutine 1 in p0.runnext.
    unsafe {
        let pp = (*(*getg()).m).p;
        MAIN_G.store((*pp).runnext.load(Relaxed), Release);
    }
}

/// runtime main: the body of goroutine 1. Runs the user's main; returning from it
/// leaves through goexit, and goexit0 ends the process.
fn main() {
    // SAFETY: getg() is goroutine 1 and its m is valid while it runs.
    if unsafe { (*getg()).m } != m0() {
        throw("runtime.main not on m0");
    }
    MAIN_STARTED.store(true, Release);
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
pub extern "C" fn mstart0() -> ! {
    minit();
    schedule()
}

/// minit: per-thread setup on the new M's own thread (signal stack and mask come
/// with the signal handling).
fn minit() {}

/// schedule: one round of the scheduler: find a runnable goroutine and run it.
/// Runs on g0; never returns.
pub fn schedule() -> ! {
    // SAFETY: on g0 of an M that holds a P (the single-M runtime never gives it up).
    unsafe {
        let mp = (*getg()).m;
        let pp = (*mp).p;
        if pp.is_null() {
            throw("schedule: no P");
        }
        let s = sched();
        // Check the global runnable queue once in a while to ensure fairness.
        // Otherwise two goroutines can completely occupy the local runqueue by
        // constantly respawning each other.
        if (*pp).schedtick.is_multiple_of(61) && (*s).runqsize > 0 {
            (*s).lock.lock();
            let gp = globrunqget(pp, 1);
            (*s).lock.unlock();
            if !gp.is_null() {
                execute(gp, false);
            }
        }
        if let Some((gp, inherit)) = runqget(&*pp) {
            execute(gp, inherit);
        }
        (*s).lock.lock();
        let gp = globrunqget(pp, 0);
        (*s).lock.unlock();
        if !gp.is_null() {
            execute(gp, false);
        }
        // Nothing is runnable, and with one M nothing else can make work appear.
        checkdead()
    }
}

/// checkdead: every goroutine is blocked and nothing can wake one.
fn checkdead() -> ! {
    throw("all goroutines are asleep - deadlock!")
}

/// execute runs gp on the current M. If inherit, gp inherits the remaining time slice
/// (schedtick is not advanced). Runs on g0; never returns.
unsafe fn execute(gp: *mut G, inherit: bool) -> ! {
    // SAFETY: on g0; gp is runnable and was just taken off a queue, so it is ours.
    unsafe {
        let mp = (*getg()).m;
        (*mp).curg = gp;
        (*gp).m = mp;
        (*gp).atomicstatus.store(GRUNNING, Relaxed);
        if !inherit {
            (*(*mp).p).schedtick = (*(*mp).p).schedtick.wrapping_add(1);
        }
        gort_gogo(&(*gp).sched)
    }
}

/// goexit1: the goroutine's function returned (we came from goexit). Finish it on g0.
pub extern "C" fn goexit1() -> ! {
    mcall(goexit0);
    throw("goexit1: goroutine resumed after exit")
}

/// goexit0: on g0, after the goroutine gp has finished.
extern "C" fn goexit0(gp: *mut G) -> ! {
    // SAFETY: on g0; gp was the current goroutine and has returned, so nothing runs
    // on its stack any more.
    unsafe {
        let mp = (*getg()).m;
        (*gp).atomicstatus.store(GDEAD, Relaxed);
        (*gp).m = ptr::null_mut();
        (*mp).curg = ptr::null_mut();
        if gp == main_g() {
            // runtime.main returned: the program is done (Go's exit(0)).
            crate::sys_linux::exit_group(0);
        }
        gfput((*mp).p, gp);
    }
    schedule()
}

/// Called from mcall when it is used on g0.
pub extern "C" fn badmcall() -> ! {
    throw("runtime: mcall called on m->g0 stack")
}

/// randomOrder/randomEnum: an enumeration of all Ps in a pseudo-random order that
/// visits each exactly once, from a start point and a stride coprime to count.
pub struct RandomOrder {
    count: u32,
    ncoprimes: usize,
    coprimes: [u32; MAX_GOMAXPROCS],
}

pub struct RandomEnum {
    i: u32,
    count: u32,
    pos: u32,
    inc: u32,
}

impl RandomOrder {
    pub const fn new() -> RandomOrder {
        RandomOrder {
            count: 0,
            ncoprimes: 0,
            coprimes: [0; MAX_GOMAXPROCS],
        }
    }

    pub fn reset(&mut self, count: u32) {
        self.count = count;
        self.ncoprimes = 0;
        for i in 1..=count {
            if gcd(i, count) == 1 {
                self.coprimes[self.ncoprimes] = i;
                self.ncoprimes += 1;
            }
        }
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn start(&self, i: u32) -> RandomEnum {
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
pub fn steal_order_count() -> u32 {
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
