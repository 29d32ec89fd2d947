//! The connection limit: how many connections the server keeps open at once.
//!
//! Without one, 400 idle unauthenticated connections at a 256-descriptor limit locked
//! every client out: `accept` failed until idle timeouts freed descriptors. So every
//! connection is admitted here, and at the limit one that costs the others most and
//! gives least is told to leave to make room for the new one. Each connection reports
//! its [`Phase`]; the one evicted is, in this order:
//!
//! 1. one closing after an error answer (it only lingers so the client reads it);
//! 2. one in the middle of a head whose credentials are not known to be good, the
//!    oldest head first. A client sends a head in one round trip; a head still
//!    arriving is slow, and the oldest is the slowest (slowloris: 300 connections
//!    trickling a byte every 200 ms into room for 100 used to get every health probe
//!    `503`);
//! 3. one waiting for its first request, or idle after requests that never carried
//!    good credentials, the longest waiting first;
//! 4. one idle after an authenticated request (a client's kept-alive connection), the
//!    longest idle first.
//!
//! Connections handling a request, or reading a head whose `Authorization` line was
//! already accepted, are never evicted; when only those are left, the new connection
//! gets `503` with `Retry-After` and is closed.
//!
//! The limit is [`Limits::max_connections`](super::Limits::max_connections), lowered to
//! leave room under the process's descriptor limit where that can be read.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use slab::Slab;

use crate::sync::Notify;

/// Descriptors kept free for the listener, the poll, the workers and the answer of a
/// refused connection.
const SPARE_DESCRIPTORS: usize = 32;

/// What a connection is doing, as admission sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for the first byte of a request.
    Idle,
    /// A request head has started and is not complete.
    Head,
    /// Handling a request: its body, its answer. Not evictable.
    Busy,
    /// Closing after an error answer, reading what the client still sends.
    Closing,
    /// Told to leave; not chosen again.
    Leaving,
}

/// The open connections.
#[derive(Debug)]
pub(crate) struct Connections {
    limit: usize,
    slots: RefCell<Slab<Slot>>,
}

#[derive(Debug)]
struct Slot {
    phase: Phase,
    /// When the phase began.
    since: Instant,
    /// Whether this connection has shown good credentials (in this head or an earlier
    /// request).
    trusted: bool,
    /// Whether the head being read has shown good credentials.
    head_trusted: bool,
    close: Rc<Notify>,
}

impl Slot {
    /// The eviction class (lower goes first), or `None` if it must not be evicted.
    fn class(&self) -> Option<u8> {
        match self.phase {
            Phase::Closing => Some(0),
            Phase::Head if !self.head_trusted => Some(1),
            Phase::Idle if !self.trusted => Some(2),
            Phase::Idle => Some(3),
            Phase::Head | Phase::Busy | Phase::Leaving => None,
        }
    }
}

/// One admitted connection; leaving (drop) frees its place.
#[derive(Debug)]
pub(crate) struct Admitted {
    conns: Rc<Connections>,
    key: usize,
    close: Rc<Notify>,
}

impl Connections {
    /// At most `limit` connections, fewer if the descriptor limit is lower.
    pub(crate) fn new(limit: usize) -> Rc<Connections> {
        let fds = descriptor_limit().map_or(usize::MAX, |n| n.saturating_sub(SPARE_DESCRIPTORS));
        Rc::new(Connections {
            limit: limit.min(fds).max(1),
            slots: RefCell::new(Slab::new()),
        })
    }

    /// Admits a new connection, telling one to leave if the server is full (see the
    /// module doc for which); `None` if none may be evicted.
    pub(crate) fn admit(self: &Rc<Self>) -> Option<Admitted> {
        let mut slots = self.slots.borrow_mut();
        let leaving = slots
            .iter()
            .filter(|(_, s)| s.phase == Phase::Leaving)
            .count();
        if slots.len() - leaving >= self.limit {
            let (_, _, victim) = slots
                .iter()
                .filter_map(|(key, slot)| Some((slot.class()?, slot.since, key)))
                .min()?;
            // It leaves when its task next runs; until then it is not chosen again.
            let slot = &mut slots[victim];
            slot.phase = Phase::Leaving;
            slot.close.notify_one();
        }
        let close = Rc::new(Notify::new());
        let key = slots.insert(Slot {
            phase: Phase::Idle,
            since: Instant::now(),
            trusted: false,
            head_trusted: false,
            close: close.clone(),
        });
        Some(Admitted {
            conns: self.clone(),
            key,
            close,
        })
    }
}

impl Admitted {
    /// Reports what the connection does now (a connection told to leave stays so).
    pub(crate) fn set(&self, phase: Phase) {
        if let Some(slot) = self.conns.slots.borrow_mut().get_mut(self.key) {
            if slot.phase != Phase::Leaving && slot.phase != phase {
                slot.phase = phase;
                slot.since = Instant::now();
                slot.head_trusted = false;
            }
        }
    }

    /// Reports that the head being read carries good credentials: the connection is
    /// not evicted for the rest of this head, and later ranks as a known client's.
    pub(crate) fn trust(&self) {
        if let Some(slot) = self.conns.slots.borrow_mut().get_mut(self.key) {
            slot.trusted = true;
            slot.head_trusted = true;
        }
    }

    /// Completes when the server wants this connection closed to make room.
    pub(crate) async fn evicted(&self) {
        self.close.notified().await;
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.conns.slots.borrow_mut().try_remove(self.key);
    }
}

/// The soft `RLIMIT_NOFILE` of this process, from `/proc/self/limits` (Linux).
fn descriptor_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_limit_the_oldest_idle_goes_then_new_ones_are_refused() {
        let conns = Connections::new(2);
        let a = conns.admit().unwrap();
        let b = conns.admit().unwrap();
        b.set(Phase::Busy);
        let c = conns.admit().expect("a was idle: it makes room");
        c.set(Phase::Busy);
        assert!(conns.admit().is_none(), "b and c are busy");
        drop(a); // the evicted connection leaves
        assert!(conns.admit().is_none(), "b and c are still busy");
        b.set(Phase::Idle);
        assert!(conns.admit().is_some(), "b is idle again: it makes room");
        assert!(descriptor_limit().is_none_or(|n| n > 0));
    }

    /// Which of `admitted` was told to leave.
    fn evicted(conns: &Connections, admitted: &[&Admitted]) -> Vec<usize> {
        let slots = conns.slots.borrow();
        (0..admitted.len())
            .filter(|&i| slots[admitted[i].key].phase == Phase::Leaving)
            .collect()
    }

    #[test]
    fn slow_heads_go_before_idle_and_known_clients_last() {
        let conns = Connections::new(5);
        let closing = conns.admit().unwrap();
        let known = conns.admit().unwrap();
        let slow_head = conns.admit().unwrap();
        let good_head = conns.admit().unwrap();
        let fresh = conns.admit().unwrap();
        known.set(Phase::Head);
        known.trust();
        known.set(Phase::Idle);
        slow_head.set(Phase::Head);
        good_head.set(Phase::Head);
        good_head.trust();
        closing.set(Phase::Closing);
        let all = [&closing, &known, &slow_head, &good_head, &fresh];
        let mut extra = Vec::new();
        for expected in [vec![0], vec![0, 2], vec![0, 2, 4], vec![0, 1, 2, 4]] {
            extra.push(conns.admit().expect("room is made"));
            extra.last().unwrap().set(Phase::Busy);
            assert_eq!(evicted(&conns, &all), expected);
        }
        assert!(
            conns.admit().is_none(),
            "an authenticated head is never evicted"
        );
    }
}
