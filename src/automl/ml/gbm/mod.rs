//! Gradient boosting machines: trees fitted one after another, each to the gradient of
//! the loss at the current scores, grown leaf by leaf on histograms as LightGBM does.
//!
//! - Regression: squared loss. The initial score is the target's mean.
//! - Binary: logistic loss on the log-odds of the second class; the initial score is the
//!   log-odds of the positive rate.
//! - Multinomial: softmax over one score per class, one tree per class per round (the
//!   hessian scaled by `K / (K − 1)`, as LightGBM and Friedman do); the initial scores are
//!   the logs of the class priors.
//!
//! A tree's leaf holds the Newton step `−G / (H + λ)` of its rows' gradient and hessian
//! sums, times the learning rate. Trees split numerical features at thresholds (the
//! missing values sent to the better side) and categorical features by sets of levels
//! (module `split`), on features binned once per training ([`Binned`]).
//!
//! **The number of trees.** In cross-validation ([`Gbm::fit_scored`]) every fold boosts
//! while the loss of the rows it is scored on keeps improving (stopping after
//! [`GbmParams::stopping_rounds`] rounds without improvement), and training picks the
//! count after which the folds' mean loss is lowest, as LightGBM's `cv` does: each
//! fold's model is cut to it before it is scored and the final model grows it. A fit
//! outside cross-validation ([`Gbm::fit`]) of at least 10,000 rows holds out a seeded
//! tenth of them for the same rule; a smaller one boosts 100 rounds, as LightGBM's and
//! scikit-learn's defaults do.
//!
//! Each round may grow its trees on a sample of the rows (drawn without replacement) and
//! of the features, from the round's own random stream of the seed, so a model is
//! reproducible; the cancel flag is checked before every round.

mod grow;
mod hist;
mod loss;
mod split;
mod tree;

use std::sync::atomic::{AtomicBool, Ordering};

use super::error::TrainError;
use super::linalg::Matrix;
use super::model::Output;
use super::rng::Rng;
use super::tree::{Binned, Labels, MAX_BINS};
use grow::{layout, Grower, TreeLimits};
pub(crate) use loss::Loss;
use loss::Targets;
use split::SplitLimits;
pub(crate) use tree::{BoostNode, BoostTree};

/// The boosting settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GbmParams {
    /// Most boosting rounds when early stopping chooses the number.
    pub(crate) max_trees: usize,
    /// A fixed number of rounds (no held-out rows, no early stopping).
    pub(crate) ntrees: Option<usize>,
    /// Shrinkage applied to every tree's output.
    pub(crate) learn_rate: f64,
    /// Most leaves per tree.
    pub(crate) max_leaves: usize,
    /// Deepest split level; `usize::MAX`: limited by the leaves only.
    pub(crate) max_depth: usize,
    /// Fewest training rows in a leaf; a fit of fewer than 10 times as many rows uses
    /// a tenth of its rows (at least 2), so that small data can still be split.
    pub(crate) min_rows: usize,
    /// L2 penalty on leaf values.
    pub(crate) lambda: f64,
    /// Share of the rows each round's trees are grown on.
    pub(crate) sample_rate: f64,
    /// Share of the features each tree may split on.
    pub(crate) col_sample_rate: f64,
    /// Rounds without improvement of the held-out loss before boosting stops.
    pub(crate) stopping_rounds: usize,
    /// The SDK's `tolerance`: also stop once the training deviance improved by less than
    /// this fraction over the last [`TOLERANCE_ROUNDS`] rounds.
    pub(crate) tolerance: Option<f64>,
}

impl Default for GbmParams {
    /// LightGBM's shape (31 leaves, learning rate 0.1, 20 rows per leaf), a little more
    /// regularised: an L2 penalty of 0.1, 80 % of the rows per round and 90 % of the
    /// features per tree; early stopping after 20 rounds without improvement, at most
    /// 200 trees, instead of a fixed 100.
    fn default() -> Self {
        GbmParams {
            max_trees: 200,
            ntrees: None,
            learn_rate: 0.1,
            max_leaves: 31,
            max_depth: usize::MAX,
            min_rows: 20,
            lambda: 0.1,
            sample_rate: 0.8,
            col_sample_rate: 0.9,
            stopping_rounds: 20,
            tolerance: None,
        }
    }
}

