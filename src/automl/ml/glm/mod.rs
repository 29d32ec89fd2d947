//! Generalized linear models on an encoded design matrix.
//!
//! - Regression: ridge least squares. The target is standardised for the fit and the
//!   coefficients mapped back. Up to
//!   [`NORMAL_EQUATIONS_MAX_WIDTH`](objective::NORMAL_EQUATIONS_MAX_WIDTH) (512)
//!   encoded columns it is solved exactly from the normal equations; wider (one-hot)
//!   data by L-BFGS, so no `width²` matrix is built for it.
//! - Binary: L2-penalised logistic regression by L-BFGS ([`lbfgs`](super::lbfgs)).
//! - Multinomial: L2-penalised softmax regression, one coefficient vector per class,
//!   all classes at once by L-BFGS.
//!
//! Every fit minimises the mean loss plus `½ λ ‖β‖²` ([`objective`]), the intercepts
//! unpenalised (stored first in each coefficient vector), with no Hessian: memory
//! beyond the encoded matrix is `O(width × classes)` ([`fit_bytes`]) and one L-BFGS
//! iteration costs one or a few passes over the rows of `4 × rows × width × outputs`
//! flops each.
//!
//! λ is [`GlmParams::lambda`] when given, else scikit-learn's defaults on standardised
//! features: `C = 1`, which is λ = 1/n, for `LogisticRegression`, and next to none
//! (10⁻⁸) for `LinearRegression`. The classifiers stop at scikit-learn's tolerance too
//! (no gradient entry of the mean objective above 10⁻⁴). Choosing λ on a hold-out of
//! the fit's rows (a path of nine λ from 300/n to 0.03/n, warm-started, like H2O's
//! `lambda_search`) was measured and dropped: on breast_cancer, diabetes, wine and
//! digits one hold-out, even 3-fold internal validation, picked worse penalties as
//! often as better ones. Fits are deterministic and read the cancel flag before every
//! pass over the rows.

mod objective;
#[cfg(test)]
mod peer_tests;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};

use super::error::TrainError;
use super::lbfgs::{Failure, Settings};
use super::linalg::Matrix;
use super::model::Output;
use super::tree::Labels;
use objective::{Family, Problem, Solver, NORMAL_EQUATIONS_MAX_WIDTH};

/// How to fit a [`Glm`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GlmParams {
    /// The ridge penalty λ on the mean loss; `None` takes scikit-learn's default
    /// (see the module docs).
    pub(crate) lambda: Option<f64>,
    /// The penalty in scikit-learn's terms, `1 / C` (`alpha` for a ridge regression):
    /// λ = `strength` / rows. Used when `lambda` is `None`; `None` for both takes the
    /// defaults.
    pub(crate) strength: Option<f64>,
    /// Most L-BFGS iterations of one fit.
    pub(crate) max_iterations: usize,
    /// A classifier's fit has converged once no gradient entry of its objective
    /// exceeds this (scikit-learn's `tol`). Least squares by L-BFGS, a quadratic that
    /// converges fast, always goes down to [`LEAST_SQUARES_TOLERANCE`].
    pub(crate) tolerance: f64,
}

impl Default for GlmParams {
    fn default() -> Self {
        GlmParams {
            lambda: None,
            strength: None,
            max_iterations: 1000,
            tolerance: 1e-4,
        }
    }
}

impl GlmParams {
    /// The L-BFGS settings for fitting `family`.
    fn settings(&self, family: Family<'_>) -> Settings {
        let settings = Settings {
            max_iterations: self.max_iterations,
            ..Settings::default()
        };
        match family {
            Family::Gaussian(_) => Settings {
                gradient_tolerance: LEAST_SQUARES_TOLERANCE,
                value_tolerance: 0.0,
                ..settings
            },
            Family::Binomial(_) | Family::Multinomial(..) => Settings {
                gradient_tolerance: self.tolerance,
                ..settings
            },
        }
    }
}

/// A fitted GLM, with the ridge penalty λ (on the mean loss) it was fitted with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Glm {
    /// Least squares.
    Linear {
        /// Intercept, then one coefficient per column.
        beta: Vec<f64>,
        /// The ridge penalty λ.
        lambda: f64,
    },
    /// Logistic regression for the probability of the second class.
    Logistic {
        /// Intercept, then one coefficient per column.
        beta: Vec<f64>,
        /// The ridge penalty λ.
        lambda: f64,
    },
    /// Softmax regression.
    Softmax {
        /// One coefficient vector (intercept first) per class.
        betas: Vec<Vec<f64>>,
        /// The ridge penalty λ.
        lambda: f64,
    },
}

