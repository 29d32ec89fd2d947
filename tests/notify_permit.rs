//! `sync::Notify`: one stored permit, FIFO waking, `notify_waiters`, cancel-safety.

mod util;

use std::cell::RefCell;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;

use futures::poll;
use taskloop::sync::Notify;
use util::{rt, watchdog};

#[test]
fn notify_one_with_nobody_waiting_stores_exactly_one_permit() {
    watchdog(|| {
        rt().block_on(async {
            let notify = Notify::new();
            notify.notify_one();
            notify.notify_one(); // still one permit
            notify.notified().await;
            let mut second = pin!(notify.notified());
            assert!(poll!(second.as_mut()).is_pending());
        })
    });
}

#[test]
fn notify_one_wakes_waiters_in_fifo_order() {
    let order = watchdog(|| {
        rt().block_on(async {
            let notify = Rc::new(Notify::new());
            let order = Rc::new(RefCell::new(Vec::new()));
            let tasks: Vec<_> = (0..4)
                .map(|i| {
                    let (notify, order) = (notify.clone(), order.clone());
                    taskloop::spawn(async move {
                        notify.notified().await;
                        order.borrow_mut().push(i);
                    })
                })
                .collect();
            taskloop::yield_now().await;
            for _ in 0..4 {
                notify.notify_one();
                taskloop::yield_now().await;
            }
            taskloop::join_all(tasks).await;
            let v = order.borrow().clone();
            v
        })
    });
    assert_eq!(order, [0, 1, 2, 3]);
}

#[test]
fn notify_waiters_wakes_everyone_waiting_and_stores_nothing() {
    watchdog(|| {
        rt().block_on(async {
            let notify = Arc::new(Notify::new());
            let tasks: Vec<_> = (0..3)
                .map(|_| {
                    let notify = notify.clone();
                    taskloop::spawn(async move { notify.notified().await })
                })
                .collect();
            let created = notify.notified(); // created, not yet polled: counts too
            taskloop::yield_now().await;
            notify.notify_waiters();
            taskloop::join_all(tasks).await;
            created.await;
            let mut later = pin!(notify.notified());
            assert!(poll!(later.as_mut()).is_pending());
        })
    });
}

#[test]
fn a_chosen_waiter_dropped_before_it_saw_the_notification_passes_it_on() {
    watchdog(|| {
        rt().block_on(async {
            let notify = Notify::new();
            let mut first = Box::pin(notify.notified());
            assert!(poll!(first.as_mut()).is_pending());
            let mut second = pin!(notify.notified());
            assert!(poll!(second.as_mut()).is_pending());
            notify.notify_one(); // chooses `first`
            drop(first);
            assert!(poll!(second.as_mut()).is_ready());
        })
    });
}

#[test]
fn a_notification_from_another_thread_wakes_the_loop() {
    watchdog(|| {
        rt().block_on(async {
            let notify = Arc::new(Notify::new());
            let n = notify.clone();
            let t = std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                n.notify_one();
            });
            notify.notified().await;
            t.join().unwrap();
        })
    });
}
