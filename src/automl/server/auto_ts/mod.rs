//! The time-series endpoints: `POST /v2/tasks/auto_ts/train` (the SDK's
//! `TrainAutoTSBody`), `POST /v2/tasks/auto_ts/predict` (`PredictBodyTSModel`) and the
//! `time_series` part of `GET /v2/info`.
//!
//! Every field of the SDK's bodies is either honoured or refused: a request that sets
//! one this server cannot honour (or any field it does not know) ends as an `invalid`
//! task whose message names the field and why. Only a body that is not a JSON object
//! gets a `400`.

use std::sync::Arc;

use serde_json::{json, Map, Value};

mod body;

use body::{predict_request, train_request, TrainRequest};

use super::error::ApiError;
use super::jobs;
use super::json;
use super::response::Response;
use super::state::Shared;
use super::store::{Built, ServedModel};
use super::tasks::TaskKind;
use super::worker::{self, Job, JobOutput};
use crate::automl::evaluator::{best_model_index, ModelType};
use crate::automl::ml::{train_ts, Algo, Forecaster, Frame, TsError, TsExperiment, TsSpec};

/// The `time_series` value of `GET /v2/info`: the algorithms a forecast trains.
pub(crate) fn info() -> Value {
    let algos: Vec<Value> = Algo::TRAINED
        .iter()
        .map(|a| json!({"key": a.as_str(), "name": a.as_str()}))
        .collect();
    json!({ "algos": algos })
}

/// `POST /v2/tasks/auto_ts/train`.
pub(crate) fn train(shared: &Arc<Shared>, map: &Map<String, Value>) -> Result<Response, ApiError> {
    let job = match train_request(map) {
        Ok(request) => {
            let frame = shared
                .lock()
                .store
                .data(&request.data_id)
                .map(|d| d.frame.clone());
            match frame {
                Some(frame) => train_job(frame, request),
                None => refused(format!(
                    "input_spec.train_data_id: no data with id '{}'",
                    request.data_id
                )),
            }
        }
        Err(message) => refused(message),
    };
    submit(shared, TaskKind::AutoTsTrain, job)
}

/// `POST /v2/tasks/auto_ts/predict`.
pub(crate) fn predict(
    shared: &Arc<Shared>,
    map: &Map<String, Value>,
) -> Result<Response, ApiError> {
    let job = match predict_request(map) {
        Ok((data_id, model_id)) => {
            let (data, model) = {
                let state = shared.lock();
                (
                    state.store.data(&data_id).cloned(),
                    state.store.model(&model_id),
                )
            };
            match (data, model) {
                (None, _) => refused(format!("data_id: no data with id '{data_id}'")),
                (_, None) => refused(format!("model_id: no model with id '{model_id}'")),
                (Some(data), Some(ServedModel::Forecast(model))) => {
                    forecast_job(model, data.frame, model_id)
                }
                (Some(_), Some(_)) => refused(format!(
                    "model_id: '{model_id}' is not a time-series model (use \
                     POST /v2/tasks/predict for it)"
                )),
            }
        }
        Err(message) => refused(message),
    };
    submit(shared, TaskKind::AutoTsPredict, job)
}

fn submit(shared: &Arc<Shared>, kind: TaskKind, job: Job) -> Result<Response, ApiError> {
    let id = worker::submit(shared, kind, job)?;
    Ok(Response::json(200, &json!({ "_id": id })))
}

/// An upper estimate of a forecast train's working memory, reserved before it starts:
/// every (row, horizon step) pair can become a sample of lag, rolling, endogenous,
/// exogenous, time-group and calendar features, held once as the samples and once as
/// the encoded matrix a fit reads, plus a fit's own copy (binned trees or a Gram sum).
fn working_memory(rows: usize, spec: &TsSpec) -> usize {
    let window = spec.window.unwrap_or(7);
    let width = window * (1 + spec.endogenous.len())
        + 2 * spec.exogenous.len()
        + 32 * spec.time_groups.len()
        + 24;
    rows.saturating_mul(spec.horizon)
        .saturating_mul(width)
        .saturating_mul(3 * 8)
}

/// A job that ends its task `invalid` with `message`.
fn refused(message: String) -> Job {
    Box::new(move |_| JobOutput::Invalid(message))
}

