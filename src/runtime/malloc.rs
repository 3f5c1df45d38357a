//! Memory allocator, after Go's malloc.go: the global allocator in front of the
//! per-P caches, the central lists and the page heap.
//!
//! # Layers
//!
//! Objects of at most 32 KiB are rounded up to one of 67 size classes
//! (sizeclasses.rs) and served by the current P's cache (mcache.rs): a pop or a push
//! on a per-class list, with no lock and no atomic read-modify-write. A cache that
//! runs dry or overflows moves a batch of objects from or to the class's central
//! list (mcentral.rs, one lock per class), which keeps whole batches in a transfer
//! cache and otherwise carves objects from spans of pages it gets from the page
//! heap (mheap.rs, one lock). Larger objects, and those aligned to more than a page,
//! are page runs of their own taken from the page heap directly. Freed pages go back
//! to the OS through the scavenger (mgcscavenge.rs) and `free_os_memory`.
//!
//! Rust frees explicitly, from any thread, and passes the size and alignment to the
//! free: the class is computed again from them, so a small free never looks at its
//! span; the object goes to the freeing P's cache, whichever P allocated it
//! (mcentral.rs's essay has the reasoning). Only large frees and objects going back
//! to their spans use the span map.
//!
//! # Contexts
//!
//! The allocator runs everywhere Rust code runs: on goroutines, on g0 (the scheduler,
//! timers), on Ms without a P (a goroutine inside `gort::blocking`, sysmon, the
//! scavenger), and during boot once mallocinit has run (schedinit's first step;
//! allocations before procresize have no P yet). It pins the goroutine to its M for
//! the whole operation (m.locks raised, as Go's mallocgc does with acquirem), so
//! "my P" read at the start stays its own: a preemption request waits. With a P it
//! uses the P's cache; without one it takes from and gives to the central lists
//! directly (one object at a time, under the class lock). The runtime promises not
//! to allocate while holding one of its own locks, nor inside a park commit; debug
//! builds check both. The signal handler never allocates.
//!
//! # Out of memory
//!
//! When the arena is used up or the kernel refuses to commit more, the program dies
//! with Go's `runtime: out of memory: cannot allocate N-byte block (M in use)` and
//! `fatal error: out of memory` (exit 2). Go has no fallible allocation, so neither
//! does gort: a null return would only become a less helpful panic.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;

#[cfg(not(test))]
use super::asm_amd64::OFF_M_P;
use super::mcentral::{alloc_batch, free_batch, set_next};
use super::mheap::{span_of, MSpan, MHEAP, SPAN_LARGE};
use super::proc::{mlocks_dec, mlocks_inc};
use super::runtime2::P;
use super::sizeclasses::{size_class, CLASS_TO_SIZE, PAGE_SIZE};

/// The heap as a GlobalAlloc: the global allocator of freestanding programs
/// (entry.rs), and usable by the unit tests without being theirs.
pub(crate) struct GortHeap;

/// The heap.
pub(crate) static HEAP: GortHeap = GortHeap;

impl GortHeap {
    /// mallocinit: reserve the arena. Runs once on m0 during schedinit.
    pub(crate) fn init(&self) {
        super::mheap::mallocinit();
    }
}

/// The current M's P (null on an M without one), read FS-relative in one load: FS
/// points into the running M (M.tls comes first), so this needs neither g nor m.
/// Only stable while pinned (m.locks raised).
#[cfg(not(test))]
#[inline(always)]
fn current_p() -> *mut P {
    let p: *mut P;
    // SAFETY: on every runtime thread FS = &m.tls[1], so FS + OFF_M_P - 8 is the
    // current M's p field, which only this thread writes (wirep/releasep) or a
    // stopper with the world stopped.
    unsafe {
        core::arch::asm!("mov {}, qword ptr fs:[{off}]", out(reg) p, off = const OFF_M_P - 8,
            options(nostack, preserves_flags, readonly));
    }
    p
}

/// Host unit tests: the thread's own M's P (null: they run without one).
#[cfg(test)]
fn current_p() -> *mut P {
    // SAFETY: the test thread's own M.
    unsafe { (*super::proc::getm()).p() }
}

/// A small object of `class`: from the P's cache, or (no P) from the central list;
/// and whether it is known to hold zeros. Null if the heap is exhausted. Pins while
/// it runs. No runtime lock may be held.
#[inline(always)]
fn small_alloc(class: usize) -> (*mut u8, bool) {
    mlocks_inc();
    let pp = current_p();
    let x = if pp.is_null() {
        (alloc_batch(class, 1).0, false)
    } else {
        // SAFETY: pinned: pp is the P our M holds, and its cache is ours.
        unsafe { (*pp).mcache.alloc(class) }
    };
    mlocks_dec();
    x
}

