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

/// A family on the rows of an encoded matrix.
#[derive(Debug, Clone, Copy)]
pub(super) struct Problem<'a> {
    /// The encoded rows.
    pub(super) x: &'a Matrix,
    /// The response, one per row of `x`.
    pub(super) family: Family<'a>,
}

impl Problem<'_> {
    /// Length of one coefficient vector: the intercept and one per column.
    pub(super) fn stride(&self) -> usize {
        self.x.cols() + 1
    }

    /// The objective at `w` for the penalty `lambda`; its gradient goes to `grad`.
    pub(super) fn value_and_gradient(&self, w: &[f64], lambda: f64, grad: &mut [f64]) -> f64 {
        let d = self.stride();
        let mut eta = vec![0.0; self.family.outputs()];
        grad.fill(0.0);
        let mut total = 0.0;
        for (i, row) in self.x.iter_rows().enumerate() {
            predictors(w, row, &mut eta);
            total += self.family.loss(i, &mut eta);
            for (k, &r) in eta.iter().enumerate() {
                grad[k * d] += r;
                axpy(r, row, &mut grad[k * d + 1..(k + 1) * d]);
            }
        }
        let scale = 1.0 / self.x.rows().max(1) as f64;
        grad.iter_mut().for_each(|g| *g *= scale);
        let mut penalty = 0.0;
        for (k, beta) in w.chunks(d).enumerate() {
            penalty += dot(&beta[1..], &beta[1..]);
            axpy(lambda, &beta[1..], &mut grad[k * d + 1..(k + 1) * d]);
        }
        total * scale + 0.5 * lambda * penalty
    }

    /// Sums the normal equations `ZᵀZ` and `Zᵀy` over the rows, `Z = [1 x]`.
    pub(super) fn normal_equations(
        &self,
        y: &[f64],
        cancel: &AtomicBool,
    ) -> Result<NormalEquations, Failure> {
        let d = self.stride();
        let mut gram = vec![0.0; d * d];
        let mut rhs = vec![0.0; d];
        let mut z = vec![1.0; d];
        for (i, row) in self.x.iter_rows().enumerate() {
            if i % CANCEL_ROWS == 0 && cancel.load(Ordering::Relaxed) {
                return Err(Failure::Cancelled);
            }
            z[1..].copy_from_slice(row);
            axpy(y[i], &z, &mut rhs);
            for a in 0..d {
                if z[a] != 0.0 {
                    axpy(z[a], &z[a..], &mut gram[a * d + a..(a + 1) * d]);
                }
            }
        }
        for a in 0..d {
            for b in 0..a {
                gram[a * d + b] = gram[b * d + a];
            }
        }
        let rows = self.x.rows() as f64;
        Ok(NormalEquations { gram, rhs, rows })
    }
}

/// The sums of least squares, `ZᵀZ` and `Zᵀy`: solved for any λ without another pass
/// over the rows.
#[derive(Debug, Clone)]
pub(super) struct NormalEquations {
    gram: Vec<f64>,
    rhs: Vec<f64>,
    rows: f64,
}

impl NormalEquations {
    /// Solves `(ZᵀZ + nλ I′) β = Zᵀy`, where `I′` spares the intercept.
    pub(super) fn solve(&self, lambda: f64) -> Result<Vec<f64>, Failure> {
        let d = self.rhs.len();
        let mut gram = self.gram.clone();
        (1..d).for_each(|a| gram[a * d + a] += lambda * self.rows);
        solve_spd(&gram, &self.rhs).ok_or(Failure::NotFinite)
    }
}

/// Minimises a [`Problem`]'s objective for one λ after another.
#[derive(Debug, Clone)]
pub(super) enum Solver<'a> {
    /// Least squares on a narrow matrix: exactly, from sums taken once.
    Exact(NormalEquations),
    /// Everything else: by L-BFGS from a start.
    Iterative(Problem<'a>),
}

impl<'a> Solver<'a> {
    /// The solver for `problem` (which, for narrow least squares, sums the normal
    /// equations now).
    pub(super) fn new(problem: Problem<'a>, cancel: &AtomicBool) -> Result<Solver<'a>, Failure> {
        Ok(match problem.family {
            Family::Gaussian(y) if problem.x.cols() <= NORMAL_EQUATIONS_MAX_WIDTH => {
                Solver::Exact(problem.normal_equations(y, cancel)?)
            }
            _ => Solver::Iterative(problem),
        })
    }

    /// The coefficients minimising the objective for `lambda`; L-BFGS starts from
    /// `start`.
    pub(super) fn solve(
        &self,
        lambda: f64,
        start: Vec<f64>,
        settings: &Settings,
        cancel: &AtomicBool,
    ) -> Result<Vec<f64>, Failure> {
        match self {
            Solver::Exact(normal) => normal.solve(lambda),
            Solver::Iterative(problem) => {
                let objective = |w: &[f64], g: &mut [f64]| problem.value_and_gradient(w, lambda, g);
                Ok(lbfgs::minimise(objective, start, settings, cancel)?.x)
            }
        }
    }
}

/// The linear predictors of `row`, one per coefficient vector in `w`.
fn predictors(w: &[f64], row: &[f64], eta: &mut [f64]) {
    for (e, beta) in eta.iter_mut().zip(w.chunks(row.len() + 1)) {
        *e = super::linear(beta, row);
    }
}
