//! The AutoML client's retry loops, which ask the context's [`Health`] before every try.
//!
//! They differ from the shared ones in `rest/retry.rs` in two ways: a try may be *held
//! back* (not sent) while another try probes a suspect server, and a connection-level
//! failure is retried past the attempt cap while the server is suspect, until it
//! answers or is declared down. So every exchange waiting on a dead server ends the same
//! way, with [`AutomlError::ServerDown`], at the same moment (within one back-off).

use std::sync::Arc;

use super::error::AutomlError;
use super::health::Admit;
use super::http::Transport;
use crate::flow::{Job, JobError};

/// How one try ended: `None` if it was held back, not sent.
pub(crate) type Tried<T> = Option<Result<T, AutomlError>>;

impl Transport {
    /// One try through the detector: sent only if [`Health::admit`] lets it out, its
    /// outcome recorded.
    ///
    /// [`Health::admit`]: super::health::Health::admit
    pub(crate) fn try_once<T>(
        &self,
        exchange: impl FnOnce() -> Result<T, AutomlError>,
    ) -> Tried<T> {
        match self.health.admit() {
            Admit::Send => Some(self.health.note(exchange())),
            Admit::Hold => None,
            Admit::Down(e) => Some(Err(e)),
        }
    }

    /// Whether a try that failed with `e` is followed by another; counts it in `failed`
    /// (the tries sent that failed: held tries do not count against the cap).
    /// `unconnected` says whether a try that could not connect at all is retried (see
    /// [`call_sync`](Transport::call_sync)).
    fn again(
        &self,
        e: &AutomlError,
        failed: &mut u32,
        can_resend: bool,
        unconnected: bool,
    ) -> bool {
        *failed = failed.saturating_add(1);
        if !can_resend || !e.is_transient() || (!unconnected && never_connected(e)) {
            return false;
        }
        let silent = matches!(e, AutomlError::Unreachable { .. }) && self.health.suspect();
        *failed < self.attempts || silent
    }

    /// Runs tries made by `make(n)` on the worker pool until one succeeds or fails for
    /// good; the back-off between tries is a loop timer.
    pub(crate) async fn retry_on_pool<T, X>(
        self: &Arc<Self>,
        can_resend: bool,
        mut make: impl FnMut(u32) -> X,
    ) -> Result<T, AutomlError>
    where
        T: Send + 'static,
        X: FnOnce() -> Tried<T> + Send + 'static,
    {
        let (mut failed, mut waits) = (0, 1);
        loop {
            let tried = crate::spawn_blocking(make(failed + 1))
                .await
                .unwrap_or_else(|e| {
                    let message = format!("the HTTP call did not complete: {e}");
                    Some(Err(AutomlError::protocol(message)))
                });
            match tried {
                Some(Ok(v)) => return Ok(v),
                Some(Err(e)) if !self.again(&e, &mut failed, can_resend, true) => return Err(e),
                _ => {}
            }
            crate::sleep(self.backoff.delay(waits)).await;
            waits = waits.saturating_add(1);
        }
    }

    /// The same on the calling thread, which sleeps through the back-off.
    pub(crate) fn retry_here<T>(
        &self,
        can_resend: bool,
        unconnected: bool,
        mut exchange: impl FnMut() -> Result<T, AutomlError>,
    ) -> Result<T, AutomlError> {
        let (mut failed, mut waits) = (0, 1);
        loop {
            match self.try_once(&mut exchange) {
                Some(Ok(v)) => return Ok(v),
                Some(Err(e)) if !self.again(&e, &mut failed, can_resend, unconnected) => {
                    return Err(e)
                }
                _ => {}
            }
            std::thread::sleep(self.backoff.delay(waits));
            waits = waits.saturating_add(1);
        }
    }
}

/// Marks a client job as one the flow does not retry after a
/// [`AutomlError::ServerDown`]: the verdict is final for the context, so a retry could
/// only fail the same way. Other errors and timeouts are retried as by default (when
/// the job has [`retries`](Job::retries)).
pub(crate) fn final_when_down<T: 'static>(job: Job<T>) -> Job<T> {
    job.retry_if(|e| match e {
        JobError::Failed { source, .. } => !matches!(
            source.downcast_ref::<AutomlError>(),
            Some(AutomlError::ServerDown { .. })
        ),
        JobError::TimedOut { .. } => true,
        _ => false,
    })
}

/// Whether `e` says that no connection could be made at all (as opposed to one that
/// was made and then dropped or timed out).
fn never_connected(e: &AutomlError) -> bool {
    use std::io::ErrorKind::{AddrNotAvailable, ConnectionRefused, NotFound};
    matches!(e, AutomlError::Unreachable { io: Some(io), .. }
        if matches!(io.kind(), ConnectionRefused | NotFound | AddrNotAvailable))
}
