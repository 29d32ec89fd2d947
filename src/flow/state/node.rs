//! One job's node: its settings, its status and everything recorded about it.
//!
//! The fields are private to this file. The rest of the flow reads them through the
//! accessors; only the state module (`FlowState`) changes them, through the few
//! `pub(super)` transitions below, and it ends a job only in `FlowState::settle`.
//!
//! # Hot and cold
//! A flow may hold a million nodes, so a node keeps inline only what every job has (name,
//! status, flags, times, body) and what the scheduler reads for every job. The job's
//! inputs and dependents live in the graph's shared arrays (`graph.rs`), and whatever most
//! jobs never have (settings other than the defaults, an error, progress) sits behind one
//! `Option<Box<Cold>>`, allocated the first time a job needs it.

use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::super::body::Body;
use super::super::error::JobError;
use super::super::limits::LimitKey;
use super::super::retry::RetryPolicy;
use super::super::status::JobStatus;

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
    /// Whether an attempt needs no timer and no retry (cheap glue may then run inline).
    pub(crate) fn is_one_shot(&self) -> bool {
        self.timeout.is_none() && self.retry.retries == 0
    }
}

/// The limits a job counts against (at most two: no allocation).
pub(crate) type LimitKeys =
    std::iter::Chain<std::option::IntoIter<LimitKey>, std::option::IntoIter<LimitKey>>;

fn limit_keys(limit: Option<&Rc<str>>, uses_pool: bool) -> LimitKeys {
    let named = limit.cloned().map(LimitKey::Named);
    let pool = uses_pool.then_some(LimitKey::Pool);
    named.into_iter().chain(pool)
}

/// What most jobs never have: out of line, allocated when first needed.
#[derive(Default)]
struct Cold {
    /// Settings other than the defaults (`uses_pool` is kept in the node).
    spec: Option<Spec>,
    error: Option<JobError>,
    progress: Option<(f64, String)>,
}

/// An instant in 8 bytes (an `Instant` takes 16): the seconds and nanoseconds since a
/// process-wide epoch, which [`epoch`] fixes before the first flow exists, so no job time
/// precedes it. (Seconds and nanoseconds apart, as `Duration` keeps them: no division
/// either way.)
#[derive(Debug, Clone, Copy)]
struct Stamp {
    secs: u32,
    nanos: u32,
}

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// The epoch of job times; `FlowState::new` calls it, so it is fixed before any run.
pub(super) fn epoch() -> Instant {
    *EPOCH.get_or_init(Instant::now)
}

impl Stamp {
    /// No instant.
    const NONE: Stamp = Stamp {
        secs: u32::MAX,
        nanos: 0,
    };

    fn of(t: Instant) -> Stamp {
        let since = t.saturating_duration_since(epoch());
        Stamp {
            // 136 years after the epoch; the last second stands for "later".
            secs: u32::try_from(since.as_secs()).unwrap_or(u32::MAX - 1),
            nanos: since.subsec_nanos(),
        }
    }

    fn is_none(self) -> bool {
        self.secs == Stamp::NONE.secs
    }

    fn get(self) -> Option<Instant> {
        let since = Duration::new(u64::from(self.secs), self.nanos);
        (!self.is_none()).then(|| epoch() + since)
    }
}

/// Where a job's inputs are in the graph's input array.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Span {
    pub(super) start: u32,
    pub(super) len: u32,
}

/// A job's dependents: a list threaded through the graph's link array, in the order
/// they were declared (`u32::MAX`: none).
#[derive(Debug, Clone, Copy)]
pub(super) struct Dependents {
    pub(super) first: u32,
    pub(super) last: u32,
}

impl Dependents {
    pub(super) const NONE: u32 = u32::MAX;
}

/// One job.
///
/// Status rules (see [`JobStatus`] for their meaning): a node is born `Pending`;
/// [`start`](Node::start) moves it to `Running`; [`finish`](Node::finish) gives it a
/// terminal status, after which nothing about its outcome changes.
pub(crate) struct Node {
    name: String,
    /// Taken when the job starts: a job runs once, and its body goes with its last
    /// attempt.
    body: Option<Rc<dyn Body>>,
    cold: Option<Box<Cold>>,
    started: Stamp,
    finished: Stamp,
    pub(super) inputs: Span,
    pub(super) dependents: Dependents,
    attempts: u32,
    /// Attempts of this job whose blocking body still occupies a pool worker.
    workers_busy: u32,
    status: JobStatus,
    in_run: bool,
    /// Declared with an input from another flow: fails when run.
    foreign: bool,
    uses_pool: bool,
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

    /// Its status now.
    pub(crate) fn status(&self) -> JobStatus {
        self.status
    }

