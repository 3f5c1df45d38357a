//! Scoped goroutines, as std's `thread::scope`: goroutines that may borrow from the
//! enclosing stack frame, because `scope` returns only after every one of them has
//! finished.
//!
//! ```ignore
//! let v = alloc::vec![1, 2, 3, 4];
//! let total = gort::sync::Mutex::new(0);
//! gort::scope(|s| {
//!     for chunk in v.chunks(2) {
//!         s.go(|| *total.lock() += chunk.iter().sum::<i32>());
//!     }
//! });
//! assert_eq!(*total.lock(), 10);
//! ```
//!
//! Soundness: a goroutine started with `Scope::go` holds borrows of lifetime
//! `'scope`, which ends when `scope` returns; `scope` waits (parking, as a WaitGroup)
//! until the count of running scoped goroutines is zero before it returns. There is
//! no unwinding in gort (a panic ends the process, Go's way), so no early exit can
//! skip the wait.

use core::marker::PhantomData;

use crate::sync::WaitGroup;

/// A scope to start goroutines in; see [`scope`].
pub struct Scope<'scope, 'env: 'scope> {
    wg: WaitGroup,
    /// Invariant over 'scope (as std's), so borrows cannot be shortened to escape.
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

/// Run `f` with a [`Scope`]; goroutines started in it may borrow anything that
/// outlives the call. Returns `f`'s result once `f` has returned and every goroutine
/// started in the scope has finished. A panic in any of them is Go's panic (the
/// program prints it and exits 2).
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let s = Scope {
        wg: WaitGroup::new(),
        _scope: PhantomData,
        _env: PhantomData,
    };
    let r = f(&s);
    s.wg.wait();
    r
}

impl<'scope> Scope<'scope, '_> {
    /// Start a goroutine running `f`, which may borrow from outside the scope (Go's
    /// `go f()` inside a function that waits for it).
    #[track_caller]
    pub fn go<F>(&'scope self, f: F)
    where
        F: FnOnce() + Send + 'scope,
    {
        self.wg.add(1);
        let wg: &'scope WaitGroup = &self.wg;
        let body = move || {
            f();
            wg.done();
        };
        let body: alloc::boxed::Box<dyn FnOnce() + Send + 'scope> = alloc::boxed::Box::new(body);
        // SAFETY: only the lifetime is changed. The goroutine's borrows live for
        // 'scope, which outlasts it: `scope` does not return (so nothing the closure
        // borrows is dropped, and self.wg stays put) until wg is back to zero, which
        // happens only after `f` returned, as the closure's last act.
        let body: alloc::boxed::Box<dyn FnOnce() + Send + 'static> =
            unsafe { core::mem::transmute(body) };
        crate::go(body);
    }
}
