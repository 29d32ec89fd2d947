//! The endpoints: validate a request, then read the state or submit a task.
//!
//! Handlers run on the loop thread: submitting only queues a job (the work happens on
//! the workers), and every lock is released before they return. The only wait is for
//! the parse pool to serialise a large stored document ([`DocumentCache::answer`]); a
//! large body was parsed there before the handler ran ([`Prepared`](super::prepare)).

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::auto_ts;
use super::cluster;
use super::documents::DocumentCache;
use super::error::ApiError;
use super::http::{query_param, Request};
use super::jobs::{self, PredictOptions};
use super::json::{object, Fields};
use super::multipart;
use super::offload::Offload;
use super::response::Response;
use super::router::Route;
use super::state::Shared;
use super::store::ServedModel;
use super::tasks::TaskKind;
use super::train_request;
use super::worker::{self, Job, JobOutput};
use super::{batch, download, listing};
use crate::automl::ml::{Algo, ModelType};

/// Longest upload name accepted, in bytes.
const MAX_NAME_BYTES: usize = 256;

/// Answers `request`, which `route` names.
///
/// # Errors
/// The [`ApiError`] to answer with.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    offload: &Offload,
    docs: &DocumentCache,
    route: Route<'_>,
    mut request: Request,
) -> Result<Response, ApiError> {
    if let Some(endpoint) = json_endpoint(route) {
        let answer = match (request.pre.json.take(), request.pre.tree.take()) {
            (Some(map), Some(tree)) => {
                drop(request);
                let answer = endpoint(shared, &map);
                // A large tree is freed off the loop, and counted until it is.
                offload.discard((map, tree));
                answer
            }
            _ => endpoint(shared, &object(&request.body)?),
        };
        return answer;
    }
    match route {
        Route::WorkerStatus => Ok(worker_status(shared)),
        Route::Info => Ok(info()),
        Route::Upload => upload(shared, request),
        Route::Task(id) => {
            let parts = shared.lock().tasks.get(id).map(|t| t.without_result());
            task_answer(parts, id, docs, offload).await
        }
        Route::StopTask(id) => {
            let parts = shared.lock().tasks.stop(id).map(|t| t.without_result());
            task_answer(parts, id, docs, offload).await
        }
        Route::DataFile(id) => data_file(shared, id),
        Route::DeleteData(id) => {
            let found = shared.lock().store.delete_data(id);
            deleted(id, found.map_err(ApiError::Storage)?, "data")
        }
        Route::DeleteExperiment(id) => {
            let found = shared.lock().store.delete_experiment(id);
            deleted(id, found.map_err(ApiError::Storage)?, "experiment")
        }
        Route::DataList => listing::data_list(shared, docs, offload, &request.head.query).await,
        Route::TaskList => listing::task_list(shared, &request.head.query),
        Route::WorkerCount => Ok(listing::worker_count(shared)),
        Route::DownloadModel(id) => download::download(shared, id),
        Route::BatchPredict(id) => batch::batch_predict(shared, id, request),
        Route::Experiment(_) | Route::Data(_) | Route::Model(..) | Route::AutoTsModel(..) => {
            docs.answer(stored_document(shared, route)?, offload).await
        }
        Route::Setup
        | Route::Train
        | Route::Predict
        | Route::ClusterTrain
        | Route::DeleteDataBatch
        | Route::AutoTsTrain
        // Answered above, through `json_endpoint`.
        | Route::AutoTsPredict => Err(ApiError::bad("this endpoint takes a JSON object")),
    }
}

/// An endpoint whose body is a JSON object, given the object.
type JsonEndpoint = fn(&Arc<Shared>, &Map<String, Value>) -> Result<Response, ApiError>;

/// What `route` does with its JSON object, if its body is one (batch predictions,
/// whose bodies are small, parse their own).
pub(crate) fn json_endpoint(route: Route<'_>) -> Option<JsonEndpoint> {
    Some(match route {
        Route::Setup => |s, map| or_invalid_task(s, TaskKind::Setup, setup(s, map)),
        Route::Train => |s, map| or_invalid_task(s, TaskKind::Train, train(s, map)),
        Route::Predict => |s, map| or_invalid_task(s, TaskKind::Predict, predict(s, map)),
        Route::ClusterTrain => {
            |s, map| or_invalid_task(s, TaskKind::ClusterTrain, cluster::train(s, map))
        }
        Route::AutoTsTrain => {
            |s, map| or_invalid_task(s, TaskKind::AutoTsTrain, auto_ts::train(s, map))
        }
        Route::AutoTsPredict => {
            |s, map| or_invalid_task(s, TaskKind::AutoTsPredict, auto_ts::predict(s, map))
        }
        Route::DeleteDataBatch => delete_data_batch,
        _ => return None,
    })
}

