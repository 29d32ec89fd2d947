//! `ServerConfig::data_dir` (`automl-server --data-dir`): everything a server made
//! answers the same after a restart on the same directory; one server owns a
//! directory at a time; a directory of another format version is refused in words;
//! the disk budget refuses new uploads with `507`, loses nothing, and recovers when
//! space is freed.

#![cfg(feature = "server")]

mod server_util;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use server_util::*;
use taskloop::automl::ServerConfig;

/// A fresh, empty directory for one test under Cargo's temporary directory.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("data-dir-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn on(dir: &Path) -> impl FnOnce(&mut ServerConfig) + '_ {
    move |config| config.data_dir = Some(dir.to_owned())
}

/// `x1,x2,color,y`: numbers with blanks, a category with blanks, a numeric target.
fn mixed_csv(rows: usize, seed: u64) -> String {
    let mut rng = Lcg(seed);
    let mut csv = String::from("x1,x2,color,y\n");
    for i in 0..rows {
        let (a, b) = (rng.unit(), rng.unit());
        let color = ["red", "green", "blue"][rng.below(3)];
        let y = 3.0 * a - 2.0 * b + if color == "red" { 1.0 } else { 0.0 };
        let a = if i % 17 == 3 {
            String::new()
        } else {
            format!("{a:.4}")
        };
        let color = if i % 13 == 5 { "" } else { color };
        let _ = writeln!(csv, "{a},{b:.4},{color},{y:.4}");
    }
    csv
}

