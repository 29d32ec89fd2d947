//! Finding a leaf's best split from its histograms: per feature and bin, the sums of
//! the rows' gradients, hessians and counts.
//!
//! A leaf that holds gradient sum `G` and hessian sum `H` scores `G² / (H + λ)` (the
//! loss it removes by taking its Newton step `−G / (H + λ)`); a split gains the
//! children's scores minus the parent's. A numerical feature is split after each bin,
//! with the missing values' bin tried on either side. A categorical feature with a few
//! levels is split one level against the rest; with more, its levels are sorted by
//! `G / (H + smoothing)` and split at every prefix of that order from either end, as
//! LightGBM does (Fisher's grouping of categories for squared loss), with an extra L2
//! penalty and a least number of rows per added group that keep a split on many rare
//! levels from fitting noise.

use super::super::tree::{set_bit, Binned, ColumnKind, Rule};

/// Per-bin sums of a histogram.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Sums {
    /// Gradient sum.
    pub(super) g: f64,
    /// Hessian sum.
    pub(super) h: f64,
    /// Row count.
    pub(super) n: f64,
}

impl Sums {
    /// The sums of cell `i` of a flat `[g, h, n]` histogram.
    pub(super) fn at(hist: &[f64], i: usize) -> Sums {
        Sums {
            g: hist[3 * i],
            h: hist[3 * i + 1],
            n: hist[3 * i + 2],
        }
    }

    fn add(self, o: Sums) -> Sums {
        Sums {
            g: self.g + o.g,
            h: self.h + o.h,
            n: self.n + o.n,
        }
    }

    pub(super) fn sub(self, o: Sums) -> Sums {
        Sums {
            g: self.g - o.g,
            h: self.h - o.h,
            n: self.n - o.n,
        }
    }

    /// `G² / (H + λ)`.
    fn score(self, lambda: f64) -> f64 {
        self.g * self.g / (self.h + lambda).max(1e-300)
    }
}

/// The limits a split must respect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SplitLimits {
    /// Fewest rows in a child.
    pub(super) min_rows: f64,
    /// Least hessian sum in a child.
    pub(super) min_hessian: f64,
    /// L2 penalty on leaf values.
    pub(super) lambda: f64,
}

/// Categorical features with at most this many levels present are split one level
/// against the rest (LightGBM's `max_cat_to_onehot`).
const ONE_VS_REST: usize = 4;
/// Smoothing of the gradient ratio levels are sorted by (LightGBM's `cat_smooth`);
/// levels with fewer rows go right.
const CAT_SMOOTH: f64 = 10.0;
/// Extra L2 penalty of a split on levels (`cat_l2`).
const CAT_L2: f64 = 10.0;
/// Rows each further group of levels must add before the next split point is tried
/// (`min_data_per_group`).
const MIN_PER_GROUP: f64 = 100.0;
/// Most levels on the side a sorted split builds (`max_cat_threshold`).
const MAX_LEVELS_LEFT: usize = 32;

/// The best split found for a leaf.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Found {
    pub(super) feature: usize,
    pub(super) rule: Rule,
    pub(super) gain: f64,
    /// The left child's sums.
    pub(super) left: Sums,
}

/// The best split of a leaf with sums `total` among `features`, from its histogram
/// `hist` (features laid out at `offsets`), or `None` if no split gains.
pub(super) fn best_split(
    data: &Binned,
    hist: &[f64],
    offsets: &[usize],
    features: &[usize],
    total: Sums,
    limits: SplitLimits,
) -> Option<Found> {
    let mut best: Option<Found> = None;
    for &f in features {
        let cells = &hist[3 * offsets[f]..3 * (offsets[f] + data.n_bins[f])];
        let found = match data.kinds[f] {
            ColumnKind::Numeric => numeric(data, f, cells, total, limits),
            ColumnKind::Categorical => categorical(f, cells, total, limits),
        };
        if let Some(found) = found.filter(|c| best.as_ref().is_none_or(|b| c.gain > b.gain)) {
            best = Some(found);
        }
    }
    best
}

/// Whether both children respect the limits.
fn allowed(left: Sums, right: Sums, limits: SplitLimits) -> bool {
    left.n >= limits.min_rows
        && right.n >= limits.min_rows
        && left.h >= limits.min_hessian
        && right.h >= limits.min_hessian
}

/// The gain of splitting `total` into `left` and the rest, under penalty `lambda`.
fn gain(total: Sums, left: Sums, lambda: f64) -> f64 {
    left.score(lambda) + total.sub(left).score(lambda) - total.score(lambda)
}

/// A gain worth a split: positive beyond rounding.
fn worth(gain: f64, total: Sums, lambda: f64) -> bool {
    gain > 0.0 && gain > 1e-10 * total.score(lambda).max(1e-300) && gain.is_finite()
}

fn numeric(
    data: &Binned,
    feature: usize,
    cells: &[f64],
    total: Sums,
    limits: SplitLimits,
) -> Option<Found> {
    let n_bins = cells.len() / 3;
    let missing = Sums::at(cells, 0);
    let mut best: Option<Found> = None;
    let sides: &[bool] = if missing.n > 0.0 {
        &[true, false]
    } else {
        &[false]
    };
    let parent = total.score(limits.lambda);
    for &missing_left in sides {
        let mut left = if missing_left {
            missing
        } else {
            Sums::default()
        };
        for bin in 1..n_bins.saturating_sub(1) {
            left = left.add(Sums::at(cells, bin));
            let right = total.sub(left);
            // The right side only shrinks from here on.
            if right.n < limits.min_rows || right.h < limits.min_hessian {
                break;
            }
            if left.n < limits.min_rows || left.h < limits.min_hessian {
                continue;
            }
            let g = left.score(limits.lambda) + right.score(limits.lambda) - parent;
            if worth(g, total, limits.lambda) && best.as_ref().is_none_or(|b| g > b.gain) {
                // With no missing training values, unseen missing ones follow the
                // larger side.
                let missing_left = missing_left || (missing.n == 0.0 && left.n >= right.n);
                best = Some(Found {
                    feature,
                    rule: Rule::Le {
                        cut: data.cut(feature, bin),
                        missing_left,
                    },
                    gain: g,
                    left,
                });
            }
        }
    }
    best
}

