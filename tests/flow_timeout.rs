//! An attempt that outlives its job's timeout fails as timed out: an async body is
//! dropped at the deadline, a blocking body is left behind (the run does not wait for
//! it), and a timeout counts as a failed attempt that may be retried.

mod flow_util;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use flow_util::{drop_flag, watchdog, Gate};
use taskloop::flow::{Backoff, Flow, JobError, JobStatus};

const TIMEOUT: Duration = Duration::from_millis(50);

#[test]
fn an_async_body_that_never_finishes_times_out_and_is_dropped() {
    watchdog(|| {
        let mut flow = Flow::new();
        let (flag, dropped) = drop_flag();
        let flag = std::cell::RefCell::new(Some(flag));
        let stuck = flow
            .job_async("stuck", (), move |()| {
                let flag = flag.borrow_mut().take();
                async move {
                    let _owned = flag;
                    std::future::pending::<()>().await
                }
            })
            .timeout(TIMEOUT);
        let after = flow.job_after("after", &stuck, |_| ());

        flow.run();

        assert_eq!(stuck.status(), JobStatus::Failed);
        match stuck.result() {
            Err(JobError::TimedOut { job, after }) => {
                assert_eq!(job, "stuck");
                assert_eq!(after, TIMEOUT);
            }
            other => panic!("expected TimedOut, got {other:?}"),
        }
        assert!(
            dropped.load(Ordering::SeqCst),
            "the timed-out future was kept"
        );
        assert_eq!(after.status(), JobStatus::UpstreamFailed);
    });
}

#[test]
fn a_blocking_body_past_its_timeout_does_not_hold_up_the_run() {
    watchdog(|| {
        // The body blocks until the test opens the gate, which it does only after run()
        // returned: if the run waited for the body, the watchdog would fail the test.
        let mut flow = Flow::new();
        let gate = Gate::new();
        let body_gate = gate.clone();
        let slow = flow
            .job("slow", move || {
                body_gate.wait();
                "too late"
            })
            .timeout(TIMEOUT);
        let other = flow.job("other", || 1);

        flow.run();

        assert!(!gate.is_open());
        assert!(
            matches!(slow.result(), Err(JobError::TimedOut { .. })),
            "{:?}",
            slow.result()
        );
        assert_eq!(*other.result().unwrap(), 1);
        gate.open();
        // The late result is discarded: the job stays timed out.
        assert_eq!(slow.status(), JobStatus::Failed);
    });
}

#[test]
fn a_timed_out_attempt_is_retried() {
    watchdog(|| {
        let mut flow = Flow::new();
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let job = flow
            .job_async("second time lucky", (), move |()| {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    if n == 1 {
                        std::future::pending::<()>().await;
                    }
                    n
                }
            })
            .timeout(TIMEOUT)
            .retries(1)
            .backoff(Backoff::fixed(Duration::from_millis(1)));

        assert!(flow.run().is_success());
        assert_eq!(*job.result().unwrap(), 2);
        assert_eq!(job.attempts(), 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn a_blocking_job_that_times_out_every_time_fails_after_its_retries() {
    watchdog(|| {
        let mut flow = Flow::new();
        let gate = Gate::new();
        let body_gate = gate.clone();
        let job = flow
            .job("hopeless", move || {
                body_gate.wait();
            })
            .timeout(TIMEOUT)
            .retries(2)
            .backoff(Backoff::fixed(Duration::from_millis(1)));

        flow.run();
        gate.open();

        assert!(matches!(job.result(), Err(JobError::TimedOut { .. })));
        assert_eq!(job.attempts(), 3);
    });
}
