//! The runtime's core structures, after Go's runtime2.go: G (a goroutine), M (an OS
//! thread), P (a processor: the right to run Go code, with its local run queue) and
//! Schedt (the scheduler's global state).
//!
//! Every field says who may touch it. "Owner" means the M that holds the P (or runs
//! the G); "sched.lock" means the field is protected by that lock; atomics say what
//! their orderings pair with where they are used.
//!
//! A field another thread reads while its owner may write it is an atomic (usually
//! Relaxed: the value is informational, or ordered by a lock or a queue's own
//! Release/Acquire pair, as the use site says); plain fields are touched only by
//! their owner or under their lock. Status changes go through one function each:
//! `casgstatus` for a G, `P::set_status`/`P::cas_status` for a P (proc.rs).
//!
//! Assembly reaches these structures only through the `OFF_*` constants in
//! asm_amd64.rs, which come from `offset_of!`: the layout is `repr(C)` and never
//! written by hand twice.

use core::ptr;
use core::sync::atomic::Ordering::Relaxed;
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicPtr, AtomicU16, AtomicU32, AtomicU64, AtomicU8,
};

use crate::runtime::lock_futex::{Mutex, Note};
use crate::runtime::lockrank::LockRank;

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
    /// An empty context with the ABI's default control words.
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

// G status, as Go's _Gidle.._Gdead (no _Gscan bits: gort has no GC).
/// Just allocated, not yet initialised.
pub(crate) const GIDLE: u32 = 0;
/// On a run queue, not running.
pub(crate) const GRUNNABLE: u32 = 1;
/// Running on an M that holds a P.
pub(crate) const GRUNNING: u32 = 2;
/// In a system call (entersyscall: `gort::blocking`, writes to stdout/stderr): never
/// preempted; its M keeps its P in PSYSCALL until exitsyscall or until sysmon
/// retakes it. Inside `blocking` the goroutine runs user code in this status.
pub(crate) const GSYSCALL: u32 = 3;
/// Parked (gopark), waiting for whoever will goready it.
pub(crate) const GWAITING: u32 = 4;
/// Exited, on a free list (or an M's g0, which is never scheduled).
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

/// Why a goroutine is parked (Go's waitReason): one byte, so that another thread
/// reading it (schedtrace, a deadlock report) can never see a torn value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum WaitReason {
    /// Not waiting.
    Zero = 0,
    /// A receive on a nil channel.
    ChanReceiveNilChan,
    /// A send on a nil channel.
    ChanSendNilChan,
    /// A select with cases.
    Select,
    /// `select! {}`.
    SelectNoCases,
    /// A channel receive.
    ChanReceive,
    /// A channel send.
    ChanSend,
    /// `time::sleep`.
    Sleep,
    /// `sync::Cond::wait`.
    SyncCondWait,
    /// A semaphore (Mutex, RwLock, WaitGroup, Once).
    Semacquire,
    /// Waiting for a file descriptor (the network poller).
    IoWait,
    /// Main returned while a goroutine was formatting its panic value: its report
    /// ends the process.
    PanicWait,
}

impl WaitReason {
    const ALL: [WaitReason; 12] = [
        WaitReason::Zero,
        WaitReason::ChanReceiveNilChan,
        WaitReason::ChanSendNilChan,
        WaitReason::Select,
        WaitReason::SelectNoCases,
        WaitReason::ChanReceive,
        WaitReason::ChanSend,
        WaitReason::Sleep,
        WaitReason::SyncCondWait,
        WaitReason::Semacquire,
        WaitReason::IoWait,
        WaitReason::PanicWait,
    ];

    /// Go's text for the reason, as tracebacks print it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            WaitReason::Zero => "",
            WaitReason::ChanReceiveNilChan => "chan receive (nil chan)",
            WaitReason::ChanSendNilChan => "chan send (nil chan)",
            WaitReason::Select => "select",
            WaitReason::SelectNoCases => "select (no cases)",
            WaitReason::ChanReceive => "chan receive",
            WaitReason::ChanSend => "chan send",
            WaitReason::Sleep => "sleep",
            WaitReason::SyncCondWait => "sync.Cond.Wait",
            WaitReason::Semacquire => "semacquire",
            WaitReason::IoWait => "IO wait",
            WaitReason::PanicWait => "panicwait",
        }
    }

    /// The reason stored as byte b (Zero for an unknown byte).
    pub(crate) fn from_u8(b: u8) -> WaitReason {
        *WaitReason::ALL.get(b as usize).unwrap_or(&WaitReason::Zero)
    }
}

