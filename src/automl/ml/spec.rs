//! What to train: the algorithm and evaluator names of the wire contract, the kind of
//! model a target calls for, and the [`TrainSpec`] that gathers a train request.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::frame::DataType;
use super::options::{Balance, TimeSplit};

pub use crate::automl::evaluator::{Evaluator, ModelType, ParseSpecError};

/// A learning algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algo {
    /// Generalized linear model: ridge least squares, logistic or softmax regression.
    Glm,
    /// Distributed random forest: bagged CART trees with feature sampling.
    Drf,
    /// Gradient boosting machine: boosted regression trees on the loss's gradient.
    Gbm,
    /// Stacked ensemble: the best model of each other algorithm trained, and the next
    /// best, combined by non-negative weights learned on their cross-validation
    /// predictions (H2O's default metalearner). Not counted in `max_model`.
    StackedEnsemble,
}

/// The other algorithm names of the Decanter SDK's `Algo` enum: valid requests for the
/// real service, which this server answers with a clear refusal.
const SDK_ONLY: [&str; 18] = [
    "DeepLearning",
    "XGBoost",
    "arima",
    "prophet",
    "ets",
    "theta",
    "tpot",
    "lgbm_gpu",
    "lgbm_speed",
    "lgbm_accuracy",
    "lstm",
    "few_shot_learning",
    "autotpot",
    "rfmulticlassifier",
    "fewshotlearning",
    "lgbmaccuracy",
    "lgbmspeed",
    "metaprophet",
];

impl Algo {
    /// The algorithms that fit one model each, in the order the server lists them
    /// (a time-series forecast picks from these).
    pub const TRAINED: [Algo; 3] = [Algo::Glm, Algo::Drf, Algo::Gbm];

    /// Every algorithm a train request may name: [`TRAINED`](Self::TRAINED), then
    /// `StackedEnsemble`, which combines their models.
    pub const REQUESTABLE: [Algo; 4] = [Algo::Glm, Algo::Drf, Algo::Gbm, Algo::StackedEnsemble];

    /// The contract's name: `"GLM"`, `"DRF"`, `"GBM"` or `"StackedEnsemble"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algo::Glm => "GLM",
            Algo::Drf => "DRF",
            Algo::Gbm => "GBM",
            Algo::StackedEnsemble => "StackedEnsemble",
        }
    }
}

/// `"GLM, DRF, GBM{last}StackedEnsemble"`: the requestable algorithms as a phrase
/// ending in `last`.
pub(crate) fn trained_phrase(last: &str) -> String {
    let names = Algo::REQUESTABLE.map(Algo::as_str);
    let (tail, head) = names.split_last().expect("TRAINED is not empty");
    format!("{}{last}{tail}", head.join(", "))
}

impl fmt::Display for Algo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algo {
    type Err = ParseSpecError;

    /// Parses `"GLM"`, `"DRF"`, `"GBM"` or `"StackedEnsemble"`, ignoring case.
    ///
    /// # Errors
    /// Another name of the SDK's algorithms (`"XGBoost"`, ...) gets an error saying
    /// that this server does not train it and which ones it does; any other name an
    /// error saying it is unknown.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(algo) = Algo::REQUESTABLE
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
        {
            return Ok(algo);
        }
        let not_trained = SDK_ONLY.iter().any(|n| n.eq_ignore_ascii_case(s));
        let last = if not_trained { " and " } else { " or " };
        Err(ParseSpecError {
            what: "algorithm",
            value: s.to_owned(),
            expected: trained_phrase(last),
            not_trained,
        })
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
    /// How many models to train: each algorithm's defaults first (in the order of
    /// `algos`), then settings chosen by the hyper-parameter search (a
    /// `StackedEnsemble` is not counted). `None`: with `max_run_time`, as many as the
    /// time allows (at most 100); without, the default budget: 2,000,000 / (training
    /// rows × features) models, at least one per algorithm and at most 10 more.
    pub max_model: Option<usize>,
    /// Percentage (0 to 90) of rows held out and scored into `validation_scores`.
    pub validation_percentage: Option<f64>,
    /// Feature columns; `None` means every column except the target.
    pub features: Option<Vec<String>>,
    /// Columns retyped for this training only (the SDK's `feature_types`): a numeric
    /// code read as categorical, say. The data set itself is unchanged; predictions
    /// read such a column by the type it was trained with.
    pub feature_types: Vec<(String, DataType)>,
    /// Resample the classes of every fit (classifiers only); see [`Balance`].
    pub balance: Option<Balance>,
    /// Time-ordered folds instead of `nfold` random ones; see [`TimeSplit`].
    pub time_split: Option<TimeSplit>,
    /// A budget for the whole training (the SDK's `max_run_time`). When it runs out,
    /// the algorithm in progress is abandoned between two trees or folds and the
    /// experiment keeps the models that finished; if none did, training fails.
    pub max_run_time: Option<Duration>,
    /// GBM's early-stopping tolerance (the SDK's `tolerance`): boosting stops once the
    /// training deviance improved by less than this fraction over the last 3 rounds.
    /// `None`: every round is grown.
    pub tolerance: Option<f64>,
    /// Cross-validation folds fitted at once, each on its own thread (0 counts as 1).
    /// The models do not depend on it; the memory a training needs grows with it.
    pub threads: usize,
}

impl TrainSpec {
    /// GLM and DRF (not GBM: add it to `algos` to train it), `auto` evaluator, 5 folds, seed 42, no hold-out, all features.
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
            feature_types: Vec::new(),
            balance: None,
            time_split: None,
            max_run_time: None,
            tolerance: None,
            threads: 1,
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
        assert_eq!("gBm".parse::<Algo>(), Ok(Algo::Gbm));
        for algo in Algo::REQUESTABLE {
            assert_eq!(algo.as_str().parse::<Algo>(), Ok(algo));
        }
        let err = "XGB".parse::<Algo>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown algorithm 'XGB' (expected GLM, DRF, GBM or StackedEnsemble)"
        );
    }

    #[test]
    fn sdk_algorithms_not_trained_here_are_named() {
        let err = "XGBoost".parse::<Algo>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "algorithm 'XGBoost' is not trained by this server (it trains GLM, DRF, GBM and StackedEnsemble)"
        );
        for name in SDK_ONLY {
            let message = name.parse::<Algo>().unwrap_err().to_string();
            assert!(
                message.contains("is not trained by this server"),
                "{message}"
            );
        }
        let message = "deeplearning".parse::<Algo>().unwrap_err().to_string();
        assert!(message.starts_with("algorithm 'deeplearning' is not trained"));
        assert_eq!(
            "foo".parse::<Algo>().unwrap_err().to_string(),
            "unknown algorithm 'foo' (expected GLM, DRF, GBM or StackedEnsemble)"
        );
        assert_eq!(
            TrainSpec::parse_algos(&["GLM", "prophet"])
                .unwrap_err()
                .to_string(),
            "algorithm 'prophet' is not trained by this server (it trains GLM, DRF, GBM and StackedEnsemble)"
        );
        assert_eq!(TrainSpec::new("y").algos, [Algo::Glm, Algo::Drf]);
    }
}
