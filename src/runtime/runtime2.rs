//! The runtime's core structures, after Go's runtime2.go: G (a goroutine), M (an OS
//! thread), P (a processor: the right to run Go code, with its local run queue) and
//! Schedt (the scheduler's global state).
//!
//! Every field says who may touch it. "Owner" means the M that holds the P (or runs
//! the G); "sched.lock" means the field is protected by that lock; atomics say what
//! their orderings pair with where they are used.
//!
//! Assembly reaches these structures only through the `OFF_*` constants below, which
//! come from `offset_of!`: the layout is `repr(C)` and never written by hand twice.

use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicPtr, AtomicU32, AtomicU64};

use crate::runtime::lock_futex::{Mutex, Note};

/// A goroutine's stack bounds: [lo, hi).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Stack {
    pub(crate) lo: usize,
    pub(crate) hi: usize,
}

/// A saved execution context. Go's gobuf needs only sp, pc and bp because Go code has
/// no callee-saved registers; Rust code follows the SysV ABI, so a switch must also
/// keep rbx, r12-r15 and the MXCSR/x87 control words that the ABI says survive a call.
///
/// Written by mcall/gosave on the goroutine's own thread, read by gogo; a gobuf is
/// only ever touched by the M that owns its G at that moment.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct Gobuf {
    pub(crate) sp: usize,
    pub(crate) pc: usize,
    /// The G this context belongs to: gogo installs it as the thread's g.
    pub(crate) g: *mut G,
    /// Argument for the first entry of a fresh goroutine (loaded into rdi by gogo).
    pub(crate) ctxt: usize,
    pub(crate) bp: usize,
    pub(crate) rbx: usize,
    pub(crate) r12: usize,
    pub(crate) r13: usize,
    pub(crate) r14: usize,
    pub(crate) r15: usize,
    /// MXCSR in the low 32 bits, x87 control word in the next 16 (stmxcsr/fnstcw).
    pub(crate) fpcsr: u64,
}

impl Gobuf {
    pub(crate) const fn new() -> Gobuf {
        Gobuf {
            sp: 0,
            pc: 0,
            g: ptr::null_mut(),
            ctxt: 0,
            bp: 0,
            rbx: 0,
            r12: 0,
            r13: 0,
            r14: 0,
            r15: 0,
            // The SysV defaults: all exceptions masked, round to nearest (0x1f80),
            // x87 extended precision with exceptions masked (0x037f).
            fpcsr: 0x1f80 | (0x037f << 32),
        }
    }
}

impl Default for Gobuf {
    fn default() -> Self {
        Gobuf::new()
    }
}

// G status, as Go's _Gidle.._Gdead.
pub(crate) const GIDLE: u32 = 0;
pub(crate) const GRUNNABLE: u32 = 1;
pub(crate) const GRUNNING: u32 = 2;
pub(crate) const GSYSCALL: u32 = 3;
pub(crate) const GWAITING: u32 = 4;
pub(crate) const GDEAD: u32 = 6;

/// The name Go prints for a G status in tracebacks and scheddetail.
pub(crate) fn gstatus_name(s: u32) -> &'static str {
    match s {
        GIDLE => "idle",
        GRUNNABLE => "runnable",
        GRUNNING => "running",
        GSYSCALL => "syscall",
        GWAITING => "waiting",
        GDEAD => "dead",
        _ => "unknown",
    }
}

