//! The bundled AutoML server: the job API described in the repository's
//! `design/06-the-automl-api.md`, over HTTP/1.1, on a taskloop runtime.
//!
//! # How it works
//! [`serve`] starts a thread that runs a taskloop [`Runtime`](crate::Runtime) whose
//! blocking pool has `workers` threads. On that loop:
//!
//! 1. The accept loop spawns one task per connection (`conn`). A connection task
//!    reads requests with `httparse` (`http`), decodes `Content-Length` and chunked
//!    bodies (`body`), and answers them in order; keep-alive and pipelining come free.
//! 2. Each request then meets the injected faults, HTTP Basic auth (`auth`), the
//!    router, the `Idempotency-Key` cache (`idempotency`) and its handler (`app`,
//!    `handlers`). Handlers never block: they read the state or submit a task.
//! 3. A task is created `pending` in the task table (`tasks`); the dispatcher
//!    (`worker`) hands at most `max_running` jobs at a time to `spawn_blocking`. The
//!    jobs (`jobs`) parse CSV, train and predict with the crate's ML engine
//!    (`automl/ml`), report progress, and leave their products in the store (`store`).
//!
//! Everything the workers and the loop share sits behind one `Arc<Mutex<..>>`
//! (`state`), locked briefly and never across an `.await`. By default the server keeps
//! everything in memory and stopping it discards it; with
//! [`ServerConfig::data_dir`] (`automl-server --data-dir DIR`) data sets, experiments,
//! models and tasks are also kept in a directory (`disk`: SQLite rows and whole files,
//! crash-safe) and a restarted server answers every id as before.
//!
//! A production service would authenticate with something better than one shared
//! password and put TLS in front.
//!
//! # Examples
//! ```
//! use std::io::{Read, Write};
//! use taskloop::automl::{serve, ServerConfig};
//!
//! let server = serve(ServerConfig::new("user", "pass")).unwrap();
//! let mut conn = std::net::TcpStream::connect(server.addr()).unwrap();
//! // "dXNlcjpwYXNz" is base64("user:pass").
//! conn.write_all(b"GET /v2/worker/status HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\
//!                  Connection: close\r\n\r\n").unwrap();
//! let mut answer = String::new();
//! conn.read_to_string(&mut answer).unwrap();
//! assert!(answer.starts_with("HTTP/1.1 200 OK"));
//! assert!(answer.contains(r#""status":"ok""#));
//! server.shutdown();
//! ```

mod app;
mod auth;
mod auto_ts;
mod batch;
mod body;
mod budget;
mod cluster;
mod config;
mod conn;
mod conns;
mod disk;
mod documents;
mod download;
mod error;
mod faults;
mod handle;
mod handlers;
mod head_watch;
mod http;
mod idempotency;
mod ids;
mod jobs;
mod json;
mod json_cost;
mod listing;
mod memory;
mod multipart;
mod offload;
mod prepare;
mod response;
mod router;
mod state;
mod store;
mod tasks;
mod train_request;
mod worker;

use std::collections::BTreeMap;

pub use config::{Limits, ServerConfig};
pub use faults::Faults;
pub use handle::{serve, ServerHandle};

/// A snapshot of a server's counters, from [`ServerHandle::stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Tasks created, by type (`"upload"`, `"train"`, `"predict"`). A POST replayed
    /// through its `Idempotency-Key` creates nothing and is not counted.
    pub tasks_submitted: BTreeMap<String, u64>,
    /// Finished tasks by final status (`"done"`, `"fail"`, `"invalid"`).
    pub tasks_finished: BTreeMap<String, u64>,
    /// Failed tasks that were stopped (`PUT /v2/tasks/{id}/stop`).
    pub tasks_stopped: u64,
    /// Requests read in full, including those answered with an injected fault (bytes
    /// refused while parsing, e.g. a malformed request line, are not counted).
    pub requests: u64,
    /// Requests answered by closing the connection (injected).
    pub faults_dropped: u64,
    /// Requests answered `503` (injected).
    pub faults_503: u64,
    /// Tasks holding a worker slot now.
    pub running: usize,
    /// Tasks waiting for a slot now.
    pub pending: usize,
}
