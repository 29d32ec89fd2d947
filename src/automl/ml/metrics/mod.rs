//! Scoring predictions: the metrics reported in `cv_averages` and `validation_scores`.
//!
//! Every metric of the model type ([`ModelType::metrics`]) is computed; one that is
//! undefined for the rows scored (`r2` with a constant target, `mape` with a zero
//! target, `auc` with a single class, ...) or not finite is left out of the map, never
//! stored as NaN. Averages over folds take each metric over the folds that define it.

mod classification;
mod regression;

use std::collections::BTreeMap;

use super::linalg::Matrix;
use super::spec::{Evaluator, ModelType};
#[cfg(test)]
pub(crate) use regression::r2;

/// Metric name → value.
pub(crate) type Scores = BTreeMap<String, f64>;

/// The metrics of `model_type` that `value` defines, in a map by name.
fn collect(model_type: ModelType, value: impl Fn(Evaluator) -> Option<f64>) -> Scores {
    let defined = |&e: &Evaluator| {
        let v = value(e).filter(|v| v.is_finite())?;
        Some((e.as_str().to_owned(), v))
    };
    model_type.metrics().iter().filter_map(defined).collect()
}

/// Regression metrics of predictions `pred` against targets `y`.
pub(crate) fn regression_scores(y: &[f64], pred: &[f64]) -> Scores {
    use regression::*;
    let mse = mse(y, pred);
    collect(ModelType::Regression, |e| match e {
        Evaluator::Deviance | Evaluator::Mse => mse,
        Evaluator::Rmse => mse.map(f64::sqrt),
        Evaluator::Mae => mae(y, pred),
        Evaluator::Rmsle => rmsle(y, pred),
        Evaluator::R2 => r2(y, pred),
        Evaluator::Mape => mape(y, pred),
        Evaluator::Wmape => wmape(y, pred),
        _ => None,
    })
}

/// Classification metrics for `model_type` from the true classes `labels` and the
/// class probabilities `probs` (one row per label). Classes are predicted as by
/// [`choose_class`] with the default threshold; for a binary model the second class is
/// the positive one.
pub(crate) fn classification_scores(
    labels: &[usize],
    probs: &Matrix,
    model_type: ModelType,
) -> Scores {
    use classification::*;
    let predicted: Vec<usize> = probs.iter_rows().map(|r| choose_class(r, None)).collect();
    let p_true = true_class_probs(labels, probs);
    let positive: Vec<bool> = labels.iter().map(|&l| l == 1).collect();
    let p1: Vec<f64> = probs
        .iter_rows()
        .map(|r| r.get(1).copied().unwrap_or(0.0))
        .collect();
    let mse = mse_true_class(&p_true);
    collect(model_type, |e| match e {
        Evaluator::Logloss => logloss(&p_true),
        Evaluator::Auc => auc(&positive, &p1),
        Evaluator::Misclassification => misclassification(labels, &predicted),
        Evaluator::MeanPerClassError => mean_per_class_error(labels, &predicted),
        Evaluator::LiftTopGroup => lift_top_group(&positive, &p1),
        Evaluator::Mse => mse,
        Evaluator::Rmse => mse.map(f64::sqrt),
        _ => None,
    })
}

/// The predicted class of one probability row: for two classes the second when its
/// probability reaches `threshold` (default 0.5), otherwise the most probable (first on
/// ties).
pub(crate) fn choose_class(probs: &[f64], threshold: Option<f64>) -> usize {
    if probs.len() == 2 {
        return usize::from(probs[1] >= threshold.unwrap_or(0.5));
    }
    let mut best = 0;
    for (k, &p) in probs.iter().enumerate() {
        if p > probs[best] {
            best = k;
        }
    }
    best
}

