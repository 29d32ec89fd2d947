//! [`BufReader`]: reads a stream through a buffer; [`read_line`](BufReader::read_line)
//! and [`lines`](BufReader::lines).

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::AsyncRead;

const DEFAULT_CAPACITY: usize = 8 * 1024;

/// Adds a buffer to a reader, for reading line by line.
///
/// Unlike tokio's, [`read_line`](BufReader::read_line) and
/// [`Lines::next_line`] are **cancel-safe**: a line is taken out of the buffer only once
/// it is complete, so a call dropped in a `select!` loses nothing and the next call
/// returns the whole line. The buffer grows to hold the longest line seen; a peer that
/// never sends a newline can make it grow without bound, so cap your line length with a
/// timeout or a check of [`buffer`](BufReader::buffer) if the peer is not trusted.
///
/// # Examples
/// ```
/// use taskloop::io::BufReader;
/// use taskloop::net::UnixStream;
/// let rt = taskloop::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (mut a, b) = UnixStream::pair().unwrap();
///     a.write_all(b"first\nsecond\r\nlast").await.unwrap();
///     drop(a);
///     let mut lines = BufReader::new(b).lines();
///     assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("first"));
///     assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("second"));
///     assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("last"));
///     assert_eq!(lines.next_line().await.unwrap(), None);
/// });
/// ```
pub struct BufReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Unread bytes are `buf[pos..end]`.
    pos: usize,
    end: usize,
    /// How many unread bytes `read_line` already searched for a newline.
    scanned: usize,
}

impl<R: AsyncRead + Unpin> BufReader<R> {
    /// A reader with an 8 KiB buffer.
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// A reader with a buffer of `capacity` bytes (at least 1).
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        BufReader {
            inner,
            buf: vec![0; capacity.max(1)],
            pos: 0,
            end: 0,
            scanned: 0,
        }
    }

    /// Reads a line, `\n` included, and appends it to `line`; returns the bytes read,
    /// 0 at end of stream. The last line may lack its `\n`. Cancel-safe (see the type).
    ///
    /// # Errors
    /// `InvalidData` if the line is not UTF-8 (the line is consumed), or as the
    /// stream reports.
    pub async fn read_line(&mut self, line: &mut String) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read_line(cx, line)).await
    }

    /// The lines of the stream, without their `\n` or `\r\n`.
    pub fn lines(self) -> Lines<R> {
        Lines { reader: self }
    }

    /// The poll behind [`read_line`](BufReader::read_line).
    pub fn poll_read_line(
        &mut self,
        cx: &mut Context<'_>,
        line: &mut String,
    ) -> Poll<io::Result<usize>> {
        loop {
            let unread = &self.buf[self.pos..self.end];
            if let Some(i) = unread[self.scanned..].iter().position(|&b| b == b'\n') {
                return Poll::Ready(self.take_line(self.scanned + i + 1, line));
            }
            self.scanned = unread.len();
            if ready!(self.poll_fill_more(cx))? == 0 {
                return Poll::Ready(self.take_line(self.end - self.pos, line));
            }
        }
    }

    /// Consumes `len` unread bytes as a line, appended to `line`.
    fn take_line(&mut self, len: usize, line: &mut String) -> io::Result<usize> {
        let bytes = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        self.scanned = 0;
        let text = std::str::from_utf8(bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        line.push_str(text);
        Ok(len)
    }

    /// Reads more bytes behind the unread ones (moving them to the front, growing the
    /// buffer if it is full); `Ok(0)` at end of stream.
    fn poll_fill_more(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = ready!(Pin::new(&mut self.inner).poll_read(cx, &mut self.buf[self.end..]))?;
        self.end += n;
        Poll::Ready(Ok(n))
    }

    /// The bytes read from the stream and not yet returned.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// The reader inside.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The reader inside (reading from it directly skips the buffered bytes).
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The reader inside; buffered bytes are lost.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for BufReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pos == this.end {
            if out.len() >= this.buf.len() {
                return Pin::new(&mut this.inner).poll_read(cx, out); // no point copying
            }
            if ready!(this.poll_fill_more(cx))? == 0 {
                return Poll::Ready(Ok(0));
            }
        }
        let n = out.len().min(this.end - this.pos);
        out[..n].copy_from_slice(&this.buf[this.pos..this.pos + n]);
        this.pos += n;
        this.scanned = this.scanned.saturating_sub(n);
        Poll::Ready(Ok(n))
    }
}

impl<R: fmt::Debug> fmt::Debug for BufReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufReader")
            .field("inner", &self.inner)
            .field("buffered", &(self.end - self.pos))
            .finish()
    }
}

/// The lines of a [`BufReader`]; see [`BufReader::lines`].
#[derive(Debug)]
pub struct Lines<R> {
    reader: BufReader<R>,
}

impl<R: AsyncRead + Unpin> Lines<R> {
    /// The next line without its `\n` or `\r\n`; `None` at end of stream. Cancel-safe.
    ///
    /// # Errors
    /// As [`BufReader::read_line`].
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        if line.ends_with('\n') {
            line.pop();
            if line.ends_with('\r') {
                line.pop();
            }
        }
        Ok(Some(line))
    }

    /// The reader inside.
    pub fn get_mut(&mut self) -> &mut BufReader<R> {
        &mut self.reader
    }

    /// The reader back.
    pub fn into_inner(self) -> BufReader<R> {
        self.reader
    }
}
