//! CART decision trees grown on histogram-binned features.
//!
//! Before growing, each feature is cut into at most [`MAX_BINS`] bins at quantiles of
//! its training values ([`Binned`]). A node then finds its best split by one pass over
//! its rows per candidate feature, filling a per-bin histogram, and one scan over the
//! bins. A split sends `x <= cut` left.
//!
//! Regression and classification share one criterion. Each row carries a target vector
//! (`[y]` for regression, the one-hot class for classification); a node's score is
//! `Σⱼ sⱼ² / n` over the summed target vector `s`. The gain of a split, score(left) +
//! score(right) − score(node), is then the reduction of the squared error for
//! regression and of the Gini impurity (times `n`) for classification.

use super::linalg::Matrix;
use super::rng::Rng;

/// Most bins per feature.
pub(crate) const MAX_BINS: usize = 32;

/// The training matrix, binned per feature.
#[derive(Debug)]
pub(crate) struct Binned {
    /// `bins[f][row]`: the bin of the row's value of feature `f`.
    bins: Vec<Vec<u8>>,
    /// `cuts[f][b]`: the largest value of bin `b` goes left of a split after bin `b`.
    cuts: Vec<Vec<f64>>,
}

impl Binned {
    /// Bins every column of `x`.
    pub(crate) fn new(x: &Matrix) -> Binned {
        let (bins, cuts) = (0..x.cols()).map(|f| bin_feature(x, f)).unzip();
        Binned { bins, cuts }
    }

    fn features(&self) -> usize {
        self.bins.len()
    }
}

fn bin_feature(x: &Matrix, f: usize) -> (Vec<u8>, Vec<f64>) {
    let values: Vec<f64> = x.iter_rows().map(|r| r[f]).collect();
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    let mut uniques = sorted.clone();
    uniques.dedup();
    let cuts: Vec<f64> = if uniques.len() <= MAX_BINS {
        uniques.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect()
    } else {
        let mut cuts: Vec<f64> = (1..MAX_BINS)
            .map(|q| sorted[q * sorted.len() / MAX_BINS])
            .collect();
        cuts.dedup();
        cuts.retain(|&c| c < uniques[uniques.len() - 1]);
        cuts
    };
    let bins = values
        .iter()
        .map(|&v| cuts.partition_point(|&c| c < v) as u8)
        .collect();
    (bins, cuts)
}

/// What a tree learns to predict, per training row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Labels<'a> {
    /// Regression targets.
    Values(&'a [f64]),
    /// Class indices and the number of classes.
    Classes(&'a [usize], usize),
}

impl Labels<'_> {
    /// Length of the per-row target vector.
    pub(crate) fn width(&self) -> usize {
        match self {
            Labels::Values(_) => 1,
            Labels::Classes(_, k) => *k,
        }
    }

    fn add(&self, row: usize, stats: &mut [f64]) {
        match self {
            Labels::Values(y) => stats[0] += y[row],
            Labels::Classes(c, _) => stats[c[row]] += 1.0,
        }
    }

    fn is_pure(&self, rows: &[u32]) -> bool {
        let Some(&first) = rows.first() else {
            return true;
        };
        match self {
            Labels::Values(y) => rows
                .iter()
                .all(|&r| (y[r as usize] - y[first as usize]).abs() < 1e-12),
            Labels::Classes(c, _) => rows.iter().all(|&r| c[r as usize] == c[first as usize]),
        }
    }
}

/// Growth limits of one tree.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TreeParams {
    /// Deepest level of a split (the root is depth 0).
    pub(crate) max_depth: usize,
    /// Fewest rows in a leaf.
    pub(crate) min_leaf: usize,
    /// Features sampled as split candidates at each node.
    pub(crate) mtry: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// Prediction stored at `values[start..start + width]`.
    Leaf { start: usize },
    Split {
        feature: usize,
        cut: f64,
        left: usize,
        right: usize,
    },
}

/// A fitted tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
    values: Vec<f64>,
    width: usize,
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

    /// The leaf prediction for one encoded row: `[mean]` or class frequencies.
    pub(crate) fn predict_row(&self, row: &[f64]) -> &[f64] {
        let mut node = 0;
        loop {
            match self.nodes.get(node) {
                Some(Node::Split {
                    feature,
                    cut,
                    left,
                    right,
                }) => {
                    node = if row.get(*feature).is_some_and(|v| v <= cut) {
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
                let cut = self.data.cuts[split.feature][split.bin as usize];
                Node::Split {
                    feature: split.feature,
                    cut,
                    left,
                    right,
                }
            }
            None => self.leaf(rows),
        };
        index
    }

    fn leaf(&mut self, rows: &[u32]) -> Node {
        let start = self.tree.values.len();
        let mut stats = vec![0.0; self.tree.width];
        rows.iter()
            .for_each(|&r| self.labels.add(r as usize, &mut stats));
        let n = rows.len().max(1) as f64;
        self.tree.values.extend(stats.iter().map(|s| s / n));
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
        let n_bins = self.data.cuts[feature].len() + 1;
        if n_bins < 2 {
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
        for bin in 0..n_bins - 1 {
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
    fn bins_at_midpoints_and_quantiles() {
        let (bins, cuts) = bin_feature(&column(&[1.0, 3.0, 3.0, 2.0]), 0);
        assert_eq!(cuts, [1.5, 2.5]);
        assert_eq!(bins, [0, 2, 2, 1]);
        let many: Vec<f64> = (0..1000).map(f64::from).collect();
        let (bins, cuts) = bin_feature(&column(&many), 0);
        assert!(cuts.len() < MAX_BINS && cuts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(*bins.iter().max().unwrap() as usize, cuts.len());
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
