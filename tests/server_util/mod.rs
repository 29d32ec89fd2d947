//! Helpers for the server tests: start a server on loopback, talk raw HTTP/1.1 to it
//! over `std::net::TcpStream`, poll tasks, and generate training data.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use taskloop::automl::{serve, ServerConfig, ServerHandle};

/// The credentials every test server accepts.
pub const USER: &str = "user";
pub const PASSWORD: &str = "pa55word";
/// `Basic base64("user:pa55word")`.
pub const AUTH: &str = "Basic dXNlcjpwYTU1d29yZA==";

/// How long a test waits for a task before calling it stuck.
pub const TASK_LIMIT: Duration = Duration::from_secs(120);

/// A server with the default settings.
pub fn start() -> ServerHandle {
    start_with(|_| {})
}

/// A server whose configuration `adjust` changes first.
pub fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> ServerHandle {
    let mut config = ServerConfig::new(USER, PASSWORD);
    adjust(&mut config);
    serve(config).expect("the server should start on loopback")
}

/// One parsed HTTP response.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                self.text()
            )
        })
    }

    /// The `error` message of a non-2xx answer (which must have one).
    pub fn error(&self) -> String {
        let doc = self.json();
        doc["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message in {doc}"))
            .to_owned()
    }
}

/// A connection with a 10 s read timeout.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the test server");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// Reads one response (with a `Content-Length` body) from `reader`.
pub fn read_answer(reader: &mut impl BufRead) -> io::Result<Answer> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, format!("status line {line:?}"))
        })?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let mut answer = Answer {
        status,
        headers,
        body: Vec::new(),
    };
    let len: usize = answer
        .header("content-length")
        .map_or(0, |v| v.parse().unwrap_or(0));
    answer.body = vec![0; len];
    reader.read_exact(&mut answer.body)?;
    Ok(answer)
}

/// The bytes of a request with `Content-Length` and, when `auth` is set, credentials.
pub fn request_bytes(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: test\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" || method == "PUT" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Sends one request on a new connection and reads the answer.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut stream = connect(addr);
    stream
        .write_all(&request_bytes(method, path, headers, body))
        .unwrap();
    read_answer(&mut BufReader::new(stream)).expect("an answer")
}

