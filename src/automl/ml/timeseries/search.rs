//! Choosing configurations: time-ordered validation of one (algorithm, window)
//! configuration, and the genetic search that proposes them.
//!
//! # Validation never looks ahead
//! The distinct origin moments of the engineered rows are sorted; the latest
//! `holdout_percentage` of them are held out. The second half of the rest is cut into
//! `nfold` consecutive blocks. Fold `k` validates the rows whose origin lies in block
//! `k` and trains on the rows whose *target* moment comes before the block's first
//! origin: an expanding window that holds nothing a forecaster at that origin could
//! not have known. The held-out rows are scored by a model trained the same way on
//! everything before them; the model kept is then refitted on every row.
//!
//! # The search
//! The first generation is every requested algorithm with the widest window, then
//! random (algorithm, window) pairs up to the generation size. Each later generation
//! breeds children of the two best configurations so far: every gene comes from the
//! best one, from the second best with probability `crossover_rate`, and is drawn
//! afresh with probability `mutation_rate`. A configuration is trained once; the
//! search stops after `max_iteration` generations or `max_model` configurations
//! (at most [`MAX_MODELS`]).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

use super::super::encode::Encoder;
use super::super::metrics::{average, regression_scores, Scores};
use super::super::model::{Fitted, Output};
use super::super::rng::Rng;
use super::super::spec::{Algo, ModelType};
use super::super::train::fit_engine;
use super::super::tree::Labels;
use super::super::Frame;
use super::features::{build, count_training_pairs, training_pairs, Samples, Shape, MAX_CELLS};
use super::panel::{Layout, Panel};
use super::{Forecaster, TsError, TsExperiment, TsSpec};

/// Most configurations one request trains.
pub(crate) const MAX_MODELS: usize = 24;
/// Widest window accepted.
pub(crate) const MAX_WINDOW: usize = 1000;
/// Longest horizon accepted.
pub(crate) const MAX_HORIZON: usize = 1000;
/// Largest gap accepted.
pub(crate) const MAX_GAP: usize = 100_000;
/// Fewest training rows a fold may have.
const MIN_TRAIN_ROWS: usize = 8;

/// Runs the search for `spec` on `frame`.
pub(crate) fn run(
    frame: &Frame,
    spec: &TsSpec,
    progress: &mut dyn FnMut(f64, &str),
    cancel: &AtomicBool,
) -> Result<TsExperiment, TsError> {
    let evaluator = check_spec(spec)?;
    let layout = Layout {
        target: spec.target.clone(),
        time: spec.datetime_column.clone(),
        groups: spec.time_groups.clone(),
        endogenous: spec.endogenous.clone(),
        exogenous: spec.exogenous.clone(),
        unit: spec.time_unit,
        aggregate: spec.aggregate,
    };
    let panel = layout.read(frame, None)?;
    let widest = check_sizes(&panel, spec)?;
    progress(0.0, "series prepared");
    let budget = (spec.search.population * spec.search.generations)
        .min(spec.max_model.unwrap_or(MAX_MODELS))
        .min(MAX_MODELS);
    let mut rng = Rng::derive(spec.seed, 0x7153);
    let mut seen = HashSet::new();
    let mut models: Vec<Forecaster> = Vec::new();
    for generation in 0..spec.search.generations {
        let batch = match generation {
            0 => first_generation(spec, widest, &mut rng),
            _ => breed(spec, widest, &models, evaluator, &mut rng),
        };
        for (algo, window) in batch {
            if models.len() == budget {
                break;
            }
            if !seen.insert((algo, window)) {
                continue;
            }
            let seed = Rng::derive(spec.seed, models.len() as u64 + 1).next_u64();
            let model = evaluate(&panel, &layout, spec, (algo, window), seed, cancel)?;
            models.push(model);
            let done = models.len() as f64 / budget as f64;
            progress(done.min(1.0), &format!("{algo} window {window} validated"));
        }
    }
    let shape = Shape {
        horizon: spec.horizon,
        gap: spec.gap,
        window: widest,
    };
    let features = build(&panel, shape, &[], &layout)?.features();
    keep_common_metrics(&mut models);
    Ok(TsExperiment {
        evaluator,
        features,
        models,
    })
}

