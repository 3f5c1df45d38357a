//! Checks of gort::fs and gort::io, one per argument, printing `key=value` lines
//! for tests/fs.rs:
//!
//! - `copy SRC DST`: copy SRC to DST with `io::copy` between two `fs::File`s, then
//!   read DST back with `fs::read`; prints the bytes copied, DST's length and an
//!   FNV-1a checksum of what was read back.
//! - `dir DIR`: create a tree under DIR (`create_dir_all`, `fs::write`), list it with
//!   `read_dir`, check metadata, then remove it all and list again.
//! - `errors DIR`: each error case gort::fs must report (kind and message).
//! - `seek DIR`: seek, set_len, append, create_new and the embedded-io `Seek` trait.
//! - `streams FILE`: FILE's bytes through a TCP connection, a Unix socket and a
//!   child's pipes (`cat`), each with `io::copy` over the embedded-io traits.
//! - `stdin-tick`: a goroutine blocks reading standard input while a 10 ms ticker
//!   ticks; prints `ticks=20` once 20 ticks passed with the reader still blocked,
//!   then waits for the line and prints it (`GOMAXPROCS=1`: the reader's P must be
//!   handed off for the ticker to tick at all).
//! - `stdin-lines`: `stdin().lines()`: the number of lines and their total length.
//! - `tear`: 4 goroutines at a time print lines of one letter each, three ways:
//!   `writeln!(io::stdout(), ..)` in three pieces (letters a-d, 2000 lines of 30),
//!   `println!` of 5000 bytes (e-h, 50 lines) and `stdout().write_all` of 70000
//!   bytes (i-l, 20 lines). Every line must come out whole.
//! - `closed-stdio DIR`: run with standard streams closed (`>&-`): opens a file,
//!   prints, reads standard input, runs a child that inherits them, and writes
//!   `key=value` results to DIR/result (standard output may be closed): the fd
//!   the file got, whether it still holds just what was written to it, the bytes
//!   standard input gave, and the child's exit status.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use gort::fs::{self, File, OpenOptions};
use gort::io::embedded_io::{Read, Seek, Write};
use gort::io::{self, BufReader, BufWriter, SeekFrom};
use gort::time::{tick, Duration};
use gort::{chan, println, select};

gort::main!(main);

fn arg(n: usize) -> &'static str {
    gort::env::args()
        .nth(n)
        .and_then(|a| a.to_str())
        .unwrap_or("")
}

