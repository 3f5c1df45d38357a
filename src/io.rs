//! Byte streams and their errors (Go's `io`, `bufio` and `os.Std*`, with std's
//! names), and the `embedded-io` traits that let any no_std code use them.
//!
//! [`Error`] is what every gort I/O operation returns on failure: an `errno` from the
//! kernel, or one of Go's own conditions ("i/o timeout", "use of closed network
//! connection"). [`Error::kind`] classifies it with std's [`ErrorKind`] names, and
//! `Display` reads as std's does: `Connection refused (os error 111)`. No gort API
//! returns `EINTR`: interrupted calls are retried.
//!
//! # Streams and how they wait
//!
//! A stream waits in one of two ways, as in Go:
//!
//! - descriptors the network poller can watch (sockets, pipes to children:
//!   [`crate::net`], [`crate::process`]) are non-blocking; a goroutine that would
//!   block parks, and its thread runs other goroutines;
//! - everything else (regular files in [`crate::fs`], standard input, output and
//!   error, which may be a file, a terminal or a pipe shared with other processes)
//!   is read and written by a blocking system call inside
//!   `entersyscall`/`exitsyscall`. The goroutine keeps its thread for the call; if
//!   the call lasts, the runtime's monitor (sysmon) hands the goroutine's P to
//!   another thread, so a goroutine waiting for input on stdin stops nobody else,
//!   even with `GOMAXPROCS=1`. A descriptor inherited in non-blocking mode that says
//!   `EAGAIN` is waited for in poll(2), the P handed off at once.
//!
//! [`stdout()`] and [`stderr()`] write to file descriptors 1 and 2 without
//! buffering; a `write_all` of up to 4 KiB is one `write(2)`, so lines from different
//! goroutines do not interleave (4 KiB is `PIPE_BUF`, the most a pipe writes at once).
//! [`stdin()`] reads through one process-wide 8 KiB buffer behind a goroutine lock
//! (std's design): [`Stdin::lock`] holds it for a run of reads, and lines never
//! split between two readers.
//!
//! # The embedded-io traits
//!
//! Every gort stream ([`Stdin`], [`Stdout`], [`Stderr`], `fs::File`,
//! `net::TcpStream`, `net::UnixStream`, `process::ChildPipe`) implements
//! [`embedded_io::Read`] and/or [`embedded_io::Write`] (and `fs::File`
//! [`embedded_io::Seek`]), with gort's [`Error`] as the error type, which implements
//! [`embedded_io::Error`]. So no_std parsers, codecs and protocol crates written
//! against embedded-io take gort streams as they are. The generic helpers here
//! ([`copy`], [`read_to_end`], [`read_to_string`], [`read_exact`], [`write_all`],
//! [`BufReader`], [`BufWriter`]) are written against those traits too, and so work
//! for any stream (its error type `'static`); they return gort's [`Result`], a
//! gort [`Error`] passed through as it is and any other error converted by its
//! kind ([`Error::from_embedded`]). As with std, shared streams implement the
//! traits on references as well (`&File`, `&TcpStream`, `&Stdout`, ...).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::runtime::proc::{entersyscall, exitsyscall, handoff_in_syscall};
use crate::runtime::sys_linux::{self, EAGAIN, EINTR};
use crate::sync::{Mutex, MutexGuard};

mod buffered;
mod impls;

pub use buffered::{BufReader, BufWriter, IntoInnerError, Lines};
/// The embedded-io crate gort's streams implement (re-exported so that a program
/// names the same version).
pub use embedded_io;
/// Where a seek starts from (std's `SeekFrom`; the embedded-io type).
pub use embedded_io::SeekFrom;

/// `Result` with gort's I/O [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

