//! What to train: the algorithm and evaluator names of the wire contract, the kind of
//! model a target calls for, and the [`TrainSpec`] that gathers a train request.

use std::fmt;
use std::str::FromStr;

pub use crate::automl::evaluator::{Evaluator, ModelType, ParseSpecError};

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
                expected: "GLM or DRF".into(),
            }),
        }
    }
}

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
    }
}
