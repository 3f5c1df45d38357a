//! Output for the runtime and for users: print!/println!/eprint!/eprintln! and the
//! runtime's own messages (fatal errors, panics).
//!
//! A call formats into a 4 KiB buffer on the caller's stack and hands it to the kernel
//! in one write(2), so lines printed by different goroutines never interleave (4 KiB is
//! also PIPE_BUF, the most a pipe writes atomically). Longer output is written in
//! 4 KiB pieces. Nothing here allocates, so it is safe on g0, in the allocator's
//! failure path and in the panic handler.

use core::fmt;
use core::mem::MaybeUninit;

use crate::runtime::sys_linux::{self, EAGAIN, EINTR};

const BUF_SIZE: usize = 4096;

/// Write all of `b` to fd, retrying on partial writes and EINTR. Other errors (a closed
/// pipe, a full disk) end the attempt: there is nowhere left to report them.
pub(crate) fn write_all(fd: i32, mut b: &[u8]) {
    while !b.is_empty() {
        let n = sys_linux::write(fd, b);
        if n == -EINTR || n == -EAGAIN {
            continue;
        }
        if n <= 0 {
            return;
        }
        b = &b[n as usize..];
    }
}

/// A fmt::Write sink that buffers up to BUF_SIZE bytes, then writes.
pub(crate) struct FdWriter {
    fd: i32,
    len: usize,
    buf: MaybeUninit<[u8; BUF_SIZE]>,
}

impl FdWriter {
    #[inline]
    pub(crate) fn new(fd: i32) -> FdWriter {
        FdWriter {
            fd,
            len: 0,
            buf: MaybeUninit::uninit(),
        }
    }

    fn filled(&self) -> &[u8] {
        // SAFETY: the first `len` bytes were written by write_str.
        unsafe { core::slice::from_raw_parts(self.buf.as_ptr() as *const u8, self.len) }
    }

    /// Write out what is buffered.
    pub(crate) fn flush(&mut self) {
        if self.len > 0 {
            write_all(self.fd, self.filled());
            self.len = 0;
        }
    }

    pub(crate) fn write_bytes(&mut self, mut s: &[u8]) {
        while !s.is_empty() {
            if self.len == BUF_SIZE {
                self.flush();
            }
            let n = s.len().min(BUF_SIZE - self.len);
            // SAFETY: len + n <= BUF_SIZE, and s does not overlap our own buffer.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    s.as_ptr(),
                    (self.buf.as_mut_ptr() as *mut u8).add(self.len),
                    n,
                );
            }
            self.len += n;
            s = &s[n..];
        }
    }
}

impl fmt::Write for FdWriter {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}
