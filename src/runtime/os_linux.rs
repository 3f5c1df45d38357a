//! What the runtime learns from Linux at boot, after Go's os_linux.go: the auxiliary
//! vector (page size, random seed, vDSO, hwcaps), the CPU count (sched_getaffinity,
//! lowered by a cgroup v2 `cpu.max` quota, as Go does since 1.25) and small file reads.
//!
//! Also `newosproc`, which starts an M's thread with Go's clone flags, each with
//! its reason. The boot part runs on g0 of m0 before the heap exists: no allocation.

use core::ffi::CStr;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::asm_amd64::{gort_clone, gort_mstart};
use super::runtime2::M;
use crate::runtime::sys_linux;

const AT_NULL: usize = 0;
const AT_PAGESZ: usize = 6;
const AT_HWCAP2: usize = 26;
const AT_RANDOM: usize = 25;
const AT_SYSINFO_EHDR: usize = 33;

/// Values from the auxv and osinit. Written once on m0 during boot (args, osinit),
/// before any other thread exists; read-only afterwards. So every access is
/// Relaxed: threads made later see the values through their creation (clone).
pub(crate) static PHYS_PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);
pub(crate) static STARTUP_RANDOM: AtomicUsize = AtomicUsize::new(0);
pub(crate) static VDSO_BASE: AtomicUsize = AtomicUsize::new(0);
pub(crate) static HWCAP2: AtomicUsize = AtomicUsize::new(0);
pub(crate) static NCPU: AtomicUsize = AtomicUsize::new(0);
/// The CPU count sched_getaffinity gave, before any cgroup quota.
pub(crate) static NCPU_AFFINITY: AtomicUsize = AtomicUsize::new(0);

/// sysargs: walk past envp to the auxiliary vector and record what we use. Runs on
/// g0 of m0 during boot (from args), before the heap exists: no allocation.
///
/// # Safety
/// argv must be the kernel's argv with argc entries: it is followed by envp and auxv.
pub(crate) unsafe fn sysargs(argc: i32, argv: *const *const u8) {
    // The kernel's layout: argv[argc] = NULL, then envp up to NULL, then auxv
    // (key, value) pairs up to AT_NULL.
    // SAFETY: argv has argc entries and a NULL after them (the caller's contract),
    // so envp starts right after.
    let mut p = unsafe { argv.add(argc as usize + 1) };
    // SAFETY: p walks envp, which ends with a NULL entry: every read is at or before it.
    while !unsafe { *p }.is_null() {
        // SAFETY: *p is not the NULL, so the array goes on.
        p = unsafe { p.add(1) };
    }
    // SAFETY: auxv starts right after envp's NULL.
    let mut auxv = unsafe { p.add(1) } as *const usize;
    loop {
        // SAFETY: auxv points at a (key, value) pair: the vector runs up to and
        // including the AT_NULL pair.
        let (key, val) = unsafe { (*auxv, *auxv.add(1)) };
        // Relaxed: boot, before any other thread exists (see PHYS_PAGE_SIZE).
        match key {
            AT_NULL => break,
            AT_PAGESZ => PHYS_PAGE_SIZE.store(val, Ordering::Relaxed),
            AT_RANDOM => STARTUP_RANDOM.store(val, Ordering::Relaxed),
            AT_SYSINFO_EHDR => VDSO_BASE.store(val, Ordering::Relaxed),
            AT_HWCAP2 => HWCAP2.store(val, Ordering::Relaxed),
            _ => {}
        }
        // SAFETY: key was not AT_NULL, so another pair follows.
        auxv = unsafe { auxv.add(2) };
    }
}

/// osinit: the number of CPUs and the page size. Runs on g0 of m0 during boot; no
/// allocation (the heap does not exist yet).
pub(crate) extern "C" fn osinit() {
    let aff = getproccount();
    // Relaxed, here and below: see PHYS_PAGE_SIZE.
    NCPU_AFFINITY.store(aff, Ordering::Relaxed);
    let ncpu = match cgroup_cpu_limit() {
        Some(limit) if limit < aff => limit,
        _ => aff,
    };
    NCPU.store(ncpu, Ordering::Relaxed);
    if PHYS_PAGE_SIZE.load(Ordering::Relaxed) == 0 {
        // Go: "failed to get system page size".
        crate::runtime::print::rt_eprintln!("runtime: no AT_PAGESZ in the auxiliary vector");
        crate::runtime::runtime1::throw("failed to get system page size");
    }
}

