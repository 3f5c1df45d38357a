//! Size classes, after Go's sizeclasses.go: the object sizes the small-object
//! allocator hands out, and how many pages a span of each class takes.
//!
//! A request of at most `MAX_SMALL_SIZE` (32 KiB) bytes is rounded up to one of
//! `NUM_SIZE_CLASSES - 1` sizes (class 0 means "large": a page run of its own). The
//! table is Go's (Go 1.19, `mksizeclasses.go`): it keeps the worst-case internal waste
//! of a class (the object rounded up plus the span's unusable tail) at or below
//! 12.5% for classes above 256 bytes, and the span of each class is the number of
//! 8 KiB pages that wastes least. Every class size is a multiple of 8, so every
//! object is 8-aligned (spans start on a page boundary); a power-of-two size is
//! aligned to itself.
//!
//! The lookup tables from size to class (`SIZE_TO_CLASS8` for sizes up to 1024 in
//! steps of 8, `SIZE_TO_CLASS128` above, in steps of 128) are computed from
//! `CLASS_TO_SIZE` at compile time, so the two can never disagree.
//!
//! Rust passes an alignment with every request. An alignment of at most 8 is free;
//! a larger one (up to the page size) picks the smallest class whose size is a
//! multiple of it (`size_class`), since an object at offset `i * size` of a page-
//! aligned span is then aligned; alignments above a page go to the large path,
//! which aligns the page run itself.

/// Bytes in a page of the heap (Go's _PageSize): spans are whole pages.
pub(crate) const PAGE_SHIFT: usize = 13;
/// See PAGE_SHIFT.
pub(crate) const PAGE_SIZE: usize = 1 << PAGE_SHIFT;
/// The largest small object (Go's _MaxSmallSize); larger ones are page runs.
pub(crate) const MAX_SMALL_SIZE: usize = 32768;
/// The number of size classes, class 0 (large) included.
pub(crate) const NUM_SIZE_CLASSES: usize = 68;
const SMALL_SIZE_DIV: usize = 8;
const SMALL_SIZE_MAX: usize = 1024;
const LARGE_SIZE_DIV: usize = 128;

/// The object size of each class (Go's class_to_size).
pub(crate) static CLASS_TO_SIZE: [u32; NUM_SIZE_CLASSES] = CLASS_SIZES;

const CLASS_SIZES: [u32; NUM_SIZE_CLASSES] = [
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320,
    352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
    2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728,
    10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672,
    32768,
];

/// Pages in a span of each class (Go's class_to_allocnpages).
pub(crate) static CLASS_TO_NPAGES: [u8; NUM_SIZE_CLASSES] = [
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 2, 1, 2, 1, 2, 1, 3, 2, 3, 1, 3, 2, 3, 4, 5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9, 7, 5, 8,
    3, 10, 7, 4,
];

/// Pages in a span of each class as gort allocates it: Go's span repeated to at
/// least 64 KiB (`MIN_SPAN_PAGES`), which keeps each class's waste proportion and
/// cuts the number of spans (and their descriptors, which stay resident) eightfold
/// for the one-page classes. A class in light use then holds 64 KiB.
pub(crate) static CLASS_TO_SPAN_PAGES: [u8; NUM_SIZE_CLASSES] = make_span_pages();

/// See CLASS_TO_SPAN_PAGES.
pub(crate) const MIN_SPAN_PAGES: usize = 8;

const fn make_span_pages() -> [u8; NUM_SIZE_CLASSES] {
    let mut t = [0u8; NUM_SIZE_CLASSES];
    let mut c = 1;
    while c < NUM_SIZE_CLASSES {
        let n = CLASS_TO_NPAGES[c] as usize;
        t[c] = (n * MIN_SPAN_PAGES.div_ceil(n)) as u8;
        c += 1;
    }
    t
}

/// The smallest class whose size is at least s (s <= MAX_SMALL_SIZE).
const fn first_class_at_least(s: usize) -> u8 {
    let mut c = 1;
    while (CLASS_SIZES[c] as usize) < s {
        c += 1;
    }
    c as u8
}

const fn make_class8() -> [u8; SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1] {
    let mut t = [0u8; SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1];
    // Entry 0 is class 1: a zero-sized request still gets a distinct object.
    let mut i = 0;
    while i < t.len() {
        t[i] = first_class_at_least(i * SMALL_SIZE_DIV);
        i += 1;
    }
    t
}

