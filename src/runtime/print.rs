//! Output for the runtime and for users: print!/println!/eprint!/eprintln! and the
//! runtime's own messages (fatal errors, panics).
//!
//! The runtime's messages format into a 4 KiB buffer on the caller's stack and go
//! to the kernel in one write(2) per 4 KiB. Nothing on that path allocates or
//! locks, so it is safe on g0, in the allocator's failure path and in the panic
//! handler.
//!
//! A goroutine's output to standard output or error (print!, io::stdout()) goes out
//! whole: each call's bytes are written under the fd's output lock (`out_lock`, Go's
//! fdmu held across os.File.Write), so no other goroutine's write lands inside it,
//! however long it is and however the kernel splits it (a pipe write over PIPE_BUF
//! may be cut). The lock is taken inside the system call (after entersyscall): a
//! holder waiting on a full pipe holds up only writers to that fd, and their Ps
//! are handed off as for any blocking call.

use core::fmt;
use core::mem::MaybeUninit;
use core::sync::atomic::AtomicU32;
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use crate::runtime::sys_linux::{self, EAGAIN, EINTR};

/// The output locks of fds 1 and 2: 0 free, 1 held, 2 held with waiters (a
/// futex lock that blocks the thread: its holder is in a system call).
static OUT_LOCK: [AtomicU32; 2] = [AtomicU32::new(0), AtomicU32::new(0)];

/// Holds an fd's output lock until dropped (nothing for other fds).
pub(crate) struct OutGuard(Option<&'static AtomicU32>);

/// Take fd's output lock (fds 1 and 2; other fds have none). Call after
/// entersyscall: it may block the thread. No allocation.
pub(crate) fn out_lock(fd: i32) -> OutGuard {
    let l = match fd {
        1 => &OUT_LOCK[0],
        2 => &OUT_LOCK[1],
        _ => return OutGuard(None),
    };
    // Acquire: orders this holder's writes after the last holder's release (the
    // kernel orders the writes themselves; this only elects).
    if l.compare_exchange(0, 1, Acquire, Relaxed).is_err() {
        // Contended: mark waiters (2) and sleep until the holder releases.
        while l.swap(2, Acquire) != 0 {
            sys_linux::futex_wait(l, 2);
        }
    }
    OutGuard(Some(l))
}

impl Drop for OutGuard {
    fn drop(&mut self) {
        if let Some(l) = self.0 {
            // Release: pairs with the next holder's Acquire.
            if l.swap(0, Release) == 2 {
                sys_linux::futex_wake(l, 1);
            }
        }
    }
}

const BUF_SIZE: usize = 4096;

/// Write all of `b` to fd, retrying on partial writes and EINTR, and waiting in
/// poll(2) while a non-blocking fd is full (EAGAIN) instead of spinning. Other
/// errors (a closed pipe, a full disk) end the attempt: there is nowhere left to
/// report them; the last result is returned (0 when all was written, else the
/// failed write's 0 or -errno). Blocks the thread: see write_all_user for
/// goroutines.
pub(crate) fn write_all(fd: i32, mut b: &[u8]) -> isize {
    while !b.is_empty() {
        let n = write_wait(fd, b);
        if n <= 0 {
            return n;
        }
        b = &b[n as usize..];
    }
    0
}

/// One write(2) of b to fd: retried on EINTR, and on EAGAIN (a non-blocking fd that
/// is full) after poll(2) says it is writable. Returns the bytes written or -errno.
/// Blocks the thread.
pub(crate) fn write_wait(fd: i32, b: &[u8]) -> isize {
    loop {
        let n = sys_linux::write(fd, b);
        if n == -EINTR {
            continue;
        }
        if n == -EAGAIN {
            // The fd is full: this will wait. A goroutine gives its P up now.
            super::proc::handoff_in_syscall();
            // Any result (ready, EINTR, an error the write will report) means: try
            // the write again.
            sys_linux::poll1(fd, sys_linux::POLLOUT, -1);
            continue;
        }
        return n;
    }
}

/// write_all for goroutines (print!, io::stdout): the write runs as a system call
/// (entersyscall), so a pipe nobody reads holds up only this goroutine, never its P.
/// EPIPE on standard output or error kills the process by SIGPIPE, as Go's
/// fmt.Print does (signal_linux.rs's epipecheck). Runs on any g.
pub(crate) fn write_all_user(fd: i32, b: &[u8]) {
    let entered = super::proc::entersyscall();
    let guard = out_lock(fd);
    let r = write_all(fd, b);
    drop(guard);
    super::proc::exitsyscall(entered);
    super::signal_linux::epipecheck(fd, r);
}

/// A fmt::Write sink that buffers up to BUF_SIZE bytes, then writes.
pub(crate) struct FdWriter {
    fd: i32,
    /// Flush through write_all_user (a goroutine's output) rather than write_all.
    user: bool,
    len: usize,
    buf: MaybeUninit<[u8; BUF_SIZE]>,
}

impl FdWriter {
    /// A writer for the runtime's own messages: flushes block the thread.
    #[inline]
    pub(crate) fn new(fd: i32) -> FdWriter {
        FdWriter {
            fd,
            user: false,
            len: 0,
            buf: MaybeUninit::uninit(),
        }
    }

    /// A writer for a goroutine's output: flushes run as system calls.
    #[inline]
    pub(crate) fn new_user(fd: i32) -> FdWriter {
        FdWriter {
            fd,
            user: true,
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
            if self.user {
                write_all_user(self.fd, self.filled());
            } else {
                write_all(self.fd, self.filled());
            }
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

/// Format `args` to fd and write it blocking the thread: the runtime's own messages,
/// which must work with no TLS yet (settls failing), on g0, under runtime locks and
/// while dying, so they never touch the scheduler (no entersyscall).
pub(crate) fn print_rt(fd: i32, args: fmt::Arguments) {
    let mut w = FdWriter::new(fd);
    let _ = fmt::write(&mut w, args);
    w.flush();
}

/// eprintln! for the runtime's own messages (print_rt).
macro_rules! rt_eprintln {
    ($($arg:tt)*) => {
        $crate::runtime::print::print_rt(2, ::core::format_args!("{}\n", ::core::format_args!($($arg)*)))
    };
}
pub(crate) use rt_eprintln;
