//! The connection limit: how many connections the server keeps open at once.
//!
//! Without one, 400 idle unauthenticated connections at a 256-descriptor limit locked
//! every client out: `accept` failed until idle timeouts freed descriptors. So every
//! connection is admitted here. At the limit, the connection idle for longest (waiting
//! for its next request, or for its first) is told to close and the new one is
//! admitted; when none is idle, the new one gets `503` with `Retry-After` and is closed.
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

/// The open connections.
#[derive(Debug)]
pub(crate) struct Connections {
    limit: usize,
    slots: RefCell<Slab<Slot>>,
}

#[derive(Debug)]
struct Slot {
    /// When it started waiting for a request; `None` while it handles one.
    idle_since: Option<Instant>,
    close: Rc<Notify>,
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

    /// Admits a new connection, closing the longest idle one if the server is full;
    /// `None` if it is full of busy connections.
    pub(crate) fn admit(self: &Rc<Self>) -> Option<Admitted> {
        let mut slots = self.slots.borrow_mut();
        if slots.len() >= self.limit {
            let oldest = slots
                .iter_mut()
                .filter_map(|(key, slot)| Some((slot.idle_since?, key)))
                .min()?;
            // It leaves at once, when its task next runs; until then it is not idle.
            let slot = &mut slots[oldest.1];
            slot.idle_since = None;
            slot.close.notify_one();
        }
        let close = Rc::new(Notify::new());
        let key = slots.insert(Slot {
            idle_since: Some(Instant::now()),
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
    /// Marks the connection as waiting for a request (`true`) or handling one.
    pub(crate) fn set_idle(&self, idle: bool) {
        if let Some(slot) = self.conns.slots.borrow_mut().get_mut(self.key) {
            slot.idle_since = idle.then(Instant::now);
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
        b.set_idle(false);
        let c = conns.admit().expect("a was idle: it makes room");
        c.set_idle(false);
        assert!(conns.admit().is_none(), "b and c are busy");
        drop(a); // the evicted connection leaves
        assert!(conns.admit().is_none(), "b and c are still busy");
        b.set_idle(true);
        assert!(conns.admit().is_some(), "b is idle again: it makes room");
        assert!(descriptor_limit().is_none_or(|n| n > 0));
    }
}
