//! Finding a node's best split on one feature, from a histogram of its rows: per bin,
//! the row count and the summed target vector.
//!
//! A node holding `n` rows whose target vectors sum to `s` scores `Σⱼ sⱼ² / n`; a split
//! gains the children's scores minus the node's (the decrease of the squared error for
//! regression, of `n` times the Gini impurity for classification).
//!
//! - A **numerical** feature is split after each bin, `x <= cut` going left, with the
//!   missing values' bin (bin 0) tried on either side, and alone on the left (missing
//!   against present). When the node has no missing values, missing ones met later go
//!   to the larger child.
//! - A **categorical** feature's present bins (bin 0, missing, among them) are sorted by
//!   their mean target (regression), or their frequency of the node's most frequent
//!   class (classification), and split at every prefix of that order. For regression
//!   and two classes this finds the best of all splits into two sets of levels (Fisher;
//!   Breiman et al.); for more classes it is a good order, not an exhaustive search. The
//!   smaller side becomes the set that goes left, so levels the node does not hold
//!   (rare, unseen or missing) go to the larger child.
//!
//! The buffers live in a [`Search`] reused by every node and feature of a tree, so a
//! split search allocates nothing; it also keeps the set of bins the node's rows fall
//! in, so that scanning and clearing the histogram of a small node (most nodes of a
//! deep tree) costs its bins, not all 256.

use super::binned::{Binned, ColumnKind};
use super::rule::{set_bit, Rule};

/// The best split of a node on one feature.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Found {
    pub(super) feature: usize,
    pub(super) rule: Rule,
    /// The impurity decrease of the split.
    pub(super) gain: f64,
}

/// The threshold of a split that sends only the missing values left: below every value.
const BELOW_ALL: f64 = f64::MIN;

/// Reusable buffers of the split search; cells are `[n, s₀, s₁, ...]`.
#[derive(Debug)]
pub(super) struct Search {
    /// Numbers per cell: the count and one per output.
    width: usize,
    /// One feature's histogram, `256 × width`; zero outside the bins of `present`.
    hist: Vec<f64>,
    /// The bins holding rows (a 256-bit set).
    present: [u64; 4],
    /// The running sums of the rows going left.
    left: Vec<f64>,
    /// A categorical feature's present bins, in split order.
    order: Vec<u8>,
}

impl Search {
    /// Buffers for targets of `outputs` values.
    pub(super) fn new(outputs: usize) -> Search {
        let width = outputs + 1;
        Search {
            width,
            hist: vec![0.0; 256 * width],
            present: [0; 4],
            left: vec![0.0; width],
            order: Vec::with_capacity(256),
        }
    }

    /// The best split on `feature` of the node holding `rows`, whose targets are
    /// `targets` (`(output, value)` per row, in `rows` order) and sums `total`, each
    /// child keeping at least `min_rows` rows; `None` if no split gains.
    pub(super) fn best(
        &mut self,
        data: &Binned,
        feature: usize,
        rows: &[u32],
        targets: &[(u32, f64)],
        total: &[f64],
        min_rows: f64,
    ) -> Option<Found> {
        self.fill(&data.bins[feature], rows, targets);
        let found = match data.kinds[feature] {
            ColumnKind::Numeric => self.numeric(data, feature, total, min_rows),
            ColumnKind::Categorical => self.categorical(total, min_rows),
        };
        self.clear();
        let (rule, gain) = found?;
        Some(Found {
            feature,
            rule,
            gain,
        })
    }

    /// Fills the histogram of one feature (its rows' bins `bins`).
    fn fill(&mut self, bins: &[u8], rows: &[u32], targets: &[(u32, f64)]) {
        let w = self.width;
        for (&r, &(output, value)) in rows.iter().zip(targets) {
            let bin = bins[r as usize];
            set_bit(&mut self.present, usize::from(bin));
            let cell = usize::from(bin) * w;
            self.hist[cell] += 1.0;
            self.hist[cell + 1 + output as usize] += value;
        }
    }

    /// Zeroes the cells of the present bins, and the set of them.
    fn clear(&mut self) {
        let w = self.width;
        for bin in bins_of(self.present) {
            self.hist[bin * w..(bin + 1) * w].fill(0.0);
        }
        self.present = [0; 4];
    }