/// Per metric, the mean over the `folds` that define it; a metric no fold defines is
/// left out.
pub(crate) fn average(folds: &[Scores]) -> Scores {
    let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for (name, &value) in folds.iter().flatten() {
        if value.is_finite() {
            let entry = sums.entry(name.clone()).or_insert((0.0, 0));
            *entry = (entry.0 + value, entry.1 + 1);
        }
    }
    let mean = |(name, (sum, n)): (String, (f64, usize))| (name, sum / n as f64);
    sums.into_iter().map(mean).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probs(rows: &[&[f64]]) -> Matrix {
        let mut m = Matrix::zeros(rows.len(), rows[0].len());
        rows.iter()
            .enumerate()
            .for_each(|(i, r)| m.row_mut(i).copy_from_slice(r));
        m
    }

    fn names(scores: &Scores) -> Vec<&str> {
        scores.keys().map(String::as_str).collect()
    }

    #[test]
    fn regression_metrics_by_hand() {
        let y = [1.0, 2.0, 3.0, 4.0];
        let pred = [1.0, 2.0, 3.0, 6.0];
        let s = regression_scores(&y, &pred);
        assert_eq!(s["deviance"], 1.0);
        assert_eq!(s["mse"], 1.0);
        assert_eq!(s["rmse"], 1.0);
        assert_eq!(s["mae"], 0.5);
        // SS_tot = 5, SS_res = 4.
        assert!((s["r2"] - 0.2).abs() < 1e-12);
        assert!((s["mape"] - 0.125).abs() < 1e-12);
        assert!((s["wmape"] - 0.2).abs() < 1e-12);
        assert!(s["rmsle"] > 0.0);
        assert_eq!(s.len(), 8);
    }

    #[test]
    fn undefined_regression_metrics_are_left_out() {
        let s = regression_scores(&[0.0, 0.0], &[1.0, -2.0]);
        assert_eq!(names(&s), ["deviance", "mae", "mse", "rmse"]);
        assert!(regression_scores(&[], &[]).is_empty());
    }

    #[test]
    fn binary_scores_and_class_choice() {
        let p = probs(&[&[0.9, 0.1], &[0.3, 0.7], &[0.6, 0.4]]);
        let s = classification_scores(&[0, 1, 1], &p, ModelType::Binary);
        assert!((s["misclassification"] - 1.0 / 3.0).abs() < 1e-12);
        // Class 0 all right, class 1 half wrong.
        assert!((s["mean_per_class_error"] - 0.25).abs() < 1e-12);
        assert_eq!(s["auc"], 1.0);
        // The best-scored row is positive; 2 of 3 rows are.
        assert!((s["lift_top_group"] - 1.5).abs() < 1e-12);
        // (0.1² + 0.3² + 0.6²) / 3.
        assert!((s["mse"] - 0.46 / 3.0).abs() < 1e-12);
        assert!((s["rmse"] - (0.46f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.len(), 7);
        assert_eq!(choose_class(&[0.5, 0.5], None), 1);
        assert_eq!(choose_class(&[0.7, 0.3], Some(0.25)), 1);
        assert_eq!(choose_class(&[0.2, 0.5, 0.3], None), 1);
    }

    #[test]
    fn single_class_folds_leave_out_auc_and_lift() {
        let p = probs(&[&[0.9, 0.1], &[0.6, 0.4]]);
        let s = classification_scores(&[0, 0], &p, ModelType::Binary);
        assert_eq!(
            names(&s),
            [
                "logloss",
                "mean_per_class_error",
                "misclassification",
                "mse",
                "rmse"
            ]
        );
    }

    #[test]
    fn multinomial_scores() {
        let m = classification_scores(&[2], &probs(&[&[0.2, 0.3, 0.5]]), ModelType::Multinomial);
        assert_eq!(
            names(&m),
            [
                "logloss",
                "mean_per_class_error",
                "misclassification",
                "mse",
                "rmse"
            ]
        );
        assert!((m["mse"] - 0.25).abs() < 1e-12);
        assert!((m["logloss"] + 0.5f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn averages_skip_folds_without_the_metric() {
        let fold = |r2: Option<f64>| {
            let mut s = Scores::from([("mse".to_owned(), 1.0)]);
            s.extend(r2.map(|v| ("r2".to_owned(), v)));
            s
        };
        let avg = average(&[fold(Some(0.5)), fold(None), fold(Some(0.7))]);
        assert!((avg["r2"] - 0.6).abs() < 1e-12);
        assert_eq!(avg["mse"], 1.0);
        assert!(!average(&[fold(None)]).contains_key("r2"));
    }
}
