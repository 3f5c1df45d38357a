//! gort::net over the network poller (examples/echo.rs): many concurrent connections
//! with every byte checked, from goroutines in the same process and from this test
//! as an external client; errors as std names them; close, half-close and slow
//! readers; an idle server uses no CPU and is not a deadlock, nor is a reader that
//! sysmon polled while the last M went idle; UDP and Unix sockets.
//! Natively and under qemu-x86_64, with GOMAXPROCS=1 and the default.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::time::Duration;

/// Start `echo serve` on 127.0.0.1:0 in mode (GOMAXPROCS=procs, RLIMIT_NOFILE=nofile
/// when given) and read its address from its first line.
fn start_server(
    mode: Mode,
    procs: Option<&str>,
    nofile: Option<u64>,
) -> (std::process::Child, String) {
    start_example(
        command(mode, "echo", &["serve", "127.0.0.1:0"]),
        procs,
        nofile,
    )
}

/// Start a server example's cmd (as start_server) and read its address.
fn start_example(
    mut cmd: std::process::Command,
    procs: Option<&str>,
    nofile: Option<u64>,
) -> (std::process::Child, String) {
    if let Some(p) = procs {
        cmd.env("GOMAXPROCS", p);
    }
    if let Some(n) = nofile {
        rlimit(&mut cmd, RLIMIT_NOFILE, n);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening=").unwrap().to_string();
    (child, addr)
}

/// Kill the server and return what it wrote to stderr.
fn stop_server(mut child: std::process::Child) -> String {
    child.kill().unwrap();
    child.wait().unwrap();
    stderr_text(&mut child)
}

/// Everything a reader sends until it closes (a 10 s limit per read).
fn read_all(s: &mut std::net::TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.read_to_end(&mut v).unwrap();
    v
}

/// examples/httpd as an HTTP/1.1 client sees it: keep-alive and pipelined
/// requests, `Connection: close`, a request with a body (501) and a head over
/// 8 KiB (431), each answered exactly; out of descriptors (RLIMIT_NOFILE 64, 80
/// connections held), it logs accept errors with Go's net/http backoff (5 ms
/// doubling to 1 s: a few lines, not one every 5 ms as before) and serves again
/// once the connections are gone.
#[test]
fn httpd_answers_http_1_1_and_serves_again_after_running_out_of_fds() {
    use std::net::TcpStream;
    let req = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    let ok: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n";
    for &mode in modes() {
        let (child, addr) = start_example(command(mode, "httpd", &["127.0.0.1:0"]), None, Some(64));
        let get = |s: &mut TcpStream, n: usize| {
            let mut b = vec![0u8; n * ok.len()];
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s.read_exact(&mut b).unwrap();
            b
        };
        let mut s = TcpStream::connect(&addr).unwrap();
        for _ in 0..3 {
            s.write_all(req).unwrap();
            assert_eq!(get(&mut s, 1), ok, "{mode:?}: keep-alive");
        }
        s.write_all(&req.repeat(5)).unwrap();
        assert_eq!(get(&mut s, 5), ok.repeat(5), "{mode:?}: pipelined");
        s.write_all(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        let r = read_all(&mut s);
        assert!(
            r.starts_with(b"HTTP/1.1 200 OK\r\n")
                && r.windows(17).any(|w| w == b"Connection: close")
                && r.ends_with(b"hello, world\n"),
            "{mode:?}: {}",
            String::from_utf8_lossy(&r)
        );
        let mut s = TcpStream::connect(&addr).unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
            .unwrap();
        assert!(read_all(&mut s).starts_with(b"HTTP/1.1 501 "), "{mode:?}");
        let mut s = TcpStream::connect(&addr).unwrap();
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.resize(9000, b'a');
        s.write_all(&big).unwrap();
        assert!(read_all(&mut s).starts_with(b"HTTP/1.1 431 "), "{mode:?}");
        // Out of descriptors for a while, then back.
        let held: Vec<TcpStream> = (0..80)
            .map(|_| TcpStream::connect(&addr).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(400));
        drop(held);
        let mut s = TcpStream::connect(&addr).unwrap();
        s.write_all(req).unwrap();
        assert_eq!(get(&mut s, 1), ok, "{mode:?}: after running out of fds");
        drop(s);
        let err = stop_server(child);
        let logs = err
            .lines()
            .filter(|l| l.starts_with("httpd: accept error: "))
            .count();
        assert!(
            err.contains(
                "httpd: accept error: Too many open files (os error 24); retrying in 5ms\n"
            ) && (1..=12).contains(&logs),
            "{mode:?}: {logs} accept errors logged: {err}"
        );
    }
}

#[test]
fn a_thousand_connections_echo_every_byte() {
    each("echo", &["self", "1000", "20000"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        assert_eq!(r.get("self.ok"), "1000", "{ctx}: {}", r.stdout);
        assert_eq!(r.get("self.bytes"), "20000000", "{ctx}");
        assert_eq!(r.get("self.accept_errors"), "0", "{ctx}");
        // GOMAXPROCS Ms, sysmon, the poller, the scavenger (started once the heap
        // has pages to give back, which depends on timing); qemu adds threads of
        // its own.
        let procs_n = procs.map(|p| p.parse().unwrap()).unwrap_or(host_ncpu());
        let slack = if mode == Mode::Qemu { 5 } else { 4 };
        assert!(
            r.num("self.threads") <= procs_n + slack,
            "{ctx}: a thread per connection? {}",
            r.stdout
        );
    });
}

#[test]
fn errors_close_half_close_and_slow_readers() {
    for &mode in modes() {
        let r = run(mode, "echo", &["errors"]);
        r.assert_exit(0);
        assert_eq!(r.get("refused.kind"), "ConnectionRefused", "{mode:?}");
        assert_eq!(r.get("refused.msg"), "Connection refused (os error 111)");
        assert_eq!(r.get("inuse.kind"), "AddrInUse");
        for bad in ["127.0.0.1", "example.com:80", "1.2.3.4:99999", "[::1:80"] {
            assert_eq!(r.get(&format!("malformed.{bad}")), "InvalidInput", "{bad}");
        }
        assert_eq!(r.get("halfclose.server_read"), "5");
        assert_eq!(r.get("halfclose.reply"), "bye");
        assert_eq!(r.get("halfclose.eof"), "0");
        assert!(r
            .stdout
            .contains("close.read:use of closed network connection\n"));
        assert!(r
            .stdout
            .contains("close.write:use of closed network connection\n"));
        assert_eq!(r.get("close.after"), "use of closed network connection");
        // close releases the descriptors (listener and accepted stream) before it
        // returns, while the objects live on, even with a goroutine parked on one
        // (it has not run yet at one P).
        let closed = "use of closed network connection";
        assert_eq!(r.get("closerel.accept"), closed, "{mode:?}");
        assert_eq!(r.get("closerel.fds_freed"), "1+1", "{mode:?}");
        assert_eq!(r.get("closerel.rebind"), "true", "{mode:?}");
        assert_eq!(r.get("closerel.peer_read"), "0", "{mode:?}");
        assert_eq!(r.get("closerel.addr"), closed);
        assert_eq!(r.get("closerel.udp_rebind"), "true", "{mode:?}");
        assert_eq!(r.get("closerel.udp_recv_failed"), "true", "{mode:?}");
        assert_eq!(r.get("closerel.udp_again"), closed);
        // Several addresses: each is tried in turn.
        assert_eq!(r.get("several.connect_second"), "true", "{mode:?}");
        assert_eq!(r.get("several.all_refused"), "ConnectionRefused");
        assert_eq!(
            r.get("several.none"),
            "InvalidInput no socket address given"
        );
        assert_eq!(r.get("several.bind_second"), "true", "{mode:?}");
        assert_eq!(r.get("slow.bytes"), "16777216", "{mode:?}");
        assert_eq!(r.get("slow.intact"), "true", "{mode:?}");
    }
}

#[test]
fn a_server_idle_in_accept_uses_no_cpu_and_is_not_a_deadlock() {
    for &mode in modes() {
        for procs in PROCS {
            let r = run_procs(mode, "echo", &["idle", "300"], procs);
            r.assert_exit(0);
            let limit = if mode == Mode::Qemu { 60 } else { 20 };
            assert!(
                r.num("idle.cpu_ms") < limit,
                "{mode:?} {procs:?}: an idle server burned CPU: {}",
                r.stdout
            );
        }
    }
}

/// The only M goes idle just as a reader's byte arrives, over and over: sysmon's
/// network poll, when it takes the reader, must count as a running M until the
/// reader is queued and an M woken, or checkdead reports a deadlock (without that,
/// about two runs in five failed natively and under qemu).
#[test]
fn a_goroutine_sysmon_polled_is_no_deadlock() {
    for &mode in modes() {
        let r = run_procs(mode, "echo", &["handoff", "2000"], Some("1"));
        r.assert_exit(0);
        assert!(r.num("handoff.rounds") > 0, "{mode:?}: {}", r.stdout);
    }
}

#[test]
fn udp_and_unix_sockets_round_trip() {
    for &mode in modes() {
        let r = run(mode, "echo", &["udp"]);
        r.assert_exit(0);
        assert_eq!(r.get("udp.sum"), "4950", "{mode:?}");
        assert_eq!(r.get("udp.connected"), "pong", "{mode:?}");
        let path =
            std::env::temp_dir().join(format!("gort-unix-{}-{mode:?}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let r = run(mode, "echo", &["unix", path.to_str().unwrap()]);
        let _ = std::fs::remove_file(&path);
        r.assert_exit(0);
        assert_eq!(r.get("unix.intact"), "true", "{mode:?}");
        // accept gives the peer's address, as std's: the client did not bind.
        assert_eq!(r.get("unix.peer_unnamed"), "true", "{mode:?}");
        assert_eq!(r.get("unix.debug"), "true", "{mode:?}");
        assert_eq!(r.get("unix.file_while_open"), "true", "{mode:?}");
        assert_eq!(r.get("unix.listener_addr"), path.to_str().unwrap());
        assert_eq!(r.get("unix.file_after_close"), "false", "{mode:?}");
        assert_eq!(r.get("unix.rebind"), "true", "{mode:?}");
        assert_eq!(r.get("unix.file_after_drop"), "false", "{mode:?}");
    }
}

/// A UDP receive into an empty buffer waits for a datagram, as std's: `recv`
/// and `recv_from` take it (the next receive gets the one after), `peek` and
/// `peek_from` leave it. (`recv` returned 0 at once, taking nothing: a stream's
/// empty read.)
#[test]
fn udp_receives_into_an_empty_buffer_wait_for_a_datagram() {
    each("echo", &["udp-empty"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        for (k, v) in [
            ("udp_empty.nothing_queued", "Err(TimedOut)"),
            ("udp_empty.peek", "Ok(0)"),
            ("udp_empty.recv", "Ok(0)"),
            ("udp_empty.then", "two"),
            ("udp_empty.recv_from", "Ok((0, true))"),
            ("udp_empty.peek_from", "Ok((0, true))"),
            ("udp_empty.last", "four"),
            ("udp_empty.none_left", "Err(TimedOut)"),
        ] {
            assert_eq!(r.get(k), v, "{ctx}: {k}\n{}", r.stdout);
        }
    });
}

/// A Unix socket path that starts with '@' names a socket in Linux's abstract
/// namespace, as in Go: no file is made (it used to be, at ./@name), the name
/// reaches another program's abstract listener (it could not), addresses print
/// as Go's (`@name`), and the name is free once the listener is closed.
#[test]
fn unix_sockets_at_abstract_names() {
    use std::os::linux::net::SocketAddrExt;
    for &mode in modes() {
        let dir =
            std::env::temp_dir().join(format!("gort-abstract-{}-{mode:?}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let name = format!("gort-test-{}-{mode:?}", std::process::id());
        let peer = format!("{name}-peer");
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(&peer).unwrap();
        let l = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
        let mut cmd = command(mode, "echo", &["unix-abstract", &name, &peer]);
        cmd.current_dir(&dir);
        let r = run_cmd(cmd, Duration::from_secs(60));
        let stray: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        let _ = std::fs::remove_dir_all(&dir);
        r.assert_exit(0);
        let at = format!("@{name}");
        for (k, v) in [
            ("abstract.file_made", "false"),
            ("abstract.listener_addr", at.as_str()),
            ("abstract.round_trip", "true"),
            ("abstract.client_peer", at.as_str()),
            ("abstract.client_local", "(unnamed) true"),
            ("abstract.server_local", at.as_str()),
            ("abstract.debug_names_it", "true"),
            ("abstract.connect_after_close", "Err(ConnectionRefused)"),
            ("abstract.rebind", "true"),
            ("abstract.peer", "Ok(())"),
        ] {
            assert_eq!(r.get(k), v, "{mode:?}: {k}\n{}", r.stdout);
        }
        assert_eq!(
            r.get("abstract.listener_addr_debug"),
            format!("\"{name}\" (abstract)")
        );
        assert!(stray.is_empty(), "{mode:?}: files made: {stray:?}");
        // What the program sent reached the test's listener (queued: accept now).
        l.set_nonblocking(true).unwrap();
        let (mut s, _) = l.accept().unwrap();
        s.set_nonblocking(false).unwrap();
        let mut got = String::new();
        s.read_to_string(&mut got).unwrap();
        assert_eq!(got, "from gort", "{mode:?}");
    }
}

/// close releases the descriptor once the operations using it have left (a
/// reference count, Go's fdMutex): a reader and a writer racing a close from a
/// third goroutine end with data or "use of closed network connection" (never end
/// of file, a bad descriptor or a crash), and no descriptor leaks.
#[test]
fn a_close_racing_reads_and_writes_fails_them_cleanly_and_leaks_nothing() {
    each("echo", &["close-race", "2000"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        assert_eq!(r.get("close_race.rounds"), "2000", "{ctx}");
        assert_eq!(r.get("close_race.bad"), "0", "{ctx}: {}", r.stdout);
        assert_eq!(r.get("close_race.fds_leaked"), "0", "{ctx}");
    });
}

/// std's names beyond the basics behave as std's: `incoming` yields each
/// connection; a `try_clone` reads while the original writes, and closing it leaves
/// the original working; `peek` leaves the data for the next read (TCP and UDP);
/// `take_error` returns a refused UDP send's pending error once; `nodelay`, `ttl`,
/// `broadcast` and UDP's `peer_addr` read back what was set; a Unix listener's
/// `incoming` too. A timeout set on a stream bounds its clone's reads (std keeps
/// timeouts in the socket), and `incoming` ends when its listener is closed from
/// another goroutine (a std-style loop would otherwise spin on the error). Debug
/// of a closed socket says so rather than print a descriptor number that may have
/// been reused.
#[test]
fn std_socket_names_behave_as_std() {
    each("echo", &["std-api"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        for (k, v) in [
            ("std.incoming_echoed", "3"),
            ("std.peek", "hello"),
            ("std.read_after_peek", "hello"),
            ("std.original_after_clone_closed", "still"),
            ("std.take_error", "None"),
            ("std.nodelay", "true"),
            ("std.nodelay_after", "false"),
            ("std.ttl", "42"),
            ("std.udp_peer_before", "Err(NotConnected)"),
            ("std.udp_peer_is_b", "true"),
            ("std.udp_peek", "dgram"),
            ("std.udp_peek_from_a", "true"),
            ("std.udp_recv_after_peek", "5"),
            ("std.broadcast", "false,true"),
            ("std.udp_pending", "Some(ConnectionRefused)"),
            ("std.udp_pending_after", "None"),
            ("std.unix_incoming", "2"),
            ("std.clone_read_timeout", "Some(20ms)"),
            ("std.clone_read", "Err(TimedOut) after_20ms=true"),
            ("std.clone_read_after_timeout_removed", "Ok(\"late\")"),
            ("std.incoming_after_close", "0"),
            ("std.debug_after_close", "TcpListener { closed: true }"),
        ] {
            assert_eq!(r.get(k), v, "{ctx}: {k}");
        }
    });
}

/// A client that connects and resets before the server accepts (a health check,
/// a port scan): accept returns the connection with the peer's address from
/// accept itself, as Go's does (getpeername says ENOTCONN by then, and accept
/// used to fail with NotConnected, ending a `loop { l.accept()?; }` server).
#[test]
fn accept_returns_a_connection_its_client_already_reset() {
    each("echo", &["reset-accept"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        assert_eq!(r.get("reset_accept.ok"), "true", "{ctx}: {}", r.stdout);
        assert_eq!(r.get("reset_accept.peer_port_matches"), "true", "{ctx}");
        assert_eq!(r.get("reset_accept.then_serves"), "true", "{ctx}");
    });
}

/// After a short read, a TCP read parks at once for the next edge (NetFd::read);
/// what a short read can leave behind must still be read. A reader parked in
/// read gets `abc`, an urgent byte and `def` in one event: its first read stops
/// at the urgent mark, short with data behind it (times out with `abc` when the
/// poller's EPOLLPRI mark is ignored, at GOMAXPROCS=1). A peek that waited for
/// `def` after a short read leaves it for the next read (times out when peek does
/// not forget the short read). End of stream after a short read: every test
/// whose client half-closes (an_external_client_gets_every_byte_back).
#[test]
fn reads_after_a_short_read_see_what_is_left() {
    each("echo", &["short-reads"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        assert_eq!(r.get("short_reads.urgent"), "abcdef", "{ctx}");
        assert_eq!(r.get("short_reads.peek"), "def def", "{ctx}");
    });
}

#[test]
fn an_external_client_gets_every_byte_back() {
    for &mode in modes() {
        for procs in PROCS {
            let (child, addr) = start_server(mode, procs, None);
            let clients: Vec<_> = (0..50u32)
                .map(|c| {
                    let addr = addr.clone();
                    std::thread::spawn(move || {
                        let mut s = std::net::TcpStream::connect(&addr).unwrap();
                        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                        let data: Vec<u8> = (0..200_000u32)
                            .map(|i| (i.wrapping_mul(7) ^ c) as u8)
                            .collect();
                        let mut w = s.try_clone().unwrap();
                        let d2 = data.clone();
                        let writer = std::thread::spawn(move || {
                            w.write_all(&d2).unwrap();
                            w.shutdown(std::net::Shutdown::Write).unwrap();
                        });
                        let mut got = Vec::new();
                        s.read_to_end(&mut got).unwrap();
                        writer.join().unwrap();
                        got == data
                    })
                })
                .collect();
            let ok = clients
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|&b| b)
                .count();
            let err = stop_server(child);
            assert_eq!(ok, 50, "{mode:?} {procs:?}: {err}");
            assert_eq!(err, "", "{mode:?} {procs:?}");
        }
    }
}

#[test]
fn a_server_out_of_file_descriptors_reports_it_and_keeps_serving() {
    for &mode in modes() {
        let (child, addr) = start_server(mode, None, Some(64));
        // 200 clients at once: more connections than the server has descriptors.
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(200));
        let clients: Vec<_> = (0..200u32)
            .map(|c| {
                let (addr, barrier) = (addr.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let mut s = std::net::TcpStream::connect(&addr).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                    // Hold every connection open until all are made.
                    barrier.wait();
                    let data: Vec<u8> = (0..10_000u32).map(|i| (i ^ c) as u8).collect();
                    s.write_all(&data).unwrap();
                    s.shutdown(std::net::Shutdown::Write).unwrap();
                    let mut got = Vec::new();
                    s.read_to_end(&mut got).unwrap();
                    got == data
                })
            })
            .collect();
        let ok = clients
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&b| b)
            .count();
        let err = stop_server(child);
        assert_eq!(
            ok, 200,
            "{mode:?}: every client is served once descriptors free up"
        );
        assert!(
            err.starts_with("echo: accept: Too many open files (os error 24)\n"),
            "{mode:?}: {err}"
        );
    }
}

/// Read and write timeouts, deadlines (set in the past from another goroutine,
/// extended while waiting), connect and accept timeouts: each expiry is
/// `TimedOut` with Go's "i/o timeout", other goroutines run meanwhile, and the
/// socket stays usable.
#[test]
fn deadlines_and_timeouts() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "read-timeout",
            &[
                ("read_timeout.get_ms", "50"),
                ("read_timeout.kind", "TimedOut"),
                ("read_timeout.msg", "i/o timeout"),
                ("read_timeout.waited_at_least_50ms", "true"),
                ("read_timeout.waited_under_5s", "true"),
                ("read_timeout.others_ran", "true"),
                ("read_timeout.again.kind", "TimedOut"),
                ("read_timeout.then_read", "true"),
                ("read_timeout.zero_is_error", "true"),
            ],
        ),
        (
            "past-deadline",
            &[
                ("past.kind", "TimedOut"),
                ("past.msg", "i/o timeout"),
                ("past.waited_at_least_20ms", "true"),
                ("past.next_fails", "true"),
                ("past.cleared_reads", "1"),
            ],
        ),
        ("extend", &[("extend.ok", "true")]),
        (
            "write-timeout",
            &[
                ("write_timeout.kind", "TimedOut"),
                ("write_timeout.wrote_some", "true"),
            ],
        ),
        (
            "connect-timeout",
            &[
                ("connect.kind", "TimedOut"),
                ("connect.msg", "i/o timeout"),
                ("connect.waited_at_least_100ms", "true"),
                ("connect.zero_is_error", "true"),
            ],
        ),
        (
            "accept-timeout",
            &[
                ("accept.kind", "TimedOut"),
                ("accept.waited_at_least_30ms", "true"),
                ("accept.then_ok", "true"),
            ],
        ),
    ];
    for (case, want) in cases {
        each("deadline", &[case], |r, mode, procs| {
            r.assert_exit(0);
            for (k, v) in *want {
                assert_eq!(r.get(k), *v, "{case} {mode:?} {procs:?}: {k}\n{}", r.stdout);
            }
        });
    }
}

