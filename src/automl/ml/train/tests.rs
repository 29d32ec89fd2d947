//! Behaviour of [`train()`] and of the models it returns, on generated data.

use std::sync::atomic::AtomicBool;

use super::super::error::PredictError;
use super::super::frame::{ColumnData, Frame};
use super::super::testdata::{binary, linear, three_class, without};
use super::super::{Column, ModelType, TrainedModel};
use super::*;
use crate::automl::evaluator::Evaluator;

pub(super) fn run(frame: &Frame, spec: &TrainSpec) -> Result<TrainedExperiment, TrainError> {
    train(frame, spec, &mut |_, _| {}, &AtomicBool::new(false))
}

pub(super) fn model(experiment: &TrainedExperiment, algo: Algo) -> &TrainedModel {
    experiment
        .models
        .iter()
        .find(|m| m.algo == algo)
        .expect("algorithm was trained")
}

/// Fraction of rows whose predicted label equals the true one.
pub(super) fn accuracy(model: &TrainedModel, data: &Frame, target: &str) -> f64 {
    let predictions = model.predict(&without(data, target), &[], None).unwrap();
    let text =
        |f: &Frame, name: &str, r: usize| f.column(name).unwrap().text(r).map(|t| t.into_owned());
    let hits = (0..data.rows())
        .filter(|&r| text(&predictions, "prediction", r) == text(data, target, r))
        .count();
    hits as f64 / data.rows() as f64
}

#[test]
fn regression_fits_a_linear_relation() {
    let spec = TrainSpec {
        validation_percentage: Some(20.0),
        max_model: Some(2),
        ..TrainSpec::new("y")
    };
    let experiment = run(&linear(500, 1), &spec).unwrap();
    assert_eq!(experiment.model_type, ModelType::Regression);
    assert_eq!(experiment.evaluator, Evaluator::Deviance);
    let (glm, drf) = (model(&experiment, Algo::Glm), model(&experiment, Algo::Drf));
    assert!(
        glm.validation_scores["r2"] > 0.95,
        "GLM {:?}",
        glm.validation_scores
    );
    assert!(
        drf.validation_scores["r2"] > 0.8,
        "DRF {:?}",
        drf.validation_scores
    );
    assert!(glm.cv_averages["r2"] > 0.95, "GLM {:?}", glm.cv_averages);
    // Targets reach below −1, so rmsle is undefined and left out.
    let keys: Vec<&String> = glm.cv_averages.keys().collect();
    assert_eq!(
        keys,
        ["deviance", "mae", "mape", "mse", "r2", "rmse", "wmape"]
    );
    assert_eq!(glm.cv_averages["deviance"], glm.cv_averages["mse"]);
    assert!((glm.cv_averages["rmse"] - glm.cv_averages["mse"].sqrt()).abs() < 0.1);
    let keys: Vec<&String> = glm.validation_scores.keys().collect();
    assert_eq!(
        keys,
        ["deviance", "mae", "mape", "mse", "r2", "rmse", "wmape"]
    );
    assert_eq!(experiment.best_model(), Some(0));
}

#[test]
fn regression_predictions_follow_the_contract() {
    let experiment = run(&linear(300, 2), &TrainSpec::new("y")).unwrap();
    let glm = model(&experiment, Algo::Glm);
    let fresh = linear(50, 3);
    let out = glm
        .predict(&without(&fresh, "y"), &["c".into(), "x1".into()], Some(0.9))
        .unwrap();
    assert_eq!(
        out.column_names().collect::<Vec<_>>(),
        ["c", "x1", "prediction"]
    );
    let (ColumnData::Numerical(pred), ColumnData::Numerical(truth)) = (
        &out.column("prediction").unwrap().data,
        &fresh.column("y").unwrap().data,
    ) else {
        panic!("regression predictions are numerical")
    };
    assert!(super::super::metrics::r2(truth, pred).is_some_and(|r2| r2 > 0.95));
    assert_eq!(glm.features(), ["x1", "x2", "c"]);
}

#[test]
fn binary_classifiers_separate_the_classes() {
    let spec = TrainSpec {
        validation_percentage: Some(25.0),
        seed: 9,
        algos: Algo::TRAINED.to_vec(),
        max_model: Some(3),
        ..TrainSpec::new("label")
    };
    let experiment = run(&binary(400, 4), &spec).unwrap();
    assert_eq!(experiment.model_type, ModelType::Binary);
    assert_eq!(experiment.models.len(), 3);
    let fresh = binary(300, 5);
    for m in &experiment.models {
        let v = &m.validation_scores;
        assert!(1.0 - v["misclassification"] > 0.9, "{} {v:?}", m.algo);
        assert!(
            v["auc"] > 0.9 && v["logloss"].is_finite(),
            "{} {v:?}",
            m.algo
        );
        assert!(m.cv_averages["auc"] > 0.9, "{} {:?}", m.algo, m.cv_averages);
        assert!(accuracy(m, &fresh, "label") > 0.9, "{}", m.algo);
        assert_eq!(m.classes(), ["no", "yes"]);
    }
}

