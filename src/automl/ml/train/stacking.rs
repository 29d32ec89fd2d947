//! The stacked ensemble of a training (`StackedEnsemble` among the requested
//! algorithms), trained after every other model and not counted in `max_model`.
//!
//! - **Bases**: the best model of each algorithm by the experiment's evaluator on
//!   cross-validation, then the best of the others, at most
//!   [`MAX_BASES`](super::super::stack::MAX_BASES) models. While the search runs, only
//!   the models that may still be chosen keep their out-of-fold predictions (a model
//!   left out once never comes back: every later model only raises the bar), so the
//!   memory held is at most `MAX_BASES + 1` predictions of the cross-validated rows.
//! - **Blend**: fitted on the bases' out-of-fold predictions of every cross-validated
//!   row ([`Blend::fit`]); the final models of the bases are the ensemble's.
//! - **Scores**: the blend is cross-validated on the same folds: for each fold, a blend
//!   fitted on the other folds' rows scores the fold's rows, so a fold's score never
//!   comes from a blend that saw its rows (as H2O cross-validates its metalearner).

use super::super::error::TrainError;
use super::super::model::{Output, Predictor, TrainedModel};
use super::super::spec::Algo;
use super::super::stack::{Base, Blend, Stack, Truth, MAX_BASES};
use super::scoring::finished_model;
use super::task::{Target, Task};
use super::{scores_of, Scored};
use crate::automl::evaluator::Evaluator;

/// A model that may become a base, with its out-of-fold predictions.
struct Entry {
    index: usize,
    algo: Algo,
    score: f64,
    predictions: Output,
}

/// The models that may still be chosen as bases.
pub(super) struct Pool {
    evaluator: Evaluator,
    entries: Vec<Entry>,
}

impl Pool {
    pub(super) fn new(task: &Task) -> Pool {
        Pool {
            evaluator: task.evaluator,
            entries: Vec::new(),
        }
    }

    /// Offers the experiment's model `index` and its out-of-fold predictions; keeps
    /// it if it is chosen, and drops the entries it pushes out.
    pub(super) fn offer(&mut self, index: usize, model: &TrainedModel, predictions: Output) {
        let Some(&score) = model
            .cv_averages
            .get(self.evaluator.as_str())
            .filter(|v| v.is_finite())
        else {
            return;
        };
        self.entries.push(Entry {
            index,
            algo: model.algo,
            score,
            predictions,
        });
        let chosen = self.chosen();
        let mut position = 0;
        self.entries.retain(|_| {
            position += 1;
            chosen.contains(&(position - 1))
        });
    }

    /// How many models are kept.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Positions of the chosen entries, in the experiment's order: the best of each
    /// algorithm, then the best of the rest, at most `MAX_BASES`.
    fn chosen(&self) -> Vec<usize> {
        let higher = self.evaluator.higher_is_better();
        let mut ranked: Vec<usize> = (0..self.entries.len()).collect();
        ranked.sort_by(|&a, &b| {
            let (a, b) = (&self.entries[a], &self.entries[b]);
            let order = a.score.total_cmp(&b.score);
            let order = if higher { order.reverse() } else { order };
            order.then(a.index.cmp(&b.index))
        });
        let mut chosen: Vec<usize> = Vec::with_capacity(MAX_BASES);
        for &i in &ranked {
            let algo = self.entries[i].algo;
            if chosen.len() < MAX_BASES && !chosen.iter().any(|&c| self.entries[c].algo == algo) {
                chosen.push(i);
            }
        }
        for &i in &ranked {
            if chosen.len() < MAX_BASES && !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        chosen.sort_by_key(|&i| self.entries[i].index);
        chosen
    }
}

/// The stacked ensemble of the pool's models, scored like every other model; `models`
/// are the experiment's models so far (the bases' final models are cloned from them).
pub(super) fn ensemble(
    pool: Pool,
    models: &[TrainedModel],
    task: &Task,
    validation: &Scored<'_>,
    test: &Scored<'_>,
) -> Result<TrainedModel, TrainError> {
    let k = task.cv.len();
    // The cross-validated rows in the order of the predictions: fold after fold.
    let scored: Vec<&[usize]> = (0..k).map(|fold| task.cv.fold(fold).1).collect();
    let rows: Vec<usize> = scored.iter().flat_map(|s| s.iter().copied()).collect();
    let (values, labels): (Vec<f64>, Vec<usize>) = match &task.target {
        Target::Values(y) => (rows.iter().map(|&r| y[r]).collect(), Vec::new()),
        Target::Classes(c) => (Vec::new(), rows.iter().map(|&r| c[r]).collect()),
    };
    let truth = match &task.target {
        Target::Values(_) => Truth::Values(&values),
        Target::Classes(_) => Truth::Classes(&labels),
    };
    let (chosen, predictions): (Vec<(usize, Algo)>, Vec<Output>) = pool
        .entries
        .into_iter()
        .map(|e| ((e.index, e.algo), e.predictions))
        .unzip();
    let mut fold_scores = Vec::with_capacity(k);
    let mut start = 0;
    for fold_rows in &scored {
        let end = start + fold_rows.len();
        let others: Vec<usize> = (0..rows.len())
            .filter(|p| !(start..end).contains(p))
            .collect();
        let blend = Blend::fit(&predictions, &truth, &others);
        let mine: Vec<Output> = predictions.iter().map(|p| slice(p, start, end)).collect();
        let output = blend.combine(&mine);
        fold_scores.push(scores_of(task, &task.target, &output, fold_rows)?);
        start = end;
    }
    let everything: Vec<usize> = (0..rows.len()).collect();
    let blend = Blend::fit(&predictions, &truth, &everything);
    let mut bases = Vec::with_capacity(chosen.len());
    for (index, algo) in chosen {
        let Predictor::One(fitted) = &models[index].fitted else {
            return Err(TrainError::Failed(
                "a stacked ensemble cannot stack another".into(),
            ));
        };
        bases.push(Base {
            algo,
            index,
            fitted: fitted.clone(),
        });
    }
    let fitted = Predictor::Stack(Stack { bases, blend });
    let algo = Algo::StackedEnsemble;
    finished_model(task, algo, &fold_scores, fitted, validation, test)
}

/// Rows `start..end` of `output`.
fn slice(output: &Output, start: usize, end: usize) -> Output {
    match output {
        Output::Values(v) => Output::Values(v[start..end].to_vec()),
        Output::Probs(p) => {
            let mut out = super::super::linalg::Matrix::zeros(end - start, p.cols());
            for (i, row) in (start..end).enumerate() {
                out.row_mut(i).copy_from_slice(p.row(row));
            }
            Output::Probs(out)
        }
    }
}
