//! What the server keeps: data sets (uploaded, retyped by setup, predicted),
//! experiments and their trained models, each under its own id, with the contract's
//! JSON documents for them.
//!
//! Every item's bytes are counted (a data set's CSV, its columns, its column names and
//! its document; an experiment's documents and its models'), held in the server's
//! memory budget, and evicted oldest first beyond the cap. Documents are shared
//! (`Arc`): an ended task keeps only a weak reference to the document it made, so
//! deleting or evicting an item frees all of it.
//!
//! With a data directory (`disk`) every item also has a row and its files there: a job
//! names what it made and writes its files on its worker thread ([`Made`]), then the
//! store commits the rows and takes the item in ([`Store::insert`]); deleting or
//! evicting removes the rows, then the files. [`Store::restore`] loads them at start.

mod docs;
mod made;
mod restore;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::budget::Reservation;
use super::disk::{self, DataDir, Row};
use super::ids::IdGen;
use crate::automl::ml::{
    frame_bytes, ClusterModel, Forecaster, Frame, TrainedExperiment, TrainedModel,
};

pub(crate) use made::{Built, Made, MadeModel};

/// A data set: its frame for training and prediction, and its CSV for download.
#[derive(Debug, Clone)]
pub(crate) struct DataSet {
    /// Display name (`data_name`: the upload's base name, or where it came from).
    pub(crate) name: String,
    /// The typed columns.
    pub(crate) frame: Arc<Frame>,
    /// The bytes `GET /v2/data/{id}/file` returns.
    pub(crate) csv: Arc<[u8]>,
}

/// A stored data set and its document.
#[derive(Debug)]
pub(crate) struct StoredData {
    pub(crate) set: DataSet,
    doc: Arc<Value>,
    /// Bytes it takes (see [`data_bytes`]).
    bytes: usize,
}

/// A stored experiment's document and the bytes it and its models' documents take.
#[derive(Debug)]
struct StoredExperiment {
    doc: Arc<Value>,
    bytes: usize,
}

/// A trained experiment, as the train request described it.
#[derive(Debug)]
pub(crate) struct NewExperiment {
    /// What the engine produced.
    pub(crate) experiment: TrainedExperiment,
    /// The data it was trained on.
    pub(crate) train_data_id: String,
    /// The data set its final models were scored on (`test_scores`), if any.
    pub(crate) test_data_id: Option<String>,
    /// The request's options beyond the basics, echoed in the document's `options`.
    pub(crate) options: Map<String, Value>,
}

/// A model the server can score data with, by the kind of experiment that made it.
/// Each kind of experiment adds a variant; `POST /v2/tasks/predict` matches on it.
#[derive(Debug, Clone)]
pub(crate) enum ServedModel {
    /// A supervised model of a train experiment (GLM, DRF, GBM).
    Supervised(Arc<TrainedModel>),
    /// The k-means model of a clustering experiment.
    Cluster(Arc<ClusterModel>),
    /// A forecaster of a time-series experiment.
    Forecast(Arc<Forecaster>),
}

/// A stored model: what scores with it, and its document.
#[derive(Debug)]
struct StoredModel {
    model: ServedModel,
    doc: Arc<Value>,
}

/// Data sets, experiments and models by id.
#[derive(Debug, Default)]
pub(crate) struct Store {
    data: HashMap<String, StoredData>,
    experiments: HashMap<String, StoredExperiment>,
    /// Models by `(experiment id, model id)`; model ids are unique on their own too.
    models: HashMap<String, StoredModel>,
    ids: IdGen,
    /// Data ids and experiment ids, oldest first (ids deleted by hand linger a while).
    order: VecDeque<Stored>,
    /// Bytes held by the stored data sets and experiments.
    data_bytes: usize,
    caps: Caps,
    /// `data_bytes`, held in the server's memory budget.
    held: Option<Reservation>,
    /// Where items are kept durably, if anywhere.
    disk: Option<Arc<DataDir>>,
}

/// What the store may hold before it evicts, oldest first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    /// Most data sets, and most experiments (each with its models).
    pub(crate) items: usize,
    /// Most bytes of data sets and experiments.
    pub(crate) bytes: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            items: usize::MAX,
            bytes: usize::MAX,
        }
    }
}

/// An entry of the eviction order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stored {
    Data(String),
    Experiment(String),
}

/// The memory a data set takes: its CSV, its columns (with their names and levels),
/// its name and its document.
fn data_bytes(set: &DataSet, doc: &Value) -> usize {
    set.csv.len() + frame_bytes(&set.frame) + set.name.len() + json_bytes(doc)
}

/// About the memory a JSON tree takes: each node, each string's text, each key.
pub(crate) fn json_bytes(value: &Value) -> usize {
    const NODE: usize = 32;
    NODE + match value {
        Value::String(s) => s.len(),
        Value::Array(items) => items.iter().map(json_bytes).sum(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| NODE + k.len() + json_bytes(v))
            .sum(),
        _ => 0,
    }
}

