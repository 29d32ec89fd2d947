//! [`Context`]: a connection to an AutoML server, the entry point of the client.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::agent::{agent, base_url, Roots};
use super::error::AutomlError;
use super::health::Health;
use super::http::{Request, Transport};
use crate::flow::Backoff;
pub use crate::rest::PollInterval;

/// The server's answer to `GET /v2/worker/status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerStatus {
    /// Worker threads.
    pub workers: u64,
    /// Tasks running.
    pub running: u64,
    /// Tasks waiting.
    pub pending: u64,
}

/// A connection to an AutoML server: base URL, credentials, retry and poll settings.
/// Cheap to clone and `Send + Sync`. Its `Debug` output never shows the password.
///
/// Declaring jobs ([`upload`](Context::upload), [`setup`](Context::setup),
/// [`train`](Context::train), [`predict`](Context::predict)) returns typed
/// [`Job`](crate::flow::Job) handles at once; the work happens when the flow runs.
///
/// # Examples
/// Upload the training data (A) and the data to predict (B) at once, train (C) when A is
/// in, predict (D) when C and B are done, then read the results from the handles:
/// ```
/// use taskloop::automl::{serve, Context, CsvSource, PredictInput, ServerConfig, TrainInput};
/// use taskloop::flow::Flow;
///
/// // The bundled server, in-process on a free loopback port.
/// let server = serve(ServerConfig::new("me", "secret"))?;
/// let ctx = Context::connect(&server.url(), "me", "secret")?;
///
/// let rows = (0..60).map(|i| vec![i.to_string(), (2 * i + 1).to_string()]);
/// let mut flow = Flow::new();
/// let a = ctx.upload(&mut flow, "A: training data", CsvSource::rows("train.csv", &["x", "y"], rows));
/// let b = ctx.upload(&mut flow, "B: new data", CsvSource::text("new.csv", "x\n100\n"));
/// let c = ctx.train(&mut flow, "C: train", TrainInput::new(&a, "y").algos(["GLM"]).nfold(2));
/// let d = ctx.predict(&mut flow, "D: predict", PredictInput::new(&b, &c));
/// assert!(flow.run().is_success());
///
/// let experiment = c.result()?;
/// assert_eq!(experiment.best_model("auto").unwrap().algo, "GLM");
/// let prediction = d.result()?.frame()?.column("prediction").unwrap().text(0).unwrap().parse::<f64>()?;
/// assert!((prediction - 201.0).abs() < 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Context {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Arc<Transport>,
    pub(crate) user: String,
    pub(crate) poll: PollInterval,
    key_prefix: String,
    next_key: AtomicU64,
}

/// Configures a [`Context`].
#[derive(Clone)]
pub struct ContextBuilder {
    url: String,
    user: String,
    password: String,
    poll: PollInterval,
    attempts: u32,
    backoff: Backoff,
    request_timeout: Duration,
    down_after: Duration,
    roots: Roots,
}

impl fmt::Debug for ContextBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextBuilder")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl ContextBuilder {
    /// How remote jobs poll their tasks.
    pub fn poll_interval(mut self, poll: PollInterval) -> Self {
        self.poll = poll;
        self
    }

    /// How many times one request is tried on transient faults (default 8). A server
    /// that stops answering altogether is the business of
    /// [`server_down_after`](ContextBuilder::server_down_after) instead: while it is
    /// silent, requests wait for its verdict rather than give up one by one.
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The back-off between tries of one request (default: 50 ms doubling to 2 s, jitter).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The longest one HTTP exchange may take (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long the server may stay silent before the context gives up on it
    /// (default 10 s).
    ///
    /// Silent means: every exchange of this context (and its clones) failed at the
    /// connection level (refused, reset, closed or timed out without an answer), at
    /// least three of them, and none got an answer (of any status: a `503` is an
    /// answer). While the server is silent, waiting exchanges retry past their
    /// [`attempts`](ContextBuilder::attempts) but only one try is let out every 250 ms,
    /// so that many jobs do not hammer a dead server. Once it has been silent this long,
    /// the server is *down*: every waiting and every new request and job of the context
    /// fails with [`AutomlError::ServerDown`], nothing more is sent, and a flow does not
    /// retry those jobs.
    ///
    /// A job waiting on a dead server fails at most this long after the first
    /// connection failure, plus one [`backoff`](ContextBuilder::backoff) maximum (2 s by
    /// default) or one [`poll_interval`](ContextBuilder::poll_interval) maximum (2 s),
    /// whichever it was waiting out. An exchange already under way when the server
    /// vanished ends first, at most one [`request_timeout`](ContextBuilder::request_timeout)
    /// later (a refused or reset connection ends at once; connecting gives up after
    /// 5 s). Choose longer than a restart of the server takes.
    pub fn server_down_after(mut self, silence: Duration) -> Self {
        self.down_after = silence;
        self
    }

    /// Trusts the CA certificates in this PEM file for `https://` servers, instead of the
    /// platform's trust store (for a private CA or a self-signed server). Needs the `tls`
    /// feature (on by default).
    pub fn ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.roots = Roots::CaFile(path.into());
        self
    }

    /// Connects: checks the settings, then `GET /v2/worker/status` (retrying only
    /// overload answers).
    ///
    /// # Errors
    /// [`AutomlError::Config`] for settings that cannot work (see
    /// [`build`](ContextBuilder::build)), [`AutomlError::Unreachable`] if nothing answers,
    /// [`AutomlError::Tls`] if no TLS connection can be made,
    /// [`AutomlError::Unauthorized`] if the credentials are refused,
    /// [`AutomlError::Protocol`] if the answer is not the API's.
    pub fn connect(self) -> Result<Context, AutomlError> {
        let ctx = self.build()?;
        ctx.worker_status()?;
        Ok(ctx)
    }

    /// The context, without asking the server anything.
    ///
    /// # Errors
    /// [`AutomlError::Config`] if the URL is malformed or its scheme is neither `http`
    /// nor `https` (or `https` without the `tls` feature), the user or password is
    /// empty, or the CA file cannot be read.
    pub fn build(self) -> Result<Context, AutomlError> {
        let base = base_url(&self.url)?;
        if self.user.is_empty() {
            return Err(AutomlError::config("the user name is empty"));
        }
        if self.password.is_empty() {
            return Err(AutomlError::config("the password is empty"));
        }
        let agent = agent(self.request_timeout, &self.roots)?;
        let transport = Transport {
            authorization: basic_auth(&self.user, &self.password),
            agent,
            attempts: self.attempts,
            backoff: self.backoff,
            health: Arc::new(Health::new(&base, self.down_after)),
            base,
        };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Ok(Context {
            inner: Arc::new(Inner {
                transport: Arc::new(transport),
                user: self.user,
                poll: self.poll,
                key_prefix: format!("tl-{:x}-{:x}", std::process::id(), nanos),
                next_key: AtomicU64::new(0),
            }),
        })
    }
}

