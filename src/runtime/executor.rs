//! The executor: a slab of tasks, a ready queue, and one iteration of the event loop.
//!
//! # One iteration (`Core::tick`)
//! 1. **Run**: pop up to [`BUDGET`] task ids from the ready queue and poll each task.
//!    Wakes during this step push more ids onto the queue.
//! 2. **Decide how long to sleep**: not at all if tasks are still ready or the main
//!    future was woken; else until the earliest timer; else indefinitely.
//! 3. **Park** in `Poll::poll` (the reactor). I/O readiness wakes the tasks waiting on
//!    it; the `mio::Waker` ends the sleep early when another thread has work for us.
//!    The last sub-millisecond before a timer is napped with `thread::sleep` instead
//!    (see `Core::park`).
//! 4. **Collect**: clear the notification flag, then drain remote wakes and blocking
//!    completions onto the ready queue, then fire expired timers.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

use super::blocking::BlockingPool;
use super::join::{run_task, JoinHandle, JoinInner};
use super::reactor::Reactor;
use super::shared::Shared;
use super::task::{BoxFuture, Header, Slot, TaskId};
use super::timer::Timers;

/// How many task polls the loop makes before it checks I/O and timers again.
/// Bounds how long a busy ready queue can delay I/O, timers and the main future.
const BUDGET: usize = 256;

/// The loop thread's half of the runtime.
#[derive(Debug)]
pub(crate) struct Core {
    shared: Arc<Shared>,
    tasks: RefCell<Slab<Slot>>,
    ready: RefCell<VecDeque<TaskId>>,
    next_generation: Cell<u64>,
    pub(crate) timers: Timers,
    pub(crate) reactor: Reactor,
    pub(crate) blocking: BlockingPool,
}

impl Core {
    pub(crate) fn new(blocking_threads: usize) -> io::Result<Core> {
        let (reactor, waker) = Reactor::new()?;
        let shared = Arc::new(Shared::new(waker));
        Ok(Core {
            blocking: BlockingPool::new(blocking_threads, shared.clone())?,
            shared,
            tasks: RefCell::new(Slab::new()),
            ready: RefCell::new(VecDeque::new()),
            next_generation: Cell::new(0),
            timers: Timers::default(),
            reactor,
        })
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn shared_ptr(&self) -> *const Shared {
        Arc::as_ptr(&self.shared)
    }

    /// Puts a task on the ready queue (the local half of waking).
    pub(crate) fn schedule(&self, id: TaskId) {
        self.ready.borrow_mut().push_back(id);
    }

    /// Spawns `fut` as a new task, queued to run.
    pub(crate) fn spawn<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let join = JoinInner::new();
        let waker = self.insert(Box::pin(run_task(fut, join.clone())));
        JoinHandle::new(join, waker)
    }

    /// Stores a task in the slab, queues it, and returns its waker.
    fn insert(&self, future: BoxFuture) -> Waker {
        let generation = self.next_generation.get();
        self.next_generation.set(generation + 1);
        let mut tasks = self.tasks.borrow_mut();
        let entry = tasks.vacant_entry();
        let id = TaskId {
            index: entry.key(),
            generation,
        };
        let header = Arc::new(Header::new_scheduled(id, self.shared.clone()));
        let waker = Waker::from(header.clone());
        entry.insert(Slot {
            generation,
            waker: waker.clone(),
            header,
            future: Some(future),
        });
        self.schedule(id);
        waker
    }

    /// Number of live tasks.
    pub(crate) fn task_count(&self) -> usize {
        self.tasks.borrow().len()
    }

