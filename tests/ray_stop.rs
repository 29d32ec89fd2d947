//! Stopping remote work, against a real Ray cluster: cancelling a job or the flow, and a
//! job's timeout, stop the Ray job (Ray reports it `STOPPED` by the time the run
//! returns); a Ray job stopped by someone else ends its flow job cancelled.

#![cfg(feature = "ray")]

mod ray_util;

use std::time::{Duration, Instant};

use ray_util::{cluster, http, marker, ray_jobs, ray_status, watchdog};
use taskloop::flow::{Event, Flow, JobError, JobStatus};
use taskloop::ray::JobSpec;

/// A job that would run for two minutes.
fn long_job(mark: &str) -> JobSpec {
    JobSpec::new(format!("echo {mark}; sleep 120"))
}

/// The submission ids Ray knows for `mark`, and their statuses.
fn on_ray(url: &str, mark: &str) -> Vec<(String, String)> {
    ray_jobs(url, mark)
        .iter()
        .map(|j| {
            let id = j["submission_id"].as_str().unwrap().to_string();
            let status = ray_status(url, &id);
            (id, status)
        })
        .collect()
}

#[test]
fn cancelling_a_running_job_stops_it_on_ray() {
    let url = require_ray!();
    watchdog(Duration::from_secs(120), move || {
        let cluster = cluster(&url);
        let mark = marker("cancel-job");
        let mut flow = Flow::new();
        let spec = long_job(&mark);
        let job = cluster.job(&mut flow, "long", (), move |()| spec.clone());
        let cancel = flow.cancel_handle();
        let id = job.id();
        flow.observe(move |e: &Event<'_>| {
            if let Event::Progress {
                message: "RUNNING", ..
            } = e
            {
                cancel.cancel_job(id);
            }
        });
        let started = Instant::now();
        flow.run();
        assert_eq!(job.status(), JobStatus::Cancelled);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{:?}",
            started.elapsed()
        );
        let seen = on_ray(&url, &mark);
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(
            seen[0].1, "STOPPED",
            "the run returns once Ray confirmed the stop"
        );
    });
}

#[test]
fn cancelling_the_flow_stops_every_running_ray_job() {
    let url = require_ray!();
    watchdog(Duration::from_secs(120), move || {
        let cluster = cluster(&url);
        let mark = marker("cancel-flow");
        let mut flow = Flow::new();
        let (s1, s2) = (long_job(&mark), long_job(&mark));
        let one = cluster.job(&mut flow, "one", (), move |()| s1.clone());
        let two = cluster.job(&mut flow, "two", (), move |()| s2.clone());
        let after = cluster.job(&mut flow, "after", (&one, &two), |_| JobSpec::new("true"));
        let cancel = flow.cancel_handle();
        let mut running = 0;
        flow.observe(move |e: &Event<'_>| {
            if let Event::Progress {
                message: "RUNNING", ..
            } = e
            {
                running += 1;
                if running == 2 {
                    cancel.cancel();
                }
            }
        });
        flow.run();
        assert_eq!(one.status(), JobStatus::Cancelled);
        assert_eq!(two.status(), JobStatus::Cancelled);
        assert_eq!(after.status(), JobStatus::Cancelled);
        let seen = on_ray(&url, &mark);
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen.iter().all(|(_, s)| s == "STOPPED"), "{seen:?}");
    });
}

#[test]
fn a_timeout_stops_the_ray_job() {
    let url = require_ray!();
    watchdog(Duration::from_secs(120), move || {
        let cluster = cluster(&url);
        let mark = marker("timeout");
        let mut flow = Flow::new();
        let spec = long_job(&mark);
        let job = cluster
            .job(&mut flow, "too slow", (), move |()| spec.clone())
            .timeout(Duration::from_secs(4));
        flow.run();
        assert_eq!(job.status(), JobStatus::Failed);
        assert!(matches!(job.result(), Err(JobError::TimedOut { .. })));
        let seen = on_ray(&url, &mark);
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].1, "STOPPED");
    });
}

#[test]
fn a_job_stopped_on_ray_by_someone_else_is_cancelled_and_skips_its_dependents() {
    let url = require_ray!();
    watchdog(Duration::from_secs(120), move || {
        let cluster = cluster(&url);
        let mark = marker("stopped-elsewhere");
        let mut flow = Flow::new();
        let spec = long_job(&mark);
        let job = cluster.job(&mut flow, "long", (), move |()| spec.clone());
        let dependent_mark = format!("{mark}-dependent");
        let dependent = cluster.job(&mut flow, "after", &job, move |_| {
            JobSpec::new(format!("echo {dependent_mark}"))
        });
        let (stop_url, stop_mark) = (url.clone(), mark.clone());
        let mut stopped = false;
        flow.observe(move |e: &Event<'_>| {
            if let Event::Progress {
                message: "RUNNING", ..
            } = e
            {
                if !std::mem::replace(&mut stopped, true) {
                    // Someone else stops it, as `ray job stop` would.
                    let (url, mark) = (stop_url.clone(), stop_mark.clone());
                    std::thread::spawn(move || {
                        let id = ray_jobs(&url, &mark)[0]["submission_id"]
                            .as_str()
                            .unwrap()
                            .to_string();
                        let (status, body) = http(&url, "POST", &format!("/api/jobs/{id}/stop"));
                        assert_eq!(status, 200, "{body}");
                    });
                }
            }
        });
        flow.run();
        assert_eq!(job.status(), JobStatus::Cancelled);
        assert_eq!(job.attempts(), 1);
        assert_eq!(dependent.status(), JobStatus::UpstreamFailed);
        let seen = on_ray(&url, &mark);
        assert_eq!(seen.len(), 1, "the dependent is never submitted: {seen:?}");
        assert_eq!(seen[0].1, "STOPPED");
    });
}
