//! gort::process, one scenario per argument, printing `key=value` lines for
//! tests/process.rs:
//!
//! - `cat`: 16 MiB through `cat` (stdin and stdout piped; a writer goroutine and a
//!   reader at once), checked by hash.
//! - `output`: `sh -c` writing to both streams and exiting 3.
//! - `missing`: programs that do not exist.
//! - `wait`: waiting for `sleep 0.3` beside a 10 ms ticker (the wait parks).
//! - `kill`: a killed child's status.
//! - `env`: env_clear, env and current_dir.
//! - `emfile`: a spawn whose third pipe fails for want of descriptors (run with a
//!   low RLIMIT_NOFILE) leaves no descriptor open.
//! - `envpass`: the environment a child gets (its /proc/self/environ, escaped),
//!   unchanged and with a variable added and one removed.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use gort::println;
use gort::process::{Command, Stdio};

gort::main!(main);

fn fnv(h: u64, b: &[u8]) -> u64 {
    b.iter()
        .fold(h, |h, &x| (h ^ x as u64).wrapping_mul(1099511628211))
}

fn main() {
    match gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str())
        .unwrap_or("")
    {
        "cat" => {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let stdin = child.stdin.take().unwrap();
            let data: Vec<u8> = (0..16usize << 20)
                .map(|i| (i * 7 + i / 1000) as u8)
                .collect();
            let want = fnv(0xcbf29ce484222325, &data);
            let done = gort::chan::<()>(1);
            let d = done.clone();
            gort::go(move || {
                for piece in data.chunks(100_000) {
                    stdin.write_all(piece).unwrap();
                }
                drop(stdin); // EOF for cat
                d.send(());
            });
            let out = child.stdout.take().unwrap();
            let (mut h, mut n) = (0xcbf29ce484222325u64, 0usize);
            let mut buf = [0u8; 65536];
            loop {
                let k = out.read(&mut buf).unwrap();
                if k == 0 {
                    break;
                }
                h = fnv(h, &buf[..k]);
                n += k;
            }
            done.recv();
            let st = child.wait().unwrap();
            println!("cat.bytes={n}");
            println!("cat.intact={}", h == want);
            println!("cat.status={st}");
        }
        "output" => {
            let o = Command::new("sh")
                .args(["-c", "echo out; echo err >&2; exit 3"])
                .output()
                .unwrap();
            println!(
                "output.stdout={:?}",
                core::str::from_utf8(&o.stdout).unwrap()
            );
            println!(
                "output.stderr={:?}",
                core::str::from_utf8(&o.stderr).unwrap()
            );
            println!("output.code={:?}", o.status.code());
            println!("output.status={}", o.status);
        }
        "missing" => {
            let e = Command::new("gort-no-such-program").spawn().err().unwrap();
            println!("missing.path.kind={:?}", e.kind());
            println!("missing.path={e}");
            println!("missing.path.os={:?}", e.raw_os_error());
            let e = Command::new("/nonexistent/prog").spawn().err().unwrap();
            println!("missing.abs.kind={:?}", e.kind());
            println!("missing.abs={e}");
            let e = Command::new("/etc/passwd").spawn().err().unwrap();
            println!("missing.noexec.kind={:?}", e.kind());
        }
        "lookpath" => {
            // Run with a PATH whose first directory holds a file named sh without
            // an execute bit and a directory named true (tests/process.rs): the
            // lookup goes on to the real ones, as Go's LookPath does.
            let st = Command::new("sh").args(["-c", "exit 7"]).status();
            println!("lookpath.sh={:?}", st.map(|s| s.code()));
            let st = Command::new("true").status();
            println!("lookpath.true={:?}", st.map(|s| s.code()));
        }
        "wait" => {
            let ticks = Arc::new(AtomicU64::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            {
                let (ticks, stop) = (ticks.clone(), stop.clone());
                gort::go(move || {
                    let t = gort::time::tick(gort::time::Duration::from_millis(10));
                    while !stop.load(Relaxed) {
                        t.recv();
                        ticks.fetch_add(1, Relaxed);
                    }
                });
            }
            let st = Command::new("sleep").arg("0.3").status().unwrap();
            stop.store(true, Relaxed);
            println!("wait.status={st}");
            println!("wait.ticks={}", ticks.load(Relaxed));
        }
        "kill" => {
            let mut c = Command::new("sleep").arg("10").spawn().unwrap();
            c.kill().unwrap();
            let st = c.wait().unwrap();
            println!("kill.signal={:?}", st.signal());
            println!("kill.status={st}");
            // Go's texts for other signals too.
            let st = Command::new("sh")
                .args(["-c", "kill -INT $$"])
                .status()
                .unwrap();
            println!("kill.int_status={st}");
        }
        "env" => {
            let o = Command::new("/bin/sh")
                .args(["-c", "echo \"$FOO|$HOME|$(pwd)\""])
                .env_clear()
                .env("FOO", "bar")
                .current_dir("/tmp")
                .output()
                .unwrap();
            println!("env.out={:?}", core::str::from_utf8(&o.stdout).unwrap());
        }
        "emfile" => {
            // Fill the descriptor table, then free four: the pipes for stdin and
            // stdout fit, the one for stderr does not.
            let open = || gort::fs::read_dir("/proc/self/fd").unwrap().count();
            let mut held = Vec::new();
            while let Ok(f) = gort::fs::File::open("/dev/null") {
                held.push(f);
            }
            held.truncate(held.len() - 4);
            let before = open();
            let e = Command::new("true")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .err()
                .unwrap();
            println!("emfile.err={:?}", e.raw_os_error());
            println!("emfile.leaked={}", open() - before);
            drop(held);
            let st = Command::new("true").output().unwrap().status;
            println!("emfile.then={st}");
        }
        "envpass" => {
            let environ = |c: &mut Command| {
                let o = c.arg("/proc/self/environ").output().unwrap();
                alloc::format!("{}", o.stdout.escape_ascii())
            };
            println!("envpass.inherited={}", environ(&mut Command::new("cat")));
            let changed = environ(
                Command::new("cat")
                    .env("GORT_ADDED", "1")
                    .env_remove("GOODVAR"),
            );
            println!("envpass.changed={changed}");
        }
        _ => {
            gort::eprintln!("usage: exec cat|output|missing|lookpath|wait|kill|env|emfile|envpass");
            gort::exit(2);
        }
    }
}
