//! What the server is told at start: where to listen, whom to let in, how many workers,
//! the request limits and the faults to inject.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::faults::Faults;

/// The server's settings. Start from [`ServerConfig::new`] and change fields as needed.
///
/// Its `Debug` output hides the password.
///
/// # Examples
/// ```
/// use taskloop::automl::ServerConfig;
/// let mut config = ServerConfig::new("alice", "secret");
/// config.workers = 1;
/// assert_eq!(config.addr, "127.0.0.1:0");
/// assert!(!format!("{config:?}").contains("secret"));
/// ```
#[derive(Clone, PartialEq)]
pub struct ServerConfig {
    /// Address to bind, `"127.0.0.1:0"` by default (loopback, any free port).
    pub addr: String,
    /// The user name HTTP Basic auth accepts.
    pub user: String,
    /// The password HTTP Basic auth accepts.
    pub password: String,
    /// Worker threads that run uploads, training and predictions (default 2; 0 counts
    /// as 1).
    pub workers: usize,
    /// Most tasks running at once (default: `workers`; 0 counts as 1); the rest wait
    /// as `pending`, first come first served. A value above `workers` lets the extra
    /// `running` tasks queue for a free worker thread.
    pub max_running: usize,
    /// Request size and time limits.
    pub limits: Limits,
    /// Faults to inject (none by default).
    pub faults: Faults,
    /// Where to keep data sets, experiments, models, predictions and tasks so that
    /// they survive a restart or a crash (`--data-dir`; `None`, the default: in memory
    /// only). The directory is created if needed and owned by one server at a time.
    pub data_dir: Option<PathBuf>,
}

/// Default number of worker threads.
const DEFAULT_WORKERS: usize = 2;

impl ServerConfig {
    /// A configuration that accepts `user`/`password`, listens on loopback at a free
    /// port, and uses 2 workers, the default [`Limits`] and no faults.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        ServerConfig {
            addr: "127.0.0.1:0".to_owned(),
            user: user.into(),
            password: password.into(),
            workers: DEFAULT_WORKERS,
            max_running: DEFAULT_WORKERS,
            limits: Limits::default(),
            faults: Faults::default(),
            data_dir: None,
        }
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("addr", &self.addr)
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .field("workers", &self.workers)
            .field("max_running", &self.max_running)
            .field("limits", &self.limits)
            .field("faults", &self.faults)
            .field("data_dir", &self.data_dir)
            .finish()
    }
}

/// Limits on what one request may cost the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted, after chunked decoding (default 64 MiB); a larger
    /// one gets `413` and the connection is closed.
    pub max_body_bytes: usize,
    /// Largest request head (request line and headers; default 16 KiB). Also bounds
    /// the trailers of a chunked body.
    pub max_header_bytes: usize,
    /// Most header fields in a request (default 64).
    pub max_headers: usize,
    /// How long a kept-alive connection may sit idle between requests, and how long
    /// writing an answer may make no progress (default 30 s). Every write that moves
    /// bytes starts the clock again: a client that keeps reading, however slowly, gets
    /// the whole answer; one that stops reading for this long is dropped.
    pub idle_timeout: Duration,
    /// Most time from the first byte of a request to the end of its head (default
    /// 5 s); a slower head gets `408` and the connection is closed. A client sends a
    /// head in one round trip; this bounds what a slowloris connection can hold.
    pub head_timeout: Duration,
    /// How long reading a request (its head or its body) may make no progress (default
    /// 10 s); then `408` and the connection is closed. Every read that brings bytes
    /// starts the clock again, so a body sent slowly but steadily is read in full.
    pub read_timeout: Duration,
    /// Most bytes of request bodies buffered and uploads queued, over all connections
    /// at once (default 384 MiB; never more than a quarter of `max_memory`). A body that does not fit gets `503` with
    /// `Retry-After` and its connection is closed, so many large bodies at once cost
    /// this much memory, not their sum.
    pub max_buffered_bytes: usize,
    /// Most connections open at once (default 1,000; lowered to stay 32 under the
    /// process's descriptor limit). At the limit one connection is closed to admit a
    /// new one: one closing after an error, else the oldest unauthenticated partial
    /// head, else the longest idle; if all are busy, the new one gets `503`.
    pub max_connections: usize,
    /// Most data sets kept, most experiments, and most ended tasks (default 10,000
    /// each); beyond it the oldest are evicted (and answer `404`). `DELETE /v2/data/{id}` and
    /// `DELETE /v2/experiments/{id}` free them earlier.
    pub max_stored_items: usize,
    /// Most bytes of stored data sets and experiments (default 1 GiB; never more than
    /// half of what `max_memory` leaves after request bodies), oldest evicted first; the
    /// item just made is kept even if it alone is larger. A data set counts its CSV, its
    /// columns (8 bytes a cell, the text of every level), its column names and its
    /// document; an experiment its documents and its models' documents.
    pub max_stored_bytes: usize,
    /// The server's memory ceiling (`--max-memory`; default half the machine's memory
    /// as `/proc/meminfo` gives it, 4 GiB where that cannot be read). Request bodies get
    /// at most a quarter of it (`max_buffered_bytes` if lower); stored data and the
    /// working memory of running trains and predicts share the rest. Before a train or
    /// predict allocates, it estimates its working memory from its rows, its encoded
    /// width and the algorithm, and ends `fail` (saying how much it needed and the
    /// limit) if that does not fit.
    pub max_memory: usize,
    /// Most bytes the data directory may hold (`--max-disk`; `None`, the default: as
    /// much as the disk has). An upload that would not fit is refused with `507`, as is
    /// every new task while the directory is over it; a job whose product does not fit
    /// ends `fail` saying so. Nothing stored is evicted to make room: delete data sets
    /// or experiments to free it. Without a data directory it has no effect.
    pub max_disk: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 * 1024 * 1024,
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            idle_timeout: Duration::from_secs(30),
            head_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            max_buffered_bytes: 384 * 1024 * 1024,
            max_connections: 1000,
            max_stored_items: 10_000,
            max_stored_bytes: 1024 * 1024 * 1024,
            max_memory: super::memory::default_max_memory(),
            max_disk: None,
        }
    }
}
