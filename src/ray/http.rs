//! The Ray client's HTTP layer: one blocking `ureq` exchange per try, run on the worker
//! pool by the shared retry loop ([`crate::rest`]); Ray's answers are JSON, its
//! refusals plain text (often a Python traceback, of which errors quote the last line).
//!
//! Every answer is scrubbed of the token before anything reads it, so neither a result
//! nor an error can carry it, whatever Ray sends back.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::Value;

use super::details::shorten;
use super::error::RayError;
use crate::rest::{retry_here, retry_on_pool, NoAnswer, Retries};

/// Largest answer the client reads (logs included).
const MAX_ANSWER: u64 = 64 * 1024 * 1024;

/// The dashboard's address, the token, and how requests are retried.
pub(crate) struct Transport {
    pub(crate) base: String,
    token: Option<String>,
    agent: ureq::Agent,
    pub(crate) retries: Retries,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// One request to the Jobs API.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    method: &'static str,
    pub(crate) path: String,
    body: Option<Arc<Vec<u8>>>,
}

impl Call {
    pub(crate) fn get(path: impl Into<String>) -> Call {
        Call {
            method: "GET",
            path: path.into(),
            body: None,
        }
    }

    pub(crate) fn post(path: impl Into<String>, body: Option<&Value>) -> Call {
        Call {
            method: "POST",
            path: path.into(),
            body: body.map(|b| Arc::new(b.to_string().into_bytes())),
        }
    }
}

impl Transport {
    pub(crate) fn new(
        base: &str,
        token: Option<String>,
        agent: ureq::Agent,
        retries: Retries,
    ) -> Transport {
        Transport {
            base: base.trim_end_matches('/').to_string(),
            token: token.filter(|t| !t.is_empty()),
            agent,
            retries,
        }
    }

    /// Sends `call` on the worker pool, retrying transient faults with back-off on loop
    /// timers; returns the answer's JSON.
    pub(crate) async fn call(self: &Arc<Self>, call: Call) -> Result<Value, RayError> {
        let make = |_attempt| {
            let (this, call) = (self.clone(), call.clone());
            move || this.exchange(&call)
        };
        retry_on_pool(self.retries, make, RayError::is_transient, lost).await
    }

    /// Submits a job (`POST /api/jobs/` with `body`, which names the submission id). A
    /// retry that Ray answers "already exists" means an earlier try went through and
    /// only its answer was lost: that counts as submitted. `in_flight` counts the tries
    /// that are on their way, from just before a worker can start one until it ends.
    pub(crate) async fn submit(
        self: &Arc<Self>,
        body: &Value,
        in_flight: &Arc<AtomicUsize>,
    ) -> Result<(), RayError> {
        let call = Call::post("/api/jobs/", Some(body));
        let make = |attempt: u32| {
            let (this, call) = (self.clone(), call.clone());
            in_flight.fetch_add(1, Ordering::AcqRel);
            let landed = Landed(in_flight.clone());
            move || {
                let _landed = landed;
                match this.exchange(&call) {
                    Ok(_) => Ok(()),
                    Err(e) if attempt > 1 && e.is_already_exists() => Ok(()),
                    Err(e) => Err(e),
                }
            }
        };
        retry_on_pool(self.retries, make, RayError::is_transient, lost).await
    }

    /// The same as [`call`](Transport::call) on the calling thread, for synchronous
    /// callers outside any flow. `retry_unreachable: false` retries only overload
    /// answers, so that a wrong address fails at once.
    pub(crate) fn call_sync(
        &self,
        call: &Call,
        retry_unreachable: bool,
    ) -> Result<Value, RayError> {
        let retry = |e: &RayError| {
            let unreachable = matches!(e, RayError::Unreachable { .. });
            (retry_unreachable || !unreachable) && e.is_transient()
        };
        retry_here(self.retries, || self.exchange(call), retry)
    }