/// A goroutine.
///
/// The fields a switch touches (mcall, gogo, park, ready, execute) come first and
/// fit in 128 bytes, so a G waking after its lines left the cache costs two or
/// three misses there, not five (10,000 sleepers: every wake-up starts cold).
#[repr(C)]
pub(crate) struct G {
    /// Saved context while not running. Owner only (see Gobuf).
    pub(crate) sched: Gobuf,
    /// Stack bounds: [lo, hi). Set on g0 by the M that attaches the stack (execute)
    /// or takes it back (goexit0); read by the M running the G (fault handler).
    pub(crate) stack: Stack,
    /// The M running this G, or null. Written by that M (execute, dropg); read by
    /// schedtrace from any thread (Relaxed).
    pub(crate) m: AtomicPtr<M>,
    /// When the G was first seen waiting (nanotime), 0 while it runs or until sysmon
    /// stamps it (Go's waitsince, set lazily as Go's GC does): goroutine listings
    /// print ", N minutes" after a wait reason. Cleared by execute; stamped by sysmon
    /// (Relaxed: an approximate age, only printed).
    pub(crate) waitsince: AtomicI64,
    /// One of GIDLE..GDEAD, changed only through casgstatus by the G's current owner;
    /// read by checkdead, schedtrace and wakers.
    pub(crate) atomicstatus: AtomicU32,
    /// Why the G is waiting (a WaitReason), while GWAITING. Written by the owner in
    /// gopark; read from any thread (Relaxed).
    pub(crate) waitreason: AtomicU8,
    /// Preemption requested (Go's g.preempt): set by sysmon (preemptone) or
    /// stop-the-world from any thread, read by the SIGURG handler on the G's own
    /// thread and by the cooperative checks; cleared by execute when the G next
    /// runs. Relaxed everywhere: a request, publishing no data; a stale read delays
    /// the preemption by one sysmon tick, the retry Go also relies on.
    pub(crate) preempt: AtomicBool,
    // ---- 128 bytes: the switch path reads nothing below here ----
    /// Set (0 -> 1) by the first waker of a goroutine blocked in select; the others
    /// skip its sudogs. Reset by the goroutine itself after it wakes.
    pub(crate) selectdone: AtomicU32,
    /// Whose trace buffer holds this G's last event about it (trace.rs
    /// buf_tag: a P's id + 1, 0 for the global buffer; Go's tracelastp), so that
    /// its next GoStart or GoUnblock there is the Local form. Written by whoever
    /// records its events (Relaxed: ordered as traceseq).
    pub(crate) tracelastp: AtomicU16,
    /// The trace recorded this G's system call as blocking (trace.rs), so its
    /// return is traced. Owner only (atomic for Sync).
    pub(crate) sysblocktraced: AtomicBool,
    /// The G is formatting its panic value, before the report (entry.rs, Go's
    /// preprintpanics): a panic meanwhile is a panic while printing it. Owner only
    /// (atomic for Sync).
    pub(crate) printing_panic: AtomicBool,
    /// Wake-up word for whoever readies the G (chan sudog). Set by the waker before
    /// goready, read by the G after it resumes (goready's queue publication orders
    /// the two).
    pub(crate) param: usize,
    /// Link in a run queue or free list: owned by whoever owns that list.
    pub(crate) schedlink: *mut G,
    /// Goroutine id, unique for the process, from sched.goidgen. Written by newproc1
    /// before the G is published on a run queue; read from any thread (Relaxed).
    pub(crate) goid: AtomicU64,
    /// Lowest usable stack address (stack.lo plus the guard allowance). As stack.
    pub(crate) stackguard0: usize,
    /// As stackguard0, for g0 and signal stacks (usize::MAX on goroutines).
    pub(crate) stackguard1: usize,
    /// The next older G on the allgs list. Written once before publication.
    pub(crate) alllink: *mut G,
    /// The next newer G on the allgs list, or null while this G is the newest:
    /// allgadd sets it once (Release) after publishing the newer one, so the list
    /// can also be walked oldest first (in creation order, as Go prints it).
    pub(crate) allnewer: AtomicPtr<G>,
    /// The goid of the goroutine that created this one, and where (`go`'s caller):
    /// "created by" in listings. Set by newproc1 before publication.
    pub(crate) parentgoid: u64,
    pub(crate) createdat: Option<&'static core::panic::Location<'static>>,
    /// The G's entry closure type name, for tracebacks. Set by newproc1; owner only.
    pub(crate) startfn: &'static str,
    /// The execution trace's sequence number (trace.rs): bumped by whoever owns
    /// the G at its GoStart, GoUnblock and GoSysExit (Relaxed: ordered by the
    /// handovers of the G itself).
    pub(crate) traceseq: AtomicU64,
    /// Stack size this G gets when it first runs (its stack is attached lazily, in
    /// execute, and given back when it exits). Set by newproc1.
    pub(crate) stacksize: usize,
    /// The entry closure of a G that has not started yet (moved onto its stack by
    /// gostart). Written by newproc1, read once by gostart.
    pub(crate) fnbuf: FnBuf,
}

