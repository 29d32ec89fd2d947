//! Why a job has no result.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Any error a job body may return, once boxed.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// Why a job produced no result. Cheap to clone: every dependent of a failed job carries
/// the root error.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum JobError {
    /// The body returned an error (after any retries).
    Failed {
        /// The job's name.
        job: String,
        /// The body's error.
        source: Arc<dyn Error + Send + Sync + 'static>,
    },
    /// The body panicked.
    Panicked {
        /// The job's name.
        job: String,
        /// The panic message.
        message: String,
    },
    /// The body did not finish within the job's timeout.
    TimedOut {
        /// The job's name.
        job: String,
        /// The timeout.
        after: Duration,
    },
    /// The job, or the whole flow, was cancelled.
    Cancelled {
        /// The job's name.
        job: String,
    },
    /// The job never started because an input failed or was cancelled.
    UpstreamFailed {
        /// The job's name.
        job: String,
        /// The error of the root job whose failure skipped this one.
        root: Box<JobError>,
    },
    /// The result was asked for before the job ran (run the flow first, or use `wait`).
    NotRun {
        /// The job's name.
        job: String,
    },
    /// The job was declared with an input that belongs to another flow.
    ForeignInput {
        /// The job's name.
        job: String,
    },
}

impl JobError {
    /// The name of the job this error belongs to.
    pub fn job(&self) -> &str {
        match self {
            JobError::Failed { job, .. }
            | JobError::Panicked { job, .. }
            | JobError::TimedOut { job, .. }
            | JobError::Cancelled { job }
            | JobError::UpstreamFailed { job, .. }
            | JobError::NotRun { job }
            | JobError::ForeignInput { job } => job,
        }
    }

    /// The error that started it all: for a skipped job, the failed input's error;
    /// otherwise this error.
    pub fn root(&self) -> &JobError {
        match self {
            JobError::UpstreamFailed { root, .. } => root.root(),
            other => other,
        }
    }

    /// Whether the job (or its root input) was cancelled rather than failing.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.root(), JobError::Cancelled { .. })
    }

    /// The same error re-labelled as a skipped dependent `job`.
    pub(crate) fn upstream_of(&self, job: &str) -> JobError {
        JobError::UpstreamFailed {
            job: job.to_string(),
            root: Box::new(self.root().clone()),
        }
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::Failed { job, source } => write!(f, "job '{job}' failed: {source}"),
            JobError::Panicked { job, message } => write!(f, "job '{job}' panicked: {message}"),
            JobError::TimedOut { job, after } => {
                write!(f, "job '{job}' timed out after {after:?}")
            }
            JobError::Cancelled { job } => write!(f, "job '{job}' was cancelled"),
            JobError::UpstreamFailed { job, root } => {
                write!(f, "job '{job}' was skipped because input {root}")
            }
            JobError::NotRun { job } => {
                write!(
                    f,
                    "job '{job}' has not run yet (run the flow, or wait for the job)"
                )
            }
            JobError::ForeignInput { job } => {
                write!(
                    f,
                    "job '{job}' was given an input job from a different flow"
                )
            }
        }
    }
}

impl Error for JobError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            JobError::Failed { source, .. } => Some(&**source),
            JobError::UpstreamFailed { root, .. } => Some(&**root),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        assert!(std::mem::size_of::<JobError>() <= 48);
    }

    #[test]
    fn upstream_names_the_root_job_and_its_error() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "train.csv missing");
        let root = JobError::Failed {
            job: "load".into(),
            source: Arc::new(io),
        };
        let mid = root.upstream_of("clean");
        let leaf = mid.upstream_of("train");
        assert_eq!(leaf.root().job(), "load");
        let text = leaf.to_string();
        assert!(
            text.contains("'train'") && text.contains("'load'"),
            "{text}"
        );
        assert!(text.contains("train.csv missing"), "{text}");
    }
}
