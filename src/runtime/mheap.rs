//! The page heap, after Go's mheap.go: spans (runs of 8 KiB pages) over one reserved
//! arena, handed to the central lists for small objects and to large objects
//! directly.
//!
//! # The arena and the span map
//!
//! The arena is one range of address space that can grow to 64 GiB. mallocinit
//! places it, as Go places its arenas, at the first free hint address
//! (0x00c0_0000_0000, then 0x01c0_0000_0000, ...: far above where the kernel and
//! qemu put mappings) and reserves (PROT_NONE, MAP_NORESERVE: no memory and no
//! commit charge) the span map for 64 GiB and the first ARENA_STEP of arena; `grow`
//! extends the reservation upward (MAP_FIXED_NOREPLACE at its end) as the heap
//! needs it. Reserving all 64 GiB at once cost nothing natively, but qemu-user keeps
//! a descriptor per reserved page: 400 MB of memory and 0.3 s of start-up for every
//! program under it. Where no hint is free (or the kernel ignores the flag), the
//! whole range is reserved at a kernel-chosen address as before: 64 GiB or, under a
//! lower RLIMIT_AS or a strict overcommit policy, the largest power of two the
//! kernel grants down to 16 MiB. The heap commits a prefix of the reservation on
//! demand (mprotect to read-write, at least doubling up to 256 MiB at a time); pages
//! are backed by memory only once touched. Beside the arena lies the span map (Go's `h.spans`, one pointer
//! per arena page, committed with the arena): for every page of an in-use small-
//! object span and for the first and last page of every other span it names the
//! span, so that a pointer finds its span in one load (`span_of`) and a freed span
//! finds its neighbours to merge with.
//!
//! # Spans
//!
//! An `MSpan` describes a run of pages in one of four states: free (in the heap's
//! free lists), small (owned by the central list of its size class), large (one
//! object), or being scavenged (taken off the free lists while its pages are returned
//! to the OS without the heap lock). Span descriptors come from a fixed-size
//! allocator (Go's fixalloc) fed by mmap, never from the heap itself.
//!
//! Free spans are kept as Go's mheap kept them before its page allocator (Go 1.11):
//! one list per length for runs of 1..127 pages, with a bitmap of the non-empty
//! lists, and one list for longer runs searched best-fit. Each kind exists twice:
//! spans whose pages may be resident (`free`) and spans the scavenger returned to
//! the OS (`scav`). Allocation takes the best fit of both, preferring resident
//! memory on a tie; a free span merges with free neighbours at once (coalescing), so
//! the heap holds few, long free runs. Lists are pushed at the head with the
//! scavenger generation of the free, so each list runs from newest to oldest and the
//! scavenger takes the old ones from the tail.
//!
//! `linked_list_allocator` is gone: its first-fit walk over holes was the cost the
//! issue measured (35 µs per allocation beside 10,000 holes); the per-length lists
//! find a run in O(1) for everything a small-object span or a typical large object
//! needs, and only runs of 1 MiB or more search the (short) list of long runs.
//!
//! # Locking
//!
//! One runtime lock (rank MHeap) protects everything here; the central lists never
//! hold theirs while taking it, and no other runtime lock may be held either: the
//! heap is entered only from the allocator, the scavenger and free_os_memory. It
//! raises m.locks like any runtime lock, so its holder is never preempted. The
//! kernel is called under it only to commit more arena (rare); returning pages to
//! the OS happens with the lock dropped.

use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::Relaxed};

use super::lock_futex::Locked;
use super::lockrank::LockRank;
use super::sizeclasses::{PAGE_SHIFT, PAGE_SIZE};
use super::sys_linux::{self, MAP_NORESERVE, PROT_NONE, PROT_READ, PROT_WRITE};

/// The largest arena tried, then halved until the kernel agrees.
const ARENA_MAX: usize = 64 << 30;
const ARENA_MIN: usize = 16 << 20;
/// How much more arena a hinted reservation reserves at a time.
const ARENA_STEP: usize = 1 << 30;
/// The least the heap commits at once, and the most one doubling adds.
const COMMIT_MIN: usize = 1 << 20;
const COMMIT_MAX_STEP: usize = 256 << 20;
/// Free runs of this many pages or more share one list (searched best-fit).
const NLISTS: usize = 128;

/// Span states.
pub(crate) const SPAN_FREE: u8 = 0;
/// Holds small objects of one size class (mcentral.rs).
pub(crate) const SPAN_SMALL: u8 = 1;
/// One large object.
pub(crate) const SPAN_LARGE: u8 = 2;
/// Off the free lists while the scavenger returns its pages to the OS.
pub(crate) const SPAN_SCAVENGING: u8 = 3;
/// A descriptor on the fixalloc free list (a stale map entry may still name it).
const SPAN_DEAD: u8 = 4;