    /// Adds bin `bin` to the left sums.
    fn add_left(&mut self, bin: usize) {
        let w = self.width;
        let cell = &self.hist[bin * w..(bin + 1) * w];
        self.left.iter_mut().zip(cell).for_each(|(l, c)| *l += c);
    }

    /// The gain of sending the left sums left out of `total` (whose score is `parent`),
    /// if both sides keep `min_rows` rows.
    fn gain(&self, total: &[f64], parent: f64, min_rows: f64) -> Option<f64> {
        let (n_left, n_right) = (self.left[0], total[0] - self.left[0]);
        if n_left < min_rows || n_right < min_rows {
            return None;
        }
        let (mut left, mut right) = (0.0, 0.0);
        for (t, l) in total[1..].iter().zip(&self.left[1..]) {
            left += l * l;
            right += (t - l) * (t - l);
        }
        Some(left / n_left + right / n_right - parent)
    }

    fn numeric(
        &mut self,
        data: &Binned,
        feature: usize,
        total: &[f64],
        min_rows: f64,
    ) -> Option<(Rule, f64)> {
        let missing = self.hist[0];
        let last = last_bin(self.present);
        let parent = score(total);
        let sides: &[bool] = if missing > 0.0 {
            &[true, false]
        } else {
            &[false]
        };
        let mut best: Option<(usize, bool, f64)> = None;
        for &missing_left in sides {
            self.left.fill(0.0);
            if missing_left {
                self.add_left(0);
            }
            // Splits after each present bin but the last, or after bin 0 alone.
            let first = usize::from(!missing_left);
            for bin in bins_of(self.present).filter(|&b| b >= first && b < last) {
                if bin > 0 {
                    self.add_left(bin);
                }
                let Some(gain) = self.gain(total, parent, min_rows) else {
                    continue;
                };
                if worth(gain, parent) && best.is_none_or(|(_, _, g)| gain > g) {
                    // With no missing rows here, missing values follow the larger side.
                    let larger_left = 2.0 * self.left[0] >= total[0];
                    best = Some((bin, missing_left || (missing == 0.0 && larger_left), gain));
                }
            }
        }
        let (bin, missing_left, gain) = best?;
        let cut = match bin {
            0 => BELOW_ALL,
            bin => data.cut(feature, bin),
        };
        Some((Rule::Le { cut, missing_left }, gain))
    }

    fn categorical(&mut self, total: &[f64], min_rows: f64) -> Option<(Rule, f64)> {
        let w = self.width;
        self.order.clear();
        self.order.extend(bins_of(self.present).map(|b| b as u8));
        if self.order.len() < 2 {
            return None;
        }
        let class = sort_output(total);
        let hist = &self.hist;
        let key = |b: u8| {
            let cell = &hist[usize::from(b) * w..];
            cell[1 + class] / cell[0]
        };
        self.order
            .sort_unstable_by(|&a, &b| key(a).total_cmp(&key(b)).then(a.cmp(&b)));
        self.left.fill(0.0);
        let parent = score(total);
        let mut best: Option<(usize, bool, f64)> = None;
        for i in 0..self.order.len() - 1 {
            self.add_left(usize::from(self.order[i]));
            let Some(gain) = self.gain(total, parent, min_rows) else {
                continue;
            };
            if worth(gain, parent) && best.is_none_or(|(_, _, g)| gain > g) {
                best = Some((i + 1, 2.0 * self.left[0] <= total[0], gain));
            }
        }
        let (prefix, prefix_smaller, gain) = best?;
        let smaller = match prefix_smaller {
            true => &self.order[..prefix],
            false => &self.order[prefix..],
        };
        let mut bins = [0; 4];
        smaller
            .iter()
            .for_each(|&b| set_bit(&mut bins, usize::from(b)));
        Some((
            Rule::In {
                bins: Box::new(bins),
            },
            gain,
        ))
    }
}

/// `Σ sⱼ² / n` of sums `[n, s₀, s₁, ...]`.
pub(super) fn score(sums: &[f64]) -> f64 {
    sums[1..].iter().map(|s| s * s).sum::<f64>() / sums[0].max(1.0)
}