/// 100,000 deadline resets on one connection: one timer reset in place, no growth.
#[test]
fn deadline_resets_keep_memory_flat() {
    each("deadline", &["resets", "100000"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        assert_eq!(r.get("resets.n"), "100000", "{ctx}");
        let g = r.num("resets.growth_kb");
        assert!(
            g < 1024,
            "{ctx}: 100k deadline resets grew memory by {g} KiB"
        );
        assert_eq!(r.get("resets.last.kind"), "TimedOut", "{ctx}");
    });
}

/// A deadline set in the past from another goroutine while a reader is parking
/// (50,000 times, the setter's store landing anywhere around the park) wakes the
/// reader every time. Without the StoreLoad barriers of netpoll's expiry
/// handshake a reader stayed parked for good within 400 to 30,000 tries at two Ps.
#[test]
fn a_past_deadline_racing_a_parking_reader_always_wakes_it() {
    each("deadline", &["past-race", "50000"], |r, mode, procs| {
        r.assert_exit(0);
        let ctx = format!("{mode:?} {procs:?}");
        assert_eq!(
            r.get("past_race.stuck"),
            "0",
            "{ctx}: a reader stayed parked"
        );
        assert_eq!(r.get("past_race.timed_out"), "50000", "{ctx}");
    });
}

