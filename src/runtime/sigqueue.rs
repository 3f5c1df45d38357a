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
//! Every operation on `mask`, `state`, `wanted` and `delivering` is SeqCst (as Go's
//! atomics). Two handshakes depend on it:
//!
//! - mask/state: the sender writes `mask` and then reads `state`; the receiver
//!   writes `state` and then takes `mask`. Both accesses to `mask` are
//!   read-modify-writes (`fetch_or`, `swap`), so one of them reads the other's
//!   write: if the receiver's swap is later it takes the bit; if the sender's
//!   fetch_or is later it synchronizes with the swap, so the sender's read of
//!   `state` sees the receiver's transition before the swap and acts on it (wakes
//!   it, or leaves SENDING for it). Acquire/release on the RMWs suffices for this;
//!   the loom models check it with loom's weaker model of SeqCst;
//! - stop/sender (Dekker): `stop` clears `wanted` and then reads `delivering`; a
//!   sender raises `delivering` and then reads `wanted`. At least one must see the
//!   other's write, or a signal could be queued unseen by stop. Only a StoreLoad
//!   barrier between each write and read gives that: SeqCst accesses do in the
//!   language's model, and an explicit `storeload_fence` at both points makes it
//!   plain (and visible to loom, which treats SeqCst accesses as AcqRel).
//!
//! On x86-64 the read-modify-writes are locked instructions whatever the ordering,
//! SeqCst loads are plain loads and the fence one more locked instruction: the cost
//! is nil next to the signal delivery itself.
//!
//! # Who writes what
//!
//! `mask` and `state`: handlers and the receiver. `delivering`: handlers. `wanted`
//! and `ignored`: os::signal, one goroutine at a time (under its handlers lock), and
//! they are read by handlers. The receiver's own copy of the set it took is a local
//! of the receiving goroutine (`signal_recv`'s `pending`).
//!
//! The protocol is `Sig`'s methods; the functions below them bind it to the one
//! queue of the process and to the futex and the scheduler. The loom models at the
//! end of the file check it over every interleaving of two handlers and the
//! receiver (and of a handler, the receiver and a stopper): no signal is lost, the
//! receiver never sleeps on a pending signal, and stop's wait covers a signal in
//! flight. Under `cfg(loom)` the atomics are loom's and the futex a condition
//! variable.

use core::sync::atomic::Ordering::SeqCst;
#[cfg(not(all(test, loom)))]
use core::sync::atomic::{AtomicU32, AtomicU64};
#[cfg(all(test, loom))]
use loom::sync::atomic::{AtomicU32, AtomicU64};

use super::asm_amd64::storeload_fence;

/// The highest signal number (Linux x86-64: 64; signals are 1..=NSIG).
pub(crate) const NSIG: u32 = 64;

const SIG_IDLE: u32 = 0;
const SIG_RECEIVING: u32 = 1;
const SIG_SENDING: u32 = 2;

/// The bit of signal sig (1..=NSIG) in a set.
#[inline]
pub(crate) const fn sigbit(sig: u32) -> u64 {
    1 << (sig - 1)
}

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
    /// Handlers inside sigsend past their `wanted` check (for wait_until_idle).
    delivering: AtomicU32,
}

/// The futex on `state`: the kernel's, or under loom a yield (a spin the model
/// checker understands).
#[cfg(not(all(test, loom)))]
mod futex {
    use super::AtomicU32;
    use crate::runtime::sys_linux;

    /// Wake the receiver sleeping on st, if any. Async-signal-safe.
    pub(super) fn wake(st: &AtomicU32) {
        sys_linux::futex_wake(st, 1);
    }

    /// Sleep while *st == v (returns early on a signal or spuriously).
    pub(super) fn wait(st: &AtomicU32, v: u32) {
        sys_linux::futex_wait(st, v);
    }
}

/// Under loom: the futex as a mutex and condition variable, with the futex's
/// promise (the value is checked under the lock the waker takes after changing
/// it, so no wake-up is lost between the check and the sleep).
#[cfg(all(test, loom))]
mod futex {
    use super::AtomicU32;
    use core::sync::atomic::Ordering::SeqCst;
    use loom::sync::{Condvar, Mutex};

    loom::lazy_static! {
        static ref LOCK: Mutex<()> = Mutex::new(());
        static ref COND: Condvar = Condvar::new();
    }

    pub(super) fn wake(_st: &AtomicU32) {
        let _g = LOCK.lock().unwrap();
        COND.notify_all();
    }

    pub(super) fn wait(st: &AtomicU32, v: u32) {
        let g = LOCK.lock().unwrap();
        if st.load(SeqCst) == v {
            drop(COND.wait(g).unwrap());
        }
    }
}

macro_rules! sig_new {
    () => {
        Sig {
            mask: AtomicU64::new(0),
            wanted: AtomicU64::new(0),
            ignored: AtomicU64::new(0),
            state: AtomicU32::new(SIG_IDLE),
            delivering: AtomicU32::new(0),
        }
    };
}

