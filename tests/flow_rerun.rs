//! A flow can grow and run again, as in a notebook: jobs finished by an earlier run keep
//! their results and are not run again. `Job::wait` runs only what that job needs.

mod flow_util;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use flow_util::watchdog;
use taskloop::flow::{Flow, Job, JobStatus};

/// Counts how many times each body ran.
#[derive(Clone, Default)]
struct Calls(Arc<AtomicU32>);

impl Calls {
    fn job(&self, flow: &mut Flow, name: &str, value: u32) -> Job<u32> {
        let calls = self.0.clone();
        flow.job(name, move || {
            calls.fetch_add(1, Ordering::SeqCst);
            value
        })
    }

    fn get(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

#[test]
fn a_second_run_runs_only_the_new_jobs() {
    watchdog(|| {
        let mut flow = Flow::new();
        let (old, new) = (Calls::default(), Calls::default());
        let a = old.job(&mut flow, "a", 1);
        let b = old.job(&mut flow, "b", 2);
        assert!(flow.run().is_success());
        assert_eq!(old.get(), 2);

        let c = new.job(&mut flow, "c", 3);
        let counter = new.0.clone();
        let sum = flow.job_after("sum", (&a, &b, &c), move |(a, b, c)| {
            counter.fetch_add(1, Ordering::SeqCst);
            *a + *b + *c
        });
        let report = flow.run();

        assert!(report.is_success());
        assert_eq!(old.get(), 2, "a finished job ran again");
        assert_eq!(new.get(), 2);
        assert_eq!(*sum.result().unwrap(), 6);
        assert_eq!(*a.result().unwrap(), 1);
        let this_run: Vec<&str> = report
            .jobs
            .iter()
            .filter(|j| j.in_this_run)
            .map(|j| j.name.as_str())
            .collect();
        assert_eq!(this_run, ["c", "sum"]);
    });
}

#[test]
fn running_a_finished_flow_again_runs_nothing() {
    watchdog(|| {
        let mut flow = Flow::new();
        let calls = Calls::default();
        let a = calls.job(&mut flow, "a", 1);
        flow.run();
        let report = flow.run();
        assert_eq!(calls.get(), 1);
        assert_eq!(*a.result().unwrap(), 1);
        assert!(report.jobs.iter().all(|j| !j.in_this_run));
    });
}

#[test]
fn wait_runs_only_what_the_job_needs() {
    watchdog(|| {
        let mut flow = Flow::new();
        let (needed, unrelated) = (Calls::default(), Calls::default());
        let a = needed.job(&mut flow, "a", 1);
        let b = flow.job_after("b", &a, |a| *a * 10);
        let other = unrelated.job(&mut flow, "other", 7);
        let after_b = flow.job_after("after b", &b, |b| *b + 1);

        assert_eq!(*b.wait().unwrap(), 10);

        assert_eq!(needed.get(), 1);
        assert_eq!(unrelated.get(), 0);
        assert_eq!(other.status(), JobStatus::Pending);
        assert_eq!(after_b.status(), JobStatus::Pending);

        // Waiting again returns the same result without running anything.
        assert_eq!(*b.wait().unwrap(), 10);
        assert_eq!(needed.get(), 1);

        // A full run then runs just the rest.
        assert!(flow.run().is_success());
        assert_eq!((needed.get(), unrelated.get()), (1, 1));
        assert_eq!(*after_b.result().unwrap(), 11);
    });
}

#[test]
fn a_result_asked_for_before_any_run_is_not_run_yet() {
    watchdog(|| {
        let mut flow = Flow::new();
        let a = flow.job("a", || 1);
        let err = a.result().unwrap_err();
        assert!(
            matches!(err, taskloop::flow::JobError::NotRun { .. }),
            "{err:?}"
        );
        assert_eq!(a.status(), JobStatus::Pending);
    });
}
