//! What setup, train and predict jobs take: the inputs a user builds before declaring
//! the jobs.

use serde_json::Value;

use super::error::AutomlError;
use super::types::{DataInfo, Experiment};
use crate::flow::Job;

/// Which model a predict job uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelChoice {
    /// The best model by this evaluator (`"auto"`, `"mse"`, `"r2"`, `"auc"`, ...).
    Best(String),
    /// A specific model id.
    Id(String),
    /// The server's recommendation for this metric (the SDK's
    /// `select_model="recommendation"`).
    Recommendation(String),
}

/// What a setup job submits: a data set and the new types of some of its columns.
#[derive(Debug, Clone)]
pub struct SetupInput<'a> {
    /// The upload (or setup) job of the data.
    pub data: &'a Job<DataInfo>,
    /// `(column, data type)` pairs; the type is `"numerical"` or `"categorical"`.
    pub columns: Vec<(String, String)>,
}

impl<'a> SetupInput<'a> {
    /// Retypes nothing yet; add columns with [`column`](SetupInput::column).
    pub fn new(data: &'a Job<DataInfo>) -> Self {
        SetupInput {
            data,
            columns: Vec::new(),
        }
    }

    /// Gives column `id` the type `data_type` (`"numerical"` or `"categorical"`).
    pub fn column(mut self, id: impl Into<String>, data_type: impl Into<String>) -> Self {
        self.columns.push((id.into(), data_type.into()));
        self
    }

    /// The request's `data_columns`.
    pub(crate) fn columns_json(&self) -> Value {
        let columns = self
            .columns
            .iter()
            .map(|(id, data_type)| serde_json::json!({ "id": id, "data_type": data_type }));
        Value::Array(columns.collect())
    }
}

/// What a train job submits. Build it with [`TrainInput::new`] and the setters.
#[derive(Debug, Clone)]
pub struct TrainInput<'a> {
    /// The upload job of the training data.
    pub data: &'a Job<DataInfo>,
    /// The target column.
    pub target: String,
    /// Algorithms (`"GLM"`, `"DRF"`); empty means the server's default.
    pub algos: Vec<String>,
    /// The evaluator (`"auto"` by default).
    pub evaluator: String,
    /// Cross-validation folds (2..=10).
    pub nfold: Option<u32>,
    /// Random seed.
    pub seed: Option<u64>,
    /// At most this many models.
    pub max_model: Option<u32>,
    /// Percentage of rows held out for validation scores.
    pub validation_percentage: Option<f64>,
    /// Feature columns (default: all but the target).
    pub features: Option<Vec<String>>,
}

impl<'a> TrainInput<'a> {
    /// Trains on `data` to predict `target`, with the server's defaults.
    pub fn new(data: &'a Job<DataInfo>, target: impl Into<String>) -> Self {
        TrainInput {
            data,
            target: target.into(),
            algos: Vec::new(),
            evaluator: "auto".to_string(),
            nfold: None,
            seed: None,
            max_model: None,
            validation_percentage: None,
            features: None,
        }
    }

    /// Sets the algorithms.
    pub fn algos<S: Into<String>>(mut self, algos: impl IntoIterator<Item = S>) -> Self {
        self.algos = algos.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the evaluator.
    pub fn evaluator(mut self, evaluator: impl Into<String>) -> Self {
        self.evaluator = evaluator.into();
        self
    }

    /// Sets the number of folds.
    pub fn nfold(mut self, nfold: u32) -> Self {
        self.nfold = Some(nfold);
        self
    }

    /// Sets the random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Trains on these columns only (default: every column but the target).
    pub fn features<S: Into<String>>(mut self, features: impl IntoIterator<Item = S>) -> Self {
        self.features = Some(features.into_iter().map(Into::into).collect());
        self
    }

    /// Holds out this percentage of rows to compute validation scores.
    pub fn validation_percentage(mut self, percent: f64) -> Self {
        self.validation_percentage = Some(percent);
        self
    }

    /// The request body, once the data id is known.
    pub(crate) fn body(&self, data_id: &str) -> Value {
        let mut body = serde_json::json!({
            "train_data_id": data_id,
            "target": self.target,
            "evaluator": self.evaluator,
        });
        let obj = body.as_object_mut().expect("a JSON object literal");
        if !self.algos.is_empty() {
            obj.insert("algos".into(), self.algos.clone().into());
        }
        let optional = [
            ("nfold", self.nfold.map(Value::from)),
            ("seed", self.seed.map(Value::from)),
            ("max_model", self.max_model.map(Value::from)),
            (
                "validation_percentage",
                self.validation_percentage.map(Value::from),
            ),
            ("features", self.features.clone().map(Value::from)),
        ];
        for (key, value) in optional {
            if let Some(v) = value {
                obj.insert(key.into(), v);
            }
        }
        body
    }
}

/// What a predict job submits.
#[derive(Debug, Clone)]
pub struct PredictInput<'a> {
    /// The upload job of the data to predict.
    pub data: &'a Job<DataInfo>,
    /// The train job whose model predicts.
    pub experiment: &'a Job<Experiment>,
    /// Which of its models.
    pub model: ModelChoice,
    /// Columns of the data to copy into the predictions.
    pub keep_columns: Vec<String>,
    /// Probability threshold for binary classifiers.
    pub threshold: Option<f64>,
}

impl<'a> PredictInput<'a> {
    /// Predicts `data` with the best model of `experiment` by its `"auto"` evaluator.
    pub fn new(data: &'a Job<DataInfo>, experiment: &'a Job<Experiment>) -> Self {
        PredictInput {
            data,
            experiment,
            model: ModelChoice::Best("auto".to_string()),
            keep_columns: Vec::new(),
            threshold: None,
        }
    }

    /// Chooses the model.
    pub fn model(mut self, model: ModelChoice) -> Self {
        self.model = model;
        self
    }

    /// Copies these columns of the input into the predictions.
    pub fn keep_columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.keep_columns = columns.into_iter().map(Into::into).collect();
        self
    }
}

impl ModelChoice {
    /// The id of the model of `exp` this choice picks.
    pub(crate) fn pick(&self, exp: &Experiment) -> Result<String, AutomlError> {
        let missing = |what: String| AutomlError::TaskFailed {
            task: exp.id.clone(),
            status: "done".to_string(),
            message: what,
        };
        let id = |m: &super::types::ModelInfo| m.id.clone();
        match self {
            ModelChoice::Best(evaluator) => exp.best_model(evaluator).map(id).ok_or_else(|| {
                missing(format!(
                    "no model of experiment {} has a '{evaluator}' score",
                    exp.id
                ))
            }),
            ModelChoice::Id(model) => exp
                .model(model)
                .map(id)
                .ok_or_else(|| missing(format!("experiment {} has no model {model}", exp.id))),
            ModelChoice::Recommendation(metric) => {
                exp.recommended(metric).map(id).ok_or_else(|| {
                    missing(format!(
                        "experiment {} has no recommendation for '{metric}'",
                        exp.id
                    ))
                })
            }
        }
    }
}
