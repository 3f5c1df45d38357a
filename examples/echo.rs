//! A TCP echo server, one goroutine per connection, and checks of gort::net, one
//! per argument, printing `key=value` lines for tests/net.rs:
//!
//! - `serve [ADDR]`: serve on ADDR (default 127.0.0.1:0), printing `listening=ADDR`,
//!   until killed (for an external client).
//! - `self N SIZE`: serve in-process and run N client goroutines at once, each
//!   sending SIZE bytes in pieces and reading them back; every byte is checked.
//! - `errors`: refused connections, an address in use, malformed addresses, a
//!   half-close, a close from another goroutine, a close that releases the
//!   descriptor while the object lives on, several addresses tried in turn, a
//!   slow reader of 16 MiB.
//! - `idle MS`: a server idle in accept for MS ms: prints the CPU it used.
//! - `resolve ADDR`: what ADDR resolves to (names from /etc/hosts).
//! - `udp`, `unix PATH`: the same round trips over UDP and a Unix socket (and a
//!   Unix stream's Debug, whose addresses are unnamed, and the listener's socket
//!   file removed when it is closed or dropped).
//! - `unix-abstract NAME PEER`: a Unix listener at `@NAME` in the abstract
//!   namespace: no file `./@NAME` is made, a stream connects to it by name,
//!   addresses print as Go's (`@NAME`), and the name is free once the listener is
//!   closed; then a connection to `@PEER`, the test's own abstract listener,
//!   which reads what it is sent (`abstract.*`).
//! - `udp-empty`: UDP receives into an empty buffer wait for a datagram, as
//!   std's: `recv` and `recv_from` take it, `peek` and `peek_from` leave it
//!   (`udp_empty.*`).
//! - `reset-accept`: a client that connects and resets (SO_LINGER 0) before the
//!   server accepts: accept still returns the connection with its peer's address,
//!   and the listener goes on serving.
//! - `close-race N`: N times, a reader and a writer on one end of a connection
//!   race a close from a third goroutine (and the peer keeps sending): each
//!   operation ends with data or "use of closed network connection", never end of
//!   file or another error, and every descriptor is released (`close_race.*`).
//! - `std-api`: std's names beyond the basics: `incoming`, `try_clone` (a clone
//!   read in one goroutine while the original writes; closing one leaves the
//!   other working), `peek`, `take_error` (a refused UDP send's pending error),
//!   `nodelay`, `ttl`, and UDP's `peek_from`, `peer_addr` and `broadcast`, and a
//!   Unix listener's `incoming`; timeouts shared by clones; `incoming` ending when
//!   its listener is closed (`std.*`).
//! - `handoff MS`: for MS ms, a goroutine writes one byte and exits while the main
//!   goroutine waits to read it: with GOMAXPROCS=1 the only M then goes idle just
//!   as the byte arrives, often while sysmon's network poll holds the reader (a
//!   false deadlock report, once). Prints `handoff.rounds=N`.
//! - `short-reads`: reads after a short read, which park at once for the next
//!   edge (NetFd::read), still see what is there. A peer sends `abc`, an urgent
//!   byte (MSG_OOB) and `def` at once, to a reader parked in read: its first read
//!   stops at the urgent mark (`abc`, short, with data behind it), and the reader
//!   must still get `def` (Linux drops the urgent byte from the stream):
//!   `short_reads.urgent=abcdef`. A peek that waited for data, after a short
//!   read, leaves the data for the next read: `short_reads.peek=def def`.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use gort::io::ErrorKind;
use gort::net::{Shutdown, TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};
use gort::sync::WaitGroup;
use gort::time::{sleep, Duration, Instant};
use gort::{chan, println};

gort::main!(main);

fn arg(n: usize) -> Option<&'static str> {
    gort::env::args().nth(n).and_then(|a| a.to_str())
}

