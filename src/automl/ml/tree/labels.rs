//! What a tree learns from each training row, and what its leaves hold.

/// Most a [`Labels::Newton`] leaf may hold, in either direction: a leaf whose rows are
/// all predicted (almost) surely right would otherwise get a huge step.
pub(super) const MAX_NEWTON_STEP: f64 = 10.0;

/// What a tree learns to predict, per training row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Labels<'a> {
    /// Regression targets; a leaf holds their mean.
    Values(&'a [f64]),
    /// Class indices and the number of classes; a leaf holds the class frequencies.
    Classes(&'a [usize], usize),
    /// Residuals (negative gradients) and the loss's second derivatives per row. Splits
    /// reduce the residuals' squared error; a leaf holds `scale · Σr / Σh`, clamped to
    /// ±10.
    Newton {
        /// The residual of each row.
        residuals: &'a [f64],
        /// The loss's second derivative at each row.
        hessians: &'a [f64],
        /// Factor on the Newton step (`(K − 1) / K` for softmax over `K` classes).
        scale: f64,
    },
}

impl Labels<'_> {
    /// Length of the per-row target vector.
    pub(crate) fn width(&self) -> usize {
        match self {
            Labels::Values(_) | Labels::Newton { .. } => 1,
            Labels::Classes(_, k) => *k,
        }
    }

    pub(super) fn add(&self, row: usize, stats: &mut [f64]) {
        match self {
            Labels::Values(y) | Labels::Newton { residuals: y, .. } => stats[0] += y[row],
            Labels::Classes(c, _) => stats[c[row]] += 1.0,
        }
    }

    /// The prediction of a leaf holding `rows`.
    pub(super) fn leaf_values(&self, rows: &[u32]) -> Vec<f64> {
        let mut stats = vec![0.0; self.width()];
        rows.iter().for_each(|&r| self.add(r as usize, &mut stats));
        if let Labels::Newton {
            hessians, scale, ..
        } = self
        {
            let h: f64 = rows.iter().map(|&r| hessians[r as usize]).sum();
            let step = scale * stats[0] / h.max(1e-10);
            return vec![step.clamp(-MAX_NEWTON_STEP, MAX_NEWTON_STEP)];
        }
        let n = rows.len().max(1) as f64;
        stats.iter().map(|s| s / n).collect()
    }

    pub(super) fn is_pure(&self, rows: &[u32]) -> bool {
        let Some(&first) = rows.first() else {
            return true;
        };
        match self {
            Labels::Values(y) | Labels::Newton { residuals: y, .. } => rows
                .iter()
                .all(|&r| (y[r as usize] - y[first as usize]).abs() < 1e-12),
            Labels::Classes(c, _) => rows.iter().all(|&r| c[r as usize] == c[first as usize]),
        }
    }
}
