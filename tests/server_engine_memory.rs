//! The engine's working memory is bounded (issue 19, items 1 and 3), measured on a
//! separate `automl-server` process through `/proc/PID/status`:
//!
//! - a DRF trained on 300 rows of wide categorical data scores a large forecast in
//!   chunks of rows: it used to encode the whole forecast as one dense matrix (rows ×
//!   one-hot width × 8 bytes; a 17 MiB forecast took the server to 2.3 GiB);
//! - a GLM train whose Gram matrix would not fit the memory ceiling ends `fail` saying
//!   what it needed and the limit, before it allocates (it used to allocate it);
//! - uploads with very long column names, each deleted at once, leave the server's
//!   memory flat (ended tasks used to keep each upload's document for ever);
//! - a forecast train whose samples would not fit fails before it builds them.

#![cfg(all(feature = "server", feature = "signal", target_os = "linux"))]

mod server_util;

use std::fmt::Write as _;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use server_util::{call, get_json, is_terminal, submit, upload, wait_task, Lcg, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_automl-server");
const MIB: u64 = 1024;

/// The server process.
type Server = ServerProcess;

/// A CSV of `rows` rows of `columns` categorical columns, each with 40 levels, and a
/// numeric target `y`.
fn categorical_csv(rows: usize, columns: usize, seed: u64) -> String {
    let mut rng = Lcg(seed);
    let names: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
    let mut csv = format!("{},y\n", names.join(","));
    for _ in 0..rows {
        let mut y = 0.0;
        for c in 0..columns {
            let level = rng.below(40);
            y += (level % 7) as f64 * (c % 3) as f64;
            let _ = write!(csv, "L{level},");
        }
        let _ = writeln!(csv, "{y}");
    }
    csv
}

/// Polls task `id` until it ends, failing as soon as the server's peak RSS passes
/// `bound_kib` (so the old code fails fast rather than running for minutes).
fn wait_within(server: &Server, id: &str, bound_kib: u64) -> Value {
    let start = Instant::now();
    loop {
        let doc = get_json(server.addr, &format!("/v2/tasks/{id}"));
        let peak = server.kib("VmHWM:");
        assert!(
            peak < bound_kib,
            "peak RSS {} MiB passed {} MiB while task {id} was {}",
            peak / MIB,
            bound_kib / MIB,
            doc["status"]
        );
        if is_terminal(doc["status"].as_str().unwrap_or("")) {
            return doc;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "stuck: {doc}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// 120,000 forecast rows × a one-hot width of 24 × 32 = 768 used to be one 737 MB
/// matrix; in chunks the predict adds a few tens of MiB to what the data takes.
#[test]
fn a_large_categorical_forecast_is_scored_in_chunks() {
    let server = Server::start(BIN, &["--max-memory", "2G", "--workers", "1"]);
    let addr = server.addr;
    let train_id = upload(addr, &categorical_csv(300, 24, 1));
    let spec = json!({"train_data_id": train_id, "target": "y", "algos": ["DRF"], "nfold": 2});
    let done = wait_task(
        addr,
        &submit(addr, "/v2/tasks/train", spec.to_string().as_bytes()),
    );
    assert_eq!(done["status"], "done", "{done}");
    let experiment = get_json(
        addr,
        &format!(
            "/v2/experiments/{}",
            done["result"]["_id"].as_str().unwrap()
        ),
    );
    let model_id = experiment["models"][0].as_str().unwrap().to_owned();
    let forecast = categorical_csv(120_000, 24, 2);
    let forecast_id = upload(addr, &forecast);
    drop(forecast);
    let before = server.kib("VmHWM:");
    let spec = json!({"data_id": forecast_id, "model_id": model_id});
    let task = submit(addr, "/v2/tasks/predict", spec.to_string().as_bytes());
    let bound = before + 300 * MIB;
    let doc = wait_within(&server, &task, bound);
    let peak = server.kib("VmHWM:");
    eprintln!(
        "peak RSS before the predict {} MiB, after {} MiB",
        before / MIB,
        peak / MIB
    );
    assert_eq!(doc["status"], "done", "{doc}");
    let predictions = get_json(
        addr,
        &format!("/v2/data/{}", doc["result"]["_id"].as_str().unwrap()),
    );
    assert_eq!(predictions["rows"], 120_000);
}

/// 7,000 rows of 200 categorical columns encode 200 × 40 = 8,000 wide: the dense
/// matrix alone is 7,000 × 8,000 × 8 bytes = 448 MB, over the 384 MiB budget of a
/// 512 MiB ceiling. (The GLM used to need a 6,401² Gram matrix on 2,000 rows; it has
/// none now, so the matrix is what must not fit.)
#[test]
fn a_glm_on_a_wide_one_hot_upload_fails_before_it_allocates() {
    let server = Server::start(BIN, &["--max-memory", "512M", "--workers", "1"]);
    let addr = server.addr;
    let data_id = upload(addr, &categorical_csv(7000, 200, 3));
    let spec = json!({"train_data_id": data_id, "target": "y", "algos": ["GLM"], "nfold": 2});
    let task = submit(addr, "/v2/tasks/train", spec.to_string().as_bytes());
    let doc = wait_within(&server, &task, 150 * MIB);
    eprintln!("{doc}; peak RSS {} MiB", server.kib("VmHWM:") / MIB);
    assert_eq!(doc["status"], "fail", "{doc}");
    let message = doc["progress_message"].as_str().unwrap();
    assert!(
        message.contains("needs about") && message.contains("384.0 MiB"),
        "the message says what it needed and the limit: {message}"
    );
    // The server still trains what fits.
    let small = upload(addr, &categorical_csv(200, 3, 4));
    let spec = json!({"train_data_id": small, "target": "y", "algos": ["GLM"], "nfold": 2});
    let done = wait_task(
        addr,
        &submit(addr, "/v2/tasks/train", spec.to_string().as_bytes()),
    );
    assert_eq!(done["status"], "done", "{done}");
}

/// A forecast train whose samples (rows × horizon steps × features) would not fit the
/// ceiling ends `fail` in words before it builds them, and the server stays small.
#[test]
fn a_forecast_train_that_would_not_fit_fails_before_it_allocates() {
    let server = Server::start(BIN, &["--max-memory", "256M", "--workers", "1"]);
    let addr = server.addr;
    let mut csv = String::from("ds,y\n");
    for day in 0..6_000u64 {
        // consecutive days from 1900-01-01 on, a weekly wave
        let (y, m, d) = civil(day);
        let _ = writeln!(csv, "{y:04}-{m:02}-{d:02},{}", 10 + day % 7);
    }
    let data_id = upload(addr, &csv);
    let body = json!({
        "build_spec": {"algos": ["GLM"], "nfold": 2,
                       "genetic_algorithm": {"max_iteration": 1, "generation_size": 1}},
        "input_spec": {"train_data_id": data_id, "target": "y", "datetime_column": "ds",
                       "forecast_horizon": 30, "gap": 0,
                       "max_window_for_feature_derivation": 60}
    });
    let task = submit(addr, "/v2/tasks/auto_ts/train", body.to_string().as_bytes());
    let doc = wait_within(&server, &task, 150 * MIB);
    eprintln!("{doc}; peak RSS {} MiB", server.kib("VmHWM:") / MIB);
    assert_eq!(doc["status"], "fail", "{doc}");
    let message = doc["progress_message"].as_str().unwrap();
    assert!(
        message.contains("needs about") && message.contains("forecast"),
        "{message}"
    );
}

/// Year, month and day of `days` after 1900-01-01 (a proleptic Gregorian count).
fn civil(days: u64) -> (u64, u64, u64) {
    let (mut y, mut left) = (1900u64, days);
    loop {
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let len = if leap { 366 } else { 365 };
        if left < len {
            let months = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            let mut m = 0;
            while left >= months[m] {
                left -= months[m];
                m += 1;
            }
            return (y, m as u64 + 1, left + 1);
        }
        left -= len;
        y += 1;
    }
}

/// 16 uploads of 160 columns with 50,000-byte names (8 MB each), each deleted at once:
/// the server's RSS after the last stays within 64 MiB of what it was after the second
/// (the old code grew 15 MiB a round, 266 MiB in all).
#[test]
fn uploads_with_long_column_names_deleted_at_once_leave_memory_flat() {
    let server = Server::start(BIN, &["--max-memory", "2G", "--workers", "1"]);
    let addr = server.addr;
    let mut rss = Vec::new();
    for round in 0..16u8 {
        let names: Vec<String> = (0..160)
            .map(|i| format!("r{round}c{i}_{}", "n".repeat(50_000)))
            .collect();
        let csv = format!("{}\n{}\n", names.join(","), vec!["1"; 160].join(","));
        let id = upload(addr, &csv);
        let answer = call(addr, "DELETE", &format!("/v2/data/{id}"), b"");
        assert_eq!(answer.status, 200, "{}", answer.text());
        rss.push(server.kib("VmRSS:"));
    }
    // From the second round on: the first one warms the allocator's pools up.
    let growth = rss[rss.len() - 1].saturating_sub(rss[1]);
    eprintln!(
        "RSS after each upload and delete (MiB): {:?}",
        rss.iter().map(|k| k / MIB).collect::<Vec<_>>()
    );
    assert!(growth < 64 * MIB, "RSS grew {} MiB", growth / MIB);
}
