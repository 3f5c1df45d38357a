//! The execution trace as Chrome trace-event JSON (`GORT_TRACE=path.json`), for
//! ui.perfetto.dev and chrome://tracing: what Go's cmd/trace does to a finished
//! trace for its viewer (generateTrace, the traceviewer format), done by the runtime
//! batch by batch as it writes the trace.
//!
//! # Streaming
//!
//! Recording is the binary trace's (trace.rs): the same per-P buffers, the same
//! events, the same cost. Only a buffer's flush differs: instead of writing the
//! batch, trace.rs hands it here under WRITE_LOCK (which owns the `Out` below), and
//! the batch is decoded and written as JSON text through a 64 KiB text buffer. So the
//! file grows as the binary one would, and nothing but the text buffer is held.
//!
//! # Time
//!
//! Events carry ticks (RDTSC / 64); JSON wants microseconds. The binary trace writes
//! the tick rate (EvFrequency) at the end; a stream needs it at the start, so setup
//! measures it then (`calibrate`: 1 ms of the monotonic clock against the TSC, once
//! per trace) and every batch converts with it: `ts` is the time since the trace
//! started, µs with three decimals (ns precision; a tick is ~20 ns).
//!
//! # What is written
//!
//! One object: `{"displayTimeUnit":"ns","traceEvents":[` at setup, the events, `]}`
//! at finish. Process "gort" (pid 1); one row (tid) per P, named `P<id>`, and one for
//! the events of Ms without a P (trace.rs's global batch, P -1): tid NO_P_TID, named
//! "no P". A goroutine running on a P is a complete event (`"ph":"X"`) on the P's
//! row, named `G<goid>`, from its GoStart to what ends it (GoEnd, GoSched, GoPreempt,
//! GoSleep, GoBlock*, GoSysBlock, ProcStop), args `goid` and `end`: the reason, Go's
//! wait reason for a block ("chan receive", "select", "IO wait", ...). Instants
//! (`"ph":"i"`, thread scope) for GoCreate (the new goroutine's `goid` and the `site`
//! of the `go` call), GoUnblock, GoSysCall, GoSysExit, GoWaiting, GoInSyscall
//! (`goid`), ProcStart (`thread`: the M), ProcStop, Gomaxprocs (`procs`).
//!
//! A slice may span batches (GoStart in one, the block in the next flush), so each
//! buffer carries its `Running` goroutine from one flush to the next; finish closes
//! the slices still open (the goroutine that stopped the trace) at the trace's end.
//!
//! # Valid JSON to the end
//!
//! Each event is written whole, a comma before all but the first. finish closes the
//! array and the object, also when a dying process flushes (flush_at_death); only
//! when even that cannot take WRITE_LOCK (the dying thread interrupted its holder)
//! does the file end unclosed. Decoding is defensive: while a process dies other Ms
//! may still be recording into the buffers being flushed, so a batch is read with
//! bounds checks and dropped from the first event that does not parse.

use core::panic::Location;

use super::trace::{
    EV_BATCH, EV_GOMAXPROCS, EV_GO_BLOCK, EV_GO_BLOCK_COND, EV_GO_BLOCK_NET, EV_GO_BLOCK_RECV,
    EV_GO_BLOCK_SELECT, EV_GO_BLOCK_SEND, EV_GO_BLOCK_SYNC, EV_GO_CREATE, EV_GO_END,
    EV_GO_INSYSCALL, EV_GO_PREEMPT, EV_GO_SCHED, EV_GO_SLEEP, EV_GO_START, EV_GO_START_LOCAL,
    EV_GO_SYSBLOCK, EV_GO_SYSCALL, EV_GO_SYSEXIT, EV_GO_UNBLOCK, EV_GO_UNBLOCK_LOCAL,
    EV_GO_WAITING, EV_PROC_START, EV_PROC_STOP,
};

/// The row of the events of Ms without a P (P ids stay below 1024).
const NO_P_TID: u64 = 1024;
/// Bytes of JSON text buffered before a write(2).
const OUT_SIZE: usize = 64 << 10;

/// What a P's buffer carries from one batch to the next: the goroutine running on
/// the P (0: none) and since when (ticks). Touched by whoever flushes the buffer, under
/// WRITE_LOCK.
#[derive(Clone, Copy)]
pub(crate) struct Running {
    g: u64,
    since: u64,
}

impl Running {
    pub(crate) const NONE: Running = Running { g: 0, since: 0 };
}

