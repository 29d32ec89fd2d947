//! After a server restart a task id may name nothing, or (with counters) another
//! client's task. The client checks what it polls: a task of another type, a result of
//! the wrong shape or a forgotten task is a clear error, never a result.
//!
//! A fake server plays the restarted one: it answers the predict submit with the id of
//! an upload task whose result is someone else's CSV.

#![cfg(all(feature = "client", feature = "server"))]

mod automl_util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use automl_util::{context, linear, watchdog};
use taskloop::automl::{AutomlError, Context, CsvSource, PredictInput, TrainInput};
use taskloop::flow::{Flow, JobError};

const UPLOAD: &str = "aaaaaaaaaaaaaaaaaaaaaa01";
const TRAIN: &str = "aaaaaaaaaaaaaaaaaaaaaa02";
const GONE: &str = "aaaaaaaaaaaaaaaaaaaaaa03";

fn data(columns: &[&str]) -> serde_json::Value {
    let columns: Vec<_> = columns
        .iter()
        .map(|c| serde_json::json!({"id": c, "data_type": "numerical"}))
        .collect();
    serde_json::json!({"_id": "d1", "data_name": "other.csv", "rows": 2,
        "accessor": {"uri": "u"}, "columns": columns})
}

fn answer(method: &str, path: &str, predict_id: &str) -> (u16, serde_json::Value) {
    let done = |kind: &str, result: serde_json::Value| serde_json::json!({"type": kind, "status": "done", "progress": 1.0, "result": result});
    match (method, path) {
        ("GET", "/v2/worker/status") => (
            200,
            serde_json::json!({"status": "ok", "workers": 1, "running": 0, "pending": 0}),
        ),
        ("POST", "/v2/upload") => (200, serde_json::json!({"_id": UPLOAD})),
        ("POST", "/v2/tasks/train") => (200, serde_json::json!({"_id": TRAIN})),
        ("POST", "/v2/tasks/predict") => (200, serde_json::json!({"_id": predict_id})),
        ("GET", p) if p == format!("/v2/tasks/{UPLOAD}") => {
            (200, done("upload", data(&["secret_col", "other"])))
        }
        ("GET", p) if p == format!("/v2/tasks/{TRAIN}") => {
            let exp = serde_json::json!({"_id": "e1", "models": ["m1"],
                "attributes": {"m1": {"algo": "GLM", "cv_averages": {"deviance": 1.0, "mse": 1.0}}},
                "hyperparameters": {"model_type": "regression"}});
            (200, done("train", exp))
        }
        _ if method == "PUT" => (200, serde_json::json!({})),
        _ => (404, serde_json::json!({"error": "no such task"})),
    }
}

/// Serves `answer` on 127.0.0.1:0, one request per connection, in a thread.
fn fake_server(predict_id: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = serve_one(stream, predict_id);
        }
    });
    url
}

fn serve_one(stream: TcpStream, predict_id: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    std::io::copy(&mut reader.by_ref().take(length), &mut std::io::sink())?;
    let (status, body) = answer(method, path, predict_id);
    let body = body.to_string();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The predict job's data id, or its error (the client's own error, as the flow keeps it).
fn run_pipeline(ctx: &Context) -> Result<String, JobError> {
    let mut flow = Flow::new();
    let data = ctx.upload(
        &mut flow,
        "upload",
        CsvSource::text("mine.csv", "x,y\n1,2\n2,4\n"),
    );
    let exp = ctx.train(&mut flow, "train", TrainInput::new(&data, "y"));
    let pred = ctx.predict(&mut flow, "predict", PredictInput::new(&data, &exp));
    flow.run();
    data.result().expect("the upload itself is fine");
    exp.result().expect("the training itself is fine");
    pred.result().map(|p| p.data_id.clone())
}

fn client_error(err: &JobError) -> &AutomlError {
    std::error::Error::source(err)
        .and_then(|e| e.downcast_ref::<AutomlError>())
        .unwrap_or_else(|| panic!("not a client error: {err:?}"))
}

#[test]
fn a_polled_task_of_another_type_is_an_error_not_predictions() {
    let err = watchdog(Duration::from_secs(60), || {
        run_pipeline(&context(&fake_server(UPLOAD))).unwrap_err()
    });
    let err = client_error(&err);
    let message = err.to_string();
    assert!(matches!(err, AutomlError::Protocol { .. }), "{err:?}");
    assert!(message.contains("not the predict task"), "{message}");
}

#[test]
fn a_task_the_server_forgot_is_gone_not_retried_forever() {
    let err = watchdog(Duration::from_secs(60), || {
        run_pipeline(&context(&fake_server(GONE))).unwrap_err()
    });
    let err = client_error(&err);
    assert!(matches!(err, AutomlError::TaskGone { .. }), "{err:?}");
    assert!(
        err.to_string().contains("gone from the AutoML server"),
        "{err}"
    );
}

