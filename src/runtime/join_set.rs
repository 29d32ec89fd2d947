//! [`JoinSet`]: a group of tasks, joined in the order they finish, aborted together.
//!
//! # How `join_next` parks and wakes
//! Each task is spawned wrapped with a small guard that, when the task's future goes
//! away (it finished, panicked, or was aborted), pushes the task's key onto the set's
//! `done` queue and wakes the waker `join_next` left there. So `join_next` never polls
//! tasks that are still running: it pops a key, takes that task's outcome from its
//! [`JoinHandle`], and parks when the queue is empty. Everything is loop-local (`Rc`,
//! `RefCell`), like the tasks themselves.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use slab::Slab;

use super::context;
use super::join::{JoinError, JoinHandle};

/// A set of tasks spawned on the current runtime: [`join_next`](JoinSet::join_next)
/// returns the output of whichever finishes next, and dropping the set aborts every task
/// still in it.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use taskloop::JoinSet;
/// let rt = taskloop::Runtime::new().unwrap();
/// let order = rt.block_on(async {
///     let mut set = JoinSet::new();
///     for ms in [30u64, 10, 20] {
///         set.spawn(async move {
///             taskloop::sleep(Duration::from_millis(ms)).await;
///             ms
///         });
///     }
///     let mut order = Vec::new();
///     while let Some(done) = set.join_next().await {
///         order.push(done.unwrap());
///     }
///     order
/// });
/// assert_eq!(order, [10, 20, 30]);
/// ```
pub struct JoinSet<T> {
    tasks: Slab<JoinHandle<T>>,
    done: Rc<Done>,
}

/// Keys of tasks whose futures are gone, and the waker of `join_next`.
#[derive(Default)]
struct Done {
    keys: RefCell<VecDeque<usize>>,
    waker: RefCell<Option<Waker>>,
}

/// Lives inside a task's future; reports the task's key when that future is dropped.
struct ReportOnDrop {
    key: usize,
    done: Rc<Done>,
}

impl Drop for ReportOnDrop {
    fn drop(&mut self) {
        self.done.keys.borrow_mut().push_back(self.key);
        let waker = self.done.waker.borrow_mut().take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T: 'static> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            tasks: Slab::new(),
            done: Rc::default(),
        }
    }

    /// Spawns `fut` on the current runtime as a member of this set.
    ///
    /// # Panics
    /// Outside a runtime.
    pub fn spawn<F: Future<Output = T> + 'static>(&mut self, fut: F) {
        let entry = self.tasks.vacant_entry();
        let report = ReportOnDrop {
            key: entry.key(),
            done: self.done.clone(),
        };
        entry.insert(crate::spawn(async move {
            let _report = report; // dropped with the future, however it ends
            fut.await
        }));
    }

    /// Runs `f` on the blocking pool as a member of this set (aborting it discards the
    /// result; a job that started runs to its end on its worker).
    ///
    /// # Panics
    /// Outside a runtime.
    pub fn spawn_blocking<F>(&mut self, f: F)
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send,
    {
        let core = context::expect_current("JoinSet::spawn_blocking");
        let wait = core.blocking.submit(core.clone(), f);
        self.spawn(async move {
            match wait.await {
                Ok(value) => value,
                Err(payload) => std::panic::resume_unwind(payload),
            }
        });
    }

    /// The outcome of a task that has finished, if any, without waiting.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        let waker = std::task::Waker::noop();
        match self.poll_join_next(&mut Context::from_waker(waker)) {
            Poll::Ready(outcome) => outcome,
            Poll::Pending => None,
        }
    }

    /// Waits for the next task to finish and returns its outcome (a [`JoinError`] if it
    /// panicked or was aborted); `None` when the set is empty.
    ///
    /// Cancel-safe: dropping the future loses no outcome.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// The poll behind [`join_next`](JoinSet::join_next).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        loop {
            if self.tasks.is_empty() {
                return Poll::Ready(None);
            }
            let next = self.done.keys.borrow_mut().pop_front();
            let Some(key) = next else {
                *self.done.waker.borrow_mut() = Some(cx.waker().clone());
                return Poll::Pending;
            };
            let Some(handle) = self.tasks.get_mut(key) else {
                continue; // the key of a task already joined and replaced: skip
            };
            // The future is gone, so the outcome is stored: this is ready at once.
            if let Poll::Ready(outcome) = Pin::new(handle).poll(cx) {
                self.tasks.remove(key);
                return Poll::Ready(Some(outcome));
            }
            // Not stored yet (the report came first); the handle now holds our waker.
            self.done.keys.borrow_mut().push_front(key);
            return Poll::Pending;
        }
    }

    /// Asks every task to stop; their outcomes (cancelled, unless one finished first)
    /// are still returned by [`join_next`](JoinSet::join_next).
    pub fn abort_all(&mut self) {
        for (_, handle) in &self.tasks {
            handle.abort();
        }
    }

    /// Aborts every task and waits until all are gone, discarding their outcomes.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Tasks in the set (finished ones count until they are joined).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

impl<T: 'static> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    /// Aborts every task still in the set.
    fn drop(&mut self) {
        for (_, handle) in &self.tasks {
            handle.abort();
        }
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet")
            .field("tasks", &self.tasks.len())
            .finish()
    }
}