/// A goroutine.
#[repr(C)]
pub(crate) struct G {
    /// Stack bounds. Set when the G is created or given a stack; read by anyone.
    pub(crate) stack: Stack,
    /// Lowest usable stack address (stack.lo plus the guard allowance). Owner only.
    pub(crate) stackguard0: usize,
    pub(crate) stackguard1: usize,
    /// The M running this G, or null. Owner only.
    pub(crate) m: *mut M,
    /// Saved context while not running. Owner only (see Gobuf).
    pub(crate) sched: Gobuf,
    /// One of GIDLE..GDEAD. Atomic: read by checkdead/schedtrace without locks.
    pub(crate) atomicstatus: AtomicU32,
    /// Goroutine id, unique for the process, from sched.goidgen. Immutable while alive.
    pub(crate) goid: u64,
    /// Link in a run queue or free list: owned by whoever owns that list.
    pub(crate) schedlink: *mut G,
    /// Next G on the allgs list. Written once before publication.
    pub(crate) alllink: *mut G,
    /// Why the G is waiting (Go's waitReason text), while GWAITING. Owner only.
    pub(crate) waitreason: &'static str,
    /// Wake-up word for whoever readies the G (sema ticket, chan success). Set by the
    /// waker before goready, read by the G after it resumes.
    pub(crate) param: usize,
    /// The G's entry closure type name, for tracebacks. Set by newproc1.
    pub(crate) startfn: &'static str,
    /// Stack size this G gets when it first runs (its stack is attached lazily, in
    /// execute, and given back when it exits). Set by newproc1.
    pub(crate) stacksize: usize,
    /// Set (0 -> 1) by the first waker of a goroutine blocked in select; the others
    /// skip its sudogs. Reset by the goroutine itself after it wakes.
    pub(crate) selectdone: AtomicU32,
    /// The entry closure of a G that has not started yet (moved onto its stack by
    /// gostart). Written by newproc1, read once by gostart.
    pub(crate) fnbuf: FnBuf,
}

/// Inline room for a goroutine's closure: spawning needs no allocation for closures
/// up to this size (larger ones are boxed).
#[repr(C, align(16))]
pub(crate) struct FnBuf(pub [core::mem::MaybeUninit<u8>; FNBUF_SIZE]);

pub(crate) const FNBUF_SIZE: usize = 96;

impl G {
    pub(crate) const fn new() -> G {
        G {
            stack: Stack { lo: 0, hi: 0 },
            stackguard0: 0,
            stackguard1: 0,
            m: ptr::null_mut(),
            sched: Gobuf::new(),
            atomicstatus: AtomicU32::new(GIDLE),
            goid: 0,
            schedlink: ptr::null_mut(),
            alllink: ptr::null_mut(),
            waitreason: "",
            param: 0,
            startfn: "",
            stacksize: 0,
            selectdone: AtomicU32::new(0),
            fnbuf: FnBuf([core::mem::MaybeUninit::uninit(); FNBUF_SIZE]),
        }
    }
}

/// An OS thread.
#[repr(C)]
pub(crate) struct M {
    /// Thread-local storage: FS points at tls[1], so -8(FS) is tls[0], the current g
    /// (the ELF TLS convention Go uses). Must stay the first field.
    pub(crate) tls: [usize; 6],
    /// The goroutine with the scheduling stack. Immutable after creation.
    pub(crate) g0: *mut G,
    /// The user goroutine currently running on this M, or null. Owner only.
    pub(crate) curg: *mut G,
    /// The P this M holds, or null. Owner only (plus sched.lock during stop-the-world).
    pub(crate) p: *mut P,
    /// P to acquire when this M is woken from stopm. Written by the waker under
    /// sched.lock before notewakeup.
    pub(crate) nextp: *mut P,
    /// Thread id from mReserveID. Immutable after mcommoninit.
    pub(crate) id: i64,
    /// Looking for work without a G to run. Owner writes; sched.nmspinning counts.
    pub(crate) spinning: AtomicBool,
    /// Where this M sleeps in stopm.
    pub(crate) park: Note,
    /// Next M on the allm list. Written once, under sched.lock, before publication.
    pub(crate) alllink: *mut M,
    /// Next M on sched.midle. Protected by sched.lock.
    pub(crate) schedlink: *mut M,
    /// fastrand state (wyrand). Owner only.
    pub(crate) fastrand: u64,
    /// Function run by mstart before schedule (mspinning for spinning Ms). Set by
    /// newm before the thread starts.
    pub(crate) mstartfn: Option<fn()>,
    /// gopark's unlock function and its argument, run on g0 by park_m after the G is
    /// off its stack. Owner only.
    pub(crate) waitunlockf: Option<unsafe fn(*mut G, *mut u8) -> bool>,
    pub(crate) waitlock: *mut u8,
    /// Kernel thread id. Written by the thread itself in minit.
    pub(crate) procid: AtomicI64,
    /// The signal mask to restore in minit (Go's sigmask). Set by newm.
    pub(crate) sigmask: u64,
    /// Number of signals/syscalls in flight that forbid preemption; unused for now.
    pub(crate) locks: i32,
}