impl Store {
    /// A store that evicts beyond `caps`, holding its bytes in `held` (part of the
    /// server's memory budget), and keeps its items in `disk` too, if given.
    pub(crate) fn with_caps(caps: Caps, held: Reservation, disk: Option<Arc<DataDir>>) -> Store {
        Store {
            caps,
            held: Some(held),
            disk,
            ..Store::default()
        }
    }

    /// Adds `bytes` (or, negative, frees them) to the count and the budget.
    fn count(&mut self, bytes: usize, add: bool) {
        self.data_bytes = match add {
            true => self.data_bytes.saturating_add(bytes),
            false => self.data_bytes.saturating_sub(bytes),
        };
        if let Some(held) = &mut self.held {
            held.set_to(self.data_bytes);
        }
    }

    /// Bytes of the stored items.
    pub(crate) fn bytes(&self) -> usize {
        self.data_bytes
    }

    /// A fresh id for an item or a model.
    pub(crate) fn next_id(&mut self) -> String {
        self.ids.next_id()
    }

    /// Stores what a job made (its files already written, with a data directory):
    /// commits its rows, takes it in and evicts the oldest items beyond the caps.
    /// Returns its document (the result of the task that made it).
    ///
    /// # Errors
    /// The data directory refused the rows; the item's files are removed and nothing
    /// is stored.
    pub(crate) fn insert(&mut self, made: Made) -> Result<Arc<Value>, String> {
        if let Some(disk) = &self.disk {
            if let Err(e) = disk.commit(&made.rows()) {
                made.remove_files(disk);
                return Err(e);
            }
        }
        Ok(self.take_in(made))
    }

    /// Takes an item in (its rows are committed) and evicts beyond the caps.
    fn take_in(&mut self, made: Made) -> Arc<Value> {
        let (id, doc) = self.admit(made);
        self.evict(&id);
        doc
    }

    /// Puts an item in memory, the budget and the eviction order; returns its id and
    /// document.
    fn admit(&mut self, made: Made) -> (String, Arc<Value>) {
        match made {
            Made::Data { id, set, doc } => {
                let doc = Arc::new(doc);
                let bytes = data_bytes(&set, &doc);
                self.count(bytes, true);
                self.order.push_back(Stored::Data(id.clone()));
                let stored = StoredData {
                    set,
                    doc: doc.clone(),
                    bytes,
                };
                self.data.insert(id.clone(), stored);
                (id, doc)
            }
            Made::Experiment { id, doc, models } => {
                let mut bytes = json_bytes(&doc);
                for MadeModel {
                    id: model_id,
                    model,
                    doc,
                } in models
                {
                    bytes += json_bytes(&doc) + model_id.len();
                    let doc = Arc::new(doc);
                    self.models.insert(model_id, StoredModel { model, doc });
                }
                let doc = Arc::new(doc);
                let stored = StoredExperiment {
                    doc: doc.clone(),
                    bytes,
                };
                self.count(bytes, true);
                self.experiments.insert(id.clone(), stored);
                self.order.push_back(Stored::Experiment(id.clone()));
                (id, doc)
            }
        }
    }

    /// Adds a data set held only in memory; returns its document.
    #[cfg(test)]
    pub(crate) fn add_data(&mut self, set: DataSet) -> Arc<Value> {
        let id = self.next_id();
        self.take_in(Made::data(id, set))
    }

    /// Adds an experiment held only in memory; returns its document.
    #[cfg(test)]
    pub(crate) fn add_built(&mut self, built: Built) -> Arc<Value> {
        let id = self.next_id();
        let model_ids: Vec<String> = (0..built.count).map(|_| self.next_id()).collect();
        self.take_in(Made::experiment(id, &model_ids, built))
    }

    /// Deletes data set `id`: its row, then its file and its memory; `Ok(false)` if
    /// there is none.
    ///
    /// # Errors
    /// The data directory could not remove the row; the data set stays.
    pub(crate) fn delete_data(&mut self, id: &str) -> Result<bool, String> {
        if !self.data.contains_key(id) {
            return Ok(false);
        }
        self.delete_row(id, &[disk::data_file(id)])?;
        if let Some(stored) = self.data.remove(id) {
            self.count(stored.bytes, false);
        }
        Ok(true)
    }

    /// Deletes experiment `id` and its models: their rows, then their files and their
    /// memory; `Ok(false)` if there is none.
    ///
    /// # Errors
    /// The data directory could not remove the rows; the experiment stays.
    pub(crate) fn delete_experiment(&mut self, id: &str) -> Result<bool, String> {
        let Some(stored) = self.experiments.get(id) else {
            return Ok(false);
        };
        let model_ids: Vec<String> = stored.doc["models"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_str().map(str::to_owned))
            .collect();
        let files: Vec<String> = model_ids.iter().map(|m| disk::model_file(m)).collect();
        self.delete_row(id, &files)?;
        for model_id in &model_ids {
            self.models.remove(model_id);
        }
        if let Some(stored) = self.experiments.remove(id) {
            self.count(stored.bytes, false);
        }
        Ok(true)
    }

    /// With a data directory: removes item `id`'s rows, then `files`.
    fn delete_row(&self, id: &str, files: &[String]) -> Result<(), String> {
        if let Some(disk) = &self.disk {
            disk.commit(&[Row::DeleteItem(id)])?;
            for file in files {
                disk.remove_object(file);
            }
        }
        Ok(())
    }

