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

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::blocking::BlockingPool;
use super::join::{JoinError, JoinHandle};
use super::reactor::Reactor;
use super::shared::Shared;
use super::task::{drop_quietly, BoxFuture, Output, Taken, TaskId, Tasks};
use super::timer::Timers;

/// How many task polls the loop makes before it checks I/O and timers again.
/// Bounds how long a busy ready queue can delay I/O, timers and the main future.
const BUDGET: usize = 256;

/// The loop thread's half of the runtime.
#[derive(Debug)]
pub(crate) struct Core {
    shared: Arc<Shared>,
    /// Shared with the join handles, which may outlive the core.
    tasks: Rc<Tasks>,
    ready: RefCell<VecDeque<TaskId>>,
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
            tasks: Rc::new(Tasks::new()),
            ready: RefCell::new(VecDeque::new()),
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

    /// Spawns `fut` as a new task, queued to run. One allocation: the boxed future (the
    /// join state lives in the task's slot, the header usually comes from the pool).
    pub(crate) fn spawn<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let future: BoxFuture = Box::pin(async move { Box::new(fut.await) as Output });
        let id = self.tasks.insert(future, &self.shared);
        self.schedule(id);
        JoinHandle::new(self.tasks.clone(), id)
    }

    /// Number of live tasks.
    pub(crate) fn task_count(&self) -> usize {
        self.tasks.live()
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
            // spawns onto this core (the thread is inside `block_on`); a job that
            // panics must not take the loop or the rest of the batch with it
            let _ = catch_unwind(AssertUnwindSafe(job));
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
        let (mut future, waker) = match self.tasks.take_for_poll(id) {
            Some(Taken::Poll(future, waker)) => (future, waker),
            Some(Taken::Aborted(future)) => return drop_quietly(future),
            None => return, // stale id: the task finished, or the slot belongs to a newer task
        };
        let mut cx = Context::from_waker(&waker);
        let poll = || super::coop::with_budget(|| future.as_mut().poll(&mut cx));
        let result = catch_unwind(AssertUnwindSafe(poll));
        drop(waker); // before `finish`, so that an unreferenced header can be reused
        match result {
            Ok(Poll::Pending) => self.tasks.put_back(id, future),
            Ok(Poll::Ready(output)) => {
                self.tasks.finish(id, Ok(output));
                drop_quietly(future);
            }
            Err(payload) => {
                self.tasks.finish(id, Err(JoinError::panic(payload)));
                drop_quietly(future);
            }
        }
    }

    /// Drops every task (their join handles resolve as cancelled). Dropping a future may
    /// spawn more, so repeat until none is left.
    pub(crate) fn drop_all_tasks(&self) {
        drop(self.shared.close_injection()); // handles fail from now on
        while self.tasks.cancel_all() {}
        self.ready.borrow_mut().clear();
    }
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
