//! Request bodies sent with `Transfer-Encoding: chunked`: an incremental decoder that
//! takes the bytes as they arrive, in any fragments, and enforces the body limit.
//!
//! A chunked body is a series of `<hex size>[;extensions]\r\n<data>\r\n` chunks ended
//! by a zero-size chunk, optional trailer fields, and an empty line. Extensions and
//! trailers are read and ignored. Bare `\n` line ends are accepted as well.

use super::error::ApiError;

/// Longest chunk-size line accepted (size plus extensions).
const MAX_SIZE_LINE: usize = 4096;

/// Where the decoder is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data; that many bytes are left.
    Data(usize),
    /// Expecting the line end after a chunk's data.
    DataEnd,
    /// Reading trailer lines after the last chunk.
    Trailer,
    /// The body is complete.
    Done,
}

/// Decodes one chunked body.
#[derive(Debug, Clone)]
pub(crate) struct ChunkedDecoder {
    state: State,
    max_body: usize,
    max_trailer: usize,
    trailer_bytes: usize,
}

impl ChunkedDecoder {
    /// A decoder that refuses bodies over `max_body` bytes (decoded) and trailers over
    /// `max_trailer` bytes.
    pub(crate) fn new(max_body: usize, max_trailer: usize) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size,
            max_body,
            max_trailer,
            trailer_bytes: 0,
        }
    }

    /// Whether the whole body has been decoded.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes as much of `input` as it can, appending data to `out`, and returns how
    /// many bytes of `input` it consumed. Bytes it leaves (an incomplete line, or
    /// anything after the body) must be offered again, with more appended.
    ///
    /// # Errors
    /// `400` for a malformed size line or a missing line end, `413` when the body or
    /// the trailers exceed their limits.
    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, ApiError> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            let used = match self.state {
                State::Size => self.size_line(rest, out.len())?,
                State::Data(left) => {
                    let take = left.min(rest.len());
                    out.extend_from_slice(&rest[..take]);
                    self.state = if take == left {
                        State::DataEnd
                    } else {
                        State::Data(left - take)
                    };
                    take
                }
                State::DataEnd => self.data_end(rest)?,
                State::Trailer => self.trailer_line(rest)?,
                State::Done => 0,
            };
            if used == 0 {
                return Ok(pos);
            }
            pos += used;
        }
    }

    fn size_line(&mut self, rest: &[u8], body_len: usize) -> Result<usize, ApiError> {
        let Some((line, used)) = take_line(rest) else {
            if rest.len() > MAX_SIZE_LINE {
                return Err(ApiError::bad("chunk size line too long"));
            }
            return Ok(0);
        };
        if line.len() > MAX_SIZE_LINE {
            return Err(ApiError::bad("chunk size line too long"));
        }
        let size = parse_chunk_size(line)?;
        if size == 0 {
            self.state = State::Trailer;
        } else if size > self.max_body.saturating_sub(body_len) {
            return Err(ApiError::TooLarge(format!(
                "request body too large (at most {} bytes)",
                self.max_body
            )));
        } else {
            self.state = State::Data(size);
        }
        Ok(used)
    }

    fn data_end(&mut self, rest: &[u8]) -> Result<usize, ApiError> {
        let used = match rest {
            [] | [b'\r'] => return Ok(0),
            [b'\r', b'\n', ..] => 2,
            [b'\n', ..] => 1,
            _ => return Err(ApiError::bad("chunk data not followed by a line end")),
        };
        self.state = State::Size;
        Ok(used)
    }

    fn trailer_line(&mut self, rest: &[u8]) -> Result<usize, ApiError> {
        let too_large = || ApiError::TooLarge("chunked trailer too large".into());
        let Some((line, used)) = take_line(rest) else {
            if self.trailer_bytes + rest.len() > self.max_trailer {
                return Err(too_large());
            }
            return Ok(0);
        };
        self.trailer_bytes += used;
        if self.trailer_bytes > self.max_trailer {
            return Err(too_large());
        }
        if line.is_empty() {
            self.state = State::Done;
        }
        Ok(used)
    }
}

