//! The parse pool: work whose cost grows with a request's size (parsing a JSON body,
//! finding a form's file field, hashing a body for its idempotency key, serialising a
//! large stored document) runs here, never on the loop thread.
//!
//! At most [`SLOTS`] such jobs run at once; a request that finds every slot taken waits
//! for one (its body is already counted in the memory budget) for at most
//! [`SLOT_WAIT`], then gets `503` with `Retry-After`. Each job runs on a short-lived
//! thread of its own rather than on the runtime's blocking pool: that pool is sized to
//! the workers and runs training, and a parse queued behind a ten-minute train would
//! stall its client just as surely as parsing on the loop stalled everyone. The slot is
//! released by the thread when the job ends, so even a request abandoned mid-parse
//! (its client closed) keeps counting until its thread is done: never more than
//! [`SLOTS`] parse threads exist.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::error::ApiError;
use crate::sync::{oneshot, Semaphore};

/// Most jobs running at once.
pub(crate) const SLOTS: usize = 2;

/// Bodies larger than this are parsed, scanned and hashed in the pool; smaller ones on
/// the loop, where they cost microseconds. (A 46 MiB JSON body once kept every other
/// client waiting 3.6 s.)
pub(crate) const LARGE_BODY: usize = 64 * 1024;

/// Longest wait for a free slot.
const SLOT_WAIT: Duration = Duration::from_secs(10);

/// The pool's slots (loop side; cheap to share).
#[derive(Debug, Clone)]
pub(crate) struct Offload {
    slots: Arc<Semaphore>,
}

impl Default for Offload {
    fn default() -> Self {
        Offload {
            slots: Arc::new(Semaphore::new(SLOTS)),
        }
    }
}

impl Offload {
    /// Runs `job` off the loop once a slot is free and returns what it returns.
    ///
    /// # Errors
    /// `503` when no slot frees up within [`SLOT_WAIT`], when no thread can be
    /// started, or when `job` panics (the panic is contained; `what` names the job).
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        what: &'static str,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let busy = || {
            ApiError::Unavailable(format!(
                "the server is busy {what} for other large requests ({SLOTS} at a time); \
                 retry later"
            ))
        };
        let permit = crate::timeout(SLOT_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let (tx, rx) = oneshot::channel();
        let work = move || {
            let out = catch_unwind(AssertUnwindSafe(job));
            drop(permit);
            let _ = tx.send(out);
        };
        thread::Builder::new()
            .name("automl-server-parse".into())
            .spawn(work)
            .map_err(|_| ApiError::Unavailable(format!("cannot start a thread for {what}")))?;
        match rx.await {
            Ok(Ok(value)) => Ok(value),
            _ => Err(ApiError::Unavailable(format!(
                "{what} failed inside the server; retry later"
            ))),
        }
    }
}

impl Offload {
    /// Drops `value` (a large parsed tree, with its reservation in the budget) off
    /// the loop: freeing millions of small allocations takes as long as making them.
    /// It waits for a slot like any job, however long that takes.
    pub(crate) fn discard<T: Send + 'static>(&self, value: T) {
        let slots = self.slots.clone();
        crate::spawn(async move {
            let Ok(permit) = slots.acquire_owned().await else {
                return;
            };
            let free = move || {
                drop(value);
                drop(permit);
            };
            // If no thread can be started, the closure (and the value) drop here.
            let _ = thread::Builder::new()
                .name("automl-server-free".into())
                .spawn(free);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn never_more_than_slots_jobs_at_once_and_panics_are_contained() {
        let rt = crate::Runtime::new().unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let offload = Offload::default();
        let results = rt.block_on(async {
            let jobs = (0..8).map(|i| {
                let (running, peak, offload) = (running.clone(), peak.clone(), offload.clone());
                async move {
                    offload
                        .run("testing", move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            thread::sleep(Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                            assert!(i != 3, "job 3 panics");
                            i
                        })
                        .await
                }
            });
            crate::join_all(jobs).await
        });
        assert!(peak.load(Ordering::SeqCst) <= SLOTS);
        assert_eq!(results[0], Ok(0));
        assert_eq!(results[3].as_ref().unwrap_err().status(), 503);
        assert_eq!(results[7], Ok(7));
    }
}