/// Keeps only the metrics every model reports (the SDK ranks models by one metric and
/// fails if some model lacks it).
fn keep_common_metrics(models: &mut [Forecaster]) {
    let picks: [fn(&mut Forecaster) -> &mut Scores; 2] =
        [|m| &mut m.cv_averages, |m| &mut m.validation_scores];
    for pick in picks {
        let Some(first) = models.first_mut().map(|m| pick(m).clone()) else {
            return;
        };
        let common: Vec<String> = first
            .keys()
            .filter(|k| models.iter_mut().all(|m| pick(m).contains_key(*k)))
            .cloned()
            .collect();
        for m in models.iter_mut() {
            pick(m).retain(|k, _| common.contains(k));
        }
    }
}

/// The checks that need no data; returns the evaluator, `auto` resolved.
fn check_spec(spec: &TsSpec) -> Result<super::Evaluator, TsError> {
    let invalid = |m: String| Err(TsError::Invalid(m));
    if spec.horizon == 0 {
        return invalid("forecast_horizon must be at least 1".into());
    }
    if spec.horizon > MAX_HORIZON {
        return invalid(format!("forecast_horizon must be at most {MAX_HORIZON}"));
    }
    if spec.gap > MAX_GAP {
        return invalid(format!("gap must be at most {MAX_GAP}, not {}", spec.gap));
    }
    if spec.window == Some(0) || spec.window.is_some_and(|w| w > MAX_WINDOW) {
        return invalid(format!(
            "max_window_for_feature_derivation must be between 1 and {MAX_WINDOW}"
        ));
    }
    if !(1..=10).contains(&spec.nfold) {
        return invalid(format!(
            "nfold must be between 1 and 10, not {}",
            spec.nfold
        ));
    }
    for x in &spec.exogenous {
        if [&spec.target, &spec.datetime_column].contains(&x) || spec.time_groups.contains(x) {
            return invalid(format!(
                "exogenous_features: '{x}' is the target, the datetime column or a time group"
            ));
        }
    }
    if spec.algos.is_empty() {
        return invalid("algos: no algorithm to train".into());
    }
    if spec.algos.contains(&Algo::StackedEnsemble) {
        return invalid(
            "algos: StackedEnsemble is trained by train experiments, not by time-series \
             forecasts (use GLM, DRF or GBM)"
                .into(),
        );
    }
    if spec.max_model == Some(0) {
        return invalid("max_model must be at least 1".into());
    }
    if let Some(pct) = spec
        .holdout_percentage
        .filter(|p| !(0.0..=50.0).contains(p))
    {
        return invalid(format!(
            "holdout_percentage must be between 0 and 50, not {pct}"
        ));
    }
    let s = spec.search;
    if s.generations == 0 || s.population == 0 {
        return invalid("max_iteration and generation_size must be at least 1".into());
    }
    for (name, rate) in [
        ("mutation_rate", s.mutation_rate),
        ("crossover_rate", s.crossover_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return invalid(format!("{name} must be between 0 and 1, not {rate}"));
        }
    }
    let resolved = spec.evaluator.resolve(ModelType::Regression);
    if !resolved.applies_to(ModelType::Regression) {
        return invalid(format!(
            "evaluator '{resolved}' does not apply to a forecast (a regression); use auto, \
             deviance, mse, rmse, mae, rmsle, r2, mape or wmape"
        ));
    }
    Ok(resolved)
}

/// Checks that the data allows the horizon and the rows; returns the widest window.
fn check_sizes(panel: &Panel, spec: &TsSpec) -> Result<usize, TsError> {
    let longest = panel.series.iter().map(|s| s.y.len()).max().unwrap_or(0);
    if spec.gap + spec.horizon >= longest {
        return Err(TsError::Invalid(format!(
            "forecast_horizon {} with gap {} is larger than the data allows: the longest \
             series has {longest} rows, so at most {} steps can be forecast",
            spec.horizon,
            spec.gap,
            longest.saturating_sub(1 + spec.gap)
        )));
    }
    Ok(spec.window.unwrap_or(7))
}

