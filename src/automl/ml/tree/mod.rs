//! CART decision trees grown on histogram-binned features.
//!
//! Before growing, each feature is cut into at most [`MAX_BINS`] bins at quantiles of
//! its training values ([`Binned`]). A node then finds its best split by one pass over
//! its rows per candidate feature, filling a per-bin histogram, and one scan over the
//! bins. A split sends `x <= cut` (and missing values) left.
//!
//! Regression and classification share one criterion. Each row carries a target vector
//! (`[y]` for regression, the one-hot class for classification); a node's score is
//! `Σⱼ sⱼ² / n` over the summed target vector `s`. The gain of a split, score(left) +
//! score(right) − score(node), is then the reduction of the squared error for
//! regression and of the Gini impurity (times `n`) for classification. Each split
//! keeps its gain, so a tree can tell how much each feature reduced the impurity.

mod binned;
mod labels;

use super::rng::Rng;
pub(crate) use binned::{code_bin, Binned, ColumnKind, MAX_BINS, OTHER_BIN};
pub(crate) use labels::Labels;

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

/// A node of a tree; children always come after their parent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// Prediction stored at `values[start..start + width]`.
    Leaf { start: usize },
    Split {
        feature: usize,
        cut: f64,
        left: usize,
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

/// The best split found at a node.
#[derive(Debug, Clone, Copy)]
struct Split {
    feature: usize,
    bin: u8,
    gain: f64,
}

impl Tree {
    /// Grows a tree on the (possibly repeated) training rows `rows`.
    pub(crate) fn grow(
        data: &Binned,
        labels: Labels<'_>,
        rows: &mut [u32],
        params: TreeParams,
        rng: &mut Rng,
    ) -> Tree {
        let tree = Tree {
            nodes: Vec::new(),
            values: Vec::new(),
            width: labels.width(),
        };
        let features = (0..data.features()).collect();
        let mut grower = Grower {
            data,
            labels,
            params,
            rng,
            tree,
            features,
        };
        grower.grow(rows, 0);
        grower.tree
    }

    /// Adds each split's gain to `out[feature]` (`out` has one entry per column).
    pub(crate) fn add_gains(&self, out: &mut [f64]) {
        for node in &self.nodes {
            if let Node::Split { feature, gain, .. } = node {
                out[*feature] += gain;
            }
        }
    }

    /// The leaf prediction for one encoded row: `[mean]`, class frequencies or
    /// `[Newton step]`.
    pub(crate) fn predict_row(&self, row: &[f64]) -> &[f64] {
        let mut node = 0;
        loop {
            match self.nodes.get(node) {
                Some(Node::Split {
                    feature,
                    cut,
                    left,
                    right,
                    ..
                }) => {
                    node = if row.get(*feature).is_some_and(|v| v.is_nan() || v <= cut) {
                        *left
                    } else {
                        *right
                    };
                }
                Some(Node::Leaf { start }) => return &self.values[*start..*start + self.width],
                None => return &[],
            }
        }
    }
}

struct Grower<'a, 'r> {
    data: &'a Binned,
    labels: Labels<'a>,
    params: TreeParams,
    rng: &'r mut Rng,
    tree: Tree,
    features: Vec<usize>,
}

impl Grower<'_, '_> {
    fn grow(&mut self, rows: &mut [u32], depth: usize) -> usize {
        let index = self.tree.nodes.len();
        self.tree.nodes.push(Node::Leaf { start: 0 });
        let splittable = depth < self.params.max_depth
            && rows.len() >= 2 * self.params.min_leaf.max(1)
            && !self.labels.is_pure(rows);
        let split = if splittable {
            self.best_split(rows)
        } else {
            None
        };
        self.tree.nodes[index] = match split {
            Some(split) => {
                let bins = &self.data.bins[split.feature];
                let mid = partition(rows, |r| bins[r as usize] <= split.bin);
                let (left_rows, right_rows) = rows.split_at_mut(mid);
                let left = self.grow(left_rows, depth + 1);
                let right = self.grow(right_rows, depth + 1);
                let cut = self.data.cut(split.feature, usize::from(split.bin));
                Node::Split {
                    feature: split.feature,
                    cut,
                    left,
                    right,
                    gain: split.gain,
                }
            }
            None => self.leaf(rows),
        };
        index
    }

    fn leaf(&mut self, rows: &[u32]) -> Node {
        let start = self.tree.values.len();
        self.tree.values.extend(self.labels.leaf_values(rows));
        Node::Leaf { start }
    }

    /// Samples features until `mtry` were tried and a split was found (or none is left).
    fn best_split(&mut self, rows: &[u32]) -> Option<Split> {
        let p = self.features.len();
        let mut best: Option<Split> = None;
        for i in 0..p {
            if i >= self.params.mtry && best.is_some() {
                break;
            }
            let j = i + self.rng.below(p - i);
            self.features.swap(i, j);
            let candidate = self.best_cut(self.features[i], rows);
            if let Some(c) = candidate.filter(|c| best.is_none_or(|b| c.gain > b.gain)) {
                best = Some(c);
            }
        }
        best
    }

    /// The best cut of one feature, by a histogram of per-bin target sums.
    fn best_cut(&self, feature: usize, rows: &[u32]) -> Option<Split> {
        let n_bins = self.data.n_bins[feature];
        if n_bins < 3 {
            return None;
        }
        let w = self.tree.width + 1;
        let mut hist = vec![0.0; n_bins * w];
        let bins = &self.data.bins[feature];
        for &r in rows {
            let cell = &mut hist[bins[r as usize] as usize * w..][..w];
            cell[0] += 1.0;
            self.labels.add(r as usize, &mut cell[1..]);
        }
        let total: Vec<f64> = (0..w)
            .map(|j| hist.iter().skip(j).step_by(w).sum())
            .collect();
        let parent = score(&total);
        let min_leaf = self.params.min_leaf.max(1) as f64;
        let mut left = vec![0.0; w];
        let mut best: Option<Split> = None;
        // Bin 0 (missing values) always goes left, with the lowest values.
        left.copy_from_slice(&hist[..w]);
        for bin in 1..n_bins - 1 {
            left.iter_mut()
                .zip(&hist[bin * w..(bin + 1) * w])
                .for_each(|(l, h)| *l += h);
            let right: Vec<f64> = total.iter().zip(&left).map(|(t, l)| t - l).collect();
            if left[0] < min_leaf || right[0] < min_leaf {
                continue;
            }
            let gain = score(&left) + score(&right) - parent;
            if gain > 1e-12 * parent.abs().max(1.0) && best.is_none_or(|b| gain > b.gain) {
                best = Some(Split {
                    feature,
                    bin: bin as u8,
                    gain,
                });
            }
        }
        best
    }
}

/// `Σ sⱼ² / n` of a stats vector `[n, s₀, s₁, ...]`.
fn score(stats: &[f64]) -> f64 {
    stats[1..].iter().map(|s| s * s).sum::<f64>() / stats[0].max(1.0)
}

/// Moves the rows for which `left` holds to the front; returns how many there are.
fn partition(rows: &mut [u32], left: impl Fn(u32) -> bool) -> usize {
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
