//! The server's memory ceiling, [`Limits::max_memory`](super::Limits::max_memory), and
//! how it is shared out.
//!
//! - Request bodies being buffered and uploads queued take at most
//!   [`body_share`] of it (`max_buffered_bytes`, never more than a quarter of the
//!   ceiling), from their own budget ([`MemoryBudget`] in `App`).
//! - The rest is one [`MemoryBudget`] for what the server keeps and what its jobs work
//!   with: the stored data sets (CSV, columns, column names, documents), experiments and
//!   their models' documents, and the working memory a running train or predict
//!   reserves before it allocates. The store evicts its oldest items to stay under
//!   half of this share (or `max_stored_bytes`, if lower), so a job always has the
//!   other half; a job whose estimate does not fit what is left ends `fail` saying how
//!   much it needed and the limit.

use super::budget::{MemoryBudget, Reservation};

/// The ceiling when the machine's memory cannot be read.
const FALLBACK: usize = 4 << 30;

/// The default ceiling: half the machine's memory (`MemTotal` in `/proc/meminfo`), or
/// 4 GiB where that cannot be read.
pub(crate) fn default_max_memory() -> usize {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| mem_total(&text))
        .map_or(FALLBACK, |total| total / 2)
}

/// `MemTotal` of a `/proc/meminfo` text, in bytes.
fn mem_total(meminfo: &str) -> Option<usize> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The bytes request bodies may hold under a ceiling of `max_memory`.
pub(crate) fn body_share(max_memory: usize, max_buffered_bytes: usize) -> usize {
    max_buffered_bytes.min(max_memory / 4)
}

/// The budget of stored data and jobs' working memory under `max_memory`.
pub(crate) fn shared_budget(max_memory: usize, max_buffered_bytes: usize) -> MemoryBudget {
    MemoryBudget::new(max_memory - body_share(max_memory, max_buffered_bytes))
}

/// The most bytes the store keeps: half the shared budget, or `max_stored_bytes`.
pub(crate) fn store_cap(budget: &MemoryBudget, max_stored_bytes: usize) -> usize {
    max_stored_bytes.min(budget.limit() / 2)
}

/// Reserves `bytes` of working memory for a job that is about to `what` (e.g. "train
/// GLM on 3,000 rows"), or says why it cannot run.
pub(crate) fn reserve(
    budget: &MemoryBudget,
    bytes: usize,
    what: &str,
) -> Result<Reservation, String> {
    let mut reservation = budget.reservation();
    if reservation.grow_to(bytes) {
        return Ok(reservation);
    }
    Err(format!(
        "not enough memory to {what}: it needs about {} of working memory, and the \
         server's memory limit for data and jobs is {} ({} in use); use fewer rows or \
         columns, or raise --max-memory",
        mib(bytes),
        mib(budget.limit()),
        mib(budget.used()),
    ))
}

/// `bytes` in MiB, for messages.
pub(crate) fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_half_the_machine() {
        let text = "MemTotal:       24731400 kB\nMemFree: 1 kB\n";
        assert_eq!(mem_total(text), Some(24_731_400 * 1024));
        assert_eq!(mem_total("nothing"), None);
        assert!(default_max_memory() >= 64 << 20);
    }

    #[test]
    fn a_job_that_does_not_fit_says_what_it_needed_and_the_limit() {
        let budget = shared_budget(1 << 30, 384 << 20);
        assert_eq!(budget.limit(), (1 << 30) - (256 << 20));
        let held = reserve(&budget, 100 << 20, "train").unwrap();
        let err = reserve(&budget, 700 << 20, "train GLM").unwrap_err();
        assert!(
            err.contains("700.0 MiB") && err.contains("768.0 MiB"),
            "{err}"
        );
        assert!(err.contains("100.0 MiB in use"), "{err}");
        drop(held);
        assert!(reserve(&budget, 700 << 20, "train GLM").is_ok());
    }
}
