//! What only a freestanding program has: the global allocator, the panic handler,
//! and the mem* functions and unwinding symbols that libc would otherwise provide.
//! Not compiled for the host's unit tests.

use alloc::string::String;
use core::fmt::Write;
use core::sync::atomic::Ordering;

use crate::runtime::panic::{startpanic, Death, Report};
use crate::runtime::print::FdWriter;
use crate::runtime::{debug, proc, runtime1};

/// The global allocator: forwards to the heap in malloc.rs (HEAP, which the unit
/// tests can use without it being their allocator). It runs in every context: on
/// goroutines, on g0, on Ms without a P. With the `global-allocator` feature off (it
/// is on by default) the program brings its own `#[global_allocator]`, which then
/// also serves the runtime's own structures (Ps, Ms, G slabs, timers).
#[cfg(feature = "global-allocator")]
struct Global;

#[cfg(feature = "global-allocator")]
#[global_allocator]
static GLOBAL: Global = Global;

// SAFETY: forwards to GortHeap, which upholds GlobalAlloc's contract.
#[cfg(feature = "global-allocator")]
unsafe impl core::alloc::GlobalAlloc for Global {
    #[inline]
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { crate::runtime::malloc::HEAP.alloc(layout) }
    }
    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: core::alloc::Layout) {
        // SAFETY: forwarded contract.
        unsafe { crate::runtime::malloc::HEAP.dealloc(ptr, layout) }
    }
    #[inline]
    unsafe fn alloc_zeroed(&self, layout: core::alloc::Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { crate::runtime::malloc::HEAP.alloc_zeroed(layout) }
    }
    #[inline]
    unsafe fn realloc(
        &self,
        ptr: *mut u8,
        layout: core::alloc::Layout,
        new_size: usize,
    ) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { crate::runtime::malloc::HEAP.realloc(ptr, layout, new_size) }
    }
}

/// A panic in any goroutine ends the program, as in Go: `panic: MESSAGE`, the
/// goroutine, and exit status 2. When several goroutines panic at once, the first
/// to claim the report prints it whole and the others wait for the exit (panic.rs).
/// A goroutine formats its message before it claims (preprint).
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let text = match preprint(info) {
        Preprint::Text(s) => Some(s),
        Preprint::Direct => None,
        Preprint::Nested => panic_in_panic(info),
    };
    match startpanic(Death::Panic) {
        Report::Full => {}
        Report::PanicInPanic => panic_in_panic(info),
        Report::GiveUp => crate::runtime::sys_linux::exit_group(2),
    }
    let mut w = FdWriter::new(2);
    let _ = w.write_str("panic: ");
    // A Display that returns an error ends the message there (as std's report
    // does), not the report: its blank line and goroutine line still follow.
    match text {
        Some(s) => {
            let _ = w.write_str(&s);
        }
        None => {
            let _ = write!(w, "{}", info.message());
        }
    }
    let _ = w.write_str("\n\n");
    // Before settls there is no g to name.
    if debug::TLS_CHECK.load(Ordering::Relaxed) == 0x123 {
        let gp = proc::getg();
        // SAFETY: with TLS set up, getg() is the running g (g0 or a goroutine).
        let (goid, is_g0) = unsafe { ((*gp).goid(), gp == proc::g0() || (*(*gp).m()).g0 == gp) };
        if is_g0 {
            let _ = writeln!(w, "goroutine 0 [running on g0]:");
        } else {
            let _ = writeln!(w, "goroutine {goid} [running]:");
        }
    }
    if let Some(loc) = info.location() {
        let _ = writeln!(w, "\t{}:{}:{}", loc.file(), loc.line(), loc.column());
    }
    w.flush();
    crate::runtime::sys_linux::exit_group(2)
}

/// A panic while formatting a panic value (Go's preprintpanics): Go's message, with
/// the inner panic's, and exit 2.
fn panic_in_panic(info: &core::panic::PanicInfo) -> ! {
    // A nested panic before the claim (the value was being formatted ahead of it)
    // claims now; one after it finds this thread already dying.
    if startpanic(Death::Panic) != Report::GiveUp {
        let mut w = FdWriter::new(2);
        let _ = w.write_str("fatal error: panic while printing panic value: ");
        // A Display that fails stops the message, not the report.
        let _ = write!(w, "{}", info.message());
        let _ = w.write_str("\n");
        w.flush();
    }
    crate::runtime::sys_linux::exit_group(2)
}

