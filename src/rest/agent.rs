//! The `ureq` side both clients share: the agent, and what an exchange that got no
//! answer means.

use std::io;

/// The Ray client's `ureq` agent: statuses are answers, not errors (the client reads the
/// server's text), and every exchange is bounded by `request_timeout`. (The AutoML
/// client builds its own, with TLS and a cached resolver: `automl/client/agent.rs`.)
#[cfg(feature = "ray")]
pub(crate) fn agent(request_timeout: std::time::Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(request_timeout))
        .timeout_connect(Some(std::time::Duration::from_secs(5)))
        .max_idle_connections_per_host(64)
        .build()
        .into()
}

/// Why an exchange got no answer.
#[derive(Debug)]
pub(crate) enum NoAnswer {
    /// The server could not be reached, or stopped answering: refused, reset, name not
    /// found, timed out. Worth trying again.
    Unreachable {
        message: String,
        io: Option<io::Error>,
    },
    /// Anything else `ureq` refused (a malformed answer, say).
    Other(String),
}

impl From<ureq::Error> for NoAnswer {
    fn from(e: ureq::Error) -> NoAnswer {
        let unreachable = |message: String, io| NoAnswer::Unreachable { message, io };
        match e {
            ureq::Error::Io(io) => unreachable(io.to_string(), Some(io)),
            ureq::Error::Timeout(t) => unreachable(format!("timed out ({t})"), None),
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
                unreachable(e.to_string(), None)
            }
            other => NoAnswer::Other(other.to_string()),
        }
    }
}