// A parked goroutine costs a page of stack and its G (bench/parked's aim: at most
// 4446 bytes resident): the small fields of G sit together so that repr(C) pads
// as little as it can.
const _: () = assert!(core::mem::size_of::<G>() <= 336);
const _: () =
    assert!(core::mem::offset_of!(G, preempt) < 128 && core::mem::offset_of!(G, waitreason) < 128);

/// Inline room for a goroutine's closure: spawning needs no allocation for closures
/// up to this size (larger ones are boxed).
#[repr(C, align(16))]
pub(crate) struct FnBuf(pub(crate) [core::mem::MaybeUninit<u8>; FNBUF_SIZE]);

/// Bytes of inline closure room in a G.
pub(crate) const FNBUF_SIZE: usize = 96;

impl G {
    /// A G in status GIDLE with no stack.
    pub(crate) const fn new() -> G {
        G {
            stack: Stack { lo: 0, hi: 0 },
            stackguard0: 0,
            stackguard1: 0,
            m: AtomicPtr::new(ptr::null_mut()),
            sched: Gobuf::new(),
            atomicstatus: AtomicU32::new(GIDLE),
            goid: AtomicU64::new(0),
            schedlink: ptr::null_mut(),
            alllink: ptr::null_mut(),
            allnewer: AtomicPtr::new(ptr::null_mut()),
            waitreason: AtomicU8::new(WaitReason::Zero as u8),
            waitsince: AtomicI64::new(0),
            parentgoid: 0,
            createdat: None,
            param: 0,
            startfn: "",
            traceseq: AtomicU64::new(0),
            sysblocktraced: AtomicBool::new(false),
            printing_panic: AtomicBool::new(false),
            stacksize: 0,
            selectdone: AtomicU32::new(0),
            preempt: AtomicBool::new(false),
            tracelastp: AtomicU16::new(0),
            fnbuf: FnBuf([core::mem::MaybeUninit::uninit(); FNBUF_SIZE]),
        }
    }

    /// The goroutine id (Relaxed: informational for other threads).
    #[inline]
    pub(crate) fn goid(&self) -> u64 {
        self.goid.load(Relaxed)
    }

    /// The M running this G, or null.
    #[inline]
    pub(crate) fn m(&self) -> *mut M {
        self.m.load(Relaxed)
    }

    /// Why the G is waiting.
    pub(crate) fn waitreason(&self) -> WaitReason {
        WaitReason::from_u8(self.waitreason.load(Relaxed))
    }
}

