//! What reaches a flow from other threads: cancellation and progress.
//!
//! Both travel through one [`Remote`]: an inbox behind a mutex, and the waker of the
//! flow's driver task. A sender fills the inbox, then wakes the driver; the driver
//! empties the inbox each time it runs. Runtime wakers may be woken from any thread, so
//! this is all a worker thread, or a Ctrl-C handler, needs.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;

use super::status::JobId;
use crate::runtime::lock;

/// Requests waiting for the driver.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    pub(crate) cancel_all: bool,
    pub(crate) cancel: Vec<usize>,
    /// Latest progress per job, oldest report first.
    pub(crate) progress: Vec<(usize, f64, String)>,
}

/// The thread-safe mailbox of one flow.
#[derive(Debug, Default)]
pub(crate) struct Remote {
    inbox: Mutex<Inbox>,
    /// Set when the inbox gets mail, cleared when it is emptied: lets the scheduler
    /// check for requests between jobs without taking the lock.
    mail: AtomicBool,
    driver: Mutex<Option<Waker>>,
    /// Outstanding [`RunHold`]s: a run does not end while any is held.
    holds: AtomicUsize,
}

impl Remote {
    /// Changes the inbox, then wakes the driver (if a run is under way).
    pub(crate) fn send(&self, f: impl FnOnce(&mut Inbox)) {
        f(&mut lock(&self.inbox));
        self.mail.store(true, Ordering::Release);
        let waker = lock(&self.driver).clone();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Empties the inbox.
    pub(crate) fn take(&self) -> Inbox {
        let mut inbox = lock(&self.inbox);
        self.mail.store(false, Ordering::Release);
        std::mem::take(&mut *inbox)
    }

    /// Whether requests wait in the inbox.
    pub(crate) fn has_mail(&self) -> bool {
        self.mail.load(Ordering::Acquire)
    }

    /// Whether a [`RunHold`] keeps the run open.
    pub(crate) fn is_held(&self) -> bool {
        self.holds.load(Ordering::Acquire) > 0
    }

    /// Sets (or, with `None`, clears) the driver's waker.
    pub(crate) fn set_driver(&self, waker: Option<&Waker>) {
        let mut slot = lock(&self.driver);
        match (waker, &*slot) {
            (Some(new), Some(old)) if old.will_wake(new) => {}
            _ => *slot = waker.cloned(),
        }
    }

    fn report_progress(&self, job: usize, fraction: f64, message: String) {
        let fraction = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        self.send(|inbox| {
            inbox.progress.retain(|(j, _, _)| *j != job);
            inbox.progress.push((job, fraction, message));
        });
    }
}

/// Cancels a flow or some of its jobs, from any thread (`Send + Sync + Clone`).
///
/// Cancelling the flow cancels every job that has not finished: running async bodies
/// are dropped, running blocking bodies have their results discarded, and pending jobs
/// never start. A request made while no run is under way takes effect when the next
/// run starts.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use taskloop::flow::{Flow, JobStatus};
/// let mut flow = Flow::new();
/// let slow = flow.job("slow", || std::thread::sleep(Duration::from_millis(50)));
/// let cancel = flow.cancel_handle();
/// std::thread::spawn(move || cancel.cancel());
/// flow.run();
/// assert!(matches!(slow.status(), JobStatus::Cancelled | JobStatus::Done));
/// ```
#[derive(Debug, Clone)]
pub struct CancelHandle {
    pub(crate) remote: Arc<Remote>,
}

impl CancelHandle {
    /// Cancels every unfinished job of the flow.
    pub fn cancel(&self) {
        self.remote.send(|inbox| inbox.cancel_all = true);
    }

    /// Cancels one job; its dependents are skipped as upstream-failed.
    pub fn cancel_job(&self, job: JobId) {
        self.remote.send(|inbox| inbox.cancel.push(job.0));
    }
}

/// Reports a running job's progress to its flow's observers. Obtain one with
/// [`Progress::current`] inside a job body; it is `Send`, so it may be handed to threads
/// or tasks the body starts.
#[derive(Debug, Clone)]
pub struct Progress {
    remote: Arc<Remote>,
    job: usize,
}

thread_local! {
    static CURRENT_JOB: RefCell<Option<Progress>> = const { RefCell::new(None) };
}

/// The job of a [`Progress`] that names none: installed by the scheduler around its
/// launches (see [`Progress::idle_scope`]), never seen by [`Progress::current`].
const NO_JOB: usize = usize::MAX;

impl Progress {
    pub(crate) fn new(remote: Arc<Remote>, job: usize) -> Progress {
        Progress { remote, job }
    }

