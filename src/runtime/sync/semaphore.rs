//! [`Semaphore`]: a fair, FIFO, cancel-safe counting semaphore for tasks.
//!
//! # How a waiter parks and wakes
//! The state sits behind a `std::sync::Mutex` that is held only for a few field updates,
//! never while a waker runs. A waiting [`Acquire`] future owns a ticket (a sequence
//! number) in an ordered map of waiters; releases hand permits to the waiter at the head
//! of the map, partially if need be, and wake it once it has all it asked for. So:
//!
//! - **FIFO**: permits go to waiters strictly in arrival order. While anyone waits, no
//!   permit is free (the head takes every permit released), so `try_acquire` cannot
//!   jump the queue either.
//! - **Granted = gone from the map.** A queued future learns it was served by finding its
//!   ticket removed; only the semaphore removes tickets of served waiters, and a future
//!   removes its own ticket only when it gives up (drop, or a closed semaphore).
//! - **Cancel-safe**: dropping a queued future returns whatever it was already given
//!   (a part of its permits, or all of them if it was served but never polled again), and
//!   the release path passes those permits on to the next waiter. No permit is lost.
//!
//! Wakers are collected under the lock and called after it is released, so a waker that
//! runs code (a remote wake, say) never finds the lock held.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::runtime::shared::lock;

/// A counting semaphore for tasks: [`acquire`](Semaphore::acquire) waits until a permit is
/// free, the returned [`SemaphorePermit`] gives it back when dropped.
///
/// Waiters are served in FIFO order, and acquiring is cancel-safe: dropping a waiting
/// `acquire` future never loses a permit (one already handed to it goes to the next
/// waiter). A `Semaphore` is `Send + Sync`; tasks on other runtimes or threads may share
/// it through an `Arc`.
///
/// # Examples
/// ```
/// use std::sync::Arc;
/// use taskloop::sync::Semaphore;
/// let rt = taskloop::Runtime::new().unwrap();
/// rt.block_on(async {
///     let sem = Arc::new(Semaphore::new(2));
///     let a = sem.acquire().await.unwrap();
///     let _b = sem.acquire().await.unwrap();
///     assert!(sem.try_acquire().is_err()); // both permits are out
///     drop(a);
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
pub struct Semaphore {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    permits: usize,
    closed: bool,
    next_ticket: u64,
    /// Waiters by arrival; invariant: while this is non-empty, `permits == 0`.
    waiters: BTreeMap<u64, Waiter>,
}

struct Waiter {
    /// Permits still missing; the head may hold a part of its request already.
    missing: usize,
    waker: Option<Waker>,
}

impl State {
    /// Hands `n` permits to the waiters in order; returns the wakers of those served.
    fn release(&mut self, n: usize) -> Vec<Waker> {
        self.permits += n;
        let mut woken = Vec::new();
        if self.closed {
            return woken; // waiters fail when they look; nobody is served any more
        }
        while let Some(mut head) = self.waiters.first_entry() {
            let give = head.get().missing.min(self.permits);
            self.permits -= give;
            head.get_mut().missing -= give;
            if head.get().missing > 0 {
                break;
            }
            woken.extend(head.remove().waker);
        }
        woken
    }
}

/// The error of [`Semaphore::acquire`]: the semaphore was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

