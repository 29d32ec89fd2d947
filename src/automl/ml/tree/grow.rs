//! Growing one tree depth first: a node becomes a leaf when it is pure, too small or
//! too deep, or when no sampled feature gains; otherwise it splits by the best split of
//! the features sampled for it, its rows are partitioned in place and each child grows
//! on its part.
//!
//! At each node, the rows' targets are gathered once in row order (`(output, value)`:
//! the class's slot and 1, or the regression target), so that each sampled feature's
//! histogram is one sequential pass over them; the node's sums are gathered with them.

use super::super::rng::Rng;
use super::labels::Labels;
use super::split::{Found, Search};
use super::{partition, Binned, Node, Tree, TreeParams};

/// The state of one tree's growth.
pub(super) struct Grower<'a, 'r> {
    pub(super) data: &'a Binned,
    pub(super) labels: Labels<'a>,
    pub(super) params: TreeParams,
    pub(super) rng: &'r mut Rng,
    pub(super) tree: Tree,
    /// Every feature, in the order the last node sampled them.
    pub(super) features: Vec<usize>,
    pub(super) search: Search,
    /// The current node's targets, in row order.
    pub(super) targets: Vec<(u32, f64)>,
    /// The current node's sums `[n, s₀, s₁, ...]`.
    pub(super) total: Vec<f64>,
}

impl Grower<'_, '_> {
    /// Grows the subtree of `rows` at `depth`; returns its root's index.
    pub(super) fn grow(&mut self, rows: &mut [u32], depth: usize) -> usize {
        let index = self.tree.nodes.len();
        self.gather(rows);
        let min_rows = self.params.min_leaf.max(1);
        let splittable = depth < self.params.max_depth
            && rows.len() >= 2 * min_rows
            && !self.labels.is_pure(rows);
        let found = match splittable {
            true => self.best_split(rows),
            false => None,
        };
        let Some(found) = found else {
            self.leaf();
            return index;
        };
        let (bins, cuts) = (
            &self.data.bins[found.feature],
            &self.data.cuts[found.feature],
        );
        let mid = partition(rows, |r| found.rule.left_bin(bins[r as usize], cuts));
        self.tree.nodes.push(Node::Leaf(0));
        let (left_rows, right_rows) = rows.split_at_mut(mid);
        let left = self.grow(left_rows, depth + 1);
        let right = self.grow(right_rows, depth + 1);
        self.tree.nodes[index] = Node::Split {
            feature: found.feature,
            rule: found.rule,
            left,
            right,
            gain: found.gain,
        };
        index
    }

    /// Gathers the targets and sums of `rows`.
    fn gather(&mut self, rows: &[u32]) {
        self.targets.clear();
        self.targets
            .extend(rows.iter().map(|&r| self.labels.target(r as usize)));
        self.total.fill(0.0);
        self.total[0] = rows.len() as f64;
        for &(output, value) in &self.targets {
            self.total[1 + output as usize] += value;
        }
    }

    /// Makes a leaf holding the mean target vector of the gathered rows.
    fn leaf(&mut self) {
        let start = self.tree.values.len();
        let n = self.total[0].max(1.0);
        self.tree
            .values
            .extend(self.total[1..].iter().map(|s| s / n));
        self.tree.nodes.push(Node::Leaf(start));
    }

    /// Samples features until `mtry` were tried and a split was found (or none is
    /// left); the best split of those tried.
    fn best_split(&mut self, rows: &[u32]) -> Option<Found> {
        let p = self.features.len();
        let min_rows = self.params.min_leaf.max(1) as f64;
        let mut best: Option<Found> = None;
        for i in 0..p {
            if i >= self.params.mtry && best.is_some() {
                break;
            }
            let j = i + self.rng.below(p - i);
            self.features.swap(i, j);
            let feature = self.features[i];
            let candidate = self.search.best(
                self.data,
                feature,
                rows,
                &self.targets,
                &self.total,
                min_rows,
            );
            if let Some(c) = candidate.filter(|c| best.as_ref().is_none_or(|b| c.gain > b.gain)) {
                best = Some(c);
            }
        }
        best
    }
}
