//! The AutoML client's error type.

use std::fmt;
use std::io;

/// Why an AutoML call or job failed. Messages quote the server's own `error` text where
/// there is one, and never contain credentials.
#[derive(Debug)]
#[non_exhaustive]
pub enum AutomlError {
    /// The server could not be reached (after retries): connection refused or reset,
    /// name not found, timed out.
    Unreachable {
        /// The server's base URL.
        url: String,
        /// What went wrong.
        message: String,
        /// The I/O error behind it, if there was one (also [`source`]).
        ///
        /// [`source`]: std::error::Error::source
        io: Option<io::Error>,
    },
    /// The server refused the credentials (`401`).
    Unauthorized {
        /// The server's message.
        message: String,
    },
    /// The server rejected the request (a `4xx` other than `401`, or a `5xx` that
    /// persisted through every retry).
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The server's answer did not follow the API contract.
    Protocol {
        /// What was wrong with it.
        message: String,
    },
    /// The client's own settings are wrong (a malformed server URL, an unsupported
    /// scheme, an empty password, an unreadable CA file); nothing was sent.
    Config {
        /// What is wrong.
        message: String,
    },
    /// A TLS connection could not be set up: the server's certificate is not trusted
    /// (by the platform or the given CA file), or the handshake failed.
    Tls {
        /// The server's base URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A remote task ended as `fail` or `invalid`, or `done` without a result.
    TaskFailed {
        /// The task id.
        task: String,
        /// Its final status.
        status: String,
        /// The server's `progress_message`.
        message: String,
    },
    /// A remote task this client submitted is no longer known to the server (`404`
    /// when polled): the server restarted, or evicted it. Its work is lost; submit again.
    TaskGone {
        /// The task id.
        task: String,
    },
    /// The server stopped answering: every exchange of this context failed at the
    /// connection level (refused, reset, timed out), with no answer in between, for at
    /// least the context's [`server_down_after`] and at least three times. The context
    /// gives up on the server once and for good: this error ends every waiting and
    /// every new request and job of the context (and its clones) without sending
    /// anything. A flow does not retry a job that failed with it. Connect a new
    /// [`Context`] to try the server again.
    ///
    /// [`server_down_after`]: super::ContextBuilder::server_down_after
    /// [`Context`]: super::Context
    ServerDown {
        /// The server's base URL.
        url: String,
        /// How long the server had been silent when the context gave up.
        silent: std::time::Duration,
        /// How many connection failures there were, and the last one.
        message: String,
    },
    /// Reading a CSV source or writing a download failed.
    Io(io::Error),
}

impl AutomlError {
    pub(crate) fn config(message: impl Into<String>) -> AutomlError {
        AutomlError::Config {
            message: message.into(),
        }
    }

    pub(crate) fn protocol(message: impl Into<String>) -> AutomlError {
        AutomlError::Protocol {
            message: message.into(),
        }
    }

    /// Whether retrying the same request later could succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            AutomlError::Unreachable { .. } => true,
            AutomlError::Rejected { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

impl fmt::Display for AutomlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AutomlError::Unreachable { url, message, .. } => {
                write!(f, "cannot reach the AutoML server at {url}: {message}")
            }
            AutomlError::Unauthorized { message } => {
                write!(f, "the AutoML server refused the credentials: {message}")
            }
            AutomlError::Rejected { status, message } => {
                write!(f, "the AutoML server answered {status}: {message}")
            }
            AutomlError::Protocol { message } => {
                write!(f, "unexpected answer from the AutoML server: {message}")
            }
            AutomlError::Config { message } => write!(f, "AutoML client settings: {message}"),
            AutomlError::Tls { url, message } => {
                write!(
                    f,
                    "no TLS connection to the AutoML server at {url}: {message}"
                )
            }
            AutomlError::TaskFailed {
                task,
                status,
                message,
            } => write!(f, "remote task {task} ended as '{status}': {message}"),
            AutomlError::TaskGone { task } => write!(
                f,
                "remote task {task} is gone from the AutoML server (it restarted or evicted \
                 the task); its result is lost"
            ),
            AutomlError::ServerDown {
                url,
                silent,
                message,
            } => write!(
                f,
                "the AutoML server at {url} has not answered for {:.1} s ({message}): \
                 giving up on every job of this context",
                silent.as_secs_f64()
            ),
            AutomlError::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl std::error::Error for AutomlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AutomlError::Io(e) | AutomlError::Unreachable { io: Some(e), .. } => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for AutomlError {
    fn from(e: io::Error) -> Self {
        AutomlError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_kept_as_the_source() {
        use std::error::Error as _;
        let refused = || io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
        let err = AutomlError::Unreachable {
            url: "http://127.0.0.1:1".into(),
            message: "refused".into(),
            io: Some(refused()),
        };
        let source = err.source().and_then(|s| s.downcast_ref::<io::Error>());
        assert_eq!(
            source.map(io::Error::kind),
            Some(io::ErrorKind::ConnectionRefused)
        );
        let err = AutomlError::from(refused());
        assert!(err.source().is_some_and(|s| s.is::<io::Error>()));
        assert!(AutomlError::protocol("x").source().is_none());
    }

    #[test]
    fn error_stays_small() {
        assert!(std::mem::size_of::<AutomlError>() <= 80);
    }

    #[test]
    fn transient_means_retryable() {
        let e = |status| AutomlError::Rejected {
            status,
            message: String::new(),
        };
        assert!(e(503).is_transient() && e(429).is_transient());
        assert!(!e(400).is_transient() && !e(404).is_transient());
        let down = AutomlError::ServerDown {
            url: "http://127.0.0.1:1".into(),
            silent: std::time::Duration::from_millis(10_200),
            message: "3 connection failures in a row, the last: refused".into(),
        };
        assert!(!down.is_transient(), "the verdict is final");
        let text = down.to_string();
        assert!(
            text.contains("http://127.0.0.1:1 has not answered for 10.2 s"),
            "{text}"
        );
        assert!(
            text.contains("giving up on every job of this context"),
            "{text}"
        );
    }
}
