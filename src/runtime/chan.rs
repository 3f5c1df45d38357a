//! Channels, after Go's chan.go.
//!
//! An `Hchan` is untyped, as Go's is: a ring buffer of `dataqsiz` elements of
//! `elemsize` bytes, the queues of goroutines blocked sending (`sendq`) and receiving
//! (`recvq`), and the closed flag, all under one runtime lock. `Chan<T>` is the typed
//! handle (an Arc, so channels are cloned and shared like Go's).
//!
//! Values move, by byte copy, exactly as Rust moves them: a sender's value is copied
//! once into the buffer or straight into a waiting receiver's slot (direct handoff, no
//! buffer round trip), and from then on the sender forgets it. Whatever is still in
//! the buffer when the last handle goes is dropped then. Zero-sized types take no
//! buffer at all.
//!
//! A blocked goroutine waits on a `Sudog` on its own stack (it stays parked while the
//! sudog is queued). The waker fills in the sudog (value, `success`), unlinks it, and
//! readies the goroutine after releasing the channel lock. A goroutine blocked in a
//! select has a sudog on every channel; the first waker to win the CAS on the G's
//! `selectdone` takes it, the others skip it (see select.rs).
//!
//! Lock order: a channel lock is a leaf, except in select, which takes several
//! channel locks in address order.

