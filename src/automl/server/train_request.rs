//! Reading a train request (`POST /v2/tasks/train`) into a [`TrainSpec`]: every field
//! the Decanter SDK's `TrainInput` can send is either turned into an option the engine
//! honours or refused with a message that names the field and says why. The table of
//! fields is in design/06.

use std::time::Duration;

use serde_json::{Map, Value};

use super::error::ApiError;
use super::jobs::parse_data_type;
use super::json::Fields;
use crate::automl::ml::{
    Balance, DataType, SplitBound, SplitFold, SplitRange, TimeSplit, TrainSpec,
};

/// The honoured options that an experiment's `options` echo (besides the basics every
/// experiment reports in `hyperparameters`).
pub(crate) const OPTIONS: [&str; 9] = [
    "feature_types",
    "balance_class",
    "max_after_balance",
    "sampling_factors",
    "time_series_split",
    "max_run_time",
    "tolerance",
    "test_data_id",
    "test_base_id",
];

/// Fields of `TrainInput` that this server refuses when they are set, and why.
const REFUSED: [(&str, &str); 3] = [
    (
        "callback",
        "this server does not call a URL back when a task ends; leave it out and poll the \
         task, as the SDK does",
    ),
    (
        "preprocessing",
        "this server has no preprocessing pipelines; prepare the data before the upload \
         (setup retypes columns, feature_types retypes them for one training)",
    ),
    (
        "apu",
        "this server has no APU (accelerated processing) option; leave it out",
    ),
];

/// Refuses those of `names` that are set and this server does not support: any
/// `callback`, `preprocessing` or `apu`, and a `version` other than `"v2"`.
///
/// # Errors
/// `400` naming the field and why.
pub(crate) fn refuse_unsupported(fields: Fields<'_>, names: &[&str]) -> Result<(), ApiError> {
    for &name in names {
        if name == "version" {
            match fields.opt_string("version")? {
                Some(version) if version != "v2" => {
                    return Err(ApiError::bad(format!(
                        "version '{version}' is not supported: this server speaks v2 only"
                    )))
                }
                _ => continue,
            }
        }
        let refused = REFUSED.iter().find(|(n, _)| *n == name);
        if let (Some((_, why)), Some(_)) = (refused, fields.value(name)) {
            return Err(ApiError::bad(format!("{name} is not supported: {why}")));
        }
    }
    Ok(())
}

/// The spec of a train request, with every check that does not need the data, and the
/// id of the test data set, if one is named.
///
/// # Errors
/// `400` naming the field: a wrong type, a value out of range, a refused field, or
/// fields that exclude each other.
pub(crate) fn train_spec(
    map: &Map<String, Value>,
) -> Result<(TrainSpec, Option<String>), ApiError> {
    let fields = Fields(map);
    let mut spec = TrainSpec::new(fields.string("target")?);
    refuse_unsupported(fields, &["callback", "preprocessing", "apu", "version"])?;
    if let Some(names) = fields.opt_strings("algos")? {
        spec.algos = TrainSpec::parse_algos(&names)?;
        if spec.algos.is_empty() {
            return Err(ApiError::bad("algos must name at least one algorithm"));
        }
    }
    if let Some(evaluator) = fields.opt_string("evaluator")? {
        spec.evaluator = evaluator.parse()?;
    }
    numeric_options(fields, &mut spec)?;
    spec.features = fields.opt_strings("features")?;
    spec.feature_types = feature_types(fields)?;
    spec.balance = balance(fields)?;
    spec.time_split = fields
        .value("time_series_split")
        .map(time_split)
        .transpose()?;
    if spec.time_split.is_some() && fields.value("nfold").is_some() {
        return Err(ApiError::bad(
            "nfold and time_series_split exclude each other: the time split's cv ranges \
             are the folds",
        ));
    }
    Ok((spec, test_data_id(fields)?))
}

/// `nfold`, `seed`, `max_model`, `validation_percentage`, `tolerance` and
/// `max_run_time`, range-checked.
fn numeric_options(fields: Fields<'_>, spec: &mut TrainSpec) -> Result<(), ApiError> {
    if let Some(nfold) = fields.opt_u64("nfold")? {
        if !(2..=10).contains(&nfold) {
            return Err(ApiError::bad(format!(
                "nfold must be between 2 and 10, not {nfold}"
            )));
        }
        spec.nfold = nfold as usize;
    }
    spec.seed = fields.opt_u64("seed")?.unwrap_or(spec.seed);
    if let Some(max_model) = fields.opt_u64("max_model")? {
        if max_model == 0 {
            return Err(ApiError::bad("max_model must be at least 1"));
        }
        spec.max_model = Some(usize::try_from(max_model).unwrap_or(usize::MAX));
    }
    // The SDK's holdout_percentage holds rows out just the same; validation wins.
    let validation = fields.opt_f64("validation_percentage")?;
    if let Some(pct) = validation.or(fields.opt_f64("holdout_percentage")?) {
        if !(0.0..=90.0).contains(&pct) {
            return Err(ApiError::bad(
                "validation_percentage must be between 0 and 90",
            ));
        }
        spec.validation_percentage = Some(pct);
    }
    if let Some(t) = fields.opt_f64("tolerance")? {
        if !(0.0..1.0).contains(&t) {
            return Err(ApiError::bad(format!(
                "tolerance must be at least 0 and below 1, not {t}"
            )));
        }
        spec.tolerance = Some(t);
    }
    if let Some(seconds) = fields.opt_f64("max_run_time")? {
        if !(seconds > 0.0 && seconds <= 1e9) {
            return Err(ApiError::bad(format!(
                "max_run_time must be a number of seconds above 0 (leave it out for no \
                 limit), not {seconds}"
            )));
        }
        spec.max_run_time = Some(Duration::from_secs_f64(seconds));
    }
    Ok(())
}

