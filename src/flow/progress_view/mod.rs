//! A progress view of a flow run for a terminal or a log.
//!
//! [`ProgressView`] shows a run in one of three [`ProgressMode`]s. *Live* keeps one line
//! per running job at the bottom of the terminal and redraws it in place (cursor up,
//! clear line), at most every 50 ms except when a job starts or finishes; finished jobs
//! are printed once, above that block, as permanent lines. *Plain* prints one log line
//! per start, retry and finish, and progress lines at most once a second or every 10 %
//! per job: the shape CI logs want. *Disabled* prints nothing.
//!
//! Throttling goes by the events' own times, not the clock. Errors writing the output are
//! ignored: a view never stops or fails a run.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use super::error::JobError;
use super::observe::{Event, JobInfo, Observer};
use super::report::Report;
use super::status::JobStatus;

/// How a [`ProgressView`] shows a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// One line per running job redrawn in place with ANSI escapes, finished jobs
    /// printed once above them. For a terminal.
    Live,
    /// One log line per start, progress step, retry and finish. For CI logs and files.
    Plain,
    /// Nothing at all.
    Disabled,
}

const REDRAW_EVERY: Duration = Duration::from_millis(50);
const LOG_EVERY: Duration = Duration::from_secs(1);
const LOG_STEP: f64 = 0.1;
const BAR_CELLS: usize = 20;
const ERASE_LINE: &str = "\x1b[1A\x1b[2K";

/// Shows a flow run on stderr (or any writer) as it happens.
///
/// # Examples
/// ```
/// use taskloop::flow::{Flow, ProgressView};
/// let mut flow = Flow::new();
/// flow.job("a", || 1);
/// flow.observe(ProgressView::new());
/// flow.run();
/// ```
pub struct ProgressView {
    mode: ProgressMode,
    out: Box<dyn Write>,
    /// Characters per live line (from `COLUMNS`, else 80).
    width: usize,
    start: Option<Instant>,
    first_start: HashMap<usize, Instant>,
    /// Live mode: the running jobs, in the order they started.
    running: Vec<Line>,
    /// Live mode: how many live lines are on the screen below the permanent ones.
    drawn: usize,
    last_draw: Option<Instant>,
    /// Plain mode: when and at what fraction each job's last progress line was printed.
    logged: HashMap<usize, (Instant, Option<f64>)>,
}

/// One running job's live line.
struct Line {
    index: usize,
    name: String,
    fraction: Option<f64>,
    message: String,
}

impl ProgressView {
    /// A view on stderr: live if stderr is a terminal (and `TERM` is not `dumb`), plain
    /// otherwise.
    pub fn new() -> Self {
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        let live = io::stderr().is_terminal() && !dumb;
        Self::to_writer(
            Box::new(io::stderr()),
            if live {
                ProgressMode::Live
            } else {
                ProgressMode::Plain
            },
        )
    }

    /// A plain (log line) view on stderr.
    pub fn plain() -> Self {
        Self::to_writer(Box::new(io::stderr()), ProgressMode::Plain)
    }

    /// A live (redrawn in place) view on stderr, terminal or not.
    pub fn live() -> Self {
        Self::to_writer(Box::new(io::stderr()), ProgressMode::Live)
    }

    /// A view that prints nothing.
    pub fn disabled() -> Self {
        Self::to_writer(Box::new(io::sink()), ProgressMode::Disabled)
    }

