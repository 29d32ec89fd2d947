//! The Rust client runs the same scenarios as the real Decanter SDK's workflow
//! (`tests/decanter_sdk.rs`): upload from a file and from memory, setup (a 0/1 target
//! made categorical), GLM + DRF + GBM for a regression, a binary and a multinomial
//! target, the best model by `auto` and by other metrics, predictions by the best model,
//! by model id and by the server's recommendation with kept columns, held-out quality,
//! and the table of jobs.

#![cfg(all(feature = "client", feature = "server"))]

mod automl_util;

use std::fmt::Write as _;
use std::time::Duration;

use automl_util::{context, linear, server, watchdog, Rng};
use taskloop::automl::{ColumnData, Frame};
use taskloop::automl::{
    CsvSource, Experiment, ModelChoice, PredictInput, Predictions, SetupInput, TrainInput,
};
use taskloop::flow::{Flow, Job, JobStatus};

const ALGOS: [&str; 3] = ["GLM", "DRF", "GBM"];

fn column(frame: &Frame, name: &str) -> Vec<String> {
    let col = frame
        .column(name)
        .unwrap_or_else(|| panic!("no column {name}"));
    (0..frame.rows())
        .map(|r| col.text(r).unwrap_or_default().into_owned())
        .collect()
}

fn numbers(frame: &Frame, name: &str) -> Vec<f64> {
    match &frame.column(name).expect("column").data {
        ColumnData::Numerical(v) => v.clone(),
        _ => panic!("{name} should be numerical"),
    }
}

fn r2(truth: &[f64], predicted: &[f64]) -> f64 {
    let mean = truth.iter().sum::<f64>() / truth.len() as f64;
    let total: f64 = truth.iter().map(|y| (y - mean).powi(2)).sum();
    let residual: f64 = truth
        .iter()
        .zip(predicted)
        .map(|(y, p)| (y - p).powi(2))
        .sum();
    1.0 - residual / total
}

fn accuracy(truth: &[String], predicted: &[String]) -> f64 {
    let right = truth.iter().zip(predicted).filter(|(a, b)| a == b).count();
    right as f64 / truth.len() as f64
}

/// `id,x1,x2[,label]` where the label is 1 when `x1 + x2 > 10` (0 otherwise), with a
/// margin: numbers, which setup must make categorical.
fn zero_one(rows: usize, seed: u64, with_target: bool) -> (String, Vec<String>) {
    labelled(rows, seed, with_target, |x1, x2| {
        let s = x1 + x2 - 10.0;
        (s.abs() > 1.0).then_some(if s > 0.0 { "1" } else { "0" })
    })
}

/// Three classes by bands of `x1 - x2`, with margins.
fn three_classes(rows: usize, seed: u64, with_target: bool) -> (String, Vec<String>) {
    labelled(rows, seed, with_target, |x1, x2| {
        let d = x1 - x2;
        match d {
            d if d < -3.5 => Some("low"),
            d if (-2.5..2.5).contains(&d) => Some("mid"),
            d if d > 3.5 => Some("high"),
            _ => None,
        }
    })
}

fn labelled(
    rows: usize,
    seed: u64,
    with_target: bool,
    label: impl Fn(f64, f64) -> Option<&'static str>,
) -> (String, Vec<String>) {
    let mut rng = Rng::new(seed);
    let mut csv = String::from(if with_target {
        "id,x1,x2,label\n"
    } else {
        "id,x1,x2\n"
    });
    let mut labels = Vec::new();
    while labels.len() < rows {
        let (x1, x2) = (rng.next() * 10.0, rng.next() * 10.0);
        let Some(l) = label(x1, x2) else { continue };
        let id = labels.len();
        labels.push(l.to_owned());
        let _ = write!(csv, "{id},{x1:.4},{x2:.4}");
        let _ = writeln!(
            csv,
            "{}",
            if with_target {
                format!(",{l}")
            } else {
                String::new()
            }
        );
    }
    (csv, labels)
}

fn train(
    flow: &mut Flow,
    ctx: &taskloop::automl::Context,
    name: &str,
    spec: TrainInput<'_>,
) -> Job<Experiment> {
    ctx.train(flow, name, spec.algos(ALGOS).nfold(3).seed(11))
}

fn predict(
    flow: &mut Flow,
    ctx: &taskloop::automl::Context,
    name: &str,
    input: PredictInput<'_>,
) -> Job<Predictions> {
    ctx.predict(flow, name, input.keep_columns(["id"]))
}

