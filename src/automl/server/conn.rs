//! One connection: read requests in order (keep-alive, pipelining), answer each, and
//! close on `Connection: close`, HTTP/1.0, a framing error, or a timeout.
//!
//! Every connection is its own loop task, so a slow or broken client only ever holds
//! up itself. Timeouts (see [`Limits`]):
//! - waiting for the first byte of the next request: `idle_timeout`, then the
//!   connection is closed quietly;
//! - a head must be complete within `head_timeout` of its first byte, else `408`;
//! - reading a head or a body: `read_timeout` without a byte, else `408`. Progress
//!   restarts the clock, so a slow but steady upload is read in full;
//! - writing an answer: `idle_timeout` without a byte taken, then the connection is
//!   dropped. Progress restarts the clock: a slow reader gets the whole answer (a
//!   total deadline once cut a 1 MiB/s reader off after 32.6 of 59.8 MiB).
//!
//! While a head arrives, its `Authorization` line is judged as soon as it ends
//! ([`HeadWatch`]), and the connection tells admission ([`Admitted::set`]) what it is
//! doing, so that a flood of slow heads evicts slow heads, not the clients that send
//! whole requests.

use std::net::Shutdown;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::Either;

use super::app::{App, Reply};
use super::body::ChunkedDecoder;
use super::budget::Reservation;
use super::config::Limits;
use super::conns::{Admitted, Phase};
use super::error::ApiError;
use super::head_watch::{HeadWatch, Verdict};
use super::http::{parse_head, Framing, Head, Request};
use super::prepare::Prepared;
use super::response::Response;
use crate::net::TcpStream;

/// Bytes asked of the socket per read once a request has started.
const READ_CHUNK: usize = 64 * 1024;

/// Bytes asked of the socket by the read that waits for the next request. Idle
/// connections keep at most this much memory (plus small bookkeeping).
const IDLE_CHUNK: usize = 4 * 1024;

/// After answering with an error, how long the server keeps reading (and discarding)
/// what the client still sends, so that closing does not reset the connection before
/// the client has read the answer.
const LINGER: Duration = Duration::from_secs(2);

/// ...and how many bytes at most. Without this bound, each client refused mid-upload
/// made the loop read and drop all it could send in [`LINGER`]: 33 clients refused
/// while sending 48 MiB each delayed a status probe by up to 0.4 s on an idle machine.
/// A client that keeps sending beyond this may see the close reset the connection
/// before it reads the answer; one that waits for `100 Continue` never does.
const LINGER_BYTES: usize = 1024 * 1024;

/// Requests a connection answers in a row before it lets other connections run: a
/// client pipelining a burst is answered a few requests at a time, interleaved with
/// everyone else, instead of for as long as its socket stays ready.
const PIPELINE_TURN: u32 = 4;

/// The result of one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// Bytes were appended to the buffer.
    Data,
    /// The peer closed its side, or the socket failed.
    Closed,
    /// Nothing arrived in time.
    TimedOut,
}

/// A connection and the bytes read from it but not yet used.
struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
    limits: Limits,
}

/// Answers a connection the server has no room for (or evicts mid-head): `503` with
/// `Retry-After`, closed.
pub(crate) async fn refuse_connection(mut stream: TcpStream) {
    let err = ApiError::Unavailable("the server has too many open connections; retry later".into());
    let response = Response::error(&err);
    let (head, body) = response.encode(true);
    let write = async {
        stream.write_all(&head).await?;
        for part in body {
            stream.write_all(part).await?;
        }
        Ok::<(), std::io::Error>(())
    };
    let _ = crate::timeout(Duration::from_secs(1), write).await;
}