    /// One try, blocking: the answer's JSON, or why there is none.
    pub(crate) fn exchange(&self, call: &Call) -> Result<Value, RayError> {
        let mut response = self.send(call)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_string()
            .map_err(|e| self.transport_error(e))?;
        let text = self.scrub(text);
        match status {
            200..=299 => serde_json::from_str(&text).map_err(|_| {
                RayError::protocol(format!(
                    "{} {} answered {status} with something that is not JSON (it starts with {:?})",
                    call.method,
                    call.path,
                    shorten(&text, 80)
                ))
            }),
            401 | 403 => Err(RayError::Unauthorized {
                status,
                message: ray_text(&text),
            }),
            _ => Err(RayError::Rejected {
                status,
                message: ray_text(&text),
            }),
        }
    }

    fn send(&self, call: &Call) -> Result<ureq::http::Response<ureq::Body>, RayError> {
        let url = format!("{}{}", self.base, call.path);
        let mut builder = ureq::http::Request::builder()
            .method(call.method)
            .uri(&url)
            .header("Accept", "application/json");
        if let Some(token) = &self.token {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        let result = match &call.body {
            None => self.agent.run(builder.body(()).map_err(bad_request)?),
            Some(bytes) => {
                let builder = builder.header("Content-Type", "application/json");
                let request = builder.body(bytes.as_slice()).map_err(bad_request)?;
                self.agent.run(request)
            }
        };
        result.map_err(|e| self.transport_error(e))
    }

    /// Replaces the token wherever it appears in `text`.
    fn scrub(&self, text: String) -> String {
        match &self.token {
            Some(token) if text.contains(token.as_str()) => {
                text.replace(token.as_str(), "<redacted>")
            }
            _ => text,
        }
    }

    fn transport_error(&self, e: ureq::Error) -> RayError {
        match NoAnswer::from(e) {
            NoAnswer::Unreachable { message, io } => RayError::Unreachable {
                url: self.base.clone(),
                message,
                io,
            },
            NoAnswer::Other(message) => RayError::protocol(self.scrub(message)),
        }
    }
}

/// Counts a submit try as landed when dropped (on the worker, or with the try if it
/// never ran).
struct Landed(Arc<AtomicUsize>);

impl Drop for Landed {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn lost(e: crate::JoinError) -> RayError {
    RayError::protocol(format!("the HTTP call did not complete: {e}"))
}

fn bad_request(e: ureq::http::Error) -> RayError {
    RayError::protocol(format!("cannot build the request: {e}"))
}

/// What to quote of a refusal: for a Python traceback, its last line (the exception);
/// otherwise the text, shortened.
pub(crate) fn ray_text(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "(no text)".to_string();
    }
    let quoted = if text.contains("Traceback (most recent call last)") {
        let mut lines = text.lines().map(str::trim).rev();
        lines.find(|l| !l.is_empty() && *l != ".").unwrap_or(text)
    } else {
        text
    };
    shorten(quoted, 500).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceback_is_quoted_by_its_last_line() {
        let text = "Traceback (most recent call last):\n  File \"x.py\", line 1\n    raise ValueError(\nValueError: Job with submission_id t1 already exists. Please use a different submission_id.\n.\n";
        assert_eq!(
            ray_text(text),
            "ValueError: Job with submission_id t1 already exists. Please use a different submission_id."
        );
        assert_eq!(
            ray_text("Job nope does not exist"),
            "Job nope does not exist"
        );
        assert_eq!(ray_text("  \n"), "(no text)");
        assert_eq!(ray_text(&"x".repeat(900)).len(), 500);
    }

    #[test]
    fn answers_are_scrubbed_of_the_token() {
        let retries = Retries {
            attempts: 1,
            backoff: crate::flow::Backoff::default(),
        };
        let agent = crate::rest::agent(std::time::Duration::from_secs(1));
        let t = Transport::new(
            "http://127.0.0.1:1/",
            Some("tok-123".into()),
            agent,
            retries,
        );
        assert_eq!(t.base, "http://127.0.0.1:1");
        assert_eq!(
            t.scrub("a tok-123 b tok-123".into()),
            "a <redacted> b <redacted>"
        );
        assert!(!format!("{t:?}").contains("tok-123"));
    }
}