impl Glm {
    /// Fits the GLM `labels` call for on `x`: least squares for values, logistic
    /// regression for two classes, softmax regression for more.
    ///
    /// # Errors
    /// [`TrainError::Cancelled`] once `cancel` is raised; [`TrainError::Invalid`] for
    /// labels that do not fit `x` (another row count, a class index out of range, no
    /// rows, residual targets); [`TrainError::Failed`] when the loss is not finite
    /// (non-finite inputs).
    pub(crate) fn fit(
        x: &Matrix,
        labels: Labels<'_>,
        params: &GlmParams,
        cancel: &AtomicBool,
    ) -> Result<Glm, TrainError> {
        check_labels(x, labels)?;
        let fit = |family| fit_family(x, family, params, cancel).map_err(|e| failed(e, cancel));
        Ok(match labels {
            Labels::Values(y) => {
                let (mean, sd) = mean_and_sd(y);
                let z: Vec<f64> = y.iter().map(|v| (v - mean) / sd).collect();
                let (mut beta, lambda) = fit(Family::Gaussian(&z))?;
                beta.iter_mut().for_each(|b| *b *= sd);
                beta[0] += mean;
                Glm::Linear { beta, lambda }
            }
            Labels::Classes(c, 2) => {
                let (beta, lambda) = fit(Family::Binomial(c))?;
                Glm::Logistic { beta, lambda }
            }
            Labels::Classes(c, k) => {
                let (w, lambda) = fit(Family::Multinomial(c, k))?;
                let betas = w.chunks(x.cols() + 1).map(<[f64]>::to_vec).collect();
                Glm::Softmax { betas, lambda }
            }
        })
    }

    /// Predicts every row of `x`.
    pub(crate) fn predict(&self, x: &Matrix) -> Output {
        match self {
            Glm::Linear { beta, .. } => {
                Output::Values(x.iter_rows().map(|row| linear(beta, row)).collect())
            }
            Glm::Logistic { beta, .. } => {
                let mut probs = Matrix::zeros(x.rows(), 2);
                for (i, row) in x.iter_rows().enumerate() {
                    let p = sigmoid(linear(beta, row));
                    probs.row_mut(i).copy_from_slice(&[1.0 - p, p]);
                }
                Output::Probs(probs)
            }
            Glm::Softmax { betas, .. } => Output::Probs(softmax_probs(x, betas)),
        }
    }

    /// The penalty settings, by their H2O names: `alpha` 0 (a pure ridge penalty) and
    /// `lambda`, the ridge λ on the mean loss (`½ λ ‖β‖²`, intercept unpenalised).
    pub(crate) fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        let (Glm::Linear { lambda, .. }
        | Glm::Logistic { lambda, .. }
        | Glm::Softmax { lambda, .. }) = self;
        vec![("alpha", 0.0), ("lambda", *lambda)]
    }

    /// Per column of `x` (the training matrix), `|βⱼ|` times the column's standard
    /// deviation, summed over the coefficient vectors (one per class for softmax).
    pub(crate) fn importances(&self, x: &Matrix) -> Vec<f64> {
        let betas: Vec<&Vec<f64>> = match self {
            Glm::Linear { beta, .. } | Glm::Logistic { beta, .. } => vec![beta],
            Glm::Softmax { betas, .. } => betas.iter().collect(),
        };
        let sd = column_sds(x);
        let weight = |j: usize| betas.iter().map(|b| b[j + 1].abs()).sum::<f64>() * sd[j];
        (0..x.cols()).map(weight).collect()
    }
}

/// Gradient tolerance of least squares by L-BFGS (on a standardised target).
const LEAST_SQUARES_TOLERANCE: f64 = 1e-9;
/// λ for least squares when none is given: just enough to keep collinear columns
/// from making the normal equations singular (scikit-learn's `LinearRegression` has
/// none).
const LEAST_SQUARES_LAMBDA: f64 = 1e-8;

/// Fits `family` on every row of `x` with the penalty `params.lambda`, or the default
/// one: the coefficients (one vector per output, one after another) and λ.
fn fit_family(
    x: &Matrix,
    family: Family<'_>,
    params: &GlmParams,
    cancel: &AtomicBool,
) -> Result<(Vec<f64>, f64), Failure> {
    let problem = Problem { x, family };
    let rows = problem.x.rows().max(1) as f64;
    let lambda = (params.lambda)
        .or(params.strength.map(|s| s / rows))
        .unwrap_or_else(|| default_lambda(&problem));
    let start = start(&problem);
    let beta =
        Solver::new(problem, cancel)?.solve(lambda, start, &params.settings(family), cancel)?;
    Ok((beta, lambda))
}

