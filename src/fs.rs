//! Files and directories (Go's `os` file functions, with std's `std::fs` names).
//!
//! # How file I/O waits
//!
//! Regular files cannot be polled: epoll refuses them, and a read of a file whose
//! pages are not cached blocks in the kernel however the descriptor is opened. So,
//! as Go's `os` package does for files, every file-system system call here (open,
//! read, write, lseek, fsync, fstat, getdents64, mkdir, unlink, close) runs as a
//! blocking call inside `entersyscall`/`exitsyscall` ([`crate::blocking`]). A
//! short call costs a few stores; one that lasts (a slow disk, a FIFO nobody opens,
//! NFS) has its P taken by the runtime's monitor (sysmon) and handed to another
//! thread, so other goroutines go on running, with `GOMAXPROCS=1` too.
//!
//! # Rules every call follows
//!
//! - Paths are `&str`. A path with a NUL byte is an `InvalidInput` error ("file name
//!   contained an unexpected NUL byte", as std says); a path of `PATH_MAX` (4096)
//!   bytes or more is `ENAMETOOLONG` (kind `InvalidFilename`); neither reaches the
//!   kernel. Short paths are made C strings on the stack, long ones on the heap.
//! - Every descriptor is opened with `O_CLOEXEC` (a child started by
//!   [`crate::process`] never inherits one by accident).
//! - `EINTR` is retried (no gort call returns it); `close` is never retried, since
//!   Linux releases the descriptor even when close reports `EINTR`, and a retry
//!   could close a descriptor another goroutine has just opened. A [`File`] closes
//!   on drop; errors from that close are ignored, as std does ([`File::sync_all`]
//!   first to see write-back errors).
//! - Errors are gort [`Error`]s carrying the errno: `NotFound` for a missing file,
//!   `IsADirectory` for a directory opened for writing, `AlreadyExists` for
//!   `create_new` on an existing file, ...
//!
//! Directory listings come from getdents64(2), read 8 KiB of entries at a time;
//! `.` and `..` are skipped, and the order is the file system's. Names that are
//! not UTF-8 are shown with U+FFFD in place of the bad bytes.

use alloc::ffi::CString;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::CStr;

use crate::io::{self, Error, ErrorKind, Result, SeekFrom};
use crate::runtime::sys_linux::fssys::{self, Stat, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW};
use crate::runtime::sys_linux::{self, EINTR};

const O_RDONLY: usize = 0;
const O_WRONLY: usize = 1;
const O_RDWR: usize = 2;
const O_CREAT: usize = 0o100;
const O_EXCL: usize = 0o200;
const O_TRUNC: usize = 0o1000;
const O_APPEND: usize = 0o2000;
const O_DIRECTORY: usize = 0o200000;
const O_CLOEXEC: usize = 0o2000000;

const EINVAL: i32 = 22;
const ENAMETOOLONG: i32 = 36;
/// Linux's PATH_MAX, the terminating NUL included.
const PATH_MAX: usize = 4096;

const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;

/// Run `f` with path as a NUL-terminated C string (on the stack when short). A NUL
/// inside the path is InvalidInput, PATH_MAX bytes or more ENAMETOOLONG.
fn with_cpath<T>(path: &str, f: impl FnOnce(&CStr) -> Result<T>) -> Result<T> {
    const STACK: usize = 384;
    let p = path.as_bytes();
    if p.len() >= PATH_MAX {
        return Err(Error::from_raw_os_error(ENAMETOOLONG));
    }
    let nul = || {
        Error::new_static(
            ErrorKind::InvalidInput,
            "file name contained an unexpected NUL byte",
        )
    };
    if p.len() < STACK {
        let mut buf = [0u8; STACK];
        buf[..p.len()].copy_from_slice(p);
        let c = CStr::from_bytes_with_nul(&buf[..=p.len()]).map_err(|_| nul())?;
        f(c)
    } else {
        let c = CString::new(p).map_err(|_| nul())?;
        f(&c)
    }
}

/// Run the system call `op` as a blocking call for the scheduler, retrying EINTR.
/// Returns its non-negative result or its error. Runs on a goroutine.
fn sys(mut op: impl FnMut() -> isize) -> Result<usize> {
    let r = crate::blocking(|| loop {
        let r = op();
        if r != -EINTR {
            break r;
        }
    });
    if r < 0 {
        Err(Error::from_neg(r))
    } else {
        Ok(r as usize)
    }
}

