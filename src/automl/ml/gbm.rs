//! Gradient boosting machines: shallow regression trees fitted one after another, each
//! to the residuals (negative gradients) of the loss at the current scores.
//!
//! - Regression: squared loss. A tree fits the residuals `y − F`; a leaf holds their
//!   mean. The initial score is the target's mean.
//! - Binary: logistic loss on the log-odds of the second class. A tree splits on the
//!   residuals `y − p`; a leaf holds the Newton step `Σr / Σp(1 − p)` (as H2O's GBM
//!   does). The initial score is the log-odds of the positive rate.
//! - Multinomial: softmax over one score per class, one tree per class per round, each
//!   leaf the Newton step scaled by `(K − 1) / K` (Friedman's multiclass gradient
//!   boosting). The initial scores are the logs of the class priors.
//!
//! Every tree's contribution is shrunk by the learning rate. Each round grows its trees
//! on a sample of the rows drawn without replacement from the round's own random stream
//! of the seed, so a model is reproducible; the cancel flag is checked before every
//! round. Splits use the histogram trees of [`tree`](super::tree) with every feature
//! as a candidate.

use std::sync::atomic::{AtomicBool, Ordering};

use super::error::TrainError;
use super::glm::{sigmoid, softmax};
use super::linalg::Matrix;
use super::model::Output;
use super::rng::Rng;
use super::tree::{Binned, Labels, Tree, TreeParams, MAX_BINS};

/// Boosting rounds (trees per class).
pub(crate) const NTREES: usize = 50;
/// Shrinkage applied to every tree's output.
pub(crate) const LEARN_RATE: f64 = 0.1;
/// Deepest split level of a tree (the root is depth 0).
pub(crate) const MAX_DEPTH: usize = 5;
/// Fewest training rows in a leaf.
pub(crate) const MIN_ROWS: usize = 10;
/// Share of the rows each round's trees are grown on.
pub(crate) const SAMPLE_RATE: f64 = 0.8;
/// With a tolerance, the rounds over which the training deviance must improve.
pub(crate) const STOPPING_ROUNDS: usize = 3;

/// The loss a model minimises, which decides its outputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Loss {
    /// Squared error on one score.
    Squared,
    /// Logistic loss on the log-odds of the second class.
    Logistic,
    /// Softmax loss over one score per class.
    Softmax(usize),
}

impl Loss {
    /// Scores per row (trees per round).
    fn width(self) -> usize {
        match self {
            Loss::Squared | Loss::Logistic => 1,
            Loss::Softmax(k) => k,
        }
    }

    /// Turns one row's scores into predictions in place: the value, the positive
    /// class's probability, or every class's probability.
    fn link(self, scores: &mut [f64]) {
        match self {
            Loss::Squared => {}
            Loss::Logistic => scores[0] = sigmoid(scores[0]),
            Loss::Softmax(_) => softmax(scores),
        }
    }
}

/// A fitted gradient boosting machine.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Gbm {
    pub(crate) loss: Loss,
    /// The initial score of each output.
    pub(crate) init: Vec<f64>,
    /// `trees[round][output]`.
    pub(crate) trees: Vec<Vec<Tree>>,
}

impl Gbm {
    /// Boosts [`NTREES`] rounds on `x` and `labels` (`Values` or `Classes`), checking
    /// `cancel` before every round.
    ///
    /// # Errors
    /// [`TrainError::Cancelled`] once `cancel` is set.
    #[cfg(test)]
    pub(crate) fn fit(
        x: &Matrix,
        labels: Labels<'_>,
        seed: u64,
        cancel: &AtomicBool,
    ) -> Result<Gbm, TrainError> {
        Gbm::fit_with(x, labels, seed, None, cancel)
    }

