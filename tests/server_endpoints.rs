//! The endpoints beyond the task flow: a model downloads as a portable document that
//! loads here and scores bit for bit like the server; the worker count; the paged data
//! and task lists (newest first) beside the id endpoints under them; batch predict with
//! its bounds; the `schema` of a data document; and prediction files that name class
//! probability columns by the label and carry the target.

#![cfg(feature = "server")]

mod server_util;

use std::net::SocketAddr;

use serde_json::{json, Value};
use server_util::*;
use taskloop::automl::{parse_csv, CsvLimits, ModelFormatError, TrainedModel};

/// 150 rows of `x, z, kind` with three classes by ranges of `x`.
fn three_class_csv(seed: u64) -> String {
    let mut rng = Lcg(seed);
    let mut csv = String::from("x,z,kind\n");
    for _ in 0..150 {
        let (x, z) = (rng.unit() * 3.0, rng.unit());
        let kind = ["low", "mid", "high"][(x as usize).min(2)];
        csv.push_str(&format!("{x:.4},{z:.4},{kind}\n"));
    }
    csv
}

/// Trains GLM, DRF and GBM on `data_id`; returns the experiment.
fn train_all(addr: SocketAddr, data_id: &str, target: &str) -> Value {
    let spec = json!({"train_data_id": data_id, "target": target,
                      "algos": ["GLM", "DRF", "GBM"], "nfold": 2});
    let task = submit(addr, "/v2/tasks/train", spec.to_string().as_bytes());
    let done = wait_task(addr, &task);
    assert_eq!(done["status"], "done", "{done}");
    done["result"].clone()
}

/// The predictions file of `model_id` on `data_id`.
fn server_predictions(addr: SocketAddr, data_id: &str, model_id: &str) -> String {
    let body = json!({"data_id": data_id, "model_id": model_id});
    let task = submit(addr, "/v2/tasks/predict", body.to_string().as_bytes());
    let done = wait_task(addr, &task);
    assert_eq!(done["status"], "done", "{done}");
    let file = format!("/v2/data/{}/file", done["result"]["_id"].as_str().unwrap());
    call(addr, "GET", &file, b"").text()
}

fn model_ids(experiment: &Value) -> Vec<String> {
    let ids = experiment["models"].as_array().unwrap().iter();
    ids.map(|m| m.as_str().unwrap().to_owned()).collect()
}

#[test]
fn downloaded_models_reload_and_score_bit_for_bit_like_the_server() {
    let server = start();
    let addr = server.addr();
    let cases = [
        (regression_csv(120, 1), "y", "regression", "y,prediction\n"),
        (
            binary_csv(120, 2),
            "label",
            "binary classification",
            "label,prediction,no,yes\n",
        ),
        (
            three_class_csv(3),
            "kind",
            "multinomial classification",
            "kind,prediction,high,low,mid\n",
        ),
    ];
    for (csv, target, model_type, header) in cases {
        let data_id = upload(addr, &csv);
        let experiment = train_all(addr, &data_id, target);
        let frame = parse_csv(csv.as_bytes(), &CsvLimits::default()).unwrap();
        for model_id in model_ids(&experiment) {
            let answer = call(addr, "GET", &format!("/v2/models/{model_id}/download"), b"");
            assert_eq!(answer.status, 200, "{}", answer.text());
            assert_eq!(answer.header("content-type"), Some("application/json"));
            let disposition = answer.header("content-disposition").unwrap();
            assert!(
                disposition.contains(&format!("{model_id}.json")),
                "{disposition}"
            );
            let doc = answer.json();
            assert_eq!(
                (doc["format"].as_str(), doc["version"].as_u64()),
                (Some("taskloop-model"), Some(2))
            );
            assert_eq!(doc["model_type"], model_type);
            let model = TrainedModel::from_portable(&answer.body).unwrap();
            assert_eq!(model.target(), target);
            let mut local = Vec::new();
            model
                .predict(&frame, &[], None)
                .unwrap()
                .write_csv(&mut local)
                .unwrap();
            let served = server_predictions(addr, &data_id, &model_id);
            assert!(served.starts_with(header), "{model_type}: {served:.80}");
            assert_eq!(
                String::from_utf8(local).unwrap(),
                served,
                "{model_type} {model_id}"
            );
        }
    }
}

