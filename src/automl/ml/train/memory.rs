//! What a training run or a prediction will allocate, estimated before it starts, so a
//! server can refuse a job that would not fit its memory instead of being killed by
//! the allocation.
//!
//! The big allocations of a fit, all proportional to the fit's rows `n` and the encoded
//! width `p` ([`Encoder::width`] after fitting the encoding on those rows):
//!
//! - the dense encoded matrix, `n × p` numbers (8 bytes each), for every algorithm;
//! - GLM: a few index and target vectors of `n`, and the L-BFGS history, some twenty
//!   coefficient vectors per class (`glm::fit_bytes`); least squares on at most 512
//!   columns also builds the `(p+1)²` normal equations and their Cholesky factor;
//! - DRF and GBM: the binned copy of the matrix, one byte per cell, the row index of a
//!   tree, and for GBM `n × classes` scores and gradients;
//! - DRF: the forest itself, whose trees grow down to single rows: at most two nodes
//!   per sampled row per tree ([`ForestParams::max_bytes`]; at most about 70 MB for
//!   50 trees on 20,000 rows).
//!
//! Algorithms run one after the other and each fit frees its matrix before the next, so
//! the estimate is the largest single fit (the final fit, on the most rows) or, if
//! larger, the scoring of held-out rows, which encodes a chunk of rows at a time
//! ([`predict_chunk_rows`]).
//! The figures are upper bounds of the big buffers, not of every small vector.

use super::super::encode::Encoder;
use super::super::error::TrainError;
use super::super::forest::ForestParams;
use super::super::frame::{ColumnData, Frame};
use super::super::model::{predict_chunk_rows, TrainedModel};
use super::super::spec::{Algo, TrainSpec};
use super::super::stack::MAX_BASES;
use super::task::Task;
use super::{check_spec, retyped};

/// Bytes of one number.
const F64: usize = 8;

/// Estimated peak bytes a training run of `spec` on `frame` allocates beyond the
/// frame itself.
///
/// # Errors
/// The errors [`train_tested`](super::train_tested) would report for a request that
/// does not fit the data, found before anything large is allocated.
pub fn working_memory(frame: &Frame, spec: &TrainSpec) -> Result<usize, TrainError> {
    let algos = check_spec(spec)?;
    let frame = retyped(frame, spec, "")?;
    let task = Task::prepare(&frame, spec)?;
    let internal = |e: super::super::error::PredictError| TrainError::Failed(e.to_string());
    let width = Encoder::fit(&frame, &task.features, &task.final_rows)
        .map_err(internal)?
        .width();
    let mut rows = task.final_rows.len();
    if task.balance.is_some() {
        rows = rows.saturating_mul(2); // balancing may repeat rows of small classes
    }
    let classes = task.classes.len().max(1);
    let retyped_copy = match &frame {
        std::borrow::Cow::Owned(f) => frame_bytes(f),
        std::borrow::Cow::Borrowed(_) => 0,
    };
    // Folds fitted at once each hold a fit's buffers.
    let parallel = spec.threads.clamp(1, task.cv.len().max(1));
    let fit = algos
        .iter()
        .map(|&algo| fit_bytes(algo, rows, width, classes))
        .max()
        .unwrap_or(0)
        .saturating_mul(parallel);
    let indexes = frame
        .rows()
        .saturating_mul(3 * std::mem::size_of::<usize>());
    let stack = match algos.contains(&Algo::StackedEnsemble) {
        true => stack_bytes(&algos, rows, classes),
        false => 0,
    };
    Ok(fit
        .max(chunk_bytes(width, classes))
        .saturating_add(stack)
        .saturating_add(indexes)
        .saturating_add(retyped_copy))
}

/// Peak bytes of one fit of `algo` on `rows` rows encoded `width` wide.
pub(crate) fn fit_bytes(algo: Algo, rows: usize, width: usize, classes: usize) -> usize {
    if algo == Algo::StackedEnsemble {
        return 0; // fits no matrix: see `stack_bytes`
    }
    let matrix = rows.saturating_mul(width).saturating_mul(F64);
    let extra = match algo {
        Algo::Glm => super::super::glm::fit_bytes(rows, width, classes),
        Algo::Drf | Algo::Gbm | Algo::StackedEnsemble => {
            let binned = rows.saturating_mul(width);
            let scores = rows.saturating_mul(classes.saturating_mul(3 * F64));
            binned.saturating_add(scores).saturating_add(rows * 4)
        }
    };
    let extra = match algo {
        Algo::Drf => extra.saturating_add(ForestParams::default().max_bytes(rows, classes)),
        _ => extra,
    };
    matrix.saturating_add(extra)
}

