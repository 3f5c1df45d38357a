//! Operating-system interfaces (Go's package `os`): the process id, and incoming
//! signals ([`signal`], Go's `os/signal`).

pub mod signal;

/// This process's id (Go's `os.Getpid`).
pub fn getpid() -> u32 {
    crate::runtime::sys_linux::getpid() as u32
}