use alloc::alloc::{alloc, dealloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;

use crate::runtime::lock_futex::Mutex;
use crate::runtime::lockrank::LockRank;
use crate::runtime::proc::{getg, gopark, goparkunlock, goready};
use crate::runtime::runtime2::{WaitReason, G};

/// A goroutine waiting on a channel.
pub(crate) struct Sudog {
    pub(crate) g: *mut G,
    /// The waiter's value slot: the value to send, or where to put the received one.
    pub(crate) elem: *mut u8,
    pub(crate) next: *mut Sudog,
    pub(crate) prev: *mut Sudog,
    /// Part of a select: the waker must win g.selectdone first.
    pub(crate) is_select: bool,
    /// Set by the waker: true if a value was exchanged, false if woken by close.
    pub(crate) success: bool,
}

impl Sudog {
    pub(crate) const fn new() -> Sudog {
        Sudog {
            g: ptr::null_mut(),
            elem: ptr::null_mut(),
            next: ptr::null_mut(),
            prev: ptr::null_mut(),
            is_select: false,
            success: false,
        }
    }
}

/// A queue of waiting sudogs, FIFO, doubly linked so select can unlink from the
/// middle. Protected by the channel lock.
pub(crate) struct WaitQ {
    first: *mut Sudog,
    last: *mut Sudog,
}

impl WaitQ {
    const fn new() -> WaitQ {
        WaitQ {
            first: ptr::null_mut(),
            last: ptr::null_mut(),
        }
    }

    /// # Safety
    /// The channel lock is held; sgp stays valid while queued.
    pub(crate) unsafe fn enqueue(&mut self, sgp: *mut Sudog) {
        // SAFETY: queued sudogs belong to parked goroutines and are live.
        unsafe {
            (*sgp).next = ptr::null_mut();
            let x = self.last;
            if x.is_null() {
                (*sgp).prev = ptr::null_mut();
                self.first = sgp;
                self.last = sgp;
                return;
            }
            (*sgp).prev = x;
            (*x).next = sgp;
            self.last = sgp;
        }
    }

    /// The first waiter that can still be woken (a select waiter whose select was
    /// already won elsewhere is dropped from the queue), or null.
    ///
    /// # Safety
    /// The channel lock is held.
    pub(crate) unsafe fn dequeue(&mut self) -> *mut Sudog {
        // SAFETY: as enqueue.
        unsafe {
            loop {
                let sgp = self.first;
                if sgp.is_null() {
                    return ptr::null_mut();
                }
                let y = (*sgp).next;
                if y.is_null() {
                    self.first = ptr::null_mut();
                    self.last = ptr::null_mut();
                } else {
                    (*y).prev = ptr::null_mut();
                    self.first = y;
                    (*sgp).next = ptr::null_mut(); // mark as removed
                }
                // If a goroutine was put on this queue because of a select, there is
                // a small window between the goroutine being woken up by a different
                // case and it grabbing the channel locks. Once it has the lock it
                // removes itself from the queue, so we won't see it after that. We
                // use a flag in the G struct to tell us when someone else has won the
                // race to signal this goroutine but the goroutine hasn't removed
                // itself from the queue yet.
                if (*sgp).is_select
                    && (*(*sgp).g)
                        .selectdone
                        .compare_exchange(
                            0,
                            1,
                            core::sync::atomic::Ordering::AcqRel,
                            core::sync::atomic::Ordering::Relaxed,
                        )
                        .is_err()
                {
                    continue;
                }
                return sgp;
            }
        }
    }

    /// Unlink sgp if it is still queued (select, after another case won).
    ///
    /// # Safety
    /// The channel lock is held.
    pub(crate) unsafe fn dequeue_sudog(&mut self, sgp: *mut Sudog) {
        // SAFETY: as enqueue.
        unsafe {
            let x = (*sgp).prev;
            let y = (*sgp).next;
            if !x.is_null() {
                if !y.is_null() {
                    // middle of queue
                    (*x).next = y;
                    (*y).prev = x;
                    (*sgp).next = ptr::null_mut();
                    (*sgp).prev = ptr::null_mut();
                    return;
                }
                // end of queue
                (*x).next = ptr::null_mut();
                self.last = x;
                (*sgp).prev = ptr::null_mut();
                return;
            }
            if !y.is_null() {
                // start of queue
                (*y).prev = ptr::null_mut();
                self.first = y;
                (*sgp).next = ptr::null_mut();
                return;
            }
            // x==y==nil. Either sgp is the only element in the queue, or it has
            // already been removed.
            if self.first == sgp {
                self.first = ptr::null_mut();
                self.last = ptr::null_mut();
            }
        }
    }
}

/// The state under the channel lock.
pub(crate) struct HchanState {
    /// Elements in the buffer.
    pub(crate) qcount: usize,
    pub(crate) sendx: usize,
    pub(crate) recvx: usize,
    pub(crate) recvq: WaitQ,
    pub(crate) sendq: WaitQ,
    pub(crate) closed: bool,
}

/// An untyped channel (Go's hchan).
pub(crate) struct Hchan {
    pub(crate) lock: Mutex,
    state: UnsafeCell<HchanState>,
    /// Buffer capacity in elements; immutable.
    pub(crate) dataqsiz: usize,
    buf: *mut u8,
    elemsize: usize,
    elemalign: usize,
    /// Drops one element in place (for what is left in the buffer at the end).
    drop_elem: unsafe fn(*mut u8),
}

// SAFETY: all mutable state is in `state`, touched only with `lock` held; elements
// are moved between goroutines as T: Send requires (Chan<T> is Send only then).
unsafe impl Send for Hchan {}
// SAFETY: shared access touches `state` only under `lock`; the rest is immutable.
unsafe impl Sync for Hchan {}

unsafe fn drop_elem<T>(p: *mut u8) {
    // SAFETY: p holds an initialised T that nobody else owns (the caller's contract).
    unsafe { ptr::drop_in_place(p as *mut T) }
}

impl Hchan {
    /// A channel of T with a buffer of cap elements, or None when the buffer's size
    /// is out of range (Go's makechan limit: it must fit in maxAlloc, 2^48 bytes).
    /// Allocates: runs on a goroutine with no runtime lock held.
    pub(crate) fn new<T>(cap: usize) -> Option<Hchan> {
        const MAX_ALLOC: usize = 1 << 48;
        let elemsize = core::mem::size_of::<T>();
        let elemalign = core::mem::align_of::<T>();
        let bytes = elemsize.checked_mul(cap).filter(|&b| b <= MAX_ALLOC)?;
        let buf = if bytes == 0 {
            ptr::NonNull::<u8>::dangling().as_ptr()
        } else {
            let layout = Layout::from_size_align(bytes, elemalign).ok()?;
            // SAFETY: the layout has a non-zero size.
            let p = unsafe { alloc(layout) };
            if p.is_null() {
                crate::runtime::runtime1::throw("out of memory");
            }
            p
        };
        Some(Hchan {
            lock: Mutex::new(LockRank::Hchan),
            state: UnsafeCell::new(HchanState {
                qcount: 0,
                sendx: 0,
                recvx: 0,
                recvq: WaitQ::new(),
                sendq: WaitQ::new(),
                closed: false,
            }),
            dataqsiz: cap,
            buf,
            elemsize,
            elemalign,
            drop_elem: drop_elem::<T>,
        })
    }

    /// The locked state.
    ///
    /// # Safety
    /// The caller holds self.lock, and holds no other reference to the state.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn st(&self) -> &mut HchanState {
        // SAFETY: the caller's contract.
        unsafe { &mut *self.state.get() }
    }

    /// Address of buffer slot i.
    fn chanbuf(&self, i: usize) -> *mut u8 {
        // SAFETY: i < dataqsiz, inside the buffer (or a zero-size offset).
        unsafe { self.buf.add(i * self.elemsize) }
    }

    /// Move one element from src to dst.
    ///
    /// # Safety
    /// src holds an element that is being moved out; dst is free room for one.
    #[inline]
    pub(crate) unsafe fn move_elem(&self, dst: *mut u8, src: *const u8) {
        // SAFETY: the caller's contract; elements never overlap. Word-sized elements
        // (the common case) get a constant-size copy, which compiles to one load
        // and one store, not a memcpy call. The copy is untyped (a memcpy), so an
        // element's padding or uninitialised bytes (Option<u32>::None's payload)
        // are moved as they are; loading them as an integer would be undefined
        // behaviour.
        unsafe {
            match self.elemsize {
                0 => {}
                8 => ptr::copy_nonoverlapping(src, dst, 8),
                4 => ptr::copy_nonoverlapping(src, dst, 4),
                16 => ptr::copy_nonoverlapping(src, dst, 16),
                n => ptr::copy_nonoverlapping(src, dst, n),
            }
        }
    }

    /// Put the value at ep into the buffer. Lock held, qcount < dataqsiz.
    pub(crate) unsafe fn bufsend(&self, st: &mut HchanState, ep: *const u8) {
        // SAFETY: sendx is a free slot (qcount < dataqsiz).
        unsafe { self.move_elem(self.chanbuf(st.sendx), ep) };
        st.sendx += 1;
        if st.sendx == self.dataqsiz {
            st.sendx = 0;
        }
        st.qcount += 1;
    }

    /// Take the head of the buffer into ep. Lock held, qcount > 0.
    pub(crate) unsafe fn bufrecv(&self, st: &mut HchanState, ep: *mut u8) {
        // SAFETY: recvx holds the oldest element (qcount > 0).
        unsafe { self.move_elem(ep, self.chanbuf(st.recvx)) };
        st.recvx += 1;
        if st.recvx == self.dataqsiz {
            st.recvx = 0;
        }
        st.qcount -= 1;
    }

    /// send processes a send to a waiting receiver sg: the value goes straight into
    /// the receiver's slot. Returns the receiver, for the caller to ready once it has
    /// unlocked the channel(s).
    ///
    /// # Safety
    /// Lock held; sg was just dequeued from recvq; ep holds the value.
    pub(crate) unsafe fn send_direct(&self, sg: *mut Sudog, ep: *const u8) -> *mut G {
        // SAFETY: sg's goroutine is parked and its slot is free room.
        unsafe {
            self.move_elem((*sg).elem, ep);
            complete(sg, true)
        }
    }

    /// recv processes a receive from a waiting sender sg. Unbuffered: take its value
    /// directly. Buffered (so the buffer is full): take the head of the buffer and put
    /// the sender's value at the tail. Returns the sender, for the caller to ready once
    /// it has unlocked the channel(s).
    ///
    /// # Safety
    /// Lock held; sg was just dequeued from sendq; ep is free room.
    pub(crate) unsafe fn recv_direct(
        &self,
        st: &mut HchanState,
        sg: *mut Sudog,
        ep: *mut u8,
    ) -> *mut G {
        // SAFETY: sg's goroutine is parked and its slot holds its value.
        unsafe {
            if self.dataqsiz == 0 {
                self.move_elem(ep, (*sg).elem);
            } else {
                // Queue is full. Take the item at the head of the queue. Make the
                // sender enqueue its item at the tail of the queue. Since the queue
                // is full, those are both the same slot.
                let qp = self.chanbuf(st.recvx);
                self.move_elem(ep, qp);
                self.move_elem(qp, (*sg).elem);
                st.recvx += 1;
                if st.recvx == self.dataqsiz {
                    st.recvx = 0;
                }
                st.sendx = st.recvx; // c.sendx = (c.sendx+1) % c.dataqsiz
            }
            complete(sg, true)
        }
    }
}

