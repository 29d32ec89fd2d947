//! One job's node: its settings, its status and everything recorded about it.
//!
//! The fields are private to this file. The rest of the flow reads them through the
//! accessors; only the state module (`FlowState`) changes them, through the few
//! `pub(super)` transitions below, and it ends a job only in `FlowState::settle`.

use std::rc::Rc;
use std::time::{Duration, Instant};

use super::super::body::Body;
use super::super::error::JobError;
use super::super::limits::LimitKey;
use super::super::observe::JobInfo;
use super::super::report::JobReport;
use super::super::retry::RetryPolicy;
use super::super::status::{JobId, JobStatus};

/// A job's settings, which may change until it first starts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Spec {
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Option<Duration>,
    pub(crate) priority: i32,
    /// The named limit the job counts against, if any.
    pub(crate) limit: Option<Rc<str>>,
    /// Whether the body runs on the blocking pool (and so counts against its limit).
    pub(crate) uses_pool: bool,
}

impl Spec {
    /// The limits the job counts against: its named one, and the pool's for a blocking
    /// job.
    pub(crate) fn limit_keys(&self) -> Vec<LimitKey> {
        let named = self.limit.clone().map(LimitKey::Named);
        let pool = self.uses_pool.then_some(LimitKey::Pool);
        named.into_iter().chain(pool).collect()
    }
}

/// One job.
///
/// Status rules (see [`JobStatus`] for their meaning): a node is born `Pending`;
/// [`start`](Node::start) moves it to `Running`; [`finish`](Node::finish) gives it a
/// terminal status, after which nothing about its outcome changes.
pub(crate) struct Node {
    /// Shared, so events can name the job without holding the node table borrowed.
    name: Rc<str>,
    inputs: Rc<[JobId]>,
    dependents: Vec<usize>,
    status: JobStatus,
    spec: Spec,
    body: Rc<dyn Body>,
    attempts: u32,
    started: Option<Instant>,
    finished: Option<Instant>,
    error: Option<JobError>,
    progress: Option<(f64, String)>,
    in_run: bool,
    /// Declared with an input from another flow: fails when run.
    foreign: bool,
    /// Attempts of this job whose blocking body still occupies a pool worker.
    workers_busy: u32,
    /// The job ended while a worker was still busy with it: its pool slot is given
    /// back only when that worker is free (see `WorkerLease`).
    pool_owed: bool,
}

/// Reading a node.
impl Node {
    /// The job's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The jobs it takes its inputs from.
    pub(crate) fn inputs(&self) -> &[JobId] {
        &self.inputs
    }

    /// The jobs that take it as an input.
    pub(crate) fn dependents(&self) -> &[usize] {
        &self.dependents
    }

    /// Its status now.
    pub(crate) fn status(&self) -> JobStatus {
        self.status
    }

    /// Its settings.
    pub(crate) fn spec(&self) -> &Spec {
        &self.spec
    }

    /// How many attempts have started.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Why it has no result, once it ended without one.
    pub(crate) fn error(&self) -> Option<&JobError> {
        self.error.as_ref()
    }

    /// The last progress it reported.
    pub(crate) fn progress(&self) -> Option<&(f64, String)> {
        self.progress.as_ref()
    }

    /// Whether it belongs to the current (or last) run.
    pub(crate) fn in_run(&self) -> bool {
        self.in_run
    }

    /// Whether it was declared with an input from another flow.
    pub(crate) fn is_foreign(&self) -> bool {
        self.foreign
    }

    /// Its name and inputs, for events.
    pub(super) fn info(&self, index: usize) -> OwnedInfo {
        OwnedInfo {
            id: JobId(index),
            name: self.name.clone(),
            inputs: self.inputs.clone(),
        }
    }

    /// Its line in a report.
    pub(super) fn report(&self, index: usize) -> JobReport {
        JobReport {
            id: JobId(index),
            name: self.name.to_string(),
            inputs: self.inputs.to_vec(),
            status: self.status,
            started: self.started,
            finished: self.finished,
            attempts: self.attempts,
            error: self.error.clone(),
            in_this_run: self.in_run,
        }
    }

