//! Time-series forecasting: the engine behind `POST /v2/tasks/auto_ts/train` and
//! `/predict`.
//!
//! # How it works
//!
//! 1. [`panel`] reads the frame into regular series, one per time group: the time
//!    column as date-times, rows in time order, bucketed to the time unit and
//!    aggregated (sum or mean) when asked; equal timestamps in a group without an
//!    aggregation, or series that skip steps, are refused.
//! 2. [`features`] turns every (origin, horizon) pair into one row: lags and rolling
//!    means of the target relative to its level at the origin, lags of the endogenous
//!    columns, the horizon, the time group and the calendar of the moment forecast.
//!    One model serves every horizon step (the *direct* strategy with the horizon as a
//!    feature): no forecast is fed back as an input, so errors do not compound.
//! 3. [`search`] validates candidate configurations (algorithm, window) on
//!    time-ordered folds, an expanding window of past rows that never contains a
//!    target at or after the first validation origin, and breeds new candidates from
//!    the best ones (a small genetic search). Every configuration tried becomes a
//!    model of the experiment, refitted on all rows.
//! 4. [`Forecaster::forecast`] reads a history the same way and forecasts the horizon
//!    after the last row with a target of each time group.

mod features;
mod forecast;
mod panel;
mod search;
mod stored;
#[cfg(test)]
mod stored_tests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::atomic::AtomicBool;

pub use forecast::Forecaster;

use super::spec::{Algo, Evaluator};

/// The SDK's `TimeUnit`: the step of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// One hour.
    Hour,
    /// One day.
    Day,
    /// One calendar month.
    Month,
    /// One calendar year.
    Year,
}

impl TimeUnit {
    /// Parses `hour`, `day`, `month` or `year`.
    pub fn parse(name: &str) -> Option<TimeUnit> {
        Some(match name {
            "hour" => TimeUnit::Hour,
            "day" => TimeUnit::Day,
            "month" => TimeUnit::Month,
            "year" => TimeUnit::Year,
            _ => return None,
        })
    }
}

/// The SDK's `NumericalGroupByMethod`: how rows of one time unit are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// The sum of the values present.
    Sum,
    /// The mean of the values present.
    Mean,
}

/// The genetic search over configurations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    /// Generations (the SDK's `max_iteration`), at least 1.
    pub generations: usize,
    /// Candidates per generation (`generation_size`), at least 1.
    pub population: usize,
    /// Chance that each gene of a child is drawn afresh (`mutation_rate`).
    pub mutation_rate: f64,
    /// Chance that each gene of a child comes from the second parent (`crossover_rate`).
    pub crossover_rate: f64,
}

/// A time-series train request.
#[derive(Debug, Clone, PartialEq)]
pub struct TsSpec {
    /// The numerical column to forecast.
    pub target: String,
    /// The column of moments.
    pub datetime_column: String,
    /// Steps forecast after the origin (after the gap), at least 1.
    pub horizon: usize,
    /// Steps between the last known row and the first forecast one.
    pub gap: usize,
    /// Most past rows a feature reads (`max_window_for_feature_derivation`); the
    /// search tries windows from 1 to this. `None`: 7 (capped by the data).
    pub window: Option<usize>,
    /// Columns that split the rows into separate series.
    pub time_groups: Vec<String>,
    /// Numerical columns whose past values are features.
    pub endogenous: Vec<String>,
    /// Numerical columns whose value at the moment forecast is a feature (known ahead).
    pub exogenous: Vec<String>,
    /// The step, and the unit timestamps are floored to; `None`: inferred.
    pub time_unit: Option<TimeUnit>,
    /// How rows of one time unit are combined; `None`: they are refused.
    pub aggregate: Option<Aggregate>,
    /// Metric that ranks configurations (regression metrics).
    pub evaluator: Evaluator,
    /// Seed of every random choice.
    pub seed: u64,
    /// Time-ordered validation folds, 1 to 10.
    pub nfold: usize,
    /// Most configurations trained (each is a model).
    pub max_model: Option<usize>,
    /// Algorithms the search picks from.
    pub algos: Vec<Algo>,
    /// Percentage (0 to 50) of the latest origins held out and scored into
    /// `validation_scores`.
    pub holdout_percentage: Option<f64>,
    /// The search.
    pub search: Search,
}

impl TsSpec {
    /// Daily defaults for `target` over `datetime_column`: horizon 7, gap 0, GLM and
    /// GBM, 3 folds, one generation of 4 candidates.
    pub fn new(target: &str, datetime_column: &str) -> TsSpec {
        TsSpec {
            target: target.into(),
            datetime_column: datetime_column.into(),
            horizon: 7,
            gap: 0,
            window: None,
            time_groups: Vec::new(),
            endogenous: Vec::new(),
            exogenous: Vec::new(),
            time_unit: None,
            aggregate: None,
            evaluator: Evaluator::Auto,
            seed: 42,
            nfold: 3,
            max_model: None,
            algos: vec![Algo::Glm, Algo::Gbm],
            holdout_percentage: None,
            search: Search {
                generations: 1,
                population: 4,
                mutation_rate: 0.2,
                crossover_rate: 0.5,
            },
        }
    }
}

/// Why a time-series request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TsError {
    /// The request does not fit the data (the server's `invalid`).
    Invalid(String),
    /// The cancel flag was raised.
    Cancelled,
    /// A numerical failure no data should cause.
    Failed(String),
}

impl fmt::Display for TsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TsError::Invalid(m) => f.write_str(m),
            TsError::Cancelled => f.write_str("training was stopped"),
            TsError::Failed(m) => write!(f, "training failed: {m}"),
        }
    }
}

impl std::error::Error for TsError {}

/// What a time-series train request produced.
#[derive(Debug, Clone)]
pub struct TsExperiment {
    /// The evaluator, `auto` resolved.
    pub evaluator: Evaluator,
    /// The feature columns of the engineered rows of the widest window tried.
    pub features: Vec<String>,
    /// One model per configuration tried, in the order tried.
    pub models: Vec<Forecaster>,
}

/// Trains forecasters for `spec` on `frame`.
///
/// # Errors
/// [`TsError::Invalid`] naming the field or column at fault; [`TsError::Cancelled`].
pub fn train_ts(
    frame: &super::Frame,
    spec: &TsSpec,
    progress: &mut dyn FnMut(f64, &str),
    cancel: &AtomicBool,
) -> Result<TsExperiment, TsError> {
    search::run(frame, spec, progress, cancel)
}
