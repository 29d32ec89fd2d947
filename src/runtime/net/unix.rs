//! Unix domain stream sockets on the loop: [`UnixListener`] and [`UnixStream`].

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, SplitStream, Stream, WriteHalf};
use crate::io::{AsyncRead, AsyncWrite};
use crate::runtime::reactor::{Async, Direction};

/// A Unix domain socket server, listening on a path.
///
/// The socket file stays on disk after the listener is dropped (as with std); remove it
/// yourself before binding the same path again.
///
/// # Examples
/// ```
/// use taskloop::net::{UnixListener, UnixStream};
/// let dir = std::env::temp_dir().join(format!("taskloop-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("echo.sock");
/// let _ = std::fs::remove_file(&path);
/// let rt = taskloop::Runtime::new().unwrap();
/// rt.block_on(async {
///     let listener = UnixListener::bind(&path).unwrap();
///     let client = taskloop::spawn({
///         let path = path.clone();
///         async move {
///             let mut s = UnixStream::connect(&path).await.unwrap();
///             s.write_all(b"hi").await.unwrap();
///         }
///     });
///     let (mut conn, _) = listener.accept().await.unwrap();
///     let mut buf = [0u8; 2];
///     conn.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
///     client.await.unwrap();
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct UnixListener {
    io: Async<mio::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` (synchronous; may be called outside a runtime).
    ///
    /// # Errors
    /// If the path exists or its directory is not writable, or as the OS reports.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: Async::new(mio::net::UnixListener::bind(path)?),
        })
    }

    /// Waits for the next connection. Cancel-safe.
    ///
    /// # Errors
    /// As the OS reports; the listener stays usable.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) =
            poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |l| l.accept())).await?;
        Ok((UnixStream::from_mio(stream), addr))
    }

    /// The address this listener is bound to.
    ///
    /// # Errors
    /// As the OS reports.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// A Unix domain stream connection. Reads, writes and splitting work as for
/// [`TcpStream`](super::TcpStream).
pub struct UnixStream {
    io: Async<mio::net::UnixStream>,
}

impl UnixStream {
    fn from_mio(stream: mio::net::UnixStream) -> UnixStream {
        UnixStream {
            io: Async::new(stream),
        }
    }

    /// Connects to the socket at `path`.
    ///
    /// # Errors
    /// If nothing listens there, or as the OS reports.
    ///
    /// # Panics
    /// Outside a runtime.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let stream = UnixStream::from_mio(mio::net::UnixStream::connect(path)?);
        poll_fn(|cx| {
            stream
                .io
                .poll_io(cx, Direction::Write, |s| match s.take_error()? {
                    Some(e) => Err(e),
                    None => Ok(()),
                })
        })
        .await?;
        Ok(stream)
    }

    /// A pair of connected sockets (no path needed); may be called outside a runtime.
    ///
    /// # Errors
    /// As the OS reports.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a), UnixStream::from_mio(b)))
    }

    /// Reads some bytes into `buf`; `Ok(0)` means the peer closed its side. Cancel-safe.
    ///
    /// # Errors
    /// As the OS reports.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_read(cx, buf)).await
    }

    /// Reads exactly `buf.len()` bytes.
    ///
    /// # Errors
    /// `UnexpectedEof` if the peer closes first, or as the OS reports.
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        crate::io::AsyncReadExt::read_exact(self, buf).await
    }

    /// Writes some bytes of `buf`, returning how many.
    ///
    /// # Errors
    /// As the OS reports.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_write(cx, buf)).await
    }

    /// Writes all of `buf`.
    ///
    /// # Errors
    /// `WriteZero` if the socket accepts nothing, or as the OS reports.
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        crate::io::AsyncWriteExt::write_all(self, buf).await
    }

    /// Shuts down the read half, the write half, or both.
    ///
    /// # Errors
    /// As the OS reports.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get().shutdown(how)
    }

    /// Halves that borrow the stream; see [`TcpStream::split`](super::TcpStream::split).
    pub fn split(&mut self) -> (ReadHalf<'_, UnixStream>, WriteHalf<'_, UnixStream>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Halves that own the stream; see
    /// [`TcpStream::into_split`](super::TcpStream::into_split).
    pub fn into_split(self) -> (OwnedReadHalf<UnixStream>, OwnedWriteHalf<UnixStream>) {
        let stream = Rc::new(self);
        (OwnedReadHalf(stream.clone()), OwnedWriteHalf(stream))
    }

    /// The local address.
    ///
    /// # Errors
    /// As the OS reports.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    /// As the OS reports.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream").finish_non_exhaustive()
    }
}

stream_io!(UnixStream);
