//! What to train: the algorithm and evaluator names of the wire contract, the kind of
//! model a target calls for, and the [`TrainSpec`] that gathers a train request.

use std::fmt;
use std::str::FromStr;

/// A learning algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algo {
    /// Generalized linear model: ridge least squares, logistic or softmax regression.
    Glm,
    /// Distributed random forest: bagged CART trees with feature sampling.
    Drf,
}

impl Algo {
    /// The contract's name: `"GLM"` or `"DRF"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algo::Glm => "GLM",
            Algo::Drf => "DRF",
        }
    }
}

impl fmt::Display for Algo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algo {
    type Err = ParseSpecError;

    /// Parses `"GLM"` or `"DRF"`, ignoring case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "GLM" => Ok(Algo::Glm),
            "DRF" => Ok(Algo::Drf),
            _ => Err(ParseSpecError {
                what: "algorithm",
                value: s.to_owned(),
                expected: "GLM or DRF",
            }),
        }
    }
}

/// The metric that ranks models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Evaluator {
    /// `mse` for regression, `logloss` for classification.
    Auto,
    /// Mean squared error (for binary targets: of the positive-class probability).
    Mse,
    /// Root mean squared error.
    Rmse,
    /// Mean absolute error.
    Mae,
    /// Coefficient of determination (higher is better).
    R2,
    /// Mean negative log-likelihood of the true class.
    Logloss,
    /// Area under the ROC curve (higher is better; binary only).
    Auc,
    /// Fraction of rows whose predicted class is wrong.
    Misclassification,
}

impl Evaluator {
    /// The contract's name, e.g. `"logloss"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Evaluator::Auto => "auto",
            Evaluator::Mse => "mse",
            Evaluator::Rmse => "rmse",
            Evaluator::Mae => "mae",
            Evaluator::R2 => "r2",
            Evaluator::Logloss => "logloss",
            Evaluator::Auc => "auc",
            Evaluator::Misclassification => "misclassification",
        }
    }

    /// True for metrics where a larger value is better (`r2`, `auc`).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Evaluator::R2 | Evaluator::Auc)
    }

    /// `Auto` replaced by the default for `model_type`; other evaluators unchanged.
    pub fn resolve(self, model_type: ModelType) -> Evaluator {
        match (self, model_type) {
            (Evaluator::Auto, ModelType::Regression) => Evaluator::Mse,
            (Evaluator::Auto, _) => Evaluator::Logloss,
            (other, _) => other,
        }
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
        const ALL: [Evaluator; 8] = [
            Evaluator::Auto,
            Evaluator::Mse,
            Evaluator::Rmse,
            Evaluator::Mae,
            Evaluator::R2,
            Evaluator::Logloss,
            Evaluator::Auc,
            Evaluator::Misclassification,
        ];
        let expected = "auto, mse, rmse, mae, r2, logloss, auc or misclassification";
        let found = ALL.iter().find(|e| e.as_str().eq_ignore_ascii_case(s));
        found.copied().ok_or_else(|| ParseSpecError {
            what: "evaluator",
            value: s.to_owned(),
            expected,
        })
    }
}

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
    /// `"regression"`, `"binary"` or `"multinomial"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelType::Regression => "regression",
            ModelType::Binary => "binary",
            ModelType::Multinomial => "multinomial",
        }
    }

    /// The metrics computed for this model type, in report order.
    pub fn metrics(self) -> &'static [Evaluator] {
        match self {
            ModelType::Regression => &[
                Evaluator::Mse,
                Evaluator::Rmse,
                Evaluator::Mae,
                Evaluator::R2,
            ],
            ModelType::Binary => &[
                Evaluator::Logloss,
                Evaluator::Auc,
                Evaluator::Misclassification,
                Evaluator::Mse,
            ],
            ModelType::Multinomial => &[Evaluator::Logloss, Evaluator::Misclassification],
        }
    }
}

impl fmt::Display for ModelType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown algorithm or evaluator name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSpecError {
    what: &'static str,
    value: String,
    expected: &'static str,
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

/// A train request.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSpec {
    /// Name of the column to predict.
    pub target: String,
    /// Algorithms to train, in order; duplicates are trained once.
    pub algos: Vec<Algo>,
    /// Metric that picks the experiment's best model.
    pub evaluator: Evaluator,
    /// Number of cross-validation folds, 2 to 10.
    pub nfold: usize,
    /// Seed for every random choice; the same seed gives the same models.
    pub seed: u64,
    /// Train at most this many models (the first ones of `algos`).
    pub max_model: Option<usize>,
    /// Percentage (0 to 90) of rows held out and scored into `validation_scores`.
    pub validation_percentage: Option<f64>,
    /// Feature columns; `None` means every column except the target.
    pub features: Option<Vec<String>>,
}

impl TrainSpec {
    /// GLM and DRF, `auto` evaluator, 5 folds, seed 42, no hold-out, all features.
    pub fn new(target: impl Into<String>) -> TrainSpec {
        TrainSpec {
            target: target.into(),
            algos: vec![Algo::Glm, Algo::Drf],
            evaluator: Evaluator::Auto,
            nfold: 5,
            seed: 42,
            max_model: None,
            validation_percentage: None,
            features: None,
        }
    }

    /// Parses a list of algorithm names such as `["GLM", "drf"]`.
    ///
    /// # Errors
    /// The first unknown name.
    pub fn parse_algos<S: AsRef<str>>(names: &[S]) -> Result<Vec<Algo>, ParseSpecError> {
        names.iter().map(|n| n.as_ref().parse()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_contract_names() {
        assert_eq!("glm".parse::<Algo>(), Ok(Algo::Glm));
        assert_eq!(
            TrainSpec::parse_algos(&["DRF", "Glm"]),
            Ok(vec![Algo::Drf, Algo::Glm])
        );
        let err = "XGB".parse::<Algo>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown algorithm 'XGB' (expected GLM or DRF)"
        );
        assert_eq!("AUC".parse::<Evaluator>(), Ok(Evaluator::Auc));
        assert_eq!(
            "misclassification".parse::<Evaluator>(),
            Ok(Evaluator::Misclassification)
        );
        assert!("accuracy".parse::<Evaluator>().is_err());
    }

    #[test]
    fn auto_resolves_per_model_type() {
        assert_eq!(
            Evaluator::Auto.resolve(ModelType::Regression),
            Evaluator::Mse
        );
        assert_eq!(
            Evaluator::Auto.resolve(ModelType::Multinomial),
            Evaluator::Logloss
        );
        assert_eq!(Evaluator::Mae.resolve(ModelType::Binary), Evaluator::Mae);
        assert!(Evaluator::R2.higher_is_better() && !Evaluator::Mse.higher_is_better());
        assert_eq!(ModelType::Binary.as_str(), "binary");
    }
}
