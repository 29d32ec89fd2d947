//! Shared helpers for the runtime comparison benchmark (`src/bin/runtime.rs`); the flow
//! benchmark (`src/bin/flow.rs`) has its workloads in [`flow_workloads`].
//!
//! The workloads live in [`workloads`]; each module there has one function per runtime
//! (`taskloop`, `tokio`, `smol`) so the three implementations read side by side. This file
//! holds what they share: runtime constructors, the per-run [`Sample`], the harness that runs
//! one (workload, runtime) cell on its own thread with a time limit, statistics and the
//! markdown table.

pub mod client_floor;
pub mod durability;
pub mod engine_bench;
pub mod flow_workloads;
pub mod rentals_pipeline;
pub mod workloads;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Un-measured runs before the measured ones.
pub const WARMUP_RUNS: usize = 1;
/// Measured runs per (workload, runtime); the table reports their median.
pub const MEASURED_RUNS: usize = 5;
/// A cell (warm-up + measured runs of one workload on one runtime) taking longer than this
/// is reported as hung and left behind.
pub const CELL_TIMEOUT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------
// Runtimes under test
// ---------------------------------------------------------------------------------------------

/// taskloop's runtime with its default blocking pool.
pub fn new_taskloop() -> taskloop::Runtime {
    taskloop::Runtime::new().expect("taskloop::Runtime::new")
}

/// tokio's single-threaded runtime (blocking pool via `spawn_blocking`, default size).
pub fn new_tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio current_thread runtime")
}

/// smol's single-threaded executor, driven by `smol::block_on(ex.run(..))`.
pub fn new_smol() -> smol::LocalExecutor<'static> {
    smol::LocalExecutor::new()
}

// ---------------------------------------------------------------------------------------------
// Samples and cells
// ---------------------------------------------------------------------------------------------

/// What one run of a workload produced.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Wall time of the workload, measured inside the runtime (runtime start-up excluded).
    pub elapsed: Duration,
    /// Per-timer lateness in microseconds (sleep workload only; negative = woke early).
    pub lateness_us: Vec<i64>,
}

impl Sample {
    pub fn time(elapsed: Duration) -> Sample {
        Sample {
            elapsed,
            lateness_us: Vec::new(),
        }
    }
}

/// Result of one (workload, runtime) cell.
#[derive(Debug, Clone)]
pub enum Cell {
    /// Median wall time of the measured runs, and the lateness samples of all measured runs
    /// pooled (sorted).
    Done {
        median: Duration,
        lateness_us: Vec<i64>,
    },
    /// The cell panicked or hung; the text says which and why.
    Failed(String),
}

impl Cell {
    pub fn median(&self) -> Option<Duration> {
        match self {
            Cell::Done { median, .. } => Some(*median),
            Cell::Failed(_) => None,
        }
    }

    /// Lateness percentile in microseconds, if this cell has lateness samples.
    pub fn lateness_percentile(&self, p: f64) -> Option<i64> {
        match self {
            Cell::Done { lateness_us, .. } => percentile(lateness_us, p),
            Cell::Failed(_) => None,
        }
    }
}

/// Runs `run` `WARMUP_RUNS + MEASURED_RUNS` times and returns the measured samples.
/// Call it on the thread that owns the runtime (inside the closure given to [`run_cell`]).
pub fn repeat(mut run: impl FnMut() -> Sample) -> Vec<Sample> {
    for _ in 0..WARMUP_RUNS {
        run();
    }
    (0..MEASURED_RUNS).map(|_| run()).collect()
}

/// Runs one cell on a fresh thread: `body` builds its own runtime there (taskloop's and smol's
/// are `!Send`) and returns the measured samples. A panic is reported with its message; a cell
/// exceeding [`CELL_TIMEOUT`] is reported as hung and its thread is abandoned.
pub fn run_cell<F>(label: &str, body: F) -> Cell
where
    F: FnOnce() -> Vec<Sample> + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let handle = thread::Builder::new()
        .name(label.to_string())
        .spawn(move || {
            let _ = tx.send(body());
        })
        .expect("spawn bench thread");
    match rx.recv_timeout(CELL_TIMEOUT) {
        Ok(samples) => {
            let _ = handle.join();
            summarize(samples)
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Cell::Failed(format!(
            "HANG: no result after {} s",
            CELL_TIMEOUT.as_secs()
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(payload) => Cell::Failed(format!("PANIC: {}", panic_message(&*payload))),
            Ok(()) => Cell::Failed("bench thread ended without a result".to_string()),
        },
    }
}

fn summarize(samples: Vec<Sample>) -> Cell {
    let mut times: Vec<Duration> = samples.iter().map(|s| s.elapsed).collect();
    let mut lateness_us: Vec<i64> = samples.into_iter().flat_map(|s| s.lateness_us).collect();
    lateness_us.sort_unstable();
    Cell::Done {
        median: median(&mut times),
        lateness_us,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics and workload inputs
// ---------------------------------------------------------------------------------------------

/// Median of `values` (sorts them in place); the lower middle for an even count.
pub fn median(values: &mut [Duration]) -> Duration {
    assert!(!values.is_empty(), "median of no values");
    values.sort_unstable();
    values[(values.len() - 1) / 2]
}

/// Nearest-rank percentile (`p` in 0..=100) of an already sorted slice.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Signed lateness in microseconds of a wake-up at `woke` for a timer due at `due`.
pub fn lateness_us(due: Instant, woke: Instant) -> i64 {
    match woke.checked_duration_since(due) {
        Some(late) => late.as_micros() as i64,
        None => -((due - woke).as_micros() as i64),
    }
}

/// `n` deterministic pseudo-random durations, uniform over `min..=max` at microsecond
/// resolution (xorshift64*, fixed seed): every runtime sleeps exactly the same durations.
pub fn spread_durations(n: usize, min: Duration, max: Duration) -> Vec<Duration> {
    let (lo, hi) = (min.as_micros() as u64, max.as_micros() as u64);
    let mut state: u64 = 0x5EED_7A5C_100F_2024;
    (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
            Duration::from_micros(lo + r % (hi - lo + 1))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

/// `12.34 ms`, or `FAILED` for a failed cell.
pub fn fmt_time(cell: &Cell) -> String {
    match cell.median() {
        Some(d) => format!("{:.2} ms", d.as_secs_f64() * 1e3),
        None => "FAILED".to_string(),
    }
}

/// `a / b` as `1.23x`, or `n/a` when either side is missing or `b` is not positive.
pub fn fmt_ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "n/a".to_string(),
    }
}

/// Prints a markdown table with padded columns.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(header.iter().map(|h| h.to_string()).collect());
    line(widths.iter().map(|w| "-".repeat(*w)).collect());
    for row in rows {
        line(row.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats() {
        let mut d: Vec<Duration> = [5, 1, 3, 2, 4].map(Duration::from_millis).to_vec();
        assert_eq!(median(&mut d), Duration::from_millis(3));
        let sorted: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 50.0), Some(50));
        assert_eq!(percentile(&sorted, 99.0), Some(99));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn durations_are_deterministic_and_in_range() {
        let (lo, hi) = (Duration::from_millis(1), Duration::from_millis(100));
        let a = spread_durations(10_000, lo, hi);
        assert_eq!(a, spread_durations(10_000, lo, hi));
        assert!(a.iter().all(|d| (lo..=hi).contains(d)));
        assert!(a.iter().any(|d| *d < Duration::from_millis(10)));
        assert!(a.iter().any(|d| *d > Duration::from_millis(90)));
    }
}
