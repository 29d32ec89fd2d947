//! A randomized bad-request test: 300 garbage or mutated requests from a fixed-seed
//! generator, each on its own connection. Every answer must be a well-formed HTTP
//! response with an expected status; afterwards the server still serves valid
//! requests, and none of its threads panicked.

#![cfg(feature = "server")]

mod server_util;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use server_util::*;

/// Requests per client thread; four threads send 300 in all.
const PER_THREAD: usize = 75;
const THREADS: u64 = 4;

/// Statuses a garbage request may get.
const EXPECTED: [u16; 9] = [200, 400, 401, 404, 405, 408, 409, 413, 503];

static SERVER_PANICS: AtomicUsize = AtomicUsize::new(0);

/// Counts panics on the server's threads (the loop thread and the blocking pool),
/// then reports them as usual.
fn watch_server_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let name = thread::current().name().unwrap_or("").to_owned();
        if name == "automl-server" || name.starts_with("taskloop-blocking") {
            SERVER_PANICS.fetch_add(1, Ordering::SeqCst);
        }
        default_hook(info);
    }));
}

fn valid_request(rng: &mut Lcg) -> Vec<u8> {
    let auth = [("Authorization", AUTH)];
    match rng.below(5) {
        0 => request_bytes("GET", "/v2/worker/status", &auth, b""),
        1 => request_bytes(
            "POST",
            "/v2/upload?name=r",
            &auth,
            regression_csv(5, rng.next_u64()).as_bytes(),
        ),
        2 => request_bytes(
            "POST",
            "/v2/tasks/train",
            &auth,
            br#"{"train_data_id": "data-00000001", "target": "y", "nfold": 2}"#,
        ),
        3 => request_bytes(
            "POST",
            "/v2/tasks/predict",
            &auth,
            br#"{"data_id": "d", "model_id": "m", "keep_columns": ["y"]}"#,
        ),
        _ => request_bytes("PUT", "/v2/tasks/task-00000001/stop", &auth, b""),
    }
}

