//! Growing one boosted tree leaf by leaf, as LightGBM does: the leaf whose best split
//! gains most is split next, until the tree has its number of leaves or no split gains.
//!
//! Each leaf owns a contiguous range of the row buffer (a split partitions its range in
//! place) and the histogram of its rows: per feature and bin, the sums of gradients,
//! hessians and counts. Only the smaller child's histogram is built from its rows; the
//! larger child's is the parent's minus it (histogram subtraction), so each level of a
//! tree reads at most half of the rows (module `hist` builds them). A split partitions its
//! leaf's rows stably, so every leaf's rows stay in data order and a histogram reads
//! each feature's column of bins forwards (LightGBM partitions the same way); the
//! histogram buffers of finished leaves are reused for the next ones (LightGBM's
//! histogram pool).

use super::super::tree::Binned;
use super::hist::Gathered;
use super::split::{best_split, Found, SplitLimits, Sums};
use super::tree::{BoostNode, BoostTree};

/// Shape limits of a tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TreeLimits {
    /// Most leaves.
    pub(super) leaves: usize,
    /// Deepest split level (the root is depth 0); `usize::MAX`: unlimited.
    pub(super) max_depth: usize,
    /// What every split must respect.
    pub(super) split: SplitLimits,
    /// Factor on every leaf value (the learning rate).
    pub(super) shrink: f64,
    /// Most a leaf's Newton step may move a score, before shrinking: [`MAX_STEP`] for
    /// the classifiers' losses, whose hessians can be tiny where a class is nearly
    /// certain; infinite for squared error, whose step is the leaf's mean residual in
    /// the target's own units (a cap there would stop a model of large values from
    /// ever reaching them).
    pub(super) max_step: f64,
}

/// Most a classifier's leaf Newton step may move a score, before shrinking.
pub(super) const MAX_STEP: f64 = 10.0;

/// A leaf while the tree grows.
struct Open {
    /// Its range of the row buffer.
    start: usize,
    end: usize,
    depth: usize,
    node: usize,
    sums: Sums,
    hist: Vec<f64>,
    best: Option<Found>,
}

/// One finished leaf: its rows' range of the buffer and its value.
pub(super) struct LeafRows {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) value: f64,
}

/// The features' offsets into a histogram, and its length in cells.
pub(super) fn layout(data: &Binned) -> (Vec<usize>, usize) {
    let mut offsets = Vec::with_capacity(data.features());
    let mut total = 0;
    for &n in &data.n_bins {
        offsets.push(total);
        total += n;
    }
    (offsets, total)
}

/// What a tree grows from: the binned data, each row's gradient and hessian (indexed
/// by data row), the candidate features and the histogram layout.
pub(super) struct Grower<'a> {
    pub(super) data: &'a Binned,
    pub(super) grad: &'a [f64],
    pub(super) hess: &'a [f64],
    pub(super) features: &'a [usize],
    pub(super) offsets: &'a [usize],
    pub(super) cells: usize,
    pub(super) limits: TreeLimits,
    /// Whether every hessian is exactly 1 (squared loss): a histogram then sums only
    /// gradients and counts, and takes the counts as its hessian sums.
    pub(super) unit_hessian: bool,
}

/// Buffers a tree reuses while it grows: the histograms of finished leaves, the
/// right-hand rows of a partition and a leaf's gathered gradients.
#[derive(Default)]
struct Scratch {
    hists: Vec<Vec<f64>>,
    right: Vec<u32>,
    gathered: Gathered,
}

