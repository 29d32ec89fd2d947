//! A boosted tree: splits on a threshold (numerical features) or a set of levels
//! (categorical features), each knowing where missing values go, and leaves that hold
//! their already-shrunk contribution to the score.

use super::super::tree::{Binned, Rule};

/// A node of a boosted tree; children always come after their parent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BoostNode {
    /// The shrunk score this leaf adds.
    Leaf(f64),
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
        /// The loss reduction of the split.
        gain: f64,
    },
}

/// A fitted boosted tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BoostTree {
    pub(crate) nodes: Vec<BoostNode>,
}

impl BoostTree {
    /// The leaf score for one encoded row (tree mode: raw numbers and level codes).
    pub(crate) fn predict_row(&self, row: &[f64]) -> f64 {
        self.walk(|feature, rule| rule.left_value(row.get(feature).copied().unwrap_or(f64::NAN)))
    }

    /// The leaf score for row `row` of the binned data it was grown on.
    pub(crate) fn predict_binned(&self, data: &Binned, row: usize) -> f64 {
        self.walk(|f, rule| rule.left_bin(data.bins[f][row], &data.cuts[f]))
    }

    fn walk(&self, left: impl Fn(usize, &Rule) -> bool) -> f64 {
        let mut node = 0;
        loop {
            match self.nodes.get(node) {
                Some(BoostNode::Split {
                    feature,
                    rule,
                    left: l,
                    right: r,
                    ..
                }) => node = if left(*feature, rule) { *l } else { *r },
                Some(BoostNode::Leaf(value)) => return *value,
                None => return 0.0,
            }
        }
    }

    /// Adds each split's gain to `out[feature]`.
    pub(crate) fn add_gains(&self, out: &mut [f64]) {
        for node in &self.nodes {
            if let BoostNode::Split { feature, gain, .. } = node {
                if let Some(o) = out.get_mut(*feature) {
                    *o += gain;
                }
            }
        }
    }
}
