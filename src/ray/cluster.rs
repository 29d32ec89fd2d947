//! [`Cluster`]: a connection to a Ray cluster's dashboard, the entry point of the Ray
//! client.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::RayError;
use super::http::{Call, Transport};
use crate::flow::Backoff;
use crate::rest::{PollInterval, Retries};

/// A connection to a Ray cluster through its dashboard's Jobs API (default port 8265):
/// URL, optional token, retry and poll settings. Cheap to clone and `Send + Sync`. Its
/// `Debug` output never shows the token.
///
/// [`job`](Cluster::job) declares a Ray job in a [`Flow`](crate::flow::Flow) and returns
/// a typed [`Job`](crate::flow::Job) handle at once; the job is submitted when the flow
/// runs and its inputs are done.
///
/// # Examples
/// Connecting checks the dashboard (here nothing listens, so it fails at once):
/// ```
/// use taskloop::ray::{Cluster, RayError};
///
/// let refused = Cluster::connect("http://127.0.0.1:9");
/// assert!(matches!(refused, Err(RayError::Unreachable { .. })));
/// ```
#[derive(Clone)]
pub struct Cluster {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Arc<Transport>,
    pub(crate) poll: PollInterval,
    pub(crate) stop_wait: Duration,
    ray_version: String,
    id_prefix: String,
    next_id: AtomicU64,
}

/// Configures a [`Cluster`].
#[derive(Clone)]
pub struct ClusterBuilder {
    url: String,
    token: Option<String>,
    poll: PollInterval,
    retries: Retries,
    request_timeout: Duration,
    stop_wait: Duration,
}

impl fmt::Debug for ClusterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterBuilder")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("poll", &self.poll)
            .field("stop_wait", &self.stop_wait)
            .finish_non_exhaustive()
    }
}

impl ClusterBuilder {
    /// Sends `token` with every request (`Authorization: Bearer`), for clusters started
    /// with `RAY_AUTH_MODE=token`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Takes the token where Ray's own CLI looks for it: the `RAY_AUTH_TOKEN` variable,
    /// else the file named by `RAY_AUTH_TOKEN_PATH`, else `~/.ray/auth_token`. Leaves the
    /// builder as it is if none of them holds a token.
    pub fn token_from_env(mut self) -> Self {
        if let Some(token) = token_from_env() {
            self.token = Some(token);
        }
        self
    }

    /// How Ray jobs poll their status (default: [`PollInterval::default`], 5 ms doubling
    /// to 2 s, as for the AutoML client).
    pub fn poll_interval(mut self, poll: PollInterval) -> Self {
        self.poll = poll;
        self
    }

    /// How many times one request is tried on transient faults (default 8).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.retries.attempts = attempts.max(1);
        self
    }

    /// The back-off between tries of one request (default: 50 ms doubling to 2 s, jitter).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.retries.backoff = backoff;
        self
    }

    /// The longest one HTTP exchange may take (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long a cancelled or timed-out job waits for Ray to report its job `STOPPED`
    /// (default 30 s; Ray itself gives a job 3 s to exit after `SIGTERM`, then kills it).
    pub fn stop_wait(mut self, wait: Duration) -> Self {
        self.stop_wait = wait;
        self
    }

    /// Connects: checks `GET /api/version` (retrying only overload answers).
    ///
    /// # Errors
    /// [`RayError::Unreachable`] if nothing answers, [`RayError::Unauthorized`] if the
    /// cluster wants a token and none was given (`401`) or refuses the token (`403`),
    /// [`RayError::Protocol`] if the answer is not a Ray dashboard's.
    pub fn connect(self) -> Result<Cluster, RayError> {
        let mut cluster = self.build();
        let version = check_version(&cluster.inner.transport)?;
        Arc::get_mut(&mut cluster.inner)
            .expect("a new cluster handle is not shared yet")
            .ray_version = version;
        Ok(cluster)
    }

    /// The handle, without checking the dashboard.
    pub fn build(self) -> Cluster {
        let agent = crate::rest::agent(self.request_timeout);
        let transport = Transport::new(&self.url, self.token, agent, self.retries);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Cluster {
            inner: Arc::new(Inner {
                transport: Arc::new(transport),
                poll: self.poll,
                stop_wait: self.stop_wait,
                ray_version: String::new(),
                id_prefix: format!("{:x}-{:x}", std::process::id(), nanos),
                next_id: AtomicU64::new(0),
            }),
        }
    }
}

impl Cluster {
    /// Connects to the dashboard at `url` (`http://host:8265`) without a token.
    ///
    /// # Errors
    /// As [`ClusterBuilder::connect`].
    pub fn connect(url: &str) -> Result<Cluster, RayError> {
        Cluster::builder(url).connect()
    }