/// An open file (std's `File`, Go's `os.File`). Read, written and sought through
/// `&self`, so it can be shared; each call is one system call, with no buffering
/// in user space (wrap it in [`io::BufReader`] for line-at-a-time reading).
/// Closed when dropped.
#[derive(Debug)]
pub struct File {
    /// Owned: closed exactly once, by Drop.
    fd: i32,
}

/// How to open a file (std's `OpenOptions`): set the access and creation flags,
/// then [`open`](Self::open).
#[derive(Clone, Debug)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: u32,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// Every flag off; permissions 0o666 (less the umask) for a created file.
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            mode: 0o666,
        }
    }

    /// Open for reading.
    pub fn read(&mut self, on: bool) -> &mut Self {
        self.read = on;
        self
    }

    /// Open for writing.
    pub fn write(&mut self, on: bool) -> &mut Self {
        self.write = on;
        self
    }

    /// Open for writing at the end (every write appends; implies write).
    pub fn append(&mut self, on: bool) -> &mut Self {
        self.append = on;
        self
    }

    /// Cut an existing file to length 0 (needs write).
    pub fn truncate(&mut self, on: bool) -> &mut Self {
        self.truncate = on;
        self
    }

    /// Create the file if it does not exist (needs write or append).
    pub fn create(&mut self, on: bool) -> &mut Self {
        self.create = on;
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists (atomic:
    /// `O_CREAT|O_EXCL`; create and truncate are then ignored).
    pub fn create_new(&mut self, on: bool) -> &mut Self {
        self.create_new = on;
        self
    }

    /// The permission bits of a created file (std's `OpenOptionsExt::mode`),
    /// before the umask.
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = mode;
        self
    }

    /// The open(2) flags, or std's InvalidInput error (no OS code, std's text) for
    /// a combination that makes no sense (std's rules: no access at all, create or
    /// truncate without write, append with truncate).
    fn flags(&self) -> Result<usize> {
        let needs_write = || {
            Err(Error::new_static(
                ErrorKind::InvalidInput,
                "creating or truncating a file requires write or append access",
            ))
        };
        let creates = self.truncate || self.create || self.create_new;
        let access = match (self.read, self.write || self.append) {
            (true, false) => O_RDONLY,
            (false, true) => O_WRONLY,
            (true, true) => O_RDWR,
            (false, false) if creates => return needs_write(),
            (false, false) => {
                return Err(Error::new_static(
                    ErrorKind::InvalidInput,
                    "must specify at least one of read, write, or append access",
                ))
            }
        };
        if !self.write && !self.append && creates {
            return needs_write();
        }
        if self.append && self.truncate && !self.create_new {
            return needs_write();
        }
        let creation = match (self.create, self.truncate, self.create_new) {
            (_, _, true) => O_CREAT | O_EXCL,
            (false, false, false) => 0,
            (true, false, false) => O_CREAT,
            (false, true, false) => O_TRUNC,
            (true, true, false) => O_CREAT | O_TRUNC,
        };
        let append = if self.append { O_APPEND } else { 0 };
        Ok(access | creation | append | O_CLOEXEC)
    }

    /// Open path with these options.
    pub fn open(&self, path: &str) -> Result<File> {
        let flags = self.flags()?;
        let fd = with_cpath(path, |c| sys(|| fssys::openat(c, flags, self.mode)))?;
        Ok(File { fd: fd as i32 })
    }
}

impl File {
    /// Open path for reading.
    pub fn open(path: &str) -> Result<File> {
        OpenOptions::new().read(true).open(path)
    }

