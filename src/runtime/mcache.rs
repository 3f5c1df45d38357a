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
//! - free pushes the object, whichever P allocated it; a list that reaches its
//!   capacity gives its most recent batch back to the central list (those objects
//!   are the warmest, and the P that takes that batch next will use them soon).
//!
//! # Capacity (tcmalloc's dynamic per-CPU cache sizes)
//!
//! A class starts with room for two batches. A class that overflows grows by one
//! batch instead of giving one back, as long as the P's growth above those bases
//! stays within `GROW_BUDGET` bytes; when the budget is used up, an overflowing
//! class takes a batch of room from another class that has grown (round robin,
//! trimming that class's list if it is over its new capacity). Why: objects that
//! go back to the central list are taken by whichever P asks next, so with two Ps
//! busy the same memory keeps changing hands and every object is a cache miss on
//! the P that gets it (binary-trees at two threads ran no faster than at one); a
//! class a P churns through keeps its working set in the P's own cache instead.
//! A P caches at most its bases plus GROW_BUDGET; free_os_memory and heap
//! statistics flush everything, and the budget is not given back otherwise (a P
//! that stops using a class keeps its room until another class steals it).
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
    /// Give a batch back when n reaches this: two batches, plus what the class
    /// has grown (see Capacity).
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
    /// Bytes of capacity the classes have grown above their bases, at most
    /// GROW_BUDGET.
    grown: usize,
    /// The next class to take room from when the budget is used up.
    victim: usize,
}

/// How far a P's cache may grow above its classes' bases, in bytes (tcmalloc's
/// per-CPU cache holds about 1.5 MiB).
const GROW_BUDGET: usize = 1 << 20;

/// A class's base capacity: two batches.
#[inline]
fn base_max(class: usize) -> u32 {
    2 * CLASS_TO_BATCH[class] as u32
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
        MCache {
            lists,
            grown: 0,
            victim: 1,
        }
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
            self.overflow(class);
            return true;
        }
        false
    }

    /// A class's list reached its capacity: grow it by a batch if the budget
    /// allows (taking room from another grown class when it is used up), else
    /// give its most recent batch back.
    #[cold]
    #[inline(never)]
    fn overflow(&mut self, class: usize) {
        let bytes = CLASS_TO_BATCH[class] as usize * CLASS_TO_SIZE[class] as usize;
        if self.grown + bytes > GROW_BUDGET {
            self.steal(class);
        }
        if self.grown + bytes <= GROW_BUDGET {
            self.grown += bytes;
            self.lists[class].max += CLASS_TO_BATCH[class] as u32;
            return;
        }
        self.flush_one(class);
    }

    /// Take a batch of room from the next class (round robin, not `class`) that
    /// has grown above its base, trimming its list to the new capacity.
    fn steal(&mut self, class: usize) {
        for _ in 1..NUM_SIZE_CLASSES {
            let v = self.victim;
            self.victim = if v + 1 < NUM_SIZE_CLASSES { v + 1 } else { 1 };
            if v == class || self.lists[v].max <= base_max(v) {
                continue;
            }
            self.lists[v].max -= CLASS_TO_BATCH[v] as u32;
            self.grown -= CLASS_TO_BATCH[v] as usize * CLASS_TO_SIZE[v] as usize;
            // The list holds more than two batches whenever it is over its new
            // capacity, which is at least two batches: flush_one's requirement.
            while self.lists[v].n > self.lists[v].max {
                self.flush_one(v);
            }
            return;
        }
    }

    /// Give the list's most recent batch back to the central list. The list holds
    /// at least two batches.
    fn flush_one(&mut self, class: usize) {
        let batch = CLASS_TO_BATCH[class] as usize;
        let l = &mut self.lists[class];
        let head = l.head;
        let mut last = head;
        // SAFETY: the list holds at least 2 * batch objects (the caller's
        // contract), linked through their first words; we cut it after the first
        // batch.
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
        // At most the base and the grown budget on the list, and one fresh range.
        let size = CLASS_TO_SIZE[class] as usize;
        assert!(c.grown <= GROW_BUDGET);
        assert!(c.count() <= (3 * CLASS_TO_BATCH[class] as usize) + GROW_BUDGET / size);
        assert_eq!(
            c.lists[class].max as usize,
            2 * CLASS_TO_BATCH[class] as usize + c.grown / size
        );
        c.flush_all();
        assert_eq!(c.count(), 0);
        super::super::mcentral::drain_centrals(u32::MAX, false);
        assert_eq!(central(class).lock().nout, out0, "every object is back");
    }

    /// Churn `n` objects of `class` through the cache: allocate them all, then free
    /// them all.
    fn churn(c: &mut MCache, class: usize, n: usize) {
        let objs: Vec<*mut u8> = (0..n).map(|_| c.alloc(class).0).collect();
        for &x in &objs {
            assert!(!x.is_null());
            // SAFETY: ours, done with it.
            unsafe { c.free(class, x) };
        }
    }

    #[test]
    fn a_class_grows_to_the_budget_and_another_takes_room_from_it() {
        let _g = super::super::mheap::tests::SERIAL.lock().unwrap();
        super::super::mheap::mallocinit();
        let mut c = std::boxed::Box::new(MCache::new());
        let (a, b) = (2, 6); // 16 and 64 bytes
        super::super::mcentral::drain_centrals(u32::MAX, false);
        let nout = |k| central(k).lock().nout;
        let out0 = (nout(a), nout(b));
        // Twice the budget's worth of 16-byte objects: class a grows to the budget
        // (within a batch) and keeps what fits.
        churn(&mut c, a, 2 * GROW_BUDGET / 16);
        let batch_a = CLASS_TO_BATCH[a] as usize * 16;
        assert!(c.grown <= GROW_BUDGET && c.grown + batch_a > GROW_BUDGET);
        let max_a = c.lists[a].max;
        assert!(c.lists[a].n <= max_a);
        // Class b overflows with the budget used up: it takes room from a, whose
        // list is trimmed to its new capacity; the budget still holds.
        churn(&mut c, b, GROW_BUDGET / 64);
        assert!(c.grown <= GROW_BUDGET);
        assert!(c.lists[b].max > base_max(b));
        assert!(c.lists[a].max < max_a);
        assert!(c.lists[a].n <= c.lists[a].max);
        let grown: usize = (1..NUM_SIZE_CLASSES)
            .map(|k| (c.lists[k].max - base_max(k)) as usize * CLASS_TO_SIZE[k] as usize)
            .sum();
        assert_eq!(grown, c.grown, "the budget counts every class's growth");
        c.flush_all();
        assert_eq!(c.count(), 0);
        super::super::mcentral::drain_centrals(u32::MAX, false);
        assert_eq!((nout(a), nout(b)), out0, "every object is back");
    }
}
