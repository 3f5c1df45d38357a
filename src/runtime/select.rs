//! select, after Go's select.go: `selectgo` (the `select!` macro is in src/select.rs).
//!
//! selectgo(cases):
//!  1. pollorder: a uniformly random permutation of the non-nil cases (nil channels
//!     are never chosen); lockorder: the same cases sorted by channel address, so
//!     that every select takes channel locks in one global order (no deadlock
//!     between selects).
//!  2. Lock every channel, then in poll order look for a case that can proceed now
//!     (a waiting peer, buffer room or data, a closed channel). Found: do it, unlock,
//!     return it.
//!  3. Otherwise, with `default`, unlock and return "none". Without, put a sudog on
//!     every channel (in lock order), park, and have the park unlock the channels.
//!     The first waker to win the CAS on g.selectdone completes its case and passes
//!     its sudog in g.param; the others skip our sudogs (chan.rs WaitQ::dequeue).
//!  4. Woken: lock everything again, unlink the sudogs of the losing cases, unlock,
//!     return the winner.
//!
//! The sudogs and the orders live on the selecting goroutine's stack, in room the
//! caller (src/select.rs, sized by the macro) provides. Up to 65,536 cases, as Go.

use core::mem::MaybeUninit;
use core::ptr;
use core::sync::atomic::Ordering::Release;

use crate::runtime::chan::{Hchan, Sudog};
use crate::runtime::proc::{fastrand, getg, gopark, goready};
use crate::runtime::runtime2::{WaitReason, G};

/// One case for selectgo: a channel (null: nil channel) and the value slot.
#[derive(Clone, Copy)]
pub(crate) struct Scase {
    pub(crate) c: *const Hchan,
    /// For a send, holds the value; for a receive, room for one.
    pub(crate) elem: *mut u8,
    pub(crate) send: bool,
}

/// What selparkcommit needs to unlock the channels.
struct SelLocks {
    cases: *const Scase,
    lockorder: *const u16,
    n: usize,
}

unsafe fn sellock(cases: &[Scase], lockorder: &[u16]) {
    let mut prev: *const Hchan = ptr::null();
    for &o in lockorder {
        let c = cases[o as usize].c;
        if c != prev {
            prev = c;
            // SAFETY: c is a live channel (the macro holds a handle to it).
            unsafe { (*c).lock.lock() };
        }
    }
}

unsafe fn selunlock(cases: &[Scase], lockorder: &[u16]) {
    // We must be very careful here to not touch sel after we have unlocked the last
    // lock, because sel can be freed right after the last unlock.
    let n = lockorder.len();
    for i in (0..n).rev() {
        let c = cases[lockorder[i] as usize].c;
        if i > 0 && c == cases[lockorder[i - 1] as usize].c {
            continue; // will unlock it on the next iteration
        }
        // SAFETY: we hold this lock (sellock took it once).
        unsafe { (*c).lock.unlock() };
    }
}

/// Unlock function for the select park: runs on g0 once the goroutine is off its
/// stack, so a waker can complete a case only after we are really parked.
unsafe fn selparkcommit(_gp: *mut G, arg: *mut u8) -> bool {
    // SAFETY: arg is the SelLocks on the parked goroutine's stack, live until it
    // resumes; we read it before the last unlock.
    unsafe {
        let s = &*(arg as *const SelLocks);
        let cases = core::slice::from_raw_parts(s.cases, s.n);
        let lockorder = core::slice::from_raw_parts(s.lockorder, s.n);
        selunlock(cases, lockorder);
    }
    true
}

/// Sort lockorder (case indices) by channel address, so every select locks channels
/// in one global order: insertion sort for small selects, heap sort (as Go's
/// selectgo) for large ones, so a select of thousands of cases stays O(n log n).
fn sort_lockorder(cases: &[Scase], lockorder: &mut [u16]) {
    let key = |o: u16| cases[o as usize].c as usize;
    if lockorder.len() <= 16 {
        for i in 1..lockorder.len() {
            let mut j = i;
            while j > 0 && key(lockorder[j - 1]) > key(lockorder[j]) {
                lockorder.swap(j - 1, j);
                j -= 1;
            }
        }
        return;
    }
    lockorder.sort_unstable_by_key(|&o| key(o));
}

