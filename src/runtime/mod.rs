//! The runtime layer: a single-threaded executor on mio, with timers, a blocking pool
//! and TCP. See `design/` for how the pieces fit together.

mod alarm;
mod blocking;
mod combinators;
pub(crate) mod context;
mod coop;
mod executor;
mod handle;
mod interval;
pub mod io;
pub(crate) mod join;
mod join_set;
mod loom;
pub mod net;
pub(crate) mod reactor;
pub(crate) mod select;
pub(crate) mod shared;
#[cfg(all(unix, feature = "signal"))]
pub mod signal;
pub mod sync;
mod task;
mod timer;
#[cfg(all(test, loom))]
mod wake_model;

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

pub use combinators::{join_all, select, yield_now, Either, MaybeDone};
pub use handle::{Handle, RemoteJoinHandle, SpawnError};
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub(crate) use join::panic_message;
pub use join::{JoinError, JoinHandle};
pub use join_set::JoinSet;
pub(crate) use shared::lock;
pub use timer::{sleep, sleep_until, timeout, Elapsed, Sleep};

use executor::{Core, MainWaker};

/// Default number of blocking worker threads.
const DEFAULT_BLOCKING_THREADS: usize = 4;

/// A single-threaded event loop with a pool of blocking workers.
///
/// Tasks run on the thread that calls [`block_on`](Runtime::block_on). A `Runtime` is
/// not `Send` (its tasks need not be). Dropping it drops every unfinished task (their
/// [`JoinHandle`]s resolve as cancelled), discards blocking jobs that have not started,
/// and detaches workers still busy with a job.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let rt = taskloop::Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     let a = taskloop::spawn_blocking(|| (1..=100u64).sum::<u64>());
///     let b = taskloop::spawn(async {
///         taskloop::sleep(Duration::from_millis(1)).await;
///         1
///     });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(sum, 5051);
/// ```
pub struct Runtime {
    core: Rc<Core>,
}

/// Configures a [`Runtime`].
#[derive(Debug, Clone)]
pub struct Builder {
    blocking_threads: usize,
}

impl Builder {
    /// Number of blocking worker threads (at least 1; default 4).
    pub fn blocking_threads(mut self, n: usize) -> Builder {
        self.blocking_threads = n.max(1);
        self
    }

    /// Creates the runtime.
    ///
    /// # Errors
    /// If the OS refuses a `Poll`, its waker, or a worker thread.
    pub fn build(self) -> std::io::Result<Runtime> {
        Ok(Runtime {
            core: Rc::new(Core::new(self.blocking_threads)?),
        })
    }
}

impl Runtime {
    /// A runtime with 4 blocking workers.
    ///
    /// # Errors
    /// If the OS refuses a `Poll`, its waker, or a worker thread.
    pub fn new() -> std::io::Result<Runtime> {
        Runtime::builder().build()
    }

    /// A [`Builder`] with the default settings.
    pub fn builder() -> Builder {
        Builder {
            blocking_threads: DEFAULT_BLOCKING_THREADS,
        }
    }

    /// Runs the loop on this thread until `fut` completes, and returns its output.
    /// Spawned tasks that are still pending then stay in the runtime and go on at the
    /// next `block_on`.
    ///
    /// # Panics
    /// If called from inside a runtime (a loop thread must never block), or if `fut`
    /// itself panics.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        let _entered = context::enter(self.core.clone());
        let mut fut = pin!(fut);
        let waker = Waker::from(Arc::new(MainWaker {
            shared: self.core.shared().clone(),
        }));
        let mut cx = Context::from_waker(&waker);
        self.core.shared().wake_main(true);
        loop {
            if let Poll::Ready(out) = self.core.poll_main(fut.as_mut(), &mut cx) {
                return out;
            }
            self.core.tick();
        }
    }

    /// A [`Handle`] to this runtime, for spawning onto it from other threads.
    pub fn handle(&self) -> Handle {
        Handle::new(self.core.shared().clone())
    }

    /// Spawns `fut` on this runtime; it starts at the next `block_on` (or the current
    /// one). See [`spawn`].
    pub fn spawn<F: Future + 'static>(&self, fut: F) -> JoinHandle<F::Output> {
        self.core.spawn(fut)
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("tasks", &self.core.task_count())
            .field("timers", &self.core.timers.len())
            .field("io_sources", &self.core.reactor.len())
            .field("blocking_in_flight", &self.core.blocking.in_flight())
            .finish()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.core.drop_all_tasks();
    }
}

/// Spawns `fut` as a new task on the current runtime and returns its [`JoinHandle`].
/// The future need not be `Send`. It starts running at the loop's next turn.
///
/// # Panics
/// Outside a runtime (not within [`Runtime::block_on`] or a task it runs).
///
/// # Examples
/// ```
/// let rt = taskloop::Runtime::new().unwrap();
/// let handles: Vec<_> = rt.block_on(async {
///     (0..3).map(|i| taskloop::spawn(async move { i })).collect()
/// });
/// let outs = rt.block_on(taskloop::join_all(handles));
/// assert_eq!(outs.into_iter().map(Result::unwrap).collect::<Vec<_>>(), [0, 1, 2]);
/// ```
pub fn spawn<F: Future + 'static>(fut: F) -> JoinHandle<F::Output> {
    context::expect_current("taskloop::spawn").spawn(fut)
}

/// Runs `f` on the blocking pool and returns a [`JoinHandle`] for its result. Use it for
/// anything that would stall the loop: file reads, blocking HTTP, CPU-heavy work.
/// A panic in `f` becomes the handle's [`JoinError`].
///
/// # Panics
/// Outside a runtime.
///
/// # Examples
/// ```
/// let rt = taskloop::Runtime::new().unwrap();
/// let n = rt.block_on(async { taskloop::spawn_blocking(|| 2 + 2).await.unwrap() });
/// assert_eq!(n, 4);
/// ```
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let core = context::expect_current("taskloop::spawn_blocking");
    let wait = core.blocking.submit(core.clone(), f);
    core.spawn(async move {
        match wait.await {
            Ok(value) => value,
            Err(payload) => std::panic::resume_unwind(payload),
        }
    })
}

/// Runs `f` on the current runtime's blocking pool without waiting for it, or on a new
/// thread outside any runtime (say, from a destructor while a runtime is dropped).
/// (The AutoML client uses it to stop abandoned remote tasks.)
#[cfg_attr(not(feature = "client"), allow(dead_code))]
pub(crate) fn spawn_blocking_detached(f: impl FnOnce() + Send + 'static) {
    match context::current() {
        Some(core) => drop(core.blocking.submit(core.clone(), f)),
        None => drop(std::thread::spawn(f)),
    }
}

/// Spawns `fut` on the current runtime, if there is one (for destructors, which may run
/// while a runtime is being dropped).
pub(crate) fn try_spawn<F: Future + 'static>(fut: F) -> Option<JoinHandle<F::Output>> {
    context::current().map(|core| core.spawn(fut))
}
