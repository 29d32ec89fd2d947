//! `select!`: the first ready branch wins, losers are dropped before the handler runs,
//! refutable patterns disable branches, `biased;` polls in order, unbiased is fair.

mod util;

use std::future::pending;
use std::time::Duration;

use taskloop::sync::{mpsc, oneshot};
use util::{drop_flag, pending_until_dropped, rt, watchdog};

#[test]
fn the_first_ready_of_many_branches_wins_and_the_losers_are_dropped_first() {
    watchdog(|| {
        rt().block_on(async {
            let (f1, d1) = drop_flag();
            let (f2, d2) = drop_flag();
            let (tx, rx) = oneshot::channel();
            taskloop::spawn(async move { tx.send(3).unwrap() });
            let got = taskloop::select! {
                _ = pending_until_dropped(f1) => 1,
                _ = taskloop::sleep(Duration::from_secs(3600)) => 2,
                Ok(v) = rx => {
                    assert!(d1.get() && d2.get(), "losers dropped before the handler");
                    v * 10
                }
                _ = pending_until_dropped(f2) => 4,
            };
            assert_eq!(got, 30);
        })
    });
}

#[test]
fn a_branch_whose_pattern_does_not_match_is_disabled_and_else_runs_when_all_are() {
    watchdog(|| {
        rt().block_on(async {
            let (tx, mut rx) = mpsc::channel::<u8>(1);
            drop(tx);
            let got = taskloop::select! {
                Some(v) = rx.recv() => v as i32,
                Some(v) = async { None::<i32> } => v,
                else => -1,
            };
            assert_eq!(got, -1);
        })
    });
}

#[test]
fn a_false_precondition_keeps_a_ready_branch_from_being_polled() {
    watchdog(|| {
        rt().block_on(async {
            let allowed = false;
            let got = taskloop::select! {
                v = async { 1 }, if allowed => v,
                v = async { taskloop::yield_now().await; 2 } => v,
            };
            assert_eq!(got, 2);
        })
    });
}

#[test]
fn biased_polls_branches_in_written_order() {
    watchdog(|| {
        rt().block_on(async {
            for _ in 0..20 {
                let got = taskloop::select! {
                    biased;
                    v = async { 1 } => v,
                    v = async { 2 } => v,
                    v = async { 3 } => v,
                };
                assert_eq!(got, 1);
            }
        })
    });
}

#[test]
fn unbiased_select_gives_every_always_ready_branch_a_turn() {
    let wins = watchdog(|| {
        rt().block_on(async {
            let mut wins = [0; 3];
            for _ in 0..300 {
                let i = taskloop::select! {
                    v = async { 0 } => v,
                    v = async { 1 } => v,
                    v = async { 2 } => v,
                };
                wins[i] += 1;
            }
            wins
        })
    });
    assert!(wins.iter().all(|&w| w > 30), "wins per branch: {wins:?}");
}

#[test]
fn handlers_can_break_and_use_what_the_losers_borrowed() {
    watchdog(|| {
        rt().block_on(async {
            let (tx, mut rx) = mpsc::unbounded_channel();
            for i in 0..3 {
                tx.send(i).unwrap();
            }
            drop(tx);
            let mut sum = 0;
            loop {
                taskloop::select! {
                    msg = rx.recv() => match msg {
                        Some(v) => sum += v,
                        None => break,
                    },
                    _ = pending::<()>() => unreachable!(),
                }
            }
            assert!(rx.try_recv().is_err()); // `rx` is free again
            assert_eq!(sum, 3);
        })
    });
}

#[test]
fn every_branch_form_is_accepted() {
    watchdog(|| {
        rt().block_on(async {
            let one = taskloop::select! { v = async { 1 } => v };
            let two = taskloop::select! {
                biased;
                v = async { 2 } => { v }
                _ = pending::<()>() => { 0 },
                _ = pending::<()>(), if true => { 0 }
                _ = pending::<()>(), if false => 0,
                else => -1
            };
            let three = taskloop::select! {
                Some(v) = async { Some(3) } => v,
                else => { -1 },
            };
            assert_eq!((one, two, three), (1, 2, 3));
        })
    });
}
