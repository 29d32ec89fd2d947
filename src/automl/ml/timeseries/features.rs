//! Feature engineering: each (origin, horizon) pair of a series becomes one row.
//!
//! The model forecasts the target at `t = origin + gap + h` steps (`h` = 1 to the
//! forecast horizon) from what is known at the origin, the last observed row. Its
//! features, for a window of `w` rows:
//!
//! - `ts_horizon`: `h`;
//! - `ts_lag_j` (`j` = 1 to `w − 1`): the target `j` rows before the origin, minus the
//!   target at the origin (the level);
//! - `ts_mean_k` (`k` = 3, 7 and `w`, those up to `w`): the mean of the last `k`
//!   targets up to the origin, minus the level;
//! - `<e>_lag_j` (`j` = 0 to `w − 1`) for each endogenous column `e`: its value `j`
//!   rows before the origin;
//! - `<x>` for each exogenous column `x`: its value at `t` itself (a value known
//!   ahead, such as a planned promotion; a forecast needs rows for the moments it
//!   forecasts that carry it), and `<x>_origin`, its value at the origin (which the
//!   level includes);
//! - the time-group columns, as categories;
//! - `ts_target_time`: the moment forecast, a datetime column the encoder expands into
//!   calendar parts.
//!
//! The model learns the target minus the level, so a trend carries on past the range
//! of the training targets. Every value read lies at or before the origin, which is at
//! least `gap + 1` rows before `t`: nothing at or after `t − gap` is used, except
//! the exogenous values at `t`, which are known ahead by definition.

use super::super::frame::{Column, ColumnData, DateFormat, Frame};
use super::panel::{Layout, Panel, Series};
use super::TsError;

/// Most cells (rows × columns) of an engineered table: 160 MB of numbers.
pub(crate) const MAX_CELLS: usize = 20_000_000;

/// The fixed sizes of the rows to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) horizon: usize,
    pub(crate) gap: usize,
    pub(crate) window: usize,
}

/// Engineered rows and what they forecast.
#[derive(Debug, Clone)]
pub(crate) struct Samples {
    /// The feature columns.
    pub(crate) frame: Frame,
    /// Target minus level (NaN where unknown: forecast rows).
    pub(crate) delta: Vec<f64>,
    /// The target at the origin.
    pub(crate) level: Vec<f64>,
    /// The origin's moment.
    pub(crate) origin_time: Vec<i64>,
    /// The moment forecast.
    pub(crate) target_time: Vec<i64>,
    /// Index of the series each row comes from.
    pub(crate) series: Vec<usize>,
}

impl Samples {
    /// The feature column names, in order.
    pub(crate) fn features(&self) -> Vec<String> {
        self.frame.column_names().map(str::to_owned).collect()
    }
}

/// Rows of pairs (series index, origin index, horizon).
type Pairs = Vec<(usize, usize, usize)>;

/// Every training pair: an origin with a window behind it and a known level, and a
/// horizon whose target is known.
pub(crate) fn training_pairs(panel: &Panel, shape: Shape) -> Pairs {
    let mut pairs = Vec::new();
    for (s, series) in panel.series.iter().enumerate() {
        let n = series.y.len();
        for o in shape.window.saturating_sub(1)..n {
            if !series.y[o].is_finite() {
                continue;
            }
            for h in 1..=shape.horizon {
                let t = o + shape.gap + h;
                if t < n && series.y[t].is_finite() {
                    pairs.push((s, o, h));
                }
            }
        }
    }
    pairs
}

/// How many training pairs [`training_pairs`] would give (without allocating them).
pub(crate) fn count_training_pairs(panel: &Panel, shape: Shape) -> usize {
    panel
        .series
        .iter()
        .map(|s| {
            let n = s.y.len();
            (shape.window.saturating_sub(1)..n)
                .map(|o| (n - 1).saturating_sub(o + shape.gap).min(shape.horizon))
                .sum::<usize>()
        })
        .sum()
}

