//! A trained forecaster and its forecasts.

use std::collections::BTreeMap;

use super::super::frame::{Column, DateFormat, Frame};
use super::super::importance;
use super::super::model::{Fitted, Output};
use super::super::spec::Algo;
use super::features::{build, group_columns, time_column, Shape};
use super::panel::{group_name, Layout, Series, Step};
use super::TsError;

/// One configuration of a time-series experiment, fitted on every engineered row.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecaster {
    /// The algorithm.
    pub algo: Algo,
    /// Past rows its features read.
    pub window: usize,
    /// Metrics averaged over the time-ordered folds.
    pub cv_averages: BTreeMap<String, f64>,
    /// Metrics on the held-out latest origins (empty without a hold-out).
    pub validation_scores: BTreeMap<String, f64>,
    pub(crate) layout: Layout,
    pub(crate) shape: Shape,
    pub(crate) step: Step,
    /// The last `window` training rows of each series, which a forecast's data may
    /// continue.
    pub(crate) history: Vec<Series>,
    pub(crate) fitted: Fitted,
    pub(crate) seed: u64,
}

impl Forecaster {
    /// The steps forecast after the gap.
    pub fn horizon(&self) -> usize {
        self.shape.horizon
    }

    /// The steps skipped between the last known row and the first forecast.
    pub fn gap(&self) -> usize {
        self.shape.gap
    }

    /// The settings: the engine's (by their H2O names), then `window`, `horizon`,
    /// `gap` and `seed`.
    pub fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        let mut settings = self.fitted.engine.hyperparameters();
        settings.push(("window", self.window as f64));
        settings.push(("forecast_horizon", self.shape.horizon as f64));
        settings.push(("gap", self.shape.gap as f64));
        settings.push(("seed", self.seed as f64));
        settings
    }

    /// How much the model relies on each engineered feature (see
    /// [`TrainedModel::importances`](super::super::TrainedModel::importances)).
    pub fn importances(&self) -> Vec<(String, f64)> {
        importance::by_feature(&self.fitted.encoder, self.fitted.column_weights())
    }

    /// Forecasts from the history in `frame`: for each time group, the `horizon`
    /// moments after the gap that follow its last row with a target value. A group
    /// whose first row comes one step after the last training row of that group
    /// continues the training series: the training rows the window needs go in front.
    /// The result
    /// has the datetime column (the moments forecast), the time-group columns and
    /// `prediction`.
    ///
    /// # Errors
    /// [`TsError::Invalid`] when the frame lacks a column the model reads, a group's
    /// history is irregular or shorter than the window, or has no target value.
    pub fn forecast(&self, frame: &Frame) -> Result<Frame, TsError> {
        let mut panel = self.layout.read(frame, Some(self.step))?;
        panel.series = panel
            .series
            .into_iter()
            .map(|s| self.continued(s))
            .collect();
        let mut pairs = Vec::new();
        for (s, series) in panel.series.iter().enumerate() {
            let name = || group_name(&self.layout.groups, &series.key);
            let last = series
                .y
                .iter()
                .rposition(|y| y.is_finite())
                .ok_or_else(|| {
                    TsError::Invalid(format!(
                        "{} has no value of the target '{}' to forecast from",
                        name(),
                        self.layout.target
                    ))
                })?;
            if last + 1 < self.window {
                return Err(TsError::Invalid(format!(
                    "{} has {} rows up to its last target value; this model reads the last {}",
                    name(),
                    last + 1,
                    self.window
                )));
            }
            self.check_exogenous(series, last, &panel.format, name)?;
            pairs.extend((1..=self.shape.horizon).map(|h| (s, last, h)));
        }
        let groups = &self.layout.groups;
        let samples = build(&panel, self.shape, &pairs, &self.layout)?;
        let rows: Vec<usize> = (0..pairs.len()).collect();
        let output = self
            .fitted
            .predict(&samples.frame, &rows)
            .map_err(|e| TsError::Invalid(e.to_string()))?;
        let Output::Values(delta) = output else {
            return Err(TsError::Failed(
                "a forecaster gave class probabilities".into(),
            ));
        };
        let prediction: Vec<f64> = samples
            .level
            .iter()
            .zip(&delta)
            .map(|(l, d)| l + d)
            .collect();
        let mut columns = vec![time_column(
            &self.layout.time,
            &samples.target_time,
            panel.format,
        )];
        columns.extend(group_columns(&panel.series, &pairs, groups));
        columns.push(Column::numerical("prediction", prediction));
        Frame::new(columns).map_err(|e| TsError::Invalid(e.to_string()))
    }

    /// `series` with the training rows of its group in front when it starts one step
    /// after them.
    fn continued(&self, series: Series) -> Series {
        let earlier = self.history.iter().find(|h| h.key == series.key);
        match (earlier, series.times.first()) {
            (Some(h), Some(&first))
                if h.times.last().map(|&t| self.step.advance(t, 1)) == Some(first) =>
            {
                series.after(h)
            }
            _ => series,
        }
    }

    /// Checks that `series` has rows (after `last`) for every moment forecast when the
    /// model reads exogenous values there.
    fn check_exogenous(
        &self,
        series: &Series,
        last: usize,
        format: &DateFormat,
        name: impl Fn() -> String,
    ) -> Result<(), TsError> {
        let Some(x) = self.layout.exogenous.first() else {
            return Ok(());
        };
        let end = last + self.shape.gap + self.shape.horizon;
        if end < series.times.len() {
            return Ok(());
        }
        let missing = self
            .step
            .advance(series.times[last], (series.times.len() - last) as i64);
        Err(TsError::Invalid(format!(
            "{}: the model reads the exogenous feature '{x}' at each moment it forecasts, \
             but the data has no row at {}; add rows after the history with the \
             exogenous values and an empty target",
            name(),
            format.format(missing)
        )))
    }
}
