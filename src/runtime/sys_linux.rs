//! The system calls the runtime makes, one thin wrapper each. This file (and the
//! assembly in rt0/ that cannot call Rust: settls, clone) holds the only `syscall`
//! instructions; they go through the `syscalls` crate's raw entry points.
//!
//! Wrappers return the kernel's raw result: a value, or -errno in -4095..=-1.
//! None of them allocates, and all are safe to call on any stack with a few hundred
//! bytes free.

use syscalls::raw::{syscall1, syscall2, syscall3, syscall4, syscall6};
use syscalls::Sysno;

pub(crate) const EPERM: isize = 1;
pub(crate) const EINTR: isize = 4;
pub(crate) const EFAULT: isize = 14;
pub(crate) const EAGAIN: isize = 11;
pub(crate) const ENOMEM: isize = 12;
pub(crate) const EPIPE: isize = 32;
pub(crate) const EBADF: isize = 9;
pub(crate) const ENOSYS: isize = 38;

pub(crate) const PROT_NONE: usize = 0;
pub(crate) const PROT_READ: usize = 1;
pub(crate) const PROT_WRITE: usize = 2;
pub(crate) const MAP_PRIVATE: usize = 0x02;
pub(crate) const MAP_ANONYMOUS: usize = 0x20;
pub(crate) const MAP_NORESERVE: usize = 0x4000;
pub(crate) const MADV_POPULATE_WRITE: usize = 23;

pub(crate) const ARCH_SET_FS: usize = 0x1002;
pub(crate) const ARCH_GET_FS: usize = 0x1003;

pub(crate) const O_RDONLY: usize = 0;
pub(crate) const O_CLOEXEC: usize = 0o2000000;

pub(crate) const FUTEX_WAIT_PRIVATE: usize = 128;
pub(crate) const FUTEX_WAKE_PRIVATE: usize = 129;

/// A raw return value that is an error: -4095..=-1.
#[inline]
pub(crate) fn is_err(r: isize) -> bool {
    (-4095..0).contains(&r)
}

/// write(2). Returns bytes written or -errno.
#[inline]
pub(crate) fn write(fd: i32, buf: &[u8]) -> isize {
    // SAFETY: the kernel only reads buf.len() bytes from a live slice.
    unsafe {
        syscall3(
            Sysno::write as usize,
            fd as usize,
            buf.as_ptr() as usize,
            buf.len(),
        ) as isize
    }
}

/// process_madvise(PIDFD_SELF, iov, advice): advise on many ranges of our own memory
/// in one call. Returns the bytes advised or -errno.
///
/// # Safety
/// As madvise, for every range in iov.
pub(crate) unsafe fn process_madvise_self(iov: &[[usize; 2]], advice: usize) -> isize {
    // PIDFD_SELF_THREAD: this thread's own mm.
    const PIDFD_SELF: isize = -10000;
    // SAFETY: the kernel reads iov.len() iovecs ({base, len} pairs) from iov, and the
    // caller guarantees every range may take the advice.
    unsafe {
        syscalls::raw::syscall5(
            Sysno::process_madvise as usize,
            PIDFD_SELF as usize,
            iov.as_ptr() as usize,
            iov.len(),
            advice,
            0,
        ) as isize
    }
}

/// madvise(2).
///
/// # Safety
/// Advice like MADV_DONTNEED or MADV_GUARD_INSTALL changes what the memory holds or
/// allows: nothing may rely on the old contents or access.
pub(crate) unsafe fn madvise(addr: usize, len: usize, advice: usize) -> isize {
    // SAFETY: the caller guarantees the range may take the advice.
    unsafe { syscall3(Sysno::madvise as usize, addr, len, advice) as isize }
}

/// read(2) into buf. Returns bytes read or -errno.
#[inline]
pub(crate) fn read(fd: i32, buf: &mut [u8]) -> isize {
    // SAFETY: the kernel writes at most buf.len() bytes into a live, exclusive slice.
    unsafe {
        syscall3(
            Sysno::read as usize,
            fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
        ) as isize
    }
}

/// open(2) of a NUL-terminated path, read-only. Returns the fd or -errno.
pub(crate) fn open_rdonly(path: &core::ffi::CStr) -> isize {
    // SAFETY: path is NUL-terminated and lives across the call.
    unsafe {
        syscall3(
            Sysno::open as usize,
            path.as_ptr() as usize,
            O_RDONLY | O_CLOEXEC,
            0,
        ) as isize
    }
}

