//! The scheduler: the task that drives one run of a flow.
//!
//! It keeps, for every job of the run, how many of its inputs are still unfinished.
//! When that count reaches zero the job is *ready*; ready jobs start as soon as the
//! flow-wide limit and their named limits have room, highest priority first, then the
//! job with the longest chain of dependents behind it (so long chains are not left for
//! last), then first come, first served. Each started job runs as its own task
//! ([`run_job`], in `attempts.rs`): attempts, timeouts, back-off and retries happen
//! there, and the outcome comes back through `FlowState::completions`. (A local job with
//! no timeout and no retries is cheap glue: it runs right here, inline.) The scheduler
//! settles the outcome, frees the job's slots, and counts down its dependents, which may
//! make them ready in turn.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use super::attempts::{job_error, run_job, started};
use super::error::JobError;
use super::observe::Event;
use super::remote::{Inbox, Progress};
use super::report::Report;
use super::state::{FlowState, Outcome, POOL_LIMIT};
use super::status::JobStatus;
use crate::JoinHandle;

/// Runs the pending jobs of the flow (or just what `target` needs) to a terminal status.
pub(crate) async fn run(state: Rc<FlowState>, target: Option<usize>) -> Report {
    assert!(
        !state.running.replace(true),
        "a flow is already running: wait for that run to finish before starting another"
    );
    let mut scheduler = Scheduler::start(state, target);
    poll_fn(|cx| scheduler.poll(cx)).await
}

/// A ready job's place in line: higher sorts first.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Ready {
    priority: i32,
    chain: u32,
    order: Reverse<u64>,
    index: usize,
}

struct Scheduler {
    state: Rc<FlowState>,
    started: Instant,
    ready: BinaryHeap<Ready>,
    next_order: u64,
    /// Per job: inputs not yet done.
    waiting_on: Vec<usize>,
    /// Per job: length of the longest chain of dependents behind it.
    chain: Vec<u32>,
    holds_slot: Vec<bool>,
    running: usize,
    limit_used: HashMap<String, usize>,
    limit_queue: HashMap<String, BinaryHeap<Ready>>,
    /// Jobs of the run that are not terminal yet.
    remaining: usize,
    /// Tasks of cancelled jobs, awaited so no task outlives the run.
    aborting: Vec<JoinHandle<()>>,
}

impl Scheduler {
    fn start(state: Rc<FlowState>, target: Option<usize>) -> Scheduler {
        let started = Instant::now();
        let (targets, chain) = plan(&state, target);
        let n = chain.len();
        // Workers still busy with abandoned attempts of an earlier run are not free.
        state.pool_freed.borrow_mut().clear();
        let owed = state.nodes.borrow().iter().filter(|n| n.pool_owed).count();
        let limit_used = HashMap::from([(POOL_LIMIT.to_string(), owed)]);
        let mut s = Scheduler {
            state,
            started,
            ready: BinaryHeap::new(),
            next_order: 0,
            waiting_on: vec![0; n],
            chain,
            holds_slot: vec![false; n],
            running: 0,
            limit_used,
            limit_queue: HashMap::new(),
            remaining: targets.len(),
            aborting: Vec::new(),
        };
        s.state.emit(&Event::RunStarted {
            at: started,
            pending: targets.len(),
        });
        for &i in &targets {
            let info = s.state.info(i);
            s.state.emit(&Event::Queued {
                at: started,
                job: info.as_info(),
            });
        }
        for &i in &targets {
            s.enqueue_if_possible(i);
        }
        s
    }

    /// Checks a newly queued job: bad declarations fail now, jobs whose inputs already
    /// failed are skipped now, jobs whose inputs are all done become ready.
    fn enqueue_if_possible(&mut self, i: usize) {
        if let Some(error) = self.declaration_error(i) {
            return self.finish(i, Outcome::Error(error));
        }
        let inputs = self.state.node(i, |n| n.inputs.clone());
        let mut waiting = 0;
        for input in inputs.iter() {
            let (status, error) = self.state.node(input.0, |n| (n.status, n.error.clone()));
            match (status, error) {
                (JobStatus::Done, _) => {}
                (s, Some(e)) if s.is_terminal() => {
                    let info = self.state.info(i);
                    return self.finish(i, Outcome::Error(e.upstream_of(info.name())));
                }
                _ => waiting += 1,
            }
        }
        self.waiting_on[i] = waiting;
        if waiting == 0 {
            self.push_ready(i);
        }
    }

