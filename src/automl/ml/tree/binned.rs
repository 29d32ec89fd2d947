//! Histogram binning: each feature cut into at most [`MAX_BINS`] bins at quantiles of
//! its training values, so that a node finds its best split by one pass over its rows.

use super::super::linalg::Matrix;

/// Most bins per feature.
pub(crate) const MAX_BINS: usize = 32;

/// The training matrix, binned per feature.
#[derive(Debug)]
pub(crate) struct Binned {
    /// `bins[f][row]`: the bin of the row's value of feature `f`.
    pub(super) bins: Vec<Vec<u8>>,
    /// `cuts[f][b]`: the largest value of bin `b` goes left of a split after bin `b`.
    pub(super) cuts: Vec<Vec<f64>>,
}

impl Binned {
    /// Bins every column of `x`.
    pub(crate) fn new(x: &Matrix) -> Binned {
        let (bins, cuts) = (0..x.cols()).map(|f| bin_feature(x, f)).unzip();
        Binned { bins, cuts }
    }

    pub(super) fn features(&self) -> usize {
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
}
