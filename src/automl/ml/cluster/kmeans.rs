//! k-means on an encoded matrix: k-means++ seeding, Lloyd iterations, restarts.
//!
//! Each restart seeds `k` centroids with k-means++ (Arthur and Vassilvitskii): the
//! first is a uniformly random row, each next one a row drawn with probability
//! proportional to its squared distance from the nearest centroid chosen so far. Lloyd
//! iterations then alternate "assign every row to its nearest centroid" and "move every
//! centroid to the mean of its rows" until no assignment changes, or
//! [`Settings::max_iterations`] passes were made. The restart with the lowest inertia
//! (the sum of squared distances from the rows to their centroids) is kept; a tie
//! keeps the earlier restart.
//!
//! Contracts:
//! - Deterministic: the same matrix and settings give the same fit; restart `r` draws
//!   from `Rng::derive(seed, r)` only.
//! - Ties between equally near centroids go to the lowest index.
//! - A cluster left without rows by an update takes the row farthest from its own
//!   centroid (among clusters of two rows or more); when every row sits on its
//!   centroid (fewer distinct rows than `k`) it stays empty, with size 0.
//! - The caller checks `1 <= k <= rows`; memory is the matrix plus `k × cols` for the
//!   centroids and a few vectors of `rows` entries.
//! - The cancel flag is checked before every seeding step and every iteration.

use std::sync::atomic::{AtomicBool, Ordering};

use super::super::linalg::Matrix;
use super::super::rng::Rng;

/// How to run k-means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    /// Number of clusters, `1..=rows`.
    pub(crate) k: usize,
    /// Independent k-means++ seedings; the lowest inertia wins.
    pub(crate) restarts: usize,
    /// Most Lloyd passes per restart.
    pub(crate) max_iterations: usize,
    /// Seed of every random choice.
    pub(crate) seed: u64,
}

/// The kept restart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fit {
    /// `k × cols`: one centroid per row.
    pub(crate) centroids: Matrix,
    /// Per input row, its cluster.
    pub(crate) assignment: Vec<usize>,
    /// Per input row, its squared distance to its centroid.
    pub(crate) distances: Vec<f64>,
    /// Sum of `distances`.
    pub(crate) inertia: f64,
    /// Lloyd passes made by the kept restart.
    pub(crate) iterations: usize,
    /// Whether the kept restart stopped because no assignment changed.
    pub(crate) converged: bool,
    /// Which restart was kept (0-based).
    pub(crate) restart: usize,
}

/// The cancel flag was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cancelled;