/// `feature_types`: a list of `{"id", "data_type"}` objects (as setup's `data_columns`)
/// or an object from column name to type name.
///
/// # Errors
/// `400` naming the field: another shape, or an unknown type name.
pub(crate) fn feature_types(fields: Fields<'_>) -> Result<Vec<(String, DataType)>, ApiError> {
    let wrong = || {
        ApiError::bad(
            "feature_types must be a list of {\"id\", \"data_type\"} objects or an object \
             from column name to data type",
        )
    };
    let pairs: Vec<(String, String)> = match fields.value("feature_types") {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|c| {
                let text = |key: &str| c.get(key).and_then(Value::as_str).map(str::to_owned);
                Some((text("id")?, text("data_type")?))
            })
            .collect::<Option<_>>()
            .ok_or_else(wrong)?,
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect::<Option<_>>()
            .ok_or_else(wrong)?,
        Some(_) => return Err(wrong()),
    };
    pairs
        .into_iter()
        .map(|(column, name)| match parse_data_type(&name) {
            Some(t) => Ok((column, t)),
            None => Err(ApiError::bad(format!(
                "feature_types: unknown data_type '{name}' for column '{column}' (expected \
                 numerical, categorical or datetime)"
            ))),
        })
        .collect()
}

/// `balance_class`, `max_after_balance` and `sampling_factors`; the last two only
/// with `balance_class: true`.
fn balance(fields: Fields<'_>) -> Result<Option<Balance>, ApiError> {
    let on = fields.opt_bool("balance_class")?.unwrap_or(false);
    let max_after = fields.opt_f64("max_after_balance")?;
    let factors = match fields.array("sampling_factors")? {
        None => None,
        Some(items) => Some(
            items
                .iter()
                .map(Value::as_f64)
                .collect::<Option<Vec<f64>>>()
                .filter(|f| f.iter().all(|x| x.is_finite() && *x >= 0.0))
                .ok_or_else(|| {
                    ApiError::bad("sampling_factors must be a list of numbers of at least 0")
                })?,
        ),
    };
    if !on {
        let given = [
            ("max_after_balance", max_after.is_some()),
            ("sampling_factors", factors.is_some()),
        ];
        if let Some((name, _)) = given.iter().find(|(_, set)| *set) {
            return Err(ApiError::bad(format!(
                "{name} applies only with balance_class: true"
            )));
        }
        return Ok(None);
    }
    let mut balance = Balance::default();
    if let Some(m) = max_after {
        if !(m > 0.0 && m.is_finite()) {
            return Err(ApiError::bad(format!(
                "max_after_balance must be a number above 0, not {m}"
            )));
        }
        balance.max_after_balance = m;
    }
    balance.sampling_factors = factors;
    Ok(Some(balance))
}

/// `time_series_split`: `{"split_by", "cv": [{"train", "test"}], "train", "test"?}`,
/// each range `{"start", "end"}` with strings or numbers.
fn time_split(value: &Value) -> Result<TimeSplit, ApiError> {
    let bad = |m: &str| ApiError::bad(format!("time_series_split: {m}"));
    let split_by = value
        .get("split_by")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("split_by (a column name) is required"))?;
    let range = |what: &str, v: Option<&Value>| -> Result<SplitRange, ApiError> {
        let v = v.ok_or_else(|| bad(&format!("{what} ({{\"start\", \"end\"}}) is required")))?;
        let bound = |key: &str| match v.get(key) {
            Some(Value::String(s)) => Ok(SplitBound::Text(s.clone())),
            Some(Value::Number(n)) => Ok(SplitBound::Number(n.as_f64().unwrap_or(f64::NAN))),
            _ => Err(bad(&format!("{what}.{key} must be a string or a number"))),
        };
        Ok(SplitRange {
            start: bound("start")?,
            end: bound("end")?,
        })
    };
    let cv = value
        .get("cv")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("cv (a list of {\"train\", \"test\"} ranges) is required"))?;
    if cv.len() > 10 {
        return Err(bad("cv may list at most 10 folds"));
    }
    let cv = cv
        .iter()
        .enumerate()
        .map(|(i, fold)| {
            Ok(SplitFold {
                train: range(&format!("cv[{i}].train"), fold.get("train"))?,
                test: range(&format!("cv[{i}].test"), fold.get("test"))?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let test = match value.get("test").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => Some(range("test", Some(v))?),
    };
    Ok(TimeSplit {
        split_by: split_by.to_owned(),
        cv,
        train: range("train", value.get("train"))?,
        test,
    })
}

/// `test_data_id` (or the SDK's `test_base_id`): the data set the final models are
/// scored on.
fn test_data_id(fields: Fields<'_>) -> Result<Option<String>, ApiError> {
    let data = fields.opt_string("test_data_id")?;
    let base = fields.opt_string("test_base_id")?;
    match (data, base) {
        (Some(a), Some(b)) if a != b => Err(ApiError::bad(format!(
            "test_data_id '{a}' and test_base_id '{b}' name different data sets: give one"
        ))),
        (a, b) => Ok(a.or(b).map(str::to_owned)),
    }
}
