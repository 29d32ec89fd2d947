//! The state the loop thread and the worker threads share: the task table, the store
//! and the counters, behind one mutex.
//!
//! Every lock is short: look something up, insert, or update a field, then release.
//! No lock is held across an `.await`, while calling user code, or while training; a
//! worker takes the lock only to report progress and to store what it produced.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::budget::MemoryBudget;
use super::disk::{DataDir, Loaded};
use super::store::{Caps, Store};
use super::tasks::{TaskKind, TaskTable};
use super::ServerStats;

/// Counters behind [`ServerStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Requests received (parsed), faulted ones included.
    pub(crate) requests: u64,
    /// Requests answered by closing the connection (injected fault).
    pub(crate) faults_dropped: u64,
    /// Requests answered `503` (injected fault).
    pub(crate) faults_503: u64,
    /// Tasks created, by type.
    submitted: BTreeMap<String, u64>,
}

impl Counters {
    /// Counts one created task of `kind`.
    pub(crate) fn task_submitted(&mut self, kind: TaskKind) {
        *self.submitted.entry(kind.as_str().to_owned()).or_insert(0) += 1;
    }
}

/// What the mutex guards.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Tasks and the pending queue.
    pub(crate) tasks: TaskTable,
    /// Data, experiments and models.
    pub(crate) store: Store,
    /// Request and task counters.
    pub(crate) stats: Counters,
}

/// The shared state and the fixed settings the workers need.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Worker threads (reported by `GET /v2/worker/status`).
    pub(crate) workers: usize,
    /// Most tasks running at once.
    pub(crate) max_running: usize,
    /// The budget of stored data and jobs' working memory (see `memory`).
    pub(crate) memory: MemoryBudget,
    /// The data directory, if the server keeps its items on disk.
    pub(crate) disk: Option<Arc<DataDir>>,
}

impl Shared {
    /// The shared state; with a data directory, restored from what it holds.
    pub(crate) fn new(
        workers: usize,
        max_running: usize,
        caps: Caps,
        memory: MemoryBudget,
        disk: Option<(DataDir, Loaded)>,
    ) -> Arc<Shared> {
        let (disk, mut loaded) = match disk {
            Some((dir, loaded)) => (Some(Arc::new(dir)), loaded),
            None => (None, Loaded::default()),
        };
        let mut state = State {
            tasks: TaskTable::with_max_ended(caps.items, disk.clone()),
            store: Store::with_caps(caps, memory.reservation(), disk.clone()),
            ..State::default()
        };
        state.store.restore(&mut loaded);
        let store = &state.store;
        state
            .tasks
            .restore(std::mem::take(&mut loaded.tasks), |id| {
                store.item_doc(id).cloned()
            });
        Arc::new(Shared {
            state: Mutex::new(state),
            workers,
            max_running,
            memory,
            disk,
        })
    }

    /// Locks the state. A panic elsewhere while the lock was held (a bug) does not
    /// take the server down: the state is used as that code left it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        crate::runtime::lock(&self.state)
    }

    /// A snapshot of the counters.
    pub(crate) fn stats(&self) -> ServerStats {
        let state = self.lock();
        let (tasks_finished, tasks_stopped) = state.tasks.finished();
        ServerStats {
            tasks_submitted: state.stats.submitted.clone(),
            tasks_finished,
            tasks_stopped,
            requests: state.stats.requests,
            faults_dropped: state.stats.faults_dropped,
            faults_503: state.stats.faults_503,
            running: state.tasks.running(),
            pending: state.tasks.pending(),
        }
    }
}
