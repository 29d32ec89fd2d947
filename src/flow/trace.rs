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
        self.lanes.entry(job.id.index()).or_insert_with(|| job.name.to_string());
        lane
    }

    fn started(&mut self, at: Instant, job: JobInfo<'_>, attempt: u32) {
        self.micros(at);
        self.lane(job);
        self.open.insert(job.id.index(), (at, attempt));
    }

    fn progress(&mut self, at: Instant, job: JobInfo<'_>, fraction: f64, message: &str) {
        let (ts, tid) = (self.micros(at), self.lane(job));
        let name = if message.is_empty() { "progress" } else { message };
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
        self.events.push(complete(job.name, tid, ts, end.saturating_sub(ts), args));
        true
    }

    fn finished(&mut self, at: Instant, job: JobInfo<'_>, status: &str, error: Option<&JobError>) {
        if !self.close(at, job, outcome(status, error)) {
            let (ts, tid) = (self.micros(at), self.lane(job));
            self.events.push(instant(job.name, tid, ts, outcome(status, error)));
        }
    }

    fn run_finished(&mut self, at: Instant, report: &Report) {
        let mut still_open: Vec<usize> = self.open.keys().copied().collect();
        still_open.sort_unstable();
        for index in still_open {
            if let Some(job) = report.jobs.get(index) {
                let info = JobInfo { id: job.id, name: &job.name, inputs: &job.inputs };
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
            Event::Progress { at, job, fraction, message } => {
                self.progress(at, job, fraction, message)
            }
            Event::Retrying { at, job, error, delay, .. } => {
                let mut args = outcome("failed", Some(error));
                args.insert("retry_in_ms".into(), json!(delay.as_secs_f64() * 1e3));
                self.close(at, job, args);
            }
            Event::Finished { at, job, status, error, .. } => {
                self.finished(at, job, status.as_str(), error)
            }
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
/// use std::sync::{Arc, Mutex};
/// use taskloop::flow::{chrome_trace_json, Event, Flow};
/// let trace = Arc::new(Mutex::new(String::new()));
/// let out = Arc::clone(&trace);
/// let mut flow = Flow::new();
/// flow.job("a", || Ok::<_, std::io::Error>(1));
/// flow.observe(move |e: &Event<'_>| {
///     if let Event::RunFinished { report, .. } = e {
///         *out.lock().unwrap() = chrome_trace_json(report);
///     }
/// });
/// flow.run();
/// assert!(trace.lock().unwrap().contains("\"ph\":\"X\""));
/// ```
pub fn chrome_trace_json(report: &Report) -> String {
    let end_of_run = report.started.checked_add(report.wall_time).unwrap_or(report.started);
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
                events.push(instant(&job.name, tid, micros_since(report.started, end), args));
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
        FileSink { path, reported: false }
    }

    /// Writes `contents`; `what` names them in the one error message.
    pub(super) fn write(&mut self, what: &str, contents: &[u8]) {
        if let Err(e) = std::fs::write(&self.path, contents) {
            if !self.reported {
                self.reported = true;
                let path = self.path.display();
                let _ = writeln!(io::stderr(), "taskloop: could not write the {what} to {path}: {e}");
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
    use std::sync::Arc;
    use std::time::Duration;

    const IDS: [JobId; 3] = [JobId(0), JobId(1), JobId(2)];
    const NAMES: [&str; 3] = ["load \"raw\"", "clean", "train"];

    fn info(i: usize) -> JobInfo<'static> {
        JobInfo { id: IDS[i], name: NAMES[i], inputs: &IDS[..i] }
    }

    fn boom(job: &str) -> JobError {
        JobError::Failed { job: job.into(), source: Arc::new(io::Error::other("boom")) }
    }

    fn ms(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    fn report(t0: Instant, jobs: Vec<JobReport>) -> Report {
        let critical_path = Vec::new();
        Report { jobs, started: t0, wall_time: Duration::from_millis(10), critical_path }
    }

    fn job(i: usize, status: JobStatus, span: (Option<u64>, Option<u64>), t0: Instant) -> JobReport {
        let (id, inputs, name) = (IDS[i], IDS[..i].to_vec(), NAMES[i].to_string());
        let error = (status != JobStatus::Done).then(|| boom(NAMES[i]));
        let (started, finished) = (span.0.map(|m| ms(t0, m)), span.1.map(|m| ms(t0, m)));
        JobReport { id, name, inputs, status, started, finished, attempts: 1, error, in_this_run: true }
    }

    /// Job 0 fails once then succeeds, job 1 fails, job 2 is skipped.
    fn record(rec: &mut TraceRecorder, t0: Instant) {
        let error = boom(NAMES[1]);
        let skipped = error.upstream_of(NAMES[2]);
        let delay = Duration::from_millis(2);
        let events = [
            Event::RunStarted { at: t0, pending: 3 },
            Event::Started { at: ms(t0, 1), job: info(0), attempt: 1 },
            Event::Progress { at: ms(t0, 2), job: info(0), fraction: 0.5, message: "half \"way\"" },
            Event::Retrying { at: ms(t0, 3), job: info(0), attempt: 1, error: &error, delay },
            Event::Started { at: ms(t0, 5), job: info(0), attempt: 2 },
            Event::Finished { at: ms(t0, 9), job: info(0), status: JobStatus::Done, error: None, attempts: 2 },
            Event::Started { at: ms(t0, 2), job: info(1), attempt: 1 },
            Event::Finished { at: ms(t0, 4), job: info(1), status: JobStatus::Failed, error: Some(&error), attempts: 1 },
            Event::Finished { at: ms(t0, 4), job: info(2), status: JobStatus::UpstreamFailed, error: Some(&skipped), attempts: 0 },
        ];
        for event in &events {
            rec.on_event(event);
        }
        let report = report(t0, vec![
            job(0, JobStatus::Done, (Some(1), Some(9)), t0),
            job(1, JobStatus::Failed, (Some(2), Some(4)), t0),
            job(2, JobStatus::UpstreamFailed, (None, Some(4)), t0),
        ]);
        rec.on_event(&Event::RunFinished { at: ms(t0, 10), report: &report });
    }

    fn events_with(doc: &Value, ph: &str) -> Vec<Value> {
        let all = doc["traceEvents"].as_array().expect("traceEvents is an array");
        all.iter().filter(|e| e["ph"] == ph).cloned().collect()
    }

    #[test]
    fn one_complete_event_per_attempt_with_times_in_microseconds() {
        let mut rec = TraceRecorder::new();
        record(&mut rec, Instant::now());
        let doc: Value = serde_json::from_str(&rec.to_json()).expect("valid JSON");
        assert_eq!(doc["displayTimeUnit"], "ms");
        let bars = events_with(&doc, "X");
        let spans: Vec<_> = bars.iter().map(|e| (e["name"].clone(), e["ts"].clone(), e["dur"].clone())).collect();
        assert_eq!(spans, vec![
            (json!(NAMES[0]), json!(1000), json!(2000)),
            (json!(NAMES[1]), json!(2000), json!(2000)),
            (json!(NAMES[0]), json!(5000), json!(4000)),
        ]);
        assert_eq!(bars[0]["args"]["status"], "failed");
        assert_eq!(bars[0]["args"]["error"], "job 'clean' failed: boom");
        assert_eq!((bars[2]["args"]["attempt"].clone(), bars[2]["args"]["status"].clone()), (json!(2), json!("done")));
        assert!(bars.iter().all(|e| e["pid"] == 1 && e["cat"] == "job"));
        assert_eq!(bars[1]["tid"], 2);
    }

    #[test]
    fn lanes_are_named_after_jobs_and_progress_is_an_instant() {
        let mut rec = TraceRecorder::new();
        record(&mut rec, Instant::now());
        let doc: Value = serde_json::from_str(&rec.to_json()).expect("valid JSON");
        let names: Vec<_> = events_with(&doc, "M").into_iter()
            .filter(|e| e["name"] == "thread_name")
            .map(|e| (e["tid"].clone(), e["args"]["name"].clone()))
            .collect();
        assert_eq!(names, vec![(json!(1), json!(NAMES[0])), (json!(2), json!(NAMES[1])), (json!(3), json!(NAMES[2]))]);
        let instants = events_with(&doc, "i");
        assert_eq!(instants[0]["name"], "half \"way\"");
        assert_eq!((instants[0]["ts"].clone(), instants[0]["s"].clone()), (json!(2000), json!("t")));
        assert_eq!(instants[1]["args"]["status"], "upstream-failed");
    }

    #[test]
    fn a_new_run_starts_a_new_trace() {
        let mut rec = TraceRecorder::new();
        let t0 = Instant::now();
        record(&mut rec, t0);
        record(&mut rec, t0 + Duration::from_secs(1));
        let doc: Value = serde_json::from_str(&rec.to_json()).expect("valid JSON");
        assert_eq!(events_with(&doc, "X").len(), 3);
    }

    #[test]
    fn report_trace_has_one_bar_per_started_job() {
        let t0 = Instant::now();
        let mut jobs = vec![
            job(0, JobStatus::Done, (Some(1), Some(9)), t0),
            job(1, JobStatus::Running, (Some(2), None), t0),
            job(2, JobStatus::Pending, (None, None), t0),
        ];
        jobs[0].attempts = 2;
        let doc: Value = serde_json::from_str(&chrome_trace_json(&report(t0, jobs))).expect("valid JSON");
        let bars = events_with(&doc, "X");
        assert_eq!(bars.len(), 2);
        assert_eq!((bars[0]["ts"].clone(), bars[0]["dur"].clone()), (json!(1000), json!(8000)));
        assert_eq!(bars[0]["args"]["attempts"], 2);
        assert_eq!(bars[1]["dur"], 8000, "unfinished job runs to the end of the run");
        assert_eq!(events_with(&doc, "M").len(), 1 + 2 * 2);
    }

    #[test]
    fn to_file_overwrites_and_survives_an_unwritable_path() {
        let path = std::env::temp_dir().join(format!("taskloop-trace-{}.json", std::process::id()));
        std::fs::write(&path, "old contents that are longer than nothing").expect("temp file");
        let mut rec = TraceRecorder::to_file(&path);
        record(&mut rec, Instant::now());
        let text = std::fs::read_to_string(&path).expect("trace written");
        let _ = std::fs::remove_file(&path);
        assert_eq!(text, rec.to_json());
        let mut bad = TraceRecorder::to_file("/nonexistent-dir/taskloop/trace.json");
        record(&mut bad, Instant::now());
        record(&mut bad, Instant::now());
        assert!(bad.sink.as_ref().is_some_and(|s| s.reported));
    }
}
