//! The report of a run: each job's status, attempts and error, the counts, whether the
//! run succeeded, the critical path, and a readable table.

mod flow_util;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use flow_util::{fail, watchdog, Gate};
use taskloop::flow::{Backoff, Event, Flow, JobError, JobStatus};

#[test]
fn the_report_counts_statuses_attempts_and_errors() {
    watchdog(|| {
        let mut flow = Flow::new();
        let ok = flow.job("ok", || 1);
        let broken = flow.try_job("broken", || Err::<u32, _>(fail("disk full").into()));
        flow.job_after("skipped", &broken, |v| *v);
        let stopped = flow.job("stopped", || 0);
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        flow.try_job_after("flaky", &ok, move |v| {
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(fail("try again").into());
            }
            Ok(*v)
        })
        .retries(3)
        .backoff(Backoff::fixed(Duration::from_millis(1)));
        flow.cancel_handle().cancel_job(stopped.id());

        let report = flow.run();

        assert!(!report.is_success());
        assert_eq!(report.count(JobStatus::Done), 2);
        assert_eq!(report.count(JobStatus::Failed), 1);
        assert_eq!(report.count(JobStatus::UpstreamFailed), 1);
        assert_eq!(report.count(JobStatus::Cancelled), 1);
        assert_eq!(report.count(JobStatus::Pending), 0);
        assert_eq!(report.job("flaky").unwrap().attempts, 2);
        assert_eq!(report.job("ok").unwrap().attempts, 1);
        assert_eq!(report.job("skipped").unwrap().attempts, 0);

        let errors: Vec<String> = report.errors().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("broken") && errors[0].contains("disk full"));
        assert!(errors[1].contains("skipped") && errors[1].contains("broken"));
        assert!(errors[2].contains("stopped"));
        let broken_err = report.job("broken").unwrap().error.as_ref().unwrap();
        assert!(matches!(broken_err, JobError::Failed { .. }));
        assert!(broken.result().is_err());

        let table = report.to_string();
        for name in ["ok", "broken", "skipped", "stopped", "flaky"] {
            assert!(table.contains(name), "{name} missing from\n{table}");
        }
        assert!(table.contains("disk full"), "{table}");
    });
}

#[test]
fn a_successful_run_reports_every_job_done_with_times() {
    watchdog(|| {
        let mut flow = Flow::new();
        let a = flow.job("a", || 1);
        flow.job_after("b", &a, |a| *a + 1);
        let report = flow.run();
        assert!(report.is_success());
        assert_eq!(report.count(JobStatus::Done), 2);
        assert_eq!(report.errors().count(), 0);
        for job in &report.jobs {
            assert!(job.in_this_run);
            let (started, finished) = (job.started.unwrap(), job.finished.unwrap());
            assert!(started <= finished);
            assert!(report.started <= started);
        }
        let (a, b) = (report.job("a").unwrap(), report.job("b").unwrap());
        assert!(a.finished.unwrap() <= b.started.unwrap());
    });
}

#[test]
fn the_critical_path_follows_the_input_that_finished_last() {
    watchdog(|| {
        // a → c ← b, and b cannot finish until a has: the path is b, c.
        let mut flow = Flow::new();
        let gate = Gate::new();
        let opener = gate.clone();
        let a = flow.job("a", || 1);
        let b = flow.job("b", move || {
            gate.wait();
            2
        });
        flow.job_after("c", (&a, &b), |(a, b)| *a + *b);
        flow.observe(move |e: &Event<'_>| {
            if matches!(e, Event::Finished { job, .. } if job.name == "a") {
                opener.open();
            }
        });
        let report = flow.run();
        assert_eq!(report.critical_path_names(), ["b", "c"]);
        assert!(report.to_string().contains("critical path: b -> c"));
    });
}

#[test]
fn the_critical_path_of_a_chain_is_the_whole_chain() {
    watchdog(|| {
        let mut flow = Flow::new();
        let x = flow.job_local("x", (), |()| 1);
        let y = flow.job_local("y", &x, |x| *x + 1);
        flow.job_local("z", &y, |y| *y + 1);
        flow.job_local("side", (), |()| 0);
        let report = flow.run();
        assert_eq!(report.critical_path_names(), ["x", "y", "z"]);
    });
}

#[test]
fn a_failed_run_names_the_path_to_its_first_failure() {
    watchdog(|| {
        // a (slow, fine) and b (fails at once) feed c: the run ends because of b, not a.
        let mut flow = Flow::new();
        let gate = Gate::new();
        let opener = gate.clone();
        let a = flow.job("a", move || {
            gate.wait();
            1
        });
        let b = flow.try_job("b", || Err::<u32, _>(fail("bad input").into()));
        flow.job_after("c", (&a, &b), |(a, b)| *a + *b);
        flow.observe(move |e: &Event<'_>| {
            if matches!(e, Event::Finished { job, .. } if job.name == "b") {
                opener.open();
            }
        });
        let report = flow.run();
        assert!(!report.is_success());
        assert_eq!(report.critical_path_names(), ["b"]);
        assert!(
            report.to_string().contains("critical path: b (failed)"),
            "{report}"
        );
    });
}

#[test]
fn a_run_in_which_nothing_ran_has_no_critical_path() {
    watchdog(|| {
        let mut flow = Flow::new();
        let a = flow.job("a", || 1);
        flow.job_after("b", &a, |a| *a);
        flow.cancel_handle().cancel();
        let report = flow.run();
        assert_eq!(report.count(JobStatus::Cancelled), 2, "{report}");
        assert!(report.critical_path.is_empty());
        assert!(
            report
                .to_string()
                .contains("critical path: none (no job ran)"),
            "{report}"
        );
        // Running again runs nothing new: still no path, not the old one.
        let again = flow.run();
        assert!(
            again
                .to_string()
                .contains("critical path: none (no job ran)"),
            "{again}"
        );
    });
}

#[test]
fn observer_problems_reach_the_report_not_stderr() {
    watchdog(|| {
        let mut flow = Flow::new();
        flow.job("a", || 1);
        // A path that cannot be written is refused at once...
        assert!(taskloop::flow::TraceRecorder::to_file("/no/such/dir/trace.json").is_err());
        // ...and one that stops being writable after that is reported by the run.
        let dir = std::env::temp_dir().join(format!("taskloop-report-obs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("trace.json");
        flow.observe(taskloop::flow::TraceRecorder::to_file(&path).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
        flow.observe(|e: &Event<'_>| {
            if matches!(e, Event::Started { .. }) {
                panic!("observer bug");
            }
        });
        let report = flow.run();
        assert!(report.is_success(), "{report}");
        let errors = &report.observer_errors;
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors
                .iter()
                .any(|e| e.contains("panicked on a Started event") && e.contains("observer bug")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains(&format!("could not write the trace to {}", path.display()))),
            "{errors:?}"
        );
        assert!(
            report
                .to_string()
                .contains("observer: could not write the trace"),
            "{report}"
        );
    });
}
