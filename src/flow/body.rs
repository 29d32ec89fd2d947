//! Job bodies: the three ways a job's work runs, behind one object-safe trait.
//!
//! - **blocking** (`Flow::try_job`, `Flow::try_job_after`): a closure on the runtime's
//!   worker pool; the loop thread only waits for its completion.
//! - **async** (`Flow::try_job_async`): a future polled on the loop thread; this is what
//!   remote jobs that submit, then poll a server, use.
//! - **local** (`Flow::try_job_local`): a cheap closure called on the loop thread.
//!
//! Every body here returns `Result<T, BoxError>`; the infallible declarations (`job`,
//! `job_after`, `job_async`, `job_local`) wrap theirs in `Ok` and come through the same
//! path. Every attempt runs with panics caught and the job's [`Progress`] installed, and
//! on success stores the typed result in the job's output cell.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use super::error::BoxError;
use super::inputs::{InputCells, Output};
use super::remote::Progress;
use super::state::WorkerLease;
use crate::runtime::join::panic_message;
use crate::{JoinError, JoinHandle};

/// Why one attempt failed.
#[derive(Debug)]
pub(crate) enum AttemptError {
    Failed(BoxError),
    Panicked(String),
    TimedOut(Duration),
}

/// The future of one attempt.
pub(crate) type AttemptFuture = Pin<Box<dyn Future<Output = Result<(), AttemptError>>>>;

/// One job's work, type-erased so the scheduler can hold jobs of any output type.
pub(crate) trait Body {
    /// Starts one attempt. Inputs are read now: the scheduler calls this only once
    /// every input is done. Blocking bodies get a lease that they keep until the pool
    /// worker is done with the attempt, even if the attempt is abandoned first.
    fn attempt(self: Rc<Self>, progress: Progress, lease: Option<WorkerLease>) -> AttemptFuture;

    /// Runs one attempt to its end right now, if this kind of body can (local bodies,
    /// see [`runs_inline`](Body::runs_inline)); `None` for bodies that need a task.
    fn run_now(&self, _progress: &Progress) -> Option<Result<(), AttemptError>> {
        None
    }

    /// Whether [`run_now`](Body::run_now) runs the body.
    fn runs_inline(&self) -> bool {
        false
    }
}

/// A body stored with its inputs' cells and its own output cell. A blocking body's `F`
/// is an `Arc` of the user's closure, shared with the pool worker of each attempt.
pub(crate) struct Bound<C, T, F> {
    pub(crate) inputs: C,
    pub(crate) out: RefCell<Option<Arc<T>>>,
    pub(crate) f: F,
}

/// Marker types selecting how a [`Bound`] body runs.
pub(crate) struct Blocking;
pub(crate) struct Async;
pub(crate) struct Local;

/// A bound body together with its kind.
pub(crate) struct Kind<K, B>(pub(crate) K, pub(crate) B);

impl<K, C, T, F> Output<T> for Kind<K, Bound<C, T, F>> {
    fn cell(&self) -> &RefCell<Option<Arc<T>>> {
        &self.1.out
    }
}

fn store<T>(
    out: &RefCell<Option<Arc<T>>>,
    result: Result<T, BoxError>,
) -> Result<(), AttemptError> {
    let v = result.map_err(AttemptError::Failed)?;
    *out.borrow_mut() = Some(Arc::new(v));
    Ok(())
}

impl<C, T, F> Body for Kind<Blocking, Bound<C, T, Arc<F>>>
where
    C: InputCells,
    C::Values: Send,
    T: Send + 'static,
    F: Fn(C::Values) -> Result<T, BoxError> + Send + Sync + 'static,
{
    fn attempt(self: Rc<Self>, progress: Progress, lease: Option<WorkerLease>) -> AttemptFuture {
        let values = self.1.inputs.values();
        let f = self.1.f.clone();
        let on_worker = OnWorker {
            handle: Some(crate::spawn_blocking(move || progress.scope(|| f(values)))),
            lease,
        };
        Box::pin(async move {
            match on_worker.await {
                Ok(result) => store(&self.1.out, result),
                Err(e) => match e.panic_message() {
                    Some(msg) => Err(AttemptError::Panicked(msg.to_string())),
                    None => Err(AttemptError::Failed(Box::new(e))),
                },
            }
        })
    }
}

impl<C, T, F, Fut> Body for Kind<Async, Bound<C, T, F>>
where
    C: InputCells,
    T: 'static,
    F: Fn(C::Values) -> Fut + 'static,
    Fut: Future<Output = Result<T, BoxError>> + 'static,
{
    fn attempt(self: Rc<Self>, progress: Progress, _: Option<WorkerLease>) -> AttemptFuture {
        let values = self.1.inputs.values();
        let fut = progress.scope(|| (self.1.f)(values));
        Box::pin(async move {
            let result = guarded(fut, progress).await?;
            store(&self.1.out, result)
        })
    }
}

impl<C, T, F> Body for Kind<Local, Bound<C, T, F>>
where
    C: InputCells,
    T: 'static,
    F: Fn(C::Values) -> Result<T, BoxError> + 'static,
{
    fn attempt(self: Rc<Self>, progress: Progress, _: Option<WorkerLease>) -> AttemptFuture {
        Box::pin(std::future::ready(self.call(&progress)))
    }

    fn run_now(&self, progress: &Progress) -> Option<Result<(), AttemptError>> {
        Some(self.call(progress))
    }

    fn runs_inline(&self) -> bool {
        true
    }
}

impl<C: InputCells, T, F> Kind<Local, Bound<C, T, F>>
where
    F: Fn(C::Values) -> Result<T, BoxError>,
{
    fn call(&self, progress: &Progress) -> Result<(), AttemptError> {
        let values = self.1.inputs.values();
        let f = &self.1.f;
        catch_unwind(AssertUnwindSafe(|| progress.scope(|| f(values))))
            .map_err(|p| AttemptError::Panicked(panic_message(&*p)))
            .and_then(|r| store(&self.1.out, r))
    }
}

/// Polls `fut` with panics caught and the job's progress handle installed.
async fn guarded<F: Future>(fut: F, progress: Progress) -> Result<F::Output, AttemptError> {
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        match catch_unwind(AssertUnwindSafe(|| {
            progress.scope(|| fut.as_mut().poll(cx))
        })) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(p) => Poll::Ready(Err(AttemptError::Panicked(panic_message(&*p)))),
        }
    })
    .await
}

/// Awaits a blocking job while holding its [`WorkerLease`]. Dropped before the job ends
/// (the attempt timed out or was cancelled), it leaves a small task behind that holds
/// the lease until the worker is done, so the flow sees the worker as busy until then.
struct OnWorker<T: 'static> {
    handle: Option<JoinHandle<T>>,
    lease: Option<WorkerLease>,
}

impl<T: 'static> Future for OnWorker<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let handle = self
            .handle
            .as_mut()
            .expect("OnWorker polled after completion");
        let result = std::task::ready!(Pin::new(handle).poll(cx));
        self.handle = None;
        self.lease = None;
        Poll::Ready(result)
    }
}

impl<T: 'static> Drop for OnWorker<T> {
    fn drop(&mut self) {
        if let (Some(handle), Some(lease)) = (self.handle.take(), self.lease.take()) {
            // Outside a runtime (it is being dropped) the lease simply goes now.
            crate::runtime::try_spawn(async move {
                let _ = handle.await;
                drop(lease);
            });
        }
    }
}
