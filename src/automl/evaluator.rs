//! The rules that rank models, in one place for the client and the server: which
//! metrics each model type reports, which way each metric points, what `auto` means,
//! and how the best model is chosen (ties to the model listed first).
//!
//! These are the Decanter SDK's rules: `auto` is `deviance` for regression and
//! `logloss` for classification; `r2`, `auc` and `lift_top_group` are better when
//! larger, every other metric when smaller.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The kind of model a target calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelType {
    /// Numerical target.
    Regression,
    /// Categorical target with two classes.
    Binary,
    /// Categorical target with more than two classes.
    Multinomial,
}

impl ModelType {
    /// Every model type.
    pub const ALL: [ModelType; 3] = [
        ModelType::Regression,
        ModelType::Binary,
        ModelType::Multinomial,
    ];

    /// The contract's name: `"regression"`, `"binary classification"` or
    /// `"multinomial classification"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelType::Regression => "regression",
            ModelType::Binary => "binary classification",
            ModelType::Multinomial => "multinomial classification",
        }
    }

    /// The metrics reported for this model type, in report order.
    pub fn metrics(self) -> &'static [Evaluator] {
        use Evaluator::*;
        match self {
            ModelType::Regression => &[Deviance, Mse, Rmse, Mae, Rmsle, R2, Mape, Wmape],
            ModelType::Binary => &[
                Logloss,
                Auc,
                Misclassification,
                MeanPerClassError,
                LiftTopGroup,
                Mse,
                Rmse,
            ],
            ModelType::Multinomial => &[Logloss, Misclassification, MeanPerClassError, Mse, Rmse],
        }
    }
}

impl fmt::Display for ModelType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelType {
    type Err = ParseSpecError;

    /// Parses the contract's names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModelType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| ParseSpecError {
                what: "model type",
                value: s.to_owned(),
                expected: "regression, binary classification or multinomial classification".into(),
            })
    }
}

/// A metric that ranks models, or `Auto` for the model type's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Evaluator {
    /// `deviance` for regression, `logloss` for classification.
    Auto,
    /// Mean residual deviance (for a Gaussian model, the mean squared error).
    Deviance,
    /// Mean squared error (for classifiers: of the true class's probability).
    Mse,
    /// Root mean squared error.
    Rmse,
    /// Mean absolute error.
    Mae,
    /// Root mean squared logarithmic error.
    Rmsle,
    /// Coefficient of determination (larger is better).
    R2,
    /// Mean absolute percentage error.
    Mape,
    /// Weighted mean absolute percentage error.
    Wmape,
    /// Mean negative log-likelihood of the true class.
    Logloss,
    /// Area under the ROC curve (larger is better; binary only).
    Auc,
    /// Fraction of rows whose predicted class is wrong.
    Misclassification,
    /// Mean over classes of the fraction of that class's rows predicted wrong.
    MeanPerClassError,
    /// Positive rate in the top-scored group over the overall positive rate (larger is
    /// better; binary only).
    LiftTopGroup,
}

impl Evaluator {
    /// Every evaluator, `Auto` first.
    pub const ALL: [Evaluator; 14] = [
        Evaluator::Auto,
        Evaluator::Deviance,
        Evaluator::Mse,
        Evaluator::Rmse,
        Evaluator::Mae,
        Evaluator::Rmsle,
        Evaluator::R2,
        Evaluator::Mape,
        Evaluator::Wmape,
        Evaluator::Logloss,
        Evaluator::Auc,
        Evaluator::Misclassification,
        Evaluator::MeanPerClassError,
        Evaluator::LiftTopGroup,
    ];

    /// The contract's name, e.g. `"mean_per_class_error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Evaluator::Auto => "auto",
            Evaluator::Deviance => "deviance",
            Evaluator::Mse => "mse",
            Evaluator::Rmse => "rmse",
            Evaluator::Mae => "mae",
            Evaluator::Rmsle => "rmsle",
            Evaluator::R2 => "r2",
            Evaluator::Mape => "mape",
            Evaluator::Wmape => "wmape",
            Evaluator::Logloss => "logloss",
            Evaluator::Auc => "auc",
            Evaluator::Misclassification => "misclassification",
            Evaluator::MeanPerClassError => "mean_per_class_error",
            Evaluator::LiftTopGroup => "lift_top_group",
        }
    }

    /// True for metrics where a larger value is better: `r2`, `auc`, `lift_top_group`.
    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            Evaluator::R2 | Evaluator::Auc | Evaluator::LiftTopGroup
        )
    }

    /// `Auto` replaced by the default for `model_type` (the SDK's rule); other
    /// evaluators unchanged.
    pub fn resolve(self, model_type: ModelType) -> Evaluator {
        match (self, model_type) {
            (Evaluator::Auto, ModelType::Regression) => Evaluator::Deviance,
            (Evaluator::Auto, _) => Evaluator::Logloss,
            (other, _) => other,
        }
    }

    /// Whether models of `model_type` report this evaluator (`Auto` always applies).
    pub fn applies_to(self, model_type: ModelType) -> bool {
        self == Evaluator::Auto || model_type.metrics().contains(&self)
    }
}

