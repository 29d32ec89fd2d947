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

mod json;

use json::Json;

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
/// let path = std::env::temp_dir().join(format!("taskloop-doc-trace-{}.json", std::process::id()));
/// let mut flow = Flow::new();
/// flow.job("a", || 1);
/// flow.observe(TraceRecorder::to_file(&path)?);
/// flow.run();
/// let text = std::fs::read_to_string(&path).unwrap();
/// std::fs::remove_file(&path)?;
/// assert!(text.contains("\"traceEvents\""));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct TraceRecorder {
    sink: Option<FileSink>,
    start: Option<Instant>,
    lanes: BTreeMap<usize, String>,
    open: HashMap<usize, (Instant, u32)>,
    events: Vec<Json>,
}

impl TraceRecorder {
    /// A recorder that keeps the trace in memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// A recorder that writes the trace to `path` (overwriting it) when a run finishes.
    ///
    /// # Errors
    /// The file is created now, so a path that cannot be written is an error here,
    /// before any run. If writing it later fails, the run's report says so
    /// ([`Report::observer_errors`]); the run goes on.
    pub fn to_file(path: impl Into<PathBuf>) -> std::io::Result<Self> {
        Ok(TraceRecorder {
            sink: Some(FileSink::create(path.into())?),
            ..Self::default()
        })
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
        let args = Json::Obj(vec![
            ("fraction", fraction.into()),
            ("message", message.into()),
        ]);
        self.events.push(Json::Obj(vec![
            ("name", name.into()),
            ("cat", "progress".into()),
            ("ph", "i".into()),
            ("s", "t".into()),
            ("ts", ts.into()),
            ("pid", 1u64.into()),
            ("tid", tid.into()),
            ("args", args),
        ]));
    }

    /// Ends the job's open attempt with these `args`; false if none was open.
    fn close(&mut self, at: Instant, job: JobInfo<'_>, args: Args) -> bool {
        let Some((began, attempt)) = self.open.remove(&job.id.index()) else {
            return false;
        };
        let (ts, end, tid) = (self.micros(began), self.micros(at), self.lane(job));
        let mut args = args;
        args.push(("attempt", attempt.into()));
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
                args.push(("retry_in_ms", (delay.as_secs_f64() * 1e3).into()));
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

    fn take_errors(&mut self) -> Vec<String> {
        self.sink
            .as_mut()
            .map(FileSink::take_errors)
            .unwrap_or_default()
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
/// flow.job("a", || 1);
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
        args.push(("attempts", job.attempts.into()));
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

/// Writes a file each time it is asked, overwriting it, and keeps what went wrong for
/// the run's report ([`Observer::take_errors`]); it never prints.
#[derive(Debug)]
pub(super) struct FileSink {
    path: PathBuf,
    errors: Vec<String>,
}

impl FileSink {
    /// Creates (or truncates) the file at once, so that a path that cannot be written
    /// fails before the run rather than after it.
    pub(super) fn create(path: PathBuf) -> std::io::Result<Self> {
        std::fs::File::create(&path).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
        })?;
        Ok(FileSink {
            path,
            errors: Vec::new(),
        })
    }

    /// Writes `contents`; `what` names them in the error, if any.
    pub(super) fn write(&mut self, what: &str, contents: &[u8]) {
        if let Err(e) = std::fs::write(&self.path, contents) {
            let path = self.path.display();
            self.errors
                .push(format!("could not write the {what} to {path}: {e}"));
        }
    }

    /// The errors since the last call.
    pub(super) fn take_errors(&mut self) -> Vec<String> {
        std::mem::take(&mut self.errors)
    }
}

fn lane_of(index: usize) -> u64 {
    u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1)
}

fn micros_since(start: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(start).as_micros()).unwrap_or(u64::MAX)
}

/// The `args` of an event, in order.
type Args = Vec<(&'static str, Json)>;

/// `args` for a finished attempt or job: its status and, if any, the error text.
fn outcome(status: &str, error: Option<&JobError>) -> Args {
    let mut args = vec![("status", status.into())];
    if let Some(error) = error {
        args.push(("error", error.to_string().into()));
    }
    args
}

/// A complete event (`"ph":"X"`): a bar from `ts` lasting `dur` microseconds.
fn complete(name: &str, tid: u64, ts: u64, dur: u64, args: Args) -> Json {
    Json::Obj(vec![
        ("name", name.into()),
        ("cat", "job".into()),
        ("ph", "X".into()),
        ("ts", ts.into()),
        ("dur", dur.into()),
        ("pid", 1u64.into()),
        ("tid", tid.into()),
        ("args", Json::Obj(args)),
    ])
}

/// An instant event (`"ph":"i"`) on the job's lane.
fn instant(name: &str, tid: u64, ts: u64, args: Args) -> Json {
    Json::Obj(vec![
        ("name", name.into()),
        ("cat", "job".into()),
        ("ph", "i".into()),
        ("s", "t".into()),
        ("ts", ts.into()),
        ("pid", 1u64.into()),
        ("tid", tid.into()),
        ("args", Json::Obj(args)),
    ])
}

/// A metadata event (`"ph":"M"`) naming or ordering lane `tid`.
fn metadata(name: &str, tid: u64, args: Args) -> Json {
    Json::Obj(vec![
        ("name", name.into()),
        ("ph", "M".into()),
        ("pid", 1u64.into()),
        ("tid", tid.into()),
        ("args", Json::Obj(args)),
    ])
}

/// The whole trace: process and lane names first, then `events`.
fn document(lanes: &BTreeMap<usize, String>, events: &[Json]) -> Json {
    let mut all = vec![metadata("process_name", 0, vec![("name", "flow".into())])];
    for (&index, name) in lanes {
        let tid = lane_of(index);
        all.push(metadata(
            "thread_name",
            tid,
            vec![("name", name.as_str().into())],
        ));
        all.push(metadata(
            "thread_sort_index",
            tid,
            vec![("sort_index", tid.into())],
        ));
    }
    all.extend(events.iter().cloned());
    Json::Obj(vec![
        ("traceEvents", Json::Arr(all)),
        ("displayTimeUnit", "ms".into()),
    ])
}

#[cfg(test)]
mod tests;
