//! The blocking pool: jobs run off the loop thread, as many at once as it has workers,
//! and the rest wait their turn.

mod util;

use std::sync::{Arc, Barrier};
use std::thread;

use taskloop::Runtime;
use util::{rt, watchdog};

fn rt_with_workers(n: usize) -> Runtime {
    Runtime::builder().blocking_threads(n).build().unwrap()
}

#[test]
fn blocking_jobs_return_their_results() {
    let (sum, name) = watchdog(|| {
        rt().block_on(async {
            let sum = taskloop::spawn_blocking(|| (1..=1000u64).sum::<u64>());
            let name = taskloop::spawn_blocking(|| thread::current().name().map(String::from));
            (sum.await.unwrap(), name.await.unwrap())
        })
    });
    assert_eq!(sum, 500_500);
    let name = name.expect("workers are named");
    assert!(name.starts_with("taskloop-blocking-"), "ran on {name}");
}

#[test]
fn two_workers_run_two_jobs_at_the_same_time() {
    // Each job waits for one other job at the barrier: they can only finish if two run
    // at once. Run one at a time, they would wait forever (and the watchdog would fail).
    let done = watchdog(|| {
        let barrier = Arc::new(Barrier::new(2));
        rt_with_workers(2).block_on(async {
            let jobs = (0..4).map(|i| {
                let barrier = barrier.clone();
                taskloop::spawn_blocking(move || {
                    barrier.wait();
                    i
                })
            });
            taskloop::join_all(jobs).await
        })
    });
    assert_eq!(done, [Ok(0), Ok(1), Ok(2), Ok(3)]);
}

#[test]
fn jobs_beyond_the_pool_size_queue_and_all_complete() {
    let (results, workers_used) = watchdog(|| {
        rt_with_workers(2).block_on(async {
            let jobs = (0..50u64).map(|i| {
                taskloop::spawn_blocking(move || {
                    (i * i, thread::current().name().unwrap().to_string())
                })
            });
            let outs: Vec<_> = taskloop::join_all(jobs)
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
            let mut workers: Vec<String> = outs.iter().map(|(_, w)| w.clone()).collect();
            workers.sort();
            workers.dedup();
            (
                outs.into_iter().map(|(v, _)| v).collect::<Vec<_>>(),
                workers.len(),
            )
        })
    });
    assert_eq!(results, (0..50).map(|i| i * i).collect::<Vec<_>>());
    assert!(workers_used <= 2, "only the pool's two workers run jobs");
}

#[test]
fn the_loop_keeps_running_tasks_while_a_job_blocks() {
    watchdog(|| {
        rt_with_workers(1).block_on(async {
            let (release, wait) = std::sync::mpsc::channel::<()>();
            let job = taskloop::spawn_blocking(move || wait.recv().unwrap());
            // This task runs on the loop while the job's worker is blocked.
            let ticker = taskloop::spawn(async {
                for _ in 0..10 {
                    taskloop::yield_now().await;
                }
                "ticked"
            });
            assert_eq!(ticker.await, Ok("ticked"));
            assert!(!job.is_finished());
            release.send(()).unwrap();
            job.await.unwrap();
        });
    });
}

#[test]
fn tasks_spawned_by_tasks_can_chain_blocking_jobs() {
    let total = watchdog(|| {
        rt().block_on(async {
            let outer = taskloop::spawn(async {
                let parts = (0..4u64).map(|i| {
                    taskloop::spawn(async move {
                        let a = taskloop::spawn_blocking(move || i * 10).await.unwrap();
                        // A second job that needs the first one's result.
                        taskloop::spawn_blocking(move || a + 1).await.unwrap()
                    })
                });
                taskloop::join_all(parts).await
            });
            outer
                .await
                .unwrap()
                .into_iter()
                .map(Result::unwrap)
                .sum::<u64>()
        })
    });
    assert_eq!(total, 1 + 11 + 21 + 31);
}
