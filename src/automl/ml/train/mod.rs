//! Training: k-fold cross-validation of each requested algorithm, then a final fit.
//!
//! For every algorithm, [`train()`] fits one model per fold on the other folds' rows and
//! scores it on the fold, averaging the metrics into `cv_averages`; then it fits the
//! model that is kept on all training rows and, when rows were held out, scores it on
//! them into `validation_scores`. The feature encoding is learned anew for every fit,
//! from that fit's rows only, so no information leaks from a scored fold.

mod balance;
mod budget;
mod checks;
#[cfg(test)]
mod datetime_tests;
mod folds;
mod memory;
#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod option_tests;
mod run;
mod scoring;
mod search;
#[cfg(test)]
mod search_tests;
mod split;
mod stacking;
#[cfg(test)]
mod stacking_tests;
mod task;
#[cfg(test)]
mod tests;
mod trees;

use std::borrow::Cow;

use std::sync::atomic::{AtomicBool, Ordering};

use super::encode::Encoder;
use super::error::TrainError;
use super::experiment::TrainedExperiment;
use super::forest::{Forest, ForestParams};
use super::frame::Frame;
use super::gbm::{Gbm, GbmParams};
use super::glm::{Glm, GlmParams};
use super::linalg::Matrix;
use super::model::{Engine, Fitted, TrainedModel};
use super::rng::Rng;
use super::spec::{Algo, TrainSpec};
use super::tree::Labels;
use checks::{check_spec, retyped};
use run::Run;
#[cfg(test)]
use scoring::score;
use scoring::{keep_common_metrics, scores_of, Scored};
use search::{Candidate, Plan, Settings};
use task::{Target, Task};
use trees::TreeData;

pub use folds::cv_folds;
pub(crate) use memory::{frame_bytes, working_memory};

/// Trains the models `spec` asks for on `frame`.
///
/// `progress` is called with the fraction done (0 to 1) and a message such as
/// `"GLM fold 2/5"` after every fold and every final fit. `cancel` is checked between
/// folds and between trees; once it is set, training stops with
/// [`TrainError::Cancelled`].
///
/// # Errors
/// [`TrainError::BadSpec`] for a request that is malformed whatever the data (fold
/// count outside 2..=10, no algorithms, `max_model` 0, validation percentage outside
/// 0..=90); [`TrainError::Invalid`] when the request does not fit the data (unknown
/// target or feature, a single class, an evaluator that does not apply, too few rows);
/// [`TrainError::Cancelled`]; [`TrainError::OutOfTime`] when `max_run_time` ran out
/// before any model finished; [`TrainError::Failed`] for a numerical breakdown.
#[cfg(test)]
pub fn train(
    frame: &Frame,
    spec: &TrainSpec,
    progress: &mut dyn FnMut(f64, &str),
    cancel: &AtomicBool,
) -> Result<TrainedExperiment, TrainError> {
    train_tested(frame, None, spec, progress, cancel)
}

