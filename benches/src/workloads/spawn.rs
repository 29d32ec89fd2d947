//! Workload 1: spawn [`SPAWN_TASKS`] empty tasks, then await every handle.

use super::SPAWN_TASKS;
use crate::Sample;
use std::time::Instant;

pub fn taskloop(rt: &taskloop::Runtime) -> Sample {
    rt.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = (0..SPAWN_TASKS)
            .map(|_| taskloop::spawn(async {}))
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
        let handles: Vec<_> = (0..SPAWN_TASKS).map(|_| tokio::spawn(async {})).collect();
        for h in handles {
            h.await.expect("tokio task failed");
        }
        Sample::time(start.elapsed())
    })
}

pub fn smol(ex: &smol::LocalExecutor<'_>) -> Sample {
    smol::block_on(ex.run(async {
        let start = Instant::now();
        let handles: Vec<_> = (0..SPAWN_TASKS).map(|_| ex.spawn(async {})).collect();
        for h in handles {
            h.await;
        }
        Sample::time(start.elapsed())
    }))
}