#[cfg(not(all(test, loom)))]
static SIG: Sig = sig_new!();

#[cfg(all(test, loom))]
loom::lazy_static! {
    static ref SIG: Sig = sig_new!();
}

impl Sig {
    /// sigsend: queue sig if it is wanted (see the file head). Returns whether it
    /// was queued. No allocation, no lock; at most one system call (the wake).
    fn send(&self, sig: u32) -> bool {
        if sig == 0 || sig > NSIG {
            return false;
        }
        let bit = sigbit(sig);
        // SeqCst, and the fence: the Dekker handshake with stop (file head):
        // raise, then read wanted.
        self.delivering.fetch_add(1, SeqCst);
        storeload_fence();
        // SeqCst: as above.
        if self.wanted.load(SeqCst) & bit == 0 {
            // SeqCst: pairs with wait_until_idle's load (file head).
            self.delivering.fetch_sub(1, SeqCst);
            return false;
        }
        // SeqCst: the mask/state handshake with the receiver (file head): the bit is
        // in the set before we look at the state.
        if self.mask.fetch_or(bit, SeqCst) & bit != 0 {
            // Already pending: whoever set it owes (or paid) the wake-up.
            // SeqCst: as the first fetch_sub.
            self.delivering.fetch_sub(1, SeqCst);
            return true;
        }
        loop {
            // SeqCst (the load and each CAS): the mask/state handshake (file head).
            match self.state.load(SeqCst) {
                SIG_IDLE => {
                    if self
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
                    if self
                        .state
                        .compare_exchange(SIG_RECEIVING, SIG_IDLE, SeqCst, SeqCst)
                        .is_ok()
                    {
                        // The state changed before the wake: a receiver not yet in
                        // the kernel finds the word changed and does not sleep.
                        futex::wake(&self.state);
                        break;
                    }
                }
                _ => super::runtime1::throw("sigsend: inconsistent state"),
            }
        }
        // SeqCst: pairs with wait_until_idle's load (file head).
        self.delivering.fetch_sub(1, SeqCst);
        true
    }

