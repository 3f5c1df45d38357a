//! Finding clock_gettime in the vDSO, after Go's vdso_linux.go: the kernel maps a
//! small ELF library into every process (AT_SYSINFO_EHDR) whose clock_gettime reads
//! the clock without entering the kernel. We look up `__vdso_clock_gettime` through
//! its dynamic symbol table; without a vDSO (qemu-user 7.2 gives none), or if the
//! symbol is missing, nanotime falls back to the system call.

use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Address of __vdso_clock_gettime, or 0. Written once by vdsoinit during boot,
/// before any other thread exists, so it is read Relaxed.
static CLOCK_GETTIME: AtomicUsize = AtomicUsize::new(0);

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const DT_NULL: i64 = 0;
const DT_HASH: i64 = 4;
const DT_STRTAB: i64 = 5;
const DT_SYMTAB: i64 = 6;
const STT_FUNC: u8 = 2;

/// vdsoinit: look up the clock in the vDSO at `base` (AT_SYSINFO_EHDR; 0: none).
/// Runs once on m0 during boot.
///
/// # Safety
/// base is 0 or the address of the kernel's vDSO image.
pub(crate) unsafe fn vdsoinit(base: usize) {
    if base == 0 {
        return;
    }
    // SAFETY: base is the kernel's vDSO (the caller's contract): a complete ELF image,
    // mapped for the whole process. Every read below (through these closures and the
    // name comparison) is of a header or table entry at the offset the ELF format
    // gives, so within the image.
    unsafe {
        let rd64 = |a: usize| *(a as *const u64);
        let rd32 = |a: usize| *(a as *const u32);
        let rd16 = |a: usize| *(a as *const u16);
        if rd32(base) != 0x464c_457f {
            return; // not "\x7fELF"
        }
        let phoff = rd64(base + 0x20) as usize;
        let phentsize = rd16(base + 0x36) as usize;
        let phnum = rd16(base + 0x38) as usize;
        let mut load_offset: Option<usize> = None;
        let mut dynamic = 0usize;
        for i in 0..phnum {
            let ph = base + phoff + i * phentsize;
            let (ptype, offset, vaddr) = (rd32(ph), rd64(ph + 8) as usize, rd64(ph + 16) as usize);
            match ptype {
                PT_LOAD if load_offset.is_none() => {
                    load_offset = Some(base.wrapping_add(offset).wrapping_sub(vaddr))
                }
                PT_DYNAMIC => dynamic = base + offset,
                _ => {}
            }
        }
        let (Some(lo), true) = (load_offset, dynamic != 0) else {
            return;
        };
        let (mut strtab, mut symtab, mut hash) = (0usize, 0usize, 0usize);
        let mut d = dynamic;
        loop {
            let tag = rd64(d) as i64;
            let val = rd64(d + 8) as usize;
            match tag {
                DT_NULL => break,
                DT_STRTAB => strtab = lo.wrapping_add(val),
                DT_SYMTAB => symtab = lo.wrapping_add(val),
                DT_HASH => hash = lo.wrapping_add(val),
                _ => {}
            }
            d += 16;
        }
        if strtab == 0 || symtab == 0 || hash == 0 {
            return;
        }
        let nsym = rd32(hash + 4) as usize; // nchain: the number of symbols
        let want = b"__vdso_clock_gettime\0";
        for i in 0..nsym {
            let sym = symtab + i * 24; // Elf64_Sym
            let (name, info, shndx, value) = (
                rd32(sym) as usize,
                *((sym + 4) as *const u8),
                rd16(sym + 6),
                rd64(sym + 8),
            );
            if info & 0xf != STT_FUNC || shndx == 0 {
                continue;
            }
            let s = core::slice::from_raw_parts((strtab + name) as *const u8, want.len());
            if s == want {
                // Relaxed: see CLOCK_GETTIME.
                CLOCK_GETTIME.store(lo.wrapping_add(value as usize), Relaxed);
                return;
            }
        }
    }
}

/// nanotime: CLOCK_MONOTONIC in nanoseconds, through the vDSO when there is one.
/// Runs on any stack with a few hundred bytes free; does not allocate.
#[inline]
pub(crate) fn nanotime() -> i64 {
    // Relaxed: see CLOCK_GETTIME.
    let f = CLOCK_GETTIME.load(Relaxed);
    if f == 0 {
        return crate::runtime::sys_linux::nanotime_syscall();
    }
    let mut ts = [0i64; 2];
    // SAFETY: f is the vDSO's clock_gettime(clockid_t, struct timespec *), which
    // follows the C ABI and writes one timespec.
    unsafe {
        let clock_gettime: extern "C" fn(i32, *mut i64) -> i32 = core::mem::transmute(f);
        if clock_gettime(1, ts.as_mut_ptr()) != 0 {
            return crate::runtime::sys_linux::nanotime_syscall();
        }
    }
    ts[0] * 1_000_000_000 + ts[1]
}
