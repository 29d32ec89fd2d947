//! The reactor: mio's `Poll`, and a slab of the I/O sources registered with it.
//!
//! Sources are registered edge-triggered for both directions. An event only says
//! "something changed"; each source keeps a readiness flag per direction that the event
//! sets and that is cleared only when an operation returns `WouldBlock`. So an operation
//! never waits for an edge without having first drained the socket (mio's contract), and
//! a spurious event costs one extra `read` that returns `WouldBlock`.

use std::cell::{Cell, OnceCell, RefCell};
use std::fmt;
use std::io::{self, Read, Write};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Interest, Registry, Token};
use slab::Slab;

use super::alarm::Alarm;
use super::context;
use super::coop;
use super::executor::Core;
use super::loom::LoopWaker;

/// The token of the one `mio::Waker` of the loop's `Poll`.
const WAKER_TOKEN: Token = Token(usize::MAX);

/// mio's `Poll` and the sources registered with it.
pub(crate) struct Reactor {
    poll: RefCell<mio::Poll>,
    events: RefCell<Events>,
    registry: Registry,
    sources: RefCell<Slab<Rc<IoState>>>,
    /// Wakes `Poll` at a sub-millisecond instant (`None` where the platform has none).
    alarm: Option<Alarm>,
    /// The deadline the alarm was last set for.
    alarm_set_for: Cell<Option<Instant>>,
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("sources", &self.sources.borrow().len())
            .finish()
    }
}

/// Which half of a source an operation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

/// Readiness and waiting tasks of each direction of one source.
///
/// Usually one task waits per direction, but a shared listener may have several tasks
/// in `accept`: every waiter is woken on readiness and each tries again (the losers
/// see `WouldBlock` and wait anew).
#[derive(Default)]
pub(crate) struct IoState {
    ready: [Cell<bool>; 2],
    waiters: [RefCell<Vec<Waker>>; 2],
}

impl fmt::Debug for IoState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoState")
            .field("readable", &self.ready[0].get())
            .field("writable", &self.ready[1].get())
            .finish()
    }
}

impl IoState {
    fn set_ready(&self, dir: Direction, woken: &mut Vec<Waker>) {
        self.ready[dir as usize].set(true);
        woken.append(&mut self.waiters[dir as usize].borrow_mut());
    }

    fn add_waiter(&self, dir: Direction, waker: &Waker) {
        let mut waiters = self.waiters[dir as usize].borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(waker)) {
            waiters.push(waker.clone());
        }
    }
}

impl Reactor {
    /// A new `Poll` and the `mio::Waker` that interrupts it.
    pub(crate) fn new() -> io::Result<(Reactor, LoopWaker)> {
        let poll = mio::Poll::new()?;
        let waker = LoopWaker::new(poll.registry(), WAKER_TOKEN)?;
        let registry = poll.registry().try_clone()?;
        let alarm = Alarm::new(&registry)?;
        let reactor = Reactor {
            alarm,
            alarm_set_for: Cell::new(None),
            poll: RefCell::new(poll),
            events: RefCell::new(Events::with_capacity(1024)),
            registry,
            sources: RefCell::new(Slab::new()),
        };
        Ok((reactor, waker))
    }

