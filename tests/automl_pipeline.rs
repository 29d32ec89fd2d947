//! Upload → train → predict through the bundled server over loopback TCP, with the
//! answers checked against data whose truth is known.

#![cfg(all(feature = "client", feature = "server"))]

mod automl_util;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automl_util::{context, linear, separable, server, watchdog};
use taskloop::automl::{AutomlError, CsvSource, PredictInput, TrainInput};
use taskloop::automl::{ColumnData, Frame};
use taskloop::flow::{Event, Flow, JobError, JobStatus};

fn numbers(frame: &Frame, column: &str) -> Vec<f64> {
    match &frame.column(column).expect("column present").data {
        ColumnData::Numerical(v) => v.clone(),
        _ => panic!("{column} should be numerical"),
    }
}

fn labels(frame: &Frame, column: &str) -> Vec<String> {
    let col = frame.column(column).expect("column present");
    (0..frame.rows())
        .map(|r| col.text(r).unwrap_or_default().into_owned())
        .collect()
}

#[test]
fn a_linear_relation_is_learned_and_predicted_on_held_out_rows() {
    watchdog(Duration::from_secs(120), || {
        let srv = server();
        let ctx = context(&srv.url());
        let (train_csv, _) = linear(600, 1, true);
        let (holdout_csv, truth) = linear(150, 2, false);
        let mut flow = Flow::new();
        let a = ctx.upload(&mut flow, "train data", CsvSource::text("train", train_csv));
        let b = ctx.upload(
            &mut flow,
            "held-out data",
            CsvSource::text("holdout", holdout_csv),
        );
        let spec = TrainInput::new(&a, "y")
            .algos(["GLM", "DRF"])
            .nfold(3)
            .seed(7)
            .features(["x1", "x2", "colour"]);
        let c = ctx.train(&mut flow, "train", spec);
        let d = ctx.predict(
            &mut flow,
            "predict",
            PredictInput::new(&b, &c).keep_columns(["id"]),
        );
        let report = flow.run();
        assert!(report.is_success(), "{report}");

        let data = a.result().unwrap();
        assert_eq!(data.rows, 600);
        let types: Vec<_> = data
            .columns
            .iter()
            .map(|c| (c.id.as_str(), c.data_type.as_str()))
            .collect();
        assert!(types.contains(&("colour", "categorical")) && types.contains(&("x1", "numerical")));

        let exp = c.result().unwrap();
        assert_eq!(exp.model_type, "regression");
        // GLM's and DRF's defaults, then GLM's eight penalties: the default budget of a
        // small data set (design/06, "max_model").
        assert_eq!(exp.models.len(), 10);
        let best = exp.best_model("auto").unwrap();
        assert_eq!(d.result().unwrap().model_id, best.id);

        let frame = d.result().unwrap().frame().unwrap();
        let ids = numbers(&frame, "id");
        let predicted = numbers(&frame, "prediction");
        let actual: Vec<f64> = ids.iter().map(|id| truth[*id as usize]).collect();
        let mean = actual.iter().sum::<f64>() / actual.len() as f64;
        let ss_res: f64 = actual
            .iter()
            .zip(&predicted)
            .map(|(a, p)| (a - p).powi(2))
            .sum();
        let ss_tot: f64 = actual.iter().map(|a| (a - mean).powi(2)).sum();
        let r2 = 1.0 - ss_res / ss_tot;
        assert!(r2 > 0.9, "held-out r2 {r2} with model {}", best.algo);
    });
}

#[test]
fn separable_classes_are_predicted_with_high_accuracy() {
    watchdog(Duration::from_secs(120), || {
        let srv = server();
        let ctx = context(&srv.url());
        let (train_csv, _) = separable(400, 3, true);
        let (holdout_csv, truth) = separable(120, 4, false);
        let mut flow = Flow::new();
        let a = ctx.upload(&mut flow, "train", CsvSource::text("train", train_csv));
        let b = ctx.upload(
            &mut flow,
            "holdout",
            CsvSource::text("holdout", holdout_csv),
        );
        let spec = TrainInput::new(&a, "label")
            .algos(["GLM", "DRF"])
            .nfold(3)
            .features(["x1", "x2"]);
        let c = ctx.train(&mut flow, "train", spec);
        let d = ctx.predict(
            &mut flow,
            "predict",
            PredictInput::new(&b, &c).keep_columns(["id"]),
        );
        assert!(flow.run().is_success());

        let exp = c.result().unwrap();
        assert_eq!(exp.model_type, "binary classification");
        assert_eq!(exp.metric_for("auto"), "logloss");
        let frame = d.result().unwrap().frame().unwrap();
        assert!(frame.column("yes").is_some() && frame.column("no").is_some());
        let ids = numbers(&frame, "id");
        let predicted = labels(&frame, "prediction");
        let correct = ids
            .iter()
            .zip(&predicted)
            .filter(|(id, p)| truth[**id as usize] == **p)
            .count();
        let accuracy = correct as f64 / ids.len() as f64;
        assert!(accuracy > 0.9, "held-out accuracy {accuracy}");
    });
}

