//! Sockets on the loop: TCP ([`TcpListener`], [`TcpStream`] and its halves), UDP
//! ([`UdpSocket`]), Unix domain sockets ([`UnixListener`], [`UnixStream`]), and host name
//! resolution on the blocking pool ([`lookup_host`]).
//!
//! Every socket is a mio source registered with the runtime's reactor on its first
//! operation. Operations try the socket first and wait only after it answers
//! `WouldBlock`, so a busy connection costs no extra wake-ups (see the reactor's
//! edge-triggered contract in design chapter 3). Sockets belong to the loop thread that
//! first used them (they are not `Send`); to start socket work from another thread, use
//! [`Handle::spawn_with`](crate::Handle::spawn_with).

/// The byte-stream impls a connected socket (`TcpStream`, `UnixStream`) shares: the
/// split halves' [`Stream`](split::Stream) and [`SplitStream`](split::SplitStream),
/// [`AsyncRead`](crate::io::AsyncRead) and [`AsyncWrite`](crate::io::AsyncWrite), all
/// through the socket's `io: Async<_>` and its `shutdown`.
macro_rules! stream_io {
    ($t:ty) => {
        impl Stream for $t {
            fn poll_read_ref(
                &self,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }

            fn poll_write_ref(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                self.io.poll_write(cx, buf)
            }

            fn shutdown_ref(&self, how: Shutdown) -> io::Result<()> {
                self.shutdown(how)
            }
        }

        impl SplitStream for $t {}

        impl AsyncRead for $t {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }
        }

        impl AsyncWrite for $t {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_write(cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.shutdown(Shutdown::Write))
            }
        }
    };
}

mod resolve;
mod split;
mod tcp;
mod udp;
#[cfg(unix)]
mod unix;

pub use resolve::{lookup_host, ToSocketAddrs};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, SplitStream, WriteHalf};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix::{UnixListener, UnixStream};
