//! What a Ray job's outcome does to its flow job, against a real Ray cluster: success
//! with logs, failure with Ray's details, skipped dependents, retries, files passed
//! between jobs, and a limit on how many Ray jobs run at once.

#![cfg(feature = "ray")]

mod ray_util;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use ray_util::{cluster, marker, max_overlap, ray_jobs, watchdog};
use taskloop::flow::{Backoff, Event, Flow, JobError, JobStatus};
use taskloop::ray::{JobSpec, JobStatus as RayStatus, RayError};

/// Every progress message the flow's observers saw, in order.
fn progress_messages(flow: &mut Flow) -> Rc<RefCell<Vec<String>>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    flow.observe(move |e: &Event<'_>| {
        if let Event::Progress { message, .. } = e {
            log.borrow_mut().push(message.to_string());
        }
    });
    seen
}

#[test]
fn a_succeeded_job_returns_its_details_and_logs() {
    let url = require_ray!();
    watchdog(Duration::from_secs(120), move || {
        let cluster = cluster(&url);
        let mark = marker("success");
        let mut flow = Flow::new();
        let cmd = format!("echo {mark}; echo \"greeting=$GREETING\"; sleep 1");
        let job = cluster.job(&mut flow, "say hello", (), move |()| {
            JobSpec::new(cmd.clone())
                .env_var("GREETING", "hello from taskloop")
                .metadata("owner", "tests")
        });
        let progress = progress_messages(&mut flow);
        let report = flow.run();
        assert!(report.is_success(), "{report}");
        let job = job.result().unwrap();
        assert_eq!(job.status, RayStatus::Succeeded);
        assert_eq!(job.driver_exit_code, Some(0));
        assert!(
            job.submission_id.starts_with("taskloop-say-hello-"),
            "{}",
            job.submission_id
        );
        assert!(job.logs.contains(&mark), "{}", job.logs);
        assert!(
            job.logs.contains("greeting=hello from taskloop"),
            "{}",
            job.logs
        );
        assert_eq!(job.metadata.get("owner").map(String::as_str), Some("tests"));
        assert!(
            job.duration().is_some_and(|d| d >= Duration::from_secs(1)),
            "{job:?}"
        );
        assert!(
            progress.borrow().iter().any(|m| m == "RUNNING"),
            "{:?}",
            progress.borrow()
        );
        assert_eq!(ray_jobs(&url, &mark).len(), 1);
    });
}

#[test]
fn a_failed_job_fails_with_exit_code_error_type_and_logs_and_skips_its_dependents() {
    let url = require_ray!();
    watchdog(Duration::from_secs(120), move || {
        let cluster = cluster(&url);
        let mark = marker("failure");
        let mut flow = Flow::new();
        let cmd = format!("echo {mark}-about-to-fail; exit 3");
        let failing = cluster.job(&mut flow, "fails", (), move |()| JobSpec::new(cmd.clone()));
        let dependent_mark = format!("{mark}-dependent");
        let dependent = cluster.job(&mut flow, "after it", &failing, move |_| {
            JobSpec::new(format!("echo {dependent_mark}"))
        });
        let report = flow.run();
        assert!(!report.is_success());

        assert_eq!(failing.status(), JobStatus::Failed);
        let err = failing.result().unwrap_err();
        let JobError::Failed { source, .. } = &err else {
            panic!("{err}")
        };
        let Some(RayError::JobFailed(job)) = source.downcast_ref::<RayError>() else {
            panic!("{source}")
        };
        assert_eq!(job.status, RayStatus::Failed);
        assert_eq!(job.driver_exit_code, Some(3));
        assert_eq!(
            job.error_type.as_deref(),
            Some("JOB_ENTRYPOINT_COMMAND_ERROR")
        );
        let text = err.to_string();
        assert!(text.contains("exit code 3"), "{text}");
        assert!(text.contains("JOB_ENTRYPOINT_COMMAND_ERROR"), "{text}");
        assert!(text.contains(&format!("{mark}-about-to-fail")), "{text}");

        assert_eq!(dependent.status(), JobStatus::UpstreamFailed);
        assert_eq!(dependent.attempts(), 0);
        let submitted = ray_jobs(&url, &mark);
        assert_eq!(
            submitted.len(),
            1,
            "only the failing job reaches Ray: {submitted:?}"
        );
    });
}

