//! A job with retries runs its body again after a failed attempt, up to its budget,
//! only for the errors its policy accepts; panics are not retried by default.

mod flow_util;

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use flow_util::{fail, record, watchdog, Seen};
use taskloop::flow::{Backoff, Flow, JobError, JobStatus};

fn fast() -> Backoff {
    Backoff::fixed(Duration::from_millis(1))
}

#[test]
fn a_job_that_fails_twice_succeeds_on_the_third_attempt() {
    watchdog(|| {
        let mut flow = Flow::new();
        let events = record(&mut flow);
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let flaky = flow
            .try_job("flaky", move || {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                if n < 3 {
                    return Err(fail(format!("attempt {n} failed")).into());
                }
                Ok(n)
            })
            .retries(5)
            .backoff(fast());

        assert!(flow.run().is_success());
        assert_eq!(*flaky.result().unwrap(), 3);
        assert_eq!(flaky.attempts(), 3);
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let retrying: Vec<_> = events
            .borrow()
            .iter()
            .filter_map(|s| match s {
                Seen::Retrying(_, attempt, error) => Some((*attempt, error.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(retrying.len(), 2, "{retrying:?}");
        assert_eq!(retrying[0].0, 1);
        assert!(retrying[0].1.contains("attempt 1 failed"), "{retrying:?}");
        assert_eq!(retrying[1].0, 2);
        assert!(retrying[1].1.contains("attempt 2 failed"), "{retrying:?}");
    });
}

#[test]
fn an_exhausted_retry_budget_fails_with_the_last_error() {
    watchdog(|| {
        let mut flow = Flow::new();
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let doomed = flow
            .try_job_async("doomed", (), move |()| {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                async move { Err::<(), _>(fail(format!("attempt {n} failed")).into()) }
            })
            .retries(2)
            .backoff(fast());
        let after = flow.job_after("after", &doomed, |_| ());

        flow.run();

        assert_eq!(doomed.status(), JobStatus::Failed);
        assert_eq!(doomed.attempts(), 3);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let err = doomed.result().unwrap_err();
        assert!(matches!(err, JobError::Failed { .. }), "{err:?}");
        assert!(err.to_string().contains("attempt 3 failed"), "{err}");
        assert_eq!(after.status(), JobStatus::UpstreamFailed);
    });
}

#[test]
fn retry_if_retries_only_the_errors_it_accepts() {
    watchdog(|| {
        let mut flow = Flow::new();
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        // First a transient error (retried), then a permanent one (not retried).
        let job = flow
            .try_job("upload", move || {
                let kind = match counter.fetch_add(1, Ordering::SeqCst) {
                    0 => io::ErrorKind::Interrupted,
                    _ => io::ErrorKind::PermissionDenied,
                };
                Err::<(), _>(io::Error::new(kind, "upload refused").into())
            })
            .retries(5)
            .backoff(fast())
            .retry_if(|e| match e {
                JobError::Failed { source, .. } => source
                    .downcast_ref::<io::Error>()
                    .is_some_and(|io| io.kind() == io::ErrorKind::Interrupted),
                _ => false,
            });

        flow.run();

        assert_eq!(job.status(), JobStatus::Failed);
        assert_eq!(job.attempts(), 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let err = job.result().unwrap_err();
        let JobError::Failed { source, .. } = &err else {
            panic!("{err:?}")
        };
        let io = source.downcast_ref::<io::Error>().unwrap();
        assert_eq!(io.kind(), io::ErrorKind::PermissionDenied);
    });
}

#[test]
fn panics_are_not_retried_by_default() {
    watchdog(|| {
        let mut flow = Flow::new();
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let job = flow
            .job("buggy", move || -> u32 {
                counter.fetch_add(1, Ordering::SeqCst);
                panic!("index out of range");
            })
            .retries(3)
            .backoff(fast());

        flow.run();

        assert_eq!(job.status(), JobStatus::Failed);
        assert_eq!(job.attempts(), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(matches!(job.result(), Err(JobError::Panicked { .. })));
    });
}

#[test]
fn a_job_without_retries_runs_once() {
    watchdog(|| {
        let mut flow = Flow::new();
        let events = record(&mut flow);
        let job = flow.try_job("once", || Err::<(), _>(fail("no").into()));
        flow.run();
        assert_eq!(job.attempts(), 1);
        let retried = events
            .borrow()
            .iter()
            .any(|s| matches!(s, Seen::Retrying(..)));
        assert!(!retried);
    });
}
