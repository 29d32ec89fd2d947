//! Watching a flow run: the [`Observer`] trait and the [`Event`]s it receives.
//!
//! Observers run on the loop thread, one event at a time, in the order things happen.
//! A panicking observer is reported on stderr and removed; the flow goes on.

use std::time::{Duration, Instant};

use super::error::JobError;
use super::report::Report;
use super::status::{JobId, JobStatus};

/// Names the job an event is about.
#[derive(Debug, Clone, Copy)]
pub struct JobInfo<'a> {
    /// The job's id.
    pub id: JobId,
    /// The job's name.
    pub name: &'a str,
    /// The jobs it takes its inputs from.
    pub inputs: &'a [JobId],
}

/// Something that happened in a flow run.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A run began; `pending` jobs will be run.
    RunStarted {
        /// When.
        at: Instant,
        /// How many jobs this run will try to finish.
        pending: usize,
    },
    /// A job joined this run and waits for its inputs or a free slot.
    Queued {
        /// When.
        at: Instant,
        /// Which job.
        job: JobInfo<'a>,
    },
    /// An attempt of a job started (`attempt` counts from 1).
    Started {
        /// When.
        at: Instant,
        /// Which job.
        job: JobInfo<'a>,
        /// Which attempt.
        attempt: u32,
    },
    /// A running job reported progress.
    Progress {
        /// When.
        at: Instant,
        /// Which job.
        job: JobInfo<'a>,
        /// Fraction done, `0.0..=1.0`.
        fraction: f64,
        /// What it is doing.
        message: &'a str,
    },
    /// An attempt failed and the job will try again after `delay`.
    Retrying {
        /// When.
        at: Instant,
        /// Which job.
        job: JobInfo<'a>,
        /// The attempt that failed.
        attempt: u32,
        /// Why it failed.
        error: &'a JobError,
        /// The back-off before the next attempt.
        delay: Duration,
    },
    /// A job reached a terminal status.
    Finished {
        /// When.
        at: Instant,
        /// Which job.
        job: JobInfo<'a>,
        /// Its terminal status.
        status: JobStatus,
        /// The error, unless it is `Done`.
        error: Option<&'a JobError>,
        /// How many attempts started (0 for a skipped job).
        attempts: u32,
    },
    /// The run is over.
    RunFinished {
        /// When.
        at: Instant,
        /// What happened.
        report: &'a Report,
    },
}

impl Event<'_> {
    /// When the event happened.
    pub fn at(&self) -> Instant {
        match *self {
            Event::RunStarted { at, .. }
            | Event::Queued { at, .. }
            | Event::Started { at, .. }
            | Event::Progress { at, .. }
            | Event::Retrying { at, .. }
            | Event::Finished { at, .. }
            | Event::RunFinished { at, .. } => at,
        }
    }

    /// The event's name: `"RunStarted"`, `"Queued"`, `"Started"`, `"Progress"`,
    /// `"Retrying"`, `"Finished"` or `"RunFinished"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::RunStarted { .. } => "RunStarted",
            Event::Queued { .. } => "Queued",
            Event::Started { .. } => "Started",
            Event::Progress { .. } => "Progress",
            Event::Retrying { .. } => "Retrying",
            Event::Finished { .. } => "Finished",
            Event::RunFinished { .. } => "RunFinished",
        }
    }

    /// The job the event is about, if any.
    pub fn job(&self) -> Option<JobInfo<'_>> {
        match *self {
            Event::Queued { job, .. }
            | Event::Started { job, .. }
            | Event::Progress { job, .. }
            | Event::Retrying { job, .. }
            | Event::Finished { job, .. } => Some(job),
            Event::RunStarted { .. } | Event::RunFinished { .. } => None,
        }
    }
}

/// Receives a flow's events. Closures `FnMut(&Event<'_>)` are observers too.
///
/// # Examples
/// ```
/// use taskloop::flow::{Event, Flow};
/// let mut flow = Flow::new();
/// let mut started = Vec::new();
/// let a = flow.job("a", || 1);
/// flow.observe(move |e: &Event<'_>| {
///     if let Event::Started { job, .. } = e {
///         started.push(job.name.to_string());
///     }
/// });
/// flow.run();
/// assert_eq!(*a.result().unwrap(), 1);
/// ```
pub trait Observer {
    /// Called on the loop thread for every event, in order.
    fn on_event(&mut self, event: &Event<'_>);

    /// Problems the observer met that its user should hear of (a file it could not
    /// write). The flow asks after every run and lists them in the report's
    /// [`observer_errors`](super::Report::observer_errors). None by default.
    fn take_errors(&mut self) -> Vec<String> {
        Vec::new()
    }
}

impl<F: FnMut(&Event<'_>)> Observer for F {
    fn on_event(&mut self, event: &Event<'_>) {
        self(event)
    }
}
