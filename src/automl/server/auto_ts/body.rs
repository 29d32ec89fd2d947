//! Reading the SDK's time-series bodies (`TrainAutoTSBody`, `PredictBodyTSModel`)
//! field by field: each is honoured or refused with a message that names it (its path
//! in the body, such as `build_spec.tolerance`) and says why.

use serde_json::{Map, Value};

use crate::automl::evaluator::Evaluator;
use crate::automl::ml::{Aggregate, DataType, Search, TimeUnit, TrainSpec, TsSpec};
use crate::automl::server::error::ApiError;
use crate::automl::server::jobs::parse_data_type;
use crate::automl::server::json::Fields;

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
/// A time-series train request: the data, columns to retype first, and the spec.
#[derive(Debug)]
pub(super) struct TrainRequest {
    pub(super) data_id: String,
    pub(super) feature_types: Vec<(String, DataType)>,
    pub(super) spec: TsSpec,
}

pub(super) fn train_request(map: &Map<String, Value>) -> Result<TrainRequest, String> {
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
    Ok(TrainRequest {
        data_id,
        feature_types: feature_types(input)?,
        spec,
    })
}

/// `input_spec.feature_types`: `[{"id", "data_type"}]`, columns retyped (as by setup)
/// before training.
fn feature_types(input: &Map<String, Value>) -> Result<Vec<(String, DataType)>, String> {
    let wrong =
        || "input_spec.feature_types must be a list of {\"id\", \"data_type\"} objects".to_owned();
    let Some(items) = Fields(input).array("feature_types").map_err(|_| wrong())? else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|item| {
            let text = |key: &str| item.get(key).and_then(Value::as_str).ok_or_else(wrong);
            let (id, name) = (text("id")?, text("data_type")?);
            let data_type = parse_data_type(name).ok_or_else(|| {
                format!(
                    "input_spec.feature_types: unknown data_type '{name}' for column '{id}' \
                     (expected numerical, categorical or datetime)"
                )
            })?;
            Ok((id.to_owned(), data_type))
        })
        .collect()
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
    spec.exogenous = list("exogenous_features")?;
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
pub(super) fn predict_request(map: &Map<String, Value>) -> Result<(String, String), String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn train(body: Value) -> Result<TrainRequest, String> {
        train_request(body.as_object().unwrap())
    }

    fn body() -> Value {
        json!({
            "version": "v2",
            "build_spec": {
                "seed": 3, "evaluator": "mae", "nfold": 2, "algos": ["GBM"], "max_model": 5,
                "train_fusion_model": false,
                "genetic_algorithm": {"max_iteration": 2, "generation_size": 3, "mutation_rate": 0.1}
            },
            "input_spec": {
                "train_data_id": "d", "target": "y", "datetime_column": "ds",
                "forecast_horizon": 4, "gap": 1, "time_groups": ["g"],
                "max_window_for_feature_derivation": 9, "exogenous_features": ["x"],
                "group_by": {"time_unit": "month", "numerical_groupby_method": "sum"},
                "holdout_percentage": 10
            }
        })
    }

    #[test]
    fn the_sdk_body_is_read_field_by_field() {
        let request = train(body()).unwrap();
        let (data_id, spec) = (request.data_id, request.spec);
        assert_eq!(data_id, "d");
        assert_eq!((spec.horizon, spec.gap, spec.window), (4, 1, Some(9)));
        assert_eq!((spec.seed, spec.nfold, spec.max_model), (3, 2, Some(5)));
        assert_eq!(spec.evaluator, Evaluator::Mae);
        assert_eq!(spec.time_unit, Some(TimeUnit::Month));
        assert_eq!(spec.aggregate, Some(Aggregate::Sum));
        assert_eq!(spec.exogenous, ["x"]);
        assert_eq!(spec.holdout_percentage, Some(10.0));
        let s = spec.search;
        assert_eq!((s.generations, s.population, s.mutation_rate), (2, 3, 0.1));
    }

    #[test]
    fn what_cannot_be_honoured_is_refused_by_its_path() {
        let refused = |path: &[&str], value: Value| {
            let mut b = body();
            let mut slot = &mut b;
            for key in &path[..path.len() - 1] {
                slot = &mut slot[*key];
            }
            slot[path[path.len() - 1]] = value;
            train(b).unwrap_err()
        };
        let gap = refused(&["input_spec", "gap"], json!(-2));
        assert_eq!(gap, "input_spec.gap must not be negative, not -2");
        let tol = refused(&["build_spec", "tolerance"], json!(0.1));
        assert!(
            tol.starts_with("build_spec.tolerance is not supported"),
            "{tol}"
        );
        let fusion = refused(&["build_spec", "train_fusion_model"], json!(true));
        assert!(fusion.starts_with("build_spec.train_fusion_model is not supported"));
        let cat = refused(
            &["input_spec", "group_by", "categorical_groupby_method"],
            json!("mode"),
        );
        assert!(
            cat.contains("categorical_groupby_method is not supported"),
            "{cat}"
        );
        let unknown = refused(&["input_spec", "colour"], json!(1));
        assert!(
            unknown.starts_with("input_spec.colour: unknown field"),
            "{unknown}"
        );
        let algo = refused(&["build_spec", "algos"], json!(["prophet"]));
        assert!(
            algo.contains("'prophet' is not trained by this server"),
            "{algo}"
        );
        let ga = refused(
            &["build_spec", "genetic_algorithm", "generation_size"],
            json!(0),
        );
        assert!(
            ga.contains("generation_size must be between 1 and 100"),
            "{ga}"
        );
        let unit = refused(&["input_spec", "group_by", "time_unit"], json!("week"));
        assert!(unit.contains("unknown unit 'week'"), "{unit}");
        let missing = refused(&["input_spec", "datetime_column"], Value::Null);
        assert!(missing.contains("input_spec.datetime_column"), "{missing}");
        let types = refused(
            &["input_spec", "feature_types"],
            json!([{"id": "x", "data_type": "date"}]),
        );
        assert!(
            types.contains("unknown data_type 'date' for column 'x'"),
            "{types}"
        );
        let both = refused(&["build_spec", "validation_percentage"], json!(20));
        assert!(both.contains("differ"), "{both}");
    }
}
