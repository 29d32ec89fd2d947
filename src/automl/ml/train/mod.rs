//! Training: k-fold cross-validation of each requested algorithm, then a final fit.
//!
//! For every algorithm, [`train()`] fits one model per fold on the other folds' rows and
//! scores it on the fold, averaging the metrics into `cv_averages`; then it fits the
//! model that is kept on all training rows and, when rows were held out, scores it on
//! them into `validation_scores`. The feature encoding is learned anew for every fit,
//! from that fit's rows only, so no information leaks from a scored fold.

#[cfg(test)]
mod datetime_tests;
#[cfg(test)]
mod model_tests;
mod task;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use super::encode::Encoder;
use super::error::TrainError;
use super::experiment::TrainedExperiment;
use super::forest::Forest;
use super::frame::Frame;
use super::gbm::Gbm;
use super::glm::Glm;
use super::linalg::Matrix;
use super::metrics::{average, classification_scores, regression_scores, Scores};
use super::model::{Engine, Fitted, Output, TrainedModel};
use super::rng::Rng;
use super::spec::{trained_phrase, Algo, TrainSpec};
use super::tree::Labels;
use task::{Target, Task};

/// Trains the models `spec` asks for on `frame`.
///
/// `progress` is called with the fraction done (0 to 1) and a message such as
/// `"GLM fold 2/5"` after every fold and every final fit. `cancel` is checked between
/// folds and between trees; once it is set, training stops with
/// [`TrainError::Cancelled`].
///
/// # Errors
/// [`TrainError::BadSpec`] for a request that is malformed whatever the data (fold
/// count outside 2..=10, no algorithms, `max_model` 0, validation percentage outside
/// 0..=90); [`TrainError::Invalid`] when the request does not fit the data (unknown
/// target or feature, a single class, an evaluator that does not apply, too few rows);
/// [`TrainError::Cancelled`]; [`TrainError::Failed`] for a numerical breakdown.
pub fn train(
    frame: &Frame,
    spec: &TrainSpec,
    progress: &mut dyn FnMut(f64, &str),
    cancel: &AtomicBool,
) -> Result<TrainedExperiment, TrainError> {
    let algos = check_spec(spec)?;
    let task = Task::prepare(frame, spec)?;
    let total = (algos.len() * (spec.nfold + 1)) as f64;
    let mut done = 0.0;
    progress(0.0, "data prepared");
    let mut report = |message: &str| {
        done += 1.0;
        progress((done / total).min(1.0), message);
    };
    let mut models = Vec::with_capacity(algos.len());
    for (index, &algo) in algos.iter().enumerate() {
        let seed = Rng::derive(spec.seed, index as u64 + 1).next_u64();
        models.push(train_algo(frame, &task, algo, seed, &mut report, cancel)?);
    }
    keep_common_metrics(&mut models);
    Ok(TrainedExperiment {
        target: spec.target.clone(),
        model_type: task.model_type,
        evaluator: task.evaluator,
        features: task.features,
        nfold: spec.nfold,
        seed: spec.seed,
        models,
    })
}

/// Keeps only the metrics that every model reports. A client ranks models by one
/// metric; the Decanter SDK fails outright (a `KeyError`) when some model lacks it, so a
/// metric undefined for one model is left out for all of them.
fn keep_common_metrics(models: &mut [TrainedModel]) {
    keep_common_keys(models.iter_mut().map(|m| &mut m.cv_averages).collect());
    keep_common_keys(
        models
            .iter_mut()
            .map(|m| &mut m.validation_scores)
            .collect(),
    );
}

/// Removes from every map the keys that some map lacks.
fn keep_common_keys(mut maps: Vec<&mut Scores>) {
    let Some(first) = maps.first() else {
        return;
    };
    let common: Vec<String> = first
        .keys()
        .filter(|name| maps.iter().all(|m| m.contains_key(*name)))
        .cloned()
        .collect();
    for map in &mut maps {
        map.retain(|name, _| common.contains(name));
    }
}

/// The distinct algorithms to train, after checking the data-independent parts of
/// `spec`.
fn check_spec(spec: &TrainSpec) -> Result<Vec<Algo>, TrainError> {
    if !(2..=10).contains(&spec.nfold) {
        return Err(TrainError::BadSpec(format!(
            "nfold must be between 2 and 10, not {}",
            spec.nfold
        )));
    }
    if let Some(pct) = spec.validation_percentage {
        if !(0.0..=90.0).contains(&pct) {
            return Err(TrainError::BadSpec(format!(
                "validation_percentage must be between 0 and 90, not {pct}"
            )));
        }
    }
    if spec.max_model == Some(0) {
        return Err(TrainError::BadSpec("max_model must be at least 1".into()));
    }
    let mut algos: Vec<Algo> = Vec::new();
    for &algo in &spec.algos {
        if !algos.contains(&algo) {
            algos.push(algo);
        }
    }
    if algos.is_empty() {
        return Err(TrainError::BadSpec(format!(
            "no algorithm to train (use {})",
            trained_phrase(", ")
        )));
    }
    algos.truncate(spec.max_model.unwrap_or(usize::MAX));
    Ok(algos)
}