/// An OS thread.
#[repr(C)]
pub(crate) struct M {
    /// Thread-local storage: FS points at tls[1], so -8(FS) is tls[0], the current g
    /// (the ELF TLS convention Go uses). Must stay the first field: m.locks is
    /// addressed FS-relative (asm_amd64.rs).
    pub(crate) tls: [usize; 6],
    /// The goroutine with the scheduling stack. Immutable after creation.
    pub(crate) g0: *mut G,
    /// The user goroutine currently running on this M, or null. Written by this M
    /// (execute, dropg); read from other threads by schedtrace (Relaxed).
    pub(crate) curg: AtomicPtr<G>,
    /// The P this M holds, or null. Written by this M (wirep, releasep), or by the
    /// stopper under sched.lock during stop-the-world; read by schedtrace (Relaxed).
    pub(crate) p: AtomicPtr<P>,
    /// P to acquire when this M is woken from stopm. Written by the waker under
    /// sched.lock (or by newm before the thread exists) before notewakeup.
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
    /// fastrand state (wyrand). Owner only, with m.locks raised (fastrand).
    pub(crate) fastrand: u64,
    /// Function run by mstart before schedule (mspinning for spinning Ms). Set by
    /// newm before the thread starts.
    pub(crate) mstartfn: Option<fn()>,
    /// gopark's unlock function and its argument, run on g0 by park_m after the G is
    /// off its stack. Owner only.
    pub(crate) waitunlockf: Option<unsafe fn(*mut G, *mut u8) -> bool>,
    /// The argument of waitunlockf.
    pub(crate) waitlock: *mut u8,
    /// Kernel thread id. Written by the thread itself in minit; read by preemptM
    /// (tgkill) from sysmon and stop-the-world (Relaxed: set before the M runs any
    /// goroutine, which is when anyone first wants to signal it).
    pub(crate) procid: AtomicI64,
    /// The P this M held when its goroutine entered a system call (entersyscall):
    /// exitsyscall tries to take it back first. Owner only; a hint, since the P may
    /// have been retaken meanwhile (its status decides, by CAS).
    pub(crate) oldp: *mut P,
    /// The P's syscalltick when entersyscall gave it up (Go's m.syscalltick). Owner
    /// only.
    pub(crate) syscalltick: u32,
    /// Counts entersyscall's entries (one per gort::blocking call: with_p's brief
    /// exits inside a call do not count). Owner only.
    pub(crate) syscall_seq: u64,
    /// The syscall_seq of the call that last rang sysmon for stuck work
    /// (sysmon::syscall_work_stuck): once per call. Owner only.
    pub(crate) kicked_seq: u64,
    /// A preemption signal was sent and not yet handled (Go's signalPending): set by
    /// preemptM's CAS (0 -> 1) so that at most one SIGURG is in flight per M, cleared
    /// by the handler on this thread. Relaxed/AcqRel as used in preempt.rs.
    pub(crate) signal_pending: AtomicU32,
    /// Preemption signals this M has handled (Go's preemptGen). Written by the
    /// handler on this thread, read by tests and schedtrace (Relaxed).
    pub(crate) preempt_gen: AtomicU32,
    /// Asynchronous preemptions this M performed (injections). As preempt_gen.
    pub(crate) preempt_count: AtomicU32,
    /// Open `gort::NoPreempt` guards on this M (each also holds one m.locks). Lets
    /// a park inside one say what went wrong. Owner only.
    pub(crate) nopreempt: u32,
    /// Go's m.locks: while > 0 the goroutine on this M must not be preempted or
    /// moved to another M (it holds a runtime lock, or uses its M or P through a
    /// local). Changed only by this thread, one `inc`/`dec` FS-relative instruction
    /// at a time (acquirem, lock_futex); read by this thread's signal handler and by
    /// schedtrace (Relaxed).
    pub(crate) locks: AtomicI32,
    /// A nanotime this M read lately (by the sleep that parked on it, or by
    /// findrunnable), so at or before now: a timer whose when is at or before it is
    /// due without reading the clock again (findrunnable). Owner only.
    pub(crate) now_hint: i64,
    /// now_hint was read by the goroutine that just parked in a sleep, moments ago
    /// (set by its park commit, cleared by the next findrunnable): with other work
    /// queued, findrunnable takes it for now (see there). Owner only.
    pub(crate) now_fresh: bool,
    /// A park commit filed a timer entry due at this when, the earliest on its P:
    /// park_m calls wake_timer_sleeper(when) once the commit is done (a commit must
    /// not wake an M itself: that may start a thread, which allocates). 0: none.
    /// Owner only.
    pub(crate) park_timer_wake: i64,
    /// The runtime locks this M holds, most recent last (lockrank.rs). Owner only.
    #[cfg(debug_assertions)]
    pub(crate) locks_held: [crate::runtime::lockrank::HeldLock; crate::runtime::lockrank::MAX_HELD],
    /// How many of locks_held are in use.
    #[cfg(debug_assertions)]
    pub(crate) locks_held_len: usize,
    /// Set while park_m runs a park commit (gopark's unlockf): the allocator checks
    /// it (no allocation there). Owner only.
    #[cfg(debug_assertions)]
    pub(crate) parking: bool,
}