#[test]
fn downloads_of_unknown_models_are_refused_and_versions_are_checked() {
    let server = start();
    let addr = server.addr();
    let missing = call(
        addr,
        "GET",
        "/v2/models/5f0000000000000000000000/download",
        b"",
    );
    assert_eq!(missing.status, 404);
    assert!(
        missing.error().contains("no model with id"),
        "{}",
        missing.error()
    );
    assert_eq!(call(addr, "POST", "/v2/models/m/download", b"").status, 405);
    let data_id = upload(addr, &regression_csv(60, 4));
    let experiment = train_all(addr, &data_id, "y");
    let model_id = &model_ids(&experiment)[0];
    let answer = call(addr, "GET", &format!("/v2/models/{model_id}/download"), b"");
    let mut doc = answer.json();
    doc["version"] = json!(7);
    let err = TrainedModel::from_portable(doc.to_string().as_bytes()).unwrap_err();
    assert_eq!(err, ModelFormatError::Version { found: 7 });
    let text = err.to_string();
    assert!(
        text.contains("version 7") && text.contains("version 2"),
        "{text}"
    );
    // A k-means model has no portable form: refused in words, for download and for
    // batch scoring alike.
    let spec = json!({"train_data_id": data_id, "k": 2, "features": ["x1", "x2"]});
    let task = submit(addr, "/v2/tasks/cluster_train", spec.to_string().as_bytes());
    let done = wait_task(addr, &task);
    assert_eq!(done["status"], "done", "{done}");
    let cluster_model = done["result"]["models"][0].as_str().unwrap();
    let refused = call(
        addr,
        "GET",
        &format!("/v2/models/{cluster_model}/download"),
        b"",
    );
    assert_eq!(refused.status, 400);
    assert!(
        refused.error().contains("cannot be downloaded"),
        "{}",
        refused.error()
    );
    let batch = post_json(
        addr,
        &format!("/v2/models/{cluster_model}/batch_predict"),
        &json!({"featuresList": [{"x1": 1.0, "x2": 2.0}]}),
    );
    assert_eq!(batch.status, 400, "{}", batch.text());
    assert_alive(addr);
}

#[test]
fn worker_count_says_how_many_workers_and_what_they_do() {
    let server = start_with(|c| c.workers = 3);
    let doc = get_json(server.addr(), "/v2/worker/count");
    assert_eq!(doc["count"], 3, "{doc}");
    assert_eq!(
        doc["busy"].as_u64().unwrap() + doc["idle"].as_u64().unwrap(),
        3
    );
    assert_eq!(doc["pending"], 0);
}

#[test]
fn data_and_task_lists_are_paged_newest_first() {
    let server = start();
    let addr = server.addr();
    let ids: Vec<String> = (0..3)
        .map(|i| upload(addr, &regression_csv(10, i)))
        .collect();
    for list in ["/v2/data", "/data"] {
        let page = get_json(addr, &format!("{list}?limit=2"));
        assert_eq!(
            (
                page["total"].as_u64(),
                page["offset"].as_u64(),
                page["limit"].as_u64()
            ),
            (Some(3), Some(0), Some(2))
        );
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["_id"], ids[2].as_str());
        assert_eq!(items[1]["_id"], ids[1].as_str());
        assert_eq!(items[0], get_json(addr, &format!("/v2/data/{}", ids[2])));
        let rest = get_json(addr, &format!("{list}?offset=2&limit=2"));
        assert_eq!(rest["items"][0]["_id"], ids[0].as_str());
        assert_eq!(rest["items"].as_array().unwrap().len(), 1);
        assert_eq!(
            get_json(addr, &format!("{list}?offset=10"))["items"],
            json!([])
        );
    }
    for list in ["/v2/tasks", "/tasks"] {
        let page = get_json(addr, list);
        assert_eq!(page["total"], 3);
        assert_eq!(page["limit"], 50);
        let items = page["items"].as_array().unwrap();
        let id = items[0]["_id"].as_str().unwrap();
        // The entry is the task's document with its result as a reference.
        let mut whole = get_json(addr, &format!("/v2/tasks/{id}"));
        assert_eq!(whole["result"]["rows"], 10);
        whole["result"] = json!({"_id": whole["result"]["_id"]});
        assert_eq!(items[0], whole);
        assert_eq!(items[0]["result"]["_id"], ids[2].as_str(), "newest first");
        assert_eq!(items[2]["result"]["_id"], ids[0].as_str());
    }
    for bad in [
        "limit=0",
        "limit=501",
        "limit=ten",
        "offset=-1",
        "offset=1e3",
    ] {
        for list in ["/v2/data", "/tasks"] {
            let answer = call(addr, "GET", &format!("{list}?{bad}"), b"");
            assert_eq!(answer.status, 400, "{list}?{bad}");
            let name = bad.split('=').next().unwrap();
            assert!(
                answer.error().contains(&format!("'{name}'")),
                "{}",
                answer.error()
            );
        }
    }
    assert_eq!(call(addr, "POST", "/v2/data", b"").status, 405);
}

