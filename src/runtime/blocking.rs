//! The blocking pool: worker threads for work that would stall the loop.
//!
//! A job travels like this:
//! 1. The loop reserves a waiter slot (a slab key) and sends the job to the workers over
//!    a `crossbeam-channel`.
//! 2. A worker runs it with panics caught, stores the result in the job's own cell, sends
//!    the key back over the completion channel, and notifies the loop (the `mio::Waker`).
//! 3. The loop drains the completion channel after every poll and wakes each waiting
//!    task; the task takes its result from the cell.
//!
//! If the waiting future is dropped first (its task was aborted), its slot is marked
//! abandoned and freed when the completion arrives, so a key is never reused while a
//! worker may still report on it.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use slab::Slab;

use super::executor::Core;
use super::shared::{lock, Shared};

type Job = Box<dyn FnOnce() + Send>;

/// How long dropping a runtime waits for busy workers before detaching them.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(250);

/// The worker threads and the loop-side record of jobs in flight.
pub(crate) struct BlockingPool {
    jobs: Option<Sender<Job>>,
    queued: Receiver<Job>,
    done_tx: Sender<usize>,
    done_rx: Receiver<usize>,
    waiters: RefCell<Slab<Waiter>>,
    exited: Receiver<()>,
    threads: Vec<thread::JoinHandle<()>>,
    shared: Arc<Shared>,
}

enum Waiter {
    Waiting(Option<Waker>),
    Done,
    Abandoned,
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPool")
            .field("threads", &self.threads.len())
            .field("in_flight", &self.waiters.borrow().len())
            .finish()
    }
}

impl BlockingPool {
    pub(crate) fn new(threads: usize, shared: Arc<Shared>) -> io::Result<BlockingPool> {
        let (jobs, queued) = crossbeam_channel::unbounded::<Job>();
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        let (exit_tx, exited) = crossbeam_channel::unbounded();
        let threads = (0..threads.max(1))
            .map(|i| {
                let queued = queued.clone();
                let exit_tx = exit_tx.clone();
                thread::Builder::new()
                    .name(format!("taskloop-blocking-{i}"))
                    .spawn(move || {
                        // A job never unwinds into here: `submit` wraps it in catch_unwind.
                        for job in queued.iter() {
                            job();
                        }
                        let _ = exit_tx.send(());
                    })
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(BlockingPool {
            jobs: Some(jobs),
            queued,
            done_tx,
            done_rx,
            waiters: RefCell::new(Slab::new()),
            exited,
            threads,
            shared,
        })
    }

    /// Sends `f` to the workers; the returned future resolves to its result.
    pub(crate) fn submit<F, T>(&self, core: Rc<Core>, f: F) -> BlockingWait<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let key = self.waiters.borrow_mut().insert(Waiter::Waiting(None));
        let cell = Arc::new(Mutex::new(None));
        let job_cell = cell.clone();
        let done = self.done_tx.clone();
        let shared = self.shared.clone();
        let job: Job = Box::new(move || {
            let result = catch_unwind(AssertUnwindSafe(f));
            *lock(&job_cell) = Some(result);
            if done.send(key).is_ok() {
                shared.notify();
            }
        });
        if let Some(jobs) = &self.jobs {
            // Cannot fail: `self.queued` keeps the channel open.
            let _ = jobs.send(job);
        }
        BlockingWait {
            key: Some(key),
            cell,
            core,
        }
    }

    /// Wakes the tasks whose jobs finished (called by the loop after every poll).
    pub(crate) fn drain_completions(&self) {
        let mut woken = Vec::new();
        {
            let mut waiters = self.waiters.borrow_mut();
            for key in self.done_rx.try_iter() {
                let Some(waiter) = waiters.get_mut(key) else {
                    continue;
                };
                match std::mem::replace(waiter, Waiter::Done) {
                    Waiter::Waiting(w) => woken.extend(w),
                    Waiter::Abandoned => {
                        waiters.remove(key);
                    }
                    Waiter::Done => {}
                }
            }
        }
        for w in woken {
            w.wake();
        }
    }

    /// Number of jobs submitted and not yet collected.
    pub(crate) fn in_flight(&self) -> usize {
        self.waiters.borrow().len()
    }
}

impl Drop for BlockingPool {
    /// Discards jobs that have not started, closes the queue, and joins the workers that
    /// finish within a short grace period; workers stuck in a long job are detached.
    fn drop(&mut self) {
        while self.queued.try_recv().is_ok() {}
        self.jobs = None;
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        let mut exited = 0;
        while exited < self.threads.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.exited.recv_timeout(left) {
                Ok(()) => exited += 1,
                Err(_) => break,
            }
        }
        if exited == self.threads.len() {
            for t in self.threads.drain(..) {
                let _ = t.join();
            }
        }
    }
}

/// Resolves to the result of a blocking job (`Err` holds the job's panic payload).
pub(crate) struct BlockingWait<T> {
    key: Option<usize>,
    cell: Arc<Mutex<Option<thread::Result<T>>>>,
    core: Rc<Core>,
}

impl<T> Future for BlockingWait<T> {
    type Output = thread::Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let key = self.key.expect("BlockingWait polled after completion");
        let mut waiters = self.core.blocking.waiters.borrow_mut();
        match &mut waiters[key] {
            Waiter::Waiting(w) => {
                *w = Some(cx.waker().clone());
                Poll::Pending
            }
            _ => {
                waiters.remove(key);
                drop(waiters);
                self.key = None;
                let result = lock(&self.cell).take();
                Poll::Ready(result.expect("a completed blocking job stores its result first"))
            }
        }
    }
}

impl<T> Drop for BlockingWait<T> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut waiters = self.core.blocking.waiters.borrow_mut();
        if matches!(waiters.get(key), Some(Waiter::Done)) {
            waiters.remove(key);
        } else if let Some(w) = waiters.get_mut(key) {
            *w = Waiter::Abandoned;
        }
    }
}
