//! gort::fs and gort::io (examples/wc.rs, examples/fsio.rs): wc's exact counts on
//! known files and on standard input, a 16 MiB copy that arrives byte-identical,
//! directory listings, every error case, seeking, the embedded-io traits over
//! sockets and pipes, and a goroutine blocked reading stdin that does not stop a
//! ticker at GOMAXPROCS=1. Natively and under qemu-x86_64, with GOMAXPROCS=1 and
//! the default.

mod common;

use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A fresh, empty directory for one test run; removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("gort-fs-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn s(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tag(mode: Mode, procs: Option<&str>) -> String {
    format!("{mode:?}-{}", procs.unwrap_or("default"))
}

/// Run cmd with `input` on its standard input (from a pipe, or from the file at
/// `input_file` when given), capturing stdout and stderr, within 60 s.
fn run_with_stdin(mut cmd: Command, input: &[u8], input_file: Option<&Path>) -> Run {
    match input_file {
        Some(f) => cmd.stdin(std::fs::File::open(f).unwrap()),
        None => cmd.stdin(Stdio::piped()),
    };
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let writer = child.stdin.take().map(|mut w| {
        let data = input.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        })
    });
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || tx.send(child.wait_with_output()).ok());
    let out = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("{cmd:?} did not finish within 60 s");
        }
    };
    if let Some(w) = writer {
        w.join().unwrap();
    }
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
        stdout_bytes: out.stdout,
    }
}

fn with_procs(mut cmd: Command, procs: Option<&str>) -> Command {
    if let Some(p) = procs {
        cmd.env("GOMAXPROCS", p);
    }
    cmd
}