/// Free a small object of `class`: to the P's cache, or (no P) to its span.
///
/// # Safety
/// x is an object of this class nobody uses any more.
#[inline(always)]
unsafe fn small_free(class: usize, x: *mut u8) {
    mlocks_inc();
    let pp = current_p();
    let slow = if pp.is_null() {
        // SAFETY: x is free; a one-object list.
        unsafe {
            set_next(x, ptr::null_mut());
            free_batch(class, x, 1);
        }
        true
    } else {
        // SAFETY: pinned: pp's cache is ours; x is free (caller).
        unsafe { (*pp).mcache.free(class, x) }
    };
    mlocks_dec();
    if slow {
        super::mgcscavenge::poke();
    }
}

/// A large object: a page run of its own, aligned to `align`. Null if the heap is
/// exhausted. Takes the heap lock.
fn large_alloc(size: usize, align: usize) -> *mut MSpan {
    let npages = size.div_ceil(PAGE_SIZE).max(1);
    MHEAP
        .lock()
        .alloc_span(npages, align.max(PAGE_SIZE), SPAN_LARGE)
}

/// Free a large object.
///
/// # Safety
/// p is the start of a large object nobody uses any more.
unsafe fn large_free(p: *mut u8) {
    let s = span_of(p as usize);
    // SAFETY: p starts a large span (caller), so its first page maps to it.
    unsafe {
        if (*s).state != SPAN_LARGE || (*s).start != p as usize {
            crate::runtime::runtime1::throw("free of a large object: bad pointer or size");
        }
        MHEAP.lock().free_span(s);
    }
    super::mgcscavenge::poke();
}

