//! The `futures-io` bridge (feature `futures-io`): `futures_io::AsyncRead` and
//! `futures_io::AsyncWrite` for the sockets, their halves and [`BufReader`], so the
//! crates of that ecosystem (`futures::io::copy`, codecs, compression adapters) work on
//! them. Each impl forwards to the crate's own trait; `poll_close` shuts the write
//! direction down.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{AsyncRead, AsyncWrite, BufReader};
#[cfg(unix)]
use crate::net::UnixStream;
use crate::net::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, SplitStream, TcpStream, WriteHalf};

macro_rules! bridge_read {
    ($([$($g:tt)*] $t:ty),* $(,)?) => {$(
        impl<$($g)*> futures_io::AsyncRead for $t {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                AsyncRead::poll_read(self, cx, buf)
            }
        }
    )*};
}

macro_rules! bridge_write {
    ($([$($g:tt)*] $t:ty),* $(,)?) => {$(
        impl<$($g)*> futures_io::AsyncWrite for $t {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                AsyncWrite::poll_write(self, cx, buf)
            }
            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_flush(self, cx)
            }
            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_shutdown(self, cx)
            }
        }
    )*};
}

#[cfg(unix)]
bridge_read!([] UnixStream);
#[cfg(unix)]
bridge_write!([] UnixStream);

bridge_read!(
    [] TcpStream,
    ['a, S: SplitStream] ReadHalf<'a, S>,
    [S: SplitStream] OwnedReadHalf<S>,
    [R: AsyncRead + Unpin] BufReader<R>,
);

bridge_write!(
    [] TcpStream,
    ['a, S: SplitStream] WriteHalf<'a, S>,
    [S: SplitStream] OwnedWriteHalf<S>,
);
