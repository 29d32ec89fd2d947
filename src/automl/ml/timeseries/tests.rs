//! The forecaster on series with known structure, the no-look-ahead rules of the
//! features and folds, and the refusals of bad requests.

use std::sync::atomic::AtomicBool;

use super::super::frame::{parse_datetime, Column, ColumnData, Frame, DAY_MS};
use super::super::rng::Rng;
use super::features::{build, training_pairs, Shape};
use super::panel::Layout;
use super::search::Folds;
use super::*;

/// The weekly pattern (Monday first), amplitude about 9.
const WEEK: [f64; 7] = [0.0, 6.0, 9.0, 4.0, -3.0, -8.0, -8.0];

/// The noiseless value of store `s` on day `d` after 2022-01-03 (a Monday).
fn truth(store: usize, d: i64) -> f64 {
    100.0 + 50.0 * store as f64 + 0.5 * d as f64 + WEEK[d.rem_euclid(7) as usize]
}

fn date(d: i64) -> String {
    let (start, format) = parse_datetime("2022-01-03").unwrap();
    format.format(start + d * DAY_MS)
}

/// `days` days of two stores, with noise of σ = 0.3, rows shuffled.
fn stores(days: i64, seed: u64) -> Frame {
    let mut rng = Rng::new(seed);
    let mut rows: Vec<(String, &str, f64)> = Vec::new();
    for d in 0..days {
        for (s, name) in ["north", "south"].into_iter().enumerate() {
            rows.push((date(d), name, truth(s, d) + 0.3 * rng.normal()));
        }
    }
    rng.shuffle(&mut rows);
    let dates: Vec<Option<&str>> = rows.iter().map(|r| Some(r.0.as_str())).collect();
    let names: Vec<Option<&str>> = rows.iter().map(|r| Some(r.1)).collect();
    Frame::new(vec![
        Column::categorical("day", &dates),
        Column::categorical("store", &names),
        Column::numerical("sales", rows.iter().map(|r| r.2).collect()),
    ])
    .unwrap()
}

fn spec() -> TsSpec {
    TsSpec {
        horizon: 14,
        window: Some(14),
        time_groups: vec!["store".into()],
        ..TsSpec::new("sales", "day")
    }
}

fn run(frame: &Frame, spec: &TsSpec) -> Result<TsExperiment, TsError> {
    train_ts(frame, spec, &mut |_, _| {}, &AtomicBool::new(false))
}

#[test]
fn a_trend_and_a_weekly_season_are_forecast() {
    let frame = stores(182, 7);
    let experiment = run(&frame, &spec()).unwrap();
    assert!(experiment.models.len() >= 2);
    let best = experiment
        .models
        .iter()
        .min_by(|a, b| a.cv_averages["mse"].total_cmp(&b.cv_averages["mse"]))
        .unwrap();
    let out = best.forecast(&frame).unwrap();
    assert_eq!(out.rows(), 28);
    let names: Vec<&str> = out.column_names().collect();
    assert_eq!(names, ["day", "store", "prediction"]);
    let ColumnData::Numerical(pred) = &out.column("prediction").unwrap().data else {
        panic!("numerical forecasts")
    };
    let (mut error, mut naive) = (0.0, 0.0);
    for (row, forecast) in pred.iter().enumerate() {
        let store = usize::from(out.column("store").unwrap().text(row).unwrap() == "south");
        let day = out.column("day").unwrap().text(row).unwrap();
        let d =
            (parse_datetime(&day).unwrap().0 - parse_datetime("2022-01-03").unwrap().0) / DAY_MS;
        assert!((182..196).contains(&d), "{day}");
        error += (forecast - truth(store, d)).abs() / 28.0;
        naive += (truth(store, 181) - truth(store, d)).abs() / 28.0;
    }
    // Rows are by store, then day: north is rows 0..14 (days 182 to 195).
    let week_on: Vec<f64> = (0..7).map(|k| pred[k + 7] - pred[k]).collect();
    for step in &week_on {
        assert!(
            (step - 3.5).abs() < 0.7,
            "trend over a week: {week_on:?} (3.5)"
        );
    }
    // Day 184 is a Wednesday (+9), day 187 a Saturday (-8).
    let swing = pred[2] - pred[5];
    assert!(
        (swing - (17.0 - 1.5)).abs() < 2.0,
        "weekly swing {swing} (15.5)"
    );
    // The season spans 17 and the trend adds 7 over two weeks.
    assert!(
        error < 1.5,
        "mean error {error} ({} window {})",
        best.algo,
        best.window
    );
    assert!(error < naive / 4.0, "error {error} vs naive {naive}");
}

