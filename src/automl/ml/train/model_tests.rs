//! What trained models tell about themselves (importances, hyper-parameters, features),
//! how GBM compares with GLM and DRF, and the path from a CSV upload (or a retyped
//! column) to a predictions CSV, on generated data.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::super::testdata::{binary, linear, nonlinear, three_class, without};
use super::super::ColumnData;
use super::tests::{model, run};
use super::*;

/// One model of each algorithm.
fn all_algos(target: &str) -> TrainSpec {
    TrainSpec {
        algos: Algo::TRAINED.to_vec(),
        max_model: Some(3),
        ..TrainSpec::new(target)
    }
}

/// r2 of `model`'s predictions on `data`.
fn held_out_r2(model: &TrainedModel, data: &Frame) -> f64 {
    let out = model.predict(&without(data, "y"), &[], None).unwrap();
    let (ColumnData::Numerical(pred), ColumnData::Numerical(y)) = (
        &out.column("prediction").unwrap().data,
        &data.column("y").unwrap().data,
    ) else {
        panic!("regression predictions are numerical")
    };
    super::super::metrics::r2(y, pred).unwrap()
}

#[test]
fn gbm_fits_a_nonlinear_relation_better_than_glm() {
    let started = Instant::now();
    let spec = TrainSpec {
        validation_percentage: Some(20.0),
        ..all_algos("y")
    };
    let experiment = run(&nonlinear(600, 21), &spec).unwrap();
    let elapsed = started.elapsed();
    let fresh = nonlinear(1000, 22);
    let r2: Vec<f64> = Algo::TRAINED
        .iter()
        .map(|&a| held_out_r2(model(&experiment, a), &fresh))
        .collect();
    eprintln!(
        "held-out r2 GLM {:.3} DRF {:.3} GBM {:.3} ({elapsed:?})",
        r2[0], r2[1], r2[2]
    );
    assert!(r2[2] > 0.85, "GBM r2 {}", r2[2]);
    assert!(r2[2] > r2[0] + 0.2, "GBM {} vs GLM {}", r2[2], r2[0]);
    let gbm = model(&experiment, Algo::Gbm);
    assert!(gbm.cv_averages["r2"] > 0.85, "{:?}", gbm.cv_averages);
    assert!(
        gbm.validation_scores["r2"] > 0.85,
        "{:?}",
        gbm.validation_scores
    );
    assert_eq!(experiment.best_model(), Some(2));
    let recommended: Vec<usize> = experiment.recommendations().iter().map(|r| r.1).collect();
    assert!(recommended.iter().all(|&i| i == 2), "{recommended:?}");
}

#[test]
fn gbm_is_deterministic_and_reports_progress() {
    let data = three_class(150, 23);
    let mut seen = Vec::new();
    let spec = TrainSpec {
        algos: vec![Algo::Gbm],
        nfold: 2,
        max_model: Some(1),
        ..TrainSpec::new("label")
    };
    let mut progress = |_: f64, m: &str| seen.push(m.to_owned());
    let a = train(&data, &spec, &mut progress, &AtomicBool::new(false)).unwrap();
    assert_eq!(
        seen,
        [
            "data prepared",
            "GBM fold 1/2",
            "GBM fold 2/2",
            "GBM final model"
        ]
    );
    assert_eq!(a, run(&data, &spec).unwrap());
    let other = run(&data, &TrainSpec { seed: 43, ..spec }).unwrap();
    assert_ne!(a.models[0].cv_averages, other.models[0].cv_averages);
}

