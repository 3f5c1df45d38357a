//! File-system system calls for gort::fs and gort::io's stdin, each returning the
//! kernel's raw result (a value, or -errno). Paths are NUL-terminated C strings that
//! the caller keeps alive across the call; buffers are caller-owned slices.
//!
//! These block their thread (regular files cannot be polled): callers run them
//! inside `entersyscall`/`exitsyscall` (`crate::blocking`), as Go's `syscall`
//! package does.

use core::ffi::CStr;

use super::{syscall2, syscall3, syscall4, Sysno};

/// The directory descriptor meaning "the current directory" (AT_FDCWD).
const AT_FDCWD: isize = -100;
/// unlinkat: remove a directory rather than a file.
pub(crate) const AT_REMOVEDIR: usize = 0x200;
/// newfstatat: do not follow a final symbolic link.
pub(crate) const AT_SYMLINK_NOFOLLOW: usize = 0x100;

/// openat(AT_FDCWD, path, flags, mode). Returns the fd or -errno.
pub(crate) fn openat(path: &CStr, flags: usize, mode: u32) -> isize {
    // SAFETY: path is NUL-terminated and lives across the call; the kernel only
    // reads it.
    unsafe {
        syscall4(
            Sysno::openat as usize,
            AT_FDCWD as usize,
            path.as_ptr() as usize,
            flags,
            mode as usize,
        ) as isize
    }
}

/// lseek(2). Returns the new offset or -errno.
pub(crate) fn lseek(fd: i32, off: i64, whence: u32) -> isize {
    // SAFETY: no memory effects.
    unsafe {
        syscall3(
            Sysno::lseek as usize,
            fd as usize,
            off as usize,
            whence as usize,
        ) as isize
    }
}

/// fsync(2) (data: fdatasync(2)).
pub(crate) fn fsync(fd: i32, data_only: bool) -> isize {
    let nr = if data_only {
        Sysno::fdatasync
    } else {
        Sysno::fsync
    };
    // SAFETY: no memory effects on this process.
    unsafe { syscall2(nr as usize, fd as usize, 0) as isize }
}

/// ftruncate(2).
pub(crate) fn ftruncate(fd: i32, len: u64) -> isize {
    // SAFETY: no memory effects on this process.
    unsafe { syscall2(Sysno::ftruncate as usize, fd as usize, len as usize) as isize }
}

/// The kernel's `struct stat` on x86-64 (144 bytes), as fstat(2) fills it.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct Stat {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) nlink: u64,
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    _pad0: u32,
    pub(crate) rdev: u64,
    pub(crate) size: i64,
    pub(crate) blksize: i64,
    pub(crate) blocks: i64,
    pub(crate) atime: [i64; 2],
    pub(crate) mtime: [i64; 2],
    pub(crate) ctime: [i64; 2],
    _unused: [i64; 3],
}

const _: () = assert!(core::mem::size_of::<Stat>() == 144);

/// fstat(2) of fd into st.
pub(crate) fn fstat(fd: i32, st: &mut Stat) -> isize {
    // SAFETY: the kernel writes one struct stat (144 bytes, Stat's layout) into st,
    // which is live and exclusive.
    unsafe { syscall2(Sysno::fstat as usize, fd as usize, st as *mut Stat as usize) as isize }
}

/// newfstatat(AT_FDCWD, path, st, flags) (flags: 0 or AT_SYMLINK_NOFOLLOW).
pub(crate) fn stat(path: &CStr, st: &mut Stat, flags: usize) -> isize {
    // SAFETY: path is NUL-terminated and live; the kernel writes one struct stat
    // into st, which is live and exclusive.
    unsafe {
        syscall4(
            Sysno::newfstatat as usize,
            AT_FDCWD as usize,
            path.as_ptr() as usize,
            st as *mut Stat as usize,
            flags,
        ) as isize
    }
}

/// mkdirat(AT_FDCWD, path, mode).
pub(crate) fn mkdir(path: &CStr, mode: u32) -> isize {
    // SAFETY: path is NUL-terminated and live; the kernel only reads it.
    unsafe {
        syscall3(
            Sysno::mkdirat as usize,
            AT_FDCWD as usize,
            path.as_ptr() as usize,
            mode as usize,
        ) as isize
    }
}

/// unlinkat(AT_FDCWD, path, flags) (flags: 0 for a file, AT_REMOVEDIR).
pub(crate) fn unlink(path: &CStr, flags: usize) -> isize {
    // SAFETY: path is NUL-terminated and live; the kernel only reads it.
    unsafe {
        syscall3(
            Sysno::unlinkat as usize,
            AT_FDCWD as usize,
            path.as_ptr() as usize,
            flags,
        ) as isize
    }
}

/// renameat(AT_FDCWD, from, AT_FDCWD, to).
pub(crate) fn rename(from: &CStr, to: &CStr) -> isize {
    // SAFETY: both paths are NUL-terminated and live; the kernel only reads them.
    unsafe {
        syscall4(
            Sysno::renameat as usize,
            AT_FDCWD as usize,
            from.as_ptr() as usize,
            AT_FDCWD as usize,
            to.as_ptr() as usize,
        ) as isize
    }
}

/// getdents64(2): directory entries (`struct linux_dirent64`) into buf. Returns the
/// bytes written, 0 at the end of the directory, or -errno.
pub(crate) fn getdents64(fd: i32, buf: &mut [u8]) -> isize {
    // SAFETY: the kernel writes at most buf.len() bytes into a live, exclusive slice.
    unsafe {
        syscall3(
            Sysno::getdents64 as usize,
            fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
        ) as isize
    }
}
