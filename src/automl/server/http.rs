//! HTTP/1.x request heads: parsing with `httparse` under the configured limits, and what
//! a head says about its body, its connection and its query string.

use super::budget::Reservation;
use super::config::Limits;
use super::error::ApiError;
use super::prepare::Prepared;

/// A parsed request line and header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    /// The method, e.g. `"POST"`.
    pub(crate) method: String,
    /// The path, without the query string.
    pub(crate) path: String,
    /// The query string after `?` (empty when there is none), still percent-encoded.
    pub(crate) query: String,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub(crate) version: u8,
    /// Header fields in order; names as sent, values as raw bytes.
    pub(crate) headers: Vec<(String, Vec<u8>)>,
}

/// A whole request: its head and its decoded body.
#[derive(Debug)]
pub(crate) struct Request {
    /// Request line and header fields.
    pub(crate) head: Head,
    /// The body, after chunked decoding (empty when there is none).
    pub(crate) body: Vec<u8>,
    /// The body's bytes in the server's memory budget; whoever keeps the body (an
    /// upload queued for a worker) keeps this too.
    pub(crate) hold: Reservation,
    /// What the parse pool worked out from a large body before the handler ran.
    pub(crate) pre: Prepared,
}

/// How the body of a request is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    Empty,
    /// `Content-Length: n`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// Parses the head at the start of `buf`: `Ok(None)` while it is incomplete, else the
/// head and its length in bytes (the body, if any, follows).
///
/// # Errors
/// `413` when the head is longer than `limits.max_header_bytes` or has more than
/// `limits.max_headers` fields, `400` when it is malformed.
pub(crate) fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<(Head, usize)>, ApiError> {
    let mut fields = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut req = httparse::Request::new(&mut fields);
    let too_large = || ApiError::TooLarge("request header too large".into());
    match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len > limits.max_header_bytes => Err(too_large()),
        Ok(httparse::Status::Complete(len)) => Ok(Some((Head::from_parsed(&req)?, len))),
        Ok(httparse::Status::Partial) if buf.len() > limits.max_header_bytes => Err(too_large()),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(ApiError::TooLarge(format!(
            "too many header fields (at most {})",
            limits.max_headers
        ))),
        Err(e) => Err(ApiError::bad(format!("malformed request: {e}"))),
    }
}

/// The path and query of a request target: an absolute-form target
/// (`http://host/path?q`, which a server must accept, RFC 9112 3.2.2) loses its scheme
/// and authority; `http://host` alone means `/`.
fn origin_form(target: &str) -> String {
    let Some((scheme, rest)) = target.split_once("://") else {
        return target.to_owned();
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return target.to_owned();
    }
    match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => rest[i..].to_owned(),
        Some(i) => format!("/{}", &rest[i..]),
        None => "/".to_owned(),
    }
}

impl Head {
    fn from_parsed(req: &httparse::Request<'_, '_>) -> Result<Head, ApiError> {
        let incomplete = || ApiError::bad("malformed request line");
        let target = origin_form(req.path.ok_or_else(incomplete)?);
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let headers = req
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), h.value.to_vec()))
            .collect();
        Ok(Head {
            method: req.method.ok_or_else(incomplete)?.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            version: req.version.ok_or_else(incomplete)?,
            headers,
        })
    }

    /// The values of every field named `name` (case-insensitive), as text; values that
    /// are not UTF-8 are skipped.
    pub(crate) fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
            .map(str::trim)
    }

    /// The first field named `name` (case-insensitive), as trimmed text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let (_, value) = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        std::str::from_utf8(value).ok().map(str::trim)
    }

    /// Whether a field named `name` exists at all, whatever its bytes.
    fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// How the body is delimited.
    ///
    /// # Errors
    /// `400` for a transfer coding other than `chunked`, for both `Transfer-Encoding` and
    /// `Content-Length` (a request-smuggling shape), and for unparsable or conflicting
    /// lengths.
    pub(crate) fn framing(&self) -> Result<Framing, ApiError> {
        if self.has_header("transfer-encoding") {
            // HTTP/1.0 has no chunked coding: a 1.0 peer (or a proxy in front of us)
            // would frame the body otherwise, the classic smuggling gap (RFC 9112 6.1).
            if self.version == 0 {
                return Err(ApiError::bad(
                    "Transfer-Encoding is not allowed in an HTTP/1.0 request",
                ));
            }
            let codings: Vec<String> = self
                .headers_named("transfer-encoding")
                .flat_map(|v| v.split(','))
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty())
                .collect();
            if codings != ["chunked"] {
                return Err(ApiError::bad(
                    "only Transfer-Encoding: chunked is supported",
                ));
            }
            if self.has_header("content-length") {
                return Err(ApiError::bad(
                    "both Transfer-Encoding and Content-Length are set",
                ));
            }
            return Ok(Framing::Chunked);
        }
        self.content_length()
    }

    fn content_length(&self) -> Result<Framing, ApiError> {
        let mut length = None;
        for (name, value) in &self.headers {
            if !name.eq_ignore_ascii_case("content-length") {
                continue;
            }
            let n = parse_length(value).ok_or_else(|| ApiError::bad("invalid Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(ApiError::bad("conflicting Content-Length fields"));
            }
            length = Some(n);
        }
        Ok(length.map_or(Framing::Empty, Framing::Length))
    }

    /// Whether the connection stays open after the answer: HTTP/1.1 unless the client
    /// sent `Connection: close`; never for HTTP/1.0.
    pub(crate) fn keep_alive(&self) -> bool {
        let close = self
            .headers_named("connection")
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("close"));
        self.version == 1 && !close
    }

    /// Whether the client waits for `100 Continue` before it sends the body.
    pub(crate) fn expects_continue(&self) -> bool {
        self.version == 1
            && self
                .header("expect")
                .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }
}

