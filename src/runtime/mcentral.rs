//! Central free lists, one per size class, after Go's mcentral.go and tcmalloc's
//! transfer cache and central free list.
//!
//! # What a central list holds
//!
//! The per-P caches (mcache.rs) move objects to and from here in batches of
//! `CLASS_TO_BATCH[c]` objects, linked through their first word and null-terminated.
//! A central list keeps two things under one lock (rank MCentral):
//!
//! - the transfer cache: up to `TC_CAP[c]` whole batches, exactly as a P gave them back,
//!   so that the usual traffic — one P frees a batch, some P soon needs one — costs
//!   one slot push and one slot pop, touching no object and no span;
//! - the spans of the class that have free objects (`partial`), each with its own
//!   free list (objects given back to the span) and an untouched tail
//!   (`freeindex..nelems`, carved in address order when needed, so a fresh span
//!   costs no memory until its objects are used).
//!
//! A batch that does not fit the transfer cache (or a partial one, from an M
//! without a P) goes back object by object to the spans the objects came from
//! (found through the span map): each object joins its span's free list and the
//! span's count of objects out drops; a span whose objects are all back is given to
//! the page heap at once, unless it is the class's last partial span (so that a
//! class in steady use does not take a span from the heap and give it back on every
//! batch); the scavenger and free_os_memory release those too.
//!
//! # Objects freed on another P
//!
//! Rust frees explicitly and from any thread. A freed object goes to the cache of
//! the P that frees it, whichever P allocated it (tcmalloc's per-CPU design), not to
//! its span's remote-free list (mimalloc's): the free path then needs neither the
//! span nor an atomic, and memory freed on one P is reused there at once. Objects
//! migrate between Ps only through the central lists, in batches under a lock:
//! a producer/consumer pair drains the producer's cache and fills the consumer's
//! until a batch moves through the transfer cache, one lock round trip per batch.
//! The cost of the design is that a span's objects may sit in several caches, so a
//! span becomes free only when every cache has given its objects back: caches are
//! bounded (two batches per class per P, plus 1 MiB of growth per P for the
//! classes a P churns through, mcache.rs), the scavenger drains a transfer cache
//! that has been idle for two of its periods, and free_os_memory flushes
//! everything.
//!
//! # Locking
//!
//! A central lock is never held while another runtime lock is taken: growing (a
//! span from the heap) and giving empty spans back happen with it dropped. It is
//! taken with no other runtime lock held (the allocator runs only outside them).

use core::ptr;
use core::sync::atomic::Ordering::Relaxed;

use super::lock_futex::Locked;
use super::lockrank::LockRank;
use super::mheap::{span_of, MSpan, SpanList, MHEAP, SPAN_SMALL};
use super::sizeclasses::{
    CLASS_TO_BATCH, CLASS_TO_SIZE, CLASS_TO_SPAN_PAGES, NUM_SIZE_CLASSES, PAGE_SHIFT, PAGE_SIZE,
};

/// Transfer-cache slots per class, at most.
const TC_SLOTS: usize = 256;
/// A transfer cache holds at most this many bytes of objects.
const TC_BYTES: usize = 1 << 20;

/// The read of an object's link word.
///
/// # Safety
/// p is a free object (at least 8 bytes, 8-aligned) whose first word is a link.
#[inline(always)]
pub(crate) unsafe fn next_of(p: *mut u8) -> *mut u8 {
    // SAFETY: as above.
    unsafe { *(p as *mut *mut u8) }
}

/// Set an object's link word.
///
/// # Safety
/// As next_of; p is ours.
#[inline(always)]
pub(crate) unsafe fn set_next(p: *mut u8, n: *mut u8) {
    // SAFETY: as above.
    unsafe { *(p as *mut *mut u8) = n }
}

/// One size class's central list: the state behind its lock. All-zero when empty,
/// so the 68 lists live in .bss and cost a program nothing until used.
pub(crate) struct Central {
    /// Whole batches (null-terminated lists of CLASS_TO_BATCH[class] objects);
    /// the first tc_len are in use, at most TC_CAP[class].
    tc: [*mut u8; TC_SLOTS],
    tc_len: usize,
    /// The scavenger generation of the last transfer-cache use.
    tc_gen: u32,
    /// Spans with objects to hand out.
    partial: SpanList,
    /// Small spans of the class (in use).
    pub(crate) nspans: usize,
    /// Objects handed out of the spans (held by the program or in a cache).
    pub(crate) nout: usize,
}

