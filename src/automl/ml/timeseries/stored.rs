//! A forecaster's stored form: the JSON document the server's data directory keeps for
//! a time-series model, and the strict reading of it back.
//!
//! ```text
//! { "kind": "taskloop-forecaster", "version": 1,
//!   "algo": "GBM", "window": 14, "horizon": 7, "gap": 0, "seed": 42,
//!   "cv_averages": {"mse": 1.5, ...}, "validation_scores": {...},
//!   "layout": {"target": "sales", "time": "day", "groups": ["store"],
//!              "endogenous": [...], "exogenous": [...],
//!              "unit": "hour" | "day" | "month" | "year" | null,
//!              "aggregate": "sum" | "mean" | null},
//!   "step": {"millis": 86400000} | {"months": 1},
//!   "history": [{"key": ["north" | null], "times": [...], "y": [...],
//!                "endogenous": [[...]], "exogenous": [[...]]}],
//!   "fitted": {"features": [...], "column_weights": [...], "engine": {...}} }
//! ```
//!
//! `fitted` holds the fitted engine as the model download format writes it
//! (`design/06-the-automl-api.md`: `features`, `column_weights`, `engine`): everything
//! scoring reads and the settings the model reports, but not a GBM's training-only
//! settings (its cap on rounds and its early stopping; read back, its `ntrees` is the
//! number of rounds it grew). Every other number is written exactly (see
//! `portable/exact.rs`: NaN and the infinities as the hex digits of their bits, so a
//! missing target in the history stays NaN), and the moments as integers of
//! milliseconds. Reading checks what forecasting relies on: a window, horizon and gap
//! within the training limits, a positive step, and a history whose every series has
//! a key per time group and one value per moment in every column. A document that
//! loads forecasts without panicking, exactly as the forecaster that wrote it.

use serde_json::{json, Map, Value};

use super::super::portable::{
    exact_items, exact_list, exact_map, must, open_document, read_fitted, stored_error,
    write_fitted, At, ModelFormatError,
};
use super::super::spec::Algo;
use super::features::Shape;
use super::panel::{Layout, Series, Step};
use super::search::{MAX_GAP, MAX_HORIZON, MAX_WINDOW};
use super::{Aggregate, Forecaster, TimeUnit};

/// The `kind` of a stored forecaster.
const KIND: &str = "taskloop-forecaster";
/// The version of the stored forecaster this build writes and reads.
const VERSION: u64 = 1;
/// The document, as the messages name it.
const WHAT: &str = "forecaster";
/// The longest step read: ten thousand years of milliseconds (the span of the dates
/// the server reads).
const MAX_STEP_MS: i64 = 10_000 * 366 * 86_400_000;
/// The longest step read in months: ten thousand years.
const MAX_STEP_MONTHS: i64 = 10_000 * 12;

impl Forecaster {
    /// The forecaster's stored form (see the module documentation), which
    /// [`from_stored`](Self::from_stored) reads back to a forecaster that forecasts
    /// bit for bit as this one.
    pub(crate) fn to_stored(&self) -> Vec<u8> {
        let step = match self.step {
            Step::Millis(ms) => json!({ "millis": ms }),
            Step::Months(months) => json!({ "months": months }),
        };
        let doc = json!({
            "kind": KIND,
            "version": VERSION,
            "algo": self.algo.as_str(),
            "window": self.window,
            "horizon": self.shape.horizon,
            "gap": self.shape.gap,
            "seed": self.seed,
            "cv_averages": exact_map(&self.cv_averages),
            "validation_scores": exact_map(&self.validation_scores),
            "layout": write_layout(&self.layout),
            "step": step,
            "history": self.history.iter().map(write_series).collect::<Vec<_>>(),
            "fitted": Value::Object(write_fitted(&self.fitted)),
        });
        doc.to_string().into_bytes()
    }

    /// Reads a forecaster written by [`to_stored`](Self::to_stored).
    ///
    /// # Errors
    /// A message saying what is wrong when the bytes are not JSON, not a stored
    /// forecaster (another kind, in words), of another version, or when a field is
    /// missing or inconsistent (the message names it).
    pub(crate) fn from_stored(bytes: &[u8]) -> Result<Forecaster, String> {
        let doc = open_document(bytes, KIND, VERSION, WHAT)?;
        read_forecaster(At::root(&doc)).map_err(stored_error(WHAT))
    }
}

fn write_layout(layout: &Layout) -> Value {
    let unit = layout.unit.map(|unit| match unit {
        TimeUnit::Hour => "hour",
        TimeUnit::Day => "day",
        TimeUnit::Month => "month",
        TimeUnit::Year => "year",
    });
    let aggregate = layout.aggregate.map(|a| match a {
        Aggregate::Sum => "sum",
        Aggregate::Mean => "mean",
    });
    json!({
        "target": layout.target,
        "time": layout.time,
        "groups": layout.groups,
        "endogenous": layout.endogenous,
        "exogenous": layout.exogenous,
        "unit": unit,
        "aggregate": aggregate,
    })
}

fn write_series(series: &Series) -> Value {
    let lists = |columns: &[Vec<f64>]| columns.iter().map(|c| exact_list(c)).collect::<Vec<_>>();
    json!({
        "key": series.key,
        "times": series.times,
        "y": exact_list(&series.y),
        "endogenous": lists(&series.endogenous),
        "exogenous": lists(&series.exogenous),
    })
}

