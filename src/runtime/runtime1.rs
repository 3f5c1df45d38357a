//! Process arguments, environment and fatal errors, after Go's runtime1.go:
//! `args` keeps argc/argv/envp as the kernel laid them out (nothing is copied, so a
//! 10,000-variable environment costs nothing at boot), and `throw` is the one way
//! the runtime dies of its own errors.

use core::sync::atomic::{AtomicIsize, AtomicPtr, Ordering};

use crate::runtime::sys_linux;

/// argc and argv as passed by the kernel. Written once by `args` before any other
/// thread exists; read-only afterwards.
static ARGC: AtomicIsize = AtomicIsize::new(0);
static ARGV: AtomicPtr<*const u8> = AtomicPtr::new(core::ptr::null_mut());

/// args(argc, argv): remember the arguments and read the auxiliary vector.
/// Runs on g0 of m0 during boot, before the heap exists: must not allocate.
///
/// # Safety
/// argc/argv are the kernel's, as rt0_go found them on the initial stack.
pub(crate) unsafe extern "C" fn args(argc: i32, argv: *const *const u8) {
    // Relaxed (ARGC, ARGV, here and in their readers): written once before any other
    // thread exists, which sees them through its creation.
    ARGC.store(argc as isize, Ordering::Relaxed);
    ARGV.store(argv as *mut *const u8, Ordering::Relaxed);
    // SAFETY: argv is the kernel's: argc pointers, NULL, envp pointers, NULL, auxv.
    unsafe { crate::runtime::os_linux::sysargs(argc, argv) };
}

/// argc as the kernel passed it. Any thread.
pub(crate) fn argc() -> usize {
    // Relaxed: see args.
    ARGC.load(Ordering::Relaxed).max(0) as usize
}

/// The i-th argument's bytes (without the NUL). i < argc(). Any thread.
pub(crate) fn argv_bytes(i: usize) -> &'static [u8] {
    debug_assert!(i < argc());
    // Relaxed: see args.
    let argv = ARGV.load(Ordering::Relaxed);
    // SAFETY: i < argc, so argv[i] is one of the kernel's argument pointers.
    let p = unsafe { *argv.add(i) };
    // SAFETY: the kernel's strings are NUL-terminated and live (unchanged) for the
    // whole process.
    unsafe { cstr_bytes(p) }
}

/// envp: the pointer array after argv's NULL. Any thread.
pub(crate) fn envp() -> *const *const u8 {
    // Relaxed: see args.
    let argv = ARGV.load(Ordering::Relaxed);
    if argv.is_null() {
        return core::ptr::null();
    }
    // SAFETY: the kernel places envp right after argv's terminating NULL.
    unsafe { argv.add(argc() + 1) }
}

/// Iterate over "NAME=value" entries of the environment. Any thread; no
/// allocation.
pub(crate) fn environ() -> impl Iterator<Item = &'static [u8]> {
    let mut p = envp();
    core::iter::from_fn(move || {
        if p.is_null() {
            return None;
        }
        // SAFETY: envp is a NULL-terminated array, and p is at or before its NULL
        // (we stop there).
        let s = unsafe { *p };
        if s.is_null() {
            p = core::ptr::null();
            return None;
        }
        // SAFETY: as above: s is not the NULL, so the array goes on.
        p = unsafe { p.add(1) };
        // SAFETY: the environment's strings are NUL-terminated and live (unchanged)
        // for the whole process.
        Some(unsafe { cstr_bytes(s) })
    })
}

/// gogetenv: the value of the first NAME=value entry, as bytes; None for an empty
/// name (as Go's Getenv and C's getenv: an `=value` entry names nothing). Any
/// thread; no allocation.
pub(crate) fn getenv(name: &[u8]) -> Option<&'static [u8]> {
    if name.is_empty() {
        return None;
    }
    environ().find_map(|kv| {
        (kv.len() > name.len() && kv[name.len()] == b'=' && &kv[..name.len()] == name)
            .then(|| &kv[name.len() + 1..])
    })
}