// SAFETY: the raw pointers are objects and spans of this class, touched only under
// the lock.
unsafe impl Send for Central {}

/// A central list, padded to its own cache lines (two Ps contend on one class, not
/// on neighbouring ones).
#[repr(align(128))]
pub(crate) struct MCentral(pub(crate) Locked<Central>);

/// Transfer-cache slots of each class: TC_BYTES worth of batches, at most TC_SLOTS.
static TC_CAP: [u16; NUM_SIZE_CLASSES] = make_tc_cap();

const fn make_tc_cap() -> [u16; NUM_SIZE_CLASSES] {
    let mut t = [0u16; NUM_SIZE_CLASSES];
    let mut c = 1;
    while c < NUM_SIZE_CLASSES {
        let cap = TC_BYTES / (CLASS_TO_BATCH[c] as usize * CLASS_TO_SIZE[c] as usize);
        t[c] = if cap > TC_SLOTS { TC_SLOTS } else { cap } as u16;
        c += 1;
    }
    t
}

/// The central lists, indexed by size class (entry 0 unused).
pub(crate) static CENTRAL: [MCentral; NUM_SIZE_CLASSES] = [const {
    MCentral(Locked::new(
        LockRank::MCentral,
        Central {
            tc: [ptr::null_mut(); TC_SLOTS],
            tc_len: 0,
            tc_gen: 0,
            partial: SpanList::new(),
            nspans: 0,
            nout: 0,
        },
    ))
}; NUM_SIZE_CLASSES];

/// The central list of a class.
#[inline]
pub(crate) fn central(class: usize) -> &'static Locked<Central> {
    &CENTRAL[class].0
}

/// The current scavenger generation.
#[inline]
fn gen() -> u32 {
    super::mgcscavenge::SCAV_GEN.load(Relaxed)
}

/// Up to `want` objects of `class` as a null-terminated list: a whole batch from the
/// transfer cache when `want` is a batch, else carved from the class's spans.
/// Returns (head, count); count is 0 only when the heap is exhausted. Takes the
/// central lock (and the heap's, without it, to grow). No runtime lock may be held.
pub(crate) fn alloc_batch(class: usize, want: usize) -> (*mut u8, usize) {
    let mut c = central(class).lock();
    if want == CLASS_TO_BATCH[class] as usize && c.tc_len > 0 {
        c.tc_len -= 1;
        let i = c.tc_len;
        c.tc_gen = gen();
        return (c.tc[i], want);
    }
    let mut head: *mut u8 = ptr::null_mut();
    let mut got = 0;
    while got < want {
        let mut s = c.partial.head;
        if s.is_null() {
            drop(c);
            s = grow(class);
            c = central(class).lock();
            if s.is_null() {
                break;
            }
            c.nspans += 1;
            // SAFETY: s is a fresh span of this class, ours.
            unsafe {
                c.partial.push(s);
                (*s).in_partial = true;
            }
        }
        // SAFETY: s is on our partial list: its fields are ours under the lock.
        unsafe {
            // Objects given back first (they are warm), then fresh ones.
            while got < want && !(*s).freelist.is_null() {
                let x = (*s).freelist;
                (*s).freelist = next_of(x);
                set_next(x, head);
                head = x;
                got += 1;
                (*s).alloc_count += 1;
            }
            let take = (want - got).min(((*s).nelems - (*s).freeindex) as usize);
            if take > 0 {
                // Carve in address order: link from the last to the first.
                let size = (*s).elemsize as usize;
                let first = (*s).start + (*s).freeindex as usize * size;
                let mut p = first + (take - 1) * size;
                loop {
                    set_next(p as *mut u8, head);
                    head = p as *mut u8;
                    if p == first {
                        break;
                    }
                    p -= size;
                }
                (*s).freeindex += take as u32;
                (*s).alloc_count += take as u32;
                got += take;
            }
            if (*s).freelist.is_null() && (*s).freeindex == (*s).nelems {
                c.partial.remove(s);
                (*s).in_partial = false;
            }
        }
    }
    c.nout += got;
    (head, got)
}

