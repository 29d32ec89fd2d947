//! Every kind of bad input gets its status code and a JSON error, and the server keeps
//! serving afterwards.

#![cfg(feature = "server")]

mod server_util;

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;
use server_util::*;

/// Sends raw bytes on a new connection and reads one answer.
fn raw(addr: SocketAddr, bytes: &[u8]) -> Answer {
    let mut stream = connect(addr);
    stream.write_all(bytes).unwrap();
    read_answer(&mut BufReader::new(stream)).expect("an answer")
}

/// Asserts `answer` has `status` and a JSON error, then that the server still answers.
fn expect(addr: SocketAddr, answer: &Answer, status: u16) -> String {
    assert_eq!(answer.status, status, "{}", answer.text());
    let message = answer.error();
    assert_alive(addr);
    message
}

#[test]
fn malformed_requests_get_400_and_the_connection_closes() {
    let server = start();
    let addr = server.addr();
    for bytes in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /v2/worker/status HTTP/7.0\r\n\r\n",
        b"GET /v2/worker/status HTTP/1.1\r\nBad Header\r\n\r\n",
        b"POST /v2/upload HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        b"POST /v2/upload HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"POST /v2/upload HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYTU1d29yZA==\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ] {
        let mut stream = connect(addr);
        stream.write_all(bytes).unwrap();
        let mut reader = BufReader::new(stream);
        let answer = read_answer(&mut reader).unwrap();
        expect(addr, &answer, 400);
        assert_eq!(answer.header("connection"), Some("close"));
        let mut rest = Vec::new();
        assert_eq!(
            reader.read_to_end(&mut rest).unwrap(),
            0,
            "closed after the answer"
        );
    }
}

#[test]
fn missing_or_wrong_credentials_get_401_without_echoing_them() {
    let server = start();
    let addr = server.addr();
    let no_auth = request(addr, "GET", "/v2/worker/status", &[], b"");
    expect(addr, &no_auth, 401);
    assert!(no_auth
        .header("www-authenticate")
        .unwrap()
        .starts_with("Basic"));
    // base64("user:guess-me")
    let wrong = [("Authorization", "Basic dXNlcjpndWVzcy1tZQ==")];
    let answer = request(addr, "POST", "/v2/upload", &wrong, b"a\n1\n");
    let message = expect(addr, &answer, 401);
    assert!(!answer.text().contains("guess-me") && !message.contains("dXNlcjpndWVzcy1tZQ"));
    let garbage = [("Authorization", "Basic %%%")];
    expect(
        addr,
        &request(addr, "GET", "/v2/tasks/x", &garbage, b""),
        401,
    );
    assert!(
        server.stats().tasks_submitted.is_empty(),
        "no task without credentials"
    );
}

#[test]
fn an_unauthenticated_body_is_refused_before_it_is_read() {
    let server = start();
    let addr = server.addr();
    let mut stream = connect(addr);
    let head =
        "POST /v2/upload HTTP/1.1\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    // No body is sent: the answer must come from the head alone, and be 401, not 100.
    let answer = read_answer(&mut BufReader::new(stream)).unwrap();
    expect(addr, &answer, 401);
    assert!(server.stats().tasks_submitted.is_empty());
}