/// What preprint made of a panic's message.
enum Preprint {
    /// The message, formatted.
    Text(String),
    /// Format it while printing the report (after the claim), as on g0.
    Direct,
    /// This goroutine panicked while formatting its panic value.
    Nested,
}

/// Go's preprintpanics: a goroutine formats its panic message before it claims the
/// report, while it may still park, so that a Display which sleeps or takes a
/// contended lock works (once the report is claimed the goroutine is pinned, and
/// parking would be `schedule: holding locks`). Only a goroutine that could park
/// here does so: on its own stack (not g0 or a signal stack), in GRUNNING or in
/// GSYSCALL (inside gort::blocking, where parking works too), holding no runtime
/// lock. Anywhere else, and for a message with nothing to format, the report
/// formats it after the claim, as before. May allocate (the text); if the heap is
/// exhausted, the report formats it again.
fn preprint(info: &core::panic::PanicInfo) -> Preprint {
    let msg = info.message();
    // Before settls there is no g.
    if debug::TLS_CHECK.load(Ordering::Relaxed) != 0x123 {
        return Preprint::Direct;
    }
    let gp = proc::getg();
    // SAFETY: with TLS set up, getg() is the running g; the flag is its own.
    // Relaxed: only this goroutine reads or writes it.
    if unsafe { (*gp).printing_panic.load(Ordering::Relaxed) } {
        return Preprint::Nested;
    }
    if msg.as_str().is_some() || crate::runtime::panic::dying() {
        return Preprint::Direct;
    }
    let here = 0u8;
    let sp = &here as *const u8 as usize;
    // SAFETY: gp is the running g and its M the one running it (a goroutine that
    // holds no lock may move to another M, whose m.locks it would then read: at
    // worst a spurious Direct). Relaxed: this thread's own values.
    let parkable = unsafe {
        let mp = (*gp).m();
        let st = (*gp).atomicstatus.load(Ordering::Relaxed);
        gp != (*mp).g0
            && (*mp).locks.load(Ordering::Relaxed) == 0
            && (st == crate::runtime::runtime2::GRUNNING
                || st == crate::runtime::runtime2::GSYSCALL)
            && (*gp).stack.lo <= sp
            && sp < (*gp).stack.hi
    };
    if !parkable {
        return Preprint::Direct;
    }
    // SAFETY: as above. The G never runs user code again (the report exits, or
    // another report's exit ends it), so the flag is never cleared.
    unsafe { (*gp).printing_panic.store(true, Ordering::Relaxed) };
    crate::runtime::panic::preprint_begin();
    let mut buf = TextBuf {
        s: String::new(),
        oom: false,
    };
    // A Display that fails stops the message, not the report (as std's report).
    let _ = write!(buf, "{msg}");
    if buf.oom {
        Preprint::Direct
    } else {
        Preprint::Text(buf.s)
    }
}

/// A String that reports running out of memory instead of aborting.
struct TextBuf {
    s: String,
    oom: bool,
}

impl Write for TextBuf {
    fn write_str(&mut self, part: &str) -> core::fmt::Result {
        if self.s.try_reserve(part.len()).is_err() {
            self.oom = true;
            return Err(core::fmt::Error);
        }
        self.s.push_str(part);
        Ok(())
    }
}

// The C library functions the compiler emits calls to. `rep movsb`/`rep stosb` are
// written as inline assembly so that they cannot be compiled back into a call to
// themselves. DF is clear (rt0_go's CLD; the ABI keeps it so).

