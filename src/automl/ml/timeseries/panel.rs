//! From a frame to regular series: the time column read as date-times, the rows split
//! by time group, put in time order, bucketed to the time unit and, when asked,
//! aggregated; then every series is checked to advance by one step per row.

use std::collections::BTreeMap;

use super::super::frame::{
    add_months, as_datetime, civil_from_days, days_from_civil, ColumnData, DateFormat, Frame,
    DAY_MS,
};
use super::{Aggregate, TimeUnit, TsError};

/// The distance between consecutive rows of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// A fixed number of milliseconds.
    Millis(i64),
    /// A number of calendar months.
    Months(i64),
}

impl Step {
    /// `t` moved `k` steps on.
    pub(crate) fn advance(self, t: i64, k: i64) -> i64 {
        match self {
            Step::Millis(ms) => t + ms * k,
            Step::Months(m) => add_months(t, m * k),
        }
    }

    fn describe(self) -> String {
        match self {
            Step::Millis(ms) if ms % DAY_MS == 0 => format!("{} day(s)", ms / DAY_MS),
            Step::Millis(ms) if ms % 3_600_000 == 0 => format!("{} hour(s)", ms / 3_600_000),
            Step::Millis(ms) => format!("{} ms", ms),
            Step::Months(12) => "1 year".into(),
            Step::Months(m) => format!("{m} month(s)"),
        }
    }
}

impl TimeUnit {
    /// The step of one unit.
    pub(crate) fn step(self) -> Step {
        match self {
            TimeUnit::Hour => Step::Millis(3_600_000),
            TimeUnit::Day => Step::Millis(DAY_MS),
            TimeUnit::Month => Step::Months(1),
            TimeUnit::Year => Step::Months(12),
        }
    }

    /// The start of the unit `t` falls in.
    pub(crate) fn floor(self, t: i64) -> i64 {
        match self {
            TimeUnit::Hour => t - t.rem_euclid(3_600_000),
            TimeUnit::Day => t - t.rem_euclid(DAY_MS),
            TimeUnit::Month | TimeUnit::Year => {
                let (y, m, _) = civil_from_days(t.div_euclid(DAY_MS));
                let m = if self == TimeUnit::Year { 1 } else { m };
                days_from_civil(y, m, 1) * DAY_MS
            }
        }
    }
}

/// One time group's rows in time order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    /// The text of each time-group column (`None` = missing).
    pub(crate) key: Vec<Option<String>>,
    /// The moments, one step apart.
    pub(crate) times: Vec<i64>,
    /// The target (NaN = missing).
    pub(crate) y: Vec<f64>,
    /// Each endogenous column's values.
    pub(crate) endogenous: Vec<Vec<f64>>,
    /// Each exogenous column's values.
    pub(crate) exogenous: Vec<Vec<f64>>,
}

impl Series {
    /// The last `rows` rows.
    pub(crate) fn tail(&self, rows: usize) -> Series {
        let from = self.times.len().saturating_sub(rows);
        let cut = |v: &Vec<f64>| v[from..].to_vec();
        Series {
            key: self.key.clone(),
            times: self.times[from..].to_vec(),
            y: cut(&self.y),
            endogenous: self.endogenous.iter().map(cut).collect(),
            exogenous: self.exogenous.iter().map(cut).collect(),
        }
    }

    /// `self` with `earlier` (which ends one step before it starts) in front.
    pub(crate) fn after(self, earlier: &Series) -> Series {
        let join = |a: &Vec<f64>, b: Vec<f64>| a.iter().copied().chain(b).collect();
        Series {
            times: earlier.times.iter().copied().chain(self.times).collect(),
            y: join(&earlier.y, self.y),
            endogenous: earlier
                .endogenous
                .iter()
                .zip(self.endogenous)
                .map(|(a, b)| join(a, b))
                .collect(),
            exogenous: earlier
                .exogenous
                .iter()
                .zip(self.exogenous)
                .map(|(a, b)| join(a, b))
                .collect(),
            key: self.key,
        }
    }
}

