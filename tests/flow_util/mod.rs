//! Helpers shared by the flow behaviour tests: a watchdog that turns a hang into a
//! failure, a gate a blocking body can wait on, an async barrier, a meter of bodies
//! running at once, and an observer that records events as owned values.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Poll, Waker};

use taskloop::flow::{Event, Flow, JobStatus};

/// Runs `body` on its own thread; fails the test if it hangs (the shared watchdog of
/// `tests/util`).
pub use util::watchdog;

#[path = "../util/mod.rs"]
mod util;

/// A gate that blocking code waits on until someone opens it (from any thread).
#[derive(Debug, Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }

    /// Opens the gate for good, releasing every waiter.
    pub fn open(&self) {
        *self.0 .0.lock().unwrap() = true;
        self.0 .1.notify_all();
    }

    /// Blocks until the gate is open.
    pub fn wait(&self) {
        let mut open = self.0 .0.lock().unwrap();
        while !*open {
            open = self.0 .1.wait(open).unwrap();
        }
    }

    /// Whether the gate is open.
    pub fn is_open(&self) -> bool {
        *self.0 .0.lock().unwrap()
    }
}

/// Sets a flag when dropped, so a test can tell whether a future (which owns it) was
/// dropped.
#[derive(Debug)]
pub struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A drop flag and the way to read it.
pub fn drop_flag() -> (DropFlag, Arc<AtomicBool>) {
    let flag = Arc::new(AtomicBool::new(false));
    (DropFlag(flag.clone()), flag)
}

/// Counts the bodies running at once and remembers the most ever seen.
#[derive(Debug, Clone, Default)]
pub struct Meter {
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
}

/// One body counted by a [`Meter`]; leaving drops the count.
#[derive(Debug)]
pub struct Inside(Arc<AtomicUsize>);

impl Drop for Inside {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Meter {
    pub fn enter(&self) -> Inside {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        Inside(self.now.clone())
    }

    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

/// A barrier for futures on one thread: each group of `n` waiters is released together.
#[derive(Debug, Clone)]
pub struct AsyncBarrier(Rc<RefCell<BarrierState>>);

#[derive(Debug)]
struct BarrierState {
    n: usize,
    arrived: usize,
    generation: u64,
    waiters: Vec<Waker>,
}

impl AsyncBarrier {
    pub fn new(n: usize) -> AsyncBarrier {
        AsyncBarrier(Rc::new(RefCell::new(BarrierState {
            n,
            arrived: 0,
            generation: 0,
            waiters: Vec::new(),
        })))
    }

    /// Waits until `n` futures (this one included) are waiting, then releases them all.
    pub async fn wait(&self) {
        let generation = {
            let mut s = self.0.borrow_mut();
            s.arrived += 1;
            if s.arrived == s.n {
                s.arrived = 0;
                s.generation += 1;
                let waiters = std::mem::take(&mut s.waiters);
                drop(s);
                waiters.into_iter().for_each(Waker::wake);
                return;
            }
            s.generation
        };
        poll_fn(|cx| {
            let mut s = self.0.borrow_mut();
            if s.generation != generation {
                return Poll::Ready(());
            }
            s.waiters.push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

/// An event of a run, as an owned value a test can compare.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Started(String, u32),
    Progress(String, f64, String),
    Retrying(String, u32, String),
    Finished(String, JobStatus),
}

/// Records every job event of `flow`'s runs, in order.
pub fn record(flow: &mut Flow) -> Rc<RefCell<Vec<Seen>>> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = log.clone();
    flow.observe(move |e: &Event<'_>| {
        let seen = match e {
            Event::Started { job, attempt, .. } => Seen::Started(job.name.into(), *attempt),
            Event::Progress {
                job,
                fraction,
                message,
                ..
            } => Seen::Progress(job.name.into(), *fraction, message.to_string()),
            Event::Retrying {
                job,
                attempt,
                error,
                ..
            } => Seen::Retrying(job.name.into(), *attempt, error.to_string()),
            Event::Finished { job, status, .. } => Seen::Finished(job.name.into(), *status),
            _ => return,
        };
        sink.borrow_mut().push(seen);
    });
    log
}

/// The names of the jobs whose (first) attempt started, in start order.
pub fn start_order(log: &[Seen]) -> Vec<String> {
    log.iter()
        .filter_map(|s| match s {
            Seen::Started(name, 1) => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// A body's error for tests: an `io::Error` with `msg`.
pub fn fail(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::other(msg.into())
}
