//! Cancelling a remote job stops its task on the server: while the task runs, and even
//! while the request that creates it is still on its way.

#![cfg(all(feature = "client", feature = "server"))]

mod automl_util;

use std::time::{Duration, Instant};

use automl_util::{context, linear, server_with, watchdog};
use taskloop::automl::{CsvSource, Faults, ServerHandle, TrainInput};
use taskloop::flow::{Event, Flow, JobStatus};

/// Waits until the server has stopped `n` tasks and runs none; false if that takes
/// over 30 s (a stopped task frees its worker when training next checks its flag).
fn stopped_eventually(server: &ServerHandle, n: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let stats = server.stats();
        if stats.tasks_stopped >= n && stats.running + stats.pending == 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Training on this takes seconds: long enough to be cancelled mid-way.
fn long_training(
    flow: &mut Flow,
    ctx: &taskloop::automl::Context,
) -> taskloop::flow::Job<taskloop::automl::Experiment> {
    let data = ctx.upload(
        flow,
        "data",
        CsvSource::text("big", linear(20_000, 3, true).0),
    );
    ctx.train(
        flow,
        "train",
        TrainInput::new(&data, "y").algos(["DRF"]).nfold(10),
    )
}

#[test]
fn cancelling_a_running_train_job_stops_its_task() {
    watchdog(Duration::from_secs(120), || {
        let srv = server_with(|c| c.workers = 1);
        let ctx = context(&srv.url());
        let mut flow = Flow::new();
        let train = long_training(&mut flow, &ctx);
        let cancel = flow.cancel_handle();
        let id = train.id();
        flow.observe(move |e: &Event<'_>| {
            if matches!(e, Event::Progress { job, .. } if job.id == id) {
                cancel.cancel_job(id); // the task exists and is being polled
            }
        });
        flow.run();
        assert_eq!(train.status(), JobStatus::Cancelled);
        assert!(stopped_eventually(&srv, 1), "{:?}", srv.stats());
        assert_eq!(srv.stats().tasks_submitted.get("train"), Some(&1));
    });
}

#[test]
fn cancelling_while_the_submit_is_in_flight_leaves_no_task_running() {
    watchdog(Duration::from_secs(120), || {
        // Every request takes 300 ms to be handled, so the cancel lands while the
        // train POST is still on its way.
        let srv = server_with(|c| {
            c.workers = 1;
            c.faults = Faults {
                latency: Duration::from_millis(300),
                ..Faults::default()
            };
        });
        let ctx = context(&srv.url());
        let mut flow = Flow::new();
        let train = long_training(&mut flow, &ctx);
        let cancel = flow.cancel_handle();
        let id = train.id();
        flow.observe(move |e: &Event<'_>| {
            if matches!(e, Event::Started { job, .. } if job.id == id) {
                let cancel = cancel.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(100));
                    cancel.cancel_job(id);
                });
            }
        });
        flow.run();
        assert_eq!(train.status(), JobStatus::Cancelled);
        assert!(stopped_eventually(&srv, 1), "{:?}", srv.stats());
        assert_eq!(srv.stats().tasks_submitted.get("train"), Some(&1));
    });
}
