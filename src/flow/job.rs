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
///
/// # Examples
/// ```
/// use taskloop::flow::{Flow, JobStatus};
///
/// let mut flow = Flow::new();
/// let a = flow.job("A: training data", || vec![1.0, 2.0, 3.0]);
/// let b = flow.job("B: forecast data", || vec![4.0]);
/// let c = flow.job_after("C: train", (&a, &b), |(train, forecast)| {
///     train.iter().sum::<f64>() + forecast[0]
/// });
/// assert_eq!(c.status(), JobStatus::Pending);
/// flow.run();
/// assert_eq!(*c.result().unwrap(), 10.0);
/// assert_eq!((c.name(), c.attempts()), ("C: train".to_string(), 1));
/// ```
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
    ///
    /// # Examples
    /// ```
    /// use taskloop::flow::{progress, Flow};
    ///
    /// let mut flow = Flow::new();
    /// let job = flow.job("load", || progress(0.5, "half way"));
    /// flow.run();
    /// // The job finished: its last report was the body's, or 1.0 at the end.
    /// assert!(job.progress().is_some_and(|(fraction, _)| fraction >= 0.5));
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// use std::io;
    /// use taskloop::flow::{Flow, JobError};
    ///
    /// let mut flow = Flow::new();
    /// let load = flow.try_job("load", || Err::<u32, _>(io::Error::other("disk full").into()));
    /// let train = flow.job_after("train", &load, |n| *n * 2);
    /// assert!(matches!(train.result(), Err(JobError::NotRun { .. })));
    /// flow.run();
    /// assert!(load.result().unwrap_err().to_string().contains("disk full"));
    /// let skipped = train.result().unwrap_err();
    /// assert!(matches!(skipped, JobError::UpstreamFailed { .. }));
    /// assert!(skipped.to_string().contains("load"));
    /// ```
    pub fn result(&self) -> Result<Arc<T>, JobError> {
        if let Some(v) = self.out.cell().borrow().clone() {
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
    ///
    /// # Examples
    /// ```
    /// use taskloop::flow::{Flow, JobStatus};
    ///
    /// let mut flow = Flow::new();
    /// let a = flow.job("a", || 2);
    /// let b = flow.job_after("b", &a, |a| *a + 1);
    /// let other = flow.job("other", || 0);
    /// assert_eq!(*b.wait().unwrap(), 3); // runs a and b only
    /// assert_eq!(other.status(), JobStatus::Pending);
    /// ```
    pub fn wait(&self) -> Result<Arc<T>, JobError> {
        if !self.status().is_terminal() {
            self.state.run_blocking(Some(self.link.index));
        }
        self.result()
    }

    /// Cancels the job. A pending job never starts; a running async body is dropped; a
    /// running blocking body's result is discarded. Its dependents are skipped
    /// (upstream-failed). Does nothing to a finished job.
    ///
    /// # Examples
    /// ```
    /// use taskloop::flow::{Flow, JobStatus};
    ///
    /// let mut flow = Flow::new();
    /// let a = flow.job("a", || 1);
    /// let b = flow.job_after("b", &a, |a| *a);
    /// a.cancel();
    /// flow.run();
    /// assert_eq!((a.status(), b.status()), (JobStatus::Cancelled, JobStatus::UpstreamFailed));
    /// ```
    pub fn cancel(&self) {
        self.state.cancel_job(self.link.index);
    }

    /// Retries a failed attempt up to `n` more times, with exponential back-off and
    /// jitter (see [`Backoff`]). Without [`retry_if`](Job::retry_if), errors and
    /// timeouts are retried and panics are not.
    ///
    /// # Examples
    /// ```
    /// use std::io;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::time::Duration;
    /// use taskloop::flow::{Backoff, Flow};
    ///
    /// let calls = AtomicU32::new(0);
    /// let mut flow = Flow::new();
    /// let flaky = flow
    ///     .try_job("flaky", move || match calls.fetch_add(1, Ordering::SeqCst) {
    ///         0 | 1 => Err(io::Error::other("try again").into()),
    ///         _ => Ok(42),
    ///     })
    ///     .retries(3)
    ///     .backoff(Backoff { initial: Duration::from_millis(1), factor: 2.0, max: Duration::from_millis(10), jitter: false });
    /// flow.run();
    /// assert_eq!((*flaky.result().unwrap(), flaky.attempts()), (42, 3));
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use taskloop::flow::{Flow, JobError};
    ///
    /// let mut flow = Flow::new();
    /// let slow = flow
    ///     .job_async("slow", (), |()| taskloop::sleep(Duration::from_secs(10)))
    ///     .timeout(Duration::from_millis(20));
    /// flow.run();
    /// assert!(matches!(slow.result(), Err(JobError::TimedOut { .. })));
    /// ```
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
    ///
    /// # Examples
    /// ```
    /// use taskloop::flow::Flow;
    ///
    /// let mut flow = Flow::new();
    /// flow.limit("gpu", 1); // at most one job tagged "gpu" runs at a time
    /// let jobs: Vec<_> = (0..3)
    ///     .map(|i| flow.job(format!("train {i}"), move || i).limit("gpu"))
    ///     .collect();
    /// assert!(flow.run().is_success());
    /// assert_eq!(*jobs[2].result().unwrap(), 2);
    /// ```
    pub fn limit(self, name: impl Into<String>) -> Self {
        let name: Rc<str> = Rc::from(name.into());
        self.configure(move |spec| spec.limit = Some(name))
    }

    fn configure(self, f: impl FnOnce(&mut super::state::Spec)) -> Self {
        self.state.configure(self.link.index, f);
        self
    }
}
