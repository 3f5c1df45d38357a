//! `print!`, `println!`, `eprint!`, `eprintln!`: formatted output for goroutines.
//!
//! A call formats into a 4 KiB buffer on the caller's stack and hands it to the kernel
//! in one `write(2)`, so lines printed by different goroutines never interleave (4 KiB
//! is also `PIPE_BUF`, the most a pipe writes atomically). Longer output is written in
//! 4 KiB pieces. Nothing here allocates. Write errors (a closed pipe) are ignored, as
//! Go's `fmt.Print` ignores them.
//!
//! Each write runs as a system call (entersyscall): when the output is a pipe nobody
//! reads, only the printing goroutine waits, and its P goes on running the others. A
//! non-blocking stdout that is full is waited for in poll(2), never spun on.

use core::fmt;

use crate::runtime::print::{write_all_user, FdWriter};

/// Format `args` to fd in (for output up to 4 KiB) one write: the body of the print
/// macros.
pub fn _print(fd: i32, args: fmt::Arguments) {
    if let Some(s) = args.as_str() {
        write_all_user(fd, s.as_bytes());
        return;
    }
    let mut w = FdWriter::new_user(fd);
    let _ = fmt::write(&mut w, args);
    w.flush();
}

/// Print to standard output (one `write(2)` for up to 4 KiB of output; never
/// allocates).
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

/// Print to standard error (one `write(2)` for up to 4 KiB of output; never
/// allocates).
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
