//! Generalized linear models on an encoded design matrix.
//!
//! - Regression: ridge least squares, solved in one step from the normal equations
//!   `(XᵀX + λI) β = Xᵀy` with a tiny λ that only keeps collinear or constant columns
//!   from making the system singular.
//! - Binary: L2-penalised logistic regression by Newton's method (IRLS) with step
//!   halving, so it converges even on perfectly separable data.
//! - Multinomial: L2-penalised softmax regression by block Newton: each sweep takes one
//!   Newton step per class with the other classes held fixed.
//!
//! Every model has an unpenalised intercept, stored first in each coefficient vector.

use std::sync::atomic::{AtomicBool, Ordering};

use super::linalg::{solve_spd, Matrix};
use super::model::Output;

/// Ridge for least squares, relative to the number of rows.
const LINEAR_RIDGE: f64 = 1e-6;
/// Ridge for logistic and softmax regression (absolute; matters only on tiny or
/// separable data).
const LOGISTIC_RIDGE: f64 = 1.0;
const MAX_NEWTON_STEPS: usize = 30;
const TOLERANCE: f64 = 1e-7;
/// Rows summed into a Gram matrix between two looks at the cancel flag.
const CANCEL_ROWS: usize = 256;

/// A fitted GLM.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Glm {
    /// Least squares: intercept then one coefficient per column, and the ridge penalty
    /// it was fitted with.
    Linear {
        /// Intercept, then one coefficient per column.
        beta: Vec<f64>,
        /// The ridge penalty λ.
        lambda: f64,
    },
    /// Logistic regression for the probability of the second class.
    Logistic(Vec<f64>),
    /// Softmax regression: one coefficient vector per class.
    Softmax(Vec<Vec<f64>>),
}

impl Glm {
    /// Fits ridge least squares of `y` on `x`. `None` if the system is singular or
    /// `cancel` was raised (checked while the normal equations are summed).
    pub(crate) fn fit_linear(x: &Matrix, y: &[f64], cancel: &AtomicBool) -> Option<Glm> {
        let lambda = LINEAR_RIDGE * x.rows().max(1) as f64;
        let gram = gram(x, |_| 1.0, lambda, cancel)?;
        let rhs = xt_times(x, |i| y[i]);
        let beta = solve_spd(&gram, &rhs)?;
        Some(Glm::Linear { beta, lambda })
    }

    /// Fits logistic regression of the classes `labels` (0 or 1) on `x`. `None` if a
    /// Newton system is singular or `cancel` was raised (checked at every step and
    /// while each Hessian is summed).
    pub(crate) fn fit_logistic(x: &Matrix, labels: &[usize], cancel: &AtomicBool) -> Option<Glm> {
        let y: Vec<f64> = labels
            .iter()
            .map(|&l| f64::from(u8::from(l == 1)))
            .collect();
        let rate = (y.iter().sum::<f64>() + 0.5) / (y.len() as f64 + 1.0);
        let mut beta = vec![0.0; x.cols() + 1];
        beta[0] = (rate / (1.0 - rate)).ln();
        for _ in 0..MAX_NEWTON_STEPS {
            let p: Vec<f64> = x.iter_rows().map(|row| sigmoid(eta(&beta, row))).collect();
            let hessian = gram(
                x,
                |i| (p[i] * (1.0 - p[i])).max(1e-10),
                LOGISTIC_RIDGE,
                cancel,
            )?;
            let mut grad = xt_times(x, |i| y[i] - p[i]);
            penalise_gradient(&mut grad, &beta);
            let step = solve_spd(&hessian, &grad)?;
            let loss = |b: &[f64]| logistic_loss(x, &y, b);
            if !damped_update(&mut beta, &step, loss) {
                break;
            }
        }
        Some(Glm::Logistic(beta))
    }