/// An authenticated request.
pub fn call(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Answer {
    request(addr, method, path, &[("Authorization", AUTH)], body)
}

/// An authenticated GET that must answer 200 with JSON.
pub fn get_json(addr: SocketAddr, path: &str) -> Value {
    let answer = call(addr, "GET", path, b"");
    assert_eq!(answer.status, 200, "GET {path}: {}", answer.text());
    answer.json()
}

/// An authenticated POST of `doc`.
pub fn post_json(addr: SocketAddr, path: &str, doc: &Value) -> Answer {
    call(addr, "POST", path, doc.to_string().as_bytes())
}

/// Submits a task (the POST must answer 200) and returns its id.
pub fn submit(addr: SocketAddr, path: &str, body: &[u8]) -> String {
    let answer = call(addr, "POST", path, body);
    assert_eq!(answer.status, 200, "POST {path}: {}", answer.text());
    answer.json()["_id"].as_str().expect("a task id").to_owned()
}

/// Whether the server answers a status request with 200.
pub fn assert_alive(addr: SocketAddr) {
    let doc = get_json(addr, "/v2/worker/status");
    assert_eq!(doc["status"], "ok");
}

pub fn is_terminal(status: &str) -> bool {
    matches!(status, "done" | "fail" | "invalid")
}

/// Polls a task until it is terminal, calling `seen` with every document read.
pub fn wait_task_with(addr: SocketAddr, id: &str, mut seen: impl FnMut(&Value)) -> Value {
    let start = Instant::now();
    loop {
        let doc = get_json(addr, &format!("/v2/tasks/{id}"));
        seen(&doc);
        if is_terminal(doc["status"].as_str().unwrap_or("")) {
            return doc;
        }
        assert!(start.elapsed() < TASK_LIMIT, "task {id} stuck: {doc}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// Polls a task until it is terminal.
pub fn wait_task(addr: SocketAddr, id: &str) -> Value {
    wait_task_with(addr, id, |_| {})
}

/// Polls a task until its status is `status` (which must not be passed by).
pub fn wait_status(addr: SocketAddr, id: &str, status: &str) -> Value {
    let start = Instant::now();
    loop {
        let doc = get_json(addr, &format!("/v2/tasks/{id}"));
        if doc["status"] == status {
            return doc;
        }
        assert!(!is_terminal(doc["status"].as_str().unwrap_or("")), "{doc}");
        assert!(
            start.elapsed() < TASK_LIMIT,
            "task {id} never became {status}: {doc}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// Uploads `csv` raw and returns the data id once the upload is done.
pub fn upload(addr: SocketAddr, csv: &str) -> String {
    let task = submit(addr, "/v2/upload", csv.as_bytes());
    let doc = wait_task(addr, &task);
    assert_eq!(doc["status"], "done", "{doc}");
    doc["result"]["_id"].as_str().expect("a data id").to_owned()
}

/// A small deterministic generator (64-bit LCG) for test data.
#[derive(Debug, Clone)]
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 42) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// `rows` rows of `x1, x2, y` with y = 3·x1 − 2·x2 + small noise.
pub fn regression_csv(rows: usize, seed: u64) -> String {
    let mut rng = Lcg(seed);
    let mut csv = String::from("x1,x2,y\n");
    for _ in 0..rows {
        let (x1, x2) = (rng.unit() * 10.0, rng.unit() * 10.0);
        let y = 3.0 * x1 - 2.0 * x2 + (rng.unit() - 0.5) * 0.1;
        csv.push_str(&format!("{x1:.4},{x2:.4},{y:.4}\n"));
    }
    csv
}

/// `rows` rows of `a, b, label` where the label is "yes" when a + b > 1: separable.
pub fn binary_csv(rows: usize, seed: u64) -> String {
    let mut rng = Lcg(seed);
    let mut csv = String::from("a,b,label\n");
    for _ in 0..rows {
        let (a, b) = (rng.unit(), rng.unit());
        let label = if a + b > 1.0 { "yes" } else { "no" };
        csv.push_str(&format!("{a:.4},{b:.4},{label}\n"));
    }
    csv
}

/// A wide regression set (`features` columns) that takes a while to train.
pub fn wide_csv(rows: usize, features: usize, seed: u64) -> String {
    let mut rng = Lcg(seed);
    let names: Vec<String> = (0..features).map(|i| format!("f{i}")).collect();
    let mut csv = format!("{},y\n", names.join(","));
    for _ in 0..rows {
        let xs: Vec<f64> = (0..features).map(|_| rng.unit()).collect();
        let y: f64 = xs.iter().enumerate().map(|(i, x)| x * (i % 5) as f64).sum();
        let fields: Vec<String> = xs.iter().map(|x| format!("{x:.3}")).collect();
        csv.push_str(&format!("{},{y:.3}\n", fields.join(",")));
    }
    csv
}

/// How to start the `automl-server` binary for a test.
pub struct Binary<'a> {
    /// The program (`env!("CARGO_BIN_EXE_automl-server")` in the test).
    pub path: &'a str,
    /// Arguments after the address and this module's credentials.
    pub extra: &'a [&'a str],
    /// The child's standard input.
    pub stdin: Stdio,
    /// A descriptor limit for the child alone (`ulimit -n` in a shell that then runs it).
    pub nofile: Option<u32>,
    /// Where the child's standard error goes (`None`: discarded).
    pub stderr: Option<Stdio>,
}

impl Binary<'_> {
    /// Starts it on `127.0.0.1:0` and reads the line saying where it listens; the child,
    /// its address and the rest of its standard output.
    pub fn start(self) -> (Child, SocketAddr, BufReader<ChildStdout>) {
        let mut command = match self.nofile {
            Some(n) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(self.path);
                sh
            }
            None => Command::new(self.path),
        };
        let mut child = command
            .args([
                "--addr",
                "127.0.0.1:0",
                "--user",
                USER,
                "--password",
                PASSWORD,
            ])
            .args(self.extra)
            .stdin(self.stdin)
            .stdout(Stdio::piped())
            .stderr(self.stderr.unwrap_or_else(Stdio::null))
            .spawn()
            .expect("start automl-server");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("automl-server writes its address");
        let addr = line
            .trim_end()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("not an address line: {line:?}"))
            .parse()
            .expect("an address");
        (child, addr, stdout)
    }
}

/// An `automl-server` process started with [`Binary`] (`--exit-on-stdin-close` and
/// `extra`), for tests that read its memory from `/proc`; killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    pub addr: SocketAddr,
    _stdout: BufReader<ChildStdout>,
}

impl ServerProcess {
    /// Starts `path` with `extra` arguments.
    pub fn start(path: &str, extra: &[&str]) -> ServerProcess {
        let mut args = vec!["--exit-on-stdin-close"];
        args.extend_from_slice(extra);
        let (child, addr, stdout) = Binary {
            path,
            extra: &args,
            stdin: Stdio::piped(),
            nofile: None,
            stderr: None,
        }
        .start();
        ServerProcess {
            child,
            addr,
            _stdout: stdout,
        }
    }

    /// A figure of `/proc/PID/status` in KiB (`VmHWM:` the peak RSS, `VmRSS:` now).
    pub fn kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with(field)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