/// The JSON writer of the trace being written: owned by trace.rs's WRITE_LOCK.
/// Allocated by the first JSON trace and kept (a later trace reuses it).
pub(crate) struct Out {
    /// The current trace is JSON (else the binary writer is in use).
    pub(crate) on: bool,
    fd: i32,
    /// Bytes in buf.
    n: usize,
    /// An event has been written: the next one needs a comma.
    any: bool,
    /// Ticks when the trace started (ts 0), and ns per tick in 32.32 fixed point.
    t0: u64,
    mult: u64,
    /// One more than the highest P id with a batch in this trace: the rows `end`
    /// names, besides the live Ps (a P removed by a GOMAXPROCS change keeps its row).
    rows: u64,
    buf: [u8; OUT_SIZE],
}

/// Ticks per ns, measured: spin 1 ms on the monotonic clock and count TSC cycles.
/// Returns ns per tick in 32.32 fixed point. Runs once per JSON trace, at setup.
#[cold]
#[inline(never)]
pub(crate) fn calibrate(tick_div: u32) -> u64 {
    let rdtsc = || {
        // SAFETY: RDTSC reads the time-stamp counter; it has no memory effects.
        unsafe { core::arch::x86_64::_rdtsc() }
    };
    // One call site of nanotime (it is inlined): the first pass takes the start.
    let (mut c0, mut n0) = (0, 0);
    let (c1, n1) = loop {
        let n = super::vdso_linux::nanotime();
        let c = rdtsc();
        if c0 == 0 {
            (c0, n0) = (c, n);
        } else if n - n0 >= 1_000_000 {
            break (c, n);
        }
        core::hint::spin_loop();
    };
    let cycles = c1.saturating_sub(c0).max(1);
    ((((n1 - n0) as u128) << (32 + tick_div)) / cycles as u128) as u64
}

impl Out {
    /// A zeroed Out on the heap (64 KiB: no stack temporary). Runs with no lock held.
    #[cold]
    #[inline(never)]
    pub(crate) fn new() -> alloc::boxed::Box<Out> {
        let layout = core::alloc::Layout::new::<Out>();
        // SAFETY: Out is non-zero-sized; all-zero bytes are a valid Out (integers,
        // bools and a byte array).
        unsafe {
            let p = alloc::alloc::alloc_zeroed(layout) as *mut Out;
            if p.is_null() {
                alloc::alloc::handle_alloc_error(layout);
            }
            alloc::boxed::Box::from_raw(p)
        }
    }