    /// signal_recv: the next queued signal; `sleep` is called to wait after the
    /// receiver announced itself (IDLE -> RECEIVING) and must return once the state
    /// is no longer RECEIVING (`wait_while_receiving`, maybe wrapped). One receiver
    /// at a time.
    fn recv(&self, pending: &mut u64, mut sleep: impl FnMut(&Sig)) -> u32 {
        loop {
            // Serve the local copy first, lowest signal first (as Go).
            if *pending != 0 {
                let i = pending.trailing_zeros();
                *pending &= !(1u64 << i);
                return i + 1;
            }
            // Wait for the senders.
            loop {
                // SeqCst (the load and each CAS): the mask/state handshake (file
                // head).
                match self.state.load(SeqCst) {
                    SIG_IDLE => {
                        if self
                            .state
                            .compare_exchange(SIG_IDLE, SIG_RECEIVING, SeqCst, SeqCst)
                            .is_ok()
                        {
                            sleep(self);
                            break;
                        }
                    }
                    SIG_SENDING => {
                        if self
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
            *pending = self.mask.swap(0, SeqCst);
        }
    }

    /// Sleep on the futex until a sender moves the state off RECEIVING. EINTR,
    /// EAGAIN and spurious wake-ups all come back to look again.
    fn wait_while_receiving(&self) {
        // SeqCst: the mask/state handshake (file head).
        while self.state.load(SeqCst) == SIG_RECEIVING {
            futex::wait(&self.state, SIG_RECEIVING);
        }
    }

    /// signalWaitUntilIdle (see the function of that name below); `yield_now` lets
    /// the receiver run.
    fn wait_until_idle(&self, mut yield_now: impl FnMut()) {
        // A handler may have read `wanted` before it was cleared and be about to
        // set its bit: wait for every send in progress to finish. The fence and
        // SeqCst: the Dekker handshake with send (file head); the caller cleared
        // `wanted` before calling. Reading the count a finished sender left
        // (Acquire) also makes its mask and state writes visible below.
        storeload_fence();
        while self.delivering.load(SeqCst) != 0 {
            yield_now();
        }
        // Then wait for the receiver to have delivered everything and gone back to
        // sleep: RECEIVING means it found nothing more (IDLE would mean it is still
        // delivering).
        // SeqCst: the mask/state handshake (file head).
        while self.state.load(SeqCst) != SIG_RECEIVING {
            yield_now();
        }
    }
}

/// sigsend: queue sig for the receiver if os::signal wants it. Returns whether it
/// was queued (false: nobody wants it, the caller applies the default action).
///
/// Runs in a signal handler (or on any g: sigpipe): it must not allocate, take a
/// lock, or block; it makes at most one system call (the futex wake).
pub(crate) fn sigsend(sig: u32) -> bool {
    SIG.send(sig)
}

/// signal_recv: the next queued signal, waiting (its M blocked in a futex, its P
/// handed off) until there is one. `pending` is the receiver's own copy of the set
/// it took last time; keep it between calls (start with 0).
///
/// Must only be called from one goroutine at a time (os::signal's loop), with no
/// runtime lock held.
pub(crate) fn signal_recv(pending: &mut u64) -> u32 {
    SIG.recv(pending, |s| {
        // Block the M in the kernel as a system call whose P is handed off at once
        // (Go's notetsleepg), so the other goroutines go on running.
        let entered = super::proc::entersyscall();
        super::proc::handoff_in_syscall();
        s.wait_while_receiving();
        super::proc::exitsyscall(entered);
    })
}

/// signalWaitUntilIdle: wait until every signal handled before this call has been
/// delivered by the receiver (os::signal's stop: the signals it disabled must go
/// either to the channel being stopped, or to their default action, never nowhere).
/// The signals in question must already be cleared from `wanted`, and the receiver
/// must be running (it is once any signal was enabled). Runs on a goroutine; yields
/// while it waits.
pub(crate) fn signal_wait_until_idle() {
    SIG.wait_until_idle(super::proc::gosched)
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

#[cfg(all(test, loom))]
mod loom_models {
    //! Model checks (loom) of the queue's protocol over every interleaving (with
    //! loom's bounded preemption) of two handlers and the receiver, and of a
    //! handler, the receiver and a stopper. Run by `make test`:
    //! `RUSTFLAGS="--cfg loom" cargo test --lib --release loom`.
    use super::*;
    extern crate std;
    use loom::sync::atomic::AtomicBool;
    use loom::sync::Arc;
    use loom::thread;
    use std::vec::Vec;

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(f);
    }

    fn wanting(sigs: &[u32]) -> Arc<Sig> {
        let q = Arc::new(sig_new!());
        for &s in sigs {
            q.wanted.fetch_or(sigbit(s), SeqCst);
        }
        q
    }

    /// Two handlers send different signals while the receiver waits: the receiver
    /// gets both (it never sleeps on a pending bit: a lost wake-up would make it
    /// spin for ever, which loom reports).
    #[test]
    fn loom_two_handlers_and_the_receiver_lose_nothing() {
        model(|| {
            let q = wanting(&[2, 10]);
            let hs: Vec<_> = [2u32, 10]
                .into_iter()
                .map(|s| {
                    let q = q.clone();
                    thread::spawn(move || assert!(q.send(s)))
                })
                .collect();
            let mut pending = 0;
            let mut got = [q.recv(&mut pending, Sig::wait_while_receiving), 0];
            got[1] = q.recv(&mut pending, Sig::wait_while_receiving);
            for h in hs {
                h.join().unwrap();
            }
            got.sort();
            assert_eq!(got, [2, 10]);
            assert_eq!(pending, 0);
        });
    }

    /// One signal sent twice: delivered at least once, and once everything is
    /// done nothing is left pending with the receiver asleep.
    #[test]
    fn loom_the_same_signal_twice_coalesces() {
        model(|| {
            let q = wanting(&[10]);
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let q = q.clone();
                    thread::spawn(move || assert!(q.send(10)))
                })
                .collect();
            let mut pending = 0;
            assert_eq!(q.recv(&mut pending, Sig::wait_while_receiving), 10);
            for h in hs {
                h.join().unwrap();
            }
            // Whatever is left (a second, uncoalesced 10) must be signalled: the state
            // is not RECEIVING while a bit is set.
            if q.mask.load(SeqCst) != 0 {
                assert_ne!(q.state.load(SeqCst), SIG_RECEIVING, "pending bit, no wake");
            }
        });
    }

    /// Stop's guarantee: a handler sends 10 while a stopper clears it from the
    /// wanted set and waits until idle. If the handler queued it, the receiver
    /// delivered it before the stopper's wait ended. (Signal 64 ends the receiver.)
    #[test]
    fn loom_stop_waits_for_the_signal_in_flight() {
        model(|| {
            let q = wanting(&[10, 64]);
            let delivered = Arc::new(AtomicBool::new(false));
            let handler = {
                let q = q.clone();
                thread::spawn(move || q.send(10))
            };
            let receiver = {
                let (q, delivered) = (q.clone(), delivered.clone());
                thread::spawn(move || {
                    let mut pending = 0;
                    loop {
                        match q.recv(&mut pending, Sig::wait_while_receiving) {
                            64 => break,
                            _ => delivered.store(true, SeqCst),
                        }
                    }
                })
            };
            q.wanted.fetch_and(!sigbit(10), SeqCst); // stop: clear_wanted
            q.wait_until_idle(thread::yield_now);
            let seen = delivered.load(SeqCst);
            assert!(q.send(64));
            receiver.join().unwrap();
            let queued = handler.join().unwrap();
            assert!(!queued || seen, "queued before stop, delivered after it");
        });
    }
}
