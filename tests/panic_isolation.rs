//! A panic in one task (or blocking job, or destructor) fails only that task: the loop
//! and every other task go on.

mod util;

use std::time::Duration;

use util::{rt, watchdog};

/// Panics when dropped.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("boom in drop");
    }
}

#[test]
fn a_panicking_task_reports_its_message_through_the_join_handle() {
    let err = watchdog(|| {
        rt().block_on(async {
            let handle = taskloop::spawn(async {
                taskloop::yield_now().await;
                panic!("task exploded: {}", 42);
            });
            handle.await.unwrap_err()
        })
    });
    assert!(err.is_panic());
    assert!(!err.is_cancelled());
    assert_eq!(err.panic_message(), Some("task exploded: 42"));
    assert!(err.to_string().contains("task exploded: 42"), "{err}");
}

#[test]
fn other_tasks_and_the_loop_keep_going_after_a_panic() {
    let outputs = watchdog(|| {
        let rt = rt();
        let outputs = rt.block_on(async {
            let handles: Vec<_> = (0..10)
                .map(|i| {
                    taskloop::spawn(async move {
                        taskloop::sleep(Duration::from_millis(i)).await;
                        if i % 3 == 0 {
                            panic!("task {i} panics");
                        }
                        i
                    })
                })
                .collect();
            taskloop::join_all(handles).await
        });
        // The same runtime still runs new work afterwards.
        let after = rt.block_on(async { taskloop::spawn(async { "still alive" }).await });
        assert_eq!(after, Ok("still alive"));
        outputs
    });
    for (i, out) in outputs.into_iter().enumerate() {
        match out {
            Ok(v) => assert_eq!(v, i as u64),
            Err(e) => {
                assert_eq!(i % 3, 0, "only every third task panics");
                assert_eq!(e.panic_message(), Some(format!("task {i} panics").as_str()));
            }
        }
    }
}

#[test]
fn a_panicking_blocking_job_reports_its_message_and_the_pool_keeps_working() {
    let (err, after) = watchdog(|| {
        rt().block_on(async {
            let failed = taskloop::spawn_blocking(|| -> u32 { panic!("job failed") });
            let err = failed.await.unwrap_err();
            let after: Vec<_> = (0..8)
                .map(|i| taskloop::spawn_blocking(move || i))
                .collect();
            let after: Vec<u32> = taskloop::join_all(after)
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
            (err, after)
        })
    });
    assert!(err.is_panic());
    assert!(err.to_string().contains("job failed"), "{err}");
    assert_eq!(after, (0..8).collect::<Vec<_>>());
}

#[test]
fn a_panic_in_a_destructor_during_abort_does_not_stop_the_loop() {
    let (err, other) = watchdog(|| {
        rt().block_on(async {
            let doomed = taskloop::spawn(async {
                let _bomb = PanicOnDrop;
                std::future::pending::<()>().await;
            });
            let bystander = taskloop::spawn(async {
                taskloop::sleep(Duration::from_millis(5)).await;
                "bystander done"
            });
            taskloop::yield_now().await;
            doomed.abort();
            (doomed.await.unwrap_err(), bystander.await)
        })
    });
    assert!(err.is_cancelled());
    assert_eq!(other, Ok("bystander done"));
}

#[test]
fn a_panic_in_a_destructor_as_a_task_finishes_is_that_tasks_panic() {
    let (err, after) = watchdog(|| {
        rt().block_on(async {
            let err = taskloop::spawn(async {
                let _bomb = PanicOnDrop;
                taskloop::yield_now().await;
                5
            })
            .await
            .unwrap_err();
            (err, taskloop::spawn(async { 6 }).await)
        })
    });
    assert_eq!(err.panic_message(), Some("boom in drop"));
    assert_eq!(after, Ok(6));
}

#[test]
fn a_panicking_spawn_with_closure_fails_only_its_own_handle() {
    let (first, second, third) = watchdog(|| {
        let rt = rt();
        let handle = rt.handle();
        // Three remote spawns injected as one batch, the middle one's closure panics
        // before it makes its future.
        let spawns = std::thread::spawn(move || {
            let a = handle.spawn_with(|| async { 1 }).unwrap();
            let b = handle
                .spawn_with(|| -> std::future::Ready<i32> { panic!("make exploded") })
                .unwrap();
            let c = handle.spawn_with(|| async { 3 }).unwrap();
            (a, b, c)
        })
        .join()
        .unwrap();
        rt.block_on(async move {
            let (a, b, c) = spawns;
            (a.await, b.await, c.await)
        })
    });
    assert_eq!(first.unwrap(), 1);
    let err = second.unwrap_err();
    assert!(
        err.is_panic() && err.panic_message() == Some("make exploded"),
        "{err}"
    );
    assert_eq!(third.unwrap(), 3, "the rest of the batch still ran");
}

#[test]
fn a_detached_tasks_output_that_panics_when_dropped_does_not_reach_block_on() {
    let done = watchdog(|| {
        rt().block_on(async {
            drop(taskloop::spawn(async { PanicOnDrop }));
            for _ in 0..3 {
                taskloop::yield_now().await;
            }
            taskloop::spawn(async { "still running" }).await.unwrap()
        })
    });
    assert_eq!(done, "still running");
}
