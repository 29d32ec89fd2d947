//! Trained models and prediction.

use std::collections::{BTreeMap, HashSet};

use super::encode::Encoder;
use super::error::PredictError;
use super::forest::Forest;
use super::frame::{Column, ColumnData, Frame, FrameError};
use super::gbm::Gbm;
use super::glm::Glm;
use super::importance;
use super::linalg::Matrix;
use super::metrics::choose_class;
use super::spec::{Algo, ModelType};
use super::stack::Stack;

/// Bytes of encoded rows a prediction holds at once (see [`Fitted::predict`]).
const PREDICT_CHUNK_BYTES: usize = 16 << 20;

/// Rows a prediction encodes at once when the encoding is `width` columns wide: about
/// [`PREDICT_CHUNK_BYTES`] of them, between 64 and 4,096 rows.
pub(crate) fn predict_chunk_rows(width: usize) -> usize {
    (PREDICT_CHUNK_BYTES / (8 * width.max(1))).clamp(64, 4096)
}

/// Raw predictions of an engine.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Output {
    /// One number per row (regression).
    Values(Vec<f64>),
    /// One probability per row and class (classification).
    Probs(Matrix),
}

/// The fitted learner behind a model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Engine {
    /// A generalized linear model.
    Glm(Glm),
    /// A random forest.
    Drf(Forest),
    /// A gradient boosting machine.
    Gbm(Gbm),
}

impl Engine {
    /// Predicts every row of the encoded matrix `x`.
    fn predict(&self, x: &Matrix) -> Output {
        match self {
            Engine::Glm(glm) => glm.predict(x),
            Engine::Drf(forest) => forest.predict(x),
            Engine::Gbm(gbm) => gbm.predict(x),
        }
    }

    /// A non-negative weight per column of the training matrix `x`: `|β|` times the
    /// column's standard deviation for GLM, the total split gain for the tree models
    /// (which need only the matrix's width).
    fn column_weights(&self, x: &Matrix) -> Vec<f64> {
        match self {
            Engine::Glm(glm) => glm.importances(x),
            _ => self.split_gains(x.cols()),
        }
    }

    /// The total split gain per encoded column of a tree model (zeros for GLM).
    fn split_gains(&self, width: usize) -> Vec<f64> {
        let mut gains = vec![0.0; width];
        match self {
            Engine::Glm(_) => {}
            Engine::Drf(forest) => forest.add_gains(&mut gains),
            Engine::Gbm(gbm) => gbm.add_gains(&mut gains),
        }
        gains
    }

    pub(crate) fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        match self {
            Engine::Glm(glm) => glm.hyperparameters(),
            Engine::Drf(forest) => forest.hyperparameters(),
            Engine::Gbm(gbm) => gbm.hyperparameters(),
        }
    }
}

/// An encoding plus the engine fitted on its output: predicts straight from a frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fitted {
    pub(crate) encoder: Encoder,
    pub(crate) engine: Engine,
    /// The engine's weight of each encoded column, from the training matrix.
    pub(crate) column_weights: Vec<f64>,
}

impl Fitted {
    /// Wraps `engine`, fitted on `x` (the encoding of the training rows by `encoder`).
    pub(crate) fn new(encoder: Encoder, engine: Engine, x: &Matrix) -> Fitted {
        let column_weights = engine.column_weights(x);
        Fitted {
            encoder,
            engine,
            column_weights,
        }
    }

    /// Wraps the tree model `engine`, which reads the encoding of `encoder`.
    pub(crate) fn trees(encoder: Encoder, engine: Engine) -> Fitted {
        let column_weights = engine.split_gains(encoder.width());
        Fitted {
            encoder,
            engine,
            column_weights,
        }
    }

    /// The engine's weight of each encoded column.
    pub(crate) fn column_weights(&self) -> &[f64] {
        &self.column_weights
    }

