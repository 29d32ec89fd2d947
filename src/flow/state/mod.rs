//! The flow's state shared by the [`Flow`](super::Flow), every [`Job`](super::Job)
//! handle, the scheduler and the job tasks: the job nodes, the limits, the observers,
//! and the mailboxes between the job tasks and the scheduler.
//!
//! Everything here is private to this module; the rest of the flow goes through a
//! narrow interface:
//!
//! - **declaring**: [`add_job`](FlowState::add_job), [`configure`](FlowState::configure),
//!   [`define_limit`](FlowState::define_limit), [`add_observer`](FlowState::add_observer);
//! - **reading**: [`node`](FlowState::node) (a [`Node`] has accessors, no public fields),
//!   [`graph`](FlowState::graph) (the nodes with their edges, `graph.rs`),
//!   [`report`](FlowState::report) and a few more;
//! - **a run's frame**: [`begin_run`](FlowState::begin_run) and
//!   [`end_run`](FlowState::end_run), for the scheduler;
//! - **transitions of a job**: [`start_at`](FlowState::start_at) (`Pending` to
//!   `Running`), [`settle`](FlowState::settle) and
//!   [`settle_into`](FlowState::settle_into) (the one way to a terminal status,
//!   `settle.rs`), and
//!   records that change no status: attempts, progress, a pool slot still owed.
//!
//! Every event observers receive is sent from this module, so each job's one
//! `Finished` event comes from `settle`.

mod graph;
mod lease;
mod node;
mod settle;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

use std::cell::{Cell, OnceCell, RefCell};
use std::ops::Deref;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use super::body::Body;
use super::error::JobError;
use super::inputs::InputLink;
use super::limits::{LimitKey, Limits};
use super::observe::{Event, JobInfo, Observer};
use super::remote::Remote;
use super::report::{JobReport, Report};
use super::status::{JobId, JobStatus};
use crate::Runtime;

pub(crate) use graph::Graph;
pub(crate) use lease::WorkerLease;
pub(crate) use node::{LimitKeys, Node, Spec};
pub(crate) use settle::Outcome;

/// Everything a flow's handles share.
pub(crate) struct FlowState {
    id: u64,
    graph: RefCell<Graph>,
    /// Spare room for a declaration's input links (kept between declarations).
    links: Cell<Vec<InputLink>>,
    limits: RefCell<Limits>,
    max_running: usize,
    blocking_threads: usize,
    observers: RefCell<Vec<Box<dyn Observer>>>,
    /// Panics of observers during this run, for the run's report.
    observer_errors: RefCell<Vec<String>>,
    remote: Arc<Remote>,
    /// Outcomes reported by job tasks, for the scheduler.
    completions: RefCell<Vec<(usize, Outcome)>>,
    /// Pool slots of ended jobs whose last busy worker has since finished, to give back.
    pool_freed: Cell<usize>,
    /// The scheduler's waker, for job tasks reporting outcomes (on the loop thread).
    driver: RefCell<Option<Waker>>,
    /// Whether a run is under way.
    running: Cell<bool>,
    runtime: OnceCell<Runtime>,
}

/// What [`FlowState::begin_run`] hands the scheduler.
#[derive(Debug)]
pub(crate) struct RunPlan {
    /// The run's jobs, in declaration order.
    pub(crate) jobs: Vec<usize>,
    /// Pool slots still held by workers busy with abandoned attempts of earlier runs.
    pub(crate) pool_slots_owed: usize,
}

/// Declaring jobs and limits.
impl FlowState {
    /// An empty flow: `blocking_threads` pool workers, at most `max_running` jobs at once.
    pub(crate) fn new(id: u64, blocking_threads: usize, max_running: usize) -> FlowState {
        node::epoch(); // job times are kept relative to it: fix it before any run
        FlowState {
            id,
            graph: RefCell::new(Graph::default()),
            links: Cell::new(Vec::new()),
            limits: RefCell::new(Limits::new(blocking_threads)),
            max_running,
            blocking_threads,
            observers: RefCell::new(Vec::new()),
            observer_errors: RefCell::new(Vec::new()),
            remote: Arc::new(Remote::default()),
            completions: RefCell::new(Vec::new()),
            pool_freed: Cell::new(0),
            driver: RefCell::new(None),
            running: Cell::new(false),
            runtime: OnceCell::new(),
        }
    }