/// open(2) of a NUL-terminated path with flags. Returns the fd or -errno.
pub(crate) fn open_flags(path: &core::ffi::CStr, flags: usize) -> isize {
    // SAFETY: path is NUL-terminated and lives across the call.
    unsafe { syscall3(Sysno::open as usize, path.as_ptr() as usize, flags, 0) as isize }
}

/// Whether path exists (faccessat(AT_FDCWD, path, F_OK)).
pub(crate) fn exists(path: &core::ffi::CStr) -> bool {
    access(path, 0)
}

/// faccessat(AT_FDCWD, path, mode) succeeds: mode is F_OK (0) or an or of R_OK
/// (4), W_OK (2), X_OK (1).
pub(crate) fn access(path: &core::ffi::CStr, mode: usize) -> bool {
    // SAFETY: path is NUL-terminated and lives across the call.
    unsafe {
        syscall3(
            Sysno::faccessat as usize,
            -100isize as usize,
            path.as_ptr() as usize,
            mode,
        ) == 0
    }
}

/// fcntl(2) F_GETFD: fd's descriptor flags, or -errno (-EBADF: fd is not open).
pub(crate) fn fcntl_getfd(fd: i32) -> isize {
    // SAFETY: F_GETFD only reads the descriptor's flags; no memory is passed.
    unsafe {
        syscall2(Sysno::fcntl as usize, fd as usize, 1 /* F_GETFD */) as isize
    }
}

/// close(2).
pub(crate) fn close(fd: i32) -> isize {
    // SAFETY: closing a descriptor has no memory effects on this process.
    unsafe { syscall1(Sysno::close as usize, fd as usize) as isize }
}

/// exit_group(2): ends every thread of the process.
pub(crate) fn exit_group(code: i32) -> ! {
    // A trace still being written (a fatal error, a panic, a signal): flush it.
    super::trace::flush_at_death();
    // SAFETY: exit_group does not return and touches no memory.
    unsafe {
        syscall1(Sysno::exit_group as usize, code as usize);
    }
    // Unreachable unless the kernel refused; make sure we never continue.
    loop {
        // SAFETY: as above.
        unsafe {
            syscall1(Sysno::exit as usize, code as usize);
        }
    }
}

/// mmap(2) of anonymous private memory. Returns the address or -errno.
pub(crate) fn mmap_anon(len: usize, prot: usize, extra_flags: usize) -> isize {
    // SAFETY: an anonymous mapping at a kernel-chosen address cannot overlap memory
    // this program uses.
    unsafe {
        syscall6(
            Sysno::mmap as usize,
            0,
            len,
            prot,
            MAP_PRIVATE | MAP_ANONYMOUS | extra_flags,
            usize::MAX, // fd -1
            0,
        ) as isize
    }
}

/// mmap(2) of an anonymous PROT_NONE-or-other region exactly at addr, only if
/// nothing is mapped there (MAP_FIXED_NOREPLACE, Linux 4.17). Returns addr, or
/// -errno (EEXIST: something is there). A kernel that predates the flag takes
/// addr as a hint and may map elsewhere: the caller must compare and unmap.
pub(crate) fn mmap_anon_at(addr: usize, len: usize, prot: usize, extra_flags: usize) -> isize {
    const MAP_FIXED_NOREPLACE: usize = 0x100000;
    // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping, so this
    // cannot overlap memory the program uses.
    unsafe {
        syscall6(
            Sysno::mmap as usize,
            addr,
            len,
            prot,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | extra_flags,
            usize::MAX, // fd -1
            0,
        ) as isize
    }
}

/// munmap(2).
///
/// # Safety
/// Nothing may use [addr, addr+len) afterwards.
pub(crate) unsafe fn munmap(addr: usize, len: usize) -> isize {
    // SAFETY: the caller guarantees the range is dead.
    unsafe { syscall2(Sysno::munmap as usize, addr, len) as isize }
}

/// mprotect(2).
///
/// # Safety
/// Removing access from memory in use makes its next access fault.
pub(crate) unsafe fn mprotect(addr: usize, len: usize, prot: usize) -> isize {
    // SAFETY: the caller guarantees the range may take the new protection.
    unsafe { syscall3(Sysno::mprotect as usize, addr, len, prot) as isize }
}