    /// Predicts rows `rows` of `frame`, encoding [`predict_chunk_rows`] rows at a time:
    /// the dense encoded matrix is `rows × width` numbers, so encoding a large forecast
    /// at once would cost far more than its predictions.
    pub(crate) fn predict(&self, frame: &Frame, rows: &[usize]) -> Result<Output, PredictError> {
        let mut chunks = rows.chunks(predict_chunk_rows(self.encoder.width()));
        let first = chunks.next().unwrap_or(&[]);
        let mut out = self.engine.predict(&self.encoder.transform(frame, first)?);
        if let Output::Probs(probs) = &mut out {
            probs.reserve_rows(rows.len());
        }
        for chunk in chunks {
            match (
                &mut out,
                self.engine.predict(&self.encoder.transform(frame, chunk)?),
            ) {
                (Output::Values(all), Output::Values(more)) => all.extend(more),
                (Output::Probs(all), Output::Probs(more)) => all.append_rows(&more),
                _ => unreachable!("an engine answers one kind of output"),
            }
        }
        Ok(out)
    }
}

/// What predicts for a [`TrainedModel`]: one fitted engine, or a stacked ensemble of
/// them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Predictor {
    One(Fitted),
    Stack(Stack),
}

impl Predictor {
    /// Predicts rows `rows` of `frame`.
    pub(crate) fn predict(&self, frame: &Frame, rows: &[usize]) -> Result<Output, PredictError> {
        match self {
            Predictor::One(fitted) => fitted.predict(frame, rows),
            Predictor::Stack(stack) => stack.predict(frame, rows),
        }
    }

    /// The width of the widest encoding a prediction builds.
    pub(crate) fn width(&self) -> usize {
        match self {
            Predictor::One(fitted) => fitted.encoder.width(),
            Predictor::Stack(stack) => stack.width(),
        }
    }
}

/// One trained model of an experiment: its cross-validation and hold-out scores and the
/// model fitted on all training rows.
///
/// Models hold plain data only, so they are `Send + Sync` and can be shared between
/// worker threads behind an `Arc`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedModel {
    /// The algorithm.
    pub algo: Algo,
    /// Each metric of the model type ([`ModelType::metrics`]) averaged over the
    /// cross-validation folds that define it; a metric no fold defines is absent.
    pub cv_averages: BTreeMap<String, f64>,
    /// The metrics of the final model on the held-out validation rows that are defined
    /// there (empty without validation rows).
    pub validation_scores: BTreeMap<String, f64>,
    /// The metrics of the final model on the test rows: another data set (the SDK's
    /// `test_data_id`) or a time split's test range; empty without either.
    pub test_scores: BTreeMap<String, f64>,
    pub(crate) target: String,
    /// The experiment's seed, from which the model's random streams derive.
    pub(crate) seed: u64,
    pub(crate) model_type: ModelType,
    /// Class labels, sorted (empty for regression).
    pub(crate) classes: Vec<String>,
    pub(crate) fitted: Predictor,
}

impl TrainedModel {
    /// The class labels in probability-column order (empty for regression). For a
    /// binary model the second class is the positive one.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The target column the model predicts.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Regression, binary or multinomial.
    pub fn model_type(&self) -> ModelType {
        self.model_type
    }

    /// The feature columns the model reads, in frame order.
    pub fn features(&self) -> Vec<String> {
        match &self.fitted {
            Predictor::One(fitted) => fitted.encoder.feature_names().map(str::to_owned).collect(),
            Predictor::Stack(stack) => stack.feature_names(),
        }
    }

    /// How much the final model relies on each feature column: one entry per column of
    /// [`features`](Self::features), non-negative, summing to 1 unless all are 0,
    /// sorted by decreasing importance, then by name.
    ///
    /// GLM weighs a column by `|coefficient|` times the standard deviation of its
    /// encoded values on the training rows (summed over classes for multinomial
    /// models); DRF and GBM by the total impurity decrease of their splits on it. A
    /// categorical column's one-hot columns (and a missing-value indicator) count
    /// towards their column. A stacked ensemble sums its models' importances weighted
    /// by their shares of the blend.
    pub fn importances(&self) -> Vec<(String, f64)> {
        match &self.fitted {
            Predictor::One(fitted) => {
                importance::by_feature(&fitted.encoder, &fitted.column_weights)
            }
            Predictor::Stack(stack) => stack.importances(),
        }
    }

