//! Retry policy: how many times, after which errors, and how long to back off.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::rc::Rc;
use std::time::Duration;

use super::error::JobError;

/// Exponential back-off with jitter: the n-th retry waits about
/// `initial * factor^(n-1)`, capped at `max`; with jitter, a random delay in the upper
/// half of that ("equal jitter"), so that jobs failing together do not retry together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The delay before the first retry.
    pub initial: Duration,
    /// How much each further retry multiplies the delay.
    pub factor: f64,
    /// The longest delay.
    pub max: Duration,
    /// Randomise each delay within its upper half.
    pub jitter: bool,
}

impl Default for Backoff {
    /// 100 ms, doubling, at most 10 s, with jitter.
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(100),
            factor: 2.0,
            max: Duration::from_secs(10),
            jitter: true,
        }
    }
}

impl Backoff {
    /// The same delay every time, without jitter.
    pub fn fixed(delay: Duration) -> Backoff {
        Backoff {
            initial: delay,
            factor: 1.0,
            max: delay,
            jitter: false,
        }
    }

    /// The delay before retry number `retry` (1 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        let exp = self
            .factor
            .max(1.0)
            .powi(retry.saturating_sub(1).min(64) as i32);
        let secs = (self.initial.as_secs_f64() * exp).min(self.max.as_secs_f64());
        let full = Duration::from_secs_f64(secs.max(0.0));
        if self.jitter {
            full / 2 + full.mul_f64(random_unit() / 2.0)
        } else {
            full
        }
    }
}

/// A random number in `0.0..1.0` (std's per-process random hasher keys; no dependency).
fn random_unit() -> f64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x9e37_79b9_7f4a_7c15);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Decides whether an error is worth another attempt.
pub(crate) type RetryIf = Rc<dyn Fn(&JobError) -> bool>;

/// A job's retry settings.
#[derive(Clone, Default)]
pub(crate) struct RetryPolicy {
    pub(crate) retries: u32,
    pub(crate) backoff: Backoff,
    pub(crate) retry_if: Option<RetryIf>,
}

impl RetryPolicy {
    /// Whether the attempt that just failed with `error` (attempt `attempt`, from 1)
    /// should be followed by another. Without a predicate, failures and timeouts are
    /// retried and panics are not (a panic is a bug, not a transient fault).
    pub(crate) fn should_retry(&self, attempt: u32, error: &JobError) -> bool {
        if attempt > self.retries {
            return false;
        }
        match &self.retry_if {
            Some(pred) => pred(error),
            None => matches!(error, JobError::Failed { .. } | JobError::TimedOut { .. }),
        }
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .field("retry_if", &self.retry_if.as_ref().map(|_| "<predicate>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_cap() {
        let b = Backoff {
            jitter: false,
            ..Backoff::default()
        };
        assert_eq!(b.delay(1), Duration::from_millis(100));
        assert_eq!(b.delay(2), Duration::from_millis(200));
        assert_eq!(b.delay(30), Duration::from_secs(10));
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        let b = Backoff::default();
        for retry in 1..6 {
            let full = Backoff { jitter: false, ..b }.delay(retry);
            let d = b.delay(retry);
            assert!(d >= full / 2 && d <= full, "{d:?} vs {full:?}");
        }
    }

    #[test]
    fn panics_are_not_retried_by_default() {
        let p = RetryPolicy {
            retries: 3,
            ..RetryPolicy::default()
        };
        let panic = JobError::Panicked {
            job: "j".into(),
            message: "bug".into(),
        };
        let timeout = JobError::TimedOut {
            job: "j".into(),
            after: Duration::from_secs(1),
        };
        assert!(!p.should_retry(1, &panic));
        assert!(p.should_retry(3, &timeout));
        assert!(!p.should_retry(4, &timeout));
    }
}
