//! `JoinSet`: outcomes in finishing order, panics and aborts reported, abort on drop.

mod util;

use std::time::Duration;

use taskloop::sync::oneshot;
use taskloop::JoinSet;
use util::{drop_flag, pending_until_dropped, rt, watchdog};

#[test]
fn join_next_returns_tasks_in_the_order_they_finish() {
    let order = watchdog(|| {
        rt().block_on(async {
            let mut set = JoinSet::new();
            let mut senders = Vec::new();
            for i in 0..4 {
                let (tx, rx) = oneshot::channel::<()>();
                senders.push(tx);
                set.spawn(async move {
                    rx.await.unwrap();
                    i
                });
            }
            let mut order = Vec::new();
            for i in [2, 0, 3, 1] {
                // finish them one at a time, in an order of our choosing
                let tx = std::mem::replace(&mut senders[i], oneshot::channel().0);
                tx.send(()).unwrap();
                order.push(set.join_next().await.unwrap().unwrap());
            }
            assert!(set.join_next().await.is_none());
            order
        })
    });
    assert_eq!(order, [2, 0, 3, 1]);
}

#[test]
fn panics_and_aborts_come_back_as_join_errors() {
    watchdog(|| {
        rt().block_on(async {
            let mut set = JoinSet::new();
            set.spawn(async { panic!("member panicked") });
            let outcome = set.join_next().await.unwrap();
            assert_eq!(
                outcome.unwrap_err().panic_message(),
                Some("member panicked")
            );

            set.spawn(async {
                taskloop::sleep(Duration::from_secs(3600)).await;
            });
            set.spawn(async {
                taskloop::sleep(Duration::from_secs(3600)).await;
            });
            set.abort_all();
            let mut cancelled = 0;
            while let Some(outcome) = set.join_next().await {
                cancelled += outcome.unwrap_err().is_cancelled() as usize;
            }
            assert_eq!(cancelled, 2);
            assert!(set.is_empty());
        })
    });
}

#[test]
fn dropping_the_set_aborts_every_task_in_it() {
    watchdog(|| {
        rt().block_on(async {
            let (flag, dropped) = drop_flag();
            let mut set = JoinSet::new();
            set.spawn(pending_until_dropped(flag));
            taskloop::yield_now().await;
            assert_eq!(set.len(), 1);
            drop(set);
            while !dropped.get() {
                taskloop::yield_now().await;
            }
        })
    });
}

#[test]
fn shutdown_waits_until_every_task_is_gone() {
    watchdog(|| {
        rt().block_on(async {
            let (flag, dropped) = drop_flag();
            let mut set = JoinSet::new();
            set.spawn(pending_until_dropped(flag));
            set.spawn(async {});
            set.shutdown().await;
            assert!(dropped.get());
            assert!(set.is_empty());
        })
    });
}

#[test]
fn blocking_jobs_join_the_set_and_try_join_next_does_not_wait() {
    watchdog(|| {
        rt().block_on(async {
            let mut set = JoinSet::new();
            assert!(set.try_join_next().is_none());
            set.spawn_blocking(|| 40 + 2);
            set.spawn_blocking(|| panic!("job failed"));
            let mut outcomes = Vec::new();
            while let Some(outcome) = set.join_next().await {
                outcomes.push(outcome.map_err(|e| e.panic_message().map(str::to_owned)));
            }
            outcomes.sort();
            assert_eq!(outcomes, [Ok(42), Err(Some("job failed".to_string()))]);
            set.spawn(async { 7 });
            while set.try_join_next().is_none() {
                taskloop::yield_now().await;
            }
        })
    });
}
