//! A failed job fails its dependents without starting them: each is upstream-failed,
//! its error names the root job and carries the root's error text. Jobs that do not
//! depend on the failure still finish.

mod flow_util;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use flow_util::{fail, watchdog};
use taskloop::flow::{Flow, Job, JobError, JobStatus};

/// Declares a job after `input` that sets `ran` if its body is ever called.
fn dependent(flow: &mut Flow, name: &str, input: &Job<u32>, ran: &Arc<AtomicBool>) -> Job<u32> {
    let ran = ran.clone();
    flow.job_after(name, input, move |v| {
        ran.store(true, Ordering::SeqCst);
        *v + 1
    })
}

/// Asserts `job` was skipped because of `root`, whose error said `text`.
fn assert_skipped_by<T>(job: &Job<T>, root: &str, text: &str) {
    assert_eq!(job.status(), JobStatus::UpstreamFailed);
    assert_eq!(job.attempts(), 0);
    let err = job.result().err().expect("a skipped job has no result");
    match &err {
        JobError::UpstreamFailed { job: name, root: r } => {
            assert_eq!(name, &job.name());
            assert_eq!(r.job(), root);
            assert!(matches!(**r, JobError::Failed { .. }), "{r:?}");
        }
        other => panic!("expected UpstreamFailed, got {other:?}"),
    }
    let shown = err.to_string();
    assert!(shown.contains(root) && shown.contains(text), "{shown}");
}

#[test]
fn a_failure_skips_the_rest_of_a_chain() {
    watchdog(|| {
        let mut flow = Flow::new();
        let ran = Arc::new(AtomicBool::new(false));
        let load = flow.job("load", || 1u32);
        let clean = flow.try_job_after("clean", &load, |_| {
            Err::<u32, _>(fail("train.csv is missing").into())
        });
        let train = dependent(&mut flow, "train", &clean, &ran);
        let score = dependent(&mut flow, "score", &train, &ran);

        let report = flow.run();

        assert!(!ran.load(Ordering::SeqCst), "a skipped body ran");
        assert_eq!(load.status(), JobStatus::Done);
        assert_eq!(clean.status(), JobStatus::Failed);
        assert_skipped_by(&train, "clean", "train.csv is missing");
        assert_skipped_by(&score, "clean", "train.csv is missing");
        assert_eq!(report.count(JobStatus::UpstreamFailed), 2);
        assert!(report.job("score").unwrap().started.is_none());
    });
}

#[test]
fn a_failure_in_a_diamond_skips_the_join_but_not_the_other_branch() {
    watchdog(|| {
        //      top
        //     /   \
        //  left   right (fails)
        //     \   /
        //      join        solo (independent)
        let mut flow = Flow::new();
        let ran = Arc::new(AtomicBool::new(false));
        let top = flow.job("top", || 1u32);
        let left = flow.job_after("left", &top, |t| *t + 1);
        let right = flow.try_job_after("right", &top, |_| {
            Err::<u32, _>(fail("right side exploded").into())
        });
        let join_ran = ran.clone();
        let join = flow.job_after("join", (&left, &right), move |(l, r)| {
            join_ran.store(true, Ordering::SeqCst);
            *l + *r
        });
        let after_join = dependent(&mut flow, "after join", &join, &ran);
        let solo = flow.job("solo", || 7u32);
        let after_solo = flow.job_after("after solo", &solo, |s| *s * 2);

        let report = flow.run();

        assert!(!ran.load(Ordering::SeqCst), "a skipped body ran");
        assert_eq!(*left.result().unwrap(), 2);
        assert_eq!(right.status(), JobStatus::Failed);
        assert_skipped_by(&join, "right", "right side exploded");
        assert_skipped_by(&after_join, "right", "right side exploded");
        assert_eq!(*after_solo.result().unwrap(), 14);
        assert_eq!(report.count(JobStatus::Done), 4);
        assert_eq!(report.count(JobStatus::Failed), 1);
        assert_eq!(report.count(JobStatus::UpstreamFailed), 2);
    });
}

#[test]
fn the_root_error_keeps_the_bodys_own_error() {
    watchdog(|| {
        let mut flow = Flow::new();
        let load = flow.try_job("load", || {
            let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
            Err::<u32, _>(missing.into())
        });
        let train = flow.job_after("train", &load, |v| *v);
        flow.run();
        let err = train.result().unwrap_err();
        let JobError::Failed { source, .. } = err.root() else {
            panic!("the root should be load's failure: {err:?}");
        };
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("an io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        assert!(!err.is_cancelled());
    });
}

#[test]
fn an_input_that_failed_in_an_earlier_run_skips_a_job_declared_later() {
    watchdog(|| {
        let mut flow = Flow::new();
        let ran = Arc::new(AtomicBool::new(false));
        let bad = flow.try_job("bad", || Err::<u32, _>(fail("bad data").into()));
        flow.run();
        let late = dependent(&mut flow, "late", &bad, &ran);
        let report = flow.run();
        assert!(!ran.load(Ordering::SeqCst));
        assert_skipped_by(&late, "bad", "bad data");
        assert!(report.job("late").unwrap().in_this_run);
    });
}
