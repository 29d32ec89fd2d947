//! Credentials checked while a request head is still arriving.
//!
//! A head is parsed only once it is complete, but its `Authorization` field can be
//! judged as soon as its line ends. [`HeadWatch`] scans each complete line once (so a
//! head trickled a byte at a time costs linear work, not quadratic) and gives a verdict
//! on the first `Authorization` field: wrong credentials are refused (`401`, and the
//! connection is closed, since the rest of the head never has to be read), good ones let
//! admission keep the connection while its head finishes. A head without the field
//! stays unknown until it is complete; then the usual check refuses it.

/// What the lines of a head seen so far say about its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No complete `Authorization` line yet.
    Unknown,
    /// The first `Authorization` line carries the accepted credentials.
    Accepted,
    /// The first `Authorization` line carries anything else.
    Refused,
}

/// The scan of one request head, kept across reads.
#[derive(Debug)]
pub(crate) struct HeadWatch {
    /// Bytes of the buffer already scanned (whole lines).
    scanned: usize,
    /// Whether the empty line that ends the head was seen.
    ended: bool,
    verdict: Verdict,
}

impl HeadWatch {
    /// A watch for a head that starts at the beginning of the buffer.
    pub(crate) fn new() -> HeadWatch {
        HeadWatch {
            scanned: 0,
            ended: false,
            verdict: Verdict::Unknown,
        }
    }

    /// Scans the complete lines of `head` not seen yet for the first `Authorization`
    /// field and judges its value with `accepts`. `head` must start with the bytes
    /// given before (it only grows).
    pub(crate) fn check(&mut self, head: &[u8], accepts: impl Fn(Option<&str>) -> bool) -> Verdict {
        while self.verdict == Verdict::Unknown && !self.ended {
            let rest = &head[self.scanned.min(head.len())..];
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                break;
            };
            let is_request_line = self.scanned == 0;
            self.scanned += end + 1;
            let line = &rest[..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if is_request_line {
                continue;
            }
            if line.is_empty() {
                // The end of the head: the complete head is checked as a whole.
                self.ended = true;
                break;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            if line[..colon].eq_ignore_ascii_case(b"authorization") {
                let value = std::str::from_utf8(&line[colon + 1..]).ok();
                self.verdict = match accepts(value) {
                    true => Verdict::Accepted,
                    false => Verdict::Refused,
                };
            }
        }
        self.verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(value: Option<&str>) -> bool {
        value.map(str::trim) == Some("Basic good")
    }

    /// The verdicts after each byte of `head`, deduplicated.
    fn verdicts(head: &[u8]) -> Vec<Verdict> {
        let mut watch = HeadWatch::new();
        let mut seen: Vec<Verdict> = Vec::new();
        for end in 0..=head.len() {
            let v = watch.check(&head[..end], accepts);
            if seen.last() != Some(&v) {
                seen.push(v);
            }
        }
        seen
    }

    #[test]
    fn judges_the_authorization_line_as_soon_as_it_ends() {
        let good = b"GET / HTTP/1.1\r\nHost: x\r\nauthorization: Basic good\r\nX-Slow: ";
        assert_eq!(verdicts(good), [Verdict::Unknown, Verdict::Accepted]);
        let cut = good.len() - b"X-Slow: ".len();
        assert_eq!(
            HeadWatch::new().check(&good[..cut - 2], accepts),
            Verdict::Unknown
        );
        assert_eq!(
            HeadWatch::new().check(&good[..cut], accepts),
            Verdict::Accepted
        );
        let bad = b"GET / HTTP/1.1\r\nAuthorization: Basic bad\r\nX: y\r\n";
        assert_eq!(verdicts(bad), [Verdict::Unknown, Verdict::Refused]);
    }

    #[test]
    fn only_the_first_authorization_field_counts_and_others_are_ignored() {
        let two = b"GET / HTTP/1.1\r\nAuthorization: Basic bad\r\nAuthorization: Basic good\r\n";
        assert_eq!(HeadWatch::new().check(two, accepts), Verdict::Refused);
        let none = b"GET /authorization: HTTP/1.1\r\nX-Authorization: Basic good\r\nno colon\r\n";
        assert_eq!(HeadWatch::new().check(none, accepts), Verdict::Unknown);
        let after_end = b"GET / HTTP/1.1\r\n\r\nAuthorization: Basic bad\r\n";
        let mut watch = HeadWatch::new();
        assert_eq!(watch.check(&after_end[..18], accepts), Verdict::Unknown);
        assert_eq!(watch.check(after_end, accepts), Verdict::Unknown);
        let not_utf8 = b"GET / HTTP/1.1\r\nAuthorization: \xff\r\n";
        assert_eq!(HeadWatch::new().check(not_utf8, accepts), Verdict::Refused);
    }
}