/// checkfds (Go's, fds_unix.go): a program started with standard input, output or
/// error closed (`prog >&-`, as some launchers do) gets /dev/null there. Otherwise
/// the first descriptor it opens takes that number: its own file would receive
/// what it prints (or be read as its stdin), and a child that inherits its stdio
/// would get whatever the runtime opened there. /dev/null is opened without
/// O_CLOEXEC: it stands for a standard stream, which children inherit. Runs in
/// schedinit on g0 of m0, before anything keeps a descriptor open (GORT_TRACE's
/// file, the poller); no allocation.
pub(crate) fn checkfds() {
    const O_RDWR: usize = 2;
    for fd in 0..3 {
        let r = sys_linux::fcntl_getfd(fd);
        if r >= 0 {
            continue;
        }
        if r != -sys_linux::EBADF {
            crate::runtime::print::rt_eprintln!(
                "runtime: unexpected error while checking standard file descriptor {fd}, errno={}",
                -r
            );
            crate::runtime::runtime1::throw("cannot open standard fds");
        }
        let n = sys_linux::open_flags(c"/dev/null", O_RDWR);
        if n < 0 {
            crate::runtime::print::rt_eprintln!(
                "runtime: standard file descriptor {fd} closed, unable to open /dev/null, errno={}",
                -n
            );
            crate::runtime::runtime1::throw("cannot open standard fds");
        }
        if n != fd as isize {
            crate::runtime::print::rt_eprintln!(
                "runtime: opened unexpected file descriptor {n} when attempting to open {fd}"
            );
            crate::runtime::runtime1::throw("cannot open standard fds");
        }
    }
}

/// The number of CPUs the runtime uses. Any thread.
pub(crate) fn ncpu() -> usize {
    // Relaxed: see NCPU.
    NCPU.load(Ordering::Relaxed)
}

/// The page size from the auxiliary vector. Any thread.
pub(crate) fn physpagesize() -> usize {
    // Relaxed: see PHYS_PAGE_SIZE.
    PHYS_PAGE_SIZE.load(Ordering::Relaxed)
}

/// The CPUs this process may run on: the popcount of its affinity mask (room for
/// 8192 CPUs, as Go). At least 1. Boot; no allocation.
fn getproccount() -> usize {
    let mut buf = [0u8; 1024];
    let r = sys_linux::sched_getaffinity(&mut buf);
    if r <= 0 {
        return 1;
    }
    let n: u32 = buf[..r as usize].iter().map(|b| b.count_ones()).sum();
    (n as usize).max(1)
}

/// Read a small file into buf; returns the bytes read, or None if it cannot be read.
/// Any thread; no allocation.
pub(crate) fn read_file<'a>(path: &CStr, buf: &'a mut [u8]) -> Option<&'a [u8]> {
    let fd = sys_linux::open_rdonly(path);
    if fd < 0 {
        return None;
    }
    let mut len = 0;
    while len < buf.len() {
        let n = sys_linux::read(fd as i32, &mut buf[len..]);
        if n == -sys_linux::EINTR {
            continue;
        }
        if n <= 0 {
            break;
        }
        len += n as usize;
    }
    sys_linux::close(fd as i32);
    Some(&buf[..len])
}

/// Parse a cgroup v2 `cpu.max` ("max 100000" or "QUOTA PERIOD") into the number of
/// CPUs the quota allows, rounded up, at least 1. None when there is no limit.
pub(crate) fn parse_cpu_max(s: &[u8]) -> Option<usize> {
    let s = s.strip_suffix(b"\n").unwrap_or(s);
    let mut it = s.split(|&c| c == b' ');
    let quota = it.next()?;
    let period = it.next().unwrap_or(b"100000");
    if quota == b"max" {
        return None;
    }
    let quota = parse_u64(quota)?;
    let period = parse_u64(period)?;
    if period == 0 {
        return None;
    }
    Some((quota.div_ceil(period) as usize).max(1))
}

fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, &c| n * 10 + (c - b'0') as u64))
}

/// From the contents of /proc/self/cgroup, the v2 cgroup path (the "0::" line).
pub(crate) fn cgroup_v2_path(s: &[u8]) -> Option<&[u8]> {
    s.split(|&c| c == b'\n')
        .find_map(|line| line.strip_prefix(b"0::"))
}

/// The CPU limit of this process's cgroup v2 and its ancestors (the lowest one), if
/// any quota is set. Where the cgroup path is not visible under /sys/fs/cgroup (a
/// cgroup namespace, a container), /sys/fs/cgroup itself is our cgroup.
fn cgroup_cpu_limit() -> Option<usize> {
    // No unified (v2) hierarchy mounted: no cpu.max to read. This check costs one
    // failed lookup, against ~20 us for reading /proc/self/cgroup.
    if !sys_linux::exists(c"/sys/fs/cgroup/cgroup.controllers") {
        return None;
    }
    let mut cg = [0u8; 1024];
    let path = read_file(c"/proc/self/cgroup", &mut cg).and_then(cgroup_v2_path);
    let mut best: Option<usize> = None;
    let mut found_any = false;
    if let Some(mut dir) = path {
        loop {
            let mut pbuf = [0u8; 1200];
            if let Some(p) = join_cpu_max(&mut pbuf, dir) {
                let mut b = [0u8; 64];
                if let Some(content) = read_file(p, &mut b) {
                    found_any = true;
                    if let Some(l) = parse_cpu_max(content) {
                        best = Some(best.map_or(l, |b| b.min(l)));
                    }
                }
            }
            // Up one level: "/a/b" -> "/a" -> "" (the root, which has no cpu.max).
            match dir.iter().rposition(|&c| c == b'/') {
                Some(i) if !dir.is_empty() => dir = &dir[..i],
                _ => break,
            }
            if dir.is_empty() {
                break;
            }
        }
    }
    if !found_any {
        let mut b = [0u8; 64];
        if let Some(content) = read_file(c"/sys/fs/cgroup/cpu.max", &mut b) {
            best = parse_cpu_max(content);
        }
    }
    best
}