    /// The settings the final model was trained with, by their H2O names, then `seed`
    /// (the experiment's seed, as a number).
    ///
    /// - GLM: `alpha` (0: a pure ridge penalty), `lambda`;
    /// - DRF: `ntrees`, `max_depth`, `min_rows`, `mtries`, `sample_rate`, `nbins`;
    /// - GBM: `ntrees`, `learn_rate`, `max_leaves`, `max_depth` (0: limited by the
    ///   leaves), `min_rows`, `reg_lambda`, `sample_rate`, `col_sample_rate_per_tree`,
    ///   `nbins`;
    /// - StackedEnsemble: for each model it combines, `base_k` (the model's position
    ///   in the experiment, from 0) and `weight_k` (its weight in the blend), then a
    ///   regression blend's `intercept`.
    pub fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        let mut settings = match &self.fitted {
            Predictor::One(fitted) => fitted.engine.hyperparameters(),
            Predictor::Stack(stack) => stack.hyperparameters(),
        };
        settings.push(("seed", self.seed as f64));
        settings
    }

    /// Predicts every row of `frame`.
    ///
    /// The result holds the `keep_columns` (in the given order, duplicates once), then
    /// the target column as the data has it (when it has it and it is not kept
    /// already), then `prediction` (a number for regression, a class label for
    /// classifiers), then for classifiers one probability column per class, named by
    /// the class label itself, as the real service names them. A binary model predicts
    /// the positive (second) class when its probability reaches `threshold` (default
    /// 0.5); other model types ignore `threshold`. The target column need not be
    /// present.
    ///
    /// # Errors
    /// [`PredictError`] when a feature or kept column is missing, a numerical feature
    /// holds text, the threshold is not in `[0, 1]`, or a kept column is named like an
    /// output column.
    pub fn predict(
        &self,
        frame: &Frame,
        keep_columns: &[String],
        threshold: Option<f64>,
    ) -> Result<Frame, PredictError> {
        if let Some(t) = threshold.filter(|t| !(0.0..=1.0).contains(t)) {
            return Err(PredictError::BadThreshold(t));
        }
        let mut columns = kept_columns(frame, keep_columns)?;
        if let Some(target) = frame.column(&self.target) {
            if !keep_columns.contains(&self.target) {
                columns.push(target.clone());
            }
        }
        let rows: Vec<usize> = (0..frame.rows()).collect();
        match self.fitted.predict(frame, &rows)? {
            Output::Values(values) => columns.push(Column::numerical("prediction", values)),
            Output::Probs(probs) => columns.extend(self.class_columns(&probs, threshold)),
        }
        Frame::new(columns).map_err(|e| match e {
            FrameError::DuplicateColumn(name) => PredictError::OutputClash(name),
            other => PredictError::OutputClash(other.to_string()),
        })
    }

    fn class_columns(&self, probs: &Matrix, threshold: Option<f64>) -> Vec<Column> {
        let codes = probs
            .iter_rows()
            .map(|r| Some(choose_class(r, threshold) as u32))
            .collect();
        let levels = self.classes.clone();
        let prediction = Column {
            name: "prediction".into(),
            data: ColumnData::Categorical { levels, codes },
        };
        let prob = |(k, class): (usize, &String)| {
            Column::numerical(class.clone(), probs.iter_rows().map(|r| r[k]).collect())
        };
        std::iter::once(prediction)
            .chain(self.classes.iter().enumerate().map(prob))
            .collect()
    }
}

fn kept_columns(frame: &Frame, keep: &[String]) -> Result<Vec<Column>, PredictError> {
    let mut seen = HashSet::new();
    let unique = keep.iter().filter(|name| seen.insert(name.as_str()));
    let column = |name: &String| {
        frame
            .column(name)
            .cloned()
            .ok_or_else(|| PredictError::MissingKeepColumn(name.clone()))
    };
    unique.map(column).collect()
}
