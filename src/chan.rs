//! Channels: Go's `chan T`, typed, shared by cloning, with Go's semantics.
//!
//! [`chan`](fn@chan) makes a channel with a buffer of `cap` elements (0: unbuffered).
//! A send waits until a receiver takes the value or there is room in the buffer; a
//! receive waits until there is a value. [`Chan::close`] wakes every waiter:
//! receivers drain what is buffered and then get `None`, senders panic with
//! `send on closed channel`. [`Chan::nil`] is Go's nil channel: operations on it block
//! forever, and [`select!`](crate::select!) never picks it.
//!
//! Values move exactly as Rust moves them: a sent value is copied once, into the
//! buffer or straight into a waiting receiver, and is dropped by whoever receives
//! it; values still buffered when the last handle is dropped are dropped then.
//!
//! A waiting goroutine parks; its thread runs other goroutines meanwhile. An
//! operation that can proceed at once (a waiting partner, room, a value) does not
//! switch goroutines.

use alloc::sync::Arc;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr;

use crate::runtime::chan::{block_forever, chanrecv, chansend, chansend_nb, closechan, Hchan};
use crate::runtime::runtime2::WaitReason;

/// A channel of T, Go's `chan T`: cloning it gives another handle to the same
/// channel. `Chan::nil()` is Go's nil channel: operations on it block forever and
/// select never picks it.
pub struct Chan<T> {
    c: Option<Arc<Hchan>>,
    _t: PhantomData<T>,
}

// SAFETY: values of T move between goroutines (threads) through the channel.
unsafe impl<T: Send> Send for Chan<T> {}
// SAFETY: a shared Chan only sends and receives (moving T: Send) through the Hchan,
// which is Sync; it never hands out &T.
unsafe impl<T: Send> Sync for Chan<T> {}

impl<T> Clone for Chan<T> {
    fn clone(&self) -> Self {
        Chan {
            c: self.c.clone(),
            _t: PhantomData,
        }
    }
}

/// Make a channel with a buffer of `cap` elements (0: unbuffered), Go's
/// `make(chan T, cap)`.
///
/// # Panics
///
/// `makechan: size out of range` if the buffer would exceed 2^48 bytes (Go's limit).
#[track_caller]
pub fn chan<T: Send>(cap: usize) -> Chan<T> {
    match Hchan::new::<T>(cap) {
        Some(h) => Chan {
            c: Some(Arc::new(h)),
            _t: PhantomData,
        },
        None => panic!("makechan: size out of range"),
    }
}

/// Why try_recv returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing is ready now.
    Empty,
    /// The channel is closed and drained.
    Closed,
}

impl<T> Chan<T> {
    /// Go's nil channel.
    pub const fn nil() -> Chan<T> {
        Chan {
            c: None,
            _t: PhantomData,
        }
    }

    /// The number of handles to this channel (clones alive), 0 for nil.
    pub(crate) fn handles(&self) -> usize {
        self.c.as_ref().map_or(0, Arc::strong_count)
    }

    /// Whether this is the nil channel.
    pub fn is_nil(&self) -> bool {
        self.c.is_none()
    }

    /// The untyped channel, or null for nil (select).
    pub(crate) fn hchan(&self) -> *const Hchan {
        self.c.as_ref().map_or(ptr::null(), Arc::as_ptr)
    }

    /// Send v, waiting until a receiver takes it or there is room in the buffer.
    /// Panics with "send on closed channel" if the channel is (or gets) closed.
    #[track_caller]
    pub fn send(&self, v: T) {
        let Some(c) = &self.c else {
            block_forever(WaitReason::ChanSendNilChan)
        };
        let mut slot = MaybeUninit::new(v);
        // SAFETY: slot holds our value; a successful send moves it out.
        unsafe { chansend(c, slot.as_mut_ptr() as *mut u8, true) };
    }

    /// Send without waiting: Err(v) gives the value back when no receiver is waiting
    /// and the buffer is full. Panics on a closed channel, as Go's select does.
    #[track_caller]
    pub fn try_send(&self, v: T) -> Result<(), T> {
        self.try_send_nb(v, true)
    }

    /// try_send for the runtime's own sends (a timer's value): Err(v) also when
    /// the channel is closed, instead of panicking.
    pub(crate) fn try_send_unless_closed(&self, v: T) -> Result<(), T> {
        self.try_send_nb(v, false)
    }

    /// try_send's body; a closed channel panics if `closed_panics`, else gives
    /// the value back.
    #[track_caller]
    #[inline(always)]
    fn try_send_nb(&self, v: T, closed_panics: bool) -> Result<(), T> {
        let Some(c) = &self.c else { return Err(v) };
        let mut slot = MaybeUninit::new(v);
        // SAFETY: as send; on false the value is still ours in slot.
        if unsafe { chansend_nb(c, slot.as_mut_ptr() as *mut u8, closed_panics) } {
            Ok(())
        } else {
            // SAFETY: not sent, so slot still holds v.
            Err(unsafe { slot.assume_init() })
        }
    }

    /// Receive, waiting until a value is there; None once the channel is closed and
    /// drained.
    pub fn recv(&self) -> Option<T> {
        let Some(c) = &self.c else {
            block_forever(WaitReason::ChanReceiveNilChan)
        };
        let mut slot = MaybeUninit::<T>::uninit();
        // SAFETY: slot is free room; received = true means a value was moved in.
        let (_, received) = unsafe { chanrecv(c, slot.as_mut_ptr() as *mut u8, true) };
        // SAFETY: as above.
        received.then(|| unsafe { slot.assume_init() })
    }

    /// Receive without waiting.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let Some(c) = &self.c else {
            return Err(TryRecvError::Empty);
        };
        let mut slot = MaybeUninit::<T>::uninit();
        // SAFETY: as recv.
        match unsafe { chanrecv(c, slot.as_mut_ptr() as *mut u8, false) } {
            (false, _) => Err(TryRecvError::Empty),
            (true, false) => Err(TryRecvError::Closed),
            // SAFETY: received: slot holds the value.
            (true, true) => Ok(unsafe { slot.assume_init() }),
        }
    }

    /// Close the channel: receivers drain what is buffered, then get None; senders
    /// panic. Panics with "close of closed channel" / "close of nil channel".
    #[track_caller]
    pub fn close(&self) {
        match &self.c {
            Some(c) => closechan(c),
            None => panic!("close of nil channel"),
        }
    }

    /// The number of elements buffered now.
    pub fn len(&self) -> usize {
        let Some(c) = &self.c else { return 0 };
        c.lock.lock();
        // SAFETY: lock held.
        let n = unsafe { c.st().qcount };
        c.lock.unlock();
        n
    }

    /// Whether nothing is buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer capacity.
    pub fn cap(&self) -> usize {
        self.c.as_ref().map_or(0, |c| c.dataqsiz)
    }
}

/// `for v in &c` receives until the channel is closed and drained.
impl<'a, T> IntoIterator for &'a Chan<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        Iter { c: self }
    }
}

/// The iterator of `for v in &c`: receives until the channel is closed and drained.
pub struct Iter<'a, T> {
    c: &'a Chan<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.c.recv()
    }
}
