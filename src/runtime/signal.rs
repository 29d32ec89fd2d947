//! Unix signals as futures (feature `signal`): [`ctrl_c`] and [`Signal`] for SIGINT and
//! SIGTERM.
//!
//! # How a signal reaches a task
//! A signal handler may do almost nothing safely; writing a byte to a file descriptor is
//! one of the few things it may do. So each [`Signal`] makes a connected pair of Unix
//! sockets, gives the write end to `signal-hook` (whose handler writes one byte per
//! delivery, without blocking), and registers the read end with the loop's reactor like
//! any socket: the "self-pipe trick". `recv` waits for the read end to become readable,
//! then drains it, so several deliveries between two `recv`s count as one (as in tokio).
//! `signal-hook` holds the handler code, the only `unsafe` involved; this crate has none.
//!
//! **Process-wide effect.** As with tokio, creating the first `Signal` for a signal
//! replaces its default action (terminate) for the rest of the process, even after the
//! `Signal` is dropped: a program that listens for Ctrl-C once must exit by itself.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read};
use std::os::raw::c_int;
use std::task::{Context, Poll};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::SigId;

use super::reactor::{Async, Direction};

/// Completes at the next Ctrl-C (SIGINT) after its first poll.
///
/// # Errors
/// If the handler cannot be installed (for example, out of file descriptors).
///
/// # Examples
/// ```no_run
/// let rt = taskloop::Runtime::new().unwrap();
/// rt.block_on(async {
///     taskloop::signal::ctrl_c().await.unwrap();
///     println!("shutting down");
/// });
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    Signal::interrupt()?.recv().await;
    Ok(())
}

/// A stream of deliveries of one signal.
///
/// # Examples
/// ```
/// use taskloop::signal::Signal;
/// let rt = taskloop::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut term = Signal::terminate().unwrap(); // installed: SIGTERM no longer kills
///     signal_hook::low_level::raise(signal_hook::consts::SIGTERM).unwrap();
///     assert_eq!(term.recv().await, Some(()));
/// });
/// ```
pub struct Signal {
    pipe: Async<mio::net::UnixStream>,
    id: SigId,
    signal: c_int,
}

impl Signal {
    /// Listens for SIGINT (Ctrl-C in a terminal).
    ///
    /// # Errors
    /// If the handler cannot be installed.
    pub fn interrupt() -> io::Result<Signal> {
        Signal::new(SIGINT)
    }

    /// Listens for SIGTERM (what `kill` and service managers send to stop a process).
    ///
    /// # Errors
    /// If the handler cannot be installed.
    pub fn terminate() -> io::Result<Signal> {
        Signal::new(SIGTERM)
    }

    /// Listens for `signal` from now on (deliveries before `recv` is awaited are kept).
    fn new(signal: c_int) -> io::Result<Signal> {
        let (read, write) = std::os::unix::net::UnixStream::pair()?;
        read.set_nonblocking(true)?;
        write.set_nonblocking(true)?;
        let id = signal_hook::low_level::pipe::register(signal, write)?;
        Ok(Signal {
            pipe: Async::new(mio::net::UnixStream::from_std(read)),
            id,
            signal,
        })
    }

    /// Waits for the next delivery. Deliveries since the last `recv` count as one.
    /// Cancel-safe. Returns `None` only if the pipe broke (it does not in practice).
    ///
    /// # Panics
    /// Outside a runtime.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The poll behind [`recv`](Signal::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let drained = self.pipe.poll_io(cx, Direction::Read, |mut pipe| {
            let mut buf = [0u8; 64];
            let first = pipe.read(&mut buf)?;
            while matches!(pipe.read(&mut buf), Ok(n) if n > 0) {}
            Ok(first)
        });
        drained.map(|read| match read {
            Ok(n) if n > 0 => Some(()),
            _ => None,
        })
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        signal_hook::low_level::unregister(self.id);
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("signal", &self.signal)
            .finish()
    }
}
