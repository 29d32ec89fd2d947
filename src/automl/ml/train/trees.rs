//! The tree-mode data of one training: the encoding learned once from all training
//! rows, and those rows binned once, so that every fold's fit and the final fit of a
//! boosted model or a random forest reuse them instead of encoding and binning anew.
//!
//! The encoding of a categorical column here is only the order of its levels by
//! training frequency, and the bins only cut points of feature values: neither looks at
//! the target, so sharing them between folds leaks nothing a fold's score depends on.

use std::sync::atomic::AtomicBool;

use super::super::encode::Encoder;
use super::super::error::TrainError;
use super::super::forest::{Forest, ForestParams};
use super::super::frame::Frame;
use super::super::gbm::{Gbm, GbmParams};
use super::super::model::{Engine, Fitted};
use super::super::tree::{Binned, Labels};
use super::task::{Target, Task};

/// The training rows encoded in tree mode and binned.
pub(super) struct TreeData {
    encoder: Encoder,
    data: Binned,
    /// `index[frame row]`: the row's index in `data`, `u32::MAX` if absent.
    index: Vec<u32>,
    /// The target of each data row.
    target: Target,
}

impl TreeData {
    /// Encodes and bins `task.final_rows` of `frame`.
    pub(super) fn new(frame: &Frame, task: &Task) -> Result<TreeData, TrainError> {
        let internal = |e: super::super::error::PredictError| TrainError::Failed(e.to_string());
        let rows = &task.final_rows;
        let encoder = Encoder::fit_trees(frame, &task.features, rows).map_err(internal)?;
        let x = encoder.transform(frame, rows).map_err(internal)?;
        let data = Binned::with_kinds(&x, &encoder.column_kinds());
        let mut index = vec![u32::MAX; frame.rows()];
        rows.iter()
            .enumerate()
            .for_each(|(i, &r)| index[r] = i as u32);
        let target = match &task.target {
            Target::Values(y) => Target::Values(rows.iter().map(|&r| y[r]).collect()),
            Target::Classes(c) => Target::Classes(rows.iter().map(|&r| c[r]).collect()),
        };
        Ok(TreeData {
            encoder,
            data,
            index,
            target,
        })
    }

    /// Boosts on the frame rows `rows` (each one of the training rows; repeats count
    /// twice). With `scored` rows (the fold a cross-validation fit is scored on) and no
    /// fixed number of trees, boosting goes on until their loss stops improving and
    /// the loss after each round comes back with the model (see [`Gbm::fit_scored`]);
    /// otherwise the curve is empty.
    pub(super) fn fit_gbm(
        &self,
        task: &Task,
        rows: &[usize],
        scored: Option<&[usize]>,
        params: &GbmParams,
        seed: u64,
        cancel: &AtomicBool,
    ) -> Result<(Fitted, Vec<f64>), TrainError> {
        let mapped = self.data_rows(rows)?;
        let labels = self.labels(task);
        let (gbm, curve) = match scored {
            Some(scored) if params.ntrees.is_none() => {
                let scored = self.data_rows(scored)?;
                Gbm::fit_scored(&self.data, &mapped, &scored, labels, params, seed, cancel)?
            }
            _ => (
                Gbm::fit(&self.data, &mapped, labels, params, seed, cancel)?,
                Vec::new(),
            ),
        };
        Ok((Fitted::trees(self.encoder.clone(), Engine::Gbm(gbm)), curve))
    }

    /// Grows a random forest on the frame rows `rows` (each one of the training rows;
    /// repeats count twice).
    pub(super) fn fit_drf(
        &self,
        task: &Task,
        rows: &[usize],
        params: &ForestParams,
        seed: u64,
        cancel: &AtomicBool,
    ) -> Result<Fitted, TrainError> {
        let mapped = self.data_rows(rows)?;
        let labels = self.labels(task);
        let forest = Forest::fit(&self.data, &mapped, labels, params, seed, cancel)?;
        Ok(Fitted::trees(self.encoder.clone(), Engine::Drf(forest)))
    }

    /// The labels of every data row.
    fn labels(&self, task: &Task) -> Labels<'_> {
        match &self.target {
            Target::Values(y) => Labels::Values(y),
            Target::Classes(c) => Labels::Classes(c, task.classes.len()),
        }
    }

    /// The data rows of frame rows `rows`.
    fn data_rows(&self, rows: &[usize]) -> Result<Vec<u32>, TrainError> {
        let mapped: Vec<u32> = rows.iter().map(|&r| self.index[r]).collect();
        if mapped.contains(&u32::MAX) {
            return Err(TrainError::Failed(
                "a fit asked for a row outside the training rows".into(),
            ));
        }
        Ok(mapped)
    }
}
