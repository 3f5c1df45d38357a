//! wc: count lines, words and bytes, as the Unix tool does.
//!
//! `wc [--lines] [FILE]...` prints `lines words bytes name` for each FILE (standard
//! input for `-`, or when there is no FILE, then without a name) and a `total` line
//! when given more than one. A file that cannot be read is reported on stderr
//! (`wc: PATH: No such file or directory (os error 2)`), the others are still
//! counted, and the exit status is 1. The columns are as wide as GNU wc makes them:
//! wide enough for the total size of the regular files named, and at least 7 when a
//! pipe or terminal is among them.
//!
//! A word is a run of bytes other than ASCII white space (space, `\t`, `\n`, `\v`,
//! `\f`, `\r`), as POSIX defines it for the C locale.
//!
//! Counting is written once, generically over [`embedded_io::Read`]: the same
//! function counts a `gort::fs::File`, `gort::io::stdin()`, or (with `--lines`) a
//! `gort::io::BufReader` read a line at a time, which must agree to the byte.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use gort::fs::{self, File};
use gort::io::embedded_io::Read;
use gort::io::{self, BufReader};
use gort::{eprintln, println};

gort::main!(main);

#[derive(Clone, Copy, Default)]
struct Counts {
    lines: u64,
    words: u64,
    bytes: u64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.lines += o.lines;
        self.words += o.words;
        self.bytes += o.bytes;
    }
}

/// Counts across chunks: a word may span two reads.
#[derive(Default)]
struct Counter {
    c: Counts,
    in_word: bool,
}

impl Counter {
    fn feed(&mut self, buf: &[u8]) {
        self.c.bytes += buf.len() as u64;
        for &b in buf {
            let space = matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
            if b == b'\n' {
                self.c.lines += 1;
            }
            if space {
                self.in_word = false;
            } else if !self.in_word {
                self.in_word = true;
                self.c.words += 1;
            }
        }
    }
}

/// Count everything r yields until end of file. On an error, the counts so far
/// come back with it (wc prints them, as GNU wc does for a directory).
fn count<R: Read>(r: &mut R) -> (Counts, Option<R::Error>) {
    let mut k = Counter::default();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return (k.c, None),
            Ok(n) => k.feed(&buf[..n]),
            Err(e) => return (k.c, Some(e)),
        }
    }
}

/// The same counts a line at a time through a BufReader (read_until), for any
/// reader: checks the buffered path against the plain one.
fn count_by_lines<R: Read>(r: R) -> (Counts, Option<io::Error>)
where
    R::Error: 'static,
{
    let mut br = BufReader::with_capacity(4096, r);
    let mut k = Counter::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        match br.read_until(b'\n', &mut line) {
            Ok(0) => return (k.c, None),
            Ok(_) => k.feed(&line),
            Err(e) => {
                k.feed(&line);
                return (k.c, Some(e));
            }
        }
    }
}

/// Count one input (a path, or "-" for standard input), reporting an error.
/// Returns the counts, whether all went well, and whether the input was opened
/// (only an opened input gets a line).
fn count_input(name: &str, by_lines: bool) -> (Counts, bool, bool) {
    let report = |e: &dyn core::fmt::Display| eprintln!("wc: {name}: {e}");
    if name == "-" {
        let stdin = io::stdin();
        let (c, err) = if by_lines {
            count_by_lines(stdin.lock())
        } else {
            count(&mut stdin.lock())
        };
        if let Some(e) = &err {
            report(e);
        }
        return (c, err.is_none(), true);
    }
    let f = match File::open(name) {
        Ok(f) => f,
        Err(e) => {
            report(&e);
            return (Counts::default(), false, false);
        }
    };
    let (c, err) = if by_lines {
        count_by_lines(&f)
    } else {
        count(&mut &f)
    };
    if let Some(e) = &err {
        report(e);
    }
    (c, err.is_none(), true)
}

/// GNU wc's column width: the digits of the total size of the regular files
/// named, at least 7 if any input is not a regular file (a pipe, a terminal).
fn width(names: &[&str]) -> usize {
    let mut total = 0u64;
    let mut min = 1;
    for &n in names {
        // stat follows /proc's link to whatever descriptor 0 is.
        let path = if n == "-" { "/proc/self/fd/0" } else { n };
        let m = fs::metadata(path);
        match m {
            Ok(m) if m.is_file() => total += m.len(),
            Ok(_) => min = 7,
            Err(_) if n == "-" => min = 7,
            Err(_) => {}
        }
    }
    let mut digits = 1;
    while total >= 10 {
        total /= 10;
        digits += 1;
    }
    digits.max(min)
}

fn print(c: Counts, w: usize, name: Option<&str>) {
    match name {
        Some(n) => println!("{:>w$} {:>w$} {:>w$} {n}", c.lines, c.words, c.bytes, w = w),
        None => println!("{:>w$} {:>w$} {:>w$}", c.lines, c.words, c.bytes, w = w),
    }
}

fn main() {
    let mut by_lines = false;
    let mut names: Vec<String> = Vec::new();
    for a in gort::env::args().skip(1) {
        match a.to_str() {
            Some("--lines") => by_lines = true,
            Some(s) => names.push(s.into()),
            None => {
                eprintln!("wc: argument is not UTF-8");
                gort::exit(2);
            }
        }
    }
    let named = !names.is_empty();
    if !named {
        names.push("-".into());
    }
    let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let w = width(&refs);
    let mut total = Counts::default();
    let mut ok = true;
    for &n in &refs {
        let (c, good, opened) = count_input(n, by_lines);
        ok &= good;
        total.add(c);
        // A file that could not be opened has no line (GNU prints none either); one
        // that failed later (a directory: EISDIR) shows what was counted.
        if opened {
            print(c, w, named.then_some(n));
        }
    }
    if refs.len() > 1 {
        print(total, w, Some("total"));
    }
    if !ok {
        gort::exit(1);
    }
}