    /// Evicts the oldest data sets and experiments while over the caps, never `keep`
    /// (the item just added). An item the data directory cannot delete stays (and
    /// eviction stops there: the next insert tries again).
    fn evict(&mut self, keep: &str) {
        let mut kept = VecDeque::new();
        while self.over_caps() {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            let deleted = match &oldest {
                Stored::Data(id) | Stored::Experiment(id) if id == keep => {
                    kept.push_back(oldest);
                    continue;
                }
                Stored::Data(id) => self.delete_data(id),
                Stored::Experiment(id) => self.delete_experiment(id),
            };
            if let Err(e) = deleted {
                eprintln!("automl-server: cannot evict an item: {e}");
                self.order.push_front(oldest);
                break;
            }
        }
        while let Some(entry) = kept.pop_back() {
            self.order.push_front(entry);
        }
        // Ids deleted by hand stay in `order` until they reach its front; drop them
        // when they outnumber the live ones.
        if self.order.len() > 2 * (self.data.len() + self.experiments.len()) + 16 {
            let (data, experiments) = (&self.data, &self.experiments);
            self.order.retain(|s| match s {
                Stored::Data(id) => data.contains_key(id),
                Stored::Experiment(id) => experiments.contains_key(id),
            });
        }
    }

    fn over_caps(&self) -> bool {
        let caps = self.caps;
        let over = self.data.len() > caps.items
            || self.data_bytes > caps.bytes
            || self.experiments.len() > caps.items;
        over && self.data.len() + self.experiments.len() > 1
    }

    /// A data set by id.
    pub(crate) fn data(&self, id: &str) -> Option<&DataSet> {
        self.data.get(id).map(|d| &d.set)
    }

    /// A data set's document by id.
    pub(crate) fn data_doc(&self, id: &str) -> Option<&Arc<Value>> {
        self.data.get(id).map(|d| &d.doc)
    }

    /// The document of the data set or experiment `id` (a task's result).
    pub(crate) fn item_doc(&self, id: &str) -> Option<&Arc<Value>> {
        self.data_doc(id).or_else(|| self.experiment(id))
    }

    /// Every data set's document, newest first (by creation time, then id).
    pub(crate) fn data_docs_newest_first(&self) -> Vec<&Arc<Value>> {
        let mut docs: Vec<&Arc<Value>> = self.data.values().map(|d| &d.doc).collect();
        fn time(d: &Value) -> f64 {
            d["created_at"].as_f64().unwrap_or(0.0)
        }
        fn id(d: &Value) -> &str {
            d["_id"].as_str().unwrap_or("")
        }
        docs.sort_by(|a, b| time(b).total_cmp(&time(a)).then_with(|| id(b).cmp(id(a))));
        docs
    }

    /// An experiment's document by id.
    pub(crate) fn experiment(&self, id: &str) -> Option<&Arc<Value>> {
        self.experiments.get(id).map(|e| &e.doc)
    }

    /// A trained model by id.
    pub(crate) fn model(&self, id: &str) -> Option<ServedModel> {
        self.models.get(id).map(|m| m.model.clone())
    }

    /// The document of model `model_id` of experiment `exp_id`.
    pub(crate) fn model_doc(&self, exp_id: &str, model_id: &str) -> Option<&Arc<Value>> {
        let stored = self.models.get(model_id)?;
        (stored.doc["exp_id"] == exp_id).then_some(&stored.doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automl::ml::{parse_csv, CsvLimits};
    use crate::automl::server::budget::MemoryBudget;

    fn set(csv: &str) -> DataSet {
        DataSet {
            name: "upload".into(),
            frame: Arc::new(parse_csv(csv.as_bytes(), &CsvLimits::default()).unwrap()),
            csv: Arc::from(csv.as_bytes()),
        }
    }

    #[test]
    fn names_and_documents_count_and_deleting_frees_them_from_the_budget() {
        let budget = MemoryBudget::new(usize::MAX);
        let caps = Caps {
            items: 100,
            bytes: usize::MAX,
        };
        let mut store = Store::with_caps(caps, budget.reservation(), None);
        let small = store.add_data(set("x\n1\n"));
        let small_bytes = store.bytes();
        let long = format!("{}\n1\n", "n".repeat(50_000));
        let big = store.add_data(set(&long));
        let big_bytes = store.bytes() - small_bytes;
        // The name is in the CSV, the column and the document (columns and schema).
        assert!(big_bytes > 3 * 50_000, "{big_bytes}");
        assert_eq!(budget.used(), store.bytes());
        let weak = Arc::downgrade(&big);
        drop(big);
        assert_eq!(
            store.delete_data(weak.upgrade().unwrap()["_id"].as_str().unwrap()),
            Ok(true)
        );
        assert!(weak.upgrade().is_none(), "the store held the only copy");
        assert_eq!((store.bytes(), budget.used()), (small_bytes, small_bytes));
        eprintln!("a one-column data set of one row: {small_bytes} bytes");
        drop(small);
    }
}
