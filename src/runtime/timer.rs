//! Timers: a deadline-ordered map of wakers, and the [`Sleep`] future built on it.
//!
//! The loop asks [`Timers::next_deadline`] until when it may sleep in `Poll::poll`, and
//! calls [`Timers::fire_expired`] after every poll. A timer fires only once its deadline
//! has passed (never early), in deadline order; ties fire in the order they were set.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::context;
use super::shared::Shared;

/// Orders timers by deadline, then by registration order.
pub(crate) type TimerKey = (Instant, u64);

/// The loop's timers.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    map: RefCell<BTreeMap<TimerKey, Waker>>,
    next_seq: Cell<u64>,
}

impl Timers {
    fn insert(&self, deadline: Instant, waker: Waker) -> TimerKey {
        let key = (deadline, self.next_seq.get());
        self.next_seq.set(key.1 + 1);
        self.map.borrow_mut().insert(key, waker);
        key
    }

    /// Replaces the waker of a timer that is still pending; `false` if it already fired.
    fn update(&self, key: TimerKey, waker: &Waker) -> bool {
        match self.map.borrow_mut().get_mut(&key) {
            Some(w) => {
                if !w.will_wake(waker) {
                    *w = waker.clone();
                }
                true
            }
            None => false,
        }
    }

    fn remove(&self, key: TimerKey) {
        self.map.borrow_mut().remove(&key);
    }

    /// The earliest timer's deadline (possibly past); `None` when no timer is pending.
    /// The loop turns this into a wait: see `Core::park`.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let (deadline, _) = *self.map.borrow().keys().next()?;
        Some(deadline)
    }

    /// Wakes every timer whose deadline has passed, earliest first.
    pub(crate) fn fire_expired(&self) {
        let now = Instant::now();
        let mut due = Vec::new();
        {
            let mut map = self.map.borrow_mut();
            while let Some(entry) = map.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                due.push(entry.remove());
            }
        }
        // Wake with the map released: a woken waker may run code that sets timers.
        for waker in due {
            waker.wake();
        }
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.map.borrow().len()
    }
}

/// A future that completes at a deadline. Created by [`sleep`] and [`sleep_until`].
///
/// It registers its timer the first time it is polled (so it can be created outside a
/// runtime) and removes it when dropped, so a dropped `Sleep` costs the loop nothing.
/// It is `Send`, so futures sent through a [`Handle`](crate::Handle) may sleep: it names
/// its runtime by the runtime's thread-safe half, and touches the timers only on that
/// runtime's loop thread (a `Sleep` dropped elsewhere leaves its timer to fire into a
/// stale waker, which costs one spurious wake).
///
/// # Panics
/// Polling it outside a taskloop runtime panics.
pub struct Sleep {
    deadline: Instant,
    timer: Option<(Arc<Shared>, TimerKey)>,
}

/// Waits until `duration` has passed.
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
/// let rt = taskloop::Runtime::new().unwrap();
/// let start = Instant::now();
/// rt.block_on(taskloop::sleep(Duration::from_millis(5)));
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    let now = Instant::now();
    sleep_until(now.checked_add(duration).unwrap_or_else(far_future))
}

/// Waits until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
    }
}

/// About 30 years from now: "never" for a deadline that would overflow `Instant`.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

impl Sleep {
    /// The instant this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline (earlier or later); the sleep is pending again until then.
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    fn cancel(&mut self) {
        if let Some((shared, key)) = self.timer.take() {
            context::with_local(&shared, |core| core.timers.remove(key));
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.cancel();
            return Poll::Ready(());
        }
        let core = context::expect_current("taskloop::sleep");
        let still_pending = match &self.timer {
            Some((shared, key)) if Arc::ptr_eq(shared, core.shared()) => {
                core.timers.update(*key, cx.waker())
            }
            Some(_) => {
                self.cancel(); // polled on another runtime now: leave the old one
                false
            }
            None => false,
        };
        if !still_pending {
            // Not registered yet, or fired while the clock had not quite passed the
            // deadline as seen here: (re-)register.
            let key = core.timers.insert(self.deadline, cx.waker().clone());
            self.timer = Some((core.shared().clone(), key));
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.timer.is_some())
            .finish()
    }
}

/// The error of [`timeout`]: the deadline passed before the future completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// Runs `fut` for at most `duration`. When the time is up the future is dropped
/// (cancelled) and `Err(Elapsed)` is returned. A future that is ready at once wins even
/// with a zero duration.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let rt = taskloop::Runtime::new().unwrap();
/// let slow = taskloop::sleep(Duration::from_secs(60));
/// let result = rt.block_on(taskloop::timeout(Duration::from_millis(5), slow));
/// assert!(result.is_err());
/// ```
pub async fn timeout<F: Future>(duration: Duration, fut: F) -> Result<F::Output, Elapsed> {
    let mut fut = pin!(fut);
    let mut deadline = pin!(sleep(duration));
    poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        deadline.as_mut().poll(cx).map(|()| Err(Elapsed(())))
    })
    .await
}