#[test]
fn cancel_stops_gbm_between_folds() {
    let cancel = AtomicBool::new(false);
    let mut calls = 0;
    let mut stop_after_first_fold = |_: f64, _: &str| {
        calls += 1;
        if calls == 2 {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let spec = TrainSpec {
        algos: vec![Algo::Gbm],
        ..TrainSpec::new("y")
    };
    let result = train(&linear(100, 24), &spec, &mut stop_after_first_fold, &cancel);
    assert_eq!(result.unwrap_err(), TrainError::Cancelled);
    assert_eq!(calls, 2);
}

#[test]
fn experiment_records_features_folds_and_seed_in_frame_order() {
    let spec = TrainSpec {
        features: Some(vec!["c".into(), "x1".into()]),
        nfold: 3,
        seed: 7,
        algos: vec![Algo::Glm],
        ..TrainSpec::new("y")
    };
    let experiment = run(&linear(60, 25), &spec).unwrap();
    assert_eq!(experiment.features, ["x1", "c"]);
    assert_eq!((experiment.nfold, experiment.seed), (3, 7));
    assert_eq!(experiment.models[0].features(), ["x1", "c"]);
    let all = run(&linear(60, 25), &TrainSpec::new("y")).unwrap();
    assert_eq!(all.features, ["x1", "x2", "c"]);
}

/// Checks the contract of `importances` and returns them as a map.
fn checked_importances(model: &TrainedModel) -> std::collections::BTreeMap<String, f64> {
    let importances = model.importances();
    let mut names: Vec<String> = importances.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    let mut features = model.features();
    features.sort();
    assert_eq!(names, features, "{}", model.algo);
    assert!(importances.iter().all(|(_, w)| *w >= 0.0));
    let total: f64 = importances.iter().map(|(_, w)| w).sum();
    assert!((total - 1.0).abs() < 1e-9, "{} sums to {total}", model.algo);
    assert!(
        importances.windows(2).all(|w| w[0].1 >= w[1].1),
        "{importances:?}"
    );
    importances.into_iter().collect()
}

#[test]
fn importances_rank_the_features_that_matter() {
    let experiment = run(&nonlinear(400, 26), &all_algos("y")).unwrap();
    for m in &experiment.models {
        let w = checked_importances(m);
        if m.algo == Algo::Glm {
            // A line sees the step in c best, and nothing of the square in x2.
            assert_eq!(m.importances()[0].0, "c", "{w:?}");
        } else {
            // The tree models see the sine in x1 and the square in x2; a deep forest
            // still spends some late splits on noise.
            let least = m.importances().last().unwrap().0.clone();
            assert!(w["x1"] > w["c"] && w["x2"] > w["noise"], "{} {w:?}", m.algo);
            assert!(w["noise"] < 0.15, "{} {w:?}", m.algo);
            if m.algo == Algo::Gbm {
                assert_eq!(least, "noise", "{w:?}");
            }
        }
    }
    let glm = run(&linear(300, 27), &TrainSpec::new("y")).unwrap();
    let w = checked_importances(&glm.models[0]);
    // y = 3·x1 − 2·x2 + (±0.5 by colour): x1 ≈ 3 / 5.3 of the total.
    assert!(w["x1"] > w["x2"] && w["x2"] > w["c"], "{w:?}");
    assert!((w["x1"] - 3.0 / 5.3).abs() < 0.05, "{w:?}");
}

#[test]
fn importances_of_classifiers_sum_over_classes_and_levels() {
    let experiment = run(&binary(300, 28), &all_algos("label")).unwrap();
    for m in &experiment.models {
        let w = checked_importances(m);
        assert!(w["x1"] + w["x2"] > 0.7, "{} {w:?}", m.algo);
        assert!(w["tag"] < 0.1, "{} {w:?}", m.algo);
    }
    let experiment = run(&three_class(300, 29), &all_algos("label")).unwrap();
    for m in &experiment.models {
        let w = checked_importances(m);
        assert!(w["x1"] > 0.3 && w["x2"] > 0.3, "{} {w:?}", m.algo);
    }
}

#[test]
fn hyperparameters_name_each_algorithm_settings() {
    let spec = TrainSpec {
        seed: 99,
        ..all_algos("label")
    };
    let experiment = run(&binary(120, 30), &spec).unwrap();
    let names =
        |m: &TrainedModel| -> Vec<&str> { m.hyperparameters().iter().map(|(n, _)| *n).collect() };
    let (glm, drf, gbm) = (
        &experiment.models[0],
        &experiment.models[1],
        &experiment.models[2],
    );
    assert_eq!(names(glm), ["alpha", "lambda", "seed"]);
    assert_eq!(
        names(drf),
        [
            "ntrees",
            "max_depth",
            "min_rows",
            "mtries",
            "sample_rate",
            "nbins",
            "seed"
        ]
    );
    assert_eq!(
        names(gbm),
        [
            "ntrees",
            "learn_rate",
            "max_leaves",
            "max_depth",
            "min_rows",
            "reg_lambda",
            "sample_rate",
            "col_sample_rate_per_tree",
            "nbins",
            "seed"
        ]
    );
    let value = |m: &TrainedModel, name: &str| {
        m.hyperparameters()
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1
    };
    // Early stopping chose the number of trees, at most the default 200.
    let ntrees = value(gbm, "ntrees");
    assert!((1.0..=200.0).contains(&ntrees), "{ntrees}");
    assert_eq!(value(gbm, "learn_rate"), 0.1);
    // H2O's DRF defaults; four tree-mode columns (x1, x2, noise, tag): ⌊√4⌋ = 2.
    assert_eq!(value(drf, "ntrees"), 50.0);
    assert_eq!(value(drf, "max_depth"), 20.0);
    assert_eq!(value(drf, "min_rows"), 1.0);
    assert_eq!(value(drf, "mtries"), 2.0);
    assert_eq!(value(drf, "sample_rate"), 0.632);
    // scikit-learn's C = 1 on the mean loss of the 120 training rows.
    assert_eq!(value(glm, "lambda"), 1.0 / 120.0);
    assert!(experiment.models.iter().all(|m| value(m, "seed") == 99.0));
}

#[test]
fn a_retyped_zero_one_target_trains_a_classifier_predicting_0_and_1() {
    use super::super::{Column, DataType, ModelType};
    let data = binary(200, 31);
    let label = data.column("label").unwrap();
    let zero_one: Vec<f64> = (0..data.rows())
        .map(|r| f64::from(u8::from(label.text(r).as_deref() == Some("yes"))))
        .collect();
    let mut columns = without(&data, "label").columns().to_vec();
    columns.push(Column::numerical("y", zero_one));
    let numeric = Frame::new(columns).unwrap();
    assert_eq!(
        run(&numeric, &TrainSpec::new("y")).unwrap().model_type,
        ModelType::Regression
    );
    let retyped = numeric
        .retype(&[("y".into(), DataType::Categorical)])
        .unwrap();
    let experiment = run(&retyped, &all_algos("y")).unwrap();
    assert_eq!(experiment.model_type, ModelType::Binary);
    let gbm = model(&experiment, Algo::Gbm);
    assert_eq!(gbm.classes(), ["0", "1"]);
    let out = gbm.predict(&numeric, &["y".into()], None).unwrap();
    let mut csv = Vec::new();
    out.write_csv(&mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("y,prediction,0,1\n"), "{csv}");
    let agree = csv.lines().skip(1).filter(|l| l[..1] == l[2..3]).count();
    assert!(agree > 180, "{agree} of 200 rows predicted right:\n{csv}");
}

#[test]
fn models_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + std::fmt::Debug>() {}
    shareable::<TrainedExperiment>();
    shareable::<TrainedModel>();
    shareable::<Frame>();
}

#[test]
fn csv_upload_to_prediction_csv() {
    use super::super::{parse_csv, CsvLimits};
    let mut csv = String::from("x,grade,passed\n");
    for i in 0..60 {
        let passed = if i > 30 { "yes" } else { "no" };
        csv.push_str(&format!(
            "{},{},{passed}\n",
            f64::from(i) / 6.0,
            ["A", "B"][i as usize % 2]
        ));
    }
    csv.push_str("2.5,A,NA\n");
    let frame = parse_csv(csv.as_bytes(), &CsvLimits::default()).unwrap();
    let experiment = run(&frame, &TrainSpec::new("passed")).unwrap();
    let best = &experiment.models[experiment.best_model().unwrap()];
    let out = best.predict(&frame, &["x".into()], None).unwrap();
    let mut bytes = Vec::new();
    out.write_csv(&mut bytes).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.starts_with("x,passed,prediction,no,yes\n0,no,no,"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 62);
    let header_only = parse_csv("grade,x\n".as_bytes(), &CsvLimits::default()).unwrap();
    assert_eq!(best.predict(&header_only, &[], None).unwrap().rows(), 0);
}

#[test]
fn a_kept_column_named_like_a_class_is_a_clash_not_a_second_column() {
    use super::super::{Column, PredictError};
    let data = binary(80, 12);
    let experiment = run(&data, &TrainSpec::new("label")).unwrap();
    let glm = &experiment.models[0];
    let out = glm.predict(&data, &[], None).unwrap();
    let names: Vec<&str> = out.column_names().collect();
    assert_eq!(names, ["label", "prediction", "no", "yes"]);
    let yes = Column::numerical("yes", vec![1.0; 80]);
    let columns = data.columns().iter().cloned().chain([yes]).collect();
    let clashing = Frame::new(columns).unwrap();
    let err = glm.predict(&clashing, &["yes".into()], None).unwrap_err();
    assert_eq!(err, PredictError::OutputClash("yes".into()));
    assert!(err.to_string().contains("two columns named 'yes'"), "{err}");
}
