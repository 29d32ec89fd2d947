//! A run as a Gantt chart in a standalone SVG file: one row per job of the run, a bar
//! from its first start to its finish coloured by status, a time axis, and arrows from
//! each input's end to its dependent's start.
//!
//! Each row is a `<g class="job" data-job="NAME" data-status="STATUS">`, so scripts and
//! tests can find a job's row; hovering a row shows its times, attempts and error.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::time::Instant;

use super::observe::{Event, Observer};
use super::progress_view::human;
use super::report::{JobReport, Report};
use super::status::JobStatus;
use super::trace::FileSink;

/// How [`gantt_svg`] draws a chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GanttOptions {
    /// Draw an arrow from the end of each input's bar to the start of its dependent's.
    pub arrows: bool,
    /// Width of the picture in pixels (kept within 240..=20000); the height follows from
    /// the number of jobs.
    pub width: u32,
    /// The title, followed by the wall time and the counts; `None` means "flow run".
    pub title: Option<String>,
}

impl Default for GanttOptions {
    /// Arrows on, 900 pixels wide, no title.
    fn default() -> Self {
        GanttOptions {
            arrows: true,
            width: 900,
            title: None,
        }
    }
}

/// Writes a run's Gantt chart ([`gantt_svg`]) to a file when the run finishes,
/// overwriting it. If the file cannot be written, that is said once on stderr.
///
/// # Examples
/// ```
/// use taskloop::flow::{Flow, GanttOptions, GanttRecorder};
/// let path = std::env::temp_dir().join(format!("taskloop-doc-gantt-{}.svg", std::process::id()));
/// let mut flow = Flow::new();
/// flow.job("a", || 1);
/// let options = GanttOptions { title: Some("nightly".into()), ..GanttOptions::default() };
/// flow.observe(GanttRecorder::to_file(&path, options)?);
/// flow.run();
/// let svg = std::fs::read_to_string(&path).unwrap();
/// std::fs::remove_file(&path)?;
/// assert!(svg.contains("data-job=\"a\""));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct GanttRecorder {
    sink: FileSink,
    options: GanttOptions,
}

impl GanttRecorder {
    /// A recorder that draws the chart with `options` and writes it to `path`.
    ///
    /// # Errors
    /// The file is created now, so a path that cannot be written is an error here,
    /// before any run. If writing it later fails, the run's report says so
    /// ([`Report::observer_errors`](super::Report::observer_errors)).
    pub fn to_file(path: impl Into<PathBuf>, options: GanttOptions) -> std::io::Result<Self> {
        let sink = FileSink::create(path.into())?;
        Ok(GanttRecorder { sink, options })
    }
}

impl Observer for GanttRecorder {
    fn on_event(&mut self, event: &Event<'_>) {
        if let Event::RunFinished { report, .. } = event {
            let svg = gantt_svg(report, &self.options);
            self.sink.write("Gantt chart", svg.as_bytes());
        }
    }

    fn take_errors(&mut self) -> Vec<String> {
        self.sink.take_errors()
    }
}

/// The report's jobs of this run as a Gantt chart, in declaration order: a standalone
/// SVG document.
///
/// Bars are green for done, red for failed, grey for cancelled; a job that finished
/// without starting (skipped because an input failed, or cancelled while waiting) gets
/// a small outlined marker at the moment it was given up; running and pending jobs get
/// no bar. All text is XML-escaped.
pub fn gantt_svg(report: &Report, options: &GanttOptions) -> String {
    let chart = Chart::new(report, options);
    let mut svg = String::new();
    // Writing to a `String` cannot fail.
    let _ = chart.draw(&mut svg, options);
    svg
}

const TOP: f64 = 58.0;
const ROW: f64 = 24.0;
const BAR: f64 = 14.0;
const RIGHT: f64 = 24.0;
const BOTTOM: f64 = 12.0;
const CHAR: f64 = 7.0;