/// A run of pages (Go's mspan). Fields are protected by the heap lock while the span
/// is free, and by its central list's lock while it holds small objects (the state,
/// start and npages do not change then); a large span belongs to its object.
#[repr(C)]
pub(crate) struct MSpan {
    /// Links in a free list of the heap or a partial list of a central list.
    pub(crate) next: *mut MSpan,
    pub(crate) prev: *mut MSpan,
    /// First byte of the run.
    pub(crate) start: usize,
    /// Pages in the run.
    pub(crate) npages: usize,
    /// SPAN_FREE, SPAN_SMALL, SPAN_LARGE or SPAN_SCAVENGING.
    pub(crate) state: u8,
    /// Small spans: the size class.
    pub(crate) sizeclass: u8,
    /// Free spans: every page was returned to the OS (madvise) since last used.
    pub(crate) scavenged: bool,
    /// Free spans: some page may hold old data (false: never used since committed,
    /// so known to be zero).
    pub(crate) needzero: bool,
    /// Small spans: on the central list's partial list.
    pub(crate) in_partial: bool,
    /// Free spans: the scavenger generation when the span was freed.
    pub(crate) free_gen: u32,
    /// Small spans: the object size and count.
    pub(crate) elemsize: u32,
    pub(crate) nelems: u32,
    /// Small spans: objects [freeindex, nelems) were never handed out.
    pub(crate) freeindex: u32,
    /// Small spans: objects handed out of the span and not given back to it (held by
    /// the program or sitting in a cache).
    pub(crate) alloc_count: u32,
    /// Small spans: objects given back, linked through their first word.
    pub(crate) freelist: *mut u8,
}

impl MSpan {
    const fn empty() -> MSpan {
        MSpan {
            next: ptr::null_mut(),
            prev: ptr::null_mut(),
            start: 0,
            npages: 0,
            state: SPAN_FREE,
            sizeclass: 0,
            scavenged: false,
            needzero: false,
            in_partial: false,
            free_gen: 0,
            elemsize: 0,
            nelems: 0,
            freeindex: 0,
            alloc_count: 0,
            freelist: ptr::null_mut(),
        }
    }

    /// One past the last byte.
    #[inline]
    pub(crate) fn end(&self) -> usize {
        self.start + (self.npages << PAGE_SHIFT)
    }
}

/// A doubly-linked list of spans through MSpan.next/prev (Go's mSpanList), with its
/// tail so it can be walked oldest first. Protected by whoever owns the spans.
pub(crate) struct SpanList {
    pub(crate) head: *mut MSpan,
    pub(crate) tail: *mut MSpan,
}

impl SpanList {
    pub(crate) const fn new() -> SpanList {
        SpanList {
            head: ptr::null_mut(),
            tail: ptr::null_mut(),
        }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_null()
    }

    /// Push s at the head.
    ///
    /// # Safety
    /// s is a valid span on no list, owned by the list's owner.
    #[inline]
    pub(crate) unsafe fn push(&mut self, s: *mut MSpan) {
        // SAFETY: s and the list's spans are ours (the caller's lock).
        unsafe {
            (*s).prev = ptr::null_mut();
            (*s).next = self.head;
            if self.head.is_null() {
                self.tail = s;
            } else {
                (*self.head).prev = s;
            }
            self.head = s;
        }
    }

    /// Unlink s.
    ///
    /// # Safety
    /// s is on this list.
    #[inline]
    pub(crate) unsafe fn remove(&mut self, s: *mut MSpan) {
        // SAFETY: s and its neighbours are on this list, which we own.
        unsafe {
            if (*s).prev.is_null() {
                self.head = (*s).next;
            } else {
                (*(*s).prev).next = (*s).next;
            }
            if (*s).next.is_null() {
                self.tail = (*s).prev;
            } else {
                (*(*s).next).prev = (*s).prev;
            }
            (*s).next = ptr::null_mut();
            (*s).prev = ptr::null_mut();
        }
    }
}

/// Free lists of one kind (resident or scavenged): one per length below NLISTS, a
/// bitmap of the non-empty ones, and the list of longer runs.
struct FreeLists {
    lists: [SpanList; NLISTS],
    bits: u128,
    large: SpanList,
}

impl FreeLists {
    const fn new() -> FreeLists {
        FreeLists {
            lists: [const { SpanList::new() }; NLISTS],
            bits: 0,
            large: SpanList::new(),
        }
    }

    /// Insert free span s (state FREE) at the head of its list.
    unsafe fn insert(&mut self, s: *mut MSpan) {
        // SAFETY: the caller holds the heap lock and s is on no list.
        unsafe {
            let n = (*s).npages;
            if n < NLISTS {
                self.lists[n].push(s);
                self.bits |= 1u128 << n;
            } else {
                self.large.push(s);
            }
        }
    }

    unsafe fn remove(&mut self, s: *mut MSpan) {
        // SAFETY: the caller holds the heap lock and s is on its list here.
        unsafe {
            let n = (*s).npages;
            if n < NLISTS {
                self.lists[n].remove(s);
                if self.lists[n].is_empty() {
                    self.bits &= !(1u128 << n);
                }
            } else {
                self.large.remove(s);
            }
        }
    }

