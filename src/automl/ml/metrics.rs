//! Scoring predictions: the metrics reported in `cv_averages` and `validation_scores`.
//!
//! A metric that is undefined on some rows (`r2` with a constant target, `auc` with a
//! single class) is NaN; averages over folds skip NaN values.

use std::collections::BTreeMap;

use super::linalg::Matrix;
use super::spec::{Evaluator, ModelType};

/// Probabilities are clipped to `[EPS, 1 - EPS]` before taking logs.
const EPS: f64 = 1e-15;

/// Metric name → value.
pub(crate) type Scores = BTreeMap<String, f64>;

/// Regression metrics: mse, rmse, mae, r2.
pub(crate) fn regression_scores(y: &[f64], pred: &[f64]) -> Scores {
    let mse = mse(y, pred);
    let pairs = [
        (Evaluator::Mse, mse),
        (Evaluator::Rmse, mse.sqrt()),
        (Evaluator::Mae, mae(y, pred)),
        (Evaluator::R2, r2(y, pred)),
    ];
    pairs
        .iter()
        .map(|(e, v)| (e.as_str().to_owned(), *v))
        .collect()
}

/// Classification metrics for `model_type` from class probabilities: logloss and
/// misclassification, plus auc and mse (of the positive-class probability) for binary.
pub(crate) fn classification_scores(
    labels: &[usize],
    probs: &Matrix,
    model_type: ModelType,
) -> Scores {
    let predicted: Vec<usize> = probs.iter_rows().map(|r| choose_class(r, None)).collect();
    let mut scores = Scores::new();
    scores.insert("logloss".into(), logloss(labels, probs));
    scores.insert(
        "misclassification".into(),
        misclassification(labels, &predicted),
    );
    if model_type == ModelType::Binary {
        let positive: Vec<bool> = labels.iter().map(|&l| l == 1).collect();
        let p1: Vec<f64> = probs
            .iter_rows()
            .map(|r| r.get(1).copied().unwrap_or(0.0))
            .collect();
        let y: Vec<f64> = positive.iter().map(|&p| f64::from(u8::from(p))).collect();
        scores.insert("auc".into(), auc(&positive, &p1));
        scores.insert("mse".into(), mse(&y, &p1));
    }
    scores
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

/// Per metric, the mean over `folds` of its non-NaN values (NaN when there are none).
pub(crate) fn average(folds: &[Scores]) -> Scores {
    let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for (name, &value) in folds.iter().flatten() {
        let entry = sums.entry(name.clone()).or_insert((0.0, 0));
        if !value.is_nan() {
            *entry = (entry.0 + value, entry.1 + 1);
        }
    }
    let mean = |(sum, n): (f64, usize)| if n == 0 { f64::NAN } else { sum / n as f64 };
    sums.into_iter()
        .map(|(name, acc)| (name, mean(acc)))
        .collect()
}

/// Mean squared error.
pub(crate) fn mse(y: &[f64], pred: &[f64]) -> f64 {
    mean(y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)), y.len())
}

/// Mean absolute error.
pub(crate) fn mae(y: &[f64], pred: &[f64]) -> f64 {
    mean(y.iter().zip(pred).map(|(a, b)| (a - b).abs()), y.len())
}

/// Coefficient of determination, `1 − SS_res / SS_tot`; NaN for a constant target.
pub(crate) fn r2(y: &[f64], pred: &[f64]) -> f64 {
    let m = mean(y.iter().copied(), y.len());
    let total: f64 = y.iter().map(|v| (v - m).powi(2)).sum();
    let residual: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum();
    if total > 0.0 {
        1.0 - residual / total
    } else {
        f64::NAN
    }
}

/// Mean of `−ln p(true class)`, probabilities clipped to `[1e-15, 1 − 1e-15]`.
pub(crate) fn logloss(labels: &[usize], probs: &Matrix) -> f64 {
    let terms = labels.iter().enumerate().map(|(i, &l)| {
        let p = probs.row(i).get(l).copied().unwrap_or(0.0);
        -p.clamp(EPS, 1.0 - EPS).ln()
    });
    mean(terms, labels.len())
}

