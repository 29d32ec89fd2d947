//! The contract's documents of stored items: a data set's, an experiment's, a model's.

use serde_json::{json, Map, Value};

use super::super::json;
use super::super::tasks::now;
use super::{DataSet, NewExperiment};
use crate::automl::ml::TrainedModel;

/// The contract's data document.
pub(super) fn data_json(id: &str, set: &DataSet) -> Value {
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
        "schema": super::super::listing::schema(&set.frame),
        "accessor": { "uri": format!("/v2/data/{id}/file"), "format": "csv" },
        "created_at": json::number(now()),
    })
}

/// The contract's experiment document; `model_ids[i]` names `models[i]`.
pub(super) fn experiment_json(id: &str, trained: &NewExperiment, model_ids: &[String]) -> Value {
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
pub(super) fn model_json(id: &str, exp_id: &str, model: &TrainedModel) -> Value {
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