/// The error of [`Semaphore::try_acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are free (or others are waiting for them first).
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            state: Mutex::new(State {
                permits,
                ..State::default()
            }),
        }
    }

    /// Permits free right now.
    pub fn available_permits(&self) -> usize {
        lock(&self.state).permits
    }

    /// Adds `n` permits (they go to waiting tasks first, in order).
    pub fn add_permits(&self, n: usize) {
        let woken = lock(&self.state).release(n);
        woken.into_iter().for_each(Waker::wake);
    }

    /// Closes the semaphore: waiting and later acquires fail with [`AcquireError`].
    /// Permits already held stay valid.
    pub fn close(&self) {
        let woken: Vec<Waker> = {
            let mut state = lock(&self.state);
            state.closed = true;
            state
                .waiters
                .values_mut()
                .filter_map(|w| w.waker.take())
                .collect()
        };
        woken.into_iter().for_each(Waker::wake);
    }

    /// Whether [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// Waits for one permit.
    ///
    /// # Errors
    /// If the semaphore is closed before the permit is granted.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits at once (granted together, in FIFO order with the others).
    ///
    /// # Errors
    /// If the semaphore is closed before the permits are granted.
    pub async fn acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, AcquireError> {
        Acquire::new(self, n).await?;
        Ok(SemaphorePermit { sem: self, n })
    }

    /// Like [`acquire`](Semaphore::acquire), but the permit holds an `Arc` of the
    /// semaphore instead of a borrow, so it can move into a spawned task.
    ///
    /// # Errors
    /// If the semaphore is closed before the permit is granted.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        Acquire::new(&self, 1).await?;
        Ok(OwnedSemaphorePermit { sem: self, n: 1 })
    }

    /// Takes one permit if one is free and nobody is waiting.
    ///
    /// # Errors
    /// [`TryAcquireError::NoPermits`] or [`TryAcquireError::Closed`].
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is waiting.
    ///
    /// # Errors
    /// [`TryAcquireError::NoPermits`] or [`TryAcquireError::Closed`].
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(n)?;
        Ok(SemaphorePermit { sem: self, n })
    }

    pub(crate) fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut state = lock(&self.state);
        if state.closed {
            Err(TryAcquireError::Closed)
        } else if state.permits >= n {
            state.permits -= n; // permits > 0 implies nobody waits (the invariant)
            Ok(())
        } else {
            Err(TryAcquireError::NoPermits)
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Semaphore")
            .field("permits", &state.permits)
            .field("waiters", &state.waiters.len())
            .field("closed", &state.closed)
            .finish()
    }
}

/// Waits for `n` permits of a semaphore; on success the caller owns them (and must
/// release them). Dropping it while queued returns what it was given.
pub(crate) struct Acquire<'a> {
    sem: &'a Semaphore,
    n: usize,
    ticket: Option<u64>,
}

impl<'a> Acquire<'a> {
    pub(crate) fn new(sem: &'a Semaphore, n: usize) -> Acquire<'a> {
        Acquire {
            sem,
            n,
            ticket: None,
        }
    }

    /// First poll: take what is free, queue for the rest.
    fn start(&mut self, state: &mut State, waker: &Waker) -> Poll<Result<(), AcquireError>> {
        if state.closed {
            return Poll::Ready(Err(AcquireError(())));
        }
        let got = state.permits.min(self.n); // nonzero only if nobody waits
        state.permits -= got;
        if got == self.n {
            return Poll::Ready(Ok(()));
        }
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        let waiter = Waiter {
            missing: self.n - got,
            waker: Some(waker.clone()),
        };
        state.waiters.insert(ticket, waiter);
        self.ticket = Some(ticket);
        Poll::Pending
    }
}

impl Future for Acquire<'_> {
    type Output = Result<(), AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut state = lock(&this.sem.state);
        let Some(ticket) = this.ticket else {
            return this.start(&mut state, cx.waker());
        };
        let closed = state.closed;
        let Some(waiter) = state.waiters.get_mut(&ticket) else {
            this.ticket = None;
            return Poll::Ready(Ok(())); // served: the permits are ours
        };
        if closed {
            let given = this.n - waiter.missing;
            state.waiters.remove(&ticket);
            this.ticket = None;
            let woken = state.release(given);
            drop(state);
            woken.into_iter().for_each(Waker::wake);
            return Poll::Ready(Err(AcquireError(())));
        }
        let old = match &waiter.waker {
            Some(w) if w.will_wake(cx.waker()) => None,
            _ => waiter.waker.replace(cx.waker().clone()),
        };
        drop(state);
        drop(old); // a waker's drop may run code: not under the lock
        Poll::Pending
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket else { return };
        let woken = {
            let mut state = lock(&self.sem.state);
            let given = match state.waiters.remove(&ticket) {
                Some(waiter) => self.n - waiter.missing,
                None => self.n, // served but never told: all of them
            };
            state.release(given)
        };
        woken.into_iter().for_each(Waker::wake);
    }
}

/// Permits borrowed from a [`Semaphore`]; released when dropped.
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good (they are never released).
    pub fn forget(mut self) {
        self.n = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.n
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.n > 0 {
            self.sem.add_permits(self.n);
        }
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.n)
            .finish()
    }
}

/// A permit holding an `Arc` of its [`Semaphore`]; released when dropped.
#[must_use = "the permit is released as soon as it is dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    n: usize,
}

impl OwnedSemaphorePermit {
    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.n
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.add_permits(self.n);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.n)
            .finish()
    }
}