/// # Safety
/// As C's memcpy: n bytes readable at src, writable at dst, not overlapping.
#[no_mangle]
pub(crate) unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // Small copies (most of them: struct moves, channel elements) use two possibly
    // overlapping loads and stores of the widest fitting size; `rep movsb` has a
    // start-up cost of tens of cycles and only wins on longer copies.
    // SAFETY: the caller guarantees the ranges; every access below is inside
    // [0, n) of both, and all loads happen before the stores of the same width.
    unsafe {
        if n <= 32 {
            small_copy(dst, src, n);
        } else {
            core::arch::asm!("rep movsb", inout("rcx") n => _, inout("rdi") dst => _,
                inout("rsi") src => _, options(nostack, preserves_flags));
        }
    }
    dst
}

/// Copy n <= 32 bytes with unaligned loads/stores; the ranges may not overlap.
#[inline(always)]
unsafe fn small_copy(dst: *mut u8, src: *const u8, n: usize) {
    use core::ptr::{read_unaligned as rd, write_unaligned as wr};
    // SAFETY: the caller guarantees n readable/writable bytes; each pair of accesses
    // covers [0, n) from both ends.
    unsafe {
        if n >= 16 {
            let (a, b) = (rd(src as *const u128), rd(src.add(n - 16) as *const u128));
            wr(dst as *mut u128, a);
            wr(dst.add(n - 16) as *mut u128, b);
        } else if n >= 8 {
            let (a, b) = (rd(src as *const u64), rd(src.add(n - 8) as *const u64));
            wr(dst as *mut u64, a);
            wr(dst.add(n - 8) as *mut u64, b);
        } else if n >= 4 {
            let (a, b) = (rd(src as *const u32), rd(src.add(n - 4) as *const u32));
            wr(dst as *mut u32, a);
            wr(dst.add(n - 4) as *mut u32, b);
        } else if n > 0 {
            let (a, b, c) = (*src, *src.add(n / 2), *src.add(n - 1));
            *dst = a;
            *dst.add(n / 2) = b;
            *dst.add(n - 1) = c;
        }
    }
}

/// # Safety
/// As C's memmove: n bytes readable at src and writable at dst; they may overlap.
#[no_mangle]
pub(crate) unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // dst is below src or past its end: a forward copy never reads a byte it
        // already overwrote.
        // SAFETY: as above.
        unsafe {
            core::arch::asm!("rep movsb", inout("rcx") n => _, inout("rdi") dst => _,
                inout("rsi") src => _, options(nostack, preserves_flags));
        }
    } else {
        // Overlap with dst above src: copy backwards (STD, then CLD to restore).
        // SAFETY: as above; the pointers start at the last byte of each range.
        unsafe {
            core::arch::asm!("std", "rep movsb", "cld", inout("rcx") n => _,
                inout("rdi") dst.add(n - 1) => _, inout("rsi") src.add(n - 1) => _,
                options(nostack));
        }
    }
    dst
}

/// # Safety
/// As C's memset: n bytes writable at dst.
#[no_mangle]
pub(crate) unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees the range; rep stosb stores al n times.
    unsafe {
        core::arch::asm!("rep stosb", inout("rcx") n => _, inout("rdi") dst => _,
            in("al") c as u8, options(nostack, preserves_flags));
    }
    dst
}

/// # Safety
/// As C's memcmp: n bytes readable at a and b.
#[no_mangle]
pub(crate) unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n, inside both ranges. Volatile keeps this loop from being
        // recognised as memcmp and compiled into a call to itself.
        let (x, y) = unsafe {
            (
                core::ptr::read_volatile(a.add(i)),
                core::ptr::read_volatile(b.add(i)),
            )
        };
        if x != y {
            return x as i32 - y as i32;
        }
        i += 1;
    }
    0
}

/// # Safety
/// As C's strlen: s is NUL-terminated.
#[no_mangle]
pub(crate) unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: every byte up to the NUL is readable. Volatile, as in memcmp.
    while unsafe { core::ptr::read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}

/// # Safety
/// As C's bcmp.
#[no_mangle]
pub(crate) unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

/// Programs are built with panic=abort, but the precompiled core/alloc carry unwind
/// tables that name these symbols. They are never called.
#[no_mangle]
pub(crate) extern "C" fn rust_eh_personality() {}

#[no_mangle]
pub(crate) extern "C" fn _Unwind_Resume() -> ! {
    runtime1::throw("_Unwind_Resume called: unwinding is not supported")
}
