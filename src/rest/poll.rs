//! [`PollInterval`]: how often a remote job asks about its remote work.

use std::time::Duration;

/// How a remote job polls its remote work: the first wait, growing by `factor` up to
/// `max`. Short jobs are noticed quickly, long ones cost few requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollInterval {
    /// Wait before the first poll.
    pub initial: Duration,
    /// Growth of the wait after each poll.
    pub factor: f64,
    /// Longest wait between polls.
    pub max: Duration,
}

impl Default for PollInterval {
    /// 5 ms, doubling each poll, at most 2 s: a task that takes a few milliseconds is
    /// seen done within about that, and a long one costs a poll every 2 s.
    fn default() -> Self {
        PollInterval {
            initial: Duration::from_millis(5),
            factor: 2.0,
            max: Duration::from_secs(2),
        }
    }
}

impl PollInterval {
    /// The wait after `wait`: `wait * factor`, at most `max`.
    #[cfg_attr(not(feature = "ray"), allow(dead_code))]
    pub(crate) fn next(&self, wait: Duration) -> Duration {
        wait.mul_f64(self.factor.max(1.0)).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_the_cap() {
        let poll = PollInterval::default();
        let mut wait = poll.initial;
        let mut waits = Vec::new();
        for _ in 0..12 {
            waits.push(wait);
            wait = poll.next(wait);
        }
        assert_eq!(waits[1], Duration::from_millis(10));
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*waits.last().unwrap(), Duration::from_secs(2));
    }
}
