//! The workloads. Each module has `taskloop`, `tokio` and `smol` functions with the same
//! shape: take the runtime, run the workload once inside it, return a [`crate::Sample`] whose
//! time is measured inside the runtime (start-up excluded). Shared async pieces (the
//! runtime-agnostic task bodies) sit at the top of each module.

pub mod blocking;
pub mod mpsc;
pub mod mutex;
pub mod ping_pong;
pub mod sleeps;
pub mod spawn;
pub mod yields;

/// Workload 1: empty tasks spawned, then all their handles awaited.
pub const SPAWN_TASKS: usize = 25_000;
/// Workload 2: tasks that each call `yield_now` [`YIELDS_PER_TASK`] times.
pub const YIELD_TASKS: usize = 200;
pub const YIELDS_PER_TASK: usize = 1_000;
/// Workload 3: concurrent ping-pong pairs over `futures::channel::oneshot`.
pub const PING_PONG_PAIRS: usize = 1_000;
pub const ROUND_TRIPS: u64 = 10;
/// Workload 4: batches of no-op blocking jobs; each batch is awaited before the next.
pub const BLOCKING_BATCHES: usize = 100;
pub const BLOCKING_BATCH_SIZE: usize = 16;
/// Workload 5: concurrent sleeps, durations spread over 1..=100 ms.
pub const SLEEPS: usize = 10_000;
pub const SLEEP_MIN_MS: u64 = 1;
pub const SLEEP_MAX_MS: u64 = 100;
/// Workload 6: producers sending into one bounded channel, one consumer.
pub const MPSC_PRODUCERS: usize = 4;
pub const MPSC_MESSAGES: usize = 25_000;
pub const MPSC_CAPACITY: usize = 128;
/// Workload 7: tasks taking one async mutex in turn, yielding while they hold it.
pub const MUTEX_TASKS: usize = 50;
pub const MUTEX_ROUNDS: usize = 1_000;
