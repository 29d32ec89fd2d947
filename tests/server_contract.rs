//! The server speaks the contract the real Decanter SDK needs: 24-hex ids, data objects
//! with `data_name` and `accessor`, the whole experiment as the train result, a `models`
//! list, every metric of the model type with undefined ones left out, one
//! recommendation per metric, the model endpoint, setup, info, and everything the SDK
//! sends (multipart parts typed `text/plain(UTF-8)`, full-path file names, `user: sdk`,
//! `?eda=true`, `null` fields, an empty stop body with a stray content type).

#![cfg(feature = "server")]

mod server_util;

use std::net::SocketAddr;

use serde_json::{json, Value};
use server_util::*;

fn is_id(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 24 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// Uploads `csv` as the SDK does: a multipart form whose `csv` part is typed
/// `text/plain(UTF-8)` and named by the file's full path, with `user: sdk` and
/// `?eda=true`. Returns the finished task.
fn sdk_upload(addr: SocketAddr, path: &str, csv: &str) -> Value {
    let body = format!(
        "--b0undary\r\nContent-Disposition: form-data; name=\"csv\"; filename=\"{path}\"\r\n\
         Content-Type: text/plain(UTF-8)\r\n\r\n{csv}\r\n--b0undary--\r\n"
    );
    let headers = [
        ("Authorization", AUTH),
        ("user", "sdk"),
        ("Content-Type", "multipart/form-data; boundary=b0undary"),
    ];
    let answer = request(
        addr,
        "POST",
        "/v2/upload?eda=true",
        &headers,
        body.as_bytes(),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let task = answer.json()["_id"].clone();
    assert!(is_id(&task), "task id {task}");
    let done = wait_task(addr, task.as_str().unwrap());
    assert_eq!(done["status"], "done", "{done}");
    done
}

fn train(addr: SocketAddr, spec: &Value) -> Value {
    let task = submit(addr, "/v2/tasks/train", spec.to_string().as_bytes());
    let done = wait_task(addr, &task);
    assert_eq!(done["status"], "done", "{done}");
    done["result"].clone()
}

#[test]
fn uploads_are_data_objects_named_by_the_files_base_name() {
    let server = start();
    let addr = server.addr();
    let done = sdk_upload(addr, "/home/ana/data/train set.csv", &regression_csv(40, 1));
    let data = &done["result"];
    assert!(is_id(&data["_id"]), "{data}");
    assert_eq!(data["data_name"], "train set.csv");
    assert!(
        data.get("name").is_none(),
        "a 'name' key would rename SDK jobs"
    );
    assert_eq!(data["rows"], 40);
    assert_eq!(data["accessor"]["format"], "csv");
    assert!(data["accessor"]["uri"].is_string());
    assert!(data["created_at"].is_number());
    let id = data["_id"].as_str().unwrap();
    assert_eq!(get_json(addr, &format!("/v2/data/{id}")), *data);
    assert_eq!(get_json(addr, &format!("/data/{id}")), *data);
    // The SDK's multipart encoder (urllib3) doubles backslashes in a file name.
    let windows = sdk_upload(addr, "C:\\\\Users\\\\ana\\\\t.csv", "a\n1\n");
    assert_eq!(windows["result"]["data_name"], "t.csv");
    let missing = call(addr, "GET", "/data/0123456789abcdef01234567", b"");
    assert_eq!(missing.status, 404);
}

#[test]
fn a_train_result_is_the_whole_experiment_with_every_regression_metric() {
    let server = start();
    let addr = server.addr();
    // Positive targets, so that every regression metric is defined.
    let mut rng = Lcg(2);
    let mut csv = String::from("x1,x2,y\n");
    for _ in 0..200 {
        let (x1, x2) = (rng.unit() * 10.0, rng.unit() * 10.0);
        csv.push_str(&format!(
            "{x1:.4},{x2:.4},{:.4}\n",
            3.0 * x1 + 2.0 * x2 + 1.0
        ));
    }
    let data = sdk_upload(addr, "/tmp/r.csv", &csv);
    let data_id = data["result"]["_id"].as_str().unwrap();
    let spec = json!({"train_data_id": data_id, "target": "y", "algos": ["GLM", "DRF"],
        "nfold": 3, "seed": 7, "callback": null, "version": null, "max_run_time": null,
        "preprocessing": null, "evaluator": null});
    let exp = train(addr, &spec);
    assert!(is_id(&exp["_id"]));
    assert_eq!(exp["train_data_id"], data_id);
    assert_eq!(exp["target"], "y");
    assert_eq!(exp["features"], json!(["x1", "x2"]));
    let hyper = &exp["hyperparameters"];
    assert_eq!(hyper["model_type"], "regression");
    assert_eq!(
        (hyper["nfold"].as_u64(), hyper["seed"].as_u64()),
        (Some(3), Some(7))
    );
    assert_eq!(hyper["evaluator"], "deviance");
    let models: Vec<&str> = exp["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    // GLM's and DRF's defaults, then GLM's eight penalties: the default budget of a
    // small data set.
    assert_eq!(models.len(), 10);
    for (model_id, algo) in models.iter().zip(["GLM", "DRF", "GLM"]) {
        let attrs = &exp["attributes"][*model_id];
        assert_eq!(
            (attrs["model_id"].as_str(), attrs["algo"].as_str()),
            (Some(*model_id), Some(algo))
        );
        let cv = attrs["cv_averages"].as_object().unwrap();
        for metric in [
            "deviance", "mse", "rmse", "mae", "rmsle", "r2", "mape", "wmape",
        ] {
            assert!(
                cv.get(metric).is_some_and(Value::is_f64),
                "{algo} lacks {metric}: {attrs}"
            );
        }
    }
    let recommended: Vec<&str> = exp["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["evaluator"].as_str().unwrap())
        .collect();
    assert_eq!(
        recommended,
        ["deviance", "mse", "rmse", "mae", "rmsle", "r2", "mape", "wmape"]
    );
    assert!(exp["created_at"].is_number() && exp["completed_at"].is_number());
    assert_eq!(
        get_json(
            addr,
            &format!("/v2/experiments/{}", exp["_id"].as_str().unwrap())
        ),
        exp
    );
    for key in [
        "name",
        "status",
        "task",
        "jobs",
        "result",
        "best_model",
        "select_model_by",
    ] {
        assert!(
            exp.get(key).is_none(),
            "result key '{key}' would clobber an SDK attribute"
        );
    }
}

#[test]
fn undefined_metrics_are_left_out_never_null() {
    let server = start();
    let addr = server.addr();
    // Zero targets (a quarter of the rows, so every fold has some) make mape
    // undefined; targets below -1 make rmsle undefined.
    let mut csv = String::from("x,y\n");
    for i in 0..60 {
        let x = f64::from(i);
        let y = if i % 4 == 0 { 0.0 } else { x - 30.0 };
        csv.push_str(&format!("{x},{y}\n"));
    }
    let data = sdk_upload(addr, "z.csv", &csv);
    let spec = json!({"train_data_id": data["result"]["_id"], "target": "y", "algos": ["GLM"], "nfold": 2});
    let exp = train(addr, &spec);
    let model = exp["models"][0].as_str().unwrap();
    let cv = exp["attributes"][model]["cv_averages"].as_object().unwrap();
    assert!(cv.values().all(Value::is_f64), "{cv:?}");
    assert!(
        !cv.contains_key("mape") && !cv.contains_key("rmsle"),
        "{cv:?}"
    );
    assert!(cv.contains_key("mse") && cv.contains_key("wmape"), "{cv:?}");
    let evaluators: Vec<&str> = exp["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["evaluator"].as_str().unwrap())
        .collect();
    assert!(!evaluators.contains(&"mape"), "{evaluators:?}");
}

#[test]
fn the_model_endpoint_has_scores_hyperparameters_and_importances() {
    let server = start();
    let addr = server.addr();
    let data = sdk_upload(addr, "r.csv", &regression_csv(150, 3));
    let spec = json!({"train_data_id": data["result"]["_id"], "target": "y", "algos": ["DRF"], "nfold": 2});
    let exp = train(addr, &spec);
    let (exp_id, model_id) = (
        exp["_id"].as_str().unwrap(),
        exp["models"][0].as_str().unwrap(),
    );
    let model = get_json(addr, &format!("/v2/experiments/{exp_id}/models/{model_id}"));
    assert_eq!(
        (model["_id"].as_str(), model["exp_id"].as_str()),
        (Some(model_id), Some(exp_id))
    );
    assert_eq!(model["name"], "DRF");
    assert!(model["key"].is_string());
    assert_eq!(
        model["attributes"]["cv_averages"],
        exp["attributes"][model_id]["cv_averages"]
    );
    assert!(
        model["hyperparameters"]
            .as_object()
            .is_some_and(|h| !h.is_empty()),
        "{model}"
    );
    let importances = model["importances"].as_object().unwrap();
    assert_eq!(importances.keys().collect::<Vec<_>>(), ["x1", "x2"]);
    // y = 3·x1 − 2·x2 with x1 and x2 alike: x1 matters more.
    assert!(
        importances["x1"].as_f64() > importances["x2"].as_f64(),
        "{importances:?}"
    );
    let other = call(
        addr,
        "GET",
        &format!("/v2/experiments/{model_id}/models/{model_id}"),
        b"",
    );
    assert_eq!(other.status, 404);
}

#[test]
fn setup_retypes_a_zero_one_target_into_a_new_data_set() {
    let server = start();
    let addr = server.addr();
    let mut rng = Lcg(5);
    let mut csv = String::from("a,b,label\n");
    for _ in 0..200 {
        let (a, b) = (rng.unit(), rng.unit());
        csv.push_str(&format!("{a:.4},{b:.4},{}\n", u8::from(a + b > 1.0)));
    }
    let data = sdk_upload(addr, "01.csv", &csv)["result"].clone();
    assert_eq!(data["columns"][2]["data_type"], "numerical");
    let setup = json!({"data_id": data["_id"], "data_source": data["accessor"], "callback": null,
        "data_columns": [{"id": "label", "data_type": "categorical"}]});
    let task = submit(addr, "/v2/tasks/setup", setup.to_string().as_bytes());
    let done = wait_task(addr, &task);
    assert_eq!(
        (done["status"].as_str(), done["type"].as_str()),
        (Some("done"), Some("setup")),
        "{done}"
    );
    let retyped = &done["result"];
    assert_ne!(retyped["_id"], data["_id"]);
    assert_eq!(
        retyped["columns"][2],
        json!({"id": "label", "data_type": "categorical"})
    );
    assert_eq!(retyped["rows"], 200);
    let original = get_json(addr, &format!("/v2/data/{}", data["_id"].as_str().unwrap()));
    assert_eq!(original["columns"][2]["data_type"], "numerical");
    let spec =
        json!({"train_data_id": retyped["_id"], "target": "label", "algos": ["GLM"], "nfold": 2});
    let exp = train(addr, &spec);
    assert_eq!(
        exp["hyperparameters"]["model_type"],
        "binary classification"
    );
    let model = exp["models"][0].as_str().unwrap();
    let cv = exp["attributes"][model]["cv_averages"].as_object().unwrap();
    for metric in [
        "logloss",
        "auc",
        "misclassification",
        "mean_per_class_error",
        "lift_top_group",
        "mse",
        "rmse",
    ] {
        assert!(cv.contains_key(metric), "binary lacks {metric}: {cv:?}");
    }
    assert_eq!(exp["recommendations"].as_array().unwrap().len(), cv.len());

    let bad = json!({"data_id": data["_id"], "data_columns": [{"id": "nope", "data_type": "categorical"}]});
    let task = submit(addr, "/v2/tasks/setup", bad.to_string().as_bytes());
    let done = wait_task(addr, &task);
    assert_eq!(done["status"], "invalid", "{done}");
    assert!(
        done["progress_message"].as_str().unwrap().contains("nope"),
        "{done}"
    );
    let bad =
        json!({"data_id": data["_id"], "data_columns": [{"id": "label", "data_type": "text"}]});
    let done = wait_task(
        addr,
        &submit(addr, "/v2/tasks/setup", bad.to_string().as_bytes()),
    );
    assert_eq!(done["status"], "invalid", "{done}");
    // A refused field or an unknown data set fails as the task (design/06: a bad
    // submit fails as its task, so the SDK's other jobs go on).
    for (bad, named) in [
        (
            json!({"data_id": data["_id"], "data_columns": "label"}),
            "data_columns",
        ),
        (
            json!({"data_id": "0123456789abcdef01234567", "data_columns": []}),
            "0123456789abcdef01234567",
        ),
        (
            json!({"data_id": data["_id"], "data_columns": [], "eda": true}),
            "eda",
        ),
        (
            json!({"data_id": data["_id"], "data_columns": [], "callback": "http://x"}),
            "callback",
        ),
        (
            json!({"data_id": data["_id"], "data_columns": [{"id": "label", "data_type": "categorical", "nullable": "no"}]}),
            "nullable",
        ),
    ] {
        let done = wait_task(
            addr,
            &submit(addr, "/v2/tasks/setup", bad.to_string().as_bytes()),
        );
        assert_eq!(done["status"], "invalid", "{done}");
        let message = done["progress_message"].as_str().unwrap();
        assert!(message.contains(named), "{message}");
    }
}

#[test]
fn algorithms_the_server_does_not_train_are_refused_by_name() {
    let server = start();
    let addr = server.addr();
    let data_id = upload(addr, &regression_csv(30, 4));
    for algo in ["XGBoost", "DeepLearning", "foo"] {
        let spec = json!({"train_data_id": data_id, "target": "y", "algos": ["GLM", algo]});
        let task = submit(addr, "/v2/tasks/train", spec.to_string().as_bytes());
        let done = wait_task(addr, &task);
        assert_eq!(done["status"], "invalid", "{algo}: {done}");
        let message = done["progress_message"].as_str().unwrap().to_owned();
        assert!(
            message.contains(algo) && message.contains("GBM"),
            "{message}"
        );
    }
    let info = get_json(addr, "/v2/info");
    assert_eq!(
        info["algos"],
        json!(["GLM", "DRF", "GBM", "StackedEnsemble"])
    );
    assert_eq!(
        info["evaluators"]["multinomial classification"],
        json!([
            "logloss",
            "misclassification",
            "mean_per_class_error",
            "mse",
            "rmse"
        ])
    );
}

#[test]
fn stop_takes_an_empty_body_with_a_stray_content_type() {
    let server = start_with(|c| c.max_running = 1);
    let addr = server.addr();
    let data_id = upload(addr, &wide_csv(3000, 40, 6));
    let spec = json!({"train_data_id": data_id, "target": "y", "algos": ["DRF"], "nfold": 10});
    let running = submit(addr, "/v2/tasks/train", spec.to_string().as_bytes());
    let queued = submit(addr, "/v2/tasks/train", spec.to_string().as_bytes());
    let headers = [
        ("Authorization", AUTH),
        ("user", "sdk"),
        ("Content-Type", "multipart/form-data; boundary=0123456789"),
    ];
    for id in [&queued, &running] {
        let answer = request(addr, "PUT", &format!("/v2/tasks/{id}/stop"), &headers, b"");
        assert_eq!(answer.status, 200, "{}", answer.text());
        let doc = wait_task(addr, id);
        assert_eq!(
            (doc["status"].as_str(), doc["progress_message"].as_str()),
            (Some("fail"), Some("stopped"))
        );
    }
}
