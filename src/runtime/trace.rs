//! Go's execution trace, after runtime/trace.go (the "go 1.19 trace" format that
//! `go tool trace` reads): what every goroutine and P did, event by event.
//!
//! # Buffers
//!
//! Each P has a `TraceBuf` (allocated when tracing starts, or when allpgrow makes
//! the P while tracing): the M holding the P appends events to it with no lock and
//! no allocation. Events of an M without a P (a waker inside gort::blocking, sysmon
//! readying netpoll waiters, a system call that returns to no P) go to one global
//! buffer under a spin lock, as Go's traceGlobProc batch (P -1). A full buffer is
//! written to the trace file with one write(2) under WRITE_LOCK, so batches never
//! interleave, and reused. Each buffer begins with EvBatch(P, time); each event is
//! a byte (type | argument count << 6) and LEB128 arguments, its time as a delta
//! from the previous event of the batch (Go's format). Times are RDTSC / 64 (Go's
//! traceTickDiv); EvFrequency, measured against the monotonic clock, closes the
//! trace, with the stacks and strings.
//!
//! With tracing off the cost is one predictable branch on `ON` (Relaxed).
//!
//! # The state machine the parser checks
//!
//! Go's parser (internal/trace) replays each goroutine: created (GoCreate) ->
//! runnable -> GoStart -> running -> GoBlock*/GoSleep/GoSched/GoPreempt/GoEnd;
//! GoUnblock makes a waiting goroutine runnable. GoStart, GoUnblock and GoSysExit
//! carry the goroutine's sequence number (`G::traceseq`, bumped before each), which
//! orders batches of different Ps. A system call, while tracing, is traced as
//! blocking from the start: GoSysCall, GoSysBlock and ProcStop at entersyscall
//! (the M still owns its P then), and ProcStart (wirep), GoSysExit and GoStart when
//! it returns: so whoever takes a P from a system call (sysmon, stop-the-world) and
//! a goroutine that parks from inside gort::blocking need no events of their own.
//! ProcStart/ProcStop are written by wirep/releasep.
//!
//! # Starting and stopping
//!
//! `GORT_TRACE=path` starts tracing in schedinit, before any goroutine exists.
//! `start` and `stop` (gort::trace) stop the world: start writes GoCreate (and
//! GoWaiting, GoInSyscall) for the goroutines that exist; stop flushes every buffer
//! and closes the file. A normal exit stops the trace; a fatal error, a panic and
//! SIGQUIT flush what they can without stopping the world.
//!
//! # JSON
//!
//! A path ending in `.json` gets Chrome's trace-event format instead (see
//! tracejson.rs): recording is the same; each batch is decoded and written as JSON
//! text when its buffer is flushed, under WRITE_LOCK, and finish closes the JSON.
//!
//! # Locks
//!
//! GLOBAL_LOCK, then WRITE_LOCK (a flush of the global buffer), then STACK_LOCK
//! (the JSON writer names creation sites). The binary finish holds STACK_LOCK while
//! it writes, the other way round, but never while a JSON trace is written (one
//! trace at a time). All are spin locks: no allocation under any of them.

use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::panic::Location;
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64};

use super::proc::{acquirem, getg, getm};
use super::runtime2::{WaitReason, G, P};
use super::sys_linux;
use super::tracejson::{Out, Running};

/// Event types (Go's traceEv*).
pub(crate) const EV_BATCH: u8 = 1;
pub(crate) const EV_FREQUENCY: u8 = 2;
pub(crate) const EV_STACK: u8 = 3;
pub(crate) const EV_GOMAXPROCS: u8 = 4;
pub(crate) const EV_PROC_START: u8 = 5;
pub(crate) const EV_PROC_STOP: u8 = 6;
pub(crate) const EV_GO_CREATE: u8 = 13;
pub(crate) const EV_GO_START: u8 = 14;
pub(crate) const EV_GO_END: u8 = 15;
pub(crate) const EV_GO_SCHED: u8 = 17;
pub(crate) const EV_GO_PREEMPT: u8 = 18;
pub(crate) const EV_GO_SLEEP: u8 = 19;
pub(crate) const EV_GO_BLOCK: u8 = 20;
pub(crate) const EV_GO_UNBLOCK: u8 = 21;
pub(crate) const EV_GO_BLOCK_SEND: u8 = 22;
pub(crate) const EV_GO_BLOCK_RECV: u8 = 23;
pub(crate) const EV_GO_BLOCK_SELECT: u8 = 24;
pub(crate) const EV_GO_BLOCK_SYNC: u8 = 25;
pub(crate) const EV_GO_BLOCK_COND: u8 = 26;
pub(crate) const EV_GO_BLOCK_NET: u8 = 27;
pub(crate) const EV_GO_SYSCALL: u8 = 28;
pub(crate) const EV_GO_SYSEXIT: u8 = 29;
pub(crate) const EV_GO_SYSBLOCK: u8 = 30;
pub(crate) const EV_GO_WAITING: u8 = 31;
pub(crate) const EV_GO_INSYSCALL: u8 = 32;
pub(crate) const EV_STRING: u8 = 37;
pub(crate) const EV_GO_START_LOCAL: u8 = 38;
pub(crate) const EV_GO_UNBLOCK_LOCAL: u8 = 39;

/// Go's traceTickDiv on amd64.
const TICK_DIV: u32 = 6;
/// Bytes per buffer (Go: 64 KiB less a header).
const BUF_SIZE: usize = 64 << 10;
/// The most one event takes: a type byte, a length and five 10-byte arguments.
const MAX_EVENT: usize = 64;
/// Distinct creation sites the stack table holds; more get stack 0.
const STACK_SLOTS: usize = 4096;

/// Whether events are being recorded: the one branch on every hot path.
static ON: AtomicBool = AtomicBool::new(false);
/// The trace file, -1 when none.
static FD: AtomicI32 = AtomicI32::new(-1);
/// Serialises writes to FD (one batch per write) and start/stop; owns the JSON
/// writer (allocated by the first JSON trace, kept for the next).
static WRITE_LOCK: spin::Mutex<Option<Box<Out>>> = spin::Mutex::new(None);
/// Set by flush_at_death: the trace's locks are then only tried (the dying thread
/// may have interrupted their holder).
static DYING: AtomicBool = AtomicBool::new(false);

