//! Clustering: k-means over the feature columns of a frame, for the contract's
//! `POST /v2/tasks/cluster_train`.
//!
//! # How it works
//!
//! 1. The features are the request's `features` (every column when absent), in frame
//!    order. `feature_types` retypes some of them for this training only, as setup
//!    would ([`Frame::retype`]); the stored data set is left as it is.
//! 2. A feature column without any value is refused when it was named, skipped when
//!    it came from "every column". A row is *usable* when at least one feature has a
//!    value in it; only usable rows are clustered.
//! 3. The usable rows are encoded as supervised training encodes them
//!    ([`Encoder`]): numerical columns standardised with the training mean and
//!    standard deviation, a missing number imputed with the mean (0 after
//!    standardising) plus a 0/1 missing-indicator column when the column had missing
//!    values, categorical columns one-hot over their levels as the supervised
//!    encoding does (the 32 most frequent, then those with at least 5 rows, 256 at
//!    most; plus a missing slot when they had missing values).
//! 4. [`kmeans`] runs [`RESTARTS`] k-means++ seedings with Lloyd iterations (at most
//!    [`MAX_ITERATIONS`] each) and keeps the lowest within-cluster sum of squares.
//!
//! `k` defaults to [`DEFAULT_K`] (or the number of usable rows when there are fewer);
//! a given `k` must be between 1 and the number of usable rows, and at most [`MAX_K`].
//! Every refusal is a [`TrainError::Invalid`] whose message starts with the request
//! field at fault (`k`, `features` or `feature_types`).

mod kmeans;
mod model;
mod stored;
#[cfg(test)]
mod stored_tests;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

use super::encode::Encoder;
use super::error::TrainError;
use super::frame::{Column, ColumnData, DataType, Frame};
pub use model::{Center, ClusterModel};

/// Clusters when the request gives no `k`.
pub const DEFAULT_K: usize = 8;
/// Most clusters a request may ask for (each Lloyd pass costs rows × k × columns).
pub const MAX_K: usize = 1000;
/// k-means++ seedings per training; the lowest inertia is kept.
pub const RESTARTS: usize = 5;
/// Most Lloyd passes per seeding.
pub const MAX_ITERATIONS: usize = 100;

/// What a cluster-train request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    /// Feature columns; `None` means every column.
    pub features: Option<Vec<String>>,
    /// Columns to retype for this training, in order.
    pub feature_types: Vec<(String, DataType)>,
    /// Number of clusters; `None` means [`DEFAULT_K`].
    pub k: Option<u64>,
    /// Seed of every random choice.
    pub seed: u64,
}

impl ClusterSpec {
    /// Every column, default `k`, no retyping, seed 42 (as supervised training).
    pub fn new() -> ClusterSpec {
        ClusterSpec {
            features: None,
            feature_types: Vec::new(),
            k: None,
            seed: 42,
        }
    }
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec::new()
    }
}

/// Estimated peak bytes [`train_cluster`] allocates on `frame`: the feature columns'
/// copy, the dense encoded matrix of the usable rows (8 bytes a cell, the encoding
/// fitted first to learn its width) and a few numbers per row for k-means.
///
/// # Errors
/// As [`train_cluster`], for a request that does not fit the data.
pub(crate) fn working_memory(frame: &Frame, spec: &ClusterSpec) -> Result<usize, TrainError> {
    let data = feature_frame(frame, spec)?;
    let names: Vec<String> = data.column_names().map(str::to_owned).collect();
    let rows = usable_rows(&data);
    let failed = |e: super::error::PredictError| TrainError::Failed(e.to_string());
    let width = Encoder::fit(&data, &names, &rows).map_err(failed)?.width();
    let matrix = rows
        .len()
        .saturating_mul(width.saturating_add(4))
        .saturating_mul(8);
    Ok(matrix.saturating_add(super::train::frame_bytes(&data)))
}

/// Clusters the rows of `frame` as `spec` asks.
///
/// `progress` is called with the fraction done and a message after every restart;
/// `cancel` is checked before every seeding step and every Lloyd pass.
///
/// # Errors
/// [`TrainError::Invalid`] naming the field at fault (see the module documentation);
/// [`TrainError::Cancelled`].
pub fn train_cluster(
    frame: &Frame,
    spec: &ClusterSpec,
    progress: &mut dyn FnMut(f64, &str),
    cancel: &AtomicBool,
) -> Result<ClusterModel, TrainError> {
    let data = feature_frame(frame, spec)?;
    let names: Vec<String> = data.column_names().map(str::to_owned).collect();
    let rows = usable_rows(&data);
    let k = resolve_k(spec.k, rows.len())?;
    let failed = |e: super::error::PredictError| TrainError::Failed(e.to_string());
    let encoder = Encoder::fit(&data, &names, &rows).map_err(failed)?;
    let x = encoder.transform(&data, &rows).map_err(failed)?;
    progress(0.0, "data encoded");
    let settings = kmeans::Settings {
        k,
        restarts: RESTARTS,
        max_iterations: MAX_ITERATIONS,
        seed: spec.seed,
    };
    let mut report = |done: usize, inertia: f64| {
        let message = format!("k-means restart {done}/{RESTARTS}: inertia {inertia:.6}");
        progress(done as f64 / RESTARTS as f64, &message);
    };
    let fit = kmeans::fit(&x, &settings, cancel, &mut report).map_err(|_| TrainError::Cancelled)?;
    Ok(ClusterModel::new(&data, &rows, &x, encoder, fit, spec.seed))
}