fn first_generation(spec: &TsSpec, widest: usize, rng: &mut Rng) -> Vec<(Algo, usize)> {
    let mut batch: Vec<(Algo, usize)> = spec.algos.iter().map(|&a| (a, widest)).collect();
    while batch.len() < spec.search.population.max(spec.algos.len()) {
        batch.push(random_genes(spec, widest, rng));
        if batch.len() > spec.algos.len() * widest {
            break;
        }
    }
    batch
}

fn random_genes(spec: &TsSpec, widest: usize, rng: &mut Rng) -> (Algo, usize) {
    (
        spec.algos[rng.below(spec.algos.len())],
        1 + rng.below(widest),
    )
}

/// Children of the two best models so far.
fn breed(
    spec: &TsSpec,
    widest: usize,
    models: &[Forecaster],
    evaluator: super::Evaluator,
    rng: &mut Rng,
) -> Vec<(Algo, usize)> {
    let mut ranked: Vec<&Forecaster> = models.iter().collect();
    let score = |m: &Forecaster| {
        let v = m
            .cv_averages
            .get(evaluator.as_str())
            .copied()
            .unwrap_or(f64::NAN);
        match (v.is_finite(), evaluator.higher_is_better()) {
            (false, _) => f64::INFINITY,
            (true, true) => -v,
            (true, false) => v,
        }
    };
    ranked.sort_by(|a, b| score(a).total_cmp(&score(b)));
    let (Some(best), second) = (ranked.first(), ranked.get(1).or(ranked.first())) else {
        return Vec::new();
    };
    let second = second.unwrap_or(best);
    let s = spec.search;
    (0..s.population)
        .map(|_| {
            let fresh = random_genes(spec, widest, rng);
            let gene = |rng: &mut Rng| {
                let crossed = rng.next_f64() < s.crossover_rate;
                (crossed, rng.next_f64() < s.mutation_rate)
            };
            let algo = match gene(rng) {
                (_, true) => fresh.0,
                (true, false) => second.algo,
                (false, false) => best.algo,
            };
            let window = match gene(rng) {
                (_, true) => fresh.1,
                (true, false) => second.window,
                (false, false) => best.window,
            };
            (algo, window)
        })
        .collect()
}

/// Validates one configuration and fits its model on every row.
fn evaluate(
    panel: &Panel,
    layout: &Layout,
    spec: &TsSpec,
    (algo, window): (Algo, usize),
    seed: u64,
    cancel: &AtomicBool,
) -> Result<Forecaster, TsError> {
    let shape = Shape {
        horizon: spec.horizon,
        gap: spec.gap,
        window,
    };
    let count = count_training_pairs(panel, shape);
    let width = 8 + window * (1 + spec.endogenous.len()) + spec.exogenous.len() + 40;
    if count.saturating_mul(width) > MAX_CELLS {
        return Err(TsError::Invalid(format!(
            "window {window} and forecast_horizon {} make {count} engineered rows of about \
             {width} features, more than this server handles ({MAX_CELLS} cells); \
             lower max_window_for_feature_derivation or forecast_horizon",
            spec.horizon
        )));
    }
    let pairs = training_pairs(panel, shape);
    let samples = build(panel, shape, &pairs, layout)?;
    let folds = Folds::new(&samples, spec, shape)?;
    let mut scores = Vec::with_capacity(folds.blocks.len());
    for (train, test) in &folds.blocks {
        let fitted = fit(&samples, algo, train, seed, cancel)?;
        scores.push(score(&samples, &fitted, test)?);
    }
    let validation_scores = match &folds.holdout {
        Some((train, test)) => score(&samples, &fit(&samples, algo, train, seed, cancel)?, test)?,
        None => Scores::new(),
    };
    let all: Vec<usize> = (0..samples.delta.len()).collect();
    let fitted = fit(&samples, algo, &all, seed, cancel)?;
    Ok(Forecaster {
        algo,
        window,
        cv_averages: average(&scores),
        validation_scores,
        layout: layout.clone(),
        shape,
        step: panel.step,
        history: panel.series.iter().map(|s| s.tail(window)).collect(),
        fitted,
        seed: spec.seed,
    })
}

