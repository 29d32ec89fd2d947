//! The result of a training run and the choice of its best models.

use std::collections::BTreeMap;

use super::model::TrainedModel;
use super::spec::{Evaluator, ModelType};

/// Everything a train request produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// The target column.
    pub target: String,
    /// The kind of models trained.
    pub model_type: ModelType,
    /// The requested evaluator with `auto` resolved for `model_type`.
    pub evaluator: Evaluator,
    /// One model per trained algorithm, in request order.
    pub models: Vec<TrainedModel>,
}

impl Experiment {
    /// For each metric of the model type (in report order), the metric's name and the
    /// index in `models` of the best model by cross-validation average. Metrics on
    /// which every model scores NaN are left out.
    pub fn recommendations(&self) -> Vec<(String, usize)> {
        let scores: Vec<&BTreeMap<String, f64>> =
            self.models.iter().map(|m| &m.cv_averages).collect();
        let best = |e: &Evaluator| {
            best_model_index(scores.iter().copied(), e.as_str()).map(|i| (e.as_str().to_owned(), i))
        };
        self.model_type.metrics().iter().filter_map(best).collect()
    }

    /// Index of the best model by the experiment's evaluator, if any scored.
    pub fn best_model(&self) -> Option<usize> {
        let scores = self.models.iter().map(|m| &m.cv_averages);
        best_model_index(scores, self.evaluator.as_str())
    }
}

/// The index of the best of `models` (each a metric name → value map) by `metric`:
/// the largest value for `r2` and `auc`, the smallest otherwise. Models whose value is
/// NaN or absent are skipped; ties go to the earlier model. `None` when no model has a
/// value.
pub fn best_model_index<'a, I>(models: I, metric: &str) -> Option<usize>
where
    I: IntoIterator<Item = &'a BTreeMap<String, f64>>,
{
    let higher_is_better = metric
        .parse::<Evaluator>()
        .is_ok_and(Evaluator::higher_is_better);
    let mut best: Option<(usize, f64)> = None;
    for (i, scores) in models.into_iter().enumerate() {
        let Some(&value) = scores.get(metric).filter(|v| !v.is_nan()) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((_, b)) if higher_is_better => value > b,
            Some((_, b)) => value < b,
        };
        if better {
            best = Some((i, value));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn picks_smallest_error_and_largest_r2_and_auc() {
        let models = [
            scores(&[("mse", 2.0), ("r2", 0.5), ("auc", 0.9)]),
            scores(&[("mse", 1.0), ("r2", 0.8), ("auc", 0.7)]),
        ];
        assert_eq!(best_model_index(&models, "mse"), Some(1));
        assert_eq!(best_model_index(&models, "r2"), Some(1));
        assert_eq!(best_model_index(&models, "auc"), Some(0));
    }

    #[test]
    fn skips_nan_and_missing_values() {
        let models = [
            scores(&[("mse", f64::NAN)]),
            scores(&[]),
            scores(&[("mse", 3.0)]),
        ];
        assert_eq!(best_model_index(&models, "mse"), Some(2));
        assert_eq!(best_model_index(&models[..2], "mse"), None);
        let ties = [scores(&[("mae", 1.0)]), scores(&[("mae", 1.0)])];
        assert_eq!(best_model_index(&ties, "mae"), Some(0));
    }
}
