//! Slow but live clients (issue 19, item 4): the server's write and body-read limits are
//! idle timeouts, so a client that keeps making progress, however slowly, is served in
//! full, and one that stops is dropped.
//!
//! Before: writing an answer had `idle_timeout` for all of it, so a reader taking a
//! 24 MiB CSV at 3 MiB/s under a 2 s timeout got about 10 of its 24 MiB (at the default
//! 30 s, 32.6 of 59.8 MiB at 1 MiB/s); a body had `read_timeout` in total, so a 3 MiB
//! upload sent over 3 s under a 1 s timeout got `408`.

#![cfg(feature = "server")]

mod server_util;

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use server_util::*;

/// A CSV of about `bytes` bytes (three numeric columns).
fn csv_of(bytes: usize) -> String {
    let mut rng = Lcg(7);
    let mut csv = String::with_capacity(bytes + 64);
    csv.push_str("x1,x2,y\n");
    while csv.len() < bytes {
        let (a, b) = (rng.unit(), rng.unit());
        let _ = writeln!(csv, "{a:.9},{b:.9},{:.9}", 3.0 * a - b);
    }
    csv
}

/// Asks for `/v2/data/{id}/file` and returns the reader positioned at the body, with
/// its `Content-Length`.
fn ask_for_file(addr: std::net::SocketAddr, id: &str) -> (BufReader<std::net::TcpStream>, usize) {
    let mut stream = connect(addr);
    let path = format!("/v2/data/{id}/file");
    let head = request_bytes("GET", &path, &[("Authorization", AUTH)], b"");
    stream.write_all(&head).unwrap();
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line.trim_end().is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().ok();
        }
        assert!(
            !line.starts_with("HTTP/") || line.contains(" 200 "),
            "{line}"
        );
    }
    (reader, length.expect("a Content-Length"))
}

/// Reads at most `chunk` bytes at a time, pausing `pause` after each, until the body
/// ends or the server closes; returns the bytes received.
fn read_slowly(reader: &mut impl Read, len: usize, chunk: usize, pause: Duration) -> usize {
    let mut buf = vec![0u8; chunk];
    let mut got = 0;
    while got < len {
        let want = chunk.min(len - got);
        match reader.read(&mut buf[..want]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
        thread::sleep(pause);
    }
    got
}

#[test]
fn a_slow_reader_that_keeps_reading_gets_the_whole_file() {
    let server = start_with(|c| c.limits.idle_timeout = Duration::from_secs(2));
    let addr = server.addr();
    let csv = csv_of(24 * 1024 * 1024);
    let id = upload(addr, &csv);
    let (mut reader, len) = ask_for_file(addr, &id);
    assert_eq!(len, csv.len());
    // 64 KiB every 20 ms: about 3 MiB/s, so the download takes about 8 s, four times
    // the 2 s timeout, but the reader is never idle for more than a few tens of ms.
    let start = Instant::now();
    let got = read_slowly(&mut reader, len, 64 * 1024, Duration::from_millis(20));
    let took = start.elapsed();
    eprintln!(
        "received {got} of {len} bytes in {took:?} ({:.1} MiB/s)",
        got as f64 / took.as_secs_f64() / 1048576.0
    );
    assert_eq!(got, len, "the slow reader got every byte");
    assert!(took > Duration::from_secs(3), "the reader really was slow");
    assert_alive(addr);
}

#[test]
fn a_reader_that_stops_reading_is_dropped_after_the_idle_timeout() {
    let server = start_with(|c| c.limits.idle_timeout = Duration::from_millis(500));
    let addr = server.addr();
    let csv = csv_of(24 * 1024 * 1024);
    let id = upload(addr, &csv);
    let (mut reader, len) = ask_for_file(addr, &id);
    let first = read_slowly(&mut reader, 1024 * 1024, 64 * 1024, Duration::ZERO);
    // Stop reading for far longer than the idle timeout: the server gives up on us.
    thread::sleep(Duration::from_secs(3));
    let rest = read_slowly(&mut reader, len, 1024 * 1024, Duration::ZERO);
    eprintln!("received {} of {len} bytes", first + rest);
    assert!(
        first + rest < len,
        "a reader idle for 3 s under a 0.5 s timeout was dropped"
    );
    assert_alive(addr);
}

#[test]
fn a_slow_upload_that_keeps_sending_is_not_cut_off() {
    let server = start_with(|c| c.limits.read_timeout = Duration::from_secs(1));
    let addr = server.addr();
    let csv = csv_of(3 * 1024 * 1024);
    let bytes = request_bytes(
        "POST",
        "/v2/upload",
        &[("Authorization", AUTH)],
        csv.as_bytes(),
    );
    let mut stream = connect(addr);
    // 64 KiB every 60 ms: about 3 s in all, three times the 1 s timeout.
    let start = Instant::now();
    for piece in bytes.chunks(64 * 1024) {
        if stream.write_all(piece).is_err() {
            break;
        }
        thread::sleep(Duration::from_millis(60));
    }
    let answer = read_answer(&mut BufReader::new(stream)).expect("an answer");
    eprintln!("status {} after {:?}", answer.status, start.elapsed());
    assert_eq!(answer.status, 200, "{}", answer.text());
    let task = answer.json()["_id"].as_str().unwrap().to_owned();
    assert_eq!(wait_task(addr, &task)["status"], "done");
}
