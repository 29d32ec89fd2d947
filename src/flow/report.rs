//! What a run did: per job status, times, attempts and errors; counts; wall time; the
//! critical path.

use std::fmt;
use std::time::{Duration, Instant};

use super::error::JobError;
use super::status::{JobId, JobStatus};

/// One job's line in a [`Report`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JobReport {
    /// The job's id.
    pub id: JobId,
    /// The job's name.
    pub name: String,
    /// The jobs it takes its inputs from.
    pub inputs: Vec<JobId>,
    /// Its status when the report was made.
    pub status: JobStatus,
    /// When its first attempt started.
    pub started: Option<Instant>,
    /// When it reached its terminal status.
    pub finished: Option<Instant>,
    /// How many attempts started.
    pub attempts: u32,
    /// Why it has no result, if it has none.
    pub error: Option<JobError>,
    /// Whether it was part of the run this report describes (a flow run again keeps
    /// the jobs finished by earlier runs).
    pub in_this_run: bool,
}

impl JobReport {
    /// Time from first start to finish, for jobs that started and finished.
    pub fn duration(&self) -> Option<Duration> {
        Some(self.finished?.saturating_duration_since(self.started?))
    }
}

/// What a run did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Report {
    /// Every job of the flow, in declaration order.
    pub jobs: Vec<JobReport>,
    /// When the run started.
    pub started: Instant,
    /// How long the run took.
    pub wall_time: Duration,
    /// The chain of jobs that decided the run's end, first to last, among the jobs that
    /// ran (started an attempt) in this run. It ends at the job that finished last
    /// when every job is done, or at the first job that failed when one did; each step
    /// back goes to the input that finished last. Empty when no job ran.
    pub critical_path: Vec<JobId>,
    /// What went wrong in observers during the run, for the user to hear of: an observer
    /// that panicked (and was removed), a trace or chart that could not be written.
    /// The library never prints these itself.
    pub observer_errors: Vec<String>,
}

impl Report {
    /// How many jobs have `status`.
    pub fn count(&self, status: JobStatus) -> usize {
        self.jobs.iter().filter(|j| j.status == status).count()
    }

    /// Whether every job is `Done`.
    pub fn is_success(&self) -> bool {
        self.jobs.iter().all(|j| j.status == JobStatus::Done)
    }

    /// The first job with this name.
    pub fn job(&self, name: &str) -> Option<&JobReport> {
        self.jobs.iter().find(|j| j.name == name)
    }

    /// The jobs' errors, in declaration order.
    pub fn errors(&self) -> impl Iterator<Item = &JobError> {
        self.jobs.iter().filter_map(|j| j.error.as_ref())
    }

    /// The critical path's job names, first to last.
    pub fn critical_path_names(&self) -> Vec<&str> {
        self.critical_path
            .iter()
            .map(|id| self.jobs[id.0].name.as_str())
            .collect()
    }

    /// Offset of `t` from the run's start (zero for instants before it).
    pub fn offset(&self, t: Instant) -> Duration {
        t.saturating_duration_since(self.started)
    }

    pub(crate) fn compute_critical_path(jobs: &[JobReport]) -> Vec<JobId> {
        let ran = |j: &&JobReport| j.in_this_run && j.started.is_some() && j.finished.is_some();
        let first_failure = jobs
            .iter()
            .filter(ran)
            .filter(|j| j.status == JobStatus::Failed)
            .min_by_key(|j| j.finished);
        let end = first_failure.or_else(|| jobs.iter().filter(ran).max_by_key(|j| j.finished));
        let mut path = Vec::new();
        let mut cursor = end;
        while let Some(job) = cursor {
            path.push(job.id);
            cursor = job
                .inputs
                .iter()
                .map(|id| &jobs[id.0])
                .filter(ran)
                .max_by_key(|j| j.finished);
        }
        path.reverse();
        path
    }

    /// The critical path as text: `a -> b`, `a -> b (failed)` when it ends at a failure,
    /// `none (no job ran)`.
    fn critical_path_text(&self) -> String {
        let Some(last) = self.critical_path.last() else {
            return "none (no job ran)".to_owned();
        };
        let mut text = self.critical_path_names().join(" -> ");
        if self.jobs[last.0].status == JobStatus::Failed {
            text.push_str(" (failed)");
        }
        text
    }
}

impl fmt::Display for Report {
    /// A table: one line per job of this run, then the counts and the critical path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .jobs
            .iter()
            .map(|j| j.name.len())
            .max()
            .unwrap_or(3)
            .max(3);
        writeln!(
            f,
            "{:<width$}  {:<15} {:>9} {:>9} {:>8}  error",
            "job", "status", "start", "end", "attempts"
        )?;
        for j in self.jobs.iter().filter(|j| j.in_this_run) {
            let ms = |t: Option<Instant>| {
                t.map_or("-".to_string(), |t| {
                    format!("{:.1}ms", self.offset(t).as_secs_f64() * 1e3)
                })
            };
            let err = j.error.as_ref().map_or(String::new(), |e| e.to_string());
            writeln!(
                f,
                "{:<width$}  {:<15} {:>9} {:>9} {:>8}  {err}",
                j.name,
                j.status.as_str(),
                ms(j.started),
                ms(j.finished),
                j.attempts
            )?;
        }
        writeln!(
            f,
            "{} done, {} failed, {} cancelled, {} upstream-failed, {} pending in {:.1}ms",
            self.count(JobStatus::Done),
            self.count(JobStatus::Failed),
            self.count(JobStatus::Cancelled),
            self.count(JobStatus::UpstreamFailed),
            self.count(JobStatus::Pending),
            self.wall_time.as_secs_f64() * 1e3
        )?;
        write!(f, "critical path: {}", self.critical_path_text())?;
        for error in &self.observer_errors {
            write!(f, "\nobserver: {error}")?;
        }
        Ok(())
    }
}