impl M {
    /// An M with no thread, g0 or id yet.
    pub(crate) const fn new() -> M {
        M {
            tls: [0; 6],
            g0: ptr::null_mut(),
            curg: AtomicPtr::new(ptr::null_mut()),
            p: AtomicPtr::new(ptr::null_mut()),
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
            oldp: ptr::null_mut(),
            syscalltick: 0,
            syscall_seq: 0,
            kicked_seq: 0,
            signal_pending: AtomicU32::new(0),
            preempt_gen: AtomicU32::new(0),
            preempt_count: AtomicU32::new(0),
            nopreempt: 0,
            locks: AtomicI32::new(0),
            now_hint: 0,
            now_fresh: false,
            park_timer_wake: 0,
            #[cfg(debug_assertions)]
            locks_held: [crate::runtime::lockrank::HeldLock {
                addr: 0,
                rank: LockRank::Leaf,
                count: 0,
            }; crate::runtime::lockrank::MAX_HELD],
            #[cfg(debug_assertions)]
            locks_held_len: 0,
            #[cfg(debug_assertions)]
            parking: false,
        }
    }

    /// The P this M holds, or null.
    #[inline]
    pub(crate) fn p(&self) -> *mut P {
        self.p.load(Relaxed)
    }

    /// The user goroutine running on this M, or null.
    #[inline]
    pub(crate) fn curg(&self) -> *mut G {
        self.curg.load(Relaxed)
    }
}

// P status, as Go's _Pidle.._Pdead.
/// On the idle list (or being handed to an M).
pub(crate) const PIDLE: u32 = 0;
/// Held by an M running goroutines.
pub(crate) const PRUNNING: u32 = 1;
/// Its M is in a system call (entersyscall): the P has no M and may be taken back
/// by CAS, by that M (exitsyscallfast), sysmon (retake) or stop-the-world.
pub(crate) const PSYSCALL: u32 = 2;
/// Stopped for stop-the-world.
pub(crate) const PGCSTOP: u32 = 3;
/// No longer used (GOMAXPROCS shrank).
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
    /// One of PIDLE..PDEAD, changed only through set_status/cas_status (proc.rs).
    /// Read without locks by schedtrace and stealers.
    pub(crate) status: AtomicU32,
    /// Next P on sched.pidle (or procresize's runnable list). Protected by
    /// sched.lock.
    pub(crate) link: *mut P,
    /// Incremented on every scheduling round that does not inherit a time slice.
    /// Written by the owner; read by schedtrace and sysmon (Relaxed).
    pub(crate) schedtick: AtomicU32,
    /// Incremented on every scheduling round, inherited or not: every 61st looks at
    /// the global queue and the local ring ahead of runnext, so that two goroutines
    /// handing off to each other through runnext cannot starve the rest. Written by
    /// the owner only (Relaxed; atomic so that &P stays sound while it changes).
    pub(crate) fairtick: AtomicU32,
    /// Incremented on every system call exit (and retake), so sysmon can tell one
    /// long call from many short ones. Written by the owner or by whoever won the P by
    /// CAS; read by sysmon and schedtrace (Relaxed).
    pub(crate) syscalltick: AtomicU32,
    /// sysmon's last look at this P (Go's sysmontick). sysmon only (an UnsafeCell:
    /// other threads hold &P while sysmon writes it).
    pub(crate) sysmontick: core::cell::UnsafeCell<SysmonTick>,
    /// The running time slice should end (Go's p.preempt): set by sysmon or
    /// stop-the-world, cleared by findrunnable, which then schedules fairly (global
    /// queue first, no inherited slice). Relaxed: a request, as G.preempt.
    pub(crate) preempt: AtomicBool,
    /// The M holding this P, or null. Written by the owner (wirep/releasep) or under
    /// sched.lock with the world stopped; read by schedtrace (Relaxed).
    pub(crate) m: AtomicPtr<M>,
    /// Local run queue: a lock-free ring plus runnext (runq.rs has the protocol).
    /// The owner puts and gets; other Ms steal.
    pub(crate) runq: crate::runtime::runq::RunQ<RUNQ_SIZE>,
    /// Free dead Gs (with stacks) for reuse by newproc. Owner only; the count is
    /// atomic only so that num_goroutine may read it from elsewhere.
    pub(crate) gfree: *mut G,
    /// The length of gfree.
    pub(crate) gfreecnt: AtomicI32,
    /// Timers of this P (time.rs), under their own lock: any M may add to or run
    /// them.
    pub(crate) timers: crate::runtime::time::Timers,
    /// This P's execution-trace buffer (trace.rs), null until tracing starts;
    /// written only by the M holding the P.
    pub(crate) tracebuf: crate::runtime::trace::BufSlot,
    /// Fresh Gs carved from the P's current slab (proc.rs galloc): gslab_n of them
    /// left from gslab on. Owner only.
    pub(crate) gslab: *mut G,
    /// How many Gs are left in gslab.
    pub(crate) gslab_n: u32,
    /// Free default-size goroutine stacks (stack.rs), linked through the word at
    /// each stack's top. Owner only.
    pub(crate) stackcache: usize,
    /// The length of stackcache.
    pub(crate) stackcachecnt: u32,
    /// Free small objects (mcache.rs). Owner only, pinned; anyone with the world
    /// stopped.
    pub(crate) mcache: crate::runtime::mcache::MCache,
}

