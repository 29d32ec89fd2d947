//! Independent jobs run at the same time: each test below would deadlock (and the
//! watchdog would fail it) if the flow ran them one after another.

mod flow_util;

use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::time::Duration;

use flow_util::{watchdog, AsyncBarrier};
use taskloop::flow::Flow;

#[test]
fn independent_blocking_jobs_overlap() {
    watchdog(|| {
        let mut flow = Flow::new();
        let barrier = Arc::new(Barrier::new(2));
        let (b1, b2) = (barrier.clone(), barrier);
        let a = flow.job("a", move || {
            b1.wait();
            "a"
        });
        let b = flow.job("b", move || {
            b2.wait();
            "b"
        });
        let c = flow.job_after("c", (&a, &b), |(a, b)| format!("{a}{b}"));
        assert!(flow.run().is_success());
        assert_eq!(*c.result().unwrap(), "ab");
    });
}

#[test]
fn independent_async_jobs_overlap() {
    watchdog(|| {
        let mut flow = Flow::new();
        let barrier = AsyncBarrier::new(3);
        let jobs: Vec<_> = (0..3)
            .map(|i| {
                let barrier = barrier.clone();
                flow.job_async(format!("async{i}"), (), move |()| {
                    let barrier = barrier.clone();
                    async move {
                        barrier.wait().await;
                        i
                    }
                })
            })
            .collect();
        assert!(flow.run().is_success());
        let results: Vec<i32> = jobs.iter().map(|j| *j.result().unwrap()).collect();
        assert_eq!(results, [0, 1, 2]);
    });
}

#[test]
fn a_blocking_body_does_not_stall_async_jobs() {
    watchdog(|| {
        // The blocking job waits for a message that only the async job sends, after a
        // timer: the loop must keep turning while the blocking body blocks.
        let mut flow = Flow::new();
        let (tx, rx) = mpsc::channel::<&str>();
        let rx = Mutex::new(rx);
        let waiter = flow.try_job("waiter", move || Ok(rx.lock().unwrap().recv()?));
        let sender = flow.try_job_async("sender", (), move |()| {
            let tx = tx.clone();
            async move {
                taskloop::sleep(Duration::from_millis(1)).await;
                Ok(tx.send("hello")?)
            }
        });
        assert!(flow.run().is_success());
        assert_eq!(*waiter.result().unwrap(), "hello");
        assert!(sender.result().is_ok());
    });
}

#[test]
fn the_pool_runs_as_many_blocking_jobs_at_once_as_it_has_threads() {
    watchdog(|| {
        let mut flow = Flow::builder().blocking_threads(4).build();
        let barrier = Arc::new(Barrier::new(4));
        let jobs: Vec<_> = (0..8)
            .map(|i| {
                let barrier = barrier.clone();
                flow.job(format!("job{i}"), move || {
                    barrier.wait();
                    i
                })
            })
            .collect();
        assert!(flow.run().is_success());
        assert_eq!(*jobs[7].result().unwrap(), 7);
    });
}