/// Record the outcome in a dequeued sudog and return its goroutine (to be readied
/// after the channel locks are released).
///
/// # Safety
/// sg was just dequeued under the channel lock; its goroutine is parked.
pub(crate) unsafe fn complete(sg: *mut Sudog, success: bool) -> *mut G {
    // SAFETY: the goroutine stays parked until goready, so its sudog is ours.
    unsafe {
        let gp = (*sg).g;
        (*sg).success = success;
        (*gp).param = sg as usize;
        gp
    }
}

impl Drop for Hchan {
    fn drop(&mut self) {
        let st = self.state.get_mut();
        // Drop what is still buffered: those values were sent and never received.
        let mut i = st.recvx;
        for _ in 0..st.qcount {
            // SAFETY: the qcount slots from recvx hold initialised elements, and
            // nobody else can reach the channel any more.
            unsafe { (self.drop_elem)(self.chanbuf(i)) };
            i += 1;
            if i == self.dataqsiz {
                i = 0;
            }
        }
        if self.dataqsiz != 0 && self.elemsize != 0 {
            // SAFETY: the buffer was allocated in new with this layout.
            unsafe {
                dealloc(
                    self.buf,
                    Layout::from_size_align_unchecked(
                        self.elemsize * self.dataqsiz,
                        self.elemalign,
                    ),
                );
            }
        }
    }
}

