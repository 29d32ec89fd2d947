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

use super::error::ApiError;
use super::jobs;
use super::json::{self, Fields};
use super::response::Response;
use super::state::Shared;
use super::store::{ServedModel, Store};
use super::tasks::TaskKind;
use super::worker::{self, Job, JobOutput};
use crate::automl::evaluator::{best_model_index, Evaluator, ModelType};
use crate::automl::ml::{
    train_ts, Aggregate, Algo, Forecaster, Frame, Search, TimeUnit, TrainSpec, TsError,
    TsExperiment, TsSpec,
};

/// The `time_series` value of `GET /v2/info`: the algorithms a forecast trains.
pub(crate) fn info() -> Value {
    let algos: Vec<Value> = Algo::TRAINED
        .iter()
        .map(|a| json!({"key": a.as_str(), "name": a.as_str()}))
        .collect();
    json!({ "algos": algos })
}

/// `POST /v2/tasks/auto_ts/train`.
pub(crate) fn train(shared: &Arc<Shared>, map: Map<String, Value>) -> Result<Response, ApiError> {
    let job = match train_request(&map) {
        Ok((data_id, spec)) => match shared.lock().store.data(&data_id) {
            Some(data) => train_job(data.frame.clone(), data_id, spec),
            None => refused(format!(
                "input_spec.train_data_id: no data with id '{data_id}'"
            )),
        },
        Err(message) => refused(message),
    };
    submit(shared, TaskKind::AutoTsTrain, job)
}

/// `POST /v2/tasks/auto_ts/predict`.
pub(crate) fn predict(shared: &Arc<Shared>, map: Map<String, Value>) -> Result<Response, ApiError> {
    let job = match predict_request(&map) {
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

/// A job that ends its task `invalid` with `message`.
fn refused(message: String) -> Job {
    Box::new(move |_| JobOutput::Invalid(message))
}

/// Refuses any key of `object` (called `what`) that is not in `known`.
fn only_known(object: &Map<String, Value>, what: &str, known: &[&str]) -> Result<(), String> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(format!(
            "{what}{key}: unknown field (this server reads {})",
            known.join(", ")
        )),
        None => Ok(()),
    }
}

/// A set field that this server does not honour.
fn refuse_if_set(
    object: &Map<String, Value>,
    what: &str,
    key: &str,
    why: &str,
) -> Result<(), String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(items)) if items.is_empty() => Ok(()),
        Some(Value::Bool(false)) if key == "train_fusion_model" => Ok(()),
        Some(_) => Err(format!("{what}{key} is not supported: {why}")),
    }
}

fn sub_object<'a>(
    map: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(format!("{key} must be an object")),
    }
}

/// An integer field that must not be negative, naming it in the error.
fn count(fields: Fields<'_>, what: &str, key: &str) -> Result<Option<usize>, String> {
    match fields.0.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match (v.as_u64(), v.as_i64()) {
            (Some(n), _) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            (None, Some(n)) => Err(format!("{what}{key} must not be negative, not {n}")),
            _ => Err(format!("{what}{key} must be a whole number, not {v}")),
        },
    }
}

/// The train body's data id and spec.
fn train_request(map: &Map<String, Value>) -> Result<(String, TsSpec), String> {
    only_known(
        map,
        "",
        &["version", "callback", "build_spec", "input_spec"],
    )?;
    refuse_if_set(map, "", "callback", "poll the task instead")?;
    let input = sub_object(map, "input_spec")?.ok_or("missing field 'input_spec'")?;
    let build = sub_object(map, "build_spec")?.cloned().unwrap_or_default();
    let (data_id, mut spec) = input_spec(input)?;
    build_spec(&build, &mut spec)?;
    Ok((data_id, spec))
}

