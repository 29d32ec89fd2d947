//! Helpers for the tests against a real Ray cluster: where the cluster is, a fast-polling
//! handle, Ray's own view of the jobs (read with plain HTTP, not through taskloop), a
//! fault-injecting proxy, and a watchdog.
//!
//! `tests/ray.sh` starts Ray inside a network namespace that has only loopback and runs
//! the test binaries there with `TASKLOOP_RAY_URL` set (and `TASKLOOP_RAY_TOKEN` for the
//! cluster that requires a token). Without `TASKLOOP_RAY_URL`, tests that need Ray print
//! a SKIP line and pass, so that `cargo test` works on a machine without Ray.
#![allow(dead_code)]

pub mod proxy;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use taskloop::flow::Backoff;
use taskloop::ray::{Cluster, ClusterBuilder, PollInterval};

/// The dashboard URL of the test cluster, if the tests run against one.
pub fn ray_url() -> Option<String> {
    std::env::var("TASKLOOP_RAY_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// The test cluster's token, if it requires one.
pub fn ray_token() -> Option<String> {
    std::env::var("TASKLOOP_RAY_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
}

/// The dashboard URL, or returns from the test after printing why it is skipped.
#[macro_export]
macro_rules! require_ray {
    () => {
        match ray_util::ray_url() {
            Some(url) => url,
            None => {
                eprintln!(
                    "SKIP: TASKLOOP_RAY_URL is not set (run tests/ray.sh to test against Ray)"
                );
                return;
            }
        }
    };
}

/// A handle on `url` that polls and backs off quickly, with the test cluster's token.
pub fn builder(url: &str) -> ClusterBuilder {
    let builder = Cluster::builder(url)
        .poll_interval(PollInterval {
            initial: Duration::from_millis(20),
            factor: 1.5,
            max: Duration::from_millis(250),
        })
        .backoff(Backoff {
            initial: Duration::from_millis(20),
            factor: 2.0,
            max: Duration::from_millis(500),
            jitter: true,
        })
        .stop_wait(Duration::from_secs(30));
    match ray_token() {
        Some(token) => builder.token(token),
        None => builder,
    }
}

/// A connected, fast-polling handle on `url`.
pub fn cluster(url: &str) -> Cluster {
    builder(url).connect().expect("the test cluster answers")
}

/// A string no other test or run uses, to put in entrypoints and find the jobs again.
pub fn marker(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("mark-{test}-{}-{nanos:x}", std::process::id())
}

/// One plain HTTP/1.1 exchange with the dashboard (`Connection: close`): status and body.
pub fn http(url: &str, method: &str, path: &str) -> (u16, String) {
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(addr).expect("the dashboard accepts connections");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let auth = ray_token()
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// Ray's list of jobs whose entrypoint contains `marker`, oldest first.
pub fn ray_jobs(url: &str, marker: &str) -> Vec<Value> {
    let (status, body) = http(url, "GET", "/api/jobs/");
    assert_eq!(status, 200, "GET /api/jobs/: {body}");
    let all: Vec<Value> = serde_json::from_str(&body).expect("Ray lists jobs as JSON");
    let mut mine: Vec<Value> = all
        .into_iter()
        .filter(|j| j["entrypoint"].as_str().is_some_and(|e| e.contains(marker)))
        .collect();
    mine.sort_by_key(|j| j["start_time"].as_u64());
    mine
}

/// Ray's status of job `id`.
pub fn ray_status(url: &str, id: &str) -> String {
    let (status, body) = http(url, "GET", &format!("/api/jobs/{id}"));
    assert_eq!(status, 200, "GET /api/jobs/{id}: {body}");
    let job: Value = serde_json::from_str(&body).unwrap();
    job["status"].as_str().unwrap_or_default().to_string()
}

/// The most intervals `[start, end]` that overlap at one instant.
pub fn max_overlap(intervals: &[(u64, u64)]) -> usize {
    let mut edges: Vec<(u64, i32)> = Vec::new();
    for &(start, end) in intervals {
        edges.push((start, 1));
        edges.push((end, -1));
    }
    // At equal times, an end comes before a start: touching intervals do not overlap.
    edges.sort();
    let (mut now, mut max) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        max = max.max(now);
    }
    max as usize
}

/// Fails the test if `f` takes longer than `limit` instead of hanging CI.
pub fn watchdog<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(_) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("the test did not finish within {limit:?}"),
        },
    }
}
