//! A waiting future first polled with one waker and then awaited by a task (a new waker)
//! must wake that task: every primitive replaces the waker it stored. If one kept the
//! first waker, the task would never wake and the watchdog would call the test hung.

mod util;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::task::noop_waker;
use taskloop::sync::{mpsc, oneshot, Mutex, Notify, Semaphore};
use util::{rt, watchdog};

/// Polls `fut` once with a waker that does nothing; it must be pending.
fn poll_with_a_dead_waker<F: Future + Unpin>(fut: &mut F) {
    let waker = noop_waker();
    let pending = Pin::new(fut).poll(&mut Context::from_waker(&waker));
    assert!(matches!(pending, Poll::Pending));
}

/// Runs `release` as another task, after this task has parked.
fn later(release: impl FnOnce() + 'static) {
    taskloop::spawn(async move {
        taskloop::yield_now().await;
        release();
    });
}

#[test]
fn mutex_semaphore_and_notify_waiters_wake_the_task_that_awaits_them_last() {
    watchdog(|| {
        rt().block_on(async {
            // Leaked so that the releasing task may hold borrows of them.
            let mutex: &'static Mutex<i32> = Box::leak(Box::new(Mutex::new(0)));
            let held = mutex.lock().await;
            let mut lock = Box::pin(mutex.lock());
            poll_with_a_dead_waker(&mut lock);
            later(move || drop(held));
            *lock.await += 1;

            let sem: &'static Semaphore = Box::leak(Box::new(Semaphore::new(0)));
            let mut acquire = Box::pin(sem.acquire());
            poll_with_a_dead_waker(&mut acquire);
            later(|| sem.add_permits(1));
            assert!(acquire.await.is_ok());

            let notify: &'static Notify = Box::leak(Box::new(Notify::new()));
            let mut notified = Box::pin(notify.notified());
            poll_with_a_dead_waker(&mut notified);
            later(|| notify.notify_one());
            notified.await;
        })
    });
}

#[test]
fn channel_receivers_wake_the_task_that_awaits_them_last() {
    watchdog(|| {
        rt().block_on(async {
            let (tx, mut rx) = mpsc::channel(1);
            let mut recv = Box::pin(rx.recv());
            poll_with_a_dead_waker(&mut recv);
            later(move || tx.try_send(1).unwrap());
            assert_eq!(recv.await, Some(1));

            let (tx, mut rx) = oneshot::channel();
            poll_with_a_dead_waker(&mut rx);
            let thread = std::thread::spawn(move || tx.send("from a thread").unwrap());
            assert_eq!(rx.await, Ok("from a thread"));
            thread.join().unwrap();
        })
    });
}