/// An I/O error: an `errno` value, or a condition of gort's own with a fixed message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Error {
    repr: Repr,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Repr {
    Os(i32),
    Simple(ErrorKind, &'static str),
    /// A fixed message and what it is about (a malformed address), kept inline so
    /// that Error stays Copy and allocation-free: the detail's first bytes (whole
    /// characters, at most DETAIL_MAX) and their length, bit 7 set if it was cut.
    Detail(ErrorKind, &'static str, [u8; DETAIL_MAX], u8),
}

/// The most bytes of detail an Error keeps.
const DETAIL_MAX: usize = 32;

/// What kind of failure an [`Error`] is: std's `io::ErrorKind` names, so code written
/// against std reads the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An entity was not found (`ENOENT`).
    NotFound,
    /// The operation lacked the necessary privileges (`EPERM`, `EACCES`).
    PermissionDenied,
    /// The remote server refused the connection (`ECONNREFUSED`).
    ConnectionRefused,
    /// The connection was reset by the remote server (`ECONNRESET`).
    ConnectionReset,
    /// The remote host is not reachable (`EHOSTUNREACH`).
    HostUnreachable,
    /// The network is not reachable (`ENETUNREACH`).
    NetworkUnreachable,
    /// The connection was aborted (`ECONNABORTED`).
    ConnectionAborted,
    /// The socket is not connected (`ENOTCONN`).
    NotConnected,
    /// The address is already in use (`EADDRINUSE`).
    AddrInUse,
    /// The address is not available here (`EADDRNOTAVAIL`).
    AddrNotAvailable,
    /// The network is down (`ENETDOWN`).
    NetworkDown,
    /// The other end of a pipe or socket is closed (`EPIPE`).
    BrokenPipe,
    /// The entity already exists (`EEXIST`).
    AlreadyExists,
    /// The operation would block (`EAGAIN`); gort's own streams park instead.
    WouldBlock,
    /// A path component is not a directory (`ENOTDIR`).
    NotADirectory,
    /// The path is a directory (`EISDIR`).
    IsADirectory,
    /// The directory is not empty (`ENOTEMPTY`).
    DirectoryNotEmpty,
    /// The file system is read-only (`EROFS`).
    ReadOnlyFilesystem,
    /// A network file handle is stale (`ESTALE`).
    StaleNetworkFileHandle,
    /// A parameter was incorrect (`EINVAL`, a malformed address).
    InvalidInput,
    /// Data was not valid for the operation.
    InvalidData,
    /// The operation timed out (`ETIMEDOUT`, an expired deadline: "i/o timeout").
    TimedOut,
    /// A write returned 0 bytes written.
    WriteZero,
    /// The device is full (`ENOSPC`).
    StorageFull,
    /// The stream cannot seek (`ESPIPE`).
    NotSeekable,
    /// A quota was exceeded (`EDQUOT`).
    QuotaExceeded,
    /// The file is too large (`EFBIG`).
    FileTooLarge,
    /// The resource is busy (`EBUSY`).
    ResourceBusy,
    /// The executable is busy (`ETXTBSY`).
    ExecutableFileBusy,
    /// A deadlock was avoided (`EDEADLK`).
    Deadlock,
    /// A link or rename crossed file systems (`EXDEV`).
    CrossesDevices,
    /// Too many links (`EMLINK`).
    TooManyLinks,
    /// A file name was invalid or too long (`ENAMETOOLONG`).
    InvalidFilename,
    /// The argument list was too long (`E2BIG`).
    ArgumentListTooLong,
    /// The operation was interrupted (`EINTR`); gort retries and never returns it.
    Interrupted,
    /// The operation is not supported (`ENOSYS`, `EOPNOTSUPP`).
    Unsupported,
    /// The stream ended before the operation could complete.
    UnexpectedEof,
    /// Memory could not be allocated (`ENOMEM`).
    OutOfMemory,
    /// Any other error.
    Other,
}

impl ErrorKind {
    fn as_str(self) -> &'static str {
        use ErrorKind::*;
        match self {
            NotFound => "entity not found",
            PermissionDenied => "permission denied",
            ConnectionRefused => "connection refused",
            ConnectionReset => "connection reset",
            HostUnreachable => "host unreachable",
            NetworkUnreachable => "network unreachable",
            ConnectionAborted => "connection aborted",
            NotConnected => "not connected",
            AddrInUse => "address in use",
            AddrNotAvailable => "address not available",
            NetworkDown => "network down",
            BrokenPipe => "broken pipe",
            AlreadyExists => "entity already exists",
            WouldBlock => "operation would block",
            NotADirectory => "not a directory",
            IsADirectory => "is a directory",
            DirectoryNotEmpty => "directory not empty",
            ReadOnlyFilesystem => "read-only filesystem or storage medium",
            StaleNetworkFileHandle => "stale network file handle",
            InvalidInput => "invalid input parameter",
            InvalidData => "invalid data",
            TimedOut => "timed out",
            WriteZero => "write zero",
            StorageFull => "no storage space",
            NotSeekable => "seek on unseekable file",
            QuotaExceeded => "quota exceeded",
            FileTooLarge => "file too large",
            ResourceBusy => "resource busy",
            ExecutableFileBusy => "executable file busy",
            Deadlock => "deadlock",
            CrossesDevices => "cross-device link or rename",
            TooManyLinks => "too many links",
            InvalidFilename => "invalid filename",
            ArgumentListTooLong => "argument list too long",
            Interrupted => "operation interrupted",
            Unsupported => "unsupported",
            UnexpectedEof => "unexpected end of file",
            OutOfMemory => "out of memory",
            Other => "other error",
        }
    }

    /// The kind of an errno value, as std's `decode_error_kind` has it.
    fn from_errno(e: i32) -> ErrorKind {
        use ErrorKind::*;
        match e {
            1 | 13 => PermissionDenied,
            2 => NotFound,
            4 => Interrupted,
            7 => ArgumentListTooLong,
            11 => WouldBlock,
            12 => OutOfMemory,
            16 => ResourceBusy,
            17 => AlreadyExists,
            18 => CrossesDevices,
            20 => NotADirectory,
            21 => IsADirectory,
            22 => InvalidInput,
            26 => ExecutableFileBusy,
            27 => FileTooLarge,
            28 => StorageFull,
            29 => NotSeekable,
            30 => ReadOnlyFilesystem,
            31 => TooManyLinks,
            32 => BrokenPipe,
            35 => Deadlock,
            36 => InvalidFilename,
            38 | 95 => Unsupported,
            39 => DirectoryNotEmpty,
            98 => AddrInUse,
            99 => AddrNotAvailable,
            100 => NetworkDown,
            101 => NetworkUnreachable,
            103 => ConnectionAborted,
            104 => ConnectionReset,
            107 => NotConnected,
            110 => TimedOut,
            111 => ConnectionRefused,
            113 => HostUnreachable,
            116 => StaleNetworkFileHandle,
            122 => QuotaExceeded,
            _ => Other,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Linux's messages for errno 1..=133 (glibc's strerror), "" where it has none.
static STRERROR: [&str; 133] = [
    "Operation not permitted",
    "No such file or directory",
    "No such process",
    "Interrupted system call",
    "Input/output error",
    "No such device or address",
    "Argument list too long",
    "Exec format error",
    "Bad file descriptor",
    "No child processes",
    "Resource temporarily unavailable",
    "Cannot allocate memory",
    "Permission denied",
    "Bad address",
    "Block device required",
    "Device or resource busy",
    "File exists",
    "Invalid cross-device link",
    "No such device",
    "Not a directory",
    "Is a directory",
    "Invalid argument",
    "Too many open files in system",
    "Too many open files",
    "Inappropriate ioctl for device",
    "Text file busy",
    "File too large",
    "No space left on device",
    "Illegal seek",
    "Read-only file system",
    "Too many links",
    "Broken pipe",
    "Numerical argument out of domain",
    "Numerical result out of range",
    "Resource deadlock avoided",
    "File name too long",
    "No locks available",
    "Function not implemented",
    "Directory not empty",
    "Too many levels of symbolic links",
    "",
    "No message of desired type",
    "Identifier removed",
    "Channel number out of range",
    "Level 2 not synchronized",
    "Level 3 halted",
    "Level 3 reset",
    "Link number out of range",
    "Protocol driver not attached",
    "No CSI structure available",
    "Level 2 halted",
    "Invalid exchange",
    "Invalid request descriptor",
    "Exchange full",
    "No anode",
    "Invalid request code",
    "Invalid slot",
    "",
    "Bad font file format",
    "Device not a stream",
    "No data available",
    "Timer expired",
    "Out of streams resources",
    "Machine is not on the network",
    "Package not installed",
    "Object is remote",
    "Link has been severed",
    "Advertise error",
    "Srmount error",
    "Communication error on send",
    "Protocol error",
    "Multihop attempted",
    "RFS specific error",
    "Bad message",
    "Value too large for defined data type",
    "Name not unique on network",
    "File descriptor in bad state",
    "Remote address changed",
    "Can not access a needed shared library",
    "Accessing a corrupted shared library",
    ".lib section in a.out corrupted",
    "Attempting to link in too many shared libraries",
    "Cannot exec a shared library directly",
    "Invalid or incomplete multibyte or wide character",
    "Interrupted system call should be restarted",
    "Streams pipe error",
    "Too many users",
    "Socket operation on non-socket",
    "Destination address required",
    "Message too long",
    "Protocol wrong type for socket",
    "Protocol not available",
    "Protocol not supported",
    "Socket type not supported",
    "Operation not supported",
    "Protocol family not supported",
    "Address family not supported by protocol",
    "Address already in use",
    "Cannot assign requested address",
    "Network is down",
    "Network is unreachable",
    "Network dropped connection on reset",
    "Software caused connection abort",
    "Connection reset by peer",
    "No buffer space available",
    "Transport endpoint is already connected",
    "Transport endpoint is not connected",
    "Cannot send after transport endpoint shutdown",
    "Too many references: cannot splice",
    "Connection timed out",
    "Connection refused",
    "Host is down",
    "No route to host",
    "Operation already in progress",
    "Operation now in progress",
    "Stale file handle",
    "Structure needs cleaning",
    "Not a XENIX named type file",
    "No XENIX semaphores available",
    "Is a named type file",
    "Remote I/O error",
    "Disk quota exceeded",
    "No medium found",
    "Wrong medium type",
    "Operation canceled",
    "Required key not available",
    "Key has expired",
    "Key has been revoked",
    "Key was rejected by service",
    "Owner died",
    "State not recoverable",
    "Operation not possible due to RF-kill",
    "Memory page has hardware error",
];

impl Error {
    /// The error for an errno value (std's `from_raw_os_error`).
    pub const fn from_raw_os_error(code: i32) -> Error {
        Error {
            repr: Repr::Os(code),
        }
    }

    /// An error of `kind` with a fixed message (Go's texts: "i/o timeout", ...).
    pub const fn new_static(kind: ErrorKind, msg: &'static str) -> Error {
        Error {
            repr: Repr::Simple(kind, msg),
        }
    }

    /// An error of `kind` with a fixed message naming what it is about: Display
    /// is `msg: "detail"`, or msg with `"detail"` in place of its `{}` if it has
    /// one (os/exec's `exec: "prog": executable file not found in $PATH`); the
    /// detail is cut after 32 bytes with "...".
    pub fn with_detail(kind: ErrorKind, msg: &'static str, detail: &str) -> Error {
        let mut n = detail.len().min(DETAIL_MAX);
        while !detail.is_char_boundary(n) {
            n -= 1;
        }
        let mut d = [0u8; DETAIL_MAX];
        d[..n].copy_from_slice(&detail.as_bytes()[..n]);
        // The length, and bit 7 when the detail was cut.
        let n = n as u8 | if n < detail.len() { 0x80 } else { 0 };
        Error {
            repr: Repr::Detail(kind, msg, d, n),
        }
    }

    /// The errno value, if this error came from the kernel.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self.repr {
            Repr::Os(e) => Some(e),
            Repr::Simple(..) | Repr::Detail(..) => None,
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        match self.repr {
            Repr::Os(e) => ErrorKind::from_errno(e),
            Repr::Simple(k, _) | Repr::Detail(k, ..) => k,
        }
    }

    /// gort's error for any embedded-io error: the error itself when it is a gort
    /// [`Error`] (errno and message kept), else an error of the same kind. This is
    /// how the generic helpers ([`copy`], [`BufReader`], ...) report the errors of
    /// any stream.
    pub fn from_embedded<E: embedded_io::Error + 'static>(e: E) -> Error {
        let d: &(dyn core::error::Error + 'static) = &e;
        match d.downcast_ref::<Error>() {
            Some(g) => *g,
            None => Error::from(embedded_io::Error::kind(&e)),
        }
    }

    /// The error for a raw system-call result: -errno, as the kernel returns it.
    pub(crate) fn from_neg(r: isize) -> Error {
        Error::from_raw_os_error((-r) as i32)
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error::new_static(kind, kind.as_str())
    }
}

/// strerror's text for errno e, if it has one.
fn strerror(e: i32) -> Option<&'static str> {
    usize::try_from(e)
        .ok()
        .and_then(|i| STRERROR.get(i.wrapping_sub(1)))
        .copied()
        .filter(|m| !m.is_empty())
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.repr {
            Repr::Os(e) => match strerror(e) {
                Some(m) => write!(f, "{m} (os error {e})"),
                None => write!(f, "Unknown error {e} (os error {e})"),
            },
            Repr::Simple(_, msg) => f.write_str(msg),
            Repr::Detail(_, msg, ref d, n) => {
                // with_detail stored whole characters of a str.
                let d = core::str::from_utf8(&d[..(n & 0x7f) as usize]).unwrap_or("?");
                let more = if n & 0x80 != 0 { "..." } else { "" };
                match msg.split_once("{}") {
                    Some((before, after)) => write!(f, "{before}{d:?}{more}{after}"),
                    None => write!(f, "{msg}: {d:?}{more}"),
                }
            }
        }
    }
}