#[test]
fn features_never_read_rows_at_or_after_t_minus_gap() {
    let frame = stores(40, 3);
    let layout = Layout {
        target: "sales".into(),
        time: "day".into(),
        groups: vec!["store".into()],
        endogenous: vec!["sales".into()],
        exogenous: vec![],
        unit: None,
        aggregate: None,
    };
    let panel = layout.read(&frame, None).unwrap();
    let shape = Shape {
        horizon: 3,
        gap: 2,
        window: 5,
    };
    let pairs = training_pairs(&panel, shape);
    assert!(!pairs.is_empty());
    for &(s, o, h) in &pairs {
        let t = o + shape.gap + h;
        let clean = build(&panel, shape, &[(s, o, h)], &layout).unwrap();
        let mut spoiled = panel.clone();
        for k in t - shape.gap..spoiled.series[s].y.len() {
            spoiled.series[s].y[k] = 1e9;
            spoiled.series[s].endogenous[0][k] = -1e9;
        }
        let after = build(&spoiled, shape, &[(s, o, h)], &layout).unwrap();
        assert_eq!(clean.frame, after.frame, "pair {s} {o} {h}");
        assert_eq!(clean.level, after.level);
        assert!(o < t - shape.gap);
    }
}

#[test]
fn validation_folds_train_only_on_the_past() {
    let frame = stores(80, 5);
    let s = TsSpec {
        nfold: 4,
        holdout_percentage: Some(10.0),
        ..spec()
    };
    let layout = Layout {
        target: "sales".into(),
        time: "day".into(),
        groups: vec!["store".into()],
        endogenous: vec![],
        exogenous: vec![],
        unit: None,
        aggregate: None,
    };
    let panel = layout.read(&frame, None).unwrap();
    let shape = Shape {
        horizon: 14,
        gap: 0,
        window: 7,
    };
    let pairs = training_pairs(&panel, shape);
    let samples = build(&panel, shape, &pairs, &layout).unwrap();
    let folds = Folds::new(&samples, &s, shape).unwrap();
    assert_eq!(folds.blocks.len(), 4);
    for (train, test) in folds.blocks.iter().chain(folds.holdout.iter()) {
        let first_origin = test.iter().map(|&r| samples.origin_time[r]).min().unwrap();
        let latest_target = train.iter().map(|&r| samples.target_time[r]).max().unwrap();
        assert!(latest_target < first_origin);
    }
}

fn invalid(frame: &Frame, spec: &TsSpec) -> String {
    match run(frame, spec) {
        Err(TsError::Invalid(message)) => message,
        other => panic!("expected invalid, got {:?}", other.map(|e| e.models.len())),
    }
}

#[test]
fn bad_requests_are_refused_by_name() {
    let frame = stores(60, 1);
    let with = |f: &dyn Fn(&mut TsSpec)| {
        let mut s = spec();
        f(&mut s);
        invalid(&frame, &s)
    };
    assert_eq!(
        with(&|s| s.horizon = 0),
        "forecast_horizon must be at least 1"
    );
    assert!(with(&|s| s.gap = usize::MAX).starts_with("gap must be at most"));
    assert!(with(&|s| s.horizon = 60).contains("larger than the data allows"));
    assert!(with(&|s| s.datetime_column = "when".into()).contains("no column 'when'"));
    assert!(with(&|s| s.datetime_column = "store".into()).contains("cannot be datetime"));
    assert!(with(&|s| s.window = Some(55)).starts_with("too few rows for the windows"));
    assert!(with(&|s| s.time_groups.clear()).contains("has 2 rows at 2022-01-03"));
    assert!(with(&|s| s.target = "store".into()).contains("must be numerical"));
    // Summing the two stores per day makes one regular series.
    let summed = run(
        &frame,
        &TsSpec {
            time_groups: vec![],
            aggregate: Some(Aggregate::Sum),
            time_unit: Some(TimeUnit::Day),
            ..spec()
        },
    );
    assert!(summed.is_ok(), "{:?}", summed.err());
}