/// The same for every chart: styles, the arrowhead, a white background.
const STYLE: &str = r##"<style>
text { font-family: sans-serif; font-size: 12px; fill: #222; }
.title { font-size: 14px; font-weight: bold; }
.tick, .note { font-size: 10px; fill: #666; }
.grid { stroke: #e4e4e4; }
.deps path { fill: none; stroke: #555; stroke-opacity: 0.6; }
</style>
<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="6" markerHeight="6"
 orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>
<rect width="100%" height="100%" fill="white"/>"##;

/// The geometry of one chart: rows top to bottom, time left (`x0`) to right (`x1`).
struct Chart<'a> {
    report: &'a Report,
    rows: Vec<&'a JobReport>,
    row_of: HashMap<usize, usize>,
    width: f64,
    x0: f64,
    x1: f64,
    /// Seconds shown on the time axis (never zero).
    span: f64,
}

impl<'a> Chart<'a> {
    fn new(report: &'a Report, options: &GanttOptions) -> Self {
        let rows: Vec<_> = report.jobs.iter().filter(|j| j.in_this_run).collect();
        let row_of = rows
            .iter()
            .enumerate()
            .map(|(r, j)| (j.id.index(), r))
            .collect();
        let width = f64::from(options.width.clamp(240, 20_000));
        let longest = rows
            .iter()
            .map(|j| j.name.chars().count())
            .max()
            .unwrap_or(0);
        let x0 = (longest as f64 * CHAR + 16.0).clamp(60.0, width * 0.35);
        let times = rows.iter().flat_map(|j| [j.started, j.finished]).flatten();
        let last = times
            .map(|t| report.offset(t).as_secs_f64())
            .fold(0.0, f64::max);
        let span = report.wall_time.as_secs_f64().max(last);
        let span = if span > 0.0 { span } else { 1e-3 };
        let x1 = width - RIGHT;
        Chart {
            report,
            rows,
            row_of,
            width,
            x0,
            x1,
            span,
        }
    }

    fn x(&self, t: Instant) -> f64 {
        let fraction = self.report.offset(t).as_secs_f64() / self.span;
        self.x0 + fraction.clamp(0.0, 1.0) * (self.x1 - self.x0)
    }

    /// The middle of a row.
    fn y(&self, row: usize) -> f64 {
        TOP + row as f64 * ROW + ROW / 2.0
    }

    fn draw(&self, out: &mut String, options: &GanttOptions) -> fmt::Result {
        let (w, h) = (self.width, TOP + self.rows.len() as f64 * ROW + BOTTOM);
        let title = esc(&self.title_line(options.title.as_deref().unwrap_or("flow run")));
        writeln!(
            out,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">
{STYLE}
<text class="title" x="10" y="20">{title}</text>"#
        )?;
        self.axis(out)?;
        for (row, job) in self.rows.iter().enumerate() {
            self.row(out, row, job)?;
        }
        if options.arrows {
            self.arrows(out)?;
        }
        writeln!(out, "</svg>")
    }

    /// `title · wall time 1.2s · 3 done, 1 failed`.
    fn title_line(&self, title: &str) -> String {
        let mut counts = Vec::new();
        for status in [
            JobStatus::Done,
            JobStatus::Failed,
            JobStatus::Cancelled,
            JobStatus::UpstreamFailed,
        ] {
            let n = self.rows.iter().filter(|j| j.status == status).count();
            if n > 0 || status == JobStatus::Done {
                counts.push(format!("{n} {status}"));
            }
        }
        let wall = human(self.report.wall_time);
        format!("{title} · wall time {wall} · {}", counts.join(", "))
    }

    fn axis(&self, out: &mut String) -> fmt::Result {
        let (top, label_y, bottom) = (TOP - 4.0, TOP - 8.0, TOP + self.rows.len() as f64 * ROW);
        let (step, ticks) = ticks(self.span, self.x1 - self.x0);
        writeln!(out, r#"<g class="axis">"#)?;
        for t in ticks {
            let x = self.x0 + t / self.span * (self.x1 - self.x0);
            let label = tick_label(t, step, self.span);
            writeln!(
                out,
                r#"<line class="grid" x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{bottom}"/>
<text class="tick" x="{x:.1}" y="{label_y}" text-anchor="middle">{label}</text>"#
            )?;
        }
        let (x0, x1) = (self.x0, self.x1);
        writeln!(
            out,
            r##"<line x1="{x0:.1}" y1="{TOP}" x2="{x1:.1}" y2="{TOP}" stroke="#999"/>"##
        )?;
        writeln!(out, "</g>")
    }

    fn row(&self, out: &mut String, row: usize, job: &JobReport) -> fmt::Result {
        let (name, status, tip) = (esc(&job.name), job.status, esc(&self.tooltip(job)));
        writeln!(
            out,
            r#"<g class="job" data-job="{name}" data-status="{status}">"#
        )?;
        writeln!(out, "<title>{tip}</title>")?;
        let (y, width) = (self.y(row), self.width);
        if row % 2 == 1 {
            let top = y - ROW / 2.0;
            writeln!(
                out,
                r##"<rect y="{top}" width="{width}" height="{ROW}" fill="#f7f7f7"/>"##
            )?;
        }
        let label = esc(&fit(&job.name, ((self.x0 - 12.0) / CHAR) as usize));
        let (label_x, label_y) = (self.x0 - 8.0, y + 4.0);
        writeln!(
            out,
            r#"<text x="{label_x}" y="{label_y}" text-anchor="end">{label}</text>"#
        )?;
        match (job.started, job.finished) {
            (Some(start), Some(end)) if status.is_terminal() => {
                let (a, b, top, fill) = (self.x(start), self.x(end), y - BAR / 2.0, colour(status));
                let w = (b - a).max(1.0);
                writeln!(
                    out,
                    r#"<rect x="{a:.1}" y="{top}" width="{w:.1}" height="{BAR}" rx="2" fill="{fill}"/>"#
                )?;
            }
            (None, Some(end)) => marker(out, self.x(end), y, status)?,
            _ => {}
        }
        writeln!(out, "</g>")
    }

    /// `name: status, 12ms to 340ms (328ms), 1 attempt` and the error on a second line.
    fn tooltip(&self, job: &JobReport) -> String {
        let at = |t: Option<Instant>| t.map_or("-".to_string(), |t| human(self.report.offset(t)));
        let (start, end) = (at(job.started), at(job.finished));
        let took = job
            .duration()
            .map_or(String::new(), |d| format!(" ({})", human(d)));
        let plural = if job.attempts == 1 { "" } else { "s" };
        let error = job
            .error
            .as_ref()
            .map_or(String::new(), |e| format!("\n{e}"));
        let (name, status, attempts) = (&job.name, job.status, job.attempts);
        format!("{name}: {status}, {start} to {end}{took}, {attempts} attempt{plural}{error}")
    }

    /// A curve from the end of each input's bar to the start of its dependent's.
    fn arrows(&self, out: &mut String) -> fmt::Result {
        writeln!(out, r#"<g class="deps">"#)?;
        for (row, job) in self.rows.iter().enumerate() {
            let marker_tip = job.finished.map(|t| self.x(t) - 5.0);
            let Some(to) = job.started.map(|t| self.x(t)).or(marker_tip) else {
                continue;
            };
            for input in &job.inputs {
                let from_row = self.row_of.get(&input.index()).copied();
                let Some((from_row, end)) =
                    from_row.and_then(|r| Some((r, self.rows[r].finished?)))
                else {
                    continue;
                };
                let (from, y1, y2) = (self.x(end), self.y(from_row), self.y(row));
                let c = ((to - from).abs() / 2.0).max(12.0);
                let (c1, c2) = (from + c, to - c);
                let d = format!("M{from:.1},{y1} C{c1:.1},{y1} {c2:.1},{y2} {to:.1},{y2}");
                writeln!(out, r#"<path d="{d}" marker-end="url(#arrow)"/>"#)?;
            }
        }
        writeln!(out, "</g>")
    }
}

/// A small outlined diamond, and a note, for a job given up before it started.
fn marker(out: &mut String, x: f64, y: f64, status: JobStatus) -> fmt::Result {
    let (left, right, top, bottom) = (x - 5.0, x + 5.0, y - 5.0, y + 5.0);
    let d = format!("M{x:.1},{top} L{right:.1},{y} L{x:.1},{bottom} L{left:.1},{y} Z");
    let note = if status == JobStatus::UpstreamFailed {
        "skipped"
    } else {
        status.as_str()
    };
    let (note_x, note_y) = (x + 8.0, y + 3.0);
    writeln!(
        out,
        r##"<path d="{d}" fill="#eeeeee" stroke="#9e9e9e"/>
<text class="note" x="{note_x:.1}" y="{note_y}">{note}</text>"##
    )
}

fn colour(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Done => "#43a047",
        JobStatus::Failed => "#e53935",
        JobStatus::Cancelled => "#9e9e9e",
        JobStatus::UpstreamFailed => "#e0e0e0",
        JobStatus::Running | JobStatus::Pending => "#90caf9",
    }
}

/// A tick step of 1, 2 or 5 times a power of ten giving at most one tick per ~70 pixels
/// of `room`, and the ticks from 0 to `span` (seconds).
fn ticks(span: f64, room: f64) -> (f64, Vec<f64>) {
    let raw = span / (room / 70.0).floor().max(2.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    let mut nice = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude);
    let step = nice.find(|s| *s >= raw).unwrap_or(raw);
    let count = ((span / step) + 1e-9).floor().min(1000.0) as usize;
    (step, (0..=count).map(|i| i as f64 * step).collect())
}

/// `t` seconds in ms (for runs under a second) or s, with as many decimals as `step` needs.
fn tick_label(t: f64, step: f64, span: f64) -> String {
    let (scale, unit) = if span >= 1.0 { (1.0, "s") } else { (1e3, "ms") };
    let decimals = (-(step * scale).log10().floor()).clamp(0.0, 6.0) as usize;
    format!("{:.decimals$}{unit}", t * scale)
}

/// `text` cut to `max` characters, ending with `…` if it was cut.
fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `text` escaped for XML text and attribute values; characters XML 1.0 forbids
/// (control characters other than tab, newline and carriage return) become U+FFFD.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
