//! The penalised loss a GLM minimises, and the solvers that minimise it.
//!
//! For `n` rows and one coefficient vector `βₖ = (βₖ₀, βₖ₁, ...)` per output (one for
//! least squares and logistic regression, one per class for softmax), the objective is
//!
//! ```text
//! (1/n) Σᵢ loss(yᵢ, η_i)  +  ½ λ Σₖ Σⱼ≥₁ βₖⱼ²,      ηᵢₖ = βₖ₀ + Σⱼ βₖⱼ xᵢⱼ
//! ```
//!
//! (the mean loss plus a ridge penalty that spares the intercepts: H2O's `lambda` with
//! `alpha` 0; scikit-learn's `C` is `1 / (n λ)`). The losses are half the squared error,
//! the logistic log loss and the softmax log loss. Least squares with at most
//! [`NORMAL_EQUATIONS_MAX_WIDTH`] columns is solved exactly from the normal equations;
//! everything else by L-BFGS on the value and gradient, which take one pass over the
//! rows and `O(outputs × width)` memory: no Hessian is ever formed.

use std::sync::atomic::{AtomicBool, Ordering};

use super::super::lbfgs::{self, axpy, dot, Failure, Settings};
use super::super::linalg::{solve_spd, Matrix};

/// Widest least-squares problem solved from the normal equations; the Gram matrix
/// costs `rows × (width + 1)² / 2` to sum and `(width + 1)²` numbers to hold, so wider
/// (one-hot) data goes to L-BFGS instead.
pub(super) const NORMAL_EQUATIONS_MAX_WIDTH: usize = 512;
/// Rows summed into a Gram matrix between two looks at the cancel flag.
const CANCEL_ROWS: usize = 256;

/// The response and its loss.
#[derive(Debug, Clone, Copy)]
pub(super) enum Family<'a> {
    /// Half the squared error, on these targets.
    Gaussian(&'a [f64]),
    /// Logistic log loss; class 1 is the positive one.
    Binomial(&'a [usize]),
    /// Softmax log loss over this many classes.
    Multinomial(&'a [usize], usize),
}

impl Family<'_> {
    /// Coefficient vectors fitted: one per class for softmax, else one.
    pub(super) fn outputs(&self) -> usize {
        match self {
            Family::Multinomial(_, k) => *k,
            Family::Gaussian(_) | Family::Binomial(_) => 1,
        }
    }

    /// The loss of row `i` at the linear predictors `eta`, which are replaced by the
    /// loss's derivatives with respect to them.
    fn loss(&self, i: usize, eta: &mut [f64]) -> f64 {
        match self {
            Family::Gaussian(y) => {
                let r = eta[0] - y[i];
                eta[0] = r;
                0.5 * r * r
            }
            Family::Binomial(labels) => {
                let z = eta[0];
                let y = f64::from(u8::from(labels[i] == 1));
                eta[0] = super::sigmoid(z) - y;
                z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z
            }
            Family::Multinomial(labels, _) => {
                let label = labels[i];
                let max = eta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = max + eta.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                let loss = lse - eta[label];
                eta.iter_mut().for_each(|v| *v = (*v - lse).exp());
                eta[label] -= 1.0;
                loss
            }
        }
    }
}

/// A family on some rows of an encoded matrix.
#[derive(Debug, Clone, Copy)]
pub(super) struct Problem<'a> {
    /// The encoded rows (all of them; `rows` picks the ones fitted).
    pub(super) x: &'a Matrix,
    /// The rows of `x` the loss is summed over.
    pub(super) rows: &'a [usize],
    /// The response.
    pub(super) family: Family<'a>,
}