    /// A view writing to `out` in `mode`.
    pub fn to_writer(out: Box<dyn Write>, mode: ProgressMode) -> Self {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse().ok());
        ProgressView {
            mode,
            out,
            width: width.unwrap_or(80).max(20),
            start: None,
            first_start: HashMap::new(),
            running: Vec::new(),
            drawn: 0,
            last_draw: None,
            logged: HashMap::new(),
        }
    }

    /// The mode this view shows the run in.
    pub fn mode(&self) -> ProgressMode {
        self.mode
    }

    /// Keeps the run's start and each job's first start.
    fn note(&mut self, event: &Event<'_>) {
        match *event {
            Event::RunStarted { at, .. } => {
                self.start = Some(at);
                self.first_start.clear();
                self.running.clear();
                self.logged.clear();
            }
            Event::Started { at, job, .. } => {
                self.first_start.entry(job.id.index()).or_insert(at);
                self.logged.remove(&job.id.index());
            }
            _ => {}
        }
        self.start.get_or_insert(event.at());
    }

    /// What a finish shows: a word (`done`, `failed`, `cancelled`, `skipped`) and the
    /// details (the time a done job took, or the error).
    fn outcome(
        &self,
        at: Instant,
        job: JobInfo<'_>,
        status: JobStatus,
        error: Option<&JobError>,
    ) -> (&'static str, String) {
        let detail = error.map_or(String::new(), short);
        match status {
            JobStatus::Done => {
                let first = self.first_start.get(&job.id.index());
                (
                    "done",
                    first.map_or(String::new(), |&s| human(at.saturating_duration_since(s))),
                )
            }
            JobStatus::Cancelled => ("cancelled", String::new()),
            JobStatus::UpstreamFailed => ("skipped", detail),
            other => (other.as_str(), detail),
        }
    }

    fn plain_event(&mut self, event: &Event<'_>, buf: &mut String) {
        let line = match *event {
            Event::RunStarted { pending, .. } => format!("run      {pending} jobs"),
            Event::Queued { .. } => return,
            Event::Started { job, attempt, .. } => {
                format!("started  {} (attempt {attempt})", job.name)
            }
            Event::Progress {
                at,
                job,
                fraction,
                message,
            } => {
                let fraction = known(fraction);
                if !self.log_progress(at, job, fraction) {
                    return;
                }
                let percent = fraction.map_or(String::new(), |f| format!(" {:.0}%", f * 100.0));
                format!("progress {}{percent} {message}", job.name)
            }
            Event::Retrying {
                job,
                attempt,
                error,
                delay,
                ..
            } => {
                format!(
                    "retrying {} (attempt {attempt} {}; next in {})",
                    job.name,
                    phrase(error),
                    human(delay)
                )
            }
            Event::Finished {
                at,
                job,
                status,
                error,
                ..
            } => {
                let (word, detail) = self.outcome(at, job, status, error);
                let sep = if status == JobStatus::Done {
                    "  "
                } else {
                    ": "
                };
                let detail = if detail.is_empty() {
                    detail
                } else {
                    format!("{sep}{detail}")
                };
                format!("{word:<8} {}{detail}", job.name)
            }
            Event::RunFinished { report, .. } => format!("finished {}", summary(report)),
        };
        let secs = self.start.map_or(0.0, |s| {
            event.at().saturating_duration_since(s).as_secs_f64()
        });
        buf.push_str(&format!("[{secs:7.3}s] {}", clean(line.trim_end())));
        buf.push('\n');
    }

    /// Whether to print this progress report (and if so, remember it).
    fn log_progress(&mut self, at: Instant, job: JobInfo<'_>, fraction: Option<f64>) -> bool {
        if let Some(&(last, last_fraction)) = self.logged.get(&job.id.index()) {
            let step = match (fraction, last_fraction) {
                (Some(now), Some(then)) => (now - then).abs() >= LOG_STEP,
                (now, then) => now.is_some() != then.is_some(),
            };
            if !step && at.saturating_duration_since(last) < LOG_EVERY {
                return false;
            }
        }
        self.logged.insert(job.id.index(), (at, fraction));
        true
    }

    fn live_event(&mut self, event: &Event<'_>, buf: &mut String) {
        match *event {
            Event::Started { at, job, attempt } => {
                let message = if attempt > 1 {
                    format!("attempt {attempt}")
                } else {
                    String::new()
                };
                self.set_line(job, None, message, true);
                self.redraw(buf, at, None);
            }
            Event::Progress {
                at,
                job,
                fraction,
                message,
            } => {
                self.set_line(job, known(fraction), clean(message), false);
                if self
                    .last_draw
                    .is_none_or(|t| at.saturating_duration_since(t) >= REDRAW_EVERY)
                {
                    self.redraw(buf, at, None);
                }
            }
            Event::Retrying {
                at,
                job,
                attempt,
                error,
                delay,
            } => {
                let message = format!(
                    "attempt {attempt} {}; retrying in {}",
                    phrase(error),
                    human(delay)
                );
                self.set_line(job, None, clean(&message), false);
                self.redraw(buf, at, None);
            }
            Event::Finished {
                at,
                job,
                status,
                error,
                ..
            } => {
                self.running.retain(|l| l.index != job.id.index());
                let (word, detail) = self.outcome(at, job, status, error);
                let line = match (status, detail.is_empty()) {
                    (JobStatus::Done, _) => format!("✓ {}  {detail}", job.name),
                    (_, true) => format!("- {}  {word}", job.name),
                    (JobStatus::Failed, false) => format!("✗ {}  {word}: {detail}", job.name),
                    (_, false) => format!("- {}  {word}: {detail}", job.name),
                };
                self.redraw(buf, at, Some(line));
            }
            Event::RunFinished { report, .. } => {
                self.running.clear();
                self.erase(buf);
                buf.push_str(&summary(report));
                buf.push('\n');
            }
            Event::RunStarted { .. } | Event::Queued { .. } => {}
        }
    }

    /// Updates a running job's line; adds it only if `add` (a start).
    fn set_line(&mut self, job: JobInfo<'_>, fraction: Option<f64>, message: String, add: bool) {
        let index = job.id.index();
        match self.running.iter_mut().find(|l| l.index == index) {
            Some(line) => (line.fraction, line.message) = (fraction, message),
            None if add => self.running.push(Line {
                index,
                name: clean(job.name),
                fraction,
                message,
            }),
            None => {}
        }
    }

    /// Erases the live block, prints `permanent` above it, and draws it again.
    fn redraw(&mut self, buf: &mut String, at: Instant, permanent: Option<String>) {
        self.erase(buf);
        if let Some(line) = permanent {
            buf.push_str(&clean(&line));
            buf.push('\n');
        }
        let name_width = self
            .running
            .iter()
            .map(|l| l.name.chars().count())
            .max()
            .unwrap_or(0)
            .min(30);
        for line in &self.running {
            let text: String = render(line, name_width)
                .chars()
                .take(self.width - 1)
                .collect();
            buf.push_str(text.trim_end());
            buf.push('\n');
        }
        self.drawn = self.running.len();
        self.last_draw = Some(at);
    }

    fn erase(&mut self, buf: &mut String) {
        for _ in 0..self.drawn {
            buf.push_str(ERASE_LINE);
        }
        buf.push('\r');
        self.drawn = 0;
    }
}

