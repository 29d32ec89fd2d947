//! A stored forecaster reads back equal and forecasts bit for bit as before, from a
//! full history and from a short file that continues its training rows; wrong or
//! inconsistent documents are refused with a message naming the problem.

use std::sync::atomic::AtomicBool;

use serde_json::{json, Value};

use super::super::frame::{parse_datetime, Column, ColumnData, Frame, DAY_MS};
use super::super::model::Engine;
use super::super::rng::Rng;
use super::*;

/// Days `from..to` of two stores: sales with a trend, a weekly swing, a promotion
/// (exogenous) and a temperature (endogenous); sales are missing on some days (day 87
/// among them, in the stored history) and from day `known` on.
fn stores(from: i64, to: i64, known: i64) -> Frame {
    let mut rng = Rng::new(from as u64 + 3);
    let (start, format) = parse_datetime("2023-05-01").unwrap();
    let (mut day, mut store, mut sales, mut promo, mut temp) =
        (vec![], vec![], vec![], vec![], vec![]);
    for d in from..to {
        for (s, name) in ["north", "south"].into_iter().enumerate() {
            let p = f64::from(u8::from((d * 7 + s as i64) % 5 == 0));
            let t = 15.0 + 5.0 * ((d as f64) / 9.0).sin();
            let y = 100.0 * (s + 1) as f64
                + 0.4 * d as f64
                + 6.0 * ((d % 7) as f64 - 3.0).abs()
                + 12.0 * p
                + 0.5 * t
                + 0.3 * rng.normal();
            day.push(Some(format.format(start + d * DAY_MS)));
            store.push(Some(name));
            let missing = d >= known || d % 17 == 5 || d == 87;
            sales.push(if missing { f64::NAN } else { y });
            promo.push(p);
            temp.push(t);
        }
    }
    Frame::new(vec![
        Column::categorical("day", &day),
        Column::categorical("store", &store),
        Column::numerical("sales", sales),
        Column::numerical("promo", promo),
        Column::numerical("temp", temp),
    ])
    .unwrap()
}

/// One forecaster of `algo`, trained on days 0 to 89.
fn trained(algo: Algo, change: impl FnOnce(&mut TsSpec)) -> Forecaster {
    let mut spec = TsSpec {
        horizon: 5,
        window: Some(6),
        time_groups: vec!["store".into()],
        endogenous: vec!["temp".into()],
        exogenous: vec!["promo".into()],
        algos: vec![algo],
        max_model: Some(1),
        ..TsSpec::new("sales", "day")
    };
    change(&mut spec);
    let frame = stores(0, 90, 90);
    let experiment = train_ts(&frame, &spec, &mut |_, _| {}, &AtomicBool::new(false)).unwrap();
    let model = experiment.models.into_iter().next().unwrap();
    // The first candidate has the widest window: the history is 6 rows per store.
    assert_eq!(model.window, 6);
    model
}

/// Every forecaster the tests store: each algorithm, with and without a time unit, an
/// aggregation and a hold-out.
fn forecasters() -> Vec<Forecaster> {
    vec![
        trained(Algo::Glm, |s| {
            s.time_unit = Some(TimeUnit::Day);
            s.aggregate = Some(Aggregate::Mean);
        }),
        trained(Algo::Drf, |_| {}),
        trained(Algo::Gbm, |s| {
            s.holdout_percentage = Some(10.0);
            s.gap = 1;
        }),
    ]
}

/// The forecasts' columns; numbers as bits.
fn bits(frame: &Frame) -> Vec<(String, Vec<String>)> {
    let cells = |column: &Column| match &column.data {
        ColumnData::Numerical(v) => v.iter().map(|x| format!("{:016x}", x.to_bits())).collect(),
        _ => (0..column.len())
            .map(|r| format!("{:?}", column.text(r)))
            .collect(),
    };
    let columns = frame.columns().iter();
    columns.map(|c| (c.name.clone(), cells(c))).collect()
}

#[test]
fn trained_forecasters_read_back_equal_and_forecast_as_before() {
    // A full history with the promotions ahead, and three days that continue the
    // training rows (shorter than the window: the stored history goes in front).
    let full = stores(0, 96, 90);
    let continued = stores(90, 99, 93);
    for model in forecasters() {
        let bytes = model.to_stored();
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(doc["kind"], "taskloop-forecaster");
        let back = Forecaster::from_stored(&bytes).unwrap();
        assert_eq!(back.to_stored(), bytes, "{}", model.algo);
        assert_eq!(back.hyperparameters(), model.hyperparameters());
        // The engine comes back as the model download format keeps it: everything
        // scoring reads and the settings it reports, but not a GBM's training-only
        // ones (its cap on rounds and early stopping; `ntrees` becomes the rounds it
        // grew).
        let mut engine = model.fitted.engine.clone();
        if let (Engine::Gbm(kept), Engine::Gbm(read)) = (&mut engine, &back.fitted.engine) {
            assert_eq!(read.params.ntrees, Some(kept.trees.len()));
            kept.params = read.params.clone();
        }
        assert!(back.fitted.engine == engine, "{}", model.algo);
        // The history holds missing targets (NaN): it was compared by its bits above.
        let (mut a, mut b) = (back.clone(), model.clone());
        (a.history, b.history) = (vec![], vec![]);
        b.fitted.engine = engine;
        assert!(a == b, "{}", model.algo);
        for frame in [&full, &continued] {
            let before = model.forecast(frame).unwrap();
            assert_eq!(before.rows(), 10);
            assert_eq!(before, back.forecast(frame).unwrap());
            assert_eq!(bits(&before), bits(&back.forecast(frame).unwrap()));
        }
    }
}

