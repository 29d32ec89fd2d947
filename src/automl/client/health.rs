//! The server-down detector: one per [`Context`](super::Context), shared by every
//! request of that context (and its clones).
//!
//! Every try of every exchange reports how it ended. An HTTP answer of any status
//! (`2xx`, `4xx`, `5xx`) proves the server is there and clears all suspicion. A
//! connection-level failure (refused, reset, closed without an answer, timed out) makes
//! the server *suspect*. While it is suspect:
//!
//! - tries are let out one at a time, at most one per [`PROBE_GAP`]; the others are held
//!   back (not sent) and wait their back-off, so a thousand waiting jobs send a few
//!   probes a second, not a thousand;
//! - an exchange whose tries keep failing at the connection level keeps retrying past
//!   its attempt cap, because the verdict belongs to the context, not to one exchange.
//!
//! Once the server has been suspect for `down_after` with at least [`MIN_FAILURES`]
//! connection failures and no answer in between, it is declared **down**, once and for
//! good: every waiting and every new request of the context fails at once with
//! [`AutomlError::ServerDown`] and nothing more is sent (no background probe: a new
//! [`Context`](super::Context) starts afresh).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::error::AutomlError;

/// The shortest gap between two tries let out while the server is suspect.
pub(crate) const PROBE_GAP: Duration = Duration::from_millis(250);

/// The fewest connection failures, with no answer in between, that can make a server
/// down (so that one slow exchange alone never does).
pub(crate) const MIN_FAILURES: u32 = 3;

/// What the detector thinks of the server.
#[derive(Debug)]
pub(crate) struct Health {
    url: String,
    down_after: Duration,
    state: Mutex<State>,
    /// Tries sent over the network (for tests and diagnostics).
    sent: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    /// When the first connection failure after the last answer happened: `Some` while
    /// the server is suspect.
    silent_since: Option<Instant>,
    /// Connection failures since the last answer.
    failures: u32,
    /// The last of them, as text.
    cause: String,
    /// When the last try was let out while suspect.
    last_probe: Option<Instant>,
    /// The verdict, once given: for how long the server was silent, and the failures.
    down: Option<(Duration, u32)>,
}

/// Whether a try may be sent now.
#[derive(Debug)]
pub(crate) enum Admit {
    /// Send it.
    Send,
    /// Hold it back (another try probes the suspect server); wait and ask again.
    Hold,
    /// The server is down: fail with this error, send nothing.
    Down(AutomlError),
}

