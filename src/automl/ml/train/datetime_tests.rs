//! Datetime features in ordinary training: a target that depends on the day of the
//! week is learnt from a datetime column alone, and prediction reads the dates again
//! (also when the scoring file's column arrives as text).

use std::sync::atomic::AtomicBool;

use super::super::frame::{parse_datetime, Column, ColumnData, DataType, DAY_MS};
use super::*;

/// Days from 2021-01-04 (a Monday): the weekday effect is 0, 2, 4, 6, 8 on weekdays
/// and 20 on the weekend, plus a small deterministic wiggle.
fn weekly(days: std::ops::Range<i64>) -> (Vec<Option<String>>, Vec<f64>) {
    let start = parse_datetime("2021-01-04").unwrap().0 / DAY_MS;
    let format = parse_datetime("2021-01-04").unwrap().1;
    let mut dates = Vec::new();
    let mut y = Vec::new();
    for d in days {
        let weekday = d.rem_euclid(7);
        let effect = if weekday >= 5 {
            20.0
        } else {
            2.0 * weekday as f64
        };
        dates.push(Some(format.format((start + d) * DAY_MS)));
        y.push(effect + 0.3 * ((d * 7919) % 5) as f64 / 5.0);
    }
    (dates, y)
}

#[test]
fn a_weekday_pattern_is_learnt_from_a_datetime_column() {
    let (dates, y) = weekly(0..140);
    let frame = Frame::new(vec![
        Column::categorical("when", &dates),
        Column::numerical("y", y),
    ])
    .unwrap()
    .retype(&[("when".into(), DataType::Datetime)])
    .unwrap();
    let spec = TrainSpec {
        algos: vec![Algo::Glm, Algo::Gbm],
        max_model: Some(2),
        ..TrainSpec::new("y")
    };
    let experiment = train(&frame, &spec, &mut |_, _| {}, &AtomicBool::new(false)).unwrap();
    // Four weeks after the training data, read from text as an upload would be.
    let (future, truth) = weekly(150..178);
    let scoring = Frame::new(vec![Column::categorical("when", &future)]).unwrap();
    for model in &experiment.models {
        assert!(model.cv_averages["r2"] > 0.95, "{:?}", model.cv_averages);
        let out = model.predict(&scoring, &["when".into()], None).unwrap();
        let ColumnData::Numerical(pred) = &out.column("prediction").unwrap().data else {
            panic!("numerical predictions")
        };
        let worst = pred
            .iter()
            .zip(&truth)
            .map(|(p, t)| (p - t).abs())
            .fold(0.0, f64::max);
        // The weekday effect spans 20; a model that missed it would be off by ~10.
        assert!(worst < 2.5, "{} worst error {worst}", model.algo);
        assert_eq!(out.column("when").unwrap().text(0).unwrap(), "2021-06-03");
    }
}