/// What a P's cache gets to refill an empty class: a list of objects given back
/// before (from the transfer cache or the spans' free lists), or, when there is
/// none, a range of never-used objects from one span's untouched tail, which costs
/// no write (and no page fault) until the program uses each object.
pub(crate) struct Refill {
    /// A null-terminated list of `n` objects (n may be 0).
    pub(crate) head: *mut u8,
    pub(crate) n: usize,
    /// `range_n` consecutive objects from `range`, each `CLASS_TO_SIZE[class]`
    /// bytes; `zeroed`: they are known to be zero (their pages were never used).
    pub(crate) range: usize,
    pub(crate) range_n: usize,
    pub(crate) zeroed: bool,
}

/// A batch for a P's cache (see Refill): the transfer cache first, then objects
/// on the spans' free lists, then a fresh range. Nothing at all only when the heap
/// is exhausted. Takes the central lock (and the heap's, without it, to grow). No
/// runtime lock may be held.
pub(crate) fn alloc_refill(class: usize) -> Refill {
    let want = CLASS_TO_BATCH[class] as usize;
    let mut c = central(class).lock();
    let mut r = Refill {
        head: ptr::null_mut(),
        n: 0,
        range: 0,
        range_n: 0,
        zeroed: false,
    };
    if c.tc_len > 0 {
        c.tc_len -= 1;
        let i = c.tc_len;
        c.tc_gen = gen();
        r.head = c.tc[i];
        r.n = want;
        return r;
    }
    loop {
        let mut s = c.partial.head;
        if s.is_null() {
            if r.n > 0 {
                break;
            }
            drop(c);
            s = grow(class);
            c = central(class).lock();
            if s.is_null() {
                return r;
            }
            c.nspans += 1;
            // SAFETY: s is a fresh span of this class, ours.
            unsafe {
                c.partial.push(s);
                (*s).in_partial = true;
            }
        }
        // SAFETY: s is on our partial list: its fields are ours under the lock.
        unsafe {
            if !(*s).freelist.is_null() {
                while r.n < want && !(*s).freelist.is_null() {
                    let x = (*s).freelist;
                    (*s).freelist = next_of(x);
                    set_next(x, r.head);
                    r.head = x;
                    r.n += 1;
                    (*s).alloc_count += 1;
                }
            } else if r.n == 0 {
                // Nothing given back anywhere: a fresh range from this span's tail.
                let take = want.min(((*s).nelems - (*s).freeindex) as usize);
                r.range = (*s).start + (*s).freeindex as usize * (*s).elemsize as usize;
                r.range_n = take;
                r.zeroed = !(*s).needzero;
                (*s).freeindex += take as u32;
                (*s).alloc_count += take as u32;
            } else {
                break;
            }
            if (*s).freelist.is_null() && (*s).freeindex == (*s).nelems {
                c.partial.remove(s);
                (*s).in_partial = false;
            }
        }
        if r.n == want || r.range_n > 0 {
            break;
        }
    }
    c.nout += r.n + r.range_n;
    r
}

/// A new span for class from the page heap, initialised, or null if the heap is
/// exhausted. Takes the heap lock; the caller must not hold the central one.
fn grow(class: usize) -> *mut MSpan {
    let npages = CLASS_TO_SPAN_PAGES[class] as usize;
    let s = MHEAP.lock().alloc_span(npages, PAGE_SIZE, SPAN_SMALL);
    if s.is_null() {
        return s;
    }
    // SAFETY: s is a fresh in-use span, ours until it joins the partial list.
    unsafe {
        let size = CLASS_TO_SIZE[class];
        (*s).sizeclass = class as u8;
        (*s).elemsize = size;
        (*s).nelems = ((npages << PAGE_SHIFT) / size as usize) as u32;
        (*s).freeindex = 0;
        (*s).alloc_count = 0;
        (*s).freelist = ptr::null_mut();
    }
    s
}