/// Take a trace lock; when dying, give up after a bounded spin (None).
fn lock<T>(m: &spin::Mutex<T>) -> Option<spin::MutexGuard<'_, T>> {
    // Relaxed: a mode switch on the way out.
    if !DYING.load(Relaxed) {
        return Some(m.lock());
    }
    (0..1_000_000).find_map(|_| {
        core::hint::spin_loop();
        m.try_lock()
    })
}

/// Ticks and nanotime when the trace started (EvFrequency).
static START_TICKS: AtomicU64 = AtomicU64::new(0);
static START_NS: AtomicU64 = AtomicU64::new(0);

/// One P's (or the global) event buffer.
pub(crate) struct TraceBuf {
    /// The P id written in EvBatch (-1: the global buffer).
    pid: i32,
    pos: usize,
    /// Ticks of the previous event of the batch.
    last: u64,
    /// The time of the last event when it stopped a goroutine (GoSched, GoPreempt,
    /// GoBlock*, GoSleep, GoEnd) and nothing was recorded since: the next GoStart
    /// may take it instead of reading the clock (see `go_start`). 0: none.
    reuse: u64,
    /// JSON only: the goroutine running on the P at the end of the last batch
    /// written (tracejson.rs). Touched by whoever flushes.
    run: Running,
    data: [u8; BUF_SIZE],
}

impl TraceBuf {
    fn new(pid: i32) -> Box<TraceBuf> {
        // Zeroed on the heap: 64 KiB does not go through a stack.
        let mut b: Box<TraceBuf> = unsafe_zeroed_box();
        b.pid = pid;
        b.run = Running::NONE;
        b
    }

    /// Append a byte. The caller made room (event: MAX_EVENT free after begin or
    /// its check), so the index is in bounds.
    #[inline(always)]
    fn put_u8(&mut self, v: u8) {
        debug_assert!(self.pos < BUF_SIZE);
        // SAFETY: pos < BUF_SIZE: every writer checks for MAX_EVENT bytes of room
        // before an event, and no event is longer.
        unsafe { *self.data.as_mut_ptr().add(self.pos) = v };
        self.pos += 1;
    }

    /// LEB128, as Go's traceAppend varint.
    #[inline(always)]
    fn put_var(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.put_u8(v as u8 | 0x80);
            v >>= 7;
        }
        self.put_u8(v as u8);
    }

    /// Start a batch: EvBatch(pid, now). The buffer is empty.
    fn begin(&mut self, now: u64) {
        self.pos = 0;
        self.put_u8(EV_BATCH | (1 << 6));
        self.put_var(self.pid as i64 as u64);
        self.put_var(now);
        self.last = now;
    }

    /// Append an event of type ev at now with args (the timestamp is added here).
    /// Flushes first if it might not fit.
    #[inline]
    fn event(&mut self, ev: u8, now: u64, args: &[u64]) {
        self.reuse = 0;
        if self.pos == 0 || self.pos + MAX_EVENT > BUF_SIZE {
            self.refill(now);
        }
        let delta = now.saturating_sub(self.last);
        self.last = self.last.max(now);
        let narg = args.len() + 1; // the timestamp
        if narg <= 3 {
            self.put_u8(ev | (((narg - 1) as u8) << 6));
            self.put_var(delta);
            for &a in args {
                self.put_var(a);
            }
        } else {
            // Length-prefixed arguments: write them after a one-byte length slot
            // (an event is < 128 bytes).
            self.put_u8(ev | (3 << 6));
            let len_at = self.pos;
            self.put_u8(0);
            self.put_var(delta);
            for &a in args {
                self.put_var(a);
            }
            // SAFETY: len_at < pos <= BUF_SIZE (written just above).
            unsafe { *self.data.as_mut_ptr().add(len_at) = (self.pos - len_at - 1) as u8 };
        }
    }

    /// Write out the full batch and begin the next one. Out of line: once per
    /// buffer.
    #[cold]
    #[inline(never)]
    fn refill(&mut self, now: u64) {
        self.flush();
        self.begin(now);
    }

    /// Write the batch to the trace file (if any events) and empty the buffer: as
    /// it is, or as JSON text when the trace is JSON. Any thread; no allocation.
    fn flush(&mut self) {
        if self.pos > 0 {
            if let Some(mut w) = lock(&WRITE_LOCK) {
                match w.as_deref_mut() {
                    Some(out) if out.on => out.batch(&self.data[..self.pos], &mut self.run),
                    _ => write_fd(FD.load(Relaxed), &self.data[..self.pos]),
                }
            }
        }
        self.pos = 0;
    }
}

/// A zeroed Box<TraceBuf>, allocated directly (no 64 KiB stack temporary).
fn unsafe_zeroed_box() -> Box<TraceBuf> {
    let layout = core::alloc::Layout::new::<TraceBuf>();
    // SAFETY: TraceBuf is non-zero-sized; all-zero bytes are a valid TraceBuf
    // (integers and a byte array).
    unsafe {
        let p = alloc::alloc::alloc_zeroed(layout) as *mut TraceBuf;
        if p.is_null() {
            alloc::alloc::handle_alloc_error(layout);
        }
        Box::from_raw(p)
    }
}

/// Write bytes to the trace file, whole (one batch per call). Any thread; no
/// allocation.
fn write_out(b: &[u8]) {
    let Some(_w) = lock(&WRITE_LOCK) else { return };
    // Relaxed: set before ON (Release) and read after it.
    write_fd(FD.load(Relaxed), b);
}

/// Write all of b to fd (the trace file; nothing when fd < 0). WRITE_LOCK must be
/// held. No allocation.
#[inline(never)]
pub(crate) fn write_fd(fd: i32, mut b: &[u8]) {
    if fd < 0 {
        return;
    }
    while !b.is_empty() {
        let n = super::print::write_wait(fd, b);
        if n <= 0 {
            return;
        }
        b = &b[n as usize..];
    }
}

/// The global buffer, for events of Ms without a P.
struct GlobalBuf(UnsafeCell<Option<Box<TraceBuf>>>);
// SAFETY: the buffer is touched only under GLOBAL_LOCK.
unsafe impl Sync for GlobalBuf {}
static GLOBAL: GlobalBuf = GlobalBuf(UnsafeCell::new(None));
static GLOBAL_LOCK: spin::Mutex<()> = spin::Mutex::new(());

