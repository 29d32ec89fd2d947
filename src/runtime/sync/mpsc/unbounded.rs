//! The [`UnboundedSender`]: sends never wait.

use std::fmt;
use std::sync::Arc;

use super::chan::Chan;
use super::error::SendError;

/// Sends values into an [`unbounded_channel`](super::unbounded_channel). Sending never
/// waits, so it works from plain threads and from destructors alike; the price is that
/// nothing stops a fast producer from filling memory. Clone it for more producers.
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> UnboundedSender<T> {
        UnboundedSender { chan }
    }

    /// Queues `value` at once.
    ///
    /// # Errors
    /// Gives `value` back if the receiver is gone or closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.push(value).map_err(SendError)
    }

    /// Whether the receiver is gone or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> UnboundedSender<T> {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender")
            .field("closed", &self.is_closed())
            .finish()
    }
}
