//! The `select!` macro (Go's select statement) and the typed arms it expands to;
//! `selectgo` itself is in the runtime (runtime/select.rs).
//!
//! The macro is a thin `macro_rules!` that hands the arms, with gort's own path, to
//! a procedural macro (the gort-macros crate, in macros/): it numbers the arms and
//! emits one flat block, so a select may have as many arms as Go allows (65,536)
//! without `#![recursion_limit]`.
//!
//! The expansion's entry points are safe: a `Case` can only be made from an arm it
//! borrows mutably, so selectgo's view of every value slot stays valid while it runs,
//! and selectgo reports each case's outcome (received, closed, sent) into its arm,
//! which `take` and `Drop` read: a value is taken only if it arrived and dropped only
//! if it was not sent.

use core::mem::MaybeUninit;

use crate::chan::Chan;
use crate::runtime::chan::Sudog;
use crate::runtime::select::Scase;

/// Go's select statement over channels of any types:
///
/// ```ignore
/// gort::select! {
///     recv(c1) -> v => { /* v: Option<T>, None if c1 is closed */ },
///     send(c2, x) => { /* x was sent */ },
///     recv(gort::time::after(Duration::from_millis(10))) -> _ => { /* timeout */ },
///     default => { /* nothing was ready */ },
/// }
/// ```
///
/// Exactly one ready case runs, chosen uniformly at random among the ready ones;
/// without `default` the goroutine parks until one is ready. Channel and value
/// expressions are evaluated once, in source order, before anything else. Nil
/// channels are never chosen. `select! {}` blocks forever. The arms' bodies give the
/// value of the select, and may `return`, `break` or `?` out of the enclosing code.
///
/// Arms: `recv(CHAN) -> PAT => BODY` (or `recv(CHAN) => BODY` to drop the value),
/// `send(CHAN, VALUE) => BODY`, and at most one `default => BODY`. A body is a block
/// (a comma after it is optional) or an expression ending at the next comma. A
/// channel expression with a top-level comma (a turbofish) must be parenthesised.
///
/// Up to 65,536 cases, as in Go. The cases' bookkeeping lives on the goroutine's
/// stack, about 80 bytes a case: a select of thousands of cases wants a bigger stack
/// than 16 KiB (`go_with_stack`).
///
/// # Panics
///
/// `send on closed channel` if a send case's channel is closed when it is chosen (or
/// gets closed while the select waits), reported at the `select!`.
#[macro_export]
macro_rules! select {
    () => {
        $crate::__private::block_forever_select()
    };
    ($($t:tt)+) => {
        $crate::__private::select_impl!($crate; $($t)+)
    };
}

/// What happened to a case, written by selectgo.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    /// Not chosen (or selectgo has not run).
    Pending,
    /// A receive case got a value (now in the arm's slot).
    Received,
    /// A receive case's channel is closed and drained.
    Closed,
    /// A send case's value moved into the channel.
    Sent,
}

/// One case of a select, borrowing its arm for as long as selectgo may use it.
pub struct Case<'a> {
    sc: Scase,
    outcome: &'a mut Outcome,
}

/// A receive case of select!: the channel and room for the value.
pub struct RecvArm<'a, T> {
    c: &'a Chan<T>,
    slot: MaybeUninit<T>,
    outcome: Outcome,
}

impl<'a, T> RecvArm<'a, T> {
    /// A receive case on c.
    pub fn new(c: &'a Chan<T>) -> Self {
        RecvArm {
            c,
            slot: MaybeUninit::uninit(),
            outcome: Outcome::Pending,
        }
    }

