//! `POST /v2/tasks/cluster_train`, the SDK's `TrainClusterInput`: k-means on a data
//! set, stored as a `clustering` experiment with one model, which
//! `POST /v2/tasks/predict` scores like any other model.
//!
//! Every problem with the request's fields (a wrong type, an unknown data id, a bad
//! `k`, an unknown feature) ends the task as `invalid` with a message naming the
//! field, as for every task submit: the SDK only learns what went wrong from the
//! task. Only a body that is not a JSON object is refused outright.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::jobs::PredictOptions;
use super::json::{self, Fields};
use super::response::Response;
use super::state::Shared;
use super::store::{Built, DataSet, ServedModel};
use super::tasks::{now, TaskKind};
use super::train_request;
use super::worker::{self, Job, JobOutput};
use crate::automl::ml::{
    cluster_working_memory, train_cluster, Center, ClusterModel, ClusterSpec, Frame, TrainError,
};

/// The algorithm's name in the documents.
const ALGO: &str = "KMeans";

/// `POST /v2/tasks/cluster_train`. A refused field answers `400` or `404`, which
/// the handler turns into a task that ends `invalid` (see `handlers::or_invalid_task`).
pub(crate) fn train(shared: &Arc<Shared>, map: &Map<String, Value>) -> Result<Response, ApiError> {
    let (frame, data_id, spec) = request(shared, map)?;
    let id = worker::submit(
        shared,
        TaskKind::ClusterTrain,
        train_job(frame, data_id, spec),
    )?;
    Ok(Response::json(200, &json!({ "_id": id })))
}

/// The data and the spec of a request.
fn request(
    shared: &Arc<Shared>,
    map: &Map<String, Value>,
) -> Result<(Arc<Frame>, String, ClusterSpec), ApiError> {
    let fields = Fields(map);
    let data_id = fields.string("train_data_id")?;
    train_request::refuse_unsupported(fields, &["callback", "version"])?;
    let spec = ClusterSpec {
        features: fields.opt_strings("features")?,
        feature_types: train_request::feature_types(fields)?,
        k: k(map.get("k")).map_err(ApiError::BadRequest)?,
        seed: fields.opt_u64("seed")?.unwrap_or(ClusterSpec::new().seed),
    };
    let frame = shared.lock().store.data(data_id).map(|d| d.frame.clone());
    let shown: String = data_id.chars().take(64).collect();
    let frame = frame
        .ok_or_else(|| ApiError::NotFound(format!("train_data_id: no data with id '{shown}'")))?;
    Ok((frame, data_id.to_owned(), spec))
}

/// The `k` field: absent, `null` or a whole number (checked against the data later).
fn k(value: Option<&Value>) -> Result<Option<u64>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) if v.as_u64().is_some() => Ok(v.as_u64()),
        Some(Value::Number(n)) if n.as_i64().is_some() => {
            Err(format!("k must be at least 1, not {n}"))
        }
        Some(v) => Err(format!("k must be a whole number of clusters, not {v}")),
    }
}

/// Clusters `frame` and stores the experiment.
fn train_job(frame: Arc<Frame>, data_id: String, spec: ClusterSpec) -> Job {
    Box::new(move |progress| {
        let need = match cluster_working_memory(&frame, &spec) {
            Ok(bytes) => bytes,
            Err(TrainError::Invalid(message)) => return JobOutput::Invalid(message),
            Err(e) => return JobOutput::Fail(e.to_string()),
        };
        let what = format!("cluster {} rows", frame.rows());
        let _working = match progress.reserve(need, &what) {
            Ok(reservation) => reservation,
            Err(message) => return JobOutput::Fail(message),
        };
        let mut report = |fraction: f64, message: &str| progress.report(fraction, message);
        match train_cluster(&frame, &spec, &mut report, progress.cancel_flag()) {
            Ok(model) => JobOutput::Experiment(built(model, data_id)),
            Err(TrainError::Invalid(message)) => JobOutput::Invalid(message),
            Err(TrainError::Cancelled) => JobOutput::Fail("stopped".into()),
            Err(e) => JobOutput::Fail(e.to_string()),
        }
    })
}

/// A clustering experiment of one model, waiting for its ids.
fn built(model: ClusterModel, data_id: String) -> Built {
    Built {
        count: 1,
        build: Box::new(move |exp_id, model_ids| {
            let model_id = &model_ids[0];
            let exp = experiment_doc(exp_id, model_id, &model, &data_id);
            let doc = model_doc(model_id, exp_id, &model);
            (exp, vec![(ServedModel::Cluster(Arc::new(model)), doc)])
        }),
    }
}

/// The scores of a clustering model: what `cv_averages` holds (there is no cross
/// validation; these are the training rows' values).
fn scores(model: &ClusterModel) -> Value {
    json!({
        "tot_withinss": json::number(model.tot_withinss),
        "betweenss": json::number(model.betweenss()),
        "totss": json::number(model.totss),
    })
}

/// The experiment document: the SDK's `ExperimentCluster` attributes.
fn experiment_doc(id: &str, model_id: &str, model: &ClusterModel, data_id: &str) -> Value {
    let time = json::number(now());
    json!({
        "_id": id,
        "target": Value::Null,
        "train_data_id": data_id,
        "features": model.features,
        "models": [model_id],
        "hyperparameters": {
            "model_type": "clustering",
            "k": model.k,
            "seed": model.seed,
            "evaluator": "tot_withinss",
            "algos": [ALGO],
        },
        "attributes": {
            model_id: {
                "model_id": model_id,
                "algo": ALGO,
                "cv_averages": scores(model),
                "validation_scores": {},
                "size": model.sizes,
            }
        },
        "recommendations": [{ "evaluator": "tot_withinss", "model_id": model_id }],
        "created_at": time,
        "completed_at": time,
    })
}