/// Echo one connection until the peer closes it.
fn echo_conn(c: TcpStream) {
    let mut buf = vec![0u8; 16 << 10];
    loop {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if c.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
}

/// Accept until the listener is closed; errors (e.g. too many open files) are
/// counted and the server goes on.
fn serve(l: Arc<TcpListener>, errors: Arc<AtomicU64>) {
    loop {
        match l.accept() {
            Ok((c, _)) => gort::go(move || echo_conn(c)),
            Err(e) if e.to_string_is_closed() => return,
            Err(e) => {
                // Report the first (e.g. too many open files), then go on serving.
                if errors.fetch_add(1, Relaxed) == 0 {
                    gort::eprintln!("echo: accept: {e}");
                }
                sleep(Duration::from_millis(1));
            }
        }
    }
}

trait ClosedErr {
    fn to_string_is_closed(&self) -> bool;
}

impl ClosedErr for gort::io::Error {
    fn to_string_is_closed(&self) -> bool {
        format!("{self}") == "use of closed network connection"
    }
}

fn main() {
    match arg(1).unwrap_or("") {
        "serve" => {
            let l = Arc::new(TcpListener::bind(arg(2).unwrap_or("127.0.0.1:0")).unwrap());
            println!("listening={}", l.local_addr().unwrap());
            serve(l, Arc::new(AtomicU64::new(0)));
        }
        "self" => self_test(
            arg(2).and_then(|a| a.parse().ok()).unwrap_or(100),
            arg(3).and_then(|a| a.parse().ok()).unwrap_or(100_000),
        ),
        "errors" => errors(),
        "resolve" => {
            // How an address string resolves (names from /etc/hosts).
            use gort::net::ToSocketAddr;
            let a = arg(2).unwrap_or("");
            match a.to_socket_addr() {
                Ok(sa) => println!("resolve={sa}"),
                Err(e) => println!("resolve.err={:?} {e}", e.kind()),
            }
        }
        "idle" => idle(arg(2).and_then(|a| a.parse().ok()).unwrap_or(300)),
        "udp" => udp(),
        "udp-empty" => udp_empty(),
        "unix-abstract" => unix_abstract(arg(2).unwrap_or("gort-echo"), arg(3).unwrap_or("")),
        "unix" => unix(arg(2).unwrap_or("/tmp/gort-echo.sock")),
        "reset-accept" => reset_accept(),
        "handoff" => handoff(arg(2).and_then(|a| a.parse().ok()).unwrap_or(1000)),
        "close-race" => close_race(arg(2).and_then(|a| a.parse().ok()).unwrap_or(1000)),
        "std-api" => std_api(),
        "short-reads" => {
            short_read_at_urgent_data();
            peek_after_short_read();
        }
        _ => {
            gort::eprintln!(
                "usage: echo serve [ADDR] | self N SIZE | errors | idle MS | udp | udp-empty | unix PATH | unix-abstract NAME PEER \
                 | reset-accept | handoff MS | close-race N | std-api"
            );
            gort::exit(2);
        }
    }
}

/// The byte at offset i of client c's stream.
fn pattern(c: u64, i: usize) -> u8 {
    (i as u64).wrapping_mul(31).wrapping_add(c * 7) as u8
}

fn self_test(n: u64, size: usize) {
    let l = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let addr = l.local_addr().unwrap();
    let errors = Arc::new(AtomicU64::new(0));
    {
        let (l, errors) = (l.clone(), errors.clone());
        gort::go(move || serve(l, errors));
    }
    let wg = Arc::new(WaitGroup::new());
    let ok = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    for c in 0..n {
        let (wg, ok, bytes) = (wg.clone(), ok.clone(), bytes.clone());
        wg.add(1);
        gort::go(move || {
            let s = Arc::new(TcpStream::connect(&addr).unwrap());
            // A writer goroutine and this reader, at once on one stream.
            let w = s.clone();
            let done = chan::<()>(1);
            let d = done.clone();
            gort::go(move || {
                let data: Vec<u8> = (0..size).map(|i| pattern(c, i)).collect();
                for piece in data.chunks(7919) {
                    w.write_all(piece).unwrap();
                }
                w.shutdown(Shutdown::Write).unwrap();
                d.send(());
            });
            let mut got = 0usize;
            let mut good = true;
            let mut buf = vec![0u8; 4096];
            loop {
                let k = s.read(&mut buf).unwrap();
                if k == 0 {
                    break;
                }
                for (j, &b) in buf[..k].iter().enumerate() {
                    if b != pattern(c, got + j) {
                        good = false;
                    }
                }
                got += k;
            }
            done.recv();
            if good && got == size {
                ok.fetch_add(1, Relaxed);
            }
            bytes.fetch_add(got as u64, Relaxed);
            wg.done();
        });
    }
    wg.wait();
    let el = t.elapsed();
    l.close().unwrap();
    println!("self.clients={n}");
    println!("self.ok={}", ok.load(Relaxed));
    println!("self.bytes={}", bytes.load(Relaxed));
    println!("self.accept_errors={}", errors.load(Relaxed));
    println!("self.ms={}", el.as_millis());
    println!("self.threads={}", threads());
}

fn close_race(n: u32) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    let fds = open_fds();
    let (mut bad, mut reads_ok, mut writes_ok) = (0u32, 0u32, 0u32);
    for i in 0..n {
        let peer = Arc::new(TcpStream::connect(&a).unwrap());
        let s = Arc::new(l.accept().unwrap().0);
        // The peer sends now and then, so a read may find data.
        let p2 = peer.clone();
        gort::go(move || {
            let _ = p2.write_all(b"x");
        });
        let results = chan::<(bool, alloc::string::String)>(2);
        for reader in [true, false] {
            let (s, results) = (s.clone(), results.clone());
            gort::go(move || {
                let mut b = [0u8; 8];
                let r = if reader {
                    s.read(&mut b)
                } else {
                    s.write(b"yy")
                };
                results.send((
                    reader,
                    match r {
                        Ok(0) if reader => "eof".into(),
                        Ok(_) => "ok".into(),
                        Err(e) => format!("{e}"),
                    },
                ));
            });
        }
        // Close at once, or after the goroutines had a moment to start or park.
        if i % 3 != 0 {
            gort::gosched();
        }
        if i % 3 == 2 {
            sleep(Duration::from_micros(50));
        }
        s.close().unwrap();
        for _ in 0..2 {
            let (reader, r) = results.recv().unwrap();
            match r.as_str() {
                "ok" if reader => reads_ok += 1,
                "ok" => writes_ok += 1,
                "use of closed network connection" => {}
                other => {
                    bad += 1;
                    if bad <= 5 {
                        println!(
                            "close_race.example={} {other}",
                            if reader { "read" } else { "write" }
                        );
                    }
                }
            }
        }
        peer.close().unwrap();
    }
    // Every connection's descriptors are released (the objects are all dropped
    // by now; the count must come back to where it started).
    println!("close_race.rounds={n}");
    println!("close_race.bad={bad}");
    println!("close_race.reads_ok={reads_ok} writes_ok={writes_ok}");
    println!("close_race.fds_leaked={}", open_fds() as i64 - fds as i64);
}