    /// Open path for writing, creating it or cutting it to length 0.
    pub fn create(path: &str) -> Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
    }

    /// Create path for reading and writing; `AlreadyExists` if it exists.
    pub fn create_new(path: &str) -> Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
    }

    /// New [`OpenOptions`] (std's `File::options`).
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// The file descriptor (still owned by the File).
    pub fn as_raw_fd(&self) -> i32 {
        self.fd
    }

    /// Read some bytes at the file offset into buf; 0 at end of file.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        sys(|| sys_linux::read(self.fd, buf))
    }

    /// Fill buf; `UnexpectedEof` if the file ends first.
    pub fn read_exact(&self, buf: &mut [u8]) -> Result<()> {
        io::read_exact(&mut &*self, buf)
    }

    /// Append the rest of the file to out; returns how many bytes.
    pub fn read_to_end(&self, out: &mut Vec<u8>) -> Result<usize> {
        // The size left is a hint: one read when it is right, no harm when not.
        if let Ok(m) = self.metadata() {
            let pos = self.seek(SeekFrom::Current(0)).unwrap_or(0);
            let left = m.len().saturating_sub(pos);
            out.reserve(usize::try_from(left).unwrap_or(0).saturating_add(1));
        }
        io::read_to_end(&mut &*self, out)
    }

    /// Append the rest of the file to s (valid UTF-8, or `InvalidData` and s
    /// unchanged); returns how many bytes.
    pub fn read_to_string(&self, s: &mut String) -> Result<usize> {
        let mut v = Vec::new();
        let n = self.read_to_end(&mut v)?;
        let text = core::str::from_utf8(&v).map_err(|_| {
            Error::new_static(ErrorKind::InvalidData, "stream did not contain valid UTF-8")
        })?;
        s.push_str(text);
        Ok(n)
    }

    /// Write some of buf at the file offset (at the end with append); returns how
    /// many bytes.
    pub fn write(&self, buf: &[u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        sys(|| sys_linux::write(self.fd, buf))
    }

    /// Write all of buf, continuing after short writes.
    pub fn write_all(&self, buf: &[u8]) -> Result<()> {
        io::write_all(&mut &*self, buf)
    }

    /// Nothing is buffered in user space: always `Ok` (see
    /// [`sync_all`](Self::sync_all) for the disk).
    pub fn flush(&self) -> Result<()> {
        Ok(())
    }

    /// Move the file offset; returns the new offset from the start.
    pub fn seek(&self, pos: SeekFrom) -> Result<u64> {
        const SEEK_SET: u32 = 0;
        const SEEK_CUR: u32 = 1;
        const SEEK_END: u32 = 2;
        let (off, whence) = match pos {
            SeekFrom::Start(n) => (
                i64::try_from(n).map_err(|_| Error::from_raw_os_error(EINVAL))?,
                SEEK_SET,
            ),
            SeekFrom::Current(n) => (n, SEEK_CUR),
            SeekFrom::End(n) => (n, SEEK_END),
        };
        sys(|| fssys::lseek(self.fd, off, whence)).map(|n| n as u64)
    }

    /// The file offset (std's `stream_position`).
    pub fn stream_position(&self) -> Result<u64> {
        self.seek(SeekFrom::Current(0))
    }

    /// Write data and metadata to the device (fsync).
    pub fn sync_all(&self) -> Result<()> {
        sys(|| fssys::fsync(self.fd, false)).map(drop)
    }

    /// Write data to the device (fdatasync).
    pub fn sync_data(&self) -> Result<()> {
        sys(|| fssys::fsync(self.fd, true)).map(drop)
    }

    /// Cut or extend (with zeros) the file to len bytes; the offset stays.
    pub fn set_len(&self, len: u64) -> Result<()> {
        if len > i64::MAX as u64 {
            return Err(Error::from_raw_os_error(EINVAL));
        }
        sys(|| fssys::ftruncate(self.fd, len)).map(drop)
    }

    /// The file's metadata (fstat).
    pub fn metadata(&self) -> Result<Metadata> {
        let mut st = Stat::default();
        sys(|| fssys::fstat(self.fd, &mut st))?;
        Ok(Metadata { st })
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // Never retried: the descriptor is gone whatever close says.
        crate::blocking(|| sys_linux::close(self.fd));
    }
}

impl embedded_io::ErrorType for File {
    type Error = Error;
}

impl embedded_io::ErrorType for &File {
    type Error = Error;
}

impl embedded_io::Read for File {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        File::read(self, buf)
    }
}

impl embedded_io::Read for &File {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        File::read(self, buf)
    }
}

impl embedded_io::Write for File {
    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        File::write(self, buf)
    }
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
    fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        File::write_all(self, buf)
    }
}

impl embedded_io::Write for &File {
    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        File::write(self, buf)
    }
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
    fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        File::write_all(self, buf)
    }
}