/// Fraction of rows whose predicted class differs from the true one.
pub(crate) fn misclassification(labels: &[usize], predicted: &[usize]) -> f64 {
    mean(
        labels
            .iter()
            .zip(predicted)
            .map(|(a, b)| f64::from(u8::from(a != b))),
        labels.len(),
    )
}

/// Area under the ROC curve by the rank-sum (Mann-Whitney) formula, tied scores
/// sharing their average rank; NaN unless both classes occur.
pub(crate) fn auc(positive: &[bool], scores: &[f64]) -> f64 {
    let n_pos = positive.iter().filter(|&&p| p).count() as f64;
    let n_neg = positive.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return f64::NAN;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let average_rank = (start + end + 1) as f64 / 2.0;
        rank_sum +=
            order[start..end].iter().filter(|&&i| positive[i]).count() as f64 * average_rank;
        start = end;
    }
    (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

fn mean(values: impl Iterator<Item = f64>, n: usize) -> f64 {
    if n == 0 {
        return f64::NAN;
    }
    values.sum::<f64>() / n as f64
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

    #[test]
    fn regression_metrics_by_hand() {
        let y = [1.0, 2.0, 3.0, 4.0];
        let pred = [1.0, 2.0, 3.0, 6.0];
        let s = regression_scores(&y, &pred);
        assert_eq!(s["mse"], 1.0);
        assert_eq!(s["rmse"], 1.0);
        assert_eq!(s["mae"], 0.5);
        // SS_tot = 5, SS_res = 4.
        assert!((s["r2"] - 0.2).abs() < 1e-12);
        assert!(r2(&[2.0, 2.0], &[2.0, 2.0]).is_nan());
    }

    #[test]
    fn auc_counts_ties_as_half() {
        // Pairs (pos, neg): (0.8, 0.1) win, (0.8, 0.4) win, (0.4, 0.1) win, (0.4, 0.4) tie.
        let positive = [true, true, false, false];
        let scores = [0.8, 0.4, 0.4, 0.1];
        assert!((auc(&positive, &scores) - 3.5 / 4.0).abs() < 1e-12);
        assert_eq!(auc(&[true, false], &[0.5, 0.5]), 0.5);
        assert!(auc(&[true, true], &[0.1, 0.9]).is_nan());
    }

    #[test]
    fn logloss_clips_certain_mistakes() {
        let p = probs(&[&[0.0, 1.0], &[0.5, 0.5]]);
        let expected = (-(1e-15f64).ln() - 0.5f64.ln()) / 2.0;
        assert!((logloss(&[0, 1], &p) - expected).abs() < 1e-9);
        assert!(logloss(&[0, 1], &p).is_finite());
    }

    #[test]
    fn binary_scores_and_class_choice() {
        let p = probs(&[&[0.9, 0.1], &[0.3, 0.7], &[0.6, 0.4]]);
        let s = classification_scores(&[0, 1, 1], &p, ModelType::Binary);
        assert!((s["misclassification"] - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(s["auc"], 1.0);
        assert_eq!(choose_class(&[0.5, 0.5], None), 1);
        assert_eq!(choose_class(&[0.7, 0.3], Some(0.25)), 1);
        assert_eq!(choose_class(&[0.2, 0.5, 0.3], None), 1);
        let m = classification_scores(&[2], &probs(&[&[0.2, 0.3, 0.5]]), ModelType::Multinomial);
        assert_eq!(
            m.keys().collect::<Vec<_>>(),
            ["logloss", "misclassification"]
        );
    }

    #[test]
    fn averages_skip_nan() {
        let fold = |r2: f64| Scores::from([("r2".to_owned(), r2), ("mse".to_owned(), 1.0)]);
        let avg = average(&[fold(0.5), fold(f64::NAN), fold(0.7)]);
        assert!((avg["r2"] - 0.6).abs() < 1e-12);
        assert!(average(&[fold(f64::NAN)])["r2"].is_nan());
    }
}
