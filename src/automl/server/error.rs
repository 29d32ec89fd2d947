//! The server layer's error: why a request gets a non-2xx answer.

use std::fmt;

use crate::automl::ml::ParseSpecError;

/// Why a request was refused. Each variant is one HTTP status; its message goes into
/// the `{"error": "..."}` body and never contains credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum ApiError {
    /// `400`: unparsable request, JSON or field.
    BadRequest(String),
    /// `401`: missing or wrong credentials.
    Unauthorized,
    /// `404`: unknown path or id.
    NotFound(String),
    /// `405`: the path exists; the methods it allows are attached.
    MethodNotAllowed(&'static str),
    /// `408`: the client took too long to send its request.
    RequestTimeout,
    /// `409`: an idempotency key reused with a different request.
    Conflict(String),
    /// `413`: a body or a head over the configured limit.
    TooLarge(String),
    /// `503`: overloaded (only injected, for reliability tests).
    Unavailable(String),
    /// `507`: the data directory is over its disk budget, or cannot be written.
    Storage(String),
}

impl ApiError {
    /// The HTTP status code.
    pub(crate) fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::Unauthorized => 401,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::RequestTimeout => 408,
            ApiError::Conflict(_) => 409,
            ApiError::TooLarge(_) => 413,
            ApiError::Unavailable(_) => 503,
            ApiError::Storage(_) => 507,
        }
    }

    /// A `400` with `message`.
    pub(crate) fn bad(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest(message.into())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::BadRequest(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::TooLarge(m)
            | ApiError::Unavailable(m)
            | ApiError::Storage(m) => f.write_str(m),
            ApiError::Unauthorized => f.write_str("missing or invalid credentials"),
            ApiError::MethodNotAllowed(allow) => {
                write!(f, "method not allowed here (allowed: {allow})")
            }
            ApiError::RequestTimeout => f.write_str("the request was not received in time"),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::BadRequest(format!("invalid JSON: {e}"))
    }
}

impl From<ParseSpecError> for ApiError {
    fn from(e: ParseSpecError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_messages() {
        let e: ApiError = serde_json::from_str::<serde_json::Value>("{")
            .unwrap_err()
            .into();
        assert_eq!(e.status(), 400);
        assert!(e.to_string().starts_with("invalid JSON"));
        assert_eq!(ApiError::MethodNotAllowed("GET").status(), 405);
        assert_eq!(
            ApiError::Unauthorized.to_string(),
            "missing or invalid credentials"
        );
    }

    #[test]
    fn stays_small() {
        assert!(std::mem::size_of::<ApiError>() <= 32);
    }
}