/// scikit-learn's defaults as a λ: `C = 1` (λ = 1/n) for the classifiers, next to
/// nothing for least squares.
fn default_lambda(problem: &Problem<'_>) -> f64 {
    match problem.family {
        Family::Gaussian(_) => LEAST_SQUARES_LAMBDA,
        Family::Binomial(_) | Family::Multinomial(..) => 1.0 / problem.x.rows().max(1) as f64,
    }
}

/// The coefficients a fit starts from: no slopes, and intercepts at the log of each
/// class's smoothed frequency (log-odds for logistic regression), or 0 for least
/// squares on a standardised target.
fn start(problem: &Problem<'_>) -> Vec<f64> {
    let d = problem.stride();
    let mut w = vec![0.0; d * problem.family.outputs()];
    let n = problem.x.rows() as f64;
    let rate = |labels: &[usize], k: usize, classes: usize| {
        let count = labels.iter().filter(|&&l| l == k).count() as f64;
        (count + 0.5) / (n + 0.5 * classes as f64)
    };
    match problem.family {
        Family::Gaussian(_) => {}
        Family::Binomial(labels) => {
            let p = rate(labels, 1, 2);
            w[0] = (p / (1.0 - p)).ln();
        }
        Family::Multinomial(labels, k) => {
            (0..k).for_each(|c| w[c * d] = rate(labels, c, k).ln());
        }
    }
    w
}

/// Peak bytes a fit takes beside its encoded matrix, for `rows` rows `width` columns
/// wide and `classes` classes (1 for regression): the standardised target, the L-BFGS history and points, and for narrow least squares the normal
/// equations and their Cholesky factor.
pub(crate) fn fit_bytes(rows: usize, width: usize, classes: usize) -> usize {
    const F64: usize = std::mem::size_of::<f64>();
    let d = width.saturating_add(1);
    let outputs = if classes > 2 { classes } else { 1 };
    let coefficients = d.saturating_mul(outputs);
    let lbfgs = coefficients.saturating_mul((2 * Settings::default().memory + 8) * F64);
    let per_row = rows.saturating_mul(F64);
    let normal = if classes <= 1 && width <= NORMAL_EQUATIONS_MAX_WIDTH {
        d.saturating_mul(d).saturating_mul(2 * F64)
    } else {
        0
    };
    lbfgs.saturating_add(per_row).saturating_add(normal)
}

/// Refuses labels that do not fit `x`.
fn check_labels(x: &Matrix, labels: Labels<'_>) -> Result<(), TrainError> {
    let invalid = |m: String| Err(TrainError::Invalid(format!("GLM: {m}")));
    let rows = match labels {
        Labels::Values(y) => y.len(),
        Labels::Classes(c, k) => {
            if let Some(bad) = c.iter().find(|&&l| l >= k) {
                return invalid(format!("class index {bad} of only {k} classes"));
            }
            c.len()
        }
    };
    if rows != x.rows() {
        return invalid(format!("{rows} labels for {} rows", x.rows()));
    }
    if rows == 0 {
        return invalid("no rows to fit".into());
    }
    Ok(())
}

/// The error for residual targets, which only trees fit.
/// The error for a fit that gave nothing.
fn failed(failure: Failure, cancel: &AtomicBool) -> TrainError {
    if failure == Failure::Cancelled || cancel.load(Ordering::Relaxed) {
        return TrainError::Cancelled;
    }
    TrainError::Failed("GLM: the loss is not finite (non-finite values in the data?)".into())
}

/// Mean and (population) standard deviation of `y`; 1 for a constant `y`.
fn mean_and_sd(y: &[f64]) -> (f64, f64) {
    let n = y.len().max(1) as f64;
    let mean = y.iter().sum::<f64>() / n;
    let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    (mean, if sd > 0.0 && sd.is_finite() { sd } else { 1.0 })
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

/// The linear predictor `β₀ + Σ βⱼ xⱼ`.
fn linear(beta: &[f64], row: &[f64]) -> f64 {
    beta[0] + super::lbfgs::dot(&beta[1..], row)
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

/// Class probabilities, one row per row of `x`.
fn softmax_probs(x: &Matrix, betas: &[Vec<f64>]) -> Matrix {
    let mut probs = Matrix::zeros(x.rows(), betas.len());
    for (i, row) in x.iter_rows().enumerate() {
        let out = probs.row_mut(i);
        out.iter_mut()
            .zip(betas)
            .for_each(|(o, b)| *o = linear(b, row));
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
