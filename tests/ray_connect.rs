//! Connecting to a Ray cluster: an unreachable dashboard and a server that is not Ray
//! fail with clear errors (no Ray needed); a real cluster reports its version; a cluster
//! started with `RAY_AUTH_MODE=token` refuses a missing or wrong token, works with the
//! right one, and the token never shows in `Debug`, errors, reports, traces or logs.
//!
//! The `token_*` tests need the token cluster (`TASKLOOP_RAY_TOKEN` set); `tests/ray.sh`
//! runs them against their own Ray head.

#![cfg(feature = "ray")]

mod ray_util;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use ray_util::{builder, cluster, marker, ray_token, watchdog};
use taskloop::flow::{Flow, JobStatus, TraceRecorder};
use taskloop::ray::{Cluster, JobSpec, RayError};

#[test]
fn an_unreachable_dashboard_fails_at_once_with_a_clear_error() {
    watchdog(Duration::from_secs(30), || {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let err = Cluster::connect(&url).unwrap_err();
        assert!(matches!(err, RayError::Unreachable { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains(&format!("cannot reach the Ray dashboard at {url}")),
            "{err}"
        );

        // A job on a handle that was never checked fails the same way, after its retries.
        let cluster = Cluster::builder(&url).attempts(2).build();
        let mut flow = Flow::new();
        let job = cluster.job(&mut flow, "nowhere", (), |()| JobSpec::new("true"));
        flow.run();
        assert_eq!(job.status(), JobStatus::Failed);
        assert!(job
            .result()
            .unwrap_err()
            .to_string()
            .contains("cannot reach"));
    });
}

/// A one-connection-at-a-time HTTP server that answers every request with `answer`.
fn not_ray(answer: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(answer.as_bytes());
        }
    });
    url
}

#[test]
fn a_server_that_is_not_a_ray_dashboard_is_refused() {
    watchdog(Duration::from_secs(30), || {
        let answers = [
            "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
            "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{\"hello\": 1}\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 15\r\nConnection: close\r\n\r\n<html>hi</html>",
        ];
        for answer in answers {
            let err = Cluster::connect(&not_ray(answer)).unwrap_err();
            assert!(matches!(err, RayError::Protocol { .. }), "{err:?}");
            assert!(
                err.to_string()
                    .contains("does not look like a Ray dashboard"),
                "{err}"
            );
        }
    });
}

#[test]
fn connect_reports_the_ray_version() {
    let url = require_ray!();
    let cluster = cluster(&url);
    let version = cluster.ray_version();
    assert!(version.starts_with("2."), "{version}");
}

fn require_token() -> Option<(String, String)> {
    match (ray_util::ray_url(), ray_token()) {
        (Some(url), Some(token)) => Some((url, token)),
        _ => {
            eprintln!("SKIP: needs a cluster with RAY_AUTH_MODE=token (TASKLOOP_RAY_TOKEN)");
            None
        }
    }
}

#[test]
fn token_missing_or_wrong_is_refused_with_a_clear_error() {
    let Some((url, token)) = require_token() else {
        return;
    };
    let missing = Cluster::connect(&url).unwrap_err();
    assert!(
        matches!(missing, RayError::Unauthorized { status: 401, .. }),
        "{missing:?}"
    );
    assert!(
        missing.to_string().contains("requires a token"),
        "{missing}"
    );
    let wrong = format!("{token}-wrong");
    let refused = Cluster::builder(&url).token(&wrong).connect().unwrap_err();
    assert!(
        matches!(refused, RayError::Unauthorized { status: 403, .. }),
        "{refused:?}"
    );
    assert!(
        refused.to_string().contains("refused the token"),
        "{refused}"
    );
    let text = format!("{missing} {missing:?} {refused} {refused:?}");
    assert!(!text.contains(&token) && !text.contains(&wrong), "{text}");
}

#[test]
fn token_right_runs_jobs_and_never_shows() {
    let Some((url, token)) = require_token() else {
        return;
    };
    watchdog(Duration::from_secs(120), move || {
        let cluster = cluster(&url);
        let mark = marker("token");
        let trace = std::env::temp_dir().join(format!("{mark}.json"));
        let mut flow = Flow::new();
        // Both jobs print the driver's environment, where Ray may have passed the token
        // on (`RAY_AUTH_TOKEN`); it must not come back to us.
        let ok_cmd = format!("echo {mark}; env | sort");
        let ok = cluster.job(&mut flow, "prints env", (), move |()| {
            JobSpec::new(ok_cmd.clone())
        });
        let bad_cmd =
            format!("echo {mark}; env | grep RAY_AUTH; echo token=$RAY_AUTH_TOKEN; exit 4");
        let bad = cluster.job(&mut flow, "fails", (), move |()| {
            JobSpec::new(bad_cmd.clone())
        });
        flow.observe(TraceRecorder::to_file(&trace).unwrap());
        let report = flow.run();
        assert_eq!(ok.status(), JobStatus::Done, "{report}");
        assert_eq!(bad.status(), JobStatus::Failed, "{report}");
        let written = std::fs::read_to_string(&trace).unwrap();
        let _ = std::fs::remove_file(&trace);
        let logs = ok.result().unwrap().logs.clone();
        assert!(logs.contains(&mark));
        // tests/ray.sh starts Ray with RAY_AUTH_TOKEN in its environment, and Ray passes
        // it on to every driver: the logs did carry it, and taskloop scrubbed it.
        assert!(logs.contains("RAY_AUTH_TOKEN=<redacted>"), "{logs}");
        let builder = builder(&url);
        let everything = format!(
            "{report}\n{report:?}\n{written}\n{cluster:?}\n{builder:?}\n{logs}\n{:?}\n{}\n{:?}",
            ok.result(),
            bad.result().unwrap_err(),
            bad.result().unwrap_err(),
        );
        assert!(
            !everything.contains(&token),
            "the token leaked:\n{everything}"
        );
    });
}