/// Trains the models `spec` asks for on `frame` as `train()` does (the test-only
/// wrapper above: progress reports, cancel flag and errors as it describes), and also
/// scores each final model on the data set `test` (the SDK's `test_data_id`) into
/// [`TrainedModel::test_scores`]. `test` must hold the target; `spec.feature_types`
/// retype its columns as they retype `frame`'s.
///
/// # Errors
/// Those of `train()`, and [`TrainError::Invalid`] when `test` lacks the target or
/// has a class the training data does not.
pub fn train_tested(
    frame: &Frame,
    test: Option<&Frame>,
    spec: &TrainSpec,
    progress: &mut dyn FnMut(f64, &str),
    cancel: &AtomicBool,
) -> Result<TrainedExperiment, TrainError> {
    let requested = check_spec(spec)?;
    let stacked = requested.contains(&Algo::StackedEnsemble);
    let algos: Vec<Algo> = requested
        .into_iter()
        .filter(|&a| a != Algo::StackedEnsemble)
        .collect();
    let frame = retyped(frame, spec, "")?;
    let task = Task::prepare(&frame, spec)?;
    let test = match test {
        None => None,
        Some(test) => {
            if !task.test_rows.is_empty() {
                return Err(TrainError::BadSpec(
                    "test_data_id and time_series_split.test both name test rows: give one".into(),
                ));
            }
            let test = retyped(test, spec, "the test data: ")?;
            let (target, rows) = task.test_target(&test)?;
            Some((test, target, rows))
        }
    };
    let test = match &test {
        Some((frame, target, rows)) => Scored {
            frame,
            target,
            rows,
        },
        None => Scored {
            frame: &frame,
            target: &task.target,
            rows: &task.test_rows,
        },
    };
    let cells = task.final_rows.len().saturating_mul(task.features.len());
    let plan = Plan::new(&algos, spec, cells);
    if stacked && plan.count < 2 && !plan.open_ended {
        return Err(TrainError::BadSpec(format!(
            "StackedEnsemble combines at least two models, and this request trains {} \
             (request another algorithm, or max_model of at least 2)",
            plan.count
        )));
    }
    let mut pool = stacking::Pool::new(&task);
    let fits_per_model = (task.cv.len() + 1) as f64;
    let total = plan.count as f64 * fits_per_model;
    let started = std::time::Instant::now();
    let mut done = 0.0;
    progress(0.0, "data prepared");
    let mut report = |message: &str| {
        done += 1.0;
        let fraction = match (plan.open_ended, spec.max_run_time) {
            (true, Some(limit)) => started.elapsed().as_secs_f64() / limit.as_secs_f64(),
            _ => done / total,
        };
        progress(fraction.min(1.0), message);
    };
    let trees = std::cell::OnceCell::new();
    let (models, stopped_early) =
        budget::within(spec.max_run_time, cancel, |stop, out_of_time| {
            let mut models = Vec::with_capacity(plan.count.min(algos.len() * 4));
            for index in 0..plan.count {
                let candidate = plan.candidate(index);
                let seed = Rng::derive(spec.seed, index as u64 + 1).next_u64();
                let data = match candidate.algo {
                    Algo::Gbm | Algo::Drf => Some(tree_data(&trees, &frame, &task)?),
                    _ => None,
                };
                let how = How {
                    algo: candidate.algo,
                    trees: data,
                    settings: &candidate.settings,
                    ntrees: None,
                };
                let run = Run {
                    frame: &frame,
                    task: &task,
                    threads: spec.threads.max(1),
                    cancel: stop,
                    keep_predictions: stacked,
                };
                match run.candidate(&test, how, seed, &mut report) {
                    Ok((model, predictions)) => {
                        if let Some(predictions) = predictions {
                            pool.offer(models.len(), &model, predictions);
                        }
                        models.push(model);
                    }
                    Err(TrainError::Cancelled) if out_of_time() => {
                        return Ok((models, Some(candidate)));
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok((models, None))
        })?;
    let mut stopped_early = match stopped_early {
        None => None,
        Some(candidate) => Some(out_of_time_note(spec, &candidate, &models, &plan)?),
    };
    let mut models = models;
    if stacked && pool.len() >= 2 {
        let validation = Scored {
            frame: &frame,
            target: &task.target,
            rows: &task.validation_rows,
        };
        let ensemble = stacking::ensemble(pool, &models, &task, &validation, &test)?;
        report("StackedEnsemble");
        models.push(ensemble);
    } else if stacked {
        let note = format!(
            "StackedEnsemble was not trained: it combines at least two models, and {} \
             finished with a score",
            pool.len()
        );
        stopped_early = Some(match stopped_early {
            Some(before) => format!("{before}; {note}"),
            None => note,
        });
    }
    keep_common_metrics(&mut models);
    Ok(TrainedExperiment {
        target: spec.target.clone(),
        model_type: task.model_type,
        evaluator: task.evaluator,
        features: task.features,
        nfold: task.cv.len(),
        seed: spec.seed,
        models,
        stopped_early,
    })
}

/// What an experiment that ran out of `max_run_time` during `candidate` says, or the
/// error if no model finished.
fn out_of_time_note(
    spec: &TrainSpec,
    candidate: &Candidate,
    models: &[TrainedModel],
    plan: &Plan,
) -> Result<String, TrainError> {
    let seconds = spec.max_run_time.unwrap_or_default().as_secs_f64();
    let algo = candidate.algo;
    if models.is_empty() {
        return Err(TrainError::OutOfTime(format!(
            "max_run_time of {seconds} s ran out while {algo}, the first model, was training; \
             no model finished"
        )));
    }
    let wanted = match plan.open_ended {
        true => String::new(),
        false => format!(" of {}", plan.count),
    };
    Ok(format!(
        "max_run_time of {seconds} s ran out while {algo} was training: {}{wanted} \
         models finished and are kept",
        models.len()
    ))
}

/// The tree-mode data of this training, made on first use.
fn tree_data<'a>(
    cell: &'a std::cell::OnceCell<TreeData>,
    frame: &Frame,
    task: &Task,
) -> Result<&'a TreeData, TrainError> {
    if let Some(data) = cell.get() {
        return Ok(data);
    }
    let data = TreeData::new(frame, task)?;
    Ok(cell.get_or_init(|| data))
}

fn check_cancel(cancel: &AtomicBool) -> Result<(), TrainError> {
    if cancel.load(Ordering::Relaxed) {
        Err(TrainError::Cancelled)
    } else {
        Ok(())
    }
}

/// What a fit trains: the algorithm, its settings, the tree-mode data of a tree model
/// and a boosted model's fixed number of trees (`None`: chosen by early stopping).
#[derive(Clone, Copy)]
struct How<'a> {
    algo: Algo,
    trees: Option<&'a TreeData>,
    settings: &'a Settings,
    ntrees: Option<usize>,
}