/// The bytes of the C string at p, without its NUL.
///
/// # Safety
/// p must point to a NUL-terminated string that lives for the rest of the process.
pub(crate) unsafe fn cstr_bytes(p: *const u8) -> &'static [u8] {
    let mut n = 0;
    // SAFETY: the string is NUL-terminated (the caller's contract), so every byte up
    // to the NUL is readable, and we stop at it.
    while unsafe { *p.add(n) } != 0 {
        n += 1;
    }
    // SAFETY: the n bytes before the NUL are readable, and live and unchanged for the
    // rest of the process (the caller's contract).
    unsafe { core::slice::from_raw_parts(p, n) }
}

/// Go's atoi32: optional '-', then decimal digits only, no overflow.
pub(crate) fn atoi32(s: &[u8]) -> Option<i32> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as i64;
        if n > i32::MAX as i64 + 1 {
            return None;
        }
    }
    let n = if neg { -n } else { n };
    i32::try_from(n).ok()
}

/// The number of Ps for a GOMAXPROCS value: an integer > 0 is used, clamped to
/// MAX_GOMAXPROCS; anything else (unset, empty, junk, <= 0) means ncpu.
pub(crate) fn gomaxprocs_from_env(val: Option<&[u8]>, ncpu: usize) -> usize {
    let procs = match val.and_then(atoi32) {
        Some(n) if n > 0 => n as usize,
        _ => ncpu,
    };
    procs.clamp(1, crate::runtime::runtime2::MAX_GOMAXPROCS)
}

pub(crate) use super::panic::{fatal_fmt, throw};

/// Called from rt0 when arch_prctl(ARCH_SET_FS) fails. Runs with no TLS.
pub(crate) extern "C" fn settls_failed(neg_errno: isize) -> ! {
    crate::runtime::print::rt_eprintln!(
        "runtime: arch_prctl(ARCH_SET_FS) failed: errno {}",
        -neg_errno
    );
    throw("settls failed: cannot set the thread pointer")
}

/// Called from rt0 after settls: the FS base must now be `want` (&m0.tls[1]).
/// Reading it back catches a kernel (or sandbox) that reported success but did
/// nothing, before the 0x123 check would fault on a bad FS. Runs with no g yet.
pub(crate) extern "C" fn tls_verify(want: usize) {
    let got = sys_linux::get_fs();
    if got != want {
        crate::runtime::print::rt_eprintln!(
            "runtime: FS base is {got:#x} after settls, want {want:#x}"
        );
        throw("TLS check failed: settls did not take effect");
    }
}

/// Called from rt0 when the 0x123 stored through -8(FS) is not in m0.tls[0].
pub(crate) extern "C" fn tls_check_failed(got: usize) -> ! {
    crate::runtime::print::rt_eprintln!(
        "runtime: stored 0x123 through FS, m0.tls[0] reads {got:#x}"
    );
    throw("TLS check failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi32_as_go() {
        assert_eq!(atoi32(b"3"), Some(3));
        assert_eq!(atoi32(b"-3"), Some(-3));
        assert_eq!(atoi32(b"0"), Some(0));
        assert_eq!(atoi32(b"2147483647"), Some(i32::MAX));
        assert_eq!(atoi32(b"-2147483648"), Some(i32::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"abc",
            b"2x",
            b" 3",
            b"3 ",
            b"+3",
            b"2147483648",
            b"99999999999999999999",
        ] {
            assert_eq!(atoi32(bad), None, "{:?}", core::str::from_utf8(bad));
        }
    }

    #[test]
    fn gomaxprocs_rules() {
        let ncpu = 6;
        for (v, want) in [
            (None, 6),
            (Some(&b""[..]), 6),
            (Some(b"abc"), 6),
            (Some(b"0"), 6),
            (Some(b"-3"), 6),
            (Some(b"2x"), 6),
            (Some(b"3"), 3),
            (Some(b"1"), 1),
            (Some(b"1024"), 1024),
            (Some(b"5000"), 1024),
            (Some(b"99999999999"), 6),
        ] {
            assert_eq!(gomaxprocs_from_env(v, ncpu), want, "{v:?}");
        }
    }
}