/// FNV-1a, 64 bits (as examples/fsio.rs computes it).
fn fnv(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// n pseudo-random bytes (xorshift), the same every run.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

const POEM: &str = "The quick brown fox\njumps over\n\tthe lazy dog.\n\nEnd  of   poem\n";

#[test]
fn wc_counts_files_exactly_and_reports_a_missing_one() {
    for &mode in modes() {
        for procs in PROCS {
            let d = TempDir::new(&format!("wc-{}", tag(mode, procs)));
            // poem: 5 lines, 12 words, 62 bytes; nonl: no final newline; empty.
            std::fs::write(d.path("poem"), POEM).unwrap();
            std::fs::write(d.path("nonl"), "one two\nthree").unwrap();
            std::fs::write(d.path("empty"), "").unwrap();
            let big: String = (0..10_000).map(|i| format!("line {i} of many\n")).collect();
            std::fs::write(d.path("big"), &big).unwrap();
            let p = |n: &str| d.path(n).to_str().unwrap().to_string();
            let ctx = tag(mode, procs);

            let r = run_procs(mode, "wc", &[&p("poem")], procs);
            r.assert_exit(0);
            assert_eq!(r.stdout, format!(" 5 12 62 {}\n", p("poem")), "{ctx}");

            let args = [p("poem"), p("nonl"), p("empty"), p("big")];
            let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
            // GNU's columns: as wide as the total size of the files.
            let total = big.len() + 75;
            let w = total.to_string().len();
            let row = |l: usize, wd: usize, c: usize, name: &str| {
                format!("{l:>w$} {wd:>w$} {c:>w$} {name}\n")
            };
            let want = [
                row(5, 12, 62, &p("poem")),
                row(1, 3, 13, &p("nonl")),
                row(0, 0, 0, &p("empty")),
                row(10000, 40000, big.len(), &p("big")),
                row(10006, 40015, total, "total"),
            ]
            .concat();
            for lines in [false, true] {
                let mut a = args.clone();
                if lines {
                    a.insert(0, "--lines");
                }
                let r = run_procs(mode, "wc", &a, procs);
                r.assert_exit(0);
                assert_eq!(r.stdout, want, "{ctx} --lines={lines}");
                assert_eq!(r.stderr, "", "{ctx}");
            }
            // GNU wc agrees, columns included (ASCII text: no locale question).
            if let Ok(gnu) = Command::new("wc").args(&args).env("LC_ALL", "C").output() {
                assert_eq!(String::from_utf8_lossy(&gnu.stdout), want, "GNU wc");
            }

            // A missing file: reported, the others still counted, exit 1.
            let missing = p("no-such-file");
            let r = run_procs(mode, "wc", &[&p("poem"), &missing, &p("nonl")], procs);
            r.assert_exit(1);
            assert_eq!(
                r.stderr,
                format!("wc: {missing}: No such file or directory (os error 2)\n"),
                "{ctx}"
            );
            assert_eq!(
                r.stdout,
                format!(
                    " 5 12 62 {}\n 1  3 13 {}\n 6 15 75 total\n",
                    p("poem"),
                    p("nonl")
                ),
                "{ctx}"
            );
            // A directory: read fails with EISDIR, its (zero) counts still shown.
            let r = run_procs(mode, "wc", &[d.s()], procs);
            r.assert_exit(1);
            assert_eq!(
                r.stderr,
                format!("wc: {}: Is a directory (os error 21)\n", d.s())
            );
            assert_eq!(r.stdout, format!("      0       0       0 {}\n", d.s()));
        }
    }
}

#[test]
fn wc_counts_standard_input() {
    let input: String = (0..3000)
        .map(|i| format!("word{i} and\tmore  words {i}\n"))
        .collect();
    let (l, w, c) = (3000, 3000 * 5, input.len());
    for &mode in modes() {
        for procs in PROCS {
            let ctx = tag(mode, procs);
            // From a pipe: GNU's width 7.
            for lines in [false, true] {
                let args: &[&str] = if lines { &["--lines"] } else { &[] };
                let r = run_with_stdin(
                    with_procs(command(mode, "wc", args), procs),
                    input.as_bytes(),
                    None,
                );
                r.assert_exit(0);
                assert_eq!(r.stdout, format!("{l:>7} {w:>7} {c:>7}\n"), "{ctx}");
            }
            // "-" among files, stdin from a regular file.
            let d = TempDir::new(&format!("wcin-{ctx}"));
            std::fs::write(d.path("in"), &input).unwrap();
            std::fs::write(d.path("poem"), POEM).unwrap();
            let poem = d.path("poem");
            let r = run_with_stdin(
                with_procs(command(mode, "wc", &["-", poem.to_str().unwrap()]), procs),
                b"",
                Some(&d.path("in")),
            );
            r.assert_exit(0);
            let wd = (c + 62).to_string().len();
            assert_eq!(
                r.stdout,
                format!(
                    "{l:>wd$} {w:>wd$} {c:>wd$} -\n{:>wd$} {:>wd$} {:>wd$} {}\n{:>wd$} {:>wd$} {:>wd$} total\n",
                    5,
                    12,
                    62,
                    poem.display(),
                    l + 5,
                    w + 12,
                    c + 62
                ),
                "{ctx}"
            );
            // Empty standard input.
            let r = run_with_stdin(with_procs(command(mode, "wc", &[""; 0]), procs), b"", None);
            r.assert_exit(0);
            assert_eq!(r.stdout, "      0       0       0\n", "{ctx}");
        }
    }
}

#[test]
fn a_16_mib_file_copies_byte_identical() {
    let data = noise(16 << 20, 0x9e3779b97f4a7c15);
    let want = format!("{:#x}", fnv(&data));
    for &mode in modes() {
        for procs in PROCS {
            let d = TempDir::new(&format!("copy-{}", tag(mode, procs)));
            let (src, dst) = (d.path("src"), d.path("dst"));
            std::fs::write(&src, &data).unwrap();
            let r = run_procs(
                mode,
                "fsio",
                &["copy", src.to_str().unwrap(), dst.to_str().unwrap()],
                procs,
            );
            r.assert_exit(0);
            let ctx = tag(mode, procs);
            assert_eq!(r.get("copied"), "16777216", "{ctx}");
            assert_eq!(r.get("dst.len"), "16777216", "{ctx}");
            assert_eq!(r.get("read.len"), "16777216", "{ctx}");
            assert_eq!(r.get("read.fnv"), want, "{ctx}");
            assert_eq!(r.get("buffered.fnv"), want, "{ctx}");
            assert!(std::fs::read(&dst).unwrap() == data, "{ctx}: dst differs");
        }
    }
}

#[test]
fn read_dir_lists_exactly_the_files_created() {
    let mut want: Vec<String> = (0..50).map(|i| format!("f{i:02}")).collect();
    want.push("sub".into());
    let want = want.join(",");
    for &mode in modes() {
        for procs in PROCS {
            let d = TempDir::new(&format!("dir-{}", tag(mode, procs)));
            let r = run_procs(mode, "fsio", &["dir", d.s()], procs);
            r.assert_exit(0);
            let ctx = tag(mode, procs);
            assert_eq!(r.get("entries"), want, "{ctx}");
            assert_eq!(r.get("dirs"), "1", "{ctx}");
            assert_eq!(r.get("f07.len"), "7 is_file=true is_dir=false", "{ctx}");
            assert_eq!(r.get("f07.text"), "file 7");
            assert_eq!(r.get("sub.is_dir"), "true");
            assert_eq!(r.get("exists.f07"), "true");
            assert_eq!(r.get("exists.nope"), "false");
            assert_eq!(r.get("after"), "0", "{ctx}");
            // The program removed everything it made.
            assert_eq!(std::fs::read_dir(&d.0).unwrap().count(), 0, "{ctx}");
        }
    }
}

#[test]
fn errors_have_their_kinds_and_messages() {
    for &mode in modes() {
        let d = TempDir::new(&format!("errors-{mode:?}"));
        let r = run(mode, "fsio", &["errors", d.s()]);
        r.assert_exit(0);
        let check = |key: &str, kind: &str, msg: &str| {
            assert_eq!(r.get(&format!("{key}.kind")), kind, "{mode:?} {key}");
            assert_eq!(r.get(&format!("{key}.msg")), msg, "{mode:?} {key}");
        };
        let enoent = "No such file or directory (os error 2)";
        check("missing", "NotFound", enoent);
        check("nodir", "NotFound", enoent);
        check("dirwrite", "IsADirectory", "Is a directory (os error 21)");
        check("createnew", "AlreadyExists", "File exists (os error 17)");
        check("mkdir_exists", "AlreadyExists", "File exists (os error 17)");
        let nul = "file name contained an unexpected NUL byte";
        check("nul", "InvalidInput", nul);
        check("nul_write", "InvalidInput", nul);
        let long = "File name too long (os error 36)";
        check("long", "InvalidFilename", long);
        check("long_mkdir", "InvalidFilename", long);
        check("long_name", "InvalidFilename", long);
        check(
            "notempty",
            "DirectoryNotEmpty",
            "Directory not empty (os error 39)",
        );
        check("notdir", "NotADirectory", "Not a directory (os error 20)");
        check("dirread", "IsADirectory", "Is a directory (os error 21)");
        check(
            "under_file",
            "NotADirectory",
            "Not a directory (os error 20)",
        );
        check(
            "bad_options",
            "InvalidInput",
            "creating or truncating a file requires write or append access",
        );
        check(
            "no_access",
            "InvalidInput",
            "must specify at least one of read, write, or append access",
        );
        check("utf8", "InvalidData", "stream did not contain valid UTF-8");
        check(
            "rmdir_file",
            "NotADirectory",
            "Not a directory (os error 20)",
        );
        check("rm_missing", "NotFound", enoent);
        check(
            "write_readonly",
            "Other",
            "Bad file descriptor (os error 9)",
        );
        assert_eq!(r.stderr, "", "{mode:?}");
    }
}

#[test]
fn seek_set_len_append_and_the_seek_trait() {
    for &mode in modes() {
        let d = TempDir::new(&format!("seek-{mode:?}"));
        let r = run(mode, "fsio", &["seek", d.s()]);
        r.assert_exit(0);
        for (k, v) in [
            ("pos", "12"),
            ("at7", "world"),
            ("end-5", "7"),
            ("back2", "5"),
            ("negative.kind", "InvalidInput"),
            ("len", "5"),
            ("trunc", "hello"),
            ("eof.kind", "UnexpectedEof"),
            ("appended", "hello!?"),
            ("truncated", "0"),
            ("trait", "via trait"),
        ] {
            assert_eq!(r.get(k), v, "{mode:?} {k}");
        }
    }
}

#[test]
fn io_copy_over_sockets_and_pipes_through_the_embedded_io_traits() {
    let data = noise(3 << 20, 77);
    let want = format!("{:#x}", fnv(&data));
    for &mode in modes() {
        for procs in PROCS {
            let d = TempDir::new(&format!("streams-{}", tag(mode, procs)));
            let f = d.path("data");
            std::fs::write(&f, &data).unwrap();
            let r = run_procs(mode, "fsio", &["streams", f.to_str().unwrap()], procs);
            r.assert_exit(0);
            let ctx = tag(mode, procs);
            for k in ["file.fnv", "tcp.fnv", "unix.fnv", "pipe.fnv"] {
                assert_eq!(r.get(k), want, "{ctx} {k}");
            }
            assert_eq!(r.get("pipe.sent"), "3145728", "{ctx}");
            assert_eq!(r.get("pipe.got"), "3145728", "{ctx}");
            assert_eq!(r.get("pipe.status"), "exit status 0", "{ctx}");
        }
    }
}

#[test]
fn stdin_lines_strip_their_endings() {
    for &mode in modes() {
        let r = run_with_stdin(
            command(mode, "fsio", &["stdin-lines"]),
            b"first\nsecond line\r\n\nlast without newline",
            None,
        );
        r.assert_exit(0);
        assert_eq!(r.get("lines"), "4", "{mode:?}");
        assert_eq!(r.get("chars"), (5 + 11 + 20).to_string(), "{mode:?}");
        assert_eq!(r.get("longest"), "last without newline", "{mode:?}");
    }
}

/// What one call writes to standard output comes out whole, whatever else other
/// goroutines print: `writeln!` on io::stdout() (in pieces: inherent and through
/// embedded-io's trait), `println!` over 4 KiB, and `write_all` of 70 KB to a pipe
/// (over PIPE_BUF, which the kernel may split). Before, each piece of a writeln!
/// was its own write, and longer output went in 4 KiB writes: 500-2500 of 8280
/// lines had other goroutines' bytes inside them.
#[test]
fn concurrent_output_lines_come_out_whole() {
    for &mode in modes() {
        for procs in PROCS {
            let r = run_cmd(
                with_procs(command(mode, "fsio", &["tear"]), procs),
                Duration::from_secs(120),
            );
            r.assert_exit(0);
            let ctx = tag(mode, procs);
            let mut count = std::collections::HashMap::new();
            for line in r
                .stdout_bytes
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
            {
                let c = line[0];
                assert!(
                    line.iter().all(|&b| b == c),
                    "{ctx}: a torn line starting {:?}",
                    String::from_utf8_lossy(&line[..line.len().min(80)])
                );
                *count.entry((c, line.len())).or_insert(0) += 1;
            }
            for (letters, lines, len) in
                [("abcd", 2000, 30), ("efgh", 50, 5000), ("ijkl", 20, 70_000)]
            {
                for c in letters.bytes() {
                    assert_eq!(
                        count.get(&(c, len)),
                        Some(&lines),
                        "{ctx}: lines of {}",
                        c as char
                    );
                }
            }
        }
    }
}

/// A program started with standard streams closed (`prog >&-`) must not hand
/// those numbers to the files it opens: its prints would land in its own file, its
/// reads of stdin would read that file, and a child inheriting its stdio would get
/// the runtime's descriptors. gort opens /dev/null there at boot, as Go does.
#[test]
fn closed_standard_streams_are_not_reused_for_files() {
    for &mode in modes() {
        for closed in ["<&-", ">&- 2>&-", "<&- >&- 2>&-"] {
            let dir = TempDir::new(&format!("closed-stdio-{mode:?}-{}", closed.len()));
            let inner = command(mode, "fsio", &["closed-stdio", dir.s()]);
            // sh closes them for the program it execs.
            let mut sh = Command::new("sh");
            sh.arg("-c").arg(format!("exec \"$0\" \"$@\" {closed}"));
            let st = wrap(sh, &inner).stdin(Stdio::null()).status().unwrap();
            let ctx = format!("{mode:?} {closed}");
            assert!(st.success(), "{ctx}: {st:?}");
            let result = std::fs::read_to_string(dir.path("result")).unwrap();
            let get = |k: &str| {
                result
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{k}=")).map(str::to_string))
                    .unwrap_or_else(|| panic!("{ctx}: no {k} in {result:?}"))
            };
            assert_eq!(get("fd"), "3", "{ctx}: the first file opened");
            assert_eq!(
                get("file_intact"),
                "true",
                "{ctx}: prints went into the file"
            );
            assert_eq!(get("stdin"), "0", "{ctx}: standard input is /dev/null");
            assert_eq!(get("child"), "exit status 0", "{ctx}: the child's stdio");
        }
    }
}

/// A goroutine blocked in read(0) holds its thread in the kernel; with one P the
/// ticker's goroutine runs only if sysmon hands that P to another thread. The
/// program prints `ticks=20` after 20 ticks of 10 ms with the reader still blocked;
/// only then does the test write a line, which the reader must get.
#[test]
fn a_goroutine_blocked_on_stdin_does_not_stop_a_ticker() {
    for &mode in modes() {
        for procs in PROCS {
            let ctx = tag(mode, procs);
            let mut cmd = with_procs(command(mode, "fsio", &["stdin-tick"]), procs);
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let lines = Lines::new(child.stdout.take().unwrap());
            let why = format!("{ctx} (the ticker stopped?)");
            let mut next = || lines.next_or_kill(&mut child, Duration::from_secs(30), &why);
            assert_eq!(next(), "still_blocked=true", "{ctx}");
            assert_eq!(next(), "ticks=20", "{ctx}");
            stdin.write_all(b"hello from the test\n").unwrap();
            drop(stdin);
            assert_eq!(next(), "got=hello from the test", "{ctx}");
            assert_eq!(next(), "done ticks>=20=true", "{ctx}");
            let st = child.wait().unwrap();
            let err = stderr_text(&mut child);
            assert!(st.success(), "{ctx}: {st:?} {err}");
            assert_eq!(err, "", "{ctx}");
        }
    }
}