    /// The untyped case for selectgo.
    pub fn case(&mut self) -> Case<'_> {
        Case {
            sc: Scase {
                c: self.c.hchan(),
                elem: self.slot.as_mut_ptr() as *mut u8,
                send: false,
            },
            outcome: &mut self.outcome,
        }
    }

    /// The outcome once selectgo chose this case: Some(value) if a value came, None
    /// if the channel was closed.
    ///
    /// # Panics
    /// If this case was not chosen (the macro never does that).
    pub fn take(&mut self) -> Option<T> {
        match core::mem::replace(&mut self.outcome, Outcome::Pending) {
            // SAFETY: selectgo reported Received, so it moved a value into the slot;
            // resetting the outcome first means it is read out once.
            Outcome::Received => Some(unsafe { self.slot.assume_init_read() }),
            Outcome::Closed => None,
            o => panic!("select: take of a case that was not chosen ({o:?})"),
        }
    }
}

impl<T> Drop for RecvArm<'_, T> {
    fn drop(&mut self) {
        if self.outcome == Outcome::Received {
            // SAFETY: a value arrived and was never taken.
            unsafe { self.slot.assume_init_drop() };
        }
    }
}

/// A send case of select!: the channel and the value (evaluated once). A value not
/// sent is dropped with the arm.
pub struct SendArm<'a, T> {
    c: &'a Chan<T>,
    slot: MaybeUninit<T>,
    outcome: Outcome,
}

impl<'a, T> SendArm<'a, T> {
    /// A send case of v on c.
    pub fn new(c: &'a Chan<T>, v: T) -> Self {
        SendArm {
            c,
            slot: MaybeUninit::new(v),
            outcome: Outcome::Pending,
        }
    }

    /// The untyped case for selectgo.
    pub fn case(&mut self) -> Case<'_> {
        Case {
            sc: Scase {
                c: self.c.hchan(),
                elem: self.slot.as_mut_ptr() as *mut u8,
                send: true,
            },
            outcome: &mut self.outcome,
        }
    }
}

impl<T> Drop for SendArm<'_, T> {
    fn drop(&mut self) {
        if self.outcome != Outcome::Sent {
            // SAFETY: the value was never sent, so it is still ours.
            unsafe { self.slot.assume_init_drop() };
        }
    }
}

/// Run a select over cases (made from arms, in source order): the index of the case
/// that ran, with its outcome recorded in its arm, or `usize::MAX` when !block and
/// nothing was ready. Runs on a goroutine.
#[track_caller]
pub fn selectgo<const N: usize>(cases: &mut [Case<'_>; N], block: bool) -> usize {
    const { assert!(N <= 1 << 16, "select has more than 65536 cases") };
    let scases: [Scase; N] = core::array::from_fn(|i| cases[i].sc);
    let mut pollorder = [0u16; N];
    let mut lockorder = [0u16; N];
    // SAFETY: an array of MaybeUninit needs no initialisation.
    let mut sudogs: [MaybeUninit<Sudog>; N] = unsafe { MaybeUninit::uninit().assume_init() };
    // SAFETY: each Scase comes from an arm borrowed (mutably) by its Case for the
    // whole call: a non-null c is the live channel of the arm's element type, a send
    // slot holds the arm's value, a receive slot is the arm's free room.
    let (i, ok) = unsafe {
        crate::runtime::select::selectgo(
            &scases,
            &mut pollorder,
            &mut lockorder,
            &mut sudogs,
            block,
        )
    };
    if let Some(c) = cases.get_mut(i) {
        *c.outcome = match (c.sc.send, ok) {
            (true, _) => Outcome::Sent,
            (false, true) => Outcome::Received,
            (false, false) => Outcome::Closed,
        };
    }
    i
}

/// `select! {}`: block forever.
pub fn block_forever_select() -> ! {
    crate::runtime::chan::block_forever(crate::runtime::runtime2::WaitReason::SelectNoCases)
}

/// A select without `default` returned no case: impossible.
#[cold]
pub fn unreachable_select() -> ! {
    crate::runtime::runtime1::throw("select: no case chosen")
}

// Cases must stay as small as the stack budget in the docs says.
const _: () = assert!(core::mem::size_of::<Case<'static>>() <= 32);