    /// Fits softmax regression of `labels` (0 to `classes - 1`) on `x`. `None` if a
    /// Newton system is singular or `cancel` was raised (checked for every class step
    /// and while each Hessian is summed).
    pub(crate) fn fit_softmax(
        x: &Matrix,
        labels: &[usize],
        classes: usize,
        cancel: &AtomicBool,
    ) -> Option<Glm> {
        let n = labels.len() as f64;
        let mut betas = vec![vec![0.0; x.cols() + 1]; classes];
        for (k, beta) in betas.iter_mut().enumerate() {
            let count = labels.iter().filter(|&&l| l == k).count() as f64;
            beta[0] = ((count + 0.5) / (n + 0.5 * classes as f64)).ln();
        }
        for _ in 0..MAX_NEWTON_STEPS {
            let mut moved = false;
            for k in 0..classes {
                moved |= softmax_class_step(x, labels, &mut betas, k, cancel)?;
            }
            if !moved {
                break;
            }
        }
        Some(Glm::Softmax(betas))
    }

    /// Predicts every row of `x`.
    pub(crate) fn predict(&self, x: &Matrix) -> Output {
        match self {
            Glm::Linear { beta, .. } => {
                Output::Values(x.iter_rows().map(|row| eta(beta, row)).collect())
            }
            Glm::Logistic(beta) => {
                let mut probs = Matrix::zeros(x.rows(), 2);
                for (i, row) in x.iter_rows().enumerate() {
                    let p = sigmoid(eta(beta, row));
                    probs.row_mut(i).copy_from_slice(&[1.0 - p, p]);
                }
                Output::Probs(probs)
            }
            Glm::Softmax(betas) => Output::Probs(softmax_probs(x, betas)),
        }
    }

    /// The penalty settings, by their H2O names: `alpha` 0 (a pure ridge penalty) and
    /// `lambda`, the ridge λ on the summed loss (`½ λ ‖β‖²`, intercept unpenalised).
    pub(crate) fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        let lambda = match self {
            Glm::Linear { lambda, .. } => *lambda,
            Glm::Logistic(_) | Glm::Softmax(_) => LOGISTIC_RIDGE,
        };
        vec![("alpha", 0.0), ("lambda", lambda)]
    }

    /// Per column of `x` (the training matrix), `|βⱼ|` times the column's standard
    /// deviation, summed over the coefficient vectors (one per class for softmax).
    pub(crate) fn importances(&self, x: &Matrix) -> Vec<f64> {
        let betas: Vec<&Vec<f64>> = match self {
            Glm::Linear { beta, .. } | Glm::Logistic(beta) => vec![beta],
            Glm::Softmax(betas) => betas.iter().collect(),
        };
        let sd = column_sds(x);
        let weight = |j: usize| betas.iter().map(|b| b[j + 1].abs()).sum::<f64>() * sd[j];
        (0..x.cols()).map(weight).collect()
    }
}

/// The (population) standard deviation of every column of `x`.
fn column_sds(x: &Matrix) -> Vec<f64> {
    let n = x.rows().max(1) as f64;
    let mut sum = vec![0.0; x.cols()];
    x.iter_rows()
        .for_each(|r| sum.iter_mut().zip(r).for_each(|(s, v)| *s += v));
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let mut squares = vec![0.0; x.cols()];
    for row in x.iter_rows() {
        for (j, v) in row.iter().enumerate() {
            squares[j] += (v - mean[j]).powi(2);
        }
    }
    squares.iter().map(|s| (s / n).sqrt()).collect()
}

