//! The [`Sender`] of a bounded channel: sends wait for a free slot (backpressure).

use std::fmt;
use std::sync::Arc;

use super::chan::Chan;
use super::error::{SendError, TrySendError};
use crate::runtime::sync::park::block_on_thread;
use crate::runtime::sync::semaphore::{Acquire, TryAcquireError};

/// Sends values into a bounded [`channel`](super::channel). Clone it for more producers;
/// it is `Send + Sync` (for `T: Send`), so producers may live on other threads.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Sender<T> {
        Sender { chan }
    }

    fn slots(&self) -> &crate::runtime::sync::Semaphore {
        self.chan
            .slots
            .as_ref()
            .expect("a bounded channel has slots")
    }

    /// Waits for a free slot, then queues `value`. Senders waiting for slots are served
    /// in FIFO order.
    ///
    /// Cancelling (dropping) the future before it completes sends nothing and loses no
    /// slot, but the value, owned by the future, is dropped with it.
    ///
    /// # Errors
    /// Gives `value` back if the receiver is gone or closed.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        if Acquire::new(self.slots(), 1).await.is_err() {
            return Err(SendError(value));
        }
        self.chan.push(value).map_err(|value| {
            self.chan.release_slot();
            SendError(value)
        })
    }

    /// Queues `value` if a slot is free now.
    ///
    /// # Errors
    /// [`TrySendError::Full`] at capacity, [`TrySendError::Closed`] if the receiver is
    /// gone or closed; both give the value back.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.slots().try_take(1) {
            Ok(()) => {}
            Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(value)),
            Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(value)),
        }
        self.chan.push(value).map_err(|value| {
            self.chan.release_slot();
            TrySendError::Closed(value)
        })
    }

    /// [`send`](Sender::send) from a thread that is not a loop thread, blocking it while
    /// the channel is full.
    ///
    /// # Errors
    /// As [`send`](Sender::send).
    ///
    /// # Panics
    /// On a loop thread (inside `block_on`): blocking there would stall every task.
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        block_on_thread("Sender::blocking_send", self.send(value))
    }

    /// Whether the receiver is gone or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Free slots right now.
    pub fn capacity(&self) -> usize {
        self.slots().available_permits()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender")
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}
