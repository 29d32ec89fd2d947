//! Ray jobs in a flow: [`Cluster::job`] declares an async flow job that submits to Ray's
//! Jobs API, polls the job on loop timers, and reads its logs when it ends.
//!
//! One attempt of the flow job is one Ray job: `POST /api/jobs/` under a submission id
//! chosen here (a retry of that request that Ray answers "already exists" counts as
//! submitted), then `GET /api/jobs/{id}` after a growing wait until the status is
//! terminal, then `GET /api/jobs/{id}/logs`. A flow retry (`Job::retries`) is a new
//! attempt, hence a new submission id and a new Ray job. A [`StopGuard`] stops the Ray
//! job if the attempt is dropped before it ends.

use std::future::pending;

use serde_json::Value;

use super::cluster::Cluster;
use super::details::{JobDetails, JobStatus};
use super::error::RayError;
use super::http::Call;
use super::spec::JobSpec;
use super::stop::StopGuard;
use crate::flow::{Flow, Inputs, Job, Progress};

impl Cluster {
    /// Declares a Ray job in `flow`. When the flow runs and every input is done, `spec`
    /// turns the inputs' results into a [`JobSpec`]; the job is submitted to the
    /// cluster, watched until it ends, and its [`JobDetails`] (logs included) become the
    /// result:
    ///
    /// | Ray's final status | the flow job |
    /// |---|---|
    /// | `SUCCEEDED` | done, with the details and logs |
    /// | `FAILED` | failed with [`RayError::JobFailed`]: Ray's message, error type, exit code and the last lines of the logs |
    /// | `STOPPED` (by someone else) | cancelled; its dependents are skipped |
    ///
    /// While the job waits it holds no thread: polls are loop timers, and only each HTTP
    /// exchange borrows a worker. Observers see `PENDING` and `RUNNING` as the job's
    /// progress (Ray reports no fraction; `RUNNING` is shown as 0.5). If the flow
    /// cancels the job, or its [`timeout`](Job::timeout) fires, the Ray job is stopped
    /// (`POST /api/jobs/{id}/stop`) and the run waits, at most
    /// [`stop_wait`](super::ClusterBuilder::stop_wait), for Ray to report it `STOPPED`.
    /// Each attempt, retries included, is a new Ray job with a new submission id.
    ///
    /// # Examples
    /// A and B at once on the cluster, then C with both results (this needs a Ray
    /// cluster, so it is not run here; `examples/ray_abc.rs` is the full story):
    /// ```no_run
    /// use taskloop::flow::Flow;
    /// use taskloop::ray::{Cluster, JobSpec};
    ///
    /// let cluster = Cluster::connect("http://127.0.0.1:8265")?;
    /// let mut flow = Flow::new();
    /// let a = cluster.job(&mut flow, "A", (), |()| JobSpec::new("python a.py --out /shared/a.txt"));
    /// let b = cluster.job(&mut flow, "B", (), |()| JobSpec::new("python b.py --out /shared/b.txt"));
    /// let c = cluster.job(&mut flow, "C", (&a, &b), |(a, b)| {
    ///     JobSpec::new("python c.py /shared/a.txt /shared/b.txt")
    ///         .metadata("after", format!("{} {}", a.submission_id, b.submission_id))
    /// });
    /// let report = flow.run();
    /// println!("{report}\n{}", c.result()?.logs);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn job<I, F>(
        &self,
        flow: &mut Flow,
        name: impl Into<String>,
        inputs: I,
        spec: F,
    ) -> Job<JobDetails>
    where
        I: Inputs,
        F: Fn(I::Values) -> JobSpec + 'static,
    {
        let name = name.into();
        let (cluster, job_name) = (self.clone(), name.clone());
        flow.try_job_async(name, inputs, move |values| {
            let spec = spec(values);
            let (cluster, name) = (cluster.clone(), job_name.clone());
            async move { Ok(cluster.run_ray_job(&name, &spec).await?) }
        })
    }

    /// One attempt: submit, wait for the end, read the logs.
    async fn run_ray_job(&self, name: &str, spec: &JobSpec) -> Result<JobDetails, RayError> {
        let id = self.new_submission_id(name);
        let body = spec.to_json(&id)?;
        let inner = &self.inner;
        let mut guard = StopGuard::new(inner.transport.clone(), &id, inner.poll, inner.stop_wait);
        if let Err(e) = inner.transport.submit(&body, &guard.in_flight).await {
            if matches!(e.status(), Some(400..=499)) {
                guard.disarm(); // refused: there is no job to stop
            }
            return Err(e);
        }
        let mut details = self.await_end(&id).await?;
        guard.disarm();
        match details.status {
            JobStatus::Succeeded => {
                details.logs = self.logs(&id).await?;
                crate::flow::progress(1.0, details.status.as_str());
                Ok(details)
            }
            JobStatus::Stopped => stopped_elsewhere(id).await,
            _ => {
                details.logs = self
                    .logs(&id)
                    .await
                    .unwrap_or_else(|e| format!("(the logs could not be read: {e})"));
                Err(RayError::JobFailed(Box::new(details)))
            }
        }
    }

    /// Polls the job until Ray reports a terminal status, reporting each new status as
    /// progress.
    async fn await_end(&self, id: &str) -> Result<JobDetails, RayError> {
        let poll = self.inner.poll;
        let mut wait = poll.initial;
        let mut last: Option<JobStatus> = None;
        loop {
            crate::sleep(wait).await;
            let answer = self.get(format!("/api/jobs/{id}")).await?;
            // While the job runs only its status matters; the details are read at the end.
            let status = answer["status"].as_str().map(JobStatus::parse);
            let Some(status) = status.filter(|s| !s.is_terminal()) else {
                return JobDetails::from_json(&answer); // or why the answer is not a job
            };
            if last.as_ref() != Some(&status) {
                let fraction = if status == JobStatus::Running {
                    0.5
                } else {
                    0.0
                };
                crate::flow::progress(fraction, status.as_str());
                last = Some(status);
            }
            wait = poll.next(wait);
        }
    }

    /// `GET /api/jobs/{id}/logs`.
    async fn logs(&self, id: &str) -> Result<String, RayError> {
        let answer = self.get(format!("/api/jobs/{id}/logs")).await?;
        match answer["logs"].as_str() {
            Some(logs) => Ok(logs.to_string()),
            None => Err(RayError::protocol(format!(
                "the logs of {id} are not a `logs` string"
            ))),
        }
    }

    async fn get(&self, path: String) -> Result<Value, RayError> {
        self.inner.transport.call(Call::get(path)).await
    }
}

/// A job someone else stopped: in a flow, the job cancels itself (its dependents are
/// skipped, and it is not retried); outside one, an error.
async fn stopped_elsewhere(submission_id: String) -> Result<JobDetails, RayError> {
    match Progress::current() {
        Some(progress) => {
            progress.cancel_job();
            pending().await // the flow drops this attempt when it handles the cancel
        }
        None => Err(RayError::Stopped { submission_id }),
    }
}