#[test]
fn bad_json_gets_400_and_refused_fields_end_their_task_invalid() {
    let server = start();
    let addr = server.addr();
    let data_id = upload(addr, &regression_csv(30, 1));
    // Not a JSON object: no task can be made of it.
    for body in ["{", "[1, 2]", ""] {
        let answer = call(addr, "POST", "/v2/tasks/train", body.as_bytes());
        expect(addr, &answer, 400);
    }
    // A JSON object whose fields are refused still gets a task (the SDK polls the id
    // it is given; without one it gives up on every job of its run), which ends
    // `invalid` with a message naming the field.
    let train = |extra: serde_json::Value| {
        let mut body = json!({"train_data_id": data_id, "target": "y"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let cases = [
        (json!({"target": "y"}), "train_data_id"),
        (json!({"train_data_id": 5, "target": "y"}), "train_data_id"),
        (json!({"train_data_id": data_id}), "target"),
        (train(json!({"algos": ["XGB"]})), "XGB"),
        (
            train(json!({"algos": ["XGBoost"]})),
            "not trained by this server",
        ),
        (train(json!({"algos": []})), "algos"),
        (train(json!({"algos": "GLM"})), "algos"),
        (train(json!({"evaluator": "accuracy"})), "accuracy"),
        (train(json!({"nfold": 11})), "nfold"),
        (train(json!({"nfold": 1})), "nfold"),
        (train(json!({"nfold": "5"})), "nfold"),
        (train(json!({"seed": -1})), "seed"),
        (train(json!({"max_model": 0})), "max_model"),
        (
            train(json!({"validation_percentage": 95})),
            "validation_percentage",
        ),
        (train(json!({"features": [1]})), "features"),
        (
            train(json!({"callback": "http://example.invalid/done"})),
            "callback",
        ),
        (train(json!({"preprocessing": {"x": 1}})), "preprocessing"),
        (train(json!({"apu": 1})), "apu"),
        (train(json!({"version": "v1"})), "version"),
        (train(json!({"tolerance": 2})), "tolerance"),
        (train(json!({"max_run_time": 0})), "max_run_time"),
        (train(json!({"max_after_balance": 2})), "balance_class"),
        (
            train(json!({"balance_class": true, "sampling_factors": [-1]})),
            "sampling_factors",
        ),
        (
            train(json!({"feature_types": [{"id": "x1", "data_type": "blob"}]})),
            "feature_types",
        ),
        (train(json!({"time_series_split": {"cv": []}})), "split_by"),
        (
            train(json!({"test_data_id": "a", "test_base_id": "b"})),
            "test_base_id",
        ),
        (train(json!({"test_data_id": "nope"})), "nope"),
        (
            train(
                json!({"nfold": 3, "time_series_split": {"split_by": "x1", "cv": [], "train": {"start": 0, "end": 1}}}),
            ),
            "exclude each other",
        ),
    ];
    for (body, named) in cases {
        let answer = post_json(addr, "/v2/tasks/train", &body);
        assert_eq!(answer.status, 200, "{body}: {}", answer.text());
        let id = answer.json()["_id"].as_str().unwrap().to_owned();
        let task = wait_task(addr, &id);
        assert_eq!(task["status"], "invalid", "{body}: {task}");
        let message = task["progress_message"].as_str().unwrap_or_default();
        assert!(
            message.contains(named),
            "{body}: '{message}' should name {named}"
        );
    }
    for body in [
        json!({"model_id": "m"}),
        json!({"data_id": data_id}),
        json!({"data_id": data_id, "model_id": "m", "threshold": 2}),
        json!({"data_id": data_id, "model_id": "m", "keep_columns": "y"}),
    ] {
        let id = post_json(addr, "/v2/tasks/predict", &body).json()["_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(wait_task(addr, &id)["status"], "invalid", "{body}");
    }
    assert_alive(addr);
}

#[test]
fn unknown_ids_and_paths_get_404_and_wrong_methods_405() {
    let server = start();
    let addr = server.addr();
    for path in [
        "/v2/tasks/task-nope",
        "/v2/experiments/exp-nope",
        "/v2/data/nope/file",
        "/v2/nothing",
        "/",
        "/v2/tasks/x/y/z",
    ] {
        expect(addr, &call(addr, "GET", path, b""), 404);
    }
    expect(
        addr,
        &call(addr, "PUT", "/v2/tasks/task-nope/stop", b""),
        404,
    );
    // A submit naming a data set or model that is not there gets a task that ends
    // invalid, naming the id (see bad_json_gets_400_and_refused_fields_end_their_task_invalid).
    let train = json!({"train_data_id": "data-nope", "target": "y"});
    let id = post_json(addr, "/v2/tasks/train", &train).json()["_id"].clone();
    let task = wait_task(addr, id.as_str().unwrap());
    assert_eq!(task["status"], "invalid");
    assert!(
        task["progress_message"]
            .as_str()
            .unwrap()
            .contains("no data with id 'data-nope'"),
        "{task}"
    );
    let data_id = upload(addr, &regression_csv(30, 2));
    let predict = json!({"data_id": data_id, "model_id": "model-nope"});
    let id = post_json(addr, "/v2/tasks/predict", &predict).json()["_id"].clone();
    let task = wait_task(addr, id.as_str().unwrap());
    assert!(
        task["progress_message"]
            .as_str()
            .unwrap()
            .contains("model-nope"),
        "{task}"
    );
    for (method, path, allowed) in [
        ("GET", "/v2/upload", "POST"),
        ("POST", "/v2/worker/status", "GET"),
        ("DELETE", "/v2/tasks/x", "GET"),
        ("GET", "/v2/tasks/x/stop", "PUT"),
        ("PUT", "/v2/tasks/train", "POST"),
    ] {
        let answer = call(addr, method, path, b"");
        expect(addr, &answer, 405);
        assert_eq!(answer.header("allow"), Some(allowed));
    }
}

#[test]
fn a_reused_idempotency_key_with_another_body_gets_409() {
    let server = start();
    let addr = server.addr();
    let key = ("Idempotency-Key", "k-1");
    let first = request(
        addr,
        "POST",
        "/v2/upload",
        &[("Authorization", AUTH), key],
        b"a\n1\n",
    );
    assert_eq!(first.status, 200);
    let second = request(
        addr,
        "POST",
        "/v2/upload",
        &[("Authorization", AUTH), key],
        b"a\n2\n",
    );
    expect(addr, &second, 409);
    let long = "k".repeat(129);
    let third = request(
        addr,
        "POST",
        "/v2/upload",
        &[("Authorization", AUTH), ("Idempotency-Key", &long)],
        b"a\n",
    );
    expect(addr, &third, 400);
}

#[test]
fn oversized_bodies_and_heads_get_413() {
    let server = start_with(|c| c.limits.max_body_bytes = 1000);
    let addr = server.addr();
    let big = vec![b'1'; 5000];
    let answer = call(addr, "POST", "/v2/upload", &big);
    expect(addr, &answer, 413);
    let mut chunked =
        b"POST /v2/upload HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYTU1d29yZA==\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..3 {
        chunked.extend_from_slice(b"1f4\r\n");
        chunked.extend_from_slice(&[b'2'; 500]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    expect(addr, &raw(addr, &chunked), 413);
    let long_header = format!(
        "GET /v2/worker/status HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "v".repeat(20_000)
    );
    expect(addr, &raw(addr, long_header.as_bytes()), 413);
    let many: String = (0..100).map(|i| format!("X-{i}: v\r\n")).collect();
    let many = format!("GET /v2/worker/status HTTP/1.1\r\n{many}\r\n");
    expect(addr, &raw(addr, many.as_bytes()), 413);
    // Within the limit is fine.
    assert_eq!(call(addr, "POST", "/v2/upload", &big[..900]).status, 200);
}

#[test]
fn bad_csv_fails_its_upload_task_with_a_message() {
    let server = start();
    let addr = server.addr();
    for (csv, hint) in [
        ("a,b\n1,2\n3\n", "line 3"),
        ("", "empty"),
        ("a,a\n1,2\n", "a"),
        ("x\n\"open\n", "quote"),
    ] {
        let task = submit(addr, "/v2/upload", csv.as_bytes());
        let done = wait_task(addr, &task);
        assert_eq!(done["status"], "fail", "{done}");
        let message = done["progress_message"].as_str().unwrap();
        assert!(
            message.starts_with("bad CSV") && message.contains(hint),
            "{message}"
        );
        assert_alive(addr);
    }
    let form = [
        ("Authorization", AUTH),
        ("Content-Type", "multipart/form-data; boundary=B"),
    ];
    let no_csv_field =
        b"--B\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--B--\r\n";
    expect(
        addr,
        &request(addr, "POST", "/v2/upload", &form, no_csv_field),
        400,
    );
    let broken = b"--B\r\nContent-Disposition: form-data; name=\"csv\"\r\n\r\nnever ends";
    expect(
        addr,
        &request(addr, "POST", "/v2/upload", &form, broken),
        400,
    );
}

#[test]
fn slow_requests_get_408_and_idle_connections_are_closed() {
    let server = start_with(|c| {
        c.limits.read_timeout = Duration::from_millis(300);
        c.limits.idle_timeout = Duration::from_millis(300);
    });
    let addr = server.addr();
    let mut slow = connect(addr);
    slow.write_all(b"GET /v2/worker/status HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let answer = read_answer(&mut BufReader::new(slow.try_clone().unwrap())).unwrap();
    expect(addr, &answer, 408);
    let mut body_too_slow = connect(addr);
    body_too_slow
        .write_all(b"POST /v2/upload HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYTU1d29yZA==\r\nContent-Length: 10\r\n\r\nabc")
        .unwrap();
    expect(
        addr,
        &read_answer(&mut BufReader::new(body_too_slow)).unwrap(),
        408,
    );

    let mut idle = connect(addr);
    let start = Instant::now();
    let mut buf = [0u8; 16];
    assert_eq!(idle.read(&mut buf).unwrap(), 0, "closed without an answer");
    assert!(start.elapsed() >= Duration::from_millis(250));
    assert_alive(addr);
}

#[test]
fn a_client_that_closes_mid_request_does_not_disturb_others() {
    let server = start();
    let addr = server.addr();
    for cut in [5, 20, 40] {
        let bytes = request_bytes(
            "POST",
            "/v2/upload",
            &[("Authorization", AUTH)],
            b"a,b\n1,2\n",
        );
        let mut stream = connect(addr);
        stream.write_all(&bytes[..cut]).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let answer = read_answer(&mut BufReader::new(stream)).unwrap();
        expect(addr, &answer, 400);
    }
    let stream = connect(addr);
    drop(stream);
    thread::sleep(Duration::from_millis(20));
    assert_alive(addr);
    assert!(server.stats().tasks_submitted.is_empty());
}
