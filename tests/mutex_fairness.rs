//! `sync::Mutex`: exclusive, FIFO, and a cancelled `lock()` never keeps the lock.

mod util;

use std::cell::RefCell;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;

use futures::poll;
use taskloop::sync::Mutex;
use util::{rt, watchdog};

#[test]
fn waiters_get_the_lock_in_the_order_they_asked() {
    let order = watchdog(|| {
        rt().block_on(async {
            let mutex = Rc::new(Mutex::new(Vec::new()));
            let guard = mutex.lock().await;
            let tasks: Vec<_> = (0..6)
                .map(|i| {
                    let mutex = mutex.clone();
                    taskloop::spawn(async move {
                        let mut v = mutex.lock().await;
                        taskloop::yield_now().await; // held across an await
                        v.push(i);
                    })
                })
                .collect();
            taskloop::yield_now().await; // all six queue, in spawn order
            assert!(mutex.try_lock().is_err());
            drop(guard);
            taskloop::join_all(tasks).await;
            let v = mutex.lock().await.clone();
            v
        })
    });
    assert_eq!(order, [0, 1, 2, 3, 4, 5]);
}

#[test]
fn a_waiting_lock_dropped_after_it_was_granted_passes_the_lock_on() {
    watchdog(|| {
        rt().block_on(async {
            let mutex = Mutex::new(0);
            let guard = mutex.lock().await;
            let mut first = Box::pin(mutex.lock());
            assert!(poll!(first.as_mut()).is_pending());
            let mut second = pin!(mutex.lock());
            assert!(poll!(second.as_mut()).is_pending());
            drop(guard); // the lock goes to `first`, which is never polled again...
            drop(first); // ...and dropping it hands the lock to `second`
            let mut g = second.await;
            *g += 1;
        })
    });
}

#[test]
fn tasks_and_threads_increment_under_the_lock_without_losing_updates() {
    let n = watchdog(|| {
        let mutex = Arc::new(Mutex::new(0u64));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let mutex = mutex.clone();
                std::thread::spawn(move || {
                    rt().block_on(async move {
                        for _ in 0..500 {
                            let mut g = mutex.lock().await;
                            let v = *g;
                            taskloop::yield_now().await;
                            *g = v + 1;
                        }
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        Arc::try_unwrap(mutex).unwrap().into_inner()
    });
    assert_eq!(n, 1_000);
}

#[test]
fn a_panic_while_holding_the_guard_unlocks_and_keeps_the_value() {
    watchdog(|| {
        rt().block_on(async {
            let mutex = Rc::new(Mutex::new(RefCell::new(1)));
            let m = mutex.clone();
            let task = taskloop::spawn(async move {
                let g = m.lock().await;
                *g.borrow_mut() = 2;
                panic!("boom while locked");
            });
            assert!(task.await.unwrap_err().is_panic());
            assert_eq!(*mutex.try_lock().unwrap().borrow(), 2);
        })
    });
}
