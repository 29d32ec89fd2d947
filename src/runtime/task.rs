//! A task: a slot in the runtime's task table, and the waker that names it.
//!
//! # The life of a task slot
//! A spawned future is boxed into a [`Slot`] of the [`Tasks`] table (a `Slab`). Its
//! [`TaskId`] is the slab key plus a generation number unique to this task. The slot also
//! holds what its [`JoinHandle`](crate::JoinHandle) needs (the outcome once there is one,
//! the waker of whoever awaits it, the abort request), so spawning allocates the boxed
//! future and nothing else: no separate join state, and a [`Header`] (the waker's target)
//! taken from a pool of headers nobody else references any more. The slot and its header
//! move through these states; the rules in each are what make waking safe:
//!
//! | state | `stage` | `header.scheduled` | rule |
//! |---|---|---|---|
//! | **scheduled** | `Live`, future `Some` | `true` | its id is in a ready queue exactly once; further wakes do nothing |
//! | **running** | `Live`, future `None` (taken by the executor) | `false` | a wake during the poll queues it again (the flag was cleared *before* polling) |
//! | **idle** | `Live`, future `Some` | `false` | waiting; the next wake sets the flag and queues the id |
//! | **finished** | `Finished(outcome)`, kept only while a handle exists | `true` forever (closed) | stale wakers find the flag set and do nothing; the handle takes the outcome and frees the slot |
//!
//! Wakers may outlive the task and the slab key may be reused by a new task. A stale id
//! that was already queued is recognised by its generation and skipped, so a reused slot
//! is never polled on behalf of a task that no longer exists. A header goes back to the
//! pool only when its task finished and `Arc::get_mut` proves that no waker of it is left
//! anywhere (no other thread or future can then reach it): so a stale waker always names
//! a closed header, never the header of a newer task.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use slab::Slab;

use super::context;
use super::join::JoinError;
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
    #[inline]
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

/// What a task's future gives back: its output, type-erased (a `Box` of a zero-sized
/// output, such as `()`, does not allocate).
pub(crate) type Output = Box<dyn Any>;

/// The boxed, type-erased future the executor polls.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = Output>>>;

/// What a finished task leaves for its handle.
pub(crate) type Outcome = Result<Output, JoinError>;

/// One entry of the task table.
pub(crate) struct Slot {
    generation: u64,
    stage: Stage,
    /// A `JoinHandle` of the task still exists (it was not dropped).
    joined: bool,
    /// The waker of whoever awaits the handle.
    waiter: Option<Waker>,
    /// The handle asked the task to stop.
    abort: bool,
}

enum Stage {
    /// Not finished: its header, and its future (`None` while the executor polls it).
    Live {
        header: Arc<Header>,
        future: Option<BoxFuture>,
    },
    /// Finished; the outcome waits for the handle, which frees the slot.
    Finished(Outcome),
    /// The handle took the outcome (the slot is being removed).
    Taken,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stage = match &self.stage {
            Stage::Live { future: None, .. } => "running",
            Stage::Live { .. } => "live",
            Stage::Finished(_) | Stage::Taken => "finished",
        };
        f.debug_struct("Slot")
            .field("generation", &self.generation)
            .field("stage", &stage)
            .finish()
    }
}

/// A task taken out of its slot by [`Tasks::take_for_poll`].
pub(crate) enum Taken {
    /// Poll it with this waker.
    Poll(BoxFuture, Waker),
    /// Its handle aborted it: drop it (it is already finished as cancelled).
    Aborted(BoxFuture),
}

/// The task table: every task of one runtime, shared by the executor and the join
/// handles (which may outlive the runtime, and then find their outcome here).
#[derive(Debug)]
pub(crate) struct Tasks {
    slab: RefCell<Slab<Slot>>,
    next_generation: Cell<u64>,
    /// Tasks not finished yet.
    live: Cell<usize>,
    /// Headers of finished tasks that nothing references any more, for new tasks.
    spare: RefCell<Vec<Arc<Header>>>,
}

impl Tasks {
    pub(crate) fn new() -> Tasks {
        Tasks {
            slab: RefCell::new(Slab::new()),
            next_generation: Cell::new(0),
            live: Cell::new(0),
            spare: RefCell::new(Vec::new()),
        }
    }

