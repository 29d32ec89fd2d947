//! Connections: several requests on one keep-alive connection, pipelining, chunked
//! uploads sent in fragments, `Expect: 100-continue`, and the cases that close.

#![cfg(feature = "server")]

mod server_util;

use std::io::{BufRead, BufReader, Read, Write};
use std::thread;
use std::time::Duration;

use server_util::*;

const STATUS: &[u8] =
    b"GET /v2/worker/status HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYTU1d29yZA==\r\n\r\n";

#[test]
fn one_connection_serves_many_requests_in_turn() {
    let server = start();
    let mut stream = connect(server.addr());
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    for _ in 0..20 {
        stream.write_all(STATUS).unwrap();
        let answer = read_answer(&mut reader).unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("connection"), None, "kept alive");
    }
    // Errors that do not break the framing keep the connection too.
    stream
        .write_all(&request_bytes(
            "GET",
            "/v2/tasks/none",
            &[("Authorization", AUTH)],
            b"",
        ))
        .unwrap();
    assert_eq!(read_answer(&mut reader).unwrap().status, 404);
    stream.write_all(STATUS).unwrap();
    assert_eq!(read_answer(&mut reader).unwrap().status, 200);
    assert!(server.stats().requests >= 22);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = start();
    let addr = server.addr();
    let auth = [("Authorization", AUTH)];
    let mut batch = Vec::new();
    batch.extend_from_slice(&request_bytes(
        "POST",
        "/v2/upload?name=first",
        &auth,
        b"a\n1\n",
    ));
    batch.extend_from_slice(&request_bytes("GET", "/v2/nothing", &auth, b""));
    batch.extend_from_slice(STATUS);
    batch.extend_from_slice(&request_bytes(
        "POST",
        "/v2/upload?name=second",
        &auth,
        b"a\n2\n3\n",
    ));
    let mut stream = connect(addr);
    stream.write_all(&batch).unwrap();
    let mut reader = BufReader::new(stream);
    let answers: Vec<Answer> = (0..4).map(|_| read_answer(&mut reader).unwrap()).collect();
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200, 404, 200, 200]);
    let first = wait_task(addr, answers[0].json()["_id"].as_str().unwrap());
    let second = wait_task(addr, answers[3].json()["_id"].as_str().unwrap());
    assert_eq!(
        (
            first["result"]["data_name"].as_str(),
            first["result"]["rows"].as_u64()
        ),
        (Some("first"), Some(1))
    );
    assert_eq!(
        (
            second["result"]["data_name"].as_str(),
            second["result"]["rows"].as_u64()
        ),
        (Some("second"), Some(2))
    );
}

#[test]
fn a_chunked_upload_sent_in_fragments_is_reassembled() {
    let server = start();
    let addr = server.addr();
    let csv = regression_csv(500, 3);
    let mut body = Vec::new();
    for (i, piece) in csv.as_bytes().chunks(777).enumerate() {
        body.extend_from_slice(format!("{:X};piece={i}\r\n", piece.len()).as_bytes());
        body.extend_from_slice(piece);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\nX-Checksum: none\r\n\r\n");
    let head = format!(
        "POST /v2/upload?name=chunked HTTP/1.1\r\nAuthorization: {AUTH}\r\nTransfer-Encoding: chunked\r\nContent-Type: text/csv\r\n\r\n"
    );
    let mut stream = connect(addr);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    stream.write_all(head.as_bytes()).unwrap();
    for fragment in body.chunks(1000) {
        stream.write_all(fragment).unwrap();
        thread::sleep(Duration::from_millis(1));
    }
    let answer = read_answer(&mut reader).unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text());
    let done = wait_task(addr, answer.json()["_id"].as_str().unwrap());
    assert_eq!(done["result"]["rows"], 500);
    let data_id = done["result"]["_id"].as_str().unwrap();
    // The same connection goes on serving.
    stream
        .write_all(&request_bytes(
            "GET",
            &format!("/v2/data/{data_id}/file"),
            &[("Authorization", AUTH)],
            b"",
        ))
        .unwrap();
    assert_eq!(read_answer(&mut reader).unwrap().text(), csv);
}

#[test]
fn expect_100_continue_is_answered_before_the_body() {
    let server = start();
    let mut stream = connect(server.addr());
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let head = format!(
        "POST /v2/upload HTTP/1.1\r\nAuthorization: {AUTH}\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "HTTP/1.1 100 Continue\r\n");
    reader.read_line(&mut line).unwrap();
    stream.write_all(b"a\n1\n").unwrap();
    assert_eq!(read_answer(&mut reader).unwrap().status, 200);
}

#[test]
fn connection_close_and_http_1_0_close_after_the_answer() {
    let server = start();
    for request in [
        format!(
            "GET /v2/worker/status HTTP/1.1\r\nAuthorization: {AUTH}\r\nConnection: close\r\n\r\n"
        ),
        format!("GET /v2/worker/status HTTP/1.0\r\nAuthorization: {AUTH}\r\n\r\n"),
    ] {
        let mut stream = connect(server.addr());
        stream.write_all(request.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let answer = read_answer(&mut reader).unwrap();
        assert_eq!(
            (answer.status, answer.header("connection")),
            (200, Some("close"))
        );
        let mut rest = Vec::new();
        assert_eq!(reader.read_to_end(&mut rest).unwrap(), 0);
    }
}

#[test]
fn many_connections_at_once_are_served() {
    let server = start();
    let addr = server.addr();
    let clients: Vec<_> = (0..16)
        .map(|_| {
            thread::spawn(move || {
                let mut stream = connect(addr);
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                for _ in 0..10 {
                    stream.write_all(STATUS).unwrap();
                    assert_eq!(read_answer(&mut reader).unwrap().status, 200);
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    assert!(server.stats().requests >= 160);
}
