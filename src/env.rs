//! Arguments and environment, as the kernel passed them (Go's `os.Args`,
//! `os.Getenv`, `os.Environ`).
//!
//! Nothing is copied at start-up: every value is a `&'static` view of the bytes the
//! kernel laid out on the initial stack, so a 10,000-variable environment costs
//! nothing until it is read. Arguments and values are bytes, as Go's strings are;
//! the `str` accessors give `None` for bytes that are not UTF-8.

use core::fmt;

use crate::runtime::runtime1;

/// One command-line argument. `Display` shows invalid UTF-8 as U+FFFD; `Debug` shows
/// the bytes escaped.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Arg(&'static [u8]);

impl Arg {
    /// The argument's bytes, exactly as passed.
    pub fn as_bytes(&self) -> &'static [u8] {
        self.0
    }

    /// The argument as text, if it is valid UTF-8.
    pub fn to_str(&self) -> Option<&'static str> {
        core::str::from_utf8(self.0).ok()
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{FFFD}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

/// The program's arguments, `argv[0]` first (Go's `os.Args`).
pub fn args() -> impl ExactSizeIterator<Item = Arg> {
    (0..runtime1::argc()).map(|i| Arg(runtime1::argv_bytes(i)))
}

/// The value of environment variable `name`, if it is set and valid UTF-8. The first
/// `NAME=value` entry wins, as in Go.
pub fn var(name: &str) -> Option<&'static str> {
    var_bytes(name).and_then(|v| core::str::from_utf8(v).ok())
}

/// The value of environment variable `name` as bytes, if it is set.
pub fn var_bytes(name: &str) -> Option<&'static [u8]> {
    runtime1::getenv(name.as_bytes())
}

/// Every environment entry as `(name, value)` bytes, in the order the kernel passed
/// them (Go's `os.Environ`, split at the first `=`). An entry without `=` has an empty
/// value.
pub fn vars_bytes() -> impl Iterator<Item = (&'static [u8], &'static [u8])> {
    runtime1::environ().map(|kv| match kv.iter().position(|&c| c == b'=') {
        Some(i) => (&kv[..i], &kv[i + 1..]),
        None => (kv, &kv[kv.len()..]),
    })
}

/// Every environment entry whose name and value are valid UTF-8, as `(name, value)`
/// (std's `env::vars`, skipping the entries it would panic on).
pub fn vars() -> impl Iterator<Item = (&'static str, &'static str)> {
    vars_bytes()
        .filter_map(|(k, v)| Some((core::str::from_utf8(k).ok()?, core::str::from_utf8(v).ok()?)))
}
