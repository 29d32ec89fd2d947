//! Waiting for a future on a plain thread (no loop): the `blocking_*` methods.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use crate::runtime::context;

/// Wakes a parked thread.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `fut` on this thread, parking it between polls (a spurious unpark only costs a
/// poll).
///
/// # Panics
/// On a loop thread: it would stall every task of that loop. `what` names the caller.
pub(crate) fn block_on_thread<F: Future>(what: &str, fut: F) -> F::Output {
    assert!(
        context::current().is_none(),
        "{what} must not be called on a taskloop loop thread (it would block every task); \
         use the async method instead"
    );
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}