#[test]
fn a_retry_resubmits_under_a_new_submission_id() {
    let url = require_ray!();
    watchdog(Duration::from_secs(120), move || {
        let cluster = cluster(&url);
        let mark = marker("retry");
        let flag = std::env::temp_dir().join(format!("{mark}.flag"));
        let cmd = format!(
            "if [ -e {f} ]; then echo {mark} second try; else touch {f}; echo {mark} first try; exit 1; fi",
            f = flag.display()
        );
        let mut flow = Flow::new();
        let job = cluster
            .job(&mut flow, "flaky", (), move |()| JobSpec::new(cmd.clone()))
            .retries(1)
            .backoff(Backoff::fixed(Duration::from_millis(10)));
        let report = flow.run();
        let _ = std::fs::remove_file(&flag);
        assert!(report.is_success(), "{report}");
        assert_eq!(job.attempts(), 2);
        let details = job.result().unwrap();
        assert!(details.logs.contains("second try"), "{}", details.logs);

        let on_ray = ray_jobs(&url, &mark);
        let statuses: Vec<_> = on_ray
            .iter()
            .map(|j| j["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["FAILED", "SUCCEEDED"]);
        let ids: Vec<_> = on_ray
            .iter()
            .map(|j| j["submission_id"].as_str().unwrap())
            .collect();
        assert_ne!(ids[0], ids[1]);
        assert_eq!(ids[1], details.submission_id);
    });
}

#[test]
fn a_and_b_write_files_that_c_reads() {
    let url = require_ray!();
    watchdog(Duration::from_secs(120), move || {
        let cluster = cluster(&url);
        let mark = marker("files");
        let dir = std::env::temp_dir().join(&mark);
        std::fs::create_dir_all(&dir).unwrap();
        let (a_out, b_out) = (dir.join("a.txt"), dir.join("b.txt"));
        let mut flow = Flow::new();
        let a_cmd = format!("echo {mark}; sleep 1; echo 6 > {}", a_out.display());
        let b_cmd = format!("echo {mark}; sleep 1; echo 7 > {}", b_out.display());
        let a = cluster.job(&mut flow, "A", (), move |()| JobSpec::new(a_cmd.clone()));
        let b = cluster.job(&mut flow, "B", (), move |()| JobSpec::new(b_cmd.clone()));
        let (a_path, b_path) = (a_out.display().to_string(), b_out.display().to_string());
        let c = cluster.job(&mut flow, "C", (&a, &b), move |(a, b)| {
            assert_eq!(
                (a.status.as_str(), b.status.as_str()),
                ("SUCCEEDED", "SUCCEEDED")
            );
            JobSpec::new(format!(
                "echo {mark} product=$(( $(cat {a_path}) * $(cat {b_path}) ))"
            ))
        });
        let report = flow.run();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(report.is_success(), "{report}");
        assert!(c.result().unwrap().logs.contains("product=42"));
        // A and B ran at once on Ray; C started after both ended.
        let (a, b, c) = (
            a.result().unwrap(),
            b.result().unwrap(),
            c.result().unwrap(),
        );
        assert!(
            a.start_time < b.end_time && b.start_time < a.end_time,
            "{a:?}\n{b:?}"
        );
        assert!(c.start_time >= a.end_time && c.start_time >= b.end_time);
    });
}

#[test]
fn twenty_jobs_under_a_limit_of_five_never_run_more_than_five_at_once() {
    let url = require_ray!();
    watchdog(Duration::from_secs(240), move || {
        let cluster = cluster(&url);
        let mark = marker("limit");
        let mut flow = Flow::new();
        flow.limit("ray", 5);
        let jobs: Vec<_> = (0..20)
            .map(|i| {
                let cmd = format!("echo {mark} {i}; sleep 0.5");
                cluster
                    .job(&mut flow, format!("job {i}"), (), move |()| {
                        JobSpec::new(cmd.clone())
                    })
                    .limit("ray")
            })
            .collect();
        let running = Rc::new(RefCell::new((0usize, 0usize)));
        let meter = running.clone();
        flow.observe(move |e: &Event<'_>| {
            let mut m = meter.borrow_mut();
            match e {
                Event::Started { .. } => {
                    m.0 += 1;
                    m.1 = m.1.max(m.0);
                }
                Event::Finished { .. } => m.0 -= 1,
                _ => {}
            }
        });
        let report = flow.run();
        assert!(report.is_success(), "{report}");
        assert_eq!(
            running.borrow().1,
            5,
            "the flow ran 5 Ray jobs at once, no more"
        );

        let on_ray = ray_jobs(&url, &mark);
        assert_eq!(on_ray.len(), 20);
        assert!(on_ray.iter().all(|j| j["status"] == "SUCCEEDED"));
        let spans: Vec<(u64, u64)> = on_ray
            .iter()
            .map(|j| {
                (
                    j["start_time"].as_u64().unwrap(),
                    j["end_time"].as_u64().unwrap(),
                )
            })
            .collect();
        let overlap = max_overlap(&spans);
        assert!((2..=5).contains(&overlap), "Ray saw {overlap} jobs at once");
        assert!(jobs.iter().all(|j| j.status() == JobStatus::Done));
    });
}