    /// Adds a pending job whose inputs `wire` lists; returns its link. A job with an
    /// input from another flow keeps only its own flow's inputs and fails when run.
    pub(crate) fn add_job(
        &self,
        name: String,
        wire: impl FnOnce(&mut Vec<InputLink>),
        body: Rc<dyn Body>,
        uses_pool: bool,
    ) -> InputLink {
        let mut links = self.links.take();
        links.clear();
        wire(&mut links);
        let foreign = links.iter().any(|l| l.flow != self.id);
        let own = (links.iter())
            .filter(|l| l.flow == self.id)
            .map(|l| JobId(l.index));
        let index = (self.graph.borrow_mut()).add(name, own, body, foreign, uses_pool);
        self.links.set(links);
        InputLink {
            flow: self.id,
            index,
        }
    }

    /// Changes a pending job's settings; finished or running jobs keep theirs.
    pub(crate) fn configure(&self, index: usize, f: impl FnOnce(&mut Spec)) {
        self.graph.borrow_mut()[index].configure(f);
    }

    /// Defines (or redefines) the named limit `name`.
    pub(crate) fn define_limit(&self, name: &str, max: usize) {
        self.limits.borrow_mut().define(name, max);
    }

    /// Adds an observer for every later event.
    pub(crate) fn add_observer(&self, observer: Box<dyn Observer>) {
        self.observers.borrow_mut().push(observer);
    }
}

/// Reading.
impl FlowState {
    /// The number of jobs declared.
    pub(crate) fn len(&self) -> usize {
        self.graph.borrow().len()
    }

    /// Reads one node.
    pub(crate) fn node<R>(&self, index: usize, f: impl FnOnce(&Node) -> R) -> R {
        f(&self.graph.borrow()[index])
    }

    /// Reads the whole graph (nodes and edges) at once.
    pub(crate) fn graph(&self) -> impl Deref<Target = Graph> + '_ {
        self.graph.borrow()
    }

    /// Job `index`'s name.
    pub(crate) fn name(&self, index: usize) -> String {
        self.node(index, |n| n.name().to_owned())
    }

    /// Job `index`'s name and inputs, for an event.
    fn info(&self, index: usize) -> OwnedInfo {
        let graph = self.graph.borrow();
        OwnedInfo {
            id: JobId(index),
            name: Rc::from(graph[index].name()),
            inputs: Rc::from(graph.inputs(index)),
        }
    }

    /// The flow's mailbox for other threads.
    pub(crate) fn remote(&self) -> Arc<Remote> {
        self.remote.clone()
    }

    /// Whether a run is under way.
    pub(crate) fn is_running(&self) -> bool {
        self.running.get()
    }

    /// At most this many jobs run at once.
    pub(crate) fn max_running(&self) -> usize {
        self.max_running
    }

    /// How many jobs limit `key` lets run at once; `None` for an undefined name.
    pub(crate) fn limit_max(&self, key: &LimitKey) -> Option<usize> {
        self.limits.borrow().max(key)
    }

    /// A snapshot of every job, as a report of a run that started at `started`.
    pub(crate) fn report(&self, started: Instant) -> Report {
        let graph = self.graph.borrow();
        let jobs: Vec<JobReport> = (0..graph.len()).map(|i| graph.report(i)).collect();
        drop(graph);
        Report {
            critical_path: Report::compute_critical_path(&jobs),
            jobs,
            started,
            wall_time: started.elapsed(),
            observer_errors: Vec::new(),
        }
    }
}

/// A run's frame, and the mailboxes between job tasks and the scheduler.
impl FlowState {
    /// Runs the flow (all pending jobs, or what `target` needs) on the flow's own runtime.
    pub(crate) fn run_blocking(self: &Rc<Self>, target: Option<usize>) -> Report {
        assert!(
            crate::runtime::context::current().is_none(),
            "Flow::run (and Job::wait) cannot be called from inside a taskloop runtime: it \
             would block the loop thread that runs the flow's own jobs. Inside async code, \
             use `flow.run_async().await` instead"
        );
        let rt = self.runtime.get_or_init(|| {
            Runtime::builder()
                .blocking_threads(self.blocking_threads)
                .build()
                .unwrap_or_else(|e| panic!("taskloop: cannot create the flow's runtime: {e}"))
        });
        rt.block_on(super::scheduler::run(self.clone(), target))
    }