    /// Points this handle at job `job` (the scheduler reuses one handle for the local
    /// bodies it runs inline).
    pub(crate) fn set_job(&mut self, job: usize) {
        self.job = job;
    }

    /// The progress handle of the job body running on this thread: inside a blocking
    /// body (on its worker thread), a local body, or while an async body is being polled.
    pub fn current() -> Option<Progress> {
        CURRENT_JOB.with(|c| c.borrow().clone().filter(|p| p.job != NO_JOB))
    }

    /// Reports `fraction` (clamped to `0.0..=1.0`) done, with a message.
    pub fn report(&self, fraction: f64, message: impl Into<String>) {
        self.remote
            .report_progress(self.job, fraction, message.into());
    }

    /// Asks the flow to cancel this job, as [`CancelHandle::cancel_job`] does: for a body
    /// that learns its remote work was stopped by someone else.
    #[cfg_attr(not(feature = "ray"), allow(dead_code))]
    pub(crate) fn cancel_job(&self) {
        self.remote.send(|inbox| inbox.cancel.push(self.job));
    }

    /// Keeps the flow's run open until the returned guard is dropped, for a job that must
    /// clean up after itself (stop its remote work and see it stopped) once it has been
    /// cancelled or has timed out: `Flow::run` returns only when every hold is released.
    #[cfg_attr(not(feature = "ray"), allow(dead_code))]
    pub(crate) fn hold_run(&self) -> RunHold {
        self.remote.holds.fetch_add(1, Ordering::AcqRel);
        RunHold {
            remote: self.remote.clone(),
        }
    }

    /// Runs `f` with this job as the thread's current job.
    ///
    /// If this flow's handle is installed already (the scheduler's idle one), only the
    /// job it names changes: no reference count moves, which matters for the many small
    /// local bodies a run may call inline.
    pub(crate) fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let previous = CURRENT_JOB.with(|c| match &mut *c.borrow_mut() {
            Some(current) if Arc::ptr_eq(&current.remote, &self.remote) => {
                Previous::Job(std::mem::replace(&mut current.job, self.job))
            }
            slot => Previous::Handle(slot.replace(self.clone())),
        });
        let _restore = Restore(Some(previous));
        f()
    }

    /// Runs `f` with a handle of this flow installed that names no job (so
    /// [`current`](Progress::current) still says `None`), making the
    /// [`scope`](Progress::scope)s of this flow's jobs inside `f` cheap.
    pub(crate) fn idle_scope<R>(remote: &Arc<Remote>, f: impl FnOnce() -> R) -> R {
        Progress::new(remote.clone(), NO_JOB).scope(f)
    }
}

/// What a [`Progress::scope`] replaced, to put back when it ends.
enum Previous {
    /// The job of the handle that stays installed.
    Job(usize),
    /// The whole handle (or none).
    Handle(Option<Progress>),
}

/// Keeps a flow's run open while it lives (see [`Progress::hold_run`]); dropping it
/// wakes the flow's driver so the run can end.
#[derive(Debug)]
pub(crate) struct RunHold {
    remote: Arc<Remote>,
}

impl Drop for RunHold {
    fn drop(&mut self) {
        self.remote.holds.fetch_sub(1, Ordering::AcqRel);
        self.remote.send(|_| {});
    }
}

struct Restore(Option<Previous>);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = CURRENT_JOB.try_with(|c| match self.0.take() {
            Some(Previous::Job(job)) => {
                if let Some(current) = &mut *c.borrow_mut() {
                    current.job = job;
                }
            }
            Some(Previous::Handle(previous)) => drop(c.replace(previous)),
            None => {}
        });
    }
}

/// Reports progress of the job body running on this thread; does nothing outside a job
/// body. See [`Progress::current`] for where a body "runs".
///
/// # Examples
/// ```
/// use taskloop::flow::{progress, Flow};
/// let mut flow = Flow::new();
/// let job = flow.job("count", || {
///     for i in 0..4 {
///         progress(i as f64 / 4.0, format!("step {i}"));
///     }
///     4
/// });
/// flow.run();
/// assert_eq!(*job.result().unwrap(), 4);
/// ```
pub fn progress(fraction: f64, message: impl Into<String>) {
    if let Some(p) = Progress::current() {
        p.report(fraction, message);
    }
}