impl Context {
    /// Connects to the server at `url` (`http://host:port`) with HTTP Basic credentials.
    ///
    /// # Errors
    /// As [`ContextBuilder::connect`].
    ///
    /// # Examples
    /// ```
    /// use taskloop::automl::{serve, AutomlError, Context, ServerConfig};
    ///
    /// let server = serve(ServerConfig::new("me", "secret"))?;
    /// let ctx = Context::connect(&server.url(), "me", "secret")?;
    /// assert_eq!(ctx.url(), server.url());
    /// let refused = Context::connect(&server.url(), "me", "wrong");
    /// assert!(matches!(refused, Err(AutomlError::Unauthorized { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect(url: &str, user: &str, password: &str) -> Result<Context, AutomlError> {
        Context::builder(url, user, password).connect()
    }

    /// A [`ContextBuilder`] with the default settings.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use taskloop::automl::{serve, Context, PollInterval, ServerConfig};
    ///
    /// let server = serve(ServerConfig::new("me", "secret"))?;
    /// let fast = PollInterval { initial: Duration::from_millis(5), factor: 2.0, max: Duration::from_secs(1) };
    /// let ctx = Context::builder(&server.url(), "me", "secret")
    ///     .poll_interval(fast)
    ///     .attempts(3)
    ///     .request_timeout(Duration::from_secs(10))
    ///     .connect()?;
    /// assert_eq!(ctx.worker_status()?.running, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(url: &str, user: &str, password: &str) -> ContextBuilder {
        ContextBuilder {
            url: url.to_string(),
            user: user.to_string(),
            password: password.to_string(),
            poll: PollInterval::default(),
            attempts: 8,
            backoff: Backoff {
                initial: Duration::from_millis(50),
                factor: 2.0,
                max: Duration::from_secs(2),
                jitter: true,
            },
            request_timeout: Duration::from_secs(60),
            down_after: Duration::from_secs(10),
            roots: Roots::default(),
        }
    }

    /// The server's base URL.
    pub fn url(&self) -> &str {
        &self.inner.transport.base
    }

    /// Asks the server how busy it is (blocking; for use outside a flow). An unreachable
    /// server is reported at once; overload answers (`429`, `5xx`) are retried.
    ///
    /// # Errors
    /// As [`ContextBuilder::connect`].
    pub fn worker_status(&self) -> Result<WorkerStatus, AutomlError> {
        let v = self
            .inner
            .transport
            .call_sync(&Request::get("/v2/worker/status"), false)?;
        let n = |field: &str| v[field].as_u64();
        match (
            v["status"].as_str(),
            n("workers"),
            n("running"),
            n("pending"),
        ) {
            (Some(_), Some(workers), Some(running), Some(pending)) => Ok(WorkerStatus {
                workers,
                running,
                pending,
            }),
            _ => Err(AutomlError::protocol(format!(
                "GET /v2/worker/status answered {v}, not a worker status"
            ))),
        }
    }

    /// A fresh idempotency key: one per submitted task, reused by that submit's retries.
    pub(crate) fn new_key(&self) -> String {
        let n = self.inner.next_key.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.inner.key_prefix)
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("url", &self.inner.transport.base)
            .field("user", &self.inner.user)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The `Authorization` header value for HTTP Basic.
fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_is_rfc_7617() {
        assert_eq!(basic_auth("", ""), "Basic Og==");
        assert_eq!(
            basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn debug_never_shows_the_password() {
        let ctx = Context::builder("http://127.0.0.1:1", "ann", "hunter2-secret")
            .build()
            .unwrap();
        let text = format!(
            "{ctx:?} {:?}",
            Context::builder("http://x", "ann", "hunter2-secret")
        );
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("ann"));
    }
}
