//! `StackedEnsemble`: trained after the other models from their out-of-fold
//! predictions, scored on the same folds, refused where it cannot be trained.

use std::sync::atomic::AtomicBool;

use super::super::frame::Frame;
use super::super::testdata::{binary, nonlinear, three_class};
use super::search::DEFAULT_MOST_SEARCHED;
use super::*;

fn run(frame: &Frame, spec: &TrainSpec) -> Result<TrainedExperiment, TrainError> {
    train(frame, spec, &mut |_, _| {}, &AtomicBool::new(false))
}

fn spec(target: &str, algos: &[Algo]) -> TrainSpec {
    TrainSpec {
        algos: algos.to_vec(),
        ..TrainSpec::new(target)
    }
}

fn setting(model: &TrainedModel, name: &str) -> Option<f64> {
    let settings = model.hyperparameters();
    settings.iter().find(|(n, _)| *n == name).map(|s| s.1)
}

/// The ensemble's CV metric and the best of the other models' (lower is better).
fn ensemble_and_best(experiment: &TrainedExperiment, metric: &str) -> (f64, f64) {
    let (ensemble, bases) = experiment.models.split_last().unwrap();
    assert_eq!(ensemble.algo, Algo::StackedEnsemble);
    let best = bases
        .iter()
        .map(|m| m.cv_averages[metric])
        .fold(f64::MAX, f64::min);
    (ensemble.cv_averages[metric], best)
}

#[test]
fn a_regression_ensemble_blends_glm_and_gbm_and_scores_on_the_folds() {
    let data = nonlinear(600, 5);
    let algos = [Algo::Glm, Algo::Gbm, Algo::StackedEnsemble];
    let one_each = TrainSpec {
        max_model: Some(2),
        ..spec("y", &algos)
    };
    let experiment = run(&data, &one_each).unwrap();
    assert_eq!(experiment.models.len(), 3);
    let ensemble = &experiment.models[2];
    assert_eq!(setting(ensemble, "base_1"), Some(0.0));
    assert_eq!(setting(ensemble, "base_2"), Some(1.0));
    let weights = [
        setting(ensemble, "weight_1").unwrap(),
        setting(ensemble, "weight_2").unwrap(),
    ];
    assert!(
        weights.iter().all(|w| *w >= 0.0) && weights[1] > weights[0],
        "{weights:?}"
    );
    let (got, best) = ensemble_and_best(&experiment, "rmse");
    assert!(got <= best * 1.02, "ensemble rmse {got}, best model {best}");
    // It predicts a frame like any model, and its download scores the same.
    let predicted = ensemble.predict(&data, &[], None).unwrap();
    let again = TrainedModel::from_portable(&ensemble.to_portable()).unwrap();
    assert_eq!(again, *ensemble);
    assert_eq!(again.predict(&data, &[], None).unwrap(), predicted);
    assert_eq!(ensemble.features(), experiment.models[0].features());
    let importances: f64 = ensemble.importances().iter().map(|(_, v)| v).sum();
    assert!((importances - 1.0).abs() < 1e-9);
}

#[test]
fn a_multinomial_ensemble_is_at_least_as_good_as_its_best_model() {
    let data = three_class(450, 2);
    let algos = [Algo::Glm, Algo::Drf, Algo::Gbm, Algo::StackedEnsemble];
    let one_each = TrainSpec {
        max_model: Some(3),
        ..spec("label", &algos)
    };
    let experiment = run(&data, &one_each).unwrap();
    assert_eq!(experiment.models.len(), 4);
    let (got, best) = ensemble_and_best(&experiment, "logloss");
    assert!(
        got <= best + 0.005,
        "ensemble logloss {got}, best model {best}"
    );
    let ensemble = experiment.models.last().unwrap();
    let again = TrainedModel::from_portable(&ensemble.to_portable()).unwrap();
    assert_eq!(
        again.predict(&data, &[], None).unwrap(),
        ensemble.predict(&data, &[], None).unwrap()
    );
}

#[test]
fn the_bases_are_the_best_of_each_algorithm_then_the_best_of_the_rest() {
    let spec = TrainSpec {
        max_model: Some(8),
        ..spec("label", &[Algo::Glm, Algo::Gbm, Algo::StackedEnsemble])
    };
    let experiment = run(&binary(300, 4), &spec).unwrap();
    // Not counted in max_model.
    assert_eq!(experiment.models.len(), 9);
    let ensemble = &experiment.models[8];
    let bases: Vec<usize> = (1..=5)
        .filter_map(|k| {
            setting(
                ensemble,
                ["base_1", "base_2", "base_3", "base_4", "base_5"][k - 1],
            )
        })
        .map(|b| b as usize)
        .collect();
    assert_eq!(bases.len(), 5, "{bases:?}");
    assert!(
        bases.contains(&0),
        "the only GLM is the best of its family: {bases:?}"
    );
    // Ranked by the experiment's evaluator, "higher is better" or not.
    let metric = experiment.evaluator;
    let sign = if metric.higher_is_better() { 1.0 } else { -1.0 };
    let goodness = |i: usize| sign * experiment.models[i].cv_averages[metric.as_str()];
    let best_gbm = (1..8)
        .max_by(|&a, &b| goodness(a).total_cmp(&goodness(b)).then(b.cmp(&a)))
        .unwrap();
    assert!(bases.contains(&best_gbm), "{bases:?}");
    // Every model left out scores no better than every GBM kept.
    let kept_gbms = bases.iter().filter(|&&b| b != 0);
    let worst_kept = kept_gbms.map(|&b| goodness(b)).fold(f64::MAX, f64::min);
    for left in (1..8).filter(|i| !bases.contains(i)) {
        assert!(goodness(left) <= worst_kept, "model {left} was left out");
    }
}

#[test]
fn an_ensemble_it_cannot_train_is_refused_in_words() {
    let data = nonlinear(200, 1);
    let bad = |spec: &TrainSpec| match run(&data, spec) {
        Err(TrainError::BadSpec(message)) => message,
        other => panic!("{other:?}"),
    };
    let alone = bad(&spec("y", &[Algo::StackedEnsemble]));
    assert!(alone.contains("request it with GLM, DRF or GBM"), "{alone}");
    let one = TrainSpec {
        max_model: Some(1),
        ..spec("y", &[Algo::Gbm, Algo::StackedEnsemble])
    };
    let one = bad(&one);
    assert!(one.contains("at least two models"), "{one}");
    let two = TrainSpec {
        max_model: Some(2),
        ..spec("y", &[Algo::Gbm, Algo::StackedEnsemble])
    };
    assert_eq!(run(&data, &two).unwrap().models.len(), 3);
    // The default budget of a small data set searches, so there is a blend to fit.
    let searched = run(&data, &spec("y", &[Algo::Gbm, Algo::StackedEnsemble])).unwrap();
    assert_eq!(searched.models.len(), 1 + DEFAULT_MOST_SEARCHED + 1);
}

#[test]
fn an_ensemble_needs_memory_for_the_predictions_it_keeps() {
    let data = binary(2000, 3);
    let without = working_memory(&data, &spec("label", &[Algo::Glm, Algo::Gbm])).unwrap();
    let algos = [Algo::Glm, Algo::Gbm, Algo::StackedEnsemble];
    let with = working_memory(&data, &spec("label", &algos)).unwrap();
    // Eleven copies of 2,000 rows × 2 classes.
    assert!(
        with >= without + 11 * 2000 * 2 * 8,
        "{with} against {without}"
    );
}
