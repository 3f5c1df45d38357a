//! Goroutine stacks, after the role of Go's stack.go (but fixed-size, not copying):
//! each stack is its own anonymous mapping, committed lazily by the kernel as it is
//! touched, with an inaccessible guard page below it so that an overflow faults
//! instead of silently corrupting a neighbour.
//!
//! Stacks stay with their dead G on the free lists (gfput/gfget), so a goroutine
//! that exits hands its stack to the next one spawned without a system call.

use crate::runtime2::Stack;
use crate::sys_linux::{self, MAP_NORESERVE, PROT_NONE, PROT_READ, PROT_WRITE};

/// Default goroutine stack size: 256 KiB of address space, of which only the pages a
/// goroutine touches cost memory.
pub const DEFAULT_STACK_SIZE: usize = 256 << 10;

/// Bytes of inaccessible guard below each stack.
pub fn guard_size() -> usize {
    crate::os_linux::physpagesize().max(4096)
}

/// stackalloc: a fresh stack of `size` bytes (a multiple of the page size) with a
/// guard page below. Dies with "out of memory" when the kernel refuses.
pub fn stackalloc(size: usize) -> Stack {
    let guard = guard_size();
    let total = size + guard;
    let r = sys_linux::mmap_anon(total, PROT_READ | PROT_WRITE, MAP_NORESERVE);
    if sys_linux::is_err(r) {
        crate::eprintln!(
            "runtime: cannot allocate {size}-byte goroutine stack: mmap failed with errno {}",
            -r
        );
        crate::runtime1::throw("out of memory");
    }
    let base = r as usize;
    // SAFETY: the guard page is the lowest page of the mapping we just made; nothing
    // uses it.
    let r = unsafe { sys_linux::mprotect(base, guard, PROT_NONE) };
    if sys_linux::is_err(r) {
        crate::eprintln!(
            "runtime: cannot install stack guard page: mprotect failed with errno {}",
            -r
        );
        crate::runtime1::throw("out of memory");
    }
    Stack {
        lo: base + guard,
        hi: base + total,
    }
}