/// The stack table: one single-frame stack per creation site (`go`'s caller), so
/// go tool trace groups goroutines by where they were created.
struct StackTab(UnsafeCell<Option<Box<[usize; STACK_SLOTS]>>>);
// SAFETY: touched only under STACK_LOCK.
unsafe impl Sync for StackTab {}
static STACKS: StackTab = StackTab(UnsafeCell::new(None));
static STACK_LOCK: spin::Mutex<()> = spin::Mutex::new(());

/// The CPU has RDTSCP (set by setup, from CPUID).
static HAS_RDTSCP: AtomicBool = AtomicBool::new(false);

/// Ticks now (the TSC / 64), as RDTSC reads it: it may run ahead of the loads
/// before it. For events whose causes are on this P (the same thread's earlier
/// events).
#[inline(always)]
fn ticks() -> u64 {
    // SAFETY: RDTSC reads the time-stamp counter; it has no memory effects.
    unsafe { core::arch::x86_64::_rdtsc() >> TICK_DIV }
}

/// Ticks now, read after every earlier instruction has executed (RDTSCP, or
/// LFENCE then RDTSC, as Go's cputicks), for the events that follow something
/// another P or M did: GoStart (its goroutine came from a queue), GoUnblock (the
/// goroutine blocked elsewhere), GoSysExit, and the global buffer's events. With a
/// bare RDTSC, which may run ahead of the load that found the goroutine, such an
/// event could be stamped before its cause on the other P, which Go's parser
/// rejects as "time stamps out of order" (seen with select at GOMAXPROCS=4, one
/// trace in five).
#[inline(always)]
fn ticks_ordered() -> u64 {
    // Relaxed: set once before tracing starts (ON's Release publishes it).
    let t = if HAS_RDTSCP.load(Relaxed) {
        let mut aux = 0u32;
        // SAFETY: the CPU has RDTSCP (CPUID said so); it reads the time-stamp
        // counter and the processor id into aux, nothing else.
        unsafe { core::arch::x86_64::__rdtscp(&mut aux) }
    } else {
        // SAFETY: LFENCE (SSE2, always on x86-64) and RDTSC have no memory effects
        // beyond ordering.
        unsafe {
            core::arch::x86_64::_mm_lfence();
            core::arch::x86_64::_rdtsc()
        }
    };
    t >> TICK_DIV
}

/// Whether the CPU has RDTSCP (CPUID 0x80000001, EDX bit 27).
fn cpu_has_rdtscp() -> bool {
    use core::arch::x86_64::__cpuid;
    __cpuid(0x8000_0000).eax >= 0x8000_0001 && __cpuid(0x8000_0001).edx & (1 << 27) != 0
}

/// Whether tracing is on (the hot paths' one branch).
#[inline(always)]
pub(crate) fn on() -> bool {
    ON.load(Relaxed)
}

/// Append an event for the current M: to its P's buffer, or the global one.
/// Any g; pins the M for the write; no allocation, no runtime lock. One copy,
/// out of line: the recording points stay a branch and a call.
#[inline(never)]
pub(crate) fn event(ev: u8, args: &[u64]) {
    record(ev, args, Stamp::Fresh)
}

/// How an event gets its time.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stamp {
    /// Read the clock.
    Fresh,
    /// Read the clock in order (ticks_ordered).
    Ordered,
    /// Read the clock; the event stops the running goroutine, and the GoStart that
    /// follows it directly may take its time.
    Stop,
    /// A GoStart: the time of the stop event just before it, if any (else the
    /// clock, in order).
    Start,
}

/// event's body: to our P's buffer (timed as `how` says), or the global one.
#[inline(always)]
fn record(ev: u8, args: &[u64], how: Stamp) {
    record_g(ev, args, how, None)
}

/// An event about goroutine gp, besides the running one's own (`about`: gp and the
/// event's Local form, or 0 if it has none). Go's tracelastp: gp remembers whose
/// buffer holds its last event (G::tracelastp); when it is this one, the Local
/// form is written, without the sequence number (args[1]): the parser orders it
/// by its place in this P's batches, after gp's previous event. Its args are those
/// of the full form without args[1].
struct About {
    gp: *mut G,
    local: u8,
}

/// The tag of a buffer for G::tracelastp: its P's id + 1, 0 for the global one.
fn buf_tag(b: &TraceBuf) -> u16 {
    (b.pid + 1) as u16
}

/// record, for an event about a goroutine (see About).
#[inline(always)]
fn record_g(ev: u8, args: &[u64], how: Stamp, about: Option<About>) {
    let mp = acquirem();
    let pp = mp.p();
    let buf = if pp.is_null() {
        None
    } else {
        // Acquire: pairs with the Release that installed the buffer.
        // SAFETY: Ps are never freed; tracebuf is atomic.
        Some(unsafe { (*pp).tracebuf.load(Acquire) })
    };
    match buf {
        Some(b) if !b.is_null() => {
            // SAFETY: our P's buffer: only the M holding the P (us, pinned) writes
            // it.
            let b = unsafe { &mut *b };
            let now = match how {
                Stamp::Start if b.reuse != 0 => b.reuse,
                Stamp::Start | Stamp::Ordered => ticks_ordered(),
                Stamp::Fresh | Stamp::Stop => ticks(),
            };
            match about {
                Some(a) => {
                    let tag = buf_tag(b);
                    // SAFETY: Gs are never freed; tracelastp is atomic, written by
                    // whoever records gp's events (its owner or waker, in turn).
                    let last = unsafe { &(*a.gp).tracelastp };
                    // Relaxed: ordered by the handovers of gp itself (as traceseq).
                    if a.local != 0 && last.load(Relaxed) == tag {
                        let mut local = [0u64; 2];
                        local[0] = args[0];
                        local[1..args.len() - 1].copy_from_slice(&args[2..]);
                        b.event(a.local, now, &local[..args.len() - 1]);
                    } else {
                        last.store(tag, Relaxed);
                        b.event(ev, now, args);
                    }
                }
                None => b.event(ev, now, args),
            }
            if how == Stamp::Stop {
                // The event's time as written (never before the batch's last).
                b.reuse = b.last;
            }
        }
        _ => {
            if let Some(a) = about {
                // SAFETY: as above.
                unsafe { (*a.gp).tracelastp.store(0, Relaxed) };
            }
            global_event(ev, args)
        }
    }
    drop(mp);
}