    /// [`Gbm::fit`], stopping early with a `tolerance`: after round `r` (from the
    /// [`STOPPING_ROUNDS`]th on), boosting stops when the training deviance fell by less
    /// than `tolerance` times its value [`STOPPING_ROUNDS`] rounds before. H2O stops on
    /// the training metric the same way when no validation frame is given (its
    /// `stopping_tolerance`, here over a window of single rounds rather than moving
    /// averages).
    ///
    /// # Errors
    /// [`TrainError::Cancelled`] once `cancel` is set.
    pub(crate) fn fit_with(
        x: &Matrix,
        labels: Labels<'_>,
        seed: u64,
        tolerance: Option<f64>,
        cancel: &AtomicBool,
    ) -> Result<Gbm, TrainError> {
        let targets = Targets::new(labels, x.rows());
        let loss = targets.loss;
        let init = targets.initial_scores();
        let mut scores = Matrix::zeros(x.rows(), loss.width());
        (0..x.rows()).for_each(|i| scores.row_mut(i).copy_from_slice(&init));
        let data = Binned::new(x);
        let mut trees = Vec::with_capacity(NTREES);
        let mut deviances = vec![targets.deviance(&scores)];
        for round in 0..NTREES {
            if cancel.load(Ordering::Relaxed) {
                return Err(TrainError::Cancelled);
            }
            let mut rng = Rng::derive(seed, round as u64);
            let sample = sample_rows(x.rows(), &mut rng);
            let grown = grow_round(&data, &targets, &scores, &sample, &mut rng);
            add_trees(&mut scores, x, &grown);
            trees.push(grown);
            if let Some(tolerance) = tolerance {
                deviances.push(targets.deviance(&scores));
                let r = deviances.len() - 1;
                if r >= STOPPING_ROUNDS {
                    let before = deviances[r - STOPPING_ROUNDS];
                    if before - deviances[r] < tolerance * before.abs() {
                        break;
                    }
                }
            }
        }
        Ok(Gbm { loss, init, trees })
    }

    /// Predicts every row of `x`: values for regression, class probabilities otherwise.
    pub(crate) fn predict(&self, x: &Matrix) -> Output {
        let mut scores = Matrix::zeros(x.rows(), self.loss.width());
        (0..x.rows()).for_each(|i| scores.row_mut(i).copy_from_slice(&self.init));
        self.trees.iter().for_each(|t| add_trees(&mut scores, x, t));
        (0..x.rows()).for_each(|i| self.loss.link(scores.row_mut(i)));
        match self.loss {
            Loss::Squared => Output::Values(scores.iter_rows().map(|r| r[0]).collect()),
            Loss::Logistic => {
                let mut probs = Matrix::zeros(x.rows(), 2);
                for (i, p) in scores.iter_rows().enumerate() {
                    probs.row_mut(i).copy_from_slice(&[1.0 - p[0], p[0]]);
                }
                Output::Probs(probs)
            }
            Loss::Softmax(_) => Output::Probs(scores),
        }
    }

    /// Adds every split's gain to `out[feature]`.
    pub(crate) fn add_gains(&self, out: &mut [f64]) {
        self.trees.iter().flatten().for_each(|t| t.add_gains(out));
    }

    /// The boosting settings, by their H2O names.
    pub(crate) fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("ntrees", self.trees.len() as f64),
            ("learn_rate", LEARN_RATE),
            ("max_depth", MAX_DEPTH as f64),
            ("min_rows", MIN_ROWS as f64),
            ("sample_rate", SAMPLE_RATE),
            ("nbins", MAX_BINS as f64),
        ]
    }
}

/// The training targets and the loss they call for.
struct Targets<'a> {
    loss: Loss,
    labels: Labels<'a>,
    rows: usize,
}