    /// Stores a new task (scheduled: the caller queues the returned id).
    pub(crate) fn insert(&self, future: BoxFuture, shared: &Arc<Shared>) -> TaskId {
        let generation = self.next_generation.get();
        self.next_generation.set(generation + 1);
        let mut slab = self.slab.borrow_mut();
        let entry = slab.vacant_entry();
        let id = TaskId {
            index: entry.key(),
            generation,
        };
        let header = self.header_for(id, shared);
        entry.insert(Slot {
            generation,
            stage: Stage::Live {
                header,
                future: Some(future),
            },
            joined: true,
            waiter: None,
            abort: false,
        });
        self.live.set(self.live.get() + 1);
        id
    }

    /// A scheduled header naming `id`: a spare one if there is one, else a new one.
    fn header_for(&self, id: TaskId, shared: &Arc<Shared>) -> Arc<Header> {
        if let Some(mut header) = self.spare.borrow_mut().pop() {
            if let Some(h) = Arc::get_mut(&mut header) {
                h.id = id;
                h.scheduled.store(true, Ordering::Relaxed);
                return header;
            }
        }
        Arc::new(Header::new_scheduled(id, shared.clone()))
    }

    /// Number of tasks not finished yet.
    pub(crate) fn live(&self) -> usize {
        self.live.get()
    }

    /// Takes the task's future out of its slot for a poll and clears its `scheduled`
    /// flag (wakes from now on queue it again); an aborted task is finished as cancelled
    /// instead, and its future handed back for dropping. `None` for a stale id: the task
    /// finished, or the slot belongs to a newer task.
    #[inline]
    pub(crate) fn take_for_poll(&self, id: TaskId) -> Option<Taken> {
        let mut slab = self.slab.borrow_mut();
        let slot = slot_mut(&mut slab, id)?;
        let Stage::Live { header, future } = &mut slot.stage else {
            return None;
        };
        let future = future.take()?;
        if slot.abort {
            drop(slab);
            self.finish(id, Err(JoinError::cancelled()));
            return Some(Taken::Aborted(future));
        }
        header.start_poll();
        Some(Taken::Poll(future, Waker::from(header.clone())))
    }

    /// Puts back the future of a task that returned `Pending`.
    #[inline]
    pub(crate) fn put_back(&self, id: TaskId, future: BoxFuture) {
        if let Some(Slot {
            stage: Stage::Live { future: place, .. },
            ..
        }) = self.slab.borrow_mut().get_mut(id.index)
        {
            *place = Some(future);
        }
    }

