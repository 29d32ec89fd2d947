//! A model written and read back is the same model and scores bit for bit like it, for
//! every algorithm and model type; broken documents are refused with a message that
//! names the problem.

use std::sync::atomic::AtomicBool;

use serde_json::{json, Value};

use super::*;
use crate::automl::ml::frame::{Column, ColumnData, Frame};
use crate::automl::ml::testdata::{binary, linear, three_class};
use crate::automl::ml::{train, TrainSpec};

/// `frame` with every fifth value of numerical column `name` missing.
fn with_gaps(frame: &Frame, name: &str) -> Frame {
    let columns = frame
        .columns()
        .iter()
        .map(|c| match (&c.data, c.name == name) {
            (ColumnData::Numerical(v), true) => {
                let gappy = v.iter().enumerate();
                let gappy = gappy.map(|(i, x)| if i % 5 == 0 { f64::NAN } else { *x });
                Column::numerical(name, gappy.collect())
            }
            _ => c.clone(),
        });
    Frame::new(columns.collect()).unwrap()
}

fn models(frame: &Frame, target: &str) -> Vec<TrainedModel> {
    let spec = TrainSpec {
        algos: Algo::TRAINED.to_vec(),
        nfold: 2,
        max_model: Some(3),
        ..TrainSpec::new(target)
    };
    let experiment = train(frame, &spec, &mut |_, _| {}, &AtomicBool::new(false)).unwrap();
    assert_eq!(experiment.models.len(), 3);
    experiment.models
}

/// Every cell of `frame` as text, NaN included, so frames compare bit for bit.
fn cells(frame: &Frame) -> Vec<String> {
    let mut out = Vec::new();
    for column in frame.columns() {
        match &column.data {
            ColumnData::Numerical(v) => out.extend(v.iter().map(|x| format!("{:x}", x.to_bits()))),
            ColumnData::Categorical { .. } | ColumnData::Datetime { .. } => {
                out.extend((0..frame.rows()).map(|r| format!("{:?}", column.text(r))));
            }
        }
    }
    out
}

fn round_trip(frame: &Frame, target: &str, model_type: ModelType) {
    for model in models(frame, target) {
        assert_eq!(model.model_type, model_type);
        let bytes = model.to_portable();
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(doc["format"], FORMAT);
        assert_eq!(doc["version"], VERSION);
        let loaded = TrainedModel::from_portable(&bytes).unwrap();
        assert_eq!(loaded, model, "{} {}", model.algo, model_type);
        let keep = [target.to_owned()];
        let want = model.predict(frame, &keep, Some(0.4)).unwrap();
        let got = loaded.predict(frame, &keep, Some(0.4)).unwrap();
        assert_eq!(cells(&got), cells(&want), "{} {}", model.algo, model_type);
        assert_eq!(loaded.importances(), model.importances());
        assert_eq!(loaded.to_portable(), bytes);
    }
}

#[test]
fn regression_models_reload_and_score_bit_for_bit() {
    round_trip(
        &with_gaps(&linear(150, 3), "x1"),
        "y",
        ModelType::Regression,
    );
}

#[test]
fn binary_models_reload_and_score_bit_for_bit() {
    round_trip(
        &with_gaps(&binary(150, 4), "x2"),
        "label",
        ModelType::Binary,
    );
}

#[test]
fn multinomial_models_reload_and_score_bit_for_bit() {
    round_trip(&three_class(150, 5), "label", ModelType::Multinomial);
}

fn edited(edit: impl FnOnce(&mut Value)) -> Result<TrainedModel, ModelFormatError> {
    let model = &models(&three_class(60, 6), "label")[2];
    let mut doc: Value = serde_json::from_slice(&model.to_portable()).unwrap();
    edit(&mut doc);
    TrainedModel::from_portable(doc.to_string().as_bytes())
}

#[test]
fn other_versions_and_formats_are_refused_naming_both_versions() {
    // Version 1 stored boosted trees without missing-value directions or level sets.
    let err = edited(|d| d["version"] = json!(1)).unwrap_err();
    assert_eq!(err, ModelFormatError::Version { found: 1 });
    let text = err.to_string();
    assert!(
        text.contains("version 1") && text.contains("version 2"),
        "{text}"
    );
    let err = edited(|d| d["format"] = json!("h2o-mojo")).unwrap_err();
    assert_eq!(err, ModelFormatError::NotAModel);
    let err = edited(|d| d["version"] = json!("1")).unwrap_err();
    assert!(err.to_string().contains("'version' must be"), "{err}");
    for bytes in [&b"PK\x03\x04"[..], b"[1, 2]", b""] {
        let err = TrainedModel::from_portable(bytes).unwrap_err();
        assert!(matches!(err, ModelFormatError::NotJson(_)), "{err}");
    }
}

/// A change to a model document.
type Edit = Box<dyn FnOnce(&mut Value)>;

