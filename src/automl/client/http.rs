//! The client's HTTP layer: blocking `ureq` calls run on the worker pool; the waits
//! between retries are loop timers, so a waiting request holds no thread.

use std::sync::Arc;

use serde_json::Value;

use super::error::AutomlError;
use super::form;
use super::health::Health;
use super::source::CsvSource;
use crate::flow::Backoff;
use crate::rest::NoAnswer;

/// How requests are retried and how long each may take.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    pub(crate) base: String,
    pub(crate) authorization: String,
    pub(crate) agent: ureq::Agent,
    pub(crate) attempts: u32,
    pub(crate) backoff: Backoff,
    /// The server-down detector every request of the context goes through.
    pub(crate) health: Arc<Health>,
}

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    Empty,
    Json(Arc<Vec<u8>>),
    /// An upload form; the boundary is chosen once per request, so that every attempt
    /// sends the same bytes (the server matches a retry to its first attempt by the
    /// idempotency key and the body).
    Csv(CsvSource, Arc<str>),
}

/// One API request.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: &'static str,
    pub(crate) path: String,
    pub(crate) payload: Payload,
    pub(crate) idempotency_key: Option<String>,
}

impl Request {
    pub(crate) fn get(path: impl Into<String>) -> Request {
        Request {
            method: "GET",
            path: path.into(),
            payload: Payload::Empty,
            idempotency_key: None,
        }
    }

    pub(crate) fn put(path: impl Into<String>) -> Request {
        Request {
            method: "PUT",
            ..Request::get(path)
        }
    }

    pub(crate) fn post_json(path: impl Into<String>, body: &Value, key: String) -> Request {
        Request {
            method: "POST",
            path: path.into(),
            payload: Payload::Json(Arc::new(body.to_string().into_bytes())),
            idempotency_key: Some(key),
        }
    }

    pub(crate) fn post_csv(path: impl Into<String>, source: CsvSource, key: String) -> Request {
        Request {
            method: "POST",
            path: path.into(),
            payload: Payload::Csv(source, form::boundary().into()),
            idempotency_key: Some(key),
        }
    }

    fn can_resend(&self) -> bool {
        match &self.payload {
            Payload::Csv(source, _) => source.can_resend(),
            _ => true,
        }
    }
}

/// Observes the answers of a request on the worker thread that received them.
pub(crate) trait Watch: Send + Sync {
    /// Called with each attempt's result, before the waiting task hears of it.
    fn answered(&self, transport: &Transport, result: &Result<Value, AutomlError>);
}

/// Largest JSON answer the client reads.
const MAX_JSON: u64 = 64 * 1024 * 1024;

impl Transport {
    /// Sends `req` on the worker pool, retrying transient faults with back-off on loop
    /// timers, and returns the answer's JSON.
    pub(crate) async fn call(self: &Arc<Self>, req: Request) -> Result<Value, AutomlError> {
        self.call_watched(req, None).await
    }

    /// [`call`](Transport::call), with `watch` told of every answer on the worker
    /// thread, the moment it arrives (even if the caller has stopped waiting).
    pub(crate) async fn call_watched(
        self: &Arc<Self>,
        req: Request,
        watch: Option<Arc<dyn Watch>>,
    ) -> Result<Value, AutomlError> {
        let can_resend = req.can_resend();
        let make = |_attempt| {
            let (this, sent, watch) = (self.clone(), req.clone(), watch.clone());
            move || {
                let result = this.try_once(|| this.exchange(&sent))?;
                if let Some(w) = watch {
                    w.answered(&this, &result);
                }
                Some(result)
            }
        };
        self.retry_on_pool(can_resend, make).await
    }

    /// The same as [`call`](Transport::call), on the calling thread (for synchronous
    /// callers outside any flow). `retry_unconnected: false` fails at once when no
    /// connection could be made at all (refused, no such host), so that a wrong address
    /// is reported without waiting; a connection dropped or timed out after it was made,
    /// and overload answers (`429`, `5xx`), are retried either way.
    pub(crate) fn call_sync(
        &self,
        req: &Request,
        retry_unconnected: bool,
    ) -> Result<Value, AutomlError> {
        self.retry_here(req.can_resend(), retry_unconnected, || self.exchange(req))
    }

    /// One try, blocking, outside any retry loop (a stop request): sent unless the
    /// server is down, its outcome recorded.
    pub(crate) fn call_blocking(&self, req: &Request) -> Result<Value, AutomlError> {
        self.health.admit_once()?;
        self.health.note(self.exchange(req))
    }