/// arch_prctl(ARCH_GET_FS): the current thread's FS base.
pub(crate) fn get_fs() -> usize {
    let mut fs: usize = 0;
    // SAFETY: the kernel writes one usize into `fs`, which lives across the call.
    unsafe {
        syscall2(
            Sysno::arch_prctl as usize,
            ARCH_GET_FS,
            &mut fs as *mut usize as usize,
        );
    }
    fs
}

/// sched_getaffinity(0) into mask. Returns the bytes written or -errno.
pub(crate) fn sched_getaffinity(mask: &mut [u8]) -> isize {
    // SAFETY: the kernel writes at most mask.len() bytes into the exclusive slice.
    unsafe {
        syscall3(
            Sysno::sched_getaffinity as usize,
            0,
            mask.len(),
            mask.as_mut_ptr() as usize,
        ) as isize
    }
}

/// futex(FUTEX_WAIT_PRIVATE): sleep while *addr == val. Returns 0 or -errno
/// (EAGAIN when *addr != val, EINTR on a signal).
pub(crate) fn futex_wait(addr: &core::sync::atomic::AtomicU32, val: u32) -> isize {
    // SAFETY: addr is a live u32; a null timeout means no timeout.
    unsafe {
        syscall4(
            Sysno::futex as usize,
            addr.as_ptr() as usize,
            FUTEX_WAIT_PRIVATE,
            val as usize,
            0,
        ) as isize
    }
}

/// A relative struct timespec (tv_sec, tv_nsec) of ns (>= 0) nanoseconds.
const fn timespec(ns: i64) -> [i64; 2] {
    [ns / 1_000_000_000, ns % 1_000_000_000]
}

/// futex(FUTEX_WAIT_PRIVATE) with a relative timeout of ns nanoseconds. Returns 0
/// or -errno (ETIMEDOUT, EAGAIN, EINTR).
pub(crate) fn futex_wait_timeout(addr: &core::sync::atomic::AtomicU32, val: u32, ns: i64) -> isize {
    let ts = timespec(ns);
    // SAFETY: addr is a live u32; ts is a valid relative timespec.
    unsafe {
        syscall4(
            Sysno::futex as usize,
            addr.as_ptr() as usize,
            FUTEX_WAIT_PRIVATE,
            val as usize,
            ts.as_ptr() as usize,
        ) as isize
    }
}

/// futex(FUTEX_WAKE_PRIVATE): wake up to n waiters on addr.
pub(crate) fn futex_wake(addr: &core::sync::atomic::AtomicU32, n: u32) -> isize {
    // SAFETY: wake only reads the address as a key.
    unsafe {
        syscall3(
            Sysno::futex as usize,
            addr.as_ptr() as usize,
            FUTEX_WAKE_PRIVATE,
            n as usize,
        ) as isize
    }
}

/// gettid(2): the calling thread's kernel id.
pub(crate) fn gettid() -> i64 {
    // SAFETY: no memory effects.
    unsafe { syscalls::raw::syscall0(Sysno::gettid as usize) as i64 }
}

/// rt_sigprocmask(SIG_SETMASK, mask): set the thread's blocked signals (bit n-1 for
/// signal n); returns the previous mask.
pub(crate) fn sigprocmask_set(mask: u64) -> u64 {
    let mut old: u64 = 0;
    // SAFETY: the kernel reads 8 bytes from `mask` and writes 8 into `old`.
    unsafe {
        syscall4(
            Sysno::rt_sigprocmask as usize,
            2, // SIG_SETMASK
            &mask as *const u64 as usize,
            &mut old as *mut u64 as usize,
            8,
        );
    }
    old
}

/// rt_sigprocmask(SIG_UNBLOCK, mask): unblock the signals of mask (bit n-1 for
/// signal n) on the calling thread.
pub(crate) fn sigunblock(mask: u64) {
    // SAFETY: the kernel reads 8 bytes from `mask`; no old mask is asked.
    unsafe {
        syscall4(
            Sysno::rt_sigprocmask as usize,
            1, // SIG_UNBLOCK
            &mask as *const u64 as usize,
            0,
            8,
        );
    }
}

