//! Networking (Go's package `net`, with std's names): TCP, UDP and Unix-domain
//! sockets whose blocking operations park the goroutine, never its thread.
//!
//! Every socket is non-blocking and registered once with the runtime's network
//! poller (epoll, edge-triggered). An operation follows Go's `internal/poll` loops:
//! try the system call; on `EAGAIN` park until the poller says the socket is ready,
//! then try again; `EINTR` is retried; `accept` retries `ECONNABORTED`; `connect`
//! treats `EINTR` as "in progress" and confirms the connection with `SO_ERROR` and
//! `getpeername`; `close` is never retried.
//!
//! Streams are used through `&self`, so one goroutine may read while another writes
//! (share the stream in an `Arc`). Readers are serialised among themselves, and so
//! are writers (Go's fdMutex), so a `write_all` is never interleaved with another.
//! [`TcpStream::close`] (or `shutdown`) from any goroutine wakes both: blocked
//! operations return an error ("use of closed network connection"). `close`
//! returns once the socket's descriptor is released (its woken operations have
//! left), as Go's Close does, not when the object is dropped.
//!
//! Addresses are [`SocketAddr`]s or IP-literal strings (`"127.0.0.1:8080"`,
//! `"[::1]:0"`); names listed in /etc/hosts resolve (and `localhost` to the
//! loopback address without one). There is no DNS: any other name is an
//! `InvalidInput` error.
//!
//! Unix sockets are named by a path or, as in Go, by `@name` in Linux's abstract
//! namespace (no file: the name is the socket's while it is open); their
//! addresses are [`UnixAddr`]s, which print as Go's do.
//!
//! TCP connections have `TCP_NODELAY` set, as in Go.
//!
//! Every socket has std's timeouts (`set_read_timeout`: each operation that has to
//! wait gives up after that long) and Go's deadlines (`set_read_deadline`: an
//! instant after which operations fail, including one already waiting), both
//! failing with `TimedOut`, "i/o timeout"; `TcpStream::connect_timeout` bounds a
//! connect. A deadline is a timer in the poll descriptor, reset in place.
//!
//! `try_clone` makes a second descriptor for the socket (fcntl F_DUPFD_CLOEXEC),
//! registered with the poller as a socket of its own: each handle has its own
//! close and deadlines; the socket, its options and its timeouts are shared (as
//! std's, which are socket options), and it lives until the last handle is
//! closed.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use core::time::Duration;

use crate::io::{Error, ErrorKind, Result};
use crate::runtime::netpoll::{self, PollDesc, Wait, MODE_READ, MODE_WRITE};
use crate::runtime::sys_linux::{self, sock, EAGAIN, EINTR};
use crate::runtime::vdso_linux::nanotime;
use crate::sync::Mutex;
use crate::time::Instant;

pub use core::net;
/// std::net's address types (core's), under std's paths.
pub use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// A descriptor registered with the poller, for gort::process's pipes and pidfds.
pub(crate) type PollFd = NetFd;

const AF_UNIX: i32 = 1;
const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;
const SOCK_STREAM: i32 = 1;
const SOCK_DGRAM: i32 = 2;
const SOCK_NONBLOCK: i32 = 0o4000;
const SOCK_CLOEXEC: i32 = 0o2000000;
const SOL_SOCKET: i32 = 1;
const SO_REUSEADDR: i32 = 2;
const SO_ERROR: i32 = 4;
const IPPROTO_TCP: i32 = 6;
const TCP_NODELAY: i32 = 1;
const EINPROGRESS: isize = 115;
const EALREADY: isize = 114;
const ECONNABORTED: isize = 103;
const ENOTCONN: isize = 107;
const EISCONN: isize = 106;
const MSG_NOSIGNAL: i32 = 0x4000;
const MSG_PEEK: i32 = 0x2;
const SO_BROADCAST: i32 = 6;
const IPPROTO_IP: i32 = 0;
const IP_TTL: i32 = 2;

/// The index of mode's entry in NetFd's per-mode arrays (timeouts, armed).
fn slot(mode: u8) -> usize {
    (mode == MODE_WRITE) as usize
}

/// Go's error for an operation on a closed socket.
fn err_closed() -> Error {
    Error::new_static(ErrorKind::NotConnected, "use of closed network connection")
}

/// Go's error for an operation past its deadline (os.ErrDeadlineExceeded).
fn err_timeout() -> Error {
    Error::new_static(ErrorKind::TimedOut, "i/o timeout")
}

/// How [`TcpStream::shutdown`] shuts a connection down (std's `Shutdown`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// No more reads: reads return 0.
    Read,
    /// No more writes: the peer reads end-of-file.
    Write,
    /// Both.
    Both,
}

/// Something that names a socket address: a [`SocketAddr`], an `(IpAddr, u16)`,
/// a string (`"127.0.0.1:80"`, `"[::1]:0"`, `"localhost:8080"`), or a slice of
/// addresses. A name may stand for several addresses (every line of /etc/hosts
/// that lists it): `connect` tries each in turn, as Go's Dial and std's connect do,
/// and `bind` too, as std's does.
pub trait ToSocketAddr {
    /// The address (the first, if there are several), or an `InvalidInput` error
    /// naming what could not be parsed.
    fn to_socket_addr(&self) -> Result<SocketAddr>;

    /// Every address, in order (at least one, or the error of to_socket_addr).
    fn to_socket_addrs(&self) -> Result<Vec<SocketAddr>> {
        Ok(alloc::vec![self.to_socket_addr()?])
    }
}

impl ToSocketAddr for [SocketAddr] {
    fn to_socket_addr(&self) -> Result<SocketAddr> {
        self.first()
            .copied()
            .ok_or_else(|| Error::new_static(ErrorKind::InvalidInput, "no socket address given"))
    }

    fn to_socket_addrs(&self) -> Result<Vec<SocketAddr>> {
        self.to_socket_addr()?;
        Ok(self.to_vec())
    }
}

