//! Classification metrics from true class indices, predicted classes and class
//! probabilities. Each is `None` where it is undefined: on no rows, and in the cases
//! each function names.

use super::super::linalg::Matrix;
use super::regression::mean;

/// Probabilities are clipped to `[EPS, 1 - EPS]` before taking logs.
const EPS: f64 = 1e-15;

/// Share of the rows, by decreasing positive-class probability, in the top group of
/// `lift_top_group` (at least one row).
const TOP_GROUP: f64 = 0.01;

/// The probability each row gives its true class (0 for a class past the row's end).
pub(crate) fn true_class_probs(labels: &[usize], probs: &Matrix) -> Vec<f64> {
    let p = |(i, &l): (usize, &usize)| probs.row(i).get(l).copied().unwrap_or(0.0);
    labels.iter().enumerate().map(p).collect()
}

/// Mean of `−ln p(true class)`, probabilities clipped to `[1e-15, 1 − 1e-15]`.
pub(crate) fn logloss(p_true: &[f64]) -> Option<f64> {
    let terms = p_true.iter().map(|p| -p.clamp(EPS, 1.0 - EPS).ln());
    mean(terms, p_true.len())
}

/// Mean squared error of the true class's probability, `mean((1 − p_true)²)`.
pub(crate) fn mse_true_class(p_true: &[f64]) -> Option<f64> {
    mean(p_true.iter().map(|p| (1.0 - p).powi(2)), p_true.len())
}

/// Fraction of rows whose predicted class differs from the true one.
pub(crate) fn misclassification(labels: &[usize], predicted: &[usize]) -> Option<f64> {
    let wrong = labels
        .iter()
        .zip(predicted)
        .map(|(a, b)| f64::from(u8::from(a != b)));
    mean(wrong, labels.len())
}

/// Mean over the classes that occur in `labels` of the fraction of that class's rows
/// predicted as another class.
pub(crate) fn mean_per_class_error(labels: &[usize], predicted: &[usize]) -> Option<f64> {
    let classes = labels.iter().max().map_or(0, |&m| m + 1);
    let mut rows = vec![0usize; classes];
    let mut wrong = vec![0usize; classes];
    for (&l, &p) in labels.iter().zip(predicted) {
        rows[l] += 1;
        wrong[l] += usize::from(l != p);
    }
    let present: Vec<usize> = (0..classes).filter(|&c| rows[c] > 0).collect();
    let rate = |&c: &usize| wrong[c] as f64 / rows[c] as f64;
    mean(present.iter().map(rate), present.len())
}

/// Area under the ROC curve by the rank-sum (Mann-Whitney) formula, tied scores
/// sharing their average rank; undefined unless both classes occur.
pub(crate) fn auc(positive: &[bool], scores: &[f64]) -> Option<f64> {
    let n_pos = positive.iter().filter(|&&p| p).count() as f64;
    let n_neg = positive.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return None;
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
    Some((rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg))
}

/// The positive rate among the top 1% of rows by `scores` (at least one row; equal
/// scores keep row order) divided by the overall positive rate; undefined without
/// positives.
pub(crate) fn lift_top_group(positive: &[bool], scores: &[f64]) -> Option<f64> {
    let n = positive.len();
    let n_pos = positive.iter().filter(|&&p| p).count();
    if n_pos == 0 {
        return None;
    }
    let top = ((n as f64 * TOP_GROUP) as usize).max(1);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let hits = order[..top].iter().filter(|&&i| positive[i]).count();
    Some((hits as f64 / top as f64) / (n_pos as f64 / n as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn auc_counts_ties_as_half() {
        // Pairs (pos, neg): (0.8, 0.1) win, (0.8, 0.4) win, (0.4, 0.1) win, (0.4, 0.4) tie.
        let positive = [true, true, false, false];
        let scores = [0.8, 0.4, 0.4, 0.1];
        assert!(close(auc(&positive, &scores), 3.5 / 4.0));
        assert_eq!(auc(&[true, false], &[0.5, 0.5]), Some(0.5));
        assert_eq!(auc(&[true, true], &[0.1, 0.9]), None);
    }

    #[test]
    fn logloss_clips_certain_mistakes() {
        let expected = (-(1e-15f64).ln() - 0.5f64.ln()) / 2.0;
        assert!((logloss(&[0.0, 0.5]).unwrap() - expected).abs() < 1e-9);
        assert_eq!(logloss(&[]), None);
    }

    #[test]
    fn mse_of_the_true_class_probability() {
        let mut probs = Matrix::zeros(3, 3);
        probs.row_mut(0).copy_from_slice(&[0.5, 0.25, 0.25]);
        probs.row_mut(1).copy_from_slice(&[0.0, 1.0, 0.0]);
        probs.row_mut(2).copy_from_slice(&[0.1, 0.1, 0.8]);
        let p_true = true_class_probs(&[0, 1, 1], &probs);
        assert_eq!(p_true, [0.5, 1.0, 0.1]);
        // (0.25 + 0 + 0.81) / 3.
        assert!(close(mse_true_class(&p_true), 1.06 / 3.0));
    }

    #[test]
    fn mean_per_class_error_weighs_classes_equally() {
        // Class 0: 1 of 4 wrong; class 2: 1 of 1 wrong; class 1 absent.
        let labels = [0, 0, 0, 0, 2];
        let predicted = [0, 0, 0, 1, 0];
        assert!(close(mean_per_class_error(&labels, &predicted), 0.625));
        assert!(close(misclassification(&labels, &predicted), 0.4));
        assert_eq!(mean_per_class_error(&[], &[]), None);
    }

    #[test]
    fn lift_of_the_top_percent() {
        // 200 rows, 50 positives: the top 1% is the 2 best-scored rows.
        let positive: Vec<bool> = (0..200).map(|i| i % 4 == 0).collect();
        let mut scores = vec![0.1; 200];
        scores[0] = 0.9;
        scores[1] = 0.8;
        // One hit of two, over an overall rate of 1/4.
        assert!(close(lift_top_group(&positive, &scores), 2.0));
        scores[4] = 0.85;
        assert!(close(lift_top_group(&positive, &scores), 4.0));
        // Fewer than 100 rows: the single best row; ties keep row order.
        assert!(close(lift_top_group(&[false, true], &[0.5, 0.5]), 0.0));
        assert!(close(lift_top_group(&[false, true], &[0.2, 0.7]), 2.0));
        assert_eq!(lift_top_group(&[false, false], &[0.2, 0.7]), None);
    }
}
