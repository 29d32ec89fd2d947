//! Scoring anywhere: a model downloaded from the server (`GET /v2/models/{id}/download`)
//! and loaded from its file with `Model::load` predicts exactly what the server predicts
//! (the same prediction and class probabilities, bit for bit) for every algorithm and
//! model type, on data with missing values in numerical and categorical features and
//! category levels the training never saw. A file of another format version, a
//! truncated file and a missing path are refused in words that name the problem.

#![cfg(feature = "server")]

mod server_util;

use std::collections::BTreeSet;
use std::fs;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use server_util::*;
use taskloop::automl::{
    parse_csv, ColumnData, CsvLimits, Frame, Model, ModelFormatError, MODEL_FORMAT_VERSION,
};

/// A directory of its own under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("taskloop-{name}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// What a data set's target is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Task {
    Regression,
    Binary,
    Multiclass,
}

impl Task {
    fn target(self) -> &'static str {
        match self {
            Task::Regression => "y",
            Task::Binary => "label",
            Task::Multiclass => "kind",
        }
    }

    /// The target's text for a row whose signal is `s`.
    fn label(self, s: f64) -> String {
        match self {
            Task::Regression => format!("{s:.4}"),
            Task::Binary => (if s > 4.0 { "yes" } else { "no" }).to_owned(),
            Task::Multiclass => (if s < 2.5 {
                "low"
            } else if s < 5.5 {
                "mid"
            } else {
                "high"
            })
            .to_owned(),
        }
    }
}

const COLOURS: [(&str, f64); 4] = [("red", 0.0), ("green", 1.5), ("blue", -1.5), ("amber", 0.5)];
const SIZES: [(&str, f64); 3] = [("S", -1.0), ("M", 0.0), ("L", 1.0)];

/// `rows` rows of `id, num1, num2, colour, size[, target]` from `seed`: about one cell
/// in ten of each feature is empty (missing); with `unseen`, about one colour and one
/// size in ten is a level no training set has (`violet`, `XL`).
fn data_csv(task: Task, rows: usize, seed: u64, unseen: bool, target: bool) -> String {
    let mut rng = Lcg(seed);
    let mut csv = String::from("id,num1,num2,colour,size");
    if target {
        csv.push_str(&format!(",{}", task.target()));
    }
    csv.push('\n');
    for id in 0..rows {
        let num1 = rng.unit() * 10.0;
        let num2 = (rng.unit() - 0.5) * 4.0;
        let (colour, colour_effect) = COLOURS[rng.below(COLOURS.len())];
        let (size, size_effect) = SIZES[rng.below(SIZES.len())];
        let noise = (rng.unit() - 0.5) * 1.5;
        let s = 0.8 * num1 - num2 + colour_effect + size_effect + noise;
        let mut cell =
            |text: String, unseen_level: Option<&str>| match (rng.below(10), unseen_level) {
                (0, _) => String::new(),
                (1, Some(level)) if unseen => level.to_owned(),
                _ => text,
            };
        let fields = [
            id.to_string(),
            cell(format!("{num1:.3}"), None),
            cell(format!("{num2:.3}"), None),
            cell(colour.to_owned(), Some("violet")),
            cell(size.to_owned(), Some("XL")),
        ];
        csv.push_str(&fields.join(","));
        if target {
            csv.push_str(&format!(",{}", task.label(s)));
        }
        csv.push('\n');
    }
    csv
}

/// Trains GLM, DRF and GBM with their defaults, one searched GLM and one searched GBM,
/// and a StackedEnsemble of them, on the features of `data_id`; returns the model ids.
fn train(addr: SocketAddr, data_id: &str, target: &str) -> Vec<String> {
    let spec = json!({"train_data_id": data_id, "target": target,
                      "algos": ["GLM", "DRF", "GBM", "StackedEnsemble"],
                      "features": ["num1", "num2", "colour", "size"],
                      "nfold": 2, "max_model": 5, "seed": 11});
    let task = submit(addr, "/v2/tasks/train", spec.to_string().as_bytes());
    let done = wait_task(addr, &task);
    assert_eq!(done["status"], "done", "{done}");
    let ids = done["result"]["models"].as_array().unwrap().iter();
    ids.map(|m| m.as_str().unwrap().to_owned()).collect()
}

