//! Deadlines and timeouts on gort::net sockets, one check per argument, printing
//! `key=value` lines for tests/net.rs:
//!
//! - `read-timeout`: a 50 ms read timeout on a silent peer, while other goroutines
//!   keep running.
//! - `past-deadline`: a reader blocked with no deadline; another goroutine sets its
//!   deadline to now: the reader returns at once.
//! - `extend`: a deadline moved later while the reader waits, then data arrives
//!   before the new deadline.
//! - `write-timeout`: a writer to a peer that never reads.
//! - `connect-timeout`: connecting to a listener whose accept queue is full.
//! - `resets N`: N deadline resets on one connection: memory stays flat.
//! - `accept-timeout`: accept with a read timeout and no client.
//! - `past-race N`: N times, a reader starts and another goroutine sets a past
//!   deadline at about the moment it parks: every read must time out (one that
//!   parks for good is counted as stuck after 2 s).
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use gort::io::Error;
use gort::net::net::SocketAddr;
use gort::net::{TcpListener, TcpStream};
use gort::println;
use gort::time::{sleep, Duration, Instant};

gort::main!(main);

fn arg(n: usize) -> Option<&'static str> {
    gort::env::args().nth(n).and_then(|a| a.to_str())
}

/// A connected pair over loopback: (client, server side).
fn pair() -> (TcpStream, TcpStream, TcpListener) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(&l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    (c, s, l)
}

/// Print an error's kind and message under prefix.
fn report(prefix: &str, e: &Error) {
    println!("{prefix}.kind={:?}", e.kind());
    println!("{prefix}.msg={e}");
}

/// The peak resident set in KiB.
fn maxrss_kb() -> u64 {
    let mut ru = [0u64; 18];
    // SAFETY: the kernel writes one struct rusage (144 bytes) into ru.
    unsafe { syscalls::syscall!(syscalls::Sysno::getrusage, 0, ru.as_mut_ptr()).unwrap() };
    ru[4]
}

/// A listening socket on 127.0.0.1 with a backlog of 0 that nobody accepts from:
/// once its queue holds a connection, further SYNs are dropped (connects hang).
fn full_listener() -> (i32, SocketAddr) {
    use syscalls::{syscall, Sysno};
    // SAFETY: plain socket system calls on memory we own; the fd is ours.
    unsafe {
        let fd = syscall!(Sysno::socket, 2, 1 | 0o2000000, 0).unwrap() as i32;
        // sockaddr_in 127.0.0.1:0
        let mut sa = [0u8; 16];
        sa[0] = 2;
        sa[4..8].copy_from_slice(&[127, 0, 0, 1]);
        syscall!(Sysno::bind, fd, sa.as_ptr(), 16).unwrap();
        syscall!(Sysno::listen, fd, 0).unwrap();
        let mut len = 16u32;
        syscall!(
            Sysno::getsockname,
            fd,
            sa.as_mut_ptr(),
            &mut len as *mut u32
        )
        .unwrap();
        let port = u16::from_be_bytes([sa[2], sa[3]]);
        (fd, SocketAddr::from(([127, 0, 0, 1], port)))
    }
}

/// N reader/deadline races (see the file head): prints how many reads timed out
/// and how many stayed parked.
fn past_race(n: u64) {
    let (c, _s, _l) = pair();
    let c = Arc::new(c);
    let (mut timed_out, mut stuck) = (0u64, 0u64);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let procs = gort::gomaxprocs(0);
    for _ in 0..n {
        c.set_read_deadline(None).unwrap();
        let done = gort::chan::<bool>(1);
        let started = Arc::new(AtomicBool::new(false));
        let (c2, tx, st) = (c.clone(), done.clone(), started.clone());
        gort::go(move || {
            st.store(true, Relaxed);
            let r = c2.read(&mut [0u8; 1]);
            tx.send(matches!(&r, Err(e) if e.kind() == gort::io::ErrorKind::TimedOut));
        });
        // With two Ps or more, spin first, so that the reader, stolen by another
        // P, runs beside us; else (or after 50 us) yield to let it run.
        let t0 = Instant::now();
        while !started.load(Relaxed) {
            if procs > 1 && t0.elapsed() < Duration::from_micros(50) {
                core::hint::spin_loop();
            } else {
                gort::gosched();
            }
        }
        // Then a varying delay (0 to ~4 us, about the time a read takes to find
        // EAGAIN and park): the setter's store lands anywhere around the park.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let t0 = Instant::now();
        let spin = Duration::from_nanos(seed % 4000);
        while t0.elapsed() < spin {
            core::hint::spin_loop();
        }
        c.set_read_deadline(Some(Instant::now())).unwrap();
        gort::select! {
            recv(done) -> v => {
                if v == Some(true) {
                    timed_out += 1;
                }
            },
            recv(gort::time::after(Duration::from_secs(2))) -> _t => {
                stuck += 1;
                break;
            },
        }
    }
    println!("past_race.timed_out={timed_out}");
    println!("past_race.stuck={stuck}");
}