/// One Newton step for class `k`; returns whether the coefficients moved noticeably.
fn softmax_class_step(
    x: &Matrix,
    labels: &[usize],
    betas: &mut [Vec<f64>],
    k: usize,
    cancel: &AtomicBool,
) -> Option<bool> {
    let probs = softmax_probs(x, betas);
    let p = |i: usize| probs.row(i)[k];
    let hessian = gram(
        x,
        |i| (p(i) * (1.0 - p(i))).max(1e-10),
        LOGISTIC_RIDGE,
        cancel,
    )?;
    let mut grad = xt_times(x, |i| f64::from(u8::from(labels[i] == k)) - p(i));
    penalise_gradient(&mut grad, &betas[k]);
    let step = solve_spd(&hessian, &grad)?;
    let mut beta = betas[k].clone();
    let moved = damped_update(&mut beta, &step, |b| {
        let mut trial = betas.to_vec();
        trial[k] = b.to_vec();
        softmax_loss(x, labels, &trial)
    });
    betas[k] = beta;
    Some(moved)
}

/// Applies `step` to `beta`, halving it until the loss does not increase. Returns
/// whether the update was larger than the convergence tolerance.
fn damped_update(beta: &mut [f64], step: &[f64], loss: impl Fn(&[f64]) -> f64) -> bool {
    let before = loss(beta);
    let mut scale = 1.0;
    for _ in 0..20 {
        let trial: Vec<f64> = beta.iter().zip(step).map(|(b, s)| b + scale * s).collect();
        let after = loss(&trial);
        if after.is_finite() && after <= before + 1e-12 * before.abs().max(1.0) {
            beta.copy_from_slice(&trial);
            return step.iter().any(|s| (scale * s).abs() > TOLERANCE);
        }
        scale *= 0.5;
    }
    false
}

/// The linear predictor `β₀ + Σ βⱼ xⱼ`.
fn eta(beta: &[f64], row: &[f64]) -> f64 {
    beta[0] + beta[1..].iter().zip(row).map(|(b, x)| b * x).sum::<f64>()
}

/// The logistic function `1 / (1 + e^−z)`, computed without overflow.
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `[1 x]ᵀ W [1 x] + λ I` (no ridge on the intercept), row-major, `(p+1)²`; `None`
/// once `cancel` is raised (looked at every [`CANCEL_ROWS`] rows: the sum costs
/// `rows × (p+1)²`, minutes on wide one-hot data).
fn gram(
    x: &Matrix,
    weight: impl Fn(usize) -> f64,
    lambda: f64,
    cancel: &AtomicBool,
) -> Option<Vec<f64>> {
    let d = x.cols() + 1;
    let mut g = vec![0.0; d * d];
    let mut z = vec![1.0; d];
    for (i, row) in x.iter_rows().enumerate() {
        if i % CANCEL_ROWS == 0 && cancel.load(Ordering::Relaxed) {
            return None;
        }
        let w = weight(i);
        z[1..].copy_from_slice(row);
        for a in 0..d {
            let wa = w * z[a];
            if wa == 0.0 {
                continue;
            }
            for b in a..d {
                g[a * d + b] += wa * z[b];
            }
        }
    }
    for a in 0..d {
        for b in 0..a {
            g[a * d + b] = g[b * d + a];
        }
        g[a * d + a] += if a == 0 { 0.0 } else { lambda };
    }
    Some(g)
}

/// `[1 x]ᵀ r` for the residual-like vector `r`.
fn xt_times(x: &Matrix, r: impl Fn(usize) -> f64) -> Vec<f64> {
    let mut out = vec![0.0; x.cols() + 1];
    for (i, row) in x.iter_rows().enumerate() {
        let ri = r(i);
        out[0] += ri;
        out[1..].iter_mut().zip(row).for_each(|(o, x)| *o += ri * x);
    }
    out
}

/// Subtracts the ridge term `λ β` (not for the intercept) from a gradient.
fn penalise_gradient(grad: &mut [f64], beta: &[f64]) {
    grad[1..]
        .iter_mut()
        .zip(&beta[1..])
        .for_each(|(g, b)| *g -= LOGISTIC_RIDGE * b);
}

fn ridge_penalty(beta: &[f64]) -> f64 {
    0.5 * LOGISTIC_RIDGE * beta[1..].iter().map(|b| b * b).sum::<f64>()
}

