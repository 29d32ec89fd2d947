//! Turning a frame and a [`TrainSpec`] into a checked training task: the target and its
//! model type, the feature columns, and the split of rows into validation rows and
//! cross-validation folds.

use std::borrow::Cow;
use std::collections::HashSet;

use super::super::error::TrainError;
use super::super::frame::{ColumnData, Frame};
use super::super::options::Balance;
use super::super::rng::Rng;
use super::super::spec::{Evaluator, ModelType, TrainSpec};
use super::split;

/// Most classes a categorical target may have.
pub(crate) const MAX_CLASSES: usize = 100;

/// Target values per frame row (entries of rows without a target are never read).
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// Regression targets.
    Values(Vec<f64>),
    /// Class indices into [`Task::classes`].
    Classes(Vec<usize>),
}

/// A validated training task.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    /// Name of the target column.
    pub(crate) target_name: String,
    pub(crate) model_type: ModelType,
    pub(crate) evaluator: Evaluator,
    /// Class labels, sorted (empty for regression).
    pub(crate) classes: Vec<String>,
    pub(crate) features: Vec<String>,
    pub(crate) target: Target,
    /// Rows held out and scored by the final models.
    pub(crate) validation_rows: Vec<usize>,
    /// The cross-validation folds.
    pub(crate) cv: Cv,
    /// The rows the final models are fitted on.
    pub(crate) final_rows: Vec<usize>,
    /// Rows of the frame scored by the final models into `test_scores` (a time
    /// split's `test` range).
    pub(crate) test_rows: Vec<usize>,
    /// The request's seed.
    pub(crate) seed: u64,
    /// Class balancing of every fit's rows (classifiers only).
    pub(crate) balance: Option<Balance>,
    /// GBM's early-stopping tolerance.
    pub(crate) tolerance: Option<f64>,
}

/// How the models are cross-validated.
#[derive(Debug, Clone)]
pub(crate) enum Cv {
    /// Random folds: each is scored by a model fitted on all the others.
    Folds(Vec<Vec<usize>>),
    /// Given folds, `(fit rows, scored rows)`: a time-ordered split.
    Given(Vec<(Vec<usize>, Vec<usize>)>),
}

impl Cv {
    /// The number of folds.
    pub(crate) fn len(&self) -> usize {
        match self {
            Cv::Folds(folds) => folds.len(),
            Cv::Given(pairs) => pairs.len(),
        }
    }

    /// Fold `i`'s rows to fit on and rows to score.
    pub(crate) fn fold(&self, i: usize) -> (Cow<'_, [usize]>, &[usize]) {
        match self {
            Cv::Folds(folds) => {
                let fit = (0..folds.len())
                    .filter(|&f| f != i)
                    .flat_map(|f| folds[f].iter().copied())
                    .collect();
                (Cow::Owned(fit), &folds[i])
            }
            Cv::Given(pairs) => (Cow::Borrowed(&pairs[i].0), &pairs[i].1),
        }
    }
}

impl Task {
    /// Checks `spec` against `frame` and splits the rows.
    pub(crate) fn prepare(frame: &Frame, spec: &TrainSpec) -> Result<Task, TrainError> {
        let (model_type, classes, target, labelled) = read_target(frame, &spec.target)?;
        let evaluator = check_evaluator(spec.evaluator, model_type)?;
        let features = select_features(frame, spec)?;
        let balance = check_balance(spec, model_type, classes.len())?;
        let (validation_rows, cv, final_rows, test_rows) = match &spec.time_split {
            Some(split) => {
                let split = split::rows(frame, split, &spec.target, &labelled)?;
                (Vec::new(), Cv::Given(split.folds), split.train, split.test)
            }
            None => {
                let (validation_rows, training) = hold_out(labelled, spec)?;
                let folds = make_folds(training, &target, spec);
                let final_rows = folds.concat();
                (validation_rows, Cv::Folds(folds), final_rows, Vec::new())
            }
        };
        check_learnable(
            frame,
            &spec.target,
            &features,
            &target,
            &classes,
            &final_rows,
        )?;
        let target_name = spec.target.clone();
        Ok(Task {
            target_name,
            model_type,
            evaluator,
            classes,
            features,
            target,
            validation_rows,
            cv,
            final_rows,
            test_rows,
            seed: spec.seed,
            balance,
            tolerance: spec.tolerance,
        })
    }

