//! gort: Go's runtime design for freestanding Rust programs on Linux x86-64.
//!
//! The crate owns the process from its first instruction: `_start` (rt0/) follows Go's
//! rt0_go, the scheduler follows proc.go with Go's G/M/P structures (runtime2.rs), and
//! user code runs as goroutines. See README.md for the boot path and DESIGN.md in the
//! project's shared folder for the contracts.
//!
//! The crate is `no_std` except under `cfg(test)`, where the host's std runs the unit
//! tests of the pure logic. The pieces only a freestanding program may have (the entry
//! point, the panic handler, the global allocator, mem* functions) are compiled only
//! outside tests; integration tests are std programs that run the examples.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(clippy::missing_safety_doc)]
// Runtime structures have `const fn new` for their statics; Default would add nothing.
#![allow(clippy::new_without_default)]

extern crate alloc;

pub mod api;
pub mod chan;
pub mod debug;
pub mod lock_futex;
pub mod malloc;
pub mod os_linux;
pub mod print;
pub mod proc;
pub mod runq;
pub mod runtime1;
pub mod runtime2;
pub mod select;
pub mod sema;
pub mod signal_linux;
pub mod stack;
pub mod sync;
pub mod sys_linux;
pub mod time;
pub mod vdso_linux;

#[cfg(not(test))]
mod entry;

pub use api::{
    blocking, env, exit, go, go_with_stack, goid, gomaxprocs, gosched, num_cpu, num_goroutine,
};
pub use chan::{chan, Chan};

use runtime2::*;

/// The heap (malloc.rs). It is the global allocator only in freestanding programs.
pub static HEAP: malloc::GortHeap = malloc::GortHeap::new();

// The goroutine switch (gogo, mcall, mstart, goexit).
core::arch::global_asm!(
    include_str!("../rt0/asm_amd64.s"),
    g_sched = const OFF_G_SCHED,
    g_m = const OFF_G_M,
    m_g0 = const OFF_M_G0,
    gobuf_sp = const OFF_GOBUF_SP,
    gobuf_pc = const OFF_GOBUF_PC,
    gobuf_g = const OFF_GOBUF_G,
    gobuf_ctxt = const OFF_GOBUF_CTXT,
    gobuf_bp = const OFF_GOBUF_BP,
    gobuf_rbx = const OFF_GOBUF_RBX,
    gobuf_r12 = const OFF_GOBUF_R12,
    gobuf_r13 = const OFF_GOBUF_R13,
    gobuf_r14 = const OFF_GOBUF_R14,
    gobuf_r15 = const OFF_GOBUF_R15,
    gobuf_fpcsr = const OFF_GOBUF_FPCSR,
    badmcall = sym proc::badmcall,
    mstart0 = sym proc::mstart0,
    goexit1 = sym proc::goexit1,
    options(att_syntax)
);

// settls.
core::arch::global_asm!(
    include_str!("../rt0/sys_linux_amd64.s"),
    arch_set_fs = const sys_linux::ARCH_SET_FS,
    sys_arch_prctl = const syscalls::Sysno::arch_prctl as usize,
    settls_failed = sym runtime1::settls_failed,
    m_tls = const OFF_M_TLS,
    sys_clone = const syscalls::Sysno::clone as usize,
    sys_exit = const syscalls::Sysno::exit as usize,
    sys_rt_sigreturn = const syscalls::Sysno::rt_sigreturn as usize,
    sighandler = sym signal_linux::sighandler,
    options(att_syntax)
);