impl Grower<'_> {
    /// Grows a tree on `rows` (reordered in place) and returns it with its leaves' row
    /// ranges of `rows`.
    pub(super) fn grow(&self, rows: &mut [u32]) -> (BoostTree, Vec<LeafRows>) {
        let mut scratch = Scratch::default();
        let mut nodes = vec![BoostNode::Leaf(0.0)];
        let mut open = vec![self.root(rows, &mut scratch.gathered)];
        let mut done = Vec::new();
        while open.len() + done.len() < self.limits.leaves {
            let Some(i) = best_open(&open) else { break };
            let leaf = open.swap_remove(i);
            let (left, right) = self.split(leaf, rows, &mut nodes, &mut scratch);
            for mut child in [left, right] {
                child.best = self.find(&child);
                if child.best.is_some() {
                    open.push(child);
                } else {
                    scratch.hists.push(std::mem::take(&mut child.hist));
                    done.push(child);
                }
            }
        }
        done.extend(open);
        done.sort_by_key(|l| l.node);
        let leaves = done
            .into_iter()
            .map(|leaf| {
                let step = -leaf.sums.g / (leaf.sums.h + self.limits.split.lambda).max(1e-12);
                let most = self.limits.max_step;
                let value = self.limits.shrink * step.clamp(-most, most);
                nodes[leaf.node] = BoostNode::Leaf(value);
                LeafRows {
                    start: leaf.start,
                    end: leaf.end,
                    value,
                }
            })
            .collect();
        (BoostTree { nodes }, leaves)
    }

    /// The root leaf of a tree on `rows`, with its histogram and best split.
    fn root(&self, rows: &[u32], gathered: &mut Gathered) -> Open {
        let mut hist = vec![0.0; 3 * self.cells];
        self.build(rows, &mut hist, gathered);
        let sums = rows.iter().fold(Sums::default(), |s, &r| Sums {
            g: s.g + self.grad[r as usize],
            h: s.h + self.hess[r as usize],
            n: s.n + 1.0,
        });
        let mut root = Open {
            start: 0,
            end: rows.len(),
            depth: 0,
            node: 0,
            sums,
            hist,
            best: None,
        };
        root.best = self.find(&root);
        root
    }

    /// The best split of `leaf`, if it may split and one gains.
    fn find(&self, leaf: &Open) -> Option<Found> {
        let min_rows = self.limits.split.min_rows.max(1.0);
        let rows = (leaf.end - leaf.start) as f64;
        if leaf.depth >= self.limits.max_depth || rows < 2.0 * min_rows {
            return None;
        }
        best_split(
            self.data,
            &leaf.hist,
            self.offsets,
            self.features,
            leaf.sums,
            self.limits.split,
        )
    }

    /// Splits `leaf` by its best split: partitions its rows, makes its node a split and
    /// returns the two children with their histograms.
    fn split(
        &self,
        leaf: Open,
        rows: &mut [u32],
        nodes: &mut Vec<BoostNode>,
        scratch: &mut Scratch,
    ) -> (Open, Open) {
        let found = leaf.best.expect("only leaves with a split are split");
        let bins = &self.data.bins[found.feature];
        let rule = found.rule.on_bins(&self.data.cuts[found.feature]);
        let range = &mut rows[leaf.start..leaf.end];
        let mid = leaf.start
            + stable_partition(range, &mut scratch.right, |r| rule.left(bins[r as usize]));
        let (l, r) = (nodes.len(), nodes.len() + 1);
        nodes.push(BoostNode::Leaf(0.0));
        nodes.push(BoostNode::Leaf(0.0));
        nodes[leaf.node] = BoostNode::Split {
            feature: found.feature,
            rule: found.rule,
            left: l,
            right: r,
            gain: found.gain,
        };
        let left_small = mid - leaf.start <= leaf.end - mid;
        let (small_range, small_node) = if left_small {
            (leaf.start..mid, l)
        } else {
            (mid..leaf.end, r)
        };
        let mut small = match scratch.hists.pop() {
            Some(mut hist) => {
                hist.fill(0.0);
                hist
            }
            None => vec![0.0; 3 * self.cells],
        };
        self.build(&rows[small_range], &mut small, &mut scratch.gathered);
        let mut large = leaf.hist;
        for &f in self.features {
            let cells = 3 * self.offsets[f]..3 * (self.offsets[f] + self.data.n_bins[f]);
            large[cells.clone()]
                .iter_mut()
                .zip(&small[cells])
                .for_each(|(a, b)| *a -= b);
        }
        let child = |start, end, node, sums, hist| Open {
            start,
            end,
            depth: leaf.depth + 1,
            node,
            sums,
            hist,
            best: None,
        };
        let left_sums = found.left;
        let right_sums = leaf.sums.sub(left_sums);
        if small_node == l {
            (
                child(leaf.start, mid, l, left_sums, small),
                child(mid, leaf.end, r, right_sums, large),
            )
        } else {
            (
                child(leaf.start, mid, l, left_sums, large),
                child(mid, leaf.end, r, right_sums, small),
            )
        }
    }
}

/// Moves the rows for which `left` holds to the front of `rows`, keeping the order of
/// both sides (so that a leaf's rows stay in data order and its histogram reads the
/// data forwards); returns how many go left. `right` is scratch space.
pub(super) fn stable_partition(
    rows: &mut [u32],
    right: &mut Vec<u32>,
    left: impl Fn(u32) -> bool,
) -> usize {
    // Every row is written to both sides and only the cursor of its own side moves:
    // no branch on `left`, whose answer the processor cannot guess.
    right.clear();
    right.resize(rows.len(), 0);
    let (mut mid, mut other) = (0, 0);
    for i in 0..rows.len() {
        let r = rows[i];
        let goes_left = usize::from(left(r));
        rows[mid] = r;
        right[other] = r;
        mid += goes_left;
        other += 1 - goes_left;
    }
    right.truncate(other);
    rows[mid..].copy_from_slice(right);
    mid
}