/// chansend: send the value at ep. If !block, return false instead of waiting.
/// On true, the value has been moved out of ep. Runs on a goroutine.
///
/// # Safety
/// ep holds a value of the channel's element type, owned by the caller.
#[track_caller]
pub(crate) unsafe fn chansend(c: &Hchan, ep: *mut u8, block: bool) -> bool {
    // SAFETY: forwarded.
    unsafe { chansend_closed(c, ep, block, true) }
}

/// chansend without waiting. On a closed channel it panics if `closed_panics`
/// (a user's send, as Go's); else it takes nothing and returns false: the
/// runtime's own sends (a timer's value, on g0), since Go's timer channels are
/// receive-only and a gort user who closes one just stops getting its values.
///
/// # Safety
/// As chansend.
#[track_caller]
pub(crate) unsafe fn chansend_nb(c: &Hchan, ep: *mut u8, closed_panics: bool) -> bool {
    // SAFETY: forwarded.
    unsafe { chansend_closed(c, ep, false, closed_panics) }
}

/// chansend's body; a send on a closed channel panics if `panics`, else returns
/// false (only for !block: a blocked sender woken by close always panics).
///
/// # Safety
/// As chansend.
#[track_caller]
#[inline(always)]
unsafe fn chansend_closed(c: &Hchan, ep: *mut u8, block: bool, panics: bool) -> bool {
    // SAFETY: the state is touched only with the lock held; the sudog lives on our
    // stack while we are parked on the queue.
    unsafe {
        c.lock.lock();
        let st = c.st();
        if st.closed {
            c.lock.unlock();
            if !panics {
                return false;
            }
            panic!("send on closed channel");
        }
        let sg = st.recvq.dequeue();
        if !sg.is_null() {
            // Found a waiting receiver. We pass the value we want to send directly
            // to the receiver, bypassing the channel buffer (if any).
            let gp = c.send_direct(sg, ep);
            c.lock.unlock();
            goready(gp);
            return true;
        }
        if st.qcount < c.dataqsiz {
            // Space is available in the channel buffer. Enqueue the element to send.
            c.bufsend(st, ep);
            c.lock.unlock();
            return true;
        }
        if !block {
            c.lock.unlock();
            return false;
        }
        // Block on the channel. Some receiver will complete our operation for us.
        let mut mysg = Sudog::new();
        mysg.g = getg();
        mysg.elem = ep;
        st.sendq.enqueue(&mut mysg);
        goparkunlock(&c.lock, WaitReason::ChanSend);
        // someone woke us up.
        if !mysg.success {
            panic!("send on closed channel");
        }
        true
    }
}