    /// Its settings.
    pub(crate) fn spec(&self) -> Spec {
        match self.cold.as_ref().and_then(|c| c.spec.as_ref()) {
            Some(spec) => Spec {
                uses_pool: self.uses_pool,
                ..spec.clone()
            },
            None => Spec {
                uses_pool: self.uses_pool,
                ..Spec::default()
            },
        }
    }

    /// Its priority among ready jobs.
    pub(crate) fn priority(&self) -> i32 {
        self.custom_spec().map_or(0, |s| s.priority)
    }

    /// The named limit it counts against, if any.
    pub(crate) fn limit(&self) -> Option<&Rc<str>> {
        self.custom_spec().and_then(|s| s.limit.as_ref())
    }

    /// The limits it counts against: its named one, and the pool's for a blocking job.
    pub(crate) fn limit_keys(&self) -> LimitKeys {
        limit_keys(self.limit(), self.uses_pool)
    }

    /// Whether it counts against no limit but the flow-wide one.
    pub(crate) fn has_no_limit(&self) -> bool {
        !self.uses_pool && self.limit().is_none()
    }

    /// Whether an attempt needs no timer and no retry (cheap glue may then run inline).
    pub(crate) fn is_one_shot(&self) -> bool {
        self.custom_spec().is_none_or(Spec::is_one_shot)
    }

    fn custom_spec(&self) -> Option<&Spec> {
        self.cold.as_ref()?.spec.as_ref()
    }

    /// How many attempts have started.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Why it has no result, once it ended without one.
    pub(crate) fn error(&self) -> Option<&JobError> {
        self.cold.as_ref()?.error.as_ref()
    }

    /// The last progress it reported.
    pub(crate) fn progress(&self) -> Option<&(f64, String)> {
        self.cold.as_ref()?.progress.as_ref()
    }

    /// Whether it belongs to the current (or last) run.
    pub(crate) fn in_run(&self) -> bool {
        self.in_run
    }

    /// Whether it was declared with an input from another flow.
    pub(crate) fn is_foreign(&self) -> bool {
        self.foreign
    }

    /// When its first attempt started, and when it ended.
    pub(super) fn times(&self) -> (Option<Instant>, Option<Instant>) {
        (self.started.get(), self.finished.get())
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
        inputs: Span,
        body: Rc<dyn Body>,
        foreign: bool,
        uses_pool: bool,
    ) -> Node {
        Node {
            name,
            body: Some(body),
            cold: None,
            started: Stamp::NONE,
            finished: Stamp::NONE,
            inputs,
            dependents: Dependents {
                first: Dependents::NONE,
                last: Dependents::NONE,
            },
            attempts: 0,
            workers_busy: 0,
            status: JobStatus::Pending,
            in_run: false,
            foreign,
            uses_pool,
            pool_owed: false,
        }
    }

    fn cold(&mut self) -> &mut Cold {
        self.cold.get_or_insert_with(Box::default)
    }

    /// Changes its settings, if it is still pending.
    pub(super) fn configure(&mut self, f: impl FnOnce(&mut Spec)) {
        if self.status == JobStatus::Pending {
            let mut spec = self.spec();
            f(&mut spec);
            self.uses_pool = spec.uses_pool;
            self.cold().spec = Some(spec);
        }
    }

    /// Makes it part of the coming run if it is wanted and pending; returns whether.
    pub(super) fn join_run(&mut self, wanted: bool) -> bool {
        self.in_run = wanted && self.status == JobStatus::Pending;
        self.in_run
    }

    /// `Pending` to `Running`: hands over its body for the attempts.
    ///
    /// # Panics
    /// If it is not pending (the scheduler starts a job once).
    pub(super) fn start(&mut self, now: Instant) -> Rc<dyn Body> {
        assert_eq!(self.status, JobStatus::Pending, "a job starts only once");
        self.status = JobStatus::Running;
        if self.started.is_none() {
            self.started = Stamp::of(now);
        }
        self.body.take().expect("a pending job has its body")
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
        self.cold().progress = Some((fraction, message));
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
        if error.is_some() || self.error().is_some() {
            self.cold().error = error;
        }
        self.finished = Stamp::of(now);
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{epoch, Stamp};

    #[test]
    fn a_stamp_gives_back_the_instant_it_was_made_of() {
        let t = epoch() + Duration::new(12_345, 678_901_234);
        assert_eq!(Stamp::of(t).get(), Some(t));
        assert_eq!(Stamp::NONE.get(), None);
        let now = Instant::now();
        assert_eq!(Stamp::of(now).get(), Some(now));
    }

    #[test]
    fn a_node_stays_small() {
        // Every declared job has one; cold data is boxed out of line (see the module docs).
        assert!(std::mem::size_of::<super::Node>() <= 96);
    }
}
