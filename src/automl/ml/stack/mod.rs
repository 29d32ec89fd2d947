//! Stacked ensembles: several trained models (the **bases**) combined by a
//! [`Blend`] learned on their cross-validation predictions, as H2O AutoML's
//! `StackedEnsemble` combines its models.
//!
//! Each base is a final model of the experiment (fitted on all training rows, with its
//! own feature encoding); the ensemble predicts a frame by letting every base predict
//! it and blending their outputs. Training (`train/stacking.rs`) chooses the bases,
//! fits the blend on the rows' out-of-fold predictions and cross-validates the blend
//! on the same folds.

pub(crate) mod blend;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use super::error::PredictError;
use super::frame::Frame;
use super::importance;
use super::model::{Fitted, Output};
use super::spec::Algo;
pub(crate) use blend::{Blend, Truth};

/// Most models a stacked ensemble combines.
pub(crate) const MAX_BASES: usize = 5;

/// One model of an ensemble.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Base {
    /// Its algorithm.
    pub(crate) algo: Algo,
    /// Its position in the experiment's models when it was trained.
    pub(crate) index: usize,
    /// The model fitted on all training rows.
    pub(crate) fitted: Fitted,
}

/// A stacked ensemble.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stack {
    pub(crate) bases: Vec<Base>,
    pub(crate) blend: Blend,
}

impl Stack {
    /// Predicts rows `rows` of `frame`: every base's prediction, blended.
    pub(crate) fn predict(&self, frame: &Frame, rows: &[usize]) -> Result<Output, PredictError> {
        let outputs = self
            .bases
            .iter()
            .map(|base| base.fitted.predict(frame, rows))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.blend.combine(&outputs))
    }

    /// The feature columns the bases read (each base reads the experiment's features).
    pub(crate) fn feature_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for base in &self.bases {
            for name in base.fitted.encoder.feature_names() {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_owned());
                }
            }
        }
        names
    }

    /// Every base's importances, weighted by its share of the blend's weights (equal
    /// shares when all weights are 0), summed per feature and sorted as
    /// [`importance::by_feature`] sorts them.
    pub(crate) fn importances(&self) -> Vec<(String, f64)> {
        let weights = self.blend.weights();
        let total: f64 = weights.iter().sum();
        let share = |i: usize| match total > 0.0 {
            true => weights[i] / total,
            false => 1.0 / weights.len() as f64,
        };
        let mut sums: BTreeMap<String, f64> = BTreeMap::new();
        for (i, base) in self.bases.iter().enumerate() {
            let fitted = &base.fitted;
            for (name, value) in importance::by_feature(&fitted.encoder, fitted.column_weights()) {
                *sums.entry(name).or_default() += share(i) * value;
            }
        }
        let mut importances: Vec<(String, f64)> = sums.into_iter().collect();
        importances.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        importances
    }

    /// The blend's settings: for each base in turn, `base_k` (its position among the
    /// experiment's models, from 0) and `weight_k`; then a regression blend's
    /// `intercept`.
    pub(crate) fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        const BASE: [&str; MAX_BASES] = ["base_1", "base_2", "base_3", "base_4", "base_5"];
        const WEIGHT: [&str; MAX_BASES] =
            ["weight_1", "weight_2", "weight_3", "weight_4", "weight_5"];
        let mut settings = Vec::with_capacity(2 * self.bases.len() + 1);
        for (k, (base, &w)) in self.bases.iter().zip(self.blend.weights()).enumerate() {
            settings.push((BASE[k], base.index as f64));
            settings.push((WEIGHT[k], w));
        }
        if let Blend::Values { intercept, .. } = &self.blend {
            settings.push(("intercept", *intercept));
        }
        settings
    }

    /// The widest encoding of a base (a prediction encodes one base's chunk at a time).
    pub(crate) fn width(&self) -> usize {
        self.bases
            .iter()
            .map(|b| b.fitted.encoder.width())
            .max()
            .unwrap_or(0)
    }
}