#[test]
fn data_documents_carry_a_schema_consistent_with_their_columns() {
    let server = start();
    let addr = server.addr();
    let id = upload(addr, "n,c\n1,a\n2.5,b\n,a\n");
    let doc = get_json(addr, &format!("/v2/data/{id}"));
    assert_eq!(
        doc["schema"],
        json!({"size": 3, "columns": [
            {"id": "n", "data_type": "numerical", "metadata": {"dtype": "double"}},
            {"id": "c", "data_type": "categorical", "metadata": {"dtype": "string"}},
        ]})
    );
    let types = |d: &Value, key: &str| -> Vec<(String, String)> {
        d[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].to_string(), c["data_type"].to_string()))
            .collect()
    };
    assert_eq!(types(&doc, "columns"), types(&doc["schema"], "columns"));
}

/// The rows of a `a,b,label` CSV as batch-predict records (features only).
fn records(csv: &str) -> Vec<Value> {
    let rows = csv.lines().skip(1).map(|line| {
        let cells: Vec<f64> = line
            .split(',')
            .take(2)
            .map(|c| c.parse().unwrap())
            .collect();
        json!({"a": cells[0], "b": cells[1]})
    });
    rows.collect()
}

#[test]
fn batch_predict_scores_records_like_the_predictions_file() {
    let server = start();
    let addr = server.addr();
    let csv = binary_csv(80, 5);
    let data_id = upload(addr, &csv);
    let experiment = train_all(addr, &data_id, "label");
    let model_id = &model_ids(&experiment)[2];
    let file = server_predictions(addr, &data_id, model_id);
    let path = format!("/v2/models/{model_id}/batch_predict");
    let answer = post_json(
        addr,
        &path,
        &json!({"featuresList": records(&csv), "version": "v2",
                                                "timestamp_format": "yyyy-MM-dd HH:mm:ss"}),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answers = answer.json();
    let answers = answers.as_array().unwrap();
    assert_eq!(answers.len(), 80);
    for (i, (got, line)) in answers.iter().zip(file.lines().skip(1)).enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(
            (got["index"].as_u64(), got["predict_status"].as_str()),
            (Some(i as u64), Some("success"))
        );
        let result = &got["result"];
        assert_eq!(result["prediction"], cells[1], "row {i}");
        for (k, class) in ["no", "yes"].iter().enumerate() {
            let want: f64 = cells[2 + k].parse().unwrap();
            assert_eq!(result[class].as_f64(), Some(want), "row {i} {class}");
            assert_eq!(got["probabilities"][class].as_f64(), Some(want));
        }
    }
    let odd = json!({"featuresList": [{}, {"a": "many", "b": 0.5}, [1, 2], {"a": {"x": 1}}, {"a": 0.9, "b": 0.9, "extra": "x"}],
                     "threshold": 0.0});
    let answers = post_json(addr, &path, &odd).json();
    assert_eq!(answers[0]["predict_status"], "success", "{answers}");
    assert_eq!(answers[0]["result"]["prediction"], "yes", "threshold 0");
    assert_eq!(answers[1]["predict_status"], "fail");
    assert!(
        answers[1]["error"].as_str().unwrap().contains("'a'"),
        "{answers}"
    );
    assert!(
        answers[2]["error"].as_str().unwrap().contains("object"),
        "{answers}"
    );
    assert!(
        answers[3]["error"].as_str().unwrap().contains("field 'a'"),
        "{answers}"
    );
    assert_eq!(answers[4]["predict_status"], "success");
}

