//! A run as Chrome trace events, to open in Perfetto (<https://ui.perfetto.dev>) or
//! `chrome://tracing`: one row per job, one bar per attempt.
//!
//! [`TraceRecorder`] watches a run as it happens, so it sees every attempt (a retried job
//! shows one bar per attempt) and every progress report. [`chrome_trace_json`] builds the
//! same format from a finished [`Report`] alone: one bar per job, first start to finish.
//!
//! The format: a complete event (`"ph":"X"`) per bar with `ts` and `dur` in microseconds
//! since the run started; `pid` 1; `tid` is the job's lane (declaration index + 1), named
//! after the job by a `thread_name` metadata event (`"ph":"M"`). Progress reports are
//! instant events (`"ph":"i"`); a job that finished without starting (skipped, or
//! cancelled while waiting) gets an instant event at the moment it was given up.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::error::JobError;
use super::observe::{Event, JobInfo, Observer};
use super::report::Report;

/// Records a flow run as Chrome trace events.
///
/// [`TraceRecorder::to_file`] writes the trace when the run finishes;
/// [`TraceRecorder::new`] only records, for [`to_json`](TraceRecorder::to_json) or
/// [`write_to`](TraceRecorder::write_to) afterwards. Each `RunStarted` starts a new
/// trace, so a recorder kept across runs holds (and writes) the latest run.
///
/// # Examples
/// ```
/// use taskloop::flow::{Flow, TraceRecorder};
/// let path = std::env::temp_dir().join("taskloop-doc-trace.json");
/// let mut flow = Flow::new();
/// flow.job("a", || Ok::<_, std::io::Error>(1));
/// flow.observe(TraceRecorder::to_file(&path));
/// flow.run();
/// let text = std::fs::read_to_string(&path).unwrap();
/// assert!(text.contains("\"traceEvents\""));
/// ```
#[derive(Debug, Default)]
pub struct TraceRecorder {
    sink: Option<FileSink>,
    start: Option<Instant>,
    lanes: BTreeMap<usize, String>,
    open: HashMap<usize, (Instant, u32)>,
    events: Vec<Value>,
}

impl TraceRecorder {
    /// A recorder that keeps the trace in memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// A recorder that writes the trace to `path` (overwriting it) when a run finishes.
    /// If the file cannot be written, that is said once on stderr; the run goes on.
    pub fn to_file(path: impl Into<PathBuf>) -> Self {
        TraceRecorder {
            sink: Some(FileSink::new(path.into())),
            ..Self::default()
        }
    }

    /// The trace recorded so far as JSON: `{"traceEvents":[...],"displayTimeUnit":"ms"}`.
    pub fn to_json(&self) -> String {
        document(&self.lanes, &self.events).to_string()
    }

    /// Writes [`to_json`](TraceRecorder::to_json) to `out`.
    ///
    /// # Errors
    /// Any error `out` returns.
    pub fn write_to(&self, mut out: impl Write) -> io::Result<()> {
        out.write_all(self.to_json().as_bytes())?;
        out.flush()
    }

    fn begin(&mut self, at: Instant) {
        self.start = Some(at);
        self.lanes.clear();
        self.open.clear();
        self.events.clear();
    }

    /// Microseconds from the run's start (or the first event seen) to `at`.
    fn micros(&mut self, at: Instant) -> u64 {
        micros_since(*self.start.get_or_insert(at), at)
    }

    fn lane(&mut self, job: JobInfo<'_>) -> u64 {
        let lane = lane_of(job.id.index());
        self.lanes
            .entry(job.id.index())
            .or_insert_with(|| job.name.to_string());
        lane
    }

    fn started(&mut self, at: Instant, job: JobInfo<'_>, attempt: u32) {
        self.micros(at);
        self.lane(job);
        self.open.insert(job.id.index(), (at, attempt));
    }

