//! Workloads of the flow benchmark (`src/bin/flow.rs`): taskloop's `flow` layer measured on
//! its own terms.
//!
//! - [`bookkeeping`]: cost per job of declaring and running a large graph of no-op local
//!   jobs, against the same graph built from spawned tasks and `futures::future::Shared`
//!   on taskloop, tokio (current_thread) and smol (`LocalExecutor`);
//! - [`scheduling`]: makespan of a random graph of sleeping blocking jobs on 4 workers,
//!   against a lower bound and against simulated greedy schedules of the same graph;
//! - [`memory`]: live heap bytes per declared (not yet run) job.
//!
//! This file holds what they share: the seeded random numbers and small formatting helpers.

pub mod bookkeeping;
pub mod harness;
pub mod memory;
pub mod scheduling;

use std::time::Duration;

/// A small deterministic generator (xorshift64*): the same seed gives the same graph on
/// every machine and every run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (the modulo bias is irrelevant at these sizes).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// The median of `values` (the lower middle for an even count).
pub fn median_of(values: impl IntoIterator<Item = Duration>) -> Duration {
    let mut v: Vec<Duration> = values.into_iter().collect();
    crate::median(&mut v)
}

/// `d` divided over `n` jobs, in nanoseconds.
pub fn ns_per(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e9 / n as f64
}

/// Milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Microseconds, whole.
pub fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}
