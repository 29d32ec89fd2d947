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
