//! What the server keeps in memory: uploaded and predicted data sets, experiments and
//! their trained models, each under its own id.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::json;
use crate::automl::ml::{Experiment, Frame, TrainedModel};

/// A data set: its frame for training and prediction, and its CSV for download.
#[derive(Debug, Clone)]
pub(crate) struct DataSet {
    /// Display name (the upload's `name`, or where predictions came from).
    pub(crate) name: String,
    /// The typed columns.
    pub(crate) frame: Arc<Frame>,
    /// The bytes `GET /v2/data/{id}/file` returns.
    pub(crate) csv: Arc<[u8]>,
}

/// Data sets, experiments and models by id.
#[derive(Debug, Default)]
pub(crate) struct Store {
    data: HashMap<String, DataSet>,
    experiments: HashMap<String, Value>,
    models: HashMap<String, Arc<TrainedModel>>,
    next_id: u64,
}

impl Store {
    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{:08x}", self.next_id)
    }

    /// Adds a data set and returns the upload result: `{"_id", "name", "rows",
    /// "columns": [{"id", "data_type"}]}`.
    pub(crate) fn add_data(&mut self, set: DataSet) -> Value {
        let id = self.new_id("data");
        let columns: Vec<Value> = set
            .frame
            .columns()
            .iter()
            .map(|c| json!({ "id": c.name, "data_type": c.data_type().as_str() }))
            .collect();
        let summary = json!({
            "_id": id,
            "name": set.name,
            "rows": set.frame.rows(),
            "columns": columns,
        });
        self.data.insert(id, set);
        summary
    }

    /// Adds an experiment and its models; returns the experiment's id.
    pub(crate) fn add_experiment(&mut self, experiment: Experiment) -> String {
        let id = self.new_id("exp");
        let model_ids: Vec<String> = experiment
            .models
            .iter()
            .map(|_| self.new_id("model"))
            .collect();
        let doc = experiment_json(&id, &experiment, &model_ids);
        for (model_id, model) in model_ids.into_iter().zip(experiment.models) {
            self.models.insert(model_id, Arc::new(model));
        }
        self.experiments.insert(id.clone(), doc);
        id
    }

    /// A data set by id.
    pub(crate) fn data(&self, id: &str) -> Option<&DataSet> {
        self.data.get(id)
    }

    /// An experiment's JSON document by id.
    pub(crate) fn experiment(&self, id: &str) -> Option<&Value> {
        self.experiments.get(id)
    }

    /// A trained model by id.
    pub(crate) fn model(&self, id: &str) -> Option<Arc<TrainedModel>> {
        self.models.get(id).cloned()
    }
}

/// The contract's experiment document; `model_ids[i]` names `experiment.models[i]`.
fn experiment_json(id: &str, experiment: &Experiment, model_ids: &[String]) -> Value {
    let attributes: serde_json::Map<String, Value> = model_ids
        .iter()
        .zip(&experiment.models)
        .map(|(model_id, model)| {
            let doc = json!({
                "model_id": model_id,
                "algo": model.algo.as_str(),
                "cv_averages": json::metrics(&model.cv_averages),
                "validation_scores": json::metrics(&model.validation_scores),
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
    json!({
        "_id": id,
        "target": experiment.target,
        "hyperparameters": { "model_type": experiment.model_type.as_str() },
        "attributes": attributes,
        "recommendations": recommendations,
    })
}
