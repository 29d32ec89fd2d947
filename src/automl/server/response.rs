//! Responses: a status, a content type, extra header fields and a body, turned into the
//! bytes of an HTTP/1.1 answer.

use std::sync::Arc;

use serde_json::Value;

use super::error::ApiError;

/// A response body: built for this answer, or shared with the store (a CSV file) or
/// with other responses (a large document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// Bytes made for this response.
    Owned(Vec<u8>),
    /// Bytes the store keeps (no copy per download).
    Shared(Arc<[u8]>),
}

impl Body {
    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Body::Owned(v) => v,
            Body::Shared(s) => s,
        }
    }
}

/// An answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    /// The status code.
    pub(crate) status: u16,
    /// The `Content-Type`.
    pub(crate) content_type: &'static str,
    /// Extra header fields (`Allow`, `WWW-Authenticate`).
    pub(crate) headers: Vec<(&'static str, String)>,
    /// The body.
    pub(crate) body: Body,
}

/// Bodies up to this size are sent in the same write as the head.
const COALESCE_LIMIT: usize = 64 * 1024;

impl Response {
    /// A JSON answer.
    pub(crate) fn json(status: u16, value: &Value) -> Response {
        Response {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: Body::Owned(value.to_string().into_bytes()),
        }
    }

    /// `200` with JSON bytes made for this answer.
    pub(crate) fn json_bytes(bytes: Vec<u8>) -> Response {
        Response {
            status: 200,
            content_type: "application/json",
            headers: Vec::new(),
            body: Body::Owned(bytes),
        }
    }

    /// `200` with JSON bytes shared with other responses (a stored document).
    pub(crate) fn shared_json(bytes: Arc<[u8]>) -> Response {
        Response {
            status: 200,
            content_type: "application/json",
            headers: Vec::new(),
            body: Body::Shared(bytes),
        }
    }

    /// `200` with a CSV file.
    pub(crate) fn csv(data: Arc<[u8]>) -> Response {
        Response {
            status: 200,
            content_type: "text/csv; charset=utf-8",
            headers: Vec::new(),
            body: Body::Shared(data),
        }
    }

    /// The answer for `err`: its status, `{"error": message}`, and `Allow` or
    /// `WWW-Authenticate` where the status calls for them.
    pub(crate) fn error(err: &ApiError) -> Response {
        let mut response = Response::json(
            err.status(),
            &serde_json::json!({ "error": err.to_string() }),
        );
        match err {
            ApiError::MethodNotAllowed(allow) => {
                response.headers.push(("Allow", allow.to_string()))
            }
            ApiError::Unauthorized => response
                .headers
                .push(("WWW-Authenticate", "Basic realm=\"automl\"".into())),
            ApiError::Unavailable(_) => response.headers.push(("Retry-After", "1".into())),
            _ => {}
        }
        response
    }

    /// Whether the status is 2xx.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The head (status line and header fields), followed by the body when it is
    /// small; the second value is the body when it still has to be written.
    pub(crate) fn encode(&self, close: bool) -> (Vec<u8>, Option<&[u8]>) {
        let body = self.body.as_slice();
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            body.len()
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        if body.len() <= COALESCE_LIMIT {
            bytes.extend_from_slice(body);
            return (bytes, None);
        }
        (bytes, Some(body))
    }
}

/// The reason phrase of the statuses this server sends.
fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_head_and_small_body_together() {
        let response = Response::error(&ApiError::MethodNotAllowed("GET"));
        let (bytes, rest) = response.encode(true);
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
        assert!(text.contains("Allow: GET\r\n") && text.contains("Connection: close\r\n"));
        assert!(text.ends_with("\r\n\r\n{\"error\":\"method not allowed here (allowed: GET)\"}"));
        assert!(rest.is_none());
    }

    #[test]
    fn large_bodies_are_written_separately() {
        let data: Arc<[u8]> = vec![b'x'; COALESCE_LIMIT + 1].into();
        let response = Response::csv(data);
        let (head, rest) = response.encode(false);
        assert!(String::from_utf8(head)
            .unwrap()
            .contains("Content-Length: 65537\r\n"));
        assert_eq!(rest.map(<[u8]>::len), Some(COALESCE_LIMIT + 1));
    }
}