/// As std's: `Os { code: 2, kind: NotFound, message: "No such file or directory" }`
/// (what `unwrap` on an error prints), and `Error { kind, message: "..." }`.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.repr {
            Repr::Os(e) => {
                let unknown;
                let msg = match strerror(e) {
                    Some(m) => m,
                    None => {
                        unknown = alloc::format!("Unknown error {e}");
                        &unknown
                    }
                };
                f.debug_struct("Os")
                    .field("code", &e)
                    .field("kind", &ErrorKind::from_errno(e))
                    .field("message", &msg)
                    .finish()
            }
            Repr::Simple(k, msg) => f
                .debug_struct("Error")
                .field("kind", &k)
                .field("message", &msg)
                .finish(),
            Repr::Detail(k, ..) => f
                .debug_struct("Error")
                .field("kind", &k)
                .field("message", &alloc::format!("{self}"))
                .finish(),
        }
    }
}

impl core::error::Error for Error {}

impl embedded_io::Error for Error {
    /// The nearest embedded-io kind; kinds it lacks (`NotADirectory`,
    /// `UnexpectedEof`, `WouldBlock`, ...) are `Other`.
    fn kind(&self) -> embedded_io::ErrorKind {
        use embedded_io::ErrorKind as E;
        match Error::kind(self) {
            ErrorKind::NotFound => E::NotFound,
            ErrorKind::PermissionDenied => E::PermissionDenied,
            ErrorKind::ConnectionRefused => E::ConnectionRefused,
            ErrorKind::ConnectionReset => E::ConnectionReset,
            ErrorKind::ConnectionAborted => E::ConnectionAborted,
            ErrorKind::NotConnected => E::NotConnected,
            ErrorKind::AddrInUse => E::AddrInUse,
            ErrorKind::AddrNotAvailable => E::AddrNotAvailable,
            ErrorKind::BrokenPipe => E::BrokenPipe,
            ErrorKind::AlreadyExists => E::AlreadyExists,
            ErrorKind::InvalidInput => E::InvalidInput,
            ErrorKind::InvalidData => E::InvalidData,
            ErrorKind::TimedOut => E::TimedOut,
            ErrorKind::Interrupted => E::Interrupted,
            ErrorKind::Unsupported => E::Unsupported,
            ErrorKind::OutOfMemory => E::OutOfMemory,
            ErrorKind::WriteZero => E::WriteZero,
            _ => E::Other,
        }
    }
}