/// The model document: centroids, cluster sizes and sums of squares, by H2O's names.
fn model_doc(id: &str, exp_id: &str, model: &ClusterModel) -> Value {
    let time = json::number(now());
    let hyperparameters = json::named_numbers(model.hyperparameters());
    json!({
        "_id": id,
        "exp_id": exp_id,
        "name": ALGO,
        "key": format!("{ALGO}_{id}"),
        "attributes": {
            "cv_averages": scores(model),
            "validation_scores": {},
            "k": model.k,
            "size": model.sizes,
            "withinss": model.withinss.iter().map(|&w| json::number(w)).collect::<Vec<_>>(),
            "tot_withinss": json::number(model.tot_withinss),
            "betweenss": json::number(model.betweenss()),
            "totss": json::number(model.totss),
            "centers": centers(model),
            "centers_std": model.centers_std().iter().map(|c| numbers(c)).collect::<Vec<_>>(),
            "encoded_columns": model.encoded_columns(),
            "iterations": model.iterations,
            "converged": model.converged,
            "rows_used": model.rows_used,
        },
        "hyperparameters": hyperparameters,
        "importances": {},
        "created_at": time,
        "completed_at": time,
    })
}

fn numbers(values: &[f64]) -> Value {
    Value::Array(values.iter().map(|&v| json::number(v)).collect())
}

/// Each cluster's center as `{feature: value}`: a mean for a numerical feature, the
/// most frequent level for a categorical one (`null` when the cluster has none).
fn centers(model: &ClusterModel) -> Value {
    let one = |center: &Vec<Center>| {
        let map: Map<String, Value> = model
            .features
            .iter()
            .zip(center)
            .map(|(name, c)| {
                let value = match c {
                    Center::Number(x) => json::number(*x),
                    Center::Level(level) => level.clone().map_or(Value::Null, Value::from),
                };
                (name.clone(), value)
            })
            .collect();
        Value::Object(map)
    };
    Value::Array(model.centers.iter().map(one).collect())
}

/// Assigns every row of `data` to a cluster of `model` (`threshold` does not apply).
pub(crate) fn predict(model: Arc<ClusterModel>, data: Arc<Frame>, options: PredictOptions) -> Job {
    Box::new(move |progress| {
        progress.report(0.0, "assigning clusters");
        let frame = match model.predict(&data, &options.keep_columns) {
            Ok(frame) => frame,
            Err(e) => return JobOutput::Invalid(e.to_string()),
        };
        let mut csv = Vec::new();
        if let Err(e) = frame.write_csv(&mut csv) {
            return JobOutput::Fail(format!("could not write the predictions: {e}"));
        }
        JobOutput::Data(DataSet {
            name: format!("predictions of {}", options.model_id),
            frame: Arc::new(frame),
            csv: csv.into(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automl::ml::Column;

    #[test]
    fn k_must_be_a_whole_number() {
        assert_eq!(k(None), Ok(None));
        assert_eq!(k(Some(&json!(null))), Ok(None));
        assert_eq!(k(Some(&json!(3))), Ok(Some(3)));
        assert_eq!(k(Some(&json!(0))), Ok(Some(0))); // refused by the engine
        assert_eq!(
            k(Some(&json!(-2))),
            Err("k must be at least 1, not -2".into())
        );
        let err = k(Some(&json!("3"))).unwrap_err();
        assert_eq!(err, "k must be a whole number of clusters, not \"3\"");
        assert!(k(Some(&json!(2.5))).is_err());
    }

    #[test]
    fn an_experiment_stores_its_model_and_documents() {
        let x: Vec<f64> = (0..20)
            .map(|i| if i < 10 { i as f64 * 0.01 } else { 5.0 })
            .collect();
        let frame = Frame::new(vec![Column::numerical("x", x)]).unwrap();
        let spec = ClusterSpec {
            k: Some(2),
            ..ClusterSpec::new()
        };
        let cancel = std::sync::atomic::AtomicBool::new(false);
        let model = train_cluster(&frame, &spec, &mut |_, _| {}, &cancel).unwrap();
        let mut store = crate::automl::server::store::Store::default();
        let exp = store.add_built(built(model, "data-1".into()));
        let exp_id = exp["_id"].as_str().unwrap();
        let model_id = exp["models"][0].as_str().unwrap();
        assert_eq!(exp["hyperparameters"]["model_type"], "clustering");
        assert_eq!(exp["attributes"][model_id]["model_id"], model_id);
        assert!(exp["attributes"][model_id]["cv_averages"]["tot_withinss"].is_f64());
        assert!(matches!(
            store.model(model_id),
            Some(ServedModel::Cluster(_))
        ));
        let doc = store.model_doc(exp_id, model_id).unwrap();
        let mut sizes: Vec<u64> = doc["attributes"]["size"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_u64().unwrap())
            .collect();
        sizes.sort_unstable();
        assert_eq!(sizes, [10, 10]);
        let centers = doc["attributes"]["centers"].as_array().unwrap();
        let xs: Vec<f64> = centers.iter().map(|c| c["x"].as_f64().unwrap()).collect();
        assert!(
            xs.contains(&5.0) && xs.iter().any(|x| (x - 0.045).abs() < 1e-9),
            "{xs:?}"
        );
        assert_eq!(doc["hyperparameters"]["k"], 2.0);
    }
}