impl Default for ProgressView {
    /// Same as [`ProgressView::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ProgressView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgressView")
            .field("mode", &self.mode)
            .field("running", &self.running.len())
            .field("drawn", &self.drawn)
            .finish_non_exhaustive()
    }
}

impl Observer for ProgressView {
    fn on_event(&mut self, event: &Event<'_>) {
        let mut buf = String::new();
        self.note(event);
        match self.mode {
            ProgressMode::Live => self.live_event(event, &mut buf),
            ProgressMode::Plain => self.plain_event(event, &mut buf),
            ProgressMode::Disabled => return,
        }
        if !buf.is_empty() {
            let _ = self.out.write_all(buf.as_bytes());
            let _ = self.out.flush();
        }
    }
}

/// `name [#######-------]  45% message`, or `name  message` when no fraction is known.
fn render(line: &Line, name_width: usize) -> String {
    let name = format!("{:<name_width$}", line.name);
    match line.fraction {
        Some(f) => {
            let filled = ((f * BAR_CELLS as f64).round() as usize).min(BAR_CELLS);
            let bar = format!("{}{}", "#".repeat(filled), "-".repeat(BAR_CELLS - filled));
            format!("{name} [{bar}] {:>3.0}% {}", f * 100.0, line.message)
        }
        None if line.message.is_empty() => format!("{name}  running"),
        None => format!("{name}  {}", line.message),
    }
}

/// The fraction within `0.0..=1.0`, or `None` if it is not a number.
fn known(fraction: f64) -> Option<f64> {
    fraction.is_finite().then(|| fraction.clamp(0.0, 1.0))
}

/// `text` on one line, without control characters (which would garble a terminal).
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The error without the job's name: `boom`, `panicked: ...`, `input 'b' failed: boom`.
fn short(error: &JobError) -> String {
    match error {
        JobError::Failed { source, .. } => source.to_string(),
        JobError::Panicked { message, .. } => format!("panicked: {message}"),
        JobError::TimedOut { after, .. } => format!("timed out after {}", human(*after)),
        JobError::Cancelled { .. } => "cancelled".to_string(),
        JobError::UpstreamFailed { root, .. } => format!("input '{}' {}", root.job(), phrase(root)),
        other => other.to_string(),
    }
}

/// The error as what happened: `failed: boom`, `was cancelled`, `skipped: input ...`.
fn phrase(error: &JobError) -> String {
    match error {
        JobError::Failed { .. } => format!("failed: {}", short(error)),
        JobError::Cancelled { .. } => "was cancelled".to_string(),
        JobError::UpstreamFailed { .. } => format!("skipped: {}", short(error)),
        other => short(other),
    }
}

/// `3 done, 1 failed, 1 skipped in 1.2s`, counting the jobs of this run.
fn summary(report: &Report) -> String {
    let jobs: Vec<_> = report.jobs.iter().filter(|j| j.in_this_run).collect();
    let count =
        |statuses: &[JobStatus]| jobs.iter().filter(|j| statuses.contains(&j.status)).count();
    let mut parts = vec![format!("{} done", count(&[JobStatus::Done]))];
    let others = [
        (count(&[JobStatus::Failed]), "failed"),
        (count(&[JobStatus::Cancelled]), "cancelled"),
        (count(&[JobStatus::UpstreamFailed]), "skipped"),
        (
            count(&[JobStatus::Pending, JobStatus::Running]),
            "not finished",
        ),
    ];
    parts.extend(
        others
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}")),
    );
    format!("{} in {}", parts.join(", "), human(report.wall_time))
}

/// A duration the way people read it: `4.2ms`, `340ms`, `1.2s`, `2m05s`.
pub(super) fn human(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 60.0 {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    } else if secs >= 1.0 {
        format!("{secs:.1}s")
    } else if secs >= 0.01 {
        format!("{:.0}ms", secs * 1e3)
    } else {
        format!("{:.1}ms", secs * 1e3)
    }
}

#[cfg(test)]
mod tests;