/// The open leaf whose split gains most (the first of equals).
fn best_open(open: &[Open]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, leaf) in open.iter().enumerate() {
        if let Some(found) = &leaf.best {
            if best.is_none_or(|(_, g)| found.gain > g) {
                best = Some((i, found.gain));
            }
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::super::super::linalg::Matrix;
    use super::super::super::rng::Rng;
    use super::*;

    /// 500 rows of 3 features (one with missing values), gradients and hessians.
    fn data() -> (Binned, Vec<f64>, Vec<f64>) {
        let mut rng = Rng::new(4);
        let mut x = Matrix::zeros(500, 3);
        for i in 0..500 {
            let a = rng.normal();
            let b = if i % 7 == 0 { f64::NAN } else { rng.normal() };
            x.row_mut(i).copy_from_slice(&[a, b, (i % 13) as f64]);
        }
        let grad = (0..500).map(|i| (i as f64 * 0.37).sin()).collect();
        let hess = (0..500)
            .map(|i| 0.5 + (i as f64 * 0.11).cos().abs())
            .collect();
        (Binned::new(&x), grad, hess)
    }

    fn grower<'a>(
        data: &'a Binned,
        grad: &'a [f64],
        hess: &'a [f64],
        offsets: &'a [usize],
    ) -> Grower<'a> {
        Grower {
            data,
            grad,
            hess,
            features: &[0, 1, 2],
            offsets,
            cells: layout(data).1,
            limits: TreeLimits {
                leaves: 8,
                max_depth: usize::MAX,
                split: SplitLimits {
                    min_rows: 5.0,
                    min_hessian: 1e-3,
                    lambda: 0.1,
                },
                shrink: 0.1,
                max_step: MAX_STEP,
            },
            unit_hessian: false,
        }
    }

    #[test]
    fn subtracted_and_pooled_histograms_equal_direct_builds() {
        let (data, grad, hess) = data();
        let offsets = layout(&data).0;
        let g = grower(&data, &grad, &hess, &offsets);
        let mut rows: Vec<u32> = (0..500).filter(|r| r % 5 != 0).collect();
        let root = g.root(&rows, &mut Gathered::default());
        // A pooled buffer full of stale sums must give the same children as a new one.
        let stale = Scratch {
            hists: vec![vec![7.0; 3 * g.cells]],
            right: vec![9; 3],
            gathered: Gathered {
                grad: vec![3.0; 1000],
                both: vec![(1.0, 2.0); 7],
            },
        };
        let mut results = Vec::new();
        for mut scratch in [Scratch::default(), stale] {
            let mut nodes = vec![BoostNode::Leaf(0.0)];
            let mut order = rows.clone();
            let leaf = Open {
                hist: root.hist.clone(),
                best: root.best.clone(),
                ..root
            };
            let (left, right) = g.split(leaf, &mut order, &mut nodes, &mut scratch);
            for child in [&left, &right] {
                let mut direct = vec![0.0; 3 * g.cells];
                let child_rows = &order[child.start..child.end];
                g.build(child_rows, &mut direct, &mut Gathered::default());
                for (a, b) in child.hist.iter().zip(&direct) {
                    assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()), "{a} {b}");
                }
                let n: f64 = (0..data.n_bins[0]).map(|b| child.hist[3 * b + 2]).sum();
                assert_eq!(n, (child.end - child.start) as f64);
            }
            results.push((order, left.hist, right.hist, nodes));
        }
        assert_eq!(results[0], results[1]);
        rows.sort_unstable();
        let mut grown = rows.clone();
        assert_eq!(g.grow(&mut grown).0, g.grow(&mut rows.clone()).0);
    }

    #[test]
    fn unit_hessians_give_the_same_histogram() {
        let (data, grad, _) = data();
        let ones = vec![1.0; 500];
        let offsets = layout(&data).0;
        let mut g = grower(&data, &grad, &ones, &offsets);
        let rows: Vec<u32> = (0..500).step_by(3).collect();
        let mut general = vec![0.0; 3 * g.cells];
        g.build(&rows, &mut general, &mut Gathered::default());
        g.unit_hessian = true;
        let mut unit = vec![0.0; 3 * g.cells];
        g.build(&rows, &mut unit, &mut Gathered::default());
        assert_eq!(general, unit);
        let with_unit = g.grow(&mut rows.clone()).0;
        g.unit_hessian = false;
        assert_eq!(with_unit, g.grow(&mut rows.clone()).0);
    }

    #[test]
    fn partitions_keep_the_order_of_both_sides() {
        let mut rows: Vec<u32> = (0..40).map(|i| (i * 17) % 41).collect();
        let expected: Vec<u32> = rows
            .iter()
            .filter(|&&r| r % 3 == 0)
            .chain(rows.iter().filter(|&&r| r % 3 != 0))
            .copied()
            .collect();
        let mut right = vec![5; 100];
        let mid = stable_partition(&mut rows, &mut right, |r| r % 3 == 0);
        assert_eq!(rows, expected);
        assert_eq!(mid, expected.iter().filter(|&&r| r % 3 == 0).count());
        assert_eq!(stable_partition(&mut [], &mut right, |_| true), 0);
    }
}