    fn progress(&mut self, at: Instant, job: JobInfo<'_>, fraction: f64, message: &str) {
        let (ts, tid) = (self.micros(at), self.lane(job));
        let name = if message.is_empty() {
            "progress"
        } else {
            message
        };
        self.events.push(json!({
            "name": name, "cat": "progress", "ph": "i", "s": "t", "ts": ts, "pid": 1,
            "tid": tid, "args": { "fraction": fraction, "message": message },
        }));
    }

    /// Ends the job's open attempt with these `args`; false if none was open.
    fn close(&mut self, at: Instant, job: JobInfo<'_>, args: Map<String, Value>) -> bool {
        let Some((began, attempt)) = self.open.remove(&job.id.index()) else {
            return false;
        };
        let (ts, end, tid) = (self.micros(began), self.micros(at), self.lane(job));
        let mut args = args;
        args.insert("attempt".into(), attempt.into());
        self.events
            .push(complete(job.name, tid, ts, end.saturating_sub(ts), args));
        true
    }

    fn finished(&mut self, at: Instant, job: JobInfo<'_>, status: &str, error: Option<&JobError>) {
        if !self.close(at, job, outcome(status, error)) {
            let (ts, tid) = (self.micros(at), self.lane(job));
            self.events
                .push(instant(job.name, tid, ts, outcome(status, error)));
        }
    }

    fn run_finished(&mut self, at: Instant, report: &Report) {
        let mut still_open: Vec<usize> = self.open.keys().copied().collect();
        still_open.sort_unstable();
        for index in still_open {
            if let Some(job) = report.jobs.get(index) {
                let info = JobInfo {
                    id: job.id,
                    name: &job.name,
                    inputs: &job.inputs,
                };
                self.close(at, info, outcome(job.status.as_str(), job.error.as_ref()));
            }
        }
        if let Some(sink) = self.sink.as_mut() {
            let text = document(&self.lanes, &self.events).to_string();
            sink.write("trace", text.as_bytes());
        }
    }
}

impl Observer for TraceRecorder {
    fn on_event(&mut self, event: &Event<'_>) {
        match *event {
            Event::RunStarted { at, .. } => self.begin(at),
            Event::Queued { at, job } => {
                self.micros(at);
                self.lane(job);
            }
            Event::Started { at, job, attempt } => self.started(at, job, attempt),
            Event::Progress {
                at,
                job,
                fraction,
                message,
            } => self.progress(at, job, fraction, message),
            Event::Retrying {
                at,
                job,
                error,
                delay,
                ..
            } => {
                let mut args = outcome("failed", Some(error));
                args.insert("retry_in_ms".into(), json!(delay.as_secs_f64() * 1e3));
                self.close(at, job, args);
            }
            Event::Finished {
                at,
                job,
                status,
                error,
                ..
            } => self.finished(at, job, status.as_str(), error),
            Event::RunFinished { at, report } => self.run_finished(at, report),
        }
    }
}

/// The report as a Chrome trace (same format as [`TraceRecorder`]): one complete event
/// per job of this run that started, from its first start to its finish (or the end of
/// the run if it has not finished), and an instant event for each job that finished
/// without starting. `args` hold the status, the number of attempts and the error.
///
/// # Examples
/// ```
/// use taskloop::flow::{chrome_trace_json, Flow};
/// let mut flow = Flow::new();
/// flow.job("a", || Ok::<_, std::io::Error>(1));
/// let trace = chrome_trace_json(&flow.run());
/// assert!(trace.contains("\"ph\":\"X\""));
/// ```
pub fn chrome_trace_json(report: &Report) -> String {
    let end_of_run = report
        .started
        .checked_add(report.wall_time)
        .unwrap_or(report.started);
    let mut lanes = BTreeMap::new();
    let mut events = Vec::new();
    for job in report.jobs.iter().filter(|j| j.in_this_run) {
        let tid = lane_of(job.id.index());
        let mut args = outcome(job.status.as_str(), job.error.as_ref());
        args.insert("attempts".into(), job.attempts.into());
        match (job.started, job.finished) {
            (Some(began), end) => {
                let ts = micros_since(report.started, began);
                let end = micros_since(report.started, end.unwrap_or(end_of_run));
                events.push(complete(&job.name, tid, ts, end.saturating_sub(ts), args));
            }
            (None, Some(end)) => {
                events.push(instant(
                    &job.name,
                    tid,
                    micros_since(report.started, end),
                    args,
                ));
            }
            (None, None) => continue,
        }
        lanes.insert(job.id.index(), job.name.clone());
    }
    document(&lanes, &events).to_string()
}

