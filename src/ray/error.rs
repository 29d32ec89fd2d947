//! [`RayError`]: why a call to a Ray cluster, or a Ray job, failed.

use std::fmt;
use std::io;

use super::details::JobDetails;

/// Why a call to a Ray cluster or a Ray job failed. Messages quote Ray's own text where
/// there is one, and never contain the token.
#[derive(Debug)]
#[non_exhaustive]
pub enum RayError {
    /// The dashboard could not be reached (after retries): connection refused or reset,
    /// name not found, timed out.
    Unreachable {
        /// The dashboard URL.
        url: String,
        /// What went wrong.
        message: String,
        /// The I/O error behind it, if there was one (also [`source`]).
        ///
        /// [`source`]: std::error::Error::source
        io: Option<io::Error>,
    },
    /// The cluster refused the request's credentials: `401` (the cluster wants a token
    /// and none was sent) or `403` (the token is wrong).
    Unauthorized {
        /// `401` or `403`.
        status: u16,
        /// Ray's text.
        message: String,
    },
    /// The cluster refused the request: a `4xx` other than `401` and `403`, or a `5xx`
    /// that persisted through every retry.
    Rejected {
        /// The HTTP status.
        status: u16,
        /// Ray's text (for a Python traceback, its last line).
        message: String,
    },
    /// The answer is not what Ray's Jobs API answers.
    Protocol {
        /// What was wrong with it.
        message: String,
    },
    /// A job spec cannot be sent (say, a `runtime_env` field that is not JSON).
    InvalidSpec {
        /// What is wrong with it.
        message: String,
    },
    /// The Ray job ended `FAILED`: its details, with the tail of its logs.
    JobFailed(Box<JobDetails>),
    /// The Ray job ended `STOPPED`, stopped by someone else, outside any flow run (in a
    /// flow, such a job ends cancelled instead).
    Stopped {
        /// The job's submission id.
        submission_id: String,
    },
}

/// How many lines of a failed job's logs its error quotes.
const LOG_TAIL_LINES: usize = 10;

impl RayError {
    pub(crate) fn protocol(message: impl Into<String>) -> RayError {
        RayError::Protocol {
            message: message.into(),
        }
    }

    /// Whether retrying the same request later could succeed: the dashboard could not be
    /// reached, or answered `429` or a `5xx` (but not Ray's "already exists", which
    /// stays true).
    pub fn is_transient(&self) -> bool {
        match self {
            RayError::Unreachable { .. } => true,
            RayError::Rejected { status, .. } => {
                (*status == 429 || *status >= 500) && !self.is_already_exists()
            }
            _ => false,
        }
    }

    /// The HTTP status of a refused request.
    pub fn status(&self) -> Option<u16> {
        match self {
            RayError::Unauthorized { status, .. } | RayError::Rejected { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// Ray's answer to a submit whose `submission_id` it already knows: a `500` saying
    /// the job "already exists".
    pub(crate) fn is_already_exists(&self) -> bool {
        matches!(self, RayError::Rejected { status: 500, message } if message.contains("already exists"))
    }
}

impl fmt::Display for RayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RayError::Unreachable { url, message, .. } => {
                write!(f, "cannot reach the Ray dashboard at {url}: {message}")
            }
            RayError::Unauthorized { status, message } => {
                let why = if *status == 401 {
                    "the cluster requires a token and none was sent"
                } else {
                    "the cluster refused the token"
                };
                write!(f, "{why} ({status}: {message})")
            }
            RayError::Rejected { status, message } => {
                write!(f, "the Ray dashboard answered {status}: {message}")
            }
            RayError::Protocol { message } => {
                write!(f, "unexpected answer from the Ray dashboard: {message}")
            }
            RayError::InvalidSpec { message } => write!(f, "invalid Ray job spec: {message}"),
            RayError::JobFailed(job) => fmt_failed(f, job),
            RayError::Stopped { submission_id } => {
                write!(f, "Ray job {submission_id} was stopped")
            }
        }
    }
}

/// `Ray job ID FAILED (ERROR_TYPE, exit code N): first line of Ray's message`, then the
/// last lines of the logs.
fn fmt_failed(f: &mut fmt::Formatter<'_>, job: &JobDetails) -> fmt::Result {
    write!(f, "Ray job {} {}", job.submission_id, job.status)?;
    let error_type = job.error_type.as_deref().unwrap_or("no error type");
    match job.driver_exit_code {
        Some(code) => write!(f, " ({error_type}, exit code {code})")?,
        None => write!(f, " ({error_type}, no exit code)")?,
    }
    let first = job.message.lines().next().unwrap_or_default();
    write!(f, ": {first}")?;
    let tail = job.logs_tail(LOG_TAIL_LINES);
    if !tail.is_empty() {
        write!(f, "\n--- last lines of the logs ---\n{tail}")?;
    }
    Ok(())
}

impl std::error::Error for RayError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RayError::Unreachable { io: Some(e), .. } => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        assert!(std::mem::size_of::<RayError>() <= 80);
    }

    #[test]
    fn already_exists_is_final_other_5xx_are_transient() {
        let e = |status, message: &str| RayError::Rejected {
            status,
            message: message.to_string(),
        };
        let exists = e(500, "ValueError: Job with submission_id x already exists.");
        assert!(exists.is_already_exists() && !exists.is_transient());
        assert!(e(500, "No available agent to submit job").is_transient());
        assert!(e(503, "").is_transient() && e(429, "").is_transient());
        assert!(!e(400, "TypeError").is_transient() && !e(404, "").is_transient());
        assert_eq!(e(404, "").status(), Some(404));
    }
}