impl P {
    /// A P with an empty run queue, in status PGCSTOP until procresize places it.
    pub(crate) fn new(id: i32) -> P {
        P {
            id,
            status: AtomicU32::new(PGCSTOP),
            link: ptr::null_mut(),
            schedtick: AtomicU32::new(0),
            fairtick: AtomicU32::new(0),
            syscalltick: AtomicU32::new(0),
            sysmontick: core::cell::UnsafeCell::new(SysmonTick {
                schedtick: 0,
                fairtick: 0,
                schedwhen: 0,
                syscalltick: 0,
                syscallwhen: 0,
            }),
            preempt: AtomicBool::new(false),
            m: AtomicPtr::new(ptr::null_mut()),
            runq: crate::runtime::runq::RunQ::new(),
            gfree: ptr::null_mut(),
            gfreecnt: AtomicI32::new(0),
            timers: crate::runtime::time::Timers::new(),
            tracebuf: core::sync::atomic::AtomicPtr::new(ptr::null_mut()),
            gslab: ptr::null_mut(),
            gslab_n: 0,
            stackcache: 0,
            stackcachecnt: 0,
            mcache: crate::runtime::mcache::MCache::new(),
        }
    }

    /// The M holding this P, or null.
    #[inline]
    pub(crate) fn m(&self) -> *mut M {
        self.m.load(Relaxed)
    }
}

/// What sysmon saw of a P at its last look (Go's sysmontick): the ticks, and when
/// each last changed. sysmon only.
#[derive(Clone, Copy)]
pub(crate) struct SysmonTick {
    pub(crate) schedtick: u32,
    /// The P's fairtick (one per scheduling round, runnext hand-offs included).
    pub(crate) fairtick: u32,
    pub(crate) schedwhen: i64,
    pub(crate) syscalltick: u32,
    pub(crate) syscallwhen: i64,
}