    /// Starts a run of the pending jobs (all, or those `target` needs): marks them as
    /// the run's, and announces the run and each of its jobs.
    ///
    /// # Panics
    /// If a run is already under way.
    pub(crate) fn begin_run(&self, target: Option<usize>, at: Instant) -> RunPlan {
        assert!(
            !self.running.replace(true),
            "a flow is already running: wait for that run to finish before starting another"
        );
        // Workers still busy with abandoned attempts of an earlier run are not free.
        self.pool_freed.set(0);
        let plan = self.mark_run(target);
        self.emit(&Event::RunStarted {
            at,
            pending: plan.jobs.len(),
        });
        if self.observed() {
            for &i in &plan.jobs {
                let info = self.info(i);
                self.emit(&Event::Queued {
                    at,
                    job: info.as_info(),
                });
            }
        }
        plan
    }

    /// Marks the run's jobs: pending ones, all or those `target` needs.
    fn mark_run(&self, target: Option<usize>) -> RunPlan {
        let mut graph = self.graph.borrow_mut();
        let mut wanted = vec![target.is_none(); graph.len()];
        let mut stack: Vec<usize> = target.into_iter().collect();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut wanted[i], true) {
                stack.extend(graph.inputs(i).iter().map(|id| id.0));
            }
        }
        // One pass over the nodes: a flow may hold a million.
        let mut jobs = Vec::new();
        let mut pool_slots_owed = 0;
        for (i, node) in graph.nodes_mut().iter_mut().enumerate() {
            if node.join_run(wanted[i]) {
                jobs.push(i);
            }
            pool_slots_owed += usize::from(node.pool_owed());
        }
        RunPlan {
            jobs,
            pool_slots_owed,
        }
    }

    /// Ends the run: forgets the scheduler's waker, reports, and announces the report.
    pub(crate) fn end_run(&self, started: Instant) -> Report {
        self.remote.set_driver(None);
        *self.driver.borrow_mut() = None;
        self.running.set(false);
        let mut report = self.report(started);
        self.emit(&Event::RunFinished {
            at: Instant::now(),
            report: &report,
        });
        let mut errors = std::mem::take(&mut *self.observer_errors.borrow_mut());
        if let Ok(mut observers) = self.observers.try_borrow_mut() {
            errors.extend(observers.iter_mut().flat_map(|o| o.take_errors()));
        }
        report.observer_errors = errors;
        report
    }

    /// Stores the scheduler's waker, for other threads and for job tasks.
    pub(crate) fn set_driver(&self, waker: &Waker) {
        self.remote.set_driver(Some(waker));
        *self.driver.borrow_mut() = Some(waker.clone());
    }

    /// Wakes the scheduler, if a run is under way.
    fn wake_driver(&self) {
        let driver = self.driver.borrow().clone();
        if let Some(w) = driver {
            w.wake();
        }
    }

    /// A job task reports job `index`'s outcome to the scheduler, which settles it.
    pub(crate) fn complete(&self, index: usize, outcome: Outcome) {
        self.completions.borrow_mut().push((index, outcome));
        self.wake_driver();
    }

    /// The outcomes reported since the last call.
    pub(crate) fn take_completions(&self) -> Vec<(usize, Outcome)> {
        std::mem::take(&mut *self.completions.borrow_mut())
    }

    /// How many owed pool slots became free since the last call.
    pub(crate) fn take_freed_pool_slots(&self) -> usize {
        self.pool_freed.replace(0)
    }
}

/// Transitions and records of one job (ending one is [`settle`](FlowState::settle)).
impl FlowState {
    /// [`start_at`](FlowState::start_at) now; returns the body and the job's settings.
    #[cfg(test)]
    pub(crate) fn start(&self, index: usize) -> (Rc<dyn Body>, Spec) {
        let body = self.start_at(index, Instant::now()).0;
        (body, self.node(index, |n| n.spec()))
    }

