//! The state both ends of an mpsc channel share, and the [`Receiver`].
//!
//! # How the receiver parks and wakes
//! A `std::sync::Mutex` guards the queue, the sender count, the closed flag and the
//! receiver's waker. A send pushes under the lock and takes the waker; the waker is
//! called after the lock is released. The last sender's drop does the same, so the
//! receiver sees the end. For a bounded channel a [`Semaphore`] holds one permit per free
//! slot: a send waits for a permit (FIFO among senders, cancel-safe), a receive gives one
//! back. Closing the receiver closes the semaphore, so every waiting sender fails and
//! gets its value back.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::error::TryRecvError;
use crate::runtime::shared::lock;
use crate::runtime::sync::oneshot::store_waker;
use crate::runtime::sync::park::block_on_thread;
use crate::runtime::sync::Semaphore;

/// What the ends of one channel share.
pub(super) struct Chan<T> {
    state: Mutex<State<T>>,
    /// Bounded channels: one permit per free slot.
    pub(super) slots: Option<Semaphore>,
}

struct State<T> {
    queue: VecDeque<T>,
    senders: usize,
    closed: bool,
    rx_waker: Option<Waker>,
}

impl<T> Chan<T> {
    pub(super) fn new(capacity: Option<usize>) -> Arc<Chan<T>> {
        Arc::new(Chan {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                senders: 1,
                closed: false,
                rx_waker: None,
            }),
            slots: capacity.map(Semaphore::new),
        })
    }

    /// Queues `value` and wakes the receiver; gives it back if the receiver closed.
    pub(super) fn push(&self, value: T) -> Result<(), T> {
        let waker = {
            let mut state = lock(&self.state);
            if state.closed {
                return Err(value);
            }
            state.queue.push_back(value);
            state.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    pub(super) fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    pub(super) fn add_sender(&self) {
        lock(&self.state).senders += 1;
    }

    /// The last sender leaving wakes the receiver, which then sees the end.
    pub(super) fn drop_sender(&self) {
        let waker = {
            let mut state = lock(&self.state);
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            state.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Hands back a sender's slot that did not end up in the queue.
    pub(super) fn release_slot(&self) {
        if let Some(slots) = &self.slots {
            slots.add_permits(1);
        }
    }
}

/// Receives the values of an [`mpsc`](super) channel, in the order they were sent.
///
/// [`recv`](Receiver::recv) returns `None` once every sender is dropped (or the receiver
/// was closed) and the queue is empty. It is cancel-safe: a `recv()` future dropped in a
/// `select!` that another branch won takes nothing out of the channel. The receiver is
/// `Send` (for `T: Send`) but belongs to one task at a time (`&mut self`).
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Receiver<T> {
        Receiver { chan }
    }

    /// Waits for the next value; `None` when the channel is closed and drained.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The poll behind [`recv`](Receiver::recv), for hand-written futures.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = lock(&self.chan.state);
        if let Some(value) = state.queue.pop_front() {
            drop(state);
            self.chan.release_slot();
            return Poll::Ready(Some(value));
        }
        if state.senders == 0 || state.closed {
            return Poll::Ready(None);
        }
        let old = store_waker(&mut state.rx_waker, cx.waker());
        drop(state);
        drop(old);
        Poll::Pending
    }

    /// Takes the next value if one is queued.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if nothing is queued but senders remain;
    /// [`TryRecvError::Disconnected`] if nothing is queued and none will come.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = lock(&self.chan.state);
        match state.queue.pop_front() {
            Some(value) => {
                drop(state);
                self.chan.release_slot();
                Ok(value)
            }
            None if state.senders == 0 || state.closed => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Waits for the next value on a thread that is not a loop thread (a plain thread).
    ///
    /// # Panics
    /// On a loop thread (inside `block_on`): blocking there would stall every task.
    pub fn blocking_recv(&mut self) -> Option<T> {
        block_on_thread("Receiver::blocking_recv", self.recv())
    }

    /// Closes the channel for sending: senders fail from now on (waiting ones too, and
    /// get their values back), while values already queued can still be received.
    pub fn close(&mut self) {
        lock(&self.chan.state).closed = true;
        if let Some(slots) = &self.chan.slots {
            slots.close();
        }
    }

    /// Number of values queued.
    pub fn len(&self) -> usize {
        lock(&self.chan.state).queue.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        // Drop the queued values outside the lock: their destructors may run code.
        let queued = std::mem::take(&mut lock(&self.chan.state).queue);
        drop(queued);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("queued", &self.len())
            .finish()
    }
}