/// With a tolerance, the rounds over which the training deviance must improve.
pub(crate) const TOLERANCE_ROUNDS: usize = 3;
/// Least hessian sum in a leaf (LightGBM's `min_sum_hessian_in_leaf`).
const MIN_HESSIAN: f64 = 1e-3;
/// Fewest rows a fit needs to hold some out for early stopping; with fewer it boosts
/// [`SMALL_FIT_TREES`] rounds (scikit-learn's histogram boosting draws the same line:
/// a tenth of fewer rows scores too noisily to choose the number of trees).
const MIN_EARLY_STOPPING_ROWS: usize = 10_000;
/// Rounds of a fit too small to hold rows out.
const SMALL_FIT_TREES: usize = 100;

/// A fitted gradient boosting machine.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Gbm {
    pub(crate) loss: Loss,
    /// The initial score of each output.
    pub(crate) init: Vec<f64>,
    /// `trees[round][output]`, leaf values already shrunk by the learning rate.
    pub(crate) trees: Vec<Vec<BoostTree>>,
    /// The settings it was fitted with.
    pub(crate) params: GbmParams,
}

impl Gbm {
    /// Boosts on every row of `x` (all numerical columns) with `params`.
    ///
    /// # Errors
    /// [`TrainError::Cancelled`] once `cancel` is set.
    pub(crate) fn fit_matrix(
        x: &Matrix,
        labels: Labels<'_>,
        params: &GbmParams,
        seed: u64,
        cancel: &AtomicBool,
    ) -> Result<Gbm, TrainError> {
        let rows: Vec<u32> = (0..x.rows() as u32).collect();
        Gbm::fit(&Binned::new(x), &rows, labels, params, seed, cancel)
    }

    /// Boosts on rows `rows` of `data` (repeats count twice), whose `labels` are indexed
    /// by data row, checking `cancel` before every round. Without a fixed number of
    /// trees, a fit of 10,000 rows or more stops early on a tenth of them it holds out.
    ///
    /// # Errors
    /// [`TrainError::Cancelled`] once `cancel` is set.
    pub(crate) fn fit(
        data: &Binned,
        rows: &[u32],
        labels: Labels<'_>,
        params: &GbmParams,
        seed: u64,
        cancel: &AtomicBool,
    ) -> Result<Gbm, TrainError> {
        let (train, valid) = hold_out(rows, params, seed);
        let (mut gbm, curve) = Gbm::boost(data, &train, &valid, labels, params, seed, cancel)?;
        if let Some(best) = best_round(&curve) {
            gbm.trees.truncate(best);
        }
        Ok(gbm)
    }

    /// Boosts on `rows` while scoring the rows `scored` (a cross-validation fold, which
    /// the fit does not learn from) after every round, until their loss has not improved
    /// for [`GbmParams::stopping_rounds`] rounds; returns every tree grown and the loss
    /// after each round, so that the caller can choose the number of trees from several
    /// folds' losses at once and [`Gbm::truncate`] to it.
    ///
    /// # Errors
    /// [`TrainError::Cancelled`] once `cancel` is set.
    pub(crate) fn fit_scored(
        data: &Binned,
        rows: &[u32],
        scored: &[u32],
        labels: Labels<'_>,
        params: &GbmParams,
        seed: u64,
        cancel: &AtomicBool,
    ) -> Result<(Gbm, Vec<f64>), TrainError> {
        Gbm::boost(data, rows, scored, labels, params, seed, cancel)
    }

    /// Keeps the first `rounds` rounds of trees.
    pub(crate) fn truncate(&mut self, rounds: usize) {
        self.trees.truncate(rounds.max(1));
    }

    /// Boosts on `train`, with early stopping on `valid` when there are such rows and
    /// the number of trees is not fixed; returns the model (every round grown) and the
    /// loss of `valid` after each round.
    fn boost(
        data: &Binned,
        train: &[u32],
        valid: &[u32],
        labels: Labels<'_>,
        params: &GbmParams,
        seed: u64,
        cancel: &AtomicBool,
    ) -> Result<(Gbm, Vec<f64>), TrainError> {
        let targets = Targets::new(labels);
        let mut boost = Boosting::new(data, &targets, train, valid, params);
        let rounds = match (params.ntrees, valid.is_empty()) {
            (Some(n), _) => n,
            (None, true) => SMALL_FIT_TREES.min(params.max_trees),
            (None, false) => params.max_trees,
        };
        let early_stopping = params.ntrees.is_none() && !valid.is_empty();
        let mut curve = Vec::new();
        let mut deviances = vec![];
        for round in 0..rounds {
            if cancel.load(Ordering::Relaxed) {
                return Err(TrainError::Cancelled);
            }
            boost.round(seed, round);
            if early_stopping {
                curve.push(boost.loss(valid));
                let best = best_round(&curve).unwrap_or(0);
                if round + 1 - best >= params.stopping_rounds {
                    break;
                }
            }
            if let Some(tolerance) = params.tolerance {
                deviances.push(boost.loss(&boost.unique));
                let r = deviances.len();
                if r > TOLERANCE_ROUNDS {
                    let before = deviances[r - 1 - TOLERANCE_ROUNDS];
                    if before - deviances[r - 1] < tolerance * before.abs() {
                        break;
                    }
                }
            }
        }
        let gbm = Gbm {
            loss: targets.loss,
            init: boost.init,
            trees: boost.trees,
            params: params.clone(),
        };
        Ok((gbm, curve))
    }