/// Give back a null-terminated list of `n` objects of `class` (from a cache, or
/// one object from an M without a P): a whole batch to the transfer cache if there
/// is room, else each object to its span. Takes the central lock, then the heap's
/// (without it) for spans that became empty. No runtime lock may be held.
///
/// # Safety
/// Every object on the list is a free object of this class, allocated from the
/// heap and not on any other list.
pub(crate) unsafe fn free_batch(class: usize, head: *mut u8, n: usize) {
    let mut c = central(class).lock();
    if n == CLASS_TO_BATCH[class] as usize && c.tc_len < TC_CAP[class] as usize {
        let i = c.tc_len;
        c.tc[i] = head;
        c.tc_len += 1;
        c.tc_gen = gen();
        return;
    }
    // SAFETY: forwarded: the objects are free objects of this class.
    let empty = unsafe { c.return_to_spans(class, head, n) };
    drop(c);
    // SAFETY: the spans are empty and off every list: nobody refers to them.
    unsafe { release_spans(empty) };
}

impl Central {
    /// Return a list of n objects to their spans; returns the spans that became
    /// empty (linked through next), already off the partial list and uncounted.
    ///
    /// # Safety
    /// As free_batch; the central lock is held (self is behind it).
    #[inline(never)]
    unsafe fn return_to_spans(&mut self, _class: usize, mut x: *mut u8, n: usize) -> *mut MSpan {
        let mut empty: *mut MSpan = ptr::null_mut();
        // SAFETY: each object belongs to an in-use small span of this class (the
        // caller's contract), whose fields this lock protects.
        unsafe {
            for _ in 0..n {
                let next = next_of(x);
                let s = span_of(x as usize);
                #[cfg(debug_assertions)]
                if (*s).state != SPAN_SMALL || (*s).sizeclass as usize != _class {
                    crate::runtime::runtime1::throw(
                        "free of an object with the wrong size (or a bad pointer)",
                    );
                }
                set_next(x, (*s).freelist);
                (*s).freelist = x;
                (*s).alloc_count -= 1;
                let only =
                    self.partial.head.is_null() || (self.partial.head == s && (*s).next.is_null());
                if (*s).alloc_count == 0 && !only {
                    // Empty, and not the class's only partial span: back to the heap.
                    if (*s).in_partial {
                        self.partial.remove(s);
                        (*s).in_partial = false;
                    }
                    self.nspans -= 1;
                    (*s).next = empty;
                    empty = s;
                } else if !(*s).in_partial {
                    self.partial.push(s);
                    (*s).in_partial = true;
                }
                x = next;
            }
            self.nout -= n;
        }
        empty
    }

    /// Take every batch out of the transfer cache (if it has been idle since
    /// generation `idle_since`, or always with u32::MAX) and return the objects to
    /// their spans; with `all`, also give back the empty spans kept for reuse.
    /// Returns the spans to release.
    #[inline(never)]
    fn drain(&mut self, class: usize, idle_since: u32, all: bool) -> *mut MSpan {
        let mut empty: *mut MSpan = ptr::null_mut();
        let batch = CLASS_TO_BATCH[class] as usize;
        if idle_since == u32::MAX || self.tc_gen <= idle_since {
            while self.tc_len > 0 {
                self.tc_len -= 1;
                let head = self.tc[self.tc_len];
                // SAFETY: a transfer-cache batch holds `batch` free objects.
                let mut e = unsafe { self.return_to_spans(class, head, batch) };
                while !e.is_null() {
                    // SAFETY: e is an empty span on our local list.
                    let next = unsafe { (*e).next };
                    // SAFETY: as above.
                    unsafe { (*e).next = empty };
                    empty = e;
                    e = next;
                }
            }
        }
        if all {
            let mut s = self.partial.head;
            while !s.is_null() {
                // SAFETY: partial spans are ours under the lock.
                unsafe {
                    let next = (*s).next;
                    if (*s).alloc_count == 0 {
                        self.partial.remove(s);
                        (*s).in_partial = false;
                        self.nspans -= 1;
                        (*s).next = empty;
                        empty = s;
                    }
                    s = next;
                }
            }
        }
        empty
    }
}