#[test]
fn binary_threshold_moves_the_decision() {
    let experiment = run(
        &binary(200, 6),
        &TrainSpec {
            algos: vec![Algo::Glm],
            ..TrainSpec::new("label")
        },
    )
    .unwrap();
    let data = without(&binary(100, 7), "label");
    let glm = &experiment.models[0];
    let yes = |t: f64| {
        let out = glm.predict(&data, &[], Some(t)).unwrap();
        (0..out.rows())
            .filter(|&r| out.column("prediction").unwrap().text(r).as_deref() == Some("yes"))
            .count()
    };
    assert_eq!(yes(0.0), 100);
    assert!(yes(0.2) >= yes(0.5) && yes(0.5) >= yes(0.8));
    let out = glm.predict(&data, &[], None).unwrap();
    assert_eq!(
        out.column_names().collect::<Vec<_>>(),
        ["prediction", "no", "yes"]
    );
    assert_eq!(
        glm.predict(&data, &[], Some(1.5)).unwrap_err(),
        PredictError::BadThreshold(1.5)
    );
}

#[test]
fn multinomial_classifiers_separate_three_clusters() {
    let spec = TrainSpec {
        validation_percentage: Some(25.0),
        nfold: 3,
        algos: Algo::TRAINED.to_vec(),
        max_model: Some(3),
        ..TrainSpec::new("label")
    };
    let experiment = run(&three_class(450, 8), &spec).unwrap();
    assert_eq!(experiment.model_type, ModelType::Multinomial);
    assert_eq!(experiment.models.len(), 3);
    let fresh = three_class(300, 9);
    for m in &experiment.models {
        let v = &m.validation_scores;
        assert!(
            1.0 - v["misclassification"] > 0.9 && v["logloss"].is_finite(),
            "{} {v:?}",
            m.algo
        );
        assert!(!m.cv_averages.contains_key("auc"));
        assert!(accuracy(m, &fresh, "label") > 0.9, "{}", m.algo);
        let out = m.predict(&fresh, &["label".into()], None).unwrap();
        let sum: f64 = ["a", "b", "c"]
            .iter()
            .map(|c| {
                out.column(c)
                    .unwrap()
                    .text(0)
                    .unwrap()
                    .parse::<f64>()
                    .unwrap()
            })
            .sum();
        assert!((sum - 1.0).abs() < 1e-9);
    }
    let recs = experiment.recommendations();
    assert_eq!(
        recs.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(),
        [
            "logloss",
            "misclassification",
            "mean_per_class_error",
            "mse",
            "rmse"
        ]
    );
}

#[test]
fn progress_reports_every_fold_and_final_fit() {
    let mut seen: Vec<(f64, String)> = Vec::new();
    let spec = TrainSpec {
        nfold: 3,
        max_model: Some(2),
        ..TrainSpec::new("y")
    };
    train(
        &linear(100, 10),
        &spec,
        &mut |f, m| seen.push((f, m.to_owned())),
        &AtomicBool::new(false),
    )
    .unwrap();
    let messages: Vec<&str> = seen.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(messages.len(), 1 + 2 * 4);
    assert_eq!(
        messages[1..5],
        [
            "GLM fold 1/3",
            "GLM fold 2/3",
            "GLM fold 3/3",
            "GLM final model"
        ]
    );
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    assert_eq!(seen.last().unwrap().0, 1.0);
}

