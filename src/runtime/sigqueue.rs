//! The signal queue between signal handlers and `gort::os::signal`, after Go's
//! sigqueue.go.
//!
//! # The protocol
//!
//! A signal handler can interrupt any instruction of any thread: the allocator, a
//! runtime lock holder, the scheduler. So it may not allocate, take a lock, or touch
//! a channel. It only records the signal (`sigsend`), and one goroutine, the
//! receiver (os::signal's loop, calling `signal_recv`), turns the record into
//! channel sends outside signal context.
//!
//! The record is `SIG.mask`, a bit set of pending signals (bit n-1 for signal n, as
//! the kernel's sigset_t): the handler ORs its bit in, the receiver swaps the whole
//! set out. Signals coalesce: a signal that arrives while its bit is still set adds
//! nothing, as in Go (and as the kernel itself does for standard signals).
//!
//! `SIG.state` says whether the receiver must be woken:
//!
//! - `SIG_RECEIVING`: the receiver sleeps on the futex of `state` (its M blocked in
//!   the kernel, its P handed off) and has nothing left to deliver;
//! - `SIG_SENDING`: the set *may* hold new signals; the receiver is not asleep;
//! - `SIG_IDLE`: no new signals, and the receiver is not asleep (it is delivering).
//!
//! A sender, after setting its bit, moves IDLE -> SENDING, or RECEIVING -> IDLE and
//! wakes the futex, or finds SENDING (a wake-up is already owed). The receiver, when
//! it has delivered everything it took, moves SENDING -> IDLE (and takes the set
//! again), or IDLE -> RECEIVING and sleeps while the state stays RECEIVING. Every
//! transition is a CAS, so concurrent senders and the receiver can cause an extra
//! look at an empty set, never a missed signal or a lost wake-up.
//!
//! The invariant: *whenever a bit is set in `mask`, `state` is not RECEIVING, or a
//! sender that set it has not finished yet (`delivering > 0`) and will make it so.*
//! A sender sets its bit and then leaves RECEIVING; the receiver enters RECEIVING
//! only from IDLE, and a sender that set a bit after the receiver's last swap has
//! moved IDLE away (to SENDING) or will find RECEIVING and wake it.
//!
//! The futex word is `state` itself: the receiver waits "while state ==
//! RECEIVING", and the sender changes it before waking, so a wake-up that comes
//! before the wait makes the wait return at once (EAGAIN); a wait interrupted by a
//! signal re-checks. No lost wake-up is possible.
//!
//! # Orderings
//!
//! Every operation on `mask`, `state`, `wanted` and `delivering` is SeqCst. Two
//! handshakes need a single total order, not only acquire/release pairs:
//!
//! - the sender writes `mask` and then reads `state`; the receiver writes `state`
//!   and then reads `mask` (by its swap). Each must see the other's write, or the
//!   receiver could sleep on a set bit (a store-load pattern: only SeqCst forbids
//!   both reads missing both writes);
//! - `stop` clears `wanted` and then reads `delivering`; a sender raises
//!   `delivering` and then reads `wanted` (Dekker again): either the sender sees the
//!   signal unwanted, or the stopper waits for it.
//!
//! On x86-64 the read-modify-writes are locked instructions whatever the ordering,
//! SeqCst loads are plain loads and SeqCst stores an xchg: the cost is nil next to
//! the signal delivery itself.
//!
//! # Who writes what
//!
//! `mask` and `state`: handlers and the receiver. `delivering`: handlers. `wanted`
//! and `ignored`: os::signal, one goroutine at a time (under its handlers lock), and
//! they are read by handlers. The receiver's own copy of the set it took is a local
//! of the receiving goroutine (`signal_recv`'s `pending`).

use core::sync::atomic::AtomicU32;
use core::sync::atomic::AtomicU64;
use core::sync::atomic::Ordering::SeqCst;

use super::sys_linux;

/// The highest signal number (Linux x86-64: 64; signals are 1..=NSIG).
pub(crate) const NSIG: u32 = 64;

const SIG_IDLE: u32 = 0;
const SIG_RECEIVING: u32 = 1;
const SIG_SENDING: u32 = 2;

