//! Helpers for the AutoML client tests: a bundled server on 127.0.0.1:0, a fast-polling
//! context, and deterministic data sets.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::time::Duration;

use taskloop::automl::{
    serve, Context, CsvSource, Experiment, PollInterval, PredictInput, Predictions, ServerConfig,
    ServerHandle, TrainInput,
};
use taskloop::flow::{Backoff, Flow, Job};

pub const USER: &str = "analyst";
pub const PASSWORD: &str = "tr0ub4dor-and-3";

/// A bundled server with two workers.
pub fn server() -> ServerHandle {
    server_with(|_| {})
}

/// A bundled server, configured by `f`.
pub fn server_with(f: impl FnOnce(&mut ServerConfig)) -> ServerHandle {
    let mut config = ServerConfig::new(USER, PASSWORD);
    config.workers = 2;
    f(&mut config);
    serve(config).expect("the bundled server starts")
}

/// A context that polls every few milliseconds, so tests finish quickly.
pub fn context(url: &str) -> Context {
    Context::builder(url, USER, PASSWORD)
        .poll_interval(PollInterval {
            initial: Duration::from_millis(5),
            factor: 1.5,
            max: Duration::from_millis(100),
        })
        .backoff(Backoff {
            initial: Duration::from_millis(5),
            factor: 2.0,
            max: Duration::from_millis(200),
            jitter: true,
        })
        .connect()
        .expect("the client connects")
}

/// A tiny deterministic generator in `0.0..1.0`.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Rows of `y = 3·x1 − 2·x2 + noise` with a categorical column; returns the CSV with
/// `id,x1,x2,colour[,y]` and the true `y` of each row.
pub fn linear(rows: usize, seed: u64, with_target: bool) -> (String, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let mut csv = String::from(if with_target {
        "id,x1,x2,colour,y\n"
    } else {
        "id,x1,x2,colour\n"
    });
    let mut ys = Vec::new();
    for id in 0..rows {
        let (x1, x2) = (rng.next() * 10.0, rng.next() * 10.0);
        let colour = ["red", "green", "blue"][id % 3];
        let y = 3.0 * x1 - 2.0 * x2 + (rng.next() - 0.5);
        ys.push(y);
        if with_target {
            let _ = writeln!(csv, "{id},{x1:.4},{x2:.4},{colour},{y:.4}");
        } else {
            let _ = writeln!(csv, "{id},{x1:.4},{x2:.4},{colour}");
        }
    }
    (csv, ys)
}

/// Two well separated classes: `label` is `yes` when `x1 + x2 > 10`, with a margin.
pub fn separable(rows: usize, seed: u64, with_target: bool) -> (String, Vec<String>) {
    let mut rng = Rng::new(seed);
    let mut csv = String::from(if with_target {
        "id,x1,x2,label\n"
    } else {
        "id,x1,x2\n"
    });
    let mut labels = Vec::new();
    let mut id = 0;
    while labels.len() < rows {
        let (x1, x2) = (rng.next() * 10.0, rng.next() * 10.0);
        if (x1 + x2 - 10.0).abs() < 1.0 {
            continue; // keep a margin between the classes
        }
        let label = if x1 + x2 > 10.0 { "yes" } else { "no" };
        labels.push(label.to_string());
        if with_target {
            let _ = writeln!(csv, "{id},{x1:.4},{x2:.4},{label}");
        } else {
            let _ = writeln!(csv, "{id},{x1:.4},{x2:.4}");
        }
        id += 1;
    }
    (csv, labels)
}

/// Fails the test if `f` takes longer than `limit` instead of hanging CI.
pub fn watchdog<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(_) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("the test did not finish within {limit:?}"),
        },
    }
}

/// Declares pipeline `i` of the A, B → C → D shape: upload `train_csv` (A) and
/// `forecast_csv` (B), train a 2-fold GLM of `y` on `x1` and `x2` (C), predict B (D).
pub fn abcd_pipeline(
    ctx: &Context,
    flow: &mut Flow,
    i: usize,
    train_csv: &str,
    forecast_csv: &str,
) -> (Job<Experiment>, Job<Predictions>) {
    let a = ctx.upload(
        flow,
        format!("A{i}"),
        CsvSource::text("train", train_csv.to_string()),
    );
    let b = ctx.upload(
        flow,
        format!("B{i}"),
        CsvSource::text("forecast", forecast_csv.to_string()),
    );
    let spec = TrainInput::new(&a, "y")
        .algos(["GLM"])
        .nfold(2)
        .features(["x1", "x2"]);
    let c = ctx.train(flow, format!("C{i}"), spec);
    let d = ctx.predict(flow, format!("D{i}"), PredictInput::new(&b, &c));
    (c, d)
}