impl embedded_io::Seek for File {
    fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        File::seek(self, pos)
    }
}

impl embedded_io::Seek for &File {
    fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        File::seek(self, pos)
    }
}

/// What a file is (std's `FileType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileType {
    /// The S_IFMT bits of st_mode.
    fmt: u32,
}

impl FileType {
    /// A directory.
    pub fn is_dir(&self) -> bool {
        self.fmt == S_IFDIR
    }

    /// A regular file.
    pub fn is_file(&self) -> bool {
        self.fmt == S_IFREG
    }

    /// A symbolic link (only from [`symlink_metadata`] or a [`DirEntry`]).
    pub fn is_symlink(&self) -> bool {
        self.fmt == S_IFLNK
    }
}

/// A file's metadata, from stat(2) (std's `Metadata`).
#[derive(Clone, Copy)]
pub struct Metadata {
    st: Stat,
}

impl core::fmt::Debug for Metadata {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Metadata")
            .field("file_type", &self.file_type())
            .field("len", &self.len())
            .field("mode", &format_args!("{:#o}", self.mode()))
            .finish()
    }
}

impl Metadata {
    /// The size in bytes.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u64 {
        self.st.size as u64
    }

    /// What the file is.
    pub fn file_type(&self) -> FileType {
        FileType {
            fmt: self.st.mode & S_IFMT,
        }
    }

    /// A directory.
    pub fn is_dir(&self) -> bool {
        self.file_type().is_dir()
    }

    /// A regular file.
    pub fn is_file(&self) -> bool {
        self.file_type().is_file()
    }

    /// A symbolic link (only from [`symlink_metadata`]).
    pub fn is_symlink(&self) -> bool {
        self.file_type().is_symlink()
    }

    /// st_mode: the type and permission bits (std's `MetadataExt::mode`).
    pub fn mode(&self) -> u32 {
        self.st.mode
    }

    /// The last modification time, in seconds since the Unix epoch.
    pub fn mtime(&self) -> i64 {
        self.st.mtime[0]
    }

    /// The inode number.
    pub fn ino(&self) -> u64 {
        self.st.ino
    }
}

fn stat_path(path: &str, flags: usize) -> Result<Metadata> {
    let mut st = Stat::default();
    with_cpath(path, |c| sys(|| fssys::stat(c, &mut st, flags)))?;
    Ok(Metadata { st })
}

/// The metadata of the file at path, following symbolic links.
pub fn metadata(path: &str) -> Result<Metadata> {
    stat_path(path, 0)
}

/// The metadata of path itself, a symbolic link not followed.
pub fn symlink_metadata(path: &str) -> Result<Metadata> {
    stat_path(path, AT_SYMLINK_NOFOLLOW)
}

