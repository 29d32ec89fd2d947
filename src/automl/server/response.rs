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
    /// A document's serialisation, shared by the answers that send it. Held as a
    /// `Vec` so that the document cache's `Weak` to it keeps only the `Vec`'s header
    /// alive once the last answer is sent (a `Weak` to an `Arc<[u8]>` would keep the
    /// bytes themselves allocated).
    Document(Arc<Vec<u8>>),
    /// Shared bytes framed by a few of this response's own: a task document around
    /// the shared serialisation of its result, say.
    Framed {
        /// Written before `shared`.
        before: Vec<u8>,
        /// The shared bytes.
        shared: Arc<Vec<u8>>,
        /// Written after `shared`.
        after: Vec<u8>,
    },
}

impl Body {
    /// The body's pieces, in order (some may be empty).
    pub(crate) fn parts(&self) -> [&[u8]; 3] {
        match self {
            Body::Owned(v) => [v, &[], &[]],
            Body::Shared(s) => [s, &[], &[]],
            Body::Document(d) => [d, &[], &[]],
            Body::Framed {
                before,
                shared,
                after,
            } => [before, shared, after],
        }
    }

    /// The body's length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.parts().iter().map(|p| p.len()).sum()
    }

    /// The bytes in one piece (a copy for a framed body).
    #[cfg(test)]
    pub(crate) fn as_slice(&self) -> std::borrow::Cow<'_, [u8]> {
        match self.parts() {
            [only, [], []] => std::borrow::Cow::Borrowed(only),
            parts => std::borrow::Cow::Owned(parts.concat()),
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
    pub(crate) fn shared_json(bytes: Arc<Vec<u8>>) -> Response {
        Response {
            status: 200,
            content_type: "application/json",
            headers: Vec::new(),
            body: Body::Document(bytes),
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
    /// small; the second value is the pieces of the body that still have to be written
    /// (none when the body went with the head).
    pub(crate) fn encode(&self, close: bool) -> (Vec<u8>, Vec<&[u8]>) {
        let len = self.body.len();
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            len
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        let parts = self.body.parts();
        if len <= COALESCE_LIMIT {
            parts.iter().for_each(|p| bytes.extend_from_slice(p));
            return (bytes, Vec::new());
        }
        (bytes, parts.into_iter().filter(|p| !p.is_empty()).collect())
    }

    /// `200` with the JSON object `doc` and, under `key`, the JSON value whose
    /// serialisation is `shared` (not copied: the answer writes it in place).
    pub(crate) fn framed_json(doc: &Value, key: &str, shared: Arc<Vec<u8>>) -> Response {
        let mut before = doc.to_string().into_bytes();
        let empty = before.len() <= 2; // "{}"
        before.pop(); // the closing brace
        if !empty {
            before.push(b',');
        }
        before.extend_from_slice(Value::from(key).to_string().as_bytes());
        before.push(b':');
        Response {
            status: 200,
            content_type: "application/json",
            headers: Vec::new(),
            body: Body::Framed {
                before,
                shared,
                after: b"}".to_vec(),
            },
        }
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
        507 => "Insufficient Storage",
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
        assert!(rest.is_empty());
    }

    #[test]
    fn large_bodies_are_written_separately() {
        let data: Arc<[u8]> = vec![b'x'; COALESCE_LIMIT + 1].into();
        let response = Response::csv(data);
        let (head, rest) = response.encode(false);
        assert!(String::from_utf8(head)
            .unwrap()
            .contains("Content-Length: 65537\r\n"));
        assert_eq!(
            rest.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [COALESCE_LIMIT + 1]
        );
    }

    #[test]
    fn a_framed_answer_is_the_object_with_the_shared_value_in_place() {
        let shared = Arc::new(br#"{"_id":"d","rows":3}"#.to_vec());
        let doc = serde_json::json!({"_id": "t", "status": "done"});
        let response = Response::framed_json(&doc, "result", shared.clone());
        let parsed: Value = serde_json::from_slice(&response.body.as_slice()).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"_id": "t", "status": "done", "result": {"_id": "d", "rows": 3}})
        );
        let Body::Framed { shared: inside, .. } = &response.body else {
            panic!("framed")
        };
        assert!(
            Arc::ptr_eq(inside, &shared),
            "the shared bytes are not copied"
        );
        let empty = Response::framed_json(&serde_json::json!({}), "k", Arc::new(b"1".to_vec()));
        assert_eq!(&*empty.body.as_slice(), br#"{"k":1}"#);
        let (head, rest) = response.encode(false);
        assert!(rest.is_empty() && head.ends_with(br#""rows":3}}"#));
    }
}