    /// The task ended with `outcome`: kept for its handle (whose awaiting task is
    /// woken), or dropped if the handle is gone. Its header is closed, and goes back to
    /// the pool if nothing references it any more. The waker is called and the outcome
    /// dropped after the table is released: either may run arbitrary code.
    pub(crate) fn finish(&self, id: TaskId, outcome: Outcome) {
        let (waiter, unclaimed) = {
            let mut slab = self.slab.borrow_mut();
            let Some(slot) = slot_mut(&mut slab, id) else {
                return;
            };
            let Stage::Live { header, .. } = std::mem::replace(&mut slot.stage, Stage::Taken)
            else {
                return;
            };
            self.live.set(self.live.get() - 1);
            self.recycle(header);
            if slot.joined {
                slot.stage = Stage::Finished(outcome);
                (slot.waiter.take(), None)
            } else {
                (None, Some((outcome, self.free(&mut slab, id.index))))
            }
        };
        // Nobody will read a detached task's output: a panic in its destructor is
        // contained here, like one in a future's (`drop_quietly`).
        if unclaimed.is_some() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(unclaimed)));
        }
        if let Some(w) = waiter {
            w.wake();
        }
    }

    /// Closes a finished task's header and keeps it for a new task if no waker of it is
    /// left (`Arc::get_mut` then succeeds: nothing else can reach it).
    fn recycle(&self, mut header: Arc<Header>) {
        header.close();
        if Arc::get_mut(&mut header).is_some() {
            self.spare.borrow_mut().push(header);
        }
    }

    /// Frees a slot (see [`emptied`](Tasks::emptied) for what happens when it was the last).
    #[inline]
    fn free(&self, slab: &mut Slab<Slot>, key: usize) -> Slot {
        let slot = slab.remove(key);
        if slab.is_empty() {
            self.emptied(slab);
        }
        slot
    }

    /// The slab is empty: it is cleared, so that the next tasks get keys 0, 1, 2, ... in
    /// the order they are spawned. A slab hands out freed keys last-freed first, and
    /// slots are freed in whatever order the handles collect their outcomes (a task that
    /// many others await through `futures::future::Shared`, say); without this, the keys
    /// of the next burst of tasks would be scattered over the slab, and each spawn would
    /// miss the cache when the slab is cold. Clearing reads every entry used since the
    /// last clear, each once: O(1) per spawn, amortized.
    #[cold]
    #[inline(never)]
    fn emptied(&self, slab: &mut Slab<Slot>) {
        slab.clear();
    }

    /// A handle polls for its task's outcome: ready once the task finished (the slot is
    /// freed then), else `waker` is kept and woken when it does.
    #[inline]
    pub(crate) fn poll_outcome(&self, id: TaskId, cx: &mut Context<'_>) -> Poll<Outcome> {
        let mut slab = self.slab.borrow_mut();
        let Some(slot) = slot_mut(&mut slab, id) else {
            return Poll::Ready(Err(JoinError::cancelled()));
        };
        if let Stage::Live { .. } = slot.stage {
            match &slot.waiter {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => slot.waiter = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        match self.free(&mut slab, id.index).stage {
            Stage::Finished(outcome) => Poll::Ready(outcome),
            _ => Poll::Ready(Err(JoinError::cancelled())),
        }
    }

    /// The handle is gone: a finished task's outcome is dropped (after the table is
    /// released), a live task runs on detached.
    pub(crate) fn detach(&self, id: TaskId) {
        let dropped = {
            let mut slab = self.slab.borrow_mut();
            let Some(slot) = slot_mut(&mut slab, id) else {
                return;
            };
            slot.joined = false;
            match slot.stage {
                Stage::Live { .. } => (slot.waiter.take(), None),
                _ => (None, Some(self.free(&mut slab, id.index))),
            }
        };
        drop(dropped);
    }

    /// Asks a live task to stop: it is queued, and finished as cancelled instead of
    /// being polled again.
    pub(crate) fn abort(&self, id: TaskId) {
        let header = {
            let mut slab = self.slab.borrow_mut();
            let Some(slot) = slot_mut(&mut slab, id) else {
                return;
            };
            let Stage::Live { header, .. } = &slot.stage else {
                return;
            };
            slot.abort = true;
            header.clone()
        };
        header.wake();
    }

    /// Whether the task finished (or is gone).
    pub(crate) fn is_finished(&self, id: TaskId) -> bool {
        let slab = self.slab.borrow();
        !matches!(
            slab.get(id.index).filter(|s| s.generation == id.generation),
            Some(Slot {
                stage: Stage::Live { .. },
                ..
            })
        )
    }

    /// Drops every live task's future (their handles resolve as cancelled); returns
    /// whether there was any. Dropping a future may spawn more: call until `false`.
    pub(crate) fn cancel_all(&self) -> bool {
        let mut ended: Vec<(Option<BoxFuture>, Option<Waker>, Option<Slot>)> = Vec::new();
        {
            let mut slab = self.slab.borrow_mut();
            let live: Vec<usize> = (slab.iter())
                .filter(|(_, s)| matches!(s.stage, Stage::Live { .. }))
                .map(|(key, _)| key)
                .collect();
            for key in live {
                let slot = &mut slab[key];
                let Stage::Live { header, future } = std::mem::replace(
                    &mut slot.stage,
                    Stage::Finished(Err(JoinError::cancelled())),
                ) else {
                    continue;
                };
                header.close();
                self.live.set(self.live.get() - 1);
                if slot.joined {
                    ended.push((future, slot.waiter.take(), None));
                } else {
                    ended.push((future, None, Some(self.free(&mut slab, key))));
                }
            }
            self.spare.borrow_mut().clear();
        }
        let any = !ended.is_empty();
        for (future, waiter, slot) in ended {
            if let Some(future) = future {
                drop_quietly(future);
            }
            drop(slot);
            if let Some(w) = waiter {
                w.wake();
            }
        }
        any
    }
}

/// Drops a task's future; a panic in its destructor is contained like a panic in `poll`.
pub(crate) fn drop_quietly(future: BoxFuture) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(future)));
}

/// The slot of task `id`, if it still holds that task (not a newer one in a reused key).
#[inline]
fn slot_mut(slab: &mut Slab<Slot>, id: TaskId) -> Option<&mut Slot> {
    slab.get_mut(id.index)
        .filter(|s| s.generation == id.generation)
}