    /// Job `index` goes from `Pending` to `Running`, started at `now`; returns its body,
    /// and whether it runs inline (a local body with no timeout and no retry: cheap glue
    /// the scheduler calls itself, whose one attempt is then recorded and announced here).
    ///
    /// # Panics
    /// If the job is not pending.
    pub(crate) fn start_at(&self, index: usize, now: Instant) -> (Rc<dyn Body>, bool) {
        let (body, inline) = {
            let mut graph = self.graph.borrow_mut();
            let node = &mut graph[index];
            let body = node.start(now);
            let inline = node.is_one_shot() && body.runs_inline();
            if inline {
                node.attempt_started(1);
            }
            (body, inline)
        };
        if inline {
            self.announce_attempt(index, 1);
        }
        (body, inline)
    }

    /// Records and announces the start of attempt `attempt` of job `index` (unless the
    /// job has ended meanwhile).
    pub(crate) fn attempt_started(&self, index: usize, attempt: u32) {
        if self.graph.borrow_mut()[index].attempt_started(attempt) {
            self.announce_attempt(index, attempt);
        }
    }

    fn announce_attempt(&self, index: usize, attempt: u32) {
        if let Some(info) = self.observed_info(index) {
            self.emit(&Event::Started {
                at: Instant::now(),
                job: info.as_info(),
                attempt,
            });
        }
    }

    /// Announces that attempt `attempt` of job `index` failed and will be retried.
    pub(crate) fn retrying(&self, index: usize, attempt: u32, error: &JobError, delay: Duration) {
        if let Some(info) = self.observed_info(index) {
            self.emit(&Event::Retrying {
                at: Instant::now(),
                job: info.as_info(),
                attempt,
                error,
                delay,
            });
        }
    }

    /// Announces and records a running job's progress; a late report (from an attempt
    /// that was cancelled or timed out) is dropped.
    pub(crate) fn record_progress(&self, index: usize, fraction: f64, message: String) {
        if self.node(index, |n| n.status() != JobStatus::Running) {
            return;
        }
        if let Some(info) = self.observed_info(index) {
            self.emit(&Event::Progress {
                at: Instant::now(),
                job: info.as_info(),
                fraction,
                message: &message,
            });
        }
        self.graph.borrow_mut()[index].set_progress(fraction, message);
    }

    /// Marks job `index`'s pool slot as owed if a worker is still busy with it (then
    /// [`take_freed_pool_slots`](FlowState::take_freed_pool_slots) counts it once the
    /// worker is done); returns whether.
    pub(crate) fn owe_pool_slot(&self, index: usize) -> bool {
        self.graph.borrow_mut()[index].owe_pool_slot()
    }
}

/// Observers.
impl FlowState {
    /// Tells every observer. One that panics is removed, and the run's report says so. An event raised
    /// from inside an observer (re-entrantly) is not delivered.
    fn emit(&self, event: &Event<'_>) {
        let Ok(mut observers) = self.observers.try_borrow_mut() else {
            return;
        };
        observers.retain_mut(
            |o| match catch_unwind(AssertUnwindSafe(|| o.on_event(event))) {
                Ok(()) => true,
                Err(panic) => {
                    let message = crate::runtime::panic_message(&*panic);
                    self.observer_errors.borrow_mut().push(format!(
                        "an observer panicked on a {} event and was removed: {message}",
                        event.kind()
                    ));
                    false
                }
            },
        );
    }

    /// Job `index`'s name and inputs for an event, if an observer would hear it: an
    /// event about a job is made (with an owned copy of them) only then.
    fn observed_info(&self, index: usize) -> Option<OwnedInfo> {
        self.observed().then(|| self.info(index))
    }

    /// Whether an observer would hear an event now: there is one, and none is being
    /// called (an event raised from inside an observer is not delivered).
    fn observed(&self) -> bool {
        self.observers.try_borrow().is_ok_and(|o| !o.is_empty())
    }

    /// Whether observers are being called right now.
    fn observing(&self) -> bool {
        self.observers.try_borrow_mut().is_err()
    }
}

/// A job's name and inputs, held without borrowing the graph, so observers called with
/// it may use the flow's handles freely.
#[derive(Debug, Clone)]
struct OwnedInfo {
    id: JobId,
    name: Rc<str>,
    inputs: Rc<[JobId]>,
}

impl OwnedInfo {
    /// The job info an event carries.
    fn as_info(&self) -> JobInfo<'_> {
        JobInfo {
            id: self.id,
            name: &self.name,
            inputs: &self.inputs,
        }
    }
}