/// The server's predictions file of `model_id` on `data_id`.
fn served_predictions(addr: SocketAddr, data_id: &str, model_id: &str, threshold: Value) -> String {
    let body = json!({"data_id": data_id, "model_id": model_id,
                      "keep_columns": ["id", "colour"], "threshold": threshold});
    let task = submit(addr, "/v2/tasks/predict", body.to_string().as_bytes());
    let done = wait_task(addr, &task);
    assert_eq!(done["status"], "done", "{done}");
    let file = format!("/v2/data/{}/file", done["result"]["_id"].as_str().unwrap());
    let answer = call(addr, "GET", &file, b"");
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.text()
}

/// Downloads `model_id` into a file of `dir`; returns the file's path.
fn download(addr: SocketAddr, model_id: &str, dir: &Path) -> PathBuf {
    let answer = call(addr, "GET", &format!("/v2/models/{model_id}/download"), b"");
    assert_eq!(answer.status, 200, "{}", answer.text());
    let path = dir.join(format!("{model_id}.json"));
    fs::write(&path, &answer.body).unwrap();
    path
}

/// Every cell of `frame`, column by column: a number as its bits (so that NaN, -0 and
/// the last bit count), a label as its text.
fn cells(frame: &Frame) -> Vec<(String, Vec<String>)> {
    let column = |c: &taskloop::automl::Column| {
        let values = match &c.data {
            ColumnData::Numerical(v) => v.iter().map(|x| format!("{:016x}", x.to_bits())).collect(),
            _ => (0..frame.rows())
                .map(|r| format!("{:?}", c.text(r)))
                .collect(),
        };
        (c.name.clone(), values)
    };
    frame.columns().iter().map(column).collect()
}

/// For `task`: trains on 300 rows, scores 120 rows with gaps and unseen levels on the
/// server and offline with each downloaded model, and checks they agree bit for bit.
/// Returns the algorithms of the models checked.
fn offline_scores_like_the_server(addr: SocketAddr, task: Task, seed: u64) -> BTreeSet<String> {
    let dir = TempDir::new(&format!("offline-scoring-{task:?}"));
    let train_id = upload(addr, &data_csv(task, 300, seed, false, true));
    let scored_csv = data_csv(task, 120, seed + 100, true, false);
    assert!(scored_csv.contains(",violet,") && scored_csv.contains(",XL\n"));
    assert!(
        scored_csv.contains(",,"),
        "the scored data has missing values"
    );
    let scored_id = upload(addr, &scored_csv);
    let frame = parse_csv(scored_csv.as_bytes(), &CsvLimits::default()).unwrap();
    // The positive class from a probability of 0.35 on for the binary model.
    let threshold = (task == Task::Binary).then_some(0.35);
    let keep = ["id".to_owned(), "colour".to_owned()];
    let mut algos = BTreeSet::new();
    let model_ids = train(addr, &train_id, task.target());
    assert_eq!(model_ids.len(), 6, "{task:?}: five models and the ensemble");
    for model_id in model_ids {
        let model = Model::load(download(addr, &model_id, dir.path())).unwrap();
        algos.insert(model.algo.to_string());
        let what = format!("{task:?} {} {model_id}", model.algo);
        let local = model.predict(&frame, &keep, threshold).unwrap();
        let mut local_csv = Vec::new();
        local.write_csv(&mut local_csv).unwrap();
        let served = served_predictions(addr, &scored_id, &model_id, json!(threshold));
        assert_same_file(&String::from_utf8(local_csv).unwrap(), &served, &what);
        // The file reads back to the very numbers offline scoring gave: the text
        // comparison above is a comparison of bits.
        let served = parse_csv(served.as_bytes(), &CsvLimits::default()).unwrap();
        assert_eq!(cells(&served), cells(&local), "{what}");
        assert_sensible(&local, task, model.classes(), &what);
    }
    algos
}

/// `local` and `served` are the same text; otherwise says where they first differ.
fn assert_same_file(local: &str, served: &str, what: &str) {
    let mut lines = local.lines().zip(served.lines()).enumerate();
    if let Some((i, (l, s))) = lines.find(|(_, (l, s))| l != s) {
        panic!(
            "{what}: line {} differs\n  offline: {l}\n   server: {s}",
            i + 1
        );
    }
    assert_eq!(local.len(), served.len(), "{what}: one file is longer");
    assert_eq!(local, served, "{what}");
}