    /// A [`ClusterBuilder`] with the default settings.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use taskloop::ray::{Cluster, PollInterval};
    ///
    /// let builder = Cluster::builder("http://127.0.0.1:8265")
    ///     .token("my-token")
    ///     .poll_interval(PollInterval { initial: Duration::from_millis(100), factor: 2.0, max: Duration::from_secs(5) })
    ///     .stop_wait(Duration::from_secs(10));
    /// assert!(!format!("{builder:?}").contains("my-token"));
    /// let cluster = builder.build(); // no request yet; `connect()` checks the dashboard
    /// assert_eq!(cluster.url(), "http://127.0.0.1:8265");
    /// ```
    pub fn builder(url: &str) -> ClusterBuilder {
        ClusterBuilder {
            url: url.to_string(),
            token: None,
            poll: PollInterval::default(),
            retries: Retries {
                attempts: 8,
                backoff: Backoff {
                    initial: Duration::from_millis(50),
                    factor: 2.0,
                    max: Duration::from_secs(2),
                    jitter: true,
                },
            },
            request_timeout: Duration::from_secs(60),
            stop_wait: Duration::from_secs(30),
        }
    }

    /// The dashboard's base URL.
    pub fn url(&self) -> &str {
        &self.inner.transport.base
    }

    /// The cluster's Ray version, as `GET /api/version` reported it on connect (empty
    /// for a handle made with [`ClusterBuilder::build`]).
    pub fn ray_version(&self) -> &str {
        &self.inner.ray_version
    }

    /// A fresh submission id for a job named `name`: readable in Ray's dashboard, and
    /// unique (process id, start time of this handle, counter).
    pub(crate) fn new_submission_id(&self, name: &str) -> String {
        let n = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let slug = slug(name);
        let prefix = &self.inner.id_prefix;
        if slug.is_empty() {
            format!("taskloop-{prefix}-{n}")
        } else {
            format!("taskloop-{slug}-{prefix}-{n}")
        }
    }
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("transport", &self.inner.transport)
            .field("ray_version", &self.inner.ray_version)
            .finish_non_exhaustive()
    }
}

/// `GET /api/version`: Ray's version, or why the dashboard is not usable.
fn check_version(transport: &Transport) -> Result<String, RayError> {
    let not_ray = |what: String| {
        RayError::protocol(format!(
            "{} does not look like a Ray dashboard (default port 8265): GET /api/version {what}",
            transport.base
        ))
    };
    let answer = match transport.call_sync(&Call::get("/api/version"), false) {
        Ok(answer) => answer,
        Err(RayError::Rejected { status, message }) => {
            return Err(not_ray(format!("answered {status} ({message})")))
        }
        Err(RayError::Protocol { message }) => return Err(not_ray(format!("failed: {message}"))),
        Err(e) => return Err(e),
    };
    match (answer["ray_version"].as_str(), answer["version"].as_str()) {
        (Some(ray), Some(_api)) => Ok(ray.to_string()),
        _ => Err(not_ray(format!(
            "answered {}, without `version` and `ray_version`",
            super::details::shorten(&answer.to_string(), 120)
        ))),
    }
}

/// The token from `RAY_AUTH_TOKEN`, `RAY_AUTH_TOKEN_PATH` or `~/.ray/auth_token`.
fn token_from_env() -> Option<String> {
    let nonempty = |s: String| Some(s.trim().to_string()).filter(|t| !t.is_empty());
    if let Some(token) = std::env::var("RAY_AUTH_TOKEN").ok().and_then(nonempty) {
        return Some(token);
    }
    let path = match std::env::var_os("RAY_AUTH_TOKEN_PATH") {
        Some(path) => std::path::PathBuf::from(path),
        None => std::path::PathBuf::from(std::env::var_os("HOME")?).join(".ray/auth_token"),
    };
    std::fs::read_to_string(path).ok().and_then(nonempty)
}

/// A job name as a submission id part: lower-case letters, digits and dashes, at most
/// 32 characters.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 32 {
            break;
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submission_ids_are_readable_and_unique() {
        assert_eq!(slug("A: process training data"), "a-process-training-data");
        assert_eq!(slug("::"), "");
        assert_eq!(slug(&"x".repeat(50)).len(), 32);
        let cluster = Cluster::builder("http://127.0.0.1:1").build();
        let (a, b) = (
            cluster.new_submission_id("C: train"),
            cluster.new_submission_id("C: train"),
        );
        assert!(a.starts_with("taskloop-c-train-"), "{a}");
        assert_ne!(a, b);
        assert!(cluster.new_submission_id("").starts_with("taskloop-"));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let builder = Cluster::builder("http://127.0.0.1:1").token("tok-secret-1");
        let cluster = builder.clone().build();
        let text = format!("{builder:?} {cluster:?}");
        assert!(!text.contains("tok-secret-1"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
}
