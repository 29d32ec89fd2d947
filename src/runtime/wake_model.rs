//! Model tests of the wake protocol (`shared.rs`, `task.rs`; design chapter 3): loom runs
//! each test over every interleaving of its threads, and over every value a load may
//! return under the memory orderings the code asks for, with the protocol's own code
//! compiled against loom's atomics and mutexes (the shim in `loom.rs`).
//!
//! They are built only with `--cfg loom`, in a target directory of their own (the cfg
//! rebuilds every dependency):
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test --release --lib --no-default-features wake_model
//! ```
//!
//! The loop thread of a model is [`ModelLoop`]: `block_on`, `Core::tick`, `park`, `turn`
//! and `collect` in the order `executor.rs` runs them, with what does not touch the
//! protocol left out (timers, I/O sources, the poll budget). When idle it parks without
//! a timeout, so a lost wake leaves it asleep with no thread left to wake it, and loom
//! reports a deadlock.
//!
//! What producers publish is a `Relaxed` atomic in every model. It synchronizes nothing
//! by itself: the loop (or the task's next poll) sees it only if the protocol's own
//! orderings carry it across, so an ordering too weak fails a model as surely as a clear
//! and a drain in the wrong order do.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::Waker;

use loom::sync::atomic::AtomicBool;
use loom::thread;

use super::executor::MainWaker;
use super::loom::LoopWaker;
use super::shared::Shared;
use super::task::{Header, TaskId};

/// The one task of a model.
const TASK: TaskId = TaskId {
    index: 0,
    generation: 0,
};

/// A model's task: its header, and its poll (`true`: it completed).
type ModelTask = (Arc<Header>, Box<dyn FnMut() -> bool>);

/// The loop thread of a model: the executor reduced to the wake protocol, one task at
/// most, and no timers or I/O.
struct ModelLoop {
    shared: Arc<Shared>,
    ready: VecDeque<TaskId>,
    /// `None` before the spawn and once the task has completed.
    task: Option<ModelTask>,
    /// How many times the task was polled.
    polls: usize,
}

impl ModelLoop {
    fn new() -> ModelLoop {
        ModelLoop {
            shared: Arc::new(Shared::new(LoopWaker::default())),
            ready: VecDeque::new(),
            task: None,
            polls: 0,
        }
    }

    /// `Core::insert`: the task starts out scheduled, its id queued. Returns its waker.
    fn spawn(&mut self, poll: impl FnMut() -> bool + 'static) -> Waker {
        let header = Arc::new(Header::new_scheduled(TASK, self.shared.clone()));
        let waker = Waker::from(header.clone());
        self.task = Some((header, Box::new(poll)));
        self.ready.push_back(TASK);
        waker
    }

    /// `Runtime::block_on` with a main future that completes once `main` says so.
    /// `drain` stands for the blocking pool's completion channel: `collect` takes from it
    /// after the remote wakes and injected jobs, and it says whether it found something
    /// (which wakes the main future, as a completion wakes the task that awaits it).
    fn block_on(
        &mut self,
        mut main: impl FnMut(&ModelLoop) -> bool,
        mut drain: impl FnMut() -> bool,
    ) {
        self.shared.wake_main(true);
        loop {
            if self.shared.take_main_woken() && main(self) {
                return;
            }
            self.tick(&mut drain);
        }
    }

    /// `Core::tick`. Parking with no timer is `turn(None)`, sleeping until the waker;
    /// a loop with work left turns with a zero timeout.
    fn tick(&mut self, drain: &mut impl FnMut() -> bool) {
        self.run_ready();
        let idle = self.ready.is_empty() && !self.shared.main_woken();
        self.shared.waker().poll(idle);
        self.collect(drain);
    }

    /// `Core::collect`: clear `notified`, then drain what other threads published.
    fn collect(&mut self, drain: &mut impl FnMut() -> bool) {
        self.shared.clear_notified();
        self.shared.drain_remote(&mut self.ready);
        for job in self.shared.take_injected() {
            job();
        }
        if drain() {
            self.shared.wake_main(true);
        }
    }

    /// `Core::run_ready` and `poll_task`. A completed task is closed and removed and
    /// wakes the main future (its `JoinHandle` would); ids still queued for it are stale
    /// and skipped.
    fn run_ready(&mut self) {
        while self.ready.pop_front().is_some() {
            let Some((header, poll)) = &mut self.task else {
                continue;
            };
            header.start_poll();
            self.polls += 1;
            if poll() {
                header.close();
                self.task = None;
                self.shared.wake_main(true);
            }
        }
    }
}

/// Runs `f` under loom, over every interleaving (`LOOM_MAX_PREEMPTIONS` may bound it).
fn check(f: impl Fn() + Sync + Send + 'static) {
    loom::model::Builder::new().check(f);
}