/// The scheduler's global state: one instance, `SCHED`.
pub(crate) struct Schedt {
    /// Protects the fields marked "sched.lock" here and in M and P.
    pub(crate) lock: Mutex,
    /// Next goroutine id. Atomic, no lock.
    pub(crate) goidgen: AtomicU64,
    /// Idle Ms waiting for work. sched.lock.
    pub(crate) midle: *mut M,
    /// The length of midle. sched.lock.
    pub(crate) nmidle: i32,
    /// Idle Ms locked to a G (always 0: LockOSThread does not exist yet). sched.lock.
    pub(crate) nmidlelocked: i32,
    /// Next M id to hand out (mReserveID); also the number of Ms made. Written under
    /// sched.lock; read without it by schedtrace and newosproc's message (Relaxed).
    pub(crate) mnext: AtomicI64,
    /// Ms that are not counted for deadlock detection (sysmon). sched.lock.
    pub(crate) nmsys: i32,
    /// Maximum number of Ms allowed (Go: 10000). sched.lock.
    pub(crate) maxmcount: i32,
    /// Idle Ps. sched.lock; npidle is also read atomically without it.
    pub(crate) pidle: *mut P,
    /// The length of pidle.
    pub(crate) npidle: AtomicI32,
    /// Number of spinning Ms. Atomic.
    pub(crate) nmspinning: AtomicU32,
    /// Global run queue. sched.lock.
    pub(crate) runqhead: *mut G,
    /// The global queue's tail. sched.lock.
    pub(crate) runqtail: *mut G,
    /// The global queue's length: written under sched.lock, read without it as a
    /// hint (is there global work?) by findrunnable, handoffp and schedtrace
    /// (Relaxed; the reader re-checks under the lock before acting on it).
    pub(crate) runqsize: AtomicI32,
    /// Global free G list, under its own lock (Go's sched.gFree.lock) so that
    /// spawning and exiting goroutines do not contend with the run queue's lock.
    /// Lock order: sched.lock before gfree_lock.
    pub(crate) gfree_lock: Mutex,
    /// The global free G list. gfree_lock.
    pub(crate) gfree: *mut G,
    /// The length of gfree: written under gfree_lock, read by gcount without it.
    pub(crate) ngfree: AtomicI32,
    /// Stop-the-world: set while the world is (being) stopped; Ms that see it give
    /// up their P in gcstopm.
    pub(crate) gcwaiting: AtomicBool,
    /// Ps still to stop. sched.lock.
    pub(crate) stopwait: i32,
    /// The stopper sleeps here until stopwait reaches 0.
    pub(crate) stopnote: Note,
    /// sysmon is in its deep sleep on sysmonnote (every P idle, or the world
    /// stopped), or woken from it unforced and not yet up. Set and cleared under
    /// sched.lock; whoever makes a P busy again (pidleget, unless the sleep ends
    /// soon anyway; start-the-world; a system call) wakes sysmon
    /// (sysmon_wake_locked; sysmon.rs, "Deep sleep"). Read without the lock as a
    /// hint (Relaxed), re-checked under it.
    pub(crate) sysmonwait: AtomicBool,
    /// Where sysmon deep-sleeps.
    pub(crate) sysmonnote: Note,
    /// When sysmon's deep sleep ends (nanotime), while sysmonwait. sched.lock.
    pub(crate) sysmon_until: i64,
    /// sysmon's deep sleep was woken and sysmon is not up yet (an unforced wake
    /// leaves sysmonwait set meanwhile, see sysmon_wake_locked); reset by sysmon
    /// before its next deep sleep. sched.lock.
    pub(crate) sysmon_woken: bool,
    /// A wake of the deep sleep was forced (a system call or start-the-world:
    /// look often again), not only a P leaving the idle list. sched.lock.
    pub(crate) sysmon_forced: bool,
}

// SAFETY: every raw-pointer field of Schedt is protected by `lock` (or is atomic),
// as each field's comment says; the struct itself is only reached through SCHED.
unsafe impl Sync for Schedt {}

impl Schedt {
    /// The scheduler's state before schedinit.
    pub(crate) const fn new() -> Schedt {
        Schedt {
            lock: Mutex::new(LockRank::Sched),
            goidgen: AtomicU64::new(0),
            midle: ptr::null_mut(),
            nmidle: 0,
            nmidlelocked: 0,
            mnext: AtomicI64::new(0),
            nmsys: 0,
            maxmcount: 0,
            pidle: ptr::null_mut(),
            npidle: AtomicI32::new(0),
            nmspinning: AtomicU32::new(0),
            runqhead: ptr::null_mut(),
            runqtail: ptr::null_mut(),
            runqsize: AtomicI32::new(0),
            gfree_lock: Mutex::new(LockRank::Gfree),
            gfree: ptr::null_mut(),
            ngfree: AtomicI32::new(0),
            gcwaiting: AtomicBool::new(false),
            stopwait: 0,
            stopnote: Note::new(),
            sysmonwait: AtomicBool::new(false),
            sysmonnote: Note::new(),
            sysmon_until: 0,
            sysmon_woken: false,
            sysmon_forced: false,
        }
    }
}

/// Upper bound on GOMAXPROCS (Go's _MaxGomaxprocs).
pub(crate) const MAX_GOMAXPROCS: usize = 1024;
