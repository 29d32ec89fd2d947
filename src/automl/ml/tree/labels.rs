//! What a tree learns from each training row, and what its leaves hold.

/// What a tree learns to predict, per training row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Labels<'a> {
    /// Regression targets; a leaf holds their mean.
    Values(&'a [f64]),
    /// Class indices and the number of classes; a leaf holds the class frequencies.
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

    pub(super) fn add(&self, row: usize, stats: &mut [f64]) {
        match self {
            Labels::Values(y) => stats[0] += y[row],
            Labels::Classes(c, _) => stats[c[row]] += 1.0,
        }
    }

    /// The prediction of a leaf holding `rows`.
    pub(super) fn leaf_values(&self, rows: &[u32]) -> Vec<f64> {
        let mut stats = vec![0.0; self.width()];
        rows.iter().for_each(|&r| self.add(r as usize, &mut stats));
        let n = rows.len().max(1) as f64;
        stats.iter().map(|s| s / n).collect()
    }

    pub(super) fn is_pure(&self, rows: &[u32]) -> bool {
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
