//! Running tasks: jobs go from the pending queue to the blocking pool, at most
//! `max_running` at a time, in FIFO order.
//!
//! [`dispatch`] runs on the loop thread. For each job it may start, it spawns a small
//! loop task that hands the job to `spawn_blocking`, waits for it, frees the slot and
//! calls `dispatch` again, so a finishing task starts the next pending one. The job
//! itself runs on a worker thread with a [`Progress`] handle; when it returns, what it
//! produced is named, written to the data directory (if there is one) and then stored
//! and the task finished under one lock, unless the task was stopped meanwhile.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::budget::Reservation;
use super::error::ApiError;
use super::state::Shared;
use super::store::{Built, DataSet, Made};
use super::tasks::{Outcome, TaskKind};

/// Most tasks that may wait in the queue; more are refused with `503`.
const MAX_PENDING: usize = 1000;

/// What a job returns.
pub(crate) enum JobOutput {
    /// A new data set (upload, predictions); the result is its summary.
    Data(DataSet),
    /// A trained experiment of any kind; the result is its document.
    Experiment(Built),
    /// The job failed.
    Fail(String),
    /// The request does not fit the data.
    Invalid(String),
}

impl fmt::Debug for JobOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobOutput::Data(set) => f.debug_tuple("Data").field(set).finish(),
            JobOutput::Experiment(e) => f.debug_tuple("Experiment").field(e).finish(),
            JobOutput::Fail(m) => f.debug_tuple("Fail").field(m).finish(),
            JobOutput::Invalid(m) => f.debug_tuple("Invalid").field(m).finish(),
        }
    }
}

/// The work of one task, run on a worker thread.
pub(crate) type Job = Box<dyn FnOnce(&Progress) -> JobOutput + Send>;

/// A job's view of its task: progress reports and the cancel flag.
pub(crate) struct Progress {
    shared: Arc<Shared>,
    id: String,
    cancel: Arc<AtomicBool>,
}

impl Progress {
    /// Records the fraction done (0 to 1) and a message, while the task runs.
    pub(crate) fn report(&self, fraction: f64, message: &str) {
        self.shared
            .lock()
            .tasks
            .progress(&self.id, fraction, message);
    }

    /// Reserves `bytes` of the server's memory for the job's working memory before it
    /// allocates (held until the reservation drops); `Err` says why it cannot, for
    /// the task's `fail` message. `what` names the work ("train GLM").
    pub(crate) fn reserve(&self, bytes: usize, what: &str) -> Result<Reservation, String> {
        super::memory::reserve(&self.shared.memory, bytes, what)
    }

    /// The flag that is raised when the task is stopped.
    pub(crate) fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress").field("task", &self.id).finish()
    }
}

/// Creates a pending task for `job` and starts whatever may run now; returns the
/// task's id. Must be called on the loop thread.
///
/// # Errors
/// `503` when [`MAX_PENDING`] tasks are already waiting; `507` when the data directory
/// is over its disk budget or cannot record the task.
pub(crate) fn submit(shared: &Arc<Shared>, kind: TaskKind, job: Job) -> Result<String, ApiError> {
    if let Some(disk) = &shared.disk {
        disk.room_for(0).map_err(ApiError::Storage)?;
    }
    let id = {
        let mut state = shared.lock();
        if state.tasks.pending() >= MAX_PENDING {
            return Err(ApiError::Unavailable("too many pending tasks".into()));
        }
        let id = state.tasks.submit(kind, job).map_err(ApiError::Storage)?;
        state.stats.task_submitted(kind);
        id
    };
    dispatch(shared);
    Ok(id)
}

/// Starts pending jobs while slots are free (loop thread only).
pub(crate) fn dispatch(shared: &Arc<Shared>) {
    loop {
        let next = shared.lock().tasks.next_runnable(shared.max_running);
        let Some((id, job)) = next else {
            return;
        };
        let shared = shared.clone();
        detach(async move {
            let (worker_shared, worker_id) = (shared.clone(), id.clone());
            let finished =
                crate::spawn_blocking(move || run(&worker_shared, &worker_id, job)).await;
            let panic = finished.err().map(|e| format!("internal error: {e}"));
            shared.lock().tasks.release(&id, panic);
            dispatch(&shared);
        });
    }
}

/// Spawns a detached loop task.
fn detach(fut: impl std::future::Future<Output = ()> + 'static) {
    drop(crate::spawn(fut));
}

/// Runs `job` for task `id` on a worker thread and records how it ended.
fn run(shared: &Arc<Shared>, id: &str, job: Job) {
    let Some(cancel) = shared.lock().tasks.get(id).map(|r| r.cancel.clone()) else {
        return;
    };
    if cancel.load(Ordering::SeqCst) {
        return; // stopped before a worker picked it up
    }
    let progress = Progress {
        shared: shared.clone(),
        id: id.to_owned(),
        cancel,
    };
    let made = match job(&progress) {
        JobOutput::Data(set) => {
            let data_id = shared.lock().store.next_id();
            Made::data(data_id, set)
        }
        JobOutput::Experiment(built) => {
            let ids: Vec<String> = {
                let mut state = shared.lock();
                (0..=built.count).map(|_| state.store.next_id()).collect()
            };
            Made::experiment(ids[0].clone(), &ids[1..], built)
        }
        JobOutput::Fail(m) => return finish(shared, id, Outcome::Fail(m)),
        JobOutput::Invalid(m) => return finish(shared, id, Outcome::Invalid(m)),
    };
    if let Some(disk) = &shared.disk {
        if let Err(m) = made.write(disk) {
            return finish(shared, id, Outcome::Fail(m));
        }
    }
    let mut guard = shared.lock();
    let state = &mut *guard;
    if !state.tasks.is_running(id) {
        drop(guard);
        if let Some(disk) = &shared.disk {
            made.remove_files(disk); // stopped: drop what the job made
        }
        return;
    }
    let outcome = match state.store.insert(made) {
        Ok(doc) => Outcome::Done(doc),
        Err(m) => Outcome::Fail(m),
    };
    state.tasks.finish(id, outcome);
}

/// Ends running task `id` with `outcome` (nothing changes if it was stopped).
fn finish(shared: &Arc<Shared>, id: &str, outcome: Outcome) {
    shared.lock().tasks.finish(id, outcome);
}