/// Learns the encoding and fits `how.algo` on rows `rows`; a boosted model also gets
/// the rows its fit is scored on, `scored`, and returns their loss after each round
/// (empty for the other algorithms).
fn fit(
    frame: &Frame,
    task: &Task,
    how: How<'_>,
    rows: &[usize],
    scored: Option<&[usize]>,
    seed: u64,
    cancel: &AtomicBool,
) -> Result<(Fitted, Vec<f64>), TrainError> {
    let internal = |e: super::error::PredictError| TrainError::Failed(e.to_string());
    let rows = match &task.target {
        Target::Classes(labels) => balance::balanced(
            rows,
            labels,
            task.classes.len(),
            task.balance.as_ref(),
            seed,
        ),
        Target::Values(_) => Cow::Borrowed(rows),
    };
    let rows: &[usize] = &rows;
    let algo = how.algo;
    if let (Some(trees), Algo::Drf) = (how.trees, algo) {
        let forest = trees.fit_drf(task, rows, &ForestParams::default(), seed, cancel)?;
        return Ok((forest, Vec::new()));
    }
    if let Some(trees) = how.trees {
        let base = match how.settings {
            Settings::Gbm(params) => params.clone(),
            Settings::Default | Settings::Glm(_) => GbmParams::default(),
        };
        let params = GbmParams {
            ntrees: how.ntrees,
            tolerance: task.tolerance,
            ..base
        };
        return trees.fit_gbm(task, rows, scored, &params, seed, cancel);
    }
    let encoder = Encoder::fit(frame, &task.features, rows).map_err(internal)?;
    let x = encoder.transform(frame, rows).map_err(internal)?;
    let (values, classes): (Vec<f64>, Vec<usize>) = match &task.target {
        Target::Values(y) => (rows.iter().map(|&r| y[r]).collect(), Vec::new()),
        Target::Classes(c) => (Vec::new(), rows.iter().map(|&r| c[r]).collect()),
    };
    let labels = match &task.target {
        Target::Values(_) => Labels::Values(&values),
        Target::Classes(_) => Labels::Classes(&classes, task.classes.len()),
    };
    let engine = match how.settings {
        Settings::Glm(params) => Engine::Glm(Glm::fit(&x, labels, params, cancel)?),
        _ => fit_engine(algo, &x, labels, seed, task.tolerance, cancel)?,
    };
    Ok((Fitted::new(encoder, engine, &x), Vec::new()))
}

/// Fits `algo` on the encoded rows `x` and their `labels` (values or classes).
pub(crate) fn fit_engine(
    algo: Algo,
    x: &Matrix,
    labels: Labels<'_>,
    seed: u64,
    tolerance: Option<f64>,
    cancel: &AtomicBool,
) -> Result<Engine, TrainError> {
    Ok(match (algo, labels) {
        (Algo::Glm, labels) => Engine::Glm(Glm::fit(x, labels, &GlmParams::default(), cancel)?),
        (Algo::Drf, labels) => {
            let params = ForestParams::default();
            Engine::Drf(Forest::fit_matrix(x, labels, &params, seed, cancel)?)
        }
        (Algo::Gbm, labels) => {
            let params = GbmParams {
                tolerance,
                ..GbmParams::default()
            };
            Engine::Gbm(Gbm::fit_matrix(x, labels, &params, seed, cancel)?)
        }
        (Algo::StackedEnsemble, _) => {
            return Err(TrainError::BadSpec(
                "StackedEnsemble combines trained models: it is not fitted on a matrix".into(),
            ))
        }
    })
}
