use super::*;
use crate::flow::report::JobReport;
use crate::flow::status::{JobId, JobStatus};
use serde_json::{json, Value};
use std::{sync::Arc, sync::OnceLock, time::Duration};

const IDS: [JobId; 3] = [JobId(0), JobId(1), JobId(2)];
const NAMES: [&str; 3] = ["load \"raw\"", "clean", "train"];

fn t(ms: u64) -> Instant {
    static T0: OnceLock<Instant> = OnceLock::new();
    *T0.get_or_init(Instant::now) + Duration::from_millis(ms)
}

fn info(i: usize) -> JobInfo<'static> {
    JobInfo {
        id: IDS[i],
        name: NAMES[i],
        inputs: &IDS[..i],
    }
}

fn boom(job: &str) -> JobError {
    JobError::Failed {
        job: job.into(),
        source: Arc::new(io::Error::other("boom")),
    }
}

fn job(i: usize, status: JobStatus, started: Option<u64>, finished: Option<u64>) -> JobReport {
    JobReport {
        id: IDS[i],
        name: NAMES[i].into(),
        inputs: IDS[..i].to_vec(),
        status,
        started: started.map(t),
        finished: finished.map(t),
        attempts: 1,
        error: (status != JobStatus::Done).then(|| boom(NAMES[i])),
        in_this_run: true,
    }
}

fn report(jobs: Vec<JobReport>) -> Report {
    let wall_time = Duration::from_millis(10);
    Report {
        jobs,
        started: t(0),
        wall_time,
        critical_path: vec![],
        observer_errors: vec![],
    }
}

/// Job 0 fails once then succeeds, job 1 fails, job 2 is skipped; all `offset` ms late.
#[rustfmt::skip]
fn record(rec: &mut TraceRecorder, offset: u64) {
    let (error, delay) = (boom(NAMES[1]), Duration::from_millis(2));
    let skipped = error.upstream_of(NAMES[2]);
    let at = |ms| t(ms + offset);
    let finished = |ms, i, status, error| Event::Finished { at: at(ms), job: info(i), status, error, attempts: 1 };
    let events = [
        Event::RunStarted { at: at(0), pending: 3 },
        Event::Started { at: at(1), job: info(0), attempt: 1 },
        Event::Progress { at: at(2), job: info(0), fraction: 0.5, message: "half \"way\"" },
        Event::Retrying { at: at(3), job: info(0), attempt: 1, error: &error, delay },
        Event::Started { at: at(5), job: info(0), attempt: 2 },
        finished(9, 0, JobStatus::Done, None),
        Event::Started { at: at(2), job: info(1), attempt: 1 },
        finished(4, 1, JobStatus::Failed, Some(&error)),
        finished(4, 2, JobStatus::UpstreamFailed, Some(&skipped)),
    ];
    for event in &events {
        rec.on_event(event);
    }
    let jobs = vec![job(0, JobStatus::Done, Some(1), Some(9)), job(1, JobStatus::Failed, Some(2), Some(4))];
    rec.on_event(&Event::RunFinished { at: at(10), report: &report(jobs) });
}

fn parse(json: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(json).expect("valid JSON");
    assert_eq!(doc["displayTimeUnit"], "ms");
    doc["traceEvents"]
        .as_array()
        .expect("an array of events")
        .clone()
}

/// The events of phase `ph` as `[name, ts, dur, tid, args]`.
fn with_ph(events: &[Value], ph: &str) -> Vec<Value> {
    let events = events.iter().filter(|e| e["ph"] == ph && e["pid"] == 1);
    events
        .map(|e| json!([e["name"], e["ts"], e["dur"], e["tid"], e["args"]]))
        .collect()
}