/// A task woken from another thread is polled again after the wake and sees what the
/// waker published before it, whatever state the wake finds it in: still queued from
/// its spawn (the wake coalesces with that), being polled (queued again), or idle with
/// the loop asleep (the loop is woken). And it is queued at most once per wake.
#[test]
fn a_remote_wake_reaches_the_task_in_any_state() {
    check(|| {
        let mut lp = ModelLoop::new();
        let sent = Arc::new(AtomicBool::new(false));
        let seen = sent.clone();
        let waker = lp.spawn(move || seen.load(Relaxed));
        let producer = thread::spawn(move || {
            sent.store(true, Relaxed);
            waker.wake();
        });
        lp.block_on(|lp| lp.task.is_none(), || false);
        producer.join().unwrap();
        assert!(lp.polls <= 2, "{} polls for one wake", lp.polls);
    });
}

/// Two threads wake a task, one racing the poll's `start_poll`, the other during the
/// poll: the task ends up queued exactly once. (A wake before `start_poll` finds it
/// still scheduled and does nothing; the poll about to run is the one it asked for.)
#[test]
fn two_wakes_around_a_poll_queue_the_task_exactly_once() {
    check(|| {
        let shared = Arc::new(Shared::new(LoopWaker::default()));
        let header = Arc::new(Header::new_scheduled(TASK, shared.clone()));
        let wake = |header: &Arc<Header>| {
            let waker = Waker::from(header.clone());
            thread::spawn(move || waker.wake())
        };
        let racing = wake(&header);
        header.start_poll();
        let during = wake(&header);
        racing.join().unwrap();
        during.join().unwrap();
        let mut queued = Vec::new();
        shared.drain_remote(&mut queued);
        assert_eq!(queued, [TASK]);
    });
}

/// Once a task is closed (it completed, or its runtime dropped it), wakes from any
/// number of threads queue nothing.
#[test]
fn wakes_after_close_queue_nothing() {
    check(|| {
        let shared = Arc::new(Shared::new(LoopWaker::default()));
        let header = Arc::new(Header::new_scheduled(TASK, shared.clone()));
        header.start_poll();
        header.close();
        let wakers: Vec<_> = (0..2)
            .map(|_| {
                let waker = Waker::from(header.clone());
                thread::spawn(move || waker.wake())
            })
            .collect();
        for waker in wakers {
            waker.join().unwrap();
        }
        let mut queued = Vec::new();
        shared.drain_remote(&mut queued);
        assert_eq!(queued, []);
    });
}

/// The `block_on` future woken from another thread (`MainWaker`, so
/// `wake_main(false)`): it is polled again and sees what the waker published, and the
/// loop never sleeps through the wake.
#[test]
fn the_main_future_woken_from_another_thread_is_polled_again() {
    check(|| {
        let mut lp = ModelLoop::new();
        let sent = Arc::new(AtomicBool::new(false));
        let waker = Waker::from(Arc::new(MainWaker {
            shared: lp.shared.clone(),
        }));
        let producer = {
            let sent = sent.clone();
            thread::spawn(move || {
                sent.store(true, Relaxed);
                waker.wake();
            })
        };
        lp.block_on(|_| sent.load(Relaxed), || false);
        producer.join().unwrap();
    });
}

/// Two producers publish at once: a `Handle` injects a job, and a worker sets a
/// `Relaxed` flag and calls `notify`, as a blocking job does with its completion. The
/// loop collects both and never sleeps with either pending.
///
/// The worker's `notify` may find `notified` already set by the handle's and skip the
/// waker; the loop's sleep then ends on the handle's wake alone. Only the loop's clear,
/// a swap that reads the worker's `true` and acquires with it, makes the flag visible to
/// the drain that follows: a plain store there would leave the loop asleep.
#[test]
fn work_published_before_notify_is_collected() {
    check(|| {
        let mut lp = ModelLoop::new();
        let ran = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let handle = {
            let shared = lp.shared.clone();
            let ran = ran.clone();
            thread::spawn(move || {
                let main = shared.clone();
                let job = Box::new(move || {
                    ran.store(true, Relaxed);
                    main.wake_main(true); // as the task the job spawns would, completing
                });
                assert!(shared.inject(job).is_ok(), "the runtime is alive");
            })
        };
        let worker = {
            let shared = lp.shared.clone();
            let done = done.clone();
            thread::spawn(move || {
                done.store(true, Relaxed);
                shared.notify();
            })
        };
        let collected = Cell::new(false);
        let drain = || {
            let found = !collected.get() && done.load(Relaxed);
            collected.set(collected.get() || found);
            found
        };
        lp.block_on(|_| ran.load(Relaxed) && collected.get(), drain);
        handle.join().unwrap();
        worker.join().unwrap();
    });
}
