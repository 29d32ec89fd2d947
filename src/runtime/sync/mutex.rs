//! [`Mutex`]: an async lock for tasks, a [`Semaphore`] of one permit around the value.
//!
//! The crate forbids `unsafe`, so the guard cannot hand out `&mut T` into a shared cell
//! the way tokio's does. Instead the value lives in a `std::sync::Mutex<Option<T>>`: the
//! task that gets the permit *moves the value out* into its [`MutexGuard`], and the guard
//! moves it back when dropped (also when a panic unwinds through it). Only the permit
//! holder ever finds the value there, so the std lock is never contended; it only makes
//! the type `Sync`. The cost is a move of `T` per lock and unlock: keep large state boxed.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex as StdMutex;

use super::semaphore::{Acquire, Semaphore};
use crate::runtime::shared::lock;

/// An async mutex: [`lock`](Mutex::lock) waits (without blocking the loop) until the
/// value is free.
///
/// Waiters get the lock in FIFO order, and waiting is cancel-safe: a dropped `lock()`
/// future never keeps the lock from the next waiter. The guard may be held across
/// `.await` (that is what it is for); it is `Send` when `T` is, so futures holding it can
/// go to [`Handle::spawn`](crate::Handle::spawn).
///
/// # Examples
/// ```
/// use std::rc::Rc;
/// use taskloop::sync::Mutex;
/// let rt = taskloop::Runtime::new().unwrap();
/// let total = rt.block_on(async {
///     let count = Rc::new(Mutex::new(0));
///     let tasks: Vec<_> = (0..10)
///         .map(|_| {
///             let count = count.clone();
///             taskloop::spawn(async move {
///                 let mut n = count.lock().await;
///                 taskloop::yield_now().await; // others queue meanwhile
///                 *n += 1;
///             })
///         })
///         .collect();
///     taskloop::join_all(tasks).await;
///     let n = *count.lock().await;
///     n
/// });
/// assert_eq!(total, 10);
/// ```
pub struct Mutex<T> {
    sem: Semaphore,
    value: StdMutex<Option<T>>,
}

/// The error of [`Mutex::try_lock`]: the lock is held (or others wait for it first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mutex is locked")
    }
}

impl std::error::Error for TryLockError {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            sem: Semaphore::new(1),
            value: StdMutex::new(Some(value)),
        }
    }

    /// Waits until the lock is free and takes it.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        // The semaphore is never closed, so the acquire cannot fail.
        let _ = Acquire::new(&self.sem, 1).await;
        self.guard()
    }

    /// Takes the lock if it is free and nobody is waiting for it.
    ///
    /// # Errors
    /// [`TryLockError`] if it is held or contended.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.sem.try_take(1) {
            Ok(()) => Ok(self.guard()),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// The value, through exclusive access to the mutex (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        let value = self.value.get_mut().unwrap_or_else(|p| p.into_inner());
        value
            .as_mut()
            .expect("a mutex owned exclusively holds its value")
    }

    /// Consumes the mutex, returning the value.
    pub fn into_inner(self) -> T {
        let value = self.value.into_inner().unwrap_or_else(|p| p.into_inner());
        value.expect("a mutex owned by value holds its value")
    }

    /// With the permit held: move the value into a guard.
    fn guard(&self) -> MutexGuard<'_, T> {
        let value = lock(&self.value).take();
        MutexGuard {
            mutex: self,
            value: Some(value.expect("the permit holder finds the value in place")),
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex")
            .field("locked", &(self.sem.available_permits() == 0))
            .finish()
    }
}

/// Exclusive access to a [`Mutex`]'s value; unlocks when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    value: Option<T>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect("a live guard holds the value")
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("a live guard holds the value")
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        *lock(&self.mutex.value) = self.value.take();
        self.mutex.sem.add_permits(1);
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