/// A gain worth a split of a node scoring `parent`: positive beyond rounding.
fn worth(gain: f64, parent: f64) -> bool {
    gain > 1e-12 * parent.max(1.0) && gain.is_finite()
}

/// The largest member of a 256-bit set (0 if it is empty).
fn last_bin(set: [u64; 4]) -> usize {
    (0..4)
        .rev()
        .find(|&w| set[w] != 0)
        .map_or(0, |w| 64 * w + 63 - set[w].leading_zeros() as usize)
}

/// The members of a 256-bit set, in increasing order.
fn bins_of(set: [u64; 4]) -> impl Iterator<Item = usize> {
    (0..4).flat_map(move |word| {
        let mut bits = set[word];
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                64 * word + b
            })
        })
    })
}

/// The output levels are sorted by: the mean for regression (one output), else the
/// most frequent class of the node (the first of equals).
fn sort_output(total: &[f64]) -> usize {
    let mut best = 0;
    for (j, s) in total[1..].iter().enumerate() {
        if *s > total[1 + best] {
            best = j;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::super::super::linalg::Matrix;
    use super::super::rule::bit;
    use super::*;

    fn binned(values: &[f64], kind: ColumnKind) -> Binned {
        let mut x = Matrix::zeros(values.len(), 1);
        values
            .iter()
            .enumerate()
            .for_each(|(i, v)| x.row_mut(i)[0] = *v);
        Binned::with_kinds(&x, &[kind])
    }

    /// The best split of all rows of a one-feature data set with regression targets.
    fn split(data: &Binned, y: &[f64]) -> Option<Found> {
        let rows: Vec<u32> = (0..y.len() as u32).collect();
        let targets: Vec<(u32, f64)> = y.iter().map(|&v| (0, v)).collect();
        let total = [y.len() as f64, y.iter().sum()];
        Search::new(1).best(data, 0, &rows, &targets, &total, 1.0)
    }

    #[test]
    fn missing_values_go_to_the_side_they_resemble() {
        let data = binned(&[1.0, 2.0, 3.0, f64::NAN], ColumnKind::Numeric);
        let found = split(&data, &[0.0, 0.0, 5.0, 5.0]).unwrap();
        let rule = Rule::Le {
            cut: 2.5,
            missing_left: false,
        };
        assert_eq!(found.rule, rule);
        // All squared error removed: 4 · 2.5² = 25.
        assert!((found.gain - 25.0).abs() < 1e-9, "{}", found.gain);
    }

    #[test]
    fn missing_values_alone_can_be_split_off() {
        let data = binned(&[1.0, 2.0, 3.0, f64::NAN, f64::NAN], ColumnKind::Numeric);
        let found = split(&data, &[0.0, 0.0, 0.0, 5.0, 5.0]).unwrap();
        let Rule::Le { cut, missing_left } = found.rule else {
            panic!("a threshold split")
        };
        assert!(missing_left && !found.rule.left_value(-1e300) && cut < -1e300);
    }

    #[test]
    fn levels_are_grouped_by_mean_and_the_smaller_group_goes_left() {
        // Codes 0..6 (bins 1..7); codes 1, 3 and 5 have the high target.
        let codes: Vec<f64> = (0..70).map(|i| f64::from(i % 7)).collect();
        let y: Vec<f64> = codes.iter().map(|&c| f64::from(c % 2.0 == 1.0)).collect();
        let data = binned(&codes, ColumnKind::Categorical);
        let found = split(&data, &y).unwrap();
        let Rule::In { bins } = &found.rule else {
            panic!("a set split")
        };
        let left: Vec<u8> = (0..=255).filter(|&b| bit(bins, b)).collect();
        assert_eq!(left, [2, 4, 6]);
        assert!(!found.rule.left_value(f64::NAN) && !found.rule.left_value(9.0));
    }

    #[test]
    fn no_split_gains_on_a_constant_target() {
        let data = binned(&[1.0, 2.0, 3.0, 4.0], ColumnKind::Numeric);
        assert_eq!(split(&data, &[2.0; 4]), None);
        let data = binned(&[0.0, 0.0, 0.0, 0.0], ColumnKind::Categorical);
        assert_eq!(split(&data, &[1.0, 2.0, 3.0, 4.0]), None);
    }
}
