//! The flow's state shared by the [`Flow`](super::Flow), every [`Job`](super::Job)
//! handle, and the scheduler: the job nodes, and the rules for settling them.
//!
//! Settling is the one way a job reaches a terminal status. It records the outcome,
//! tells the observers, and, if the job did not succeed, skips every pending job
//! downstream as upstream-failed, naming the root job and its error.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::body::Body;
use super::error::JobError;
use super::observe::{Event, JobInfo, Observer};
use super::remote::Remote;
use super::report::{JobReport, Report};
use super::retry::RetryPolicy;
use super::status::{JobId, JobStatus};
use crate::{JoinHandle, Runtime};

/// The limit every blocking job counts against: one slot per pool worker, so that a
/// blocking job is "running" only while a worker really runs it (and its timeout does
/// not tick while it waits in the pool's queue).
pub(crate) const POOL_LIMIT: &str = "taskloop:blocking-pool";

/// A job's settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Spec {
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Option<Duration>,
    pub(crate) priority: i32,
    pub(crate) limit: Option<String>,
    pub(crate) uses_pool: bool,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Done,
    Error(JobError),
}

/// One job.
pub(crate) struct Node {
    /// Shared, so events can name the job without holding the node table borrowed.
    pub(crate) name: Rc<str>,
    pub(crate) inputs: Rc<[JobId]>,
    pub(crate) dependents: Vec<usize>,
    pub(crate) status: JobStatus,
    pub(crate) spec: Spec,
    pub(crate) body: Rc<dyn Body>,
    pub(crate) attempts: u32,
    pub(crate) started: Option<Instant>,
    pub(crate) finished: Option<Instant>,
    pub(crate) error: Option<JobError>,
    pub(crate) progress: Option<(f64, String)>,
    pub(crate) task: Option<JoinHandle<()>>,
    pub(crate) in_run: bool,
    /// Declared with an input from another flow: fails when run.
    pub(crate) foreign: bool,
    /// Attempts of this job whose blocking body still occupies a pool worker.
    pub(crate) workers_busy: u32,
    /// The job ended while a worker was still busy with it: its pool slot is given
    /// back only when that worker is free (see [`WorkerLease`]).
    pub(crate) pool_owed: bool,
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
    pub(crate) fn as_info(&self) -> JobInfo<'_> {
        JobInfo {
            id: self.id,
            name: &self.name,
            inputs: &self.inputs,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

/// Everything a flow's handles share.
pub(crate) struct FlowState {
    pub(crate) id: u64,
    pub(crate) nodes: RefCell<Vec<Node>>,
    pub(crate) limits: RefCell<HashMap<String, usize>>,
    pub(crate) max_running: Cell<usize>,
    pub(crate) blocking_threads: usize,
    observers: RefCell<Vec<Box<dyn Observer>>>,
    pub(crate) remote: Arc<Remote>,
    /// Outcomes reported by job tasks, for the scheduler.
    pub(crate) completions: RefCell<Vec<(usize, Outcome)>>,
    /// Jobs whose last busy worker finished after the job ended (pool slots to give back).
    pub(crate) pool_freed: RefCell<Vec<usize>>,
    /// The scheduler's waker, for job tasks reporting outcomes (on the loop thread).
    pub(crate) driver: RefCell<Option<std::task::Waker>>,
    /// Whether a run is under way.
    pub(crate) running: Cell<bool>,
    runtime: OnceCell<Runtime>,
}

impl FlowState {
    pub(crate) fn new(id: u64, blocking_threads: usize, max_running: usize) -> FlowState {
        let limits = HashMap::from([(POOL_LIMIT.to_string(), blocking_threads)]);
        FlowState {
            id,
            nodes: RefCell::new(Vec::new()),
            limits: RefCell::new(limits),
            max_running: Cell::new(max_running),
            blocking_threads,
            observers: RefCell::new(Vec::new()),
            remote: Arc::new(Remote::default()),
            completions: RefCell::new(Vec::new()),
            pool_freed: RefCell::new(Vec::new()),
            driver: RefCell::new(None),
            running: Cell::new(false),
            runtime: OnceCell::new(),
        }
    }

    /// Reads one node.
    pub(crate) fn node<R>(&self, index: usize, f: impl FnOnce(&Node) -> R) -> R {
        f(&self.nodes.borrow()[index])
    }

    /// Changes a pending job's settings; finished or running jobs keep theirs.
    pub(crate) fn configure(&self, index: usize, f: impl FnOnce(&mut Spec)) {
        let mut nodes = self.nodes.borrow_mut();
        let node = &mut nodes[index];
        if node.status == JobStatus::Pending {
            f(&mut node.spec);
        }
    }

    pub(crate) fn add_observer(&self, observer: Box<dyn Observer>) {
        self.observers.borrow_mut().push(observer);
    }

    /// Tells every observer. One that panics is reported and removed. An event raised
    /// from inside an observer (re-entrantly) is not delivered.
    pub(crate) fn emit(&self, event: &Event<'_>) {
        let Ok(mut observers) = self.observers.try_borrow_mut() else {
            return;
        };
        observers.retain_mut(|o| {
            let ok = catch_unwind(AssertUnwindSafe(|| o.on_event(event))).is_ok();
            if !ok {
                eprintln!("taskloop: a flow observer panicked and was removed");
            }
            ok
        });
    }

    /// Whether observers are being called right now.
    fn observing(&self) -> bool {
        self.observers.try_borrow_mut().is_err()
    }

    /// Job `index`'s name and inputs, for an event.
    pub(crate) fn info(&self, index: usize) -> OwnedInfo {
        self.node(index, |n| OwnedInfo {
            id: JobId(index),
            name: n.name.clone(),
            inputs: n.inputs.clone(),
        })
    }

    pub(crate) fn clone_remote(&self) -> Arc<Remote> {
        self.remote.clone()
    }

    /// Wakes the scheduler, if a run is under way.
    pub(crate) fn wake_driver(&self) {
        let driver = self.driver.borrow().clone();
        if let Some(w) = driver {
            w.wake();
        }
    }

    /// Brings job `index` to its terminal status (first outcome wins) and, unless it
    /// succeeded, skips its pending dependents. Returns how many jobs of the current run
    /// became terminal.
    pub(crate) fn settle(&self, index: usize, outcome: Outcome, propagate: bool) -> usize {
        let now = Instant::now();
        let mut settled = Vec::new();
        {
            let mut nodes = self.nodes.borrow_mut();
            if nodes[index].status.is_terminal() {
                return 0;
            }
            let (status, error) = match outcome {
                Outcome::Done => (JobStatus::Done, None),
                Outcome::Error(e) => (status_of(&e), Some(e)),
            };
            let was_in_run = finish_node(&mut nodes[index], status, error.clone(), now);
            settled.push((index, was_in_run));
            if let (Some(root), true) = (error, propagate) {
                skip_downstream(&mut nodes, index, &root, now, &mut settled);
            }
        }
        let mut in_run = 0;
        for &(i, was_in_run) in &settled {
            in_run += usize::from(was_in_run);
            let info = self.info(i);
            let (status, error, attempts) =
                self.node(i, |n| (n.status, n.error.clone(), n.attempts));
            self.emit(&Event::Finished {
                at: now,
                job: info.as_info(),
                status,
                error: error.as_ref(),
                attempts,
            });
        }
        in_run
    }

    /// Cancels a job: at once when idle, through the scheduler during a run (or when
    /// asked from inside an observer, which the scheduler then handles at its next turn
    /// or the next run).
    pub(crate) fn cancel_job(&self, index: usize) {
        if self.running.get() || self.observing() {
            self.remote.send(|inbox| inbox.cancel.push(index));
        } else {
            self.settle(index, Outcome::Error(self.cancelled(index)), true);
        }
    }

    pub(crate) fn cancelled(&self, index: usize) -> JobError {
        JobError::Cancelled {
            job: self.node(index, |n| n.name.to_string()),
        }
    }

    /// A snapshot of every job, as a report of a run that started at `started`.
    pub(crate) fn report(&self, started: Instant) -> Report {
        let jobs: Vec<JobReport> = self
            .nodes
            .borrow()
            .iter()
            .enumerate()
            .map(|(i, n)| JobReport {
                id: JobId(i),
                name: n.name.to_string(),
                inputs: n.inputs.to_vec(),
                status: n.status,
                started: n.started,
                finished: n.finished,
                attempts: n.attempts,
                error: n.error.clone(),
                in_this_run: n.in_run,
            })
            .collect();
        Report {
            critical_path: Report::compute_critical_path(&jobs),
            jobs,
            started,
            wall_time: started.elapsed(),
        }
    }

    /// Runs the flow (all pending jobs, or what `target` needs) on the flow's own runtime.
    pub(crate) fn run_blocking(self: &Rc<Self>, target: Option<usize>) -> Report {
        let rt = self.runtime.get_or_init(|| {
            Runtime::builder()
                .blocking_threads(self.blocking_threads)
                .build()
                .unwrap_or_else(|e| panic!("taskloop: cannot create the flow's runtime: {e}"))
        });
        rt.block_on(super::scheduler::run(self.clone(), target))
    }
}

/// The terminal status an error stands for.
fn status_of(error: &JobError) -> JobStatus {
    match error {
        JobError::Cancelled { .. } => JobStatus::Cancelled,
        JobError::UpstreamFailed { .. } => JobStatus::UpstreamFailed,
        _ => JobStatus::Failed,
    }
}

/// Records a terminal status; returns whether the job was part of the current run.
/// (A job settled outside the run's targets, say skipped because its input failed,
/// joins the run's report from then on.)
fn finish_node(node: &mut Node, status: JobStatus, error: Option<JobError>, now: Instant) -> bool {
    node.status = status;
    node.error = error;
    node.finished = Some(now);
    node.task = None;
    std::mem::replace(&mut node.in_run, true)
}

/// Marks every pending job downstream of `index` as upstream-failed.
fn skip_downstream(
    nodes: &mut [Node],
    index: usize,
    root: &JobError,
    now: Instant,
    settled: &mut Vec<(usize, bool)>,
) {
    let mut stack: Vec<usize> = nodes[index].dependents.clone();
    while let Some(d) = stack.pop() {
        if nodes[d].status != JobStatus::Pending {
            continue;
        }
        let error = root.upstream_of(&nodes[d].name);
        let was_in_run = finish_node(&mut nodes[d], JobStatus::UpstreamFailed, Some(error), now);
        settled.push((d, was_in_run));
        stack.extend(nodes[d].dependents.iter().copied());
    }
}

/// Marks one attempt of a blocking job as occupying a pool worker, from the moment it
/// is handed to the pool until the worker is done with it, even if the attempt was
/// abandoned (timed out, cancelled) long before. The scheduler gives the job's pool slot
/// back only when the last lease of an ended job drops, so the flow never counts a
/// worker as free while it still runs an abandoned body.
pub(crate) struct WorkerLease {
    state: Rc<FlowState>,
    index: usize,
}

impl WorkerLease {
    pub(crate) fn new(state: &Rc<FlowState>, index: usize) -> WorkerLease {
        state.nodes.borrow_mut()[index].workers_busy += 1;
        WorkerLease {
            state: state.clone(),
            index,
        }
    }
}

impl Drop for WorkerLease {
    fn drop(&mut self) {
        let owed = {
            let mut nodes = self.state.nodes.borrow_mut();
            let node = &mut nodes[self.index];
            node.workers_busy -= 1;
            node.workers_busy == 0 && std::mem::take(&mut node.pool_owed)
        };
        if owed {
            self.state.pool_freed.borrow_mut().push(self.index);
            self.state.wake_driver();
        }
    }
}
