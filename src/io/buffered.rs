//! Buffered streams (std's `BufReader`, `BufWriter`, `Lines`; Go's `bufio`), generic
//! over the `embedded-io` traits so they wrap any gort stream, a byte slice, or a
//! no_std driver's stream alike.
//!
//! The protocol of a read buffer ([`Buffer`], shared with stdin's global buffer):
//! `buf[pos..filled]` holds bytes read from the inner stream and not yet consumed.
//! `fill_buf` reads from the inner stream only when that window is empty, and
//! exposes it; `consume(n)` advances `pos`. A `read` into a caller's buffer at least
//! as large as ours, while ours is empty, goes straight to the inner stream (no copy),
//! as std's does. The buffer's memory is allocated on its first fill, so an unused
//! stdin costs nothing and a `static` can hold one.
//!
//! Errors: inherent methods return gort's [`Result`], converting the inner stream's
//! error with [`Error::from_embedded`] (a gort [`Error`] stays itself; any other
//! keeps its kind). The `embedded_io` trait impls keep the inner error type.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use embedded_io::{BufRead, ErrorType, Read, Write};

use super::{Error, ErrorKind, Result};

/// std's default buffer size.
pub(crate) const DEFAULT_BUF_SIZE: usize = 8 * 1024;

/// A read buffer: `buf[pos..filled]` is unconsumed data (see the module docs).
pub(crate) struct Buffer {
    /// Allocated to `cap` bytes on the first fill.
    buf: Vec<u8>,
    cap: usize,
    /// pos <= filled <= buf.len().
    pos: usize,
    filled: usize,
}

impl Buffer {
    /// An empty buffer of `cap` bytes (at least 1), not yet allocated.
    pub(crate) const fn new(cap: usize) -> Buffer {
        Buffer {
            buf: Vec::new(),
            cap: if cap == 0 { 1 } else { cap },
            pos: 0,
            filled: 0,
        }
    }

    /// The unconsumed data.
    pub(crate) fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// Mark n bytes of the unconsumed data consumed (clamped to what there is).
    pub(crate) fn consume(&mut self, n: usize) {
        self.pos = core::cmp::min(self.pos + n, self.filled);
    }

