//! Workload 2: [`YIELD_TASKS`] tasks, each yielding [`YIELDS_PER_TASK`] times.

use super::{YIELDS_PER_TASK, YIELD_TASKS};
use crate::Sample;
use std::future::Future;
use std::time::Instant;

/// The task body, shared by all runtimes: `yield_now` is the runtime's own.
async fn yielder<Y: Future>(yield_now: impl Fn() -> Y) {
    for _ in 0..YIELDS_PER_TASK {
        yield_now().await;
    }
}

pub fn taskloop(rt: &taskloop::Runtime) -> Sample {
    rt.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| taskloop::spawn(yielder(taskloop::yield_now)))
            .collect();
        for h in handles {
            h.await.expect("taskloop task failed");
        }
        Sample::time(start.elapsed())
    })
}

pub fn tokio(rt: &tokio::runtime::Runtime) -> Sample {
    rt.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| tokio::spawn(yielder(tokio::task::yield_now)))
            .collect();
        for h in handles {
            h.await.expect("tokio task failed");
        }
        Sample::time(start.elapsed())
    })
}

pub fn smol(ex: &smol::LocalExecutor<'_>) -> Sample {
    smol::block_on(ex.run(async {
        let start = Instant::now();
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| ex.spawn(yielder(smol::future::yield_now)))
            .collect();
        for h in handles {
            h.await;
        }
        Sample::time(start.elapsed())
    }))
}
