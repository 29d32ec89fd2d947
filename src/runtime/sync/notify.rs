//! [`Notify`]: wake one waiting task, or all of them, without sending data.
//!
//! # How a waiter parks and wakes
//! Behind a short `std::sync::Mutex`: an ordered map of waiting [`Notified`] futures
//! (ticket → waker), a set of tickets chosen by `notify_one` but not yet seen by their
//! future, one stored permit, and a generation counter bumped by `notify_waiters`.
//!
//! - `notify_one` takes the oldest waiter out of the map into the `chosen` set and wakes
//!   it; with nobody waiting it stores the permit (at most one), which the next
//!   `notified().await` consumes at once.
//! - `notify_waiters` bumps the generation and wakes everyone waiting; a `Notified`
//!   compares the generation it was created in with the current one, so it completes
//!   even if it was created but not yet polled when the call came (tokio's rule).
//! - **Cancel-safe**: a `Notified` chosen by `notify_one` and dropped before it saw the
//!   notification passes it on (to the next waiter, or to the stored permit).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use crate::runtime::shared::lock;

/// Notifies tasks without sending data: a task awaits [`notified`](Notify::notified),
/// another calls [`notify_one`](Notify::notify_one) or
/// [`notify_waiters`](Notify::notify_waiters).
///
/// `notify_one` with nobody waiting stores **one** permit: the next `notified().await`
/// completes at once (a second `notify_one` before that adds nothing). Waiters are woken
/// in FIFO order. `Notify` is `Send + Sync`; notify from any thread.
///
/// # Examples
/// ```
/// use std::sync::Arc;
/// use taskloop::sync::Notify;
/// let rt = taskloop::Runtime::new().unwrap();
/// rt.block_on(async {
///     let notify = Arc::new(Notify::new());
///     let waiter = {
///         let notify = notify.clone();
///         taskloop::spawn(async move { notify.notified().await; "woken" })
///     };
///     taskloop::yield_now().await; // the waiter parks
///     notify.notify_one();
///     assert_eq!(waiter.await.unwrap(), "woken");
///
///     notify.notify_one(); // nobody waits: stored
///     notify.notified().await; // completes at once
/// });
/// ```
#[derive(Default)]
pub struct Notify {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    permit: bool,
    generation: u64,
    next_ticket: u64,
    waiting: BTreeMap<u64, Option<Waker>>,
    /// Chosen by `notify_one`; their futures have not seen it yet.
    chosen: HashSet<u64>,
}

impl State {
    /// Chooses the oldest waiter, or stores the permit; returns the waker to call.
    fn notify_one(&mut self) -> Option<Waker> {
        match self.waiting.pop_first() {
            Some((ticket, waker)) => {
                self.chosen.insert(ticket);
                waker
            }
            None => {
                self.permit = true;
                None
            }
        }
    }
}

impl Notify {
    /// A `Notify` with no stored permit.
    pub fn new() -> Notify {
        Notify::default()
    }

    /// A future that completes when this is notified. It counts as waiting for
    /// [`notify_waiters`](Notify::notify_waiters) from the moment it is created, and
    /// for [`notify_one`](Notify::notify_one) from its first poll.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            generation: lock(&self.state).generation,
            ticket: None,
            done: false,
        }
    }

    /// Wakes the longest-waiting task, or stores a permit if none waits.
    pub fn notify_one(&self) {
        let waker = lock(&self.state).notify_one();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Wakes every task waiting now (stores no permit).
    pub fn notify_waiters(&self) {
        let woken: Vec<Waker> = {
            let mut state = lock(&self.state);
            state.generation += 1;
            std::mem::take(&mut state.waiting)
                .into_values()
                .flatten()
                .collect()
        };
        woken.into_iter().for_each(Waker::wake);
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiting", &state.waiting.len())
            .finish()
    }
}

/// The future of [`Notify::notified`].
#[must_use = "futures do nothing unless awaited"]
pub struct Notified<'a> {
    notify: &'a Notify,
    generation: u64,
    ticket: Option<u64>,
    done: bool,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(());
        }
        let mut state = lock(&this.notify.state);
        let chosen = this.ticket.is_some_and(|t| state.chosen.remove(&t));
        let notified = chosen
            || state.generation != this.generation
            || (this.ticket.is_none() && std::mem::take(&mut state.permit));
        if notified {
            if let Some(ticket) = this.ticket.take() {
                state.waiting.remove(&ticket);
            }
            this.done = true;
            return Poll::Ready(());
        }
        let ticket = *this.ticket.get_or_insert_with(|| {
            state.next_ticket += 1;
            state.next_ticket
        });
        let slot = state.waiting.entry(ticket).or_default();
        let old = match slot {
            Some(w) if w.will_wake(cx.waker()) => None,
            _ => slot.replace(cx.waker().clone()),
        };
        drop(state);
        drop(old);
        Poll::Pending
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket else { return };
        let waker = {
            let mut state = lock(&self.notify.state);
            state.waiting.remove(&ticket);
            if state.chosen.remove(&ticket) {
                state.notify_one() // chosen but never told: pass it on
            } else {
                None
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("waiting", &self.ticket.is_some())
            .field("done", &self.done)
            .finish()
    }
}
