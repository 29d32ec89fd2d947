//! One candidate's cross-validation and final fit: the folds fitted on as many threads
//! as the training may use (their results gathered in fold order, so the threads never
//! change a model), a boosted model's number of trees chosen from the folds' losses,
//! then the final model and its hold-out and test scores.

use std::sync::atomic::{AtomicBool, Ordering};

use super::super::error::TrainError;
use super::super::frame::Frame;
use super::super::model::{Engine, Fitted, Output, Predictor, TrainedModel};
use super::super::rng::Rng;
use super::scoring::finished_model;
use super::task::Task;
use super::{check_cancel, fit, scores_of, How, Scored};

/// What every fit of a training shares.
pub(super) struct Run<'a> {
    pub(super) frame: &'a Frame,
    pub(super) task: &'a Task,
    /// Folds fitted at once.
    pub(super) threads: usize,
    pub(super) cancel: &'a AtomicBool,
    /// Whether to keep the folds' predictions of their scored rows (for a stacked
    /// ensemble).
    pub(super) keep_predictions: bool,
}

/// A fold's fitted model and, for a boosted model, the loss of its scored rows after
/// each round.
type FoldResult = Result<(Fitted, Vec<f64>), TrainError>;

/// `all` followed by `more`, outputs of the same kind.
fn append(all: Output, more: Output) -> Output {
    match (all, more) {
        (Output::Values(mut all), Output::Values(more)) => {
            all.extend(more);
            Output::Values(all)
        }
        (Output::Probs(mut all), Output::Probs(more)) => {
            all.append_rows(&more);
            Output::Probs(all)
        }
        _ => unreachable!("a model answers one kind of output"),
    }
}

/// The number of rounds after which the mean of the folds' `curves` is lowest, over the
/// rounds every fold grew; `None` when a curve is empty (no early stopping).
fn chosen_rounds(curves: &[&[f64]]) -> Option<usize> {
    let common = curves.iter().map(|c| c.len()).min().filter(|&n| n > 0)?;
    let mean: Vec<f64> = (0..common)
        .map(|r| curves.iter().map(|c| c[r]).sum::<f64>() / curves.len() as f64)
        .collect();
    super::super::gbm::best_round(&mean)
}

impl Run<'_> {
    /// Cross-validates a candidate, then fits and scores its final model. With
    /// `keep_predictions`, also returns the folds' predictions of their scored rows,
    /// fold after fold (the out-of-fold predictions a stacked ensemble learns from).
    pub(super) fn candidate(
        &self,
        test: &Scored<'_>,
        how: How<'_>,
        seed: u64,
        report: &mut dyn FnMut(&str),
    ) -> Result<(TrainedModel, Option<Output>), TrainError> {
        let (frame, task, cancel) = (self.frame, self.task, self.cancel);
        let algo = how.algo;
        let k = task.cv.len();
        let folds = self.folds(how, seed, &mut |fold| {
            report(&format!("{algo} fold {}/{k}", fold + 1));
        })?;
        // A boosted model's number of trees is the one after which the folds' mean
        // loss on their scored rows was lowest, as LightGBM's `cv` chooses it; every
        // fold's model is cut to it before it is scored, and the final model grows it.
        let curves: Vec<&[f64]> = folds.iter().map(|(_, curve)| curve.as_slice()).collect();
        let ntrees = chosen_rounds(&curves);
        let mut fold_scores = Vec::with_capacity(k);
        let mut predictions: Option<Output> = None;
        for (fold, (mut fitted, _)) in folds.into_iter().enumerate() {
            if let (Some(n), Engine::Gbm(gbm)) = (ntrees, &mut fitted.engine) {
                gbm.truncate(n);
            }
            let scored = task.cv.fold(fold).1;
            let output = fitted
                .predict(frame, scored)
                .map_err(|e| TrainError::Invalid(e.to_string()))?;
            fold_scores.push(scores_of(task, &task.target, &output, scored)?);
            if self.keep_predictions {
                predictions = Some(match predictions {
                    None => output,
                    Some(all) => append(all, output),
                });
            }
        }
        check_cancel(cancel)?;
        let how = How { ntrees, ..how };
        let (fitted, _) = fit(frame, task, how, &task.final_rows, None, seed, cancel)?;
        let validation = Scored {
            frame,
            target: &task.target,
            rows: &task.validation_rows,
        };
        let fitted = Predictor::One(fitted);
        let model = finished_model(task, algo, &fold_scores, fitted, &validation, test)?;
        report(&format!("{algo} final model"));
        Ok((model, predictions))
    }

    /// Fits and scores every fold, `threads` at a time, calling `done(fold)` on this
    /// thread as each finishes; the results come back in fold order whatever the
    /// threads, so they never change a model.
    fn folds(
        &self,
        how: How<'_>,
        seed: u64,
        done: &mut dyn FnMut(usize),
    ) -> Result<Vec<(Fitted, Vec<f64>)>, TrainError> {
        let k = self.task.cv.len();
        let one = |fold: usize| -> FoldResult {
            check_cancel(self.cancel)?;
            let (training, scored) = self.task.cv.fold(fold);
            let fold_seed = Rng::derive(seed, fold as u64).next_u64();
            let (frame, task) = (self.frame, self.task);
            fit(
                frame,
                task,
                how,
                &training,
                Some(scored),
                fold_seed,
                self.cancel,
            )
        };
        let mut results: Vec<Option<FoldResult>> = (0..k).map(|_| None).collect();
        if self.threads <= 1 || k <= 1 {
            for (fold, slot) in results.iter_mut().enumerate() {
                let result = one(fold);
                let failed = result.is_err();
                *slot = Some(result);
                if failed {
                    break;
                }
                done(fold);
            }
        } else {
            let next = std::sync::atomic::AtomicUsize::new(0);
            std::thread::scope(|scope| {
                let (tx, rx) = std::sync::mpsc::channel();
                for _ in 0..self.threads.min(k) {
                    let tx = tx.clone();
                    let (next, one) = (&next, &one);
                    scope.spawn(move || loop {
                        let fold = next.fetch_add(1, Ordering::Relaxed);
                        if fold >= k {
                            return;
                        }
                        let result = one(fold);
                        let failed = result.is_err();
                        if tx.send((fold, result)).is_err() || failed {
                            // Later folds are not worth starting after a failure.
                            next.store(k, Ordering::Relaxed);
                            return;
                        }
                    });
                }
                drop(tx);
                for (fold, result) in rx {
                    if result.is_ok() {
                        done(fold);
                    }
                    results[fold] = Some(result);
                }
            });
        }
        let mut out = Vec::with_capacity(k);
        for result in results {
            match result {
                Some(result) => out.push(result?),
                None => return Err(TrainError::Cancelled),
            }
        }
        Ok(out)
    }
}
