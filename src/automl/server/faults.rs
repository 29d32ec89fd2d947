//! Injected faults for reliability tests: latency, dropped connections and `503`s,
//! drawn from a seeded random number generator so that a test run can be repeated.

use std::time::Duration;

/// Faults the server injects before it handles each request. The default injects none.
///
/// Every request first waits `latency`; then, with probability `drop_rate`, the server
/// closes the connection without answering: half of those times *before* handling the
/// request (it is lost on its way in), half *after* (it is handled, a `POST` creates its
/// task, and the answer is lost on its way back, which only an `Idempotency-Key` makes
/// safe to retry); otherwise, with probability `rate_503`, it answers
/// `503 {"error": "overloaded (injected fault)"}` without handling the request.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use taskloop::automl::Faults;
/// let faults = Faults { rate_503: 0.2, latency: Duration::from_millis(5), ..Faults::default() };
/// assert_eq!(faults.drop_rate, 0.0);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Faults {
    /// Delay added before every request is handled.
    pub latency: Duration,
    /// Probability (0 to 1) of closing the connection instead of answering.
    pub drop_rate: f64,
    /// Probability (0 to 1) of answering `503` instead of handling the request.
    pub rate_503: f64,
    /// Seed of the generator that decides which requests are faulted.
    pub seed: u64,
}

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Handle it normally.
    None,
    /// Close the connection without handling the request.
    Drop,
    /// Handle the request, then close the connection without answering.
    DropAnswer,
    /// Answer `503`.
    Unavailable,
}

/// Draws a [`Fault`] per request (loop thread only).
#[derive(Debug, Clone)]
pub(crate) struct FaultInjector {
    faults: Faults,
    state: u64,
}

impl FaultInjector {
    pub(crate) fn new(faults: Faults) -> FaultInjector {
        let state = faults.seed;
        FaultInjector { faults, state }
    }

    /// The latency to add before each request.
    pub(crate) fn latency(&self) -> Duration {
        self.faults.latency
    }

    /// Decides the fate of the next request. Draws nothing when no fault is configured,
    /// so the sequence of decisions depends only on the seed and the request order.
    pub(crate) fn draw(&mut self) -> Fault {
        if self.faults.drop_rate > 0.0 && self.uniform() < self.faults.drop_rate {
            return if self.uniform() < 0.5 {
                Fault::Drop
            } else {
                Fault::DropAnswer
            };
        }
        if self.faults.rate_503 > 0.0 && self.uniform() < self.faults.rate_503 {
            return Fault::Unavailable;
        }
        Fault::None
    }

    /// A uniform draw in `[0, 1)` (splitmix64).
    fn uniform(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(faults: Faults, n: usize) -> Vec<Fault> {
        let mut injector = FaultInjector::new(faults);
        (0..n).map(|_| injector.draw()).collect()
    }

    #[test]
    fn no_faults_by_default() {
        assert!(run(Faults::default(), 1000)
            .iter()
            .all(|f| *f == Fault::None));
    }

    #[test]
    fn rates_are_roughly_honoured_and_repeatable() {
        let faults = Faults {
            drop_rate: 0.1,
            rate_503: 0.5,
            seed: 7,
            ..Faults::default()
        };
        let a = run(faults.clone(), 10_000);
        assert_eq!(a, run(faults, 10_000));
        let count = |kind: Fault| a.iter().filter(|f| **f == kind).count();
        let (before, after) = (count(Fault::Drop), count(Fault::DropAnswer));
        assert!(
            (800..1200).contains(&(before + after)),
            "{before} + {after}"
        );
        // Drops are split evenly between "lost on the way in" and "answer lost".
        assert!(
            (350..650).contains(&before) && (350..650).contains(&after),
            "{before} / {after}"
        );
        let unavailable = count(Fault::Unavailable);
        // 503s are drawn from the requests that were not dropped: 0.9 * 0.5.
        assert!((4100..4900).contains(&unavailable), "{unavailable}");
    }

    #[test]
    fn certain_faults_always_apply() {
        let always_503 = Faults {
            rate_503: 1.0,
            ..Faults::default()
        };
        assert!(run(always_503, 100)
            .iter()
            .all(|f| *f == Fault::Unavailable));
    }
}
