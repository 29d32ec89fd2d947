//! `sync::Semaphore`: FIFO, and no permit is ever lost by a cancelled acquire.

mod util;

use std::pin::pin;

use futures::poll;
use taskloop::sync::{Semaphore, TryAcquireError};
use util::{rt, watchdog};

#[test]
fn a_cancelled_acquire_returns_the_permits_it_was_partly_given() {
    watchdog(|| {
        rt().block_on(async {
            let sem = Semaphore::new(2);
            let held = sem.acquire_many(2).await.unwrap();
            let mut big = Box::pin(sem.acquire_many(3));
            assert!(poll!(big.as_mut()).is_pending());
            let mut small = pin!(sem.acquire());
            assert!(poll!(small.as_mut()).is_pending());
            drop(held); // 2 of the 3 go to `big`; `small` still waits behind it (FIFO)
            assert!(poll!(small.as_mut()).is_pending());
            assert_eq!(sem.available_permits(), 0);
            drop(big); // its 2 permits pass on: 1 to `small`, 1 stays free
            let permit = small.await.unwrap();
            assert_eq!(sem.available_permits(), 1);
            drop(permit);
            assert_eq!(sem.available_permits(), 2);
        })
    });
}

#[test]
fn try_acquire_does_not_jump_the_queue() {
    watchdog(|| {
        rt().block_on(async {
            let sem = Semaphore::new(1);
            let held = sem.acquire().await.unwrap();
            let mut waiting = pin!(sem.acquire_many(1));
            assert!(poll!(waiting.as_mut()).is_pending());
            drop(held);
            assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
            drop(waiting.await.unwrap());
            assert!(sem.try_acquire().is_ok());
        })
    });
}

#[test]
fn closing_fails_waiters_and_later_acquires_but_not_held_permits() {
    watchdog(|| {
        rt().block_on(async {
            let sem = std::rc::Rc::new(Semaphore::new(1));
            let held = sem.acquire().await.unwrap();
            let s = sem.clone();
            let waiter = taskloop::spawn(async move { s.acquire().await.is_err() });
            taskloop::yield_now().await;
            sem.close();
            assert!(waiter.await.unwrap());
            assert!(sem.acquire().await.is_err());
            assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
            drop(held);
            assert_eq!(sem.available_permits(), 1);
        })
    });
}

#[test]
fn many_tasks_never_exceed_the_permits() {
    let peak = watchdog(|| {
        rt().block_on(async {
            let sem = std::sync::Arc::new(Semaphore::new(3));
            let inside = std::rc::Rc::new(std::cell::Cell::new((0, 0)));
            let tasks: Vec<_> = (0..50)
                .map(|_| {
                    let (sem, inside) = (sem.clone(), inside.clone());
                    taskloop::spawn(async move {
                        let _p = sem.acquire_owned().await.unwrap();
                        let (now, peak) = inside.get();
                        inside.set((now + 1, peak.max(now + 1)));
                        taskloop::yield_now().await;
                        let (now, peak) = inside.get();
                        inside.set((now - 1, peak));
                    })
                })
                .collect();
            taskloop::join_all(tasks).await;
            inside.get().1
        })
    });
    assert_eq!(peak, 3);
}