impl M {
    pub(crate) const fn new() -> M {
        M {
            tls: [0; 6],
            g0: ptr::null_mut(),
            curg: ptr::null_mut(),
            p: ptr::null_mut(),
            nextp: ptr::null_mut(),
            id: -1,
            spinning: AtomicBool::new(false),
            park: Note::new(),
            alllink: ptr::null_mut(),
            schedlink: ptr::null_mut(),
            fastrand: 0,
            mstartfn: None,
            waitunlockf: None,
            waitlock: ptr::null_mut(),
            procid: AtomicI64::new(0),
            sigmask: 0,
            locks: 0,
        }
    }
}

// P status, as Go's _Pidle.._Pdead.
pub(crate) const PIDLE: u32 = 0;
pub(crate) const PRUNNING: u32 = 1;
pub(crate) const PSYSCALL: u32 = 2;
pub(crate) const PGCSTOP: u32 = 3;
pub(crate) const PDEAD: u32 = 4;

/// The name of a P status, for tracebacks and introspection.
pub(crate) fn pstatus_name(s: u32) -> &'static str {
    match s {
        PIDLE => "idle",
        PRUNNING => "running",
        PSYSCALL => "syscall",
        PGCSTOP => "gcstop",
        PDEAD => "dead",
        _ => "unknown",
    }
}

/// Size of a P's local run queue ring (Go: 256).
pub(crate) const RUNQ_SIZE: usize = 256;

/// A processor: the resource an M must hold to run goroutines.
#[repr(C)]
pub(crate) struct P {
    /// Index in allp. Immutable.
    pub(crate) id: i32,
    /// One of PIDLE..PDEAD. Atomic: read without locks by schedtrace and stealers.
    pub(crate) status: AtomicU32,
    /// Next P on sched.pidle. Protected by sched.lock.
    pub(crate) link: *mut P,
    /// Incremented on every scheduler call. Owner only.
    pub(crate) schedtick: u32,
    /// The M holding this P, or null. Owner (and sched.lock during procresize).
    pub(crate) m: *mut M,
    /// Local run queue, a lock-free ring: see runq.rs for the protocol.
    /// runqhead is advanced by the owner and by stealers (CAS); runqtail only by the owner.
    pub(crate) runqhead: AtomicU32,
    pub(crate) runqtail: AtomicU32,
    pub(crate) runq: [AtomicPtr<G>; RUNQ_SIZE],
    /// A G to run next, ahead of the queue (the G readied by the running one).
    /// Owner writes; stealers may CAS it to null when taking it.
    pub(crate) runnext: AtomicPtr<G>,
    /// Free dead Gs (with stacks) for reuse by newproc. Owner only; the count is
    /// atomic only so that num_goroutine may read it from elsewhere.
    pub(crate) gfree: *mut G,
    pub(crate) gfreecnt: AtomicI32,
    /// Timers of this P (time.rs), under their own lock: any M may add to or run
    /// them.
    pub(crate) timers: crate::runtime::time::Timers,
    /// Fresh Gs carved from the P's current slab (proc.rs galloc): gslab_n of them
    /// left from gslab on. Owner only.
    pub(crate) gslab: *mut G,
    pub(crate) gslab_n: u32,
    /// Free default-size goroutine stacks (stack.rs), linked through the word at
    /// each stack's top. Owner only.
    pub(crate) stackcache: usize,
    pub(crate) stackcachecnt: u32,
}