    /// The best-fitting span of at least n pages, or null: the head of the shortest
    /// non-empty exact list, else the shortest long run (lowest address on a tie).
    #[inline(never)]
    fn best_fit(&self, n: usize) -> *mut MSpan {
        if n < NLISTS {
            let m = self.bits & !((1u128 << n) - 1);
            if m != 0 {
                return self.lists[m.trailing_zeros() as usize].head;
            }
        }
        let mut best: *mut MSpan = ptr::null_mut();
        let mut s = self.large.head;
        // SAFETY: the caller holds the heap lock; the list's spans are valid.
        unsafe {
            while !s.is_null() {
                if (*s).npages >= n
                    && (best.is_null()
                        || (*s).npages < (*best).npages
                        || ((*s).npages == (*best).npages && (*s).start < (*best).start))
                {
                    best = s;
                }
                s = (*s).next;
            }
        }
        best
    }
}

/// Span descriptors, carved from mmap'd chunks and recycled through a free list
/// (Go's fixalloc). Heap lock.
struct FixAlloc {
    free: *mut MSpan,
    chunk: usize,
    left: usize,
}

const FIXALLOC_CHUNK: usize = 64 << 10;

impl FixAlloc {
    /// A fresh descriptor, or null if the kernel refuses a chunk.
    fn alloc(&mut self) -> *mut MSpan {
        let s = if !self.free.is_null() {
            let s = self.free;
            // SAFETY: free descriptors are ours and linked through next.
            self.free = unsafe { (*s).next };
            s
        } else {
            if self.left < size_of::<MSpan>() {
                let r = sys_linux::mmap_anon(FIXALLOC_CHUNK, PROT_READ | PROT_WRITE, 0);
                if sys_linux::is_err(r) {
                    return ptr::null_mut();
                }
                self.chunk = r as usize;
                self.left = FIXALLOC_CHUNK;
            }
            let s = self.chunk as *mut MSpan;
            self.chunk += size_of::<MSpan>();
            self.left -= size_of::<MSpan>();
            s
        };
        // SAFETY: s is an unused, aligned descriptor slot.
        unsafe { s.write(MSpan::empty()) };
        s
    }

    fn free(&mut self, s: *mut MSpan) {
        // SAFETY: s is a descriptor no list refers to any more (only stale map
        // entries of pages inside other spans, which are never read as neighbours).
        unsafe {
            (*s).state = SPAN_DEAD;
            (*s).next = self.free;
        }
        self.free = s;
    }
}

/// The page heap (Go's mheap_). One instance, MHEAP, under its lock: every method
/// runs with the heap lock held (they are reached only through MHEAP's guard), never
/// allocates, and calls the kernel only to commit more arena.
pub(crate) struct MHeap {
    /// [base, end) is reserved; [base, committed) is read-write; the reservation
    /// may grow up to limit (equal to end where it cannot).
    base: usize,
    committed: usize,
    end: usize,
    limit: usize,
    /// The span map: one entry per arena page.
    spans: *mut *mut MSpan,
    free: FreeLists,
    scav: FreeLists,
    spanalloc: FixAlloc,
    /// Pages in in-use spans (small and large).
    pub(crate) pages_inuse: usize,
    /// Pages in free spans (resident or not) and in spans being scavenged.
    pub(crate) pages_free: usize,
    /// Pages of free spans returned to the OS.
    pub(crate) pages_released: usize,
    /// Large objects and their pages.
    pub(crate) nlarge: usize,
    pub(crate) pages_large: usize,
}

// SAFETY: the raw pointers are into memory the heap owns; only the lock holder
// touches them.
unsafe impl Send for MHeap {}

/// The heap.
pub(crate) static MHEAP: Locked<MHeap> = Locked::new(
    LockRank::MHeap,
    MHeap {
        base: 0,
        committed: 0,
        end: 0,
        limit: 0,
        spans: ptr::null_mut(),
        free: FreeLists::new(),
        scav: FreeLists::new(),
        spanalloc: FixAlloc {
            free: ptr::null_mut(),
            chunk: 0,
            left: 0,
        },
        pages_inuse: 0,
        pages_free: 0,
        pages_released: 0,
        nlarge: 0,
        pages_large: 0,
    },
);

/// The arena's base, end and span map for lock-free lookups (span_of). Written once
/// by mallocinit, before any other thread exists or any object is allocated;
/// Relaxed reads (thread creation orders the writes before every other thread).
static ARENA_BASE: AtomicUsize = AtomicUsize::new(0);
static ARENA_END: AtomicUsize = AtomicUsize::new(0);
static SPANS: AtomicPtr<*mut MSpan> = AtomicPtr::new(ptr::null_mut());

/// The span holding address p, which must be inside an in-use span (any page of a
/// small span, the first page of a large one). Lock-free: an in-use span's map
/// entries do not change while it is in use.
#[inline]
pub(crate) fn span_of(p: usize) -> *mut MSpan {
    let base = ARENA_BASE.load(Relaxed);
    // SAFETY: p is in the committed arena (the caller's contract), so its page's map
    // entry is committed memory.
    unsafe { *SPANS.load(Relaxed).add((p - base) >> PAGE_SHIFT) }
}

/// Whether p lies in the heap's arena (checked builds' sanity checks).
#[cfg(debug_assertions)]
pub(crate) fn in_arena(p: usize) -> bool {
    (ARENA_BASE.load(Relaxed)..ARENA_END.load(Relaxed)).contains(&p)
}