impl From<embedded_io::ErrorKind> for Error {
    /// The gort kind of the same name (`Other` for any embedded-io adds later).
    fn from(k: embedded_io::ErrorKind) -> Error {
        use embedded_io::ErrorKind as E;
        let kind = match k {
            E::NotFound => ErrorKind::NotFound,
            E::PermissionDenied => ErrorKind::PermissionDenied,
            E::ConnectionRefused => ErrorKind::ConnectionRefused,
            E::ConnectionReset => ErrorKind::ConnectionReset,
            E::ConnectionAborted => ErrorKind::ConnectionAborted,
            E::NotConnected => ErrorKind::NotConnected,
            E::AddrInUse => ErrorKind::AddrInUse,
            E::AddrNotAvailable => ErrorKind::AddrNotAvailable,
            E::BrokenPipe => ErrorKind::BrokenPipe,
            E::AlreadyExists => ErrorKind::AlreadyExists,
            E::InvalidInput => ErrorKind::InvalidInput,
            E::InvalidData => ErrorKind::InvalidData,
            E::TimedOut => ErrorKind::TimedOut,
            E::Interrupted => ErrorKind::Interrupted,
            E::Unsupported => ErrorKind::Unsupported,
            E::OutOfMemory => ErrorKind::OutOfMemory,
            E::WriteZero => ErrorKind::WriteZero,
            _ => ErrorKind::Other,
        };
        kind.into()
    }
}

