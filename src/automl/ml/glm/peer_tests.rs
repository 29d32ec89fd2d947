//! The GLM against scikit-learn's defaults on the same five folds: an ignored test that
//! reads the CSVs `benches/peers/glm_sklearn.py DIR` writes (and prints scikit-learn's
//! figures for), then prints the GLM's.
//!
//! `GLM_PEER_DIR=DIR cargo test --release --lib glm_against_scikit_learn -- --ignored --nocapture`
//!
//! `GLM_PEER_TOL=1e-6` sets the classifiers' tolerance.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use super::{Glm, GlmParams};
use crate::automl::ml::encode::Encoder;
use crate::automl::ml::frame::{ColumnData, Frame};
use crate::automl::ml::metrics::{classification_scores, regression_scores};
use crate::automl::ml::model::Output;
use crate::automl::ml::tree::Labels;
use crate::automl::ml::{parse_csv, CsvLimits, ModelType};

const FOLDS: usize = 5;
const SETS: [(&str, ModelType); 5] = [
    ("breast_cancer", ModelType::Binary),
    ("diabetes", ModelType::Regression),
    ("wine", ModelType::Multinomial),
    ("digits", ModelType::Multinomial),
    ("wide_categorical", ModelType::Binary),
];

fn numbers(frame: &Frame, name: &str) -> Vec<f64> {
    match &frame.column(name).expect("column").data {
        ColumnData::Numerical(v) => v.clone(),
        _ => panic!("{name} is not numerical"),
    }
}

#[test]
#[ignore = "needs the CSVs of benches/peers/glm_sklearn.py"]
fn glm_against_scikit_learn() {
    let Ok(dir) = std::env::var("GLM_PEER_DIR") else {
        return eprintln!("set GLM_PEER_DIR");
    };
    for (name, model_type) in SETS {
        let file = std::fs::File::open(format!("{dir}/{name}.csv")).expect("csv");
        let frame = parse_csv(std::io::BufReader::new(file), &CsvLimits::default()).unwrap();
        let (y, fold) = (numbers(&frame, "y"), numbers(&frame, "fold"));
        let features: Vec<String> = frame
            .column_names()
            .filter(|n| *n != "y" && *n != "fold")
            .map(str::to_owned)
            .collect();
        let (mut totals, mut seconds, mut lambdas) = (Vec::new(), 0.0, Vec::new());
        for k in 0..FOLDS {
            let rows = |test: bool| -> Vec<usize> {
                (0..y.len())
                    .filter(|&i| (fold[i] as usize == k) == test)
                    .collect()
            };
            let (train, test) = (rows(false), rows(true));
            let encoder = Encoder::fit(&frame, &features, &train).unwrap();
            let (x, x_test) = (
                encoder.transform(&frame, &train).unwrap(),
                encoder.transform(&frame, &test).unwrap(),
            );
            let classes: Vec<usize> = train.iter().map(|&i| y[i] as usize).collect();
            let values: Vec<f64> = train.iter().map(|&i| y[i]).collect();
            let labels = match model_type {
                ModelType::Regression => Labels::Values(&values),
                _ => Labels::Classes(
                    &classes,
                    1 + y.iter().fold(0.0f64, |a, &b| a.max(b)) as usize,
                ),
            };
            let mut params = GlmParams::default();
            if let Ok(t) = std::env::var("GLM_PEER_TOL") {
                params.tolerance = t.parse().unwrap();
            }
            let start = Instant::now();
            let glm = Glm::fit(&x, labels, &params, &AtomicBool::new(false)).unwrap();
            seconds += start.elapsed().as_secs_f64();
            lambdas.push(glm.hyperparameters()[1].1);
            let scores = match glm.predict(&x_test) {
                Output::Values(pred) => {
                    let truth: Vec<f64> = test.iter().map(|&i| y[i]).collect();
                    regression_scores(&truth, &pred)
                }
                Output::Probs(p) => {
                    let truth: Vec<usize> = test.iter().map(|&i| y[i] as usize).collect();
                    classification_scores(&truth, &p, model_type)
                }
            };
            totals.push(scores);
        }
        let mean = |m: &str| totals.iter().map(|s| s[m]).sum::<f64>() / FOLDS as f64;
        let shown = match model_type {
            ModelType::Regression => format!("rmse={:.4}", mean("rmse")),
            ModelType::Binary => format!("logloss={:.4} auc={:.4}", mean("logloss"), mean("auc")),
            _ => format!(
                "logloss={:.4} accuracy={:.4}",
                mean("logloss"),
                1.0 - mean("misclassification")
            ),
        };
        println!("{name:17} GLM {shown}  fit {seconds:.3} s  lambda {lambdas:?}");
    }
}