impl<'a> Targets<'a> {
    fn new(labels: Labels<'a>, rows: usize) -> Targets<'a> {
        let loss = match labels {
            Labels::Classes(_, 2) => Loss::Logistic,
            Labels::Classes(_, k) => Loss::Softmax(k),
            _ => Loss::Squared,
        };
        Targets { loss, labels, rows }
    }

    /// Target of output `k` for row `i`: the value, or 1 for the row's class.
    fn target(&self, i: usize, k: usize) -> f64 {
        match (self.labels, self.loss) {
            (Labels::Values(y), _) => y[i],
            (Labels::Classes(c, _), Loss::Logistic) => f64::from(u8::from(c[i] == 1)),
            (Labels::Classes(c, _), _) => f64::from(u8::from(c[i] == k)),
            _ => 0.0,
        }
    }

    /// The mean target, the log-odds of the positive rate or the log class priors
    /// (smoothed by half a row so that no score is infinite).
    fn initial_scores(&self) -> Vec<f64> {
        let n = self.rows as f64;
        let width = self.loss.width();
        let total = |k: usize| (0..self.rows).map(|i| self.target(i, k)).sum::<f64>();
        match self.loss {
            Loss::Squared => vec![if n > 0.0 { total(0) / n } else { 0.0 }],
            Loss::Logistic => {
                let rate = (total(0) + 0.5) / (n + 1.0);
                vec![(rate / (1.0 - rate)).ln()]
            }
            Loss::Softmax(_) => (0..width)
                .map(|k| ((total(k) + 0.5) / (n + 0.5 * width as f64)).ln())
                .collect(),
        }
    }

    /// The mean training deviance at `scores`: the squared error for regression, twice
    /// the log loss of the true class otherwise.
    fn deviance(&self, scores: &Matrix) -> f64 {
        let width = self.loss.width();
        let mut p = vec![0.0; width];
        let mut total = 0.0;
        for i in 0..self.rows {
            p.copy_from_slice(scores.row(i));
            self.loss.link(&mut p);
            total += match self.loss {
                Loss::Squared => (self.target(i, 0) - p[0]).powi(2),
                Loss::Logistic => {
                    let q = if self.target(i, 0) > 0.5 {
                        p[0]
                    } else {
                        1.0 - p[0]
                    };
                    -2.0 * q.max(1e-15).ln()
                }
                Loss::Softmax(k) => {
                    let class = (0..k).find(|&c| self.target(i, c) > 0.5).unwrap_or(0);
                    -2.0 * p[class].max(1e-15).ln()
                }
            };
        }
        total / self.rows.max(1) as f64
    }

    /// Per output, the residuals `target − prediction` at `scores` and the loss's
    /// second derivatives (1 for squared loss, `p(1 − p)` otherwise), per row.
    fn gradients(&self, scores: &Matrix) -> Vec<(Vec<f64>, Vec<f64>)> {
        let width = self.loss.width();
        let empty = (Vec::with_capacity(self.rows), Vec::with_capacity(self.rows));
        let mut out = vec![empty; width];
        let mut p = vec![0.0; width];
        for i in 0..self.rows {
            p.copy_from_slice(scores.row(i));
            self.loss.link(&mut p);
            for (k, (r, h)) in out.iter_mut().enumerate() {
                r.push(self.target(i, k) - p[k]);
                h.push(match self.loss {
                    Loss::Squared => 1.0,
                    _ => p[k] * (1.0 - p[k]),
                });
            }
        }
        out
    }
}

/// One tree per output, grown on the rows `sample` against the current `scores`.
fn grow_round(
    data: &Binned,
    targets: &Targets<'_>,
    scores: &Matrix,
    sample: &[u32],
    rng: &mut Rng,
) -> Vec<Tree> {
    let params = TreeParams {
        max_depth: MAX_DEPTH,
        min_leaf: MIN_ROWS,
        mtry: usize::MAX, // every feature
    };
    let scale = match targets.loss {
        Loss::Softmax(k) => (k - 1) as f64 / k as f64,
        _ => 1.0,
    };
    targets
        .gradients(scores)
        .iter()
        .map(|(residuals, hessians)| {
            let labels = match targets.loss {
                Loss::Squared => Labels::Values(residuals),
                _ => Labels::Newton {
                    residuals,
                    hessians,
                    scale,
                },
            };
            Tree::grow(data, labels, &mut sample.to_vec(), params, rng)
        })
        .collect()
}

/// Adds the learning rate times each tree's output to its column of `scores`.
fn add_trees(scores: &mut Matrix, x: &Matrix, trees: &[Tree]) {
    for (i, row) in x.iter_rows().enumerate() {
        let out = scores.row_mut(i);
        for (k, tree) in trees.iter().enumerate() {
            out[k] += LEARN_RATE * tree.predict_row(row).first().copied().unwrap_or(0.0);
        }
    }
}

/// `SAMPLE_RATE` of the rows `0..n` (at least one), drawn without replacement, sorted.
fn sample_rows(n: usize, rng: &mut Rng) -> Vec<u32> {
    let m = ((n as f64 * SAMPLE_RATE).round() as usize).clamp(n.min(1), n);
    let mut rows: Vec<u32> = (0..n as u32).collect();
    for i in 0..m {
        let j = i + rng.below(n - i);
        rows.swap(i, j);
    }
    rows.truncate(m);
    rows.sort_unstable();
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 20 × 20 grid of `(x0, x1)` in `[0, 1)²`.
    fn grid() -> Matrix {
        let mut x = Matrix::zeros(400, 2);
        for i in 0..400 {
            let (a, b) = ((i % 20) as f64 / 20.0, (i / 20) as f64 / 20.0);
            x.row_mut(i).copy_from_slice(&[a, b]);
        }
        x
    }

    fn fit(x: &Matrix, labels: Labels<'_>, seed: u64) -> Gbm {
        Gbm::fit(x, labels, seed, &AtomicBool::new(false)).unwrap()
    }

    #[test]
    fn regression_fits_a_bump() {
        let x = grid();
        let y: Vec<f64> = x
            .iter_rows()
            .map(|r| (6.0 * r[0]).sin() + 4.0 * (r[1] - 0.5).powi(2))
            .collect();
        let Output::Values(pred) = fit(&x, Labels::Values(&y), 1).predict(&x) else {
            panic!("regression predicts values")
        };
        let mse = pred
            .iter()
            .zip(&y)
            .map(|(p, t)| (p - t).powi(2))
            .sum::<f64>()
            / 400.0;
        assert!(mse < 0.02, "training mse {mse}");
    }

    #[test]
    fn classifiers_give_probabilities_that_separate() {
        let x = grid();
        let two: Vec<usize> = x.iter_rows().map(|r| usize::from(r[0] > r[1])).collect();
        let Output::Probs(p) = fit(&x, Labels::Classes(&two, 2), 2).predict(&x) else {
            panic!("classifiers predict probabilities")
        };
        let right = (0..400)
            .filter(|&i| (p.row(i)[1] >= 0.5) == (two[i] == 1))
            .count();
        assert!(right >= 380, "{right} of 400");
        let three: Vec<usize> = x.iter_rows().map(|r| (r[0] * 3.0) as usize).collect();
        let Output::Probs(p) = fit(&x, Labels::Classes(&three, 3), 3).predict(&x) else {
            panic!("classifiers predict probabilities")
        };
        for (i, row) in p.iter_rows().enumerate() {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            let best = (0..3).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            assert_eq!(best, three[i], "row {i}: {row:?}");
        }
    }

    #[test]
    fn same_seed_same_model_and_cancel_stops_it() {
        let x = grid();
        let c: Vec<usize> = x
            .iter_rows()
            .map(|r| usize::from(r[0] + r[1] > 1.0))
            .collect();
        let a = fit(&x, Labels::Classes(&c, 2), 5);
        assert_eq!(a, fit(&x, Labels::Classes(&c, 2), 5));
        assert_ne!(a, fit(&x, Labels::Classes(&c, 2), 6));
        assert_eq!(a.trees.len(), NTREES);
        let stopped = Gbm::fit(&x, Labels::Classes(&c, 2), 5, &AtomicBool::new(true));
        assert_eq!(stopped, Err(TrainError::Cancelled));
    }

    #[test]
    fn rounds_sample_without_replacement() {
        let rows = sample_rows(100, &mut Rng::new(1));
        assert_eq!(rows.len(), 80);
        assert!(rows.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(sample_rows(1, &mut Rng::new(1)), [0]);
        assert!(sample_rows(0, &mut Rng::new(1)).is_empty());
    }

    #[test]
    fn initial_scores_match_the_priors() {
        let c = [0, 1, 1, 1];
        let targets = Targets::new(Labels::Classes(&c, 2), 4);
        // (3 + 0.5) / (4 + 1) = 0.7.
        assert!((targets.initial_scores()[0] - (0.7f64 / 0.3).ln()).abs() < 1e-12);
        let y = [1.0, 2.0, 6.0];
        assert_eq!(Targets::new(Labels::Values(&y), 3).initial_scores(), [3.0]);
    }
}
