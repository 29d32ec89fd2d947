//! A stored cluster model reads back equal and assigns bit for bit as before; wrong or
//! inconsistent documents are refused with a message naming the problem.

use std::sync::atomic::AtomicBool;

use serde_json::{json, Value};

use super::*;
use crate::automl::ml::frame::parse_datetime;
use crate::automl::ml::rng::Rng;

/// Three blobs over a number with gaps, a category with gaps and a moment with gaps,
/// then one row without any value.
fn mixed(per: usize, seed: u64) -> Frame {
    let mut rng = Rng::new(seed);
    let (mut x, mut color, mut when) = (vec![], vec![], vec![]);
    let (start, format) = parse_datetime("2021-03-04 10:30").unwrap();
    for (b, name) in ["red", "green", "blue"].into_iter().enumerate() {
        for i in 0..per {
            let gap = |every: usize| i % every == every - 1;
            x.push(if gap(7) {
                f64::NAN
            } else {
                10.0 * b as f64 + rng.normal()
            });
            color.push((!gap(5)).then_some(name));
            let day = (30 * b) as i64 + (rng.normal() * 3.0) as i64;
            when.push((!gap(6)).then_some(start + day * 86_400_000));
        }
    }
    x.push(f64::NAN);
    color.push(None);
    when.push(None);
    let when = Column {
        name: "when".into(),
        data: ColumnData::Datetime {
            millis: when,
            format,
        },
    };
    let columns = vec![
        Column::numerical("x", x),
        Column::categorical("color", &color),
        when,
    ];
    Frame::new(columns).unwrap()
}

fn trained() -> ClusterModel {
    let spec = ClusterSpec {
        k: Some(3),
        seed: 5,
        ..ClusterSpec::new()
    };
    train_cluster(
        &mixed(40, 1),
        &spec,
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .unwrap()
}

/// The `cluster` column of the predictions, as bits (NaN for a row without values).
fn cluster_bits(model: &ClusterModel, frame: &Frame) -> Vec<u64> {
    let out = model.predict(frame, &[]).unwrap();
    let ColumnData::Numerical(clusters) = &out.column("cluster").unwrap().data else {
        panic!("cluster is numerical")
    };
    clusters.iter().map(|c| c.to_bits()).collect()
}

#[test]
fn a_trained_model_reads_back_equal_and_assigns_as_before() {
    let model = trained();
    let bytes = model.to_stored();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["kind"], "taskloop-cluster-model");
    let back = ClusterModel::from_stored(&bytes).unwrap();
    assert_eq!(back, model);
    assert_eq!(back.encoded_columns(), model.encoded_columns());
    for frame in [mixed(40, 1), mixed(15, 2)] {
        let before = cluster_bits(&model, &frame);
        assert_eq!(cluster_bits(&back, &frame), before);
        // The row without any value is in no cluster.
        assert!(f64::from_bits(*before.last().unwrap()).is_nan());
    }
    assert_eq!(back.to_stored(), bytes);
}

#[test]
fn odd_numbers_and_empty_centers_come_back_bit_for_bit() {
    let mut model = trained();
    let odd_nan = f64::from_bits(0xfff8_0000_1234_5678);
    model.centers[0][0] = Center::Number(odd_nan);
    model.centers[1][1] = Center::Level(None);
    model.withinss[2] = f64::INFINITY;
    model.totss = -0.0;
    model.tot_withinss = 5e-324;
    let back = ClusterModel::from_stored(&model.to_stored()).unwrap();
    let Center::Number(x) = back.centers[0][0] else {
        panic!("a numerical center")
    };
    assert_eq!(x.to_bits(), odd_nan.to_bits());
    assert_eq!(back.centers[1][1], Center::Level(None));
    assert_eq!(back.withinss[2], f64::INFINITY);
    assert_eq!(back.totss.to_bits(), (-0.0f64).to_bits());
    assert_eq!(back.tot_withinss, 5e-324);
    assert_eq!(back.to_stored(), model.to_stored());
}

