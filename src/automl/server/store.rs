//! What the server keeps in memory: data sets (uploaded, retyped by setup, predicted),
//! experiments and their trained models, each under its own id, with the contract's
//! JSON documents for them.
//!
//! Every item's bytes are counted (a data set's CSV, its columns, its column names and
//! its document; an experiment's documents and its models'), held in the server's
//! memory budget, and evicted oldest first beyond the cap. Documents are shared
//! (`Arc`): an ended task keeps only a weak reference to the document it made, so
//! deleting or evicting an item frees all of it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::budget::Reservation;
use super::ids::IdGen;
use super::json;
use super::tasks::now;
use crate::automl::ml::{
    frame_bytes, ClusterModel, Forecaster, Frame, TrainedExperiment, TrainedModel,
};

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
    /// A store that evicts beyond `caps`,
    /// holding its bytes in `held` (part of the server's memory budget).
    pub(crate) fn with_caps(caps: Caps, held: Reservation) -> Store {
        Store {
            caps,
            held: Some(held),
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
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.data_bytes
    }

    /// Adds a data set; returns its document (the result of the task that made it).
    pub(crate) fn add_data(&mut self, set: DataSet) -> Arc<Value> {
        let id = self.ids.next_id();
        let doc = Arc::new(data_json(&id, &set));
        let bytes = data_bytes(&set, &doc);
        self.count(bytes, true);
        self.order.push_back(Stored::Data(id.clone()));
        let stored = StoredData {
            set,
            doc: doc.clone(),
            bytes,
        };
        self.data.insert(id.clone(), stored);
        self.evict(&id);
        doc
    }

    /// Deletes data set `id`; `false` if there is none.
    pub(crate) fn delete_data(&mut self, id: &str) -> bool {
        let Some(stored) = self.data.remove(id) else {
            return false;
        };
        self.count(stored.bytes, false);
        true
    }

    /// Deletes experiment `id` and its models; `false` if there is none.
    pub(crate) fn delete_experiment(&mut self, id: &str) -> bool {
        let Some(stored) = self.experiments.remove(id) else {
            return false;
        };
        for model_id in stored.doc["models"].as_array().into_iter().flatten() {
            if let Some(model_id) = model_id.as_str() {
                self.models.remove(model_id);
            }
        }
        self.count(stored.bytes, false);
        true
    }

    /// Evicts the oldest data sets and experiments while over the caps, never `keep`
    /// (the item just added).
    fn evict(&mut self, keep: &str) {
        let mut kept = VecDeque::new();
        while self.over_caps() {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            match oldest {
                Stored::Data(id) | Stored::Experiment(id) if id == keep => {
                    kept.push_back(Stored::Data(id));
                }
                Stored::Data(id) => drop(self.delete_data(&id)),
                Stored::Experiment(id) => drop(self.delete_experiment(&id)),
            }
        }
        if let Some(Stored::Data(id)) = kept.pop_front() {
            let entry = match self.data.contains_key(&id) {
                true => Stored::Data(id),
                false => Stored::Experiment(id),
            };
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

    /// Adds an experiment and its models; returns the experiment's document (the
    /// result of the train task).
    pub(crate) fn add_experiment(&mut self, trained: NewExperiment) -> Arc<Value> {
        let count = trained.experiment.models.len();
        self.add_experiment_with(count, |id, model_ids| {
            let doc = experiment_json(id, &trained, model_ids);
            let models = model_ids
                .iter()
                .zip(trained.experiment.models)
                .map(|(model_id, model)| {
                    let doc = model_json(model_id, id, &model);
                    (ServedModel::Supervised(Arc::new(model)), doc)
                })
                .collect();
            (doc, models)
        })
    }

    /// Adds an experiment of `count` models, of any kind: `build` gets the experiment's
    /// new id and its models' new ids and returns the experiment's document and each
    /// model with its document, in the order of the ids. Returns the experiment's
    /// document (the result of the task that trained it).
    pub(crate) fn add_experiment_with(
        &mut self,
        count: usize,
        build: impl FnOnce(&str, &[String]) -> (Value, Vec<(ServedModel, Value)>),
    ) -> Arc<Value> {
        let id = self.ids.next_id();
        let model_ids: Vec<String> = (0..count).map(|_| self.ids.next_id()).collect();
        let (doc, models) = build(&id, &model_ids);
        let mut bytes = json_bytes(&doc);
        for (model_id, (model, doc)) in model_ids.into_iter().zip(models) {
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
        self.evict(&id);
        doc
    }

    /// A data set by id.
    pub(crate) fn data(&self, id: &str) -> Option<&DataSet> {
        self.data.get(id).map(|d| &d.set)
    }

    /// A data set's document by id.
    pub(crate) fn data_doc(&self, id: &str) -> Option<&Arc<Value>> {
        self.data.get(id).map(|d| &d.doc)
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

/// The contract's data document.
fn data_json(id: &str, set: &DataSet) -> Value {
    let columns: Vec<Value> = set
        .frame
        .columns()
        .iter()
        .map(|c| json!({ "id": c.name, "data_type": c.data_type().as_str() }))
        .collect();
    json!({
        "_id": id,
        "data_name": set.name,
        "rows": set.frame.rows(),
        "columns": columns,
        "schema": super::listing::schema(&set.frame),
        "accessor": { "uri": format!("/v2/data/{id}/file"), "format": "csv" },
        "created_at": json::number(now()),
    })
}

/// The contract's experiment document; `model_ids[i]` names `models[i]`.
fn experiment_json(id: &str, trained: &NewExperiment, model_ids: &[String]) -> Value {
    let experiment = &trained.experiment;
    let attributes: Map<String, Value> = model_ids
        .iter()
        .zip(&experiment.models)
        .map(|(model_id, model)| {
            let doc = json!({
                "model_id": model_id,
                "algo": model.algo.as_str(),
                "cv_averages": json::metrics(&model.cv_averages),
                "validation_scores": json::metrics(&model.validation_scores),
                "test_scores": json::metrics(&model.test_scores),
            });
            (model_id.clone(), doc)
        })
        .collect();
    let recommendations: Vec<Value> = experiment
        .recommendations()
        .into_iter()
        .filter_map(|(evaluator, i)| {
            let model_id = model_ids.get(i)?;
            Some(json!({ "evaluator": evaluator, "model_id": model_id }))
        })
        .collect();
    let algos: Vec<&str> = experiment.models.iter().map(|m| m.algo.as_str()).collect();
    let time = json::number(now());
    let mut options = trained.options.clone();
    if let Some(note) = &experiment.stopped_early {
        options.insert("stopped_early".into(), json!(note));
    }
    json!({
        "_id": id,
        "target": experiment.target,
        "train_data_id": trained.train_data_id,
        "test_base_id": trained.test_data_id,
        "options": options,
        "features": experiment.features,
        "models": model_ids,
        "hyperparameters": {
            "model_type": experiment.model_type.as_str(),
            "nfold": experiment.nfold,
            "seed": experiment.seed,
            "evaluator": experiment.evaluator.as_str(),
            "algos": algos,
        },
        "attributes": attributes,
        "recommendations": recommendations,
        "created_at": time,
        "completed_at": time,
    })
}

/// The contract's model document.
fn model_json(id: &str, exp_id: &str, model: &TrainedModel) -> Value {
    let time = json::number(now());
    let hyperparameters = json::named_numbers(model.hyperparameters());
    let importances = json::named_numbers(model.importances());
    json!({
        "_id": id,
        "exp_id": exp_id,
        "name": model.algo.as_str(),
        "key": format!("{}_{id}", model.algo.as_str()),
        "attributes": {
            "cv_averages": json::metrics(&model.cv_averages),
            "validation_scores": json::metrics(&model.validation_scores),
            "test_scores": json::metrics(&model.test_scores),
        },
        "hyperparameters": hyperparameters,
        "importances": importances,
        "created_at": time,
        "completed_at": time,
    })
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
        let mut store = Store::with_caps(caps, budget.reservation());
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
        assert!(store.delete_data(weak.upgrade().unwrap()["_id"].as_str().unwrap()));
        assert!(weak.upgrade().is_none(), "the store held the only copy");
        assert_eq!((store.bytes(), budget.used()), (small_bytes, small_bytes));
        eprintln!("a one-column data set of one row: {small_bytes} bytes");
        drop(small);
    }
}
