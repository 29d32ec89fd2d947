//! Settling: a terminal status is final, a failure skips everything downstream naming
//! the root job, dependents are handed back once, and observers hear of each end once.

use std::io;
use std::sync::Arc;
use std::time::Instant;

use super::settle::Settled;
use super::testing::{add, record_ends, Ended};
use super::*;

fn status(state: &FlowState, i: usize) -> JobStatus {
    state.node(i, |n| n.status())
}

fn failure(job: &str) -> JobError {
    JobError::Failed {
        job: job.to_string(),
        source: Arc::new(io::Error::other("boom")),
    }
}

/// `a` feeds `b` and `d`; `b` feeds `c`; `e` stands alone.
fn diamond_free_chain() -> FlowState {
    let state = FlowState::new(1, 2, usize::MAX);
    let a = add(&state, "a", &[], false);
    let b = add(&state, "b", &[a], false);
    add(&state, "c", &[b], false);
    add(&state, "d", &[a], true);
    add(&state, "e", &[], false);
    state
}

fn ended(job: &str, status: JobStatus, root: Option<&str>) -> Ended {
    Ended {
        job: job.to_string(),
        status,
        root: root.map(str::to_string),
    }
}

#[test]
fn a_terminal_status_is_final() {
    let state = diamond_free_chain();
    let ends = record_ends(&state);
    let _ = state.start(0);
    let first = state.settle(0, Outcome::Done);
    assert_eq!(first.inputs_done_for, [1, 3]);
    for late in [
        Outcome::Failed(failure("a")),
        Outcome::Cancelled,
        Outcome::Done,
    ] {
        assert_eq!(state.settle(0, late), Settled::default());
    }
    assert_eq!(status(&state, 0), JobStatus::Done);
    assert!(state.node(0, |n| n.error().is_none()));
    assert_eq!(*ends.borrow(), [ended("a", JobStatus::Done, None)]);
}

#[test]
fn a_cancel_after_an_outcome_arrived_does_not_override_it() {
    let state = diamond_free_chain();
    let _ = state.start(4);
    let _ = state.settle(4, Outcome::Failed(failure("e")));
    let _ = state.settle(4, Outcome::Cancelled);
    state.cancel_job(4); // between runs: settles directly, and finds it ended
    assert_eq!(status(&state, 4), JobStatus::Failed);
    assert!(state.node(4, |n| !n.error().unwrap().is_cancelled()));
}

#[test]
fn a_failure_skips_every_dependent_transitively_naming_the_root() {
    let state = diamond_free_chain();
    let ends = record_ends(&state);
    let _ = state.start(0);
    let settled = state.settle(0, Outcome::Failed(failure("a")));
    assert!(settled.inputs_done_for.is_empty());
    let statuses: Vec<JobStatus> = (0..5).map(|i| status(&state, i)).collect();
    use JobStatus::*;
    assert_eq!(
        statuses,
        [
            Failed,
            UpstreamFailed,
            UpstreamFailed,
            UpstreamFailed,
            Pending
        ]
    );
    for i in 1..4 {
        let error = state.node(i, |n| n.error().cloned()).unwrap();
        let name = state.node(i, |n| n.name().to_string());
        assert_eq!(error.job(), name);
        assert_eq!(error.root().job(), "a", "{error}");
        assert!(error.to_string().contains("boom"), "{error}");
        assert_eq!(state.node(i, |n| n.attempts()), 0);
    }
    let mut ends = ends.borrow().clone();
    assert_eq!(ends.remove(0), ended("a", Failed, Some("a")));
    ends.sort_by(|x, y| x.job.cmp(&y.job));
    let skipped = ["b", "c", "d"].map(|j| ended(j, UpstreamFailed, Some("a")));
    assert_eq!(ends, skipped);
}

#[test]
fn a_skipped_job_skips_its_own_dependents_with_the_same_root() {
    let state = diamond_free_chain();
    let _ = state.settle(1, Outcome::UpstreamFailed(failure("root")));
    assert_eq!(status(&state, 1), JobStatus::UpstreamFailed);
    assert_eq!(status(&state, 2), JobStatus::UpstreamFailed);
    let root = state.node(2, |n| n.error().unwrap().root().job().to_string());
    assert_eq!(root, "root");
    assert_eq!(
        status(&state, 0),
        JobStatus::Pending,
        "inputs are untouched"
    );
}

#[test]
fn a_cancelled_job_skips_its_dependents_but_a_cancelled_flow_does_not() {
    let state = diamond_free_chain();
    let _ = state.settle(1, Outcome::Cancelled);
    assert_eq!(status(&state, 1), JobStatus::Cancelled);
    assert_eq!(status(&state, 2), JobStatus::UpstreamFailed);
    assert!(state.node(2, |n| n.error().unwrap().is_cancelled()));

    let _ = state.settle(0, Outcome::FlowCancelled);
    assert_eq!(status(&state, 0), JobStatus::Cancelled);
    assert_eq!(
        status(&state, 3),
        JobStatus::Pending,
        "left to be cancelled in turn"
    );
}

#[test]
fn only_jobs_of_the_run_count_as_ended_in_it() {
    let state = diamond_free_chain();
    let plan = state.begin_run(Some(1), Instant::now());
    assert_eq!(plan.jobs, [0, 1]);
    let _ = state.start(0);
    // `a` and `b` are in the run; `c` and `d`, skipped with them, are not.
    let settled = state.settle(0, Outcome::Failed(failure("a")));
    assert_eq!(settled.ended_in_run, 2);
    let report = state.end_run(Instant::now());
    assert!(report.jobs.iter().take(4).all(|j| j.in_this_run));
    assert!(!report.jobs[4].in_this_run);
}

#[test]
#[should_panic(expected = "a job starts only once")]
fn an_ended_job_cannot_start() {
    let state = diamond_free_chain();
    let _ = state.settle(4, Outcome::Cancelled);
    let _ = state.start(4);
}

#[test]
fn an_ended_job_records_no_late_attempt_or_progress() {
    let state = diamond_free_chain();
    let _ = state.start(4);
    state.attempt_started(4, 1);
    state.record_progress(4, 0.5, "half".into());
    let _ = state.settle(4, Outcome::Cancelled);
    state.attempt_started(4, 2);
    state.record_progress(4, 0.9, "late".into());
    assert_eq!(state.node(4, |n| n.attempts()), 1);
    assert_eq!(
        state.node(4, |n| n.progress().cloned()),
        Some((0.5, "half".into()))
    );
}

#[test]
fn a_pending_job_takes_settings_and_a_started_one_keeps_its_own() {
    let state = diamond_free_chain();
    state.configure(4, |s| s.priority = 3);
    let (_, spec) = state.start(4);
    assert_eq!(spec.priority, 3);
    state.configure(4, |s| s.priority = 9);
    assert_eq!(state.node(4, |n| n.spec().priority), 3);
}