#[test]
fn cancel_flag_stops_training() {
    let cancel = AtomicBool::new(true);
    let result = train(
        &linear(100, 11),
        &TrainSpec::new("y"),
        &mut |_, _| {},
        &cancel,
    );
    assert_eq!(result.unwrap_err(), TrainError::Cancelled);
    let cancel = AtomicBool::new(false);
    let mut calls = 0;
    let mut stop_after_first_fold = |_: f64, _: &str| {
        calls += 1;
        if calls == 2 {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    };
    let result = train(
        &linear(100, 11),
        &TrainSpec::new("y"),
        &mut stop_after_first_fold,
        &cancel,
    );
    assert_eq!(result.unwrap_err(), TrainError::Cancelled);
    assert_eq!(calls, 2);
}

#[test]
fn invalid_targets_and_bad_specs_are_refused() {
    let data = binary(60, 12);
    let invalid = |spec: TrainSpec| matches!(run(&data, &spec), Err(TrainError::Invalid(_)));
    assert!(invalid(TrainSpec::new("missing")));
    let single = Frame::new(vec![
        data.columns()[0].clone(),
        Column::categorical("t", &vec![Some("x"); 60]),
    ]);
    assert!(matches!(
        run(&single.unwrap(), &TrainSpec::new("t")),
        Err(TrainError::Invalid(_))
    ));
    let bad = |spec: TrainSpec| matches!(run(&data, &spec), Err(TrainError::BadSpec(_)));
    assert!(bad(TrainSpec {
        nfold: 1,
        ..TrainSpec::new("label")
    }));
    assert!(bad(TrainSpec {
        nfold: 11,
        ..TrainSpec::new("label")
    }));
    assert!(bad(TrainSpec {
        algos: vec![],
        ..TrainSpec::new("label")
    }));
    assert!(bad(TrainSpec {
        max_model: Some(0),
        ..TrainSpec::new("label")
    }));
    assert!(bad(TrainSpec {
        validation_percentage: Some(f64::NAN),
        ..TrainSpec::new("label")
    }));
}

#[test]
fn max_model_and_duplicates_limit_the_models() {
    let spec = TrainSpec {
        algos: vec![Algo::Drf, Algo::Drf, Algo::Glm],
        max_model: Some(1),
        ..TrainSpec::new("y")
    };
    let experiment = run(&linear(80, 13), &spec).unwrap();
    assert_eq!(
        experiment.models.iter().map(|m| m.algo).collect::<Vec<_>>(),
        [Algo::Drf]
    );
    // Duplicates are trained once; the default budget then searches GLM's penalties.
    let spec = TrainSpec {
        algos: vec![Algo::Drf, Algo::Drf, Algo::Glm],
        max_model: Some(2),
        ..TrainSpec::new("y")
    };
    let algos: Vec<Algo> = run(&linear(80, 13), &spec)
        .unwrap()
        .models
        .iter()
        .map(|m| m.algo)
        .collect();
    assert_eq!(algos, [Algo::Drf, Algo::Glm]);
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let data = binary(150, 14);
    let spec = TrainSpec {
        seed: 5,
        algos: Algo::TRAINED.to_vec(),
        max_model: Some(3),
        ..TrainSpec::new("label")
    };
    let (a, b) = (run(&data, &spec).unwrap(), run(&data, &spec).unwrap());
    assert_eq!(a, b);
    let other = run(&data, &TrainSpec { seed: 6, ..spec }).unwrap();
    assert_ne!(a.models[1].cv_averages, other.models[1].cv_averages);
    assert_ne!(a.models[2].cv_averages, other.models[2].cv_averages);
}

#[test]
fn prediction_errors_are_explained() {
    let experiment = run(
        &linear(60, 15),
        &TrainSpec {
            algos: vec![Algo::Glm],
            ..TrainSpec::new("y")
        },
    )
    .unwrap();
    let glm = &experiment.models[0];
    let data = linear(5, 16);
    let err = glm.predict(&without(&data, "x2"), &[], None).unwrap_err();
    assert_eq!(err, PredictError::MissingFeature("x2".into()));
    let err = glm.predict(&data, &["nope".into()], None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot keep column 'nope': the data has no such column"
    );
    let renamed = Frame::new(vec![Column::numerical("prediction", vec![0.0; 5])]).unwrap();
    let both = Frame::new(
        data.columns()
            .iter()
            .chain(renamed.columns())
            .cloned()
            .collect(),
    )
    .unwrap();
    let err = glm
        .predict(&both, &["prediction".into()], None)
        .unwrap_err();
    assert_eq!(err, PredictError::OutputClash("prediction".into()));
}

#[test]
fn non_finite_and_missing_values_do_not_break_training() {
    let mut x: Vec<f64> = (0..80).map(|i| f64::from(i % 9)).collect();
    x[3] = f64::INFINITY;
    x[4] = f64::NAN;
    let mut y: Vec<f64> = x
        .iter()
        .map(|v| if v.is_finite() { 2.0 * v } else { 0.0 })
        .collect();
    y[5] = f64::NAN;
    let constant = Column::numerical("k", vec![1.0; 80]);
    let frame = Frame::new(vec![
        Column::numerical("x", x),
        constant,
        Column::numerical("y", y),
    ])
    .unwrap();
    let experiment = run(&frame, &TrainSpec::new("y")).unwrap();
    assert!(experiment
        .models
        .iter()
        .all(|m| m.cv_averages["mse"].is_finite()));
    let empty = Frame::new(vec![
        Column::numerical("y", vec![f64::NAN; 3]),
        Column::numerical("x", vec![1.0; 3]),
    ]);
    assert!(matches!(
        run(&empty.unwrap(), &TrainSpec::new("y")),
        Err(TrainError::Invalid(_))
    ));
}