/// The feature columns of `frame` (retyped as `spec.feature_types` asks), without
/// the unnamed columns that have no value.
fn feature_frame(frame: &Frame, spec: &ClusterSpec) -> Result<Frame, TrainError> {
    let names = select(frame, spec.features.as_deref())?;
    for (column, _) in &spec.feature_types {
        if frame.column(column).is_none() {
            return Err(invalid(format!(
                "feature_types names column '{column}', which the data does not have"
            )));
        }
        if !names.contains(column) {
            return Err(invalid(format!(
                "feature_types names column '{column}', which is not one of the features"
            )));
        }
    }
    let columns: Vec<Column> = names
        .iter()
        .filter_map(|n| frame.column(n).cloned())
        .collect();
    let data = Frame::new(columns).map_err(|e| TrainError::Failed(e.to_string()))?;
    let data = data
        .retype(&spec.feature_types)
        .map_err(|e| invalid(format!("feature_types: {e}")))?;
    keep_columns_with_values(data, spec.features.is_some())
}

/// The named features (deduplicated) or every column, in frame order.
fn select(frame: &Frame, features: Option<&[String]>) -> Result<Vec<String>, TrainError> {
    let Some(list) = features else {
        return Ok(frame.column_names().map(str::to_owned).collect());
    };
    if list.is_empty() {
        return Err(invalid(
            "features is an empty list: name at least one column, or leave features out \
             to use every column"
                .into(),
        ));
    }
    if let Some(missing) = list.iter().find(|n| frame.column(n).is_none()) {
        return Err(invalid(format!(
            "features names column '{missing}', which the data does not have"
        )));
    }
    let chosen: HashSet<&str> = list.iter().map(String::as_str).collect();
    let names = frame.column_names().filter(|n| chosen.contains(n));
    Ok(names.map(str::to_owned).collect())
}

/// Drops the columns without any value; a named one is refused instead.
fn keep_columns_with_values(data: Frame, named: bool) -> Result<Frame, TrainError> {
    let has_value = |c: &Column| (0..c.len()).any(|r| present(c, r));
    if let Some(empty) = data.columns().iter().find(|c| !has_value(c)) {
        if named {
            return Err(invalid(format!(
                "features names column '{}', which has no values to cluster on",
                empty.name
            )));
        }
    }
    let kept: Vec<Column> = data
        .columns()
        .iter()
        .filter(|c| has_value(c))
        .cloned()
        .collect();
    if kept.is_empty() {
        return Err(invalid(
            "features: no usable feature column (every column is empty)".into(),
        ));
    }
    Frame::new(kept).map_err(|e| TrainError::Failed(e.to_string()))
}

/// The rows where at least one column of `data` has a value.
fn usable_rows(data: &Frame) -> Vec<usize> {
    (0..data.rows())
        .filter(|&r| data.columns().iter().any(|c| present(c, r)))
        .collect()
}

/// Whether `column` has a value in row `row`.
pub(crate) fn present(column: &Column, row: usize) -> bool {
    match &column.data {
        ColumnData::Numerical(values) => values.get(row).is_some_and(|v| v.is_finite()),
        ColumnData::Categorical { codes, .. } => codes.get(row).is_some_and(Option::is_some),
        ColumnData::Datetime { millis, .. } => millis.get(row).is_some_and(Option::is_some),
    }
}

/// The number of clusters: the request's, checked, or the default.
fn resolve_k(k: Option<u64>, usable: usize) -> Result<usize, TrainError> {
    let Some(k) = k else {
        return Ok(DEFAULT_K.min(usable));
    };
    if k < 1 {
        return Err(invalid(format!("k must be at least 1, not {k}")));
    }
    if k > MAX_K as u64 {
        return Err(invalid(format!(
            "k is {k}, but at most {MAX_K} clusters are supported"
        )));
    }
    if k > usable as u64 {
        return Err(invalid(format!(
            "k is {k}, but only {usable} rows have a value in the features: k cannot \
             exceed the number of usable rows"
        )));
    }
    Ok(k as usize)
}

fn invalid(message: String) -> TrainError {
    TrainError::Invalid(message)
}