impl From<core::convert::Infallible> for Error {
    /// Streams that cannot fail (byte slices) meet gort's helpers.
    fn from(e: core::convert::Infallible) -> Error {
        match e {}
    }
}

impl<E> From<embedded_io::ReadExactError<E>> for Error
where
    Error: From<E>,
{
    /// `UnexpectedEof`, or the stream's own error.
    fn from(e: embedded_io::ReadExactError<E>) -> Error {
        match e {
            embedded_io::ReadExactError::UnexpectedEof => unexpected_eof(),
            embedded_io::ReadExactError::Other(e) => e.into(),
        }
    }
}

/// std's error for a stream that ended too soon.
fn unexpected_eof() -> Error {
    Error::new_static(ErrorKind::UnexpectedEof, "failed to fill whole buffer")
}

/// Write all of `buf` to `fd`, retrying short writes, `EINTR` and (on a
/// non-blocking fd) `EAGAIN`, as one system call for the scheduler.
fn write_all_fd(fd: i32, mut buf: &[u8]) -> Result<()> {
    let entered = crate::runtime::proc::entersyscall();
    // Whole: no other goroutine's output inside it (runtime/print.rs).
    let guard = crate::runtime::print::out_lock(fd);
    let mut res = Ok(());
    while !buf.is_empty() {
        match crate::runtime::print::write_wait(fd, buf) {
            n if n > 0 => buf = &buf[n as usize..],
            0 => {
                res = Err(ErrorKind::WriteZero.into());
                break;
            }
            r => {
                res = Err(Error::from_neg(r));
                break;
            }
        }
    }
    drop(guard);
    crate::runtime::proc::exitsyscall(entered);
    if let Err(e) = res {
        // EPIPE on stdout/stderr: die by SIGPIPE, as Go's os.File (epipecheck).
        crate::runtime::signal_linux::epipecheck(fd, -(e.raw_os_error().unwrap_or(0) as isize));
    }
    res
}

/// One write to `fd` (retrying `EINTR` and `EAGAIN`), as a system call for the
/// scheduler.
fn write_fd(fd: i32, buf: &[u8]) -> Result<usize> {
    let entered = crate::runtime::proc::entersyscall();
    let guard = crate::runtime::print::out_lock(fd);
    let r = crate::runtime::print::write_wait(fd, buf);
    drop(guard);
    crate::runtime::proc::exitsyscall(entered);
    // EPIPE on stdout/stderr: die by SIGPIPE, as Go's os.File (epipecheck).
    crate::runtime::signal_linux::epipecheck(fd, r);
    if r < 0 {
        Err(Error::from_neg(r))
    } else {
        Ok(r as usize)
    }
}