/// A task submit's answer: a request whose JSON is fine but whose fields are refused
/// (`400`) or name a data set or model that is not there (`404`) still gets a task,
/// which ends `invalid` with the message at once. The SDK polls the id a submit
/// answers with; given none, it polls `/v2/tasks/None` and abandons every other job of
/// its run, so a bad job must fail alone, as its task.
fn or_invalid_task(
    shared: &Arc<Shared>,
    kind: TaskKind,
    answer: Result<Response, ApiError>,
) -> Result<Response, ApiError> {
    match answer {
        Err(ApiError::BadRequest(message) | ApiError::NotFound(message)) => {
            submit(shared, kind, Box::new(move |_| JobOutput::Invalid(message)))
        }
        other => other,
    }
}

/// `{"_id": id, "deleted": true}`, or `404` if there was no such `what`.
fn deleted(id: &str, found: bool, what: &str) -> Result<Response, ApiError> {
    match found {
        true => Ok(Response::json(200, &json!({"_id": id, "deleted": true}))),
        false => Err(not_found(what, id)),
    }
}

/// Most ids one `POST /v2/data/delete` may name.
const MAX_DELETE_IDS: usize = 10_000;
/// Most ids of `missing` echoed in its answer (each cut to 64 characters).
const MAX_ECHOED_MISSING: usize = 100;

/// Deletes every data set of `data_ids` (at most [`MAX_DELETE_IDS`]); answers which
/// were deleted and which were not there: the first [`MAX_ECHOED_MISSING`] of those,
/// and `missing_more`, how many more, when there were more.
fn delete_data_batch(shared: &Arc<Shared>, map: &Map<String, Value>) -> Result<Response, ApiError> {
    let ids = Fields(map)
        .array("data_ids")?
        .ok_or_else(|| ApiError::bad("field 'data_ids' (a list of data ids) is required"))?;
    if ids.len() > MAX_DELETE_IDS {
        return Err(ApiError::TooLarge(format!(
            "data_ids names {} data sets; at most {MAX_DELETE_IDS} are deleted per request",
            ids.len()
        )));
    }
    let ids = Fields(map).opt_strings("data_ids")?.unwrap_or_default();
    let mut state = shared.lock();
    let (mut deleted, mut missing) = (Vec::new(), Vec::new());
    for id in ids {
        match state.store.delete_data(&id) {
            Ok(true) => deleted.push(id),
            Ok(false) => missing.push(id),
            // The data directory failed: what was deleted stays deleted; say so.
            Err(e) => {
                return Err(ApiError::Storage(format!(
                    "{e} (deleted before the failure: {})",
                    deleted.join(", ")
                )))
            }
        }
    }
    drop(state);
    let shown: Vec<String> = missing
        .iter()
        .take(MAX_ECHOED_MISSING)
        .map(|id| id.chars().take(64).collect())
        .collect();
    let mut answer = json!({"deleted": deleted, "missing": shown});
    if missing.len() > MAX_ECHOED_MISSING {
        answer["missing_more"] = json!(missing.len() - MAX_ECHOED_MISSING);
    }
    Ok(Response::json(200, &answer))
}

/// A `404` naming what was not found (long ids are cut short).
fn not_found(what: &str, id: &str) -> ApiError {
    let shown: String = id.chars().take(64).collect();
    ApiError::NotFound(format!("no {what} with id '{shown}'"))
}

fn submit(shared: &Arc<Shared>, kind: TaskKind, job: Job) -> Result<Response, ApiError> {
    let id = worker::submit(shared, kind, job)?;
    Ok(Response::json(200, &json!({ "_id": id })))
}

/// `GET /v2/worker/status`, the health endpoint: the workers, the tasks, and what the
/// stored items take of the memory and disk budgets.
fn worker_status(shared: &Arc<Shared>) -> Response {
    let (running, pending, stored) = {
        let state = shared.lock();
        (
            state.tasks.running(),
            state.tasks.pending(),
            state.store.bytes(),
        )
    };
    let disk = shared.disk.as_ref().map(|disk| {
        let limit = disk.max_disk();
        json!({
            "data_dir": disk.root().display().to_string(),
            "used_bytes": disk.used(),
            "max_bytes": (limit != u64::MAX).then_some(limit),
        })
    });
    let doc = json!({
        "status": "ok",
        "workers": shared.workers,
        "running": running,
        "pending": pending,
        "memory": {
            "stored_bytes": stored,
            "used_bytes": shared.memory.used(),
            "max_bytes": shared.memory.limit(),
        },
        "disk": disk,
    });
    Response::json(200, &doc)
}

