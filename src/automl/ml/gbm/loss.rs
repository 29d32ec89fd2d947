//! The losses a boosted model minimises, and the training targets that give each row's
//! gradient and hessian under them.

use super::super::glm::{sigmoid, softmax};
use super::super::tree::Labels;

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
    pub(crate) fn width(self) -> usize {
        match self {
            Loss::Squared | Loss::Logistic => 1,
            Loss::Softmax(k) => k,
        }
    }

    /// Turns one row's scores into predictions in place: the value, the positive
    /// class's probability, or every class's probability.
    pub(super) fn link(self, scores: &mut [f64]) {
        match self {
            Loss::Squared => {}
            Loss::Logistic => scores[0] = sigmoid(scores[0]),
            Loss::Softmax(_) => softmax(scores),
        }
    }
}

/// The training targets and the loss they call for.
pub(super) struct Targets<'a> {
    pub(super) loss: Loss,
    labels: Labels<'a>,
}

impl<'a> Targets<'a> {
    pub(super) fn new(labels: Labels<'a>) -> Targets<'a> {
        let loss = match labels {
            Labels::Classes(_, 2) => Loss::Logistic,
            Labels::Classes(_, k) => Loss::Softmax(k),
            Labels::Values(_) => Loss::Squared,
        };
        Targets { loss, labels }
    }

    /// Target of output `k` for data row `i`: the value, or 1 for the row's class.
    pub(super) fn target(&self, i: usize, k: usize) -> f64 {
        match (self.labels, self.loss) {
            (Labels::Values(y), _) => y[i],
            (Labels::Classes(c, _), Loss::Logistic) => f64::from(u8::from(c[i] == 1)),
            (Labels::Classes(c, _), _) => f64::from(u8::from(c[i] == k)),
        }
    }

    /// The mean target of `rows`, the log-odds of their positive rate or their log
    /// class priors (smoothed by half a row so that no score is infinite).
    pub(super) fn initial_scores(&self, rows: &[u32]) -> Vec<f64> {
        let n = rows.len() as f64;
        let width = self.loss.width();
        let total = |k: usize| {
            rows.iter()
                .map(|&i| self.target(i as usize, k))
                .sum::<f64>()
        };
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

    /// The mean deviance of `rows` at `scores`: the squared error for regression, twice
    /// the log loss of the true class otherwise.
    pub(super) fn deviance(&self, rows: &[u32], scores: &[f64]) -> f64 {
        let width = self.loss.width();
        let mut p = vec![0.0; width];
        let mut total = 0.0;
        for &i in rows {
            let i = i as usize;
            p.copy_from_slice(&scores[i * width..(i + 1) * width]);
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
        total / rows.len().max(1) as f64
    }

    /// Fills, for every row of `rows` and output `k`, `grad[k][row]` with the loss's
    /// gradient (prediction − target) and `hess[k][row]` with its second derivative.
    pub(super) fn gradients(
        &self,
        rows: &[u32],
        scores: &[f64],
        grad: &mut [Vec<f64>],
        hess: &mut [Vec<f64>],
    ) {
        let width = self.loss.width();
        let factor = match self.loss {
            Loss::Softmax(k) => k as f64 / (k - 1) as f64,
            _ => 1.0,
        };
        let mut p = vec![0.0; width];
        for &i in rows {
            let i = i as usize;
            p.copy_from_slice(&scores[i * width..(i + 1) * width]);
            self.loss.link(&mut p);
            for k in 0..width {
                grad[k][i] = p[k] - self.target(i, k);
                hess[k][i] = match self.loss {
                    Loss::Squared => 1.0,
                    _ => (factor * p[k] * (1.0 - p[k])).max(1e-16),
                };
            }
        }
    }
}