/// The process's standard output, file descriptor 1 (Go's `os.Stdout`). Unbuffered.
#[derive(Clone, Copy, Debug)]
pub struct Stdout(());

/// The process's standard error, file descriptor 2 (Go's `os.Stderr`). Unbuffered.
#[derive(Clone, Copy, Debug)]
pub struct Stderr(());

/// A handle to standard output.
pub fn stdout() -> Stdout {
    Stdout(())
}

/// A handle to standard error.
pub fn stderr() -> Stderr {
    Stderr(())
}

macro_rules! fd_writer {
    ($t:ty, $fd:expr) => {
        impl $t {
            /// Write some of `buf`; returns how many bytes were written.
            pub fn write(&self, buf: &[u8]) -> Result<usize> {
                write_fd($fd, buf)
            }

            /// Write all of `buf`, retrying short writes. Whole: no other
            /// goroutine's output lands inside it.
            pub fn write_all(&self, buf: &[u8]) -> Result<()> {
                write_all_fd($fd, buf)
            }

            /// Format `args` and write it whole (`write!`/`writeln!`): formatted
            /// first, then one [`write_all`](Self::write_all), so a line never
            /// has another goroutine's output inside it (std holds the stream's
            /// lock for the call). A Display that fails: what was formatted is
            /// written, then std's "formatter error".
            pub fn write_fmt(&self, args: core::fmt::Arguments<'_>) -> Result<()> {
                let mut w = crate::print::Whole::new();
                let formatted = core::fmt::write(&mut w, args);
                write_all_fd($fd, w.bytes())?;
                formatted.map_err(|_| Error::new_static(ErrorKind::Other, "formatter error"))
            }

            /// Nothing is buffered: always `Ok`.
            pub fn flush(&self) -> Result<()> {
                Ok(())
            }
        }
    };
}

fd_writer!(Stdout, 1);
fd_writer!(Stderr, 2);

const POLLIN: i16 = 0x1;

/// One read(2) of fd into buf, as a system call for the scheduler: retries `EINTR`,
/// and waits in poll(2) (its P handed off at once) when a non-blocking fd says
/// `EAGAIN`. Runs on a goroutine with no runtime lock held.
pub(crate) fn read_fd(fd: i32, buf: &mut [u8]) -> Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let entered = entersyscall();
    let r = loop {
        let n = sys_linux::read(fd, buf);
        if n == -EINTR {
            continue;
        }
        if n == -EAGAIN {
            handoff_in_syscall();
            sys_linux::poll1(fd, POLLIN, -1);
            continue;
        }
        break n;
    };
    exitsyscall(entered);
    if r < 0 {
        Err(Error::from_neg(r))
    } else {
        Ok(r as usize)
    }
}

/// The process's standard input, file descriptor 0 (Go's `os.Stdin`, std's
/// `Stdin`): reads go through one process-wide 8 KiB buffer, locked per call (or
/// for as long as a [`StdinLock`] is held).
///
/// A read blocks its goroutine in a system call (standard input may be a terminal,
/// a file or a pipe another process shares: it is never made non-blocking); other
/// goroutines go on running, the P handed to another thread while it waits.
#[derive(Clone, Copy, Debug)]
pub struct Stdin(());

/// Standard input's buffer, shared by every [`Stdin`] handle.
static STDIN: Mutex<buffered::Buffer> =
    Mutex::new(buffered::Buffer::new(buffered::DEFAULT_BUF_SIZE));

/// A handle to standard input.
pub fn stdin() -> Stdin {
    Stdin(())
}

impl Stdin {
    /// Lock standard input for a run of reads: other goroutines reading it wait
    /// (park) until the lock is dropped.
    pub fn lock(&self) -> StdinLock<'static> {
        StdinLock { buf: STDIN.lock() }
    }

    /// Read some bytes into buf; 0 at end of file.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        self.lock().read(buf)
    }

    /// Append one line (its `\n` included) to `s`; returns its length, 0 at end of
    /// file.
    pub fn read_line(&self, s: &mut String) -> Result<usize> {
        self.lock().read_line(s)
    }

    /// The lines of standard input, without their `\n` or `\r\n` (holds the lock
    /// while the iterator lives).
    pub fn lines(self) -> Lines<StdinLock<'static>> {
        self.lock().lines()
    }

    /// Append everything up to end of file to `out`; returns how many bytes.
    pub fn read_to_end(&self, out: &mut Vec<u8>) -> Result<usize> {
        self.lock().read_to_end(out)
    }

    /// Append everything up to end of file to `s` (valid UTF-8, or an
    /// `InvalidData` error and `s` unchanged); returns how many bytes.
    pub fn read_to_string(&self, s: &mut String) -> Result<usize> {
        self.lock().read_to_string(s)
    }
}

/// Standard input, locked (std's `StdinLock`): buffered reads by one goroutine.
pub struct StdinLock<'a> {
    buf: MutexGuard<'a, buffered::Buffer>,
}

