//! Multi-producer, single-consumer channels: [`channel`] (bounded, with backpressure)
//! and [`unbounded_channel`].
//!
//! Semantics follow tokio's `mpsc`: values arrive in the order they were sent; the
//! receiver's `recv` returns `None` once every sender is dropped and the queue is empty;
//! a send to a closed channel returns the value; [`Receiver::close`] stops further sends
//! but lets the receiver drain what is queued. Senders are `Send + Sync` (for
//! `T: Send`): a thread or another runtime may produce into a loop task. See `chan.rs`
//! for how the receiver parks and wakes.

mod bounded;
mod chan;
pub mod error;
mod unbounded;

pub use bounded::Sender;
pub use chan::Receiver;
pub use unbounded::UnboundedSender;

use chan::Chan;

/// A bounded channel with room for `capacity` values: when it is full,
/// [`Sender::send`] waits until the receiver makes room (backpressure), and
/// [`Sender::try_send`] fails with [`TrySendError::Full`](error::TrySendError::Full).
///
/// # Panics
/// If `capacity` is 0.
///
/// # Examples
/// ```
/// use taskloop::sync::mpsc;
/// let rt = taskloop::Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     let (tx, mut rx) = mpsc::channel(4);
///     for i in 0..3 {
///         let tx = tx.clone();
///         taskloop::spawn(async move {
///             for j in 0..10 {
///                 tx.send(i * 10 + j).await.unwrap(); // waits while 4 are queued
///             }
///         });
///     }
///     drop(tx); // only the producers' clones remain
///     let mut sum = 0;
///     while let Some(v) = rx.recv().await {
///         sum += v;
///     }
///     sum // `recv` gave `None`: every sender is gone
/// });
/// assert_eq!(sum, (0..30).sum::<i32>());
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc::channel needs a capacity of at least 1");
    let chan = Chan::new(Some(capacity));
    (Sender::new(chan.clone()), Receiver::new(chan))
}

/// A channel without a bound: [`UnboundedSender::send`] never waits.
///
/// # Examples
/// ```
/// use taskloop::sync::mpsc;
/// let rt = taskloop::Runtime::new().unwrap();
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// let producer = std::thread::spawn(move || {
///     for i in 0..100 {
///         tx.send(i).unwrap();
///     }
/// });
/// let count = rt.block_on(async {
///     let mut n = 0;
///     while rx.recv().await.is_some() {
///         n += 1;
///     }
///     n
/// });
/// producer.join().unwrap();
/// assert_eq!(count, 100);
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, Receiver<T>) {
    let chan = Chan::new(None);
    (UnboundedSender::new(chan.clone()), Receiver::new(chan))
}
