//! CART decision trees grown on histogram-binned features, for random forests.
//!
//! The training data arrives binned ([`Binned`]): a numerical feature's values cut at
//! quantiles into at most [`MAX_BINS`] bins, a categorical feature's level codes one bin
//! per level, and bin 0 for missing values in both. A tree grows depth first (module
//! `grow`); at each node it samples candidate features and finds each one's best split
//! from a histogram of the node's rows (module `split`): a threshold for a numerical
//! feature, a set of levels for a categorical one, the missing values sent to the
//! better side. A split keeps its [`Rule`], the same as a boosted tree's.
//!
//! Regression and classification share one criterion. Each row carries a target vector
//! (`[y]` for regression, the one-hot class for classification); a node's score is
//! `Σⱼ sⱼ² / n` over the summed target vector `s`. The gain of a split, score(left) +
//! score(right) − score(node), is then the reduction of the squared error for
//! regression and of the Gini impurity (times `n`) for classification. Each split
//! keeps its gain, so a tree can tell how much each feature reduced the impurity.
//!
//! A tree predicts from a row in the encoder's tree mode (raw numbers with NaN for
//! missing, level codes), so a fitted tree needs no bins.

mod binned;
mod grow;
mod labels;
mod rule;
mod split;

use super::rng::Rng;
pub(crate) use binned::{Binned, ColumnKind, MAX_BINS, OTHER_BIN};
use grow::Grower;
pub(crate) use labels::Labels;
pub(crate) use rule::{bit, set_bit, BinRule, Rule};
use split::Search;

/// Growth limits of one tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TreeParams {
    /// Deepest level of a split (the root is depth 0).
    pub(crate) max_depth: usize,
    /// Fewest rows in a leaf.
    pub(crate) min_leaf: usize,
    /// Features sampled as split candidates at each node.
    pub(crate) mtry: usize,
}

/// A node of a tree, whose leaves hold `L`; children always come after their parent.
/// A forest's leaf is the start of its values in [`Tree::values`], a boosted tree's
/// leaf its score.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node<L = usize> {
    /// A leaf.
    Leaf(L),
    /// A split of `feature` by `rule`.
    Split {
        /// The encoded column split on.
        feature: usize,
        /// Which rows go left.
        rule: Rule,
        /// The left child's index.
        left: usize,
        /// The right child's index.
        right: usize,
        /// The impurity decrease of the split.
        gain: f64,
    },
}

/// A fitted tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    pub(crate) nodes: Vec<Node>,
    pub(crate) values: Vec<f64>,
    pub(crate) width: usize,
}

impl Tree {
    /// Grows a tree on the training rows `rows` of `data` (repeats count twice), whose
    /// `labels` are indexed by data row; `rows` is reordered.
    pub(crate) fn grow(
        data: &Binned,
        labels: Labels<'_>,
        rows: &mut [u32],
        params: TreeParams,
        rng: &mut Rng,
    ) -> Tree {
        let width = labels.width();
        let mut grower = Grower {
            data,
            labels,
            params,
            rng,
            tree: Tree {
                nodes: Vec::new(),
                values: Vec::new(),
                width,
            },
            features: (0..data.features()).collect(),
            search: Search::new(width),
            targets: Vec::with_capacity(rows.len()),
            total: vec![0.0; width + 1],
        };
        grower.grow(rows, 0);
        grower.tree
    }

    /// Adds each split's gain to `out[feature]` (`out` has one entry per column).
    pub(crate) fn add_gains(&self, out: &mut [f64]) {
        add_gains(&self.nodes, out);
    }

    /// The leaf prediction for one row in tree mode: `[mean]` or class frequencies.
    pub(crate) fn predict_row(&self, row: &[f64]) -> &[f64] {
        match walk(&self.nodes, |f, rule| rule.left_value(value_at(row, f))) {
            Some(&start) => &self.values[start..start + self.width],
            None => &[],
        }
    }
}

/// Column `feature` of an encoded row (NaN beyond its end).
pub(crate) fn value_at(row: &[f64], feature: usize) -> f64 {
    row.get(feature).copied().unwrap_or(f64::NAN)
}

/// The leaf that `nodes` lead to from the root when `left(feature, rule)` says which
/// way each split goes (`None` for an empty tree).
pub(crate) fn walk<L>(nodes: &[Node<L>], left: impl Fn(usize, &Rule) -> bool) -> Option<&L> {
    let mut node = 0;
    loop {
        match nodes.get(node)? {
            Node::Split {
                feature,
                rule,
                left: l,
                right: r,
                ..
            } => node = if left(*feature, rule) { *l } else { *r },
            Node::Leaf(leaf) => return Some(leaf),
        }
    }
}

/// Adds the gain of each split of `nodes` to `out[feature]`.
pub(crate) fn add_gains<L>(nodes: &[Node<L>], out: &mut [f64]) {
    for node in nodes {
        if let Node::Split { feature, gain, .. } = node {
            if let Some(o) = out.get_mut(*feature) {
                *o += gain;
            }
        }
    }
}

/// Moves the rows for which `left` holds to the front; returns how many there are.
pub(crate) fn partition(rows: &mut [u32], left: impl Fn(u32) -> bool) -> usize {
    let mut mid = 0;
    for i in 0..rows.len() {
        if left(rows[i]) {
            rows.swap(mid, i);
            mid += 1;
        }
    }
    mid
}

#[cfg(test)]
mod tests {
    use super::super::linalg::Matrix;
    use super::*;

    fn column(values: &[f64]) -> Matrix {
        let mut m = Matrix::zeros(values.len(), 1);
        values
            .iter()
            .enumerate()
            .for_each(|(i, &v)| m.row_mut(i)[0] = v);
        m
    }

    #[test]
    fn regression_tree_finds_a_step() {
        let x = column(&[0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 13.0]);
        let y = [1.0, 1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 5.0];
        let mut rows: Vec<u32> = (0..8).collect();
        let params = TreeParams {
            max_depth: 4,
            min_leaf: 1,
            mtry: 1,
        };
        let tree = Tree::grow(
            &Binned::new(&x),
            Labels::Values(&y),
            &mut rows,
            params,
            &mut Rng::new(1),
        );
        assert_eq!(tree.predict_row(&[2.5]), &[1.0]);
        assert_eq!(tree.predict_row(&[20.0]), &[5.0]);
        assert_eq!(tree.nodes.len(), 3);
        // The split removes all of the squared error: 8 · 2² = 32.
        let mut gains = [0.0];
        tree.add_gains(&mut gains);
        assert!((gains[0] - 32.0).abs() < 1e-9, "{gains:?}");
    }

    #[test]
    fn classification_leaves_hold_frequencies() {
        let x = column(&[0.0, 0.0, 0.0, 1.0]);
        let classes = [0, 1, 1, 2];
        let mut rows: Vec<u32> = (0..4).collect();
        let params = TreeParams {
            max_depth: 3,
            min_leaf: 1,
            mtry: 1,
        };
        let tree = Tree::grow(
            &Binned::new(&x),
            Labels::Classes(&classes, 3),
            &mut rows,
            params,
            &mut Rng::new(1),
        );
        let p = tree.predict_row(&[0.0]);
        assert!((p[1] - 2.0 / 3.0).abs() < 1e-12 && p[2] == 0.0);
        assert_eq!(tree.predict_row(&[1.0]), &[0.0, 0.0, 1.0]);
    }
}
