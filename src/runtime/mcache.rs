//! The per-P object cache, after Go's mcache.go (and tcmalloc's per-CPU caches).
//!
//! Every P has an `MCache` inline (`P::mcache`): for each size class, a singly
//! linked list of free objects (through their first word) and its length. Only the
//! M holding the P touches it, with m.locks raised for the whole operation (malloc.rs
//! pins before it reads "my P" and unpins after), so the fast paths are a few plain
//! loads and stores: no lock, no atomic read-modify-write, no span.
//!
//! - alloc pops the head; an empty list takes from the class's fresh range (never-
//!   used objects at the tail of a span, handed out by bumping a pointer: nothing
//!   is written to them, so their pages are touched first by the program, and a
//!   zeroed allocation from a never-used span needs no memset), and when that is
//!   used up too, is refilled with one batch from the central list
//!   (`CLASS_TO_BATCH[c]` objects, or a fresh range, mcentral.rs);
//! - free pushes the object, whichever P allocated it; a list that reaches two
//!   batches gives its most recent batch back to the central list (those objects
//!   are the warmest, and the P that takes that batch next will use them soon).
//!
//! A P that is destroyed by procresize, and every P during free_os_memory and
//! heap statistics (with the world stopped), gives everything back (`flush_all`).
//! Ms without a P do not use a cache: they go to the central lists directly
//! (malloc.rs), as Go's allocations without a P use mcache0 or the heap.

use core::ptr;

use super::mcentral::{alloc_refill, free_batch, next_of, set_next};
use super::sizeclasses::{CLASS_TO_BATCH, CLASS_TO_SIZE, NUM_SIZE_CLASSES};

/// One class's free objects in a cache.
#[derive(Clone, Copy)]
#[repr(C)]
struct CacheList {
    /// Objects given back, linked through their first word.
    head: *mut u8,
    /// Objects on the list.
    n: u32,
    /// Give a batch back when n reaches this (two batches).
    max: u32,
    /// A range of never-used objects [bump, bump_end) from a span's tail, handed
    /// out after the list (see mcentral's Refill). Bit 0 of bump_end set: they are
    /// known to be zero.
    bump: usize,
    bump_end: usize,
}

/// A P's cache of free small objects. Owner only (the M holding the P, pinned), or
/// anyone with the world stopped.
#[repr(C)]
pub(crate) struct MCache {
    lists: [CacheList; NUM_SIZE_CLASSES],
}

impl MCache {
    /// An empty cache.
    pub(crate) const fn new() -> MCache {
        let mut lists = [CacheList {
            head: ptr::null_mut(),
            n: 0,
            max: 0,
            bump: 0,
            bump_end: 0,
        }; NUM_SIZE_CLASSES];
        let mut c = 1;
        while c < NUM_SIZE_CLASSES {
            lists[c].max = 2 * CLASS_TO_BATCH[c] as u32;
            c += 1;
        }
        MCache { lists }
    }

    /// An object of `class` (1..NUM_SIZE_CLASSES), or null if the heap is exhausted;
    /// and whether it is known to hold zeros. The caller owns the cache (pinned to
    /// the M holding its P).
    #[inline(always)]
    pub(crate) fn alloc(&mut self, class: usize) -> (*mut u8, bool) {
        let l = &mut self.lists[class];
        let x = l.head;
        if x.is_null() {
            return self.alloc_slow(class);
        }
        // SAFETY: x is a free object on our list; its first word is the link.
        l.head = unsafe { next_of(x) };
        l.n -= 1;
        (x, false)
    }

    /// The list is empty: take from the fresh range, or refill from the central
    /// list.
    #[cold]
    #[inline(never)]
    fn alloc_slow(&mut self, class: usize) -> (*mut u8, bool) {
        let size = CLASS_TO_SIZE[class] as usize;
        let l = &mut self.lists[class];
        if l.bump + size <= l.bump_end & !1 {
            let x = l.bump;
            l.bump += size;
            return (x as *mut u8, l.bump_end & 1 != 0);
        }
        let r = alloc_refill(class);
        if r.n > 0 {
            // SAFETY: r.head heads a list of r.n free objects, now ours.
            l.head = unsafe { next_of(r.head) };
            l.n = r.n as u32 - 1;
            return (r.head, false);
        }
        if r.range_n == 0 {
            return (ptr::null_mut(), false);
        }
        l.bump = r.range + size;
        l.bump_end = (r.range + r.range_n * size) | r.zeroed as usize;
        (r.range as *mut u8, r.zeroed)
    }