#[test]
fn batch_predict_answers_numbers_for_regression_and_refuses_bad_requests() {
    let server = start();
    let addr = server.addr();
    let data_id = upload(addr, &regression_csv(60, 6));
    let model_id = model_ids(&train_all(addr, &data_id, "y"))[0].clone();
    let path = format!("/v2/models/{model_id}/batch_predict");
    let answers = post_json(
        addr,
        &path,
        &json!({"featuresList": [{"x1": 1.0, "x2": 2.0}]}),
    )
    .json();
    let prediction = answers[0]["result"]["prediction"].as_f64().unwrap();
    assert!((prediction - (3.0 - 4.0)).abs() < 0.5, "{answers}");
    assert!(answers[0].get("probabilities").is_none());
    let status = |body: &[u8]| {
        let answer = call(addr, "POST", &path, body);
        (answer.status, answer.error())
    };
    let (code, message) = status(br#"{"threshold": 0.5}"#);
    assert!(code == 400 && message.contains("featuresList"), "{message}");
    let (code, message) = status(br#"{"featuresList": {"x1": 1}}"#);
    assert!(code == 400 && message.contains("featuresList"), "{message}");
    let (code, message) = status(br#"{"featuresList": [], "threshold": 2}"#);
    assert!(code == 400 && message.contains("threshold"), "{message}");
    assert_eq!(status(b"[1]").0, 400);
    let many = json!({"featuresList": vec![json!({}); 1001]});
    let (code, message) = status(many.to_string().as_bytes());
    assert!(code == 413 && message.contains("1000"), "{message}");
    let big = json!({"featuresList": [{"x1": "x".repeat(1 << 20)}]});
    let (code, message) = status(big.to_string().as_bytes());
    assert!(code == 413 && message.contains("bytes"), "{message}");
    assert_eq!(
        post_json(addr, &path, &json!({"featuresList": []})).json(),
        json!([])
    );
    let unknown = post_json(
        addr,
        "/v2/models/5f0000000000000000000000/batch_predict",
        &json!({"featuresList": []}),
    );
    assert_eq!(unknown.status, 404);
    assert_alive(addr);
}

#[cfg(feature = "client")]
#[test]
fn the_client_downloads_a_model_that_scores_like_the_server() {
    use taskloop::automl::{AutomlError, Context};
    let server = start();
    let addr = server.addr();
    let csv = binary_csv(100, 8);
    let data_id = upload(addr, &csv);
    let model_id = model_ids(&train_all(addr, &data_id, "label"))[1].clone();
    let ctx = Context::connect(&server.url(), USER, PASSWORD).unwrap();
    let model = ctx.download_model(&model_id).unwrap();
    assert_eq!(model.classes(), ["no", "yes"]);
    let frame = parse_csv(csv.as_bytes(), &CsvLimits::default()).unwrap();
    let mut local = Vec::new();
    let keep = ["a".to_owned()];
    model
        .predict(&frame, &keep, None)
        .unwrap()
        .write_csv(&mut local)
        .unwrap();
    let body = json!({"data_id": data_id, "model_id": model_id, "keep_columns": ["a"]});
    let task = submit(addr, "/v2/tasks/predict", body.to_string().as_bytes());
    let done = wait_task(addr, &task);
    let file = format!("/v2/data/{}/file", done["result"]["_id"].as_str().unwrap());
    let served = call(addr, "GET", &file, b"").text();
    assert!(
        served.starts_with("a,label,prediction,no,yes\n"),
        "{served:.60}"
    );
    assert_eq!(String::from_utf8(local).unwrap(), served);
    let missing = ctx.download_model("5f0000000000000000000000").unwrap_err();
    assert!(
        missing.to_string().contains("no model with id"),
        "{missing}"
    );
    let bad = ctx.download_model("../data").unwrap_err();
    assert!(matches!(bad, AutomlError::Protocol { .. }), "{bad}");
}