/// Run f on each address in turn until one succeeds (Go's dialSerial); if none
/// does, the first address's error, as Go returns.
fn each_addr<T>(addrs: &[SocketAddr], mut f: impl FnMut(&SocketAddr) -> Result<T>) -> Result<T> {
    let mut first = None;
    for a in addrs {
        match f(a) {
            Ok(t) => return Ok(t),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    Err(first
        .unwrap_or_else(|| Error::new_static(ErrorKind::InvalidInput, "no socket address given")))
}

impl ToSocketAddr for SocketAddr {
    fn to_socket_addr(&self) -> Result<SocketAddr> {
        Ok(*self)
    }
}

impl ToSocketAddr for SocketAddrV4 {
    fn to_socket_addr(&self) -> Result<SocketAddr> {
        Ok(SocketAddr::V4(*self))
    }
}

impl ToSocketAddr for SocketAddrV6 {
    fn to_socket_addr(&self) -> Result<SocketAddr> {
        Ok(SocketAddr::V6(*self))
    }
}

impl ToSocketAddr for (IpAddr, u16) {
    fn to_socket_addr(&self) -> Result<SocketAddr> {
        Ok(SocketAddr::new(self.0, self.1))
    }
}

impl ToSocketAddr for (Ipv4Addr, u16) {
    fn to_socket_addr(&self) -> Result<SocketAddr> {
        Ok(SocketAddr::new(IpAddr::V4(self.0), self.1))
    }
}

impl ToSocketAddr for str {
    fn to_socket_addr(&self) -> Result<SocketAddr> {
        Ok(self.to_socket_addrs()?[0])
    }

    fn to_socket_addrs(&self) -> Result<Vec<SocketAddr>> {
        if let Ok(a) = self.parse::<SocketAddr>() {
            return Ok(alloc::vec![a]);
        }
        if let Some((host, port)) = self.rsplit_once(':') {
            if let Ok(port) = port.parse::<u16>() {
                let one = |ip: IpAddr| Ok(alloc::vec![SocketAddr::new(ip, port)]);
                if host.is_empty() {
                    return one(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                }
                let ips = lookup_hosts(host);
                if !ips.is_empty() {
                    return Ok(ips
                        .into_iter()
                        .map(|ip| SocketAddr::new(ip, port))
                        .collect());
                }
                match host.strip_suffix('.').unwrap_or(host) {
                    "localhost" => return one(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                    "ip6-localhost" => return one(IpAddr::V6(Ipv6Addr::LOCALHOST)),
                    _ => {}
                }
            }
        }
        Err(Error::with_detail(
            ErrorKind::InvalidInput,
            "invalid socket address (an IP literal or a name in /etc/hosts, with a port, e.g. 127.0.0.1:80 or [::1]:80; no DNS)",
            self,
        ))
    }
}

/// The addresses /etc/hosts gives name, in the file's order (Go's
/// lookupStaticHost: every line that lists it, names compared without case and
/// as absolute names, so `web.` is `web`, each address once). Reads the file each
/// time (Go caches it for 5 s), to its end, a block of lines at a time through a
/// 4 KiB buffer that grows only to hold a longer line. The file is bytes, as Go reads it: a line that is not UTF-8
/// hides nothing else (names are ASCII, and a field that is not matches no
/// name). The reads are system calls for the scheduler (gort::fs).
fn lookup_hosts(name: &str) -> Vec<IpAddr> {
    let mut ips = Vec::new();
    let Ok(f) = crate::fs::File::open("/etc/hosts") else {
        return ips;
    };
    let mut buf = alloc::vec![0u8; 4 << 10];
    // buf[..held] is the start of a line the reads have not finished yet.
    let mut held = 0;
    loop {
        if held == buf.len() {
            buf.resize(2 * buf.len(), 0);
        }
        let n = f.read(&mut buf[held..]);
        let end = matches!(n, Ok(0));
        held += n.as_ref().map_or(0, |&n| n);
        // The whole lines held; at end of file the last line needs no newline
        // (on an error it may be cut short: dropped).
        let lines = if end {
            held
        } else {
            buf[..held]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
        };
        hosts_scan(&buf[..lines], name, &mut ips);
        if n.is_err() || end {
            return ips;
        }
        buf.copy_within(lines..held, 0);
        held -= lines;
    }
}

/// Add to ips the addresses of name on the hosts-file lines in text (Go's
/// readHosts on each line: what follows '#' is a comment; fields are split at
/// spaces, tabs and CRs; the first is an address, the others its names).
fn hosts_scan(text: &[u8], name: &str, ips: &mut Vec<IpAddr>) {
    for line in text.split(|&b| b == b'\n') {
        let line = line.split(|&b| b == b'#').next().unwrap_or(&[]);
        let mut f = line
            .split(|&b| matches!(b, b' ' | b'\t' | b'\r'))
            .filter(|f| !f.is_empty());
        let Some(ip) = f.next().and_then(|a| {
            core::str::from_utf8(a)
                .ok()
                .and_then(|a| a.parse::<IpAddr>().ok())
        }) else {
            continue;
        };
        if f.any(|h| same_host(h, name.as_bytes())) && !ips.contains(&ip) {
            ips.push(ip);
        }
    }
}

/// Whether two host names are the same (Go's absDomainName on both: a trailing
/// dot is implied; case is ignored).
fn same_host(a: &[u8], b: &[u8]) -> bool {
    let abs = |n: &[u8]| -> usize { n.len() - (n.len() > 1 && n.ends_with(b".")) as usize };
    a[..abs(a)].eq_ignore_ascii_case(&b[..abs(b)])
}

impl ToSocketAddr for &str {
    fn to_socket_addr(&self) -> Result<SocketAddr> {
        (**self).to_socket_addr()
    }

    fn to_socket_addrs(&self) -> Result<Vec<SocketAddr>> {
        (**self).to_socket_addrs()
    }
}

impl ToSocketAddr for String {
    fn to_socket_addr(&self) -> Result<SocketAddr> {
        self.as_str().to_socket_addr()
    }

    fn to_socket_addrs(&self) -> Result<Vec<SocketAddr>> {
        self.as_str().to_socket_addrs()
    }
}

/// A sockaddr in the kernel's layout: sockaddr_in, sockaddr_in6 or sockaddr_un.
struct RawAddr {
    buf: [u8; 110],
    len: usize,
}

impl RawAddr {
    fn from_socket_addr(a: &SocketAddr) -> RawAddr {
        let mut buf = [0u8; 110];
        let len = match a {
            SocketAddr::V4(v4) => {
                buf[0..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
                buf[2..4].copy_from_slice(&v4.port().to_be_bytes());
                buf[4..8].copy_from_slice(&v4.ip().octets());
                16
            }
            SocketAddr::V6(v6) => {
                buf[0..2].copy_from_slice(&(AF_INET6 as u16).to_ne_bytes());
                buf[2..4].copy_from_slice(&v6.port().to_be_bytes());
                buf[4..8].copy_from_slice(&v6.flowinfo().to_be_bytes());
                buf[8..24].copy_from_slice(&v6.ip().octets());
                buf[24..28].copy_from_slice(&v6.scope_id().to_ne_bytes());
                28
            }
        };
        RawAddr { buf, len }
    }

    /// A sockaddr_un for path. As in Go, a leading '@' (or NUL) names a socket in
    /// Linux's abstract namespace: sun_path[0] is 0 and the length ends with the
    /// name's last byte (no NUL after it: the kernel takes the bytes it is given
    /// as the name, NULs too), and there is no file.
    fn unix(path: &str) -> Result<RawAddr> {
        let mut buf = [0u8; 110];
        let p = path.as_bytes();
        let abstract_name = matches!(p.first(), Some(b'@' | 0));
        if p.is_empty() || p.len() > 107 || (!abstract_name && p.contains(&0)) {
            return Err(Error::new_static(
                ErrorKind::InvalidInput,
                "invalid Unix socket path (1 to 107 bytes, no NUL; @name for an abstract name)",
            ));
        }
        buf[0..2].copy_from_slice(&(AF_UNIX as u16).to_ne_bytes());
        buf[2..2 + p.len()].copy_from_slice(p);
        if abstract_name {
            buf[2] = 0;
        }
        Ok(RawAddr {
            buf,
            len: 2 + p.len() + !abstract_name as usize,
        })
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The address the kernel wrote into buf (len bytes), if it is IPv4 or IPv6.
    /// (An unnamed Unix socket's address is 2 bytes, its family alone.)
    fn to_socket_addr(buf: &[u8]) -> Result<SocketAddr> {
        let fam = match buf {
            [a, b, ..] => u16::from_ne_bytes([*a, *b]) as i32,
            _ => -1,
        };
        let port = match buf {
            [_, _, a, b, ..] => u16::from_be_bytes([*a, *b]),
            _ => 0,
        };
        match fam {
            AF_INET if buf.len() >= 8 => {
                let ip = Ipv4Addr::new(buf[4], buf[5], buf[6], buf[7]);
                Ok(SocketAddr::V4(SocketAddrV4::new(ip, port)))
            }
            AF_INET6 if buf.len() >= 28 => {
                let mut o = [0u8; 16];
                o.copy_from_slice(&buf[8..24]);
                let flow = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
                let scope = u32::from_ne_bytes([buf[24], buf[25], buf[26], buf[27]]);
                Ok(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(o),
                    port,
                    flow,
                    scope,
                )))
            }
            _ => Err(Error::new_static(
                ErrorKind::Unsupported,
                "not an IP socket address",
            )),
        }
    }
}

/// The address of a Unix-domain socket (Go's `UnixAddr`, std's
/// `os::unix::net::SocketAddr`): a path, a name in Linux's abstract namespace,
/// or none (unnamed: a socket that connected without binding). Displayed as Go
/// prints it: the path, `@name` for an abstract name, nothing when unnamed;
/// Debug is std's (`"/tmp/s" (pathname)`, `"name" (abstract)`, `(unnamed)`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UnixAddr {
    /// sun_path's first len bytes: a path (without its NUL), or 0 and an
    /// abstract name; len 0 when unnamed.
    path: [u8; 108],
    len: u8,
}

impl UnixAddr {
    const UNNAMED: UnixAddr = UnixAddr {
        path: [0; 108],
        len: 0,
    };

    /// The address the kernel wrote into buf (its len bytes), if it is AF_UNIX.
    fn from_raw(buf: &[u8]) -> Result<UnixAddr> {
        match buf {
            [a, b, sun @ ..] if u16::from_ne_bytes([*a, *b]) as i32 == AF_UNIX => {
                let sun = &sun[..sun.len().min(108)];
                // A path ends at its NUL; an abstract name (after its 0) is all
                // the bytes the length gives.
                let n = match sun.first() {
                    Some(0) => sun.len(),
                    _ => sun.iter().position(|&b| b == 0).unwrap_or(sun.len()),
                };
                let mut path = [0u8; 108];
                path[..n].copy_from_slice(&sun[..n]);
                Ok(UnixAddr { path, len: n as u8 })
            }
            _ => Err(Error::new_static(
                ErrorKind::Unsupported,
                "not a Unix socket address",
            )),
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.path[..self.len as usize]
    }

    /// Whether the socket has no address (std's `is_unnamed`).
    pub fn is_unnamed(&self) -> bool {
        self.len == 0
    }

    /// The path, for a socket bound to one that is UTF-8 (std's `as_pathname`;
    /// gort's paths are strings).
    pub fn as_pathname(&self) -> Option<&str> {
        match self.bytes() {
            [] | [0, ..] => None,
            p => core::str::from_utf8(p).ok(),
        }
    }

    /// The name, for a socket in the abstract namespace, without the leading
    /// NUL (or Go's '@') that marks it (std's `as_abstract_name`).
    pub fn as_abstract_name(&self) -> Option<&[u8]> {
        match self.bytes() {
            [0, name @ ..] => Some(name),
            _ => None,
        }
    }
}

/// Go's UnixAddr.String: the path, or '@' and the abstract name (bytes that are
/// not UTF-8 shown as U+FFFD).
impl core::fmt::Display for UnixAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let b = match self.as_abstract_name() {
            Some(name) => {
                f.write_str("@")?;
                name
            }
            None => self.bytes(),
        };
        for c in b.utf8_chunks() {
            f.write_str(c.valid())?;
            if !c.invalid().is_empty() {
                f.write_str("\u{FFFD}")?;
            }
        }
        Ok(())
    }
}

/// std's Debug of a Unix socket address.
impl core::fmt::Debug for UnixAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.as_abstract_name() {
            Some(name) => write!(f, "\"{}\" (abstract)", name.escape_ascii()),
            None if self.is_unnamed() => f.write_str("(unnamed)"),
            None => write!(f, "\"{}\" (pathname)", self.bytes().escape_ascii()),
        }
    }
}