#[test]
fn progress_moves_forward_and_reaches_one_through_the_observers() {
    watchdog(Duration::from_secs(120), || {
        let srv = server();
        let ctx = context(&srv.url());
        let mut flow = Flow::new();
        let a = ctx.upload(
            &mut flow,
            "train",
            CsvSource::text("train", linear(800, 5, true).0),
        );
        let c = ctx.train(
            &mut flow,
            "train model",
            TrainInput::new(&a, "y").algos(["GLM", "DRF"]).nfold(5),
        );
        let seen: Arc<Mutex<HashMap<String, Vec<f64>>>> = Arc::default();
        let log = seen.clone();
        flow.observe(move |e: &Event<'_>| {
            if let Event::Progress { job, fraction, .. } = e {
                log.lock()
                    .unwrap()
                    .entry(job.name.to_string())
                    .or_default()
                    .push(*fraction);
            }
        });
        assert!(flow.run().is_success());
        let seen = seen.lock().unwrap();
        let train = &seen["train model"];
        assert!(
            train.windows(2).all(|w| w[0] <= w[1]),
            "progress went backwards: {train:?}"
        );
        assert_eq!(*train.last().unwrap(), 1.0);
        assert_eq!(c.progress().map(|(f, _)| f), Some(1.0));
    });
}

#[test]
fn a_bad_csv_fails_the_upload_and_skips_its_dependents_without_submitting_them() {
    watchdog(Duration::from_secs(60), || {
        let srv = server();
        let ctx = context(&srv.url());
        let mut flow = Flow::new();
        let a = ctx.upload(&mut flow, "ragged", CsvSource::text("bad", "a,b\n1,2\n3\n"));
        let b = ctx.upload(
            &mut flow,
            "good",
            CsvSource::text("good", linear(50, 1, false).0),
        );
        let c = ctx.train(&mut flow, "train", TrainInput::new(&a, "b"));
        let d = ctx.predict(&mut flow, "predict", PredictInput::new(&b, &c));
        let report = flow.run();
        assert_eq!(a.status(), JobStatus::Failed);
        assert_eq!(b.status(), JobStatus::Done);
        assert_eq!(
            (c.status(), d.status()),
            (JobStatus::UpstreamFailed, JobStatus::UpstreamFailed)
        );
        let err = d.result().unwrap_err();
        assert_eq!(err.root().job(), "ragged");
        assert!(
            err.to_string().contains("line"),
            "the server's CSV message is quoted: {err}"
        );
        assert_eq!(
            srv.stats()
                .tasks_submitted
                .get("train")
                .copied()
                .unwrap_or(0),
            0
        );
        assert_eq!(report.count(JobStatus::UpstreamFailed), 2);
    });
}

#[test]
fn a_missing_target_column_makes_the_train_task_invalid() {
    watchdog(Duration::from_secs(60), || {
        let srv = server();
        let ctx = context(&srv.url());
        let mut flow = Flow::new();
        let a = ctx.upload(
            &mut flow,
            "data",
            CsvSource::text("d", linear(60, 1, true).0),
        );
        let c = ctx.train(&mut flow, "train", TrainInput::new(&a, "no_such_column"));
        flow.run();
        let err = c.result().unwrap_err();
        let JobError::Failed { source, .. } = &err else {
            panic!("expected Failed, got {err}")
        };
        match source.downcast_ref::<AutomlError>() {
            Some(AutomlError::TaskFailed { status, .. }) => assert_eq!(status, "invalid"),
            other => panic!("expected an invalid task, got {other:?}"),
        }
    });
}
