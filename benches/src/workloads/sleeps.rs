//! Workload 5: [`SLEEPS`] sleeps, durations spread over `SLEEP_MIN_MS..=SLEEP_MAX_MS`
//! (deterministic, same durations for every runtime), all spawned at once. Each task records
//! its lateness: the instant it woke minus (the instant its sleep started + the duration).
//! The sample's time is the whole workload (spawn of the first to wake of the last).

use super::{SLEEPS, SLEEP_MAX_MS, SLEEP_MIN_MS};
use crate::{lateness_us, spread_durations, Sample};
use std::future::Future;
use std::time::{Duration, Instant};

/// The task body, shared by all runtimes: `sleep` is the runtime's own sleep/timer.
async fn timed_sleep<S: Future>(dur: Duration, sleep: impl FnOnce(Duration) -> S) -> i64 {
    let started = Instant::now();
    sleep(dur).await;
    lateness_us(started + dur, Instant::now())
}

fn durations() -> Vec<Duration> {
    spread_durations(
        SLEEPS,
        Duration::from_millis(SLEEP_MIN_MS),
        Duration::from_millis(SLEEP_MAX_MS),
    )
}

pub fn taskloop(rt: &taskloop::Runtime) -> Sample {
    let durations = durations();
    rt.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = durations
            .iter()
            .map(|&d| taskloop::spawn(timed_sleep(d, taskloop::sleep)))
            .collect();
        let mut lateness_us = Vec::with_capacity(SLEEPS);
        for h in handles {
            lateness_us.push(h.await.expect("taskloop task failed"));
        }
        Sample {
            elapsed: start.elapsed(),
            lateness_us,
        }
    })
}

pub fn tokio(rt: &tokio::runtime::Runtime) -> Sample {
    let durations = durations();
    rt.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = durations
            .iter()
            .map(|&d| tokio::spawn(timed_sleep(d, tokio::time::sleep)))
            .collect();
        let mut lateness_us = Vec::with_capacity(SLEEPS);
        for h in handles {
            lateness_us.push(h.await.expect("tokio task failed"));
        }
        Sample {
            elapsed: start.elapsed(),
            lateness_us,
        }
    })
}

pub fn smol(ex: &smol::LocalExecutor<'_>) -> Sample {
    let durations = durations();
    smol::block_on(ex.run(async {
        let start = Instant::now();
        let handles: Vec<_> = durations
            .iter()
            .map(|&d| ex.spawn(timed_sleep(d, smol::Timer::after)))
            .collect();
        let mut lateness_us = Vec::with_capacity(SLEEPS);
        for h in handles {
            lateness_us.push(h.await);
        }
        Sample {
            elapsed: start.elapsed(),
            lateness_us,
        }
    }))
}
