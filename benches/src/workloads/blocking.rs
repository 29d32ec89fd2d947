//! Workload 4: [`BLOCKING_BATCHES`] batches of [`BLOCKING_BATCH_SIZE`] no-op blocking jobs;
//! each batch is spawned at once and fully awaited before the next one starts.

use super::{BLOCKING_BATCHES, BLOCKING_BATCH_SIZE};
use crate::Sample;
use std::future::Future;
use std::time::Instant;

/// The batch loop, shared by all runtimes. `spawn_one` must start its blocking job right away
/// (not when the returned future is first polled) and return a future that awaits it.
async fn run_batches<H: Future<Output = ()>>(spawn_one: impl Fn() -> H) {
    for _ in 0..BLOCKING_BATCHES {
        let batch: Vec<H> = (0..BLOCKING_BATCH_SIZE).map(|_| spawn_one()).collect();
        for job in batch {
            job.await;
        }
    }
}

fn noop() {}

pub fn taskloop(rt: &taskloop::Runtime) -> Sample {
    rt.block_on(async {
        let start = Instant::now();
        run_batches(|| {
            let h = taskloop::spawn_blocking(noop);
            async move { h.await.expect("taskloop blocking job failed") }
        })
        .await;
        Sample::time(start.elapsed())
    })
}

pub fn tokio(rt: &tokio::runtime::Runtime) -> Sample {
    rt.block_on(async {
        let start = Instant::now();
        run_batches(|| {
            let h = tokio::task::spawn_blocking(noop);
            async move { h.await.expect("tokio blocking job failed") }
        })
        .await;
        Sample::time(start.elapsed())
    })
}

pub fn smol(ex: &smol::LocalExecutor<'_>) -> Sample {
    smol::block_on(ex.run(async {
        let start = Instant::now();
        run_batches(|| smol::unblock(noop)).await;
        Sample::time(start.elapsed())
    }))
}
