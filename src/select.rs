//! The `select!` macro over channels (Go's select statement) and the typed arms it
//! expands to; `selectgo` itself is in the runtime (runtime/select.rs).

use core::mem::MaybeUninit;

use crate::chan::Chan;
pub use crate::runtime::select::{selectgo, Scase};

/// A receive case of select!: the channel and room for the value.
pub struct RecvArm<'a, T> {
    c: &'a Chan<T>,
    slot: MaybeUninit<T>,
}

impl<'a, T> RecvArm<'a, T> {
    /// A receive case on c.
    pub fn new(c: &'a Chan<T>) -> Self {
        RecvArm {
            c,
            slot: MaybeUninit::uninit(),
        }
    }

    /// The untyped case for selectgo.
    pub fn scase(&mut self) -> Scase {
        Scase {
            c: self.c.hchan(),
            elem: self.slot.as_mut_ptr() as *mut u8,
            send: false,
        }
    }

    /// The received value, once selectgo chose this case: Some if a value came, None
    /// if the channel was closed.
    pub fn take(&mut self, ok: bool) -> Option<T> {
        // SAFETY: selectgo filled the slot exactly when ok is true.
        ok.then(|| unsafe { self.slot.assume_init_read() })
    }
}

/// A send case of select!: the channel and the value (evaluated once). A value not
/// sent is dropped with the arm.
pub struct SendArm<'a, T> {
    c: &'a Chan<T>,
    slot: MaybeUninit<T>,
    pending: bool,
}

impl<'a, T> SendArm<'a, T> {
    /// A send case of v on c.
    pub fn new(c: &'a Chan<T>, v: T) -> Self {
        SendArm {
            c,
            slot: MaybeUninit::new(v),
            pending: true,
        }
    }

    /// The untyped case for selectgo.
    pub fn scase(&mut self) -> Scase {
        Scase {
            c: self.c.hchan(),
            elem: self.slot.as_mut_ptr() as *mut u8,
            send: true,
        }
    }

    /// selectgo chose this case: the value has moved into the channel.
    pub fn sent(&mut self) {
        self.pending = false;
    }
}

impl<T> Drop for SendArm<'_, T> {
    fn drop(&mut self) {
        if self.pending {
            // SAFETY: the value was never sent, so it is still ours.
            unsafe { self.slot.assume_init_drop() };
        }
    }
}

/// `select! {}`: block forever.
pub fn block_forever_select() -> ! {
    crate::runtime::chan::block_forever(crate::runtime::runtime2::WaitReason::SelectNoCases)
}

/// Go's select statement over channels of any types:
///
/// ```ignore
/// gort::select! {
///     recv(c1) -> v => { /* v: Option<T>, None if c1 is closed */ },
///     send(c2, x) => { /* x was sent */ },
///     default => { /* nothing was ready */ },
/// }
/// ```
///
/// Exactly one ready case runs, chosen uniformly at random among the ready ones;
/// without `default` the goroutine parks until one is ready. Channel and value
/// expressions are evaluated once, in order. Nil channels are never chosen.
/// `select! {}` blocks forever. The arms' bodies give the value of the select.
#[macro_export]
macro_rules! select {
    () => {
        $crate::__private::block_forever_select()
    };
    ($($t:tt)+) => {
        $crate::__select_parse!(@arms [__gort_ok __gort_idx] [] [] [] [] $($t)+)
    };
}

