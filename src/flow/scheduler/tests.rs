//! The scheduler's decisions, one wake-up at a time: which ready job starts first
//! (priority, then the longest chain of dependents, then the first ready), and what the
//! named limits and the pool limit let start.
//!
//! The jobs are idle: their tasks are never polled, and each test reports outcomes
//! itself (`FlowState::complete`) before the next turn.

use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::Scheduler;
use crate::flow::state::testing::{add, record_ends};
use crate::flow::state::{FlowState, Outcome, WorkerLease};
use crate::flow::status::JobStatus;
use crate::flow::Report;
use crate::Runtime;

/// Runs `test` with a scheduler started on `state`, inside a runtime (so launched jobs
/// can be spawned; they never run).
fn with_scheduler(state: FlowState, test: impl FnOnce(&mut Scheduler)) {
    let rt = Runtime::new().unwrap();
    rt.block_on(async move {
        let mut scheduler = Scheduler::start(Rc::new(state), None);
        test(&mut scheduler);
    });
}

impl Scheduler {
    /// One wake-up of the driver.
    fn turn(&mut self) -> Poll<Report> {
        self.poll(&mut Context::from_waker(Waker::noop()))
    }

    /// The names of the jobs running now, in declaration order.
    fn running_jobs(&self) -> Vec<String> {
        (0..self.state.len())
            .filter(|&i| self.state.node(i, |n| n.status() == JobStatus::Running))
            .map(|i| self.state.node(i, |n| n.name().to_string()))
            .collect()
    }

    /// Reports that job `name` succeeded, and takes a turn.
    fn done(&mut self, name: &str) -> Poll<Report> {
        let i = (0..self.state.len())
            .find(|&i| self.state.node(i, |n| n.name() == name))
            .unwrap();
        self.state.complete(i, Outcome::Done);
        self.turn()
    }

    /// With one job running at a time: the order in which the jobs start.
    fn start_order(&mut self) -> Vec<String> {
        let mut order = Vec::new();
        let mut turn = self.turn();
        while turn.is_pending() {
            let running = self.running_jobs();
            assert_eq!(running.len(), 1, "{running:?}");
            order.push(running[0].clone());
            turn = self.done(&running[0]);
        }
        order
    }
}

#[test]
fn ready_jobs_start_by_priority_then_longest_chain_then_first_ready() {
    let state = FlowState::new(1, 4, 1);
    add(&state, "first", &[], false);
    let long = add(&state, "long", &[], false);
    let long2 = add(&state, "long2", &[long], false);
    add(&state, "long3", &[long2], false);
    let urgent = add(&state, "urgent", &[], false);
    add(&state, "second", &[], false);
    let low = add(&state, "low", &[], false);
    state.configure(urgent, |s| s.priority = 5);
    state.configure(low, |s| s.priority = -1);
    with_scheduler(state, |s| {
        // `long2` (chain 2) passes `first` and `second` (chain 1) when it becomes
        // ready; `long3` (chain 1) becomes ready after them, so it goes after them.
        let expected = ["urgent", "long", "long2", "first", "second", "long3", "low"];
        assert_eq!(s.start_order(), expected);
    });
}

#[test]
fn a_named_limit_queues_its_jobs_and_hands_the_slot_on_by_rank() {
    let state = FlowState::new(1, 4, usize::MAX);
    state.define_limit("gpu", 1);
    for name in ["gpu-a", "gpu-b", "gpu-c"] {
        let i = add(&state, name, &[], false);
        state.configure(i, |s| s.limit = Some(Rc::from("gpu")));
    }
    state.configure(2, |s| s.priority = 1);
    add(&state, "free", &[], false);
    with_scheduler(state, |s| {
        assert!(s.turn().is_pending());
        assert_eq!(s.running_jobs(), ["gpu-c", "free"]);
        assert!(s.done("gpu-c").is_pending());
        assert_eq!(s.running_jobs(), ["gpu-a", "free"]);
        assert!(s.done("gpu-a").is_pending());
        assert_eq!(s.running_jobs(), ["gpu-b", "free"]);
    });
}