fn read_forecaster(at: At<'_>) -> Result<Forecaster, ModelFormatError> {
    let algo: Algo = at
        .str("algo")?
        .parse()
        .map_err(|_| must("algo", "GLM, DRF or GBM"))?;
    let shape = Shape {
        window: bounded(at, "window", 1, MAX_WINDOW)?,
        horizon: bounded(at, "horizon", 1, MAX_HORIZON)?,
        gap: bounded(at, "gap", 0, MAX_GAP)?,
    };
    let layout_path = at.child_path("layout");
    let layout = read_layout(At::new(at.field("layout")?, &layout_path))?;
    let history = at
        .list("history")?
        .iter()
        .enumerate()
        .map(|(i, s)| read_series(At::new(s, &format!("history[{i}]")), &layout))
        .collect::<Result<Vec<_>, _>>()?;
    let fitted_path = at.child_path("fitted");
    let fitted = read_fitted(At::new(at.field("fitted")?, &fitted_path), algo, None)?;
    Ok(Forecaster {
        algo,
        window: shape.window,
        cv_averages: at.exact_map("cv_averages")?,
        validation_scores: at.exact_map("validation_scores")?,
        step: read_step(at)?,
        layout,
        shape,
        history,
        fitted,
        seed: at.u64("seed")?,
    })
}

/// Field `name`, a count from `low` to `high`.
fn bounded(at: At<'_>, name: &str, low: usize, high: usize) -> Result<usize, ModelFormatError> {
    let n = at.usize(name)?;
    if !(low..=high).contains(&n) {
        return Err(must(name, format!("from {low} to {high}")));
    }
    Ok(n)
}

fn read_layout(at: At<'_>) -> Result<Layout, ModelFormatError> {
    let unit = match optional_str(at, "unit")? {
        None => None,
        Some(name) => Some(
            TimeUnit::parse(name)
                .ok_or_else(|| must(&at.child_path("unit"), "hour, day, month, year or null"))?,
        ),
    };
    let aggregate = match optional_str(at, "aggregate")? {
        None => None,
        Some("sum") => Some(Aggregate::Sum),
        Some("mean") => Some(Aggregate::Mean),
        Some(_) => return Err(must(&at.child_path("aggregate"), "sum, mean or null")),
    };
    Ok(Layout {
        target: at.str("target")?.to_owned(),
        time: at.str("time")?.to_owned(),
        groups: at.strings("groups")?,
        endogenous: at.strings("endogenous")?,
        exogenous: at.strings("exogenous")?,
        unit,
        aggregate,
    })
}

/// Field `name`: a string, or `null` for none; it must be there.
fn optional_str<'a>(at: At<'a>, name: &str) -> Result<Option<&'a str>, ModelFormatError> {
    match at.value.as_object().and_then(|o| o.get(name)) {
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(must(&at.child_path(name), "a string or null")),
        None => Err(ModelFormatError::Malformed(format!(
            "'{}' is missing",
            at.child_path(name)
        ))),
    }
}

fn read_step(at: At<'_>) -> Result<Step, ModelFormatError> {
    let value = at.field("step")?;
    let expected = || {
        must(
            "step",
            format!("{{\"millis\": 1 to {MAX_STEP_MS}}} or {{\"months\": 1 to {MAX_STEP_MONTHS}}}"),
        )
    };
    let object: &Map<String, Value> = value.as_object().ok_or_else(expected)?;
    let count = |name: &str, high: i64| {
        let n = object.get(name)?.as_i64()?;
        (1..=high).contains(&n).then_some(n)
    };
    match (
        object.len(),
        count("millis", MAX_STEP_MS),
        count("months", MAX_STEP_MONTHS),
    ) {
        (1, Some(ms), None) => Ok(Step::Millis(ms)),
        (1, None, Some(months)) => Ok(Step::Months(months)),
        _ => Err(expected()),
    }
}

/// One series of the history: a key per time group, and every column as long as its
/// moments.
fn read_series(at: At<'_>, layout: &Layout) -> Result<Series, ModelFormatError> {
    let key = at
        .list("key")?
        .iter()
        .map(|v| match v {
            Value::Null => Some(None),
            Value::String(s) => Some(Some(s.clone())),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()
        .filter(|k| k.len() == layout.groups.len())
        .ok_or_else(|| {
            let groups = layout.groups.len();
            must(
                &at.child_path("key"),
                format!("{groups} strings or nulls, one per time group"),
            )
        })?;
    let times = at
        .list("times")?
        .iter()
        .map(Value::as_i64)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| must(&at.child_path("times"), "a list of integers (milliseconds)"))?;
    let rows = times.len();
    let y = at.exact_list("y")?;
    if y.len() != rows {
        return Err(must(
            &at.child_path("y"),
            format!("{rows} numbers, one per moment"),
        ));
    }
    Ok(Series {
        endogenous: read_columns(at, "endogenous", layout.endogenous.len(), rows)?,
        exogenous: read_columns(at, "exogenous", layout.exogenous.len(), rows)?,
        key,
        times,
        y,
    })
}

/// Field `name`: `count` lists of `rows` numbers.
fn read_columns(
    at: At<'_>,
    name: &str,
    count: usize,
    rows: usize,
) -> Result<Vec<Vec<f64>>, ModelFormatError> {
    let path = at.child_path(name);
    let lists = at.list(name)?;
    if lists.len() != count {
        return Err(must(&path, format!("{count} lists, one per {name} column")));
    }
    let mut columns = Vec::with_capacity(count);
    for (i, list) in lists.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let list = list.as_array().ok_or_else(|| must(&path, "a list"))?;
        let values = exact_items(list, &path)?;
        if values.len() != rows {
            return Err(must(&path, format!("{rows} numbers, one per moment")));
        }
        columns.push(values);
    }
    Ok(columns)
}
