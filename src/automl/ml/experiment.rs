//! The result of a training run and the choice of its best models.

use std::collections::BTreeMap;

use super::model::TrainedModel;
use super::spec::{Evaluator, ModelType};
pub use crate::automl::evaluator::best_model_index;

/// Everything a train request produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedExperiment {
    /// The target column.
    pub target: String,
    /// The kind of models trained.
    pub model_type: ModelType,
    /// The requested evaluator with `auto` resolved for `model_type`
    /// ([`Evaluator::resolve`]).
    pub evaluator: Evaluator,
    /// The feature columns used, in frame order.
    pub features: Vec<String>,
    /// The number of cross-validation folds (as requested, or the time split's).
    pub nfold: usize,
    /// The seed of every random choice, as requested.
    pub seed: u64,
    /// One model per trained algorithm, in request order.
    pub models: Vec<TrainedModel>,
    /// Why fewer models than requested were trained (`max_run_time` ran out), if so.
    pub stopped_early: Option<String>,
}

impl TrainedExperiment {
    /// For each metric of the model type (in report order), the metric's name and the
    /// index in `models` of the best model by cross-validation average. Metrics that no
    /// model's `cv_averages` holds are left out.
    pub fn recommendations(&self) -> Vec<(String, usize)> {
        let scores: Vec<&BTreeMap<String, f64>> =
            self.models.iter().map(|m| &m.cv_averages).collect();
        let best = |e: &Evaluator| {
            best_model_index(scores.iter().copied(), e.as_str()).map(|i| (e.as_str().to_owned(), i))
        };
        self.model_type.metrics().iter().filter_map(best).collect()
    }

    /// Index of the best model by the experiment's evaluator, if any scored.
    #[cfg(test)]
    pub fn best_model(&self) -> Option<usize> {
        let scores = self.models.iter().map(|m| &m.cv_averages);
        best_model_index(scores, self.evaluator.as_str())
    }
}