    /// Take back an object of `class`. Returns true if a batch went back to the
    /// central list (the slow path ran).
    ///
    /// # Safety
    /// x is an object of this class that nobody uses any more; the caller owns the
    /// cache.
    #[inline(always)]
    pub(crate) unsafe fn free(&mut self, class: usize, x: *mut u8) -> bool {
        let l = &mut self.lists[class];
        // SAFETY: x is free and ours: its first word becomes our link.
        unsafe { set_next(x, l.head) };
        l.head = x;
        l.n += 1;
        if l.n >= l.max {
            self.flush_one(class);
            return true;
        }
        false
    }

    /// Give the list's most recent batch back to the central list.
    #[cold]
    #[inline(never)]
    fn flush_one(&mut self, class: usize) {
        let batch = CLASS_TO_BATCH[class] as usize;
        let l = &mut self.lists[class];
        let head = l.head;
        let mut last = head;
        // SAFETY: the list holds at least 2 * batch objects, linked through their
        // first words; we cut it after the first batch.
        unsafe {
            for _ in 1..batch {
                last = next_of(last);
            }
            l.head = next_of(last);
            set_next(last, ptr::null_mut());
        }
        l.n -= batch as u32;
        // SAFETY: the batch's objects are free objects of this class.
        unsafe { free_batch(class, head, batch) };
    }

    /// Give every object back to the central lists (whole batches first, so they
    /// can go through the transfer caches; the fresh range linked into a list).
    /// The caller owns the cache, or the world is stopped and the cache's P is not
    /// running.
    pub(crate) fn flush_all(&mut self) {
        for (class, &batch) in CLASS_TO_BATCH.iter().enumerate().skip(1) {
            let batch = batch as usize;
            let size = CLASS_TO_SIZE[class] as usize;
            let l = &mut self.lists[class];
            // The fresh range joins the list: its objects are free.
            while l.bump + size <= l.bump_end & !1 {
                // SAFETY: a never-used object of this class, ours.
                unsafe { set_next(l.bump as *mut u8, l.head) };
                l.head = l.bump as *mut u8;
                l.n += 1;
                l.bump += size;
            }
            l.bump = 0;
            l.bump_end = 0;
            while l.n > 0 {
                let take = (l.n as usize).min(batch);
                let head = l.head;
                let mut last = head;
                // SAFETY: the list holds l.n >= take objects.
                unsafe {
                    for _ in 1..take {
                        last = next_of(last);
                    }
                    l.head = next_of(last);
                    set_next(last, ptr::null_mut());
                }
                l.n -= take as u32;
                // SAFETY: free objects of this class.
                unsafe { free_batch(class, head, take) };
            }
        }
    }

    /// Objects of all classes held (for statistics).
    pub(crate) fn count(&self) -> usize {
        let mut n = 0;
        for (class, l) in self.lists.iter().enumerate().skip(1) {
            n += l.n as usize
                + ((l.bump_end & !1).saturating_sub(l.bump)) / CLASS_TO_SIZE[class] as usize;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    //! A cache over the process's own heap: objects come and go in batches, the
    //! cache stays bounded, and a full flush returns exactly what it held.
    use super::super::mcentral::central;
    use super::*;
    extern crate std;
    use std::vec::Vec;

    #[test]
    fn cache_bounds_and_flushes_exactly() {
        let _g = super::super::mheap::tests::SERIAL.lock().unwrap();
        super::super::mheap::mallocinit();
        let mut c = std::boxed::Box::new(MCache::new());
        let class = 2; // 16 bytes
        super::super::mcentral::drain_centrals(u32::MAX, false);
        let out0 = central(class).lock().nout;
        let mut objs = Vec::new();
        for i in 0..10_000usize {
            let (x, _) = c.alloc(class);
            assert!(!x.is_null());
            // SAFETY: x is ours, 16 bytes.
            unsafe { (x as *mut [usize; 2]).write([i, !i]) };
            objs.push(x);
        }
        for (i, &x) in objs.iter().enumerate() {
            // SAFETY: written above.
            assert_eq!(unsafe { (x as *mut [usize; 2]).read() }, [i, !i]);
        }
        for &x in &objs {
            // SAFETY: ours, done with it.
            unsafe { c.free(class, x) };
            assert!(c.lists[class].n < c.lists[class].max);
        }
        // At most two batches on the list and one fresh range.
        assert!(c.count() < 3 * CLASS_TO_BATCH[class] as usize);
        c.flush_all();
        assert_eq!(c.count(), 0);
        super::super::mcentral::drain_centrals(u32::MAX, false);
        assert_eq!(central(class).lock().nout, out0, "every object is back");
    }
}
