//! Trained models and prediction.

use std::collections::{BTreeMap, HashSet};

use super::encode::Encoder;
use super::error::PredictError;
use super::forest::Forest;
use super::frame::{Column, ColumnData, Frame, FrameError};
use super::glm::Glm;
use super::linalg::Matrix;
use super::metrics::choose_class;
use super::spec::{Algo, ModelType};

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
    Glm(Glm),
    Drf(Forest),
}

/// An encoding plus the engine fitted on its output: predicts straight from a frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fitted {
    pub(crate) encoder: Encoder,
    pub(crate) engine: Engine,
}

impl Fitted {
    /// Predicts rows `rows` of `frame`.
    pub(crate) fn predict(&self, frame: &Frame, rows: &[usize]) -> Result<Output, PredictError> {
        let x = self.encoder.transform(frame, rows)?;
        Ok(match &self.engine {
            Engine::Glm(glm) => glm.predict(&x),
            Engine::Drf(forest) => forest.predict(&x),
        })
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
    /// Mean over the cross-validation folds of each metric (NaN where undefined).
    pub cv_averages: BTreeMap<String, f64>,
    /// Metrics of the final model on the held-out validation rows (empty without them).
    pub validation_scores: BTreeMap<String, f64>,
    pub(crate) target: String,
    pub(crate) model_type: ModelType,
    /// Class labels, sorted (empty for regression).
    pub(crate) classes: Vec<String>,
    pub(crate) fitted: Fitted,
}

impl TrainedModel {
    /// The kind of model.
    pub fn model_type(&self) -> ModelType {
        self.model_type
    }

    /// The target column it predicts.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The class labels in probability-column order (empty for regression). For a
    /// binary model the second class is the positive one.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The feature columns the model reads.
    pub fn features(&self) -> Vec<&str> {
        self.fitted.encoder.feature_names().collect()
    }

    /// Predicts every row of `frame`.
    ///
    /// The result holds the `keep_columns` (in the given order, duplicates once), then
    /// `prediction` (a number for regression, a class label for classifiers), then for
    /// classifiers one column `prob_<class>` per class. A binary model predicts the
    /// positive (second) class when its probability reaches `threshold` (default 0.5);
    /// other model types ignore `threshold`. The target column need not be present.
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
            Column::numerical(
                format!("prob_{class}"),
                probs.iter_rows().map(|r| r[k]).collect(),
            )
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