#[test]
fn blocking_jobs_count_against_the_pool_and_others_do_not() {
    let state = FlowState::new(1, 2, usize::MAX);
    for name in ["pool-a", "pool-b", "pool-c"] {
        add(&state, name, &[], true);
    }
    add(&state, "async", &[], false);
    with_scheduler(state, |s| {
        assert!(s.turn().is_pending());
        assert_eq!(s.running_jobs(), ["pool-a", "pool-b", "async"]);
        assert!(s.done("pool-b").is_pending());
        assert_eq!(s.running_jobs(), ["pool-a", "pool-c", "async"]);
    });
}

#[test]
fn a_user_limit_named_like_the_pool_is_only_a_user_limit() {
    // Before the pool limit had a kind of its own, this name replaced it.
    let state = FlowState::new(1, 2, usize::MAX);
    state.define_limit("taskloop:blocking-pool", 1);
    for name in ["pool-a", "pool-b"] {
        add(&state, name, &[], true);
    }
    for name in ["tagged-a", "tagged-b"] {
        let i = add(&state, name, &[], false);
        state.configure(i, |s| s.limit = Some(Rc::from("taskloop:blocking-pool")));
    }
    with_scheduler(state, |s| {
        assert!(s.turn().is_pending());
        assert_eq!(s.running_jobs(), ["pool-a", "pool-b", "tagged-a"]);
        assert!(s.done("tagged-a").is_pending());
        assert_eq!(s.running_jobs(), ["pool-a", "pool-b", "tagged-b"]);
    });
}

#[test]
fn a_pool_slot_comes_back_only_when_its_worker_is_free() {
    let state = FlowState::new(1, 1, usize::MAX);
    add(&state, "abandoned", &[], true);
    add(&state, "next", &[], true);
    with_scheduler(state, |s| {
        assert!(s.turn().is_pending());
        assert_eq!(s.running_jobs(), ["abandoned"]);
        // Its worker is still busy when the job ends (say, it timed out).
        let lease = WorkerLease::new(&s.state, 0);
        assert!(s.done("abandoned").is_pending());
        assert!(s.running_jobs().is_empty());
        drop(lease);
        assert!(s.turn().is_pending());
        assert_eq!(s.running_jobs(), ["next"]);
    });
}

#[test]
fn an_outcome_wins_over_a_cancel_in_the_same_wake_up() {
    let state = FlowState::new(1, 4, usize::MAX);
    let ends = record_ends(&state);
    let a = add(&state, "a", &[], false);
    add(&state, "b", &[a], false);
    with_scheduler(state, |s| {
        assert!(s.turn().is_pending());
        s.state.complete(a, Outcome::Done);
        s.state.cancel_job(a); // during a run: through the inbox
        assert!(s.turn().is_pending());
        assert_eq!(s.state.node(a, |n| n.status()), JobStatus::Done);
        assert_eq!(s.running_jobs(), ["b"], "counted down once, started once");
        assert!(s.done("b").is_ready());
    });
    let ends = ends.borrow();
    let names: Vec<&str> = ends.iter().map(|e| e.job.as_str()).collect();
    assert_eq!(names, ["a", "b"], "one Finished event per job");
    assert!(ends.iter().all(|e| e.status == JobStatus::Done));
}

#[test]
fn a_job_whose_input_already_failed_is_skipped_when_queued() {
    let state = FlowState::new(1, 4, usize::MAX);
    let a = add(&state, "a", &[], false);
    let _ = state.settle(a, Outcome::Cancelled); // between runs
    add(&state, "b", &[a], false);
    with_scheduler(state, |s| {
        assert!(s.turn().is_ready());
        let error = s.state.node(1, |n| n.error().cloned()).unwrap();
        assert_eq!(s.state.node(1, |n| n.status()), JobStatus::UpstreamFailed);
        assert_eq!(error.root().job(), "a");
    });
}
