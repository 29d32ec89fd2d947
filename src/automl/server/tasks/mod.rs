//! The task table: every task's record, the FIFO queue of pending jobs, and the count of
//! worker slots in use.
//!
//! # A task's status
//! - `pending`: created and queued; its job has not been handed to a worker.
//! - `running`: its job holds a worker slot (at most `max_running` do).
//! - `done`: the job finished and `result` is set.
//! - `fail`: the job failed or was stopped; `progress_message` says why.
//! - `invalid`: the request cannot run on this data (e.g. no such target column).
//!
//! Only `pending → running → done | fail | invalid` and `pending | running → fail`
//! (stop) happen; a terminal status never changes again. A stopped running task keeps
//! its worker slot until its job returns (training notices the cancel flag between
//! folds and trees); whatever the job then produces is dropped.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::disk::{DataDir, Row};
use super::ids::IdGen;
use super::json;
use super::worker::Job;

mod restore;

/// How a task ends, as the table records it.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Success: the task's `result`, the stored document of what it made.
    Done(Arc<Value>),
    /// Failure, with the reason.
    Fail(String),
    /// The request does not fit the data, with the reason.
    Invalid(String),
}

/// The kind of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskKind {
    /// `POST /v2/upload`.
    Upload,
    /// `POST /v2/tasks/setup`.
    Setup,
    /// `POST /v2/tasks/train`.
    Train,
    /// `POST /v2/tasks/predict`.
    Predict,
    /// `POST /v2/tasks/cluster_train`.
    ClusterTrain,
    /// `POST /v2/tasks/auto_ts/train`.
    AutoTsTrain,
    /// `POST /v2/tasks/auto_ts/predict`.
    AutoTsPredict,
}

impl TaskKind {
    /// The contract's name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TaskKind::Upload => "upload",
            TaskKind::Setup => "setup",
            TaskKind::Train => "train",
            TaskKind::Predict => "predict",
            TaskKind::ClusterTrain => "cluster_train",
            TaskKind::AutoTsTrain => "auto_ts_train",
            TaskKind::AutoTsPredict => "auto_ts_predict",
        }
    }
}

/// A task's status (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Pending,
    Running,
    Done,
    Fail,
    Invalid,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Done => "done",
            Status::Fail => "fail",
            Status::Invalid => "invalid",
        }
    }
}

/// Seconds since the Unix epoch, as the timestamps of a task.
pub(crate) fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// One task.
#[derive(Debug)]
pub(crate) struct TaskRecord {
    id: String,
    kind: TaskKind,
    pub(crate) status: Status,
    progress: f64,
    message: Option<String>,
    result: Option<TaskResult>,
    created_at: f64,
    started_at: Option<f64>,
    finished_at: Option<f64>,
    pub(crate) cancel: Arc<AtomicBool>,
}

/// The result of a `done` task: the document of the item it made, as the store holds
/// it. The task keeps only a weak reference, so an ended task never holds a second copy
/// of a document, and deleting (or evicting) the item frees it; the task's `result` is
/// then `{"_id": id, "deleted": true}`.
#[derive(Debug)]
struct TaskResult {
    id: String,
    doc: Weak<Value>,
}

impl TaskResult {
    fn new(doc: &Arc<Value>) -> TaskResult {
        TaskResult {
            id: doc["_id"].as_str().unwrap_or_default().to_owned(),
            doc: Arc::downgrade(doc),
        }
    }

    #[cfg(test)]
    fn to_json(&self) -> Value {
        match self.doc.upgrade() {
            Some(doc) => Value::clone(&doc),
            None => json!({ "_id": self.id, "deleted": true }),
        }
    }

    /// A reference to the result: its id, and `deleted` once the item is gone.
    fn reference(&self) -> Value {
        match self.doc.strong_count() {
            0 => json!({ "_id": self.id, "deleted": true }),
            _ => json!({ "_id": self.id }),
        }
    }

    /// The stored document, shared (no copy), while the item exists.
    fn shared(&self) -> Option<Arc<Value>> {
        self.doc.upgrade()
    }
}

impl TaskRecord {
    /// The task's document without its `result`, and the stored document that is its
    /// result when the item still exists (shared, so that a large one is not copied:
    /// the answer frames its serialised bytes instead).
    pub(crate) fn without_result(&self) -> (Value, Option<Arc<Value>>) {
        let shared = self.result.as_ref().and_then(TaskResult::shared);
        let mut doc = self.to_json_with(|| Value::Null);
        if shared.is_some() {
            if let Some(map) = doc.as_object_mut() {
                map.remove("result");
            }
        }
        (doc, shared)
    }

    /// The task's entry in `GET /v2/tasks`: its document with the result as a
    /// reference (`{"_id"}`), so that a page costs a few hundred bytes a task however
    /// large the results are (read one with `GET /v2/tasks/{id}` or by its id).
    pub(crate) fn to_list_json(&self) -> Value {
        self.to_json_with(|| {
            self.result
                .as_ref()
                .map_or(Value::Null, TaskResult::reference)
        })
    }

