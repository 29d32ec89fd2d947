//! A fixed-seed randomized chaos test (issue 9): rounds of pipelines against a server
//! that drops connections and answers `503`s, is sometimes restarted mid-run on the same
//! port, and has some pipelines cancelled from another thread. Every pipeline must end
//! done (with predictions of the right shape) or with an error that says what happened,
//! never hang, and no server instance may train any pipeline twice.
//!
//! Bounded: 5 rounds of 6 pipelines, each round under a watchdog.

#![cfg(all(feature = "client", feature = "server"))]

mod automl_util;

use std::thread;
use std::time::Duration;

use automl_util::{abcd_pipeline, context, linear, server_with, watchdog, Rng};
use taskloop::automl::{Faults, ServerHandle};
use taskloop::flow::{Flow, JobStatus};

const ROUNDS: usize = 5;
const PIPELINES: usize = 6;
const FORECAST_ROWS: usize = 20;

fn start(addr: &str, faults: &Faults) -> ServerHandle {
    let faults = faults.clone();
    let addr = addr.to_string();
    server_with(move |c| {
        c.addr = addr;
        c.faults = faults;
    })
}

fn trains(server: &ServerHandle) -> u64 {
    let stats = server.stats();
    stats.tasks_submitted.get("train").copied().unwrap_or(0)
}

#[test]
fn pipelines_under_faults_restarts_and_cancels_end_done_or_clearly_failed() {
    let mut rng = Rng::new(2024);
    for round in 0..ROUNDS {
        let faults = Faults {
            drop_rate: [0.0, 0.1, 0.2][(rng.next() * 3.0) as usize],
            rate_503: [0.0, 0.1, 0.2][(rng.next() * 3.0) as usize],
            latency: Duration::from_millis((rng.next() * 10.0) as u64),
            seed: round as u64,
        };
        let restart_after =
            (rng.next() < 0.5).then(|| Duration::from_millis((rng.next() * 120.0) as u64));
        let cancel_after =
            (rng.next() < 0.5).then(|| Duration::from_millis((rng.next() * 120.0) as u64));
        let cancelled = (rng.next() * PIPELINES as f64) as usize;
        let summary = watchdog(Duration::from_secs(120), move || {
            run_round(&faults, restart_after, cancel_after.map(|d| (d, cancelled)))
        });
        eprintln!("round {round}: {summary}");
    }
}

/// One round; a line saying what happened.
fn run_round(
    faults: &Faults,
    restart_after: Option<Duration>,
    cancel: Option<(Duration, usize)>,
) -> String {
    let first = start("127.0.0.1:0", faults);
    let addr = first.url().trim_start_matches("http://").to_string();
    let ctx = context(&first.url());
    let (train_csv, _) = linear(80, 3, true);
    let (forecast_csv, _) = linear(FORECAST_ROWS, 4, false);
    let mut flow = Flow::new();
    let mut pipelines = Vec::new();
    for i in 0..PIPELINES {
        let (c, d) = abcd_pipeline(&ctx, &mut flow, i, &train_csv, &forecast_csv);
        pipelines.push((c, d));
    }
    let handle = flow.cancel_handle();
    let cancel_id = cancel.map(|(after, i)| (after, pipelines[i].0.id()));
    let canceller = thread::spawn(move || {
        if let Some((after, id)) = cancel_id {
            thread::sleep(after);
            handle.cancel_job(id);
        }
    });
    let restarter = {
        let faults = faults.clone();
        thread::spawn(move || match restart_after {
            Some(after) => {
                thread::sleep(after);
                let before = trains(&first);
                drop(first);
                (before, start(&addr, &faults))
            }
            None => (0, first),
        })
    };
    flow.run();
    canceller.join().unwrap();
    let (trains_before, last) = restarter.join().unwrap();
    let trains_after = trains(&last);
    assert!(
        trains_before <= PIPELINES as u64,
        "a pipeline trained twice: {trains_before}"
    );
    assert!(
        trains_after <= PIPELINES as u64,
        "a pipeline trained twice: {trains_after}"
    );

    let (mut done, mut failed, mut cancelled) = (0, 0, 0);
    for (c, d) in &pipelines {
        match d.result() {
            Ok(pred) => {
                done += 1;
                // Downloading may fail after a restart (the data is gone); when it
                // works it is this pipeline's predictions.
                if let Ok(frame) = pred.frame() {
                    assert_eq!(frame.rows(), FORECAST_ROWS);
                    assert!(frame.column("prediction").is_some());
                }
            }
            Err(e) => {
                if c.status() == JobStatus::Cancelled || d.status() == JobStatus::Cancelled {
                    cancelled += 1;
                } else {
                    failed += 1;
                }
                assert!(!e.to_string().is_empty());
            }
        }
    }
    if restart_after.is_none() && cancel.is_none() {
        assert_eq!(
            done, PIPELINES,
            "no restart, no cancel: every pipeline finishes"
        );
        assert_eq!(
            trains_after, PIPELINES as u64,
            "exactly one training per pipeline"
        );
    }
    format!(
        "{faults:?} restart {restart_after:?} cancel {cancel:?}: {done} done, {failed} failed, \
         {cancelled} cancelled; trains {trains_before} + {trains_after}"
    )
}