/// A non-blocking descriptor registered with the poller (Go's netFD + poll.FD):
/// sockets here, pipes and pidfds in gort::process.
///
/// # Closing (Go's fdMutex reference count)
///
/// Every operation that uses sysfd or pd holds a reference (`incref`, dropped
/// by its FdRef). `close` sets CLOSED, which makes every later incref fail, wakes
/// the operations parked on pd (they fail with "use of closed network
/// connection" and drop their references), and drops a reference of its own. The
/// last reference dropped after CLOSED releases the descriptor: pd goes back to
/// the poller's cache, sysfd is closed, and `csema` is released, which close
/// waits for (Go's csema). So when close returns the descriptor (a port, a path)
/// is free, even while the object lives on, and no operation can use a
/// descriptor number after it is closed and reused.
pub(crate) struct NetFd {
    sysfd: i32,
    pd: &'static PollDesc,
    /// References held, and whether it is closed.
    refs: FdRefs,
    /// Released once the descriptor is (see "Closing"); close waits on it.
    csema: AtomicU32,
    /// Serialise readers, and writers (Go's fdMutex read and write locks).
    rlock: Mutex<()>,
    wlock: Mutex<()>,
    /// Per-operation timeouts (std's set_read_timeout, set_write_timeout) in ns, 0
    /// for none: an operation that has to wait arms mode's deadline this far ahead.
    /// Shared with the socket's clones (try_clone), as std's, which live in the
    /// socket (SO_RCVTIMEO). Relaxed: a setting, read at the start of each wait.
    timeouts: Arc<[AtomicI64; 2]>,
    /// This handle's: the generation + 1 of the deadline its last timed wait armed
    /// in pd (0: none). The deadline outlives its operation; once the (shared)
    /// timeout is gone, perhaps set to none through a clone, the next operation
    /// clears it (clear_deadline_if), or it would time out a later operation that
    /// has no timeout. Relaxed: a hint; clear_deadline_if checks it against the
    /// deadline's generation under pd's lock.
    armed: [AtomicU64; 2],
    /// A TCP stream: a short read means its receive queue was empty (see
    /// `read`). Set once, before the descriptor is shared.
    tcp_stream: bool,
    /// The last read of a `tcp_stream` was short: the next waits for the poller
    /// first, without trying the read. Under rlock (Relaxed).
    drained: AtomicBool,
}

impl NetFd {
    /// A new non-blocking socket, registered with the poller.
    fn socket(domain: i32, ty: i32) -> Result<NetFd> {
        let fd = sock::socket(domain, ty | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(Error::from_neg(fd));
        }
        NetFd::register(fd as i32)
    }

    /// Take ownership of fd (already non-blocking) and register it with the poller.
    pub(crate) fn register(fd: i32) -> Result<NetFd> {
        NetFd::register_sharing(fd, Arc::new([AtomicI64::new(0), AtomicI64::new(0)]))
    }

    /// register, with timeouts shared with another handle of the socket.
    fn register_sharing(fd: i32, timeouts: Arc<[AtomicI64; 2]>) -> Result<NetFd> {
        match netpoll::poll_open(fd) {
            Ok(pd) => Ok(NetFd {
                sysfd: fd,
                pd,
                refs: FdRefs::new(),
                csema: AtomicU32::new(0),
                rlock: Mutex::new(()),
                wlock: Mutex::new(()),
                timeouts,
                armed: [AtomicU64::new(0), AtomicU64::new(0)],
                tcp_stream: false,
                drained: AtomicBool::new(false),
            }),
            Err(e) => {
                sys_linux::close(fd);
                Err(Error::from_neg(e))
            }
        }
    }