fn categorical(feature: usize, cells: &[f64], total: Sums, limits: SplitLimits) -> Option<Found> {
    let present: Vec<usize> = (0..cells.len() / 3)
        .filter(|&b| Sums::at(cells, b).n > 0.0)
        .collect();
    if present.len() < 2 {
        return None;
    }
    if present.len() <= ONE_VS_REST {
        let groups = present.iter().map(|&b| vec![b]);
        return best_of_groups(feature, cells, total, limits, limits.lambda, groups);
    }
    let mut sorted: Vec<usize> = present
        .into_iter()
        .filter(|&b| Sums::at(cells, b).n >= CAT_SMOOTH)
        .collect();
    let ratio = |b: usize| {
        let s = Sums::at(cells, b);
        s.g / (s.h + CAT_SMOOTH)
    };
    sorted.sort_by(|&a, &b| ratio(a).total_cmp(&ratio(b)).then(a.cmp(&b)));
    let most = MAX_LEVELS_LEFT.min(sorted.len().div_ceil(2));
    let mut groups = Vec::new();
    for order in [sorted.clone(), sorted.into_iter().rev().collect()] {
        let mut left = Sums::default();
        let mut group_rows = 0.0;
        for i in 0..most.min(order.len()) {
            let s = Sums::at(cells, order[i]);
            left = left.add(s);
            group_rows += s.n;
            if left.n < limits.min_rows || left.h < limits.min_hessian {
                continue;
            }
            let right = total.sub(left);
            if right.n < limits.min_rows || right.h < limits.min_hessian {
                break;
            }
            if group_rows < MIN_PER_GROUP {
                continue;
            }
            group_rows = 0.0;
            groups.push(order[..=i].to_vec());
        }
    }
    best_of_groups(
        feature,
        cells,
        total,
        limits,
        limits.lambda + CAT_L2,
        groups.into_iter(),
    )
}

/// The best of the splits that send the bins of one group left.
fn best_of_groups(
    feature: usize,
    cells: &[f64],
    total: Sums,
    limits: SplitLimits,
    lambda: f64,
    groups: impl Iterator<Item = Vec<usize>>,
) -> Option<Found> {
    let mut best: Option<Found> = None;
    for group in groups {
        let left = group
            .iter()
            .fold(Sums::default(), |s, &b| s.add(Sums::at(cells, b)));
        if !allowed(left, total.sub(left), limits) {
            continue;
        }
        let g = gain(total, left, lambda);
        if worth(g, total, lambda) && best.as_ref().is_none_or(|b| g > b.gain) {
            let mut bins = [0; 4];
            group.iter().for_each(|&b| set_bit(&mut bins, b));
            best = Some(Found {
                feature,
                rule: Rule::In {
                    bins: Box::new(bins),
                },
                gain: g,
                left,
            });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::super::super::linalg::Matrix;
    use super::*;

    fn hist(cells: &[(f64, f64, f64)]) -> Vec<f64> {
        cells.iter().flat_map(|&(g, h, n)| [g, h, n]).collect()
    }

    const LIMITS: SplitLimits = SplitLimits {
        min_rows: 1.0,
        min_hessian: 0.0,
        lambda: 0.0,
    };

    #[test]
    fn numeric_split_sends_missing_to_the_side_it_resembles() {
        let mut x = Matrix::zeros(4, 1);
        [1.0, 2.0, 3.0, f64::NAN]
            .iter()
            .enumerate()
            .for_each(|(i, v)| x.row_mut(i)[0] = *v);
        let data = Binned::new(&x);
        // Bins: missing, 1, 2, 3. Missing rows have gradient like bin 3's.
        let cells = hist(&[
            (5.0, 1.0, 1.0),
            (-5.0, 1.0, 1.0),
            (-5.0, 1.0, 1.0),
            (5.0, 1.0, 1.0),
        ]);
        let total = Sums {
            g: 0.0,
            h: 4.0,
            n: 4.0,
        };
        let found = best_split(&data, &cells, &[0], &[0], total, LIMITS).unwrap();
        assert_eq!(
            found.rule,
            Rule::Le {
                cut: 2.5,
                missing_left: false
            }
        );
        assert!((found.gain - 100.0).abs() < 1e-9, "{}", found.gain);
    }

    #[test]
    fn many_levels_split_by_sorted_gradient_ratio() {
        // Twelve levels of 200 rows: the odd ones have positive gradients.
        let cells: Vec<(f64, f64, f64)> = (0..13)
            .map(|b| match b {
                0 => (0.0, 0.0, 0.0),
                b if b % 2 == 1 => (100.0, 200.0, 200.0),
                _ => (-100.0, 200.0, 200.0),
            })
            .collect();
        let total = Sums {
            g: 0.0,
            h: 2400.0,
            n: 2400.0,
        };
        let found = categorical(0, &hist(&cells), total, LIMITS).unwrap();
        let Rule::In { bins } = found.rule else {
            panic!("a set split")
        };
        let left: Vec<u8> = (0..=255)
            .filter(|&b| super::super::super::tree::bit(&bins, b))
            .collect();
        assert!(
            left == [2, 4, 6, 8, 10, 12] || left == [1, 3, 5, 7, 9, 11],
            "{left:?}"
        );
    }
}
