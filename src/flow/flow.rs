//! [`Flow`]: declare jobs in plain sequential code; run them as their inputs allow.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::body::{Async, Blocking, Body, Bound, Kind, Local};
use super::error::BoxError;
use super::inputs::{Inputs, OutCell, Output};
use super::job::Job;
use super::observe::Observer;
use super::remote::CancelHandle;
use super::report::Report;
use super::state::FlowState;
use super::status::JobStatus;

/// A graph of named jobs. Each declaration returns a typed [`Job`] handle at once;
/// [`run`](Flow::run) then runs every job as soon as its inputs are done, as many at
/// once as the limits allow: blocking bodies on the worker pool, async and local bodies
/// on the loop thread.
///
/// Cycles cannot be declared: a job's inputs are handles of jobs declared before it.
///
/// # Examples
/// The A, B → C problem: A and B run at once, C starts when both are done.
/// ```
/// use taskloop::flow::Flow;
/// let mut flow = Flow::new();
/// let a = flow.job("process training data", || vec![1.0, 2.0, 3.0]);
/// let b = flow.job("process forecast data", || vec![4.0]);
/// let c = flow.job_after("train", (&a, &b), |(train, forecast)| {
///     train.iter().sum::<f64>() + forecast[0]
/// });
/// let report = flow.run();
/// assert!(report.is_success());
/// assert_eq!(*c.result().unwrap(), 10.0);
/// ```
pub struct Flow {
    state: Rc<FlowState>,
}

/// Configures a [`Flow`].
#[derive(Debug, Clone)]
pub struct FlowBuilder {
    blocking_threads: usize,
    max_running: usize,
}

impl FlowBuilder {
    /// Worker threads for blocking bodies (default 4); also how many blocking jobs run
    /// at once.
    pub fn blocking_threads(mut self, n: usize) -> Self {
        self.blocking_threads = n.max(1);
        self
    }

    /// At most `n` jobs running at once, of any kind (default: no limit beyond the pool).
    pub fn max_running(mut self, n: usize) -> Self {
        self.max_running = n.max(1);
        self
    }

    /// Creates the flow.
    pub fn build(self) -> Flow {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Flow {
            state: Rc::new(FlowState::new(id, self.blocking_threads, self.max_running)),
        }
    }
}

impl Default for Flow {
    fn default() -> Self {
        Flow::new()
    }
}

impl Flow {
    /// A flow with 4 blocking workers and no other limit.
    pub fn new() -> Flow {
        Flow::builder().build()
    }

    /// A [`FlowBuilder`] with the default settings.
    pub fn builder() -> FlowBuilder {
        FlowBuilder {
            blocking_threads: 4,
            max_running: usize::MAX,
        }
    }

    /// Declares a job with no inputs whose body blocks (file reads, parsing, training):
    /// it runs on the worker pool. The body cannot fail: what it returns is the job's
    /// result. A panic still fails the job.
    ///
    /// Use [`try_job`](Flow::try_job) for a body that can fail. A body given to `job`
    /// that returns a `Result` makes the `Result` itself the job's value: an `Err` will
    /// **not** fail the job, and its dependents still run.
    ///
    /// # Examples
    /// ```
    /// use taskloop::flow::Flow;
    /// let mut flow = Flow::new();
    /// let two = flow.job("two", || 2);
    /// flow.run();
    /// assert_eq!(*two.result().unwrap(), 2);
    /// ```
    pub fn job<T, F>(&mut self, name: impl Into<String>, body: F) -> Job<T>
    where
        T: Send + 'static,
        F: Fn() -> T + Send + Sync + 'static,
    {
        self.try_job(name, move || Ok(body()))
    }