    /// Waits for I/O events (at most `timeout`; `None` = until something happens) and
    /// wakes the tasks waiting on the sources that became ready.
    pub(crate) fn poll(&self, timeout: Option<Duration>) {
        let mut events = self.events.borrow_mut();
        match self.poll.borrow_mut().poll(&mut events, timeout) {
            Ok(()) => {}
            // A signal interrupted the wait: just a shorter sleep.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return,
            Err(e) => panic!("taskloop: mio Poll::poll failed, the event loop cannot go on: {e}"),
        }
        let mut woken = Vec::new();
        {
            let sources = self.sources.borrow();
            for event in events.iter() {
                // Stale tokens (source already gone) and the waker's token are skipped.
                let Some(state) = sources.get(event.token().0) else {
                    continue;
                };
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    state.set_ready(Direction::Read, &mut woken);
                }
                if event.is_writable() || event.is_write_closed() || event.is_error() {
                    state.set_ready(Direction::Write, &mut woken);
                }
            }
        }
        drop(events);
        for waker in woken {
            waker.wake();
        }
    }

    /// Waits like [`poll`](Reactor::poll) until `deadline` (`left` from now), waking at
    /// that exact instant through the alarm, which is set again only if it is not
    /// already set for `deadline`. Returns `false`, without waiting, if this platform has
    /// no alarm.
    pub(crate) fn poll_until(&self, deadline: Instant, left: Duration) -> bool {
        let Some(alarm) = &self.alarm else {
            return false;
        };
        if self.alarm_set_for.get() != Some(deadline) {
            if alarm.arm(left).is_err() {
                return false;
            }
            self.alarm_set_for.set(Some(deadline));
        }
        // The alarm ends the wait; this timeout (mio rounds it up to whole milliseconds)
        // is a safety net only.
        self.poll(Some(left));
        true
    }

    fn register(&self, source: &mut impl Source) -> io::Result<(usize, Rc<IoState>)> {
        let mut sources = self.sources.borrow_mut();
        let entry = sources.vacant_entry();
        let key = entry.key();
        let state = Rc::new(IoState::default());
        // Start as "ready": the first operation just tries, and learns the truth.
        state.ready[0].set(true);
        state.ready[1].set(true);
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.registry.register(source, Token(key), interest)?;
        entry.insert(state.clone());
        Ok((key, state))
    }

    fn deregister(&self, source: &mut impl Source, key: usize) {
        let _ = self.registry.deregister(source);
        self.sources.borrow_mut().try_remove(key);
    }

    /// Number of registered sources.
    pub(crate) fn len(&self) -> usize {
        self.sources.borrow().len()
    }
}

/// A mio source driven by the loop: registered lazily with the current runtime on its
/// first operation (so sockets can be created outside `block_on`), deregistered on drop.
pub(crate) struct Async<S: Source> {
    source: RefCell<S>,
    registration: OnceCell<(Rc<Core>, usize, Rc<IoState>)>,
}

impl<S: Source + fmt::Debug> fmt::Debug for Async<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Async").field(&self.source).finish()
    }
}

impl<S: Source> Async<S> {
    pub(crate) fn new(source: S) -> Async<S> {
        Async {
            source: RefCell::new(source),
            registration: OnceCell::new(),
        }
    }

    /// The underlying source, for operations that cannot block.
    pub(crate) fn get(&self) -> std::cell::Ref<'_, S> {
        self.source.borrow()
    }

    fn state(&self) -> io::Result<&Rc<IoState>> {
        if let Some((_, _, state)) = self.registration.get() {
            return Ok(state);
        }
        let core = context::expect_current("taskloop::net I/O");
        let (key, state) = core.reactor.register(&mut *self.source.borrow_mut())?;
        Ok(&self.registration.get_or_init(|| (core, key, state)).2)
    }

    /// Tries `op` while the direction is ready; on `WouldBlock` clears readiness and
    /// waits for the next event. This is the one place the edge-triggered contract lives,
    /// and where the cooperative budget is spent (see `coop`): a completed operation
    /// costs one unit, and with none left the task yields although the source is ready.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let state = match self.state() {
            Ok(state) => state,
            Err(e) => return Poll::Ready(Err(e)),
        };
        let d = dir as usize;
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        loop {
            if !state.ready[d].get() {
                state.add_waiter(dir, cx.waker());
                return Poll::Pending;
            }
            match op(&self.source.borrow()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => state.ready[d].set(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => {
                    coop::spend();
                    return Poll::Ready(result);
                }
            }
        }
    }
}

impl<S: Source> Async<S>
where
    for<'a> &'a S: Read + Write,
{
    /// Reads into `buf` once the source is readable.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Read, |mut s| s.read(buf))
    }

    /// Writes from `buf` once the source is writable.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, |mut s| s.write(buf))
    }
}

impl<S: Source> Drop for Async<S> {
    fn drop(&mut self) {
        if let Some((core, key, _)) = self.registration.take() {
            core.reactor.deregister(self.source.get_mut(), key);
        }
    }
}