/// connect and bind given several addresses try each in turn (a name /etc/hosts
/// lists more than once goes the same way).
fn several_addrs() {
    use gort::net::SocketAddr;
    // Two ports nothing listens on, and one that does.
    let closed: Vec<SocketAddr> = (0..2)
        .map(|_| {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        })
        .collect();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let good = l.local_addr().unwrap();
    let s = TcpStream::connect(&[closed[0], good][..]).unwrap();
    println!("several.connect_second={}", s.peer_addr().unwrap() == good);
    let e = TcpStream::connect(&closed[..]).err().unwrap();
    println!("several.all_refused={:?}", e.kind());
    let e = TcpStream::connect(&[][..]).err().unwrap();
    println!("several.none={:?} {e}", e.kind());
    // bind: the first address is in use, the second is free.
    let b = TcpListener::bind(&[good, closed[1]][..]).unwrap();
    println!(
        "several.bind_second={}",
        b.local_addr().unwrap() == closed[1]
    );
}

/// How many descriptors the process has open.
fn open_fds() -> usize {
    gort::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// close releases the descriptor as soon as no operation uses it, while the
/// object lives on (Go's Close): the port can be bound again, the peer reads end
/// of file, and every later use fails.
fn close_releases() {
    let l = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let a = l.local_addr().unwrap();
    let peer = TcpStream::connect(&a).unwrap();
    let (s, _) = l.accept().unwrap();
    let done = chan::<alloc::string::String>(1);
    let (l2, done2) = (l.clone(), done.clone());
    gort::go(move || {
        let e = l2
            .accept()
            .err()
            .map(|e| format!("{e}"))
            .unwrap_or_default();
        // l2 lives on until the end of this goroutine: the listener's object is
        // still there when main binds its port again.
        done2.send(e);
        sleep(Duration::from_millis(200));
        drop(l2);
    });
    sleep(Duration::from_millis(50));
    let fds = open_fds();
    l.close().unwrap();
    // At once, before the goroutine parked in accept may have run (at one P it
    // cannot have): close returns once the descriptor is released.
    let freed = fds - open_fds();
    println!("closerel.rebind={}", TcpListener::bind(&a).is_ok());
    println!("closerel.accept={}", done.recv().unwrap());
    s.close().unwrap();
    println!("closerel.fds_freed={}+{}", freed, fds - freed - open_fds());
    let mut b = [0u8; 4];
    println!("closerel.peer_read={}", peer.read(&mut b).unwrap());
    println!(
        "closerel.addr={}",
        l.local_addr()
            .err()
            .map(|e| format!("{e}"))
            .unwrap_or_default()
    );
    // The same for a UDP socket with a goroutine parked in recv_from.
    let u = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
    let ua = u.local_addr().unwrap();
    let u2 = u.clone();
    let got = chan::<bool>(1);
    let got2 = got.clone();
    gort::go(move || {
        let mut b = [0u8; 8];
        got2.send(u2.recv_from(&mut b).is_err());
    });
    sleep(Duration::from_millis(50));
    u.close().unwrap();
    println!("closerel.udp_rebind={}", UdpSocket::bind(&ua).is_ok());
    println!("closerel.udp_recv_failed={}", got.recv().unwrap());
    println!(
        "closerel.udp_again={}",
        u.close().err().map(|e| format!("{e}")).unwrap_or_default()
    );
}

fn errors() {
    // A closed port: bind one, note it, close it, connect.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = TcpStream::connect(&format!("127.0.0.1:{port}"))
        .err()
        .unwrap();
    println!("refused.kind={:?}", e.kind());
    println!("refused.msg={e}");
    // An address in use.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    let e = TcpListener::bind(&a).err().unwrap();
    println!("inuse.kind={:?}", e.kind());
    // Malformed addresses.
    for bad in ["127.0.0.1", "example.com:80", "1.2.3.4:99999", "[::1:80"] {
        let e = TcpStream::connect(bad).err().unwrap();
        println!("malformed.{bad}={:?}", e.kind());
    }
    // Half-close: the server reads 0 after the client's shutdown(Write), and the
    // client still reads the server's reply.
    let server = {
        let l = Arc::new(l);
        let l2 = l.clone();
        let c = chan::<usize>(1);
        let c2 = c.clone();
        gort::go(move || {
            let (s, _) = l2.accept().unwrap();
            let mut buf = [0u8; 64];
            let mut total = 0;
            loop {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                total += n;
            }
            s.write_all(b"bye").unwrap();
            c2.send(total);
        });
        (l, c)
    };
    let s = TcpStream::connect(&a).unwrap();
    s.write_all(b"hello").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut r = [0u8; 3];
    s.read_exact(&mut r).unwrap();
    let mut z = [0u8; 1];
    println!("halfclose.server_read={}", server.1.recv().unwrap());
    println!("halfclose.reply={}", core::str::from_utf8(&r).unwrap());
    println!("halfclose.eof={}", s.read(&mut z).unwrap());
    // Close from another goroutine unblocks a blocked reader and a blocked writer.
    let (l, _) = server;
    let ls = l.clone();
    gort::go(move || {
        // Accept and never read: the client's writes fill the buffers.
        let (keep, _) = ls.accept().unwrap();
        sleep(Duration::from_millis(2000));
        drop(keep);
    });
    let s = Arc::new(TcpStream::connect(&a).unwrap());
    let results = chan::<alloc::string::String>(2);
    for which in ["read", "write"] {
        let (s, results) = (s.clone(), results.clone());
        gort::go(move || {
            let r = if which == "read" {
                let mut b = [0u8; 16];
                s.read(&mut b).map(|_| ())
            } else {
                let big = vec![7u8; 1 << 20];
                let mut r = Ok(());
                for _ in 0..64 {
                    r = s.write_all(&big);
                    if r.is_err() {
                        break;
                    }
                }
                r
            };
            results.send(format!(
                "{which}:{}",
                r.err().map(|e| format!("{e}")).unwrap_or_default()
            ));
        });
    }
    sleep(Duration::from_millis(100));
    s.close().unwrap();
    let mut got: Vec<alloc::string::String> =
        vec![results.recv().unwrap(), results.recv().unwrap()];
    got.sort();
    println!("close.{}", got[0]);
    println!("close.{}", got[1]);
    let mut b = [0u8; 4];
    println!(
        "close.after={}",
        s.read(&mut b)
            .err()
            .map(|e| format!("{e}"))
            .unwrap_or_default()
    );
    close_releases();
    several_addrs();
    // 16 MiB through a slow reader arrives whole.
    let l2 = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let a2 = l2.local_addr().unwrap();
    let sum = chan::<(usize, u64)>(1);
    {
        let (l2, sum) = (l2.clone(), sum.clone());
        gort::go(move || {
            let (s, _) = l2.accept().unwrap();
            let (mut n, mut h) = (0usize, 0u64);
            let mut buf = [0u8; 4096];
            loop {
                let k = s.read(&mut buf).unwrap();
                if k == 0 {
                    break;
                }
                for &b in &buf[..k] {
                    h = h.wrapping_mul(1099511628211).wrapping_add(b as u64);
                }
                n += k;
                if n % (1 << 20) < 4096 {
                    sleep(Duration::from_millis(5));
                }
            }
            sum.send((n, h));
        });
    }
    let s = TcpStream::connect(&a2).unwrap();
    let data: Vec<u8> = (0..16usize << 20)
        .map(|i| (i * 13 + i / 4096) as u8)
        .collect();
    let mut want = 0u64;
    for &b in &data {
        want = want.wrapping_mul(1099511628211).wrapping_add(b as u64);
    }
    s.write_all(&data).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let (n, h) = sum.recv().unwrap();
    println!("slow.bytes={n}");
    println!("slow.intact={}", h == want);
    let _ = ErrorKind::Other;
}

fn idle(ms: u64) {
    let l = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let l2 = l.clone();
    let c0 = cpu_ms();
    gort::go(move || {
        let _ = l2.accept();
    });
    sleep(Duration::from_millis(ms));
    println!("idle.cpu_ms={}", cpu_ms() - c0);
    println!("idle.threads={}", threads());
    // A connection ends the wait in accept.
    let _c = TcpStream::connect(&l.local_addr().unwrap()).unwrap();
    l.close().unwrap();
}

/// One byte at a time, each from a new goroutine that exits right after its
/// write, so the M that ran it looks for work while the reader's fd turns ready.
fn handoff(ms: u64) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(&l.local_addr().unwrap()).unwrap();
    let s = Arc::new(l.accept().unwrap().0);
    let start = Instant::now();
    let mut rounds = 0u64;
    let mut b = [0u8; 1];
    while start.elapsed() < Duration::from_millis(ms) {
        let s = s.clone();
        gort::go(move || {
            s.write_all(&[1]).unwrap();
        });
        c.read_exact(&mut b).unwrap();
        rounds += 1;
    }
    println!("handoff.rounds={rounds}");
}