/// clock_gettime(CLOCK_MONOTONIC) into the timespec at p; -EFAULT if p cannot be
/// written (a probe: the kernel checks p itself).
///
/// # Safety
/// If p is writable, 16 bytes there are overwritten.
pub(crate) unsafe fn clock_gettime_raw(p: usize) -> isize {
    // SAFETY: the kernel validates p; the caller accepts the write.
    unsafe { syscall2(Sysno::clock_gettime as usize, 1, p) as isize }
}

/// The thread's current blocked-signal mask.
pub(crate) fn sigprocmask_get() -> u64 {
    let mut old: u64 = 0;
    // SAFETY: a null new set only reads the mask into `old`.
    unsafe {
        syscall4(
            Sysno::rt_sigprocmask as usize,
            0,
            0,
            &mut old as *mut u64 as usize,
            8,
        );
    }
    old
}

/// clock_gettime(CLOCK_MONOTONIC) in nanoseconds.
pub(crate) fn nanotime_syscall() -> i64 {
    let mut ts = [0i64; 2];
    // SAFETY: the kernel writes one timespec into ts.
    unsafe {
        syscall2(Sysno::clock_gettime as usize, 1, ts.as_mut_ptr() as usize);
    }
    ts[0] * 1_000_000_000 + ts[1]
}

/// rt_sigaction(2) with the kernel's struct sigaction (8-byte mask).
///
/// # Safety
/// act/oldact are 0 or point at kernel sigaction structs; the handler installed must
/// be safe to run at any instruction.
pub(crate) unsafe fn rt_sigaction(sig: usize, act: usize, oldact: usize) -> isize {
    // SAFETY: the caller guarantees the pointers and the handler.
    unsafe { syscall4(Sysno::rt_sigaction as usize, sig, act, oldact, 8) as isize }
}

/// sigaltstack(2) with a new stack_t and no old one.
///
/// # Safety
/// ss points at a stack_t whose memory stays the thread's signal stack.
pub(crate) unsafe fn sigaltstack(ss: usize) -> isize {
    // SAFETY: the caller guarantees ss.
    unsafe { syscall2(Sysno::sigaltstack as usize, ss, 0) as isize }
}

/// prlimit64(0, resource): the soft limit of a resource (RLIMIT_STACK, RLIMIT_AS),
/// or None when it is unlimited (or the call fails). Uses no TLS: callable before
/// settls.
pub(crate) fn stack_rlimit(resource: usize) -> Option<usize> {
    const RLIM_INFINITY: u64 = u64::MAX;
    let mut old = [0u64; 2]; // struct rlimit64 { rlim_cur, rlim_max }
                             // SAFETY: a null new limit only reads; the kernel writes one rlimit64 into old.
    let r = unsafe {
        syscall4(
            Sysno::prlimit64 as usize,
            0,
            resource,
            0,
            old.as_mut_ptr() as usize,
        ) as isize
    };
    (r == 0 && old[0] != RLIM_INFINITY).then_some(old[0] as usize)
}

/// sched_yield(2).
pub(crate) fn osyield() {
    // SAFETY: no memory effects.
    unsafe {
        syscalls::raw::syscall0(Sysno::sched_yield as usize);
    }
}

/// getpid(2).
pub(crate) fn getpid() -> i64 {
    // SAFETY: no memory effects.
    unsafe { syscalls::raw::syscall0(Sysno::getpid as usize) as i64 }
}

/// dup3(2): make newfd a copy of oldfd (closing what newfd was). Returns newfd or
/// -errno.
pub(crate) fn dup3(oldfd: i32, newfd: i32, flags: usize) -> isize {
    // SAFETY: no memory effects; replaces a descriptor of this process.
    unsafe { syscall3(Sysno::dup3 as usize, oldfd as usize, newfd as usize, flags) as isize }
}

/// getppid(2).
pub(crate) fn getppid() -> i64 {
    // SAFETY: no memory effects.
    unsafe { syscalls::raw::syscall0(Sysno::getppid as usize) as i64 }
}

/// prctl(PR_SET_PDEATHSIG, sig): the kernel sends sig to this process when the
/// thread that created it exits (gort's threads exit only with the process).
/// Returns 0 or -errno.
pub(crate) fn set_parent_death_signal(sig: usize) -> isize {
    const PR_SET_PDEATHSIG: usize = 1;
    // SAFETY: sets a process attribute; no memory effects.
    unsafe { syscall2(Sysno::prctl as usize, PR_SET_PDEATHSIG, sig) as isize }
}

