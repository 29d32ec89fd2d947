//! Each train option changes the result the way its documentation says (and a value
//! that cannot apply is refused in words).

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::super::frame::{Column, DataType, Frame};
use super::super::options::{Balance, SplitBound, SplitFold, SplitRange, TimeSplit};
use super::super::rng::Rng;
use super::super::testdata::{binary, linear};
use super::tests::{model, run};
use super::*;

/// `y` depends on a numeric code through a non-monotonic table: a line through the
/// codes explains almost nothing, one level per code explains everything.
fn coded(rows: usize) -> Frame {
    let effect = [10.0, -5.0, 20.0, 0.0, -15.0];
    let mut rng = Rng::new(3);
    let codes: Vec<f64> = (0..rows).map(|_| (rng.below(5) + 1) as f64).collect();
    let y = codes
        .iter()
        .map(|&c| effect[c as usize - 1] + 0.1 * rng.normal())
        .collect();
    Frame::new(vec![
        Column::numerical("code", codes),
        Column::numerical("y", y),
    ])
    .unwrap()
}

#[test]
fn feature_types_retype_a_column_for_this_training() {
    let glm_only = |types: Vec<(String, DataType)>| TrainSpec {
        algos: vec![Algo::Glm],
        feature_types: types,
        ..TrainSpec::new("y")
    };
    let plain = run(&coded(400), &glm_only(Vec::new())).unwrap();
    let typed = run(
        &coded(400),
        &glm_only(vec![("code".into(), DataType::Categorical)]),
    )
    .unwrap();
    let (r2_plain, r2_typed) = (
        plain.models[0].cv_averages["r2"],
        typed.models[0].cv_averages["r2"],
    );
    assert!(r2_plain < 0.3, "a line through the codes: r2 {r2_plain}");
    assert!(r2_typed > 0.99, "one level per code: r2 {r2_typed}");
    // The model reads the numeric column of a new data set as the type it learnt.
    let predictions = typed.models[0].predict(&coded(50), &[], None).unwrap();
    assert_eq!(predictions.rows(), 50);

    let err = run(
        &coded(40),
        &glm_only(vec![("nope".into(), DataType::Categorical)]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot train on this data: feature_types: the column 'nope' does not exist"
    );
}

/// 90 % of class "a", 10 % of "b", with a weak signal.
fn imbalanced(rows: usize) -> Frame {
    let mut rng = Rng::new(11);
    let x: Vec<f64> = (0..rows).map(|_| rng.normal()).collect();
    let y: Vec<Option<&str>> = x
        .iter()
        .map(|&x| {
            Some(if rng.next_f64() < 0.06 + 0.05 * x.max(0.0) {
                "b"
            } else {
                "a"
            })
        })
        .collect();
    Frame::new(vec![
        Column::numerical("x", x),
        Column::categorical("y", &y),
    ])
    .unwrap()
}

#[test]
fn balance_class_raises_the_minority_class_probability() {
    let spec = |balance: Option<Balance>| TrainSpec {
        algos: vec![Algo::Glm],
        balance,
        ..TrainSpec::new("y")
    };
    let data = imbalanced(1000);
    let mean_prob_b = |experiment: &TrainedExperiment| {
        let p = experiment.models[0].predict(&data, &[], None).unwrap();
        let super::super::frame::ColumnData::Numerical(probs) = &p.column("b").unwrap().data else {
            panic!("the probability column of b is numerical")
        };
        probs.iter().sum::<f64>() / probs.len() as f64
    };
    let plain = run(&data, &spec(None)).unwrap();
    let balanced = run(&data, &spec(Some(Balance::default()))).unwrap();
    let (before, after) = (mean_prob_b(&plain), mean_prob_b(&balanced));
    assert!(
        before < 0.2 && after > 0.4,
        "mean P(b): {before} unbalanced, {after} balanced"
    );
    // Scores are on the original rows: the balanced model's logloss is worse there.
    assert!(balanced.models[0].cv_averages["logloss"] > plain.models[0].cv_averages["logloss"]);

    let regression = run(
        &linear(100, 1),
        &TrainSpec {
            balance: Some(Balance::default()),
            ..TrainSpec::new("y")
        },
    );
    assert!(regression
        .unwrap_err()
        .to_string()
        .contains("balance_class applies to classification only"));
    let wrong = Balance {
        sampling_factors: Some(vec![1.0]),
        ..Balance::default()
    };
    let err = run(&data, &spec(Some(wrong))).unwrap_err().to_string();
    assert!(
        err.contains("sampling_factors has 1 rates, but the target 'y' has 2 classes"),
        "{err}"
    );
}

/// A numeric `t` from 1 to `rows` and `y = 2 t + noise`.
fn trend(rows: usize) -> Frame {
    let mut rng = Rng::new(5);
    let t: Vec<f64> = (1..=rows).map(|t| t as f64).collect();
    let y = t.iter().map(|t| 2.0 * t + rng.normal()).collect();
    let x = (0..rows).map(|_| rng.normal()).collect();
    Frame::new(vec![
        Column::numerical("t", t),
        Column::numerical("x", x),
        Column::numerical("y", y),
    ])
    .unwrap()
}

fn range(start: f64, end: f64) -> SplitRange {
    SplitRange {
        start: SplitBound::Number(start),
        end: SplitBound::Number(end),
    }
}

#[test]
fn a_time_split_gives_the_folds_and_scores_the_test_range() {
    let split = TimeSplit {
        split_by: "t".into(),
        cv: vec![
            SplitFold {
                train: range(1.0, 100.0),
                test: range(101.0, 150.0),
            },
            SplitFold {
                train: range(1.0, 150.0),
                test: range(151.0, 200.0),
            },
        ],
        train: range(1.0, 200.0),
        test: Some(range(201.0, 300.0)),
    };
    let spec = TrainSpec {
        algos: vec![Algo::Glm, Algo::Drf],
        time_split: Some(split),
        ..TrainSpec::new("y")
    };
    let experiment = run(&trend(300), &spec).unwrap();
    assert_eq!(experiment.nfold, 2);
    let (glm, drf) = (model(&experiment, Algo::Glm), model(&experiment, Algo::Drf));
    assert!(
        glm.test_scores["r2"] > 0.99,
        "a line extrapolates: {:?}",
        glm.test_scores
    );
    // A forest cannot predict beyond the values it saw: forward-in-time scoring shows it,
    // where random folds would hide it.
    assert!(
        drf.test_scores["rmse"] > 10.0 * glm.test_scores["rmse"],
        "{:?}",
        drf.test_scores
    );
    assert!(drf.cv_averages["rmse"] > 5.0 * glm.cv_averages["rmse"]);
    let random = run(
        &trend(300),
        &TrainSpec {
            algos: vec![Algo::Drf],
            ..TrainSpec::new("y")
        },
    )
    .unwrap();
    assert!(random.models[0].cv_averages["rmse"] < drf.cv_averages["rmse"] / 3.0);
    assert!(random.models[0].test_scores.is_empty());

    let leaky = TrainSpec {
        validation_percentage: Some(10.0),
        ..spec.clone()
    };
    assert!(run(&trend(300), &leaky)
        .unwrap_err()
        .to_string()
        .contains("would leak"));
}

#[test]
fn test_data_is_scored_by_the_final_models() {
    let train_set = binary(400, 1);
    let test_set = binary(200, 2);
    let spec = TrainSpec {
        algos: vec![Algo::Glm],
        ..TrainSpec::new("label")
    };
    let cancel = AtomicBool::new(false);
    let experiment =
        train_tested(&train_set, Some(&test_set), &spec, &mut |_, _| {}, &cancel).unwrap();
    let scores = &experiment.models[0].test_scores;
    assert!(scores["auc"] > 0.8, "{scores:?}");
    assert!(experiment.models[0].validation_scores.is_empty());
    let no_target = test_set.retype(&[]).unwrap();
    let no_target = super::super::testdata::without(&no_target, "label");
    let err =
        train_tested(&train_set, Some(&no_target), &spec, &mut |_, _| {}, &cancel).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot train on this data: the test data has no target column 'label'"
    );
}