/// "/sys/fs/cgroup" + dir + "/cpu.max" as a C string in buf.
fn join_cpu_max<'a>(buf: &'a mut [u8], dir: &[u8]) -> Option<&'a CStr> {
    let parts: [&[u8]; 4] = [b"/sys/fs/cgroup", dir, b"/cpu.max", b"\0"];
    let mut n = 0;
    for part in parts {
        buf.get_mut(n..n + part.len())?.copy_from_slice(part);
        n += part.len();
    }
    CStr::from_bytes_with_nul(&buf[..n]).ok()
}

// The clone flags of an M's thread (Go's cloneFlags, plus CLONE_SETTLS), each for
// gort's own reason:
/// Share the address space: an M is a thread of this process, not a new process.
const CLONE_VM: usize = 0x100;
/// Share cwd and umask: a goroutine moves between Ms, so they must agree.
const CLONE_FS: usize = 0x200;
/// Share the fd table: an fd one goroutine opened is used wherever it runs next.
const CLONE_FILES: usize = 0x400;
/// Share signal handlers: initsig installs them once, for every M.
const CLONE_SIGHAND: usize = 0x800;
/// Join the thread group: one pid, exit_group ends every M, process signals reach us.
const CLONE_THREAD: usize = 0x10000;
/// Share SysV semaphore undo lists: unused by gort, but qemu-user refuses a thread
/// clone without it (and Go sets it).
const CLONE_SYSVSEM: usize = 0x40000;
/// Set the thread's FS base to &mp.tls[1]: getg works from its first instruction.
const CLONE_SETTLS: usize = 0x80000;

/// newosproc starts mp's OS thread on mp.g0's stack, entering mstart with FS set to
/// &mp.tls[1]. All signals are blocked around the clone so that the new thread
/// takes none before minit has set it up (it starts with the blocked mask and
/// restores the process's in minit). Runs on g0.
///
/// # Safety
/// mp is a fully set up M (allocm, mcommoninit) with no thread yet.
pub(crate) unsafe fn newosproc(mp: *mut M) {
    const FLAGS: usize = CLONE_VM
        | CLONE_FS
        | CLONE_FILES
        | CLONE_SIGHAND
        | CLONE_SYSVSEM
        | CLONE_THREAD
        | CLONE_SETTLS;
    // SAFETY: mp is set up (the caller's contract) and no thread uses it yet: g0 is
    // set and immutable.
    let g0 = unsafe { (*mp).g0 };
    // SAFETY: as above: g0's stack was set by allocm and is not in use.
    let stk = unsafe { (*g0).stack.hi };
    let old = sys_linux::sigprocmask_set(!0);
    // SAFETY: the child starts on g0's own stack top, with its own TLS, in gort_mstart
    // (asm): it never returns into a Rust frame of this thread.
    let ret = unsafe { gort_clone(FLAGS, stk, mp, g0, gort_mstart) };
    sys_linux::sigprocmask_set(old);
    if ret < 0 {
        crate::runtime::print::rt_eprintln!(
            "runtime: failed to create new OS thread (have {} already; errno={})",
            super::proc::mcount(),
            -ret
        );
        if ret == -sys_linux::EAGAIN {
            crate::runtime::print::rt_eprintln!(
                "runtime: may need to increase max user processes (ulimit -u)"
            );
        }
        crate::runtime::runtime1::throw("newosproc");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_max() {
        assert_eq!(parse_cpu_max(b"max 100000\n"), None);
        assert_eq!(parse_cpu_max(b"200000 100000\n"), Some(2));
        assert_eq!(parse_cpu_max(b"150000 100000\n"), Some(2));
        assert_eq!(parse_cpu_max(b"50000 100000"), Some(1));
        assert_eq!(parse_cpu_max(b"1000 100000"), Some(1));
        assert_eq!(parse_cpu_max(b"400000"), Some(4));
        assert_eq!(parse_cpu_max(b"junk 100000"), None);
        assert_eq!(parse_cpu_max(b"100 0"), None);
        assert_eq!(parse_cpu_max(b""), None);
    }

    #[test]
    fn cgroup_path() {
        assert_eq!(
            cgroup_v2_path(b"0::/user.slice/a.scope\n"),
            Some(&b"/user.slice/a.scope"[..])
        );
        assert_eq!(cgroup_v2_path(b"12:cpu:/x\n0::/\n"), Some(&b"/"[..]));
        assert_eq!(cgroup_v2_path(b"12:cpu:/x\n"), None);
        let mut buf = [0u8; 64];
        assert_eq!(
            join_cpu_max(&mut buf, b"/a/b").unwrap().to_bytes(),
            b"/sys/fs/cgroup/a/b/cpu.max"
        );
    }
}
