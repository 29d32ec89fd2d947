//! [`Interval`]: a timer that ticks every period, with a policy for missed ticks.
//!
//! An `Interval` is a [`Sleep`] that is reset after each tick. When the loop was busy
//! (or blocked) past one or more deadlines, [`MissedTickBehavior`] decides the next
//! deadline, as in tokio. A tick counts as missed when it is served more than 5 ms after
//! its deadline (tokio's tolerance), so ordinary scheduling jitter never changes the
//! schedule.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::timer::{sleep_until, Sleep};

/// How late a tick may be before it counts as missed.
const MISSED_TOLERANCE: Duration = Duration::from_millis(5);

/// What an [`Interval`] does after it fell behind its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks one after another, as fast as they are asked for, until the
    /// schedule is caught up; then go on at the original times (tokio's default).
    #[default]
    Burst,
    /// Start a new schedule: the next tick is one period after the late one.
    Delay,
    /// Drop the missed ticks: the next tick is the next one of the original schedule
    /// that is still in the future.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline after a tick that was due at `due` and served at `now`, late.
    fn next_after_miss(self, due: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => due + period,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let behind = (now - due).as_nanos();
                let into_period = (behind % period.as_nanos()) as u64;
                now + period - Duration::from_nanos(into_period)
            }
        }
    }
}

/// Ticks every `period`; the first tick completes at once. See [`interval_at`] to choose
/// when the first tick fires.
///
/// # Panics
/// If `period` is zero.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let rt = taskloop::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut every = taskloop::interval(Duration::from_millis(2));
///     let first = every.tick().await; // at once
///     let second = every.tick().await;
///     assert_eq!(second - first, Duration::from_millis(2));
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks first at `start`, then every `period`.
///
/// # Panics
/// If `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        period > Duration::ZERO,
        "an interval needs a period above zero"
    );
    Interval {
        sleep: sleep_until(start),
        period,
        missed: MissedTickBehavior::default(),
    }
}

/// A periodic timer; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was *scheduled* for (not the
    /// instant it was served; under [`MissedTickBehavior::Burst`] they can differ by
    /// several periods).
    ///
    /// Cancel-safe: if the future is dropped before it completes, no tick is consumed.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// The poll behind [`tick`](Interval::tick).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let due = self.sleep.deadline();
        let now = Instant::now();
        let next = if now > due + MISSED_TOLERANCE {
            self.missed.next_after_miss(due, now, self.period)
        } else {
            due + self.period
        };
        self.sleep.reset(next);
        Poll::Ready(due)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.sleep.reset(Instant::now() + self.period);
    }

    /// The policy for missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets the policy for missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_policy_picks_its_documented_deadline_after_a_miss() {
        let (due, p) = (Instant::now(), Duration::from_millis(10));
        let now = due + Duration::from_millis(37); // 3.7 periods late
        assert_eq!(
            MissedTickBehavior::Burst.next_after_miss(due, now, p),
            due + p
        );
        assert_eq!(
            MissedTickBehavior::Delay.next_after_miss(due, now, p),
            now + p
        );
        let skip = MissedTickBehavior::Skip.next_after_miss(due, now, p);
        assert_eq!(skip, due + Duration::from_millis(40));
    }
}
