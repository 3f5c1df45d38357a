//! select, after Go's select.go: `selectgo` and the `select!` macro.
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
//! The sudogs live on the selecting goroutine's stack. At most MAX_CASES cases.

use core::mem::MaybeUninit;
use core::ptr;
use core::sync::atomic::Ordering::Release;

use crate::runtime::chan::{Hchan, Sudog};
use crate::runtime::proc::{fastrand, getg, gopark, goready};
use crate::runtime::runtime2::{WaitReason, G};

/// The most cases one select may have.
pub(crate) const MAX_CASES: usize = 64;

/// One case for selectgo: a channel (null: nil channel) and the value slot.
#[derive(Clone, Copy)]
pub struct Scase {
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

/// selectgo runs a select over cases. Returns the index of the case that ran and,
/// for a receive, whether a value was received (false: the channel is closed). With
/// !block and nothing ready, returns (usize::MAX, false). Runs on a goroutine.
///
/// # Safety
/// Every non-null c is a live channel of the element type the slot was made for; a
/// send slot holds a value (moved out if that case wins); a receive slot is free
/// room (filled if that case wins with true).
pub unsafe fn selectgo(cases: &mut [Scase], block: bool) -> (usize, bool) {
    let ncases = cases.len();
    if ncases > MAX_CASES {
        crate::runtime::runtime1::throw("select: too many cases");
    }
    // generate permuted order, omitting cases with nil channels
    let mut pollorder = [0u16; MAX_CASES];
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
    // sort the cases by Hchan address to get the locking order (insertion sort: a
    // select has few cases).
    let mut lockorder = [0u16; MAX_CASES];
    lockorder[..norder].copy_from_slice(pollorder);
    let lockorder = &mut lockorder[..norder];
    for i in 1..norder {
        let mut j = i;
        while j > 0 && cases[lockorder[j - 1] as usize].c > cases[lockorder[j] as usize].c {
            lockorder.swap(j - 1, j);
            j -= 1;
        }
    }
    if norder == 0 {
        if !block {
            return (usize::MAX, false);
        }
        // Only nil channels: block forever, as Go does.
        crate::runtime::chan::block_forever(WaitReason::SelectNoCases);
    }

    // SAFETY: the caller's contract for cases; sudogs live on our stack while queued;
    // the channel state is touched with all the channel locks held.
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
        let mut sudogs: [MaybeUninit<Sudog>; MAX_CASES] =
            [const { MaybeUninit::uninit() }; MAX_CASES];
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