const fn make_class128() -> [u8; (MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1] {
    let mut t = [0u8; (MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1];
    let mut i = 0;
    while i < t.len() {
        t[i] = first_class_at_least(SMALL_SIZE_MAX + i * LARGE_SIZE_DIV);
        i += 1;
    }
    t
}

/// Class of a size up to 1024: index (size + 7) / 8 (Go's size_to_class8).
static SIZE_TO_CLASS8: [u8; SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1] = make_class8();
/// Class of a size in (1024, 32768]: index (size - 1024 + 127) / 128.
static SIZE_TO_CLASS128: [u8; (MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1] =
    make_class128();

/// Objects the per-P cache moves to or from the central list at once (tcmalloc's
/// num_objects_to_move): 32 KiB worth, between 2 and 128 objects. A P keeps two
/// batches of a class, more if the class grows (mcache.rs), before it gives one
/// back.
const fn make_batch() -> [u16; NUM_SIZE_CLASSES] {
    let mut t = [0u16; NUM_SIZE_CLASSES];
    let mut c = 1;
    while c < NUM_SIZE_CLASSES {
        let n = 32768 / CLASS_SIZES[c] as usize;
        t[c] = if n < 2 {
            2
        } else if n > 128 {
            128
        } else {
            n as u16
        };
        c += 1;
    }
    t
}

/// See make_batch.
pub(crate) static CLASS_TO_BATCH: [u16; NUM_SIZE_CLASSES] = make_batch();

/// The size class of a request of `size` bytes aligned to `align` (a power of two),
/// or 0 if it must be a page run of its own (over 32 KiB, or aligned to more than a
/// page). Never allocates; any context.
#[inline(always)]
pub(crate) fn size_class(size: usize, align: usize) -> usize {
    if align <= 8 {
        if size <= SMALL_SIZE_MAX - 8 {
            // The common case: one table load.
            return SIZE_TO_CLASS8[size.div_ceil(SMALL_SIZE_DIV)] as usize;
        }
        return size_class_big(size);
    }
    size_class_aligned(size, align)
}

/// size_class for 1016 < size with align <= 8.
#[inline(never)]
fn size_class_big(size: usize) -> usize {
    if size <= SMALL_SIZE_MAX {
        SIZE_TO_CLASS8[size.div_ceil(SMALL_SIZE_DIV)] as usize
    } else if size <= MAX_SMALL_SIZE {
        SIZE_TO_CLASS128[(size - SMALL_SIZE_MAX).div_ceil(LARGE_SIZE_DIV)] as usize
    } else {
        0
    }
}

/// size_class for align > 8: the smallest class at least `size` whose size is a
/// multiple of align (the power-of-two classes guarantee one up to a page).
#[inline(never)]
fn size_class_aligned(size: usize, align: usize) -> usize {
    if align > PAGE_SIZE {
        return 0;
    }
    let size = size.max(align);
    let mut c = size_class_big(size.max(1));
    if c == 0 {
        return 0;
    }
    while !(CLASS_TO_SIZE[c] as usize).is_multiple_of(align) {
        c += 1;
        if c == NUM_SIZE_CLASSES {
            return 0;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's table, recomputed: every class's span wastes at most what Go's table
    /// says, sizes are increasing multiples of 8, and the lookup picks the smallest
    /// class that fits.
    #[test]
    fn table_is_consistent() {
        for c in 1..NUM_SIZE_CLASSES {
            let sz = CLASS_TO_SIZE[c] as usize;
            assert_eq!(sz % 8, 0, "class {c}");
            assert!(sz > CLASS_TO_SIZE[c - 1] as usize, "class {c} increases");
            let span = CLASS_TO_NPAGES[c] as usize * PAGE_SIZE;
            let n = span / sz;
            assert!(n >= 1, "class {c}: at least one object per span");
            // Tail waste under 1/8 of the span (Go's design limit), except the
            // power-of-two and 1-object spans, which waste nothing.
            assert!((span - n * sz) * 8 <= span, "class {c} tail waste");
            let sp = CLASS_TO_SPAN_PAGES[c] as usize;
            assert!(sp >= MIN_SPAN_PAGES && sp.is_multiple_of(CLASS_TO_NPAGES[c] as usize));
            let b = CLASS_TO_BATCH[c] as usize;
            assert!((2..=128).contains(&b), "class {c} batch {b}");
        }
        assert_eq!(CLASS_TO_SIZE[NUM_SIZE_CLASSES - 1] as usize, MAX_SMALL_SIZE);
    }

    #[test]
    fn lookup_picks_the_smallest_fitting_class() {
        for size in 0..=MAX_SMALL_SIZE {
            let c = size_class(size, 1);
            assert!(c >= 1, "size {size}");
            assert!(
                CLASS_TO_SIZE[c] as usize >= size,
                "size {size} fits class {c}"
            );
            assert!(
                c == 1 || (CLASS_TO_SIZE[c - 1] as usize) < size,
                "size {size}: class {c} is the smallest"
            );
            assert_eq!(c, size_class(size, 8));
        }
        assert_eq!(size_class(MAX_SMALL_SIZE + 1, 8), 0, "large");
        assert_eq!(size_class(1 << 40, 1), 0, "large");
    }

    #[test]
    fn alignment_is_honoured_by_the_class_size() {
        let mut align = 16;
        while align <= PAGE_SIZE {
            for size in (0..=MAX_SMALL_SIZE).step_by(7) {
                let c = size_class(size, align);
                if c == 0 {
                    assert!(
                        size > MAX_SMALL_SIZE - align + 1,
                        "size {size} align {align}"
                    );
                    continue;
                }
                let sz = CLASS_TO_SIZE[c] as usize;
                assert!(
                    sz >= size && sz.is_multiple_of(align),
                    "{size} {align} -> {sz}"
                );
            }
            align *= 2;
        }
        assert_eq!(
            size_class(8, 2 * PAGE_SIZE),
            0,
            "aligned past a page: large"
        );
        assert_eq!(CLASS_TO_SIZE[size_class(24, 16)], 32);
        assert_eq!(CLASS_TO_SIZE[size_class(1, 4096)], 4096);
    }
}