/// Every series of a frame, with the step between rows and the time column's format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Panel {
    pub(crate) series: Vec<Series>,
    pub(crate) step: Step,
    pub(crate) format: DateFormat,
}

/// How to read a frame into a panel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    pub(crate) target: String,
    pub(crate) time: String,
    pub(crate) groups: Vec<String>,
    pub(crate) endogenous: Vec<String>,
    pub(crate) exogenous: Vec<String>,
    pub(crate) unit: Option<TimeUnit>,
    pub(crate) aggregate: Option<Aggregate>,
}

impl Layout {
    /// Reads `frame`; `step` is the training step (inferred when `None`).
    pub(crate) fn read(&self, frame: &Frame, step: Option<Step>) -> Result<Panel, TsError> {
        let (times, format) = self.times(frame)?;
        let y = numbers(frame, &self.target, "target")?;
        let endogenous: Vec<Vec<f64>> = self
            .endogenous
            .iter()
            .map(|name| numbers(frame, name, "endogenous feature"))
            .chain(
                self.exogenous
                    .iter()
                    .map(|name| numbers(frame, name, "exogenous feature")),
            )
            .collect::<Result<_, _>>()?;
        let mut groups: BTreeMap<Vec<Option<String>>, Vec<usize>> = BTreeMap::new();
        for row in 0..frame.rows() {
            let key = self.key(frame, row)?;
            groups.entry(key).or_default().push(row);
        }
        let mut series = Vec::with_capacity(groups.len());
        for (key, rows) in groups {
            let rows: Vec<usize> = rows.into_iter().filter(|&r| times[r].is_some()).collect();
            let columns = (&times[..], &y[..], &endogenous[..]);
            series.push(self.series(key, &rows, columns, &format)?);
        }
        series.retain(|s| !s.times.is_empty());
        if series.is_empty() {
            return Err(TsError::Invalid(format!(
                "the datetime column '{}' has no values",
                self.time
            )));
        }
        let step = match (step, self.unit) {
            (Some(step), _) => step,
            (None, Some(unit)) => unit.step(),
            (None, None) => infer_step(&series)?,
        };
        for s in &series {
            check_regular(s, step, &format, &self.groups)?;
        }
        Ok(Panel {
            series,
            step,
            format,
        })
    }

    /// The time column's moments (floored to the unit) and its format.
    fn times(&self, frame: &Frame) -> Result<(Vec<Option<i64>>, DateFormat), TsError> {
        let column = frame.column(&self.time).ok_or_else(|| {
            TsError::Invalid(format!(
                "datetime_column: the data has no column '{}'",
                self.time
            ))
        })?;
        let column = as_datetime(column)
            .map_err(|e| TsError::Invalid(format!("datetime_column '{}': {e}", self.time)))?;
        let ColumnData::Datetime { millis, format } = &column.data else {
            return Err(TsError::Invalid(format!(
                "datetime_column '{}' is not a datetime column",
                self.time
            )));
        };
        let floor = |t: i64| self.unit.map_or(t, |u| u.floor(t));
        Ok((millis.iter().map(|t| t.map(floor)).collect(), *format))
    }

    fn key(&self, frame: &Frame, row: usize) -> Result<Vec<Option<String>>, TsError> {
        self.groups
            .iter()
            .map(|name| {
                let column = frame.column(name).ok_or_else(|| {
                    TsError::Invalid(format!("time_groups: the data has no column '{name}'"))
                })?;
                Ok(column.text(row).map(|t| t.into_owned()))
            })
            .collect()
    }

