//! [`Handle`]: spawn onto a runtime's loop from any thread.
//!
//! A handle holds the runtime's `Shared` (chapter 3), the one part of a runtime other
//! threads may touch. `Handle::spawn` boxes a closure that will spawn the future, pushes
//! it onto `Shared`'s injection queue and notifies the loop: the same publish-then-notify
//! path a remote wake takes. The loop runs the closures right after it drains remote
//! wakes, so the task starts at that iteration. The output travels back through a
//! [`oneshot`](crate::sync::oneshot) channel to the [`RemoteJoinHandle`], which any
//! thread or executor may await.
//!
//! When the runtime is dropped it closes the queue: later spawns fail with
//! [`SpawnError`], and closures still queued are dropped, so their handles resolve as
//! cancelled. tokio panics on a spawn into a runtime that is gone; an error is easier to
//! handle for a thread that may outlive the loop.

use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use super::context;
use super::join::JoinError;
use super::shared::{lock, Shared};
use crate::sync::oneshot;

/// A `Send + Clone` handle to a [`Runtime`](crate::Runtime): spawns `Send` futures and
/// blocking jobs onto its loop from any thread.
///
/// Tasks spawned through a handle run while the runtime is driven by
/// [`block_on`](crate::Runtime::block_on) (as with tokio's current-thread runtime); they
/// wait in the runtime between `block_on` calls.
///
/// # Examples
/// ```
/// let rt = taskloop::Runtime::new().unwrap();
/// let handle = rt.handle();
/// let from_thread = std::thread::spawn(move || {
///     handle.spawn(async { 6 * 7 }).expect("the runtime is alive")
/// });
/// let remote = from_thread.join().unwrap();
/// assert_eq!(rt.block_on(remote).unwrap(), 42);
///
/// let handle = rt.handle();
/// drop(rt);
/// assert!(handle.spawn(async {}).is_err()); // the runtime is gone
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

/// The error of [`Handle::spawn`]: the runtime has been dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpawnError(());

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the runtime has been dropped")
    }
}

impl std::error::Error for SpawnError {}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Handle {
        Handle { shared }
    }

    /// The handle of the runtime running on this thread.
    ///
    /// # Panics
    /// Outside a runtime.
    pub fn current() -> Handle {
        Handle::new(context::expect_current("Handle::current").shared().clone())
    }

    /// The handle of the runtime running on this thread, if any.
    pub fn try_current() -> Option<Handle> {
        context::current().map(|core| Handle::new(core.shared().clone()))
    }

    /// Spawns `fut` on the runtime's loop. Callable from any thread, including the loop.
    ///
    /// # Errors
    /// [`SpawnError`] if the runtime has been dropped.
    pub fn spawn<F>(&self, fut: F) -> Result<RemoteJoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(move || fut)
    }

    /// Runs `f` on the runtime's blocking pool. Callable from any thread.
    ///
    /// # Errors
    /// [`SpawnError`] if the runtime has been dropped.
    pub fn spawn_blocking<F, T>(&self, f: F) -> Result<RemoteJoinHandle<T>, SpawnError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_with(move || {
            let core = context::expect_current("Handle::spawn_blocking");
            let wait = core.blocking.submit(core.clone(), f);
            async move {
                match wait.await {
                    Ok(v) => v,
                    Err(payload) => std::panic::resume_unwind(payload),
                }
            }
        })
    }

    /// Sends `make` to the loop, which calls it there and spawns the future it returns.
    /// That future need not be `Send` (only `make` and the output cross threads), so it
    /// may hold sockets, `Rc`s and [`JoinHandle`](crate::JoinHandle)s; tokio-util calls
    /// this `spawn_pinned`.
    ///
    /// # Errors
    /// [`SpawnError`] if the runtime has been dropped.
    ///
    /// # Examples
    /// ```
    /// use std::rc::Rc;
    /// let rt = taskloop::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let remote = std::thread::spawn(move || {
    ///     handle
    ///         .spawn_with(|| {
    ///             let local = Rc::new(5); // not Send: built on the loop thread
    ///             async move { *local * 2 }
    ///         })
    ///         .unwrap()
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(rt.block_on(remote).unwrap(), 10);
    /// ```
    pub fn spawn_with<M, F>(&self, make: M) -> Result<RemoteJoinHandle<F::Output>, SpawnError>
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        let (out_tx, out_rx) = oneshot::channel();
        let (abort_tx, abort_rx) = oneshot::channel();
        let job = Box::new(move || match catch_unwind(AssertUnwindSafe(make)) {
            Ok(fut) => drop(crate::spawn(remote_task(fut, abort_rx, out_tx))),
            // the closure panicked before it made a future: the handle reports it, the
            // loop and the other spawns of the batch go on
            Err(payload) => drop(out_tx.send(Err(JoinError::panic(payload)))),
        });
        self.shared.inject(job).map_err(|_| SpawnError(()))?;
        Ok(RemoteJoinHandle {
            output: out_rx,
            abort: Mutex::new(Some(abort_tx)),
        })
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// The task a handle spawns: `fut` with panics caught, stopped early by an abort
/// request, its outcome sent to the [`RemoteJoinHandle`].
async fn remote_task<F: Future>(
    fut: F,
    mut abort: oneshot::Receiver<()>,
    out: oneshot::Sender<Result<F::Output, JoinError>>,
) {
    let mut fut = pin!(fut);
    let mut abort_open = true;
    let outcome = poll_fn(|cx| {
        if abort_open {
            match Pin::new(&mut abort).poll(cx) {
                Poll::Ready(Ok(())) => return Poll::Ready(Err(JoinError::cancelled())),
                Poll::Ready(Err(_)) => abort_open = false, // handle dropped: detached
                Poll::Pending => {}
            }
        }
        match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(JoinError::panic(payload))),
        }
    })
    .await;
    let _ = out.send(outcome);
}

/// Awaits a task spawned through a [`Handle`]: `Send + Sync`, awaitable on any thread or
/// executor. Resolves to the output, or a [`JoinError`] if the task panicked, was
/// aborted, or its runtime was dropped first. Dropping it detaches the task.
pub struct RemoteJoinHandle<T> {
    output: oneshot::Receiver<Result<T, JoinError>>,
    abort: Mutex<Option<oneshot::Sender<()>>>,
}

impl<T> RemoteJoinHandle<T> {
    /// Asks the task to stop; from any thread. Its future is dropped at the loop's next
    /// turn and the handle resolves as cancelled. Does nothing once the task finished.
    pub fn abort(&self) {
        if let Some(tx) = lock(&self.abort).take() {
            let _ = tx.send(());
        }
    }
}

impl<T> Future for RemoteJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.output)
            .poll(cx)
            .map(|r| r.unwrap_or_else(|_| Err(JoinError::cancelled())))
    }
}

impl<T> fmt::Debug for RemoteJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJoinHandle").finish_non_exhaustive()
    }
}