/// Serves requests on `stream` until it closes, or until the server closes it (idle or
/// mid-head) to make room for a new connection.
pub(crate) async fn serve_connection(stream: TcpStream, app: Rc<App>, admitted: Admitted) {
    let _ = stream.set_nodelay(true);
    let mut conn = Connection {
        stream,
        buf: Vec::new(),
        limits: app.limits().clone(),
    };
    let mut in_a_row = 0;
    loop {
        if conn.buf.is_empty() {
            in_a_row = 0;
            admitted.set(Phase::Idle);
            match crate::select(conn.wait_for_request(), admitted.evicted()).await {
                Either::Left(true) => {}
                _ => return,
            }
        } else {
            in_a_row += 1;
            if in_a_row % PIPELINE_TURN == 0 {
                crate::yield_now().await;
            }
        }
        admitted.set(Phase::Head);
        let next = crate::select(conn.next_request(&app, &admitted), admitted.evicted()).await;
        let request = match next {
            Either::Left(Ok(Some(request))) => request,
            Either::Left(Ok(None)) => return,
            Either::Left(Err(err)) => {
                return conn.send_and_close(&Response::error(&err), &admitted).await
            }
            Either::Right(()) => return refuse_connection(conn.stream).await,
        };
        let keep_alive = request.head.keep_alive();
        let response = match app.respond(request).await {
            Reply::Send(response) => response,
            Reply::Drop => return,
        };
        if !keep_alive {
            return conn.send_and_close(&response, &admitted).await;
        }
        if !conn.send(&response, false).await {
            return;
        }
    }
}

impl Connection {
    /// Reads the next request: `Ok(None)` when the client closed or stayed idle. A head
    /// without valid credentials is refused before its body is read.
    async fn next_request(
        &mut self,
        app: &App,
        admitted: &Admitted,
    ) -> Result<Option<Request>, ApiError> {
        if self.buf.is_empty() && !self.wait_for_request().await {
            return Ok(None);
        }
        let (head, head_len) = self.read_head(app, admitted).await?;
        admitted.set(Phase::Busy);
        self.buf.drain(..head_len);
        let framing = head.framing()?;
        if let Framing::Length(n) = framing {
            if n > self.limits.max_body_bytes {
                return Err(self.body_too_large());
            }
        }
        if !app.authorized(&head) {
            return Err(ApiError::Unauthorized);
        }
        admitted.trust(); // when idle later, it ranks as a known client's connection
                          // A declared length is reserved before the client is invited to send it.
        let mut hold = app.budget().reservation();
        if let Framing::Length(n) = framing {
            if n > IDLE_CHUNK && !hold.grow_to(n + READ_CHUNK) {
                return Err(self.over_budget());
            }
        }
        let has_body = !matches!(framing, Framing::Empty | Framing::Length(0));
        if head.expects_continue() && has_body && self.buf.is_empty() {
            self.write_raw(b"HTTP/1.1 100 Continue\r\n\r\n").await;
        }
        let body = match framing {
            Framing::Empty => Vec::new(),
            Framing::Length(n) => self.read_body(n).await?,
            Framing::Chunked => self.read_chunked(&mut hold).await?,
        };
        Ok(Some(Request {
            head,
            body,
            hold,
            pre: Prepared::default(),
        }))
    }