/// The current scavenger generation (mgcscavenge.rs), stamped on freed spans.
#[inline]
fn gen() -> u32 {
    super::mgcscavenge::SCAV_GEN.load(Relaxed)
}

/// mallocinit: reserve the arena and its span map. Runs once, on m0 during
/// schedinit (or in a unit test), before any allocation from the heap.
pub(crate) fn mallocinit() {
    let mut h = MHEAP.lock();
    if h.base != 0 {
        return;
    }
    if reserve_hinted(&mut h) {
        return;
    }
    let mut size = ARENA_MAX;
    let mut last_err = 0;
    while size >= ARENA_MIN {
        // The span map first, then the arena, in one reservation. The kernel aligns
        // mappings to 4 KiB only: one more page lets the arena start on an 8 KiB
        // heap page (spans and alignments are computed from absolute addresses).
        let map = (size >> PAGE_SHIFT) * size_of::<usize>();
        let r = sys_linux::mmap_anon(map + size + PAGE_SIZE, PROT_NONE, MAP_NORESERVE);
        if !sys_linux::is_err(r) {
            let base = (r as usize + map).next_multiple_of(PAGE_SIZE);
            h.set_arena(r as *mut *mut MSpan, base, base + size, base + size);
            return;
        }
        last_err = -r;
        size /= 2;
    }
    drop(h);
    crate::runtime::print::rt_eprintln!(
        "runtime: cannot reserve arena virtual address space: mmap failed with errno {last_err}"
    );
    crate::runtime::runtime1::throw("out of memory")
}

/// Reserve the span map for ARENA_MAX and the first ARENA_STEP of arena at the
/// first free hint address (Go's arena hints), so the arena can grow upward in
/// place. Returns false (nothing reserved) if no hint is free or the kernel does
/// not honour MAP_FIXED_NOREPLACE. Heap lock held (mallocinit).
fn reserve_hinted(h: &mut MHeap) -> bool {
    // Under an RLIMIT_AS, the arena is what the limit allows, measured as before
    // (the halving in mallocinit), so that arena_bytes says what can be had.
    const RLIMIT_AS: usize = 9;
    if sys_linux::stack_rlimit(RLIMIT_AS).is_some() {
        return false;
    }
    let map = (ARENA_MAX >> PAGE_SHIFT) * size_of::<usize>();
    let len = map + ARENA_STEP;
    for i in 0..0x7fusize {
        let hint = (i << 40) | (0x00c0 << 32);
        match reserve_at(hint, len) {
            Some(true) => {
                // map is a multiple of 8 KiB: the arena is page-aligned.
                let base = hint + map;
                h.set_arena(
                    hint as *mut *mut MSpan,
                    base,
                    base + ARENA_STEP,
                    base + ARENA_MAX,
                );
                return true;
            }
            Some(false) => continue,
            None => return false,
        }
    }
    false
}

/// Reserve [addr, addr+len) (PROT_NONE, MAP_NORESERVE) only if nothing is mapped
/// there: Some(true) if reserved, Some(false) if something is, None if the kernel
/// ignores MAP_FIXED_NOREPLACE (it mapped elsewhere; that mapping is undone).
fn reserve_at(addr: usize, len: usize) -> Option<bool> {
    let r = sys_linux::mmap_anon_at(addr, len, PROT_NONE, MAP_NORESERVE);
    if sys_linux::is_err(r) {
        return Some(false);
    }
    if r as usize != addr {
        // SAFETY: the mapping was just made and nothing uses it.
        unsafe { sys_linux::munmap(r as usize, len) };
        return None;
    }
    Some(true)
}

impl MHeap {
    /// Take the reservation mallocinit made: the span map at spans, the arena
    /// [base, end) reserved, growable to limit. Published for in_arena and span_of.
    fn set_arena(&mut self, spans: *mut *mut MSpan, base: usize, end: usize, limit: usize) {
        self.spans = spans;
        self.base = base;
        self.committed = base;
        self.end = end;
        self.limit = limit;
        // Relaxed: boot, before any other thread reads them (mallocinit's contract).
        ARENA_BASE.store(base, Relaxed);
        ARENA_END.store(end, Relaxed);
        SPANS.store(spans, Relaxed);
    }

    /// Extend the reservation so that [committed, committed+want) is reserved, by
    /// ARENA_STEPs, up to limit. Returns whether it now is. Heap lock held.
    fn reserve_more(&mut self, want: usize) -> bool {
        let need = self.committed + want;
        if need <= self.end {
            return true;
        }
        if need > self.limit {
            return false;
        }
        let new_end = need.next_multiple_of(ARENA_STEP).min(self.limit);
        if reserve_at(self.end, new_end - self.end) != Some(true) {
            return false;
        }
        self.end = new_end;
        // Relaxed: a pointer into the new range is handed out only after this,
        // under the heap lock, and reaches other threads through whatever
        // publishes it (in_arena's readers hold such a pointer).
        ARENA_END.store(new_end, Relaxed);
        true
    }

    /// The bytes of arena the heap may reserve and commit at most.
    pub(crate) fn arena_bytes(&self) -> usize {
        self.limit - self.base
    }

