//! The scheduler: the task that drives one run of a flow.
//!
//! It keeps, for every job of the run, how many of its inputs are still unfinished.
//! When that count reaches zero the job is *ready*; ready jobs start as soon as the
//! flow-wide limit and their named limits have room, highest priority first, then the
//! job with the longest chain of dependents behind it (so long chains are not left for
//! last), then first come, first served. Each started job runs as its own task
//! ([`run_job`], in `attempts.rs`): attempts, timeouts, back-off and retries happen
//! there, and the outcome comes back through `FlowState::complete`. (A local job with
//! no timeout and no retries is cheap glue: it runs right here, inline.) The scheduler
//! settles the outcome, frees the job's slots, and counts down the dependents that
//! `settle` hands back, which may make them ready in turn.
//!
//! The scheduler changes jobs only through the state's interface: `start` a job,
//! `settle` it; slots, queues and counters are its own.

#[cfg(test)]
mod tests;

use std::collections::{BinaryHeap, HashMap};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use super::attempts::{job_error, run_job};
use super::error::{BoxError, JobError};
use super::limits::LimitKey;
use super::remote::{Inbox, Progress, Remote};
use super::report::Report;
use super::state::{FlowState, LimitKeys, Outcome};
use super::status::JobStatus;
use crate::JoinHandle;

/// Runs the pending jobs of the flow (or just what `target` needs) to a terminal status.
pub(crate) async fn run(state: Rc<FlowState>, target: Option<usize>) -> Report {
    let mut scheduler = Scheduler::start(state, target);
    poll_fn(|cx| scheduler.poll(cx)).await
}

/// A ready job's place in line: higher sorts first. By priority, then chain length,
/// then the order in which jobs became ready (earlier first), packed into one integer
/// (32 bits each, the job's index last) so that the heap compares one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Ready(u128);

impl Ready {
    fn new(priority: i32, chain: u32, order: u32, index: usize) -> Ready {
        // Flipping the sign bit maps i32 onto u32 keeping the order.
        let priority = (priority as u32) ^ (1 << 31);
        let index = u32::try_from(index).expect("a flow holds fewer than 2^32 jobs");
        let first_ready_first = u32::MAX - order;
        Ready(
            u128::from(priority) << 96
                | u128::from(chain) << 64
                | u128::from(first_ready_first) << 32
                | u128::from(index),
        )
    }

    fn index(self) -> usize {
        self.0 as u32 as usize
    }
}

/// What the scheduler keeps about one job during a run.
#[derive(Debug, Clone, Copy)]
struct PerJob {
    /// Inputs not yet done (0 for a job that is ready, or not part of the run).
    waiting_on: u32,
    /// Length of the longest chain of dependents behind it.
    chain: u32,
    holds: Holds,
}

/// Whether a job of the run holds a running slot, and whether it also holds slots of
/// named limits or of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    Nothing,
    Slot,
    SlotAndLimits,
}

/// One run's driver.
struct Scheduler {
    state: Rc<FlowState>,
    remote: Arc<Remote>,
    started: Instant,
    /// The progress handle of the local bodies run inline (pointed at each in turn).
    progress: Progress,
    /// The last reading of the clock in this wake-up: a job launched now starts then
    /// (the clock is read again at the end of each job that runs inline, so this is
    /// at most one job's bookkeeping ago).
    clock: Instant,
    ready: BinaryHeap<Ready>,
    next_order: u32,
    /// Per job of the flow when the run started: what the scheduler keeps about it.
    jobs: Vec<PerJob>,
    /// The task running a job's attempts, from launch until the job ends (jobs that
    /// run inline have none).
    tasks: HashMap<usize, JoinHandle<()>>,
    /// Spare room for the dependents `settle` hands back (kept between settles).
    done_for: Vec<usize>,
    running: usize,
    limit_used: HashMap<LimitKey, usize>,
    limit_queue: HashMap<LimitKey, BinaryHeap<Ready>>,
    /// Jobs of the run that are not terminal yet.
    remaining: usize,
    /// Tasks of cancelled jobs, awaited so no task outlives the run.
    aborting: Vec<JoinHandle<()>>,
}