    /// Predicts every row of `x` (tree mode): values for regression, class
    /// probabilities otherwise.
    pub(crate) fn predict(&self, x: &Matrix) -> Output {
        let width = self.loss.width();
        let mut scores = Matrix::zeros(x.rows(), width);
        for (i, row) in x.iter_rows().enumerate() {
            let out = scores.row_mut(i);
            out.copy_from_slice(&self.init);
            for round in &self.trees {
                for (o, tree) in out.iter_mut().zip(round) {
                    *o += tree.predict_row(row);
                }
            }
            self.loss.link(out);
        }
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

    /// The boosting settings, by their H2O names (`max_depth` 0: limited by the leaves
    /// only).
    pub(crate) fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        let p = &self.params;
        let depth = if p.max_depth == usize::MAX {
            0.0
        } else {
            p.max_depth as f64
        };
        vec![
            ("ntrees", self.trees.len() as f64),
            ("learn_rate", p.learn_rate),
            ("max_leaves", p.max_leaves as f64),
            ("max_depth", depth),
            ("min_rows", p.min_rows as f64),
            ("reg_lambda", p.lambda),
            ("sample_rate", p.sample_rate),
            ("col_sample_rate_per_tree", p.col_sample_rate),
            ("nbins", MAX_BINS as f64),
        ]
    }
}

/// The number of rounds after which `curve` (a loss per round) is lowest (the first
/// of equals), or `None` for an empty curve.
pub(crate) fn best_round(curve: &[f64]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, &loss) in curve.iter().enumerate() {
        if best.is_none_or(|(_, b)| loss < b - 1e-12 * b.abs().min(1e300)) {
            best = Some((i + 1, loss));
        }
    }
    best.map(|(n, _)| n)
}

/// Splits `rows` into rows to boost on and held-out rows for early stopping (none when
/// the number of trees is fixed or the rows are too few).
fn hold_out(rows: &[u32], params: &GbmParams, seed: u64) -> (Vec<u32>, Vec<u32>) {
    if params.ntrees.is_some() || rows.len() < MIN_EARLY_STOPPING_ROWS {
        return (rows.to_vec(), Vec::new());
    }
    let mut shuffled = rows.to_vec();
    Rng::derive(seed, 0xE5).shuffle(&mut shuffled);
    let held = rows.len() / 10;
    let train = shuffled.split_off(held);
    (train, shuffled)
}

/// The boosting state of one fit.
struct Boosting<'a> {
    data: &'a Binned,
    targets: &'a Targets<'a>,
    params: &'a GbmParams,
    /// The rows boosted on, repeats included.
    train: &'a [u32],
    /// The distinct rows of `train`.
    unique: Vec<u32>,
    /// Rows scored for early stopping.
    valid: &'a [u32],
    init: Vec<f64>,
    /// `scores[row * width + k]`, for every data row (only boosted and held-out rows are
    /// kept up to date).
    scores: Vec<f64>,
    grad: Vec<Vec<f64>>,
    hess: Vec<Vec<f64>>,
    offsets: Vec<usize>,
    cells: usize,
    trees: Vec<Vec<BoostTree>>,
}