    /// The contract's task document, whole (the server answers it through
    /// [`without_result`](Self::without_result), which does not copy the result).
    #[cfg(test)]
    pub(crate) fn to_json(&self) -> Value {
        self.to_json_with(|| {
            self.result
                .as_ref()
                .map_or(Value::Null, TaskResult::to_json)
        })
    }

    fn to_json_with(&self, result: impl FnOnce() -> Value) -> Value {
        let mut doc = json!({
            "_id": self.id,
            "type": self.kind.as_str(),
            "status": self.status.as_str(),
            "progress": json::number(self.progress),
            "result": result(),
            "created_at": json::number(self.created_at),
        });
        let optional = [
            ("progress_message", self.message.clone().map(Value::from)),
            ("started_at", self.started_at.map(json::number)),
            ("finished_at", self.finished_at.map(json::number)),
        ];
        for (name, value) in optional {
            if let (Some(v), Some(map)) = (value, doc.as_object_mut()) {
                map.insert(name.to_owned(), v);
            }
        }
        doc
    }

    fn finish(&mut self, status: Status, message: Option<String>, result: Option<TaskResult>) {
        self.status = status;
        if status == Status::Done {
            self.progress = 1.0;
        }
        if let Some(message) = message {
            self.message = Some(clipped(message));
        }
        self.result = result;
        self.finished_at = Some(now());
    }
}

/// Longest `progress_message` an ended task keeps: a message that quotes a 64 KiB
/// column name would otherwise cost that much for as long as the task is remembered.
const MAX_MESSAGE_BYTES: usize = 1024;

/// `message`, cut to [`MAX_MESSAGE_BYTES`] at a character boundary (marked `...`).
fn clipped(mut message: String) -> String {
    if message.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push_str("...");
    }
    message
}

/// Every task, the pending queue and the worker slots.
#[derive(Default)]
pub(crate) struct TaskTable {
    records: HashMap<String, TaskRecord>,
    queue: VecDeque<(String, Job)>,
    busy: usize,
    ids: IdGen,
    /// Ended tasks, oldest first; beyond `max_ended` the oldest are forgotten.
    ended: VecDeque<String>,
    /// `None`: keep every ended task.
    max_ended: Option<usize>,
    /// Where every task's document is kept, if anywhere: written when the task is
    /// created and whenever its status changes (not at each progress report).
    disk: Option<Arc<DataDir>>,
}

impl fmt::Debug for TaskTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskTable")
            .field("tasks", &self.records.len())
            .field("pending", &self.queue.len())
            .field("running", &self.busy)
            .finish()
    }
}

impl TaskTable {
    /// A table that forgets the oldest ended tasks beyond `max_ended` (at least 1) and
    /// keeps its tasks in `disk` too, if given.
    pub(crate) fn with_max_ended(max_ended: usize, disk: Option<Arc<DataDir>>) -> TaskTable {
        TaskTable {
            max_ended: Some(max_ended.max(1)),
            disk,
            ..TaskTable::default()
        }
    }

    /// Writes task `id`'s document to the data directory, if there is one.
    ///
    /// # Errors
    /// The data directory refused it.
    fn save(&self, id: &str) -> Result<(), String> {
        let (Some(disk), Some(record)) = (&self.disk, self.records.get(id)) else {
            return Ok(());
        };
        let doc = record.to_list_json();
        disk.commit(&[Row::Task { id, doc: &doc }])
    }

    /// [`save`](Self::save) for a change of status that has already happened: a
    /// failure is reported on stderr (the task still answers from memory; after a
    /// restart it shows its previous status, or fails as interrupted).
    fn save_or_warn(&self, id: &str) {
        if let Err(e) = self.save(id) {
            eprintln!("automl-server: cannot record task {id}: {e}");
        }
    }

    /// Notes that task `id` ended; forgets the oldest ended tasks beyond the cap (never
    /// `id` itself, the newest).
    fn note_ended(&mut self, id: &str) {
        self.ended.push_back(id.to_owned());
        self.save_or_warn(id);
        let Some(max) = self.max_ended else { return };
        while self.ended.len() > max {
            if let Some(old) = self.ended.pop_front() {
                self.records.remove(&old);
                if let Some(disk) = &self.disk {
                    let _ = disk.commit(&[Row::DeleteTask(&old)]);
                }
            }
        }
    }

    /// Creates a `pending` task for `job` at the back of the queue; returns its id.
    ///
    /// # Errors
    /// The data directory could not record the task; it is not created.
    pub(crate) fn submit(&mut self, kind: TaskKind, job: Job) -> Result<String, String> {
        let id = self.ids.next_id();
        let record = TaskRecord {
            id: id.clone(),
            kind,
            status: Status::Pending,
            progress: 0.0,
            message: None,
            result: None,
            created_at: now(),
            started_at: None,
            finished_at: None,
            cancel: Arc::new(AtomicBool::new(false)),
        };
        self.records.insert(id.clone(), record);
        if let Err(e) = self.save(&id) {
            self.records.remove(&id);
            return Err(e);
        }
        self.queue.push_back((id.clone(), job));
        Ok(id)
    }

