//! Loading the task table from its data directory at start.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Weak};

use serde_json::Value;

use super::{Status, TaskKind, TaskRecord, TaskResult, TaskTable};

/// The `progress_message` of a task that was pending or running when the server
/// stopped (or crashed): it ends `fail`, never silently vanishes.
pub(crate) const RESTARTED: &str = "the server restarted during this task";

impl TaskKind {
    /// The kind a task document names.
    fn parse(name: &str) -> Option<TaskKind> {
        Some(match name {
            "upload" => TaskKind::Upload,
            "setup" => TaskKind::Setup,
            "train" => TaskKind::Train,
            "predict" => TaskKind::Predict,
            "cluster_train" => TaskKind::ClusterTrain,
            "auto_ts_train" => TaskKind::AutoTsTrain,
            "auto_ts_predict" => TaskKind::AutoTsPredict,
            _ => return None,
        })
    }
}

impl Status {
    fn parse(name: &str) -> Option<Status> {
        Some(match name {
            "pending" => Status::Pending,
            "running" => Status::Running,
            "done" => Status::Done,
            "fail" => Status::Fail,
            "invalid" => Status::Invalid,
            _ => return None,
        })
    }
}

impl TaskTable {
    /// Takes in the task documents a data directory kept, oldest first. A task that
    /// was pending or running when the previous server stopped ends `fail` with
    /// [`RESTARTED`] (and is recorded so). `result_doc` finds the stored document a
    /// `done` task's result names (`None`: deleted since).
    pub(crate) fn restore(
        &mut self,
        docs: Vec<Value>,
        result_doc: impl Fn(&str) -> Option<Arc<Value>>,
    ) {
        for doc in docs {
            let Some(mut record) = record(&doc, &result_doc) else {
                eprintln!("automl-server: skipping a stored task that does not parse: {doc}");
                continue;
            };
            let id = record.id.clone();
            let interrupted = matches!(record.status, Status::Pending | Status::Running);
            if interrupted {
                record.finish(Status::Fail, Some(RESTARTED.to_owned()), None);
            }
            self.records.insert(id.clone(), record);
            match interrupted {
                true => self.note_ended(&id),
                false => self.ended.push_back(id),
            }
        }
    }
}

/// A task record from its stored document.
fn record(doc: &Value, result_doc: &impl Fn(&str) -> Option<Arc<Value>>) -> Option<TaskRecord> {
    let text = |key: &str| doc[key].as_str();
    let result = doc["result"]["_id"].as_str().map(|id| TaskResult {
        id: id.to_owned(),
        doc: result_doc(id).map_or_else(Weak::new, |d| Arc::downgrade(&d)),
    });
    Some(TaskRecord {
        id: text("_id")?.to_owned(),
        kind: TaskKind::parse(text("type")?)?,
        status: Status::parse(text("status")?)?,
        progress: doc["progress"].as_f64().unwrap_or(0.0),
        message: text("progress_message").map(str::to_owned),
        result,
        created_at: doc["created_at"].as_f64()?,
        started_at: doc["started_at"].as_f64(),
        finished_at: doc["finished_at"].as_f64(),
        cancel: Arc::new(AtomicBool::new(false)),
    })
}
