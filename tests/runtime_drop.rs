//! Dropping a runtime: its unfinished tasks are dropped and their handles report
//! cancellation, busy blocking workers do not hold the drop up, and runtimes can come
//! and go many times.

mod util;

use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use util::{drop_flag, pending_until_dropped, rt, watchdog};

/// A blocking job that outlives the runtime by far.
const LONG_JOB: Duration = Duration::from_secs(2);

#[test]
fn dropping_a_runtime_drops_pending_tasks_and_does_not_wait_for_blocking_jobs() {
    watchdog(|| {
        let rt = rt();
        let (sleeper_flag, sleeper_dropped) = drop_flag();
        let (waiter_flag, waiter_dropped) = drop_flag();
        let (_tx, rx) = oneshot::channel::<()>(); // never sent
        let handles = rt.block_on(async move {
            let sleeper = taskloop::spawn(async move {
                let _flag = sleeper_flag;
                taskloop::sleep(Duration::from_secs(3600)).await;
            });
            let waiter = taskloop::spawn(async move {
                let _flag = waiter_flag;
                let _ = rx.await;
            });
            let forever = taskloop::spawn(pending_until_dropped(drop_flag().0));
            let (started_tx, started) = oneshot::channel();
            let job = taskloop::spawn_blocking(move || {
                started_tx.send(()).unwrap();
                thread::sleep(LONG_JOB);
            });
            started.await.unwrap(); // the job is running, and every task is waiting
            [sleeper, waiter, forever, job]
        });
        assert!(handles.iter().all(|h| !h.is_finished()));

        let start = Instant::now();
        drop(rt);
        assert!(
            start.elapsed() < LONG_JOB,
            "drop waited for the blocking job"
        );

        assert!(sleeper_dropped.get() && waiter_dropped.get());
        for handle in handles {
            assert!(handle.is_finished());
            let result = futures::executor::block_on(handle);
            assert!(result.unwrap_err().is_cancelled());
        }
    });
}

#[test]
fn tasks_spawned_but_never_run_are_dropped_with_the_runtime() {
    watchdog(|| {
        let rt = rt();
        let (flag, dropped) = drop_flag();
        let handle = rt.spawn(pending_until_dropped(flag));
        drop(rt);
        assert!(dropped.get());
        assert!(handle.is_finished(), "the handle reports the task's end");
        let result = futures::executor::block_on(handle);
        assert!(result.unwrap_err().is_cancelled());
    });
}

/// Open file descriptors of this process (Linux only).
#[cfg(target_os = "linux")]
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn runtimes_can_be_created_and_dropped_many_times() {
    watchdog(|| {
        #[cfg(target_os = "linux")]
        let fds_before = open_fds();
        for i in 0..200u64 {
            let rt = rt();
            let out = rt.block_on(async move {
                let blocking = taskloop::spawn_blocking(move || i * 2);
                taskloop::sleep(Duration::from_micros(50)).await;
                blocking.await.unwrap() + taskloop::spawn(async move { i }).await.unwrap()
            });
            assert_eq!(out, i * 3);
            rt.spawn(taskloop::sleep(Duration::from_secs(3600))); // left pending
        }
        // Each runtime holds a few descriptors (its poll and waker); leaking them would
        // add hundreds. Other tests run alongside, so allow some slack.
        #[cfg(target_os = "linux")]
        assert!(
            open_fds() < fds_before + 100,
            "runtimes leak file descriptors"
        );
    });
}
