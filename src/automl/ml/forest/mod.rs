//! Random forests: CART trees grown on samples of the rows, with features sampled at
//! every node, as H2O's DRF does.
//!
//! Each tree grows on its own sample of the rows: by default 63.2% of them drawn
//! without replacement (H2O's `sample_rate`; the share of distinct rows a bootstrap
//! holds), and at each node considers `mtries` randomly chosen features: `⌊√p⌋` for
//! classification and `⌊p / 3⌋` for regression unless set (at least 1; more are tried
//! while none of those gains). Trees grow to depth 20 and down to single rows
//! ([`ForestParams`]). They split the tree-mode data natively (module `tree`):
//! thresholds on numbers, sets of levels on categorical codes, missing values sent to
//! the better side. The forest averages the trees' leaf predictions: means for
//! regression, class frequencies for classification.
//!
//! Tree `t` draws its rows and features from its own random stream derived from the
//! seed, so a forest is reproducible; the cancel flag is checked before every tree.

#[cfg(test)]
mod measure;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};

use super::error::TrainError;
use super::linalg::Matrix;
use super::model::Output;
use super::rng::Rng;
use super::tree::{Binned, Labels, Node, Tree, TreeParams, MAX_BINS};

/// The forest settings, named as H2O's DRF names them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ForestParams {
    /// Trees in the forest.
    pub(crate) ntrees: usize,
    /// Deepest level of a split (the root is depth 0).
    pub(crate) max_depth: usize,
    /// Fewest training rows in a leaf.
    pub(crate) min_rows: usize,
    /// Features tried at each node; `None`: `⌊√p⌋` for classification, `⌊p / 3⌋` for
    /// regression. A fitted forest holds the number it used.
    pub(crate) mtries: Option<usize>,
    /// Share of the rows each tree grows on, drawn without replacement.
    pub(crate) sample_rate: f64,
}

impl Default for ForestParams {
    /// H2O's DRF defaults: 50 trees of depth 20, leaves of one row, 63.2% of the rows
    /// per tree.
    fn default() -> Self {
        ForestParams {
            ntrees: 50,
            max_depth: 20,
            min_rows: 1,
            mtries: None,
            sample_rate: 0.632,
        }
    }
}

impl ForestParams {
    /// Checks that the settings can grow a forest.
    ///
    /// # Errors
    /// [`TrainError::BadSpec`] naming the setting: `ntrees`, `min_rows` or `mtries` of
    /// 0, or a `sample_rate` outside `(0, 1]`.
    pub(crate) fn check(&self) -> Result<(), TrainError> {
        let bad = |m: String| Err(TrainError::BadSpec(format!("DRF: {m}")));
        if self.ntrees == 0 {
            return bad("ntrees must be at least 1".into());
        }
        if self.min_rows == 0 || self.mtries == Some(0) {
            return bad("min_rows and mtries must be at least 1".into());
        }
        if !(self.sample_rate > 0.0 && self.sample_rate <= 1.0) {
            let rate = self.sample_rate;
            return bad(format!(
                "sample_rate must be above 0 and at most 1, not {rate}"
            ));
        }
        Ok(())
    }

    /// The most bytes a forest grown with these settings on `rows` rows holds, with
    /// leaves of `outputs` values: each tree has at most one leaf per `min_rows` sampled
    /// rows (and `2^max_depth`), and one split fewer than leaves.
    pub(crate) fn max_bytes(&self, rows: usize, outputs: usize) -> usize {
        let sampled = (rows as f64 * self.sample_rate.clamp(0.0, 1.0)).ceil() as usize;
        let depth_limit = 1usize.checked_shl(self.max_depth.min(63) as u32);
        let leaves = (sampled / self.min_rows.max(1))
            .max(1)
            .min(depth_limit.unwrap_or(usize::MAX));
        let nodes = leaves.saturating_mul(2).saturating_mul(size_of::<Node>());
        let values = leaves
            .saturating_mul(outputs)
            .saturating_mul(size_of::<f64>());
        nodes.saturating_add(values).saturating_mul(self.ntrees)
    }
}

/// A fitted random forest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Forest {
    pub(crate) trees: Vec<Tree>,
    /// `Some(k)` for a classifier over `k` classes.
    pub(crate) classes: Option<usize>,
    /// The settings it grew with, `mtries` resolved.
    pub(crate) params: ForestParams,
}