/// The muncher behind select!: [ok idx] [scase exprs] [dispatch arms] [position] [default].
#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    // recv arm with a block body (a trailing comma is dropped first)
    (@arms [$ok:ident $idx:ident] [$($cases:tt)*] [$($disp:tt)*] [$($pos:tt)*] [$($def:tt)*]
        recv($c:expr) -> $v:pat => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(@arms [$ok $idx] [$($cases)*] [$($disp)*] [$($pos)*] [$($def)*]
            recv($c) -> $v => $body $($rest)*)
    };
    (@arms [$ok:ident $idx:ident] [$($cases:tt)*] [$($disp:tt)*] [$($pos:tt)*] [$($def:tt)*]
        recv($c:expr) -> $v:pat => $body:block $($rest:tt)*) => {
        match &$c {
            __gort_c => {
                let mut __gort_arm = $crate::__private::RecvArm::new(__gort_c);
                $crate::__select_parse!(@arms [$ok $idx] [$($cases)* __gort_arm.scase(),]
                    [$($disp)* [(0 $($pos)*) { let $v = __gort_arm.take($ok); $body }]]
                    [$($pos)* + 1] [$($def)*] $($rest)*)
            }
        }
    };
    // recv arm with an expression body
    (@arms [$ok:ident $idx:ident] [$($cases:tt)*] [$($disp:tt)*] [$($pos:tt)*] [$($def:tt)*]
        recv($c:expr) -> $v:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_parse!(@arms [$ok $idx] [$($cases)*] [$($disp)*] [$($pos)*] [$($def)*]
            recv($c) -> $v => { $body } $($($rest)*)?)
    };
    // send arm with a block body (a trailing comma is dropped first)
    (@arms [$ok:ident $idx:ident] [$($cases:tt)*] [$($disp:tt)*] [$($pos:tt)*] [$($def:tt)*]
        send($c:expr, $x:expr) => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(@arms [$ok $idx] [$($cases)*] [$($disp)*] [$($pos)*] [$($def)*]
            send($c, $x) => $body $($rest)*)
    };
    (@arms [$ok:ident $idx:ident] [$($cases:tt)*] [$($disp:tt)*] [$($pos:tt)*] [$($def:tt)*]
        send($c:expr, $x:expr) => $body:block $($rest:tt)*) => {
        match (&$c, $x) {
            (__gort_c, __gort_x) => {
                let mut __gort_arm = $crate::__private::SendArm::new(__gort_c, __gort_x);
                $crate::__select_parse!(@arms [$ok $idx] [$($cases)* __gort_arm.scase(),]
                    [$($disp)* [(0 $($pos)*) { __gort_arm.sent(); $body }]]
                    [$($pos)* + 1] [$($def)*] $($rest)*)
            }
        }
    };
    // send arm with an expression body
    (@arms [$ok:ident $idx:ident] [$($cases:tt)*] [$($disp:tt)*] [$($pos:tt)*] [$($def:tt)*]
        send($c:expr, $x:expr) => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_parse!(@arms [$ok $idx] [$($cases)*] [$($disp)*] [$($pos)*] [$($def)*]
            send($c, $x) => { $body } $($($rest)*)?)
    };
    // default arm
    (@arms [$ok:ident $idx:ident] [$($cases:tt)*] [$($disp:tt)*] [$($pos:tt)*] []
        default => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(@arms [$ok $idx] [$($cases)*] [$($disp)*] [$($pos)*] [] default => $body $($rest)*)
    };
    (@arms [$ok:ident $idx:ident] [$($cases:tt)*] [$($disp:tt)*] [$($pos:tt)*] []
        default => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(@arms [$ok $idx] [$($cases)*] [$($disp)*] [$($pos)*] [$body] $($rest)*)
    };
    (@arms [$ok:ident $idx:ident] [$($cases:tt)*] [$($disp:tt)*] [$($pos:tt)*] []
        default => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_parse!(@arms [$ok $idx] [$($cases)*] [$($disp)*] [$($pos)*] [{ $body }] $($($rest)*)?)
    };
    // done, without default: block
    (@arms [$ok:ident $idx:ident] [$($cases:tt)*] [$($disp:tt)*] [$($pos:tt)*] []) => {{
        let mut __gort_cases: [$crate::__private::Scase; _] = [$($cases)*];
        // SAFETY: every case's channel and slot belong to an arm alive in this scope.
        let ($idx, $ok) = unsafe { $crate::__private::selectgo(&mut __gort_cases, true) };
        $crate::__select_parse!(@dispatch $idx [$($disp)*] { unreachable!("select: no case chosen") })
    }};
    // done, with default: don't block
    (@arms [$ok:ident $idx:ident] [$($cases:tt)*] [$($disp:tt)*] [$($pos:tt)*] [$def:block]) => {{
        let mut __gort_cases: [$crate::__private::Scase; _] = [$($cases)*];
        // SAFETY: every case's channel and slot belong to an arm alive in this scope.
        let ($idx, $ok) = unsafe { $crate::__private::selectgo(&mut __gort_cases, false) };
        $crate::__select_parse!(@dispatch $idx [$($disp)*] $def)
    }};
    (@dispatch $idx:ident [$([($($p:tt)*) $body:block])*] $def:block) => {
        match $idx {
            $(__gort_i if __gort_i == ($($p)*) => $body)*
            _ => $def,
        }
    };
}