/// The first line of `input` without its line end, and the bytes it spans with it.
fn take_line(input: &[u8]) -> Option<(&[u8], usize)> {
    let nl = input.iter().position(|&b| b == b'\n')?;
    let line = &input[..nl];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, nl + 1))
}

/// Parses `<hex>[ ][;ext...]` into a size.
fn parse_chunk_size(line: &[u8]) -> Result<usize, ApiError> {
    let bad = || ApiError::bad("invalid chunk size");
    let digits = line.split(|&b| b == b';').next().unwrap_or_default();
    let digits = std::str::from_utf8(digits).map_err(|_| bad())?;
    let digits = digits.trim_matches([' ', '\t']);
    if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let size = u64::from_str_radix(digits, 16).map_err(|_| bad())?;
    usize::try_from(size).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] =
        b"4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";

    /// Feeds `input` in pieces of `step` bytes, as a connection would, and returns the
    /// decoded body.
    fn feed(input: &[u8], step: usize, max: usize) -> Result<Vec<u8>, ApiError> {
        let mut decoder = ChunkedDecoder::new(max, 1024);
        let (mut pending, mut out) = (Vec::new(), Vec::new());
        for piece in input.chunks(step) {
            pending.extend_from_slice(piece);
            let used = decoder.decode(&pending, &mut out)?;
            pending.drain(..used);
            if decoder.is_done() {
                break;
            }
        }
        assert!(decoder.is_done(), "body incomplete");
        Ok(out)
    }

    #[test]
    fn decodes_in_any_fragmentation_with_extensions_and_trailers() {
        for step in [1, 2, 3, 7, 16, BODY.len()] {
            let body = feed(BODY, step, 1024).unwrap();
            assert_eq!(body, b"Wikipedia in\r\n\r\nchunks.", "step {step}");
        }
    }

    #[test]
    fn stops_at_the_end_of_the_body_so_pipelined_bytes_stay() {
        let mut decoder = ChunkedDecoder::new(1024, 1024);
        let mut out = Vec::new();
        let used = decoder.decode(BODY, &mut out).unwrap();
        assert!(decoder.is_done());
        assert_eq!(&BODY[used..], b"NEXT");
    }

    #[test]
    fn bare_newlines_and_an_empty_body() {
        let body = feed(b"3\nabc\n0\n\n", 1, 100).unwrap();
        assert_eq!(body, b"abc");
        let body = feed(b"0\r\n\r\n", 1, 100).unwrap();
        assert!(body.is_empty());
    }

    #[test]
    fn refuses_bad_sizes_and_missing_line_ends() {
        for bad in [
            &b"zz\r\n"[..],
            b"\r\n",
            b"-1\r\n",
            b"1ffffffffffffffff\r\n",
            b"3\r\nabcX",
        ] {
            let err = ChunkedDecoder::new(100, 100)
                .decode(bad, &mut Vec::new())
                .unwrap_err();
            assert_eq!(err.status(), 400, "{:?}", String::from_utf8_lossy(bad));
        }
        let long = vec![b'1'; MAX_SIZE_LINE + 1];
        let err = ChunkedDecoder::new(100, 100).decode(&long, &mut Vec::new());
        assert_eq!(err.unwrap_err().status(), 400);
    }

    #[test]
    fn enforces_the_body_and_trailer_limits() {
        let err = feed(b"8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n", 3, 10).unwrap_err();
        assert_eq!(err.status(), 413);
        let err = feed(b"ffffffffffffffff\r\n", 1, 10).unwrap_err();
        assert_eq!(err.status(), 413);
        let trailers = format!("0\r\n{}\r\n\r\n", "X: y\r\n".repeat(300));
        assert_eq!(feed(trailers.as_bytes(), 5, 10).unwrap_err().status(), 413);
    }
}
