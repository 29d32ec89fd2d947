//! What Ray says about a job: [`JobStatus`] and [`JobDetails`], read from
//! `GET /api/jobs/{id}` (Ray's `JobDetails`) and `GET /api/jobs/{id}/logs`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::error::RayError;

/// A Ray job's status, as Ray's Jobs API names it.
///
/// | status | meaning | next |
/// |---|---|---|
/// | `Pending` | submitted; the driver has not started (resources, runtime env) | `Running`, `Failed`, `Stopped` |
/// | `Running` | the entrypoint command runs | `Succeeded`, `Failed`, `Stopped` |
/// | `Succeeded` | the entrypoint exited with code 0 | — |
/// | `Failed` | the entrypoint exited non-zero, or Ray could not run it (`error_type` says which) | — |
/// | `Stopped` | stopped on request (`POST /api/jobs/{id}/stop`) | — |
/// | `Other` | a status this version of taskloop does not know; treated as not terminal | ? |
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobStatus {
    /// Submitted, not started yet.
    Pending,
    /// The entrypoint runs.
    Running,
    /// Stopped on request.
    Stopped,
    /// Finished with exit code 0.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// A status Ray added after this version of taskloop; kept as Ray spelled it.
    Other(String),
}

impl JobStatus {
    /// Reads Ray's spelling (`"RUNNING"`, ...); anything else is [`JobStatus::Other`].
    pub fn parse(s: &str) -> JobStatus {
        match s {
            "PENDING" => JobStatus::Pending,
            "RUNNING" => JobStatus::Running,
            "STOPPED" => JobStatus::Stopped,
            "SUCCEEDED" => JobStatus::Succeeded,
            "FAILED" => JobStatus::Failed,
            other => JobStatus::Other(other.to_string()),
        }
    }

    /// Ray's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::Pending => "PENDING",
            JobStatus::Running => "RUNNING",
            JobStatus::Stopped => "STOPPED",
            JobStatus::Succeeded => "SUCCEEDED",
            JobStatus::Failed => "FAILED",
            JobStatus::Other(s) => s,
        }
    }

    /// Whether the status can no longer change (`STOPPED`, `SUCCEEDED`, `FAILED`, as in
    /// Ray's `JobStatus.is_terminal`).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobStatus::Stopped | JobStatus::Succeeded | JobStatus::Failed
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A Ray job as Ray describes it (its `JobDetails`), with its logs: the result of a Ray
/// job declared with [`Cluster::job`](super::Cluster::job), read once the job has
/// ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobDetails {
    /// The submission id taskloop chose (Ray's `submission_id`).
    pub submission_id: String,
    /// The status.
    pub status: JobStatus,
    /// The entrypoint command.
    pub entrypoint: String,
    /// Ray's message about the status (for a failed job, why, often with the start of
    /// its logs).
    pub message: String,
    /// Why a failed job failed, as Ray classifies it (`JOB_ENTRYPOINT_COMMAND_ERROR`,
    /// `RUNTIME_ENV_SETUP_FAILURE`, ...).
    pub error_type: Option<String>,
    /// The driver's exit code, once it has exited.
    pub driver_exit_code: Option<i32>,
    /// When Ray accepted the job.
    pub start_time: Option<SystemTime>,
    /// When the job reached a terminal status.
    pub end_time: Option<SystemTime>,
    /// The job's metadata.
    pub metadata: BTreeMap<String, String>,
    /// The driver's logs (`GET /api/jobs/{id}/logs`); empty until the job has ended.
    pub logs: String,
}

impl JobDetails {
    /// Reads Ray's `JobDetails` JSON. Unknown fields are ignored; a missing or unknown
    /// status is an error only if the answer has no `submission_id` or `status` at all.
    pub(crate) fn from_json(v: &Value) -> Result<JobDetails, RayError> {
        let text = |key: &str| v[key].as_str().map(str::to_string);
        let (Some(submission_id), Some(status)) = (text("submission_id"), text("status")) else {
            return Err(RayError::protocol(format!(
                "a job answer needs `submission_id` and `status`: {}",
                shorten(&v.to_string(), 200)
            )));
        };
        let metadata = v["metadata"].as_object().map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        });
        Ok(JobDetails {
            submission_id,
            status: JobStatus::parse(&status),
            entrypoint: text("entrypoint").unwrap_or_default(),
            message: text("message").unwrap_or_default(),
            error_type: text("error_type"),
            driver_exit_code: v["driver_exit_code"]
                .as_i64()
                .and_then(|c| i32::try_from(c).ok()),
            start_time: millis(&v["start_time"]),
            end_time: millis(&v["end_time"]),
            metadata: metadata.unwrap_or_default(),
            logs: String::new(),
        })
    }

    /// How long the job took, from Ray's start to end time.
    pub fn duration(&self) -> Option<Duration> {
        self.end_time?.duration_since(self.start_time?).ok()
    }

    /// The last `lines` lines of the logs.
    pub fn logs_tail(&self, lines: usize) -> &str {
        let logs = self.logs.trim_end();
        let start = logs
            .rmatch_indices('\n')
            .nth(lines.saturating_sub(1))
            .map_or(0, |(i, _)| i + 1);
        if lines == 0 {
            ""
        } else {
            &logs[start..]
        }
    }
}