    /// Polls the `block_on` future if it was woken.
    pub(crate) fn poll_main<F: Future>(
        &self,
        fut: std::pin::Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<F::Output> {
        if self.shared.take_main_woken() {
            super::coop::with_budget(|| fut.poll(cx))
        } else {
            Poll::Pending
        }
    }

    /// One iteration of the loop (see the module docs).
    pub(crate) fn tick(&self) {
        self.run_ready();
        if self.is_idle() {
            self.park(self.timers.next_deadline());
        } else {
            self.turn(Some(Duration::ZERO));
        }
    }

    /// Nothing to run: no ready task, main future not woken.
    fn is_idle(&self) -> bool {
        self.ready.borrow().is_empty() && !self.shared.main_woken()
    }

    /// Sleeps until I/O, a wake, or the next timer's `deadline` (`None`: no timer).
    ///
    /// `epoll_wait` counts whole milliseconds (and the kernel may end a timed wait up to
    /// 50 µs late, its default timer slack). Rounding a timer's wait *down* would wake the
    /// loop early, with nothing due; rounding it *up* makes every timer up to 1 ms late.
    /// So the loop arms the reactor's alarm (a `timerfd` on Linux, `alarm.rs`) for the
    /// exact deadline and waits in `Poll` with no timeout of its own: the alarm ends the
    /// wait at that instant, and sockets and remote wakes still end it sooner. The alarm
    /// is set again only when the earliest deadline changed. Where there is no alarm the
    /// loop waits in `Poll` for the whole milliseconds, then checks I/O without blocking
    /// and naps the sub-millisecond rest with `thread::sleep`, deaf to I/O and remote
    /// wakes for that nap.
    fn park(&self, deadline: Option<Instant>) {
        const MS: Duration = Duration::from_millis(1);
        let Some(deadline) = deadline else {
            return self.turn(None);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return self.turn(Some(Duration::ZERO));
        }
        if self.reactor.poll_until(deadline, left) {
            return self.collect();
        }
        if left >= MS {
            let whole_ms = Duration::from_millis(left.as_millis() as u64);
            return self.turn(Some(whole_ms));
        }
        self.turn(Some(Duration::ZERO));
        if self.is_idle() {
            std::thread::sleep(left);
            self.timers.fire_expired();
        }
    }

    /// Polls the reactor, then collects remote wakes, blocking completions and timers.
    fn turn(&self, timeout: Option<Duration>) {
        self.reactor.poll(timeout);
        self.collect();
    }

    /// After a poll: collects remote wakes, injected spawns, blocking completions and
    /// due timers (clearing `notified` first: the no-lost-wake contract).
    fn collect(&self) {
        self.shared.clear_notified();
        self.shared.drain_remote(&mut *self.ready.borrow_mut());
        for job in self.shared.take_injected() {
            job(); // spawns onto this core: the thread is inside `block_on`
        }
        self.blocking.drain_completions();
        self.timers.fire_expired();
    }

    fn run_ready(&self) {
        for _ in 0..BUDGET {
            let next = self.ready.borrow_mut().pop_front();
            match next {
                Some(id) => self.poll_task(id),
                None => return,
            }
        }
    }

    fn poll_task(&self, id: TaskId) {
        let Some((mut future, waker)) = self.take_for_poll(id) else {
            return; // stale id: the task finished, or the slot belongs to a newer task
        };
        let mut cx = Context::from_waker(&waker);
        // `run_task` already catches panics of the user's future; this guards the rest.
        let poll = || super::coop::with_budget(|| future.as_mut().poll(&mut cx));
        let result = catch_unwind(AssertUnwindSafe(poll));
        match result {
            Ok(Poll::Pending) => self.tasks.borrow_mut()[id.index].future = Some(future),
            Ok(Poll::Ready(())) | Err(_) => {
                let slot = self.tasks.borrow_mut().remove(id.index);
                slot.header.close();
                drop(slot);
                drop_quietly(future);
            }
        }
    }

    /// Takes the task's future out of its slot for a poll, and clears its `scheduled`
    /// flag (wakes from now on queue it again). Only the waker is cloned: the header is
    /// reached through the slot, which stays in the slab while the task runs.
    fn take_for_poll(&self, id: TaskId) -> Option<(BoxFuture, Waker)> {
        let mut tasks = self.tasks.borrow_mut();
        let slot = tasks.get_mut(id.index)?;
        if slot.generation != id.generation {
            return None;
        }
        let future = slot.future.take()?;
        slot.header.start_poll();
        Some((future, slot.waker.clone()))
    }

    /// Drops every task (their join handles resolve as cancelled). Dropping a future may
    /// spawn more, so repeat until the slab stays empty.
    pub(crate) fn drop_all_tasks(&self) {
        drop(self.shared.close_injection()); // handles fail from now on
        loop {
            let slots: Vec<Slot> = self.tasks.borrow_mut().drain().collect();
            if slots.is_empty() {
                break;
            }
            for slot in slots {
                slot.header.close();
                if let Some(future) = slot.future {
                    drop_quietly(future);
                }
            }
        }
        self.ready.borrow_mut().clear();
    }
}

/// Drops a task's future; a panic in its destructor is contained like a panic in `poll`.
fn drop_quietly(future: BoxFuture) {
    let _ = catch_unwind(AssertUnwindSafe(move || drop(future)));
}

/// The waker of the `block_on` future.
#[derive(Debug)]
pub(crate) struct MainWaker {
    pub(crate) shared: Arc<Shared>,
}

impl std::task::Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let from_loop = super::context::with_local(&self.shared, |_| ()).is_some();
        self.shared.wake_main(from_loop);
    }
}