    /// Take a reference to the descriptor for an operation (fails once closed).
    fn incref(&self) -> Result<FdRef<'_>> {
        if self.refs.incref() {
            Ok(FdRef(self))
        } else {
            Err(err_closed())
        }
    }

    /// Drop a reference; the last one after close releases the descriptor and
    /// lets close return. Runs on a goroutine.
    fn decref(&self) {
        if self.refs.decref() {
            netpoll::poll_close(self.pd);
            // Never retried (Go: the fd is gone even when close reports EINTR).
            sys_linux::close(self.sysfd);
            crate::runtime::sema::semrelease(&self.csema);
        }
    }

    /// Whether the descriptor can still be used: not closed, and pd not evicted.
    /// The caller holds a reference (pd is ours).
    fn check_open(&self) -> Result<()> {
        if self.refs.closed() || self.pd.is_closing() {
            Err(err_closed())
        } else {
            Ok(())
        }
    }

    /// mode's per-operation timeout in ns (0: none).
    fn timeout(&self, mode: u8) -> i64 {
        // Relaxed: a setting (see timeouts).
        self.timeouts[slot(mode)].load(Ordering::Relaxed)
    }

    /// Park until the descriptor is ready for mode again. With a per-operation
    /// timeout, the first wait of an operation (`*armed` false) arms the deadline.
    fn wait(&self, mode: u8, armed: &mut bool) -> Result<()> {
        let t = self.timeout(mode);
        if t > 0 && !*armed {
            *armed = true;
            let seq = netpoll::set_deadline(self.pd, nanotime().saturating_add(t), mode);
            self.armed[slot(mode)].store(seq as u64 + 1, Ordering::Relaxed);
        }
        match netpoll::poll_wait(self.pd, mode) {
            Wait::Ready => Ok(()),
            Wait::Closed => Err(err_closed()),
            Wait::TimedOut => Err(err_timeout()),
        }
    }

    /// Run op until it does not say EAGAIN (parking between tries) or EINTR.
    /// Returns op's non-negative result or its error. With an absolute deadline
    /// (no per-operation timeout) that has passed, fails before trying, as Go does.
    fn io_loop(&self, mode: u8, op: impl FnMut() -> isize) -> Result<usize> {
        self.io_loop_from(mode, false, op)
    }

    /// io_loop, waiting for the poller before the first try when `wait_first` (the
    /// try would only say EAGAIN).
    fn io_loop_from(
        &self,
        mode: u8,
        mut wait_first: bool,
        mut op: impl FnMut() -> isize,
    ) -> Result<usize> {
        let _r = self.incref()?;
        let mut armed = false;
        let armed_by_timeout = &self.armed[slot(mode)];
        // Relaxed: see armed. A plain load first: no locked instruction on the
        // common path (no timeout ever set).
        if armed_by_timeout.load(Ordering::Relaxed) != 0 && self.timeout(mode) == 0 {
            let a = armed_by_timeout.swap(0, Ordering::Relaxed);
            if a != 0 {
                netpoll::clear_deadline_if(self.pd, (a - 1) as usize, mode);
            }
        }
        loop {
            self.check_open()?;
            if self.timeout(mode) == 0 && self.pd.expired(mode) {
                return Err(err_timeout());
            }
            if wait_first {
                wait_first = false;
                self.wait(mode, &mut armed)?;
                continue;
            }
            let r = op();
            if r >= 0 {
                return Ok(r as usize);
            }
            if r == -EINTR {
                continue;
            }
            if r == -EAGAIN {
                self.wait(mode, &mut armed)?;
                continue;
            }
            return Err(Error::from_neg(r));
        }
    }

    /// Set mode's per-operation timeout (None: no timeout; zero is an error, as
    /// std's). Clears an absolute deadline.
    fn set_timeout(&self, mode: u8, d: Option<Duration>) -> Result<()> {
        let _r = self.incref()?;
        let ns = match d {
            Some(d) if d.is_zero() => {
                return Err(Error::new_static(
                    ErrorKind::InvalidInput,
                    "cannot set a 0 duration timeout",
                ))
            }
            Some(d) => (d.as_nanos().min(i64::MAX as u128) as i64).max(1),
            None => 0,
        };
        // Relaxed: a setting (see timeouts).
        self.timeouts[slot(mode)].store(ns, Ordering::Relaxed);
        netpoll::set_deadline(self.pd, 0, mode);
        Ok(())
    }

    /// Set mode's absolute deadline (None: none; in the past: pending and future
    /// operations fail with "i/o timeout" at once). Clears a per-operation timeout
    /// (for every clone: they share it).
    fn set_deadline(&self, mode: u8, t: Option<Instant>) -> Result<()> {
        let _r = self.incref()?;
        // Relaxed: a setting (see timeouts).
        self.timeouts[slot(mode)].store(0, Ordering::Relaxed);
        let d = t.map_or(0, |t| t.as_nanos().max(1));
        netpoll::set_deadline(self.pd, d, mode);
        Ok(())
    }

    /// The per-operation timeout of mode, as std's read_timeout reports it.
    fn get_timeout(&self, mode: u8) -> Option<Duration> {
        match self.timeout(mode) {
            0 => None,
            ns => Some(Duration::from_nanos(ns as u64)),
        }
    }

    /// Read into buf (parking while nothing is there).
    ///
    /// On a TCP stream, a read that returns less than asked for emptied the receive
    /// queue (epoll(7): "for stream-oriented files ... you can be sure of having
    /// exhausted the read I/O space"), so the next read parks at once instead of
    /// first trying a read that would say EAGAIN: one system call fewer per
    /// request in a request/response loop (an echo round trip makes two, not
    /// three). No readiness can be missed: data that arrives after the short read
    /// raises an edge that the poller has not yet reported (it will wake the
    /// parked reader), or has reported while the reader ran (the read semaphore
    /// is READY, and the wait returns at once). What a short read leaves behind
    /// with no edge to come (urgent data it stopped at, the peer's end of stream,
    /// an error) was reported by the event that let it read; the poller marks
    /// such a descriptor (`PollDesc::short_read_drains`), which from then on
    /// always tries the read first, as Go does.
    pub(crate) fn read(&self, buf: &mut [u8]) -> Result<usize> {
        let _g = self.rlock.lock();
        if buf.is_empty() {
            return Ok(0);
        }
        // Relaxed: drained is only touched under rlock, which orders it. See
        // PollDesc::unreadable_tail for why a mark made before our last short read
        // is seen here.
        let wait_first = self.drained.swap(false, Ordering::Relaxed) && self.pd.short_read_drains();
        let r = self.io_loop_from(MODE_READ, wait_first, || sys_linux::read(self.sysfd, buf));
        if let Ok(n) = r {
            if self.tcp_stream && n > 0 && n < buf.len() {
                self.drained.store(true, Ordering::Relaxed);
            }
        }
        r
    }

    /// Read exactly buf.len() bytes (`UnexpectedEof` if the peer closes first).
    pub(crate) fn read_exact(&self, mut buf: &mut [u8]) -> Result<()> {
        while !buf.is_empty() {
            let n = self.read(buf)?;
            if n == 0 {
                return Err(Error::new_static(
                    ErrorKind::UnexpectedEof,
                    "unexpected EOF",
                ));
            }
            buf = &mut buf[n..];
        }
        Ok(())
    }

    /// Write some of buf (parking while the peer's buffer is full).
    pub(crate) fn write(&self, buf: &[u8]) -> Result<usize> {
        let _g = self.wlock.lock();
        self.io_loop(MODE_WRITE, || self.write_raw(buf))
    }

    /// sendto with MSG_NOSIGNAL for sockets (EPIPE, not SIGPIPE), write(2) for others.
    fn write_raw(&self, buf: &[u8]) -> isize {
        const ENOTSOCK: isize = 88;
        let r = sock::sendto(self.sysfd, buf, MSG_NOSIGNAL, &[]);
        if r == -ENOTSOCK {
            sys_linux::write(self.sysfd, buf)
        } else {
            r
        }
    }

    /// Write all of buf.
    pub(crate) fn write_all(&self, mut buf: &[u8]) -> Result<()> {
        let _g = self.wlock.lock();
        while !buf.is_empty() {
            let n = self.io_loop(MODE_WRITE, || self.write_raw(buf))?;
            if n == 0 {
                return Err(Error::new_static(
                    ErrorKind::WriteZero,
                    "failed to write whole buffer",
                ));
            }
            buf = &buf[n..];
        }
        Ok(())
    }

    /// connect, Go's way: EINPROGRESS (or EINTR) means wait for writability, then
    /// read SO_ERROR, and confirm with getpeername.
    fn connect(&self, addr: &RawAddr) -> Result<()> {
        let _r = self.incref()?;
        let r = sock::connect(self.sysfd, addr.bytes());
        match r {
            0 => return Ok(()),
            r if r == -EINPROGRESS || r == -EALREADY || r == -EINTR => {}
            r if r == -EISCONN => return Ok(()),
            r => return Err(Error::from_neg(r)),
        }
        let mut armed = false;
        loop {
            self.wait(MODE_WRITE, &mut armed)?;
            let mut e = 0i32;
            let r = sock::getsockopt_int(self.sysfd, SOL_SOCKET, SO_ERROR, &mut e);
            if r < 0 {
                return Err(Error::from_neg(r));
            }
            let e = e as isize;
            if e == EINPROGRESS || e == EALREADY || e == EINTR {
                continue;
            }
            if e != 0 && e != EISCONN {
                return Err(Error::from_raw_os_error(e as i32));
            }
            let mut b = [0u8; 110];
            let mut l = 0u32;
            let r = sock::sockname(self.sysfd, true, &mut b, &mut l);
            if r == 0 {
                return Ok(());
            }
            if r != -ENOTCONN {
                return Err(Error::from_neg(r));
            }
        }
    }

    /// Park until the descriptor is readable (a pidfd: the child exited).
    pub(crate) fn wait_readable(&self) -> Result<()> {
        let _r = self.incref()?;
        self.check_open()?;
        self.wait(MODE_READ, &mut false)
    }

    /// A second descriptor for the same socket (F_DUPFD_CLOEXEC), registered with
    /// the poller as a NetFd of its own: closing either leaves the other working
    /// (the socket lives while one is open). The timeouts are shared; deadlines,
    /// per handle as in Go, are not.
    fn try_clone(&self) -> Result<NetFd> {
        let _r = self.incref()?;
        let fd = sock::dup_cloexec(self.sysfd);
        if fd < 0 {
            return Err(Error::from_neg(fd));
        }
        let mut c = NetFd::register_sharing(fd as i32, self.timeouts.clone())?;
        c.tcp_stream = self.tcp_stream;
        Ok(c)
    }

    /// An int socket option.
    fn getsockopt(&self, level: i32, opt: i32) -> Result<i32> {
        let mut v = 0i32;
        self.syscall(|fd| sock::getsockopt_int(fd, level, opt, &mut v))?;
        Ok(v)
    }

    /// Set an int socket option.
    fn setsockopt(&self, level: i32, opt: i32, v: i32) -> Result<()> {
        self.syscall(|fd| sock::setsockopt_int(fd, level, opt, v))
            .map(drop)
    }

    /// The socket's pending error (SO_ERROR, which reading clears), if any.
    fn take_error(&self) -> Result<Option<Error>> {
        match self.getsockopt(SOL_SOCKET, SO_ERROR)? {
            0 => Ok(None),
            e => Ok(Some(Error::from_raw_os_error(e))),
        }
    }

    /// Read into buf without taking the data off the socket (MSG_PEEK), parking
    /// while nothing is there; with `from`, also the sender's address (its length
    /// into `len`).
    fn peek(&self, buf: &mut [u8], from: &mut [u8], len: &mut u32) -> Result<usize> {
        let _g = self.rlock.lock();
        // A wait in here may use up the edge of data it leaves on the socket: the
        // next read must try before it waits (see read).
        self.drained.store(false, Ordering::Relaxed);
        self.io_loop(MODE_READ, || {
            sock::recvfrom_flags(self.sysfd, buf, MSG_PEEK, from, len)
        })
    }

    /// Run a system call on the descriptor (a negative result is an errno).
    fn syscall(&self, f: impl FnOnce(i32) -> isize) -> Result<usize> {
        let _r = self.incref()?;
        let r = f(self.sysfd);
        if r < 0 {
            return Err(Error::from_neg(r));
        }
        Ok(r as usize)
    }

    fn addr(&self, peer: bool) -> Result<SocketAddr> {
        let mut b = [0u8; 110];
        let mut l = 0u32;
        self.syscall(|fd| sock::sockname(fd, peer, &mut b, &mut l))?;
        RawAddr::to_socket_addr(&b[..l as usize])
    }

    fn unix_addr(&self, peer: bool) -> Result<UnixAddr> {
        let mut b = [0u8; 110];
        let mut l = 0u32;
        self.syscall(|fd| sock::sockname(fd, peer, &mut b, &mut l))?;
        UnixAddr::from_raw(&b[..(l as usize).min(b.len())])
    }

    fn shutdown(&self, how: Shutdown) -> Result<()> {
        let h = match how {
            Shutdown::Read => 0,
            Shutdown::Write => 1,
            Shutdown::Both => 2,
        };
        self.syscall(|fd| sock::shutdown(fd, h)).map(drop)
    }

    /// Close for every user (see "Closing"): operations parked on the descriptor
    /// wake and fail with "use of closed network connection", later ones fail at
    /// once, and close returns when the last operation has left and the
    /// descriptor is released (at once if none was running). A second close
    /// fails the same way. Runs on a goroutine (it may park).
    fn close(&self) -> Result<()> {
        if !self.refs.close() {
            return Err(err_closed());
        }
        netpoll::poll_evict(self.pd);
        self.decref();
        // The operations woken above may not have run yet (at one P they cannot
        // until we park): wait for the last of them to release the descriptor.
        crate::runtime::sema::semacquire(&self.csema);
        Ok(())
    }
}