fn random_bytes(rng: &mut Lcg, len: usize) -> Vec<u8> {
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

fn chunked_with_bad_size(rng: &mut Lcg) -> Vec<u8> {
    const SIZES: [&str; 8] = [
        "-5",
        "zz",
        "FFFFFFFFFFFFFFFFFFFF",
        "5;;;",
        "",
        "3\r\nabcdef",
        "1 2",
        "ffffffff",
    ];
    let size = SIZES[rng.below(SIZES.len())];
    format!("POST /v2/upload HTTP/1.1\r\nAuthorization: {AUTH}\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nabc\r\n0\r\n\r\n")
        .into_bytes()
}

fn wrong_json(rng: &mut Lcg) -> Vec<u8> {
    const BODIES: [&str; 8] = [
        "{",
        "null",
        "[]",
        "\"text\"",
        r#"{"train_data_id": []}"#,
        r#"{"target": {"a": 1}}"#,
        r#"{"data_id": 1, "model_id": true}"#,
        "{\"a\": \u{7f}}",
    ];
    let path = if rng.below(2) == 0 {
        "/v2/tasks/train"
    } else {
        "/v2/tasks/predict"
    };
    request_bytes(
        "POST",
        path,
        &[("Authorization", AUTH)],
        BODIES[rng.below(BODIES.len())].as_bytes(),
    )
}

fn random_route(rng: &mut Lcg) -> Vec<u8> {
    const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
    const PATHS: [&str; 8] = [
        "/",
        "/v2",
        "/v2/tasks/",
        "/v2/tasks/x/stop",
        "/v2/data//file",
        "/v2/experiments/%00",
        "/v2/upload?name=%zz",
        "*",
    ];
    let method = METHODS[rng.below(METHODS.len())];
    let auth = if rng.below(3) == 0 {
        "Basic Zm9vOmJhcg=="
    } else {
        AUTH
    };
    request_bytes(
        method,
        PATHS[rng.below(PATHS.len())],
        &[("Authorization", auth)],
        b"",
    )
}

/// One garbage request, by kind.
fn garbage(rng: &mut Lcg) -> Vec<u8> {
    match rng.below(10) {
        0 => {
            let len = rng.below(3000);
            random_bytes(rng, len)
        }
        1 => {
            let request = valid_request(rng);
            let cut = rng.below(request.len());
            request[..cut].to_vec()
        }
        2 => {
            let mut request = valid_request(rng);
            for _ in 0..=rng.below(10) {
                let at = rng.below(request.len());
                request[at] = rng.next_u64() as u8;
            }
            request
        }
        3 => {
            let value = "x".repeat(10_000 + rng.below(30_000));
            format!("GET /v2/worker/status HTTP/1.1\r\nX-Huge: {value}\r\n\r\n").into_bytes()
        }
        4 => chunked_with_bad_size(rng),
        5 => wrong_json(rng),
        6 => random_route(rng),
        7 => {
            let declared = rng.below(200);
            let len = rng.below(200);
            let body = random_bytes(rng, len);
            let head = format!("POST /v2/upload HTTP/1.1\r\nAuthorization: {AUTH}\r\nContent-Length: {declared}\r\n\r\n");
            [head.into_bytes(), body].concat()
        }
        8 => {
            let big = format!("POST /v2/upload HTTP/1.1\r\nAuthorization: {AUTH}\r\nContent-Length: 99999999\r\n\r\n");
            [big.into_bytes(), random_bytes(rng, 100)].concat()
        }
        _ => Vec::new(), // connect and say nothing
    }
}

/// Sends `bytes`, maybe half-closes, and reads whatever comes back until the server
/// closes or 5 s pass.
fn exchange(addr: SocketAddr, bytes: &[u8], half_close: bool) -> Vec<u8> {
    let mut stream = connect(addr);
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = stream.write_all(bytes); // the server may already have closed
    if half_close {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer); // a reset after an answer is fine
    answer
}

/// Checks an answer and returns its status (`None` when the server just closed).
fn check_answer(answer: &[u8], request: &[u8]) -> Option<u16> {
    if answer.is_empty() {
        return None; // closed without an answer: allowed for garbage
    }
    let text = String::from_utf8_lossy(answer);
    let status: u16 = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "not an HTTP answer: {text:?} to {:?}",
                String::from_utf8_lossy(request)
            )
        });
    assert!(
        EXPECTED.contains(&status),
        "status {status} for {:?}",
        String::from_utf8_lossy(request)
    );
    if status != 200 {
        assert!(text.contains("{\"error\":"), "no JSON error in {text:?}");
    }
    Some(status)
}

#[test]
fn three_hundred_garbage_requests_do_not_hurt_the_server() {
    watch_server_panics();
    let server = start_with(|c| {
        c.limits.read_timeout = Duration::from_millis(200);
        c.limits.idle_timeout = Duration::from_millis(200);
        c.limits.max_body_bytes = 64 * 1024;
    });
    let addr = server.addr();
    let clients: Vec<_> = (0..THREADS)
        .map(|t| {
            thread::spawn(move || {
                let mut rng = Lcg(0x5EED + t);
                let mut statuses = Vec::new();
                for _ in 0..PER_THREAD {
                    let request = garbage(&mut rng);
                    let half_close = rng.below(4) != 0;
                    statuses.extend(check_answer(
                        &exchange(addr, &request, half_close),
                        &request,
                    ));
                }
                statuses
            })
        })
        .collect();
    let mut seen = std::collections::BTreeMap::new();
    for client in clients {
        for status in client.join().expect("a client thread failed") {
            *seen.entry(status).or_insert(0) += 1;
        }
    }
    for status in [400, 401, 404, 405, 408, 413] {
        assert!(seen.contains_key(&status), "no {status} among {seen:?}");
    }
    assert_alive(addr);
    let data_id = upload(addr, &regression_csv(20, 9));
    assert!(
        data_id.len() == 24 && data_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{data_id} is not 24 hex digits"
    );
    let stats = server.stats();
    assert!(stats.requests > 0, "{stats:?}");
    assert_eq!(
        SERVER_PANICS.load(Ordering::SeqCst),
        0,
        "a server thread panicked"
    );
    server.shutdown();
}
