//! Job identity and status.

use std::fmt;

/// Identifies a job within its flow (its declaration index). `Copy` and `Send`, so it
/// can name a job to a [`CancelHandle`](super::CancelHandle) on another thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub(crate) usize);

impl JobId {
    /// The declaration index (0 for the first job declared in the flow).
    pub fn index(self) -> usize {
        self.0
    }
}

/// Where a job is in its life.
///
/// | status | meaning | next |
/// |---|---|---|
/// | `Pending` | declared; waiting for its inputs, a free slot, or the next run | `Running`, `Cancelled`, `UpstreamFailed` |
/// | `Running` | an attempt (or a retry's back-off) is under way | `Done`, `Failed`, `Cancelled` |
/// | `Done` | finished; its result is stored | — |
/// | `Failed` | the body failed, panicked or timed out, with no retry left | — |
/// | `Cancelled` | cancelled itself, or the whole flow was | — |
/// | `UpstreamFailed` | skipped: an input failed or was cancelled; the body never started | — |
///
/// The last four are terminal: a job's status never changes once it is terminal, and
/// the first terminal outcome wins (a result arriving after a cancellation is dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Waiting for inputs, a slot, or a run.
    Pending,
    /// An attempt is in progress.
    Running,
    /// Finished with a result.
    Done,
    /// Finished with an error.
    Failed,
    /// Cancelled.
    Cancelled,
    /// Skipped because an input failed or was cancelled.
    UpstreamFailed,
}

impl JobStatus {
    /// Whether the status can no longer change.
    pub fn is_terminal(self) -> bool {
        !matches!(self, JobStatus::Pending | JobStatus::Running)
    }

    /// The lower-case name used in reports and traces (`"upstream-failed"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
            JobStatus::UpstreamFailed => "upstream-failed",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