impl StdinLock<'_> {
    /// Read some bytes into buf: buffered data first, else one read(2).
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        self.buf.read(buf, |b| read_fd(0, b))
    }

    /// The buffered data, filled by one read(2) if it was empty; empty at end of
    /// file.
    pub fn fill_buf(&mut self) -> Result<&[u8]> {
        self.buf.fill_buf(|b| read_fd(0, b))
    }

    /// Mark n bytes of [`fill_buf`](Self::fill_buf)'s data consumed.
    pub fn consume(&mut self, n: usize) {
        self.buf.consume(n)
    }

    /// Append bytes through `delim` (included) or end of file to `out`.
    pub fn read_until(&mut self, delim: u8, out: &mut Vec<u8>) -> Result<usize> {
        buffered::read_until(self, delim, out)
    }

    /// Append one line (its `\n` included) to `s`; 0 at end of file.
    pub fn read_line(&mut self, s: &mut String) -> Result<usize> {
        buffered::read_line(self, s)
    }

    /// The remaining lines, without their `\n` or `\r\n`.
    pub fn lines(self) -> Lines<Self> {
        Lines::new(self)
    }

    /// Append everything up to end of file to `out`.
    pub fn read_to_end(&mut self, out: &mut Vec<u8>) -> Result<usize> {
        read_to_end(self, out)
    }

    /// Append everything up to end of file to `s` (valid UTF-8 or `InvalidData`).
    pub fn read_to_string(&mut self, s: &mut String) -> Result<usize> {
        buffered::append_to_string(s, |b| read_to_end(self, b))
    }
}

/// Read from r until end of file, appending to out; returns how many bytes (std's
/// `Read::read_to_end`, for any embedded-io reader).
pub fn read_to_end<R: embedded_io::Read + ?Sized>(r: &mut R, out: &mut Vec<u8>) -> Result<usize>
where
    R::Error: 'static,
{
    let start = out.len();
    let mut chunk = 8 * 1024;
    loop {
        let len = out.len();
        if out.capacity() - len < chunk {
            out.reserve(chunk);
        }
        // Read into (part of) the spare capacity, zeroed first: no uninitialised
        // memory is ever handed to a reader.
        let room = (out.capacity() - len).min(chunk);
        out.resize(len + room, 0);
        match retry_interrupted(|| r.read(&mut out[len..])) {
            Ok(0) => {
                out.truncate(len);
                return Ok(len - start);
            }
            Ok(n) => {
                out.truncate(len + n.min(room));
                // A reader that fills what it was given gets more room next time.
                if n >= room {
                    chunk = chunk.saturating_mul(2).min(1 << 20);
                }
            }
            Err(e) => {
                out.truncate(len);
                return Err(e);
            }
        }
    }
}