/// The scheduler looks beyond its P's own run queue (the global queue, other Ps,
/// the poller) or may wait: the next GoStart reads the clock. Called from
/// findrunnable when tracing.
///
/// Why a GoStart may take the time of the stop event just before it: reading the
/// TSC is most of an event's cost, and a goroutine switch records two events
/// (GoSched and GoStart, say) a few nanoseconds apart, less than a tick. It is
/// exact enough only when nothing happened in between, and safe for the parser
/// (which rejects a trace whose events, once ordered by their sequence numbers,
/// go back in time) only when every event that made the started goroutine
/// runnable is at or before the reused time. A goroutine from our own run queue
/// or runnext was put there by this P, and its GoCreate/GoUnblock/GoSched is in
/// this P's buffer; any event after the stop event clears the reuse. A goroutine
/// from the global queue was made runnable no later than GLOBQ_STAMP says, checked
/// by globq_got as it is taken (so a yield at GOMAXPROCS=1 reads no clock to
/// start the other goroutine). A goroutine from anywhere else (another P, the
/// poller) may have been made runnable on another P after our stop event: hence
/// this call before the scheduler looks there.
pub(crate) fn slow_round() {
    let mp = acquirem();
    let pp = mp.p();
    if !pp.is_null() {
        // Acquire: as in record.
        // SAFETY: Ps are never freed; tracebuf is atomic.
        let b = unsafe { (*pp).tracebuf.load(Acquire) };
        if !b.is_null() {
            // SAFETY: our P's buffer (pinned), as in record.
            unsafe { (*b).reuse = 0 };
        }
    }
    drop(mp);
}

/// An upper bound on the times of the events that made the goroutines in the
/// global run queue runnable (u64::MAX: unknown), so that a GoStart of one of them
/// may still take the time of the stop event before it. Written and read under
/// sched.lock (Relaxed: the lock orders it); 0 when the queue is empty.
static GLOBQ_STAMP: AtomicU64 = AtomicU64::new(0);

/// A goroutine went into the global run queue (sched.lock held, tracing on). When
/// `stopped`, it is the goroutine whose stop event (GoSched, GoPreempt) this M
/// recorded last, so the time of that event bounds its making runnable; otherwise
/// the bound is unknown. Any g; no allocation.
pub(crate) fn globq_put(stopped: bool) {
    let mut t = u64::MAX;
    if stopped {
        let mp = acquirem();
        let pp = mp.p();
        if !pp.is_null() {
            // Acquire: as in record.
            // SAFETY: Ps are never freed; tracebuf is atomic.
            let b = unsafe { (*pp).tracebuf.load(Acquire) };
            // SAFETY: our P's buffer (pinned), as in record.
            if !b.is_null() && unsafe { (*b).reuse } != 0 {
                // SAFETY: as above.
                t = unsafe { (*b).reuse };
            }
        }
        drop(mp);
    }
    // Relaxed: under sched.lock (see GLOBQ_STAMP).
    if t > GLOBQ_STAMP.load(Relaxed) {
        GLOBQ_STAMP.store(t, Relaxed);
    }
}

/// This M took goroutines from the global run queue (sched.lock held, tracing on;
/// `emptied`: none are left). The next GoStart may keep the time of our last stop
/// event only if no goroutine in the queue was made runnable after it (see
/// slow_round); otherwise it reads the clock. Any g; no allocation.
pub(crate) fn globq_got(emptied: bool) {
    // Relaxed: under sched.lock (see GLOBQ_STAMP).
    let bound = GLOBQ_STAMP.load(Relaxed);
    if emptied {
        GLOBQ_STAMP.store(0, Relaxed);
    }
    let mp = acquirem();
    let pp = mp.p();
    if !pp.is_null() {
        // Acquire: as in record.
        // SAFETY: Ps are never freed; tracebuf is atomic.
        let b = unsafe { (*pp).tracebuf.load(Acquire) };
        // SAFETY: our P's buffer (pinned), as in record.
        if !b.is_null() && unsafe { (*b).reuse } < bound {
            // SAFETY: as above.
            unsafe { (*b).reuse = 0 };
        }
    }
    drop(mp);
}

/// Append an event to P pp's buffer on its behalf (the caller owns pp).
#[inline(never)]
fn event_on(pp: *mut P, ev: u8, args: &[u64]) {
    // SAFETY: the caller owns pp, so nobody else writes its buffer.
    let b = unsafe { (*pp).tracebuf.load(Acquire) };
    if b.is_null() {
        global_event(ev, args);
    } else {
        // SAFETY: as above.
        unsafe { (*b).event(ev, ticks(), args) }
    }
}

/// Append an event to the global buffer (P -1). Any thread; spin lock only.
fn global_event(ev: u8, args: &[u64]) {
    let _pin = acquirem();
    let Some(_g) = lock(&GLOBAL_LOCK) else { return };
    // SAFETY: GLOBAL_LOCK is held.
    if let Some(b) = unsafe { &mut *GLOBAL.0.get() } {
        // The time under the lock: the global batch stays in time order.
        b.event(ev, ticks_ordered(), args);
    }
}

/// The goroutine's id.
fn goid(gp: *mut G) -> u64 {
    // SAFETY: Gs are never freed; goid is atomic.
    unsafe { (*gp).goid.load(Relaxed) }
}

/// Bump gp's trace sequence number and return it (its owner, or the waker that
/// owns it while it is parked).
fn next_seq(gp: *mut G) -> u64 {
    // SAFETY: Gs are never freed; traceseq is atomic, written by whoever owns gp.
    let s = unsafe { &(*gp).traceseq };
    let v = s.load(Relaxed) + 1;
    s.store(v, Relaxed);
    v
}

// ---- the events, called from proc.rs and friends when on() ----

/// GoCreate: the current M made newg (at `at`).
pub(crate) fn go_create(newg: *mut G, at: Option<&'static Location<'static>>) {
    // SAFETY: newg is not yet published: ours.
    unsafe { (*newg).traceseq.store(0, Relaxed) };
    let stk = at.map_or(0, stack_id);
    let about = About { gp: newg, local: 0 };
    record_g(
        EV_GO_CREATE,
        &[goid(newg), stk, 0],
        Stamp::Fresh,
        Some(about),
    );
}

/// GoStart: gp starts running on this M's P.
pub(crate) fn go_start(gp: *mut G) {
    let s = next_seq(gp);
    let about = About {
        gp,
        local: EV_GO_START_LOCAL,
    };
    record_g(EV_GO_START, &[goid(gp), s], Stamp::Start, Some(about));
}

