//! The cooperative budget: how many I/O operations a task may complete in one poll.
//!
//! The loop is cooperative: a task runs until it returns `Pending`. A task whose socket
//! is always ready (a client pipelining requests, a peer streaming flat out, a listener
//! whose `accept` fails at once with "too many open files") would never return it, and
//! no other task, timer or I/O event would get a turn. So, as tokio does, each poll of
//! a task gets a budget of [`BUDGET`] I/O operations. Every socket operation that
//! completes (with data or with an error) spends one unit; once the budget is spent, the
//! next operation returns `Pending` *even though the socket is ready*, after waking its
//! own task. The task goes to the back of the ready queue, the loop runs the others, and
//! the next poll starts with a fresh budget.
//!
//! The contract, for code that uses the runtime's I/O:
//! - Any `.await` on a socket may return `Pending` although the socket is ready; the task
//!   is always woken again, so nothing is lost and no event is missed (readiness is kept).
//! - A task that does no I/O (a CPU loop, a channel ping-pong) is not limited by the
//!   budget: it must yield on its own ([`yield_now`](crate::yield_now)).
//! - Outside a task poll (code not run by the executor) the budget is unlimited.

use std::cell::Cell;
use std::task::{Context, Poll};

/// I/O operations a task may complete per poll. tokio uses 128; fewer gives others
/// turns sooner, more lowers the cost of re-polling a busy task.
pub(crate) const BUDGET: u32 = 128;

thread_local! {
    /// Units left in the current poll; `None` outside a task poll (unlimited).
    static LEFT: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Runs `poll` (one poll of a task or of the `block_on` future) with a fresh budget,
/// restoring the outer one afterwards.
pub(crate) fn with_budget<R>(poll: impl FnOnce() -> R) -> R {
    struct Restore(Option<u32>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = LEFT.try_with(|left| left.set(self.0));
        }
    }
    let _restore = Restore(LEFT.with(|left| left.replace(Some(BUDGET))));
    poll()
}

/// Called before an I/O operation: `Ready` if the task may go on, else wakes the task
/// and returns `Pending` (it will be polled again, with a fresh budget, after the others).
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    if LEFT.with(Cell::get) == Some(0) {
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    Poll::Ready(())
}

/// Spends one unit: an I/O operation completed.
pub(crate) fn spend() {
    LEFT.with(|left| {
        if let Some(n) = left.get() {
            left.set(Some(n.saturating_sub(1)));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Count(std::sync::atomic::AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_spent_budget_yields_once_and_wakes_the_task() {
        let count = Arc::new(Count(Default::default()));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(poll_proceed(&mut cx).is_ready(), "unlimited outside a poll");
        with_budget(|| {
            for _ in 0..BUDGET {
                assert!(poll_proceed(&mut cx).is_ready());
                spend();
            }
            assert!(poll_proceed(&mut cx).is_pending());
            assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 1);
            with_budget(|| assert!(poll_proceed(&mut cx).is_ready(), "fresh inside"));
            assert!(poll_proceed(&mut cx).is_pending(), "outer budget restored");
        });
        assert!(poll_proceed(&mut cx).is_ready());
    }
}