#[test]
fn one_complete_event_per_attempt_with_times_in_microseconds() {
    let mut rec = TraceRecorder::new();
    record(&mut rec, 0);
    let error = "job 'clean' failed: boom";
    let failed = json!({ "status": "failed", "attempt": 1, "error": error });
    let retry = json!({ "status": "failed", "attempt": 1, "error": error, "retry_in_ms": 2.0 });
    let done = json!({ "status": "done", "attempt": 2 });
    let expected = [
        json!([NAMES[0], 1000, 2000, 1, retry]),
        json!([NAMES[0], 5000, 4000, 1, done]),
        json!([NAMES[1], 2000, 2000, 2, failed]),
    ];
    assert_eq!(with_ph(&parse(&rec.to_json()), "X"), expected);
}

#[test]
fn lanes_are_named_after_jobs_and_progress_is_an_instant() {
    let mut rec = TraceRecorder::new();
    record(&mut rec, 0);
    let events = parse(&rec.to_json());
    let lanes = events.iter().filter(|e| e["name"] == "thread_name");
    let lanes: Vec<_> = lanes
        .map(|e| json!([e["tid"], e["args"]["name"]]))
        .collect();
    assert_eq!(
        lanes,
        [
            json!([1, NAMES[0]]),
            json!([2, NAMES[1]]),
            json!([3, NAMES[2]])
        ]
    );
    let progress = json!({ "fraction": 0.5, "message": "half \"way\"" });
    let skipped = json!({ "status": "upstream-failed", "error": boom(NAMES[1]).upstream_of(NAMES[2]).to_string() });
    let expected = [
        json!(["half \"way\"", 2000, null, 1, progress]),
        json!([NAMES[2], 4000, null, 3, skipped]),
    ];
    assert_eq!(with_ph(&events, "i"), expected);
}

#[test]
fn a_new_run_starts_a_new_trace() {
    let (mut once, mut twice) = (TraceRecorder::new(), TraceRecorder::new());
    record(&mut once, 0);
    record(&mut twice, 0);
    record(&mut twice, 1000);
    assert_eq!(twice.to_json(), once.to_json());
}

#[test]
fn report_trace_has_one_bar_per_started_job() {
    let mut jobs = vec![
        job(0, JobStatus::Done, Some(1), Some(9)),
        job(1, JobStatus::Running, Some(2), None),
        job(2, JobStatus::Pending, None, None),
    ];
    (jobs[0].attempts, jobs[1].error) = (2, None);
    let events = parse(&chrome_trace_json(&report(jobs)));
    let done = json!({ "status": "done", "attempts": 2 });
    let running = json!({ "status": "running", "attempts": 1 });
    let expected = [
        json!([NAMES[0], 1000, 8000, 1, done]),
        json!([NAMES[1], 2000, 8000, 2, running]),
    ];
    assert_eq!(
        with_ph(&events, "X"),
        expected,
        "an unfinished job runs to the end of the run"
    );
    assert_eq!(
        with_ph(&events, "M").len(),
        1 + 2 * 2,
        "process name, two named lanes"
    );
}

#[test]
fn to_file_overwrites_and_fails_early_on_an_unwritable_path() {
    let path = std::env::temp_dir().join(format!("taskloop-trace-{}.json", std::process::id()));
    std::fs::write(&path, "old contents, longer than nothing").expect("temp file");
    let mut rec = TraceRecorder::to_file(&path).expect("writable");
    record(&mut rec, 0);
    let text = std::fs::read_to_string(&path).expect("trace written");
    let _ = std::fs::remove_file(&path);
    assert_eq!(text, rec.to_json());
    let err = TraceRecorder::to_file("/nonexistent-dir/taskloop/trace.json").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot write /nonexistent-dir/taskloop/trace.json"),
        "{err}"
    );
}

#[test]
fn a_write_that_fails_after_the_start_is_reported_once() {
    let dir = std::env::temp_dir().join(format!("taskloop-trace-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("trace.json");
    let mut rec = TraceRecorder::to_file(&path).expect("writable");
    std::fs::remove_dir_all(&dir).expect("remove the directory under the recorder");
    record(&mut rec, 0);
    let errors = rec.take_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let expected = format!("could not write the trace to {}", path.display());
    assert!(errors[0].starts_with(&expected), "{errors:?}");
    assert!(rec.take_errors().is_empty());
}