    /// The bytes committed to the heap (the arena's read-write prefix).
    pub(crate) fn committed_bytes(&self) -> usize {
        self.committed - self.base
    }

    #[inline]
    fn page_index(&self, addr: usize) -> usize {
        (addr - self.base) >> PAGE_SHIFT
    }

    /// Name s in the map entry of the page at addr.
    #[inline]
    unsafe fn set_map(&mut self, addr: usize, s: *mut MSpan) {
        // SAFETY: addr is a committed arena page, so its entry is committed.
        unsafe { *self.spans.add(self.page_index(addr)) = s };
    }

    /// The span named by the map entry of the page at addr (which must be committed).
    #[inline]
    fn map(&self, addr: usize) -> *mut MSpan {
        // SAFETY: as set_map.
        unsafe { *self.spans.add(self.page_index(addr)) }
    }

    /// Map the first and last page of s (free and large spans).
    unsafe fn map_ends(&mut self, s: *mut MSpan) {
        // SAFETY: s covers committed pages.
        unsafe {
            self.set_map((*s).start, s);
            self.set_map((*s).end() - PAGE_SIZE, s);
        }
    }

    /// Make the next `want` bytes of the arena (page multiple, within it) and
    /// their span map entries read-write. False if the kernel refuses.
    fn commit(&self, want: usize) -> bool {
        // The span map's entries for the new pages: the map lies below the arena.
        let m0 = (self.spans as usize + self.page_index(self.committed) * 8) & !4095;
        let m1 = (self.spans as usize + self.page_index(self.committed + want) * 8)
            .next_multiple_of(4096);
        // SAFETY: both ranges lie in our reservation and are not in use (the map
        // range may overlap pages already read-write, which stay so).
        unsafe {
            !sys_linux::is_err(sys_linux::mprotect(m0, m1 - m0, PROT_READ | PROT_WRITE))
                && !sys_linux::is_err(sys_linux::mprotect(
                    self.committed,
                    want,
                    PROT_READ | PROT_WRITE,
                ))
        }
    }

    /// Commit at least `bytes` more of the arena and add it to the free lists as
    /// one (merged) free span. False if the arena is used up or the kernel refuses.
    fn grow(&mut self, bytes: usize) -> bool {
        if self.base == 0 {
            return false;
        }
        let have = self.committed - self.base;
        let want = bytes
            .max(have.min(COMMIT_MAX_STEP))
            .max(COMMIT_MIN)
            .next_multiple_of(PAGE_SIZE);
        // Reserve more arena if the step goes past the reservation (or at least
        // what was asked, if the step cannot be had).
        if !self.reserve_more(want) {
            self.reserve_more(bytes.next_multiple_of(PAGE_SIZE));
        }
        let want = want.min(self.end - self.committed);
        if want < bytes || want == 0 {
            return false;
        }
        // The step above what was asked is a guess; under strict overcommit
        // (vm.overcommit_memory=2) making it writable is charged against the
        // commit limit, which may refuse the step and take the request: try that.
        let need = bytes.max(PAGE_SIZE).next_multiple_of(PAGE_SIZE);
        let want = if self.commit(want) {
            want
        } else if need < want && self.commit(need) {
            need
        } else {
            return false;
        };
        let s = self.spanalloc.alloc();
        if s.is_null() {
            return false;
        }
        // SAFETY: s is a fresh descriptor for the new, never-used pages.
        unsafe {
            (*s).start = self.committed;
            (*s).npages = want >> PAGE_SHIFT;
            // Never touched: zero, and not resident (as good as scavenged).
            (*s).needzero = false;
            (*s).scavenged = true;
            self.committed += want;
            self.pages_free += (*s).npages;
            self.free_span_locked(s, false);
        }
        true
    }

    /// Take a free span of exactly `npages` pages whose start is a multiple of
    /// `align` bytes (a power of two, at least a page) off the free lists, growing
    /// the arena if needed; its state is set to `state`. Null if the arena is
    /// exhausted. The whole span is mapped when `state` is SPAN_SMALL, its first and
    /// last page otherwise.
    pub(crate) fn alloc_span(&mut self, npages: usize, align: usize, state: u8) -> *mut MSpan {
        let extra = (align >> PAGE_SHIFT).max(1) - 1;
        let Some(want) = npages.checked_add(extra) else {
            return ptr::null_mut();
        };
        let mut s = self.find(want);
        if s.is_null() {
            // Grow by the shortfall: a free run at the committed end merges with
            // the new pages (free_span_locked), so only the rest is needed (else
            // a small arena, under a low RLIMIT_AS, fails with room to spare).
            let last = if self.committed > self.base {
                self.map(self.committed - PAGE_SIZE)
            } else {
                ptr::null_mut()
            };
            // SAFETY: the last committed page is the end page of the span over it,
            // whose map entry is kept (map_ends); descriptors are never freed
            // while mapped, and we hold the heap lock.
            let tail = match unsafe { last.as_ref() } {
                Some(t) if t.state == SPAN_FREE => t.npages,
                _ => 0,
            };
            let Some(bytes) = want.saturating_sub(tail).checked_mul(PAGE_SIZE) else {
                return ptr::null_mut();
            };
            if !self.grow(bytes) {
                return ptr::null_mut();
            }
            s = self.find(want);
            if s.is_null() {
                return ptr::null_mut();
            }
        }
        // SAFETY: s is a free span on a free list; we hold the heap lock.
        unsafe {
            self.take(s);
            // Trim the front to the alignment, then the tail to npages. The part we
            // keep is marked in use and its ends mapped before a trimmed part is
            // freed, so that the freed part's neighbour lookup finds it (and not a
            // stale map entry from inside the old run).
            (*s).state = state;
            let aligned = (*s).start.next_multiple_of(align);
            if aligned > (*s).start {
                let front = (aligned - (*s).start) >> PAGE_SHIFT;
                let t = self.split(s, front);
                (*t).state = state;
                self.map_ends(t);
                self.free_span_locked(s, true);
                s = t;
            }
            if (*s).npages > npages {
                let t = self.split(s, npages);
                self.map_ends(s);
                self.free_span_locked(t, true);
            }
            self.pages_free -= npages;
            self.pages_inuse += npages;
            if state == SPAN_SMALL {
                let mut p = (*s).start;
                while p < (*s).end() {
                    self.set_map(p, s);
                    p += PAGE_SIZE;
                }
            } else {
                self.map_ends(s);
            }
            if state == SPAN_LARGE {
                self.nlarge += 1;
                self.pages_large += npages;
            }
            s
        }
    }

