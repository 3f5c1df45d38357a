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

/// Write for T and &T through T's inherent `write` and `write_all` (&self).
/// ErrorType comes from impl_read, or `own_error` for write-only types.
macro_rules! impl_write {
    ($($t:ty),*) => {$(
        impl Write for $t {
            fn write(&mut self, buf: &[u8]) -> Result<usize> {
                <$t>::write(self, buf)
            }
            fn flush(&mut self) -> Result<()> {
                Ok(())
            }
            fn write_all(&mut self, buf: &[u8]) -> Result<()> {
                <$t>::write_all(self, buf)
            }
        }
        impl Write for &$t {
            fn write(&mut self, buf: &[u8]) -> Result<usize> {
                <$t>::write(self, buf)
            }
            fn flush(&mut self) -> Result<()> {
                Ok(())
            }
            fn write_all(&mut self, buf: &[u8]) -> Result<()> {
                <$t>::write_all(self, buf)
            }
        }
    )*};
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
impl_write!(Stdout, Stderr, TcpStream, UnixStream, ChildPipe);

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