impl fmt::Display for Evaluator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Evaluator {
    type Err = ParseSpecError;

    /// Parses the contract's names, ignoring case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let found = Evaluator::ALL
            .iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(s));
        found.copied().ok_or_else(|| ParseSpecError {
            what: "evaluator",
            value: s.to_owned(),
            expected: Evaluator::ALL.map(Evaluator::as_str).join(", "),
        })
    }
}

/// An unknown name: of an algorithm, an evaluator or a model type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSpecError {
    pub(crate) what: &'static str,
    pub(crate) value: String,
    pub(crate) expected: String,
}

impl fmt::Display for ParseSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} '{}' (expected {})",
            self.what, self.value, self.expected
        )
    }
}

impl std::error::Error for ParseSpecError {}

/// The index of the best of `models` (each a metric name → value map) by `metric`:
/// the largest value for `r2`, `auc` and `lift_top_group`, the smallest otherwise.
/// Models whose value is NaN or absent are skipped; ties go to the model listed first.
/// `None` when no model has a value. `metric` is a metric's name, not `"auto"`: resolve
/// that first with [`Evaluator::resolve`].
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
    fn picks_smallest_error_and_largest_r2_auc_and_lift() {
        let models = [
            scores(&[
                ("mse", 2.0),
                ("r2", 0.5),
                ("auc", 0.9),
                ("lift_top_group", 1.0),
            ]),
            scores(&[
                ("mse", 1.0),
                ("r2", 0.8),
                ("auc", 0.7),
                ("lift_top_group", 2.0),
            ]),
        ];
        assert_eq!(best_model_index(&models, "mse"), Some(1));
        assert_eq!(best_model_index(&models, "r2"), Some(1));
        assert_eq!(best_model_index(&models, "auc"), Some(0));
        assert_eq!(best_model_index(&models, "lift_top_group"), Some(1));
    }

    #[test]
    fn skips_nan_and_missing_values_and_breaks_ties_by_order() {
        let models = [
            scores(&[("mse", f64::NAN)]),
            scores(&[]),
            scores(&[("mse", 3.0)]),
        ];
        assert_eq!(best_model_index(&models, "mse"), Some(2));
        assert_eq!(best_model_index(&models[..2], "mse"), None);
        let ties = [scores(&[("mae", 1.0)]), scores(&[("mae", 1.0)])];
        assert_eq!(best_model_index(&ties, "mae"), Some(0));
        let ties = [scores(&[("auc", 0.8)]), scores(&[("auc", 0.8)])];
        assert_eq!(best_model_index(&ties, "auc"), Some(0));
    }

    #[test]
    fn auto_resolves_as_the_sdk_does() {
        let auto = Evaluator::Auto;
        assert_eq!(auto.resolve(ModelType::Regression), Evaluator::Deviance);
        assert_eq!(auto.resolve(ModelType::Binary), Evaluator::Logloss);
        assert_eq!(auto.resolve(ModelType::Multinomial), Evaluator::Logloss);
        assert_eq!(Evaluator::Mae.resolve(ModelType::Binary), Evaluator::Mae);
    }

    #[test]
    fn names_round_trip() {
        for e in Evaluator::ALL {
            assert_eq!(e.as_str().parse::<Evaluator>(), Ok(e));
        }
        assert_eq!("AUC".parse::<Evaluator>(), Ok(Evaluator::Auc));
        let err = "accuracy".parse::<Evaluator>().unwrap_err().to_string();
        assert!(err.starts_with("unknown evaluator 'accuracy' (expected auto, deviance"));
        for t in ModelType::ALL {
            assert_eq!(t.as_str().parse::<ModelType>(), Ok(t));
            assert!(t.metrics().iter().all(|m| m.applies_to(t)));
        }
        assert_eq!(ModelType::Binary.as_str(), "binary classification");
        assert!(!Evaluator::Auc.applies_to(ModelType::Multinomial));
        assert!(!Evaluator::R2.applies_to(ModelType::Binary));
    }
}