/// Writes a file each time it is asked, overwriting it; says once on stderr if it fails.
#[derive(Debug)]
pub(super) struct FileSink {
    path: PathBuf,
    reported: bool,
}

impl FileSink {
    pub(super) fn new(path: PathBuf) -> Self {
        FileSink {
            path,
            reported: false,
        }
    }

    /// Writes `contents`; `what` names them in the one error message.
    pub(super) fn write(&mut self, what: &str, contents: &[u8]) {
        if let Err(e) = std::fs::write(&self.path, contents) {
            if !self.reported {
                self.reported = true;
                let path = self.path.display();
                let _ = writeln!(
                    io::stderr(),
                    "taskloop: could not write the {what} to {path}: {e}"
                );
            }
        }
    }
}

fn lane_of(index: usize) -> u64 {
    u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1)
}

fn micros_since(start: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(start).as_micros()).unwrap_or(u64::MAX)
}

/// `args` for a finished attempt or job: its status and, if any, the error text.
fn outcome(status: &str, error: Option<&JobError>) -> Map<String, Value> {
    let mut args = Map::new();
    args.insert("status".into(), status.into());
    if let Some(error) = error {
        args.insert("error".into(), error.to_string().into());
    }
    args
}

fn complete(name: &str, tid: u64, ts: u64, dur: u64, args: Map<String, Value>) -> Value {
    json!({
        "name": name, "cat": "job", "ph": "X", "ts": ts, "dur": dur, "pid": 1, "tid": tid,
        "args": args,
    })
}

fn instant(name: &str, tid: u64, ts: u64, args: Map<String, Value>) -> Value {
    json!({ "name": name, "cat": "job", "ph": "i", "s": "t", "ts": ts, "pid": 1, "tid": tid, "args": args })
}

/// The whole trace: process and lane names first, then `events`.
fn document(lanes: &BTreeMap<usize, String>, events: &[Value]) -> Value {
    let mut all = vec![json!({
        "name": "process_name", "ph": "M", "pid": 1, "tid": 0, "args": { "name": "flow" },
    })];
    for (&index, name) in lanes {
        let tid = lane_of(index);
        all.push(json!({ "name": "thread_name", "ph": "M", "pid": 1, "tid": tid, "args": { "name": name } }));
        all.push(json!({
            "name": "thread_sort_index", "ph": "M", "pid": 1, "tid": tid,
            "args": { "sort_index": tid },
        }));
    }
    all.extend(events.iter().cloned());
    json!({ "traceEvents": all, "displayTimeUnit": "ms" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::report::JobReport;
    use crate::flow::status::{JobId, JobStatus};
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
    fn to_file_overwrites_and_survives_an_unwritable_path() {
        let path = std::env::temp_dir().join(format!("taskloop-trace-{}.json", std::process::id()));
        std::fs::write(&path, "old contents, longer than nothing").expect("temp file");
        let mut rec = TraceRecorder::to_file(&path);
        record(&mut rec, 0);
        let text = std::fs::read_to_string(&path).expect("trace written");
        let _ = std::fs::remove_file(&path);
        assert_eq!(text, rec.to_json());
        let mut bad = TraceRecorder::to_file("/nonexistent-dir/taskloop/trace.json");
        record(&mut bad, 0);
        record(&mut bad, 0);
        assert!(bad.sink.as_ref().is_some_and(|s| s.reported));
    }
}
