//! One job's task: its attempts, each under the job's timeout, with back-off and
//! retries between them, reporting the outcome to the scheduler when it is settled.

use std::rc::Rc;
use std::time::Instant;

use super::body::{AttemptError, Body};
use super::error::JobError;
use super::observe::Event;
use super::remote::Progress;
use super::state::{FlowState, Outcome, OwnedInfo, Spec, WorkerLease};

/// One job from first attempt to outcome: timeouts, retries with back-off, progress.
pub(crate) async fn run_job(state: Rc<FlowState>, i: usize, body: Rc<dyn Body>, spec: Spec) {
    let info = state.info(i);
    let progress = Progress::new(state.clone_remote(), i);
    let mut attempt = 0;
    let outcome = loop {
        attempt += 1;
        started(&state, i, attempt);
        let lease = spec.uses_pool.then(|| WorkerLease::new(&state, i));
        let fut = body.attempt(progress.clone(), lease);
        let result = match spec.timeout {
            Some(limit) => crate::timeout(limit, fut)
                .await
                .unwrap_or(Err(AttemptError::TimedOut(limit))),
            None => fut.await,
        };
        let error = match result {
            Ok(()) => break Outcome::Done,
            Err(e) => job_error(&info, e),
        };
        if !spec.retry.should_retry(attempt, &error) {
            break Outcome::Error(error);
        }
        let delay = spec.retry.backoff.delay(attempt);
        state.emit(&Event::Retrying {
            at: Instant::now(),
            job: info.as_info(),
            attempt,
            error: &error,
            delay,
        });
        crate::sleep(delay).await;
    };
    state.completions.borrow_mut().push((i, outcome));
    state.wake_driver();
}

/// Records and announces the start of attempt `attempt` of job `i`.
pub(crate) fn started(state: &FlowState, i: usize, attempt: u32) {
    state.nodes.borrow_mut()[i].attempts = attempt;
    let info = state.info(i);
    state.emit(&Event::Started {
        at: Instant::now(),
        job: info.as_info(),
        attempt,
    });
}

pub(crate) fn job_error(info: &OwnedInfo, e: AttemptError) -> JobError {
    let job = info.name().to_string();
    match e {
        AttemptError::Failed(source) => JobError::Failed {
            job,
            source: std::sync::Arc::from(source),
        },
        AttemptError::Panicked(message) => JobError::Panicked { job, message },
        AttemptError::TimedOut(after) => JobError::TimedOut { job, after },
    }
}