/// Cross-validates `algo`, then fits and scores its final model.
fn train_algo(
    frame: &Frame,
    task: &Task,
    algo: Algo,
    seed: u64,
    report: &mut dyn FnMut(&str),
    cancel: &AtomicBool,
) -> Result<TrainedModel, TrainError> {
    let k = task.folds.len();
    let mut fold_scores = Vec::with_capacity(k);
    for fold in 0..k {
        check_cancel(cancel)?;
        let training: Vec<usize> = (0..k)
            .filter(|&f| f != fold)
            .flat_map(|f| task.folds[f].iter().copied())
            .collect();
        let fold_seed = Rng::derive(seed, fold as u64).next_u64();
        let fitted = fit(frame, task, algo, &training, fold_seed, cancel)?;
        fold_scores.push(score(frame, task, &fitted, &task.folds[fold])?);
        report(&format!("{algo} fold {}/{k}", fold + 1));
    }
    check_cancel(cancel)?;
    let fitted = fit(frame, task, algo, &task.training_rows(), seed, cancel)?;
    let validation_scores = if task.validation_rows.is_empty() {
        BTreeMap::new()
    } else {
        score(frame, task, &fitted, &task.validation_rows)?
    };
    report(&format!("{algo} final model"));
    Ok(TrainedModel {
        algo,
        cv_averages: average(&fold_scores),
        validation_scores,
        target: task.target_name.clone(),
        seed: task.seed,
        model_type: task.model_type,
        classes: task.classes.clone(),
        fitted,
    })
}

fn check_cancel(cancel: &AtomicBool) -> Result<(), TrainError> {
    if cancel.load(Ordering::Relaxed) {
        Err(TrainError::Cancelled)
    } else {
        Ok(())
    }
}

/// Learns the encoding and fits `algo` on rows `rows`.
fn fit(
    frame: &Frame,
    task: &Task,
    algo: Algo,
    rows: &[usize],
    seed: u64,
    cancel: &AtomicBool,
) -> Result<Fitted, TrainError> {
    let internal = |e: super::error::PredictError| TrainError::Failed(e.to_string());
    let encoder = Encoder::fit(frame, &task.features, rows).map_err(internal)?;
    let x = encoder.transform(frame, rows).map_err(internal)?;
    let engine = match &task.target {
        Target::Values(y) => {
            let y: Vec<f64> = rows.iter().map(|&r| y[r]).collect();
            fit_engine(algo, &x, Labels::Values(&y), seed, cancel)?
        }
        Target::Classes(c) => {
            let labels: Vec<usize> = rows.iter().map(|&r| c[r]).collect();
            let labels = Labels::Classes(&labels, task.classes.len());
            fit_engine(algo, &x, labels, seed, cancel)?
        }
    };
    Ok(Fitted::new(encoder, engine, &x))
}

/// Fits `algo` on the encoded rows `x` and their `labels` (values or classes).
pub(crate) fn fit_engine(
    algo: Algo,
    x: &Matrix,
    labels: Labels<'_>,
    seed: u64,
    cancel: &AtomicBool,
) -> Result<Engine, TrainError> {
    Ok(match (algo, labels) {
        (Algo::Glm, Labels::Values(y)) => {
            Engine::Glm(Glm::fit_linear(x, y).ok_or_else(glm_failed)?)
        }
        (Algo::Glm, Labels::Classes(c, 2)) => {
            Engine::Glm(Glm::fit_logistic(x, c).ok_or_else(glm_failed)?)
        }
        (Algo::Glm, Labels::Classes(c, k)) => {
            Engine::Glm(Glm::fit_softmax(x, c, k).ok_or_else(glm_failed)?)
        }
        (Algo::Glm, Labels::Newton { .. }) => {
            return Err(TrainError::Failed("GLM: no residual targets".into()))
        }
        (Algo::Drf, labels) => Engine::Drf(Forest::fit(x, labels, seed, cancel)?),
        (Algo::Gbm, labels) => Engine::Gbm(Gbm::fit(x, labels, seed, cancel)?),
    })
}

fn glm_failed() -> TrainError {
    TrainError::Failed("GLM: the normal equations hold non-finite values".into())
}

/// The metrics of `fitted` on rows `rows`.
fn score(
    frame: &Frame,
    task: &Task,
    fitted: &Fitted,
    rows: &[usize],
) -> Result<Scores, TrainError> {
    let output = fitted
        .predict(frame, rows)
        .map_err(|e| TrainError::Failed(e.to_string()))?;
    Ok(match (output, &task.target) {
        (Output::Values(pred), Target::Values(y)) => {
            let y: Vec<f64> = rows.iter().map(|&r| y[r]).collect();
            regression_scores(&y, &pred)
        }
        (Output::Probs(probs), Target::Classes(c)) => {
            let labels: Vec<usize> = rows.iter().map(|&r| c[r]).collect();
            classification_scores(&labels, &probs, task.model_type)
        }
        _ => {
            return Err(TrainError::Failed(
                "model output does not match the target type".into(),
            ))
        }
    })
}

#[cfg(test)]
mod common_metric_tests {
    use super::*;

    #[test]
    fn a_metric_one_model_lacks_is_left_out_for_all() {
        let score = |pairs: &[(&str, f64)]| -> Scores {
            pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        };
        let mut a = score(&[("mse", 1.0), ("rmsle", 0.1), ("mape", 0.2)]);
        let mut b = score(&[("mse", 2.0), ("mape", 0.3)]);
        let mut c = score(&[("mse", 3.0), ("rmsle", 0.2), ("mape", 0.1)]);
        keep_common_keys(vec![&mut a, &mut b, &mut c]);
        for map in [&a, &b, &c] {
            assert_eq!(map.keys().collect::<Vec<_>>(), ["mape", "mse"]);
        }
        assert_eq!(a["mse"], 1.0);
        keep_common_keys(Vec::new());
    }
}