#[test]
fn inconsistent_documents_are_refused_naming_the_field() {
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(|d| d["classes"] = json!(["a", "b"])), "'classes'"),
        (Box::new(|d| d["classes"] = json!(["a", "a", "b"])), "twice"),
        (
            Box::new(|d| d["model_type"] = json!("regression")),
            "'classes'",
        ),
        (
            Box::new(|d| d["column_weights"] = json!([1.0])),
            "'column_weights'",
        ),
        (
            Box::new(|d| d["engine"]["kind"] = json!("xgb")),
            "'engine.kind'",
        ),
        (Box::new(|d| d["algo"] = json!("DRF")), "'engine.kind'"),
        (
            Box::new(|d| d["engine"]["params"]["min_rows"] = json!(2.5)),
            "'engine.params.min_rows' must be a whole number",
        ),
        (
            Box::new(|d| {
                d["engine"]["rounds"][0][1]["nodes"][0] = json!({
                    "feature": 0, "levels": [300], "missing_left": false, "other_left": false,
                    "left": 1, "right": 2, "gain": 1.0,
                })
            }),
            "'engine.rounds[0][1].nodes[0].levels[0]' must be a level code",
        ),
        (
            Box::new(|d| d["engine"]["init"] = json!([0.0])),
            "'engine.init'",
        ),
        (
            Box::new(|d| d["engine"]["rounds"][0] = json!([])),
            "'engine.rounds[0]'",
        ),
        (
            Box::new(|d| d["engine"]["rounds"][0][1]["nodes"][0]["left"] = json!(0)),
            "'engine.rounds[0][1].nodes[0].left' must be a node index after 0",
        ),
        (
            Box::new(|d| d["engine"]["rounds"][0][1]["nodes"][0]["feature"] = json!(99)),
            "an encoded column below 2",
        ),
        (
            Box::new(|d| d["engine"]["rounds"][1][0]["nodes"] = json!([{"value": [1.0, 2.0]}])),
            "'engine.rounds[1][0].nodes[0].value' must be a number",
        ),
        (
            Box::new(|d| d["features"][0]["type"] = json!("numerical")),
            "'features[0].scale' is missing",
        ),
        (
            Box::new(|d| d["features"][1]["type"] = json!("text")),
            "'features[1].type'",
        ),
        (
            Box::new(|d| d["target"] = Value::Null),
            "'target' is missing",
        ),
    ];
    for (edit, needle) in cases {
        let err = edited(edit).expect_err(needle);
        assert!(matches!(err, ModelFormatError::Malformed(_)), "{err}");
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }
}

#[test]
fn a_glm_document_is_checked_against_the_model_type() {
    let model = &models(&binary(80, 7), "label")[0];
    assert_eq!(model.algo, Algo::Glm);
    let mut doc: Value = serde_json::from_slice(&model.to_portable()).unwrap();
    doc["engine"]["link"] = json!("identity");
    let err = TrainedModel::from_portable(doc.to_string().as_bytes()).unwrap_err();
    assert!(
        err.to_string()
            .contains("does not fit a classifier of 2 classes"),
        "{err}"
    );
    doc["engine"]["link"] = json!("logistic");
    doc["engine"]["coefficients"][0] = json!([1.0]);
    let err = TrainedModel::from_portable(doc.to_string().as_bytes()).unwrap_err();
    assert!(
        err.to_string().contains("'engine.coefficients[0]'"),
        "{err}"
    );
}

#[test]
fn a_model_with_a_datetime_feature_reloads_and_scores_bit_for_bit() {
    // y follows the day of the week and the hour of a datetime column
    let rows = 200;
    let when: Vec<Option<String>> = (0..rows)
        .map(|i| Some(format!("2024-03-{:02} {:02}:30", 1 + i % 28, (i * 7) % 24)))
        .collect();
    let y: Vec<f64> = (0..rows)
        .map(|i| ((1 + i % 28) % 7) as f64 * 2.0 + ((i * 7) % 24) as f64 * 0.1)
        .collect();
    let frame = Frame::new(vec![
        crate::automl::ml::Column::categorical("when", &when),
        crate::automl::ml::Column::numerical("y", y),
    ])
    .unwrap()
    .retype(&[("when".into(), crate::automl::ml::DataType::Datetime)])
    .unwrap();
    let doc: Value = serde_json::from_slice(&models(&frame, "y")[0].to_portable()).unwrap();
    assert_eq!(
        doc["features"][0]["type"], "datetime",
        "{}",
        doc["features"]
    );
    round_trip(&frame, "y", ModelType::Regression);
}

#[test]
fn a_glm_classifier_keeps_its_lambda_and_reads_without_one() {
    let lambda = |m: &TrainedModel| {
        m.hyperparameters()
            .iter()
            .find(|(n, _)| *n == "lambda")
            .unwrap()
            .1
    };
    for (frame, target) in [(binary(120, 7), "label"), (three_class(120, 8), "label")] {
        let model = &models(&frame, target)[0];
        let mut doc: Value = serde_json::from_slice(&model.to_portable()).unwrap();
        assert_eq!(doc["engine"]["lambda"], json!(lambda(model)));
        // A document written before classifiers stored their λ still reads and scores.
        doc["engine"].as_object_mut().unwrap().remove("lambda");
        let old = TrainedModel::from_portable(doc.to_string().as_bytes()).unwrap();
        assert!(lambda(&old).is_nan());
        let want = model.predict(&frame, &[], None).unwrap();
        assert_eq!(
            cells(&old.predict(&frame, &[], None).unwrap()),
            cells(&want)
        );
    }
}