// SAFETY: every block returned is inside committed, read-write arena memory of at
// least the requested size and alignment (size classes are multiples of the
// alignment they serve; large spans are aligned page runs), owned by the caller
// until it is given back; a block is handed out again only after dealloc.
unsafe impl GlobalAlloc for GortHeap {
    /// Runs on any g with no runtime lock held and outside park commits (debug
    /// builds check); takes the heap lock.
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check_may_allocate();
        let class = size_class(layout.size(), layout.align());
        let p = if class != 0 {
            small_alloc(class).0
        } else {
            let s = large_alloc(layout.size(), layout.align());
            if s.is_null() {
                ptr::null_mut()
            } else {
                // SAFETY: a fresh span, ours.
                unsafe { (*s).start as *mut u8 }
            }
        };
        if p.is_null() {
            out_of_memory(layout.size());
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let class = size_class(layout.size(), layout.align());
        if class != 0 {
            #[cfg(debug_assertions)]
            check_small_free(ptr, class);
            // SAFETY: ptr came from alloc with this layout (GlobalAlloc's contract),
            // so it is an object of this class.
            unsafe { small_free(class, ptr) }
        } else {
            // SAFETY: as above: a large object's start.
            unsafe { large_free(ptr) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check_may_allocate();
        let class = size_class(layout.size(), layout.align());
        if class != 0 {
            let (p, zeroed) = small_alloc(class);
            if p.is_null() {
                out_of_memory(layout.size());
            }
            if !zeroed {
                // SAFETY: a fresh object of at least layout.size() bytes.
                unsafe { ptr::write_bytes(p, 0, layout.size()) };
            }
            return p;
        }
        let s = large_alloc(layout.size(), layout.align());
        if s.is_null() {
            out_of_memory(layout.size());
        }
        // SAFETY: a fresh large span, ours. Pages never used since they were
        // committed are zero already (needzero false): a huge zeroed vector costs
        // nothing until it is touched.
        unsafe {
            if (*s).needzero {
                ptr::write_bytes((*s).start as *mut u8, 0, layout.size());
            }
            (*s).start as *mut u8
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let align = layout.align();
        let old = size_class(layout.size(), align);
        let new = size_class(new_size, align);
        if old != 0 && old == new {
            // Same class: the object already has room.
            return ptr;
        }
        if old == 0 && new == 0 {
            // A large object: shrink, or grow into the free pages after it.
            let s = span_of(ptr as usize);
            let npages = new_size.div_ceil(PAGE_SIZE).max(1);
            // SAFETY: ptr starts a large span we own (GlobalAlloc's contract).
            if unsafe { MHEAP.lock().resize_large(s, npages) } {
                return ptr;
            }
        }
        // SAFETY: GlobalAlloc's contract: new_size, rounded up to align, does not
        // overflow isize, and align is the old (valid) alignment.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, align) };
        // SAFETY: a valid layout of non-zero size (or zero, which we serve).
        let p = unsafe { self.alloc(new_layout) };
        // SAFETY: both blocks are live and distinct; the smaller size is in both.
        unsafe {
            ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        p
    }
}

/// Debug builds: throw if the current M holds a runtime lock or runs a park commit,
/// where the runtime promises not to allocate. Release builds: nothing.
#[inline(always)]
fn check_may_allocate() {
    #[cfg(all(debug_assertions, not(test)))]
    {
        // Pinned while we read the M's state: a goroutine preempted between getm()
        // and the read would read an M that now runs someone else (holding locks).
        let _pin = super::proc::acquirem();
        // A timer's send lock aside (lockrank.rs: anything may happen under it).
        if super::lockrank::nheld_no_alloc() > 0 {
            super::lockrank::report_held();
            crate::runtime::runtime1::throw("malloc while holding a runtime lock");
        }
        // SAFETY: getm() is live (Ms are never freed), and parking is the current
        // M's own flag, written only by park_m on this thread.
        if unsafe { (*super::proc::getm()).parking } {
            crate::runtime::runtime1::throw("malloc during a park commit");
        }
    }
}

/// Debug builds: the object being freed must be in a small span of the class its
/// layout names (a wrong layout or a foreign pointer would corrupt the lists).
#[cfg(debug_assertions)]
fn check_small_free(p: *mut u8, class: usize) {
    if !super::mheap::in_arena(p as usize) {
        crate::runtime::runtime1::throw("free of a pointer that is not from the heap");
    }
    let s = span_of(p as usize);
    // SAFETY: p is in the arena; an in-use small span maps all its pages.
    let ok = unsafe {
        !s.is_null()
            && (*s).state == super::mheap::SPAN_SMALL
            && (*s).sizeclass as usize == class
            && (p as usize - (*s).start).is_multiple_of(CLASS_TO_SIZE[class] as usize)
    };
    if !ok {
        crate::runtime::runtime1::throw("free of a small object: bad pointer or size");
    }
}

#[cold]
#[inline(never)]
fn out_of_memory(size: usize) -> ! {
    let in_use = MHEAP.lock().pages_inuse * PAGE_SIZE;
    crate::runtime::print::rt_eprintln!(
        "runtime: out of memory: cannot allocate {size}-byte block ({in_use} in use)"
    );
    crate::runtime::runtime1::throw("out of memory")
}

/// Heap figures for tests and tools (`gort::debug::unstable::heap_stats`).
#[derive(Clone, Copy, Debug, Default)]
pub struct HeapStats {
    /// Small objects out of their spans: held by the program, or (without a flush)
    /// sitting in a cache.
    pub small_objects: u64,
    /// Bytes of those objects (by size class).
    pub small_bytes: u64,
    /// Spans holding small objects.
    pub small_spans: u64,
    /// Large objects and the bytes of their page runs.
    pub large_objects: u64,
    /// See large_objects.
    pub large_bytes: u64,
    /// Bytes of pages in in-use spans (small and large).
    pub inuse_bytes: u64,
    /// Bytes of free pages (resident or released).
    pub free_bytes: u64,
    /// Bytes of free pages returned to the OS.
    pub released_bytes: u64,
    /// Bytes of the arena committed so far (it never shrinks).
    pub committed_bytes: u64,
    /// Bytes of the arena reserved: the most the heap can ever commit (64 GiB, or
    /// less under a low RLIMIT_AS).
    pub arena_bytes: u64,
    /// Objects in the calling P's cache at the time of the call (0 after a flush).
    pub cached_objects: u64,
}

/// The heap's figures. With `flush`, first stop the world and give every cached
/// object back to its span (as free_os_memory does), so that `small_objects` counts
/// exactly the objects the program holds. Runs on a goroutine (with `flush`, one
/// that may stop the world).
pub fn heap_stats(flush: bool) -> HeapStats {
    if flush {
        // Count with the world stopped, after the flush: no P can take objects out
        // of the spans between the flush and the count. Inside gort::blocking,
        // leave the system call for it (stopping the world needs a P).
        return super::proc::with_p(|| {
            super::proc::stop_the_world();
            super::mgcscavenge::flush_stopped(false);
            let st = read_stats();
            super::proc::start_the_world(0);
            st
        });
    }
    read_stats()
}

/// The figures as they are now (see heap_stats).
fn read_stats() -> HeapStats {
    let mut st = HeapStats::default();
    super::mcentral::class_counts(|class, spans, out| {
        st.small_spans += spans as u64;
        st.small_objects += out as u64;
        st.small_bytes += out as u64 * CLASS_TO_SIZE[class] as u64;
    });
    {
        let h = MHEAP.lock();
        st.large_objects = h.nlarge as u64;
        st.large_bytes = (h.pages_large * PAGE_SIZE) as u64;
        st.inuse_bytes = (h.pages_inuse * PAGE_SIZE) as u64;
        st.free_bytes = (h.pages_free * PAGE_SIZE) as u64;
        st.released_bytes = (h.pages_released * PAGE_SIZE) as u64;
        st.committed_bytes = h.committed_bytes() as u64;
        st.arena_bytes = h.arena_bytes() as u64;
    }
    let mp = super::proc::acquirem();
    let pp = mp.p();
    if !pp.is_null() {
        // SAFETY: pinned: our own P's cache.
        st.cached_objects = unsafe { (*pp).mcache.count() } as u64;
    }
    st
}
