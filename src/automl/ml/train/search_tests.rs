//! The search and the quality floors of the engines on small generated data whose
//! answer is known: budgets honoured (`max_model`, `max_run_time`), folds in parallel
//! giving the same models, a linear target, an interaction, a class imbalance, many
//! categorical levels, and bad input refused in words.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::super::frame::{Column, ColumnData};
use super::super::testdata::{binary, linear};
use super::*;

fn run(frame: &Frame, spec: &TrainSpec) -> Result<TrainedExperiment, TrainError> {
    train(frame, spec, &mut |_, _| {}, &AtomicBool::new(false))
}

fn value(model: &TrainedModel, name: &str) -> f64 {
    let settings = model.hyperparameters();
    settings.iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn max_model_trains_exactly_that_many_and_lists_each_with_its_settings() {
    let spec = TrainSpec {
        algos: vec![Algo::Gbm],
        max_model: Some(3),
        ..TrainSpec::new("label")
    };
    let data = binary(300, 3);
    let experiment = run(&data, &spec).unwrap();
    assert_eq!(experiment.models.len(), 3);
    assert!(experiment.models.iter().all(|m| m.algo == Algo::Gbm));
    let settings: Vec<_> = experiment
        .models
        .iter()
        .map(|m| m.hyperparameters())
        .collect();
    assert_ne!(settings[0], settings[1]);
    assert_ne!(settings[1], settings[2]);
    assert!(experiment
        .models
        .iter()
        .all(|m| m.cv_averages.contains_key("auc")));
    // Same seed, same models; the defaults first.
    assert_eq!(run(&data, &spec).unwrap(), experiment);
    assert_eq!(value(&experiment.models[0], "learn_rate"), 0.1);
    let mixed = TrainSpec {
        algos: vec![Algo::Glm, Algo::Gbm],
        max_model: Some(4),
        ..TrainSpec::new("label")
    };
    let algos: Vec<Algo> = run(&data, &mixed)
        .unwrap()
        .models
        .iter()
        .map(|m| m.algo)
        .collect();
    // The searched candidates take GLM and GBM in turn, in request order.
    assert_eq!(algos, [Algo::Glm, Algo::Gbm, Algo::Glm, Algo::Gbm]);
}

#[test]
fn folds_in_parallel_give_the_same_models() {
    let data = binary(200, 4);
    let spec = TrainSpec {
        algos: Algo::TRAINED.to_vec(),
        ..TrainSpec::new("label")
    };
    let one = run(&data, &spec).unwrap();
    let three = run(&data, &TrainSpec { threads: 3, ..spec }).unwrap();
    assert_eq!(one, three);
}

#[test]
fn max_run_time_alone_searches_until_it_runs_out() {
    let data = linear(600, 5);
    let single = TrainSpec {
        algos: vec![Algo::Gbm],
        ..TrainSpec::new("y")
    };
    let start = Instant::now();
    run(&data, &single).unwrap();
    let one_model = start.elapsed();
    let budget = Duration::from_millis(1500).max(one_model * 3);
    let spec = TrainSpec {
        max_run_time: Some(budget),
        ..single
    };
    let start = Instant::now();
    let experiment = run(&data, &spec).unwrap();
    let took = start.elapsed();
    let note = experiment.stopped_early.clone().expect("the time ran out");
    assert!(note.contains("models finished and are kept"), "{note}");
    assert!(experiment.models.len() >= 2, "{note}");
    // The model in progress is abandoned at its next tree: the training ends within
    // its budget plus (at most) one model.
    assert!(
        took < budget + one_model + Duration::from_secs(1),
        "{took:?} for {budget:?}"
    );
}

/// `n` rows of two uniform features and a numeric noise column.
fn uniform(n: usize, seed: u64) -> Vec<[f64; 3]> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| [rng.next_f64(), rng.next_f64(), rng.next_f64()])
        .collect()
}

fn frame(rows: &[[f64; 3]], target: Column) -> Frame {
    let col = |j: usize, name: &str| Column::numerical(name, rows.iter().map(|r| r[j]).collect());
    Frame::new(vec![col(0, "a"), col(1, "b"), col(2, "noise"), target]).unwrap()
}

