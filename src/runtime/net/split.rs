//! Splitting a stream socket into a read half and a write half, so that one task (or
//! two) can read and write at once.
//!
//! Both halves use the same registered source; reads wait on its read direction and
//! writes on its write direction, each with its own waiters (the reactor keeps them
//! apart), so a reader parked on an idle connection never delays a writer.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::io::{AsyncRead, AsyncWrite};

mod sealed {
    use std::io;
    use std::net::Shutdown;
    use std::task::{Context, Poll};

    /// What a stream socket offers its halves: reads and writes through `&self`.
    pub trait Stream {
        fn poll_read_ref(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
        fn poll_write_ref(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
        fn shutdown_ref(&self, how: Shutdown) -> io::Result<()>;
    }
}

pub(crate) use sealed::Stream;

/// A stream socket that can be split: [`TcpStream`](super::TcpStream) or
/// [`UnixStream`](super::UnixStream).
pub trait SplitStream: sealed::Stream {}

/// The read half of a stream borrowed by `split`.
pub struct ReadHalf<'a, S = super::TcpStream>(pub(crate) &'a S);

/// The write half of a stream borrowed by `split`.
pub struct WriteHalf<'a, S = super::TcpStream>(pub(crate) &'a S);

/// The owned read half of a stream, from `into_split`; it can move into its own task.
pub struct OwnedReadHalf<S = super::TcpStream>(pub(crate) Rc<S>);

/// The owned write half of a stream, from `into_split`. Dropping it shuts the write
/// direction down (the peer reads end of stream), as tokio's does.
pub struct OwnedWriteHalf<S: SplitStream = super::TcpStream>(pub(crate) Rc<S>);

macro_rules! read_half {
    ($($half:ident $(<$l:lifetime>)?),*) => {$(
        impl<$($l,)? S: SplitStream> AsyncRead for $half<$($l,)? S> {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.0.poll_read_ref(cx, buf)
            }
        }
        impl<$($l,)? S: SplitStream> fmt::Debug for $half<$($l,)? S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($half))
            }
        }
    )*};
}

macro_rules! write_half {
    ($($half:ident $(<$l:lifetime>)?),*) => {$(
        impl<$($l,)? S: SplitStream> AsyncWrite for $half<$($l,)? S> {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.0.poll_write_ref(cx, buf)
            }
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.0.shutdown_ref(Shutdown::Write))
            }
        }
        impl<$($l,)? S: SplitStream> fmt::Debug for $half<$($l,)? S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($half))
            }
        }
    )*};
}

read_half!(ReadHalf<'a>, OwnedReadHalf);
write_half!(WriteHalf<'a>, OwnedWriteHalf);

impl<S: SplitStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        let _ = self.0.shutdown_ref(Shutdown::Write);
    }
}