/// chanrecv: receive into ep. Returns (selected, received): (false, _) only when
/// !block and nothing is ready; received is false when the channel is closed and
/// drained (ep untouched). Runs on a goroutine.
///
/// # Safety
/// ep is free room for one element.
pub(crate) unsafe fn chanrecv(c: &Hchan, ep: *mut u8, block: bool) -> (bool, bool) {
    // SAFETY: as chansend.
    unsafe {
        c.lock.lock();
        let st = c.st();
        if st.closed && st.qcount == 0 {
            c.lock.unlock();
            return (true, false);
        }
        let sg = st.sendq.dequeue();
        if !sg.is_null() {
            // Found a waiting sender. If buffer is size 0, receive value directly from
            // sender. Otherwise, receive from head of queue and add sender's value to
            // the tail of the queue (both map to the same buffer slot because the
            // queue is full).
            let gp = c.recv_direct(st, sg, ep);
            c.lock.unlock();
            goready(gp);
            return (true, true);
        }
        if st.qcount > 0 {
            // Receive directly from queue
            c.bufrecv(st, ep);
            c.lock.unlock();
            return (true, true);
        }
        if !block {
            c.lock.unlock();
            return (false, false);
        }
        // no sender available: block on this channel.
        let mut mysg = Sudog::new();
        mysg.g = getg();
        mysg.elem = ep;
        st.recvq.enqueue(&mut mysg);
        goparkunlock(&c.lock, WaitReason::ChanReceive);
        (true, mysg.success)
    }
}

/// closechan: mark the channel closed and wake every waiter: receivers get nothing
/// (received = false), blocked senders panic. Runs on a goroutine.
#[track_caller]
pub(crate) fn closechan(c: &Hchan) {
    let mut glist: *mut G = ptr::null_mut();
    // SAFETY: queue surgery under the lock; the woken goroutines stay parked until
    // goready below, after the unlock.
    unsafe {
        c.lock.lock();
        let st = c.st();
        if st.closed {
            c.lock.unlock();
            panic!("close of closed channel");
        }
        st.closed = true;
        for q in [&mut st.recvq as *mut WaitQ, &mut st.sendq as *mut WaitQ] {
            loop {
                let sg = (*q).dequeue();
                if sg.is_null() {
                    break;
                }
                let gp = complete(sg, false);
                (*gp).schedlink = glist;
                glist = gp;
            }
        }
        c.lock.unlock();
        // Ready all Gs now that we've dropped the channel lock.
        while !glist.is_null() {
            let gp = glist;
            glist = (*gp).schedlink;
            (*gp).schedlink = ptr::null_mut();
            goready(gp);
        }
    }
}

/// Park forever (a nil channel operation, `select! {}`), with Go's wait reason;
/// checkdead sees the goroutine as blocked.
pub(crate) fn block_forever(reason: WaitReason) -> ! {
    loop {
        // SAFETY: no unlock function; nothing will ever ready us.
        unsafe { gopark(None, ptr::null_mut(), reason) };
    }
}