#[test]
fn a_gbm_tolerance_stops_boosting_early() {
    let spec = |tolerance| TrainSpec {
        algos: vec![Algo::Gbm],
        tolerance,
        ..TrainSpec::new("y")
    };
    let ntrees = |e: &TrainedExperiment| {
        let h = e.models[0].hyperparameters();
        h.iter().find(|(k, _)| *k == "ntrees").unwrap().1
    };
    let data = linear(300, 4);
    let free = ntrees(&run(&data, &spec(None)).unwrap());
    assert!(free > 40.0, "ntrees {free}");
    assert_eq!(ntrees(&run(&data, &spec(Some(0.0))).unwrap()), free);
    let loose = run(&data, &spec(Some(0.5))).unwrap();
    assert!(ntrees(&loose) < 20.0, "ntrees {}", ntrees(&loose));
    assert!(run(&data, &spec(Some(1.5)))
        .unwrap_err()
        .to_string()
        .contains("tolerance must be"));
}

#[test]
fn max_run_time_stops_training_in_words() {
    let data = binary(20_000, 3);
    let spec = TrainSpec {
        algos: vec![Algo::Drf, Algo::Glm],
        max_run_time: Some(Duration::from_millis(1)),
        ..TrainSpec::new("label")
    };
    let err = run(&data, &spec).unwrap_err();
    assert!(
        matches!(&err, TrainError::OutOfTime(m) if m.contains("DRF, the first model")),
        "{err}"
    );
    // A budget that is not reached changes nothing.
    let small = binary(300, 3);
    let generous = TrainSpec {
        max_run_time: Some(Duration::from_secs(600)),
        ..TrainSpec::new("label")
    };
    let with_budget = run(&small, &generous).unwrap();
    let without = run(&small, &TrainSpec::new("label")).unwrap();
    assert_eq!(with_budget, without);
    assert!(with_budget.stopped_early.is_none());
}

#[test]
fn a_glm_fit_stops_when_cancelled() {
    // Raised before the fit starts, the flag stops each GLM family at its first look
    // (a GLM used to run to convergence whatever the flag said).
    let x = super::super::linalg::Matrix::zeros(600, 3);
    let y = vec![1.0; 600];
    let classes: Vec<usize> = (0..600).map(|i| i % 3).collect();
    let raised = AtomicBool::new(true);
    for labels in [
        Labels::Values(&y),
        Labels::Classes(&classes[..], 3),
        Labels::Classes(&[0, 1].repeat(300), 2),
    ] {
        let fitted = fit_engine(Algo::Glm, &x, labels, 1, None, &raised);
        assert!(matches!(fitted, Err(TrainError::Cancelled)), "{fitted:?}");
    }
}