#[cfg(not(all(test, loom)))]
use core::sync::atomic::AtomicU64 as RefsAtomic;
#[cfg(all(test, loom))]
use loom::sync::atomic::AtomicU64 as RefsAtomic;

/// Go's fdMutex reference count, without its read and write locks: CLOSED, and
/// below it the number of references held (see NetFd's "Closing"). Invariant: the
/// count never goes up once CLOSED is set, so it reaches CLOSED|0 exactly once,
/// and decref says so to the one thread that must release the descriptor. The
/// orderings are Relaxed but for decref's AcqRel: every holder's use of the
/// descriptor happens before its release (modelled by `make loom`).
struct FdRefs(RefsAtomic);

/// The closed bit of FdRefs.
const CLOSED: u64 = 1 << 63;

impl FdRefs {
    fn new() -> FdRefs {
        FdRefs(RefsAtomic::new(0))
    }

    /// Take a reference, unless closed (false).
    fn incref(&self) -> bool {
        self.add_unless_closed(0)
    }

    /// Set CLOSED, taking a reference for the closer to drop once it has woken
    /// the waiters; false if closed already.
    fn close(&self) -> bool {
        self.add_unless_closed(CLOSED)
    }

    /// Add one reference, and set, bits, unless CLOSED is set. Relaxed: the count
    /// orders nothing on the way up (see decref).
    fn add_unless_closed(&self, bits: u64) -> bool {
        let mut old = self.0.load(Ordering::Relaxed);
        loop {
            if old & CLOSED != 0 {
                return false;
            }
            match self.0.compare_exchange(
                old,
                (old | bits) + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(o) => old = o,
            }
        }
    }

    /// Drop a reference. True for the caller that dropped the last one after
    /// CLOSED: it must release the descriptor. AcqRel: each holder's use happens
    /// before its decrement (Release), and the releaser's Acquire sees them all
    /// (the decrements form one release sequence).
    fn decref(&self) -> bool {
        self.0.fetch_sub(1, Ordering::AcqRel) == CLOSED | 1
    }

    /// Whether close was called. Relaxed: a hint for starting an operation; what
    /// close publishes reaches a parked operation through its PollDesc.
    fn closed(&self) -> bool {
        self.0.load(Ordering::Relaxed) & CLOSED != 0
    }
}

/// The reference count's protocol, modelled with loom: an operation racing a
/// close and the owner's drop. The descriptor is released exactly once, and
/// never while an operation that took a reference still uses it. Run by `make
/// loom`.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::FdRefs;
    use loom::cell::UnsafeCell;
    use loom::sync::atomic::AtomicUsize;
    use loom::sync::atomic::Ordering::Relaxed;
    use loom::sync::Arc;
    use loom::thread;

    /// The descriptor: read by users, written by its release (a race loom reports
    /// unless the release happens after every use).
    struct Fd {
        refs: FdRefs,
        live: UnsafeCell<bool>,
        releases: AtomicUsize,
    }

    impl Fd {
        fn decref(&self) {
            if self.refs.decref() {
                self.live.with_mut(|l| {
                    // SAFETY: the releaser is the last holder (what the model checks).
                    unsafe { *l = false }
                });
                self.releases.fetch_add(1, Relaxed);
            }
        }

        fn op(&self) {
            if self.refs.incref() {
                // SAFETY: a reference is held (what the model checks).
                assert!(self.live.with(|l| unsafe { *l }), "used after release");
                self.decref();
            }
        }

        fn close(&self) -> bool {
            let closed = self.refs.close();
            if closed {
                self.decref();
            }
            closed
        }
    }

    #[test]
    fn loom_a_closed_fd_is_released_once_after_its_last_use() {
        loom::model(|| {
            let fd = Arc::new(Fd {
                refs: FdRefs::new(),
                live: UnsafeCell::new(true),
                releases: AtomicUsize::new(0),
            });
            let user = {
                let fd = fd.clone();
                thread::spawn(move || fd.op())
            };
            let closer = {
                let fd = fd.clone();
                thread::spawn(move || fd.close())
            };
            fd.op();
            user.join().unwrap();
            let closed_by_closer = closer.join().unwrap();
            // The owner's drop: close unless closed.
            let closed_by_drop = fd.close();
            assert!(closed_by_closer != closed_by_drop, "one close succeeds");
            assert_eq!(fd.releases.load(Relaxed), 1, "released exactly once");
        });
    }
}