/// GoUnblock: gp (parked) is made runnable by the current M.
pub(crate) fn go_unblock(gp: *mut G) {
    let s = next_seq(gp);
    let about = About {
        gp,
        local: EV_GO_UNBLOCK_LOCAL,
    };
    record_g(
        EV_GO_UNBLOCK,
        &[goid(gp), s, 0],
        Stamp::Ordered,
        Some(about),
    );
}

/// The event for a goroutine parking for reason.
pub(crate) fn go_park(reason: WaitReason) {
    let ev = match reason {
        WaitReason::ChanReceive | WaitReason::ChanReceiveNilChan => EV_GO_BLOCK_RECV,
        WaitReason::ChanSend | WaitReason::ChanSendNilChan => EV_GO_BLOCK_SEND,
        WaitReason::Select | WaitReason::SelectNoCases => EV_GO_BLOCK_SELECT,
        WaitReason::Sleep => EV_GO_SLEEP,
        WaitReason::SyncCondWait => EV_GO_BLOCK_COND,
        WaitReason::Semacquire => EV_GO_BLOCK_SYNC,
        WaitReason::IoWait => EV_GO_BLOCK_NET,
        _ => EV_GO_BLOCK,
    };
    record(ev, &[0], Stamp::Stop);
}

/// GoSched, GoPreempt: the running goroutine yields.
pub(crate) fn go_sched(preempted: bool) {
    let ev = if preempted {
        EV_GO_PREEMPT
    } else {
        EV_GO_SCHED
    };
    record(ev, &[0], Stamp::Stop);
}

/// GoEnd: the running goroutine returned.
pub(crate) fn go_end() {
    record(EV_GO_END, &[], Stamp::Stop);
}

/// entersyscall's events, while the M still owns pp: the call is traced as
/// blocking from the start (see the file head). Marks gp so exitsyscall traces
/// its return.
pub(crate) fn go_syscall(gp: *mut G, pp: *mut P) {
    event_on(pp, EV_GO_SYSCALL, &[0]);
    event_on(pp, EV_GO_SYSBLOCK, &[]);
    event_on(pp, EV_PROC_STOP, &[]);
    // SAFETY: gp is the running goroutine (ours); sysblocktraced is atomic.
    unsafe { (*gp).sysblocktraced.store(true, Relaxed) };
}

/// exitsyscall's events once gp holds a P again (or, with no P, only GoSysExit into
/// the global buffer: GoStart comes when a P runs it). Only for a traced call.
pub(crate) fn go_sysexit(gp: *mut G, start: bool) {
    // SAFETY: gp is ours (the returning goroutine); sysblocktraced is atomic.
    if !unsafe { (*gp).sysblocktraced.swap(false, Relaxed) } {
        return;
    }
    let s = next_seq(gp);
    let about = About { gp, local: 0 };
    record_g(
        EV_GO_SYSEXIT,
        &[goid(gp), s, 0],
        Stamp::Ordered,
        Some(about),
    );
    if start {
        go_start(gp);
    }
}

/// ProcStart: this M took pp.
pub(crate) fn proc_start(pp: *mut P) {
    // SAFETY: getm() is our M; id is immutable.
    let id = unsafe { (*getm()).id } as u64;
    event_on(pp, EV_PROC_START, &[id]);
}

/// ProcStop: this M gives pp up.
pub(crate) fn proc_stop(pp: *mut P) {
    event_on(pp, EV_PROC_STOP, &[]);
}

/// Gomaxprocs: the number of Ps is now n.
pub(crate) fn gomaxprocs(n: usize) {
    event(EV_GOMAXPROCS, &[n as u64, 0]);
}

/// The stack id of a creation site (1-based; 0 when the table is full).
fn stack_id(at: &'static Location<'static>) -> u64 {
    let key = at as *const Location as usize;
    let Some(_g) = lock(&STACK_LOCK) else {
        return 0;
    };
    // SAFETY: STACK_LOCK is held.
    let Some(tab) = (unsafe { &mut *STACKS.0.get() }) else {
        return 0;
    };
    let mut i = (key >> 3).wrapping_mul(0x9e37_79b9) % STACK_SLOTS;
    for _ in 0..STACK_SLOTS {
        if tab[i] == key {
            return i as u64 + 1;
        }
        if tab[i] == 0 {
            tab[i] = key;
            return i as u64 + 1;
        }
        i = (i + 1) % STACK_SLOTS;
    }
    0
}

/// The creation site of stack id (stack_id's), if any. Takes STACK_LOCK (after
/// WRITE_LOCK, by the JSON writer).
pub(crate) fn site(id: u64) -> Option<&'static Location<'static>> {
    let _g = lock(&STACK_LOCK)?;
    // SAFETY: STACK_LOCK is held.
    let tab = unsafe { &*STACKS.0.get() }.as_ref()?;
    let key = *tab.get((id as usize).checked_sub(1)?)?;
    // SAFETY: keys are &'static Locations put by stack_id (0: none).
    (key != 0).then(|| unsafe { &*(key as *const Location) })
}

/// Give P pp a buffer if tracing and it has none. Runs with no runtime lock held
/// (it allocates): at trace start and from allpgrow.
pub(crate) fn alloc_pbuf(pp: *mut P) {
    if !on() && FD.load(Relaxed) < 0 {
        return;
    }
    // SAFETY: Ps are never freed; tracebuf is atomic.
    let slot = unsafe { &(*pp).tracebuf };
    if !slot.load(Acquire).is_null() {
        return;
    }
    // SAFETY: P ids are immutable.
    let b = Box::into_raw(TraceBuf::new(unsafe { (*pp).id }));
    // Release: publishes the initialised buffer to the P's holder (Acquire).
    if slot
        .compare_exchange(core::ptr::null_mut(), b, Release, Acquire)
        .is_err()
    {
        // SAFETY: b was never published.
        drop(unsafe { Box::from_raw(b) });
    }
}

/// P pp was destroyed (procresize shrank GOMAXPROCS): write its buffer out now,
/// as Go's p.destroy flushes pp.tracebuf. finish visits only the live Ps, so the
/// events of a P removed during a trace were otherwise missing from its file (which
/// go tool trace then rejected), and turned up in a later trace's once the P came
/// back. Runs with the world stopped (nobody holds pp) and no runtime lock held.
pub(crate) fn flush_dead_p(pp: *mut P) {
    // SAFETY: Ps are never freed; tracebuf is atomic.
    let b = unsafe { (*pp).tracebuf.load(Acquire) };
    if !b.is_null() {
        // SAFETY: pp is dead and the world stopped: nobody else writes its buffer.
        unsafe { (*b).flush() };
    }
}

