//! Server throughput (issue 10, goal 5): the bundled server's `GET /v2/worker/status`
//! under `wrk` with 64, 512 and 2,000 keep-alive connections, against a minimal HTTP server
//! doing the same work, once on taskloop and once on tokio, in one run.
//!
//! ```sh
//! sudo apt-get install -y wrk      # the load generator (Debian/Ubuntu)
//! cd benches
//! cargo run --release --bin server_load
//! ```
//!
//! The servers run in this process, one after the other, on their own thread, and `wrk`
//! (2 threads, 10 s per cell, `--latency`) runs as a child process on the same machine,
//! so the servers and the load generator share its cores. The bundled server is
//! `serve(ServerConfig::new(..))` (its loop thread answers status requests; the workers
//! stay idle). The tokio peer is a current-thread runtime (one thread, like taskloop's
//! loop) accepting connections, with a task per connection that reads a request head up
//! to the blank line, checks the HTTP Basic credentials, reads the task counts under a
//! mutex and writes the same JSON answer with the same headers.

use std::process::Command;
use std::sync::{Arc, Mutex};

use taskloop::automl::{serve, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const USER: &str = "bench";
const PASSWORD: &str = "bench-password";
/// `bench:bench-password` in base64.
const AUTH: &str = "Authorization: Basic YmVuY2g6YmVuY2gtcGFzc3dvcmQ=";
const SECONDS: u32 = 10;

/// Connection counts of the table; the last is above the bundled server's default
/// connection limit (1,000).
const CONNECTIONS: [u32; 3] = [64, 512, 2000];

fn main() {
    println!("| server | connections | requests/s | p50 latency | p99 latency |");
    println!("| --- | --- | --- | --- | --- |");
    // A limit above every count, so the table compares serving, not shedding.
    let mut config = ServerConfig::new(USER, PASSWORD);
    config.limits.max_connections = 2500;
    let server = serve(config).expect("serve");
    for conns in CONNECTIONS {
        row("taskloop (bundled, limit 2,500)", &server.url(), conns);
    }
    server.shutdown();
    // The default limit, with twice as many connections: the excess is shed (`503` and
    // close, or the connection idle longest closed), and the rest are served.
    let server = serve(ServerConfig::new(USER, PASSWORD)).expect("serve");
    row(
        "taskloop (bundled, default limit 1,000)",
        &server.url(),
        2000,
    );
    server.shutdown();
    let url = taskloop_peer();
    for conns in CONNECTIONS {
        row(
            "taskloop minimal (the peer's code on taskloop)",
            &url,
            conns,
        );
    }
    let url = tokio_peer();
    for conns in CONNECTIONS {
        row("tokio current_thread (peer)", &url, conns);
    }
}

/// Runs wrk against `url` and prints its figures.
fn row(name: &str, url: &str, conns: u32) {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{conns}"),
            &format!("-d{SECONDS}s"),
            "--latency",
        ])
        .args(["-H", AUTH])
        .arg(format!("{url}/v2/worker/status"))
        .output()
        .expect("wrk is installed (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|rest| rest.split_whitespace().next().unwrap_or("?").to_string())
            .unwrap_or_else(|| "?".into())
    };
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
        .map(str::trim)
        .collect();
    let errors = if errors.is_empty() {
        String::new()
    } else {
        format!(" ({})", errors.join("; "))
    };
    println!(
        "| {name} | {conns} | {}{errors} | {} | {} |",
        field("Requests/sec:"),
        field("50%"),
        field("99%")
    );
}

/// The tokio peer's code on taskloop's runtime (`taskloop::net`), on its own thread;
/// returns its URL. Against the tokio peer it compares the runtimes alone; against the
/// bundled server, what the server does beyond the minimum (parsing with `httparse`,
/// deadlines on every read and write, connection limits, a JSON encoder).
fn taskloop_peer() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = taskloop::Runtime::new().expect("taskloop runtime");
        rt.block_on(async move {
            let listener = taskloop::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let counts = std::rc::Rc::new(std::cell::Cell::new((0_usize, 0_usize)));
            let _ = tx.send(format!("http://{}", listener.local_addr().expect("addr")));
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                taskloop::spawn(taskloop_connection(stream, counts.clone()));
            }
        });
    });
    rx.recv().expect("the taskloop peer starts")
}

/// [`connection`] on taskloop.
async fn taskloop_connection(
    mut stream: taskloop::net::TcpStream,
    counts: std::rc::Rc<std::cell::Cell<(usize, usize)>>,
) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    loop {
        let end = loop {
            if let Some(end) = head_end(&buf) {
                break end;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let answer = answer(&buf[..end], counts.get());
        buf.drain(..end);
        if stream.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Where the first request head in `buf` ends (after its blank line), once it is all in.
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// The answer to a request head: the status counts, or `401`.
fn answer(head: &[u8], (running, pending): (usize, usize)) -> String {
    let head = String::from_utf8_lossy(head);
    let authorized = head.lines().any(|l| l.eq_ignore_ascii_case(AUTH));
    if head.starts_with("GET /v2/worker/status ") && authorized {
        let body = format!(
            "{{\"pending\":{pending},\"running\":{running},\"status\":\"ok\",\"workers\":2}}"
        );
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    } else {
        "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n".to_string()
    }
}

/// Starts the tokio peer on its own thread; returns its URL.
fn tokio_peer() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let counts = Arc::new(Mutex::new((0_usize, 0_usize)));
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(connection(stream, counts.clone()));
            }
        });
    });
    url
}

/// Serves one keep-alive connection.
async fn connection(mut stream: tokio::net::TcpStream, counts: Arc<Mutex<(usize, usize)>>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    loop {
        let end = loop {
            if let Some(end) = head_end(&buf) {
                break end;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let answer = answer(&buf[..end], *counts.lock().expect("counts"));
        buf.drain(..end);
        if stream.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}
