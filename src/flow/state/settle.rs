//! Settling: the one way a job reaches a terminal status.
//!
//! [`FlowState::settle`] records the outcome, skips every pending job downstream as
//! upstream-failed (naming the root job and its error) unless the job succeeded, and
//! tells the observers, once per job that ended. Its rules:
//!
//! - **A terminal status is final.** Settling a job that already ended does nothing, so
//!   the first outcome wins: a cancel that arrives after a result, or a result that
//!   arrives after a cancel, is dropped.
//! - **Dependents are counted down once.** Only the call that makes a job `Done`
//!   returns its dependents ([`Settled::inputs_done_for`]), and it happens once per job.
//! - **One `Finished` event per job**, sent after the node table is released.

use std::time::Instant;

use super::super::error::JobError;
use super::super::observe::Event;
use super::super::status::JobStatus;
use super::{FlowState, Graph};

/// How a job ended, as the scheduler (or a cancel) reports it.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// The body succeeded; its result is stored.
    Done,
    /// The body failed, panicked or timed out with no retry left, or the job was
    /// declared wrongly: `Failed`, and its dependents are skipped.
    Failed(JobError),
    /// The job was cancelled: `Cancelled`, and its dependents are skipped.
    Cancelled,
    /// The whole flow was cancelled: `Cancelled`, and its dependents are left alone,
    /// to be cancelled in turn (nothing failed, so nothing is upstream-failed).
    FlowCancelled,
    /// An input ended badly with this error: `UpstreamFailed`, and so do its dependents.
    UpstreamFailed(JobError),
}

/// What settling a job changed, for the scheduler.
#[must_use]
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Settled {
    /// How many jobs of the current run ended: the job, and the dependents it skipped.
    pub(crate) ended_in_run: usize,
    /// The dependents of a job that just became `Done`: each has one unfinished input
    /// fewer. Empty otherwise, and for a job that had already ended.
    pub(crate) inputs_done_for: Vec<usize>,
}

impl Outcome {
    /// The terminal status, the error to store, and whether dependents are skipped.
    fn resolve(self, job: &str) -> (JobStatus, Option<JobError>, bool) {
        let cancelled = || JobError::Cancelled {
            job: job.to_string(),
        };
        match self {
            Outcome::Done => (JobStatus::Done, None, false),
            Outcome::Failed(e) => (JobStatus::Failed, Some(e), true),
            Outcome::Cancelled => (JobStatus::Cancelled, Some(cancelled()), true),
            Outcome::FlowCancelled => (JobStatus::Cancelled, Some(cancelled()), false),
            Outcome::UpstreamFailed(e) => {
                (JobStatus::UpstreamFailed, Some(e.upstream_of(job)), true)
            }
        }
    }
}

impl FlowState {
    /// Brings job `index` to its terminal status (the first outcome wins) and, if the
    /// outcome says so, skips its pending dependents, transitively.
    pub(crate) fn settle(&self, index: usize, outcome: Outcome) -> Settled {
        let mut inputs_done_for = Vec::new();
        let ended_in_run = self.settle_into(index, outcome, Instant::now(), &mut inputs_done_for);
        Settled {
            ended_in_run,
            inputs_done_for,
        }
    }

    /// [`settle`](FlowState::settle), for the scheduler: the job ends at `now`, the
    /// dependents of a job that just became `Done` are appended to `inputs_done_for` (a
    /// buffer it reuses), and the number of jobs of the run that ended is returned.
    pub(crate) fn settle_into(
        &self,
        index: usize,
        outcome: Outcome,
        now: Instant,
        inputs_done_for: &mut Vec<usize>,
    ) -> usize {
        // Skipped dependents; left unallocated when there are none, the common case.
        let mut skipped = Vec::new();
        let in_run = {
            let mut graph = self.graph.borrow_mut();
            let node = &mut graph[index];
            if node.status().is_terminal() {
                return 0;
            }
            let (status, error, skip) = outcome.resolve(node.name());
            let root = if skip { error.clone() } else { None };
            let in_run = node.finish(status, error, now);
            if status == JobStatus::Done {
                inputs_done_for.extend(graph.dependents(index));
            }
            if let Some(root) = root {
                skip_downstream(&mut graph, index, &root, now, &mut skipped);
            }
            in_run
        };
        if self.observed() {
            self.announce_end(index, now);
            for &(i, _) in &skipped {
                self.announce_end(i, now);
            }
        }
        let skipped_in_run = skipped.iter().filter(|(_, in_run)| *in_run).count();
        usize::from(in_run) + skipped_in_run
    }

    /// Tells the observers that job `index` ended.
    fn announce_end(&self, index: usize, at: Instant) {
        let Some(info) = self.observed_info(index) else {
            return;
        };
        let (status, error, attempts) =
            self.node(index, |n| (n.status(), n.error().cloned(), n.attempts()));
        self.emit(&Event::Finished {
            at,
            job: info.as_info(),
            status,
            error: error.as_ref(),
            attempts,
        });
    }

    /// Cancels a job for [`Job::cancel`](super::super::Job::cancel): at once when idle,
    /// through the scheduler during a run (or when asked from inside an observer, which
    /// the scheduler then handles at its next turn or the next run).
    pub(crate) fn cancel_job(&self, index: usize) {
        if self.running.get() || self.observing() {
            self.remote.send(|inbox| inbox.cancel.push(index));
        } else {
            let _ = self.settle(index, Outcome::Cancelled);
        }
    }
}

/// Marks every pending job downstream of `index` as upstream-failed, with `root` (the
/// error of job `index`) as their root; records each in `skipped` with whether it was
/// part of the run.
fn skip_downstream(
    graph: &mut Graph,
    index: usize,
    root: &JobError,
    now: Instant,
    skipped: &mut Vec<(usize, bool)>,
) {
    let mut stack: Vec<usize> = graph.dependents(index).collect();
    while let Some(d) = stack.pop() {
        let node = &mut graph[d];
        if node.status() != JobStatus::Pending {
            continue;
        }
        let error = root.upstream_of(node.name());
        let was_in_run = node.finish(JobStatus::UpstreamFailed, Some(error), now);
        skipped.push((d, was_in_run));
        stack.extend(graph.dependents(d));
    }
}