    /// One group's rows sorted by time, with equal moments aggregated or refused.
    fn series(
        &self,
        key: Vec<Option<String>>,
        rows: &[usize],
        (times, y, endogenous): (&[Option<i64>], &[f64], &[Vec<f64>]),
        format: &DateFormat,
    ) -> Result<Series, TsError> {
        let mut rows = rows.to_vec();
        rows.sort_by_key(|&r| (times[r], r));
        let mut out = Series {
            key,
            times: Vec::new(),
            y: Vec::new(),
            endogenous: vec![Vec::new(); self.endogenous.len()],
            exogenous: vec![Vec::new(); self.exogenous.len()],
        };
        let mut start = 0;
        while start < rows.len() {
            let t = times[rows[start]];
            let end = start + rows[start..].iter().take_while(|&&r| times[r] == t).count();
            let bucket = &rows[start..end];
            if bucket.len() > 1 && self.aggregate.is_none() {
                return Err(TsError::Invalid(format!(
                    "{} has {} rows at {} (data rows {} and {}); timestamps must be unique \
                     within a time group, or set numerical_groupby_method to sum or mean them",
                    group_name(&self.groups, &out.key),
                    bucket.len(),
                    format.format(t.unwrap_or(0)),
                    bucket[0] + 1,
                    bucket[1] + 1
                )));
            }
            out.times.push(t.unwrap_or(0));
            out.y.push(combine(self.aggregate, bucket, y));
            let slots = out.endogenous.iter_mut().chain(out.exogenous.iter_mut());
            for (slot, values) in slots.zip(endogenous) {
                slot.push(combine(self.aggregate, bucket, values));
            }
            start = end;
        }
        Ok(out)
    }
}

/// `"time group store=3"`, or `"the series"` without time groups.
pub(crate) fn group_name(groups: &[String], key: &[Option<String>]) -> String {
    if groups.is_empty() {
        return "the series".into();
    }
    let parts: Vec<String> = groups
        .iter()
        .zip(key)
        .map(|(g, v)| format!("{g}={}", v.as_deref().unwrap_or("(missing)")))
        .collect();
    format!("time group {}", parts.join(", "))
}

/// The values of the rows `bucket` combined: the value of a single row, else the sum
/// or mean of the values present (NaN if none).
fn combine(aggregate: Option<Aggregate>, bucket: &[usize], values: &[f64]) -> f64 {
    if bucket.len() == 1 {
        return values[bucket[0]];
    }
    let present: Vec<f64> = bucket
        .iter()
        .map(|&r| values[r])
        .filter(|v| v.is_finite())
        .collect();
    if present.is_empty() {
        return f64::NAN;
    }
    let sum: f64 = present.iter().sum();
    match aggregate {
        Some(Aggregate::Sum) => sum,
        _ => sum / present.len() as f64,
    }
}

/// A numerical column's values.
fn numbers(frame: &Frame, name: &str, what: &str) -> Result<Vec<f64>, TsError> {
    let column = frame
        .column(name)
        .ok_or_else(|| TsError::Invalid(format!("the data has no {what} column '{name}'")))?;
    match &column.data {
        ColumnData::Numerical(values) => Ok(values.clone()),
        other => Err(TsError::Invalid(format!(
            "the {what} column '{name}' is {}; it must be numerical",
            match other {
                ColumnData::Datetime { .. } => "datetime",
                _ => "categorical",
            }
        ))),
    }
}

/// The smallest distance between consecutive moments, as months when it is a calendar
/// month or year.
fn infer_step(series: &[Series]) -> Result<Step, TsError> {
    let smallest = series
        .iter()
        .flat_map(|s| s.times.windows(2).map(|w| w[1] - w[0]))
        .min()
        .ok_or_else(|| {
            TsError::Invalid("every time group has a single row; a series needs more".into())
        })?;
    let days = smallest as f64 / DAY_MS as f64;
    Ok(if (28.0..=31.0).contains(&days) {
        Step::Months(1)
    } else if (365.0..=366.0).contains(&days) {
        Step::Months(12)
    } else {
        Step::Millis(smallest)
    })
}

fn check_regular(
    series: &Series,
    step: Step,
    format: &DateFormat,
    groups: &[String],
) -> Result<(), TsError> {
    for w in series.times.windows(2) {
        if step.advance(w[0], 1) != w[1] {
            return Err(TsError::Invalid(format!(
                "{} is not regular: {} is followed by {}, but rows must be one step \
                 ({}) apart (set time_unit and numerical_groupby_method to aggregate \
                 finer rows)",
                group_name(groups, &series.key),
                format.format(w[0]),
                format.format(w[1]),
                step.describe()
            )));
        }
    }
    Ok(())
}
