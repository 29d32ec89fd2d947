//! `Idempotency-Key`: a repeated submit returns the first task and starts nothing new,
//! even when the server injects faults and the client has to retry.

#![cfg(feature = "server")]

mod server_util;

use std::io::{BufReader, Write};
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use server_util::*;
use taskloop::automl::Faults;

fn post_with_key(addr: SocketAddr, path: &str, key: &str, body: &[u8]) -> Answer {
    request(
        addr,
        "POST",
        path,
        &[("Authorization", AUTH), ("Idempotency-Key", key)],
        body,
    )
}

#[test]
fn the_same_key_and_body_return_the_first_task() {
    let server = start();
    let addr = server.addr();
    let csv = regression_csv(40, 1);
    let first = post_with_key(addr, "/v2/upload", "upload-1", csv.as_bytes());
    assert_eq!(first.status, 200);
    let task = first.json()["_id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let again = post_with_key(addr, "/v2/upload", "upload-1", csv.as_bytes());
        assert_eq!(again.status, 200);
        assert_eq!(again.json()["_id"], task.as_str());
    }
    assert_eq!(server.stats().tasks_submitted.get("upload"), Some(&1));

    let data_id = wait_task(addr, &task)["result"]["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let spec =
        json!({"train_data_id": data_id, "target": "y", "algos": ["GLM"], "nfold": 2}).to_string();
    let train = post_with_key(addr, "/v2/tasks/train", "train-1", spec.as_bytes()).json();
    let train_again = post_with_key(addr, "/v2/tasks/train", "train-1", spec.as_bytes()).json();
    assert_eq!(train, train_again);
    // A different key is a different request.
    let other = post_with_key(addr, "/v2/tasks/train", "train-2", spec.as_bytes()).json();
    assert_ne!(train["_id"], other["_id"]);
    assert_eq!(server.stats().tasks_submitted.get("train"), Some(&2));
}

#[test]
fn the_same_key_with_another_request_conflicts_and_creates_nothing() {
    let server = start();
    let addr = server.addr();
    assert_eq!(
        post_with_key(addr, "/v2/upload", "k", b"a\n1\n").status,
        200
    );
    let other_body = post_with_key(addr, "/v2/upload", "k", b"a\n2\n");
    assert_eq!(other_body.status, 409);
    assert!(other_body.error().contains("Idempotency-Key"));
    let other_query = post_with_key(addr, "/v2/upload?name=x", "k", b"a\n1\n");
    assert_eq!(other_query.status, 409);
    assert_eq!(server.stats().tasks_submitted.get("upload"), Some(&1));
}

#[test]
fn a_refused_request_is_not_remembered() {
    let server = start();
    let addr = server.addr();
    // A body that is not a JSON object is refused with 400 (a JSON object with bad
    // fields would get a task that ends invalid, which is remembered like any task).
    assert_eq!(
        post_with_key(addr, "/v2/tasks/train", "t", b"{\"train_data_id\": ").status,
        400
    );
    // The same key may now carry a request that works.
    assert_eq!(
        post_with_key(addr, "/v2/upload", "t", b"a\n1\n").status,
        200
    );
}

#[test]
fn keys_over_128_bytes_are_refused() {
    let server = start();
    let addr = server.addr();
    assert_eq!(
        post_with_key(addr, "/v2/upload", &"k".repeat(128), b"a\n1\n").status,
        200
    );
    let answer = post_with_key(addr, "/v2/upload", &"k".repeat(129), b"a\n1\n");
    assert_eq!(answer.status, 400);
    assert!(answer.error().contains("128"));
}

/// Sends a keyed POST until it gets an answer other than a dropped connection or a
/// 503, as a client with retries would.
fn post_retrying(addr: SocketAddr, key: &str, body: &[u8]) -> (Answer, u32) {
    for attempt in 1..=200 {
        let mut stream = connect(addr);
        let headers = [("Authorization", AUTH), ("Idempotency-Key", key)];
        stream
            .write_all(&request_bytes("POST", "/v2/upload", &headers, body))
            .unwrap();
        match read_answer(&mut BufReader::new(stream)) {
            Ok(answer) if answer.status != 503 => return (answer, attempt),
            Ok(answer) => assert_eq!(answer.error(), "overloaded (injected fault)"),
            Err(_) => {} // dropped without an answer
        }
    }
    panic!("no answer after 200 attempts");
}

#[test]
fn faulted_posts_create_no_task_and_retries_create_exactly_one() {
    let server = start_with(|c| {
        c.faults = Faults {
            latency: Duration::from_millis(1),
            drop_rate: 0.3,
            rate_503: 0.3,
            seed: 11,
        };
    });
    let addr = server.addr();
    let mut retried = 0;
    for i in 0..20 {
        let body = format!("a,b\n{i},1\n");
        let (answer, attempts) = post_retrying(addr, &format!("key-{i}"), body.as_bytes());
        assert_eq!(answer.status, 200, "{}", answer.text());
        retried += attempts - 1;
        // The same submit again (the client did not see the answer): the same task.
        let (again, _) = post_retrying(addr, &format!("key-{i}"), body.as_bytes());
        assert_eq!(again.json()["_id"], answer.json()["_id"]);
    }
    let stats = server.stats();
    assert_eq!(stats.tasks_submitted.get("upload"), Some(&20));
    assert!(
        retried > 0 && stats.faults_dropped > 0 && stats.faults_503 > 0,
        "{stats:?}"
    );
    assert!(stats.requests >= 40 + u64::from(retried));
}