/// Open path and set up the buffers; the caller then turns tracing on. A path
/// ending in .json gets JSON (tracejson.rs). Runs with no runtime lock held (it
/// allocates). Returns -errno on failure.
///
/// `on_goroutine`: the caller is a goroutine holding a P (trace::start, before it
/// stops the world), so the open is a blocking system call (entersyscall, as Go's
/// os.Create): opening a FIFO waits for a reader, and the P goes on running the
/// other goroutines meanwhile (it used to keep the P, so with GOMAXPROCS=1 every
/// goroutine waited). At boot (GORT_TRACE, on g0 before any goroutine) the open is
/// a plain call: there is nothing else to run.
fn setup(path: &[u8], on_goroutine: bool) -> Result<(), isize> {
    // Relaxed: read by ticks only after ON is set (Release) below.
    HAS_RDTSCP.store(cpu_has_rdtscp(), Relaxed);
    let json = path.ends_with(b".json");
    let mut p = alloc::vec::Vec::with_capacity(path.len() + 1);
    p.extend_from_slice(path);
    p.push(0);
    let Ok(c) = core::ffi::CStr::from_bytes_with_nul(&p) else {
        return Err(-22);
    };
    // O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode 0644; again on EINTR (as Go).
    let open = || loop {
        let fd = sys_linux::fssys::openat(c, 0o1 | 0o100 | 0o1000 | 0o2000000, 0o644);
        if fd != -4 {
            break fd;
        }
    };
    let fd = if on_goroutine {
        let entered = super::proc::entersyscall();
        let fd = open();
        super::proc::exitsyscall(entered);
        fd
    } else {
        open()
    };
    if fd < 0 {
        return Err(fd);
    }
    let stacks = Box::new([0usize; STACK_SLOTS]);
    {
        let _g = STACK_LOCK.lock();
        // SAFETY: STACK_LOCK is held.
        unsafe { *STACKS.0.get() = Some(stacks) };
    }
    {
        let _g = GLOBAL_LOCK.lock();
        // SAFETY: GLOBAL_LOCK is held.
        unsafe { *GLOBAL.0.get() = Some(TraceBuf::new(-1)) };
    }
    // The JSON writer, allocated before the lock is taken (kept for later traces),
    // and the tick rate it converts with.
    let have = WRITE_LOCK.lock().is_some();
    let fresh = (json && !have).then(Out::new);
    let mult = if json {
        super::tracejson::calibrate(TICK_DIV)
    } else {
        0
    };
    {
        let mut w = WRITE_LOCK.lock();
        FD.store(fd as i32, Relaxed);
        if let Some(out) = fresh {
            *w = Some(out);
        }
    }
    // FD is set: the Ps get buffers (alloc_pbuf checks it). Every P made so far (a
    // prefix of allp), not only the live ones: a P that GOMAXPROCS removed may come
    // back during the trace, and allpgrow gives buffers only to the Ps it makes.
    for i in 0..super::runtime2::MAX_GOMAXPROCS {
        let pp = super::proc::allp(i);
        if pp.is_null() {
            break;
        }
        alloc_pbuf(pp);
    }
    START_TICKS.store(ticks(), Relaxed);
    START_NS.store(super::vdso_linux::nanotime() as u64, Relaxed);
    // The head of the file; no event is recorded before the caller sets ON.
    let mut w = WRITE_LOCK.lock();
    match w.as_deref_mut() {
        Some(out) if json => out.begin(fd as i32, START_TICKS.load(Relaxed), mult),
        Some(out) => out.on = false,
        None => {}
    }
    if !json {
        write_fd(fd as i32, b"go 1.19 trace\0\0\0");
    }
    Ok(())
}

/// GORT_TRACE=path: start tracing at boot (schedinit, before procresize and
/// before any goroutine exists). A path that cannot be opened is reported and the
/// program runs untraced.
#[cold]
#[inline(never)]
pub(crate) fn init_from_env() {
    let Some(path) = super::runtime1::getenv(b"GORT_TRACE") else {
        return;
    };
    if path.is_empty() {
        return;
    }
    match setup(path, false) {
        Ok(()) => ON.store(true, Release),
        // The errno as a number: naming it would link the errno table into every
        // program.
        Err(e) => super::print::rt_eprintln!(
            "runtime: GORT_TRACE: cannot create {}: errno {}",
            core::str::from_utf8(path).unwrap_or("?"),
            -e
        ),
    }
}

/// gort::trace::start: stop the world, open path, describe the goroutines that
/// exist, and record from now on. Runs on a goroutine with no runtime lock held.
pub(crate) fn start(path: &[u8]) -> Result<(), isize> {
    // One start at a time: two goroutines starting at once both saw no trace
    // yet (FD), both opened a file and wrote a snapshot, and the first file's fd
    // leaked. The loser of this flag, or a start while a trace is written, gets
    // EBUSY. Acquire/Release: a start after this one ends sees its FD.
    if STARTING.swap(true, Acquire) {
        return Err(-16); // EBUSY: another start is under way
    }
    // Inside gort::blocking: leave the system call (stopping the world needs a P).
    let r = super::proc::with_p(|| start_alone(path));
    STARTING.store(false, Release);
    r
}

/// Set by the start under way (see start).
static STARTING: AtomicBool = AtomicBool::new(false);