/// FNV-1a, 64 bits.
fn fnv(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn kind_msg(key: &str, r: io::Result<impl Sized>) {
    match r {
        Ok(_) => println!("{key}.kind=ok"),
        Err(e) => {
            println!("{key}.kind={:?}", e.kind());
            println!("{key}.msg={e}");
        }
    }
}

fn copy(src: &str, dst: &str) {
    let mut from = File::open(src).unwrap();
    let mut to = File::create(dst).unwrap();
    let n = io::copy(&mut from, &mut to).unwrap();
    to.sync_all().unwrap();
    drop(to);
    println!("copied={n}");
    println!("dst.len={}", fs::metadata(dst).unwrap().len());
    let back = fs::read(dst).unwrap();
    println!("read.len={}", back.len());
    println!("read.fnv={:#x}", fnv(&back));
    // The same bytes through a BufReader/BufWriter pair, in odd-sized pieces.
    let copy2 = format!("{dst}.2");
    {
        let mut r = BufReader::with_capacity(1000, File::open(src).unwrap());
        let mut w = BufWriter::with_capacity(3000, File::create(&copy2).unwrap());
        let mut piece = [0u8; 777];
        loop {
            let k = r.read(&mut piece).unwrap();
            if k == 0 {
                break;
            }
            w.write_all(&piece[..k]).unwrap();
        }
        w.flush().unwrap();
    }
    println!("buffered.fnv={:#x}", fnv(&fs::read(&copy2).unwrap()));
    fs::remove_file(&copy2).unwrap();
}

fn dir(root: &str) {
    let deep = format!("{root}/sub/deeper/deepest");
    fs::create_dir_all(&deep).unwrap();
    fs::create_dir_all(&deep).unwrap(); // exists already: fine
    for i in 0..50 {
        fs::write(&format!("{root}/f{i:02}"), format!("file {i}\n")).unwrap();
    }
    fs::write(&format!("{deep}/leaf"), b"leaf").unwrap();
    let mut names: Vec<String> = Vec::new();
    let mut dirs = 0;
    for e in fs::read_dir(root).unwrap() {
        let e = e.unwrap();
        assert_eq!(e.path(), format!("{root}/{}", e.file_name()));
        if e.file_type().unwrap().is_dir() {
            dirs += 1;
        }
        names.push(e.file_name().into());
    }
    names.sort();
    println!("entries={}", names.join(","));
    println!("dirs={dirs}");
    let m = fs::metadata(&format!("{root}/f07")).unwrap();
    println!(
        "f07.len={} is_file={} is_dir={}",
        m.len(),
        m.is_file(),
        m.is_dir()
    );
    println!(
        "f07.text={}",
        fs::read_to_string(&format!("{root}/f07"))
            .unwrap()
            .trim_end()
    );
    println!(
        "sub.is_dir={}",
        fs::metadata(&format!("{root}/sub")).unwrap().is_dir()
    );
    println!("exists.f07={}", fs::exists(&format!("{root}/f07")).unwrap());
    println!(
        "exists.nope={}",
        fs::exists(&format!("{root}/nope")).unwrap()
    );
    fs::rename(&format!("{root}/f49"), &format!("{root}/renamed")).unwrap();
    // Remove it all, deepest first.
    fs::remove_file(&format!("{deep}/leaf")).unwrap();
    fs::remove_dir(&deep).unwrap();
    fs::remove_dir(&format!("{root}/sub/deeper")).unwrap();
    fs::remove_dir(&format!("{root}/sub")).unwrap();
    for e in fs::read_dir(root).unwrap() {
        fs::remove_file(e.unwrap().path()).unwrap();
    }
    println!("after={}", fs::read_dir(root).unwrap().count());
}

fn errors(root: &str) {
    kind_msg("missing", File::open(&format!("{root}/no-such-file")));
    kind_msg("nodir", File::create(&format!("{root}/no-such-dir/f")));
    kind_msg("dirwrite", OpenOptions::new().write(true).open(root));
    let f = format!("{root}/exists");
    fs::write(&f, "x").unwrap();
    kind_msg("createnew", File::create_new(&f));
    kind_msg("mkdir_exists", fs::create_dir(root));
    kind_msg("nul", File::open("a\0b"));
    kind_msg("nul_write", fs::write("bad\0name", "x"));
    let long = "x".repeat(5000);
    kind_msg("long", File::open(&long));
    kind_msg("long_mkdir", fs::create_dir_all(&long));
    let long_component = format!("{root}/{}", "y".repeat(300));
    kind_msg("long_name", File::create(&long_component));
    kind_msg("notempty", fs::remove_dir(root));
    kind_msg("notdir", fs::read_dir(&f));
    kind_msg("dirread", fs::read(root));
    kind_msg("under_file", File::create(&format!("{f}/child")));
    kind_msg(
        "bad_options",
        OpenOptions::new().read(true).create(true).open(&f),
    );
    kind_msg("no_access", OpenOptions::new().open(&f));
    fs::write(&format!("{root}/binary"), [0xffu8, 0xfe, b'\n']).unwrap();
    kind_msg("utf8", fs::read_to_string(&format!("{root}/binary")));
    kind_msg("rmdir_file", fs::remove_dir(&f));
    kind_msg("rm_missing", fs::remove_file(&format!("{root}/nope")));
    let ro = File::open(&f).unwrap();
    kind_msg("write_readonly", ro.write(b"no"));
}

/// Generic over embedded-io: rewind and read the whole stream.
fn rewind_and_read<S: Read + Seek>(s: &mut S) -> io::Result<Vec<u8>>
where
    S::Error: 'static,
{
    s.rewind().map_err(io::Error::from_embedded)?;
    let mut v = Vec::new();
    io::read_to_end(s, &mut v)?;
    Ok(v)
}

fn seek(root: &str) {
    let p = format!("{root}/seek");
    let f = File::create_new(&p).unwrap();
    f.write_all(b"hello, world").unwrap();
    println!("pos={}", f.stream_position().unwrap());
    f.seek(SeekFrom::Start(7)).unwrap();
    let mut five = [0u8; 5];
    f.read_exact(&mut five).unwrap();
    println!("at7={}", core::str::from_utf8(&five).unwrap());
    println!("end-5={}", f.seek(SeekFrom::End(-5)).unwrap());
    println!("back2={}", f.seek(SeekFrom::Current(-2)).unwrap());
    kind_msg("negative", f.seek(SeekFrom::Current(-100)));
    f.set_len(5).unwrap();
    println!("len={}", f.metadata().unwrap().len());
    let mut g = &f;
    let all = rewind_and_read(&mut g).unwrap();
    println!("trunc={}", core::str::from_utf8(&all).unwrap());
    kind_msg("eof", f.read_exact(&mut five));
    drop(f);
    let a = OpenOptions::new().append(true).open(&p).unwrap();
    a.write_all(b"!").unwrap();
    a.seek(SeekFrom::Start(0)).unwrap();
    a.write_all(b"?").unwrap(); // append: still at the end
    drop(a);
    println!("appended={}", fs::read_to_string(&p).unwrap());
    let mut t = File::options()
        .read(true)
        .write(true)
        .truncate(true)
        .open(&p)
        .unwrap();
    println!("truncated={}", t.metadata().unwrap().len());
    Write::write_all(&mut t, b"via trait").unwrap();
    println!(
        "trait={}",
        core::str::from_utf8(&rewind_and_read(&mut t).unwrap()).unwrap()
    );
    fs::remove_file(&p).unwrap();
}

fn streams(path: &str) {
    let data = fs::read(path).unwrap();
    println!("file.fnv={:#x}", fnv(&data));
    // TCP: a goroutine copies the file into the connection; we copy the connection
    // into a Vec through a BufReader.
    let l = gort::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let p = String::from(path);
    gort::go(move || {
        let (mut c, _) = l.accept().unwrap();
        let mut f = File::open(&p).unwrap();
        io::copy(&mut f, &mut c).unwrap();
        c.shutdown(gort::net::Shutdown::Write).unwrap();
    });
    let c = gort::net::TcpStream::connect(&addr).unwrap();
    let mut got = Vec::new();
    BufReader::new(&c).read_to_end(&mut got).unwrap();
    println!("tcp.fnv={:#x}", fnv(&got));
    // Unix socket.
    let sock = format!("{path}.sock");
    let _ = fs::remove_file(&sock);
    let ul = gort::net::UnixListener::bind(&sock).unwrap();
    let p = String::from(path);
    gort::go(move || {
        let (mut c, _) = ul.accept().unwrap();
        let mut f = File::open(&p).unwrap();
        io::copy(&mut f, &mut c).unwrap();
    });
    let mut u = gort::net::UnixStream::connect(&sock).unwrap();
    let mut out = Vec::new();
    io::read_to_end(&mut u, &mut out).unwrap();
    // The listener removes its socket file when dropped (at the server
    // goroutine's end, which may not have come yet).
    let _ = fs::remove_file(&sock);
    println!("unix.fnv={:#x}", fnv(&out));
    // A child's pipes: the file into cat's stdin, its stdout back.
    let mut child = gort::process::Command::new("cat")
        .stdin(gort::process::Stdio::piped())
        .stdout(gort::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let p = String::from(path);
    let done = chan::<u64>(1);
    let d = done.clone();
    gort::go(move || {
        let mut f = File::open(&p).unwrap();
        d.send(io::copy(&mut f, &mut stdin).unwrap());
        // stdin dropped here: cat sees end of file.
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut back = Vec::new();
    let n = copy_into_vec(&mut stdout, &mut back);
    println!("pipe.sent={}", done.recv().unwrap());
    println!("pipe.got={n}");
    println!("pipe.fnv={:#x}", fnv(&back));
    println!("pipe.status={}", child.wait().unwrap());
}

/// io::copy into a Vec: embedded-io's Write for Vec needs its "alloc" feature, so
/// a small adapter stands in for it.
fn copy_into_vec<R: Read>(r: &mut R, out: &mut Vec<u8>) -> u64
where
    R::Error: 'static,
{
    struct V<'a>(&'a mut Vec<u8>);
    impl io::embedded_io::ErrorType for V<'_> {
        type Error = io::Error;
    }
    impl Write for V<'_> {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    io::copy(r, &mut V(out)).unwrap()
}

fn stdin_tick() {
    let blocked = Arc::new(AtomicBool::new(true));
    let line = chan::<io::Result<String>>(1);
    let (b, l) = (blocked.clone(), line.clone());
    gort::go(move || {
        let mut s = String::new();
        let r = io::stdin().read_line(&mut s).map(|_| s);
        b.store(false, Ordering::SeqCst);
        l.send(r);
    });
    let t = tick(Duration::from_millis(10));
    let mut ticks = 0;
    while ticks < 20 {
        t.recv();
        ticks += 1;
    }
    println!("still_blocked={}", blocked.load(Ordering::SeqCst));
    println!("ticks={ticks}");
    // Now the test writes a line; keep ticking until it arrives.
    loop {
        select! {
            recv(line) -> r => {
                let s = r.unwrap().unwrap();
                println!("got={}", s.trim_end());
                break;
            },
            recv(t) -> _x => ticks += 1,
        }
    }
    println!("done ticks>=20={}", ticks >= 20);
}

fn stdin_lines() {
    let mut n = 0;
    let mut total = 0;
    let mut longest = String::new();
    for l in io::stdin().lines() {
        let l = l.unwrap();
        n += 1;
        total += l.len();
        if l.len() > longest.len() {
            longest = l;
        }
    }
    println!("lines={n}");
    println!("chars={total}");
    println!("longest={longest}");
}

/// writeln! through the embedded-io trait, as generic code writes.
fn generic_line<W: Write>(w: &mut W, piece: &str) {
    writeln!(w, "{piece}{piece}{piece}").unwrap();
}

fn tear() {
    for (first, lines, len) in [(b'a', 2000, 30), (b'e', 50, 5000), (b'i', 20, 70_000)] {
        let wg = Arc::new(gort::sync::WaitGroup::new());
        for g in 0..4u8 {
            let wg = wg.clone();
            wg.add(1);
            gort::go(move || {
                let c = (first + g) as char;
                let piece = String::from(c).repeat(len / 3);
                let line = String::from(c).repeat(len) + "\n";
                for _ in 0..lines {
                    match first {
                        // The inherent write_fmt, and embedded-io's (generic code).
                        b'a' if g % 2 == 0 => {
                            writeln!(io::stdout(), "{piece}{piece}{piece}").unwrap()
                        }
                        b'a' => generic_line(&mut io::stdout(), &piece),
                        b'e' => println!("{}", &line[..len]),
                        _ => io::stdout().write_all(line.as_bytes()).unwrap(),
                    }
                }
                wg.done();
            });
        }
        wg.wait();
    }
}

fn closed_stdio(dir: &str) {
    let path = format!("{dir}/data");
    let f = File::create(&path).unwrap();
    let fd = f.as_raw_fd();
    f.write_all(b"DATA\n").unwrap();
    // Into standard output and error, wherever they lead: /dev/null, not the file.
    println!("printed");
    let _ = io::stdout().write_all(b"written\n");
    gort::eprintln!("to stderr");
    let mut line = String::new();
    let stdin = io::stdin().read_line(&mut line);
    let child = gort::process::Command::new("sh")
        .args(["-c", "echo child; echo child >&2; cat"])
        .status();
    drop(f);
    let data = fs::read(&path).unwrap();
    let out = format!(
        "fd={fd}\nfile_intact={}\nstdin={}\nchild={}\n",
        data == b"DATA\n",
        match stdin {
            Ok(n) => format!("{n}"),
            Err(e) => format!("{e}"),
        },
        match child {
            Ok(st) => format!("{st}"),
            Err(e) => format!("{e}"),
        },
    );
    fs::write(&format!("{dir}/result"), out.as_bytes()).unwrap();
}

fn main() {
    match arg(1) {
        "copy" => copy(arg(2), arg(3)),
        "dir" => dir(arg(2)),
        "errors" => errors(arg(2)),
        "seek" => seek(arg(2)),
        "streams" => streams(arg(2)),
        "stdin-tick" => stdin_tick(),
        "stdin-lines" => stdin_lines(),
        "closed-stdio" => closed_stdio(arg(2)),
        "tear" => tear(),
        other => {
            gort::eprintln!("fsio: unknown check {other:?}");
            gort::exit(2);
        }
    }
}