impl Health {
    pub(crate) fn new(url: &str, down_after: Duration) -> Health {
        Health {
            url: url.to_string(),
            down_after,
            state: Mutex::new(State::default()),
            sent: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        crate::runtime::lock(&self.state)
    }

    /// The server-down error, if the verdict has been given.
    pub(crate) fn down(&self) -> Option<AutomlError> {
        let state = self.lock();
        state
            .down
            .map(|(silent, failures)| self.error(&state, silent, failures))
    }

    /// Whether a try of a retrying exchange may be sent now (and if so, counts it).
    pub(crate) fn admit(&self) -> Admit {
        let mut state = self.lock();
        if let Some((silent, failures)) = state.down {
            return Admit::Down(self.error(&state, silent, failures));
        }
        let now = Instant::now();
        if state.silent_since.is_some() {
            if state
                .last_probe
                .is_some_and(|at| now.duration_since(at) < PROBE_GAP)
            {
                return Admit::Hold;
            }
            state.last_probe = Some(now);
        }
        drop(state);
        self.sent.fetch_add(1, Ordering::Relaxed);
        Admit::Send
    }

    /// Counts a one-off try (a stop request) that is sent whatever the suspicion, or
    /// fails with the verdict.
    pub(crate) fn admit_once(&self) -> Result<(), AutomlError> {
        match self.down() {
            Some(e) => Err(e),
            None => {
                self.sent.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        }
    }

    /// Records how a sent try ended. A connection failure that completes the verdict
    /// is returned as the server-down error instead.
    pub(crate) fn note<T>(&self, result: Result<T, AutomlError>) -> Result<T, AutomlError> {
        match &result {
            Ok(_)
            | Err(
                AutomlError::Rejected { .. }
                | AutomlError::Unauthorized { .. }
                | AutomlError::Protocol { .. },
            ) => self.answered(),
            Err(e @ AutomlError::Unreachable { .. }) => {
                if let Some(down) = self.failed(e) {
                    return Err(down);
                }
            }
            Err(_) => {}
        }
        result
    }

    fn answered(&self) {
        let mut state = self.lock();
        if state.down.is_none() {
            state.silent_since = None;
            state.failures = 0;
            state.last_probe = None;
        }
    }

    /// Counts a connection failure; `Some` with the server-down error if the server is
    /// (now or already) down.
    fn failed(&self, e: &AutomlError) -> Option<AutomlError> {
        let mut state = self.lock();
        if let Some((silent, failures)) = state.down {
            return Some(self.error(&state, silent, failures));
        }
        let now = Instant::now();
        let since = *state.silent_since.get_or_insert(now);
        state.failures += 1;
        state.cause = match e {
            AutomlError::Unreachable { message, .. } => message.clone(),
            other => other.to_string(),
        };
        let silent = now.duration_since(since);
        if state.failures >= MIN_FAILURES && silent >= self.down_after {
            state.down = Some((silent, state.failures));
            return Some(self.error(&state, silent, state.failures));
        }
        None
    }

    /// Whether the server is suspect (a connection failure and no answer since).
    pub(crate) fn suspect(&self) -> bool {
        let state = self.lock();
        state.silent_since.is_some() && state.down.is_none()
    }

    /// How many tries have been sent.
    #[cfg(test)]
    pub(crate) fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    fn error(&self, state: &State, silent: Duration, failures: u32) -> AutomlError {
        AutomlError::ServerDown {
            url: self.url.clone(),
            silent,
            message: format!(
                "{failures} connection failures in a row, the last: {}",
                state.cause
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> AutomlError {
        AutomlError::Unreachable {
            url: "http://x".into(),
            message: "connection refused".into(),
            io: None,
        }
    }

    #[test]
    fn silence_with_enough_failures_is_down_and_stays_down() {
        let h = Health::new("http://x", Duration::from_millis(30));
        for _ in 0..5 {
            assert!(h.note::<()>(Err(refused())).is_err());
        }
        assert!(h.down().is_none(), "not silent for long enough yet");
        std::thread::sleep(Duration::from_millis(40));
        let err = h.note::<()>(Err(refused())).unwrap_err();
        assert!(matches!(err, AutomlError::ServerDown { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("http://x") && text.contains("connection refused"),
            "{text}"
        );
        h.answered();
        assert!(matches!(h.admit(), Admit::Down(_)), "the verdict is final");
        assert!(h.admit_once().is_err());
    }

    #[test]
    fn any_answer_clears_suspicion() {
        let h = Health::new("http://x", Duration::ZERO);
        assert!(h.note::<()>(Err(refused())).is_err());
        assert!(h.note::<()>(Err(refused())).is_err());
        assert!(h.suspect());
        let busy = AutomlError::Rejected {
            status: 503,
            message: "busy".into(),
        };
        assert!(h.note::<()>(Err(busy)).is_err());
        assert!(!h.suspect());
        assert!(h.note::<()>(Err(refused())).is_err());
        assert!(h.note::<()>(Err(refused())).is_err());
        assert!(
            h.down().is_none(),
            "two failures since the answer are not enough"
        );
    }

    #[test]
    fn a_suspect_server_gets_one_probe_per_gap() {
        let h = Health::new("http://x", Duration::from_secs(60));
        assert!(matches!(h.admit(), Admit::Send) && matches!(h.admit(), Admit::Send));
        let _ = h.note::<()>(Err(refused()));
        assert!(matches!(h.admit(), Admit::Send), "the first probe goes out");
        for _ in 0..100 {
            assert!(matches!(h.admit(), Admit::Hold));
        }
        assert_eq!(h.sent(), 3);
    }
}