/// The shared state of the queue (see the file head for who touches each field).
struct Sig {
    /// Pending signals, not yet taken by the receiver.
    mask: AtomicU64,
    /// Signals os::signal wants delivered (some channel asked for them).
    wanted: AtomicU64,
    /// Signals whose disposition is SIG_IGN (os::signal::ignore, or inherited).
    ignored: AtomicU64,
    /// SIG_IDLE, SIG_RECEIVING or SIG_SENDING; also the receiver's futex word.
    state: AtomicU32,
    /// Handlers inside sigsend past their `wanted` check (for signal_wait_until_idle).
    delivering: AtomicU32,
}

static SIG: Sig = Sig {
    mask: AtomicU64::new(0),
    wanted: AtomicU64::new(0),
    ignored: AtomicU64::new(0),
    state: AtomicU32::new(SIG_IDLE),
    delivering: AtomicU32::new(0),
};

/// The bit of signal sig (1..=NSIG) in a set.
#[inline]
pub(crate) const fn sigbit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// sigsend: queue sig for the receiver if os::signal wants it. Returns whether it
/// was queued (false: nobody wants it, the caller applies the default action).
///
/// Runs in a signal handler (or on any g: sigpipe): it must not allocate, take a
/// lock, or block; it makes at most one system call (the futex wake).
pub(crate) fn sigsend(sig: u32) -> bool {
    if sig == 0 || sig > NSIG {
        return false;
    }
    let bit = sigbit(sig);
    // SeqCst: the Dekker handshake with stop (file head): raise, then read wanted.
    SIG.delivering.fetch_add(1, SeqCst);
    // SeqCst: as above.
    if SIG.wanted.load(SeqCst) & bit == 0 {
        // SeqCst: pairs with signal_wait_until_idle's load (file head).
        SIG.delivering.fetch_sub(1, SeqCst);
        return false;
    }
    // SeqCst: the mask/state handshake with the receiver (file head): the bit is in
    // the set before we look at the state.
    if SIG.mask.fetch_or(bit, SeqCst) & bit != 0 {
        // Already pending: whoever set it owes (or paid) the wake-up.
        // SeqCst: as the first fetch_sub.
        SIG.delivering.fetch_sub(1, SeqCst);
        return true;
    }
    loop {
        // SeqCst (the load and each CAS): the mask/state handshake (file head).
        match SIG.state.load(SeqCst) {
            SIG_IDLE => {
                if SIG
                    .state
                    .compare_exchange(SIG_IDLE, SIG_SENDING, SeqCst, SeqCst)
                    .is_ok()
                {
                    break;
                }
            }
            // A notification is already pending: the receiver will take the set.
            SIG_SENDING => break,
            SIG_RECEIVING => {
                if SIG
                    .state
                    .compare_exchange(SIG_RECEIVING, SIG_IDLE, SeqCst, SeqCst)
                    .is_ok()
                {
                    // The state changed before the wake: a receiver not yet in the
                    // kernel finds the word changed and does not sleep.
                    sys_linux::futex_wake(&SIG.state, 1);
                    break;
                }
            }
            _ => super::runtime1::throw("sigsend: inconsistent state"),
        }
    }
    // SeqCst: pairs with signal_wait_until_idle's load (file head).
    SIG.delivering.fetch_sub(1, SeqCst);
    true
}