fn input_spec(input: &Map<String, Value>) -> Result<(String, TsSpec), String> {
    let w = "input_spec.";
    only_known(
        input,
        w,
        &[
            "train_data_id",
            "target",
            "endogenous_features",
            "exogenous_features",
            "datetime_column",
            "forecast_horizon",
            "gap",
            "feature_types",
            "time_groups",
            "max_window_for_feature_derivation",
            "group_by",
            "holdout_percentage",
        ],
    )?;
    refuse_if_set(input, w, "exogenous_features", "forecasts read the history of the target and of endogenous_features only, never future values of other columns")?;
    refuse_if_set(
        input,
        w,
        "feature_types",
        "retype columns with POST /v2/tasks/setup first",
    )?;
    let fields = Fields(input);
    let text = |key: &str| {
        fields
            .string(key)
            .map(str::to_owned)
            .map_err(|e| format!("{w}{key}: {e}"))
    };
    let data_id = text("train_data_id")?;
    let mut spec = TsSpec::new(&text("target")?, &text("datetime_column")?);
    spec.horizon = count(fields, w, "forecast_horizon")?
        .ok_or_else(|| format!("{w}forecast_horizon: missing field"))?;
    spec.gap = count(fields, w, "gap")?.ok_or_else(|| format!("{w}gap: missing field"))?;
    spec.window = count(fields, w, "max_window_for_feature_derivation")?;
    let list = |key: &str| {
        fields
            .opt_strings(key)
            .map(Option::unwrap_or_default)
            .map_err(|e| format!("{w}{key}: {e}"))
    };
    spec.time_groups = list("time_groups")?;
    spec.endogenous = list("endogenous_features")?;
    spec.holdout_percentage = fields
        .opt_f64("holdout_percentage")
        .map_err(|e| format!("{w}{e}"))?;
    if let Some(group_by) = sub_object(input, "group_by")? {
        group_by_spec(group_by, &mut spec)?;
    }
    Ok((data_id, spec))
}

fn group_by_spec(group_by: &Map<String, Value>, spec: &mut TsSpec) -> Result<(), String> {
    let w = "input_spec.group_by.";
    only_known(
        group_by,
        w,
        &[
            "time_unit",
            "numerical_groupby_method",
            "categorical_groupby_method",
        ],
    )?;
    refuse_if_set(group_by, w, "categorical_groupby_method", "no categorical column is aggregated (the time_groups define the series; other categorical columns are not read)")?;
    let fields = Fields(group_by);
    let text = |key: &str| fields.opt_string(key).map_err(|e| format!("{w}{e}"));
    if let Some(unit) = text("time_unit")? {
        spec.time_unit = Some(TimeUnit::parse(unit).ok_or_else(|| {
            format!("{w}time_unit: unknown unit '{unit}' (expected hour, day, month or year)")
        })?);
    }
    spec.aggregate = match text("numerical_groupby_method")? {
        None => None,
        Some("sum") => Some(Aggregate::Sum),
        Some("mean") => Some(Aggregate::Mean),
        Some(other) => {
            return Err(format!(
                "{w}numerical_groupby_method: unknown method '{other}' (expected sum or mean)"
            ))
        }
    };
    Ok(())
}

fn build_spec(build: &Map<String, Value>, spec: &mut TsSpec) -> Result<(), String> {
    let w = "build_spec.";
    only_known(
        build,
        w,
        &[
            "tolerance",
            "validation_percentage",
            "max_model",
            "seed",
            "evaluator",
            "max_run_time",
            "genetic_algorithm",
            "nfold",
            "algos",
            "train_fusion_model",
        ],
    )?;
    refuse_if_set(
        build,
        w,
        "tolerance",
        "every model is trained to a fixed size, without early stopping",
    )?;
    refuse_if_set(
        build,
        w,
        "max_run_time",
        "the search is bounded by max_model and the genetic_algorithm sizes, not by time",
    )?;
    refuse_if_set(
        build,
        w,
        "train_fusion_model",
        "no fusion (ensemble) model is trained",
    )?;
    let fields = Fields(build);
    let named = |e: ApiError| format!("{w}{e}");
    if let Some(pct) = fields.opt_f64("validation_percentage").map_err(named)? {
        if spec.holdout_percentage.is_some_and(|h| h != pct) {
            return Err(
                "build_spec.validation_percentage and input_spec.holdout_percentage \
                        differ; set one of them"
                    .into(),
            );
        }
        spec.holdout_percentage = Some(pct);
    }
    spec.max_model = count(fields, w, "max_model")?;
    spec.seed = fields.opt_u64("seed").map_err(named)?.unwrap_or(spec.seed);
    if let Some(evaluator) = fields.opt_string("evaluator").map_err(named)? {
        spec.evaluator = evaluator
            .parse::<Evaluator>()
            .map_err(|e| format!("{w}evaluator: {e}"))?;
    }
    spec.nfold = count(fields, w, "nfold")?.unwrap_or(spec.nfold);
    if let Some(names) = fields.opt_strings("algos").map_err(named)? {
        spec.algos = TrainSpec::parse_algos(&names).map_err(|e| format!("{w}algos: {e}"))?;
    }
    if let Some(ga) = sub_object(build, "genetic_algorithm")? {
        spec.search = search_spec(ga, spec.search)?;
    }
    Ok(())
}