/// start, alone (STARTING held), on a goroutine whose M holds a P.
fn start_alone(path: &[u8]) -> Result<(), isize> {
    if FD.load(Relaxed) >= 0 {
        return Err(-16); // EBUSY: a trace is already being written
    }
    setup(path, true)?;
    super::proc::stop_the_world();
    let me = getg();
    let cur = {
        let mp = acquirem();
        mp.p()
    };
    ON.store(true, Release);
    gomaxprocs(super::proc::gomaxprocs());
    for gp in super::proc::allgs_in_creation_order() {
        // SAFETY: the world is stopped: Gs do not change status under us (but our
        // own, running); allgs entries are never freed.
        let st = unsafe { (*gp).atomicstatus.load(Acquire) };
        if st == super::runtime2::GDEAD || st == super::runtime2::GIDLE || gp == me {
            continue;
        }
        // SAFETY: as above.
        go_create(gp, unsafe { (*gp).createdat });
        if st == super::runtime2::GWAITING {
            next_seq(gp);
            event(EV_GO_WAITING, &[goid(gp)]);
        } else if st == super::runtime2::GSYSCALL {
            next_seq(gp);
            // SAFETY: as above; sysblocktraced is atomic.
            unsafe { (*gp).sysblocktraced.store(true, Relaxed) };
            event(EV_GO_INSYSCALL, &[goid(gp)]);
        }
    }
    // The caller: created, then running on its P (Go's traceProcStart +
    // traceGoStart).
    // SAFETY: we are a live G.
    go_create(me, unsafe { (*me).createdat });
    proc_start(cur);
    go_start(me);
    super::proc::start_the_world(0);
    Ok(())
}

/// gort::trace::stop and a normal exit: stop the world, flush every buffer, write
/// the frequency, stacks and strings, close the file. Runs on a goroutine with no
/// runtime lock held. Does nothing if no trace is being written.
pub(crate) fn stop() {
    if !on() {
        return;
    }
    // Inside gort::blocking: leave the system call (stopping the world needs a P).
    super::proc::with_p(|| {
        super::proc::stop_the_world();
        finish();
        super::proc::start_the_world(0);
    });
}

/// Flush what can be flushed without stopping the world (a fatal error, a panic,
/// SIGQUIT): other Ms may be mid-event, so the last events may be lost. Any
/// thread; no allocation.
pub(crate) fn flush_at_death() {
    if on() {
        // Relaxed: see DYING.
        DYING.store(true, Relaxed);
        finish();
    }
}

/// gort::exit: stop the trace with the world stopped when the caller is a
/// goroutine free to wait for that, else flush it as a dying process does.
pub(crate) fn stop_for_exit() {
    if !on() {
        return;
    }
    let gp = getg();
    // SAFETY: getg() is the running g and getm() its M; g0 is immutable, locks
    // and atomicstatus atomic.
    let free = unsafe {
        gp != (*getm()).g0
            && (*getm()).locks.load(Relaxed) == 0
            && (*gp).atomicstatus.load(Relaxed) == super::runtime2::GRUNNING
    };
    if free {
        stop();
    } else {
        flush_at_death();
    }
}

/// Turn tracing off and write everything out. The world is stopped, or the
/// process is dying.
fn finish() {
    ON.store(false, Relaxed);
    for i in 0..super::proc::allp_len() {
        let pp = super::proc::allp(i);
        // SAFETY: Ps are never freed; with the world stopped nobody writes the
        // buffer (when dying: best effort).
        let b = unsafe { (*pp).tracebuf.load(Acquire) };
        if !b.is_null() {
            // SAFETY: as above.
            unsafe { (*b).flush() };
        }
    }
    if let Some(_g) = lock(&GLOBAL_LOCK) {
        // SAFETY: GLOBAL_LOCK is held.
        if let Some(b) = unsafe { &mut *GLOBAL.0.get() } {
            b.flush();
        }
    }
    if !finish_json() {
        finish_binary();
    }
    let Some(_w) = lock(&WRITE_LOCK) else { return };
    let fd = FD.swap(-1, Relaxed);
    if fd >= 0 {
        sys_linux::close(fd);
    }
}

/// finish for a JSON trace (false if the trace is binary): close the running
/// slices, name the rows, close the JSON.
fn finish_json() -> bool {
    // GLOBAL_LOCK before WRITE_LOCK; without it (dying) the global row's last slice
    // stays open.
    let global = lock(&GLOBAL_LOCK);
    let Some(mut w) = lock(&WRITE_LOCK) else {
        return false;
    };
    let Some(out) = w.as_deref_mut().filter(|o| o.on) else {
        return false;
    };
    let now = ticks();
    if global.is_some() {
        // SAFETY: GLOBAL_LOCK is held.
        if let Some(b) = unsafe { &mut *GLOBAL.0.get() } {
            out.close_running(-1, &mut b.run, now);
        }
    }
    let n = super::proc::allp_len();
    for i in 0..n {
        // SAFETY: Ps are never freed; with the world stopped nobody writes the
        // buffer (when dying: best effort).
        let b = unsafe { (*super::proc::allp(i)).tracebuf.load(Acquire) };
        if !b.is_null() {
            // SAFETY: as above.
            let b = unsafe { &mut *b };
            out.close_running(b.pid, &mut b.run, now);
        }
    }
    out.end(n);
    true
}

/// finish for a binary trace: the frequency, the stacks and their strings.
fn finish_binary() {
    // Frequency, stacks and strings, in a scratch batch of their own.
    let mut tail = [0u8; 512];
    let mut n = 0;
    let mut put = |bytes: &[u8], n: &mut usize, tail: &mut [u8; 512]| {
        if *n + bytes.len() > tail.len() {
            write_out(&tail[..*n]);
            *n = 0;
        }
        tail[*n..*n + bytes.len()].copy_from_slice(bytes);
        *n += bytes.len();
    };
    let dt = ticks().saturating_sub(START_TICKS.load(Relaxed)).max(1);
    let dns = (super::vdso_linux::nanotime() as u64)
        .saturating_sub(START_NS.load(Relaxed))
        .max(1);
    let freq = (dt as u128 * 1_000_000_000 / dns as u128) as u64;
    let mut ev = [0u8; 128];
    let l = encode(&mut ev, EV_FREQUENCY, &[freq.max(1)]);
    put(&ev[..l], &mut n, &mut tail);
    if let Some(_g) = lock(&STACK_LOCK) {
        // SAFETY: STACK_LOCK is held.
        if let Some(tab) = unsafe { &*STACKS.0.get() } {
            for (i, &key) in tab.iter().enumerate() {
                if key == 0 {
                    continue;
                }
                // SAFETY: keys are &'static Locations put by stack_id.
                let at: &Location = unsafe { &*(key as *const Location) };
                let id = i as u64 + 1;
                // Strings 2i+1 (function: the creation site) and 2i+2 (file).
                let (sf, sl) = (2 * id + 1, 2 * id + 2);
                let mut name = [0u8; 300];
                let nl = site_name(&mut name, at);
                put_string(&mut put, &mut n, &mut tail, sf, &name[..nl]);
                let file = at.file().as_bytes();
                put_string(
                    &mut put,
                    &mut n,
                    &mut tail,
                    sl,
                    &file[..file.len().min(250)],
                );
                let l = encode(
                    &mut ev,
                    EV_STACK,
                    &[id, 1, key as u64, sf, sl, at.line() as u64],
                );
                put(&ev[..l], &mut n, &mut tail);
            }
        }
    }
    write_out(&tail[..n]);
}