#[test]
fn the_sdk_workflow_runs_end_to_end_on_the_rust_client() {
    watchdog(Duration::from_secs(240), || {
        let srv = server();
        let ctx = context(&srv.url());
        let dir =
            std::env::temp_dir().join(format!("taskloop-sdk-workflow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let train_path = dir.join("regression train.csv");
        std::fs::write(&train_path, linear(600, 1, true).0).unwrap();
        let (holdout_csv, holdout_y) = linear(200, 2, false);
        let (binary_csv, _) = zero_one(400, 3, true);
        let (binary_holdout, binary_truth) = zero_one(150, 4, false);
        let (multi_csv, _) = three_classes(450, 5, true);
        let (multi_holdout, multi_truth) = three_classes(150, 6, false);

        let mut flow = Flow::new();
        let reg_data = ctx.upload(&mut flow, "regression data", CsvSource::path(&train_path));
        let reg_new = ctx.upload(
            &mut flow,
            "regression new",
            CsvSource::text("new.csv", holdout_csv),
        );
        let reg = train(
            &mut flow,
            &ctx,
            "regression",
            TrainInput::new(&reg_data, "y"),
        );
        let reg_by_r2 = train(
            &mut flow,
            &ctx,
            "regression by r2",
            TrainInput::new(&reg_data, "y").evaluator("r2"),
        );
        let reg_best = predict(
            &mut flow,
            &ctx,
            "predict best",
            PredictInput::new(&reg_new, &reg),
        );
        let reg_rec = predict(
            &mut flow,
            &ctx,
            "predict recommended by mae",
            PredictInput::new(&reg_new, &reg).model(ModelChoice::Recommendation("mae".into())),
        );

        let bin_raw = ctx.upload(
            &mut flow,
            "binary data",
            CsvSource::text("binary.csv", binary_csv),
        );
        let bin_data = ctx.setup(
            &mut flow,
            "binary setup",
            SetupInput::new(&bin_raw).column("label", "categorical"),
        );
        let bin_new = ctx.upload(
            &mut flow,
            "binary new",
            CsvSource::text("binary-new.csv", binary_holdout),
        );
        let bin = train(
            &mut flow,
            &ctx,
            "binary",
            TrainInput::new(&bin_data, "label"),
        );
        let bin_best = predict(
            &mut flow,
            &ctx,
            "binary best",
            PredictInput::new(&bin_new, &bin),
        );

        let multi_data = ctx.upload(
            &mut flow,
            "multi data",
            CsvSource::text("multi.csv", multi_csv),
        );
        let multi_new = ctx.upload(
            &mut flow,
            "multi new",
            CsvSource::text("multi-new.csv", multi_holdout),
        );
        let multi = train(
            &mut flow,
            &ctx,
            "multinomial",
            TrainInput::new(&multi_data, "label"),
        );
        let multi_best = predict(
            &mut flow,
            &ctx,
            "multinomial best",
            PredictInput::new(&multi_new, &multi),
        );
        let report = flow.run();
        assert!(report.is_success(), "{report}");

        // Uploads: data objects named by the file's name.
        let data = reg_data.result().unwrap();
        assert_eq!(
            (data.name.as_str(), data.rows),
            ("regression train.csv", 600)
        );
        assert!(!data.uri.is_empty());

        // Regression: each algorithm's defaults, then the default budget's search of a
        // small data set (GLM penalties and GBM settings in turn, ten more), every
        // metric, the best by deviance and by r2.
        let exp = reg.result().unwrap();
        assert_eq!(exp.model_type, "regression");
        let algos: Vec<&str> = exp.models.iter().map(|m| m.algo.as_str()).collect();
        assert_eq!(algos[..3], ALGOS);
        assert_eq!(algos.len(), 13, "{algos:?}");
        assert!(algos[3..].iter().all(|a| ["GLM", "GBM"].contains(a)));
        assert_eq!(exp.features, ["id", "x1", "x2", "colour"]);
        for m in &exp.models {
            for metric in ["deviance", "mse", "rmse", "mae", "r2", "wmape"] {
                assert!(
                    m.cv_averages.contains_key(metric),
                    "{} lacks {metric}",
                    m.algo
                );
            }
        }
        let best = exp.best_model("auto").unwrap();
        let smallest = exp
            .models
            .iter()
            .map(|m| m.cv_averages["deviance"])
            .fold(f64::INFINITY, f64::min);
        assert_eq!(best.cv_averages["deviance"], smallest);
        let by_r2 = reg_by_r2.result().unwrap();
        let largest = by_r2
            .models
            .iter()
            .map(|m| m.cv_averages["r2"])
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(by_r2.best_model("r2").unwrap().cv_averages["r2"], largest);
        assert_eq!(exp.recommended("deviance").unwrap().id, best.id);

        let predictions = reg_best.result().unwrap();
        assert_eq!(predictions.model_id, best.id);
        let frame = predictions.frame().unwrap();
        let ids: Vec<f64> = numbers(&frame, "id");
        assert_eq!(ids, (0..200).map(f64::from).collect::<Vec<_>>());
        let held_out_r2 = r2(&holdout_y, &numbers(&frame, "prediction"));
        assert!(held_out_r2 > 0.9, "held-out r2 {held_out_r2}");
        let recommended = reg_rec.result().unwrap();
        assert_eq!(recommended.model_id, exp.recommended("mae").unwrap().id);
        let path = dir.join("predictions.csv");
        let bytes = recommended.download(&path).unwrap();
        assert_eq!(bytes, std::fs::metadata(&path).unwrap().len());

        // Binary: the 0/1 target made categorical by setup.
        let setup = bin_data.result().unwrap();
        assert_ne!(setup.id, bin_raw.result().unwrap().id);
        let label = setup.columns.iter().find(|c| c.id == "label").unwrap();
        assert_eq!(label.data_type, "categorical");
        let exp = bin.result().unwrap();
        assert_eq!(exp.model_type, "binary classification");
        assert_eq!(exp.metric_for("auto"), "logloss");
        for metric in [
            "logloss",
            "auc",
            "misclassification",
            "mean_per_class_error",
            "lift_top_group",
            "mse",
            "rmse",
        ] {
            assert!(
                exp.models
                    .iter()
                    .all(|m| m.cv_averages.contains_key(metric)),
                "binary lacks {metric}"
            );
        }
        assert!(exp.best_model("auc").is_some());
        let frame = bin_best.result().unwrap().frame().unwrap();
        let acc = accuracy(&binary_truth, &column(&frame, "prediction"));
        assert!(acc > 0.9, "binary held-out accuracy {acc}");

        // Multinomial.
        let exp = multi.result().unwrap();
        assert_eq!(exp.model_type, "multinomial classification");
        let frame = multi_best.result().unwrap().frame().unwrap();
        let acc = accuracy(&multi_truth, &column(&frame, "prediction"));
        assert!(acc > 0.9, "multinomial held-out accuracy {acc}");

        // The jobs table: every job done.
        assert_eq!(report.jobs.len(), 15);
        assert_eq!(report.count(JobStatus::Done), 15, "{report}");
        assert_eq!(report.job("binary setup").unwrap().status, JobStatus::Done);
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

#[test]
fn a_model_chosen_by_id_predicts() {
    watchdog(Duration::from_secs(120), || {
        let srv = server();
        let ctx = context(&srv.url());
        let mut flow = Flow::new();
        let data = ctx.upload(
            &mut flow,
            "data",
            CsvSource::text("t.csv", linear(300, 7, true).0),
        );
        let exp = train(&mut flow, &ctx, "train", TrainInput::new(&data, "y"));
        assert!(flow.run().is_success());
        let gbm = exp
            .result()
            .unwrap()
            .models
            .iter()
            .find(|m| m.algo == "GBM")
            .unwrap()
            .id
            .clone();
        // The flow grows: a second run runs only the new jobs.
        let new = ctx.upload(
            &mut flow,
            "new",
            CsvSource::text("n.csv", linear(50, 8, false).0),
        );
        let by_id = predict(
            &mut flow,
            &ctx,
            "by id",
            PredictInput::new(&new, &exp).model(ModelChoice::Id(gbm.clone())),
        );
        let unknown = predict(
            &mut flow,
            &ctx,
            "unknown id",
            PredictInput::new(&new, &exp).model(ModelChoice::Id("0".repeat(24))),
        );
        let report = flow.run();
        assert_eq!(report.count(JobStatus::Failed), 1, "{report}");
        assert_eq!(by_id.result().unwrap().model_id, gbm);
        let err = unknown.result().unwrap_err().to_string();
        assert!(err.contains(&"0".repeat(24)), "{err}");
    });
}