/// Names in /etc/hosts resolve to the address the file gives (compared with the
/// file as this test reads it); other names are InvalidInput (no DNS).
#[test]
fn names_from_etc_hosts_resolve() {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let mut cases: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap();
        let mut f = line.split_whitespace();
        let Some(ip) = f.next().and_then(|a| a.parse::<std::net::IpAddr>().ok()) else {
            continue;
        };
        for name in f {
            if seen.insert(name.to_ascii_lowercase()) {
                let want = std::net::SocketAddr::new(ip, 8080).to_string();
                cases.push((format!("{name}:8080"), format!("resolve={want}")));
            }
        }
    }
    cases.truncate(4);
    cases.push((
        "no-such-host.invalid:80".into(),
        "resolve.err=InvalidInput".into(),
    ));
    for &mode in modes() {
        for (addr, want) in &cases {
            let r = run(mode, "echo", &["resolve", addr]);
            r.assert_exit(0);
            assert!(
                r.stdout.starts_with(want.as_str()),
                "{mode:?} {addr}: {}",
                r.stdout
            );
            if want.contains("err") {
                // The error names the address, as Go's does.
                let quoted = format!("{addr:?}");
                assert!(r.stdout.contains(&quoted), "{mode:?}: {}", r.stdout);
            }
        }
    }
}