    fn declaration_error(&self, i: usize) -> Option<JobError> {
        let limits = self.state.limits.borrow();
        let (foreign, unknown_limit) = self.state.node(i, |n| {
            let unknown = n.spec.limit.as_ref().filter(|l| !limits.contains_key(*l));
            (n.foreign, unknown.cloned())
        });
        drop(limits);
        if !foreign && unknown_limit.is_none() {
            return None;
        }
        let name = self.state.info(i).name().to_string();
        if foreign {
            return Some(JobError::ForeignInput { job: name });
        }
        let limit = unknown_limit?;
        let msg = format!("it counts against limit '{limit}', which the flow does not define (call Flow::limit first)");
        Some(JobError::Failed {
            job: name,
            source: std::sync::Arc::from(super::error::BoxError::from(msg)),
        })
    }

    fn push_ready(&mut self, index: usize) {
        self.next_order += 1;
        let priority = self.state.node(index, |n| n.spec.priority);
        self.ready.push(Ready {
            priority,
            chain: self.chain[index],
            order: Reverse(self.next_order),
            index,
        });
    }

    /// One wake-up of the driver: take in what happened, start what can start.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Report> {
        self.state.remote.set_driver(Some(cx.waker()));
        *self.state.driver.borrow_mut() = Some(cx.waker().clone());
        loop {
            let inbox = self.state.remote.take();
            let completions = std::mem::take(&mut *self.state.completions.borrow_mut());
            let freed = self.free_pool_slots();
            let idle = completions.is_empty() && inbox_is_empty(&inbox) && !freed;
            self.apply_inbox(inbox, completions);
            self.start_ready();
            if idle && !self.state.remote.has_mail() {
                break;
            }
        }
        self.aborting
            .retain_mut(|h| Pin::new(h).poll(cx).is_pending());
        // A job cleaning up after itself (stopping its remote work) holds the run open.
        if self.remaining > 0 || !self.aborting.is_empty() || self.state.remote.is_held() {
            return Poll::Pending;
        }
        Poll::Ready(self.finish_run())
    }

    fn finish_run(&mut self) -> Report {
        self.state.remote.set_driver(None);
        *self.state.driver.borrow_mut() = None;
        self.state.running.set(false);
        let report = self.state.report(self.started);
        self.state.emit(&Event::RunFinished {
            at: Instant::now(),
            report: &report,
        });
        report
    }

    /// Takes in progress (reported while the jobs ran), then outcomes, then cancels: an
    /// outcome already produced wins over a cancel handled in the same wake-up, so a job
    /// whose result is stored is never reported as cancelled.
    fn apply_inbox(&mut self, inbox: Inbox, completions: Vec<(usize, Outcome)>) {
        for (i, fraction, message) in inbox.progress {
            self.progress(i, fraction, message);
        }
        for (i, outcome) in completions {
            self.finish(i, outcome);
        }
        if inbox.cancel_all {
            self.cancel_all();
        }
        for i in inbox.cancel {
            self.cancel(i);
        }
    }

    fn progress(&mut self, i: usize, fraction: f64, message: String) {
        let running = self.state.node(i, |n| n.status == JobStatus::Running);
        if !running {
            return; // a late report from an attempt that was cancelled or timed out
        }
        let info = self.state.info(i);
        self.state.emit(&Event::Progress {
            at: Instant::now(),
            job: info.as_info(),
            fraction,
            message: &message,
        });
        self.state.nodes.borrow_mut()[i].progress = Some((fraction, message));
    }

    fn cancel(&mut self, i: usize) {
        if i >= self.waiting_on.len() {
            // Declared during this run: not part of it, so just settle it.
            if i < self.state.nodes.borrow().len() {
                let error = self.state.cancelled(i);
                self.state.settle(i, Outcome::Error(error), true);
            }
            return;
        }
        self.abort_task(i);
        let error = self.state.cancelled(i);
        self.finish(i, Outcome::Error(error));
    }

    /// Every unfinished job becomes cancelled (not upstream-failed: nothing failed).
    fn cancel_all(&mut self) {
        let n = self.state.nodes.borrow().len();
        for i in 0..n.min(self.waiting_on.len()) {
            if !self.state.node(i, |n| n.status.is_terminal()) {
                self.abort_task(i);
                let error = self.state.cancelled(i);
                self.release(i);
                self.remaining -= self.state.settle(i, Outcome::Error(error), false);
            }
        }
    }

    fn abort_task(&mut self, i: usize) {
        if let Some(task) = self.state.nodes.borrow_mut()[i].task.take() {
            task.abort();
            self.aborting.push(task);
        }
    }

    /// Settles job `i`, frees its slots, and counts down its dependents.
    fn finish(&mut self, i: usize, outcome: Outcome) {
        self.release(i);
        let done = matches!(outcome, Outcome::Done);
        let newly_terminal = self.state.settle(i, outcome, true);
        self.remaining -= newly_terminal;
        if done && newly_terminal > 0 {
            let count = self.state.node(i, |n| n.dependents.len());
            for k in 0..count {
                let d = self.state.node(i, |n| n.dependents[k]);
                self.input_done(d);
            }
        }
    }

    fn input_done(&mut self, d: usize) {
        let pending = self
            .state
            .node(d, |n| n.in_run && n.status == JobStatus::Pending);
        if pending && d < self.waiting_on.len() {
            self.waiting_on[d] -= 1;
            if self.waiting_on[d] == 0 {
                self.push_ready(d);
            }
        }
    }

    /// Starts ready jobs while the flow-wide limit allows. Stops early when a request
    /// (a cancel, say, made by an observer of a job that just ran inline) waits in the
    /// inbox, so that it is applied before anything else starts.
    fn start_ready(&mut self) {
        while self.running < self.state.max_running.get() && !self.state.remote.has_mail() {
            let Some(next) = self.ready.pop() else { return };
            let i = next.index;
            if self.state.node(i, |n| n.status != JobStatus::Pending) {
                // Cancelled while it waited: a turn a limit queue gave it goes on.
                for l in self.limits_of(i) {
                    self.hand_on(l);
                }
                continue;
            }
            match self.full_limit(i) {
                Some(limit) => self.limit_queue.entry(limit).or_default().push(next),
                None => self.launch(i),
            }
        }
    }

    /// The job's limits: its named one, and the pool's for blocking jobs.
    fn limits_of(&self, i: usize) -> Vec<String> {
        self.state.node(i, |n| {
            let pool = n.spec.uses_pool.then(|| POOL_LIMIT.to_string());
            n.spec.limit.iter().cloned().chain(pool).collect()
        })
    }

    fn full_limit(&self, i: usize) -> Option<String> {
        let limits = self.state.limits.borrow();
        self.limits_of(i).into_iter().find(|l| {
            let used = self.limit_used.get(l).copied().unwrap_or(0);
            used >= limits.get(l).copied().unwrap_or(usize::MAX)
        })
    }

    fn launch(&mut self, i: usize) {
        for l in self.limits_of(i) {
            *self.limit_used.entry(l).or_default() += 1;
        }
        self.holds_slot[i] = true;
        self.running += 1;
        let (body, spec) = {
            let mut nodes = self.state.nodes.borrow_mut();
            let node = &mut nodes[i];
            node.status = JobStatus::Running;
            node.started.get_or_insert_with(Instant::now);
            (node.body.clone(), node.spec.clone())
        };
        // Cheap glue with nothing to time or retry runs right here: no task needed.
        if body.runs_inline() && spec.timeout.is_none() && spec.retry.retries == 0 {
            let progress = Progress::new(self.state.clone_remote(), i);
            started(&self.state, i, 1);
            if let Some(result) = body.run_now(&progress) {
                let outcome = result.map_or_else(
                    |e| Outcome::Error(job_error(&self.state.info(i), e)),
                    |()| Outcome::Done,
                );
                return self.finish(i, outcome);
            }
        }
        let task = crate::spawn(run_job(self.state.clone(), i, body, spec));
        self.state.nodes.borrow_mut()[i].task = Some(task);
    }

    /// Gives back job `i`'s slots; the best job queued on each freed limit gets in line.
    /// A pool slot whose worker still runs an abandoned attempt is given back later,
    /// when that worker is done ([`free_pool_slots`](Scheduler::free_pool_slots)).
    fn release(&mut self, i: usize) {
        if !std::mem::take(&mut self.holds_slot[i]) {
            return;
        }
        self.running -= 1;
        for l in self.limits_of(i) {
            if l == POOL_LIMIT && self.owe_pool_slot(i) {
                continue;
            }
            self.give_back(l);
        }
    }

    /// Marks job `i`'s pool slot as owed if a worker is still busy with it.
    fn owe_pool_slot(&self, i: usize) -> bool {
        let mut nodes = self.state.nodes.borrow_mut();
        let node = &mut nodes[i];
        node.pool_owed = node.workers_busy > 0;
        node.pool_owed
    }

    fn give_back(&mut self, l: String) {
        if let Some(used) = self.limit_used.get_mut(&l) {
            *used = used.saturating_sub(1);
        }
        self.hand_on(l);
    }

    /// Gives back the pool slots of ended jobs whose workers have now finished.
    fn free_pool_slots(&mut self) -> bool {
        let freed = std::mem::take(&mut *self.state.pool_freed.borrow_mut());
        for _ in &freed {
            self.give_back(POOL_LIMIT.to_string());
        }
        !freed.is_empty()
    }

    /// Moves the best pending job queued on limit `l` back in line. Jobs cancelled while
    /// they queued are dropped instead, and hand on in turn the turns they may hold on
    /// their other limits; otherwise a free slot could be left with jobs queued on it.
    fn hand_on(&mut self, l: String) {
        let mut limits = vec![l];
        while let Some(l) = limits.pop() {
            while let Some(next) = self.limit_queue.get_mut(&l).and_then(BinaryHeap::pop) {
                if self
                    .state
                    .node(next.index, |n| n.status == JobStatus::Pending)
                {
                    self.ready.push(next);
                    break;
                }
                let others = self.limits_of(next.index).into_iter().filter(|m| *m != l);
                limits.extend(others);
            }
        }
    }
}