/// A daily series `ds,y` from 2020-01-01, `days` days (at most a year) long.
fn series_csv(days: u64) -> String {
    const MONTHS: [u64; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut csv = String::from("ds,y\n");
    let (mut month, mut day) = (0, 0);
    for n in 0..days {
        let _ = writeln!(csv, "2020-{:02}-{:02},{}", month + 1, day + 1, 10 + n % 7);
        day += 1;
        if day == MONTHS[month] {
            (month, day) = (month + 1, 0);
        }
    }
    csv
}

fn done(addr: SocketAddr, path: &str, body: &Value) -> Value {
    let task = submit(addr, path, body.to_string().as_bytes());
    let doc = wait_task(addr, &task);
    assert_eq!(doc["status"], "done", "{path}: {doc}");
    doc
}

/// Every answer that shows what the server made: each task, each data set with its
/// file, each experiment, each model with its download (when it has one).
fn snapshot(addr: SocketAddr, tasks: &[String]) -> Vec<(String, u16, Vec<u8>)> {
    let mut paths: Vec<String> = vec!["/v2/data".into()];
    for task in tasks {
        paths.push(format!("/v2/tasks/{task}"));
        let doc = get_json(addr, &format!("/v2/tasks/{task}"));
        let Some(id) = doc["result"]["_id"].as_str() else {
            continue;
        };
        if doc["result"]["models"].is_array() {
            paths.push(format!("/v2/experiments/{id}"));
            for model in doc["result"]["models"].as_array().unwrap() {
                let model = model.as_str().unwrap();
                paths.push(format!("/v2/experiments/{id}/models/{model}"));
                paths.push(format!("/v2/models/{model}/download"));
            }
        } else {
            paths.push(format!("/v2/data/{id}"));
            paths.push(format!("/v2/data/{id}/file"));
        }
    }
    paths
        .into_iter()
        .map(|path| {
            let answer = call(addr, "GET", &path, b"");
            (path, answer.status, answer.body)
        })
        .collect()
}

#[test]
fn everything_made_answers_the_same_after_a_restart_and_scores_the_same() {
    let dir = fresh_dir("restart");
    let server = start_with(on(&dir));
    let addr = server.addr();
    let mut tasks = Vec::new();
    let mut note = |doc: &Value| tasks.push(doc["_id"].as_str().unwrap().to_owned());

    let upload_task = submit(
        addr,
        "/v2/upload?name=mixed.csv",
        mixed_csv(300, 7).as_bytes(),
    );
    let uploaded = wait_task(addr, &upload_task);
    note(&uploaded);
    let data_id = uploaded["result"]["_id"].as_str().unwrap().to_owned();
    let setup =
        json!({"data_id": data_id, "data_columns": [{"id": "x2", "data_type": "categorical"}]});
    note(&done(addr, "/v2/tasks/setup", &setup));
    let train = json!({"train_data_id": data_id, "target": "y",
                       "algos": ["GLM", "DRF", "GBM", "StackedEnsemble"], "nfold": 2, "max_model": 3});
    let trained = done(addr, "/v2/tasks/train", &train);
    note(&trained);
    let model_id = trained["result"]["models"][0].as_str().unwrap().to_owned();
    let predict = json!({"data_id": data_id, "model_id": model_id});
    let predicted = done(addr, "/v2/tasks/predict", &predict);
    note(&predicted);
    let cluster = json!({"train_data_id": data_id, "k": 2, "features": ["x1", "x2"]});
    let clustered = done(addr, "/v2/tasks/cluster_train", &cluster);
    note(&clustered);
    let series = upload_task_doc(addr, &series_csv(200));
    note(&series);
    let series_id = series["result"]["_id"].as_str().unwrap();
    let ts = json!({
        "build_spec": {"algos": ["GLM"], "nfold": 2,
                       "genetic_algorithm": {"max_iteration": 1, "generation_size": 1}},
        "input_spec": {"train_data_id": series_id, "target": "y", "datetime_column": "ds",
                       "forecast_horizon": 3, "gap": 0, "max_window_for_feature_derivation": 7}
    });
    let forecast_exp = done(addr, "/v2/tasks/auto_ts/train", &ts);
    note(&forecast_exp);
    let deleted = upload(addr, "a,b\n1,2\n");
    assert_eq!(
        call(addr, "DELETE", &format!("/v2/data/{deleted}"), b"").status,
        200
    );

    let before = snapshot(addr, &tasks);
    // A long search, still running when the server stops.
    let long = json!({"train_data_id": data_id, "target": "y", "algos": ["GBM", "DRF"],
                      "nfold": 5, "max_model": 200});
    let interrupted = submit(addr, "/v2/tasks/train", long.to_string().as_bytes());
    wait_status(addr, &interrupted, "running");
    server.shutdown();

    let server = start_with(on(&dir));
    let addr = server.addr();
    let after = snapshot(addr, &tasks);
    for ((path, status, body), (_, status2, body2)) in before.iter().zip(&after) {
        assert_eq!(
            (status, String::from_utf8_lossy(body)),
            (status2, String::from_utf8_lossy(body2)),
            "GET {path} changed across the restart"
        );
    }
    assert_eq!(
        call(addr, "GET", &format!("/v2/data/{deleted}"), b"").status,
        404
    );
    let ended = get_json(addr, &format!("/v2/tasks/{interrupted}"));
    assert_eq!(
        (&ended["status"], &ended["progress_message"]),
        (
            &json!("fail"),
            &json!("the server restarted during this task")
        ),
        "{ended}"
    );
    // The restored models score exactly as before, and new work goes on.
    let again = done(addr, "/v2/tasks/predict", &predict);
    let file = |doc: &Value| {
        let id = doc["result"]["_id"].as_str().unwrap();
        call(addr, "GET", &format!("/v2/data/{id}/file"), b"").body
    };
    assert_eq!(
        file(&again),
        file(&predicted),
        "predictions differ after the restart"
    );
    let forecast_model = forecast_exp["result"]["models"][0].as_str().unwrap();
    let forecast = json!({"data_id": series_id, "model_id": forecast_model});
    done(addr, "/v2/tasks/auto_ts/predict", &forecast);
    let cluster_model = clustered["result"]["models"][0].as_str().unwrap();
    done(
        addr,
        "/v2/tasks/predict",
        &json!({"data_id": data_id, "model_id": cluster_model}),
    );
    server.shutdown();
}

fn upload_task_doc(addr: SocketAddr, csv: &str) -> Value {
    let task = submit(addr, "/v2/upload", csv.as_bytes());
    let doc = wait_task(addr, &task);
    assert_eq!(doc["status"], "done", "{doc}");
    doc
}

#[test]
fn a_second_server_on_the_same_directory_is_refused_until_the_first_stops() {
    let dir = fresh_dir("owner");
    let first = start_with(on(&dir));
    let mut config = ServerConfig::new(USER, PASSWORD);
    config.data_dir = Some(dir.clone());
    let err = taskloop::automl::serve(config.clone()).expect_err("a second owner");
    let message = err.to_string();
    assert!(
        message.contains("in use by another automl-server"),
        "{message}"
    );
    assert!(message.contains(&dir.display().to_string()), "{message}");
    first.shutdown();
    let second = taskloop::automl::serve(config).expect("the directory is free again");
    second.shutdown();
}

#[test]
fn a_directory_of_another_format_version_is_refused_naming_both_versions() {
    let dir = fresh_dir("version");
    start_with(on(&dir)).shutdown();
    let db = rusqlite::Connection::open(dir.join("taskloop.db")).unwrap();
    db.execute(
        "UPDATE meta SET value = '99' WHERE key = 'format_version'",
        [],
    )
    .unwrap();
    drop(db);
    let mut config = ServerConfig::new(USER, PASSWORD);
    config.data_dir = Some(dir.clone());
    let message = taskloop::automl::serve(config)
        .expect_err("version 99")
        .to_string();
    assert!(
        message.contains("format version 99") && message.contains("format version 1"),
        "{message}"
    );
}

#[test]
fn a_full_disk_budget_refuses_uploads_with_507_loses_nothing_and_recovers() {
    let dir = fresh_dir("budget");
    let csv = mixed_csv(20_000, 3); // about 600 KB
    let server = start_with(|config| {
        config.data_dir = Some(dir.clone());
        config.limits.max_disk = Some(4 << 20);
    });
    let addr = server.addr();
    let mut kept = Vec::new();
    let refused = loop {
        let answer = call(addr, "POST", "/v2/upload", csv.as_bytes());
        if answer.status != 200 {
            break answer;
        }
        let task = answer.json()["_id"].as_str().unwrap().to_owned();
        let doc = wait_task(addr, &task);
        match doc["status"].as_str() {
            Some("done") => kept.push(doc["result"]["_id"].as_str().unwrap().to_owned()),
            // Accepted by the estimate, refused when the file was written.
            _ => {
                let message = doc["progress_message"].as_str().unwrap();
                assert!(message.contains("data directory is full"), "{doc}");
                continue;
            }
        }
        assert!(
            kept.len() < 20,
            "a 4 MiB budget took {} uploads",
            kept.len()
        );
    };
    assert_eq!(refused.status, 507, "{}", refused.text());
    assert!(refused.error().contains("--max-disk"), "{}", refused.text());
    assert!(kept.len() >= 2, "{kept:?}");
    let status = get_json(addr, "/v2/worker/status");
    let used = status["disk"]["used_bytes"].as_u64().unwrap();
    assert_eq!(status["disk"]["max_bytes"], json!(4 << 20));
    assert!(used > 1 << 20, "{status}");
    for id in &kept {
        let file = call(addr, "GET", &format!("/v2/data/{id}/file"), b"");
        assert_eq!(file.body, csv.as_bytes(), "data set {id} was damaged");
    }
    // Deleting frees the space: the next upload is stored.
    let freed = kept.pop().unwrap();
    assert_eq!(
        call(addr, "DELETE", &format!("/v2/data/{freed}"), b"").status,
        200
    );
    let after = get_json(addr, "/v2/worker/status")["disk"]["used_bytes"]
        .as_u64()
        .unwrap();
    assert!(after < used, "{after} >= {used}");
    kept.push(upload(addr, &csv));
    server.shutdown();
    let server = start_with(on(&dir));
    for id in &kept {
        let file = call(server.addr(), "GET", &format!("/v2/data/{id}/file"), b"");
        assert_eq!(
            file.body,
            csv.as_bytes(),
            "data set {id} lost at the restart"
        );
    }
    server.shutdown();
}
