//! A submit retried after a fault starts exactly one Ray job, against a real Ray cluster
//! behind a fault-injecting proxy: when the first answer is lost (Ray created the job;
//! the retry gets Ray's "already exists" `500` and counts it as submitted), and when the
//! first submit is answered `503` (nothing was created; the retry creates the job). A
//! submit refused with a `4xx` is not retried, and its error quotes Ray's text.

#![cfg(feature = "ray")]

mod ray_util;

use std::sync::atomic::Ordering;
use std::time::Duration;

use ray_util::proxy::{self, Fault};
use ray_util::{builder, marker, ray_jobs, watchdog};
use taskloop::flow::{Flow, JobError};
use taskloop::ray::{JobSpec, JobStatus, RayError};

fn submit_once_through(fault: Fault, test: &str) {
    let url = require_ray!();
    let test = test.to_string();
    watchdog(Duration::from_secs(120), move || {
        let proxy = proxy::start(&url, fault);
        let cluster = builder(&proxy.url).connect().unwrap();
        let mark = marker(&test);
        let mut flow = Flow::new();
        let cmd = format!("echo {mark}");
        let job = cluster.job(&mut flow, "once", (), move |()| JobSpec::new(cmd.clone()));
        let report = flow.run();
        assert!(report.is_success(), "{report}");
        let details = job.result().unwrap();
        assert_eq!(details.status, JobStatus::Succeeded);
        assert_eq!(
            job.attempts(),
            1,
            "the flow job did not need a retry of its own"
        );
        assert_eq!(
            proxy.submits.load(Ordering::SeqCst),
            2,
            "the submit was sent twice"
        );
        let on_ray = ray_jobs(&url, &mark);
        assert_eq!(on_ray.len(), 1, "one Ray job: {on_ray:?}");
        assert_eq!(on_ray[0]["submission_id"], details.submission_id.as_str());
    });
}

#[test]
fn a_lost_submit_answer_is_retried_into_the_same_job() {
    submit_once_through(Fault::LoseTheAnswer, "lost-answer");
}

#[test]
fn a_busy_answer_to_a_submit_is_retried() {
    submit_once_through(Fault::Busy, "busy");
}

#[test]
fn a_refused_submit_fails_at_once_quoting_rays_text() {
    let url = require_ray!();
    watchdog(Duration::from_secs(60), move || {
        let proxy = proxy::start(&url, Fault::Refuse);
        let cluster = builder(&proxy.url).connect().unwrap();
        let mark = marker("refused");
        let mut flow = Flow::new();
        let cmd = format!("echo {mark}");
        let job = cluster.job(&mut flow, "refused", (), move |()| {
            JobSpec::new(cmd.clone())
        });
        flow.run();
        let err = job.result().unwrap_err();
        let JobError::Failed { source, .. } = &err else {
            panic!("{err}")
        };
        let ray = source.downcast_ref::<RayError>().unwrap();
        assert!(
            matches!(ray, RayError::Rejected { status: 400, .. }),
            "{ray:?}"
        );
        assert_eq!(
            ray.to_string(),
            "the Ray dashboard answered 400: TypeError: metadata values must be strings, got <class 'int'>"
        );
        assert_eq!(
            proxy.submits.load(Ordering::SeqCst),
            1,
            "a 400 is not retried"
        );
        assert!(ray_jobs(&url, &mark).is_empty());
    });
}
