//! A measurement, run by hand, of the random forest's time and quality on generated
//! data (Friedman's first function: 10 uniform features, 5 of them noise), 20,000
//! training rows and 10,000 test rows, for regression and for the binary target
//! "above the median". With `DRF_BENCH_CSV=dir` it also writes the data as CSV for
//! `benches/peers/forest_sklearn.py`, so scikit-learn can be measured on the same rows.
//!
//! `cargo test --release --lib forest::measure -- --ignored --nocapture`

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use super::super::linalg::Matrix;
use super::super::metrics::{classification_scores, regression_scores};
use super::super::model::Output;
use super::super::rng::Rng;
use super::super::spec::ModelType;
use super::super::tree::Labels;
use super::{Forest, ForestParams};

/// Rows and targets of Friedman's first function with unit noise.
fn friedman(rows: usize, seed: u64) -> (Matrix, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let mut x = Matrix::zeros(rows, 10);
    let mut y = Vec::with_capacity(rows);
    for i in 0..rows {
        let r = x.row_mut(i);
        r.iter_mut().for_each(|v| *v = rng.next_f64());
        let f = 10.0 * (std::f64::consts::PI * r[0] * r[1]).sin()
            + 20.0 * (r[2] - 0.5).powi(2)
            + 10.0 * r[3]
            + 5.0 * r[4];
        y.push(f + rng.normal());
    }
    (x, y)
}

fn write_csv(path: &str, x: &Matrix, y: &[f64]) {
    let mut text = (0..x.cols()).map(|j| format!("x{j},")).collect::<String>() + "y\n";
    for (row, t) in x.iter_rows().zip(y) {
        row.iter().for_each(|v| text += &format!("{v},"));
        text += &format!("{t}\n");
    }
    std::fs::write(path, text).unwrap();
}

/// Median seconds of `runs` fits, and the last forest.
fn timed(runs: usize, fit: impl Fn() -> Forest) -> (f64, Forest) {
    let mut times = Vec::new();
    let mut forest = None;
    for _ in 0..runs {
        let start = Instant::now();
        forest = Some(fit());
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (times[runs / 2], forest.unwrap())
}

#[test]
#[ignore = "a measurement: run by hand with --nocapture"]
fn forest_time_and_quality() {
    let (x, y) = friedman(20_000, 1);
    let (tx, ty) = friedman(10_000, 2);
    let mut sorted = y.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let class = |y: &[f64]| -> Vec<usize> { y.iter().map(|&v| usize::from(v > median)).collect() };
    let (c, tc) = (class(&y), class(&ty));
    if let Ok(dir) = std::env::var("DRF_BENCH_CSV") {
        write_csv(&format!("{dir}/train.csv"), &x, &y);
        write_csv(&format!("{dir}/test.csv"), &tx, &ty);
    }
    let cancel = AtomicBool::new(false);
    let runs = 3;
    let params = ForestParams::default();
    let (secs, forest) = timed(runs, || {
        Forest::fit_matrix(&x, Labels::Values(&y), &params, 7, &cancel).unwrap()
    });
    let Output::Values(pred) = forest.predict(&tx) else {
        panic!()
    };
    let scores = regression_scores(&ty, &pred);
    println!(
        "regression: {secs:.3} s per forest, test rmse {:.4}, r2 {:.4}",
        scores["rmse"], scores["r2"]
    );
    let (secs, forest) = timed(runs, || {
        Forest::fit_matrix(&x, Labels::Classes(&c, 2), &params, 7, &cancel).unwrap()
    });
    let Output::Probs(probs) = forest.predict(&tx) else {
        panic!()
    };
    let scores = classification_scores(&tc, &probs, ModelType::Binary);
    println!(
        "binary: {secs:.3} s per forest, test auc {:.4}, logloss {:.4}, error {:.4}",
        scores["auc"], scores["logloss"], scores["misclassification"]
    );
}

#[test]
#[ignore = "a measurement: run by hand with --nocapture"]
fn forest_size_and_training_time() {
    use super::super::frame::{Column, Frame};
    use super::super::model::Engine;
    use super::super::train::train;
    use super::super::{Algo, TrainSpec};
    let (x, y) = friedman(20_000, 1);
    let mut columns: Vec<Column> = (0..x.cols())
        .map(|j| Column::numerical(format!("x{j}"), x.iter_rows().map(|r| r[j]).collect()))
        .collect();
    columns.push(Column::numerical("y", y));
    let frame = Frame::new(columns).unwrap();
    let spec = TrainSpec {
        algos: vec![Algo::Drf],
        nfold: 2,
        ..TrainSpec::new("y")
    };
    let start = Instant::now();
    let experiment = train(&frame, &spec, &mut |_, _| {}, &AtomicBool::new(false)).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let model = &experiment.models[0];
    let super::super::model::Predictor::One(fitted) = &model.fitted else {
        panic!("one model")
    };
    let Engine::Drf(forest) = &fitted.engine else {
        panic!("a forest")
    };
    let nodes: usize = forest.trees.iter().map(|t| t.nodes.len()).sum();
    let bytes = model.to_portable().len();
    println!(
        "train (2 folds + final, 20,000 rows): {secs:.2} s; cv rmse {:.4}; {} nodes per tree; \
         {nodes} nodes of {} bytes in memory; download {:.1} MB",
        model.cv_averages["rmse"],
        nodes / forest.trees.len(),
        std::mem::size_of::<super::super::tree::Node>(),
        bytes as f64 / 1e6
    );
}
