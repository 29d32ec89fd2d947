//! UDP on the loop: [`UdpSocket`].

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;

use super::resolve::{resolve, ToSocketAddrs};
use crate::runtime::reactor::{Async, Direction};

/// A UDP socket.
///
/// Each `send*` sends one datagram and each `recv*` receives one; a datagram longer than
/// the receive buffer is truncated (the rest is lost), as with std. Every method takes
/// `&self`, so tasks may share a socket through an `Rc`; `recv` and `recv_from` are
/// cancel-safe.
///
/// # Examples
/// ```
/// use taskloop::net::UdpSocket;
/// let rt = taskloop::Runtime::new().unwrap();
/// rt.block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").unwrap();
///     a.send_to(b"hello", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"hello"[..], a.local_addr().unwrap()));
/// });
/// ```
pub struct UdpSocket {
    io: Async<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to the first of `addr`'s addresses that works (synchronous, like std's; a
    /// host name is resolved on the calling thread). May be called outside a runtime.
    ///
    /// # Errors
    /// If no address resolves or none can be bound.
    pub fn bind(addr: impl std::net::ToSocketAddrs) -> io::Result<UdpSocket> {
        let socket = std::net::UdpSocket::bind(addr)?;
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: Async::new(mio::net::UdpSocket::from_std(socket)),
        })
    }

    /// Sets the default peer: [`send`](UdpSocket::send) goes there and
    /// [`recv`](UdpSocket::recv) only accepts datagrams from it. A host name is
    /// resolved on the blocking pool.
    ///
    /// # Errors
    /// If nothing resolves, or as the OS reports.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let mut last_err = None;
        for addr in resolve(&addr).await? {
            match self.io.get().connect(addr) {
                Ok(()) => return Ok(()),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| io::ErrorKind::InvalidInput.into()))
    }

    /// Sends `buf` to the connected peer.
    ///
    /// # Errors
    /// If not connected, or as the OS reports.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Write, |s| s.send(buf))).await
    }

    /// Receives one datagram from the connected peer.
    ///
    /// # Errors
    /// As the OS reports (for example, a refused connection signalled by ICMP).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.recv(buf))).await
    }

    /// Sends `buf` to `target` (the first address it resolves to).
    ///
    /// # Errors
    /// If nothing resolves, or as the OS reports.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let addr = resolve(&target).await?.into_iter().next();
        let addr = addr.ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Write, |s| s.send_to(buf, addr))
        })
        .await
    }

    /// Receives one datagram and the address it came from.
    ///
    /// # Errors
    /// As the OS reports.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.recv_from(buf))).await
    }

    /// The local address.
    ///
    /// # Errors
    /// As the OS reports.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    /// If not connected.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// Allows sending to broadcast addresses.
    ///
    /// # Errors
    /// As the OS reports.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get().set_broadcast(on)
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
