//! `POST /v2/models/{id}/batch_predict` (the SDK's `CoreAPI().batch_predict(model_id,
//! featuresList=[...], threshold=..., timestamp_format=...)`): scores a few records at
//! once and answers the predictions in the response, no task involved.
//!
//! The request is `{"featuresList": [{column: value, ...}, ...], "threshold": t,
//! "timestamp_format": "...", "version": "v2"}`; only `featuresList` is required. A
//! record's value may be a number, a string, a boolean (read as the text `true` or
//! `false`) or `null`; a missing column or `null` is a missing value, and fields the
//! model does not read are ignored. The answer is a list with one object per record,
//! in order, shaped as the real service's:
//!
//! ```text
//! [{"index": 0, "predict_status": "success",
//!   "result": {"prediction": "yes", "no": 0.12, "yes": 0.88},
//!   "probabilities": {"no": 0.12, "yes": 0.88}},
//!  {"index": 1, "predict_status": "fail", "error": "column 'age' was numerical ..."}]
//! ```
//!
//! `result` holds `prediction` and, for classifiers, each class's probability under its
//! label (as the real service answers); `probabilities` repeats the class
//! probabilities on their own, for a client that wants just them. A record that cannot
//! be scored fails alone. Requests are bounded: at most
//! [`MAX_RECORDS`] records (`413` beyond) in a body of at most [`MAX_BODY_BYTES`]
//! (`413`), scored on the loop thread.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::download::supervised_model;
use super::error::ApiError;
use super::http::Request;
use super::json::{self, Fields};
use super::response::Response;
use super::state::Shared;
use crate::automl::ml::{Column, ColumnData, Frame, TrainedModel};

/// Most records per request.
pub(crate) const MAX_RECORDS: usize = 1000;
/// Largest request body, in bytes.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// `POST /v2/models/{id}/batch_predict`.
pub(crate) fn batch_predict(
    shared: &Arc<Shared>,
    id: &str,
    request: Request,
) -> Result<Response, ApiError> {
    if request.body.len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge(format!(
            "a batch_predict body may hold at most {MAX_BODY_BYTES} bytes, not {}",
            request.body.len()
        )));
    }
    let map = match request.pre.json {
        Some(map) => map,
        None => json::object(&request.body)?,
    };
    let fields = Fields(&map);
    let records = fields.array("featuresList")?.ok_or_else(|| {
        ApiError::bad("missing field 'featuresList' (a list of records, one object per row)")
    })?;
    if records.len() > MAX_RECORDS {
        return Err(ApiError::TooLarge(format!(
            "featuresList has {} records; at most {MAX_RECORDS} are scored per request",
            records.len()
        )));
    }
    let threshold = fields.opt_f64("threshold")?;
    if threshold.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
        return Err(ApiError::bad("threshold must be between 0 and 1"));
    }
    // Type-checked, otherwise ignored: no datetime features yet, one answer version.
    fields.opt_string("timestamp_format")?;
    fields.opt_string("version")?;
    let model = supervised_model(shared, id, "score records")?;
    let features = model.features();
    let answers: Vec<Value> = records
        .iter()
        .enumerate()
        .map(
            |(index, record)| match score(&model, &features, record, threshold) {
                Ok(scored) => scored_answer(index, scored),
                Err(error) => json!({"index": index, "predict_status": "fail", "error": error}),
            },
        )
        .collect();
    Ok(Response::json(200, &Value::Array(answers)))
}

/// One record's `result` and, for classifiers, its `probabilities`.
type Scored = (Map<String, Value>, Option<Map<String, Value>>);

fn scored_answer(index: usize, (result, probabilities): Scored) -> Value {
    let mut answer = json!({"index": index, "predict_status": "success", "result": result});
    if let (Some(probs), Some(map)) = (probabilities, answer.as_object_mut()) {
        map.insert("probabilities".into(), Value::Object(probs));
    }
    answer
}

/// Scores one record with `model`, which reads the columns `features`.
fn score(
    model: &TrainedModel,
    features: &[String],
    record: &Value,
    threshold: Option<f64>,
) -> Result<Scored, String> {
    let record = record
        .as_object()
        .ok_or("a record must be an object of column values")?;
    let columns = features
        .iter()
        .map(|name| cell_column(name, record.get(name)))
        .collect::<Result<Vec<_>, _>>()?;
    let frame = Frame::new(columns).map_err(|e| e.to_string())?;
    let out = model
        .predict(&frame, &[], threshold)
        .map_err(|e| e.to_string())?;
    let number = |c: &Column| match &c.data {
        ColumnData::Numerical(v) => v.first().copied().map_or(Value::Null, json::number),
        ColumnData::Categorical { .. } | ColumnData::Datetime { .. } => {
            c.text(0).map_or(Value::Null, |t| t.into())
        }
    };
    let (prediction, classes) = out.columns().split_first().ok_or("no prediction")?;
    let mut result = Map::new();
    let probabilities = (!classes.is_empty()).then(|| {
        let probs: Map<String, Value> = classes
            .iter()
            .map(|c| (c.name.clone(), number(c)))
            .collect();
        result.extend(probs.clone());
        probs
    });
    result.insert("prediction".into(), number(prediction));
    Ok((result, probabilities))
}

/// A one-row column `name` holding a record's value.
fn cell_column(name: &str, value: Option<&Value>) -> Result<Column, String> {
    Ok(match value {
        None | Some(Value::Null) => Column::numerical(name, vec![f64::NAN]),
        Some(Value::Number(n)) => Column::numerical(name, vec![n.as_f64().unwrap_or(f64::NAN)]),
        Some(Value::String(s)) => Column::categorical(name, &[Some(s.as_str())]),
        Some(Value::Bool(b)) => {
            Column::categorical(name, &[Some(if *b { "true" } else { "false" })])
        }
        Some(_) => {
            return Err(format!(
                "field '{name}' must be a number, a string, a boolean or null"
            ))
        }
    })
}