/// op's result as gort's, retrying while it is `Interrupted` (std's helpers retry
/// it; a raw system call in a user's stream can be interrupted by the preemption
/// signal).
pub(crate) fn retry_interrupted<T, E: embedded_io::Error + 'static>(
    mut op: impl FnMut() -> core::result::Result<T, E>,
) -> Result<T> {
    loop {
        match op() {
            Ok(v) => return Ok(v),
            Err(e) => {
                let e = Error::from_embedded(e);
                if e.kind() != ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// Everything r has until end of file, as a string (std's `io::read_to_string`):
/// invalid UTF-8 is an `InvalidData` error.
pub fn read_to_string<R: embedded_io::Read + ?Sized>(r: &mut R) -> Result<String>
where
    R::Error: 'static,
{
    let mut s = String::new();
    buffered::append_to_string(&mut s, |b| read_to_end(r, b))?;
    Ok(s)
}

/// Fill buf from r; `UnexpectedEof` if r ends first (std's `Read::read_exact`).
pub fn read_exact<R: embedded_io::Read + ?Sized>(r: &mut R, mut buf: &mut [u8]) -> Result<()>
where
    R::Error: 'static,
{
    while !buf.is_empty() {
        match retry_interrupted(|| r.read(buf))? {
            0 => return Err(unexpected_eof()),
            n => {
                let n = n.min(buf.len());
                buf = &mut buf[n..];
            }
        }
    }
    Ok(())
}

/// Write all of buf to w, retrying short writes; a write of 0 bytes is a
/// `WriteZero` error (std's `Write::write_all`; embedded-io's own would panic).
pub fn write_all<W: embedded_io::Write + ?Sized>(w: &mut W, mut buf: &[u8]) -> Result<()>
where
    W::Error: 'static,
{
    while !buf.is_empty() {
        match retry_interrupted(|| w.write(buf))? {
            0 => {
                return Err(Error::new_static(
                    ErrorKind::WriteZero,
                    "failed to write whole buffer",
                ))
            }
            n => buf = &buf[n.min(buf.len())..],
        }
    }
    Ok(())
}

/// Copy everything r has until end of file into w, through a 32 KiB buffer (Go's
/// `io.Copy`, std's `io::copy`); returns the bytes copied.
pub fn copy<R, W>(r: &mut R, w: &mut W) -> Result<u64>
where
    R: embedded_io::Read + ?Sized,
    W: embedded_io::Write + ?Sized,
    R::Error: 'static,
    W::Error: 'static,
{
    let mut buf = alloc::vec![0u8; 32 * 1024];
    let mut total = 0u64;
    loop {
        let n = retry_interrupted(|| r.read(&mut buf))?;
        if n == 0 {
            return Ok(total);
        }
        let n = n.min(buf.len());
        write_all(w, &buf[..n])?;
        total += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    #[test]
    fn display_and_kind_as_std() {
        for code in [1, 2, 11, 32, 98, 104, 110, 111, 133, 200] {
            let ours = Error::from_raw_os_error(code);
            let std_err = std::io::Error::from_raw_os_error(code);
            assert_eq!(ours.to_string(), std_err.to_string(), "errno {code}");
            assert_eq!(ours.raw_os_error(), Some(code));
            // std's catch-all for unknown errnos (Uncategorized) is unstable: Other here.
            let want = std::format!("{:?}", std_err.kind()).replace("Uncategorized", "Other");
            assert_eq!(std::format!("{:?}", ours.kind()), want, "errno {code}");
        }
        let d = Error::with_detail(ErrorKind::InvalidInput, "bad address", "x:y");
        assert_eq!(d.to_string(), "bad address: \"x:y\"");
        assert_eq!(d.kind(), ErrorKind::InvalidInput);
        let long = "é".repeat(40);
        let d = Error::with_detail(ErrorKind::InvalidInput, "bad", &long);
        assert_eq!(d.to_string(), std::format!("bad: {:?}...", "é".repeat(16)));
        let t = Error::new_static(ErrorKind::TimedOut, "i/o timeout");
        assert_eq!(t.to_string(), "i/o timeout");
        assert_eq!(t.kind(), ErrorKind::TimedOut);
        assert_eq!(t.raw_os_error(), None);
    }

    /// A stream that says Interrupted every other call, as a user's raw system
    /// call can when the preemption signal lands in it.
    struct Flaky<'a> {
        data: &'a [u8],
        out: Vec<u8>,
        tick: bool,
    }

    impl embedded_io::ErrorType for Flaky<'_> {
        type Error = Error;
    }

    impl embedded_io::Read for Flaky<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
            self.tick = !self.tick;
            if self.tick {
                return Err(ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.data.len()).min(3);
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    impl embedded_io::Write for Flaky<'_> {
        fn write(&mut self, buf: &[u8]) -> Result<usize> {
            self.tick = !self.tick;
            if self.tick {
                return Err(ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(3);
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> Result<()> {
            Ok(())
        }
    }

    /// The generic helpers retry Interrupted, as std's do.
    #[test]
    fn interrupted_is_retried_as_std() {
        let text = b"first line\nsecond\n";
        let flaky = |data| Flaky {
            data,
            out: Vec::new(),
            tick: false,
        };
        let mut v = Vec::new();
        assert_eq!(read_to_end(&mut flaky(text), &mut v).unwrap(), text.len());
        assert_eq!(v, text);
        let mut b = [0u8; 7];
        read_exact(&mut flaky(text), &mut b).unwrap();
        assert_eq!(&b, b"first l");
        let mut w = flaky(b"");
        write_all(&mut w, text).unwrap();
        assert_eq!(w.out, text);
        let mut w = flaky(b"");
        assert_eq!(copy(&mut flaky(text), &mut w).unwrap(), text.len() as u64);
        assert_eq!(w.out, text);
        let mut r = BufReader::with_capacity(4, flaky(text));
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert_eq!(line, "first line\n");
    }

    /// Debug is what `unwrap` on an error prints: as std's, for OS errors
    /// (known and unknown) and for simple ones.
    #[test]
    fn debug_as_std() {
        for code in [2, 13, 111, 200] {
            let ours = std::format!("{:?}", Error::from_raw_os_error(code));
            let theirs = std::format!("{:?}", std::io::Error::from_raw_os_error(code));
            let want = theirs.replace("Uncategorized", "Other");
            assert_eq!(ours, want, "errno {code}");
        }
        let ours = Error::new_static(ErrorKind::TimedOut, "i/o timeout");
        let theirs = std::io::Error::new(std::io::ErrorKind::TimedOut, "i/o timeout");
        // std's Custom error prints its payload's Debug; a simple message prints
        // as `Error { kind, message }` (std's SimpleMessage, as io::const_error!).
        assert_eq!(
            std::format!("{ours:?}"),
            "Error { kind: TimedOut, message: \"i/o timeout\" }"
        );
        assert_eq!(ours.to_string(), theirs.to_string());
    }
}