fn search_spec(ga: &Map<String, Value>, mut search: Search) -> Result<Search, String> {
    let w = "build_spec.genetic_algorithm.";
    only_known(
        ga,
        w,
        &[
            "max_iteration",
            "generation_size",
            "mutation_rate",
            "crossover_rate",
        ],
    )?;
    let fields = Fields(ga);
    const MAX: usize = 100;
    for (key, slot) in [
        ("max_iteration", &mut search.generations),
        ("generation_size", &mut search.population),
    ] {
        if let Some(n) = count(fields, w, key)? {
            if !(1..=MAX).contains(&n) {
                return Err(format!("{w}{key} must be between 1 and {MAX}, not {n}"));
            }
            *slot = n;
        }
    }
    for (key, slot) in [
        ("mutation_rate", &mut search.mutation_rate),
        ("crossover_rate", &mut search.crossover_rate),
    ] {
        if let Some(rate) = fields.opt_f64(key).map_err(|e| format!("{w}{e}"))? {
            *slot = rate;
        }
    }
    Ok(search)
}

/// The predict body's data id and model id.
fn predict_request(map: &Map<String, Value>) -> Result<(String, String), String> {
    only_known(
        map,
        "",
        &[
            "data_id",
            "model_id",
            "callback",
            "threshold_max_by",
            "version",
        ],
    )?;
    refuse_if_set(map, "", "callback", "poll the task instead")?;
    refuse_if_set(
        map,
        "",
        "threshold_max_by",
        "it applies to binary classifiers; a forecast is a regression",
    )?;
    let fields = Fields(map);
    let text = |key: &str| {
        fields
            .string(key)
            .map(str::to_owned)
            .map_err(|e| e.to_string())
    };
    Ok((text("data_id")?, text("model_id")?))
}

fn train_job(frame: Arc<Frame>, data_id: String, spec: TsSpec) -> Job {
    Box::new(move |progress| {
        let mut report = |fraction: f64, message: &str| progress.report(fraction, message);
        match train_ts(&frame, &spec, &mut report, progress.cancel_flag()) {
            Ok(experiment) => JobOutput::Stored(Box::new(move |store: &mut Store| {
                store_experiment(store, experiment, &spec, &data_id)
            })),
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

/// Stores the experiment and its models; returns the experiment's document.
fn store_experiment(
    store: &mut Store,
    experiment: TsExperiment,
    spec: &TsSpec,
    data_id: &str,
) -> Value {
    let count = experiment.models.len();
    store.add_experiment_with(count, |exp_id, model_ids| {
        let doc = experiment_doc(exp_id, &experiment, spec, data_id, model_ids);
        let models = model_ids
            .iter()
            .zip(experiment.models)
            .map(|(id, model)| {
                let doc = model_doc(id, exp_id, &model);
                (ServedModel::Forecast(Arc::new(model)), doc)
            })
            .collect();
        (doc, models)
    })
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
    let hyperparameters: Map<String, Value> = model
        .hyperparameters()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json::number(v)))
        .collect();
    let importances: Map<String, Value> = model
        .importances()
        .into_iter()
        .map(|(k, v)| (k, json::number(v)))
        .collect();
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