/// tgkill(2): send sig to thread tid of process tgid. Returns 0 or -errno.
pub(crate) fn tgkill(tgid: i64, tid: i64, sig: usize) -> isize {
    // SAFETY: no memory effects; the signal's handler is the runtime's.
    unsafe { syscall3(Sysno::tgkill as usize, tgid as usize, tid as usize, sig) as isize }
}

/// epoll_ctl(2) operations.
pub(crate) const EPOLL_CTL_ADD: usize = 1;
pub(crate) const EPOLL_CTL_DEL: usize = 2;

/// epoll_create1(EPOLL_CLOEXEC). Returns the fd or -errno.
pub(crate) fn epoll_create1() -> isize {
    // SAFETY: no memory effects; creates a descriptor.
    unsafe { syscall1(Sysno::epoll_create1 as usize, O_CLOEXEC) as isize }
}

/// eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK). Returns the fd or -errno.
pub(crate) fn eventfd_nonblock() -> isize {
    // SAFETY: no memory effects; creates a descriptor.
    unsafe { syscall2(Sysno::eventfd2 as usize, 0, O_CLOEXEC | 0o4000) as isize }
}

/// timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC|TFD_NONBLOCK). Returns the fd or
/// -errno.
pub(crate) fn timerfd_create() -> isize {
    const CLOCK_MONOTONIC: usize = 1;
    // SAFETY: no memory effects; creates a descriptor.
    unsafe {
        syscall2(
            Sysno::timerfd_create as usize,
            CLOCK_MONOTONIC,
            O_CLOEXEC | 0o4000,
        ) as isize
    }
}

/// timerfd_settime(fd, 0, {no interval, ns from now}, NULL): arm the timer to
/// expire once, ns nanoseconds (> 0) from now, clearing expirations not yet read.
/// Returns 0 or -errno.
pub(crate) fn timerfd_set(fd: i32, ns: i64) -> isize {
    let [s, n] = timespec(ns);
    let its: [i64; 4] = [0, 0, s, n];
    // SAFETY: the kernel reads one struct itimerspec (four i64s) from its, which is
    // live; a null old-value pointer asks for nothing back.
    unsafe {
        syscall4(
            Sysno::timerfd_settime as usize,
            fd as usize,
            0,
            its.as_ptr() as usize,
            0,
        ) as isize
    }
}

/// epoll_ctl(2): op on fd in epfd with events and the 64-bit data word. Returns 0 or
/// -errno.
pub(crate) fn epoll_ctl(epfd: i32, op: usize, fd: i32, events: u32, data: u64) -> isize {
    // struct epoll_event is packed on x86-64: u32 events, u64 data.
    let ev: [u32; 3] = [events, data as u32, (data >> 32) as u32];
    // SAFETY: the kernel reads one 12-byte epoll_event from ev, which is live.
    unsafe {
        syscall4(
            Sysno::epoll_ctl as usize,
            epfd as usize,
            op,
            fd as usize,
            ev.as_ptr() as usize,
        ) as isize
    }
}

/// epoll_pwait(2) with no signal mask change: up to n events (12 bytes each) into
/// buf, waiting at most timeout_ms (-1: for ever). Returns the count or -errno.
pub(crate) fn epoll_pwait(epfd: i32, buf: *mut u8, n: i32, timeout_ms: i32) -> isize {
    // SAFETY: buf has room for n packed epoll_events (the caller's buffer), which the
    // kernel writes; a null sigmask means no mask change.
    unsafe {
        syscall6(
            Sysno::epoll_pwait as usize,
            epfd as usize,
            buf as usize,
            n as usize,
            timeout_ms as isize as usize,
            0,
            8,
        ) as isize
    }
}

/// epoll_pwait2(2) (Linux 5.11): as epoll_pwait, but waiting at most ns
/// nanoseconds (relative; 0: do not wait). Returns the count or -errno (-ENOSYS on
/// older kernels and emulators without it).
pub(crate) fn epoll_pwait2(epfd: i32, buf: *mut u8, n: i32, ns: i64) -> isize {
    let ts = timespec(ns);
    // SAFETY: buf has room for n packed epoll_events (the caller's buffer), which the
    // kernel writes; ts is a valid relative timespec it reads; a null sigmask means
    // no mask change.
    unsafe {
        syscall6(
            Sysno::epoll_pwait2 as usize,
            epfd as usize,
            buf as usize,
            n as usize,
            ts.as_ptr() as usize,
            0,
            8,
        ) as isize
    }
}

