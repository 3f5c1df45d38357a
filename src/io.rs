//! Byte streams and their errors (Go's `io` and `os.Stdout`, with std's names).
//!
//! [`Error`] is what every gort I/O operation returns on failure: an `errno` from the
//! kernel, or one of Go's own conditions ("i/o timeout", "use of closed network
//! connection"). [`Error::kind`] classifies it with std's [`ErrorKind`] names, and
//! `Display` reads as std's does: `Connection refused (os error 111)`. No gort API
//! returns `EINTR`: interrupted calls are retried.
//!
//! [`stdout()`] and [`stderr()`] write to file descriptors 1 and 2 without
//! buffering; a `write_all` of up to 4 KiB is one `write(2)`, so lines from different
//! goroutines do not interleave (4 KiB is `PIPE_BUF`, the most a pipe writes at once).

use core::fmt;

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
}

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

    /// The errno value, if this error came from the kernel.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self.repr {
            Repr::Os(e) => Some(e),
            Repr::Simple(..) => None,
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        match self.repr {
            Repr::Os(e) => ErrorKind::from_errno(e),
            Repr::Simple(k, _) => k,
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.repr {
            Repr::Os(e) => {
                let msg = usize::try_from(e)
                    .ok()
                    .and_then(|i| STRERROR.get(i.wrapping_sub(1)))
                    .filter(|m| !m.is_empty());
                match msg {
                    Some(m) => write!(f, "{m} (os error {e})"),
                    None => write!(f, "Unknown error {e} (os error {e})"),
                }
            }
            Repr::Simple(_, msg) => f.write_str(msg),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.repr {
            Repr::Os(e) => f
                .debug_struct("Os")
                .field("code", &e)
                .field("kind", &ErrorKind::from_errno(e))
                .field("message", &format_args!("{self}"))
                .finish(),
            Repr::Simple(k, msg) => f
                .debug_struct("Error")
                .field("kind", &k)
                .field("message", &msg)
                .finish(),
        }
    }
}

impl core::error::Error for Error {}

/// Write all of `buf` to `fd`, retrying short writes, `EINTR` and (on a
/// non-blocking fd) `EAGAIN`, as one system call for the scheduler.
fn write_all_fd(fd: i32, mut buf: &[u8]) -> Result<()> {
    let entered = crate::runtime::proc::entersyscall();
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
    let r = crate::runtime::print::write_wait(fd, buf);
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

            /// Write all of `buf`, retrying short writes.
            pub fn write_all(&self, buf: &[u8]) -> Result<()> {
                write_all_fd($fd, buf)
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
        let t = Error::new_static(ErrorKind::TimedOut, "i/o timeout");
        assert_eq!(t.to_string(), "i/o timeout");
        assert_eq!(t.kind(), ErrorKind::TimedOut);
        assert_eq!(t.raw_os_error(), None);
    }
}