    /// The best-fitting free span of at least n pages of either kind (resident
    /// preferred on a tie), or null.
    fn find(&self, n: usize) -> *mut MSpan {
        let a = self.free.best_fit(n);
        let b = self.scav.best_fit(n);
        // SAFETY: both are valid free spans if non-null (heap lock held).
        unsafe {
            match (a.is_null(), b.is_null()) {
                (true, _) => b,
                (false, true) => a,
                (false, false) => {
                    if (*b).npages < (*a).npages {
                        b
                    } else {
                        a
                    }
                }
            }
        }
    }

    /// Take free span s off its free list, counting its released pages back in.
    unsafe fn take(&mut self, s: *mut MSpan) {
        // SAFETY: s is free and on the list its scavenged flag names.
        unsafe {
            if (*s).scavenged {
                self.scav.remove(s);
                self.pages_released -= (*s).npages;
            } else {
                self.free.remove(s);
            }
        }
    }

    /// Split s (off every list) after its first n pages: s keeps [0, n), the new
    /// span (returned) gets the rest with s's flags. The caller frees or uses both.
    unsafe fn split(&mut self, s: *mut MSpan, n: usize) -> *mut MSpan {
        let t = self.spanalloc.alloc();
        if t.is_null() {
            crate::runtime::runtime1::throw("out of memory: span descriptors");
        }
        // SAFETY: s is ours (off the lists, heap lock held); t is fresh.
        unsafe {
            (*t).start = (*s).start + (n << PAGE_SHIFT);
            (*t).npages = (*s).npages - n;
            (*t).needzero = (*s).needzero;
            (*t).scavenged = (*s).scavenged;
            (*t).free_gen = (*s).free_gen;
            (*s).npages = n;
        }
        t
    }