    /// The target of every row of `test` (another data set, scored by the final
    /// models), and the rows that have one. Class labels are matched by their text.
    ///
    /// # Errors
    /// [`TrainError::Invalid`] when `test` lacks the target, holds no target value, or
    /// has a class the training data does not.
    pub(crate) fn test_target(&self, test: &Frame) -> Result<(Target, Vec<usize>), TrainError> {
        let name = &self.target_name;
        let column = test.column(name).ok_or_else(|| {
            TrainError::Invalid(format!("the test data has no target column '{name}'"))
        })?;
        let (target, rows) = match self.model_type {
            ModelType::Regression => {
                let ColumnData::Numerical(values) = &column.data else {
                    return Err(TrainError::Invalid(format!(
                        "the test data's target column '{name}' is not numerical"
                    )));
                };
                let rows = (0..values.len()).filter(|&r| values[r].is_finite());
                (Target::Values(values.clone()), rows.collect())
            }
            _ => {
                let mut labels = vec![usize::MAX; test.rows()];
                for (row, label) in labels.iter_mut().enumerate() {
                    let Some(text) = column.text(row) else {
                        continue;
                    };
                    *label = self
                        .classes
                        .iter()
                        .position(|c| *c == text)
                        .ok_or_else(|| {
                            TrainError::Invalid(format!(
                                "the test data's target column '{name}' has the class '{text}', \
                             which the training data does not have"
                            ))
                        })?;
                }
                let rows = (0..labels.len()).filter(|&r| labels[r] != usize::MAX);
                let rows: Vec<usize> = rows.collect();
                (Target::Classes(labels), rows)
            }
        };
        if rows.is_empty() {
            return Err(TrainError::Invalid(format!(
                "the test data's target column '{name}' has no values"
            )));
        }
        Ok((target, rows))
    }
}

/// The balancing of `spec`, checked against the model type and class count.
fn check_balance(
    spec: &TrainSpec,
    model_type: ModelType,
    classes: usize,
) -> Result<Option<Balance>, TrainError> {
    let Some(balance) = &spec.balance else {
        return Ok(None);
    };
    if model_type == ModelType::Regression {
        return Err(TrainError::Invalid(format!(
            "balance_class applies to classification only; the target '{}' is numerical \
             (regression)",
            spec.target
        )));
    }
    if let Some(factors) = &balance.sampling_factors {
        if factors.len() != classes {
            return Err(TrainError::Invalid(format!(
                "sampling_factors has {} rates, but the target '{}' has {classes} classes \
                 (one rate per class, in the sorted order of the class labels)",
                factors.len(),
                spec.target
            )));
        }
    }
    Ok(Some(balance.clone()))
}

type TargetInfo = (ModelType, Vec<String>, Target, Vec<usize>);

/// The model type, classes, per-row target and the rows that have a target.
fn read_target(frame: &Frame, name: &str) -> Result<TargetInfo, TrainError> {
    let column = frame
        .column(name)
        .ok_or_else(|| TrainError::Invalid(format!("the target column '{name}' does not exist")))?;
    let has_values = match &column.data {
        ColumnData::Numerical(values) => values.iter().any(|v| v.is_finite()),
        ColumnData::Categorical { codes, .. } => codes.iter().any(Option::is_some),
        ColumnData::Datetime { .. } => true,
    };
    if !has_values {
        let message = format!("the target column '{name}' has no values");
        return Err(TrainError::Invalid(message));
    }
    match &column.data {
        ColumnData::Numerical(values) => Ok(numerical_target(values)),
        ColumnData::Categorical { levels, codes } => categorical_target(name, levels, codes),
        ColumnData::Datetime { .. } => Err(TrainError::Invalid(format!(
            "the target column '{name}' is a datetime column; a target must be \
             numerical or categorical (retype it with setup)"
        ))),
    }
}

/// Regression on the rows with a finite target.
fn numerical_target(values: &[f64]) -> TargetInfo {
    let rows = (0..values.len())
        .filter(|&r| values[r].is_finite())
        .collect();
    let target = Target::Values(values.to_vec());
    (ModelType::Regression, Vec::new(), target, rows)
}

