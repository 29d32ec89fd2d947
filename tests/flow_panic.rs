//! A panic in a job body fails that job (as panicked, with the panic's message) and
//! skips its dependents; every other job still finishes. A panicking observer is dropped
//! and the run goes on.

mod flow_util;

use std::cell::Cell;
use std::rc::Rc;

use flow_util::{record, watchdog, Seen};
use taskloop::flow::{Event, Flow, JobError, JobStatus};

/// Asserts `result` is a panic of job `job` whose message contains `text`.
fn assert_panicked<T: std::fmt::Debug>(result: Result<T, JobError>, job: &str, text: &str) {
    match result {
        Err(JobError::Panicked { job: name, message }) => {
            assert_eq!(name, job);
            assert!(message.contains(text), "{message}");
        }
        other => panic!("expected {job} to have panicked, got {other:?}"),
    }
}

#[test]
fn a_panic_in_any_kind_of_body_fails_only_that_job() {
    watchdog(|| {
        let mut flow = Flow::new();
        let blocking = flow.job("blocking", || -> u8 { panic!("worker blew up: {}", 1) });
        let in_async = flow.job_async("async", (), |()| async {
            taskloop::yield_now().await;
            if true {
                panic!("future blew up: {}", 2);
            }
            0u8
        });
        let local = flow.job_local("local", (), |()| -> u8 { panic!("glue blew up: {}", 3) });
        let fine = flow.job("fine", || 4u8);
        let after = flow.job_after("after", &fine, |v| *v + 1);

        let report = flow.run();

        assert_panicked(blocking.result(), "blocking", "worker blew up: 1");
        assert_panicked(in_async.result(), "async", "future blew up: 2");
        assert_panicked(local.result(), "local", "glue blew up: 3");
        for job in ["blocking", "async", "local"] {
            assert_eq!(report.job(job).unwrap().status, JobStatus::Failed);
        }
        assert_eq!(*after.result().unwrap(), 5);
        assert_eq!(report.count(JobStatus::Done), 2);
    });
}

#[test]
fn the_dependents_of_a_panicked_job_are_skipped() {
    watchdog(|| {
        let mut flow = Flow::new();
        let bad = flow.job("bad", || -> u8 { panic!("bug in bad") });
        let after = flow.job_after("after", &bad, |v| *v);
        flow.run();
        let err = after.result().unwrap_err();
        assert_eq!(after.status(), JobStatus::UpstreamFailed);
        assert_panicked(Err::<(), _>(err.root().clone()), "bad", "bug in bad");
    });
}

#[test]
fn a_panicking_observer_does_not_break_the_run() {
    watchdog(|| {
        let mut flow = Flow::new();
        let calls = Rc::new(Cell::new(0));
        let count = calls.clone();
        flow.observe(move |e: &Event<'_>| {
            if matches!(e, Event::Started { .. }) {
                count.set(count.get() + 1);
                panic!("observer bug");
            }
        });
        let events = record(&mut flow);
        let a = flow.job("a", || 1);
        let b = flow.job_after("b", &a, |a| *a + 1);

        let report = flow.run();

        assert!(report.is_success(), "{report}");
        assert_eq!(*b.result().unwrap(), 2);
        // The panicking observer was dropped after its first panic ...
        assert_eq!(calls.get(), 1);
        // ... while the other one saw every event.
        let finished = events
            .borrow()
            .iter()
            .filter(|s| matches!(s, Seen::Finished(_, JobStatus::Done)))
            .count();
        assert_eq!(finished, 2);
    });
}

#[test]
fn run_inside_a_runtime_says_to_use_run_async() {
    let rt = taskloop::Runtime::new().unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            let mut flow = Flow::new();
            flow.job("a", || 1);
            flow.run()
        })
    }))
    .unwrap_err();
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(message.contains("flow.run_async().await"), "{message}");
    // The right way works on the same runtime.
    let report = rt.block_on(async {
        let mut flow = Flow::new();
        flow.job("a", || 1);
        flow.run_async().await
    });
    assert!(report.is_success());
}