    /// One exchange, blocking, without asking the detector.
    fn exchange(&self, req: &Request) -> Result<Value, AutomlError> {
        let mut response = self.send(req)?;
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_JSON)
            .read_to_vec()
            .map_err(|e| self.transport_error(e))?;
        serde_json::from_slice(&body).map_err(|_| {
            let start = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
            AutomlError::protocol(format!("the answer is not JSON (it starts with {start:?})"))
        })
    }

    /// Streams a `GET` answer into a writer that `open` makes afresh for every attempt
    /// (a dropped download starts over, retried like any transient fault); returns the
    /// number of bytes and the writer.
    pub(crate) fn download<W: std::io::Write>(
        &self,
        path: &str,
        mut open: impl FnMut() -> std::io::Result<W>,
    ) -> Result<(u64, W), AutomlError> {
        let req = Request::get(path);
        self.retry_here(true, true, || {
            let response = self.send(&req)?;
            let mut out = open()?;
            let n = self.copy_body(&mut response.into_body().into_reader(), &mut out)?;
            Ok((n, out))
        })
    }

    /// Copies an answer's body: a failed read is the connection's fault (transient), a
    /// failed write the caller's.
    fn copy_body(
        &self,
        body: &mut impl std::io::Read,
        out: &mut impl std::io::Write,
    ) -> Result<u64, AutomlError> {
        let mut buf = vec![0; 64 * 1024];
        let mut total = 0;
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(AutomlError::Unreachable {
                        url: self.base.clone(),
                        message: format!("the download broke off: {e}"),
                        io: Some(e),
                    })
                }
            };
            out.write_all(&buf[..n])?;
            total += n as u64;
        }
    }

    /// Sends one request and turns non-2xx answers into errors quoting the server.
    fn send(&self, req: &Request) -> Result<ureq::http::Response<ureq::Body>, AutomlError> {
        let url = format!("{}{}", self.base, req.path);
        let builder = ureq::http::Request::builder()
            .method(req.method)
            .uri(&url)
            .header("Authorization", &self.authorization)
            .header("Accept", "application/json");
        let builder = match &req.idempotency_key {
            Some(key) => builder.header("Idempotency-Key", key),
            None => builder,
        };
        let result = match &req.payload {
            Payload::Empty => self.agent.run(builder.body(()).map_err(bad_request)?),
            Payload::Json(bytes) => {
                let builder = builder.header("Content-Type", "application/json");
                self.agent
                    .run(builder.body(bytes.as_slice()).map_err(bad_request)?)
            }
            Payload::Csv(source, boundary) => {
                let form = form::open(source, boundary)?;
                let builder = builder.header("Content-Type", &form.content_type);
                let builder = match form.len {
                    Some(len) => builder.header("Content-Length", len),
                    None => builder,
                };
                let body = ureq::SendBody::from_owned_reader(form.body);
                self.agent.run(builder.body(body).map_err(bad_request)?)
            }
        };
        let mut response = result.map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(response);
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("(no error message; body {:?})", truncate(&text, 80)));
        Err(match status {
            401 => AutomlError::Unauthorized { message },
            _ => AutomlError::Rejected { status, message },
        })
    }

    fn is_https(&self) -> bool {
        self.base
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    }

    fn transport_error(&self, e: ureq::Error) -> AutomlError {
        let tls = |message: String| AutomlError::Tls {
            url: self.base.clone(),
            message,
        };
        match e {
            // rustls reports a refused certificate or a failed handshake as invalid data
            // on the TLS stream.
            ureq::Error::Io(io)
                if io.kind() == std::io::ErrorKind::InvalidData && self.is_https() =>
            {
                return tls(io.to_string())
            }
            ureq::Error::Tls(_) | ureq::Error::TlsRequired => return tls(e.to_string()),
            #[cfg(feature = "tls")]
            ureq::Error::Rustls(_) | ureq::Error::Pem(_) => return tls(e.to_string()),
            // No connection was made: kept apart (as `ConnectionRefused`) so that
            // connecting to a wrong address fails at once.
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
                let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, e.to_string());
                return AutomlError::Unreachable {
                    url: self.base.clone(),
                    message: e.to_string(),
                    io: Some(io),
                };
            }
            _ => {}
        }
        match NoAnswer::from(e) {
            NoAnswer::Unreachable { message, io } => AutomlError::Unreachable {
                url: self.base.clone(),
                message,
                io,
            },
            NoAnswer::Other(message) => AutomlError::protocol(message),
        }
    }
}

fn bad_request(e: ureq::http::Error) -> AutomlError {
    AutomlError::protocol(format!("cannot build the request: {e}"))
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