#[test]
fn trees_find_an_interaction_a_linear_model_cannot() {
    let rows = uniform(1200, 6);
    let labels: Vec<Option<String>> = rows
        .iter()
        .map(|r| {
            Some(
                if (r[0] > 0.5) ^ (r[1] > 0.5) {
                    "yes"
                } else {
                    "no"
                }
                .to_owned(),
            )
        })
        .collect();
    let data = frame(&rows, Column::categorical("xor", &labels));
    let spec = TrainSpec {
        algos: Algo::TRAINED.to_vec(),
        ..TrainSpec::new("xor")
    };
    let experiment = run(&data, &spec).unwrap();
    let auc = |i: usize| experiment.models[i].cv_averages["auc"];
    assert!(auc(0) < 0.7, "GLM auc {}", auc(0));
    assert!(auc(1) > 0.97, "DRF auc {}", auc(1));
    assert!(auc(2) > 0.97, "GBM auc {}", auc(2));
}

#[test]
fn glm_fits_a_known_linear_target() {
    let rows = uniform(500, 7);
    let y: Vec<f64> = rows.iter().map(|r| 3.0 * r[0] - 2.0 * r[1] + 1.0).collect();
    let data = frame(&rows, Column::numerical("y", y));
    let spec = TrainSpec {
        algos: vec![Algo::Glm],
        ..TrainSpec::new("y")
    };
    let rmse = run(&data, &spec).unwrap().models[0].cv_averages["rmse"];
    assert!(rmse < 1e-3, "rmse {rmse}");
}

#[test]
fn a_rare_class_is_still_ranked_and_its_rate_kept() {
    // 5 % positives, which depend on feature a.
    let rows = uniform(4000, 8);
    let mut rng = Rng::new(9);
    let labels: Vec<Option<String>> = rows
        .iter()
        .map(|r| {
            let p = if r[0] > 0.8 { 0.22 } else { 0.01 };
            Some(if rng.next_f64() < p { "rare" } else { "common" }.to_owned())
        })
        .collect();
    let positives = labels
        .iter()
        .filter(|l| l.as_deref() == Some("rare"))
        .count();
    let data = frame(&rows, Column::categorical("class", &labels));
    let spec = TrainSpec {
        algos: vec![Algo::Gbm],
        ..TrainSpec::new("class")
    };
    let model = &run(&data, &spec).unwrap().models[0];
    // The best possible ranking (the true probabilities) has an AUC of about 0.84.
    assert!(model.cv_averages["auc"] > 0.8, "{:?}", model.cv_averages);
    let out = model.predict(&data, &[], None).unwrap();
    let ColumnData::Numerical(p) = &out.column("rare").unwrap().data else {
        panic!("a probability column per class")
    };
    let mean = p.iter().sum::<f64>() / p.len() as f64;
    let rate = positives as f64 / rows.len() as f64;
    assert!(
        (mean - rate).abs() < 0.2 * rate,
        "mean probability {mean}, rate {rate}"
    );
}

#[test]
fn categorical_levels_beyond_32_are_used() {
    // 100 levels of 40 rows each; the target is the level's own value.
    let n = 4000;
    let effect = |level: usize| ((level * 37) % 100) as f64 / 10.0;
    let levels: Vec<Option<String>> = (0..n).map(|i| Some(format!("L{}", i % 100))).collect();
    let mut rng = Rng::new(10);
    let y: Vec<f64> = (0..n)
        .map(|i| effect(i % 100) + 0.1 * rng.normal())
        .collect();
    let data = Frame::new(vec![
        Column::categorical("level", &levels),
        Column::numerical("y", y),
    ])
    .unwrap();
    let spec = TrainSpec {
        algos: vec![Algo::Gbm],
        ..TrainSpec::new("y")
    };
    let r2 = run(&data, &spec).unwrap().models[0].cv_averages["r2"];
    // The 32 most frequent levels alone could explain at most about a third.
    assert!(r2 > 0.95, "r2 {r2}");
}

#[test]
fn bad_input_ends_in_clear_errors() {
    let rows = uniform(100, 11);
    let expect = |data: Frame, target: &str, needle: &str| {
        let spec = TrainSpec::new(target);
        let err = run(&data, &spec).unwrap_err();
        assert!(matches!(err, TrainError::Invalid(_)), "{err}");
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    };
    let mut empty = frame(
        &rows,
        Column::numerical("y", rows.iter().map(|r| r[0]).collect()),
    );
    empty = Frame::new(
        empty
            .columns()
            .iter()
            .cloned()
            .chain([Column::numerical("blank", vec![f64::NAN; 100])])
            .collect(),
    )
    .unwrap();
    expect(empty, "y", "the feature column 'blank' has no values");
    expect(
        frame(&rows, Column::numerical("y", vec![4.0; 100])),
        "y",
        "is 4 on every training row",
    );
    let one_each: Vec<Option<String>> = (0..100).map(|i| Some(format!("c{i}"))).collect();
    expect(
        frame(&rows, Column::categorical("label", &one_each)),
        "label",
        "every class needs at least 2",
    );
}