/// Socket system calls for gort::net, each returning the kernel's raw result.
/// Pointer arguments are to caller-owned buffers of the stated lengths.
pub(crate) mod sock {
    use super::{syscall2, syscall3, syscall4, syscall6, Sysno};

    /// socket(2).
    pub(crate) fn socket(domain: i32, ty: i32, proto: i32) -> isize {
        // SAFETY: no memory effects; creates a descriptor.
        unsafe {
            syscall3(
                Sysno::socket as usize,
                domain as usize,
                ty as usize,
                proto as usize,
            ) as isize
        }
    }

    /// bind(2) to the len-byte sockaddr in addr.
    pub(crate) fn bind(fd: i32, addr: &[u8]) -> isize {
        // SAFETY: the kernel reads addr.len() bytes of a live slice.
        unsafe {
            syscall3(
                Sysno::bind as usize,
                fd as usize,
                addr.as_ptr() as usize,
                addr.len(),
            ) as isize
        }
    }

    /// connect(2) to the sockaddr in addr.
    pub(crate) fn connect(fd: i32, addr: &[u8]) -> isize {
        // SAFETY: as bind.
        unsafe {
            syscall3(
                Sysno::connect as usize,
                fd as usize,
                addr.as_ptr() as usize,
                addr.len(),
            ) as isize
        }
    }

    /// listen(2).
    pub(crate) fn listen(fd: i32, backlog: i32) -> isize {
        // SAFETY: no memory effects.
        unsafe { syscall2(Sysno::listen as usize, fd as usize, backlog as usize) as isize }
    }

    /// accept4(2), the peer's address into addr (its length into len).
    pub(crate) fn accept4(fd: i32, addr: &mut [u8], len: &mut u32, flags: i32) -> isize {
        *len = addr.len() as u32;
        // SAFETY: the kernel writes at most *len bytes into addr and the length into
        // len, both live and exclusive.
        unsafe {
            syscall4(
                Sysno::accept4 as usize,
                fd as usize,
                addr.as_mut_ptr() as usize,
                len as *mut u32 as usize,
                flags as usize,
            ) as isize
        }
    }

    /// getsockname(2) (peer: getpeername(2)) into addr.
    pub(crate) fn sockname(fd: i32, peer: bool, addr: &mut [u8], len: &mut u32) -> isize {
        *len = addr.len() as u32;
        let nr = if peer {
            Sysno::getpeername
        } else {
            Sysno::getsockname
        };
        // SAFETY: as accept4.
        unsafe {
            syscall3(
                nr as usize,
                fd as usize,
                addr.as_mut_ptr() as usize,
                len as *mut u32 as usize,
            ) as isize
        }
    }

    /// getsockopt(2) of an int option.
    pub(crate) fn getsockopt_int(fd: i32, level: i32, opt: i32, val: &mut i32) -> isize {
        let mut len = 4u32;
        // SAFETY: the kernel writes one int into val and its length into len.
        unsafe {
            syscall6(
                Sysno::getsockopt as usize,
                fd as usize,
                level as usize,
                opt as usize,
                val as *mut i32 as usize,
                &mut len as *mut u32 as usize,
                0,
            ) as isize
        }
    }

    /// setsockopt(2) of an int option.
    pub(crate) fn setsockopt_int(fd: i32, level: i32, opt: i32, val: i32) -> isize {
        // SAFETY: the kernel reads one int from val.
        unsafe {
            syscall6(
                Sysno::setsockopt as usize,
                fd as usize,
                level as usize,
                opt as usize,
                &val as *const i32 as usize,
                4,
                0,
            ) as isize
        }
    }

    /// shutdown(2).
    pub(crate) fn shutdown(fd: i32, how: i32) -> isize {
        // SAFETY: no memory effects.
        unsafe { syscall2(Sysno::shutdown as usize, fd as usize, how as usize) as isize }
    }

    /// sendto(2) of buf (to addr, or the connected peer when addr is empty).
    pub(crate) fn sendto(fd: i32, buf: &[u8], flags: i32, addr: &[u8]) -> isize {
        let ap = if addr.is_empty() {
            0
        } else {
            addr.as_ptr() as usize
        };
        // SAFETY: the kernel reads buf and addr, both live.
        unsafe {
            syscall6(
                Sysno::sendto as usize,
                fd as usize,
                buf.as_ptr() as usize,
                buf.len(),
                flags as usize,
                ap,
                addr.len(),
            ) as isize
        }
    }

