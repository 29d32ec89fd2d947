//! The durability benchmark (`src/bin/durability.rs`): what `--data-dir` costs the
//! bundled server, run as the `automl-server` binary in a child process.
//!
//! [`server`] starts and reads the child, [`api`] talks to it, [`work`] runs the same
//! operations on a server with and without a data directory, [`restart`] fills a data
//! directory with 1,000 objects and times restarts on it, and [`floor`] times the
//! durable file write alone.

pub mod api;
pub mod floor;
/// The demo's generator (`examples/common/rentals.rs`), shared with `examples/automl.rs`.
#[path = "../../../examples/common/rentals.rs"]
pub mod rentals;
pub mod restart;
pub mod server;
pub mod work;

/// The benchmark's error type.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Median and 90th percentile (nearest rank) of `seconds`, in milliseconds.
pub fn p50_p90_ms(seconds: &[f64]) -> (f64, f64) {
    let mut us: Vec<i64> = seconds.iter().map(|s| (s * 1e6).round() as i64).collect();
    us.sort_unstable();
    let at = |p| crate::percentile(&us, p).unwrap_or(0) as f64 / 1e3;
    (at(50.0), at(90.0))
}

/// Sorted microseconds of `durations`, for [`crate::percentile`].
pub fn sorted_us(durations: &[std::time::Duration]) -> Vec<i64> {
    let mut us: Vec<i64> = durations.iter().map(|d| d.as_micros() as i64).collect();
    us.sort_unstable();
    us
}
