//! Join handles: how a spawned task's output (or its panic, or its cancellation) gets back
//! to whoever awaits it.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Why a task produced no output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinError {
    repr: Repr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    Cancelled,
    Panic(String),
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send>) -> JoinError {
        JoinError {
            repr: Repr::Panic(panic_message(&*payload)),
        }
    }

    /// The task panicked; the message is in [`Display`](fmt::Display) and
    /// [`panic_message`](JoinError::panic_message).
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The task was aborted, or its runtime was dropped before it finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The panic message, if the task panicked with a string message.
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(msg) => Some(msg),
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("task was cancelled"),
            Repr::Panic(msg) => write!(f, "task panicked: {msg}"),
        }
    }
}

impl std::error::Error for JoinError {}

/// The text of a panic payload (`panic!("...")` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic payload that is not a string".to_string()
    }
}

/// What the task and its handle share.
pub(crate) struct JoinInner<T> {
    state: RefCell<JoinState<T>>,
    abort_requested: Cell<bool>,
}

enum JoinState<T> {
    /// Not finished; the waker of whoever awaits the handle.
    Running(Option<Waker>),
    Finished(Result<T, JoinError>),
    /// The output was taken by the handle.
    Consumed,
}

impl<T> JoinInner<T> {
    pub(crate) fn new() -> Rc<JoinInner<T>> {
        Rc::new(JoinInner {
            state: RefCell::new(JoinState::Running(None)),
            abort_requested: Cell::new(false),
        })
    }

    /// Stores the outcome (the first one wins) and wakes the awaiting task.
    fn complete(&self, result: Result<T, JoinError>) {
        let waiter = {
            let mut state = self.state.borrow_mut();
            match &mut *state {
                JoinState::Running(waiter) => {
                    let waiter = waiter.take();
                    *state = JoinState::Finished(result);
                    waiter
                }
                _ => None,
            }
        };
        // Wake after the borrow is released: the waker may run arbitrary code.
        if let Some(w) = waiter {
            w.wake();
        }
    }

    fn is_running(&self) -> bool {
        matches!(*self.state.borrow(), JoinState::Running(_))
    }
}

/// The future the executor actually runs for a spawned `fut`: polls it with panics
/// caught, honours `abort`, and hands the outcome to the join handle.
///
/// If the executor drops it before it finishes (runtime dropped), the guard reports
/// cancellation; `fut` is dropped before that report because it was pinned later. The
/// guard is made at spawn, not at the first poll, so that a task dropped before it ever
/// ran reports its cancellation too.
pub(crate) fn run_task<F: Future>(
    fut: F,
    join: Rc<JoinInner<F::Output>>,
) -> impl Future<Output = ()> {
    let guard = CancelOnDrop(join);
    async move {
        let guard = guard; // a local declared before `fut`, so dropped after it
        let join = &*guard.0;
        let mut fut = pin!(fut);
        let outcome = poll_fn(|cx| {
            if join.abort_requested.get() {
                return Poll::Ready(Err(JoinError::cancelled()));
            }
            match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
                Ok(Poll::Pending) => Poll::Pending,
                Err(payload) => Poll::Ready(Err(JoinError::panic(payload))),
            }
        })
        .await;
        join.complete(outcome);
        drop(guard);
    }
}

struct CancelOnDrop<T>(Rc<JoinInner<T>>);

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        if self.0.is_running() {
            self.0.complete(Err(JoinError::cancelled()));
        }
    }
}

/// An owned permission to await a spawned task's output.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked or was
/// cancelled. Dropping it *detaches* the task: it keeps running and its output is
/// dropped. A `JoinHandle` belongs to the loop thread (it is not `Send`).
///
/// # Examples
/// ```
/// let rt = taskloop::Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     let handle = taskloop::spawn(async { 6 * 7 });
///     handle.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct JoinHandle<T> {
    inner: Rc<JoinInner<T>>,
    task: Waker,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(inner: Rc<JoinInner<T>>, task: Waker) -> JoinHandle<T> {
        JoinHandle { inner, task }
    }

    /// Asks the task to stop. The next time the loop reaches it, its future is dropped
    /// without being polled again and the handle resolves to a cancelled [`JoinError`].
    /// Aborting a finished task does nothing. A blocking job that already started keeps
    /// running on its worker, but its result is discarded.
    pub fn abort(&self) {
        if self.inner.is_running() {
            self.inner.abort_requested.set(true);
            self.task.wake_by_ref();
        }
    }

    /// Whether the task has finished (completed, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        !self.inner.is_running()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.inner.state.borrow_mut();
        match &mut *state {
            JoinState::Running(waiter) => {
                match waiter {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *waiter = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            JoinState::Finished(_) => match std::mem::replace(&mut *state, JoinState::Consumed) {
                JoinState::Finished(result) => Poll::Ready(result),
                _ => unreachable!("state was just matched as Finished"),
            },
            JoinState::Consumed => panic!("JoinHandle polled after it returned its output"),
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}