/// Penalised negative log-likelihood of logistic regression.
fn logistic_loss(x: &Matrix, y: &[f64], beta: &[f64]) -> f64 {
    let nll: f64 = x
        .iter_rows()
        .zip(y)
        .map(|(row, &yi)| {
            let z = eta(beta, row);
            z.max(0.0) + (-z.abs()).exp().ln_1p() - yi * z
        })
        .sum();
    nll + ridge_penalty(beta)
}

/// Penalised negative log-likelihood of softmax regression.
fn softmax_loss(x: &Matrix, labels: &[usize], betas: &[Vec<f64>]) -> f64 {
    let mut nll = 0.0;
    let mut z = vec![0.0; betas.len()];
    for (row, &label) in x.iter_rows().zip(labels) {
        z.iter_mut()
            .zip(betas)
            .for_each(|(zk, b)| *zk = eta(b, row));
        let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        nll += lse - z[label];
    }
    nll + betas.iter().map(|b| ridge_penalty(b)).sum::<f64>()
}

/// Class probabilities, one row per row of `x`.
fn softmax_probs(x: &Matrix, betas: &[Vec<f64>]) -> Matrix {
    let mut probs = Matrix::zeros(x.rows(), betas.len());
    for (i, row) in x.iter_rows().enumerate() {
        let out = probs.row_mut(i);
        out.iter_mut()
            .zip(betas)
            .for_each(|(o, b)| *o = eta(b, row));
        softmax(out);
    }
    probs
}

/// Turns scores into probabilities in place: `e^sₖ / Σⱼ e^sⱼ`, without overflow.
pub(crate) fn softmax(scores: &mut [f64]) {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    scores.iter_mut().for_each(|v| *v = (*v - max).exp());
    let total: f64 = scores.iter().sum();
    scores.iter_mut().for_each(|v| *v /= total);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: &[[f64; 2]]) -> Matrix {
        let mut m = Matrix::zeros(rows.len(), 2);
        rows.iter()
            .enumerate()
            .for_each(|(i, r)| m.row_mut(i).copy_from_slice(r));
        m
    }

    #[test]
    fn linear_recovers_exact_coefficients_despite_collinearity() {
        // Second column duplicates the first: the fit must still predict exactly.
        let x = matrix(&[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]);
        let y = [1.0, 3.0, 5.0, 7.0];
        let Output::Values(pred) = Glm::fit_linear(&x, &y, &AtomicBool::new(false))
            .unwrap()
            .predict(&x)
        else {
            panic!()
        };
        pred.iter()
            .zip(y)
            .for_each(|(p, t)| assert!((p - t).abs() < 1e-3, "{p} vs {t}"));
    }

    #[test]
    fn logistic_separates_and_stays_finite() {
        let x = matrix(&[[-2.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [2.0, 0.0]]);
        let model = Glm::fit_logistic(&x, &[0, 0, 1, 1], &AtomicBool::new(false)).unwrap();
        let Output::Probs(p) = model.predict(&x) else {
            panic!()
        };
        assert!(p.row(0)[1] < 0.3 && p.row(3)[1] > 0.7);
        assert!(p.iter_rows().all(|r| r.iter().all(|v| v.is_finite())));
    }

    #[test]
    fn softmax_probabilities_sum_to_one() {
        let x = matrix(&[
            [0.0, 0.0],
            [0.1, 0.0],
            [5.0, 0.0],
            [5.1, 0.0],
            [0.0, 5.0],
            [0.1, 5.1],
        ]);
        let model = Glm::fit_softmax(&x, &[0, 0, 1, 1, 2, 2], 3, &AtomicBool::new(false)).unwrap();
        let Output::Probs(p) = model.predict(&x) else {
            panic!()
        };
        for (i, row) in p.iter_rows().enumerate() {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            let best = (0..3).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            assert_eq!(best, i / 2);
        }
    }
}
