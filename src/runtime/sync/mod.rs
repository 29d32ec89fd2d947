//! Synchronisation for tasks: channels ([`oneshot`], [`mpsc`]) and [`Mutex`],
//! [`Semaphore`], [`Notify`].
//!
//! Everything here is `Send + Sync` (for `Send` payloads) and works across threads and
//! runtimes, not only between tasks of one loop: the state sits behind a short
//! `std::sync::Mutex` that is never held while a waker runs. A waiting task parks by
//! leaving its waker in the primitive; whoever releases, sends or notifies takes the
//! waker under the lock and calls it after releasing it. On the loop thread that wake is
//! a push onto the ready queue; from another thread it goes through the loop's remote
//! queue and its `mio::Waker` (design chapter 7 walks through each primitive).
//!
//! Names and semantics follow `tokio::sync`; where they differ, the item's docs say so.

pub mod mpsc;
mod mutex;
mod notify;
pub mod oneshot;
pub(crate) mod park;
pub(crate) mod semaphore;

pub use mutex::{Mutex, MutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