/// `POST /v2/upload`: a raw CSV body, or a form with a file field `csv`.
fn upload(shared: &Arc<Shared>, mut request: Request) -> Result<Response, ApiError> {
    let content_type = request.head.header("content-type").unwrap_or("");
    let (content, filename) = match multipart::form_boundary(content_type) {
        None => (0..request.body.len(), None),
        Some(boundary) => {
            let boundary = boundary?;
            let csv = match request.pre.form_file.take() {
                Some(csv) => csv,
                None => multipart::file_field(&request.body, &boundary, "csv")?,
            };
            (csv.content, csv.filename)
        }
    };
    let name = query_param(&request.head.query, "name")
        .or_else(|| filename.map(|f| base_name(&f).to_owned()))
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "data".to_owned());
    if name.len() > MAX_NAME_BYTES {
        return Err(ApiError::bad(format!(
            "name is longer than {MAX_NAME_BYTES} bytes"
        )));
    }
    if let Some(disk) = &shared.disk {
        // The file holds the CSV and its columns (about as many bytes again, or more).
        let need = 2 * content.len() as u64;
        disk.room_for(need).map_err(ApiError::Storage)?;
    }
    submit(
        shared,
        TaskKind::Upload,
        jobs::upload(request.body, content, name, request.hold),
    )
}

/// The last component of a path, with `/` or `\\` as separators: the SDK sends the
/// file's full path as the part's file name.
fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// `GET /v2/info`: what this server trains.
fn info() -> Response {
    let evaluators: serde_json::Map<String, serde_json::Value> = ModelType::ALL
        .iter()
        .map(|t| {
            let names: Vec<&str> = t.metrics().iter().map(|m| m.as_str()).collect();
            (t.as_str().to_owned(), json!(names))
        })
        .collect();
    let algos: Vec<&str> = Algo::REQUESTABLE.iter().map(|a| a.as_str()).collect();
    let time_series = auto_ts::info();
    Response::json(
        200,
        &json!({ "algos": algos, "evaluators": evaluators, "time_series": time_series }),
    )
}

/// `POST /v2/tasks/setup`: a new data set with some columns retyped.
fn setup(shared: &Arc<Shared>, map: &Map<String, Value>) -> Result<Response, ApiError> {
    let fields = Fields(map);
    let data_id = fields.string("data_id")?;
    train_request::refuse_unsupported(fields, &["callback", "preprocessing", "version"])?;
    if fields.opt_bool("eda")? == Some(true) {
        return Err(ApiError::bad(
            "eda is not supported: this server computes no exploratory statistics (the \
             result's columns and schema describe the data); leave eda out or false",
        ));
    }
    let (changes, not_null) = column_types(fields)?;
    let data = shared.lock().store.data(data_id).cloned();
    let data = data.ok_or_else(|| not_found("data", data_id))?;
    submit(
        shared,
        TaskKind::Setup,
        jobs::setup(data, changes, not_null),
    )
}

/// A setup's `(column, type name)` pairs.
type ColumnTypes = Vec<(String, String)>;

/// The `data_columns` of a setup request: `(column, type name)` pairs, and the columns
/// marked `"nullable": false`. Whether the columns and types exist, and whether those
/// columns really have no missing value, is the task's business (it becomes `invalid`).
fn column_types(fields: Fields<'_>) -> Result<(ColumnTypes, Vec<String>), ApiError> {
    let wrong = || {
        ApiError::bad(
            "data_columns must be a list of {\"id\", \"data_type\", \"nullable\"?} objects \
             (nullable true or false)",
        )
    };
    let columns = fields.array("data_columns")?.ok_or_else(wrong)?;
    let mut types = Vec::with_capacity(columns.len());
    let mut not_null = Vec::new();
    for c in columns {
        let text = |key: &str| c.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let (Some(id), Some(data_type)) = (text("id"), text("data_type")) else {
            return Err(wrong());
        };
        match c.get("nullable") {
            None | Some(Value::Null | Value::Bool(true)) => {}
            Some(Value::Bool(false)) => not_null.push(id.clone()),
            Some(_) => return Err(wrong()),
        }
        types.push((id, data_type));
    }
    Ok((types, not_null))
}