/// A reference to a NetFd's descriptor, held by an operation (see "Closing").
struct FdRef<'a>(&'a NetFd);

impl Drop for FdRef<'_> {
    fn drop(&mut self) {
        self.0.decref();
    }
}

impl Drop for NetFd {
    fn drop(&mut self) {
        // Unless closed already (and so released: no reference outlives &mut
        // self), close releases it now.
        let _ = self.close();
    }
}

fn bind_listen(domain: i32, addr: &RawAddr, listen: bool) -> Result<NetFd> {
    let fd = NetFd::socket(domain, if listen { SOCK_STREAM } else { SOCK_DGRAM })?;
    if listen && domain != AF_UNIX {
        // As Go: a restarted server can bind its port while old connections linger.
        sock::setsockopt_int(fd.sysfd, SOL_SOCKET, SO_REUSEADDR, 1);
    }
    let r = sock::bind(fd.sysfd, addr.bytes());
    if r < 0 {
        return Err(Error::from_neg(r));
    }
    if listen {
        // Go's default backlog: somaxconn (the kernel caps it).
        let r = sock::listen(fd.sysfd, 4096);
        if r < 0 {
            return Err(Error::from_neg(r));
        }
    }
    Ok(fd)
}

fn domain_of(a: &SocketAddr) -> i32 {
    if a.is_ipv4() {
        AF_INET
    } else {
        AF_INET6
    }
}

/// Accept the next connection: its descriptor, and the peer's address as accept4
/// wrote it (Go builds the remote address from accept's, not from getpeername,
/// which fails with ENOTCONN once a client that connected has reset).
fn accept(fd: &NetFd) -> Result<(NetFd, RawAddr)> {
    let _g = fd.rlock.lock();
    let mut b = [0u8; 110];
    let mut l = 0u32;
    loop {
        let n = fd.io_loop(MODE_READ, || {
            sock::accept4(fd.sysfd, &mut b, &mut l, SOCK_NONBLOCK | SOCK_CLOEXEC)
        });
        match n {
            Ok(nfd) => {
                let peer = RawAddr {
                    buf: b,
                    len: (l as usize).min(b.len()),
                };
                return Ok((NetFd::register(nfd as i32)?, peer));
            }
            // The connection went away before we took it: take the next one.
            Err(e) if e.raw_os_error() == Some(ECONNABORTED as i32) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A TCP socket listening for connections (std's `TcpListener`, Go's
/// `net.TCPListener`).
pub struct TcpListener {
    fd: NetFd,
}

impl TcpListener {
    /// Listen on addr (port 0: any free port, see [`local_addr`](Self::local_addr));
    /// of several addresses, the first that can be bound.
    pub fn bind<A: ToSocketAddr + ?Sized>(addr: &A) -> Result<TcpListener> {
        each_addr(&addr.to_socket_addrs()?, |a| {
            let fd = bind_listen(domain_of(a), &RawAddr::from_socket_addr(a), true)?;
            Ok(TcpListener { fd })
        })
    }

    /// Wait for the next connection (parking the goroutine) and return it with the
    /// peer's address. Errors such as too many open files are returned, and the
    /// listener stays usable.
    pub fn accept(&self) -> Result<(TcpStream, SocketAddr)> {
        let (fd, peer) = accept(&self.fd)?;
        // The new descriptor is ours alone: no reference needed.
        sock::setsockopt_int(fd.sysfd, IPPROTO_TCP, TCP_NODELAY, 1);
        let peer = RawAddr::to_socket_addr(peer.bytes())?;
        Ok((TcpStream::from_fd(fd), peer))
    }

    /// The connections as they come (std's `incoming`): each item is
    /// [`accept`](Self::accept)'s stream, or its error (the listener goes on
    /// after one). It ends once the listener is closed (std's never ends, as a
    /// std listener cannot be closed while in use; gort's, like Go's, can).
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.fd.addr(false)
    }

    /// Stop listening: a goroutine blocked in accept returns an error, and the
    /// port is free once no operation uses the listener (see
    /// [`TcpStream::close`]).
    pub fn close(&self) -> Result<()> {
        self.fd.close()
    }
}

/// An iterator over a [`TcpListener`]'s connections (std's `Incoming`); it ends
/// only when the listener is closed.
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = Result<TcpStream>;

    /// Wait for the next connection (see [`TcpListener::accept`]); None once the
    /// listener is closed.
    fn next(&mut self) -> Option<Result<TcpStream>> {
        match self.listener.accept() {
            Ok((s, _)) => Some(Ok(s)),
            Err(_) if self.listener.fd.refs.closed() => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// A TCP connection (std's `TcpStream`, Go's `net.TCPConn`). Used through `&self`:
/// share it (e.g. in an `Arc`) to read in one goroutine and write in another.
pub struct TcpStream {
    fd: NetFd,
}

impl TcpStream {
    /// Connect to addr, parking the goroutine until the connection is made or fails
    /// (`ConnectionRefused` for a closed port). Of several addresses (a name that
    /// /etc/hosts lists more than once, a slice), each is tried in turn until one
    /// connects; if none does, the error is the first address's, as Go's Dial.
    pub fn connect<A: ToSocketAddr + ?Sized>(addr: &A) -> Result<TcpStream> {
        each_addr(&addr.to_socket_addrs()?, |a| {
            let fd = NetFd::socket(domain_of(a), SOCK_STREAM)?;
            fd.connect(&RawAddr::from_socket_addr(a))?;
            sock::setsockopt_int(fd.sysfd, IPPROTO_TCP, TCP_NODELAY, 1);
            Ok(TcpStream::from_fd(fd))
        })
    }

    /// Connect to addr, giving up with `TimedOut` after timeout (std's
    /// connect_timeout; a zero timeout is an `InvalidInput` error).
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> Result<TcpStream> {
        let fd = NetFd::socket(domain_of(addr), SOCK_STREAM)?;
        fd.set_timeout(MODE_WRITE, Some(timeout))?;
        fd.connect(&RawAddr::from_socket_addr(addr))?;
        fd.set_timeout(MODE_WRITE, None)?;
        sock::setsockopt_int(fd.sysfd, IPPROTO_TCP, TCP_NODELAY, 1);
        Ok(TcpStream::from_fd(fd))
    }

    /// A connected TCP socket's descriptor, not yet shared: its short reads drain
    /// (see NetFd::read).
    fn from_fd(mut fd: NetFd) -> TcpStream {
        fd.tcp_stream = true;
        TcpStream { fd }
    }

    /// Read into buf; 0 means the peer closed its side (end of file).
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        self.fd.read(buf)
    }

    /// Read exactly buf.len() bytes (`UnexpectedEof` if the peer closes first).
    pub fn read_exact(&self, buf: &mut [u8]) -> Result<()> {
        self.fd.read_exact(buf)
    }

    /// Write some of buf; returns how much.
    pub fn write(&self, buf: &[u8]) -> Result<usize> {
        self.fd.write(buf)
    }

    /// Write all of buf (partial writes continue; other writers wait).
    pub fn write_all(&self, buf: &[u8]) -> Result<()> {
        self.fd.write_all(buf)
    }

    /// Shut down reading, writing or both (the peer reads end of file after Write).
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        self.fd.shutdown(how)
    }

    /// Close the connection for every user (Go's Close): blocked and later reads
    /// and writes fail with "use of closed network connection", and close returns
    /// once the descriptor is released, even while this object lives on (the peer
    /// sees the connection end, unless a [`try_clone`](Self::try_clone) of it is
    /// still open). A second close fails the same way.
    pub fn close(&self) -> Result<()> {
        self.fd.close()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> Result<SocketAddr> {
        self.fd.addr(true)
    }

    /// This end's address.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.fd.addr(false)
    }

    /// Read into buf without taking the data (the next read gets it again); parks
    /// while nothing is there; 0 at end of file.
    pub fn peek(&self, buf: &mut [u8]) -> Result<usize> {
        self.fd.peek(buf, &mut [], &mut 0)
    }

    /// Set TCP_NODELAY (on by default, as in Go).
    pub fn set_nodelay(&self, on: bool) -> Result<()> {
        self.fd.setsockopt(IPPROTO_TCP, TCP_NODELAY, on as i32)
    }

    /// Whether TCP_NODELAY is set.
    pub fn nodelay(&self) -> Result<bool> {
        Ok(self.fd.getsockopt(IPPROTO_TCP, TCP_NODELAY)? != 0)
    }
}

/// A UDP socket (std's `UdpSocket`).
pub struct UdpSocket {
    fd: NetFd,
}

impl UdpSocket {
    /// A socket bound to addr (of several addresses, the first that can be bound).
    pub fn bind<A: ToSocketAddr + ?Sized>(addr: &A) -> Result<UdpSocket> {
        each_addr(&addr.to_socket_addrs()?, |a| {
            let fd = bind_listen(domain_of(a), &RawAddr::from_socket_addr(a), false)?;
            Ok(UdpSocket { fd })
        })
    }

    /// Send one datagram to addr.
    pub fn send_to<A: ToSocketAddr + ?Sized>(&self, buf: &[u8], addr: &A) -> Result<usize> {
        let a = RawAddr::from_socket_addr(&addr.to_socket_addr()?);
        let _g = self.fd.wlock.lock();
        self.fd.io_loop(MODE_WRITE, || {
            sock::sendto(self.fd.sysfd, buf, MSG_NOSIGNAL, a.bytes())
        })
    }

    /// Receive one datagram (parking until one arrives): its length and sender.
    pub fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr)> {
        let _g = self.fd.rlock.lock();
        let mut b = [0u8; 110];
        let mut l = 0u32;
        let n = self.fd.io_loop(MODE_READ, || {
            sock::recvfrom(self.fd.sysfd, buf, &mut b, &mut l)
        })?;
        Ok((n, RawAddr::to_socket_addr(&b[..l as usize])?))
    }

    /// Fix the peer for send and recv.
    pub fn connect<A: ToSocketAddr + ?Sized>(&self, addr: &A) -> Result<()> {
        let a = RawAddr::from_socket_addr(&addr.to_socket_addr()?);
        self.fd.syscall(|fd| sock::connect(fd, a.bytes())).map(drop)
    }

    /// Send one datagram to the connected peer.
    pub fn send(&self, buf: &[u8]) -> Result<usize> {
        self.fd.write(buf)
    }

    /// Receive one datagram from the connected peer (parking until one arrives),
    /// as much of it as fits in buf: an empty buf waits for one too, and takes it.
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        // recv(2), not read(2), which returns 0 at once for an empty buf (as
        // NetFd::read does, for streams) and leaves the datagram queued.
        let _g = self.fd.rlock.lock();
        self.fd.io_loop(MODE_READ, || {
            sock::recvfrom(self.fd.sysfd, buf, &mut [], &mut 0)
        })
    }

    /// Receive the next datagram without taking it (the next recv gets it again):
    /// its length and sender.
    pub fn peek_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr)> {
        let mut b = [0u8; 110];
        let mut l = 0u32;
        let n = self.fd.peek(buf, &mut b, &mut l)?;
        Ok((n, RawAddr::to_socket_addr(&b[..l as usize])?))
    }

    /// Receive the next datagram from the connected peer without taking it.
    pub fn peek(&self, buf: &mut [u8]) -> Result<usize> {
        self.fd.peek(buf, &mut [], &mut 0)
    }

    /// This socket's address.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.fd.addr(false)
    }

    /// The connected peer's address (`NotConnected` before [`connect`](Self::connect)).
    pub fn peer_addr(&self) -> Result<SocketAddr> {
        self.fd.addr(true)
    }

    /// Allow sending to broadcast addresses (SO_BROADCAST).
    pub fn set_broadcast(&self, on: bool) -> Result<()> {
        self.fd.setsockopt(SOL_SOCKET, SO_BROADCAST, on as i32)
    }

    /// Whether SO_BROADCAST is set.
    pub fn broadcast(&self) -> Result<bool> {
        Ok(self.fd.getsockopt(SOL_SOCKET, SO_BROADCAST)? != 0)
    }

    /// Close for every user (see [`TcpStream::close`]).
    pub fn close(&self) -> Result<()> {
        self.fd.close()
    }
}

