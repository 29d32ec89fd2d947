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

    /// Row `row`'s target as `(output, value)`: its class's slot and 1, or slot 0 and
    /// its value.
    pub(super) fn target(&self, row: usize) -> (u32, f64) {
        match self {
            Labels::Values(y) => (0, y[row]),
            Labels::Classes(c, _) => (c[row] as u32, 1.0),
        }
    }

    /// Whether every row of `rows` has the same target.
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
