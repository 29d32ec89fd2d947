//! Stopping a Ray job nobody will read: [`StopGuard`], armed from just before the submit
//! until the job is seen to end, and the cleanup task it leaves behind when it is
//! dropped armed (the flow cancelled the job, its timeout fired, or polling failed for
//! good).
//!
//! The submission id is chosen before the submit, so the guard can always name the job
//! it stops, even when the submit's answer never arrived. The cleanup asks Ray to stop
//! the job, then polls until Ray reports a terminal status (asking again every second),
//! at most `stop_wait`; it holds the flow's run open meanwhile, so `Flow::run` returns
//! only once Ray has confirmed the stop or the wait is over.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::details::JobDetails;
use super::http::{Call, Transport};
use crate::flow::Progress;
use crate::rest::PollInterval;

/// How often the cleanup repeats its stop request while the job has not ended.
const RESTOP_EVERY: Duration = Duration::from_secs(1);

/// Stops the job `id` if dropped while armed.
pub(crate) struct StopGuard {
    transport: Arc<Transport>,
    id: String,
    poll: PollInterval,
    stop_wait: Duration,
    /// Submit tries on their way (see `Transport::submit`): while one is, a `404` does
    /// not yet mean the job does not exist.
    pub(crate) in_flight: Arc<AtomicUsize>,
    /// Keeps the flow's run open until the job is known to have ended.
    hold: Option<crate::flow::RunHold>,
    armed: bool,
}

impl StopGuard {
    pub(crate) fn new(
        transport: Arc<Transport>,
        id: &str,
        poll: PollInterval,
        stop_wait: Duration,
    ) -> StopGuard {
        StopGuard {
            transport,
            id: id.to_string(),
            poll,
            stop_wait,
            in_flight: Arc::new(AtomicUsize::new(0)),
            hold: Progress::current().map(|p| p.hold_run()),
            armed: true,
        }
    }

    /// The job has ended (or was never created): nothing to stop.
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
        self.hold = None;
    }
}

impl Drop for StopGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let id = std::mem::take(&mut self.id);
        let cleanup = Cleanup {
            transport: self.transport.clone(),
            id: id.clone(),
            poll: self.poll,
            in_flight: self.in_flight.clone(),
        };
        let (wait, hold) = (self.stop_wait, self.hold.take());
        let spawned = crate::runtime::try_spawn(async move {
            let _hold = hold;
            let _ = crate::timeout(wait, cleanup.stop_and_confirm()).await;
        });
        if spawned.is_none() {
            // No runtime (it is being dropped): one stop request from a plain thread.
            let transport = self.transport.clone();
            std::thread::spawn(move || transport.exchange(&stop_call(&id)));
        }
    }
}

fn stop_call(id: &str) -> Call {
    Call::post(format!("/api/jobs/{id}/stop"), None)
}

struct Cleanup {
    transport: Arc<Transport>,
    id: String,
    poll: PollInterval,
    in_flight: Arc<AtomicUsize>,
}

impl Cleanup {
    /// Asks Ray to stop the job until Ray reports it ended; gives up if Ray cannot be
    /// reached or the job turns out never to have been created.
    async fn stop_and_confirm(self) {
        let mut wait = self.poll.initial;
        let mut stopped_at: Option<Instant> = None;
        loop {
            if stopped_at.is_none_or(|t| t.elapsed() >= RESTOP_EVERY) {
                match self.transport.call(stop_call(&self.id)).await {
                    Ok(_) => {}
                    Err(e) if e.status() == Some(404) && self.may_still_appear() => {}
                    Err(_) => return,
                }
                stopped_at = Some(Instant::now());
            }
            crate::sleep(wait).await;
            let path = format!("/api/jobs/{}", self.id);
            match self.transport.call(Call::get(path)).await {
                Ok(v) if JobDetails::from_json(&v).is_ok_and(|d| d.status.is_terminal()) => return,
                Ok(_) => {}
                Err(e) if e.status() == Some(404) && self.may_still_appear() => {}
                Err(_) => return,
            }
            wait = self.poll.next(wait);
        }
    }

    /// Whether a submit try is still on its way, so the job may yet be created.
    fn may_still_appear(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }
}
