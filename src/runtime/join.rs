//! Join handles: how a spawned task's output (or its panic, or its cancellation) gets back
//! to whoever awaits it.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::task::{Output, TaskId, Tasks};

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
    tasks: Rc<Tasks>,
    id: TaskId,
    /// Turns the task's type-erased output back into a `T`.
    output: fn(Output) -> T,
    /// The handle already returned the outcome.
    returned: bool,
}

impl<T: 'static> JoinHandle<T> {
    pub(crate) fn new(tasks: Rc<Tasks>, id: TaskId) -> JoinHandle<T> {
        JoinHandle {
            tasks,
            id,
            output: |out| {
                *out.downcast::<T>()
                    .expect("a task's output has the type of its handle")
            },
            returned: false,
        }
    }
}

impl<T> JoinHandle<T> {
    /// Asks the task to stop. The next time the loop reaches it, its future is dropped
    /// without being polled again and the handle resolves to a cancelled [`JoinError`].
    /// Aborting a finished task does nothing. A blocking job that already started keeps
    /// running on its worker, but its result is discarded.
    pub fn abort(&self) {
        self.tasks.abort(self.id);
    }

    /// Whether the task has finished (completed, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.returned || self.tasks.is_finished(self.id)
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(
            !self.returned,
            "JoinHandle polled after it returned its output"
        );
        let outcome = std::task::ready!(self.tasks.poll_outcome(self.id, cx));
        self.returned = true;
        Poll::Ready(outcome.map(self.output))
    }
}

impl<T> Drop for JoinHandle<T> {
    /// Detaches the task (it runs on; its output is dropped).
    fn drop(&mut self) {
        if !self.returned {
            self.tasks.detach(self.id);
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