/// Runs `settings.restarts` restarts on the rows of `x` and keeps the lowest inertia.
/// `progress` is told after each restart (restarts done, inertia of that restart).
pub(crate) fn fit(
    x: &Matrix,
    settings: &Settings,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Fit, Cancelled> {
    let mut best: Option<Fit> = None;
    for restart in 0..settings.restarts.max(1) {
        let mut rng = Rng::derive(settings.seed, restart as u64);
        let seeds = plus_plus(x, settings.k, &mut rng, cancel)?;
        let mut fit = lloyd(x, seeds, settings.max_iterations, cancel)?;
        fit.restart = restart;
        progress(restart + 1, fit.inertia);
        if best.as_ref().is_none_or(|b| fit.inertia < b.inertia) {
            best = Some(fit);
        }
    }
    best.ok_or(Cancelled)
}

/// k-means++ seeding: `k` centroids drawn from the rows of `x`.
pub(crate) fn plus_plus(
    x: &Matrix,
    k: usize,
    rng: &mut Rng,
    cancel: &AtomicBool,
) -> Result<Matrix, Cancelled> {
    let mut centroids = Matrix::zeros(k, x.cols());
    let first = rng.below(x.rows());
    centroids.row_mut(0).copy_from_slice(x.row(first));
    let mut nearest: Vec<f64> = x.iter_rows().map(|r| squared(r, x.row(first))).collect();
    for c in 1..k {
        check(cancel)?;
        let total: f64 = nearest.iter().sum();
        let chosen = if total > 0.0 && total.is_finite() {
            weighted(&nearest, total * unit(rng))
        } else {
            rng.below(x.rows()) // every row sits on a centroid already
        };
        centroids.row_mut(c).copy_from_slice(x.row(chosen));
        for (d, row) in nearest.iter_mut().zip(x.iter_rows()) {
            *d = d.min(squared(row, centroids.row(c)));
        }
    }
    Ok(centroids)
}

/// The index where the running sum of `weights` first exceeds `target` (the last
/// positive weight if rounding leaves `target` past the end).
fn weighted(weights: &[f64], target: f64) -> usize {
    let mut sum = 0.0;
    for (i, &w) in weights.iter().enumerate() {
        sum += w;
        if sum > target && w > 0.0 {
            return i;
        }
    }
    weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}

/// A uniform float in `[0, 1)`.
fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Lloyd iterations from `centroids` until no assignment changes or `max_iterations`.
pub(crate) fn lloyd(
    x: &Matrix,
    mut centroids: Matrix,
    max_iterations: usize,
    cancel: &AtomicBool,
) -> Result<Fit, Cancelled> {
    let n = x.rows();
    let mut assignment = vec![usize::MAX; n];
    let mut distances = vec![0.0; n];
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iterations.max(1) {
        check(cancel)?;
        iterations += 1;
        if !assign(x, &centroids, &mut assignment, &mut distances) {
            converged = true;
            break;
        }
        update(x, &assignment, &mut distances, &mut centroids);
    }
    if !converged {
        // the last update moved the centroids: give every row its nearest one again
        assign(x, &centroids, &mut assignment, &mut distances);
    }
    let inertia = distances.iter().sum();
    Ok(Fit {
        centroids,
        assignment,
        distances,
        inertia,
        iterations,
        converged,
        restart: 0,
    })
}

/// Assigns every row to its nearest centroid; `true` if any assignment changed.
fn assign(x: &Matrix, centroids: &Matrix, assignment: &mut [usize], distances: &mut [f64]) -> bool {
    let mut changed = false;
    for (i, row) in x.iter_rows().enumerate() {
        let (c, d) = nearest(row, centroids);
        changed |= assignment[i] != c;
        assignment[i] = c;
        distances[i] = d;
    }
    changed
}

/// Moves every centroid to the mean of its rows; re-seeds empty clusters (see the
/// module documentation). `distances` are the rows' distances to their centroids.
fn update(x: &Matrix, assignment: &[usize], distances: &mut [f64], centroids: &mut Matrix) {
    let (k, d) = (centroids.rows(), centroids.cols());
    let mut sums = Matrix::zeros(k, d);
    let mut sizes = vec![0usize; k];
    for (row, &c) in x.iter_rows().zip(assignment) {
        sizes[c] += 1;
        sums.row_mut(c)
            .iter_mut()
            .zip(row)
            .for_each(|(s, v)| *s += v);
    }
    for c in 0..k {
        if sizes[c] > 0 {
            let size = sizes[c] as f64;
            let mean = sums.row(c).iter().map(|s| s / size);
            centroids
                .row_mut(c)
                .iter_mut()
                .zip(mean)
                .for_each(|(m, v)| *m = v);
        } else if let Some(far) = farthest(assignment, distances, &sizes) {
            centroids.row_mut(c).copy_from_slice(x.row(far));
            sizes[assignment[far]] -= 1;
            sizes[c] = 1;
            distances[far] = 0.0;
        }
    }
}

/// The row farthest from its centroid whose cluster keeps a row without it, if any
/// row is off its centroid.
fn farthest(assignment: &[usize], distances: &[f64], sizes: &[usize]) -> Option<usize> {
    let candidates =
        (0..distances.len()).filter(|&i| sizes[assignment[i]] > 1 && distances[i] > 0.0);
    candidates.fold(None, |best: Option<usize>, i| match best {
        Some(b) if distances[b] >= distances[i] => Some(b),
        _ => Some(i),
    })
}

/// The nearest centroid to `row` (lowest index on ties) and its squared distance.
pub(crate) fn nearest(row: &[f64], centroids: &Matrix) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, centroid) in centroids.iter_rows().enumerate() {
        let d = squared(row, centroid);
        if d < best.1 {
            best = (c, d);
        }
    }
    best
}

/// Squared Euclidean distance.
pub(crate) fn squared(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn check(cancel: &AtomicBool) -> Result<(), Cancelled> {
    match cancel.load(Ordering::Relaxed) {
        true => Err(Cancelled),
        false => Ok(()),
    }
}
