//! The whole workflow over raw HTTP: upload → train → predict → download, task
//! statuses and progress, stopping a running and a pending task, and the
//! `max_running` limit.

#![cfg(feature = "server")]

mod server_util;

use std::collections::HashSet;

use serde_json::{json, Value};
use server_util::*;

#[test]
fn upload_train_predict_and_download_a_regression() {
    let server = start();
    let addr = server.addr();
    let csv = regression_csv(300, 1);
    let task = submit(addr, "/v2/upload?name=line%20data", csv.as_bytes());
    let upload = wait_task(addr, &task);
    assert_eq!(upload["type"], "upload");
    assert_eq!(upload["status"], "done", "{upload}");
    let data = &upload["result"];
    assert_eq!(data["data_name"], "line data");
    assert_eq!(data["rows"], 300);
    assert_eq!(
        data["columns"],
        json!([
            {"id": "x1", "data_type": "numerical"},
            {"id": "x2", "data_type": "numerical"},
            {"id": "y", "data_type": "numerical"},
        ])
    );
    let data_id = data["_id"].as_str().unwrap();
    let file = call(addr, "GET", &format!("/v2/data/{data_id}/file"), b"");
    assert_eq!(file.status, 200);
    assert!(file.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(file.text(), csv);

    let spec =
        json!({"train_data_id": data_id, "target": "y", "algos": ["GLM", "DRF"], "nfold": 3});
    let experiment = train_and_check_progress(addr, &spec);
    assert_eq!(experiment["target"], "y");
    assert_eq!(experiment["hyperparameters"]["model_type"], "regression");
    let glm = model_of(&experiment, "GLM");
    let cv = &experiment["attributes"][&glm]["cv_averages"];
    assert!(cv["r2"].as_f64().unwrap() > 0.99, "{cv}");
    let mse_pick = experiment["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["evaluator"] == "mse")
        .expect("a recommendation for mse");
    assert_eq!(
        mse_pick["model_id"],
        glm.as_str(),
        "GLM fits a linear target best"
    );

    let predictions = predict(
        addr,
        &json!({"data_id": data_id, "model_id": glm, "keep_columns": ["y"]}),
    );
    let mut lines = predictions.lines();
    assert_eq!(lines.next(), Some("y,prediction"));
    let rows: Vec<(f64, f64)> = lines
        .map(|l| {
            let (y, p) = l.split_once(',').unwrap();
            (y.parse().unwrap(), p.parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 300);
    assert!(
        rows.iter().all(|(y, p)| (y - p).abs() < 0.2),
        "GLM recovers y = 3·x1 − 2·x2"
    );
    assert_eq!(server.stats().tasks_submitted.values().sum::<u64>(), 3);
}

/// Trains, polling until done: statuses only move forward through pending/running to
/// done, progress never decreases and ends at 1. Returns the experiment document.
fn train_and_check_progress(addr: std::net::SocketAddr, spec: &Value) -> Value {
    let task = submit(addr, "/v2/tasks/train", spec.to_string().as_bytes());
    let (mut statuses, mut progress) = (Vec::new(), Vec::new());
    let done = wait_task_with(addr, &task, |doc| {
        statuses.push(doc["status"].as_str().unwrap().to_owned());
        progress.push(doc["progress"].as_f64().unwrap());
    });
    assert_eq!(done["status"], "done", "{done}");
    let order = ["pending", "running", "done"];
    let ranks: Vec<usize> = statuses
        .iter()
        .map(|s| order.iter().position(|o| o == s).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{statuses:?}");
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert_eq!(done["progress"], 1.0);
    let created = done["created_at"].as_f64().unwrap();
    let started = done["started_at"].as_f64().unwrap();
    let finished = done["finished_at"].as_f64().unwrap();
    assert!(created <= started && started <= finished);
    let experiment_id = done["result"]["_id"].as_str().unwrap();
    get_json(addr, &format!("/v2/experiments/{experiment_id}"))
}

/// The id of the model trained with `algo`.
fn model_of(experiment: &Value, algo: &str) -> String {
    let attributes = experiment["attributes"].as_object().unwrap();
    let (id, model) = attributes
        .iter()
        .find(|(_, m)| m["algo"] == algo)
        .expect("the model");
    assert_eq!(model["model_id"], id.as_str());
    id.clone()
}

/// Runs a predict task and returns the predictions CSV.
fn predict(addr: std::net::SocketAddr, spec: &Value) -> String {
    let task = submit(addr, "/v2/tasks/predict", spec.to_string().as_bytes());
    let done = wait_task(addr, &task);
    assert_eq!(done["status"], "done", "{done}");
    let id = done["result"]["_id"].as_str().unwrap();
    let file = call(addr, "GET", &format!("/v2/data/{id}/file"), b"");
    assert_eq!(file.status, 200);
    file.text()
}

#[test]
fn a_multipart_upload_trains_a_binary_classifier() {
    let server = start();
    let addr = server.addr();
    let csv = binary_csv(200, 2);
    let body = format!(
        "--XYZ\r\nContent-Disposition: form-data; name=\"csv\"; filename=\"labels.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--XYZ--\r\n"
    );
    let headers = [
        ("Authorization", AUTH),
        ("Content-Type", "multipart/form-data; boundary=XYZ"),
    ];
    let answer = request(addr, "POST", "/v2/upload", &headers, body.as_bytes());
    assert_eq!(answer.status, 200, "{}", answer.text());
    let done = wait_task(addr, answer.json()["_id"].as_str().unwrap());
    assert_eq!(done["result"]["data_name"], "labels.csv");
    assert_eq!(done["result"]["columns"][2]["data_type"], "categorical");
    let data_id = done["result"]["_id"].as_str().unwrap();

    let spec =
        json!({"train_data_id": data_id, "target": "label", "algos": ["GLM"], "evaluator": "auc"});
    let experiment = train_and_check_progress(addr, &spec);
    assert_eq!(
        experiment["hyperparameters"]["model_type"],
        "binary classification"
    );
    let glm = model_of(&experiment, "GLM");
    assert!(
        experiment["attributes"][&glm]["cv_averages"]["auc"]
            .as_f64()
            .unwrap()
            > 0.95
    );
    let predictions = predict(
        addr,
        &json!({"data_id": data_id, "model_id": glm, "threshold": 0.5}),
    );
    assert!(
        predictions.starts_with("label,prediction,no,yes\n"),
        "{predictions}"
    );
    assert_eq!(predictions.lines().count(), 201);
}

#[test]
fn a_missing_target_makes_the_task_invalid() {
    let server = start();
    let addr = server.addr();
    let data_id = upload(addr, &regression_csv(50, 3));
    let spec = json!({"train_data_id": data_id, "target": "nope"});
    let task = submit(addr, "/v2/tasks/train", spec.to_string().as_bytes());
    let done = wait_task(addr, &task);
    assert_eq!(done["status"], "invalid", "{done}");
    assert!(
        done["progress_message"].as_str().unwrap().contains("nope"),
        "{done}"
    );
    assert!(done["result"].is_null());
}

/// A training request that runs for many seconds: a wide data set, 10 folds of DRF.
fn long_train(addr: std::net::SocketAddr) -> String {
    let data_id = upload(addr, &wide_csv(LONG_ROWS, 30, 4));
    let spec = json!({"train_data_id": data_id, "target": "y", "algos": ["DRF", "GLM", "DRF"], "nfold": 10});
    submit(addr, "/v2/tasks/train", spec.to_string().as_bytes())
}

const LONG_ROWS: usize = 20_000;

#[test]
fn stopping_a_running_train_fails_it_and_frees_the_worker() {
    let server = start_with(|c| {
        c.workers = 1;
        c.max_running = 1;
    });
    let addr = server.addr();
    let task = long_train(addr);
    wait_status(addr, &task, "running");
    let stopped = call(addr, "PUT", &format!("/v2/tasks/{task}/stop"), b"");
    assert_eq!(stopped.status, 200);
    let doc = stopped.json();
    assert_eq!(
        (doc["status"].as_str(), doc["progress_message"].as_str()),
        (Some("fail"), Some("stopped")),
        "{doc}"
    );
    assert!(doc["finished_at"].is_f64());
    // Training notices the cancel flag and gives the slot back; the next task runs.
    let data_id = upload(addr, &regression_csv(30, 5));
    assert_eq!(wait_task(addr, &task)["status"], "fail");
    let again = call(addr, "PUT", &format!("/v2/tasks/{task}/stop"), b"").json();
    assert_eq!(
        again["progress_message"], "stopped",
        "stopping a finished task changes nothing"
    );
    assert!(!data_id.is_empty());
}

#[test]
fn tasks_beyond_max_running_wait_pending_in_fifo_order() {
    let server = start_with(|c| {
        c.workers = 1;
        c.max_running = 1;
    });
    let addr = server.addr();
    let small = upload(addr, &regression_csv(40, 6));
    let long = long_train(addr);
    wait_status(addr, &long, "running");
    let spec =
        json!({"train_data_id": small, "target": "y", "algos": ["GLM"], "nfold": 2}).to_string();
    let queued: Vec<String> = (0..3)
        .map(|_| submit(addr, "/v2/tasks/train", spec.as_bytes()))
        .collect();
    let status = get_json(addr, "/v2/worker/status");
    assert_eq!(
        (
            status["workers"].as_u64(),
            status["running"].as_u64(),
            status["pending"].as_u64()
        ),
        (Some(1), Some(1), Some(3))
    );
    assert_eq!((server.stats().running, server.stats().pending), (1, 3));
    for id in &queued {
        assert_eq!(
            get_json(addr, &format!("/v2/tasks/{id}"))["status"],
            "pending"
        );
    }
    // Stop the middle one while it waits: it never starts.
    let stopped = call(addr, "PUT", &format!("/v2/tasks/{}/stop", queued[1]), b"").json();
    assert_eq!(stopped["status"], "fail");
    assert!(stopped.get("started_at").is_none(), "{stopped}");
    call(addr, "PUT", &format!("/v2/tasks/{long}/stop"), b"");
    let first = wait_task(addr, &queued[0]);
    let last = wait_task(addr, &queued[2]);
    assert_eq!(
        (first["status"].as_str(), last["status"].as_str()),
        (Some("done"), Some("done"))
    );
    assert!(
        first["started_at"].as_f64() <= last["started_at"].as_f64(),
        "FIFO"
    );
    let experiments: HashSet<&str> = [&first, &last]
        .iter()
        .map(|d| d["result"]["_id"].as_str().unwrap())
        .collect();
    assert_eq!(experiments.len(), 2, "each task made its own experiment");
}

#[test]
fn the_handle_is_send_and_hides_the_password() {
    fn assert_send<T: Send>(_: &T) {}
    let server = start();
    assert_send(&server);
    assert!(!format!("{server:?}").contains(PASSWORD));
    let addr = server.addr();
    let alive = std::thread::spawn(move || {
        assert_alive(addr);
        server.stats()
    })
    .join()
    .unwrap();
    assert!(alive.requests >= 1);
}
