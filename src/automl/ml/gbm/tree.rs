//! A boosted tree: splits on a threshold (numerical features) or a set of levels
//! (categorical features), each knowing where missing values go, and leaves that hold
//! their already-shrunk contribution to the score.

use super::super::tree::{add_gains, value_at, walk, Binned, Node};

/// A node of a boosted tree: a leaf holds the shrunk score it adds.
pub(crate) type BoostNode = Node<f64>;

/// A fitted boosted tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BoostTree {
    pub(crate) nodes: Vec<BoostNode>,
}

impl BoostTree {
    /// The leaf score for one encoded row (tree mode: raw numbers and level codes).
    pub(crate) fn predict_row(&self, row: &[f64]) -> f64 {
        let leaf = walk(&self.nodes, |f, rule| rule.left_value(value_at(row, f)));
        leaf.copied().unwrap_or(0.0)
    }

    /// The leaf score for row `row` of the binned data it was grown on.
    pub(crate) fn predict_binned(&self, data: &Binned, row: usize) -> f64 {
        let leaf = walk(&self.nodes, |f, rule| {
            rule.left_bin(data.bins[f][row], &data.cuts[f])
        });
        leaf.copied().unwrap_or(0.0)
    }

    /// Adds each split's gain to `out[feature]`.
    pub(crate) fn add_gains(&self, out: &mut [f64]) {
        add_gains(&self.nodes, out);
    }
}
