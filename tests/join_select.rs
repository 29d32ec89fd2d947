//! Waiting on several futures in one task: `join_all`, `join!` and `select`.

mod util;

use std::time::Duration;

use taskloop::Either;
use util::{drop_flag, pending_until_dropped, rt, watchdog};

#[test]
fn join_all_returns_outputs_in_input_order_not_finishing_order() {
    let out = watchdog(|| {
        rt().block_on(taskloop::join_all((0..10u64).map(|i| async move {
            // Later inputs finish first.
            taskloop::sleep(Duration::from_millis(10 - i)).await;
            i
        })))
    });
    assert_eq!(out, (0..10).collect::<Vec<_>>());
}

#[test]
fn join_all_of_nothing_is_empty() {
    let out: Vec<()> =
        watchdog(|| rt().block_on(taskloop::join_all(Vec::<std::future::Ready<()>>::new())));
    assert!(out.is_empty());
}

#[test]
fn join_macro_awaits_futures_of_different_types() {
    let out = watchdog(|| {
        rt().block_on(async {
            taskloop::join!(
                async {
                    taskloop::sleep(Duration::from_millis(3)).await;
                    1u8
                },
                taskloop::spawn(async { String::from("spawned") }),
                taskloop::spawn_blocking(|| vec![1.5, 2.5]),
                async { Some('c') },
            )
        })
    });
    assert_eq!(out.0, 1);
    assert_eq!(out.1.unwrap(), "spawned");
    assert_eq!(out.2.unwrap(), vec![1.5, 2.5]);
    assert_eq!(out.3, Some('c'));
}

#[test]
fn select_returns_the_first_to_finish_and_drops_the_other() {
    watchdog(|| {
        let (flag, dropped) = drop_flag();
        let winner = rt().block_on(async {
            let winner = taskloop::select(pending_until_dropped(flag), async {
                taskloop::sleep(Duration::from_millis(2)).await;
                "right"
            })
            .await;
            assert!(dropped.get(), "the loser is dropped when select returns");
            winner
        });
        assert_eq!(winner, Either::Right("right"));
    });
}

#[test]
fn select_prefers_the_first_future_when_both_are_ready() {
    let winner = watchdog(|| rt().block_on(taskloop::select(async { 'a' }, async { 'b' })));
    assert_eq!(winner, Either::Left('a'));
}
