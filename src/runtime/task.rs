//! A task: a slot in the executor's slab, and the waker that names it.
//!
//! # The life of a task slot
//! A spawned future is boxed into a [`Slot`] stored in the executor's `Slab`. Its
//! [`TaskId`] is the slab key plus a generation number unique to this task. The slot and
//! its [`Header`] move through these states; the rules in each are what make waking safe:
//!
//! | state | `slot.future` | `header.scheduled` | rule |
//! |---|---|---|---|
//! | **scheduled** | `Some` | `true` | its id is in a ready queue exactly once; further wakes do nothing |
//! | **running** | `None` (taken by the executor) | `false` | a wake during the poll queues it again (the flag was cleared *before* polling) |
//! | **idle** | `Some` | `false` | waiting; the next wake sets the flag and queues the id |
//! | **completed** | slot removed | `true` forever | stale wakers find the flag set and do nothing |
//!
//! Wakers may outlive the task and the slab key may be reused by a new task. A stale id
//! that was already queued is recognised by its generation and skipped, so a reused slot
//! is never polled on behalf of a task that no longer exists.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Wake, Waker};

use super::context;
use super::loom::AtomicBool;
use super::shared::Shared;

/// Names one task: its slab key and the generation of the task that holds the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskId {
    pub(crate) index: usize,
    pub(crate) generation: u64,
}

/// The part of a task that wakers share; `Send + Sync`, so wakers can cross threads.
#[derive(Debug)]
pub(crate) struct Header {
    id: TaskId,
    scheduled: AtomicBool,
    shared: Arc<Shared>,
}

impl Header {
    /// A header for a task that starts out scheduled (it is queued as it is spawned).
    pub(crate) fn new_scheduled(id: TaskId, shared: Arc<Shared>) -> Header {
        Header {
            id,
            scheduled: AtomicBool::new(true),
            shared,
        }
    }

    /// Called by the executor just before polling: wakes from now on queue it again.
    /// A swap, for the reason given at `Shared::clear_notified`: a waker's earlier
    /// `swap(true)` is then read here, so the poll sees what that waker published.
    pub(crate) fn start_poll(&self) {
        self.scheduled.swap(false, Ordering::AcqRel);
    }

    /// Called when the task is gone: every later wake is a no-op.
    pub(crate) fn close(&self) {
        self.scheduled.store(true, Ordering::Release);
    }
}

impl Wake for Header {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return; // already queued, running-and-requeued, or completed
        }
        let queued_locally = context::with_local(&self.shared, |core| core.schedule(self.id));
        if queued_locally.is_none() {
            self.shared.push_remote(self.id);
        }
    }
}

/// The boxed, type-erased future the executor polls.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()>>>;

/// One entry of the executor's slab.
pub(crate) struct Slot {
    pub(crate) generation: u64,
    pub(crate) waker: Waker,
    pub(crate) header: Arc<Header>,
    /// `None` while the executor is polling it.
    pub(crate) future: Option<BoxFuture>,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("generation", &self.generation)
            .field("running", &self.future.is_none())
            .finish()
    }
}