fn udp() {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    let b = Arc::new(b);
    let b2 = b.clone();
    let got = chan::<u64>(1);
    let g2 = got.clone();
    gort::go(move || {
        let mut sum = 0u64;
        let mut buf = [0u8; 64];
        for _ in 0..100 {
            let (n, from) = b2.recv_from(&mut buf).unwrap();
            if from == aa && n == 8 {
                sum += u64::from_le_bytes(buf[..8].try_into().unwrap());
            }
        }
        g2.send(sum);
    });
    for i in 0..100u64 {
        a.send_to(&i.to_le_bytes(), &ba).unwrap();
        if i % 10 == 0 {
            gort::gosched();
        }
    }
    println!("udp.sum={}", got.recv().unwrap());
    a.connect(&ba).unwrap();
    b.connect(&aa).unwrap();
    b.send(b"pong").unwrap();
    let mut buf = [0u8; 8];
    let n = a.recv(&mut buf).unwrap();
    println!("udp.connected={}", core::str::from_utf8(&buf[..n]).unwrap());
}

/// See the file head.
fn udp_empty() {
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    let v = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (ua, va) = (u.local_addr().unwrap(), v.local_addr().unwrap());
    u.connect(&va).unwrap();
    u.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    // Nothing queued: it waits, here until its timeout.
    let r = u.recv(&mut []).map_err(|e| e.kind());
    println!("udp_empty.nothing_queued={r:?}");
    for m in ["one", "two", "three", "four"] {
        v.send_to(m.as_bytes(), &ua).unwrap();
    }
    let mut b = [0u8; 16];
    let mut next = |u: &UdpSocket| {
        let n = u.recv(&mut b).unwrap();
        alloc::string::String::from(core::str::from_utf8(&b[..n]).unwrap_or("?"))
    };
    println!("udp_empty.peek={:?}", u.peek(&mut []).map_err(|e| e.kind()));
    println!("udp_empty.recv={:?}", u.recv(&mut []).map_err(|e| e.kind()));
    println!("udp_empty.then={}", next(&u));
    let r = u.recv_from(&mut []).map(|(n, from)| (n, from == va));
    println!("udp_empty.recv_from={:?}", r.map_err(|e| e.kind()));
    let r = u.peek_from(&mut []).map(|(n, from)| (n, from == va));
    println!("udp_empty.peek_from={:?}", r.map_err(|e| e.kind()));
    println!("udp_empty.last={}", next(&u));
    let r = u.recv(&mut []).map_err(|e| e.kind());
    println!("udp_empty.none_left={r:?}");
}