    /// Declares a job with no inputs whose body blocks and can fail: it returns
    /// `Result<T, BoxError>`, so `|| Ok(v)` needs no annotation and `?` works on any
    /// `Error + Send + Sync + 'static` type (`std::io::Error`, your own error type) and on
    /// `&str` or `String` messages. An `Err` fails the job and skips its dependents (after
    /// any retries); the boxed error is the failure's [`source`](super::JobError::Failed),
    /// and keeps its type for `downcast_ref`. A panic fails the job too.
    ///
    /// # Examples
    /// ```
    /// use taskloop::flow::Flow;
    /// let mut flow = Flow::new();
    /// let n = flow.try_job("parse", || Ok("42".parse::<u32>()?));
    /// let bad = flow.try_job("bad", || Ok("x".parse::<u32>()?));
    /// let report = flow.run();
    /// assert_eq!(*n.result().unwrap(), 42);
    /// assert!(bad.result().is_err());
    /// assert!(!report.is_success());
    /// ```
    pub fn try_job<T, F>(&mut self, name: impl Into<String>, body: F) -> Job<T>
    where
        T: Send + 'static,
        F: Fn() -> Result<T, BoxError> + Send + Sync + 'static,
    {
        self.try_job_after(name, (), move |()| body())
    }

    /// Declares a blocking job that takes the results of `inputs` (one `&Job`, a tuple
    /// of them, or a slice); it starts when all of them are done, and is skipped if any
    /// fails. The body cannot fail: what it returns is the job's result.
    ///
    /// Use [`try_job_after`](Flow::try_job_after) for a body that can fail. A body
    /// given to `job_after` that returns a `Result` makes the `Result` itself the job's
    /// value: an `Err` will **not** fail the job.
    pub fn job_after<I, T, F>(&mut self, name: impl Into<String>, inputs: I, body: F) -> Job<T>
    where
        I: Inputs,
        I::Values: Send,
        T: Send + 'static,
        F: Fn(I::Values) -> T + Send + Sync + 'static,
    {
        self.try_job_after(name, inputs, move |values| Ok(body(values)))
    }

    /// Like [`job_after`](Flow::job_after), for a body that can fail: it returns
    /// `Result<T, BoxError>` (see [`try_job`](Flow::try_job)). An `Err` fails the job
    /// and skips its dependents.
    pub fn try_job_after<I, T, F>(&mut self, name: impl Into<String>, inputs: I, body: F) -> Job<T>
    where
        I: Inputs,
        I::Values: Send,
        T: Send + 'static,
        F: Fn(I::Values) -> Result<T, BoxError> + Send + Sync + 'static,
    {
        let uses_pool = true;
        // Shared with the pool worker of each attempt.
        let body = Arc::new(body);
        self.declare(
            name.into(),
            &inputs,
            uses_pool,
            Kind(Blocking, bound(&inputs, body)),
        )
    }

    /// Declares a job whose body is a future polled on the loop thread: for work that
    /// waits rather than computes (submitting to a server, then polling it). The future
    /// cannot fail: its output is the job's result.
    ///
    /// Use [`try_job_async`](Flow::try_job_async) for a future that can fail. A future
    /// given to `job_async` whose output is a `Result` makes the `Result` itself the
    /// job's value: an `Err` will **not** fail the job.
    pub fn job_async<I, T, F, Fut>(&mut self, name: impl Into<String>, inputs: I, body: F) -> Job<T>
    where
        I: Inputs,
        T: 'static,
        F: Fn(I::Values) -> Fut + 'static,
        Fut: Future<Output = T> + 'static,
    {
        self.try_job_async(name, inputs, move |values| {
            let fut = body(values);
            async move { Ok(fut.await) }
        })
    }

    /// Like [`job_async`](Flow::job_async), for a future that can fail: its output is
    /// `Result<T, BoxError>` (see [`try_job`](Flow::try_job)). An `Err` fails the job
    /// and skips its dependents.
    pub fn try_job_async<I, T, F, Fut>(
        &mut self,
        name: impl Into<String>,
        inputs: I,
        body: F,
    ) -> Job<T>
    where
        I: Inputs,
        T: 'static,
        F: Fn(I::Values) -> Fut + 'static,
        Fut: Future<Output = Result<T, BoxError>> + 'static,
    {
        self.declare(
            name.into(),
            &inputs,
            false,
            Kind(Async, bound(&inputs, body)),
        )
    }