/// selectgo runs a select over cases, with room for its bookkeeping given by the
/// caller (pollorder, lockorder and sudogs each as long as cases). Returns the index
/// of the case that ran and, for a receive, whether a value was received (false: the
/// channel is closed). With !block and nothing ready, returns (usize::MAX, false).
/// Runs on a goroutine. Panics are reported at the caller's caller (the select!).
///
/// # Safety
/// Every non-null c is a live channel of the element type the slot was made for; a
/// send slot holds a value (moved out if that case wins); a receive slot is free
/// room (filled if that case wins with true). At most 65,536 cases.
#[track_caller]
pub(crate) unsafe fn selectgo(
    cases: &[Scase],
    pollorder: &mut [u16],
    lockorder: &mut [u16],
    sudogs: &mut [MaybeUninit<Sudog>],
    block: bool,
) -> (usize, bool) {
    let ncases = cases.len();
    debug_assert!(ncases <= 1 << 16 && pollorder.len() == ncases && lockorder.len() == ncases);
    debug_assert!(sudogs.len() == ncases);
    // generate permuted order, omitting cases with nil channels
    let mut norder = 0;
    for (i, cas) in cases.iter().enumerate() {
        if cas.c.is_null() {
            continue;
        }
        let j = (fastrand() as usize) % (norder + 1);
        pollorder[norder] = pollorder[j];
        pollorder[j] = i as u16;
        norder += 1;
    }
    let pollorder = &pollorder[..norder];
    // sort the cases by Hchan address to get the locking order (insertion sort for a
    // few cases; a heap sort, as Go's, beyond).
    let lockorder = &mut lockorder[..norder];
    lockorder.copy_from_slice(pollorder);
    sort_lockorder(cases, lockorder);
    if norder == 0 {
        if !block {
            return (usize::MAX, false);
        }
        // Only nil channels: block forever, as Go does; Go's wait reason is
        // "select" then, and "select (no cases)" only for `select {}`.
        crate::runtime::chan::block_forever(if cases.is_empty() {
            WaitReason::SelectNoCases
        } else {
            WaitReason::Select
        });
    }
    let lockorder = &*lockorder;

    // SAFETY: the caller's contract for cases; sudogs live on our caller's stack while
    // queued; the channel state is touched with all the channel locks held.
    unsafe {
        sellock(cases, lockorder);

        // pass 1 - look for something already waiting
        for &o in pollorder {
            let casi = o as usize;
            let cas = cases[casi];
            let c = &*cas.c;
            let st = c.st();
            if cas.send {
                if st.closed {
                    selunlock(cases, lockorder);
                    panic!("send on closed channel");
                }
                let sg = st.recvq.dequeue();
                if !sg.is_null() {
                    let gp = c.send_direct(sg, cas.elem);
                    selunlock(cases, lockorder);
                    goready(gp);
                    return (casi, true);
                }
                if st.qcount < c.dataqsiz {
                    c.bufsend(st, cas.elem);
                    selunlock(cases, lockorder);
                    return (casi, true);
                }
            } else {
                let sg = st.sendq.dequeue();
                if !sg.is_null() {
                    let gp = c.recv_direct(st, sg, cas.elem);
                    selunlock(cases, lockorder);
                    goready(gp);
                    return (casi, true);
                }
                if st.qcount > 0 {
                    c.bufrecv(st, cas.elem);
                    selunlock(cases, lockorder);
                    return (casi, true);
                }
                if st.closed {
                    selunlock(cases, lockorder);
                    return (casi, false);
                }
            }
        }

        if !block {
            selunlock(cases, lockorder);
            return (usize::MAX, false);
        }

        // pass 2 - enqueue on all chans
        let gp = getg();
        for &o in lockorder.iter() {
            let casi = o as usize;
            let cas = cases[casi];
            let sg = sudogs[casi].as_mut_ptr();
            sg.write(Sudog::new());
            (*sg).g = gp;
            (*sg).is_select = true;
            (*sg).elem = cas.elem;
            let st = (*cas.c).st();
            if cas.send {
                st.sendq.enqueue(sg);
            } else {
                st.recvq.enqueue(sg);
            }
        }
        (*gp).param = 0;
        let locks = SelLocks {
            cases: cases.as_ptr(),
            lockorder: lockorder.as_ptr(),
            n: norder,
        };
        gopark(
            Some(selparkcommit),
            &locks as *const SelLocks as *mut u8,
            WaitReason::Select,
        );

        sellock(cases, lockorder);
        (*gp).selectdone.store(0, Release);
        let won = (*gp).param as *mut Sudog;
        (*gp).param = 0;

        // pass 3 - dequeue from unsuccessful chans; otherwise they stack up on quiet
        // channels.
        let mut casi = usize::MAX;
        let mut ok = false;
        for &o in lockorder.iter() {
            let k = o as usize;
            let sg = sudogs[k].as_mut_ptr();
            if sg == won {
                // sg has already been dequeued by the G that woke us up.
                casi = k;
                ok = (*sg).success;
            } else {
                let st = (*cases[k].c).st();
                if cases[k].send {
                    st.sendq.dequeue_sudog(sg);
                } else {
                    st.recvq.dequeue_sudog(sg);
                }
            }
        }
        if casi == usize::MAX {
            crate::runtime::runtime1::throw("selectgo: bad wakeup");
        }
        selunlock(cases, lockorder);
        if cases[casi].send && !ok {
            panic!("send on closed channel");
        }
        (casi, ok)
    }
}