#[test]
fn other_documents_are_refused_in_words() {
    let model = trained();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"TLFRAME\0\x01".to_vec(), "not JSON"),
        (b"[1, 2]".to_vec(), "has no kind"),
        (
            br#"{"format": "taskloop-model", "version": 2}"#.to_vec(),
            "has no kind",
        ),
        (
            br#"{"kind": "taskloop-forecaster", "version": 1}"#.to_vec(),
            "its kind is 'taskloop-forecaster', not 'taskloop-cluster-model'",
        ),
        (
            edit(&model, |doc| doc["version"] = json!(2)),
            "has version 2; this build reads version 1",
        ),
    ];
    for (bytes, expected) in cases {
        let err = ClusterModel::from_stored(&bytes).unwrap_err();
        assert!(err.contains(expected), "{err:?} should say {expected:?}");
    }
}

/// `model`'s stored document after `change`.
fn edit(model: &ClusterModel, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(&model.to_stored()).unwrap();
    change(&mut doc);
    doc.to_string().into_bytes()
}

#[test]
fn inconsistent_documents_are_refused_naming_the_field() {
    let model = trained();
    type Change = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(Change, &str)> = vec![
        (Box::new(|d| d["k"] = json!(0)), "'k' must be at least 1"),
        (Box::new(|d| d["k"] = json!(4)), "'sizes' must be 4 counts"),
        (Box::new(|d| d["sizes"] = json!([1, 2])), "'sizes'"),
        (Box::new(|d| d["withinss"] = json!([1.0])), "'withinss'"),
        (
            Box::new(|d| d["withinss"][0] = json!("3ff0000000000000")),
            "'withinss' must be a list",
        ),
        (Box::new(|d| d["features"] = json!([])), "'features'"),
        (
            Box::new(|d| d["features"] = json!(["color", "x", "when"])),
            "'encoder.features' must be the encoding of the features",
        ),
        (
            Box::new(|d| d["feature_types"][1] = json!("text")),
            "'feature_types'",
        ),
        (
            Box::new(|d| d["centers"][2] = json!([])),
            "'centers[2]' must be a list of 3 centers",
        ),
        (
            Box::new(|d| d["centers"][0][0] = json!({"level": "a"})),
            "'centers[0][0].number' is missing",
        ),
        (
            Box::new(|d| d["centers"][0][1] = json!({"number": 1})),
            "'centers[0][1].level'",
        ),
        (
            Box::new(|d| {
                d["centroids"][1].as_array_mut().unwrap().pop();
            }),
            "'centroids[1]' must be a list of",
        ),
        (
            Box::new(|d| d["centroids"] = json!([])),
            "'centroids' must be 3 lists",
        ),
        (
            Box::new(|d| d["encoder"]["features"][0]["scale"] = json!(0.0)),
            "'encoder.features[0].scale' must be a finite non-zero number",
        ),
        (Box::new(|d| d["seed"] = json!(-1)), "'seed'"),
    ];
    for (change, expected) in cases {
        let err = ClusterModel::from_stored(&edit(&model, change)).unwrap_err();
        assert!(err.contains(expected), "{err:?} should say {expected:?}");
    }
}

#[test]
fn every_missing_field_and_every_truncation_is_refused() {
    let model = trained();
    let doc: Value = serde_json::from_slice(&model.to_stored()).unwrap();
    for field in doc.as_object().unwrap().keys() {
        let bytes = edit(&model, |d| {
            d.as_object_mut().unwrap().remove(field);
        });
        let err = ClusterModel::from_stored(&bytes).unwrap_err();
        assert!(err.contains(field.as_str()), "{field}: {err}");
    }
    let bytes = model.to_stored();
    for end in 0..bytes.len() {
        assert!(ClusterModel::from_stored(&bytes[..end]).is_err());
    }
}
