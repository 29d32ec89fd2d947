//! A channel for exactly one value: [`channel`], [`Sender`], [`Receiver`].
//!
//! # How the receiver parks and wakes
//! Both ends share an `Arc<Mutex<State>>`: the value slot, whether each end is gone, and
//! the waker of each end (the receiver's, while it waits for the value; the sender's,
//! while it waits in [`Sender::closed`]). Every transition (send, drop, close) updates
//! the state under the lock, takes the other end's waker, releases the lock and only
//! then wakes. The receiver is woken on the loop thread by the usual path; a sender on
//! another thread wakes it remotely (chapter 3's no-lost-wake contract covers that).

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::runtime::shared::lock;

/// Creates a oneshot channel: one value, from the [`Sender`] to the [`Receiver`].
///
/// Both ends are `Send` (for `T: Send`): the value may be sent from any thread.
///
/// # Examples
/// ```
/// use taskloop::sync::oneshot;
/// let rt = taskloop::Runtime::new().unwrap();
/// let got = rt.block_on(async {
///     let (tx, rx) = oneshot::channel();
///     std::thread::spawn(move || tx.send("from a thread").unwrap());
///     rx.await
/// });
/// assert_eq!(got, Ok("from a thread"));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Mutex::new(State {
        value: None,
        tx_gone: false,
        rx_gone: false,
        rx_waker: None,
        tx_waker: None,
    }));
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner, done: false },
    )
}

struct State<T> {
    value: Option<T>,
    tx_gone: bool,
    /// The receiver was dropped or closed: sends fail.
    rx_gone: bool,
    rx_waker: Option<Waker>,
    tx_waker: Option<Waker>,
}

/// Replaces a stored waker unless it already wakes the same task; returns the old one
/// (to be dropped after the lock is released).
pub(crate) fn store_waker(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(w) if w.will_wake(waker) => None,
        _ => slot.replace(waker.clone()),
    }
}

/// The error of awaiting a [`Receiver`]: the sender was dropped without sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl std::error::Error for RecvError {}

/// The error of [`Receiver::try_recv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value yet; the sender is still there.
    Empty,
    /// The sender was dropped without sending (or the value was already taken).
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Closed => f.write_str("channel closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// Sends the one value of a [`channel`].
pub struct Sender<T> {
    inner: Arc<Mutex<State<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value`, consuming the sender.
    ///
    /// # Errors
    /// Gives `value` back if the receiver was dropped or closed.
    pub fn send(self, value: T) -> Result<(), T> {
        let waker = {
            let mut state = lock(&self.inner);
            if state.rx_gone {
                return Err(value);
            }
            state.value = Some(value);
            state.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Whether the receiver was dropped or closed (a send would fail).
    pub fn is_closed(&self) -> bool {
        lock(&self.inner).rx_gone
    }

    /// Waits until the receiver is dropped or closed: lets a producer stop work nobody
    /// will receive.
    pub async fn closed(&mut self) {
        poll_fn(|cx| {
            let mut state = lock(&self.inner);
            if state.rx_gone {
                return Poll::Ready(());
            }
            let old = store_waker(&mut state.tx_waker, cx.waker());
            drop(state);
            drop(old);
            Poll::Pending
        })
        .await
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = lock(&self.inner);
            state.tx_gone = true;
            state.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Receives the one value of a [`channel`]: await it, or use
/// [`try_recv`](Receiver::try_recv).
///
/// Awaiting it is cancel-safe: if the future is dropped (it is `&mut`-polled in a
/// `select!` that another branch won), the value stays in the channel.
pub struct Receiver<T> {
    inner: Arc<Mutex<State<T>>>,
    done: bool,
}

impl<T> Receiver<T> {
    /// Takes the value if it is there.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] while the sender may still send,
    /// [`TryRecvError::Closed`] if it never will.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = lock(&self.inner);
        match state.value.take() {
            Some(v) => {
                self.done = true;
                Ok(v)
            }
            None if state.tx_gone || self.done => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Waits for the value on a thread that is not a loop thread (a plain thread).
    ///
    /// # Errors
    /// [`RecvError`] if the sender is dropped without sending.
    ///
    /// # Panics
    /// On a loop thread (inside `block_on`): blocking there would stall every task.
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        crate::runtime::sync::park::block_on_thread("oneshot::Receiver::blocking_recv", self)
    }

    /// Refuses the value: a later [`Sender::send`] fails and gives it back. A value sent
    /// before the close can still be taken with [`try_recv`](Receiver::try_recv).
    pub fn close(&mut self) {
        let waker = {
            let mut state = lock(&self.inner);
            state.rx_gone = true;
            state.tx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut state = lock(&this.inner);
        if let Some(v) = state.value.take() {
            this.done = true;
            return Poll::Ready(Ok(v));
        }
        if state.tx_gone || this.done {
            return Poll::Ready(Err(RecvError(())));
        }
        let old = store_waker(&mut state.rx_waker, cx.waker());
        drop(state);
        drop(old); // a waker's drop may run code: not under the lock
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish()
    }
}