#[test]
fn missing_targets_and_odd_numbers_come_back_bit_for_bit() {
    let mut model = trained(Algo::Glm, |_| {});
    let odd_nan = f64::from_bits(0xfff0_0000_0000_0001);
    model.history[1].y[0] = odd_nan;
    model.history[0].endogenous[0][2] = -0.0;
    model.cv_averages.insert("odd".into(), f64::NEG_INFINITY);
    let back = Forecaster::from_stored(&model.to_stored()).unwrap();
    assert_eq!(back.history[1].y[0].to_bits(), odd_nan.to_bits());
    assert_eq!(
        back.history[0].endogenous[0][2].to_bits(),
        (-0.0f64).to_bits()
    );
    assert_eq!(back.cv_averages["odd"], f64::NEG_INFINITY);
    // Day 87 had no sales: the history (days 84 to 89) keeps its NaN.
    assert!(back.history.iter().all(|s| s.y.iter().any(|y| y.is_nan())));
}

/// `model`'s stored document after `change`.
fn edit(model: &Forecaster, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(&model.to_stored()).unwrap();
    change(&mut doc);
    doc.to_string().into_bytes()
}

#[test]
fn wrong_and_inconsistent_documents_are_refused_naming_the_field() {
    let model = trained(Algo::Glm, |_| {});
    type Change = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|d| d["kind"] = json!("taskloop-cluster-model")),
            "its kind is 'taskloop-cluster-model', not 'taskloop-forecaster'",
        ),
        (Box::new(|d| d["version"] = json!(7)), "has version 7"),
        (
            Box::new(|d| d["window"] = json!(0)),
            "'window' must be from 1 to",
        ),
        (
            Box::new(|d| d["horizon"] = json!(1001)),
            "'horizon' must be from 1 to 1000",
        ),
        (Box::new(|d| d["algo"] = json!("XGBoost")), "'algo'"),
        (
            Box::new(|d| d["algo"] = json!("GBM")),
            "'fitted.engine.kind' must be the engine of GBM",
        ),
        (
            Box::new(|d| d["algo"] = json!("StackedEnsemble")),
            "the engine of StackedEnsemble",
        ),
        (
            Box::new(|d| d["step"] = json!({"millis": 0})),
            "'step' must be",
        ),
        (
            Box::new(|d| d["step"] = json!({"weeks": 1})),
            "'step' must be",
        ),
        (
            Box::new(|d| d["step"] = json!({"millis": 5, "months": 1})),
            "'step' must be",
        ),
        (
            Box::new(|d| d["layout"]["unit"] = json!("week")),
            "'layout.unit' must be hour, day, month, year or null",
        ),
        (
            Box::new(|d| d["layout"]["aggregate"] = json!(3)),
            "'layout.aggregate'",
        ),
        (
            Box::new(|d| d["history"][1]["key"] = json!([])),
            "'history[1].key' must be 1 strings or nulls",
        ),
        (
            Box::new(|d| {
                d["history"][0]["y"].as_array_mut().unwrap().pop();
            }),
            "'history[0].y' must be 6 numbers",
        ),
        (
            Box::new(|d| d["history"][0]["endogenous"] = json!([])),
            "'history[0].endogenous' must be 1 lists",
        ),
        (
            Box::new(|d| {
                d["history"][1]["exogenous"][0]
                    .as_array_mut()
                    .unwrap()
                    .pop();
            }),
            "'history[1].exogenous[0]' must be 6 numbers",
        ),
        (
            Box::new(|d| d["history"][0]["times"][0] = json!(1.5)),
            "'history[0].times' must be a list of integers",
        ),
        (
            Box::new(|d| d["fitted"]["column_weights"] = json!([1.0])),
            "'fitted.column_weights' must be",
        ),
        (
            Box::new(|d| d["cv_averages"]["mse"] = json!("nan")),
            "'cv_averages' must be an object",
        ),
    ];
    for (change, expected) in cases {
        let err = Forecaster::from_stored(&edit(&model, change)).unwrap_err();
        assert!(err.contains(expected), "{err:?} should say {expected:?}");
    }
}

#[test]
fn every_missing_field_and_truncation_is_refused() {
    let model = trained(Algo::Gbm, |_| {});
    let doc: Value = serde_json::from_slice(&model.to_stored()).unwrap();
    for field in doc.as_object().unwrap().keys() {
        let bytes = edit(&model, |d| {
            d.as_object_mut().unwrap().remove(field);
        });
        let err = Forecaster::from_stored(&bytes).unwrap_err();
        assert!(err.contains(field.as_str()), "{field}: {err}");
    }
    for field in ["target", "groups", "unit", "aggregate"] {
        let bytes = edit(&model, |d| {
            d["layout"].as_object_mut().unwrap().remove(field);
        });
        let err = Forecaster::from_stored(&bytes).unwrap_err();
        assert!(
            err.contains(&format!("'layout.{field}' is missing")),
            "{err}"
        );
    }
    let bytes = model.to_stored();
    for end in (0..bytes.len()).step_by(bytes.len() / 400 + 1) {
        assert!(Forecaster::from_stored(&bytes[..end]).is_err());
    }
}
