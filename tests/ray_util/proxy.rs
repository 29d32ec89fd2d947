//! A loopback HTTP proxy in front of the Ray dashboard that injects one fault into the
//! first job submission (`POST /api/jobs/`): it loses Ray's answer, or answers `503`
//! itself without forwarding; or it refuses every submission with `400`, as Ray refuses
//! a malformed one. Everything else passes through unchanged.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The fault the proxy injects into the first submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward the submission to Ray, then close the connection instead of answering.
    LoseTheAnswer,
    /// Answer `503` without forwarding.
    Busy,
    /// Answer `400` with a Python traceback, as Ray refuses a malformed request, without
    /// forwarding.
    Refuse,
}

/// What Ray answers a submission whose metadata holds a number (the last lines).
pub const REFUSAL: &str = "Traceback (most recent call last):\n  File \"common.py\", line 517, in __post_init__\n    raise TypeError(\nTypeError: metadata values must be strings, got <class 'int'>\n";

/// A running proxy: its URL, and how many submissions it has seen.
#[derive(Debug, Clone)]
pub struct Proxy {
    pub url: String,
    pub submits: Arc<AtomicUsize>,
}

/// Starts a proxy to `upstream` (`http://127.0.0.1:8265`) on a free loopback port.
pub fn start(upstream: &str, fault: Fault) -> Proxy {
    let upstream = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let submits = Arc::new(AtomicUsize::new(0));
    let seen = submits.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (upstream, seen) = (upstream.clone(), seen.clone());
            std::thread::spawn(move || serve(client, &upstream, fault, &seen));
        }
    });
    Proxy { url, submits }
}

/// Relays the requests of one client connection, one at a time.
fn serve(client: TcpStream, upstream: &str, fault: Fault, seen: &AtomicUsize) {
    let mut from_client = BufReader::new(client.try_clone().unwrap());
    let mut to_client = client;
    let mut server: Option<(TcpStream, BufReader<TcpStream>)> = None;
    while let Some(request) = read_message(&mut from_client) {
        let submit = request.starts_with(b"POST /api/jobs/ ");
        let first = submit && seen.fetch_add(1, Ordering::SeqCst) == 0;
        if first && fault == Fault::Busy {
            let busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy";
            let _ = to_client.write_all(busy.as_bytes());
            continue;
        }
        if submit && fault == Fault::Refuse {
            let head = format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Length: {}\r\n\r\n",
                REFUSAL.len()
            );
            let _ = to_client.write_all(format!("{head}{REFUSAL}").as_bytes());
            continue;
        }
        let (to_server, from_server) = server.get_or_insert_with(|| {
            let s = TcpStream::connect(upstream).unwrap();
            (s.try_clone().unwrap(), BufReader::new(s))
        });
        to_server.write_all(&request).unwrap();
        let Some(response) = read_message(from_server) else {
            return;
        };
        if first && fault == Fault::LoseTheAnswer {
            let _ = to_client.shutdown(Shutdown::Both);
            return;
        }
        if to_client.write_all(&response).is_err() {
            return;
        }
    }
}

/// Reads one HTTP message (head and a `Content-Length` body), as raw bytes.
fn read_message(r: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut message = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
        message.extend_from_slice(line.as_bytes());
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).ok()?;
    message.extend_from_slice(&body);
    Some(message)
}