/// A Unix-domain stream socket listening at a path (std's `UnixListener`). As
/// Go's, it removes its socket file when closed or dropped, so the path can be
/// bound again. A path that starts with '@' is a name in Linux's abstract
/// namespace, as in Go: no file is made, and the name is free once the
/// listener is closed.
pub struct UnixListener {
    fd: NetFd,
    /// The socket file to remove (None for an abstract name).
    path: Option<String>,
    /// The socket file was removed (once, by close or drop).
    unlinked: AtomicBool,
}

impl UnixListener {
    /// Listen at path (which must not exist yet), or at `@name` in the abstract
    /// namespace (which no other socket may hold).
    pub fn bind(path: &str) -> Result<UnixListener> {
        let addr = RawAddr::unix(path)?;
        let fd = bind_listen(AF_UNIX, &addr, true)?;
        Ok(UnixListener {
            fd,
            // An abstract name (sun_path[0] is 0) has no file to remove.
            path: (addr.buf[2] != 0).then(|| String::from(path)),
            unlinked: AtomicBool::new(false),
        })
    }

    /// Remove the socket file, once (Go's unlinkOnce). Relaxed: the swap alone
    /// picks the one remover.
    fn unlink(&self) {
        if let Some(path) = &self.path {
            if !self.unlinked.swap(true, Ordering::Relaxed) {
                let _ = crate::fs::remove_file(path);
            }
        }
    }

    /// Wait for the next connection; with the peer's address (std's: usually
    /// unnamed, as a client seldom binds).
    pub fn accept(&self) -> Result<(UnixStream, UnixAddr)> {
        let (fd, peer) = accept(&self.fd)?;
        // The kernel gives an AF_UNIX address here; should it not, unnamed.
        let peer = UnixAddr::from_raw(peer.bytes()).unwrap_or(UnixAddr::UNNAMED);
        Ok((UnixStream { fd }, peer))
    }

    /// The connections as they come (see [`TcpListener::incoming`]); it ends once
    /// the listener is closed.
    pub fn incoming(&self) -> UnixIncoming<'_> {
        UnixIncoming { listener: self }
    }

    /// The address listened at (`@name` for an abstract name).
    pub fn local_addr(&self) -> Result<UnixAddr> {
        self.fd.unix_addr(false)
    }

    /// Stop listening (see [`TcpListener::close`]) and remove the socket file.
    pub fn close(&self) -> Result<()> {
        // As Go: the file goes first, then the descriptor.
        if !self.fd.refs.closed() {
            self.unlink();
        }
        self.fd.close()
    }
}

impl Drop for UnixListener {
    fn drop(&mut self) {
        if !self.fd.refs.closed() {
            self.unlink();
        }
    }
}

/// An iterator over a [`UnixListener`]'s connections (std's
/// `os::unix::net::Incoming`); it ends only when the listener is closed.
pub struct UnixIncoming<'a> {
    listener: &'a UnixListener,
}

impl Iterator for UnixIncoming<'_> {
    type Item = Result<UnixStream>;

    /// Wait for the next connection (see [`UnixListener::accept`]); None once
    /// the listener is closed.
    fn next(&mut self) -> Option<Result<UnixStream>> {
        match self.listener.accept() {
            Err(_) if self.listener.fd.refs.closed() => None,
            r => Some(r.map(|(s, _)| s)),
        }
    }
}

/// A Unix-domain stream connection (std's `UnixStream`), used as [`TcpStream`].
pub struct UnixStream {
    fd: NetFd,
}

impl UnixStream {
    /// Connect to the socket at path (at `@name`: the abstract name).
    pub fn connect(path: &str) -> Result<UnixStream> {
        let fd = NetFd::socket(AF_UNIX, SOCK_STREAM)?;
        fd.connect(&RawAddr::unix(path)?)?;
        Ok(UnixStream { fd })
    }