    /// Declares a job whose body is cheap glue called on the loop thread (it must not
    /// block: it would stall every other job). The body cannot fail: what it returns
    /// is the job's result.
    ///
    /// Use [`try_job_local`](Flow::try_job_local) for a body that can fail. A body
    /// given to `job_local` that returns a `Result` makes the `Result` itself the job's
    /// value: an `Err` will **not** fail the job.
    pub fn job_local<I, T, F>(&mut self, name: impl Into<String>, inputs: I, body: F) -> Job<T>
    where
        I: Inputs,
        T: 'static,
        F: Fn(I::Values) -> T + 'static,
    {
        self.try_job_local(name, inputs, move |values| Ok(body(values)))
    }

    /// Like [`job_local`](Flow::job_local), for a body that can fail: it returns
    /// `Result<T, BoxError>` (see [`try_job`](Flow::try_job)). An `Err` fails the job
    /// and skips its dependents.
    pub fn try_job_local<I, T, F>(&mut self, name: impl Into<String>, inputs: I, body: F) -> Job<T>
    where
        I: Inputs,
        T: 'static,
        F: Fn(I::Values) -> Result<T, BoxError> + 'static,
    {
        self.declare(
            name.into(),
            &inputs,
            false,
            Kind(Local, bound(&inputs, body)),
        )
    }

    /// Adds the job: its body and result cell are one allocation, shared by the node (until
    /// the job runs), the handle and the bodies of its dependents.
    fn declare<I: Inputs, T, B>(
        &mut self,
        name: String,
        inputs: &I,
        uses_pool: bool,
        body: B,
    ) -> Job<T>
    where
        B: Body + Output<T> + 'static,
    {
        let body = Rc::new(body);
        let out: OutCell<T> = body.clone();
        let link = (self.state).add_job(name, |out| inputs.links(out), body, uses_pool);
        Job {
            state: self.state.clone(),
            link,
            out,
        }
    }

    /// Defines a named limit: at most `max` jobs tagged with
    /// [`Job::limit(name)`](Job::limit) run at once (say, "at most 4 uploads").
    pub fn limit(&mut self, name: impl Into<String>, max: usize) -> &mut Self {
        self.state.define_limit(&name.into(), max.max(1));
        self
    }

    /// Adds an observer; it receives every event of every later run.
    pub fn observe(&mut self, observer: impl Observer + 'static) -> &mut Self {
        self.state.add_observer(Box::new(observer));
        self
    }

    /// A handle that cancels this flow or its jobs from any thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            remote: self.state.remote(),
        }
    }

    /// Runs every pending job to a terminal status on the flow's own runtime, and
    /// reports. Jobs finished by an earlier run keep their results and are not run
    /// again, so a flow can grow and be run again, as in a notebook.
    ///
    /// # Panics
    /// If called from inside a taskloop runtime (use [`run_async`](Flow::run_async)),
    /// or if the OS refuses to create the flow's runtime.
    pub fn run(&mut self) -> Report {
        self.state.run_blocking(None)
    }

    /// Like [`run`](Flow::run), on the runtime that polls the returned future.
    ///
    /// # Panics
    /// If polled outside a taskloop runtime, or while another run of this flow is
    /// under way.
    pub fn run_async(&mut self) -> impl Future<Output = Report> + 'static {
        super::scheduler::run(self.state.clone(), None)
    }

    /// A report of the flow as it stands, without running anything.
    pub fn report(&self) -> Report {
        self.state.report(std::time::Instant::now())
    }

    /// The number of jobs declared.
    pub fn len(&self) -> usize {
        self.state.len()
    }

    /// Whether no job has been declared.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The status of every job, in declaration order.
    pub fn statuses(&self) -> Vec<(String, JobStatus)> {
        (0..self.len())
            .map(|i| self.state.node(i, |n| (n.name().to_string(), n.status())))
            .collect()
    }
}

impl fmt::Debug for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flow")
            .field("jobs", &self.len())
            .field("running", &self.state.is_running())
            .finish()
    }
}

fn bound<I: Inputs, T, F>(inputs: &I, f: F) -> Bound<I::Cells, T, F> {
    Bound {
        inputs: inputs.cells(),
        out: RefCell::new(None),
        f,
    }
}