/// `POST /v2/tasks/train`.
fn train(shared: &Arc<Shared>, map: &Map<String, Value>) -> Result<Response, ApiError> {
    let data_id = Fields(map).string("train_data_id")?;
    let (mut spec, test_id) = train_request::train_spec(map)?;
    // A training fits its folds on as many threads as the pool has, memory allowing
    // (see `jobs::train_experiment`).
    spec.threads = shared.workers.max(1);
    let (frame, test) = {
        let state = shared.lock();
        let frame = |id: &str| state.store.data(id).map(|d| d.frame.clone());
        (frame(data_id), test_id.as_deref().map(frame))
    };
    let frame = frame.ok_or_else(|| not_found("data", data_id))?;
    let test = match (test_id, test) {
        (Some(id), Some(Some(test))) => Some((id, test)),
        (Some(id), _) => return Err(not_found("test data", &id)),
        (None, _) => None,
    };
    let options = train_request::OPTIONS
        .iter()
        .filter_map(|&key| {
            Some((
                key.to_owned(),
                map.get(key).filter(|v| !v.is_null())?.clone(),
            ))
        })
        .collect();
    let job = jobs::train_experiment(frame, data_id.to_owned(), test, spec, options);
    submit(shared, TaskKind::Train, job)
}

/// `POST /v2/tasks/predict`.
fn predict(shared: &Arc<Shared>, map: &Map<String, Value>) -> Result<Response, ApiError> {
    let fields = Fields(map);
    let data_id = fields.string("data_id")?;
    let model_id = fields.string("model_id")?;
    train_request::refuse_unsupported(fields, &["callback", "version"])?;
    let keep_columns = fields.opt_strings("keep_columns")?.unwrap_or_default();
    let threshold = fields.opt_f64("threshold")?;
    if threshold.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
        return Err(ApiError::bad("threshold must be between 0 and 1"));
    }
    let (data, model) = {
        let state = shared.lock();
        let data = state.store.data(data_id).map(|d| d.frame.clone());
        (data, state.store.model(model_id))
    };
    let data = data.ok_or_else(|| not_found("data", data_id))?;
    let model = model.ok_or_else(|| not_found("model", model_id))?;
    let options = PredictOptions {
        model_id: model_id.to_owned(),
        keep_columns,
        threshold,
    };
    let job = match model {
        ServedModel::Supervised(model) => jobs::predict(model, data, options),
        ServedModel::Cluster(model) => cluster::predict(model, data, options),
        ServedModel::Forecast(_) => {
            return Err(ApiError::bad(format!(
                "model '{model_id}' is a time-series model: use POST /v2/tasks/auto_ts/predict"
            )))
        }
    };
    submit(shared, TaskKind::Predict, job)
}

/// The answer of `GET /v2/tasks/{id}` and `PUT /v2/tasks/{id}/stop`: the task's
/// document, whose result (a stored document, maybe a large one) is shared, not
/// serialised per request on the loop.
async fn task_answer(
    parts: Option<(Value, Option<Arc<Value>>)>,
    id: &str,
    docs: &DocumentCache,
    offload: &Offload,
) -> Result<Response, ApiError> {
    match parts.ok_or_else(|| not_found("task", id))? {
        (doc, None) => Ok(Response::json(200, &doc)),
        (doc, Some(result)) => docs.answer_within(doc, "result", result, offload).await,
    }
}

/// The stored document a `GET` of `route` names (`GET /v2/data/{id}`,
/// `/v2/experiments/{id}`, `/v2/experiments/{exp}/models/{model}` and its `auto_ts`
/// twin); `404` if there is none.
fn stored_document(shared: &Arc<Shared>, route: Route<'_>) -> Result<Arc<Value>, ApiError> {
    let store = &shared.lock().store;
    let (found, what, id) = match route {
        Route::Data(id) => (store.data_doc(id), "data", id),
        Route::Experiment(id) => (store.experiment(id), "experiment", id),
        Route::Model(exp, model) | Route::AutoTsModel(exp, model) => {
            (store.model_doc(exp, model), "model", model)
        }
        _ => (None, "document", ""),
    };
    found.cloned().ok_or_else(|| not_found(what, id))
}

/// `GET /v2/data/{id}/file`.
fn data_file(shared: &Arc<Shared>, id: &str) -> Result<Response, ApiError> {
    let csv = shared.lock().store.data(id).map(|d| d.csv.clone());
    let csv = csv.ok_or_else(|| not_found("data", id))?;
    Ok(Response::csv(csv))
}