impl<'a> Boosting<'a> {
    fn new(
        data: &'a Binned,
        targets: &'a Targets<'a>,
        train: &'a [u32],
        valid: &'a [u32],
        params: &'a GbmParams,
    ) -> Boosting<'a> {
        let width = targets.loss.width();
        let init = targets.initial_scores(train);
        let mut scores = vec![0.0; data.rows() * width];
        scores
            .chunks_mut(width)
            .for_each(|s| s.copy_from_slice(&init));
        let mut unique = train.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let (offsets, cells) = layout(data);
        Boosting {
            data,
            targets,
            params,
            train,
            unique,
            valid,
            init,
            scores,
            grad: vec![vec![0.0; data.rows()]; width],
            hess: vec![vec![0.0; data.rows()]; width],
            offsets,
            cells,
            trees: Vec::new(),
        }
    }

    /// Grows round `round`'s trees and updates the scores.
    fn round(&mut self, seed: u64, round: usize) {
        let width = self.targets.loss.width();
        self.targets
            .gradients(&self.unique, &self.scores, &mut self.grad, &mut self.hess);
        let mut rng = Rng::derive(seed, round as u64);
        let (sample, out_of_bag) = sample(self.train, self.params.sample_rate, &mut rng);
        // The rows a tree grew on move by their leaf's value, read from the leaves'
        // ranges, unless a row repeats (it would move twice); the others walk the tree.
        let by_leaf = self.train.len() == self.unique.len();
        let mut grown = Vec::with_capacity(width);
        for k in 0..width {
            let features =
                sample_features(self.data.features(), self.params.col_sample_rate, &mut rng);
            let grower = Grower {
                data: self.data,
                grad: &self.grad[k],
                hess: &self.hess[k],
                features: &features,
                offsets: &self.offsets,
                cells: self.cells,
                limits: self.limits(),
                unit_hessian: self.targets.loss == Loss::Squared,
            };
            let mut rows = sample.clone();
            let (tree, leaves) = grower.grow(&mut rows);
            let scores = &mut self.scores;
            let mut add = |r: u32, v: f64| scores[r as usize * width + k] += v;
            if by_leaf {
                for leaf in leaves {
                    rows[leaf.start..leaf.end]
                        .iter()
                        .for_each(|&r| add(r, leaf.value));
                }
                tree.add_binned(self.data, &out_of_bag, &mut add);
            } else {
                tree.add_binned(self.data, &self.unique, &mut add);
            }
            tree.add_binned(self.data, self.valid, &mut add);
            grown.push(tree);
        }
        self.trees.push(grown);
    }

    fn limits(&self) -> TreeLimits {
        let p = self.params;
        TreeLimits {
            leaves: p.max_leaves.max(2),
            max_depth: p.max_depth,
            split: SplitLimits {
                min_rows: effective_min_rows(p.min_rows, self.train.len()) as f64,
                min_hessian: MIN_HESSIAN,
                lambda: p.lambda,
            },
            shrink: p.learn_rate,
            max_step: match self.targets.loss {
                Loss::Squared => f64::INFINITY,
                Loss::Logistic | Loss::Softmax(_) => grow::MAX_STEP,
            },
        }
    }

    /// The mean loss of `rows` at the current scores.
    fn loss(&self, rows: &[u32]) -> f64 {
        self.targets.deviance(rows, &self.scores)
    }
}

/// The fewest rows per leaf for a fit of `rows` rows asking for `min_rows`.
pub(crate) fn effective_min_rows(min_rows: usize, rows: usize) -> usize {
    min_rows.min((rows / 10).max(2)).max(1)
}

/// `rate` of `rows` (at least one), drawn without replacement, in their order, and the
/// rows not drawn, in their order; all of them (and none) at rate 1.
fn sample(rows: &[u32], rate: f64, rng: &mut Rng) -> (Vec<u32>, Vec<u32>) {
    if rate >= 1.0 {
        return (rows.to_vec(), Vec::new());
    }
    let n = rows.len();
    let m = ((n as f64 * rate).round() as usize).clamp(n.min(1), n);
    let mut picked: Vec<u32> = (0..n as u32).collect();
    for i in 0..m {
        let j = i + rng.below(n - i);
        picked.swap(i, j);
    }
    let mut drawn = vec![false; n];
    picked[..m].iter().for_each(|&i| drawn[i as usize] = true);
    let mut inside = Vec::with_capacity(m);
    let mut outside = Vec::with_capacity(n - m);
    for (&row, &d) in rows.iter().zip(&drawn) {
        if d {
            inside.push(row);
        } else {
            outside.push(row);
        }
    }
    (inside, outside)
}

/// `rate` of the features `0..p` (at least one), sorted; all of them at rate 1.
fn sample_features(p: usize, rate: f64, rng: &mut Rng) -> Vec<usize> {
    let all: Vec<u32> = (0..p as u32).collect();
    sample(&all, rate, rng)
        .0
        .into_iter()
        .map(|f| f as usize)
        .collect()
}

#[cfg(test)]
mod tests;