/// Whether `unshare -rm` can bind-mount a file over /etc/hosts here (a user and
/// mount namespace of the process's own; CI runs as root, where it can).
fn can_replace_etc_hosts() -> bool {
    static OK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OK.get_or_init(|| {
        std::process::Command::new("unshare")
            .args(["-rm", "sh", "-c", "mount --bind /etc/hosts /etc/hosts"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// `echo resolve ADDR` in mode with the file at hosts in place of /etc/hosts, for
/// that program alone (a bind mount in a mount namespace of its own).
fn resolve_with_hosts(mode: Mode, hosts: &std::path::Path, addr: &str) -> Run {
    let inner = command(mode, "echo", &["resolve", addr]);
    let mut unshare = std::process::Command::new("unshare");
    unshare
        .args([
            "-rm",
            "sh",
            "-c",
            "mount --bind \"$0\" /etc/hosts && exec \"$@\"",
        ])
        .arg(hosts);
    run_cmd(wrap(unshare, &inner), Duration::from_secs(60))
}

/// Resolve each (name, want) with hosts as /etc/hosts, natively and under qemu;
/// want is `ip:80`, or "" for InvalidInput. Skips, saying so, where no namespace
/// can replace /etc/hosts.
fn check_hosts_file(test: &str, hosts: &[u8], cases: &[(&str, &str)]) {
    if !can_replace_etc_hosts() {
        eprintln!("{test}: SKIPPED: `unshare -rm` cannot bind-mount over /etc/hosts here");
        return;
    }
    let path = std::env::temp_dir().join(format!("gort-hosts-{}-{test}", std::process::id()));
    std::fs::write(&path, hosts).unwrap();
    for &mode in modes() {
        for (name, want) in cases {
            let r = resolve_with_hosts(mode, &path, &format!("{name}:80"));
            r.assert_exit(0);
            let got = r.stdout.lines().next().unwrap_or("");
            if want.is_empty() {
                assert!(
                    got.starts_with("resolve.err=InvalidInput"),
                    "{test} {mode:?} {name}: {got}"
                );
            } else {
                assert_eq!(got, format!("resolve={want}"), "{test} {mode:?} {name}");
            }
        }
    }
    let _ = std::fs::remove_file(&path);
}

/// A byte that is not UTF-8 in /etc/hosts (a Latin-1 name) hides no other name,
/// on its own line or elsewhere, as in Go, which reads the file as bytes (it
/// used to make every name in the file unknown).
#[test]
fn a_byte_that_is_not_utf8_in_etc_hosts_hides_no_other_name() {
    check_hosts_file(
        "latin1",
        b"10.1.1.1 caf\xe9 gort-same-line\n\
          # r\xe9seau\n\
          10.1.1.2 gort-after\n",
        &[
            ("gort-same-line", "10.1.1.1:80"),
            ("gort-after", "10.1.1.2:80"),
            ("gort-absent", ""),
        ],
    );
}

/// /etc/hosts is read to its end however long it is, and however long its lines
/// (it used to be cut at 64 KiB: names past it were unknown, and a UTF-8
/// character cut in two there hid every name in the file).
#[test]
fn names_anywhere_in_a_long_etc_hosts_resolve() {
    let mut f = b"10.2.2.1 gort-near\n".to_vec();
    while f.len() < 65_400 {
        f.extend_from_slice(b"# padding, padding, padding ...\n");
    }
    // A two-byte character across the 64 KiB mark.
    f.push(b'#');
    f.resize(65_535, b'x');
    f.extend_from_slice("é\n".as_bytes());
    f.extend_from_slice(b"10.2.2.2 gort-far\n");
    // One line of 20 KB: longer than any read buffer a lookup starts with.
    f.extend_from_slice(b"10.2.2.3");
    for i in 0..2000 {
        f.extend_from_slice(format!(" alias{i}").as_bytes());
    }
    f.extend_from_slice(b" gort-long\n10.2.2.4 gort-last");
    check_hosts_file(
        "long",
        &f,
        &[
            ("gort-near", "10.2.2.1:80"),
            ("gort-far", "10.2.2.2:80"),
            ("ALIAS1999", "10.2.2.3:80"),
            ("gort-long", "10.2.2.3:80"),
            ("gort-last", "10.2.2.4:80"),
            ("gort-absent", ""),
        ],
    );
}