    /// Whether it ended while a worker was still busy with it.
    pub(super) fn pool_owed(&self) -> bool {
        self.pool_owed
    }
}

/// Changing a node: only the state module does.
impl Node {
    /// A pending job, not part of any run yet.
    pub(super) fn new(
        name: String,
        inputs: Rc<[JobId]>,
        body: Rc<dyn Body>,
        foreign: bool,
        uses_pool: bool,
    ) -> Node {
        Node {
            name: Rc::from(name),
            inputs,
            dependents: Vec::new(),
            status: JobStatus::Pending,
            spec: Spec {
                uses_pool,
                ..Spec::default()
            },
            body,
            attempts: 0,
            started: None,
            finished: None,
            error: None,
            progress: None,
            in_run: false,
            foreign,
            workers_busy: 0,
            pool_owed: false,
        }
    }

    /// Records that job `dependent` takes this one as an input.
    pub(super) fn add_dependent(&mut self, dependent: usize) {
        self.dependents.push(dependent);
    }

    /// Changes its settings, if it is still pending.
    pub(super) fn configure(&mut self, f: impl FnOnce(&mut Spec)) {
        if self.status == JobStatus::Pending {
            f(&mut self.spec);
        }
    }

    /// Makes it part of the coming run if it is wanted and pending; returns whether.
    pub(super) fn join_run(&mut self, wanted: bool) -> bool {
        self.in_run = wanted && self.status == JobStatus::Pending;
        self.in_run
    }

    /// `Pending` to `Running`: returns its body and settings for the attempts.
    ///
    /// # Panics
    /// If it is not pending (the scheduler starts a job once).
    pub(super) fn start(&mut self, now: Instant) -> (Rc<dyn Body>, Spec) {
        assert_eq!(self.status, JobStatus::Pending, "a job starts only once");
        self.status = JobStatus::Running;
        self.started.get_or_insert(now);
        (self.body.clone(), self.spec.clone())
    }

    /// Records that attempt `attempt` started; returns false (recording nothing) once
    /// the job has ended.
    pub(super) fn attempt_started(&mut self, attempt: u32) -> bool {
        if self.status.is_terminal() {
            return false;
        }
        self.attempts = attempt;
        true
    }

    /// Records its latest progress.
    pub(super) fn set_progress(&mut self, fraction: f64, message: String) {
        self.progress = Some((fraction, message));
    }

    /// Gives it the terminal `status`; returns whether it was part of the current run.
    /// (A job ended outside the run's targets, say skipped because its input failed,
    /// joins the run's report from then on.) Only `FlowState::settle` calls this.
    pub(super) fn finish(
        &mut self,
        status: JobStatus,
        error: Option<JobError>,
        now: Instant,
    ) -> bool {
        debug_assert!(!self.status.is_terminal() && status.is_terminal());
        self.status = status;
        self.error = error;
        self.finished = Some(now);
        std::mem::replace(&mut self.in_run, true)
    }

    /// A pool worker took one of its attempts.
    pub(super) fn worker_taken(&mut self) {
        self.workers_busy += 1;
    }

    /// A pool worker is done with one of its attempts; returns whether that was the
    /// last one of an ended job whose pool slot is owed.
    pub(super) fn worker_freed(&mut self) -> bool {
        self.workers_busy -= 1;
        self.workers_busy == 0 && std::mem::take(&mut self.pool_owed)
    }

    /// Marks its pool slot as owed if a worker is still busy with it; returns whether.
    pub(super) fn owe_pool_slot(&mut self) -> bool {
        self.pool_owed = self.workers_busy > 0;
        self.pool_owed
    }
}

/// A job's name and inputs, held without borrowing the node table, so observers called
/// with it may use the flow's handles freely.
#[derive(Debug, Clone)]
pub(crate) struct OwnedInfo {
    id: JobId,
    name: Rc<str>,
    inputs: Rc<[JobId]>,
}

impl OwnedInfo {
    /// The job info an event carries.
    pub(crate) fn as_info(&self) -> JobInfo<'_> {
        JobInfo {
            id: self.id,
            name: &self.name,
            inputs: &self.inputs,
        }
    }

    /// The job's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}