impl P {
    pub(crate) fn new(id: i32) -> P {
        P {
            id,
            status: AtomicU32::new(PGCSTOP),
            link: ptr::null_mut(),
            schedtick: 0,
            m: ptr::null_mut(),
            runqhead: AtomicU32::new(0),
            runqtail: AtomicU32::new(0),
            runq: [const { AtomicPtr::new(ptr::null_mut()) }; RUNQ_SIZE],
            runnext: AtomicPtr::new(ptr::null_mut()),
            gfree: ptr::null_mut(),
            gfreecnt: AtomicI32::new(0),
            timers: crate::runtime::time::Timers::new(),
            gslab: ptr::null_mut(),
            gslab_n: 0,
            stackcache: 0,
            stackcachecnt: 0,
        }
    }
}

/// The scheduler's global state: one instance, `SCHED`.
pub(crate) struct Schedt {
    /// Protects the fields marked "sched.lock" here and in M and P.
    pub(crate) lock: Mutex,
    /// Next goroutine id. Atomic, no lock.
    pub(crate) goidgen: AtomicU64,
    /// Idle Ms waiting for work. sched.lock.
    pub(crate) midle: *mut M,
    pub(crate) nmidle: i32,
    /// Idle Ms locked to a G (always 0: LockOSThread does not exist yet). sched.lock.
    pub(crate) nmidlelocked: i32,
    /// Next M id to hand out (mReserveID); also the number of Ms made. sched.lock.
    pub(crate) mnext: i64,
    /// Ms that are not counted for deadlock detection (none yet). sched.lock.
    pub(crate) nmsys: i32,
    /// Maximum number of Ms allowed (Go: 10000). sched.lock.
    pub(crate) maxmcount: i32,
    /// Idle Ps. sched.lock; npidle is also read atomically without it.
    pub(crate) pidle: *mut P,
    pub(crate) npidle: AtomicI32,
    /// Number of spinning Ms. Atomic.
    pub(crate) nmspinning: AtomicU32,
    /// Global run queue. sched.lock.
    pub(crate) runqhead: *mut G,
    pub(crate) runqtail: *mut G,
    pub(crate) runqsize: i32,
    /// Global free G list, under its own lock (Go's sched.gFree.lock) so that
    /// spawning and exiting goroutines do not contend with the run queue's lock.
    /// Lock order: sched.lock before gfree_lock. ngfree is atomic for num_goroutine.
    pub(crate) gfree_lock: Mutex,
    pub(crate) gfree: *mut G,
    pub(crate) ngfree: AtomicI32,
    /// Stop-the-world: set while the world is (being) stopped; Ms that see it give
    /// up their P in gcstopm. stopwait counts Ps still to stop (sched.lock), and the
    /// stopper sleeps on stopnote until it reaches 0.
    pub(crate) gcwaiting: AtomicBool,
    pub(crate) stopwait: i32,
    pub(crate) stopnote: Note,
}

// SAFETY: every raw-pointer field of Schedt is protected by `lock` (or is atomic),
// as each field's comment says; the struct itself is only reached through SCHED.
unsafe impl Sync for Schedt {}

impl Schedt {
    pub(crate) const fn new() -> Schedt {
        Schedt {
            lock: Mutex::new(),
            goidgen: AtomicU64::new(0),
            midle: ptr::null_mut(),
            nmidle: 0,
            nmidlelocked: 0,
            mnext: 0,
            nmsys: 0,
            maxmcount: 0,
            pidle: ptr::null_mut(),
            npidle: AtomicI32::new(0),
            nmspinning: AtomicU32::new(0),
            runqhead: ptr::null_mut(),
            runqtail: ptr::null_mut(),
            runqsize: 0,
            gfree_lock: Mutex::new(),
            gfree: ptr::null_mut(),
            ngfree: AtomicI32::new(0),
            gcwaiting: AtomicBool::new(false),
            stopwait: 0,
            stopnote: Note::new(),
        }
    }
}

/// Upper bound on GOMAXPROCS (Go's _MaxGomaxprocs).
pub(crate) const MAX_GOMAXPROCS: usize = 1024;