fn std_api() {
    // incoming(), and each connection echoed by reading a clone while the
    // original writes.
    let l = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let addr = l.local_addr().unwrap();
    let l2 = l.clone();
    gort::go(move || {
        for s in l2.incoming().take(3) {
            let s = s.unwrap();
            gort::go(move || {
                let r = s.try_clone().unwrap();
                let mut buf = [0u8; 256];
                loop {
                    match r.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => s.write_all(&buf[..n]).unwrap(),
                    }
                }
            });
        }
    });
    let mut echoed = 0;
    for i in 0..3u8 {
        let c = TcpStream::connect(&addr).unwrap();
        c.write_all(&[i; 100]).unwrap();
        let mut got = [0u8; 100];
        c.read_exact(&mut got).unwrap();
        echoed += (got == [i; 100]) as u32;
    }
    println!("std.incoming_echoed={echoed}");

    // peek leaves the data for the next read; a clone closed leaves the original
    // working; socket options.
    let l3 = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(&l3.local_addr().unwrap()).unwrap();
    let (s, _) = l3.accept().unwrap();
    c.write_all(b"hello").unwrap();
    let mut buf = [0u8; 16];
    let n = s.peek(&mut buf).unwrap();
    let peeked: alloc::string::String = core::str::from_utf8(&buf[..n]).unwrap_or("?").into();
    let n = s.read(&mut buf).unwrap();
    let read: alloc::string::String = core::str::from_utf8(&buf[..n]).unwrap_or("?").into();
    println!("std.peek={peeked}");
    println!("std.read_after_peek={read}");
    let clone = s.try_clone().unwrap();
    // Timeouts are the socket's, as std's: one set on the original after the
    // clone was made bounds the clone's reads.
    s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let t0 = Instant::now();
    let timed_out = clone.read(&mut buf).map_err(|e| e.kind());
    println!("std.clone_read_timeout={:?}", clone.read_timeout().unwrap());
    println!(
        "std.clone_read={timed_out:?} after_20ms={}",
        t0.elapsed() >= Duration::from_millis(20)
    );
    // Once the timeout is gone (removed through the original), the clone's next
    // read waits for data again, however long it takes.
    s.set_read_timeout(None).unwrap();
    let c2 = c.try_clone().unwrap();
    gort::go(move || {
        sleep(Duration::from_millis(50));
        c2.write_all(b"late").unwrap();
    });
    let late = clone.read(&mut buf).map(|n| buf[..n].to_vec());
    println!(
        "std.clone_read_after_timeout_removed={:?}",
        late.as_deref()
            .map(|b| core::str::from_utf8(b).unwrap_or("?"))
    );
    clone.close().unwrap();
    s.write_all(b"still").unwrap();
    let n = c.read(&mut buf).unwrap();
    println!(
        "std.original_after_clone_closed={}",
        core::str::from_utf8(&buf[..n]).unwrap_or("?")
    );
    println!(
        "std.take_error={:?}",
        s.take_error().unwrap().map(|e| e.kind())
    );
    println!("std.nodelay={}", s.nodelay().unwrap());
    s.set_nodelay(false).unwrap();
    s.set_ttl(42).unwrap();
    println!("std.nodelay_after={}", s.nodelay().unwrap());
    println!("std.ttl={}", s.ttl().unwrap());

    // UDP: peer_addr, peek_from, broadcast, and a refused send's pending error.
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let before = a.peer_addr().map_err(|e| e.kind());
    a.connect(&b.local_addr().unwrap()).unwrap();
    println!("std.udp_peer_before={before:?}");
    let is_b = a.peer_addr().unwrap() == b.local_addr().unwrap();
    println!("std.udp_peer_is_b={is_b}");
    a.send(b"dgram").unwrap();
    let (n, from) = b.peek_from(&mut buf).unwrap();
    let peeked: alloc::string::String = core::str::from_utf8(&buf[..n]).unwrap_or("?").into();
    let (m, _) = b.recv_from(&mut buf).unwrap();
    println!("std.udp_peek={peeked}");
    println!("std.udp_peek_from_a={}", from == a.local_addr().unwrap());
    println!("std.udp_recv_after_peek={m}");
    let was = b.broadcast().unwrap();
    b.set_broadcast(true).unwrap();
    println!("std.broadcast={was},{}", b.broadcast().unwrap());
    let gone = UdpSocket::bind("127.0.0.1:0").unwrap();
    let gone_addr = gone.local_addr().unwrap();
    drop(gone);
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.connect(&gone_addr).unwrap();
    // The ICMP port-unreachable comes back within the send on loopback, unless
    // the kernel's global ICMP rate limit drops it: then send again (a send that
    // finds the error pending reports it itself, and clears it: send again too).
    let mut pending = None;
    for _ in 0..50 {
        if u.send(b"x").is_err() {
            continue;
        }
        for _ in 0..5 {
            pending = u.take_error().unwrap();
            if pending.is_some() {
                break;
            }
            sleep(Duration::from_millis(1));
        }
        if pending.is_some() {
            break;
        }
    }
    println!("std.udp_pending={:?}", pending.map(|e| e.kind()));
    let after = u.take_error().unwrap().map(|e| e.kind());
    println!("std.udp_pending_after={after:?}");

    // A Unix listener's incoming.
    let path = format!("/tmp/gort-std-api-{}.sock", gort::os::getpid());
    let ul = Arc::new(UnixListener::bind(&path).unwrap());
    let ul2 = ul.clone();
    let done = chan::<u64>(1);
    let d2 = done.clone();
    gort::go(move || {
        let mut n = 0;
        for s in ul2.incoming().take(2) {
            let s = s.unwrap();
            let mut b = [0u8; 4];
            s.read_exact(&mut b).unwrap();
            n += (&b == b"unix") as u64;
        }
        d2.send(n);
    });
    for _ in 0..2 {
        let c = UnixStream::connect(&path).unwrap();
        c.write_all(b"unix").unwrap();
    }
    println!("std.unix_incoming={}", done.recv().unwrap());
    // close (not drop: the accept goroutine may still hold its Arc) removes the
    // socket file.
    ul.close().unwrap();

    // incoming ends once the listener is closed from another goroutine.
    let l = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let l2 = l.clone();
    let ended = chan::<u64>(1);
    let e2 = ended.clone();
    gort::go(move || e2.send(l2.incoming().count() as u64));
    sleep(Duration::from_millis(5));
    l.close().unwrap();
    println!("std.incoming_after_close={}", ended.recv().unwrap());
    println!("std.debug_after_close={l:?}");
}