    /// Reads until the buffer starts with a whole head: within `head_timeout` of the
    /// first byte, and never `read_timeout` without one. Wrong credentials are refused
    /// as soon as their line has arrived; good ones tell admission to keep this head.
    ///
    /// # Errors
    /// `408` when too slow, `401` for wrong credentials, and those of [`parse_head`].
    async fn read_head(
        &mut self,
        app: &App,
        admitted: &Admitted,
    ) -> Result<(Head, usize), ApiError> {
        let deadline = Instant::now() + self.limits.head_timeout;
        let mut watch = HeadWatch::new();
        loop {
            if let Some(parsed) = parse_head(&self.buf, &self.limits)? {
                return Ok(parsed);
            }
            match watch.check(&self.buf, |value| app.accepts(value)) {
                Verdict::Refused => return Err(ApiError::Unauthorized),
                Verdict::Accepted => admitted.trust(),
                Verdict::Unknown => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            self.fill_within(left.min(self.limits.read_timeout)).await?;
        }
    }

    /// `503` for a body the memory budget cannot hold now.
    fn over_budget(&self) -> ApiError {
        ApiError::Unavailable(format!(
            "the server is holding as many request bodies as it can ({} bytes); retry later",
            self.limits.max_buffered_bytes
        ))
    }

    /// Waits (at most the idle timeout) for the first bytes of the next request;
    /// `false` if the client closed or stayed idle.
    async fn wait_for_request(&mut self) -> bool {
        // Give back what the last request needed before waiting, perhaps long.
        self.buf = Vec::new();
        self.fill(self.limits.idle_timeout, IDLE_CHUNK).await == Fill::Data
    }

    fn body_too_large(&self) -> ApiError {
        ApiError::TooLarge(format!(
            "request body too large (at most {} bytes)",
            self.limits.max_body_bytes
        ))
    }

    /// Reads a `Content-Length` body of `len` bytes (already reserved in the budget),
    /// allocated once: no doubling on the way.
    async fn read_body(&mut self, len: usize) -> Result<Vec<u8>, ApiError> {
        if len > IDLE_CHUNK {
            self.buf
                .reserve_exact((len + READ_CHUNK).saturating_sub(self.buf.len()));
        }
        while self.buf.len() < len {
            self.fill_within(self.limits.read_timeout).await?;
        }
        let rest = self.buf.split_off(len);
        Ok(std::mem::replace(&mut self.buf, rest))
    }

    /// Reads and decodes a chunked body, growing its reservation as it grows.
    async fn read_chunked(&mut self, hold: &mut Reservation) -> Result<Vec<u8>, ApiError> {
        let limits = &self.limits;
        let mut decoder = ChunkedDecoder::new(limits.max_body_bytes, limits.max_header_bytes);
        let mut body = Vec::new();
        loop {
            let used = decoder.decode(&self.buf, &mut body)?;
            self.buf.drain(..used);
            if decoder.is_done() {
                return Ok(body);
            }
            if !hold.grow_to(body.capacity() + self.buf.capacity() + READ_CHUNK) {
                return Err(self.over_budget());
            }
            self.fill_within(self.limits.read_timeout).await?;
        }
    }

    /// Reads more of a request that has started, waiting at most `limit`.
    ///
    /// # Errors
    /// `408` when nothing came in time, `400` when the client closes mid-request.
    async fn fill_within(&mut self, limit: Duration) -> Result<(), ApiError> {
        match self.fill(limit, READ_CHUNK).await {
            Fill::Data => Ok(()),
            Fill::TimedOut => Err(ApiError::RequestTimeout),
            Fill::Closed => Err(ApiError::bad("the connection closed mid-request")),
        }
    }

    /// Appends what one read of at most `chunk` bytes brings (waiting at most `limit`)
    /// to the buffer.
    async fn fill(&mut self, limit: Duration, chunk: usize) -> Fill {
        let old = self.buf.len();
        self.buf.resize(old + chunk, 0);
        let read = crate::timeout(limit, self.stream.read(&mut self.buf[old..])).await;
        let (n, fill) = match read {
            Ok(Ok(0)) | Ok(Err(_)) => (0, Fill::Closed),
            Ok(Ok(n)) => (n, Fill::Data),
            Err(_) => (0, Fill::TimedOut),
        };
        self.buf.truncate(old + n);
        fill
    }

    /// Writes `bytes`; `false` if the client is gone or takes nothing for
    /// `idle_timeout`. Each write that moves bytes starts the clock again.
    async fn write_raw(&mut self, mut bytes: &[u8]) -> bool {
        while !bytes.is_empty() {
            let write = crate::timeout(self.limits.idle_timeout, self.stream.write(bytes));
            match write.await {
                Ok(Ok(n)) if n > 0 => bytes = &bytes[n..],
                _ => return false,
            }
        }
        true
    }

    /// Sends `response`; `false` if the connection cannot be used any more.
    async fn send(&mut self, response: &Response, close: bool) -> bool {
        let (head, body) = response.encode(close);
        if !self.write_raw(&head).await {
            return false;
        }
        for part in body {
            if !self.write_raw(part).await {
                return false;
            }
        }
        true
    }

    /// Sends `response` with `Connection: close`, then closes gracefully: no more
    /// writes, and whatever the client still sends is read and dropped until it
    /// closes too (or [`LINGER`] passes, or [`LINGER_BYTES`] were dropped, or
    /// admission needs the room), so our close does not destroy the answer.
    async fn send_and_close(mut self, response: &Response, admitted: &Admitted) {
        if !self.send(response, true).await {
            return;
        }
        let _ = self.stream.shutdown(Shutdown::Write);
        admitted.set(Phase::Closing);
        let _ = crate::select(self.linger(), admitted.evicted()).await;
    }

    /// Reads and drops what the client sends, within [`LINGER`] and [`LINGER_BYTES`].
    async fn linger(&mut self) {
        let deadline = Instant::now() + LINGER;
        let mut discarded = 0;
        while discarded < LINGER_BYTES {
            discarded += self.buf.len();
            self.buf.clear();
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.fill(left, READ_CHUNK).await != Fill::Data {
                return;
            }
        }
    }
}
