//! A memory budget: bytes reserved against a limit, given back when the reservation
//! drops. The server has two (see `memory.rs` for how `--max-memory` is shared out):
//! one for the bytes of request bodies being buffered and of uploads queued for a
//! worker, described here, and one for stored data and the working memory of jobs.
//!
//! Each connection limit alone does not bound memory: 60 connections each sending a
//! 63 MiB body took the server to 3.9 GB. So every body reserves its bytes here before
//! they are read (all of a `Content-Length`, or chunk by chunk), and the reservation
//! lives as long as the bytes do: through the handler and, for an upload, until the
//! worker has parsed it. A body that does not fit gets `503` with `Retry-After` and
//! its connection is closed; the bytes already held are never more than the budget.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The server's shared budget (cheap to clone; all clones share it).
#[derive(Clone)]
pub(crate) struct MemoryBudget {
    inner: Arc<Inner>,
}

struct Inner {
    limit: usize,
    used: AtomicUsize,
}

impl fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBudget")
            .field("limit", &self.inner.limit)
            .field("used", &self.inner.used.load(Ordering::Relaxed))
            .finish()
    }
}

impl MemoryBudget {
    pub(crate) fn new(limit: usize) -> MemoryBudget {
        MemoryBudget {
            inner: Arc::new(Inner {
                limit,
                used: AtomicUsize::new(0),
            }),
        }
    }

    /// An empty reservation, to grow as bytes arrive.
    pub(crate) fn reservation(&self) -> Reservation {
        Reservation {
            inner: self.inner.clone(),
            bytes: 0,
        }
    }

    /// Bytes reserved now.
    pub(crate) fn used(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// The most bytes reservations may hold together.
    pub(crate) fn limit(&self) -> usize {
        self.inner.limit
    }
}

/// Bytes taken from the budget, given back on drop. `Send`: an upload's reservation
/// travels with its bytes to the worker thread.
pub(crate) struct Reservation {
    inner: Arc<Inner>,
    bytes: usize,
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Reservation").field(&self.bytes).finish()
    }
}

impl Reservation {
    /// Grows the reservation to `total` bytes (never shrinks it); `false`, leaving it
    /// as it was, if the budget cannot cover that.
    pub(crate) fn grow_to(&mut self, total: usize) -> bool {
        let Some(extra) = total.checked_sub(self.bytes).filter(|&n| n > 0) else {
            return true;
        };
        let limit = self.inner.limit;
        let taken = self
            .inner
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(extra).filter(|&n| n <= limit)
            });
        if taken.is_ok() {
            self.bytes = total;
        }
        taken.is_ok()
    }
}

impl Reservation {
    /// Sets the reservation to `total` bytes whatever the limit: for memory already
    /// held (stored data), which the holder then brings back under its own cap.
    pub(crate) fn set_to(&mut self, total: usize) {
        if total >= self.bytes {
            self.inner
                .used
                .fetch_add(total - self.bytes, Ordering::AcqRel);
        } else {
            self.inner
                .used
                .fetch_sub(self.bytes - total, Ordering::AcqRel);
        }
        self.bytes = total;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.inner.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_share_one_limit_and_give_back_on_drop() {
        let budget = MemoryBudget::new(100);
        let mut a = budget.reservation();
        assert!(a.grow_to(60));
        let mut b = budget.reservation();
        assert!(!b.grow_to(50), "60 + 50 > 100");
        assert!(b.grow_to(40));
        assert!(a.grow_to(50), "never shrinks: still 60");
        assert_eq!(budget.used(), 100);
        drop(a);
        assert_eq!(budget.used(), 40);
        drop(b);
        assert_eq!(budget.used(), 0);
    }
}