    /// Begin a JSON trace on fd: t0 is tick 0, mult from calibrate. Writes the head
    /// and the process's name.
    #[cold]
    #[inline(never)]
    pub(crate) fn begin(&mut self, fd: i32, t0: u64, mult: u64) {
        (self.on, self.fd, self.n, self.any) = (true, fd, 0, false);
        (self.t0, self.mult, self.rows) = (t0, mult, 0);
        self.put(b"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
        self.meta(None, b"process_name", b"gort", None);
    }

    /// Append bytes, writing the buffer out whenever it fills.
    #[inline(never)]
    fn put(&mut self, mut s: &[u8]) {
        while !s.is_empty() {
            if self.n == OUT_SIZE {
                self.drain();
            }
            let k = s.len().min(OUT_SIZE - self.n);
            self.buf[self.n..self.n + k].copy_from_slice(&s[..k]);
            self.n += k;
            s = &s[k..];
        }
    }

    /// Write the buffered text to the file.
    #[cold]
    #[inline(never)]
    fn drain(&mut self) {
        super::trace::write_fd(self.fd, &self.buf[..self.n]);
        self.n = 0;
    }

    /// Append v in decimal (recursive: the shortest code, and at most 20 deep).
    #[inline(never)]
    fn num(&mut self, v: u64) {
        if v >= 10 {
            self.num(v / 10);
        }
        self.put(&[b'0' + (v % 10) as u8]);
    }

    /// ns since the trace started at tick t.
    fn ns(&self, t: u64) -> u64 {
        ((t.saturating_sub(self.t0) as u128 * self.mult as u128) >> 32) as u64
    }

    /// Append ns as µs with three decimals.
    #[inline(never)]
    fn micros(&mut self, ns: u64) {
        self.num(ns / 1000);
        let f = ns % 1000;
        self.put(&[
            b'.',
            b'0' + (f / 100) as u8,
            b'0' + (f / 10 % 10) as u8,
            b'0' + (f % 10) as u8,
        ]);
    }

    /// Append a JSON string's contents: `"` and `\` escaped, control bytes as spaces.
    #[inline(never)]
    fn text(&mut self, s: &[u8]) {
        for &c in s {
            match c {
                b'"' | b'\\' => self.put(&[b'\\', c]),
                0..=0x1f => self.put(b" "),
                _ => self.put(&[c]),
            }
        }
    }

    /// Start an event object: the comma, then `{"ph":"PH","pid":1,"tid":TID`.
    #[inline(never)]
    fn head(&mut self, ph: &[u8], tid: u64) {
        self.put(if self.any {
            b",\n{\"ph\":\""
        } else {
            b"\n{\"ph\":\""
        });
        self.any = true;
        self.put(ph);
        self.put(b"\",\"pid\":1,\"tid\":");
        self.num(tid);
    }

    /// A metadata event: name (thread_name, process_name) := value, followed by num
    /// if given, for row tid (None: the process).
    #[cold]
    #[inline(never)]
    fn meta(&mut self, tid: Option<u64>, name: &[u8], value: &[u8], num: Option<u64>) {
        self.head(b"M", tid.unwrap_or(0));
        self.put(b",\"name\":\"");
        self.put(name);
        self.put(b"\",\"args\":{\"name\":\"");
        self.put(value);
        if let Some(v) = num {
            self.num(v);
        }
        self.put(b"\"}}");
    }

    /// A goroutine's running slice on row tid: g ran from tick `from` to `to`; `end`
    /// says what ended it.
    #[inline(never)]
    fn slice(&mut self, tid: u64, g: u64, from: u64, to: u64, end: &[u8]) {
        let (a, b) = (self.ns(from), self.ns(to));
        self.head(b"X", tid);
        self.put(b",\"ts\":");
        self.micros(a);
        self.put(b",\"dur\":");
        self.micros(b.saturating_sub(a));
        self.put(b",\"name\":\"G");
        self.num(g);
        self.put(b"\",\"args\":{\"goid\":");
        self.num(g);
        self.put(b",\"end\":\"");
        self.put(end);
        self.put(b"\"}}");
    }

    /// An instant on row tid at tick t: `name`, with `key: v` unless key is empty, and
    /// the creation site when given.
    #[inline(never)]
    fn instant(
        &mut self,
        tid: u64,
        t: u64,
        name: &[u8],
        key: &[u8],
        v: u64,
        site: Option<&Location>,
    ) {
        let ts = self.ns(t);
        self.head(b"i", tid);
        self.put(b",\"s\":\"t\",\"ts\":");
        self.micros(ts);
        self.put(b",\"name\":\"");
        self.put(name);
        self.put(b"\",\"args\":{");
        if !key.is_empty() {
            self.put(b"\"");
            self.put(key);
            self.put(b"\":");
            self.num(v);
        }
        if let Some(at) = site {
            self.put(b",\"site\":\"");
            self.text(at.file().as_bytes());
            self.put(b":");
            self.num(at.line() as u64);
            self.put(b"\"");
        }
        self.put(b"}}");
    }

    /// End the slice of the goroutine running in `run` (if any) at tick t.
    #[inline(never)]
    fn close(&mut self, tid: u64, run: &mut Running, t: u64, end: &[u8]) {
        if run.g != 0 {
            self.slice(tid, run.g, run.since, t, end);
            run.g = 0;
        }
    }

    /// Write one batch (EvBatch and its events, as trace.rs's TraceBuf holds them) as
    /// JSON; run is the batch's P's running goroutine, carried between batches.
    pub(crate) fn batch(&mut self, b: &[u8], run: &mut Running) {
        let _ = self.decode(b, run);
    }

    /// batch's body; None at the first event that does not parse.
    #[inline(never)]
    fn decode(&mut self, b: &[u8], run: &mut Running) -> Option<()> {
        let mut r = Reader { b, i: 0 };
        if r.byte()? != EV_BATCH | 1 << 6 {
            return None;
        }
        let pid = r.var()? as i64;
        let tid = if pid < 0 { NO_P_TID } else { pid as u64 };
        if pid >= 0 {
            self.rows = self.rows.max(tid + 1);
        }
        let mut t = r.var()?;
        while let Some(h) = r.byte() {
            // Up to five arguments after the time delta (GoCreate, GoUnblock and
            // GoSysExit have three); more are skipped.
            let mut a = [0u64; 6];
            let narg = (h >> 6) as usize;
            if narg < 3 {
                for x in a.iter_mut().take(narg + 1) {
                    *x = r.var()?;
                }
            } else {
                let len = r.var()? as usize;
                let end = r.i.checked_add(len)?;
                if end > b.len() {
                    return None;
                }
                let mut k = 0;
                while r.i < end && k < a.len() {
                    a[k] = r.var()?;
                    k += 1;
                }
                r.i = end;
            }
            t = t.wrapping_add(a[0]);
            self.event(tid, h & 0x3f, t, &a[1..], run);
        }
        Some(())
    }

    /// One decoded event of type ev at tick t with arguments a (after the time).
    #[inline(never)]
    fn event(&mut self, tid: u64, ev: u8, t: u64, a: &[u64], run: &mut Running) {
        let end: &[u8] = match ev {
            EV_GO_START | EV_GO_START_LOCAL => {
                // A slice still open (none should be) ends where the next begins.
                self.close(tid, run, t, b"?");
                *run = Running { g: a[0], since: t };
                return;
            }
            EV_GO_END => b"returned",
            EV_GO_SCHED => b"Gosched",
            EV_GO_PREEMPT => b"preempted",
            EV_GO_SLEEP => b"sleep",
            EV_GO_BLOCK => b"blocked",
            EV_GO_BLOCK_SEND => b"chan send",
            EV_GO_BLOCK_RECV => b"chan receive",
            EV_GO_BLOCK_SELECT => b"select",
            EV_GO_BLOCK_SYNC => b"semacquire",
            EV_GO_BLOCK_COND => b"sync.Cond.Wait",
            EV_GO_BLOCK_NET => b"IO wait",
            EV_GO_SYSBLOCK => b"syscall",
            EV_PROC_STOP => {
                self.close(tid, run, t, b"P stopped");
                self.instant(tid, t, b"ProcStop", b"", 0, None);
                return;
            }
            _ => {
                let (name, key, v): (&[u8], &[u8], u64) = match ev {
                    EV_PROC_START => (b"ProcStart", b"thread", a[0]),
                    EV_GO_CREATE => (b"GoCreate", b"goid", a[0]),
                    EV_GO_UNBLOCK | EV_GO_UNBLOCK_LOCAL => (b"GoUnblock", b"goid", a[0]),
                    EV_GO_SYSCALL => (b"GoSysCall", b"goid", run.g),
                    EV_GO_SYSEXIT => (b"GoSysExit", b"goid", a[0]),
                    EV_GO_WAITING => (b"GoWaiting", b"goid", a[0]),
                    EV_GO_INSYSCALL => (b"GoInSyscall", b"goid", a[0]),
                    EV_GOMAXPROCS => (b"Gomaxprocs", b"procs", a[0]),
                    _ => return,
                };
                let site = if ev == EV_GO_CREATE {
                    super::trace::site(a[1])
                } else {
                    None
                };
                self.instant(tid, t, name, key, v, site);
                return;
            }
        };
        self.close(tid, run, t, end);
    }

    /// Close the trace: the slice still open on P pid's row (its running goroutine)
    /// ends at tick now. Called by finish for every P, then `end`.
    #[cold]
    #[inline(never)]
    pub(crate) fn close_running(&mut self, pid: i32, run: &mut Running, now: u64) {
        let tid = if pid < 0 { NO_P_TID } else { pid as u64 };
        self.close(tid, run, now, b"trace stopped");
    }

    /// Name the rows (P 0..nprocs, any P beyond that with events, and the no-P row),
    /// close the array and the object, and write everything out. The trace is then
    /// no longer JSON.
    #[cold]
    #[inline(never)]
    pub(crate) fn end(&mut self, nprocs: usize) {
        for i in 0..nprocs.max(self.rows as usize) {
            self.meta(Some(i as u64), b"thread_name", b"P", Some(i as u64));
        }
        self.meta(Some(NO_P_TID), b"thread_name", b"no P", None);
        self.put(b"\n]}\n");
        self.drain();
        self.on = false;
    }
}

/// A bounds-checked reader of a batch.
struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let v = *self.b.get(self.i)?;
        self.i += 1;
        Some(v)
    }

    /// LEB128 (at most ten bytes).
    #[inline(never)]
    fn var(&mut self) -> Option<u64> {
        let rest = self.b.get(self.i..)?;
        let len = rest.iter().position(|&c| c < 0x80)? + 1;
        if len > 10 {
            return None;
        }
        self.i += len;
        Some(
            rest[..len]
                .iter()
                .rev()
                .fold(0, |v, &c| v << 7 | (c & 0x7f) as u64),
        )
    }
}

#[cfg(test)]
impl Out {
    /// The text buffered so far (tests drain nothing: their fd is -1).
    pub(crate) fn text_for_test(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.n]).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings() {
        let mut o = Out::new();
        o.micros(0);
        o.put(b" ");
        o.micros(1_234_567);
        o.put(b" ");
        o.num(u64::MAX);
        o.put(b" ");
        o.text(b"a\"b\\c\n");
        assert_eq!(
            o.text_for_test(),
            "0.000 1234.567 18446744073709551615 a\\\"b\\\\c "
        );
    }
}