impl Scheduler {
    fn start(state: Rc<FlowState>, target: Option<usize>) -> Scheduler {
        let started = Instant::now();
        let jobs = chains(&state)
            .into_iter()
            .map(|chain| PerJob {
                waiting_on: 0,
                chain,
                holds: Holds::Nothing,
            })
            .collect();
        let plan = state.begin_run(target, started);
        let mut s = Scheduler {
            remote: state.remote(),
            progress: Progress::new(state.remote(), 0),
            state,
            started,
            clock: started,
            ready: BinaryHeap::new(),
            next_order: 0,
            jobs,
            tasks: HashMap::new(),
            done_for: Vec::new(),
            running: 0,
            limit_used: HashMap::from([(LimitKey::Pool, plan.pool_slots_owed)]),
            limit_queue: HashMap::new(),
            remaining: plan.jobs.len(),
            aborting: Vec::new(),
        };
        for &i in &plan.jobs {
            s.enqueue_if_possible(i);
        }
        s
    }

    /// Checks a newly queued job: bad declarations fail now, jobs whose inputs already
    /// failed are skipped now, jobs whose inputs are all done become ready.
    fn enqueue_if_possible(&mut self, i: usize) {
        if let Some(error) = self.declaration_error(i) {
            return self.finish(i, Outcome::Failed(error));
        }
        match self.unfinished_inputs(i) {
            Err(failed_input) => self.finish(i, Outcome::UpstreamFailed(failed_input)),
            Ok(0) => self.push_ready(i),
            Ok(waiting) => self.jobs[i].waiting_on = waiting as u32,
        }
    }

    /// How many of job `i`'s inputs have not finished, or the error of the first one
    /// that ended without a result.
    fn unfinished_inputs(&self, i: usize) -> Result<usize, JobError> {
        let graph = self.state.graph();
        let mut waiting = 0;
        for input in graph.inputs(i) {
            let m = &graph[input.0];
            waiting += match m.status() {
                JobStatus::Done => 0,
                s if s.is_terminal() => match m.error() {
                    Some(e) => return Err(e.clone()),
                    None => 1,
                },
                _ => 1,
            };
        }
        Ok(waiting)
    }

    /// Why job `i` cannot run whatever its inputs do: an input from another flow, or
    /// an undefined named limit.
    fn declaration_error(&self, i: usize) -> Option<JobError> {
        let (foreign, limit) = self.state.node(i, |n| (n.is_foreign(), n.limit().cloned()));
        let unknown_limit =
            limit.filter(|l| self.state.limit_max(&LimitKey::Named(l.clone())).is_none());
        if !foreign && unknown_limit.is_none() {
            return None;
        }
        let job = self.state.name(i);
        if foreign {
            return Some(JobError::ForeignInput { job });
        }
        let msg = format!(
            "it counts against limit '{}', which the flow does not define (call Flow::limit first)",
            unknown_limit?
        );
        Some(JobError::Failed {
            job,
            source: Arc::from(BoxError::from(msg)),
        })
    }

    fn push_ready(&mut self, index: usize) {
        let priority = self.state.node(index, |n| n.priority());
        self.push_ready_with(index, priority);
    }

    fn push_ready_with(&mut self, index: usize, priority: i32) {
        // A job becomes ready at most once per run, so the count stays below 2^32.
        self.next_order += 1;
        let ready = Ready::new(priority, self.jobs[index].chain, self.next_order, index);
        self.ready.push(ready);
    }