/// A Unix time in milliseconds, as Ray sends `start_time` and `end_time`.
fn millis(v: &Value) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(Duration::from_millis(v.as_u64()?))
}

/// The first `max` characters of `s`.
pub(crate) fn shorten(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failed() -> Value {
        json!({
            "type": "SUBMISSION", "job_id": null, "submission_id": "t1", "driver_info": null,
            "status": "FAILED", "entrypoint": "echo hello; exit 3",
            "message": "Job entrypoint command failed with exit code 3, last available logs (truncated to 20,000 chars):\nhello\n",
            "error_type": "JOB_ENTRYPOINT_COMMAND_ERROR",
            "start_time": 1796012450715u64, "end_time": 1796012452043u64,
            "metadata": {"owner": "ann", "n": 3}, "runtime_env": null,
            "driver_agent_http_address": "http://127.0.0.1:52365",
            "driver_node_id": "c18b", "driver_exit_code": 3,
            "a_field_from_a_later_ray": {"x": 1}
        })
    }

    #[test]
    fn reads_a_failed_job_and_ignores_unknown_fields() {
        let job = JobDetails::from_json(&failed()).unwrap();
        assert_eq!(job.submission_id, "t1");
        assert_eq!(job.status, JobStatus::Failed);
        assert!(job.status.is_terminal());
        assert_eq!(
            job.error_type.as_deref(),
            Some("JOB_ENTRYPOINT_COMMAND_ERROR")
        );
        assert_eq!(job.driver_exit_code, Some(3));
        assert_eq!(job.duration(), Some(Duration::from_millis(1328)));
        // A metadata value that is not a string is left out rather than invented.
        assert_eq!(job.metadata.len(), 1);
        assert_eq!(job.metadata["owner"], "ann");
    }

    #[test]
    fn reads_a_pending_job_with_nulls() {
        let v = json!({"submission_id": "t2", "status": "PENDING", "entrypoint": "true",
                       "message": null, "error_type": null, "start_time": 5,
                       "end_time": null, "metadata": null, "driver_exit_code": null});
        let job = JobDetails::from_json(&v).unwrap();
        assert_eq!(job.status, JobStatus::Pending);
        assert!(!job.status.is_terminal());
        assert_eq!((job.message.as_str(), job.end_time), ("", None));
        assert_eq!(job.driver_exit_code, None);
        assert!(job.metadata.is_empty());
    }

    #[test]
    fn unknown_statuses_are_kept_and_not_terminal() {
        let v = json!({"submission_id": "t3", "status": "QUEUED"});
        let job = JobDetails::from_json(&v).unwrap();
        assert_eq!(job.status, JobStatus::Other("QUEUED".into()));
        assert!(!job.status.is_terminal());
        assert_eq!(job.status.to_string(), "QUEUED");
        for s in ["PENDING", "RUNNING", "STOPPED", "SUCCEEDED", "FAILED"] {
            assert_eq!(JobStatus::parse(s).as_str(), s);
        }
    }

    #[test]
    fn an_answer_without_status_is_a_protocol_error() {
        for v in [
            json!({"submission_id": "x"}),
            json!({"status": "RUNNING"}),
            json!([1]),
        ] {
            let err = JobDetails::from_json(&v).unwrap_err();
            assert!(matches!(err, RayError::Protocol { .. }), "{err}");
        }
    }

    #[test]
    fn the_tail_is_the_last_lines() {
        let mut job = JobDetails::from_json(&failed()).unwrap();
        job.logs = "a\nb\nc\n\n".to_string();
        assert_eq!(job.logs_tail(2), "b\nc");
        assert_eq!(job.logs_tail(10), "a\nb\nc");
        assert_eq!(job.logs_tail(0), "");
    }

    #[test]
    fn a_failed_job_error_quotes_type_exit_code_message_and_logs() {
        let mut job = JobDetails::from_json(&failed()).unwrap();
        job.logs = "line 1\nTraceback: boom\n".to_string();
        let text = RayError::JobFailed(Box::new(job)).to_string();
        assert!(text.starts_with("Ray job t1 FAILED (JOB_ENTRYPOINT_COMMAND_ERROR, exit code 3): Job entrypoint command failed with exit code 3"), "{text}");
        assert!(text.ends_with("line 1\nTraceback: boom"), "{text}");
    }
}