fn train_job(frame: Arc<Frame>, request: TrainRequest) -> Job {
    Box::new(move |progress| {
        let TrainRequest {
            data_id,
            feature_types,
            spec,
        } = request;
        let frame = match feature_types.is_empty() {
            true => frame,
            false => match frame.retype(&feature_types) {
                Ok(retyped) => Arc::new(retyped),
                Err(e) => return JobOutput::Invalid(format!("input_spec.feature_types: {e}")),
            },
        };
        let what = format!("train a forecast on {} rows", frame.rows());
        let _working = match progress.reserve(working_memory(frame.rows(), &spec), &what) {
            Ok(reservation) => reservation,
            Err(message) => return JobOutput::Fail(message),
        };
        let mut report = |fraction: f64, message: &str| progress.report(fraction, message);
        match train_ts(&frame, &spec, &mut report, progress.cancel_flag()) {
            Ok(experiment) => JobOutput::Experiment(built(experiment, spec, data_id)),
            Err(TsError::Invalid(message)) => JobOutput::Invalid(message),
            Err(TsError::Cancelled) => JobOutput::Fail("stopped".into()),
            Err(e) => JobOutput::Fail(e.to_string()),
        }
    })
}

fn forecast_job(model: Arc<Forecaster>, data: Arc<Frame>, model_id: String) -> Job {
    Box::new(move |progress| {
        progress.report(0.0, "forecasting");
        let frame = match model.forecast(&data) {
            Ok(frame) => frame,
            Err(TsError::Invalid(message)) => return JobOutput::Invalid(message),
            Err(e) => return JobOutput::Fail(e.to_string()),
        };
        jobs::data_output(frame, format!("forecast of {model_id}"))
    })
}

/// The experiment and its models, waiting for their ids.
fn built(experiment: TsExperiment, spec: TsSpec, data_id: String) -> Built {
    Built {
        count: experiment.models.len(),
        build: Box::new(move |exp_id, model_ids| {
            let doc = experiment_doc(exp_id, &experiment, &spec, &data_id, model_ids);
            let models = model_ids
                .iter()
                .zip(experiment.models)
                .map(|(id, model)| {
                    let doc = model_doc(id, exp_id, &model);
                    (ServedModel::Forecast(Arc::new(model)), doc)
                })
                .collect();
            (doc, models)
        }),
    }
}

fn experiment_doc(
    id: &str,
    experiment: &TsExperiment,
    spec: &TsSpec,
    data_id: &str,
    model_ids: &[String],
) -> Value {
    let attributes: Map<String, Value> = model_ids
        .iter()
        .zip(&experiment.models)
        .map(|(model_id, m)| {
            let doc = json!({
                "model_id": model_id,
                "algo": m.algo.as_str(),
                "window": m.window,
                "cv_averages": json::metrics(&m.cv_averages),
                "validation_scores": json::metrics(&m.validation_scores),
            });
            (model_id.clone(), doc)
        })
        .collect();
    let scores: Vec<_> = experiment.models.iter().map(|m| &m.cv_averages).collect();
    let recommendations: Vec<Value> = ModelType::Regression
        .metrics()
        .iter()
        .filter_map(|e| {
            let best = best_model_index(scores.iter().copied(), e.as_str())?;
            Some(json!({"evaluator": e.as_str(), "model_id": model_ids.get(best)?}))
        })
        .collect();
    let time = json::number(super::tasks::now());
    json!({
        "_id": id,
        "type": "auto_ts",
        "target": spec.target,
        "train_data_id": data_id,
        "features": experiment.features,
        "models": model_ids,
        "hyperparameters": {
            "model_type": "regression",
            "evaluator": experiment.evaluator.as_str(),
            "nfold": spec.nfold,
            "seed": spec.seed,
            "algos": spec.algos.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            "datetime_column": spec.datetime_column,
            "forecast_horizon": spec.horizon,
            "gap": spec.gap,
            "time_groups": spec.time_groups,
            "endogenous_features": spec.endogenous,
            "exogenous_features": spec.exogenous,
            "strategy": "direct",
        },
        "attributes": attributes,
        "recommendations": recommendations,
        "created_at": time,
        "completed_at": time,
    })
}

/// The SDK's `MultiModel` document.
fn model_doc(id: &str, exp_id: &str, model: &Forecaster) -> Value {
    let hyperparameters = json::named_numbers(model.hyperparameters());
    let importances = json::named_numbers(model.importances());
    let time = json::number(super::tasks::now());
    json!({
        "_id": id,
        "exp_id": exp_id,
        "name": format!("{} window {}", model.algo.as_str(), model.window),
        "attributes": {
            "cv_averages": json::metrics(&model.cv_averages),
            "validation_scores": json::metrics(&model.validation_scores),
        },
        "hyperparameters": hyperparameters,
        "importances": importances,
        "predictionPipeline": {
            "strategy": "direct",
            "algo": model.algo.as_str(),
            "window": model.window,
            "forecast_horizon": model.horizon(),
            "gap": model.gap(),
        },
        "created_at": time,
        "completed_at": time,
    })
}