/// Row indices of each fold (training, validation) and of the hold-out.
pub(crate) struct Folds {
    pub(crate) blocks: Vec<(Vec<usize>, Vec<usize>)>,
    pub(crate) holdout: Option<(Vec<usize>, Vec<usize>)>,
}

impl Folds {
    pub(crate) fn new(samples: &Samples, spec: &TsSpec, shape: Shape) -> Result<Folds, TsError> {
        let mut origins: Vec<i64> = samples.origin_time.clone();
        origins.sort_unstable();
        origins.dedup();
        let pct = spec.holdout_percentage.unwrap_or(0.0);
        let mut held = (origins.len() as f64 * pct / 100.0).round() as usize;
        if pct > 0.0 {
            held = held.max(1);
        }
        let kept = origins.len().saturating_sub(held);
        let start = kept / 2;
        let too_few = || {
            TsError::Invalid(format!(
                "too few rows for the windows: with window {}, gap {} and forecast_horizon {} \
                 the data gives {} engineered rows over {} origins, too few for {} \
                 time-ordered folds{}; give more rows or lower \
                 max_window_for_feature_derivation, forecast_horizon or nfold",
                shape.window,
                shape.gap,
                shape.horizon,
                samples.delta.len(),
                origins.len(),
                spec.nfold,
                if held > 0 { " and the hold-out" } else { "" }
            ))
        };
        if kept - start < spec.nfold || start == 0 {
            return Err(too_few());
        }
        let split = |first: i64, last: i64| {
            let train: Vec<usize> = (0..samples.delta.len())
                .filter(|&r| samples.target_time[r] < first)
                .collect();
            let test: Vec<usize> = (0..samples.delta.len())
                .filter(|&r| (first..=last).contains(&samples.origin_time[r]))
                .collect();
            (train, test)
        };
        let span = kept - start;
        let mut blocks = Vec::with_capacity(spec.nfold);
        for k in 0..spec.nfold {
            let (a, b) = (
                start + span * k / spec.nfold,
                start + span * (k + 1) / spec.nfold,
            );
            blocks.push(split(origins[a], origins[b - 1]));
        }
        let holdout = (held > 0).then(|| split(origins[kept], origins[origins.len() - 1]));
        let small = |(train, test): &(Vec<usize>, Vec<usize>)| {
            train.len() < MIN_TRAIN_ROWS || test.is_empty()
        };
        if blocks.iter().any(small) || holdout.as_ref().is_some_and(small) {
            return Err(too_few());
        }
        Ok(Folds { blocks, holdout })
    }
}

fn fit(
    samples: &Samples,
    algo: Algo,
    rows: &[usize],
    seed: u64,
    cancel: &AtomicBool,
) -> Result<Fitted, TsError> {
    if cancel.load(Ordering::Relaxed) {
        return Err(TsError::Cancelled);
    }
    let internal = |e: super::super::error::PredictError| TsError::Failed(e.to_string());
    let features = samples.features();
    let encoder = Encoder::fit(&samples.frame, &features, rows).map_err(internal)?;
    let x = encoder.transform(&samples.frame, rows).map_err(internal)?;
    let y: Vec<f64> = rows.iter().map(|&r| samples.delta[r]).collect();
    let engine =
        fit_engine(algo, &x, Labels::Values(&y), seed, None, cancel).map_err(|e| match e {
            super::super::TrainError::Cancelled => TsError::Cancelled,
            other => TsError::Failed(other.to_string()),
        })?;
    Ok(Fitted::new(encoder, engine, &x))
}

/// Regression metrics of the forecasts of rows `rows` (level plus predicted change).
fn score(samples: &Samples, fitted: &Fitted, rows: &[usize]) -> Result<Scores, TsError> {
    let Output::Values(delta) = fitted
        .predict(&samples.frame, rows)
        .map_err(|e| TsError::Failed(e.to_string()))?
    else {
        return Err(TsError::Failed(
            "a forecaster gave class probabilities".into(),
        ));
    };
    let truth: Vec<f64> = rows
        .iter()
        .map(|&r| samples.level[r] + samples.delta[r])
        .collect();
    let pred: Vec<f64> = rows
        .iter()
        .zip(&delta)
        .map(|(&r, d)| samples.level[r] + d)
        .collect();
    Ok(regression_scores(&truth, &pred))
}
