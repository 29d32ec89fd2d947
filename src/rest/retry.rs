//! The retry loop: each try is a blocking `ureq` exchange on the worker pool; the waits
//! between tries are loop timers, so a request that backs off holds no thread.

use crate::flow::Backoff;
use crate::JoinError;

/// How many times one request is tried, and the back-off between tries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retries {
    pub(crate) attempts: u32,
    pub(crate) backoff: Backoff,
}

/// Runs one request to its end: `make(n)` makes try `n` (1 for the first) on the loop
/// thread, the try runs on the worker pool, and a failed try for which `retry` says yes
/// is tried again after the back-off, up to `retries.attempts` tries in all. A try that
/// panics or is lost becomes `lost(..)`'s error.
///
/// `make` runs on the loop thread right before its try is handed to the pool, so a
/// caller can record that a try is in flight before any worker can start it.
pub(crate) async fn retry_on_pool<T, E, M, X>(
    retries: Retries,
    mut make: M,
    retry: impl Fn(&E) -> bool,
    lost: impl Fn(JoinError) -> E,
) -> Result<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
    M: FnMut(u32) -> X,
    X: FnOnce() -> Result<T, E> + Send + 'static,
{
    let mut attempt = 1;
    loop {
        let result = match crate::spawn_blocking(make(attempt)).await {
            Ok(result) => result,
            Err(e) => Err(lost(e)),
        };
        match result {
            Err(e) if retry(&e) && attempt < retries.attempts => {
                crate::sleep(retries.backoff.delay(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// [`retry_on_pool`] for synchronous callers outside any flow: every try runs on the
/// calling thread, which sleeps through the back-off.
pub(crate) fn retry_here<T, E>(
    retries: Retries,
    mut exchange: impl FnMut() -> Result<T, E>,
    retry: impl Fn(&E) -> bool,
) -> Result<T, E> {
    let mut attempt = 1;
    loop {
        match exchange() {
            Err(e) if retry(&e) && attempt < retries.attempts => {
                std::thread::sleep(retries.backoff.delay(attempt));
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    fn fast() -> Retries {
        Retries {
            attempts: 4,
            backoff: Backoff::fixed(Duration::from_millis(1)),
        }
    }

    #[test]
    fn retries_what_the_caller_calls_transient_and_stops_at_the_cap() {
        let rt = crate::Runtime::new().unwrap();
        let tries = Arc::new(AtomicU32::new(0));
        let t = tries.clone();
        let result: Result<(), String> = rt.block_on(retry_on_pool(
            fast(),
            move |_| {
                let t = t.clone();
                move || {
                    t.fetch_add(1, Ordering::Relaxed);
                    Err("busy".to_string())
                }
            },
            |e: &String| e == "busy",
            |e| e.to_string(),
        ));
        assert_eq!(result.unwrap_err(), "busy");
        assert_eq!(tries.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn a_final_error_is_not_retried_and_tries_are_numbered() {
        let rt = crate::Runtime::new().unwrap();
        let result: Result<u32, String> = rt.block_on(retry_on_pool(
            fast(),
            |n| {
                move || {
                    if n < 3 {
                        Err(format!("busy {n}"))
                    } else {
                        Ok(n)
                    }
                }
            },
            |e: &String| e.starts_with("busy"),
            |e| e.to_string(),
        ));
        assert_eq!(result, Ok(3));
        let result: Result<u32, String> = rt.block_on(retry_on_pool(
            fast(),
            |_| || Err("no".to_string()),
            |e: &String| e.starts_with("busy"),
            |e| e.to_string(),
        ));
        assert_eq!(result, Err("no".to_string()));
    }

    #[test]
    fn retry_here_tries_on_the_calling_thread() {
        let mut tries = 0;
        let result: Result<u32, String> = retry_here(
            fast(),
            || {
                tries += 1;
                Err("busy".to_string())
            },
            |e| e == "busy",
        );
        assert_eq!((result, tries), (Err("busy".to_string()), 4));
    }
}
