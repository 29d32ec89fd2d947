//! Random forests: bagged CART trees with feature sampling at every node.
//!
//! Each tree grows on a bootstrap sample of the rows (drawn with replacement) and, at
//! each node, considers `√p` randomly chosen features for classification or `p / 3`
//! for regression. The forest averages the trees' leaf predictions: means for
//! regression, class frequencies for classification. Tree `t` draws from its own random
//! stream derived from the seed, so a forest is reproducible.

use std::sync::atomic::{AtomicBool, Ordering};

use super::error::TrainError;
use super::linalg::Matrix;
use super::model::Output;
use super::rng::Rng;
use super::tree::{Binned, Labels, Tree, TreeParams, MAX_BINS};

/// Trees per forest; modest so that cross-validation stays fast.
const TREES: usize = 30;
const MAX_DEPTH: usize = 12;
const MIN_LEAF_REGRESSION: usize = 3;
const MIN_LEAF_CLASSIFICATION: usize = 1;

/// A fitted random forest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Forest {
    pub(crate) trees: Vec<Tree>,
    /// `Some(k)` for a classifier over `k` classes.
    pub(crate) classes: Option<usize>,
    /// The limits every tree grew under.
    pub(crate) params: TreeParams,
}

impl Forest {
    /// Grows a forest on `x` and `labels`, checking `cancel` before every tree.
    ///
    /// # Errors
    /// [`TrainError::Cancelled`] once `cancel` is set.
    pub(crate) fn fit(
        x: &Matrix,
        labels: Labels<'_>,
        seed: u64,
        cancel: &AtomicBool,
    ) -> Result<Forest, TrainError> {
        let data = Binned::new(x);
        let params = params_for(labels, x.cols());
        let n = x.rows();
        let mut trees = Vec::with_capacity(TREES);
        for t in 0..TREES {
            if cancel.load(Ordering::Relaxed) {
                return Err(TrainError::Cancelled);
            }
            let mut rng = Rng::derive(seed, t as u64);
            let mut rows: Vec<u32> = (0..n).map(|_| rng.below(n) as u32).collect();
            trees.push(Tree::grow(&data, labels, &mut rows, params, &mut rng));
        }
        let classes = match labels {
            Labels::Values(_) => None,
            Labels::Classes(_, k) => Some(k),
        };
        Ok(Forest {
            trees,
            classes,
            params,
        })
    }

    /// Adds every split's gain to `out[feature]`.
    pub(crate) fn add_gains(&self, out: &mut [f64]) {
        self.trees.iter().for_each(|t| t.add_gains(out));
    }

    /// The forest's settings, by their H2O names (`mtries`: features tried per split).
    pub(crate) fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("ntrees", self.trees.len() as f64),
            ("max_depth", self.params.max_depth as f64),
            ("min_rows", self.params.min_leaf as f64),
            ("mtries", self.params.mtry as f64),
            ("nbins", MAX_BINS as f64),
        ]
    }

    /// Predicts every row of `x`.
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

fn params_for(labels: Labels<'_>, p: usize) -> TreeParams {
    let (mtry, min_leaf) = match labels {
        Labels::Values(_) => (p / 3, MIN_LEAF_REGRESSION),
        Labels::Classes(..) => ((p as f64).sqrt().round() as usize, MIN_LEAF_CLASSIFICATION),
    };
    TreeParams {
        max_depth: MAX_DEPTH,
        min_leaf,
        mtry: mtry.max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize) -> Matrix {
        let mut x = Matrix::zeros(n, 2);
        for i in 0..n {
            x.row_mut(i)
                .copy_from_slice(&[(i % 20) as f64, (i / 20) as f64]);
        }
        x
    }

    #[test]
    fn regression_forest_fits_a_smooth_function() {
        let x = grid(400);
        let y: Vec<f64> = x.iter_rows().map(|r| r[0] + 2.0 * r[1]).collect();
        let forest = Forest::fit(&x, Labels::Values(&y), 7, &AtomicBool::new(false)).unwrap();
        let Output::Values(pred) = forest.predict(&x) else {
            panic!()
        };
        let mae = pred.iter().zip(&y).map(|(p, t)| (p - t).abs()).sum::<f64>() / 400.0;
        assert!(mae < 2.5, "mae {mae}");
    }

    #[test]
    fn is_deterministic_and_cancellable() {
        let x = grid(100);
        let c: Vec<usize> = x.iter_rows().map(|r| usize::from(r[0] > 9.5)).collect();
        let a = Forest::fit(&x, Labels::Classes(&c, 2), 3, &AtomicBool::new(false)).unwrap();
        let b = Forest::fit(&x, Labels::Classes(&c, 2), 3, &AtomicBool::new(false)).unwrap();
        assert_eq!(a, b);
        let stopped = Forest::fit(&x, Labels::Classes(&c, 2), 3, &AtomicBool::new(true));
        assert_eq!(stopped, Err(TrainError::Cancelled));
    }
}
