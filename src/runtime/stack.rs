//! Goroutine stacks, after the role of Go's stack.go (but fixed-size, not copying).
//!
//! A stack is a range of anonymous memory, committed lazily by the kernel page by
//! page as the goroutine touches it, with an inaccessible guard page below it so that
//! an overflow faults (and the signal handler reports it) instead of silently
//! corrupting a neighbour.
//!
//! Stacks of the default size are carved from chunks of up to CHUNK_STACKS stacks
//! (fewer when stacks are large), one mmap per chunk. The guard pages are installed
//! with MADV_GUARD_INSTALL (Linux 6.13+), which marks page-table entries and keeps
//! the chunk one mapping, so a million guarded stacks cost a million page-table
//! markers, not two million mappings; where process_madvise takes it (6.15+), one
//! call guards a whole chunk. Where that is missing (older kernels; qemu-user, which
//! accepts any madvise and does nothing), a probe on the first guard page the
//! process makes finds out which, and guards fall back to mprotect, which splits the
//! mapping: two mappings per stack, so vm.max_map_count (65530 by default) caps the
//! process near 32k stacks, and exceeding it is reported as such.
//!
//! A goroutine gets its stack when it first runs (stack_attach, from execute) and gives it
//! back when it exits: free default-size stacks sit in per-P caches over a shared
//! pool, so spawning reuses a warm stack without a system call, and goroutines that
//! are created but not yet started cost no stack. Stacks of other sizes (per-spawn
//! sizes) are mapped and unmapped individually.

use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering::Relaxed};

use super::asm_amd64::gort_goexit;
use super::lock_futex::Locked;
use super::lockrank::LockRank;
use super::panic::dying_detail;
use super::runtime2::{Stack, G, P};
use crate::runtime::sys_linux::{self, MAP_NORESERVE, PROT_NONE, PROT_READ, PROT_WRITE};

/// Default goroutine stack size: 256 KiB of address space, of which only the pages a
/// goroutine touches cost memory.
pub(crate) const DEFAULT_STACK_SIZE: usize = 256 << 10;
/// Bounds for GORT_STACKSIZE and per-spawn sizes.
pub(crate) const MIN_STACK_SIZE: usize = 16 << 10;
pub(crate) const MAX_STACK_SIZE: usize = 1 << 30;
/// Stacks per chunk mapping, at most.
const CHUNK_STACKS: usize = 64;
/// A chunk holds at most this many bytes of stacks (64 default-size stacks), so a
/// large stack size makes small chunks, down to one stack each: one mapping of 64 GiB
/// for 64 stacks of 1 GiB cost qemu-user seconds per goroutine.
const CHUNK_BYTES: usize = CHUNK_STACKS * DEFAULT_STACK_SIZE;

/// How many stacks of `size` bytes a chunk holds.
fn chunk_stacks(size: usize) -> usize {
    (CHUNK_BYTES / size).clamp(1, CHUNK_STACKS)
}

const MADV_GUARD_INSTALL: usize = 102;
const GUARD_UNKNOWN: u8 = 0;
const GUARD_MADVISE: u8 = 1;
/// mprotect guards because the kernel refused MADV_GUARD_INSTALL (before Linux 6.13).
const GUARD_MPROTECT: u8 = 2;
/// mprotect guards because MADV_GUARD_INSTALL was accepted but did nothing: qemu-user
/// returns 0 from any madvise.
const GUARD_MPROTECT_IGNORED: u8 = 3;
/// How guard pages are made; decided by the probe on the first guard installed
/// (install_guard).
static GUARD_MODE: AtomicU8 = AtomicU8::new(GUARD_UNKNOWN);
/// Stacks made so far (for the vm.max_map_count message).
static NSTACKS: AtomicUsize = AtomicUsize::new(0);

/// The chunk being carved, protected by CHUNK's lock: [next, end).
struct Chunk {
    next: usize,
    end: usize,
    /// Stack size the chunk is carved for.
    size: usize,
    /// All the chunk's guard pages were installed when it was made.
    guarded: bool,
}

static CHUNK: Locked<Chunk> = Locked::new(
    LockRank::StackChunk,
    Chunk {
        next: 0,
        end: 0,
        size: 0,
        guarded: false,
    },
);