    /// The oldest pending job, if fewer than `max_running` slots are in use: its task
    /// becomes `running` and takes a slot.
    pub(crate) fn next_runnable(&mut self, max_running: usize) -> Option<(String, Job)> {
        if self.busy >= max_running {
            return None;
        }
        let (id, job) = self.queue.pop_front()?;
        if let Some(record) = self.records.get_mut(&id) {
            record.status = Status::Running;
            record.started_at = Some(now());
        }
        self.save_or_warn(&id);
        self.busy += 1;
        Some((id, job))
    }

    /// Frees the slot of a job that returned (or panicked, with `panic` set: a task
    /// still running then fails with that message).
    pub(crate) fn release(&mut self, id: &str, panic: Option<String>) {
        self.busy = self.busy.saturating_sub(1);
        let Some(record) = self.records.get_mut(id) else {
            return;
        };
        if let (Some(message), Status::Running) = (panic, record.status) {
            record.finish(Status::Fail, Some(message), None);
            self.note_ended(id);
        }
    }

    /// Records a running task's progress.
    pub(crate) fn progress(&mut self, id: &str, fraction: f64, message: &str) {
        if let Some(record) = self.records.get_mut(id) {
            if record.status == Status::Running {
                record.progress = fraction.clamp(0.0, 1.0);
                record.message = Some(message.to_owned());
            }
        }
    }

    /// Ends a running task with `outcome`; `false` (and nothing changes) when the task
    /// is no longer running, i.e. it was stopped.
    pub(crate) fn finish(&mut self, id: &str, outcome: Outcome) -> bool {
        let Some(record) = self.records.get_mut(id) else {
            return false;
        };
        if record.status != Status::Running {
            return false;
        }
        match outcome {
            Outcome::Done(doc) => record.finish(Status::Done, None, Some(TaskResult::new(&doc))),
            // Only `cancel_all` raises a running task's flag (`stop` ends the task first):
            // a job cut short by the shutdown reads as one the next start finds running.
            Outcome::Fail(_) if record.cancel.load(Ordering::SeqCst) => {
                record.finish(Status::Fail, Some(restore::RESTARTED.to_owned()), None)
            }
            Outcome::Fail(m) => record.finish(Status::Fail, Some(m), None),
            Outcome::Invalid(m) => record.finish(Status::Invalid, Some(m), None),
        }
        self.note_ended(id);
        true
    }

    /// Whether task `id` is still running (a job checks before it stores its product).
    pub(crate) fn is_running(&self, id: &str) -> bool {
        self.records
            .get(id)
            .is_some_and(|r| r.status == Status::Running)
    }

    /// Stops a pending or running task (it becomes `fail`, "stopped"); a finished task
    /// is left as it is. Returns the task, or `None` for an unknown id.
    pub(crate) fn stop(&mut self, id: &str) -> Option<&TaskRecord> {
        let record = self.records.get_mut(id)?;
        match record.status {
            Status::Pending => self.queue.retain(|(queued, _)| queued != id),
            Status::Running => record.cancel.store(true, Ordering::SeqCst),
            _ => return self.records.get(id),
        }
        if let Some(record) = self.records.get_mut(id) {
            record.finish(Status::Fail, Some("stopped".to_owned()), None);
        }
        self.note_ended(id);
        self.records.get(id)
    }

    /// Raises the cancel flag of every task (the server is shutting down); a job that
    /// then fails ends its task with [`restore::RESTARTED`], as a restart would.
    pub(crate) fn cancel_all(&mut self) {
        for record in self.records.values() {
            record.cancel.store(true, Ordering::SeqCst);
        }
    }

    /// Every task, newest first (by creation time, then id).
    pub(crate) fn newest_first(&self) -> Vec<&TaskRecord> {
        let mut all: Vec<&TaskRecord> = self.records.values().collect();
        all.sort_by(|a, b| {
            let order = b.created_at.total_cmp(&a.created_at);
            order.then_with(|| b.id.cmp(&a.id))
        });
        all
    }

    /// A task by id.
    pub(crate) fn get(&self, id: &str) -> Option<&TaskRecord> {
        self.records.get(id)
    }

    /// Worker slots in use.
    /// Finished tasks by status (`"done"`, `"fail"`, `"invalid"`), and how many of the
    /// failed ones were stopped.
    pub(crate) fn finished(&self) -> (BTreeMap<String, u64>, u64) {
        let mut by_status = BTreeMap::new();
        let mut stopped = 0;
        for record in self.records.values() {
            if matches!(record.status, Status::Pending | Status::Running) {
                continue;
            }
            *by_status
                .entry(record.status.as_str().to_owned())
                .or_insert(0) += 1;
            stopped += u64::from(record.message.as_deref() == Some("stopped"));
        }
        (by_status, stopped)
    }

    pub(crate) fn running(&self) -> usize {
        self.busy
    }

    /// Tasks waiting for a slot.
    pub(crate) fn pending(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests;
