//! Byte streams on the loop: the [`AsyncRead`] and [`AsyncWrite`] traits that the sockets
//! and their halves implement, extension methods that await them, and [`BufReader`].
//!
//! The traits have the shape of `futures-io`'s (and of tokio's, minus `ReadBuf`): a
//! `poll_*` method that either makes progress or leaves the task's waker with the
//! reactor. With the `futures-io` feature the sockets implement `futures-io`'s traits as
//! well, for the crates of that ecosystem.
//!
//! # Examples
//! With the `futures-io` feature, `futures`' own utilities drive taskloop's sockets:
//! ```
//! # #[cfg(all(unix, feature = "futures-io"))] {
//! use taskloop::net::UnixStream;
//! let rt = taskloop::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let (mut a, b) = UnixStream::pair().unwrap();
//!     let writer = taskloop::spawn(async move {
//!         futures::io::copy(&mut &b"bridged"[..], &mut a).await.unwrap()
//!     });
//!     let mut got = Vec::new();
//!     let mut limited = futures::io::AsyncReadExt::take(b, 7);
//!     futures::io::AsyncReadExt::read_to_end(&mut limited, &mut got).await.unwrap();
//!     assert_eq!(writer.await.unwrap(), 7);
//!     assert_eq!(got, b"bridged");
//! });
//! # }
//! ```

mod buf_reader;
#[cfg(feature = "futures-io")]
mod compat;

pub use buf_reader::{BufReader, Lines};

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Reads bytes without blocking the loop.
pub trait AsyncRead {
    /// Reads into `buf`: `Ready(Ok(0))` means end of stream (or an empty `buf`);
    /// `Pending` means the task is woken when the source becomes readable.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>;
}

/// Writes bytes without blocking the loop.
pub trait AsyncWrite {
    /// Writes some of `buf`, returning how many bytes were taken.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>>;

    /// Flushes buffered bytes (sockets buffer nothing in user space).
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Shuts the write direction down: the peer reads end of stream.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

/// `async` methods for every [`AsyncRead`].
pub trait AsyncReadExt: AsyncRead + Unpin {
    /// Reads some bytes into `buf`; `Ok(0)` at end of stream. Cancel-safe.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Sized,
    {
        poll_fn(move |cx| Pin::new(&mut *self).poll_read(cx, buf))
    }

    /// Reads exactly `buf.len()` bytes. Not cancel-safe (bytes read so far are lost).
    ///
    /// # Errors
    /// `UnexpectedEof` if the stream ends first, or as the source reports.
    fn read_exact<'a>(
        &'a mut self,
        mut buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<()>> + 'a
    where
        Self: Sized,
    {
        async move {
            while !buf.is_empty() {
                match self.read(buf).await? {
                    0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                    n => buf = &mut buf[n..],
                }
            }
            Ok(())
        }
    }
}

impl<R: AsyncRead + Unpin + ?Sized> AsyncReadExt for R {}

/// `async` methods for every [`AsyncWrite`].
pub trait AsyncWriteExt: AsyncWrite + Unpin {
    /// Writes some of `buf`, returning how many bytes were taken.
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Sized,
    {
        poll_fn(move |cx| Pin::new(&mut *self).poll_write(cx, buf))
    }

    /// Writes all of `buf`. Not cancel-safe (how much was written is lost).
    ///
    /// # Errors
    /// `WriteZero` if the sink takes nothing, or as it reports.
    fn write_all<'a>(&'a mut self, mut buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a
    where
        Self: Sized,
    {
        async move {
            while !buf.is_empty() {
                match self.write(buf).await? {
                    0 => return Err(io::ErrorKind::WriteZero.into()),
                    n => buf = &buf[n..],
                }
            }
            Ok(())
        }
    }

    /// Flushes buffered bytes.
    fn flush(&mut self) -> impl Future<Output = io::Result<()>> + '_
    where
        Self: Sized,
    {
        poll_fn(move |cx| Pin::new(&mut *self).poll_flush(cx))
    }

    /// Shuts the write direction down.
    fn shutdown(&mut self) -> impl Future<Output = io::Result<()>> + '_
    where
        Self: Sized,
    {
        poll_fn(move |cx| Pin::new(&mut *self).poll_shutdown(cx))
    }
}

impl<W: AsyncWrite + Unpin + ?Sized> AsyncWriteExt for W {}
