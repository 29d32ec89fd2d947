//! The reactor's alarm clock: lets `Poll::poll` itself wake at a sub-millisecond instant.
//!
//! `epoll_wait` counts whole milliseconds, so on its own the loop can wait for a timer
//! 0.4 ms away only by spinning, by waking up to a millisecond late, or by napping
//! outside `Poll` (deaf to sockets and remote wakes meanwhile). On Linux the alarm is a
//! `timerfd` (`CLOCK_MONOTONIC`, the clock `Instant` reads) registered with mio under its
//! own token: armed for the exact time left, it makes `epoll_wait` return at that
//! instant, while a socket or the `mio::Waker` can still end the wait sooner. This is
//! what smol's `polling` does. Elsewhere, or without the `timerfd` feature (on by
//! default), there is no alarm and the executor falls back to the nap.
//!
//! The alarm is one-shot. Arming it again replaces the previous deadline and, as
//! `timerfd_settime` resets the expiry count, makes the fd unreadable until the new
//! deadline, so it never has to be read: its event only ends the wait, and the loop's
//! `fire_expired` (which compares against `Instant::now()`) decides what is due.

use std::io;
use std::time::Duration;

use mio::{Interest, Registry, Token};

/// The token of the alarm's registration.
pub(crate) const ALARM_TOKEN: Token = Token(usize::MAX - 1);

/// A `timerfd` registered with the loop's `Poll`.
#[cfg(all(target_os = "linux", feature = "timerfd"))]
#[derive(Debug)]
pub(crate) struct Alarm {
    fd: std::os::fd::OwnedFd,
}

#[cfg(all(target_os = "linux", feature = "timerfd"))]
impl Alarm {
    /// A disarmed alarm, registered with `registry` (read interest, edge-triggered).
    pub(crate) fn new(registry: &Registry) -> io::Result<Option<Alarm>> {
        use rustix::time::{timerfd_create, TimerfdClockId, TimerfdFlags};
        use std::os::fd::AsRawFd;
        let flags = TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC;
        let fd = timerfd_create(TimerfdClockId::Monotonic, flags)?;
        let raw = fd.as_raw_fd();
        registry.register(
            &mut mio::unix::SourceFd(&raw),
            ALARM_TOKEN,
            Interest::READABLE,
        )?;
        Ok(Some(Alarm { fd }))
    }

    /// Makes the fd readable `after` from now (at least 1 ns: zero would disarm it).
    pub(crate) fn arm(&self, after: Duration) -> io::Result<()> {
        use rustix::time::{timerfd_settime, Itimerspec, TimerfdTimerFlags, Timespec};
        let after = after.max(Duration::from_nanos(1));
        let spec = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: Timespec {
                tv_sec: after.as_secs().try_into().unwrap_or(i64::MAX),
                tv_nsec: after.subsec_nanos().into(),
            },
        };
        timerfd_settime(&self.fd, TimerfdTimerFlags::empty(), &spec)?;
        Ok(())
    }
}

/// No alarm on this platform: the executor naps instead.
#[cfg(not(all(target_os = "linux", feature = "timerfd")))]
#[derive(Debug)]
pub(crate) enum Alarm {}

#[cfg(not(all(target_os = "linux", feature = "timerfd")))]
impl Alarm {
    pub(crate) fn new(_registry: &Registry) -> io::Result<Option<Alarm>> {
        let _ = (ALARM_TOKEN, Interest::READABLE);
        Ok(None)
    }

    pub(crate) fn arm(&self, _after: Duration) -> io::Result<()> {
        match *self {}
    }
}