    /// Give an in-use span back: its pages become free and merge with free
    /// neighbours.
    ///
    /// # Safety
    /// s is an in-use span (small or large) nobody uses any more.
    pub(crate) unsafe fn free_span(&mut self, s: *mut MSpan) {
        // SAFETY: as above.
        unsafe {
            let n = (*s).npages;
            if (*s).state == SPAN_LARGE {
                self.nlarge -= 1;
                self.pages_large -= n;
            }
            self.pages_inuse -= n;
            self.pages_free += n;
            (*s).needzero = true;
            (*s).scavenged = false;
            self.free_span_locked(s, true);
        }
        if (self.pages_free - self.pages_released) * PAGE_SIZE >= super::mgcscavenge::START_BYTES {
            // SeqCst: pairs with the scavenger's park handshake (mgcscavenge.rs).
            super::mgcscavenge::WANTED.store(true, core::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Put s (off every list, pages counted as free) on the free lists, merging it
    /// with free neighbours first (Go's coalesce). `age`: stamp it with the current
    /// scavenger generation (a run that was just used), rather than keeping the
    /// older stamp of a run that was only moved.
    unsafe fn free_span_locked(&mut self, s: *mut MSpan, age: bool) {
        // SAFETY: s is ours; its neighbours' map entries are committed and name
        // valid spans (every span maps its end pages).
        unsafe {
            (*s).state = SPAN_FREE;
            (*s).sizeclass = 0;
            (*s).in_partial = false;
            (*s).freelist = ptr::null_mut();
            if age {
                (*s).free_gen = gen();
            }
            if (*s).start > self.base {
                let l = self.map((*s).start - PAGE_SIZE);
                if !l.is_null() && (*l).state == SPAN_FREE {
                    self.take(l);
                    (*s).start = (*l).start;
                    self.merge_flags(s, l);
                    self.spanalloc.free(l);
                }
            }
            if (*s).end() < self.committed {
                let r = self.map((*s).end());
                if !r.is_null() && (*r).state == SPAN_FREE {
                    self.take(r);
                    self.merge_flags(s, r);
                    self.spanalloc.free(r);
                }
            }
            if (*s).scavenged {
                self.pages_released += (*s).npages;
                self.scav.insert(s);
            } else {
                self.free.insert(s);
            }
            self.map_ends(s);
        }
    }

    /// s absorbs the free neighbour o (already off its list): lengths add up, the
    /// result is scavenged only if both were, needs zeroing if either did, and is as
    /// young as the younger.
    unsafe fn merge_flags(&mut self, s: *mut MSpan, o: *mut MSpan) {
        // SAFETY: both are ours.
        unsafe {
            (*s).npages += (*o).npages;
            (*s).scavenged = (*s).scavenged && (*o).scavenged;
            (*s).needzero |= (*o).needzero;
            (*s).free_gen = (*s).free_gen.max((*o).free_gen);
        }
    }

    /// Resize the large span s in place to `npages`: shrink by freeing its tail, or
    /// grow into the free run that follows it (committing more arena if s ends at
    /// the committed end). False if it cannot grow in place.
    ///
    /// # Safety
    /// s is an in-use large span.
    pub(crate) unsafe fn resize_large(&mut self, s: *mut MSpan, npages: usize) -> bool {
        // SAFETY: s is ours (the caller owns the object); neighbours under the lock.
        unsafe {
            let have = (*s).npages;
            if npages == have {
                return true;
            }
            if npages < have {
                let t = self.split(s, npages);
                // t is counted as in use (its pages are in s's counts) until
                // free_span gives it back, which also uncounts one large object.
                (*t).state = SPAN_LARGE;
                self.nlarge += 1;
                self.map_ends(s);
                self.map_ends(t);
                self.free_span(t);
                return true;
            }
            let need = npages - have;
            let mut tried_grow = false;
            loop {
                if (*s).end() == self.committed {
                    if tried_grow || !self.grow(need << PAGE_SHIFT) {
                        return false;
                    }
                    tried_grow = true;
                    continue;
                }
                let r = self.map((*s).end());
                if r.is_null() || (*r).state != SPAN_FREE {
                    return false;
                }
                if (*r).npages < need {
                    // A free run too short: only the arena's end can help.
                    if (*r).end() != self.committed || tried_grow {
                        return false;
                    }
                    if !self.grow((need - (*r).npages) << PAGE_SHIFT) {
                        return false;
                    }
                    tried_grow = true;
                    continue;
                }
                self.take(r);
                // Keep the run's tail free: split r after `need` pages, and free the
                // tail once s covers the rest (its left neighbour is then s).
                let tail = if (*r).npages > need {
                    self.split(r, need)
                } else {
                    ptr::null_mut()
                };
                (*s).npages += (*r).npages;
                self.pages_free -= (*r).npages;
                self.pages_inuse += (*r).npages;
                self.pages_large += (*r).npages;
                self.spanalloc.free(r);
                self.map_ends(s);
                if !tail.is_null() {
                    self.free_span_locked(tail, false);
                }
                return true;
            }
        }
    }

    /// Take up to `max` free, resident spans freed at or before generation `upto`
    /// off the free lists (oldest first) into out, marking them SPAN_SCAVENGING;
    /// returns how many. The caller returns their pages to the OS without the lock
    /// and gives them back with `scavenged_back`.
    #[inline(never)]
    pub(crate) fn take_for_scavenge(&mut self, upto: u32, out: &mut [*mut MSpan]) -> usize {
        let mut n = 0;
        for i in 1..=NLISTS {
            let mut s = if i < NLISTS {
                self.free.lists[i].tail
            } else {
                self.free.large.tail
            };
            // SAFETY: the lists are ours (heap lock held) and their spans valid.
            unsafe {
                while !s.is_null() && n < out.len() && (*s).free_gen <= upto {
                    let prev = (*s).prev;
                    self.free.remove(s);
                    (*s).state = SPAN_SCAVENGING;
                    out[n] = s;
                    n += 1;
                    s = prev;
                }
            }
            if n == out.len() {
                break;
            }
        }
        n
    }

    /// Give back spans taken by take_for_scavenge, now released to the OS.
    ///
    /// # Safety
    /// Each span came from take_for_scavenge and its pages were madvised.
    pub(crate) unsafe fn scavenged_back(&mut self, spans: &[*mut MSpan]) {
        for &s in spans {
            // SAFETY: as above; the span is still counted in pages_free.
            unsafe {
                (*s).scavenged = true;
                self.free_span_locked(s, false);
            }
        }
    }
}

/// Return a span's pages to the OS (MADV_DONTNEED: the kernel frees them now, and
/// the next touch faults in a zero page). Under qemu-user madvise is a no-op that
/// returns 0: the pages stay resident. Without the heap lock.
pub(crate) fn release_pages(start: usize, len: usize) {
    const MADV_DONTNEED: usize = 4;
    // SAFETY: the range is a span taken off the free lists (SPAN_SCAVENGING): no
    // object lives there and nobody else may hand it out until scavenged_back.
    unsafe { sys_linux::madvise(start, len, MADV_DONTNEED) };
}

#[cfg(test)]
pub(crate) mod tests {
    //! Span bookkeeping on the process's own heap (mallocinit in the test process):
    //! split, merge, alignment, in-place resize and scavenging keep the page counts
    //! exact and the map consistent.
    use super::*;
    extern crate std;
    use std::vec::Vec;

    /// Serialises the tests that count pages: the heap is process-wide.
    pub(crate) static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn counts() -> (usize, usize, usize) {
        let h = MHEAP.lock();
        (h.pages_inuse, h.pages_free, h.pages_released)
    }

    #[test]
    fn spans_split_merge_and_keep_counts() {
        let _g = SERIAL.lock().unwrap();
        mallocinit();
        let (inuse0, free0, _) = counts();
        let mut spans = Vec::new();
        for n in [1usize, 3, 1, 200, 2, 127, 128, 5] {
            let s = MHEAP.lock().alloc_span(n, PAGE_SIZE, SPAN_LARGE);
            assert!(!s.is_null());
            // SAFETY: s is a fresh in-use span of n pages.
            unsafe {
                assert_eq!((*s).npages, n);
                assert_eq!(span_of((*s).start), s);
                assert_eq!((*s).start % PAGE_SIZE, 0);
                // Its memory is writable.
                core::ptr::write_bytes((*s).start as *mut u8, 0xab, n * PAGE_SIZE);
            }
            spans.push(s);
        }
        let (inuse1, free1, _) = counts();
        assert_eq!(inuse1 - inuse0, 1 + 3 + 1 + 200 + 2 + 127 + 128 + 5);
        // No two spans overlap.
        for (i, &a) in spans.iter().enumerate() {
            for &b in &spans[i + 1..] {
                // SAFETY: live spans.
                unsafe { assert!((*a).end() <= (*b).start || (*b).end() <= (*a).start) };
            }
        }
        // Free every other one, then the rest: everything merges back.
        for &s in spans.iter().step_by(2) {
            // SAFETY: in use, ours.
            unsafe { MHEAP.lock().free_span(s) };
        }
        for &s in spans.iter().skip(1).step_by(2) {
            // SAFETY: in use, ours.
            unsafe { MHEAP.lock().free_span(s) };
        }
        let (inuse2, free2, _) = counts();
        assert_eq!(inuse2, inuse0);
        assert_eq!(free2 + inuse2, free1 + inuse1, "pages are conserved");
        assert!(free2 >= free0);
    }

    #[test]
    fn aligned_spans_and_in_place_resize() {
        let _g = SERIAL.lock().unwrap();
        mallocinit();
        for align in [PAGE_SIZE, 64 << 10, 1 << 20, 8 << 20] {
            let s = MHEAP.lock().alloc_span(3, align, SPAN_LARGE);
            // SAFETY: fresh in-use span.
            unsafe {
                assert_eq!((*s).start % align, 0, "align {align}");
                assert_eq!((*s).npages, 3);
                MHEAP.lock().free_span(s);
            }
        }
        let s = MHEAP.lock().alloc_span(4, PAGE_SIZE, SPAN_LARGE);
        // SAFETY: s is ours throughout.
        unsafe {
            let start = (*s).start;
            let mut h = MHEAP.lock();
            assert!(h.resize_large(s, 2), "shrink");
            assert_eq!((*s).npages, 2);
            assert!(h.resize_large(s, 4), "grow back into the freed tail");
            assert_eq!(((*s).start, (*s).npages), (start, 4));
            let large = h.pages_large;
            let inuse = h.pages_inuse;
            if h.resize_large(s, 1000) {
                assert_eq!((*s).npages, 1000);
                assert_eq!(h.pages_large, large + 996);
                assert_eq!(h.pages_inuse, inuse + 996);
            }
            h.free_span(s);
        }
    }

    #[test]
    fn scavenging_marks_released_pages_and_they_are_reused() {
        let _g = SERIAL.lock().unwrap();
        mallocinit();
        let s = MHEAP.lock().alloc_span(40, PAGE_SIZE, SPAN_LARGE);
        // SAFETY: ours.
        unsafe { MHEAP.lock().free_span(s) };
        let mut out = [ptr::null_mut(); 64];
        let n = MHEAP.lock().take_for_scavenge(u32::MAX, &mut out);
        assert!(n >= 1);
        let mut total = 0;
        for &t in &out[..n] {
            // SAFETY: taken for scavenging.
            unsafe {
                assert_eq!((*t).state, SPAN_SCAVENGING);
                release_pages((*t).start, (*t).npages * PAGE_SIZE);
                total += (*t).npages;
            }
        }
        let released0 = MHEAP.lock().pages_released;
        // SAFETY: as above.
        unsafe { MHEAP.lock().scavenged_back(&out[..n]) };
        let released1 = MHEAP.lock().pages_released;
        assert!(released1 >= released0 + total.min(40) || released1 >= total);
        // A new span comes out of the released pages and counts them back in.
        let s = MHEAP.lock().alloc_span(40, PAGE_SIZE, SPAN_LARGE);
        // SAFETY: ours.
        unsafe {
            core::ptr::write_bytes((*s).start as *mut u8, 1, 40 * PAGE_SIZE);
            MHEAP.lock().free_span(s);
        }
    }
}