impl Forest {
    /// Grows a forest on every row of `x` (all numerical columns).
    ///
    /// # Errors
    /// Those of [`Forest::fit`].
    pub(crate) fn fit_matrix(
        x: &Matrix,
        labels: Labels<'_>,
        params: &ForestParams,
        seed: u64,
        cancel: &AtomicBool,
    ) -> Result<Forest, TrainError> {
        let rows: Vec<u32> = (0..x.rows() as u32).collect();
        Forest::fit(&Binned::new(x), &rows, labels, params, seed, cancel)
    }

    /// Grows a forest on rows `rows` of `data` (repeats count twice), whose `labels`
    /// are indexed by data row, checking `cancel` before every tree.
    ///
    /// # Errors
    /// [`TrainError::BadSpec`] for settings [`ForestParams::check`] refuses;
    /// [`TrainError::Cancelled`] once `cancel` is set.
    pub(crate) fn fit(
        data: &Binned,
        rows: &[u32],
        labels: Labels<'_>,
        params: &ForestParams,
        seed: u64,
        cancel: &AtomicBool,
    ) -> Result<Forest, TrainError> {
        params.check()?;
        let classes = match labels {
            Labels::Values(_) => None,
            Labels::Classes(_, k) => Some(k),
        };
        let mtry = params
            .mtries
            .unwrap_or_else(|| default_mtries(classes.is_some(), data.features()))
            .clamp(1, data.features().max(1));
        let tree_params = TreeParams {
            max_depth: params.max_depth,
            min_leaf: params.min_rows,
            mtry,
        };
        let mut trees = Vec::with_capacity(params.ntrees);
        for t in 0..params.ntrees {
            if cancel.load(Ordering::Relaxed) {
                return Err(TrainError::Cancelled);
            }
            let mut rng = Rng::derive(seed, t as u64);
            let mut sample = sample(rows, params.sample_rate, &mut rng);
            trees.push(Tree::grow(data, labels, &mut sample, tree_params, &mut rng));
        }
        Ok(Forest {
            trees,
            classes,
            params: ForestParams {
                mtries: Some(mtry),
                ..params.clone()
            },
        })
    }

    /// Adds every split's gain to `out[feature]`.
    pub(crate) fn add_gains(&self, out: &mut [f64]) {
        self.trees.iter().for_each(|t| t.add_gains(out));
    }

    /// The forest's settings, by their H2O names (`mtries`: features tried per split).
    pub(crate) fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        let p = &self.params;
        vec![
            ("ntrees", self.trees.len() as f64),
            ("max_depth", p.max_depth as f64),
            ("min_rows", p.min_rows as f64),
            ("mtries", p.mtries.unwrap_or(0) as f64),
            ("sample_rate", p.sample_rate),
            ("nbins", MAX_BINS as f64),
        ]
    }

    /// Predicts every row of `x` (tree mode): the mean of the trees' leaf values.
    pub(crate) fn predict(&self, x: &Matrix) -> Output {
        let width = self.classes.unwrap_or(1);
        let mut sums = Matrix::zeros(x.rows(), width);
        for (i, row) in x.iter_rows().enumerate() {
            let out = sums.row_mut(i);
            for tree in &self.trees {
                out.iter_mut()
                    .zip(tree.predict_row(row))
                    .for_each(|(o, v)| *o += v);
            }
            let n = self.trees.len().max(1) as f64;
            out.iter_mut().for_each(|o| *o /= n);
        }
        match self.classes {
            Some(_) => Output::Probs(sums),
            None => Output::Values(sums.iter_rows().map(|r| r[0]).collect()),
        }
    }
}

/// H2O's default features per node: `⌊√p⌋` for a classifier, `⌊p / 3⌋` for regression.
fn default_mtries(classifier: bool, p: usize) -> usize {
    match classifier {
        true => (p as f64).sqrt().floor() as usize,
        false => p / 3,
    }
}

/// A share `rate` of `rows` drawn without replacement (at least one row), in row
/// order so that a tree reads the bins in memory order.
fn sample(rows: &[u32], rate: f64, rng: &mut Rng) -> Vec<u32> {
    let mut sample = rows.to_vec();
    let k = ((rows.len() as f64 * rate).round() as usize).clamp(1, rows.len().max(1));
    for i in 0..k.min(rows.len()) {
        let j = i + rng.below(rows.len() - i);
        sample.swap(i, j);
    }
    sample.truncate(k);
    sample.sort_unstable();
    sample
}
