//! The public surface users write against (DESIGN §4): the program entry macro,
//! process exit, goroutine identity and machine facts.

use crate::proc::getg;

/// Declare the program's `fn main()`. The runtime boots, runs it as goroutine 1, and
/// exits 0 when it returns.
///
/// ```ignore
/// #![no_std]
/// #![no_main]
/// gort::main!(main);
/// fn main() { gort::println!("hello, world"); }
/// ```
#[macro_export]
macro_rules! main {
    ($f:path) => {
        #[no_mangle]
        #[doc(hidden)]
        pub fn gort_user_main() {
            $f()
        }
    };
}

/// End the process now with `code`, from any goroutine. Deferred work does not run
/// (Go's os.Exit).
pub fn exit(code: i32) -> ! {
    crate::sys_linux::exit_group(code)
}

/// The current goroutine's id (goroutine 1 runs main).
pub fn goid() -> u64 {
    // SAFETY: getg() is the running goroutine, valid while it runs.
    unsafe { (*getg()).goid }
}

/// Start a goroutine running f (Go's `go f()`). It may run on any thread.
#[inline]
pub fn go<F: FnOnce() + Send + 'static>(f: F) {
    crate::proc::newproc(f)
}

/// Start a goroutine with a stack of `stack_size` bytes instead of the default
/// (GORT_STACKSIZE, else 256 KiB), rounded up to 4 KiB. Panics unless 16 KiB <=
/// stack_size <= 1 GiB.
#[track_caller]
pub fn go_with_stack<F: FnOnce() + Send + 'static>(stack_size: usize, f: F) {
    if !(crate::stack::MIN_STACK_SIZE..=crate::stack::MAX_STACK_SIZE).contains(&stack_size) {
        panic!("gort: goroutine stack size {stack_size} out of range (16 KiB to 1 GiB)");
    }
    crate::proc::newproc_stack(f, stack_size.next_multiple_of(4096))
}

/// Run f, which may block its thread in the kernel (a system call that waits), without
/// holding up other goroutines: the P is handed to another thread for the duration
/// (Go's entersyscallblock/exitsyscall). Returns f's result.
pub fn blocking<R, F: FnOnce() -> R>(f: F) -> R {
    crate::proc::entersyscallblock();
    let r = f();
    crate::proc::exitsyscall();
    r
}

/// Yield the processor, allowing other goroutines to run (Go's runtime.Gosched).
#[inline]
pub fn gosched() {
    crate::proc::gosched()
}

/// The number of goroutines that currently exist (Go's runtime.NumGoroutine).
pub fn num_goroutine() -> usize {
    crate::proc::gcount()
}

/// Set GOMAXPROCS to n and return the previous value; n <= 0 only queries
/// (Go's runtime.GOMAXPROCS). Changing it stops the world: goroutines queued on
/// removed Ps move to the global queue, nothing is lost.
pub fn gomaxprocs(n: i32) -> i32 {
    crate::proc::set_gomaxprocs(n)
}

/// The number of CPUs the runtime uses by default (affinity and cgroup quota).
pub fn num_cpu() -> usize {
    crate::os_linux::ncpu()
}

/// Arguments and environment, as the kernel passed them.
pub mod env {
    use core::fmt;

    /// One command-line argument: bytes, as Go's strings are. Display shows invalid
    /// UTF-8 as U+FFFD.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub struct Arg(&'static [u8]);

    impl Arg {
        pub fn as_bytes(&self) -> &'static [u8] {
            self.0
        }
        /// The argument as text, if it is valid UTF-8.
        pub fn to_str(&self) -> Option<&'static str> {
            core::str::from_utf8(self.0).ok()
        }
    }

    impl fmt::Display for Arg {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for chunk in self.0.utf8_chunks() {
                f.write_str(chunk.valid())?;
                if !chunk.invalid().is_empty() {
                    f.write_str("\u{FFFD}")?;
                }
            }
            Ok(())
        }
    }

    impl fmt::Debug for Arg {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "\"{}\"", self.0.escape_ascii())
        }
    }

    /// The program's arguments, argv[0] first (Go's os.Args).
    pub fn args() -> impl ExactSizeIterator<Item = Arg> {
        (0..crate::runtime1::argc()).map(|i| Arg(crate::runtime1::argv_bytes(i)))
    }

    /// The value of environment variable `name`, if set and valid UTF-8.
    pub fn var(name: &str) -> Option<&'static str> {
        var_bytes(name).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// The value of environment variable `name` as bytes, if set.
    pub fn var_bytes(name: &str) -> Option<&'static [u8]> {
        crate::runtime1::getenv(name.as_bytes())
    }
}