fn unix(path: &str) {
    let l = Arc::new(UnixListener::bind(path).unwrap());
    let l2 = l.clone();
    gort::go(move || {
        let (s, peer) = l2.accept().unwrap();
        println!("unix.peer_unnamed={}", peer.is_unnamed());
        let mut buf = [0u8; 1024];
        loop {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            s.write_all(&buf[..n]).unwrap();
        }
    });
    let s = UnixStream::connect(path).unwrap();
    let msg: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    let s = Arc::new(s);
    let w = s.clone();
    let m2 = msg.clone();
    gort::go(move || {
        w.write_all(&m2).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    println!("unix.intact={}", got == msg);
    // Both ends' addresses are unnamed (2 bytes): Debug must not fail on them.
    println!("unix.debug={}", format!("{s:?}").starts_with("UnixStream"));
    // Closing the listener removes its socket file (Go's), so the path can be
    // bound again; so does dropping one.
    println!("unix.file_while_open={}", gort::fs::exists(path).unwrap());
    println!("unix.listener_addr={}", l.local_addr().unwrap());
    l.close().unwrap();
    println!("unix.file_after_close={}", gort::fs::exists(path).unwrap());
    let again = UnixListener::bind(path);
    println!("unix.rebind={}", again.is_ok());
    drop(again);
    println!("unix.file_after_drop={}", gort::fs::exists(path).unwrap());
}

/// See the file head.
fn unix_abstract(name: &str, peer: &str) {
    let at = format!("@{name}");
    let l = UnixListener::bind(&at).unwrap();
    println!("abstract.file_made={}", gort::fs::exists(&at).unwrap());
    let la = l.local_addr().unwrap();
    println!("abstract.listener_addr={la}");
    println!("abstract.listener_addr_debug={la:?}");
    let c = UnixStream::connect(&at).unwrap();
    let (s, _) = l.accept().unwrap();
    c.write_all(b"ping").unwrap();
    let mut b = [0u8; 4];
    s.read_exact(&mut b).unwrap();
    println!("abstract.round_trip={}", &b == b"ping");
    println!("abstract.client_peer={}", c.peer_addr().unwrap());
    let unnamed = c.local_addr().unwrap();
    println!("abstract.client_local={unnamed:?} {}", unnamed.is_unnamed());
    println!("abstract.server_local={}", s.local_addr().unwrap());
    println!(
        "abstract.debug_names_it={}",
        format!("{l:?}").contains(&format!("\"{name}\" (abstract)"))
    );
    // Closed, the name is free: nobody listens, and it can be bound again.
    l.close().unwrap();
    let r = UnixStream::connect(&at).map(drop).map_err(|e| e.kind());
    println!("abstract.connect_after_close={r:?}");
    println!("abstract.rebind={}", UnixListener::bind(&at).is_ok());
    // Another program's abstract listener (the test's).
    let r = UnixStream::connect(&format!("@{peer}")).and_then(|p| p.write_all(b"from gort"));
    println!("abstract.peer={:?}", r.map_err(|e| e.kind()));
}

/// A blocking TCP socket of our own (raw system calls, outside gort::net)
/// connected to 127.0.0.1:port; its fd.
fn raw_connect(port: u16) -> usize {
    use syscalls::{syscall, Sysno};
    // SAFETY: plain socket system calls on memory we own; the fd is ours.
    unsafe {
        let fd = syscall!(Sysno::socket, 2, 1 | 0o2000000, 0).unwrap();
        let mut sa = [0u8; 16];
        sa[0] = 2;
        sa[2..4].copy_from_slice(&port.to_be_bytes());
        sa[4..8].copy_from_slice(&[127, 0, 0, 1]);
        syscall!(Sysno::connect, fd, sa.as_ptr(), 16).unwrap();
        fd
    }
}

/// See the file head.
fn reset_accept() {
    use syscalls::{syscall, Sysno};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let fd = raw_connect(port);
    // SAFETY: plain socket system calls on memory we own; the fd is ours.
    let client_port = unsafe {
        let mut me = [0u8; 16];
        let mut len = 16u32;
        syscall!(
            Sysno::getsockname,
            fd,
            me.as_mut_ptr(),
            &mut len as *mut u32
        )
        .unwrap();
        // SO_LINGER {on, 0 s}: close sends a reset.
        let linger = [1i32, 0i32];
        syscall!(Sysno::setsockopt, fd, 1, 13, linger.as_ptr(), 8).unwrap();
        syscall!(Sysno::close, fd).unwrap();
        u16::from_be_bytes([me[2], me[3]])
    };
    sleep(Duration::from_millis(20));
    match l.accept() {
        Ok((_s, peer)) => {
            println!("reset_accept.ok=true");
            println!(
                "reset_accept.peer_port_matches={}",
                peer.port() == client_port
            );
        }
        Err(e) => println!("reset_accept.ok=false ({e})"),
    }
    // The listener still serves a normal client.
    let c = TcpStream::connect(&l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    c.write_all(b"hi").unwrap();
    let mut b = [0u8; 2];
    s.read_exact(&mut b).unwrap();
    println!("reset_accept.then_serves={}", &b == b"hi");
}

fn cpu_ms() -> u64 {
    let mut ts = [0u64; 2];
    // SAFETY: the kernel writes one timespec into ts (CLOCK_PROCESS_CPUTIME_ID).
    unsafe { syscalls::syscall!(syscalls::Sysno::clock_gettime, 2, ts.as_mut_ptr()).unwrap() };
    ts[0] * 1000 + ts[1] / 1_000_000
}

fn threads() -> u64 {
    let mut buf = [0u8; 4096];
    // SAFETY: open/read/close on a NUL-terminated path and a buffer we own.
    let n = unsafe {
        let fd =
            syscalls::syscall!(syscalls::Sysno::open, c"/proc/self/status".as_ptr(), 0).unwrap();
        let n =
            syscalls::syscall!(syscalls::Sysno::read, fd, buf.as_mut_ptr(), buf.len()).unwrap_or(0);
        let _ = syscalls::syscall!(syscalls::Sysno::close, fd);
        n
    };
    let s = core::str::from_utf8(&buf[..n]).unwrap_or("");
    s.lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn short_read_at_urgent_data() {
    use syscalls::{syscall, Sysno};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    // A client socket of our own, to send an urgent byte (MSG_OOB).
    let fd = raw_connect(port);
    let (s, _) = l.accept().unwrap();
    let done = chan::chan(1);
    let d = done.clone();
    gort::go(move || {
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        let r = loop {
            match s.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if got.len() >= 6 {
                        break Ok(());
                    }
                }
                Err(e) => break Err(e),
            }
        };
        d.send((got, r));
    });
    // Let the reader park in read, then send all three pieces before anything
    // polls (with GOMAXPROCS=1 nothing else runs meanwhile): the poller reports
    // them as one event.
    sleep(Duration::from_millis(20));
    // SAFETY: sends from buffers we own on our socket.
    unsafe {
        for (piece, flags) in [(&b"abc"[..], 0), (&b"X"[..], 1), (&b"def"[..], 0)] {
            syscall!(Sysno::sendto, fd, piece.as_ptr(), piece.len(), flags, 0, 0).unwrap();
        }
    }
    let (got, r) = done.recv().unwrap();
    match r {
        Ok(()) => println!(
            "short_reads.urgent={}",
            core::str::from_utf8(&got).unwrap_or("?")
        ),
        Err(e) => println!(
            "short_reads.urgent={} ({e})",
            core::str::from_utf8(&got).unwrap_or("?")
        ),
    }
    // SAFETY: our socket, closed once.
    unsafe { syscall!(Sysno::close, fd).unwrap() };
}

fn peek_after_short_read() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(&l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 64];
    c.write_all(b"abc").unwrap();
    let n = s.read(&mut buf).unwrap(); // short: 3 of 64
    assert_eq!(&buf[..n], b"abc");
    gort::go(move || {
        sleep(Duration::from_millis(20));
        c.write_all(b"def").unwrap();
        sleep(Duration::from_secs(3)); // keep the connection open
    });
    // The peek waits for `def` (the poller's wake-up is used up by it).
    let peeked = match s.peek(&mut buf) {
        Ok(n) => alloc::string::String::from_utf8_lossy(&buf[..n]).into_owned(),
        Err(e) => format!("({e})"),
    };
    let read = match s.read(&mut buf) {
        Ok(n) => alloc::string::String::from_utf8_lossy(&buf[..n]).into_owned(),
        Err(e) => format!("({e})"),
    };
    println!("short_reads.peek={peeked} {read}");
}