/// 300 rows: a categorical feature of 40 levels and a numerical one with every fifth
/// value missing, the label following both.
fn levels_and_gaps() -> Frame {
    let level: Vec<Option<String>> = (0..300).map(|i| Some(format!("L{}", i * 7 % 40))).collect();
    let x: Vec<f64> = (0..300).map(|i| f64::from((i * 13) % 17) - 8.0).collect();
    let label: Vec<Option<&str>> = (0..300)
        .map(|i| {
            Some(if (i * 7 % 40) % 3 == 0 || x[i] > 4.0 {
                "yes"
            } else {
                "no"
            })
        })
        .collect();
    let frame = Frame::new(vec![
        Column::categorical("level", &level),
        Column::numerical("x", x),
        Column::categorical("label", &label),
    ])
    .unwrap();
    with_gaps(&frame, "x")
}

#[test]
fn forest_splits_on_level_sets_and_missing_directions_reload_bit_for_bit() {
    let frame = levels_and_gaps();
    round_trip(&frame, "label", ModelType::Binary);
    let drf = &models(&frame, "label")[1];
    let doc: Value = serde_json::from_slice(&drf.to_portable()).unwrap();
    let engine = &doc["engine"];
    assert_eq!(engine["params"]["ntrees"], 50.0);
    assert_eq!(engine["params"]["sample_rate"], 0.632);
    let nodes: Vec<&Value> = engine["trees"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["nodes"].as_array().unwrap())
        .collect();
    assert!(nodes
        .iter()
        .any(|n| n["levels"].is_array() && n["other_left"].is_boolean()));
    assert!(nodes
        .iter()
        .any(|n| n["cut"].is_number() && n["missing_left"] == true));
    assert!(nodes
        .iter()
        .any(|n| n["cut"].is_number() && n["missing_left"] == false));
}

#[test]
fn broken_forest_documents_are_refused_naming_the_field() {
    let drf = &models(&levels_and_gaps(), "label")[1];
    let doc: Value = serde_json::from_slice(&drf.to_portable()).unwrap();
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|d| d["engine"]["params"]["mtries"] = json!(1.5)),
            "'engine.params.mtries' must be a whole number",
        ),
        (
            Box::new(|d| d["engine"]["params"] = Value::Null),
            "'engine.params' is missing",
        ),
        (
            Box::new(|d| {
                d["engine"]["trees"][0]["nodes"][0] = json!({
                    "feature": 0, "levels": [254], "missing_left": true, "other_left": false,
                    "left": 1, "right": 2, "gain": 1.0,
                })
            }),
            "'engine.trees[0].nodes[0].levels[0]' must be a level code",
        ),
        (
            Box::new(|d| {
                d["engine"]["trees"][0]["nodes"][0] = json!({
                    "feature": 1, "cut": 0.5, "left": 1, "right": 2, "gain": 1.0,
                })
            }),
            "'engine.trees[0].nodes[0].missing_left' is missing",
        ),
        (
            Box::new(|d| d["engine"]["trees"][1]["nodes"][0]["right"] = json!(0)),
            "'engine.trees[1].nodes[0].right' must be a node index after 0",
        ),
        (
            Box::new(|d| d["engine"]["trees"][1]["width"] = json!(3)),
            "'engine.trees[1].width' must be 2",
        ),
    ];
    for (edit, needle) in cases {
        let mut doc = doc.clone();
        edit(&mut doc);
        let err = TrainedModel::from_portable(doc.to_string().as_bytes()).expect_err(needle);
        assert!(matches!(err, ModelFormatError::Malformed(_)), "{err}");
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }
}

#[test]
fn a_file_that_cannot_be_read_is_named_with_the_os_error() {
    let path = std::env::temp_dir().join(format!("taskloop-no-model-{}.json", std::process::id()));
    let err = TrainedModel::load(&path).unwrap_err();
    let ModelFormatError::Io {
        path: named, kind, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((named, *kind), (&path, std::io::ErrorKind::NotFound));
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string()) && text.contains("No such file"),
        "{text}"
    );
    assert!(std::mem::size_of::<ModelFormatError>() <= 56);
}

#[test]
fn empty_and_truncated_documents_say_so() {
    let bytes = models(&linear(60, 9), "y")[0].to_portable();
    let text = TrainedModel::from_portable(&bytes[..bytes.len() - 1])
        .unwrap_err()
        .to_string();
    assert!(text.contains("ends too early"), "{text}");
    let text = TrainedModel::from_portable(b" \n").unwrap_err().to_string();
    assert!(text.contains("empty"), "{text}");
    let text = TrainedModel::from_portable(b"{\"format\": 1,]")
        .unwrap_err()
        .to_string();
    assert!(!text.contains("ends too early"), "{text}");
}