/// "created at file:line", the function name go tool trace shows for a group of
/// goroutines. Returns its length.
fn site_name(buf: &mut [u8; 300], at: &Location) -> usize {
    struct W<'a>(&'a mut [u8], usize);
    impl core::fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let n = s.len().min(self.0.len() - self.1);
            self.0[self.1..self.1 + n].copy_from_slice(&s.as_bytes()[..n]);
            self.1 += n;
            Ok(())
        }
    }
    let mut w = W(buf, 0);
    let _ = core::fmt::Write::write_fmt(&mut w, format_args!("go@{}:{}", at.file(), at.line()));
    w.1
}

/// Append EvString(id, s).
fn put_string(
    put: &mut impl FnMut(&[u8], &mut usize, &mut [u8; 512]),
    n: &mut usize,
    tail: &mut [u8; 512],
    id: u64,
    s: &[u8],
) {
    let mut hdr = [0u8; 32];
    let mut h = 0;
    hdr[h] = EV_STRING;
    h += 1;
    h += leb(&mut hdr[h..], id);
    h += leb(&mut hdr[h..], s.len().max(1) as u64);
    put(&hdr[..h], n, tail);
    put(if s.is_empty() { b"?" } else { s }, n, tail);
}

/// LEB128 into out; returns the length.
fn leb(out: &mut [u8], mut v: u64) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        out[i] = v as u8 | 0x80;
        v >>= 7;
        i += 1;
    }
    out[i] = v as u8;
    i + 1
}

/// An event without a timestamp (EvFrequency, EvStack), length-prefixed when it has
/// more than three arguments. Returns its length.
fn encode(out: &mut [u8; 128], ev: u8, args: &[u64]) -> usize {
    if args.len() < 4 {
        out[0] = ev | (((args.len() - 1) as u8) << 6);
        let mut i = 1;
        for &a in args {
            i += leb(&mut out[i..], a);
        }
        i
    } else {
        out[0] = ev | (3 << 6);
        let mut body = [0u8; 120];
        let mut b = 0;
        for &a in args {
            b += leb(&mut body[b..], a);
        }
        let mut i = 1 + leb(&mut out[1..], b as u64);
        out[i..i + b].copy_from_slice(&body[..b]);
        i += b;
        i
    }
}

/// Whether a trace file is being written (gort::trace::start refuses a second).
pub(crate) fn active() -> bool {
    FD.load(Relaxed) >= 0
}

/// The per-P buffer slot type (runtime2's P::tracebuf).
pub(crate) type BufSlot = AtomicPtr<TraceBuf>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_encode_as_go_reads_them() {
        let mut b = TraceBuf::new(3);
        b.begin(1000);
        // Three arguments with the timestamp: inline, narg-1 = 2 in the top bits.
        b.event(EV_GO_START, 1010, &[7, 1]);
        assert_eq!(
            &b.data[..b.pos],
            &[
                EV_BATCH | 1 << 6,
                3,
                0xe8,
                0x07,
                EV_GO_START | 2 << 6,
                10,
                7,
                1
            ]
        );
        // Four: length-prefixed.
        let p = b.pos;
        b.event(EV_GO_UNBLOCK, 1300, &[7, 2, 0]);
        assert_eq!(
            &b.data[p..b.pos],
            &[EV_GO_UNBLOCK | 3 << 6, 5, 0xa2, 0x02, 7, 2, 0]
        );
        let mut out = [0u8; 128];
        let l = encode(&mut out, EV_STACK, &[1, 1, 300, 3, 4, 12]);
        assert_eq!(
            &out[..l],
            &[EV_STACK | 3 << 6, 7, 1, 1, 0xac, 0x02, 3, 4, 12]
        );
    }

    /// A batch as JSON: a goroutine's slice from GoStart to its block, an instant
    /// inside it, a slice open across batches closed by finish, a torn batch
    /// dropped.
    #[test]
    fn batches_become_json() {
        let mut o = Out::new();
        // 1 ns per tick; ts 0 at tick 1000. fd -1: nothing is written out.
        o.begin(-1, 1000, 1 << 32);
        let mut b = TraceBuf::new(2);
        b.begin(1000);
        b.event(EV_GO_START, 1500, &[7, 1]);
        b.event(EV_GO_UNBLOCK, 2000, &[9, 2, 0]);
        b.event(EV_GO_BLOCK_RECV, 3250, &[0]);
        let mut run = Running::NONE;
        o.batch(&b.data[..b.pos], &mut run);
        let t = o.text_for_test();
        assert!(
            t.starts_with("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n{\"ph\":\"M\""),
            "{t}"
        );
        for want in [
            ",\n{\"ph\":\"i\",\"pid\":1,\"tid\":2,\"s\":\"t\",\"ts\":1.000,\
             \"name\":\"GoUnblock\",\"args\":{\"goid\":9}}",
            ",\n{\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":0.500,\"dur\":1.750,\
             \"name\":\"G7\",\"args\":{\"goid\":7,\"end\":\"chan receive\"}}",
        ] {
            assert!(t.contains(want), "{want} not in {t}");
        }
        b.begin(4000);
        b.event(EV_GO_START, 4100, &[3, 1]);
        o.batch(&b.data[..b.pos], &mut run);
        o.close_running(-1, &mut run, 5100);
        let t = o.text_for_test();
        assert!(
            t.ends_with(
                "\"tid\":1024,\"ts\":3.100,\"dur\":1.000,\"name\":\"G3\",\
                 \"args\":{\"goid\":3,\"end\":\"trace stopped\"}}"
            ),
            "{t}"
        );
        let n = t.len();
        o.batch(&[EV_BATCH | 1 << 6, 0, 0x80], &mut run);
        o.batch(
            &[EV_BATCH | 1 << 6, 0, 1, EV_GO_UNBLOCK | 3 << 6, 50, 1],
            &mut run,
        );
        assert_eq!(o.text_for_test().len(), n);
    }
}