/// A decimal length of at most 19 digits (no sign, no spaces inside).
fn parse_length(value: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(value).ok()?.trim();
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The value of query parameter `name` in `query`, percent-decoded (`+` is a space).
/// `None` when absent; a value that is not UTF-8 after decoding is decoded lossily.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == name).then(|| percent_decode(v))
        })
        .next()
}

/// Decodes `%XX` escapes and `+`; a malformed escape is kept as it is.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| {
            let h = std::str::from_utf8(h).ok()?;
            u8::from_str_radix(h, 16).ok()
        });
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<(Head, usize)>, ApiError> {
        parse_head(text.as_bytes(), &Limits::default())
    }

    #[test]
    fn parses_a_complete_head_and_reports_its_length() {
        let text = "POST /v2/upload?name=a%20b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
        let (head, len) = parse(text).unwrap().unwrap();
        assert_eq!(len, text.len() - 3);
        assert_eq!(
            (head.method.as_str(), head.path.as_str()),
            ("POST", "/v2/upload")
        );
        assert_eq!(query_param(&head.query, "name").as_deref(), Some("a b"));
        assert_eq!(head.header("HOST"), Some("x"));
        assert_eq!(head.framing(), Ok(Framing::Length(3)));
        assert!(head.keep_alive());
    }

    #[test]
    fn every_prefix_of_a_head_is_incomplete_not_an_error() {
        let text = "GET /v2/worker/status HTTP/1.1\r\nAuthorization: Basic eDp5\r\n\r\n";
        for cut in 0..text.len() {
            assert_eq!(parse(&text[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(parse(text).unwrap().is_some());
    }

    #[test]
    fn pipelined_requests_parse_one_after_another() {
        let mut buf =
            b"GET /a HTTP/1.1\r\n\r\nPUT /b?x=1 HTTP/1.1\r\nConnection: close\r\n\r\nGE".to_vec();
        let (first, len) = parse_head(&buf, &Limits::default()).unwrap().unwrap();
        assert_eq!((first.method.as_str(), first.path.as_str()), ("GET", "/a"));
        buf.drain(..len);
        let (second, len) = parse_head(&buf, &Limits::default()).unwrap().unwrap();
        assert_eq!(
            (second.method.as_str(), second.query.as_str()),
            ("PUT", "x=1")
        );
        assert!(!second.keep_alive());
        buf.drain(..len);
        assert_eq!(parse_head(&buf, &Limits::default()), Ok(None));
    }

    #[test]
    fn malformed_and_oversized_heads_are_refused() {
        assert_eq!(parse("GARBAGE\r\n\r\n").unwrap_err().status(), 400);
        assert_eq!(parse("GET / HTTP/9.9\r\n\r\n").unwrap_err().status(), 400);
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
        assert_eq!(parse(&huge).unwrap_err().status(), 413);
        assert_eq!(parse(&huge[..18_000]).unwrap_err().status(), 413);
        let many: String = (0..70).map(|i| format!("X{i}: y\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse(&many).unwrap_err().status(), 413);
    }

    #[test]
    fn absolute_form_targets_are_served_by_their_path() {
        let path = |target: &str| {
            let (head, _) = parse(&format!("GET {target} HTTP/1.1\r\n\r\n"))
                .unwrap()
                .unwrap();
            (head.path, head.query)
        };
        assert_eq!(
            path("http://h:1/v2/info?x=1"),
            ("/v2/info".into(), "x=1".into())
        );
        assert_eq!(path("HTTP://h"), ("/".into(), "".into()));
        assert_eq!(path("http://h?q"), ("/".into(), "q".into()));
        assert_eq!(path("/plain"), ("/plain".into(), "".into()));
    }

    #[test]
    fn chunked_is_refused_on_http_1_0() {
        let text = "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
        let head = parse(text).unwrap().unwrap().0;
        assert_eq!(head.framing().unwrap_err().status(), 400);
    }

    #[test]
    fn framing_rules() {
        let head = |fields: &str| {
            let text = format!("POST / HTTP/1.1\r\n{fields}\r\n");
            parse(&text).unwrap().unwrap().0
        };
        assert_eq!(head("").framing(), Ok(Framing::Empty));
        let chunked = head("Transfer-Encoding: Chunked\r\n");
        assert_eq!(chunked.framing(), Ok(Framing::Chunked));
        let gzip = head("Transfer-Encoding: gzip, chunked\r\n");
        assert_eq!(gzip.framing().unwrap_err().status(), 400);
        let both = head("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n");
        assert_eq!(both.framing().unwrap_err().status(), 400);
        let conflict = head("Content-Length: 4\r\nContent-Length: 5\r\n");
        assert_eq!(conflict.framing().unwrap_err().status(), 400);
        assert_eq!(
            head("Content-Length: -1\r\n")
                .framing()
                .unwrap_err()
                .status(),
            400
        );
        assert_eq!(
            head("Content-Length: 4\r\nContent-Length: 4\r\n").framing(),
            Ok(Framing::Length(4))
        );
    }

    #[test]
    fn connection_and_expect() {
        let head = |text: &str| parse(text).unwrap().unwrap().0;
        assert!(!head("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n").keep_alive());
        assert!(!head("GET / HTTP/1.0\r\n\r\n").keep_alive());
        assert!(head("POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n").expects_continue());
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%2Fb+c%zz%4"), "a/b c%zz%4");
        assert_eq!(query_param("x=1&name=&y", "name").as_deref(), Some(""));
        assert_eq!(query_param("x=1", "name"), None);
    }
}
