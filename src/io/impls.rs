//! The embedded-io trait impls of gort's streams that live outside this module's
//! own types: sockets (`net`) and child pipes (`process`) use their public methods,
//! so the poller's protocol stays in net.rs. Each stream type is readable and/or
//! writable both by value and through a shared reference (`&TcpStream`), as std's
//! are, since gort's streams serialise readers and writers themselves.
//!
//! `flush` is a no-op for all of these: nothing is buffered in user space.

use embedded_io::{BufRead, ErrorType, Read, Write};

use super::{Error, Result, Stderr, Stdin, StdinLock, Stdout};
use crate::net::{TcpStream, UnixStream};
use crate::process::ChildPipe;

/// Read for T and &T through T's inherent `read(&self, ..)`.
macro_rules! impl_read {
    ($($t:ty),*) => {$(
        impl ErrorType for $t {
            type Error = Error;
        }
        impl ErrorType for &$t {
            type Error = Error;
        }
        impl Read for $t {
            fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
                <$t>::read(self, buf)
            }
        }
        impl Read for &$t {
            fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
                <$t>::read(self, buf)
            }
        }
    )*};
}

/// Write for T and &T through T's inherent `write` and `write_all` (&self), and,
/// with `whole`, its inherent `write_fmt` (formatted first, written once:
/// embedded-io's default writes each piece of a format on its own, and another
/// goroutine's output landed between them on stdout). ErrorType comes from
/// impl_read, or `own_error` for write-only types.
macro_rules! impl_write {
    (whole: $($t:ty),*) => {$(
        impl Write for $t { write_methods!($t); write_fmt_whole!($t); }
        impl Write for &$t { write_methods!($t); write_fmt_whole!($t); }
    )*};
    ($($t:ty),*) => {$(
        impl Write for $t { write_methods!($t); }
        impl Write for &$t { write_methods!($t); }
    )*};
}

macro_rules! write_methods {
    ($t:ty) => {
        fn write(&mut self, buf: &[u8]) -> Result<usize> {
            <$t>::write(self, buf)
        }
        fn flush(&mut self) -> Result<()> {
            Ok(())
        }
        fn write_all(&mut self, buf: &[u8]) -> Result<()> {
            <$t>::write_all(self, buf)
        }
    };
}

macro_rules! write_fmt_whole {
    ($t:ty) => {
        fn write_fmt(
            &mut self,
            args: core::fmt::Arguments<'_>,
        ) -> core::result::Result<(), embedded_io::WriteFmtError<Error>> {
            <$t>::write_fmt(self, args).map_err(whole_fmt_error)
        }
    };
}

macro_rules! own_error {
    ($($t:ty),*) => {$(
        impl ErrorType for $t {
            type Error = Error;
        }
        impl ErrorType for &$t {
            type Error = Error;
        }
    )*};
}

impl_read!(Stdin, TcpStream, UnixStream, ChildPipe);
own_error!(Stdout, Stderr);
impl_write!(TcpStream, UnixStream, ChildPipe);

/// The inherent write_fmt's error as embedded-io's: a failed Display (`Other`, no
/// OS code: the write's own errors are OS errors or WriteZero) is its FmtError,
/// anything else the stream's error.
fn whole_fmt_error(e: Error) -> embedded_io::WriteFmtError<Error> {
    if e.raw_os_error().is_none() && e.kind() == super::ErrorKind::Other {
        embedded_io::WriteFmtError::FmtError
    } else {
        embedded_io::WriteFmtError::Other(e)
    }
}

impl_write!(whole: Stdout, Stderr);

impl ErrorType for StdinLock<'_> {
    type Error = Error;
}

impl Read for StdinLock<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        StdinLock::read(self, buf)
    }
}

impl BufRead for StdinLock<'_> {
    fn fill_buf(&mut self) -> Result<&[u8]> {
        StdinLock::fill_buf(self)
    }

    fn consume(&mut self, amt: usize) {
        StdinLock::consume(self, amt)
    }
}