/// signal_recv: the next queued signal, waiting (its M blocked in a futex, its P
/// handed off) until there is one. `pending` is the receiver's own copy of the set
/// it took last time; keep it between calls (start with 0).
///
/// Must only be called from one goroutine at a time (os::signal's loop), with no
/// runtime lock held.
pub(crate) fn signal_recv(pending: &mut u64) -> u32 {
    loop {
        // Serve the local copy first, lowest signal first (as Go).
        if *pending != 0 {
            let i = pending.trailing_zeros();
            *pending &= !(1u64 << i);
            return i + 1;
        }
        // Wait for the senders.
        loop {
            // SeqCst (the load and each CAS): the mask/state handshake (file head).
            match SIG.state.load(SeqCst) {
                SIG_IDLE => {
                    if SIG
                        .state
                        .compare_exchange(SIG_IDLE, SIG_RECEIVING, SeqCst, SeqCst)
                        .is_ok()
                    {
                        sleep_while_receiving();
                        break;
                    }
                }
                SIG_SENDING => {
                    if SIG
                        .state
                        .compare_exchange(SIG_SENDING, SIG_IDLE, SeqCst, SeqCst)
                        .is_ok()
                    {
                        break;
                    }
                }
                _ => super::runtime1::throw("signal_recv: inconsistent state"),
            }
        }
        // Take what the senders set.
        // SeqCst: the mask/state handshake (file head).
        *pending = SIG.mask.swap(0, SeqCst);
    }
}

/// Sleep until a sender moves the state off RECEIVING. Blocks the M in the kernel
/// as a system call whose P is handed off at once (Go's notetsleepg), so the other
/// goroutines go on running. Runs on the receiver goroutine, no runtime lock held.
fn sleep_while_receiving() {
    let entered = super::proc::entersyscall();
    super::proc::handoff_in_syscall();
    // SeqCst: the mask/state handshake (file head). EINTR, EAGAIN and spurious
    // wake-ups all come back here to look again.
    while SIG.state.load(SeqCst) == SIG_RECEIVING {
        sys_linux::futex_wait(&SIG.state, SIG_RECEIVING);
    }
    super::proc::exitsyscall(entered);
}

/// signalWaitUntilIdle: wait until every signal handled before this call has been
/// delivered by the receiver (os::signal's stop: the signals it disabled must go
/// either to the channel being stopped, or to their default action, never nowhere).
/// The signals in question must already be cleared from `wanted`, and the receiver
/// must be running (it is once any signal was enabled). Runs on a goroutine; yields
/// while it waits.
pub(crate) fn signal_wait_until_idle() {
    // A handler may have read `wanted` before it was cleared and be about to set
    // its bit: wait for every sigsend in progress to finish.
    // SeqCst: the Dekker handshake with sigsend (file head).
    while SIG.delivering.load(SeqCst) != 0 {
        crate::gosched();
    }
    // Then wait for the receiver to have delivered everything and gone back to
    // sleep: RECEIVING means it found nothing more (IDLE would mean it is still
    // delivering).
    // SeqCst: the mask/state handshake (file head).
    while SIG.state.load(SeqCst) != SIG_RECEIVING {
        crate::gosched();
    }
}

/// Add sig to the wanted set and drop it from the ignored set. Called by os::signal
/// under its handlers lock (one writer at a time), before the handler is installed.
pub(crate) fn set_wanted(sig: u32) {
    // SeqCst: read by handlers; and the Dekker handshake with sigsend.
    SIG.wanted.fetch_or(sigbit(sig), SeqCst);
    SIG.ignored.fetch_and(!sigbit(sig), SeqCst);
}

/// Remove sig from the wanted set. Called by os::signal under its handlers lock.
pub(crate) fn clear_wanted(sig: u32) {
    // SeqCst: the Dekker handshake with sigsend (file head).
    SIG.wanted.fetch_and(!sigbit(sig), SeqCst);
}

/// Mark sig ignored (its disposition is SIG_IGN) or not. Called at boot (an
/// inherited SIG_IGN) and by os::signal under its handlers lock.
pub(crate) fn set_ignored(sig: u32, ignored: bool) {
    // SeqCst: read by handlers and sigpipe on any thread; a plain flag, SeqCst only
    // for uniformity with the rest of the file.
    if ignored {
        SIG.ignored.fetch_or(sigbit(sig), SeqCst);
    } else {
        SIG.ignored.fetch_and(!sigbit(sig), SeqCst);
    }
}

/// Whether sig is ignored (SIG_IGN). Any thread, signal handlers included.
pub(crate) fn signal_ignored(sig: u32) -> bool {
    // SeqCst: see set_ignored.
    sig != 0 && sig <= NSIG && SIG.ignored.load(SeqCst) & sigbit(sig) != 0
}
