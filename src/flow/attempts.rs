//! One job's task: its attempts, each under the job's timeout, with back-off and
//! retries between them, reporting the outcome to the scheduler when it is settled.

use std::rc::Rc;

use super::body::{AttemptError, Body};
use super::error::JobError;
use super::remote::Progress;
use super::state::{FlowState, Outcome, Spec, WorkerLease};

/// One job from first attempt to outcome: timeouts, retries with back-off, progress.
pub(crate) async fn run_job(state: Rc<FlowState>, i: usize, body: Rc<dyn Body>, spec: Spec) {
    let name = state.name(i);
    let progress = Progress::new(state.remote(), i);
    let mut attempt = 0;
    let outcome = loop {
        attempt += 1;
        state.attempt_started(i, attempt);
        let lease = spec.uses_pool.then(|| WorkerLease::new(&state, i));
        let fut = body.clone().attempt(progress.clone(), lease);
        let result = match spec.timeout {
            Some(limit) => crate::timeout(limit, fut)
                .await
                .unwrap_or(Err(AttemptError::TimedOut(limit))),
            None => fut.await,
        };
        let error = match result {
            Ok(()) => break Outcome::Done,
            Err(e) => job_error(&name, e),
        };
        if !spec.retry.should_retry(attempt, &error) {
            break Outcome::Failed(error);
        }
        let delay = spec.retry.backoff.delay(attempt);
        state.retrying(i, attempt, &error, delay);
        crate::sleep(delay).await;
    };
    state.complete(i, outcome);
}

/// The job error an attempt's error stands for.
pub(crate) fn job_error(name: &str, e: AttemptError) -> JobError {
    let job = name.to_owned();
    match e {
        AttemptError::Failed(source) => JobError::Failed {
            job,
            source: std::sync::Arc::from(source),
        },
        AttemptError::Panicked(message) => JobError::Panicked { job, message },
        AttemptError::TimedOut(after) => JobError::TimedOut { job, after },
    }
}
