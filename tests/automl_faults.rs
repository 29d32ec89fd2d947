//! Fifty pipelines against a server that drops 10% of connections and answers 10% of
//! requests with 503: all finish, and thanks to idempotency keys each starts exactly one
//! task of each kind on the server.

#![cfg(all(feature = "client", feature = "server"))]

mod automl_util;

use std::time::Duration;

use automl_util::{context, linear, server_with, watchdog};
use taskloop::automl::{CsvSource, Faults, PredictInput, TrainInput};
use taskloop::flow::Flow;

#[test]
fn fifty_pipelines_survive_dropped_connections_and_503s_with_one_task_each() {
    watchdog(Duration::from_secs(240), || {
        let srv = server_with(|c| {
            c.workers = 2;
            c.max_running = 4;
            c.faults = Faults {
                drop_rate: 0.1,
                rate_503: 0.1,
                seed: 42,
                ..Faults::default()
            };
        });
        let ctx = context(&srv.url());
        let (train_csv, _) = linear(120, 1, true);
        let (forecast_csv, _) = linear(30, 2, false);
        let mut flow = Flow::new();
        let predictions: Vec<_> = (0..50)
            .map(|i| {
                let a = ctx.upload(
                    &mut flow,
                    format!("A{i}"),
                    CsvSource::text("train", train_csv.clone()),
                );
                let b = ctx.upload(
                    &mut flow,
                    format!("B{i}"),
                    CsvSource::text("forecast", forecast_csv.clone()),
                );
                let spec = TrainInput::new(&a, "y")
                    .algos(["GLM"])
                    .nfold(2)
                    .features(["x1", "x2"]);
                let c = ctx.train(&mut flow, format!("C{i}"), spec);
                ctx.predict(&mut flow, format!("D{i}"), PredictInput::new(&b, &c))
            })
            .collect();
        let report = flow.run();
        assert!(report.is_success(), "{report}");
        assert!(predictions.iter().all(|d| d.result().is_ok()));

        let stats = srv.stats();
        let tasks = |kind: &str| stats.tasks_submitted.get(kind).copied().unwrap_or(0);
        assert_eq!(
            (tasks("upload"), tasks("train"), tasks("predict")),
            (100, 50, 50),
            "{stats:?}"
        );
        assert!(
            stats.faults_dropped > 0 && stats.faults_503 > 0,
            "faults were injected: {stats:?}"
        );
    });
}
