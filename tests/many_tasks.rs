//! The loop copes with a great many tasks at once.

mod util;

use util::{rt, watchdog};

const TASKS: u64 = 100_000;

#[test]
fn a_hundred_thousand_tasks_all_run_and_join() {
    let sum = watchdog(|| {
        rt().block_on(async {
            let handles: Vec<_> = (0..TASKS)
                .map(|i| {
                    taskloop::spawn(async move {
                        taskloop::yield_now().await;
                        i
                    })
                })
                .collect();
            let mut sum = 0;
            for handle in handles {
                sum += handle.await.unwrap();
            }
            sum
        })
    });
    assert_eq!(sum, TASKS * (TASKS - 1) / 2);
}

#[test]
fn a_hundred_thousand_tasks_joined_with_join_all_keep_their_order() {
    let outputs = watchdog(|| {
        rt().block_on(async {
            let handles = (0..TASKS).map(|i| taskloop::spawn(async move { i * 2 }));
            taskloop::join_all(handles).await
        })
    });
    assert_eq!(outputs.len(), TASKS as usize);
    assert!(outputs
        .into_iter()
        .enumerate()
        .all(|(i, out)| out == Ok(i as u64 * 2)));
}
