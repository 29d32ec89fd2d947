//! Workload 7: Mutex contention. [`MUTEX_TASKS`] tasks each take one shared async mutex
//! [`MUTEX_ROUNDS`] times, and while holding it yield to the runtime once before
//! incrementing the counter. Holding the lock across a yield means every other task is
//! queued on it most of the time: each round is a hand-off to a waiter (for taskloop and
//! tokio, the next in FIFO order), not an uncontended lock.

use super::{MUTEX_ROUNDS, MUTEX_TASKS};
use crate::Sample;
use std::future::Future;
use std::rc::Rc;
use std::time::Instant;

const EXPECTED: u64 = (MUTEX_TASKS * MUTEX_ROUNDS) as u64;

pub fn taskloop(rt: &taskloop::Runtime) -> Sample {
    rt.block_on(async {
        let start = Instant::now();
        let mutex = Rc::new(taskloop::sync::Mutex::new(0u64));
        let handles: Vec<_> = (0..MUTEX_TASKS)
            .map(|_| {
                let mutex = mutex.clone();
                taskloop::spawn(async move {
                    for _ in 0..MUTEX_ROUNDS {
                        let mut n = mutex.lock().await;
                        taskloop::yield_now().await;
                        *n += 1;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.expect("taskloop task failed");
        }
        assert_eq!(*mutex.lock().await, EXPECTED);
        Sample::time(start.elapsed())
    })
}

pub fn tokio(rt: &tokio::runtime::Runtime) -> Sample {
    rt.block_on(async {
        let start = Instant::now();
        let mutex = std::sync::Arc::new(tokio::sync::Mutex::new(0u64));
        let handles: Vec<_> = (0..MUTEX_TASKS)
            .map(|_| {
                let mutex = mutex.clone();
                tokio::spawn(async move {
                    for _ in 0..MUTEX_ROUNDS {
                        let mut n = mutex.lock().await;
                        tokio::task::yield_now().await;
                        *n += 1;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.expect("tokio task failed");
        }
        assert_eq!(*mutex.lock().await, EXPECTED);
        Sample::time(start.elapsed())
    })
}

pub fn smol(ex: &smol::LocalExecutor<'_>) -> Sample {
    smol::block_on(ex.run(async {
        let start = Instant::now();
        let mutex = Rc::new(smol::lock::Mutex::new(0u64));
        let handles: Vec<_> = (0..MUTEX_TASKS)
            .map(|_| {
                let mutex = mutex.clone();
                ex.spawn(contend(mutex, smol::future::yield_now))
            })
            .collect();
        for h in handles {
            h.await;
        }
        assert_eq!(*mutex.lock().await, EXPECTED);
        Sample::time(start.elapsed())
    }))
}

/// smol's task body (its mutex guard is `!Send`-agnostic; the executor is local).
async fn contend<Y: Future>(mutex: Rc<smol::lock::Mutex<u64>>, yield_now: impl Fn() -> Y) {
    for _ in 0..MUTEX_ROUNDS {
        let mut n = mutex.lock().await;
        yield_now().await;
        *n += 1;
    }
}
