//! Histogram binning: each feature's values mapped once to small bin numbers, so that a
//! tree finds a node's best split from per-bin sums instead of sorting values.
//!
//! Every feature has bin 0 for missing values (NaN). A numerical feature is cut at
//! quantiles of its values into at most [`MAX_BINS`] further bins: value `v` falls in
//! bin `1 + #{cuts < v}`, so the bins `1..=b` hold exactly the values `v <= cuts[b - 1]`.
//! A categorical feature arrives as level codes (0 = the most frequent training level,
//! see the encoder's tree mode); code `c` falls in bin `c + 1`, and the rarest codes
//! from 254 on (and unseen levels) share the last bin, 255.

use super::super::linalg::Matrix;

/// Most bins of a numerical feature's present values (bin 0, missing, comes on top).
pub(crate) const MAX_BINS: usize = 255;
/// The bin shared by a categorical feature's rarest and unseen levels.
pub(crate) const OTHER_BIN: u8 = u8::MAX;

/// How a column of the tree matrix is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    /// A number, split by a threshold.
    Numeric,
    /// A level code, split by a set of levels.
    Categorical,
}

/// The training matrix, binned per feature.
#[derive(Debug, Clone)]
pub(crate) struct Binned {
    /// `bins[f][row]`: the bin of the row's value of feature `f`.
    pub(crate) bins: Vec<Vec<u8>>,
    /// `cuts[f][b]`: the largest value of bin `b + 1` (empty for a categorical feature).
    pub(crate) cuts: Vec<Vec<f64>>,
    /// Each feature's kind.
    pub(crate) kinds: Vec<ColumnKind>,
    /// Each feature's number of bins, missing bin included.
    pub(crate) n_bins: Vec<usize>,
}

impl Binned {
    /// Bins every column of `x`, all numerical.
    pub(crate) fn new(x: &Matrix) -> Binned {
        Binned::with_kinds(x, &vec![ColumnKind::Numeric; x.cols()])
    }

    /// Bins every column of `x`, read as `kinds` says.
    pub(crate) fn with_kinds(x: &Matrix, kinds: &[ColumnKind]) -> Binned {
        let mut binned = Binned {
            bins: Vec::with_capacity(x.cols()),
            cuts: Vec::with_capacity(x.cols()),
            kinds: kinds.to_vec(),
            n_bins: Vec::with_capacity(x.cols()),
        };
        for (f, kind) in kinds.iter().enumerate() {
            let values: Vec<f64> = x.iter_rows().map(|r| r[f]).collect();
            let (bins, cuts, n) = match kind {
                ColumnKind::Numeric => bin_numeric(&values),
                ColumnKind::Categorical => bin_codes(&values),
            };
            binned.bins.push(bins);
            binned.cuts.push(cuts);
            binned.n_bins.push(n);
        }
        binned
    }

    /// The number of features.
    pub(crate) fn features(&self) -> usize {
        self.bins.len()
    }

    /// The number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.bins.first().map_or(0, Vec::len)
    }

    /// The threshold of a numerical split that sends the bins `1..=bin` left.
    pub(crate) fn cut(&self, feature: usize, bin: usize) -> f64 {
        self.cuts[feature][bin - 1]
    }
}

/// The bin of a categorical level code (NaN: missing).
pub(crate) fn code_bin(code: f64) -> u8 {
    if code.is_nan() {
        0
    } else {
        (code.max(0.0) + 1.0).min(f64::from(OTHER_BIN)) as u8
    }
}

fn bin_numeric(values: &[f64]) -> (Vec<u8>, Vec<f64>, usize) {
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
        .map(|&v| {
            if v.is_nan() {
                0
            } else {
                (1 + cuts.partition_point(|&c| c < v)) as u8
            }
        })
        .collect();
    let n = cuts.len() + 2;
    (bins, cuts, n)
}

fn bin_codes(values: &[f64]) -> (Vec<u8>, Vec<f64>, usize) {
    let bins: Vec<u8> = values.iter().map(|&v| code_bin(v)).collect();
    let n = bins.iter().copied().max().map_or(1, |b| usize::from(b) + 1);
    (bins, Vec::new(), n)
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
    fn bins_at_midpoints_and_quantiles_with_missing_in_bin_zero() {
        let b = Binned::new(&column(&[1.0, 3.0, 3.0, 2.0, f64::NAN]));
        assert_eq!(b.cuts[0], [1.5, 2.5]);
        assert_eq!(b.bins[0], [1, 3, 3, 2, 0]);
        assert_eq!(b.n_bins[0], 4);
        assert_eq!(b.cut(0, 1), 1.5);
        let many: Vec<f64> = (0..10_000).map(f64::from).collect();
        let b = Binned::new(&column(&many));
        assert!(b.cuts[0].len() < MAX_BINS && b.cuts[0].windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            usize::from(*b.bins[0].iter().max().unwrap()),
            b.cuts[0].len() + 1
        );
        assert!(b.cuts[0].len() > 200, "{} cuts", b.cuts[0].len());
    }

    #[test]
    fn codes_keep_their_levels_and_pool_the_rarest() {
        let x = column(&[0.0, 3.0, f64::NAN, 300.0, 253.0]);
        let b = Binned::with_kinds(&x, &[ColumnKind::Categorical]);
        assert_eq!(b.bins[0], [1, 4, 0, OTHER_BIN, 254]);
        assert_eq!(b.n_bins[0], 256);
        assert!(b.cuts[0].is_empty());
    }
}
