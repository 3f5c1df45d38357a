//! The heap: gort's `#[global_allocator]`, after the role of Go's mheap.
//!
//! mallocinit reserves one large range of address space (PROT_NONE, MAP_NORESERVE:
//! no memory, no commit charge), as Go reserves its arena. The heap is
//! `linked_list_allocator` over the committed prefix of that range; when it cannot
//! satisfy a request, `grow` commits more (mprotect to read-write, at least doubling)
//! and extends it. Pages are only backed by memory once touched.
//!
//! When the reservation is used up, or a commit fails, the program dies with Go's
//! `fatal error: out of memory`. Go has no fallible allocation, so neither does gort:
//! a null return would only turn into a less helpful panic.
//!
//! The heap is one runtime lock of rank Heap, which ranks so that nothing else may be
//! held when it is taken: the runtime never allocates under one of its own locks,
//! nor inside a park commit (debug builds check both). Holding it raises m.locks, so
//! a goroutine is never preempted inside the allocator. Small, frequent objects (Gs,
//! sudogs) live in per-P caches or on goroutine stacks instead.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

use linked_list_allocator::Heap;

use super::lock_futex::Locked;
use super::lockrank::LockRank;
use crate::runtime::sys_linux::{self, MAP_NORESERVE, PROT_NONE, PROT_READ, PROT_WRITE};

/// The largest reservation tried, then halved until the kernel agrees (a low
/// RLIMIT_AS, a strict overcommit policy).
const ARENA_MAX: usize = 64 << 30;
const ARENA_MIN: usize = 16 << 20;
/// The first commit, and the least any growth commits.
const COMMIT_MIN: usize = 256 << 10;

struct Arena {
    heap: Heap,
    /// [base, end) is reserved; [base, committed) is read-write and in the heap.
    base: usize,
    committed: usize,
    end: usize,
}

/// The heap: an arena under one lock.
pub(crate) struct GortHeap {
    arena: Locked<Arena>,
}

// SAFETY: the Heap inside holds raw pointers into the arena, which only the lock
// holder touches.
unsafe impl Send for Arena {}

impl GortHeap {
    /// The heap before mallocinit: no arena yet.
    pub(crate) const fn new() -> GortHeap {
        GortHeap {
            arena: Locked::new(
                LockRank::Heap,
                Arena {
                    heap: Heap::empty(),
                    base: 0,
                    committed: 0,
                    end: 0,
                },
            ),
        }
    }

    /// mallocinit: reserve the arena. Runs once on m0 during schedinit.
    pub(crate) fn init(&self) {
        let mut a = self.arena.lock();
        if a.base != 0 {
            return;
        }
        let mut size = ARENA_MAX;
        let mut last_err = 0;
        while size >= ARENA_MIN {
            let r = sys_linux::mmap_anon(size, PROT_NONE, MAP_NORESERVE);
            if !sys_linux::is_err(r) {
                a.base = r as usize;
                a.committed = a.base;
                a.end = a.base + size;
                return;
            }
            last_err = -r;
            size /= 2;
        }
        drop(a);
        crate::runtime::print::rt_eprintln!(
            "runtime: cannot reserve arena virtual address space: mmap failed with errno {last_err}"
        );
        crate::runtime::runtime1::throw("out of memory")
    }
}

impl Arena {
    /// Commit at least `need` more bytes to the heap. False if the arena is full or the
    /// kernel refuses. Runs under the heap lock (through the guard).
    fn grow(&mut self, need: usize) -> bool {
        if self.base == 0 {
            return false;
        }
        let page = crate::runtime::os_linux::physpagesize().max(4096);
        let have = self.committed - self.base;
        let want = need.max(have).max(COMMIT_MIN).next_multiple_of(page);
        let want = want.min(self.end - self.committed);
        if want < need {
            return false;
        }
        // SAFETY: [committed, committed+want) lies in our reservation and is unused.
        let r = unsafe { sys_linux::mprotect(self.committed, want, PROT_READ | PROT_WRITE) };
        if sys_linux::is_err(r) {
            return false;
        }
        if have == 0 {
            // SAFETY: the range is fresh, read-write and ours alone from now on.
            unsafe { self.heap.init(self.base as *mut u8, want) };
        } else {
            // SAFETY: the new range directly follows the heap's top.
            unsafe { self.heap.extend(want) };
        }
        self.committed += want;
        true
    }
}

// SAFETY: allocations come from linked_list_allocator under the arena lock; every
// block it returns is inside committed, read-write memory that only the caller uses
// until it is deallocated.
unsafe impl GlobalAlloc for GortHeap {
    /// Runs on any g with no runtime lock held and outside park commits (debug
    /// builds check); takes the heap lock.
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check_may_allocate();
        let mut a = self.arena.lock();
        loop {
            if let Ok(p) = a.heap.allocate_first_fit(layout) {
                return p.as_ptr();
            }
            // Room for the block, its alignment and the allocator's hole header.
            let need = layout
                .size()
                .saturating_add(layout.align())
                .saturating_add(64);
            if !a.grow(need) {
                let in_use = a.heap.used();
                drop(a);
                out_of_memory(layout.size(), in_use);
            }
        }
    }

    /// Runs on any g; takes the heap lock, as alloc.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: dealloc is never passed null (GlobalAlloc's contract: ptr came
        // from alloc, which never returns null).
        let p = unsafe { NonNull::new_unchecked(ptr) };
        // SAFETY: p came from alloc with this layout (GlobalAlloc's contract).
        unsafe { self.arena.lock().heap.deallocate(p, layout) }
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
        if super::lockrank::nheld() > 0 {
            crate::runtime::runtime1::throw("malloc while holding a runtime lock");
        }
        // SAFETY: getm() is live (Ms are never freed), and parking is the current
        // M's own flag, written only by park_m on this thread.
        if unsafe { (*super::proc::getm()).parking } {
            crate::runtime::runtime1::throw("malloc during a park commit");
        }
    }
}

#[cold]
fn out_of_memory(size: usize, in_use: usize) -> ! {
    crate::runtime::print::rt_eprintln!(
        "runtime: out of memory: cannot allocate {size}-byte block ({in_use} in use)"
    );
    crate::runtime::runtime1::throw("out of memory")
}

/// The heap. It is the global allocator only in freestanding programs (entry.rs); the
/// unit tests can use it without it being theirs.
pub(crate) static HEAP: GortHeap = GortHeap::new();