    /// Read into buf; 0 at end of file.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        self.fd.read(buf)
    }

    /// Read exactly buf.len() bytes (`UnexpectedEof` if the peer closes first).
    pub fn read_exact(&self, buf: &mut [u8]) -> Result<()> {
        self.fd.read_exact(buf)
    }

    /// Write some of buf.
    pub fn write(&self, buf: &[u8]) -> Result<usize> {
        self.fd.write(buf)
    }

    /// Write all of buf.
    pub fn write_all(&self, buf: &[u8]) -> Result<()> {
        self.fd.write_all(buf)
    }

    /// Read without taking the data (see [`TcpStream::peek`]).
    pub fn peek(&self, buf: &mut [u8]) -> Result<usize> {
        self.fd.peek(buf, &mut [], &mut 0)
    }

    /// This end's address (unnamed for a client: connect binds none).
    pub fn local_addr(&self) -> Result<UnixAddr> {
        self.fd.unix_addr(false)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> Result<UnixAddr> {
        self.fd.unix_addr(true)
    }

    /// Shut down reading, writing or both.
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        self.fd.shutdown(how)
    }

    /// Close for every user (see [`TcpStream::close`]).
    pub fn close(&self) -> Result<()> {
        self.fd.close()
    }
}

/// Deadlines and timeouts, for every socket type (std's names for timeouts, Go's
/// for deadlines; setting one kind clears the other).
macro_rules! deadlines {
    ($($t:ty),*) => {$(
        impl $t {
            /// Make each read (or accept, or recv) that has to wait fail with
            /// `TimedOut` ("i/o timeout") after d (None: wait for ever). A zero
            /// duration is an `InvalidInput` error, as std's.
            pub fn set_read_timeout(&self, d: Option<Duration>) -> Result<()> {
                self.fd.set_timeout(MODE_READ, d)
            }

            /// As [`set_read_timeout`](Self::set_read_timeout), for writes.
            pub fn set_write_timeout(&self, d: Option<Duration>) -> Result<()> {
                self.fd.set_timeout(MODE_WRITE, d)
            }

            /// The read timeout, if one is set.
            pub fn read_timeout(&self) -> Result<Option<Duration>> {
                Ok(self.fd.get_timeout(MODE_READ))
            }

            /// The write timeout, if one is set.
            pub fn write_timeout(&self) -> Result<Option<Duration>> {
                Ok(self.fd.get_timeout(MODE_WRITE))
            }

            /// Go's SetReadDeadline: reads fail with `TimedOut` ("i/o timeout")
            /// from instant t on, including one already waiting (a deadline in the
            /// past wakes it at once). None removes the deadline.
            pub fn set_read_deadline(&self, t: Option<Instant>) -> Result<()> {
                self.fd.set_deadline(MODE_READ, t)
            }

            /// Go's SetWriteDeadline (see [`set_read_deadline`](Self::set_read_deadline)).
            pub fn set_write_deadline(&self, t: Option<Instant>) -> Result<()> {
                self.fd.set_deadline(MODE_WRITE, t)
            }

            /// Go's SetDeadline: both the read and the write deadline.
            pub fn set_deadline(&self, t: Option<Instant>) -> Result<()> {
                self.set_read_deadline(t)?;
                self.set_write_deadline(t)
            }
        }
    )*};
}

deadlines!(TcpStream, TcpListener, UdpSocket, UnixStream, UnixListener);

/// std's try_clone and take_error, for the socket types that have them.
macro_rules! clone_and_error {
    ($($t:ident),*) => {$(
        impl $t {
            /// A second handle to the same socket, on a descriptor of its own (std's
            /// try_clone): both read and write the same stream, and closing or
            /// dropping one leaves the other working. Socket options and timeouts
            /// are shared, as std's; deadlines are each handle's own (Go's are per
            /// connection value).
            pub fn try_clone(&self) -> Result<$t> {
                Ok($t {
                    fd: self.fd.try_clone()?,
                })
            }

            /// The socket's pending error (SO_ERROR), clearing it.
            pub fn take_error(&self) -> Result<Option<Error>> {
                self.fd.take_error()
            }
        }
    )*};
}

clone_and_error!(TcpStream, TcpListener, UdpSocket, UnixStream);

/// std's IP time-to-live accessors, for IP sockets.
macro_rules! ttl {
    ($($t:ident),*) => {$(
        impl $t {
            /// Set the IP time-to-live of packets sent (IP_TTL).
            pub fn set_ttl(&self, ttl: u32) -> Result<()> {
                let v = i32::try_from(ttl).map_err(|_| {
                    Error::new_static(ErrorKind::InvalidInput, "ttl out of range")
                })?;
                self.fd.setsockopt(IPPROTO_IP, IP_TTL, v)
            }

            /// The IP time-to-live of packets sent.
            pub fn ttl(&self) -> Result<u32> {
                Ok(self.fd.getsockopt(IPPROTO_IP, IP_TTL)? as u32)
            }
        }
    )*};
}

ttl!(TcpStream, TcpListener, UdpSocket);

/// Debug shows the descriptor, as std's does (with the addresses, where known:
/// $addr is NetFd's method that gives them), or that the socket is closed (its
/// number may belong to another file by then).
macro_rules! debug_fd {
    ($addr:ident: $($t:ident),*) => {$(
        impl core::fmt::Debug for $t {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                let mut d = f.debug_struct(stringify!($t));
                // A reference for the whole print: a close meanwhile cannot free the
                // number printed.
                let Ok(_r) = self.fd.incref() else {
                    return d.field("closed", &true).finish();
                };
                if let Ok(a) = self.fd.$addr(false) {
                    d.field("addr", &a);
                }
                if let Ok(a) = self.fd.$addr(true) {
                    d.field("peer", &a);
                }
                d.field("fd", &self.fd.sysfd).finish()
            }
        }
    )*};
}

debug_fd!(addr: TcpStream, TcpListener, UdpSocket);
debug_fd!(unix_addr: UnixStream, UnixListener);

#[cfg(test)]
mod tests {
    use super::hosts_scan;
    use alloc::vec::Vec;
    use core::net::IpAddr;

    fn hosts_lookup(text: &[u8], name: &str) -> Vec<IpAddr> {
        let mut ips = Vec::new();
        hosts_scan(text, name, &mut ips);
        ips
    }

    fn ips(v: &[&str]) -> alloc::vec::Vec<IpAddr> {
        v.iter().map(|a| a.parse().unwrap()).collect()
    }

    /// Every line that lists a name gives an address, in the file's order, each
    /// once; names compare without case; comments and malformed lines are skipped.
    #[test]
    fn hosts_lookup_gives_every_address_of_a_name_in_order() {
        let text = b"# comment 10.0.0.1 web\n\
                    127.0.0.1 localhost\n\
                    ::1 localhost ip6-localhost # ::2 localhost\n\
                    not-an-ip localhost\n\
                    10.0.0.2 Web db\n\
                    10.0.0.3 web\r\n\
                    10.0.0.2 web\n\
                    10.0.0.4 caf\xe9 cafe\t\xff\xfe   \n\
                    10.0.0.5\tlast";
        assert_eq!(hosts_lookup(text, "localhost"), ips(&["127.0.0.1", "::1"]));
        assert_eq!(hosts_lookup(text, "WEB"), ips(&["10.0.0.2", "10.0.0.3"]));
        assert_eq!(hosts_lookup(text, "db"), ips(&["10.0.0.2"]));
        assert!(hosts_lookup(text, "comment").is_empty());
        assert!(hosts_lookup(text, "nosuch").is_empty());
        // Bytes that are not UTF-8 hide nothing but themselves.
        assert_eq!(hosts_lookup(text, "cafe"), ips(&["10.0.0.4"]));
        // The last line needs no newline.
        assert_eq!(hosts_lookup(text, "last"), ips(&["10.0.0.5"]));
        // Names are absolute either way (Go's absDomainName): `db.` is `db`.
        assert_eq!(hosts_lookup(text, "db."), ips(&["10.0.0.2"]));
        assert_eq!(
            hosts_lookup(b"10.0.0.9 fq.example.\n", "fq.example"),
            ips(&["10.0.0.9"])
        );
        assert!(hosts_lookup(text, "db..").is_empty());
    }
}