/// Give empty small spans (linked through next) back to the page heap. Takes the
/// heap lock; no central lock may be held.
///
/// # Safety
/// The spans are empty and on no list.
#[inline(never)]
unsafe fn release_spans(mut s: *mut MSpan) {
    if s.is_null() {
        return;
    }
    let mut h = MHEAP.lock();
    while !s.is_null() {
        // SAFETY: as above.
        unsafe {
            let next = (*s).next;
            (*s).next = ptr::null_mut();
            h.free_span(s);
            s = next;
        }
    }
}

/// Drain the transfer caches idle since generation `idle_since` (u32::MAX: all),
/// returning their objects to their spans and empty spans to the heap; with `all`,
/// also the empty spans kept for reuse. Takes each central lock in turn, then the
/// heap's. Runs anywhere the allocator may (no runtime lock held).
#[inline(never)]
pub(crate) fn drain_centrals(idle_since: u32, all: bool) {
    for class in 1..NUM_SIZE_CLASSES {
        let e = central(class).lock().drain(class, idle_since, all);
        // SAFETY: drain returns empty spans off every list.
        unsafe { release_spans(e) };
    }
}

/// Per-class figures for heap statistics: (class, spans, objects out). Each class
/// is read under its lock.
pub(crate) fn class_counts(mut f: impl FnMut(usize, usize, usize)) {
    for class in 1..NUM_SIZE_CLASSES {
        let c = central(class).lock();
        let (s, o) = (c.nspans, c.nout);
        drop(c);
        f(class, s, o);
    }
}

#[cfg(test)]
mod tests {
    //! Central lists over the process's own heap: batches through the transfer
    //! cache, objects back to their spans, empty spans back to the heap, with exact
    //! counts.
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn list(head: *mut u8, n: usize) -> Vec<*mut u8> {
        let mut v = Vec::new();
        let mut x = head;
        while !x.is_null() {
            v.push(x);
            // SAFETY: a list handed out by alloc_batch.
            x = unsafe { next_of(x) };
        }
        assert_eq!(v.len(), n, "list length matches its count");
        v
    }

    #[test]
    fn batches_round_trip_with_exact_counts() {
        let _g = super::super::mheap::tests::SERIAL.lock().unwrap();
        super::super::mheap::mallocinit();
        let class = 9; // 112 bytes, 585 per span
        let batch = CLASS_TO_BATCH[class] as usize;
        let out0 = central(class).lock().nout;
        let mut all = Vec::new();
        for _ in 0..10 {
            let (h, n) = alloc_batch(class, batch);
            assert_eq!(n, batch);
            for &x in &list(h, n) {
                assert_eq!(x as usize % 16, 0);
                // SAFETY: ours: write the whole object.
                unsafe { core::ptr::write_bytes(x, 0x5a, 112) };
                all.push(x);
            }
        }
        // Distinct objects.
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len());
        assert_eq!(central(class).lock().nout, out0 + 10 * batch);
        // Give them back one at a time (as an M without a P does): to the spans.
        for &x in &all {
            // SAFETY: x is a free object of this class now.
            unsafe {
                set_next(x, ptr::null_mut());
                free_batch(class, x, 1);
            }
        }
        assert_eq!(central(class).lock().nout, out0);
    }

    #[test]
    fn whole_batches_use_the_transfer_cache() {
        let _g = super::super::mheap::tests::SERIAL.lock().unwrap();
        super::super::mheap::mallocinit();
        let class = 3; // 24 bytes
        let batch = CLASS_TO_BATCH[class] as usize;
        let (h, n) = alloc_batch(class, batch);
        assert_eq!(n, batch);
        let tc0 = central(class).lock().tc_len;
        // SAFETY: the batch is ours and free.
        unsafe { free_batch(class, h, n) };
        assert_eq!(central(class).lock().tc_len, tc0 + 1);
        let (h2, n2) = alloc_batch(class, batch);
        assert_eq!((h2, n2), (h, n), "the same batch comes back");
        // SAFETY: as above.
        unsafe { free_batch(class, h2, n2) };
        drain_centrals(u32::MAX, true);
        assert_eq!(central(class).lock().tc_len, 0);
    }
}