/// Size of the stack given to new goroutines (GORT_STACKSIZE, else the default).
/// Written once by stackinit at boot, before any goroutine exists.
pub(crate) static STACK_SIZE: AtomicUsize = AtomicUsize::new(DEFAULT_STACK_SIZE);
/// Bytes below stackguard0 that runtime code may still use (Go's _StackGuard).
pub(crate) const STACK_GUARD: usize = 928;

/// Bytes of inaccessible guard below each stack.
pub(crate) fn guard_size() -> usize {
    crate::runtime::os_linux::physpagesize().max(4096)
}

/// Whether guard pages are page-table markers (MADV_GUARD_INSTALL) rather than
/// separate mappings.
pub(crate) fn guards_are_markers() -> bool {
    GUARD_MODE.load(Relaxed) == GUARD_MADVISE
}

/// stackinit: choose the guard mechanism (probe) and read GORT_STACKSIZE (bytes,
/// with an optional k/m/g suffix). A malformed or out-of-range value is a fatal
/// error that says what is accepted; an empty one counts as unset, as Go treats
/// empty environment values (GOMAXPROCS=, GORT_TRACE=). Runs once during
/// schedinit, after mallocinit.
pub(crate) fn stackinit() {
    let v = crate::runtime::runtime1::getenv(b"GORT_STACKSIZE");
    if let Some(v) = v.filter(|v| !v.is_empty()) {
        match parse_stack_size(v) {
            Some(n) => STACK_SIZE.store(n, Relaxed),
            None => crate::runtime::runtime1::fatal_fmt(format_args!(
                "GORT_STACKSIZE=\"{}\" is not a stack size (bytes, or with a k, m or g suffix, from 16k to 1g)",
                v.escape_ascii()
            )),
        }
    }
}

/// The probe, run on the first guard page made: does MADV_GUARD_INSTALL really guard?
/// It must succeed, and then the kernel must refuse to write the guarded page on our
/// behalf: clock_gettime into it gives EFAULT. (qemu-user returns 0 from any madvise
/// and then writes the page happily; the page becomes an mprotect guard right after,
/// so what was written there does not matter. A probe that made the kernel *read*
/// the page would crash tools like valgrind, which read syscall inputs themselves.)
/// Returns the guard mode: GUARD_MADVISE if the page is now guarded, else why not.
fn probe_guard_install(page: usize, len: usize) -> u8 {
    // SAFETY: the page is a fresh, unused guard page; madvise only changes how it may
    // be accessed.
    if unsafe { sys_linux::madvise(page, len, MADV_GUARD_INSTALL) } != 0 {
        return GUARD_MPROTECT;
    }
    // SAFETY: as above; a timespec the kernel writes there is never read.
    if unsafe { sys_linux::clock_gettime_raw(page) } == -sys_linux::EFAULT {
        GUARD_MADVISE
    } else {
        GUARD_MPROTECT_IGNORED
    }
}

