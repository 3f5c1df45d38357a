//! A minimal HTTP/1.1 keep-alive responder: `httpd [ADDR]` (default 127.0.0.1:8080)
//! prints `listening=ADDR` and answers every request with `200 OK` and the body
//! `hello, world\n`, one goroutine per connection, until killed. Requests are read
//! up to the blank line (bodies are not supported: a request with Content-Length or
//! chunked encoding gets 501 and the connection is closed, a head over 8 KiB gets
//! 431); `Connection: close` closes after the reply. Each close half-closes and
//! drains first, so the reply is not lost to a reset. Accept errors (out of
//! descriptors) are logged and retried after 5 ms doubling to 1 s, as Go's
//! net/http does. The twin for benchmarks is bench/go/httpd.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use gort::net::{TcpListener, TcpStream};

gort::main!(main);

const OK: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n";
const OK_CLOSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nhello, world\n";
const NOT_IMPL: &[u8] =
    b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const TOO_BIG: &[u8] =
    b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

fn main() {
    let addr = gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str())
        .unwrap_or("127.0.0.1:8080");
    let l = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            gort::eprintln!("httpd: listen {addr}: {e}");
            gort::exit(1);
        }
    };
    gort::println!("listening={}", l.local_addr().unwrap());
    // Out of descriptors or a similar condition: say so and go on after a delay
    // that doubles from 5 ms to 1 s while accept keeps failing (Go's net/http
    // Server: "http: Accept error: ...; retrying in ...").
    let mut delay = gort::time::Duration::ZERO;
    loop {
        match l.accept() {
            Ok((c, _)) => {
                delay = gort::time::Duration::ZERO;
                gort::go(move || serve(c));
            }
            Err(e) => {
                delay = (delay * 2).clamp(
                    gort::time::Duration::from_millis(5),
                    gort::time::Duration::from_secs(1),
                );
                gort::eprintln!("httpd: accept error: {e}; retrying in {delay:?}");
                gort::time::sleep(delay);
            }
        }
    }
}

/// Find "\r\n\r\n" in b: the end of a request's head.
fn head_end(b: &[u8]) -> Option<usize> {
    b.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn has_header(head: &[u8], name: &[u8]) -> bool {
    head.split(|&c| c == b'\n').any(|line| {
        line.len() > name.len()
            && line[..name.len()].eq_ignore_ascii_case(name)
            && line[name.len()] == b':'
    })
}

fn header_is(head: &[u8], name: &[u8], value: &[u8]) -> bool {
    head.split(|&c| c == b'\n').any(|line| {
        line.len() > name.len() + 1
            && line[..name.len()].eq_ignore_ascii_case(name)
            && line[name.len()] == b':'
            && line[name.len() + 1..]
                .trim_ascii()
                .eq_ignore_ascii_case(value)
    })
}

/// Close after a reply the client may still be sending to (a body, the rest of a
/// head too long to read): a close with unread input makes the kernel send a
/// reset, which can destroy the reply before the client has read it. Half-close
/// and read what comes for up to 500 ms first (Go's closeWriteAndWait).
fn linger(c: &TcpStream) {
    let _ = c.shutdown(gort::net::Shutdown::Write);
    let _ = c.set_read_timeout(Some(gort::time::Duration::from_millis(500)));
    let mut sink = [0u8; 4096];
    while let Ok(n) = c.read(&mut sink) {
        if n == 0 {
            break;
        }
    }
}

fn serve(c: TcpStream) {
    let mut buf = vec![0u8; 8192];
    let mut have = 0usize;
    loop {
        // Answer every complete request in the buffer (pipelining), then read more.
        while let Some(end) = head_end(&buf[..have]) {
            let head = &buf[..end];
            let (reply, close) =
                if has_header(head, b"content-length") || has_header(head, b"transfer-encoding") {
                    (NOT_IMPL, true)
                } else if header_is(head, b"connection", b"close") {
                    (OK_CLOSE, true)
                } else {
                    (OK, false)
                };
            if c.write_all(reply).is_err() {
                return;
            }
            if close {
                return linger(&c);
            }
            buf.copy_within(end..have, 0);
            have -= end;
        }
        if have == buf.len() {
            if c.write_all(TOO_BIG).is_ok() {
                linger(&c);
            }
            return;
        }
        match c.read(&mut buf[have..]) {
            Ok(0) | Err(_) => return,
            Ok(n) => have += n,
        }
    }
}