/// Classification over the levels that occur; classes keep the levels' sorted order.
fn categorical_target(
    name: &str,
    levels: &[String],
    codes: &[Option<u32>],
) -> Result<TargetInfo, TrainError> {
    let rows: Vec<usize> = (0..codes.len()).filter(|&r| codes[r].is_some()).collect();
    let mut class_of: Vec<Option<usize>> = vec![None; levels.len()];
    rows.iter()
        .filter_map(|&r| codes[r])
        .for_each(|c| class_of[c as usize] = Some(0));
    let mut classes = Vec::new();
    for (code, class) in class_of.iter_mut().enumerate() {
        if class.is_some() {
            *class = Some(classes.len());
            classes.push(levels[code].clone());
        }
    }
    let model_type = classification_type(name, &classes)?;
    let label = |c: &Option<u32>| c.and_then(|c| class_of[c as usize]).unwrap_or(usize::MAX);
    let target = Target::Classes(codes.iter().map(label).collect());
    Ok((model_type, classes, target, rows))
}

fn classification_type(name: &str, classes: &[String]) -> Result<ModelType, TrainError> {
    match classes.len() {
        0 | 1 => Err(TrainError::Invalid(format!(
            "the target column '{name}' has a single class ('{}'); a classifier needs at least two",
            classes.first().map_or("", String::as_str)
        ))),
        2 => Ok(ModelType::Binary),
        k if k <= MAX_CLASSES => Ok(ModelType::Multinomial),
        k => Err(TrainError::Invalid(format!(
            "the target column '{name}' has {k} classes; at most {MAX_CLASSES} are supported"
        ))),
    }
}

fn check_evaluator(evaluator: Evaluator, model_type: ModelType) -> Result<Evaluator, TrainError> {
    let resolved = evaluator.resolve(model_type);
    if resolved.applies_to(model_type) {
        return Ok(resolved);
    }
    let names: Vec<&str> = model_type.metrics().iter().map(|e| e.as_str()).collect();
    Err(TrainError::Invalid(format!(
        "evaluator '{resolved}' does not apply to a {model_type} target (use auto or one of {})",
        names.join(", ")
    )))
}

fn select_features(frame: &Frame, spec: &TrainSpec) -> Result<Vec<String>, TrainError> {
    let target = spec.target.as_str();
    let features: Vec<String> = match &spec.features {
        None => frame
            .column_names()
            .filter(|&n| n != target)
            .map(str::to_owned)
            .collect(),
        Some(list) => {
            let mut seen = HashSet::new();
            let unique: Vec<String> = list
                .iter()
                .filter(|n| seen.insert(n.as_str()))
                .cloned()
                .collect();
            if let Some(missing) = unique.iter().find(|n| frame.column(n).is_none()) {
                return Err(TrainError::Invalid(format!(
                    "the feature column '{missing}' does not exist"
                )));
            }
            if unique.iter().any(|n| n == target) {
                return Err(TrainError::Invalid(format!(
                    "the target '{target}' cannot also be a feature"
                )));
            }
            let chosen: HashSet<&str> = unique.iter().map(String::as_str).collect();
            frame
                .column_names()
                .filter(|n| chosen.contains(n))
                .map(str::to_owned)
                .collect()
        }
    };
    if features.is_empty() {
        return Err(TrainError::Invalid(
            "there are no feature columns besides the target".into(),
        ));
    }
    Ok(features)
}

/// Refuses data that trains nothing sensible, in words: a feature with no value on the
/// training rows, a regression target with one value, a class with a single row.
fn check_learnable(
    frame: &Frame,
    name: &str,
    features: &[String],
    target: &Target,
    classes: &[String],
    rows: &[usize],
) -> Result<(), TrainError> {
    let invalid = |m: String| Err(TrainError::Invalid(m));
    for feature in features {
        let column = frame.column(feature).expect("features are frame columns");
        if rows.iter().all(|&r| column.is_missing(r)) {
            return invalid(format!(
                "the feature column '{feature}' has no values in the training rows; \
                 leave it out of the features"
            ));
        }
    }
    match target {
        Target::Values(y) => {
            let first = rows.first().map(|&r| y[r]);
            if let Some(v) = first.filter(|&v| rows.iter().all(|&r| y[r] == v)) {
                return invalid(format!(
                    "the target column '{name}' is {v} on every training row: there is \
                     nothing to learn"
                ));
            }
        }
        Target::Classes(labels) => {
            let mut counts = vec![0usize; classes.len()];
            rows.iter().for_each(|&r| counts[labels[r]] += 1);
            if let Some(c) = counts.iter().position(|&n| n < 2) {
                return invalid(format!(
                    "the class '{}' of the target column '{name}' has {} training row(s); \
                     every class needs at least 2 so that cross-validation can learn and \
                     score it",
                    classes[c], counts[c]
                ));
            }
        }
    }
    Ok(())
}