    /// One wake-up of the driver: take in what happened, start what can start.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Report> {
        self.state.set_driver(cx.waker());
        self.clock = Instant::now();
        let remote = self.remote.clone();
        Progress::idle_scope(&remote, || loop {
            let inbox = self.remote.take();
            let completions = self.state.take_completions();
            let freed = self.free_pool_slots();
            let idle = completions.is_empty() && inbox_is_empty(&inbox) && !freed;
            self.apply_inbox(inbox, completions);
            self.start_ready();
            if idle && !self.remote.has_mail() {
                break;
            }
        });
        self.aborting
            .retain_mut(|h| Pin::new(h).poll(cx).is_pending());
        // A job cleaning up after itself (stopping its remote work) holds the run open.
        if self.remaining > 0 || !self.aborting.is_empty() || self.state.remote().is_held() {
            return Poll::Pending;
        }
        Poll::Ready(self.state.end_run(self.started))
    }

    /// Takes in progress (reported while the jobs ran), then outcomes, then cancels: an
    /// outcome already produced wins over a cancel handled in the same wake-up, so a job
    /// whose result is stored is never reported as cancelled.
    fn apply_inbox(&mut self, inbox: Inbox, completions: Vec<(usize, Outcome)>) {
        for (i, fraction, message) in inbox.progress {
            self.state.record_progress(i, fraction, message);
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

    fn cancel(&mut self, i: usize) {
        if i >= self.jobs.len() {
            // Declared during this run: not part of it, so just settle it.
            if i < self.state.len() {
                self.remaining -= self.state.settle(i, Outcome::Cancelled).ended_in_run;
            }
            return;
        }
        self.abort_task(i);
        self.finish(i, Outcome::Cancelled);
    }

    /// Every unfinished job becomes cancelled (not upstream-failed: nothing failed).
    fn cancel_all(&mut self) {
        let n = self.state.len().min(self.jobs.len());
        for i in 0..n {
            if !self.state.node(i, |n| n.status().is_terminal()) {
                self.abort_task(i);
                self.release(i);
                self.remaining -= self.state.settle(i, Outcome::FlowCancelled).ended_in_run;
            }
        }
    }

    fn abort_task(&mut self, i: usize) {
        if let Some(task) = self.take_task(i) {
            task.abort();
            self.aborting.push(task);
        }
    }

    /// Settles job `i`, frees its slots, and counts down the dependents `settle` hands
    /// back (those of a job that just became `Done`). Its task, if any, has returned
    /// or was aborted: its handle goes.
    fn finish(&mut self, i: usize, outcome: Outcome) {
        self.finish_at(i, outcome, Instant::now());
    }

    /// [`finish`](Scheduler::finish), at `now` (also the clock's latest reading).
    fn finish_at(&mut self, i: usize, outcome: Outcome, now: Instant) {
        self.clock = now;
        self.release(i);
        self.take_task(i);
        let mut done_for = std::mem::take(&mut self.done_for);
        self.remaining -= (self.state).settle_into(i, outcome, now, &mut done_for);
        for d in done_for.drain(..) {
            self.input_done(d);
        }
        self.done_for = done_for;
    }

    /// Job `i`'s task, if it has one (most have none: no map lookup then).
    fn take_task(&mut self, i: usize) -> Option<JoinHandle<()>> {
        if self.tasks.is_empty() {
            return None;
        }
        self.tasks.remove(&i)
    }

    /// One input of job `d` is done. Only the run's jobs that wait for inputs have a
    /// count above zero (a job whose inputs are all done is ready already), so others are
    /// passed over without reading their node; the node is read once the count reaches
    /// zero, to skip a job that ended meanwhile (skipped or cancelled).
    fn input_done(&mut self, d: usize) {
        let Some(waiting) = (self.jobs.get_mut(d).map(|j| &mut j.waiting_on)).filter(|w| **w > 0)
        else {
            return; // not part of this run (declared during it, or not needed by it)
        };
        *waiting -= 1;
        if *waiting > 0 {
            return;
        }
        let (pending, priority) = (self.state).node(d, |n| {
            (n.in_run() && n.status() == JobStatus::Pending, n.priority())
        });
        if pending {
            self.push_ready_with(d, priority);
        }
    }

    /// Starts ready jobs while the flow-wide limit allows. Stops early when a request
    /// (a cancel, say, made by an observer of a job that just ran inline) waits in the
    /// inbox, so that it is applied before anything else starts.
    fn start_ready(&mut self) {
        let max_running = self.state.max_running();
        while self.running < max_running && !self.remote.has_mail() {
            let Some(next) = self.ready.pop() else { return };
            let i = next.index();
            let (pending, unlimited) = self
                .state
                .node(i, |n| (n.status() == JobStatus::Pending, n.has_no_limit()));
            if !pending {
                // Cancelled while it waited: a turn a limit queue gave it goes on.
                for l in self.limits_of(i) {
                    self.hand_on(l);
                }
                continue;
            }
            if unlimited {
                self.launch(i, Holds::Slot);
                continue;
            }
            match self.full_limit(i) {
                Some(limit) => self.limit_queue.entry(limit).or_default().push(next),
                None => self.launch(i, Holds::SlotAndLimits),
            }
        }
    }

    /// The job's limits: its named one, and the pool's for blocking jobs.
    fn limits_of(&self, i: usize) -> LimitKeys {
        self.state.node(i, |n| n.limit_keys())
    }

    fn full_limit(&self, i: usize) -> Option<LimitKey> {
        self.limits_of(i).find(|l| {
            let used = self.limit_used.get(l).copied().unwrap_or(0);
            used >= self.state.limit_max(l).unwrap_or(usize::MAX)
        })
    }

    fn launch(&mut self, i: usize, holds: Holds) {
        if holds == Holds::SlotAndLimits {
            for l in self.limits_of(i) {
                *self.limit_used.entry(l).or_default() += 1;
            }
        }
        self.jobs[i].holds = holds;
        self.running += 1;
        let (body, inline) = self.state.start_at(i, self.clock);
        // Cheap glue with nothing to time or retry runs right here: no task needed.
        if inline {
            self.progress.set_job(i);
            if let Some(result) = body.run_now(&self.progress) {
                let now = Instant::now();
                drop(body); // unless a handle or a dependent keeps it, its closure goes now
                let outcome = result.map_or_else(
                    |e| Outcome::Failed(job_error(&self.state.name(i), e)),
                    |()| Outcome::Done,
                );
                return self.finish_at(i, outcome, now);
            }
        }
        let spec = self.state.node(i, |n| n.spec());
        let task = crate::spawn(run_job(self.state.clone(), i, body, spec));
        self.tasks.insert(i, task);
    }

    /// Gives back job `i`'s slots; the best job queued on each freed limit gets in line.
    /// A pool slot whose worker still runs an abandoned attempt is given back later,
    /// when that worker is done ([`free_pool_slots`](Scheduler::free_pool_slots)).
    fn release(&mut self, i: usize) {
        let holds = std::mem::replace(&mut self.jobs[i].holds, Holds::Nothing);
        if holds == Holds::Nothing {
            return;
        }
        self.running -= 1;
        if holds == Holds::Slot {
            return;
        }
        for l in self.limits_of(i) {
            if l == LimitKey::Pool && self.state.owe_pool_slot(i) {
                continue;
            }
            self.give_back(l);
        }
    }

    fn give_back(&mut self, l: LimitKey) {
        if let Some(used) = self.limit_used.get_mut(&l) {
            *used = used.saturating_sub(1);
        }
        self.hand_on(l);
    }

    /// Gives back the pool slots of ended jobs whose workers have now finished.
    fn free_pool_slots(&mut self) -> bool {
        let freed = self.state.take_freed_pool_slots();
        for _ in 0..freed {
            self.give_back(LimitKey::Pool);
        }
        freed > 0
    }

    /// Moves the best pending job queued on limit `l` back in line. Jobs cancelled while
    /// they queued are dropped instead, and hand on in turn the turns they may hold on
    /// their other limits; otherwise a free slot could be left with jobs queued on it.
    fn hand_on(&mut self, l: LimitKey) {
        let mut limits = vec![l];
        while let Some(l) = limits.pop() {
            while let Some(next) = self.limit_queue.get_mut(&l).and_then(BinaryHeap::pop) {
                if self
                    .state
                    .node(next.index(), |n| n.status() == JobStatus::Pending)
                {
                    self.ready.push(next);
                    break;
                }
                let others = self.limits_of(next.index()).filter(|m| *m != l);
                limits.extend(others);
            }
        }
    }
}

fn inbox_is_empty(inbox: &Inbox) -> bool {
    !inbox.cancel_all && inbox.cancel.is_empty() && inbox.progress.is_empty()
}

/// Each job's chain length: the jobs on the longest path from it to a sink. Inputs are
/// declared before their dependents, so a reverse sweep sees every dependent before the
/// job itself.
fn chains(state: &FlowState) -> Vec<u32> {
    let graph = state.graph();
    let n = graph.len();
    let mut chain = vec![1u32; n];
    for i in (0..n).rev() {
        let longest = graph.dependents(i).map(|d| chain[d]).max().unwrap_or(0);
        chain[i] = longest + 1;
    }
    chain
}