/// Every row has a prediction, and a classifier's probabilities sum to 1, unseen levels
/// and missing values included.
fn assert_sensible(predicted: &Frame, task: Task, classes: &[String], what: &str) {
    let prediction = predicted.column("prediction").unwrap();
    assert!(
        (0..predicted.rows()).all(|r| !prediction.is_missing(r)),
        "{what}"
    );
    if task == Task::Regression {
        return;
    }
    for row in 0..predicted.rows() {
        let sum: f64 = classes
            .iter()
            .map(|class| match &predicted.column(class).unwrap().data {
                ColumnData::Numerical(p) => p[row],
                _ => panic!("{what}: class column {class} is not numerical"),
            })
            .sum();
        assert!((sum - 1.0).abs() < 1e-9, "{what}: row {row} sums to {sum}");
    }
}

#[test]
fn downloaded_models_score_offline_exactly_as_the_server_does() {
    let server = start();
    let addr = server.addr();
    let every_algo: BTreeSet<String> = ["DRF", "GBM", "GLM", "StackedEnsemble"]
        .map(str::to_owned)
        .into();
    for (task, seed) in [
        (Task::Regression, 1),
        (Task::Binary, 2),
        (Task::Multiclass, 3),
    ] {
        assert_eq!(
            offline_scores_like_the_server(addr, task, seed),
            every_algo,
            "{task:?}"
        );
    }
}

#[test]
fn other_versions_truncated_files_and_missing_paths_are_refused_in_words() {
    let server = start();
    let addr = server.addr();
    let dir = TempDir::new("offline-scoring-errors");
    let data_id = upload(addr, &data_csv(Task::Binary, 120, 4, false, true));
    let spec = json!({"train_data_id": data_id, "target": "label", "algos": ["GBM"],
                      "features": ["num1", "num2", "colour", "size"], "nfold": 2});
    let task = submit(addr, "/v2/tasks/train", spec.to_string().as_bytes());
    let done = wait_task(addr, &task);
    assert_eq!(done["status"], "done", "{done}");
    let model_id = done["result"]["models"][0].as_str().unwrap();
    let path = download(addr, model_id, dir.path());
    let bytes = fs::read(&path).unwrap();
    assert!(Model::load(&path).is_ok());

    // Another format version: both versions named.
    let mut doc: Value = serde_json::from_slice(&bytes).unwrap();
    let later = MODEL_FORMAT_VERSION + 1;
    doc["version"] = json!(later);
    let other = dir.path().join("later.json");
    fs::write(&other, doc.to_string()).unwrap();
    let err = Model::load(&other).unwrap_err();
    assert_eq!(err, ModelFormatError::Version { found: later });
    let text = err.to_string();
    assert!(
        text.contains(&format!("format version {later}"))
            && text.contains(&format!("reads version {MODEL_FORMAT_VERSION}")),
        "{text}"
    );

    // Truncated, as an interrupted download leaves it.
    let truncated = dir.path().join("truncated.json");
    fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = Model::load(&truncated).unwrap_err();
    assert!(matches!(err, ModelFormatError::NotJson(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("not JSON") && text.contains("ends too early"),
        "{text}"
    );
    let empty = dir.path().join("empty.json");
    fs::write(&empty, b"").unwrap();
    let text = Model::load(&empty).unwrap_err().to_string();
    assert!(text.contains("empty"), "{text}");

    // No such file: the path and the operating system's words.
    let missing = dir.path().join("no-such-model.json");
    let err = Model::load(&missing).unwrap_err();
    assert!(
        matches!(&err, ModelFormatError::Io { path, kind: ErrorKind::NotFound, .. } if *path == missing),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&missing.display().to_string()) && text.contains("No such file"),
        "{text}"
    );
    // A directory is not a model file either.
    let text = Model::load(dir.path()).unwrap_err().to_string();
    assert!(
        text.contains("could not read the model file")
            && text.contains(&dir.path().display().to_string()),
        "{text}"
    );
}
