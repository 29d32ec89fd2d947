//! Choosing the ridge penalty λ: a short path of penalties, each fitted on four fifths
//! of the fit's rows and scored on the other fifth (drawn at random) (like H2O's `lambda_search`).
//!
//! The path runs from the strongest penalty down, each fit starting from the previous
//! one's coefficients (a warm start, so the weaker, slower fits start close to their
//! answer), and stops early once the hold-out loss has risen [`PATIENCE`] times in a
//! row after its best. The λ with the lowest hold-out loss is then refitted on all
//! rows, starting from its hold-out fit. Below [`SEARCH_MIN_ROWS`] rows the hold-out
//! would be too noisy to choose by, and the default penalty is used instead.

use std::sync::atomic::AtomicBool;

use super::super::lbfgs::{Failure, Settings};
use super::super::linalg::Matrix;
use super::super::rng::Rng;
use super::objective::{Family, Problem};
use super::GlmParams;

/// Fewest rows for which λ is searched.
pub(super) const SEARCH_MIN_ROWS: usize = 100;
/// One row in this many, drawn at random, is held out to score the path.
const HOLDOUT_EVERY: usize = 5;
/// Seed of the hold-out draw: fixed, so a fit depends on its data alone.
const HOLDOUT_SEED: u64 = 0x5EED_61A0;
/// Path points whose hold-out loss may rise in a row before the search stops.
const PATIENCE: usize = 2;
/// The penalty path, strongest first (for standardised features, and for least
/// squares a standardised target): `10^−1` to `10^−5` in half decades, the ones above
/// the default λ, then the default itself; so the search keeps scikit-learn's default
/// unless the hold-out favours a stronger penalty.
const PATH: [f64; 9] = [1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5];
/// λ for least squares when none is searched: just enough to keep collinear columns
/// from making the normal equations singular (scikit-learn's `LinearRegression`
/// has none).
const LEAST_SQUARES_LAMBDA: f64 = 1e-8;

/// Fits `family` on every row of `x` with the penalty `params.lambda`, or the one the
/// search picks: the coefficients (one vector per output, one after another) and λ.
pub(super) fn fit(
    x: &Matrix,
    family: Family<'_>,
    params: &GlmParams,
    cancel: &AtomicBool,
) -> Result<(Vec<f64>, f64), Failure> {
    let settings = params.settings();
    let rows: Vec<usize> = (0..x.rows()).collect();
    let all = Problem {
        x,
        rows: &rows,
        family,
    };
    let start = start(&all);
    let (lambda, start) = match params.lambda {
        Some(lambda) => (lambda, start),
        None if rows.len() < SEARCH_MIN_ROWS => (default_lambda(&all), start),
        None => search(&all, start, &settings, cancel)?,
    };
    Ok((all.solve(lambda, start, &settings, cancel)?, lambda))
}

/// scikit-learn's defaults as a λ: `C = 1` (λ = 1/n) for the classifiers, next to
/// nothing for least squares.
pub(super) fn default_lambda(problem: &Problem<'_>) -> f64 {
    match problem.family {
        Family::Gaussian(_) => LEAST_SQUARES_LAMBDA,
        Family::Binomial(_) | Family::Multinomial(..) => 1.0 / problem.rows.len().max(1) as f64,
    }
}

/// Runs the path on a hold-out split of `all`'s rows: the λ with the lowest hold-out
/// loss, and its coefficients as a start for the final fit.
fn search(
    all: &Problem<'_>,
    start: Vec<f64>,
    settings: &Settings,
    cancel: &AtomicBool,
) -> Result<(f64, Vec<f64>), Failure> {
    let mut rng = Rng::new(HOLDOUT_SEED);
    let (held, fitted): (Vec<usize>, Vec<usize>) =
        all.rows.iter().partition(|_| rng.below(HOLDOUT_EVERY) == 0);
    let train = Problem {
        rows: &fitted,
        ..*all
    };
    let holdout = Problem {
        rows: &held,
        ..*all
    };
    let default = default_lambda(all);
    let path = PATH.iter().copied().filter(|&l| l > default).chain([default]);
    let mut w = start;
    let mut best = (f64::INFINITY, default, w.clone());
    let mut worse = 0;
    for lambda in path {
        w = train.solve(lambda, w, settings, cancel)?;
        let loss = holdout.mean_loss(&w);
        if loss < best.0 {
            best = (loss, lambda, w.clone());
            worse = 0;
        } else {
            worse += 1;
            if worse == PATIENCE {
                break;
            }
        }
    }
    Ok((best.1, best.2))
}

/// The coefficients a fit starts from: no slopes, and intercepts at the log of each
/// class's smoothed frequency (log-odds for logistic regression), or 0 for least
/// squares on a standardised target.
fn start(problem: &Problem<'_>) -> Vec<f64> {
    let d = problem.stride();
    let mut w = vec![0.0; d * problem.family.outputs()];
    let n = problem.rows.len() as f64;
    let rate = |labels: &[usize], k: usize, classes: usize| {
        let count = problem.rows.iter().filter(|&&i| labels[i] == k).count() as f64;
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