impl Problem<'_> {
    /// Length of one coefficient vector: the intercept and one per column.
    pub(super) fn stride(&self) -> usize {
        self.x.cols() + 1
    }

    /// The mean loss at the coefficients `w` (the vectors one after another), without
    /// the penalty: the hold-out criterion of the λ search.
    pub(super) fn mean_loss(&self, w: &[f64]) -> f64 {
        let mut eta = vec![0.0; self.family.outputs()];
        let total: f64 = self
            .rows
            .iter()
            .map(|&i| {
                self.predictors(w, i, &mut eta);
                self.family.loss(i, &mut eta)
            })
            .sum();
        total / self.rows.len().max(1) as f64
    }

    /// The objective at `w` for the penalty `lambda`; its gradient goes to `grad`.
    pub(super) fn value_and_gradient(&self, w: &[f64], lambda: f64, grad: &mut [f64]) -> f64 {
        let d = self.stride();
        let mut eta = vec![0.0; self.family.outputs()];
        grad.fill(0.0);
        let mut total = 0.0;
        for &i in self.rows {
            self.predictors(w, i, &mut eta);
            total += self.family.loss(i, &mut eta);
            let row = self.x.row(i);
            for (k, &r) in eta.iter().enumerate() {
                grad[k * d] += r;
                axpy(r, row, &mut grad[k * d + 1..(k + 1) * d]);
            }
        }
        let scale = 1.0 / self.rows.len().max(1) as f64;
        grad.iter_mut().for_each(|g| *g *= scale);
        let mut penalty = 0.0;
        for (k, beta) in w.chunks(d).enumerate() {
            penalty += dot(&beta[1..], &beta[1..]);
            axpy(lambda, &beta[1..], &mut grad[k * d + 1..(k + 1) * d]);
        }
        total * scale + 0.5 * lambda * penalty
    }

    /// The linear predictors of row `i`, one per output.
    fn predictors(&self, w: &[f64], i: usize, eta: &mut [f64]) {
        let row = self.x.row(i);
        for (e, beta) in eta.iter_mut().zip(w.chunks(self.stride())) {
            *e = super::linear(beta, row);
        }
    }

    /// Minimises the objective for `lambda`, from `start` (L-BFGS) or exactly (least
    /// squares on a narrow matrix).
    pub(super) fn solve(
        &self,
        lambda: f64,
        start: Vec<f64>,
        settings: &Settings,
        cancel: &AtomicBool,
    ) -> Result<Vec<f64>, Failure> {
        if let Family::Gaussian(y) = self.family {
            if self.x.cols() <= NORMAL_EQUATIONS_MAX_WIDTH {
                return self.normal_equations(y, lambda, cancel);
            }
        }
        let objective = |w: &[f64], g: &mut [f64]| self.value_and_gradient(w, lambda, g);
        Ok(lbfgs::minimise(objective, start, settings, cancel)?.x)
    }

    /// Least squares from `(ZᵀZ + nλ I′) β = Zᵀy`, where `Z = [1 x]` and `I′` spares
    /// the intercept.
    pub(super) fn normal_equations(
        &self,
        y: &[f64],
        lambda: f64,
        cancel: &AtomicBool,
    ) -> Result<Vec<f64>, Failure> {
        let d = self.stride();
        let mut gram = vec![0.0; d * d];
        let mut rhs = vec![0.0; d];
        let mut z = vec![1.0; d];
        for (n, &i) in self.rows.iter().enumerate() {
            if n % CANCEL_ROWS == 0 && cancel.load(Ordering::Relaxed) {
                return Err(Failure::Cancelled);
            }
            z[1..].copy_from_slice(self.x.row(i));
            axpy(y[i], &z, &mut rhs);
            for a in 0..d {
                if z[a] != 0.0 {
                    axpy(z[a], &z[a..], &mut gram[a * d + a..(a + 1) * d]);
                }
            }
        }
        let ridge = lambda * self.rows.len() as f64;
        for a in 0..d {
            for b in 0..a {
                gram[a * d + b] = gram[b * d + a];
            }
            gram[a * d + a] += if a == 0 { 0.0 } else { ridge };
        }
        solve_spd(&gram, &rhs).ok_or(Failure::NotFinite)
    }
}