#[test]
fn exogenous_values_known_ahead_are_read_at_the_moment_forecast() {
    let mut rng = Rng::new(11);
    let days = 150;
    let promo: Vec<f64> = (0..days + 7)
        .map(|_| f64::from(rng.below(3) == 0))
        .collect();
    let sales = |d: usize| 50.0 + 0.2 * d as f64 + 15.0 * promo[d];
    let dates: Vec<String> = (0..days + 7).map(|d| date(d as i64)).collect();
    let frame = |rows: usize, future: usize| {
        let labels: Vec<Option<&str>> = dates[..rows + future]
            .iter()
            .map(|d| Some(d.as_str()))
            .collect();
        let y = (0..rows + future).map(|d| if d < rows { sales(d) } else { f64::NAN });
        Frame::new(vec![
            Column::categorical("day", &labels),
            Column::numerical("promo", promo[..rows + future].to_vec()),
            Column::numerical("sales", y.collect()),
        ])
        .unwrap()
    };
    let spec = TsSpec {
        exogenous: vec!["promo".into()],
        algos: vec![Algo::Glm],
        ..TsSpec::new("sales", "day")
    };
    let experiment = run(&frame(days, 0), &spec).unwrap();
    let model = &experiment.models[0];
    let out = model.forecast(&frame(days, 7)).unwrap();
    let ColumnData::Numerical(pred) = &out.column("prediction").unwrap().data else {
        panic!("numerical forecasts")
    };
    for (h, p) in pred.iter().enumerate() {
        let d = days + h;
        assert!((p - sales(d)).abs() < 1.0, "day {d}: {p} vs {}", sales(d));
    }
    let err = model.forecast(&frame(days, 3)).unwrap_err().to_string();
    assert!(err.contains("no row at 2022-06-05"), "{err}");
    let mut both = spec.clone();
    both.exogenous = vec!["sales".into()];
    assert!(invalid(&frame(days, 0), &both).contains("'sales' is the target"));
}

#[test]
fn a_short_file_that_continues_the_training_rows_is_forecast_from() {
    let frame = stores(182, 7);
    let s = TsSpec {
        algos: vec![Algo::Glm],
        ..spec()
    };
    let experiment = run(&frame, &s).unwrap();
    let model = &experiment.models[0];
    // Three more days per store, after the training data: fewer rows than the window.
    let mut rng = Rng::new(8);
    let (mut dates, mut names, mut sales) = (Vec::new(), Vec::new(), Vec::new());
    for d in 182..185 {
        for (store, name) in ["north", "south"].into_iter().enumerate() {
            dates.push(Some(date(d)));
            names.push(Some(name));
            sales.push(truth(store, d) + 0.3 * rng.normal());
        }
    }
    let later = Frame::new(vec![
        Column::categorical("day", &dates),
        Column::categorical("store", &names),
        Column::numerical("sales", sales),
    ])
    .unwrap();
    let out = model.forecast(&later).unwrap();
    assert_eq!(out.rows(), 28);
    assert_eq!(out.column("day").unwrap().text(0).unwrap(), date(185));
    let ColumnData::Numerical(pred) = &out.column("prediction").unwrap().data else {
        panic!("numerical forecasts")
    };
    assert!(
        (pred[0] - truth(0, 185)).abs() < 1.5,
        "{} vs {}",
        pred[0],
        truth(0, 185)
    );
    // A stretch that does not continue the training rows is too short on its own.
    let gapped = Frame::new(vec![
        Column::categorical("day", &[Some(date(300).as_str()), Some(date(301).as_str())]),
        Column::categorical("store", &[Some("north"), Some("north")]),
        Column::numerical("sales", vec![1.0, 2.0]),
    ])
    .unwrap();
    let err = model.forecast(&gapped).unwrap_err().to_string();
    assert!(err.contains("time group store=north has 2 rows"), "{err}");
}
