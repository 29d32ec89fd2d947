//! `max_run_time`: a watchdog that raises the learners' stop flag when the budget runs
//! out (or when the caller's cancel flag is raised), so that a tree or fold in progress
//! is abandoned at the next check, exactly as a stop request is.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How often the watchdog looks at the caller's cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(10);

/// Runs `work` with the flag the learners check. Without a `limit` that is `cancel`
/// itself; with one, a flag that a watchdog thread raises when `limit` has passed or
/// `cancel` is raised. Returns what `work` returned and whether the budget ran out.
pub(crate) fn within<R>(
    limit: Option<Duration>,
    cancel: &AtomicBool,
    work: impl FnOnce(&AtomicBool, &dyn Fn() -> bool) -> R,
) -> R {
    let Some(limit) = limit else {
        return work(cancel, &|| false);
    };
    let deadline = Instant::now() + limit;
    let stop = &AtomicBool::new(false);
    let out_of_time = &AtomicBool::new(false);
    thread::scope(|scope| {
        let (done, finished) = mpsc::channel::<()>();
        scope.spawn(move || loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                out_of_time.store(true, Ordering::SeqCst);
                stop.store(true, Ordering::SeqCst);
                return;
            }
            match finished.recv_timeout(left.min(CANCEL_POLL)) {
                Err(mpsc::RecvTimeoutError::Timeout) if cancel.load(Ordering::Relaxed) => {
                    stop.store(true, Ordering::SeqCst);
                    return;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                _ => return, // the work is over
            }
        });
        let result = work(stop, &|| out_of_time.load(Ordering::SeqCst));
        drop(done);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_rises_when_the_budget_runs_out_or_on_cancel() {
        let cancel = AtomicBool::new(false);
        let (stopped, timed_out) = within(Some(Duration::from_millis(30)), &cancel, |stop, out| {
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(5) {
                thread::sleep(Duration::from_millis(1));
            }
            (stop.load(Ordering::Relaxed), out())
        });
        assert!(stopped && timed_out);

        let cancel = AtomicBool::new(false);
        let (stopped, timed_out) = within(Some(Duration::from_secs(60)), &cancel, |stop, out| {
            cancel.store(true, Ordering::SeqCst);
            let start = Instant::now();
            while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(5) {
                thread::sleep(Duration::from_millis(1));
            }
            (stop.load(Ordering::Relaxed), out())
        });
        assert!(
            stopped && !timed_out,
            "a cancel is not a budget that ran out"
        );

        let quick = within(Some(Duration::from_secs(60)), &cancel, |_, out| out());
        assert!(!quick);
        assert_eq!(
            within(None, &cancel, |stop, out| (
                stop.load(Ordering::Relaxed),
                out()
            )),
            (true, false)
        );
    }
}
