//! The thread-safe half of the runtime: what other threads may touch.
//!
//! Everything else in the runtime lives on the loop thread behind `Rc` and `RefCell`.
//! Other threads (a waker sent to another thread, a blocking worker finishing a job)
//! reach the loop only through this struct:
//!
//! - `remote`: task ids woken off the loop thread, drained by the loop each iteration;
//! - `main_woken`: the `block_on` future was woken;
//! - `notified` + `waker`: the one `mio::Waker` of the loop's `Poll`, used at most once per
//!   loop iteration to interrupt a sleeping `Poll::poll`;
//! - `injected`: work a [`Handle`](crate::Handle) sent from another thread (a closure that
//!   spawns a task on the loop), and whether the runtime is gone.
//!
//! # The no-lost-wake contract
//! A producer first publishes its work (pushes an id, sets a flag, sends a completion),
//! then calls [`Shared::notify`]. The loop, after `Poll::poll` returns, first clears
//! `notified` and only then drains the queues. So either the loop's drain sees the work,
//! or the producer's `notify` comes after the clear, sees `false`, and wakes `Poll` again.
//! There is no window in which work is published and the loop sleeps unaware of it.
//!
//! The flags, the mutexes and the waker come from the `loom` shim (`loom.rs`), so that
//! `wake_model.rs` can check this contract over every interleaving (design chapter 3).

use std::sync::atomic::Ordering;

use super::loom::{AtomicBool, LoopWaker, Mutex, MutexGuard};
use super::task::TaskId;

/// State shared between the loop thread and every other thread.
#[derive(Debug)]
pub(crate) struct Shared {
    remote: Mutex<Vec<TaskId>>,
    injected: Mutex<Injected>,
    main_woken: AtomicBool,
    notified: AtomicBool,
    waker: LoopWaker,
}

impl Shared {
    pub(crate) fn new(waker: LoopWaker) -> Shared {
        Shared {
            remote: Mutex::new(Vec::new()),
            injected: Mutex::new(Injected::default()),
            main_woken: AtomicBool::new(true),
            notified: AtomicBool::new(false),
            waker,
        }
    }

    /// Queues a task woken on another thread and makes sure the loop notices.
    pub(crate) fn push_remote(&self, id: TaskId) {
        self.remote().push(id);
        self.notify();
    }

    /// Moves the remotely woken task ids into `out`.
    pub(crate) fn drain_remote(&self, out: &mut impl Extend<TaskId>) {
        let mut remote = self.remote();
        out.extend(remote.drain(..));
    }

    /// Queues `job` for the loop thread and makes sure the loop notices (publish, then
    /// notify). Gives the job back if the runtime is gone.
    pub(crate) fn inject(&self, job: InjectedJob) -> Result<(), InjectedJob> {
        {
            let mut injected = self.injected();
            if injected.closed {
                return Err(job);
            }
            injected.jobs.push(job);
        }
        self.notify();
        Ok(())
    }

    /// Takes the jobs injected since the last call (the loop runs them).
    pub(crate) fn take_injected(&self) -> Vec<InjectedJob> {
        std::mem::take(&mut self.injected().jobs)
    }

    /// The runtime is going away: refuse further jobs and return those not run (the
    /// caller drops them, on the loop thread, outside the lock).
    pub(crate) fn close_injection(&self) -> Vec<InjectedJob> {
        let mut injected = self.injected();
        injected.closed = true;
        std::mem::take(&mut injected.jobs)
    }

    /// Marks the `block_on` future as woken. `from_loop` skips the syscall when the loop
    /// thread itself woke it (it checks the flag before it sleeps).
    ///
    /// A swap, not a store. Were the loop's own `true` (a local wake) stored over an
    /// off-loop waker's, `take_main_woken` would read the loop's and acquire nothing from
    /// that waker: the main future's poll could miss what the waker published, and the
    /// waker's `notify` would then wake a loop whose flag was already taken. With every
    /// write a read-modify-write, each reads the one before it and the take acquires them
    /// all (design chapter 3, "Checking the contract with loom").
    pub(crate) fn wake_main(&self, from_loop: bool) {
        self.main_woken.swap(true, Ordering::AcqRel);
        if !from_loop {
            self.notify();
        }
    }

    /// Takes the "main future was woken" flag.
    pub(crate) fn take_main_woken(&self) -> bool {
        self.main_woken.swap(false, Ordering::AcqRel)
    }

    /// Whether the main future is woken (without taking the flag).
    pub(crate) fn main_woken(&self) -> bool {
        self.main_woken.load(Ordering::Acquire)
    }

    /// Interrupts `Poll::poll` unless an interruption is already pending.
    pub(crate) fn notify(&self) {
        if !self.notified.swap(true, Ordering::AcqRel) {
            // Failing to wake means the eventfd is full, i.e. a wake is pending anyway.
            let _ = self.waker.wake();
        }
    }

    /// Called by the loop right after `Poll::poll` returns, before draining the queues.
    ///
    /// A read-modify-write, not a plain store: if a producer's `swap(true)` came first,
    /// this swap reads it and acquires everything the producer published before it, so
    /// the drain that follows sees the work whatever queue carried it; if it came after,
    /// the producer reads `false` and wakes `Poll` again.
    pub(crate) fn clear_notified(&self) {
        self.notified.swap(false, Ordering::AcqRel);
    }

    /// The loop's waker; a model's loop thread sleeps on it in place of `Poll::poll`.
    #[cfg(all(test, loom))]
    pub(crate) fn waker(&self) -> &LoopWaker {
        &self.waker
    }

    /// The remote queue, locked (ignoring poisoning, as [`lock`] does).
    fn remote(&self) -> MutexGuard<'_, Vec<TaskId>> {
        self.remote
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The injection queue, locked (ignoring poisoning, as [`lock`] does).
    fn injected(&self) -> MutexGuard<'_, Injected> {
        self.injected
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A closure run on the loop thread, inside the runtime (it spawns a task).
pub(crate) type InjectedJob = Box<dyn FnOnce() + Send>;

/// Jobs sent by handles, and whether the runtime still takes them.
#[derive(Default)]
struct Injected {
    jobs: Vec<InjectedJob>,
    closed: bool,
}

impl std::fmt::Debug for Injected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Injected")
            .field("jobs", &self.jobs.len())
            .field("closed", &self.closed)
            .finish()
    }
}

/// Locks a mutex, ignoring poisoning: the data behind our locks (ids, results) stays
/// consistent even if a thread panicked while holding the lock.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
