//! `print!`, `println!`, `eprint!`, `eprintln!`: formatted output for goroutines.
//!
//! A call formats its whole output first (into 4 KiB on the caller's stack; longer
//! output spills to the heap) and hands it to the kernel under the fd's output lock
//! (runtime/print.rs), so what one call prints is never split by another
//! goroutine's output. Write errors (a closed pipe) are ignored, as Go's
//! `fmt.Print` ignores them; EPIPE on stdout or stderr is death by SIGPIPE, as in
//! Go.
//!
//! Each write runs as a system call (entersyscall): when the output is a pipe nobody
//! reads, only the printing goroutine waits, and its P goes on running the others. A
//! non-blocking stdout that is full is waited for in poll(2), never spun on.

use alloc::vec::Vec;
use core::fmt;
use core::mem::MaybeUninit;

use crate::runtime::print::write_all_user;

/// A whole call's formatted output: up to 4 KiB on the stack, the rest (and all
/// of it, once it spills) on the heap.
pub(crate) struct Whole {
    len: usize,
    buf: MaybeUninit<[u8; 4096]>,
    spill: Vec<u8>,
}

impl Whole {
    #[inline]
    pub(crate) fn new() -> Whole {
        Whole {
            len: 0,
            buf: MaybeUninit::uninit(),
            spill: Vec::new(),
        }
    }

    /// Everything formatted so far.
    pub(crate) fn bytes(&self) -> &[u8] {
        if self.spill.is_empty() {
            // SAFETY: the first len bytes were written by write_str.
            unsafe { core::slice::from_raw_parts(self.buf.as_ptr() as *const u8, self.len) }
        } else {
            &self.spill
        }
    }
}

impl fmt::Write for Whole {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let s = s.as_bytes();
        if self.spill.is_empty() && self.len + s.len() <= 4096 {
            // SAFETY: len + s.len() <= 4096, and s does not overlap our buffer.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    s.as_ptr(),
                    (self.buf.as_mut_ptr() as *mut u8).add(self.len),
                    s.len(),
                );
            }
            self.len += s.len();
        } else {
            if self.spill.is_empty() {
                let held = self.bytes().len();
                let mut v = Vec::with_capacity(2 * (held + s.len()));
                v.extend_from_slice(self.bytes());
                self.spill = v;
            }
            self.spill.extend_from_slice(s);
        }
        Ok(())
    }
}

/// Format `args` to fd and write it whole: the body of the print macros.
pub fn _print(fd: i32, args: fmt::Arguments) {
    if let Some(s) = args.as_str() {
        write_all_user(fd, s.as_bytes());
        return;
    }
    let mut w = Whole::new();
    let _ = fmt::write(&mut w, args);
    write_all_user(fd, w.bytes());
}

/// Print to standard output (written whole, see the module doc; allocates only for
/// output over 4 KiB).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::__private::_print(1, ::core::format_args!($($arg)*)) };
}

/// Print to standard output, with a newline.
#[macro_export]
macro_rules! println {
    () => { $crate::__private::_print(1, ::core::format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::__private::_print(1, ::core::format_args!("{}\n", ::core::format_args!($($arg)*)))
    };
}

/// Print to standard error (written whole; allocates only for output over 4 KiB).
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::__private::_print(2, ::core::format_args!($($arg)*)) };
}

/// Print to standard error, with a newline.
#[macro_export]
macro_rules! eprintln {
    () => { $crate::__private::_print(2, ::core::format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::__private::_print(2, ::core::format_args!("{}\n", ::core::format_args!($($arg)*)))
    };
}