fn main() {
    match arg(1).unwrap_or("") {
        "past-race" => past_race(arg(2).and_then(|a| a.parse().ok()).unwrap_or(20_000)),
        "read-timeout" => {
            let (c, _s, _l) = pair();
            // Other goroutines keep running while the reader waits.
            let ticks = Arc::new(AtomicU64::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let (t, st) = (ticks.clone(), stop.clone());
            gort::go(move || {
                while !st.load(Relaxed) {
                    sleep(Duration::from_millis(1));
                    t.fetch_add(1, Relaxed);
                }
            });
            c.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            println!("read_timeout.get_ms={}", c.read_timeout().unwrap().unwrap().as_millis());
            let t0 = Instant::now();
            let e = c.read(&mut [0u8; 16]).unwrap_err();
            let waited = t0.elapsed();
            stop.store(true, Relaxed);
            report("read_timeout", &e);
            println!("read_timeout.waited_at_least_50ms={}", waited >= Duration::from_millis(50));
            println!("read_timeout.waited_under_5s={}", waited < Duration::from_secs(5));
            println!("read_timeout.others_ran={}", ticks.load(Relaxed) >= 1);
            // Each wait gets its own timeout: a second read times out again.
            let e = c.read(&mut [0u8; 16]).unwrap_err();
            report("read_timeout.again", &e);
            // The stream still works once data is there.
            _s.write_all(b"hi").unwrap();
            let mut b = [0u8; 2];
            c.read_exact(&mut b).unwrap();
            println!("read_timeout.then_read={}", b == *b"hi");
            println!("read_timeout.zero_is_error={}", c.set_read_timeout(Some(Duration::ZERO)).is_err());
        }
        "past-deadline" => {
            let (c, _s, _l) = pair();
            let c = Arc::new(c);
            let c2 = c.clone();
            gort::go(move || {
                sleep(Duration::from_millis(20));
                c2.set_read_deadline(Some(Instant::now())).unwrap();
            });
            let t0 = Instant::now();
            let e = c.read(&mut [0u8; 16]).unwrap_err();
            report("past", &e);
            println!("past.waited_at_least_20ms={}", t0.elapsed() >= Duration::from_millis(20));
            // A deadline in the past fails the next read at once, even with data.
            _s.write_all(b"x").unwrap();
            sleep(Duration::from_millis(10));
            println!("past.next_fails={}", c.read(&mut [0u8; 1]).is_err());
            c.set_read_deadline(None).unwrap();
            let mut b = [0u8; 1];
            println!("past.cleared_reads={}", c.read(&mut b).unwrap());
        }
        "extend" => {
            let (c, s, _l) = pair();
            let c = Arc::new(c);
            let c2 = c.clone();
            c.set_read_deadline(Some(Instant::now() + Duration::from_millis(200)))
                .unwrap();
            gort::go(move || {
                sleep(Duration::from_millis(20));
                // Later: the first deadline must not fire.
                c2.set_read_deadline(Some(Instant::now() + Duration::from_millis(5000)))
                    .unwrap();
                // Past the first deadline.
                sleep(Duration::from_millis(300));
                s.write_all(b"late").unwrap();
                sleep(Duration::from_millis(100));
            });
            let mut b = [0u8; 4];
            let r = c.read_exact(&mut b);
            println!("extend.ok={}", r.is_ok() && b == *b"late");
        }
        "write-timeout" => {
            let (c, _s, _l) = pair();
            c.set_write_timeout(Some(Duration::from_millis(50))).unwrap();
            let chunk = alloc::vec![7u8; 64 << 10];
            let mut total = 0u64;
            let e = loop {
                match c.write(&chunk) {
                    Ok(n) => total += n as u64,
                    Err(e) => break e,
                }
            };
            report("write_timeout", &e);
            println!("write_timeout.wrote_some={}", total > 0);
        }
        "connect-timeout" => {
            let (_fd, addr) = full_listener();
            // The queue takes a connection or two; then SYNs are dropped.
            let mut held = alloc::vec::Vec::new();
            let mut result = None;
            for _ in 0..16 {
                let t0 = Instant::now();
                match TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
                    Ok(s) => held.push(s),
                    Err(e) => {
                        result = Some((e, t0.elapsed()));
                        break;
                    }
                }
            }
            let (e, waited) = result.expect("no connect timed out");
            report("connect", &e);
            println!("connect.waited_at_least_100ms={}", waited >= Duration::from_millis(100));
            println!(
                "connect.zero_is_error={}",
                TcpStream::connect_timeout(&addr, Duration::ZERO).is_err()
            );
        }
        "resets" => {
            let n: u64 = arg(2).and_then(|a| a.parse().ok()).unwrap_or(100_000);
            let (c, s, _l) = pair();
            for _ in 0..1000 {
                c.set_read_deadline(Some(Instant::now() + Duration::from_secs(3600)))
                    .unwrap();
            }
            let before = maxrss_kb();
            let mut b = [0u8; 1];
            for i in 0..n {
                c.set_read_deadline(Some(Instant::now() + Duration::from_secs(3600)))
                    .unwrap();
                if i % 1000 == 0 {
                    s.write_all(b"z").unwrap();
                    c.read_exact(&mut b).unwrap();
                }
            }
            println!("resets.n={n}");
            println!("resets.growth_kb={}", maxrss_kb().saturating_sub(before));
            // The last deadline still works: move it close and wait for it.
            c.set_read_deadline(Some(Instant::now() + Duration::from_millis(10)))
                .unwrap();
            let e = c.read(&mut b).unwrap_err();
            report("resets.last", &e);
        }
        "accept-timeout" => {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.set_read_timeout(Some(Duration::from_millis(30))).unwrap();
            let t0 = Instant::now();
            let e = l.accept().unwrap_err();
            report("accept", &e);
            println!("accept.waited_at_least_30ms={}", t0.elapsed() >= Duration::from_millis(30));
            // Still listening: a client is accepted.
            let a = l.local_addr().unwrap();
            gort::go(move || {
                let _c = TcpStream::connect(&a).unwrap();
                sleep(Duration::from_millis(50));
            });
            println!("accept.then_ok={}", l.accept().is_ok());
        }
        _ => gort::eprintln!(
            "usage: deadline read-timeout|past-deadline|extend|write-timeout|connect-timeout|resets N|accept-timeout"
        ),
    }
}
