//! Which runtime, if any, the current thread is running.
//!
//! `block_on` installs its core here for the duration of the call. The free functions
//! ([`spawn`](crate::spawn), [`sleep`](crate::sleep) on first poll, TCP registration) and the
//! local fast path of task wakers look it up.

use std::cell::RefCell;
use std::rc::Rc;

use super::executor::Core;
use super::shared::Shared;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// The core of the runtime running on this thread, if any.
pub(crate) fn current() -> Option<Rc<Core>> {
    CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// The core of the runtime running on this thread.
///
/// # Panics
/// Outside a runtime, with a message naming `what` was called.
pub(crate) fn expect_current(what: &str) -> Rc<Core> {
    current().unwrap_or_else(|| {
        panic!("{what} must be called from inside a taskloop runtime (within Runtime::block_on or a task it runs)")
    })
}

/// Runs `f` with this thread's core if that core owns `shared`; `None` otherwise.
///
/// This is how a waker tells "woken on the loop thread" (push straight onto the ready
/// queue, no lock, no syscall) from "woken elsewhere" (go through [`Shared`]).
pub(crate) fn with_local<R>(shared: &Shared, f: impl FnOnce(&Core) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| match &*c.borrow() {
            Some(core) if std::ptr::eq(core.shared_ptr(), shared) => Some(f(core)),
            _ => None,
        })
        .ok()
        .flatten()
}

/// Marks this thread as running `core` until the guard is dropped.
#[derive(Debug)]
pub(crate) struct EnterGuard(());

/// Installs `core` as this thread's runtime.
///
/// # Panics
/// If this thread is already inside a runtime: blocking the loop thread on a second loop
/// would starve every task of the first.
pub(crate) fn enter(core: Rc<Core>) -> EnterGuard {
    CURRENT.with(|c| {
        let mut slot = c.borrow_mut();
        assert!(
            slot.is_none(),
            "Runtime::block_on cannot be called from inside a taskloop runtime: \
             the loop thread would block and starve its own tasks; spawn the future instead"
        );
        *slot = Some(core);
    });
    EnterGuard(())
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        // Take the core out first so that its drop (if this was the last handle) runs
        // without the thread-local borrowed.
        let core = CURRENT.try_with(|c| c.borrow_mut().take()).ok().flatten();
        drop(core);
    }
}
