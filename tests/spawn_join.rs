//! Spawning tasks and getting their outputs back through join handles.

mod util;

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use util::{rt, watchdog};

#[test]
fn joined_tasks_return_their_outputs() {
    let outputs = watchdog(|| {
        rt().block_on(async {
            let a = taskloop::spawn(async { 1 });
            let b = taskloop::spawn(async { "two" });
            let c = taskloop::spawn(async { vec![3, 3, 3] });
            (a.await.unwrap(), b.await.unwrap(), c.await.unwrap())
        })
    });
    assert_eq!(outputs, (1, "two", vec![3, 3, 3]));
}

#[test]
fn tasks_can_spawn_tasks() {
    let total = watchdog(|| {
        rt().block_on(async {
            let outer = taskloop::spawn(async {
                // Each child spawns a grandchild and returns what it returns.
                let children: Vec<_> = (1..=10)
                    .map(|i| {
                        taskloop::spawn(async move {
                            let grandchild = taskloop::spawn(async move { i * i });
                            grandchild.await.unwrap()
                        })
                    })
                    .collect();
                let mut sum = 0;
                for child in children {
                    sum += child.await.unwrap();
                }
                sum
            });
            outer.await.unwrap()
        })
    });
    assert_eq!(total, 385);
}

#[test]
fn runtime_spawn_before_block_on_runs_at_the_next_block_on() {
    watchdog(|| {
        let rt = rt();
        let ran = Rc::new(Cell::new(false));
        let flag = ran.clone();
        let handle = rt.spawn(async move {
            flag.set(true);
            7
        });
        assert!(!ran.get(), "a task must not run before the loop does");
        assert_eq!(rt.block_on(handle).unwrap(), 7);
        assert!(ran.get());
    });
}

#[test]
fn tasks_still_pending_when_block_on_returns_continue_in_the_next_block_on() {
    watchdog(|| {
        let rt = rt();
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let steps = Rc::new(Cell::new(0));
        let seen = steps.clone();
        let waiter = rt.spawn(async move {
            seen.set(1);
            let value = rx.await.unwrap();
            seen.set(2);
            value
        });
        rt.block_on(taskloop::yield_now());
        assert_eq!(steps.get(), 1, "the task ran up to its await");
        tx.send(5).unwrap();
        assert_eq!(steps.get(), 1, "no loop is running, so the task waits");
        assert_eq!(rt.block_on(waiter).unwrap(), 5);
        assert_eq!(steps.get(), 2);
    });
}

#[test]
fn spawn_outside_a_runtime_panics_with_a_clear_message() {
    let panic = catch_unwind(AssertUnwindSafe(|| taskloop::spawn(async {})))
        .expect_err("spawn outside a runtime must panic");
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .expect("the panic carries a message");
    assert!(message.contains("runtime"), "unclear message: {message}");
}

#[test]
fn dropping_a_join_handle_detaches_the_task_which_still_runs() {
    watchdog(|| {
        let rt = rt();
        let done = Rc::new(Cell::new(false));
        rt.block_on(async {
            let flag = done.clone();
            drop(taskloop::spawn(async move {
                taskloop::yield_now().await;
                flag.set(true);
            }));
            while !done.get() {
                taskloop::yield_now().await;
            }
        });
        assert!(done.get());
    });
}

#[test]
fn is_finished_turns_true_once_the_task_completes() {
    watchdog(|| {
        rt().block_on(async {
            let (tx, rx) = futures::channel::oneshot::channel::<()>();
            let handle = taskloop::spawn(async move { rx.await.unwrap() });
            taskloop::yield_now().await;
            assert!(!handle.is_finished());
            tx.send(()).unwrap();
            while !handle.is_finished() {
                taskloop::yield_now().await;
            }
            handle.await.unwrap();
        });
    });
}