/// Builds the rows of `pairs`.
pub(crate) fn build(
    panel: &Panel,
    shape: Shape,
    pairs: &[(usize, usize, usize)],
    layout: &Layout,
) -> Result<Samples, TsError> {
    let (groups, endogenous) = (&layout.groups, &layout.endogenous);
    let w = shape.window;
    let mut numeric: Vec<(String, Vec<f64>)> = vec![("ts_horizon".into(), Vec::new())];
    numeric.extend((1..w).map(|j| (format!("ts_lag_{j}"), Vec::new())));
    let means: Vec<usize> =
        [3, 7, w]
            .into_iter()
            .filter(|&k| k >= 2 && k <= w)
            .fold(Vec::new(), |mut v, k| {
                if !v.contains(&k) {
                    v.push(k);
                }
                v
            });
    numeric.extend(means.iter().map(|k| (format!("ts_mean_{k}"), Vec::new())));
    for e in endogenous {
        numeric.extend((0..w).map(|j| (format!("{e}_lag_{j}"), Vec::new())));
    }
    for x in &layout.exogenous {
        numeric.push((x.clone(), Vec::new()));
        numeric.push((format!("{x}_origin"), Vec::new()));
    }
    let mut out = Samples {
        frame: Frame::default(),
        delta: Vec::with_capacity(pairs.len()),
        level: Vec::with_capacity(pairs.len()),
        origin_time: Vec::with_capacity(pairs.len()),
        target_time: Vec::with_capacity(pairs.len()),
        series: Vec::with_capacity(pairs.len()),
    };
    for &(s, o, h) in pairs {
        let series = &panel.series[s];
        let level = series.y[o];
        let mut values = vec![h as f64];
        values.extend((1..w).map(|j| series.y[o - j] - level));
        values.extend(
            means
                .iter()
                .map(|&k| mean(&series.y[o + 1 - k..=o]) - level),
        );
        for e in &series.endogenous {
            values.extend((0..w).map(|j| e[o - j]));
        }
        let t = o + shape.gap + h;
        for x in &series.exogenous {
            values.push(x.get(t).copied().unwrap_or(f64::NAN));
            values.push(x[o]);
        }
        for (column, value) in numeric.iter_mut().zip(values) {
            column.1.push(value);
        }
        out.delta
            .push(series.y.get(t).map_or(f64::NAN, |y| y - level));
        out.level.push(level);
        out.origin_time.push(series.times[o]);
        out.target_time
            .push(panel.step.advance(series.times[o], (shape.gap + h) as i64));
        out.series.push(s);
    }
    let mut columns: Vec<Column> = numeric
        .into_iter()
        .map(|(name, values)| Column::numerical(name, values))
        .collect();
    columns.extend(group_columns(&panel.series, pairs, groups));
    columns.push(time_column(
        "ts_target_time",
        &out.target_time,
        panel.format,
    ));
    out.frame = Frame::new(columns).map_err(|e| {
        TsError::Invalid(format!(
            "a column name clashes with an engineered feature: {e}"
        ))
    })?;
    Ok(out)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The time-group columns of the rows of `pairs`, as categories.
pub(crate) fn group_columns(
    series: &[Series],
    pairs: &[(usize, usize, usize)],
    groups: &[String],
) -> Vec<Column> {
    groups
        .iter()
        .enumerate()
        .map(|(g, name)| {
            let labels: Vec<Option<&str>> = pairs
                .iter()
                .map(|&(s, _, _)| series[s].key[g].as_deref())
                .collect();
            Column::categorical(name.clone(), &labels)
        })
        .collect()
}

/// A datetime column of `times`.
pub(crate) fn time_column(name: &str, times: &[i64], format: DateFormat) -> Column {
    let data = ColumnData::Datetime {
        millis: times.iter().copied().map(Some).collect(),
        format,
    };
    Column {
        name: name.to_owned(),
        data,
    }
}