    /// fcntl(2) F_DUPFD_CLOEXEC: a new descriptor (the lowest free) for fd's open
    /// socket. Returns it or -errno.
    pub(crate) fn dup_cloexec(fd: i32) -> isize {
        const F_DUPFD_CLOEXEC: usize = 1030;
        // SAFETY: no memory effects; creates a descriptor.
        unsafe { syscall3(Sysno::fcntl as usize, fd as usize, F_DUPFD_CLOEXEC, 0) as isize }
    }

    /// recvfrom(2) into buf with flags (MSG_PEEK: leave the data queued), the
    /// sender's address into addr (its length into len).
    pub(crate) fn recvfrom_flags(
        fd: i32,
        buf: &mut [u8],
        flags: i32,
        addr: &mut [u8],
        len: &mut u32,
    ) -> isize {
        *len = addr.len() as u32;
        // No address wanted: null pointers, as recv(2).
        let (ap, lp) = if addr.is_empty() {
            (0, 0)
        } else {
            (addr.as_mut_ptr() as usize, len as *mut u32 as usize)
        };
        // SAFETY: the kernel writes at most buf.len() bytes into buf, and (unless
        // null) at most *len into addr and the length into len: all live and
        // exclusive.
        unsafe {
            syscall6(
                Sysno::recvfrom as usize,
                fd as usize,
                buf.as_mut_ptr() as usize,
                buf.len(),
                flags as usize,
                ap,
                lp,
            ) as isize
        }
    }

    /// recvfrom(2) into buf, the sender's address into addr (its length into len).
    pub(crate) fn recvfrom(fd: i32, buf: &mut [u8], addr: &mut [u8], len: &mut u32) -> isize {
        recvfrom_flags(fd, buf, 0, addr, len)
    }
}

/// File-system system calls for gort::fs (openat, lseek, fstat, getdents64, ...), in
/// sys_linux/fssys.rs.
pub(crate) mod fssys;

/// Process system calls for gort::process. `fork_exec_child` is the whole child
/// side of a fork: raw system calls only, no allocation, no lock, no return.
pub(crate) mod procsys {
    use super::{syscall1, syscall2, syscall3, syscall4, syscall6, Sysno};

    /// pipe2(2) into fds.
    pub(crate) fn pipe2(fds: &mut [i32; 2], flags: usize) -> isize {
        // SAFETY: the kernel writes two ints into fds.
        unsafe { syscall2(Sysno::pipe2 as usize, fds.as_mut_ptr() as usize, flags) as isize }
    }

    /// fcntl(2) F_SETFL with O_NONBLOCK added.
    pub(crate) fn set_nonblock(fd: i32) -> isize {
        // SAFETY: no memory effects.
        unsafe {
            let fl = syscall2(Sysno::fcntl as usize, fd as usize, 3 /* F_GETFL */) as isize;
            if fl < 0 {
                return fl;
            }
            syscall3(
                Sysno::fcntl as usize,
                fd as usize,
                4, /* F_SETFL */
                fl as usize | 0o4000,
            ) as isize
        }
    }

    /// fork(2) as clone(SIGCHLD): 0 in the child, the pid in the parent, or -errno.
    ///
    /// # Safety
    /// The child may only call fork_exec_child (the process has one thread there, and
    /// every lock some other thread held stays held for ever).
    pub(crate) unsafe fn fork() -> isize {
        // SAFETY: a plain fork; the caller's contract covers the child.
        unsafe {
            syscall6(Sysno::clone as usize, 17 /* SIGCHLD */, 0, 0, 0, 0, 0) as isize
        }
    }

    /// The signal state a forked child sets up before it execs (fork_exec_child).
    pub(crate) struct ChildSignals {
        /// The signals with the runtime's handler (bit n-1 for signal n), read in
        /// the child: their default action comes back.
        pub(crate) handled: u64,
        /// The mask the child execs with: the one the parent started with.
        pub(crate) mask: u64,
    }