fn inbox_is_empty(inbox: &Inbox) -> bool {
    !inbox.cancel_all && inbox.cancel.is_empty() && inbox.progress.is_empty()
}

/// Which jobs this run covers (pending ones: all, or those `target` needs), marking
/// them in the nodes; and each job's chain length (longest path to a sink, in jobs).
fn plan(state: &FlowState, target: Option<usize>) -> (Vec<usize>, Vec<u32>) {
    let mut nodes = state.nodes.borrow_mut();
    let n = nodes.len();
    let mut wanted = vec![target.is_none(); n];
    if let Some(t) = target {
        let mut stack = vec![t];
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut wanted[i], true) {
                stack.extend(nodes[i].inputs.iter().map(|id| id.0));
            }
        }
    }
    let mut targets = Vec::new();
    for (i, node) in nodes.iter_mut().enumerate() {
        node.in_run = wanted[i] && node.status == JobStatus::Pending;
        if node.in_run {
            targets.push(i);
        }
    }
    // Inputs are declared before their dependents, so a reverse sweep sees every
    // dependent before the job itself.
    let mut chain = vec![1u32; n];
    for i in (0..n).rev() {
        let longest = nodes[i]
            .dependents
            .iter()
            .map(|&d| chain[d])
            .max()
            .unwrap_or(0);
        chain[i] = longest + 1;
    }
    (targets, chain)
}
