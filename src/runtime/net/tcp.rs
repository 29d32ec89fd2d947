//! TCP on the loop: [`TcpListener`] and [`TcpStream`], mio sockets registered with the
//! runtime's reactor.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::resolve::{resolve, ToSocketAddrs};
use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, SplitStream, Stream, WriteHalf};
use crate::io::{AsyncRead, AsyncWrite};
use crate::runtime::reactor::{Async, Direction};

/// A TCP socket server, listening for connections.
///
/// # Examples
/// ```
/// use taskloop::net::{TcpListener, TcpStream};
/// let rt = taskloop::Runtime::new().unwrap();
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = taskloop::spawn(async move {
///         let mut s = TcpStream::connect(addr).await.unwrap();
///         s.write_all(b"hi").await.unwrap();
///     });
///     let (mut conn, _) = listener.accept().await.unwrap();
///     let mut buf = [0u8; 2];
///     conn.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
///     client.await.unwrap();
/// });
/// ```
pub struct TcpListener {
    io: Async<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to the first of `addr`'s addresses that works. Synchronous, like mio's and
    /// std's (a host name is resolved on the calling thread: bind at start-up, or pass an
    /// address); the socket joins the loop on its first `accept`, so it may be bound
    /// outside a runtime.
    ///
    /// # Errors
    /// If no address resolves, or none can be bound (the last error is returned).
    pub fn bind(addr: impl std::net::ToSocketAddrs) -> io::Result<TcpListener> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: Async::new(mio::net::TcpListener::from_std(listener)),
        })
    }

    /// The address this listener is bound to (useful after binding port 0).
    ///
    /// # Errors
    /// As the OS reports.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// Waits for the next connection.
    ///
    /// # Errors
    /// As the OS reports (for example, too many open files); the listener stays usable.
    ///
    /// # Panics
    /// Outside a runtime.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) =
            poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |l| l.accept())).await?;
        Ok((TcpStream::from_mio(stream), addr))
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// A TCP connection.
pub struct TcpStream {
    io: Async<mio::net::TcpStream>,
}

impl TcpStream {
    fn from_mio(stream: mio::net::TcpStream) -> TcpStream {
        TcpStream {
            io: Async::new(stream),
        }
    }

    /// Connects to the first of `addr`'s addresses that accepts. A host name
    /// (`"localhost:80"`) is resolved on the blocking pool, not on the loop thread.
    ///
    /// # Errors
    /// The last connection error, or `InvalidInput` if no address resolved.
    ///
    /// # Panics
    /// Outside a runtime.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last_err = None;
        for addr in resolve(&addr).await? {
            match TcpStream::connect_one(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to")
        }))
    }

    /// mio's connect is non-blocking: the socket becomes writable when the handshake
    /// ends; then `take_error` tells failure, and `peer_addr` success (or "not yet").
    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?);
        poll_fn(|cx| {
            stream.io.poll_io(cx, Direction::Write, |s| {
                if let Some(e) = s.take_error()? {
                    return Err(e);
                }
                match s.peer_addr() {
                    Ok(_) => Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                    Err(e) => Err(e),
                }
            })
        })
        .await?;
        Ok(stream)
    }

    /// Reads some bytes into `buf`; `Ok(0)` means the peer closed its side. Cancel-safe.
    ///
    /// # Errors
    /// As the OS reports (for example, connection reset).
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_read(cx, buf)).await
    }

    /// Reads exactly `buf.len()` bytes.
    ///
    /// # Errors
    /// `UnexpectedEof` if the peer closes first, or as the OS reports.
    pub async fn read_exact(&mut self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read(buf).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }

    /// Writes some bytes of `buf`, returning how many.
    ///
    /// # Errors
    /// As the OS reports (for example, broken pipe).
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_write(cx, buf)).await
    }

    /// Writes all of `buf`.
    ///
    /// # Errors
    /// `WriteZero` if the socket accepts nothing, or as the OS reports.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Flushes buffered data. TCP sockets have no user-space buffer, so this only
    /// exists for symmetry with `std::io::Write`.
    ///
    /// # Errors
    /// Never, for TCP.
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Shuts down the read half, the write half, or both.
    ///
    /// # Errors
    /// As the OS reports (for example, not connected).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get().shutdown(how)
    }

    /// The remote address.
    ///
    /// # Errors
    /// As the OS reports.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    /// As the OS reports.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// Splits the stream into a read half and a write half that borrow it, so one task
    /// can read and write at once (say, in two branches of a `select!`).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Splits the stream into halves that own it, so a reader task and a writer task
    /// can each take one. The connection closes when both are dropped; dropping the
    /// write half shuts the write direction down.
    ///
    /// # Examples
    /// ```
    /// use taskloop::io::{AsyncReadExt, AsyncWriteExt};
    /// use taskloop::net::{TcpListener, TcpStream};
    /// let rt = taskloop::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let client = taskloop::spawn(async move { TcpStream::connect(addr).await });
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     let (mut read, mut write) = client.await.unwrap().unwrap().into_split();
    ///     let writer = taskloop::spawn(async move { write.write_all(b"ping").await });
    ///     let echo = taskloop::spawn(async move {
    ///         let (mut r, mut w) = server.into_split();
    ///         let mut buf = [0; 4];
    ///         r.read_exact(&mut buf).await.unwrap();
    ///         w.write_all(&buf).await.unwrap();
    ///     });
    ///     let mut buf = [0; 4];
    ///     read.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"ping");
    ///     writer.await.unwrap().unwrap();
    ///     echo.await.unwrap();
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let stream = Rc::new(self);
        (OwnedReadHalf(stream.clone()), OwnedWriteHalf(stream))
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm).
    ///
    /// # Errors
    /// As the OS reports.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get().set_nodelay(nodelay)
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

stream_io!(TcpStream);
