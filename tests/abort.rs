//! Aborting a task: its handle reports cancellation and its future is dropped.

mod util;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use taskloop::JoinHandle;
use util::{drop_flag, rt, watchdog};

#[test]
fn aborting_a_sleeping_task_cancels_it_and_drops_its_future() {
    watchdog(|| {
        let (flag, dropped) = drop_flag();
        let result = rt().block_on(async move {
            let handle = taskloop::spawn(async move {
                let _flag = flag;
                taskloop::sleep(Duration::from_secs(3600)).await;
                "woke up"
            });
            taskloop::yield_now().await; // let it start sleeping
            assert!(!handle.is_finished());
            handle.abort();
            while !handle.is_finished() {
                taskloop::yield_now().await;
            }
            handle.await
        });
        let err = result.expect_err("an aborted task has no output");
        assert!(err.is_cancelled());
        assert!(!err.is_panic());
        assert!(dropped.get(), "the aborted future must be dropped");
    });
}

#[test]
fn aborting_a_task_that_has_not_started_cancels_it() {
    watchdog(|| {
        let (flag, dropped) = drop_flag();
        let err = rt().block_on(async move {
            let handle = taskloop::spawn(async move {
                let _flag = flag;
                "ran"
            });
            handle.abort();
            handle.await.unwrap_err()
        });
        assert!(err.is_cancelled());
        assert!(dropped.get());
    });
}

#[test]
fn aborting_a_finished_task_does_nothing() {
    watchdog(|| {
        rt().block_on(async {
            let handle = taskloop::spawn(async { 42 });
            while !handle.is_finished() {
                taskloop::yield_now().await;
            }
            handle.abort();
            assert_eq!(handle.await, Ok(42));
        });
    });
}

#[test]
fn a_task_that_aborts_itself_stops_at_its_next_await() {
    watchdog(|| {
        let (flag, dropped) = drop_flag();
        let went_on = Rc::new(Cell::new(false));
        let went_on_in_task = went_on.clone();
        rt().block_on(async move {
            let slot: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
            let own_handle = slot.clone();
            let handle = taskloop::spawn(async move {
                let _flag = flag;
                let me = own_handle
                    .borrow_mut()
                    .take()
                    .expect("stored before first poll");
                me.abort();
                taskloop::yield_now().await;
                went_on_in_task.set(true);
            });
            *slot.borrow_mut() = Some(handle);
            while !dropped.get() {
                taskloop::yield_now().await;
            }
        });
        assert!(!went_on.get(), "an aborted task is not polled again");
    });
}
