//! [`Job`]: the typed handle a declaration returns at once, as Decanter's SDK did.

use std::fmt;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::error::JobError;
use super::inputs::{InputLink, OutCell};
use super::retry::Backoff;
use super::state::FlowState;
use super::status::{JobId, JobStatus};

/// A handle to one job of a [`Flow`](super::Flow), returned as soon as the job is
/// declared. Use it as another job's input, tune the job (`retries`, `timeout`,
/// `priority`, `limit`) before it runs, and read its result afterwards.
///
/// Cloning the handle is cheap; all clones name the same job.
pub struct Job<T> {
    pub(crate) state: Rc<FlowState>,
    pub(crate) link: InputLink,
    pub(crate) out: OutCell<T>,
}

impl<T> Clone for Job<T> {
    fn clone(&self) -> Self {
        Job {
            state: self.state.clone(),
            link: self.link,
            out: self.out.clone(),
        }
    }
}

impl<T> fmt::Debug for Job<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id().0)
            .field("name", &self.name())
            .field("status", &self.status())
            .finish()
    }
}

impl<T> Job<T> {
    /// The job's id in its flow.
    pub fn id(&self) -> JobId {
        JobId(self.link.index)
    }

    /// The job's name.
    pub fn name(&self) -> String {
        self.state.node(self.link.index, |n| n.name().to_string())
    }

    /// The job's status now.
    pub fn status(&self) -> JobStatus {
        self.state.node(self.link.index, |n| n.status())
    }

    /// The last progress the job reported: fraction done and message.
    pub fn progress(&self) -> Option<(f64, String)> {
        self.state.node(self.link.index, |n| n.progress().cloned())
    }

    /// How many attempts have started.
    pub fn attempts(&self) -> u32 {
        self.state.node(self.link.index, |n| n.attempts())
    }

    /// The job's result, shared.
    ///
    /// # Errors
    /// Why there is none: the job failed, panicked, timed out, was cancelled, was skipped
    /// because an input failed (the error names the root job), or has not run yet.
    pub fn result(&self) -> Result<Arc<T>, JobError> {
        if let Some(v) = self.out.borrow().clone() {
            return Ok(v);
        }
        Err(self.state.node(self.link.index, |n| {
            n.error().cloned().unwrap_or_else(|| JobError::NotRun {
                job: n.name().to_string(),
            })
        }))
    }

    /// Runs the flow just as far as this job needs (the job and its inputs, recursively;
    /// other pending jobs stay pending), then returns the result. Returns at once if the
    /// job already finished.
    ///
    /// # Errors
    /// As [`result`](Job::result).
    ///
    /// # Panics
    /// If called from inside a taskloop runtime (use [`Flow::run_async`](super::Flow::run_async)
    /// there), or if the OS refuses to create the flow's runtime.
    pub fn wait(&self) -> Result<Arc<T>, JobError> {
        if !self.status().is_terminal() {
            self.state.run_blocking(Some(self.link.index));
        }
        self.result()
    }

    /// Cancels the job. A pending job never starts; a running async body is dropped; a
    /// running blocking body's result is discarded. Its dependents are skipped
    /// (upstream-failed). Does nothing to a finished job.
    pub fn cancel(&self) {
        self.state.cancel_job(self.link.index);
    }

    /// Retries a failed attempt up to `n` more times, with exponential back-off and
    /// jitter (see [`Backoff`]). Without [`retry_if`](Job::retry_if), errors and
    /// timeouts are retried and panics are not.
    pub fn retries(self, n: u32) -> Self {
        self.configure(|spec| spec.retry.retries = n)
    }

    /// Sets the back-off between retries.
    pub fn backoff(self, backoff: Backoff) -> Self {
        self.configure(|spec| spec.retry.backoff = backoff)
    }

    /// Retries only the errors for which `pred` returns true. The body's own error is
    /// in [`JobError::Failed`]'s `source`, ready for `downcast_ref`.
    pub fn retry_if(self, pred: impl Fn(&JobError) -> bool + 'static) -> Self {
        self.configure(|spec| spec.retry.retry_if = Some(Rc::new(pred)))
    }

    /// Fails an attempt that runs longer than `d` (it counts as a failed attempt, so it
    /// may be retried). An async body is dropped at the deadline; a blocking body keeps
    /// its worker thread until it returns, but its result is discarded.
    pub fn timeout(self, d: Duration) -> Self {
        self.configure(|spec| spec.timeout = Some(d))
    }

    /// Among ready jobs, higher priorities start first (default 0). Among equal
    /// priorities, the job with the longest chain of dependents behind it starts first
    /// (so long chains are not left for last), then the one that became ready first.
    pub fn priority(self, priority: i32) -> Self {
        self.configure(|spec| spec.priority = priority)
    }

    /// Counts this job against the flow's named limit `name` (see
    /// [`Flow::limit`](super::Flow::limit)).
    pub fn limit(self, name: impl Into<String>) -> Self {
        let name: Rc<str> = Rc::from(name.into());
        self.configure(move |spec| spec.limit = Some(name))
    }

    fn configure(self, f: impl FnOnce(&mut super::state::Spec)) -> Self {
        self.state.configure(self.link.index, f);
        self
    }
}
