//! `Handle`: spawning onto the loop from other threads, and failing cleanly after the
//! runtime is gone.

mod util;

use std::time::Duration;

use taskloop::sync::{mpsc, oneshot};
use taskloop::Handle;
use util::{rt, watchdog};

#[test]
fn threads_spawn_tasks_onto_a_running_loop() {
    let count = watchdog(|| {
        let rt = rt();
        let handle = rt.handle();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (handle, tx) = (handle.clone(), tx.clone());
                std::thread::spawn(move || {
                    for i in 0..100 {
                        let tx = tx.clone();
                        handle
                            .spawn(async move {
                                taskloop::yield_now().await; // a real loop task
                                tx.send(t * 100 + i).unwrap();
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let mut seen = Vec::new();
        rt.block_on(async {
            while let Some(v) = rx.recv().await {
                seen.push(v);
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        seen.sort();
        seen
    });
    assert_eq!(count, (0..400).collect::<Vec<_>>());
}

#[test]
fn a_remote_join_handle_is_awaited_on_another_thread() {
    watchdog(|| {
        let rt = rt();
        let handle = rt.handle();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let waiter = std::thread::spawn(move || {
            let task = handle
                .spawn(async {
                    taskloop::sleep(Duration::from_millis(5)).await;
                    "slept on the loop"
                })
                .unwrap();
            let blocking = handle.spawn_blocking(|| 40 + 2).unwrap();
            let out = futures::executor::block_on(async { (task.await, blocking.await) });
            stop_tx.send(()).unwrap();
            out
        });
        rt.block_on(stop_rx).unwrap();
        let (task, blocking) = waiter.join().unwrap();
        assert_eq!(task.unwrap(), "slept on the loop");
        assert_eq!(blocking.unwrap(), 42);
    });
}

#[test]
fn spawning_after_the_runtime_is_dropped_fails_and_queued_tasks_are_cancelled() {
    watchdog(|| {
        let rt = rt();
        let handle = rt.handle();
        let queued = handle.spawn(async { 1 }).unwrap(); // never driven
        drop(rt);
        let err = futures::executor::block_on(queued).unwrap_err();
        assert!(err.is_cancelled());
        let refused = handle.spawn(async { 2 });
        assert_eq!(
            refused.unwrap_err().to_string(),
            "the runtime has been dropped"
        );
        assert!(handle.spawn_blocking(|| 3).is_err());
    });
}

#[test]
fn a_remote_task_can_be_aborted_from_another_thread_and_its_panic_is_reported() {
    watchdog(|| {
        let rt = rt();
        let handle = rt.handle();
        let out = rt.block_on(async move {
            let h = handle.clone();
            let thread = std::thread::spawn(move || {
                let forever = h.spawn(taskloop::sleep(Duration::from_secs(3600))).unwrap();
                forever.abort();
                let panics = h.spawn(async { panic!("remote boom") }).unwrap();
                futures::executor::block_on(async { (forever.await, panics.await) })
            });
            while !thread.is_finished() {
                taskloop::sleep(Duration::from_millis(1)).await;
            }
            thread.join().unwrap()
        });
        assert!(out.0.unwrap_err().is_cancelled());
        assert_eq!(out.1.unwrap_err().panic_message(), Some("remote boom"));
    });
}

#[test]
fn handle_current_is_the_running_runtime() {
    assert!(Handle::try_current().is_none());
    let got = rt().block_on(async {
        let handle = Handle::current();
        handle.spawn(async { 5 }).unwrap().await
    });
    assert_eq!(got.unwrap(), 5);
}