/// Shuffles the labelled rows and splits off the validation rows.
fn hold_out(
    mut rows: Vec<usize>,
    spec: &TrainSpec,
) -> Result<(Vec<usize>, Vec<usize>), TrainError> {
    Rng::derive(spec.seed, 0x5EED).shuffle(&mut rows);
    let pct = spec.validation_percentage.unwrap_or(0.0);
    let n = rows.len();
    let mut held = (n as f64 * pct / 100.0).round() as usize;
    if pct > 0.0 {
        held = held.max(1);
    }
    let needed = 2 * spec.nfold;
    if n.saturating_sub(held) < needed {
        return Err(TrainError::Invalid(format!(
            "{}-fold cross-validation needs at least {needed} training rows with a target, found {}",
            spec.nfold,
            n.saturating_sub(held)
        )));
    }
    let training = rows.split_off(held);
    Ok((rows, training))
}

/// Deals the shuffled training rows into `nfold` folds; for classification the rows are
/// first grouped by class so that every fold gets its share of each class.
fn make_folds(mut rows: Vec<usize>, target: &Target, spec: &TrainSpec) -> Vec<Vec<usize>> {
    if let Target::Classes(classes) = target {
        rows.sort_by_key(|&r| classes[r]);
    }
    let mut folds = vec![Vec::new(); spec.nfold];
    for (i, row) in rows.into_iter().enumerate() {
        folds[i % spec.nfold].push(row);
    }
    folds
}

#[cfg(test)]
mod tests {
    use super::super::super::frame::Column;
    use super::*;

    fn frame() -> Frame {
        let y: Vec<Option<&str>> = (0..40)
            .map(|i| [Some("a"), Some("b"), None, Some("b")][i % 4])
            .collect();
        let x = Column::numerical("x", (0..40).map(f64::from).collect());
        Frame::new(vec![x, Column::categorical("y", &y)]).unwrap()
    }

    #[test]
    fn drops_rows_without_target_and_stratifies_folds() {
        let task = Task::prepare(&frame(), &TrainSpec::new("y")).unwrap();
        assert_eq!(task.model_type, ModelType::Binary);
        assert_eq!(task.classes, ["a", "b"]);
        assert_eq!(task.final_rows.len(), 30);
        let Target::Classes(c) = &task.target else {
            panic!()
        };
        let Cv::Folds(folds) = &task.cv else { panic!() };
        for fold in folds {
            assert_eq!(fold.iter().filter(|&&r| c[r] == 0).count(), 2);
        }
    }

    #[test]
    fn holds_out_validation_rows() {
        let spec = TrainSpec {
            validation_percentage: Some(20.0),
            ..TrainSpec::new("x")
        };
        let task = Task::prepare(&frame(), &spec).unwrap();
        assert_eq!(task.model_type, ModelType::Regression);
        assert_eq!(task.validation_rows.len(), 8);
        assert_eq!(task.final_rows.len(), 32);
        let again = Task::prepare(&frame(), &spec).unwrap();
        assert_eq!(task.validation_rows, again.validation_rows);
    }

    #[test]
    fn rejects_data_that_cannot_be_learned() {
        let invalid =
            |spec: TrainSpec| matches!(Task::prepare(&frame(), &spec), Err(TrainError::Invalid(_)));
        assert!(invalid(TrainSpec::new("nope")));
        assert!(invalid(TrainSpec {
            features: Some(vec!["ghost".into()]),
            ..TrainSpec::new("y")
        }));
        assert!(invalid(TrainSpec {
            features: Some(vec!["y".into()]),
            ..TrainSpec::new("y")
        }));
        assert!(invalid(TrainSpec {
            features: Some(vec![]),
            ..TrainSpec::new("y")
        }));
        assert!(invalid(TrainSpec {
            evaluator: Evaluator::R2,
            ..TrainSpec::new("y")
        }));
        assert!(invalid(TrainSpec {
            nfold: 10,
            validation_percentage: Some(60.0),
            ..TrainSpec::new("y")
        }));
        let one = Frame::new(vec![
            Column::categorical("y", &[Some("a"), None]),
            Column::numerical("x", vec![1.0, 2.0]),
        ]);
        let err = Task::prepare(&one.unwrap(), &TrainSpec::new("y")).unwrap_err();
        assert!(err.to_string().contains("single class ('a')"), "{err}");
    }
}