/// Bytes a stacked ensemble holds beyond the fits: the out-of-fold predictions of the
/// models that may become its bases (at most `MAX_BASES + 1` at once, and a copy of the
/// bases' while the blend is cross-validated), and the copy of a forest base.
fn stack_bytes(algos: &[Algo], rows: usize, classes: usize) -> usize {
    let predictions = rows
        .saturating_mul(classes)
        .saturating_mul(F64)
        .saturating_mul(2 * MAX_BASES + 1);
    let forest = match algos.contains(&Algo::Drf) {
        true => ForestParams::default().max_bytes(rows, classes),
        false => 0,
    };
    predictions.saturating_add(forest)
}

/// Bytes of one chunk of encoded rows and its outputs.
fn chunk_bytes(width: usize, classes: usize) -> usize {
    predict_chunk_rows(width)
        .saturating_mul(width.saturating_add(classes))
        .saturating_mul(2 * F64)
}

/// Bytes the columns of `frame` take: 8 per cell, 16 per date-time cell, and the text
/// of every categorical level.
pub fn frame_bytes(frame: &Frame) -> usize {
    frame
        .columns()
        .iter()
        .map(|c| {
            let cells = match &c.data {
                ColumnData::Numerical(v) => v.len() * F64,
                ColumnData::Categorical { levels, codes } => {
                    let text: usize = levels.iter().map(|l| l.len() + 24).sum();
                    codes.len() * F64 + text
                }
                ColumnData::Datetime { millis, .. } => millis.len() * 2 * F64,
            };
            cells + c.name.len() + 64
        })
        .sum()
}

impl TrainedModel {
    /// Estimated peak bytes of [`predict`](TrainedModel::predict) on `frame` keeping
    /// `keep_columns`: the output frame (the kept columns copied, the prediction and
    /// one probability per class) and one chunk of encoded rows. What the output's CSV
    /// costs on top is for the caller to add.
    pub fn predict_memory(&self, frame: &Frame, keep_columns: &[String]) -> usize {
        let rows = frame.rows();
        let kept: usize = keep_columns
            .iter()
            .chain(std::iter::once(&self.target))
            .filter_map(|name| frame.column(name))
            .map(|c| frame_bytes_of(c, rows))
            .sum();
        let outputs = rows.saturating_mul((self.classes.len() + 1) * F64);
        let width = self.fitted.width();
        kept.saturating_add(outputs)
            .saturating_add(chunk_bytes(width, self.classes.len()))
    }
}

/// Bytes of one column of `rows` rows (see [`frame_bytes`]).
fn frame_bytes_of(column: &super::super::frame::Column, rows: usize) -> usize {
    match &column.data {
        ColumnData::Categorical { levels, .. } => {
            rows * F64 + levels.iter().map(|l| l.len() + 24).sum::<usize>()
        }
        ColumnData::Datetime { .. } => rows * 2 * F64,
        ColumnData::Numerical(_) => rows * F64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glm_on_a_wide_encoding_needs_little_beyond_its_matrix() {
        // No Gram or Hessian matrix: 10,000 columns cost far less than 10,001² numbers.
        let matrix = 1000 * 10_000 * F64;
        for classes in [1, 2, 10] {
            let glm = fit_bytes(Algo::Glm, 1000, 10_000, classes);
            assert!(glm < matrix + matrix / 2, "{glm}");
        }
        assert_eq!(fit_bytes(Algo::Glm, usize::MAX, usize::MAX, 3), usize::MAX);
    }

    #[test]
    fn a_forest_of_deep_trees_counts_its_nodes() {
        // 50 trees on 63.2% of 20,000 rows, down to single rows: up to 25,280 nodes each.
        let drf = fit_bytes(Algo::Drf, 20_000, 10, 1);
        let gbm = fit_bytes(Algo::Gbm, 20_000, 10, 1);
        assert!(drf - gbm >= 50 * 25_280 * 40, "{drf} vs {gbm}");
        assert!(drf < 200 << 20, "{drf}");
        assert_eq!(fit_bytes(Algo::Drf, usize::MAX, 10, 3), usize::MAX);
    }
}