/// Whether path exists (std's `fs::exists`): `Ok(false)` only for `NotFound`.
pub fn exists(path: &str) -> Result<bool> {
    match metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The whole file at path.
pub fn read(path: &str) -> Result<Vec<u8>> {
    let f = File::open(path)?;
    let mut v = Vec::new();
    f.read_to_end(&mut v)?;
    Ok(v)
}

/// The whole file at path as a string (`InvalidData` if it is not UTF-8).
pub fn read_to_string(path: &str) -> Result<String> {
    let f = File::open(path)?;
    let mut s = String::new();
    f.read_to_string(&mut s)?;
    Ok(s)
}

/// Make path a file holding exactly contents (created, or cut and rewritten).
pub fn write<C: AsRef<[u8]>>(path: &str, contents: C) -> Result<()> {
    File::create(path)?.write_all(contents.as_ref())
}

/// Remove the file (or symbolic link) at path.
pub fn remove_file(path: &str) -> Result<()> {
    with_cpath(path, |c| sys(|| fssys::unlink(c, 0))).map(drop)
}

/// Remove the empty directory at path.
pub fn remove_dir(path: &str) -> Result<()> {
    with_cpath(path, |c| sys(|| fssys::unlink(c, AT_REMOVEDIR))).map(drop)
}

/// Rename from to to, replacing to if it is a file.
pub fn rename(from: &str, to: &str) -> Result<()> {
    with_cpath(from, |f| with_cpath(to, |t| sys(|| fssys::rename(f, t)))).map(drop)
}

/// Create the directory path (its parent must exist; `AlreadyExists` if it does).
pub fn create_dir(path: &str) -> Result<()> {
    with_cpath(path, |c| sys(|| fssys::mkdir(c, 0o777))).map(drop)
}

/// path without its last component: `a/b` → `a`, `a` → ``, `/a` → `/`, `/` → none.
fn parent(path: &str) -> Option<&str> {
    let p = path.trim_end_matches('/');
    if p.is_empty() {
        return None;
    }
    match p.rfind('/') {
        Some(i) => {
            let up = p[..i].trim_end_matches('/');
            Some(if up.is_empty() && p.starts_with('/') {
                "/"
            } else {
                up
            })
        }
        None => Some(""),
    }
}

/// Create the directory path and any missing parents; a directory that exists
/// already (or that another goroutine or process creates meanwhile) is fine.
pub fn create_dir_all(path: &str) -> Result<()> {
    if path.is_empty() {
        return Ok(());
    }
    let is_dir = |p: &str| metadata(p).map(|m| m.is_dir()).unwrap_or(false);
    match create_dir(path) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(_) if is_dir(path) => return Ok(()),
        Err(e) => return Err(e),
    }
    match parent(path) {
        Some(p) => create_dir_all(p)?,
        None => {
            return Err(Error::new_static(
                ErrorKind::Other,
                "failed to create whole tree",
            ))
        }
    }
    match create_dir(path) {
        Ok(()) => Ok(()),
        Err(_) if is_dir(path) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The entries of the directory at path, `.` and `..` left out (std's `read_dir`).
pub fn read_dir(path: &str) -> Result<ReadDir> {
    let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    let fd = with_cpath(path, |c| sys(|| fssys::openat(c, flags, 0)))?;
    Ok(ReadDir {
        fd: fd as i32,
        dir: String::from(path),
        buf: vec![0; 8 * 1024],
        pos: 0,
        len: 0,
        done: false,
    })
}

/// An iterator over a directory's entries (std's `ReadDir`): each item is a
/// [`DirEntry`] or the error that ended the listing.
pub struct ReadDir {
    /// Owned, O_DIRECTORY; closed by Drop.
    fd: i32,
    dir: String,
    /// buf[pos..len] holds linux_dirent64 records not yet returned.
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    done: bool,
}

impl Drop for ReadDir {
    fn drop(&mut self) {
        crate::blocking(|| sys_linux::close(self.fd));
    }
}

/// One record of getdents64: `struct linux_dirent64 { u64 d_ino; i64 d_off; u16
/// d_reclen; u8 d_type; char d_name[]; }`, the name NUL-terminated within reclen.
/// Returns (reclen, d_type, name), or None if the record is malformed.
fn parse_dirent(rec: &[u8]) -> Option<(usize, u8, &[u8])> {
    const NAME: usize = 19;
    let reclen = u16::from_ne_bytes([*rec.get(16)?, *rec.get(17)?]) as usize;
    if reclen <= NAME || reclen > rec.len() {
        return None;
    }
    let d_type = rec[18];
    let raw = &rec[NAME..reclen];
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    Some((reclen, d_type, &raw[..end]))
}

impl Iterator for ReadDir {
    type Item = Result<DirEntry>;

    fn next(&mut self) -> Option<Result<DirEntry>> {
        loop {
            if self.done {
                return None;
            }
            if self.pos >= self.len {
                let (fd, buf) = (self.fd, &mut self.buf);
                match sys(|| fssys::getdents64(fd, buf)) {
                    Ok(0) => {
                        self.done = true;
                        return None;
                    }
                    Ok(n) => {
                        self.pos = 0;
                        self.len = n.min(self.buf.len());
                    }
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
            }
            let Some((reclen, d_type, name)) = parse_dirent(&self.buf[self.pos..self.len]) else {
                self.done = true;
                return Some(Err(Error::new_static(
                    ErrorKind::InvalidData,
                    "malformed directory entry from getdents64",
                )));
            };
            self.pos += reclen;
            if name == b"." || name == b".." {
                continue;
            }
            let name = String::from_utf8_lossy(name);
            let mut path = self.dir.clone();
            if !path.ends_with('/') {
                path.push('/');
            }
            let name_at = path.len();
            path.push_str(&name);
            return Some(Ok(DirEntry {
                path,
                name_at,
                d_type,
            }));
        }
    }
}

/// One entry of a directory listing (std's `DirEntry`).
#[derive(Clone, Debug)]
pub struct DirEntry {
    /// The directory's path as given to read_dir, '/', the name.
    path: String,
    /// Where the name starts in path.
    name_at: usize,
    /// getdents64's d_type (DT_UNKNOWN = 0: ask lstat).
    d_type: u8,
}

impl DirEntry {
    /// The entry's name (no directory part).
    pub fn file_name(&self) -> &str {
        &self.path[self.name_at..]
    }

    /// The directory's path joined with the name.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What the entry is, symbolic links not followed (from the listing itself
    /// where the file system says, else lstat).
    pub fn file_type(&self) -> Result<FileType> {
        const DT_DIR: u8 = 4;
        const DT_REG: u8 = 8;
        const DT_LNK: u8 = 10;
        let fmt = match self.d_type {
            DT_DIR => S_IFDIR,
            DT_REG => S_IFREG,
            DT_LNK => S_IFLNK,
            _ => return Ok(self.metadata()?.file_type()),
        };
        Ok(FileType { fmt })
    }

    /// The entry's metadata, a symbolic link not followed.
    pub fn metadata(&self) -> Result<Metadata> {
        symlink_metadata(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_as_std_paths_have_them() {
        assert_eq!(parent("a/b/c"), Some("a/b"));
        assert_eq!(parent("a/b/"), Some("a"));
        assert_eq!(parent("a"), Some(""));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("//a//b"), Some("//a"));
        assert_eq!(parent("/"), None);
        assert_eq!(parent(""), None);
    }

    #[test]
    fn open_flags_follow_std_rules() {
        let f = |o: &OpenOptions| o.flags().map_err(|e| (e.raw_os_error(), e.to_string()));
        let no_access = Err((
            None,
            "must specify at least one of read, write, or append access".into(),
        ));
        let needs_write = || {
            Err((
                None,
                "creating or truncating a file requires write or append access".into(),
            ))
        };
        assert_eq!(f(OpenOptions::new().read(true)), Ok(O_RDONLY | O_CLOEXEC));
        assert_eq!(
            f(OpenOptions::new().write(true).create(true).truncate(true)),
            Ok(O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC)
        );
        assert_eq!(
            f(OpenOptions::new().append(true).create(true)),
            Ok(O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC)
        );
        assert_eq!(
            f(OpenOptions::new().read(true).write(true).create_new(true)),
            Ok(O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC)
        );
        assert_eq!(f(&OpenOptions::new()), no_access);
        assert_eq!(f(OpenOptions::new().create(true)), needs_write());
        assert_eq!(f(OpenOptions::new().read(true).create(true)), needs_write());
        assert_eq!(
            f(OpenOptions::new().append(true).truncate(true)),
            needs_write()
        );
    }

    #[test]
    fn bad_paths_never_reach_the_kernel() {
        let called = core::cell::Cell::new(false);
        let e = with_cpath("a\0b", |_| {
            called.set(true);
            Ok(())
        })
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let long = "x".repeat(PATH_MAX);
        let e = with_cpath(&long, |_| {
            called.set(true);
            Ok(())
        })
        .unwrap_err();
        assert_eq!(e.raw_os_error(), Some(ENAMETOOLONG));
        let mid = "y".repeat(1000) + "\0";
        assert!(with_cpath(&mid, |_| Ok(())).is_err());
        assert!(!called.get());
        let got = with_cpath(&"z".repeat(1000), |c| Ok(c.to_bytes().len())).unwrap();
        assert_eq!(got, 1000);
    }

    #[test]
    fn dirents_parse_and_reject_garbage() {
        let mut rec = vec![0u8; 24];
        rec[16..18].copy_from_slice(&24u16.to_ne_bytes());
        rec[18] = 8;
        rec[19..22].copy_from_slice(b"abc");
        assert_eq!(parse_dirent(&rec), Some((24, 8, &b"abc"[..])));
        rec[16..18].copy_from_slice(&99u16.to_ne_bytes());
        assert_eq!(parse_dirent(&rec), None);
        rec[16..18].copy_from_slice(&0u16.to_ne_bytes());
        assert_eq!(parse_dirent(&rec), None);
        assert_eq!(parse_dirent(&rec[..10]), None);
    }
}