/// Parse a stack size: decimal bytes with an optional k/K (KiB), m/M (MiB) or g/G
/// (GiB) suffix, within [MIN_STACK_SIZE, MAX_STACK_SIZE], rounded up to 4 KiB.
pub(crate) fn parse_stack_size(v: &[u8]) -> Option<usize> {
    let (digits, mul) = match v.last()? {
        b'k' | b'K' => (&v[..v.len() - 1], 1usize << 10),
        b'm' | b'M' => (&v[..v.len() - 1], 1 << 20),
        b'g' | b'G' => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    if digits.is_empty() || digits.len() > 12 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits
        .iter()
        .fold(0usize, |n, &c| n * 10 + (c - b'0') as usize)
        .checked_mul(mul)?;
    (MIN_STACK_SIZE..=MAX_STACK_SIZE)
        .contains(&n)
        .then(|| n.next_multiple_of(4096))
}

/// stackalloc: a stack of `size` bytes (a multiple of the page size) with a guard
/// page below. Stacks of the default size come from chunks. Dies with a clear
/// message when the kernel refuses. Runs on any g.
pub(crate) fn stackalloc(size: usize) -> Stack {
    let guard = guard_size();
    let slot = size + guard;
    let base = if size == STACK_SIZE.load(Relaxed) {
        let mut c = CHUNK.lock();
        if c.size != size || c.next + slot > c.end {
            let len = slot * chunk_stacks(size);
            let r = sys_linux::mmap_anon(len, PROT_READ | PROT_WRITE, MAP_NORESERVE);
            if sys_linux::is_err(r) {
                drop(c);
                stack_oom(size, r);
            }
            *c = Chunk {
                next: r as usize,
                end: r as usize + len,
                size,
                guarded: guards_are_markers() && guard_chunk(r as usize, slot, guard),
            };
        }
        let b = c.next;
        c.next += slot;
        if !c.guarded {
            install_guard(b, guard);
        }
        b
    } else {
        let r = sys_linux::mmap_anon(slot, PROT_READ | PROT_WRITE, MAP_NORESERVE);
        if sys_linux::is_err(r) {
            stack_oom(size, r);
        }
        install_guard(r as usize, guard);
        r as usize
    };
    NSTACKS.fetch_add(1, Relaxed);
    Stack {
        lo: base + guard,
        hi: base + slot,
    }
}

/// stackfree: give back a stack that stackalloc made with a non-default size (a
/// default-size stack goes to the P's cache instead, in stack_detach). Nothing may
/// use it afterwards.
///
/// # Safety
/// The stack is unused and came from stackalloc with a size other than the chunked one.
pub(crate) unsafe fn stackfree(stk: Stack) {
    let guard = guard_size();
    // SAFETY: the caller guarantees nobody uses [lo - guard, hi).
    unsafe { sys_linux::munmap(stk.lo - guard, stk.hi - stk.lo + guard) };
    NSTACKS.fetch_sub(1, Relaxed);
}

/// Install every guard page of a fresh chunk with one process_madvise(PIDFD_SELF,
/// MADV_GUARD_INSTALL) over all of them (Linux 6.15+), instead of a madvise per
/// stack. False if the kernel refuses (the guards are then installed one by one).
fn guard_chunk(base: usize, slot: usize, guard: usize) -> bool {
    let n = chunk_stacks(slot - guard);
    let mut iov = [[0usize; 2]; CHUNK_STACKS];
    for (i, v) in iov.iter_mut().enumerate().take(n) {
        *v = [base + i * slot, guard];
    }
    // SAFETY: each iovec names a guard page of the fresh chunk, which nobody uses.
    let r = unsafe { sys_linux::process_madvise_self(&iov[..n], MADV_GUARD_INSTALL) };
    r == (n * guard) as isize
}

fn install_guard(base: usize, guard: usize) {
    if GUARD_MODE.load(Relaxed) == GUARD_UNKNOWN {
        let mode = probe_guard_install(base, guard);
        GUARD_MODE.store(mode, Relaxed);
        if mode == GUARD_MADVISE {
            return;
        }
    }
    let r = if GUARD_MODE.load(Relaxed) == GUARD_MADVISE {
        // SAFETY: base is the guard page of a stack nobody uses yet.
        unsafe { sys_linux::madvise(base, guard, MADV_GUARD_INSTALL) }
    } else {
        // SAFETY: as above.
        unsafe { sys_linux::mprotect(base, guard, PROT_NONE) }
    };
    if sys_linux::is_err(r) {
        if r == -sys_linux::ENOMEM && !guards_are_markers() {
            let why = if GUARD_MODE.load(Relaxed) == GUARD_MPROTECT_IGNORED {
                "MADV_GUARD_INSTALL is accepted here but has no effect (qemu-user ignores madvise)"
            } else {
                "this kernel has no MADV_GUARD_INSTALL (Linux 6.13+)"
            };
            dying_detail(format_args!(
                "runtime: cannot install the guard page of goroutine stack {}: the process has reached \
                 vm.max_map_count mappings ({why}, so each stack costs two mappings; raise \
                 vm.max_map_count)",
                NSTACKS.load(Relaxed) + 1
            ));
        } else {
            dying_detail(format_args!(
                "runtime: cannot install stack guard page: errno {}",
                -r
            ));
        }
        crate::runtime::runtime1::throw("out of memory");
    }
}

#[cold]
fn stack_oom(size: usize, r: isize) -> ! {
    dying_detail(format_args!(
        "runtime: cannot allocate {size}-byte goroutine stack ({} stacks exist): mmap failed with errno {}",
        NSTACKS.load(Relaxed),
        -r
    ));
    crate::runtime::runtime1::throw("out of memory")
}

/// Free default-size stacks shared by all Ps, linked through the word at each
/// stack's top; the lock is taken only when a P's cache over- or underflows.
///
/// A stack entering the pool is stamped with the scavenger's generation (the word
/// below the link). The scavenger (mgcscavenge.rs) returns the memory of stacks
/// that stayed in the pool for a while to the OS (`release_pool_stacks`): all but
/// the top page, which holds the link and stamp and is the first page a goroutine
/// touches anyway; the stack stays mapped and guarded. Released stacks wait on a
/// list of their own and are reused only after the resident ones.
struct Pool {
    head: usize,
    n: usize,
    /// Stacks whose memory went back to the OS.
    rel: usize,
    rel_n: usize,
}

static POOL: Locked<Pool> = Locked::new(
    LockRank::StackPool,
    Pool {
        head: 0,
        n: 0,
        rel: 0,
        rel_n: 0,
    },
);
/// A P keeps at most this many free stacks; beyond it, half go to the pool.
const STACKCACHE_MAX: u32 = 64;

/// The link word of a free stack whose top is hi.
fn link(hi: usize) -> *mut usize {
    (hi - 8) as *mut usize
}

/// The word of a pooled stack that holds the scavenger generation it entered the
/// pool in.
fn stamp(hi: usize) -> *mut usize {
    (hi - 16) as *mut usize
}

/// The current scavenger generation.
fn scav_gen() -> usize {
    super::mgcscavenge::SCAV_GEN.load(Relaxed) as usize
}

impl Pool {
    /// Push the free stack with top hi onto the resident list, stamped now.
    ///
    /// # Safety
    /// The stack is free (nothing runs on it) and on no list.
    unsafe fn push(&mut self, hi: usize) {
        // SAFETY: the stack's top words are ours while it is free.
        unsafe {
            *link(hi) = self.head;
            *stamp(hi) = scav_gen();
        }
        self.head = hi;
        self.n += 1;
    }

    /// Pop a stack: resident ones first. 0 if the pool is empty.
    fn pop(&mut self) -> usize {
        let hi = if self.head != 0 {
            self.n -= 1;
            &mut self.head
        } else if self.rel != 0 {
            self.rel_n -= 1;
            &mut self.rel
        } else {
            return 0;
        };
        let top = *hi;
        // SAFETY: pooled stacks are free; their link words are ours.
        *hi = unsafe { *link(top) };
        top
    }
}

/// Return to the OS the memory of pooled stacks that entered the pool at or before
/// scavenger generation `upto` (all but each stack's top page), moving them to the
/// released list; returns how many. The pool lock is dropped around the madvise
/// calls. Runs on any M with no runtime lock held.
#[inline(never)]
pub(crate) fn release_pool_stacks(upto: u32) -> usize {
    const MADV_DONTNEED: usize = 4;
    let size = STACK_SIZE.load(Relaxed);
    let page = guard_size();
    let mut total = 0;
    loop {
        let mut batch = [0usize; 64];
        let mut n = 0;
        {
            let mut pool = POOL.lock();
            let mut prev = 0usize;
            let mut cur = pool.head;
            while cur != 0 && n < batch.len() {
                // SAFETY: pooled stacks are free: their top words are ours.
                unsafe {
                    let next = *link(cur);
                    if *stamp(cur) <= upto as usize {
                        if prev == 0 {
                            pool.head = next;
                        } else {
                            *link(prev) = next;
                        }
                        pool.n -= 1;
                        batch[n] = cur;
                        n += 1;
                    } else {
                        prev = cur;
                    }
                    cur = next;
                }
            }
        }
        for &hi in &batch[..n] {
            // SAFETY: the stack is free and off the pool: nobody uses [lo, hi - page).
            unsafe { sys_linux::madvise(hi - size, size - page, MADV_DONTNEED) };
        }
        let mut pool = POOL.lock();
        for &hi in &batch[..n] {
            // SAFETY: free stacks, off every list.
            unsafe { *link(hi) = pool.rel };
            pool.rel = hi;
            pool.rel_n += 1;
        }
        drop(pool);
        total += n;
        if n < batch.len() {
            return total;
        }
    }
}

/// Stacks in the pool: (resident, released).
pub(crate) fn pool_counts() -> (usize, usize) {
    let pool = POOL.lock();
    (pool.n, pool.rel_n)
}

/// stackcache_get: a stack of the current default size for a G about to run on
/// pp: from pp's cache, else the shared pool, else a new one. Runs on g0; the caller
/// owns pp.
///
/// # Safety
/// The caller owns pp.
pub(crate) unsafe fn stackcache_get(pp: *mut P) -> Stack {
    let size = STACK_SIZE.load(Relaxed);
    // SAFETY: pp's cache is owner-only; pooled stacks are free, so their link words
    // are ours to read.
    unsafe {
        if (*pp).stackcache == 0 {
            let mut pool = POOL.lock();
            let mut n = 0;
            while n < STACKCACHE_MAX / 2 {
                let hi = pool.pop();
                if hi == 0 {
                    break;
                }
                *link(hi) = (*pp).stackcache;
                (*pp).stackcache = hi;
                n += 1;
            }
            (*pp).stackcachecnt += n;
        }
        let hi = (*pp).stackcache;
        if hi == 0 {
            return stackalloc(size);
        }
        (*pp).stackcache = *link(hi);
        (*pp).stackcachecnt -= 1;
        Stack { lo: hi - size, hi }
    }
}

/// stackcache_put: give back the default-size stack of a G that exited on pp.
///
/// # Safety
/// The caller owns pp; nothing runs on stk any more.
pub(crate) unsafe fn stackcache_put(pp: *mut P, stk: Stack) {
    // SAFETY: stk is free (its G exited) so its top word may hold our link; pp's
    // cache is owner-only.
    unsafe {
        *link(stk.hi) = (*pp).stackcache;
        (*pp).stackcache = stk.hi;
        (*pp).stackcachecnt += 1;
        if (*pp).stackcachecnt > STACKCACHE_MAX {
            let mut pool = POOL.lock();
            while (*pp).stackcachecnt > STACKCACHE_MAX / 2 {
                let hi = (*pp).stackcache;
                (*pp).stackcache = *link(hi);
                (*pp).stackcachecnt -= 1;
                pool.push(hi);
            }
        }
    }
}

/// Move all of a P's cached stacks to the shared pool (procresize for a dying P;
/// free_os_memory for every P).
///
/// # Safety
/// The world is stopped and pp is not running (or is being destroyed).
pub(crate) unsafe fn stackcache_release(pp: *mut P) {
    let mut pool = POOL.lock();
    // SAFETY: as above; the cached stacks are free.
    unsafe {
        while (*pp).stackcache != 0 {
            let hi = (*pp).stackcache;
            (*pp).stackcache = *link(hi);
            pool.push(hi);
        }
        (*pp).stackcachecnt = 0;
    }
}

/// The bytes of the OS stack rt0_go carves out for m0's g0 (Go's 64 KiB).
pub(crate) const G0_OS_STACK: usize = 64 << 10;

/// The stack check_os_stack runs on (bss): with a tiny RLIMIT_STACK and the kernel's
/// random offset of the initial SP, the OS stack may have no room even for a call.
/// Used once, by _start, before any other code runs.
#[repr(C, align(16))]
pub(crate) struct BootStack([u8; BOOT_STACK_SIZE]);
/// Bytes of BOOT_STACK.
pub(crate) const BOOT_STACK_SIZE: usize = 4096;
/// See BootStack.
pub(crate) static mut BOOT_STACK: BootStack = BootStack([0; BOOT_STACK_SIZE]);

/// check_os_stack: called by _start before rt0_go carves g0's stack out of the OS stack:
/// make sure the kernel lets the main thread's stack grow that far (RLIMIT_STACK,
/// `ulimit -s`), or die with a clear message instead of a raw SIGSEGV somewhere in
/// boot. argv is the kernel's, sp the aligned stack pointer that becomes g0.stack.hi.
///
/// Runs on a static stack before settls (no g, no TLS, no heap): it uses a few hundred
/// bytes of stack and writes its message in pieces, without a buffer.
pub(crate) extern "C" fn check_os_stack(argc: usize, argv: *const *const u8, sp: usize) {
    const RLIMIT_STACK: usize = 3;
    const AT_EXECFN: usize = 31;
    let Some(limit) = sys_linux::stack_rlimit(RLIMIT_STACK) else {
        return; // unlimited (or unknown)
    };
    // The top of the stack mapping: the kernel puts the program's file name (AT_EXECFN)
    // highest, just below the top; round its end up to a page.
    // SAFETY: the kernel's layout: argv[argc] = NULL, envp up to NULL, then auxv pairs
    // up to AT_NULL; AT_EXECFN points at a NUL-terminated string on this stack.
    let top = unsafe {
        let mut p = argv.add(argc + 1);
        while !(*p).is_null() {
            p = p.add(1);
        }
        let mut auxv = p.add(1) as *const usize;
        let mut execfn = 0usize;
        while *auxv != 0 {
            if *auxv == AT_EXECFN {
                execfn = *auxv.add(1);
            }
            auxv = auxv.add(2);
        }
        if execfn == 0 {
            return;
        }
        let mut end = execfn;
        while *(end as *const u8) != 0 {
            end += 1;
        }
        (end + 1).next_multiple_of(4096)
    };
    let need = top.saturating_sub(sp) + G0_OS_STACK + 4096;
    if limit >= need {
        return;
    }
    let w = |b: &[u8]| {
        sys_linux::write(2, b);
    };
    let mut buf = [0u8; 20];
    w(b"runtime: the main thread's stack is limited to ");
    w(fmt_kib(limit, &mut buf));
    w(b" KiB (ulimit -s); gort needs ");
    w(fmt_kib(need, &mut buf));
    w(b" KiB of it (64 KiB for the scheduler's g0 stack)\nfatal error: stack limit too small\n");
    sys_linux::exit_group(2);
}

/// n / 1024, rounded up, in decimal, in buf.
fn fmt_kib(n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut v = n.div_ceil(1024);
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}

/// Attach a stack to gp before it first runs: from pp's stack cache for the default
/// size, else a mapping of its own; the entry frame goes at its top (goexit+1 as the
/// return address, so that SP % 16 == 8 at gostart's entry, as after a call).
///
/// # Safety
/// On g0; the caller owns pp (its M holds it) and gp (just taken off a run queue),
/// and gp has no stack.
pub(crate) unsafe fn stack_attach(pp: *mut P, gp: *mut G) {
    // SAFETY: gp is ours and has no stack; the fresh stack's top word is ours.
    unsafe {
        let size = (*gp).stacksize;
        let stk = if size == STACK_SIZE.load(Relaxed) {
            stackcache_get(pp)
        } else {
            stackalloc(size)
        };
        (*gp).stack = stk;
        (*gp).stackguard0 = stk.lo + STACK_GUARD;
        let sp = stk.hi - 8;
        *(sp as *mut usize) = gort_goexit as *const () as usize + 1;
        (*gp).sched.sp = sp;
    }
}

/// Take the stack off a G that exited and keep it for the next one.
///
/// # Safety
/// On g0; the caller owns pp; gp is dead, so nothing runs on its stack.
pub(crate) unsafe fn stack_detach(pp: *mut P, gp: *mut G) {
    // SAFETY: gp is dead: its stack is free.
    unsafe {
        let stk = (*gp).stack;
        if stk.lo == 0 {
            return;
        }
        if stk.hi - stk.lo == STACK_SIZE.load(Relaxed) {
            stackcache_put(pp, stk);
        } else {
            stackfree(stk);
        }
        (*gp).stack = Stack::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_sizes() {
        assert_eq!(parse_stack_size(b"65536"), Some(65536));
        assert_eq!(parse_stack_size(b"64k"), Some(65536));
        assert_eq!(parse_stack_size(b"64K"), Some(65536));
        assert_eq!(parse_stack_size(b"1m"), Some(1 << 20));
        assert_eq!(parse_stack_size(b"1g"), Some(1 << 30));
        assert_eq!(
            parse_stack_size(b"20000"),
            Some(20480),
            "rounded up to pages"
        );
        for bad in [
            &b""[..],
            b"k",
            b"abc",
            b"-1",
            b"1.5m",
            b"8k",
            b"2g",
            b"99999999999999999",
        ] {
            assert_eq!(
                parse_stack_size(bad),
                None,
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
    }
}
