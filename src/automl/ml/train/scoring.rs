//! Scoring a model's predictions into the contract's metrics, and keeping the metrics
//! every model of an experiment reports.

use super::super::error::TrainError;
use super::super::frame::Frame;
use super::super::metrics::{average, classification_scores, regression_scores, Scores};
use super::super::model::{Output, Predictor, TrainedModel};
use super::super::spec::Algo;
use super::task::{Target, Task};

/// Rows scored by the final models into `test_scores`, with their frame and target.
pub(super) struct Scored<'a> {
    pub(super) frame: &'a Frame,
    pub(super) target: &'a Target,
    pub(super) rows: &'a [usize],
}

/// The model `fitted` of `algo`, with the mean of its cross-validation `folds`
/// scores and its scores on the `validation` and `test` rows (empty without rows).
pub(super) fn finished_model(
    task: &Task,
    algo: Algo,
    folds: &[Scores],
    fitted: Predictor,
    validation: &Scored<'_>,
    test: &Scored<'_>,
) -> Result<TrainedModel, TrainError> {
    let scores_on = |scored: &Scored<'_>| match scored.rows {
        [] => Ok(Scores::new()),
        rows => score(scored.frame, task, scored.target, &fitted, rows),
    };
    Ok(TrainedModel {
        algo,
        cv_averages: average(folds),
        validation_scores: scores_on(validation)?,
        test_scores: scores_on(test)?,
        target: task.target_name.clone(),
        seed: task.seed,
        model_type: task.model_type,
        classes: task.classes.clone(),
        fitted,
    })
}

/// Keeps only the metrics that every model reports. A client ranks models by one
/// metric; the Decanter SDK fails outright (a `KeyError`) when some model lacks it, so a
/// metric undefined for one model is left out for all of them.
pub(super) fn keep_common_metrics(models: &mut [TrainedModel]) {
    keep_common_keys(models.iter_mut().map(|m| &mut m.cv_averages).collect());
    keep_common_keys(
        models
            .iter_mut()
            .map(|m| &mut m.validation_scores)
            .collect(),
    );
    keep_common_keys(models.iter_mut().map(|m| &mut m.test_scores).collect());
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

/// The metrics of `fitted` on rows `rows` of `frame`, whose targets are `target`.
pub(super) fn score(
    frame: &Frame,
    task: &Task,
    target: &Target,
    fitted: &Predictor,
    rows: &[usize],
) -> Result<Scores, TrainError> {
    let output = fitted
        .predict(frame, rows)
        .map_err(|e| TrainError::Invalid(e.to_string()))?;
    scores_of(task, target, &output, rows)
}

/// The metrics of `output`, the predictions of rows `rows` whose targets are `target`.
pub(super) fn scores_of(
    task: &Task,
    target: &Target,
    output: &Output,
    rows: &[usize],
) -> Result<Scores, TrainError> {
    Ok(match (output, target) {
        (Output::Values(pred), Target::Values(y)) => {
            let y: Vec<f64> = rows.iter().map(|&r| y[r]).collect();
            regression_scores(&y, pred)
        }
        (Output::Probs(probs), Target::Classes(c)) => {
            let labels: Vec<usize> = rows.iter().map(|&r| c[r]).collect();
            classification_scores(&labels, probs, task.model_type)
        }
        _ => {
            return Err(TrainError::Failed(
                "model output does not match the target type".into(),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
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
