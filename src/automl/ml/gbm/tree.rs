//! A boosted tree: splits on a threshold (numerical features) or a set of levels
//! (categorical features), each knowing where missing values go, and leaves that hold
//! their already-shrunk contribution to the score.

use super::super::tree::{add_gains, value_at, walk, BinRule, Binned, Node};

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
    #[cfg(test)]
    pub(crate) fn predict_binned(&self, data: &Binned, row: usize) -> f64 {
        let leaf = walk(&self.nodes, |f, rule| {
            rule.left_bin(data.bins[f][row], &data.cuts[f])
        });
        leaf.copied().unwrap_or(0.0)
    }

    /// Calls `add(row, score)` with the leaf score of each row of `rows` of the binned
    /// data it was grown on (the leaf it walks to), its rules turned into tests on bins
    /// once.
    pub(crate) fn add_binned(&self, data: &Binned, rows: &[u32], mut add: impl FnMut(u32, f64)) {
        let steps: Vec<Step<'_>> = self
            .nodes
            .iter()
            .map(|node| match node {
                Node::Leaf(value) => Step::Leaf(*value),
                Node::Split {
                    feature,
                    rule,
                    left,
                    right,
                    ..
                } => Step::Split {
                    feature: *feature,
                    rule: rule.on_bins(&data.cuts[*feature]),
                    left: *left,
                    right: *right,
                },
            })
            .collect();
        if steps.is_empty() {
            return;
        }
        for &r in rows {
            let row = r as usize;
            let mut node = 0;
            let value = loop {
                match steps[node] {
                    Step::Leaf(value) => break value,
                    Step::Split {
                        feature,
                        rule,
                        left,
                        right,
                    } => {
                        node = if rule.left(data.bins[feature][row]) {
                            left
                        } else {
                            right
                        }
                    }
                }
            };
            add(r, value);
        }
    }

    /// Adds each split's gain to `out[feature]`.
    pub(crate) fn add_gains(&self, out: &mut [f64]) {
        add_gains(&self.nodes, out);
    }
}

/// A node of a tree being walked on binned rows.
#[derive(Clone, Copy)]
enum Step<'a> {
    Leaf(f64),
    Split {
        feature: usize,
        rule: BinRule<'a>,
        left: usize,
        right: usize,
    },
}