    /// The unconsumed data, reading once from `read` first if there is none. An
    /// empty slice means the inner stream is at end of file.
    pub(crate) fn fill_buf<E>(
        &mut self,
        read: impl FnOnce(&mut [u8]) -> core::result::Result<usize, E>,
    ) -> core::result::Result<&[u8], E> {
        if self.pos >= self.filled {
            if self.buf.is_empty() {
                self.buf = vec![0; self.cap];
            }
            let n = read(&mut self.buf)?;
            self.pos = 0;
            // A reader that claims more than it was given is clamped, never trusted.
            self.filled = core::cmp::min(n, self.buf.len());
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    /// Read into out: from the buffer, or (buffer empty, out at least as large as
    /// the buffer) straight from `read`.
    pub(crate) fn read<E>(
        &mut self,
        out: &mut [u8],
        read: impl FnOnce(&mut [u8]) -> core::result::Result<usize, E>,
    ) -> core::result::Result<usize, E> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.pos >= self.filled && out.len() >= self.cap {
            return read(out);
        }
        let avail = self.fill_buf(read)?;
        let n = core::cmp::min(avail.len(), out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// Append to `out` everything up to and including `delim` (or to end of file);
/// returns the bytes appended, 0 at end of file.
pub(crate) fn read_until<B: BufRead + ?Sized>(
    r: &mut B,
    delim: u8,
    out: &mut Vec<u8>,
) -> Result<usize>
where
    B::Error: 'static,
{
    let mut total = 0;
    loop {
        let (done, used) = {
            let avail = match r.fill_buf() {
                Ok(a) => a,
                Err(e) => {
                    let e = Error::from_embedded(e);
                    // As std's read_until: an interrupted fill is retried.
                    if e.kind() == super::ErrorKind::Interrupted {
                        continue;
                    }
                    return Err(e);
                }
            };
            match avail.iter().position(|&b| b == delim) {
                Some(i) => {
                    out.extend_from_slice(&avail[..=i]);
                    (true, i + 1)
                }
                None => {
                    out.extend_from_slice(avail);
                    (avail.is_empty(), avail.len())
                }
            }
        };
        r.consume(used);
        total += used;
        if done {
            return Ok(total);
        }
    }
}

fn invalid_utf8() -> Error {
    Error::new_static(ErrorKind::InvalidData, "stream did not contain valid UTF-8")
}

/// Append to `s` what `fill` appends to its bytes, if that is valid UTF-8; otherwise
/// leave `s` as it was and return InvalidData (std's append_to_string).
pub(crate) fn append_to_string(
    s: &mut String,
    fill: impl FnOnce(&mut Vec<u8>) -> Result<usize>,
) -> Result<usize> {
    let mut bytes = core::mem::take(s).into_bytes();
    let old = bytes.len();
    let r = fill(&mut bytes);
    let valid = core::str::from_utf8(&bytes[old..]).is_ok();
    if !valid {
        bytes.truncate(old);
    }
    // SAFETY: bytes[..old] came from a String, and bytes[old..] is valid UTF-8
    // (checked just above) or was truncated away: the whole is valid UTF-8.
    *s = unsafe { String::from_utf8_unchecked(bytes) };
    match r {
        Ok(n) if valid => Ok(n),
        Ok(_) => Err(invalid_utf8()),
        Err(e) => Err(e),
    }
}

/// Append one line (through `\n`, kept) to `s`; 0 at end of file.
pub(crate) fn read_line<B: BufRead + ?Sized>(r: &mut B, s: &mut String) -> Result<usize>
where
    B::Error: 'static,
{
    append_to_string(s, |b| read_until(r, b'\n', b))
}

/// Adds a buffer to a reader: many small reads (a line at a time) become few large
/// ones (std's `BufReader`, Go's `bufio.Reader`).
pub struct BufReader<R> {
    inner: R,
    buf: Buffer,
}

impl<R: Read> BufReader<R> {
    /// A reader with an 8 KiB buffer, allocated on first use.
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// A reader with a buffer of `cap` bytes (at least 1).
    pub fn with_capacity(cap: usize, inner: R) -> BufReader<R> {
        BufReader {
            inner,
            buf: Buffer::new(cap),
        }
    }
}

impl<R> BufReader<R> {
    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably (reading from it directly skips the buffer).
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner reader; buffered data not yet consumed is lost.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The buffered data not yet consumed (no read).
    pub fn buffer(&self) -> &[u8] {
        self.buf.buffer()
    }

    /// The buffer's size.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

impl<R: Read> BufReader<R>
where
    R::Error: 'static,
{
    /// Read into buf: buffered data first, else one read of the inner stream.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        Read::read(self, buf).map_err(Error::from_embedded)
    }

    /// The buffered data, filled by one read of the inner stream if it was empty;
    /// empty at end of file. Pair with [`consume`](Self::consume).
    pub fn fill_buf(&mut self) -> Result<&[u8]> {
        BufRead::fill_buf(self).map_err(Error::from_embedded)
    }

    /// Mark n bytes of [`fill_buf`](Self::fill_buf)'s data consumed.
    pub fn consume(&mut self, n: usize) {
        self.buf.consume(n)
    }

    /// Append bytes to `out` through `delim` (included) or end of file; returns how
    /// many, 0 at end of file.
    pub fn read_until(&mut self, delim: u8, out: &mut Vec<u8>) -> Result<usize> {
        read_until(self, delim, out)
    }

    /// Append one line, its `\n` included, to `s`; returns its length, 0 at end of
    /// file. Invalid UTF-8 is an `InvalidData` error and leaves `s` unchanged.
    pub fn read_line(&mut self, s: &mut String) -> Result<usize> {
        read_line(self, s)
    }

    /// The lines that remain, without their `\n` or `\r\n`.
    pub fn lines(self) -> Lines<Self> {
        Lines { r: self }
    }

    /// Append everything up to end of file to `out`; returns how many bytes.
    pub fn read_to_end(&mut self, out: &mut Vec<u8>) -> Result<usize> {
        super::read_to_end(self, out)
    }

    /// Append everything up to end of file to `s` (valid UTF-8 or an
    /// `InvalidData` error); returns how many bytes.
    pub fn read_to_string(&mut self, s: &mut String) -> Result<usize> {
        append_to_string(s, |b| super::read_to_end(self, b))
    }
}

impl<R: ErrorType> ErrorType for BufReader<R> {
    type Error = R::Error;
}

impl<R: Read> Read for BufReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, R::Error> {
        let inner = &mut self.inner;
        self.buf.read(buf, |b| inner.read(b))
    }
}

impl<R: Read> BufRead for BufReader<R> {
    fn fill_buf(&mut self) -> core::result::Result<&[u8], R::Error> {
        let inner = &mut self.inner;
        self.buf.fill_buf(|b| inner.read(b))
    }

    fn consume(&mut self, amt: usize) {
        self.buf.consume(amt)
    }
}

/// The lines of a buffered reader, each without its `\n` or `\r\n` (std's
/// `io::Lines`): from [`BufReader::lines`] or [`Stdin::lines`](super::Stdin::lines).
pub struct Lines<B> {
    r: B,
}

impl<B: BufRead> Iterator for Lines<B>
where
    B::Error: 'static,
{
    type Item = Result<String>;

    fn next(&mut self) -> Option<Result<String>> {
        let mut s = String::new();
        match read_line(&mut self.r, &mut s) {
            Ok(0) => None,
            Ok(_) => {
                if s.ends_with('\n') {
                    s.pop();
                    if s.ends_with('\r') {
                        s.pop();
                    }
                }
                Some(Ok(s))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

impl<B> Lines<B> {
    /// Lines of r (any `embedded_io::BufRead`).
    pub fn new(r: B) -> Lines<B> {
        Lines { r }
    }
}

/// Gathers small writes into one large write to the inner stream (std's
/// `BufWriter`, Go's `bufio.Writer`). Dropping it flushes, ignoring errors: call
/// [`flush`](Self::flush) to see them.
pub struct BufWriter<W: Write> {
    /// Some until into_inner takes it.
    inner: Option<W>,
    buf: Vec<u8>,
    cap: usize,
}

impl<W: Write> BufWriter<W> {
    /// A writer with an 8 KiB buffer.
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// A writer with a buffer of `cap` bytes (at least 1).
    pub fn with_capacity(cap: usize, inner: W) -> BufWriter<W> {
        let cap = cap.max(1);
        BufWriter {
            inner: Some(inner),
            buf: Vec::with_capacity(cap),
            cap,
        }
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        self.inner
            .as_ref()
            .expect("BufWriter used after into_inner")
    }

    /// The bytes buffered and not yet written.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Write out the buffer; on error the bytes not written stay buffered.
    fn flush_buf(&mut self) -> core::result::Result<(), W::Error> {
        let inner = self
            .inner
            .as_mut()
            .expect("BufWriter used after into_inner");
        let mut done = 0;
        let mut res = Ok(());
        while done < self.buf.len() {
            match inner.write(&self.buf[done..]) {
                Ok(0) => {
                    // embedded-io forbids Ok(0) for a non-empty buffer; stop rather
                    // than spin (flush reports WriteZero).
                    break;
                }
                Ok(n) => done += n,
                Err(e) => {
                    res = Err(e);
                    break;
                }
            }
        }
        self.buf.drain(..done);
        res
    }
}

impl<W: Write> BufWriter<W>
where
    W::Error: 'static,
{
    /// Buffer buf (writing out the buffer first when it would overflow; a buf at
    /// least as large as the buffer is written straight through).
    pub fn write(&mut self, buf: &[u8]) -> Result<usize> {
        Write::write(self, buf).map_err(Error::from_embedded)
    }

    /// Buffer or write all of buf.
    pub fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        super::write_all(self, buf)
    }

    /// Write out the buffer and flush the inner writer.
    pub fn flush(&mut self) -> Result<()> {
        self.flush_buf().map_err(Error::from_embedded)?;
        if !self.buf.is_empty() {
            // The inner writer took nothing (Ok(0)): std's error and text.
            return Err(Error::new_static(
                ErrorKind::WriteZero,
                "failed to write the buffered data",
            ));
        }
        let inner = self
            .inner
            .as_mut()
            .expect("BufWriter used after into_inner");
        inner.flush().map_err(Error::from_embedded)
    }

    /// Flush, then return the inner writer; if the flush fails, the error and the
    /// BufWriter itself, its unwritten bytes still buffered (std's
    /// `IntoInnerError`), so nothing is lost.
    pub fn into_inner(mut self) -> core::result::Result<W, IntoInnerError<BufWriter<W>>> {
        match self.flush() {
            Ok(()) => Ok(self.inner.take().expect("BufWriter used after into_inner")),
            Err(e) => Err(IntoInnerError(self, e)),
        }
    }
}

/// As std's: the writer and how full the buffer is.
impl<W: Write + core::fmt::Debug> core::fmt::Debug for BufWriter<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BufWriter")
            .field("writer", &self.inner)
            .field("buffer", &format_args!("{}/{}", self.buf.len(), self.cap))
            .finish()
    }
}

/// The error of [`BufWriter::into_inner`] (std's `IntoInnerError`): the flush's
/// error, and the writer it failed on, which still holds what was not written.
#[derive(Debug)]
pub struct IntoInnerError<W>(W, Error);

impl<W> IntoInnerError<W> {
    /// The error the flush failed with.
    pub fn error(&self) -> &Error {
        &self.1
    }

    /// The writer, to retry or to inspect what it still holds.
    pub fn into_inner(self) -> W {
        self.0
    }

    /// The error alone.
    pub fn into_error(self) -> Error {
        self.1
    }

    /// The error and the writer.
    pub fn into_parts(self) -> (Error, W) {
        (self.1, self.0)
    }
}

impl<W> core::fmt::Display for IntoInnerError<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.1, f)
    }
}

impl<W: Write> ErrorType for BufWriter<W> {
    type Error = W::Error;
}

impl<W: Write> Write for BufWriter<W> {
    fn write(&mut self, buf: &[u8]) -> core::result::Result<usize, W::Error> {
        if self.buf.len() + buf.len() > self.cap {
            self.flush_buf()?;
        }
        if buf.len() >= self.cap && self.buf.is_empty() {
            let inner = self
                .inner
                .as_mut()
                .expect("BufWriter used after into_inner");
            return inner.write(buf);
        }
        let n = core::cmp::min(buf.len(), self.cap - self.buf.len());
        self.buf.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> core::result::Result<(), W::Error> {
        self.flush_buf()?;
        match self.inner.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl<W: Write> Drop for BufWriter<W> {
    fn drop(&mut self) {
        if self.inner.is_some() {
            let _ = self.flush_buf();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    /// A reader that hands out at most `step` bytes per read and counts reads.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
        reads: usize,
    }

    impl ErrorType for Trickle<'_> {
        type Error = Error;
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
            self.reads += 1;
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_across_short_reads_and_tiny_buffers() {
        let text = b"alpha\nbeta\r\n\ngamma without newline";
        for cap in [1, 2, 3, 7, 64, 8192] {
            for step in [1, 2, 5, 100] {
                let r = Trickle {
                    data: text,
                    step,
                    reads: 0,
                };
                let lines: Vec<String> = BufReader::with_capacity(cap, r)
                    .lines()
                    .map(|l| l.unwrap())
                    .collect();
                assert_eq!(
                    lines,
                    ["alpha", "beta", "", "gamma without newline"],
                    "cap {cap} step {step}"
                );
            }
        }
    }

    #[test]
    fn read_line_keeps_newline_and_reports_eof() {
        let mut r = BufReader::with_capacity(4, &b"ab\ncd"[..]);
        let mut s = String::new();
        assert_eq!(r.read_line(&mut s).unwrap(), 3);
        assert_eq!(s, "ab\n");
        assert_eq!(r.read_line(&mut s).unwrap(), 2);
        assert_eq!(s, "ab\ncd");
        assert_eq!(r.read_line(&mut s).unwrap(), 0);
        assert_eq!(s, "ab\ncd");
    }

    #[test]
    fn invalid_utf8_is_invalid_data_and_leaves_the_string() {
        let mut r = BufReader::new(&b"\xff\xfe\n"[..]);
        let mut s = String::from("kept");
        let e = r.read_line(&mut s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidData);
        assert_eq!(e.to_string(), "stream did not contain valid UTF-8");
        assert_eq!(s, "kept");
        // A UTF-8 sequence split across buffer refills is still valid.
        let mut r = BufReader::with_capacity(1, "héllo\n".as_bytes());
        let mut s = String::new();
        r.read_line(&mut s).unwrap();
        assert_eq!(s, "héllo\n");
    }

    #[test]
    fn read_until_fill_buf_consume() {
        let mut r = BufReader::with_capacity(3, &b"a,bc,,def"[..]);
        let mut v = Vec::new();
        assert_eq!(r.read_until(b',', &mut v).unwrap(), 2);
        assert_eq!(r.read_until(b',', &mut v).unwrap(), 3);
        assert_eq!(r.read_until(b',', &mut v).unwrap(), 1);
        assert_eq!(v, b"a,bc,,");
        assert_eq!(r.fill_buf().unwrap(), b"def");
        r.consume(1);
        assert_eq!(r.buffer(), b"ef");
        r.consume(100); // clamped
        assert_eq!(r.buffer(), b"");
        assert_eq!(r.fill_buf().unwrap(), b"");
        assert_eq!(r.read_until(b',', &mut v).unwrap(), 0);
    }

    #[test]
    fn large_reads_bypass_the_buffer() {
        let data: Vec<u8> = (0..100u8).collect();
        let mut r = BufReader::with_capacity(
            16,
            Trickle {
                data: &data,
                step: 100,
                reads: 0,
            },
        );
        let mut small = [0u8; 4];
        assert_eq!(r.read(&mut small).unwrap(), 4); // fills 16, hands out 4
        assert_eq!(r.get_ref().reads, 1);
        let mut big = [0u8; 32];
        assert_eq!(r.read(&mut big).unwrap(), 12); // the rest of the buffer
        assert_eq!(r.read(&mut big).unwrap(), 32); // straight through
        assert_eq!(r.get_ref().reads, 2);
        assert_eq!(&big[..], &data[16..48]);
        let mut rest = Vec::new();
        assert_eq!(r.read_to_end(&mut rest).unwrap(), 52);
        assert_eq!(&rest[..], &data[48..]);
    }

    /// A writer that takes at most `step` bytes per write.
    #[derive(Debug)]
    struct Sink {
        out: Vec<u8>,
        step: usize,
        writes: usize,
    }

    impl ErrorType for Sink {
        type Error = Error;
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> Result<usize> {
            self.writes += 1;
            let n = self.step.min(buf.len());
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn buf_writer_gathers_small_writes() {
        let mut w = BufWriter::with_capacity(
            10,
            Sink {
                out: Vec::new(),
                step: 3,
                writes: 0,
            },
        );
        for _ in 0..5 {
            w.write_all(b"ab").unwrap();
        }
        assert_eq!(w.get_ref().writes, 0);
        assert_eq!(w.buffer(), b"ababababab");
        w.write_all(b"X").unwrap(); // overflows: the 10 go out in 3-byte writes
        assert_eq!(w.get_ref().out, b"ababababab");
        let sink = w.into_inner().unwrap();
        assert_eq!(sink.out, b"abababababX");
    }

    /// A writer that fails: into_inner gives back the BufWriter with its bytes
    /// still buffered, and the error (std's IntoInnerError).
    #[test]
    fn into_inner_keeps_what_it_could_not_write() {
        #[derive(Debug)]
        struct Broken;
        impl ErrorType for Broken {
            type Error = Error;
        }
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> Result<usize> {
                Err(Error::from_raw_os_error(32))
            }
            fn flush(&mut self) -> Result<()> {
                Ok(())
            }
        }
        let mut w = BufWriter::new(Broken);
        w.write_all(b"kept").unwrap();
        let e = w.into_inner().unwrap_err();
        assert_eq!(e.error().kind(), ErrorKind::BrokenPipe);
        assert_eq!(e.to_string(), "Broken pipe (os error 32)");
        let w = e.into_inner();
        assert_eq!(w.buffer(), b"kept");
        core::mem::forget(w); // its drop would retry the flush, as std's does
    }

    /// An inner writer that takes nothing (Ok(0)): flush fails with std's
    /// WriteZero text and keeps the bytes buffered, never spinning.
    #[test]
    fn flush_into_a_writer_that_takes_nothing_is_write_zero() {
        let mut w = BufWriter::with_capacity(
            8,
            Sink {
                out: Vec::new(),
                step: 0,
                writes: 0,
            },
        );
        w.write_all(b"abc").unwrap();
        let e = w.flush().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WriteZero);
        assert_eq!(e.to_string(), "failed to write the buffered data");
        assert_eq!(w.buffer(), b"abc");
        let e = w.write_all(b"0123456789").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WriteZero);
        core::mem::forget(w);
    }

    #[test]
    fn copy_and_read_to_end_over_slices() {
        let data: Vec<u8> = (0..70_000u32).map(|i| (i * 7) as u8).collect();
        let mut src = &data[..];
        let mut dst = Sink {
            out: Vec::new(),
            step: 1000,
            writes: 0,
        };
        assert_eq!(super::super::copy(&mut src, &mut dst).unwrap(), 70_000);
        assert_eq!(dst.out, data);
        let mut v = Vec::new();
        let mut src = &data[..];
        assert_eq!(super::super::read_to_end(&mut src, &mut v).unwrap(), 70_000);
        assert_eq!(v, data);
        let mut short = &data[..3];
        let mut four = [0u8; 4];
        let e = super::super::read_exact(&mut short, &mut four).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof);
    }
}