/// What one pipeline of the restart test ended with.
enum Outcome {
    /// Predictions, checked to be this pipeline's own.
    Predicted,
    /// A clear client error; `gone` if the server no longer knew the pipeline's task.
    Failed { gone: bool },
}

/// Checks one pipeline's predict job: its own predictions (one per row of its data,
/// with a `prediction` column and none of the other client's), or a clear client error.
fn outcome(pred: &taskloop::flow::Job<taskloop::automl::Predictions>, rows: usize) -> Outcome {
    match pred.result() {
        Ok(p) => match p.frame() {
            Ok(frame) => {
                let names: Vec<_> = frame.column_names().map(str::to_string).collect();
                assert!(names.iter().any(|n| n == "prediction"), "{names:?}");
                assert!(!names.iter().any(|n| n == "secret_col"), "{names:?}");
                assert_eq!(frame.rows(), rows, "predictions of another data set");
                Outcome::Predicted
            }
            // Made by the first server and downloaded after the restart.
            Err(e) => Outcome::Failed {
                gone: matches!(
                    e,
                    AutomlError::TaskGone { .. } | AutomlError::Rejected { status: 404, .. }
                ),
            },
        },
        Err(err) => {
            let root = match &err {
                JobError::UpstreamFailed { root, .. } => root.as_ref(),
                other => other,
            };
            let client = client_error(root);
            assert!(
                !matches!(client, AutomlError::Protocol { .. }),
                "the client polled a task that is not its own: {client}"
            );
            Outcome::Failed {
                gone: matches!(client, AutomlError::TaskGone { .. }),
            }
        }
    }
}

/// The real server, killed while this client's tasks are queued on it and started again
/// on the same port, with another client's uploads in between. With ids that start
/// again at 1, the client's polls named the other client's upload tasks and returned
/// their CSV as predictions; now every pipeline ends with its own predictions or a
/// clear error, and the tasks the restart lost are reported as gone.
#[test]
fn a_restart_with_other_uploads_in_between_never_yields_wrong_predictions() {
    const PIPELINES: usize = 6;
    const ROWS: usize = 1500;
    watchdog(Duration::from_secs(120), || {
        // One worker and one slot: the trainings queue behind each other.
        let first = automl_util::server_with(|c| {
            c.workers = 1;
            c.max_running = 1;
        });
        let url = first.url();
        let ctx = context(&url);
        let mut flow = Flow::new();
        let mut preds = Vec::new();
        for i in 0..PIPELINES {
            let (csv, _) = linear(ROWS, i as u64 + 1, true);
            let data = ctx.upload(
                &mut flow,
                format!("up{i}"),
                CsvSource::text("mine.csv", csv),
            );
            let exp = ctx.train(
                &mut flow,
                format!("train{i}"),
                TrainInput::new(&data, "y").nfold(3),
            );
            preds.push(ctx.predict(
                &mut flow,
                format!("pred{i}"),
                PredictInput::new(&data, &exp),
            ));
        }
        let addr = url.trim_start_matches("http://").to_string();
        let restarter = std::thread::spawn(move || {
            // Kill the server once a prediction was submitted while at least two of
            // this client's tasks wait on it.
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            let queued = |s: &taskloop::automl::ServerStats| {
                s.tasks_submitted.get("predict").copied().unwrap_or(0) >= 1 && s.pending >= 2
            };
            while !queued(&first.stats()) {
                assert!(std::time::Instant::now() < deadline, "no task ever queued");
                std::thread::sleep(Duration::from_millis(1));
            }
            let lost = first.stats().pending;
            drop(first);
            let second = automl_util::server_with(|c| c.addr = addr);
            // Enough uploads that counters from 1 would reach this client's task ids.
            let other = context(&second.url());
            let mut f = Flow::new();
            for i in 0..4 * PIPELINES {
                other.upload(
                    &mut f,
                    format!("o{i}"),
                    CsvSource::text("o.csv", "secret_col,other\n1,2\n"),
                );
            }
            assert!(f.run().is_success());
            (second, lost)
        });
        let report = flow.run();
        let (_second, lost) = restarter.join().unwrap();
        let outcomes: Vec<Outcome> = preds.iter().map(|p| outcome(p, ROWS)).collect();
        let gone = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Failed { gone: true }))
            .count();
        let predicted = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Predicted))
            .count();
        eprintln!("queued at the restart: {lost}; pipelines: {predicted} predicted, {gone} gone");
        // The tasks queued at the restart were lost: their pipelines say so.
        assert!(
            gone >= 1,
            "{lost} tasks were queued at the restart, yet no pipeline saw a task gone:\n{}",
            report
        );
        assert!(predicted + gone <= PIPELINES);
    });
}