    /// What the child does: redirect fds (each `fds[i] >= 0` becomes fd i), change
    /// directory, give the signals in `sigs.handled` (those with the runtime's
    /// handler) their default action back, set the signal mask to `sigs.mask` (the
    /// one the parent started with: Go's child restores its initSigmask), execve,
    /// and on failure write errno to err_fd and exit 127.
    /// (execve resets handlers anyway; doing it before the mask is set means a
    /// signal that comes in between gets its default action in the child, not the
    /// parent's handler: Go's clearSignalHandlers.)
    ///
    /// # Safety
    /// Called only in a freshly forked child, with every signal blocked; path, argv
    /// and envp are NUL-terminated strings and NULL-terminated pointer arrays built
    /// before the fork; dir is null or a NUL-terminated string.
    pub(crate) unsafe fn fork_exec_child(
        fds: [i32; 3],
        dir: *const u8,
        path: *const u8,
        argv: *const *const u8,
        envp: *const *const u8,
        err_fd: i32,
        sigs: ChildSignals,
    ) -> ! {
        // SAFETY: all raw calls on memory prepared by the parent (the contract).
        unsafe {
            let mut e: isize = 0;
            for (i, &fd) in fds.iter().enumerate() {
                if fd >= 0 && e >= 0 {
                    if fd as usize == i {
                        // Clear close-on-exec on a descriptor that is already in place.
                        e = syscall3(Sysno::fcntl as usize, i, 2 /* F_SETFD */, 0) as isize;
                    } else {
                        e = super::dup3(fd, i as i32, 0);
                    }
                }
            }
            if e >= 0 && !dir.is_null() {
                e = syscall1(Sysno::chdir as usize, dir as usize) as isize;
            }
            if e >= 0 {
                // struct sigaction { handler = SIG_DFL, flags, restorer, mask }.
                let dfl = [0usize; 4];
                for sig in 1..=64usize {
                    if sigs.handled & (1 << (sig - 1)) != 0 {
                        syscall4(
                            Sysno::rt_sigaction as usize,
                            sig,
                            dfl.as_ptr() as usize,
                            0,
                            8,
                        );
                    }
                }
                syscall4(
                    Sysno::rt_sigprocmask as usize,
                    2,
                    &sigs.mask as *const u64 as usize,
                    0,
                    8,
                );
                e = syscall3(
                    Sysno::execve as usize,
                    path as usize,
                    argv as usize,
                    envp as usize,
                ) as isize;
            }
            let code = (-e) as i32;
            syscall3(
                Sysno::write as usize,
                err_fd as usize,
                &code as *const i32 as usize,
                4,
            );
            loop {
                syscall1(Sysno::exit_group as usize, 127);
            }
        }
    }

    /// pidfd_open(2): a descriptor that becomes readable when pid exits.
    pub(crate) fn pidfd_open(pid: i32) -> isize {
        // SAFETY: no memory effects; creates a descriptor.
        unsafe { syscall2(Sysno::pidfd_open as usize, pid as usize, 0) as isize }
    }

    /// wait4(2) for pid (options: WNOHANG = 1, or 0 to block); the status word into
    /// status. Returns the pid, 0 (WNOHANG, still running) or -errno.
    pub(crate) fn wait4(pid: i32, status: &mut i32, options: usize) -> isize {
        // SAFETY: the kernel writes one int into status; no rusage.
        unsafe {
            syscall4(
                Sysno::wait4 as usize,
                pid as usize,
                status as *mut i32 as usize,
                options,
                0,
            ) as isize
        }
    }

    /// kill(2).
    pub(crate) fn kill(pid: i32, sig: i32) -> isize {
        // SAFETY: no memory effects on this process.
        unsafe { syscall2(Sysno::kill as usize, pid as usize, sig as usize) as isize }
    }
}

/// poll(2) events.
pub(crate) const POLLOUT: i16 = 0x4;

/// poll(2) on one fd for events, waiting at most timeout_ms (-1: for ever). Returns
/// the number of ready fds (0 on timeout) or -errno (EINTR on a signal: poll is
/// never restarted).
pub(crate) fn poll1(fd: i32, events: i16, timeout_ms: i32) -> isize {
    // struct pollfd { int fd; short events; short revents; }
    let mut pfd = [fd as u32, events as u16 as u32];
    // SAFETY: the kernel reads and writes one 8-byte pollfd in pfd, which is live.
    unsafe {
        syscall3(
            Sysno::poll as usize,
            pfd.as_mut_ptr() as usize,
            1,
            timeout_ms as isize as usize,
        ) as isize
    }
}
