//! The same work on a server in memory and on one with a data directory: uploads of two
//! sizes, trains and predicts, each first one at a time (latency) and then all at once
//! (throughput); then the cost of a submit itself.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::api::{unix_now, Api, Ended, Submitted};
use super::rentals::rentals_csv;
use super::server::Server;
use super::{p50_p90_ms, BoxError};

/// Rows of the small CSVs (about 10 KB).
pub const SMALL_ROWS: usize = 330;
/// Rows of the large CSV (about 5 MB).
pub const LARGE_ROWS: usize = 170_000;

/// How often a waiting client polls a batch of tasks.
const BATCH_POLL: Duration = Duration::from_millis(5);

/// One kind of operation: its request, and how many to run one at a time and at once.
#[derive(Debug)]
pub struct Op {
    pub name: &'static str,
    path: String,
    body: Vec<u8>,
    csv: bool,
    /// Bytes of input each one carries or reads (for MB/s), if that is what it is about.
    pub bytes: Option<usize>,
    pub one_at_a_time: usize,
    pub at_once: usize,
}

/// What one operation measured on one server.
#[derive(Debug, Clone, Default)]
pub struct OpFigures {
    /// Submit (client) to done (server) one at a time: median, 90th percentile (ms).
    pub latency_ms: (f64, f64),
    /// From the product named to the task done, one at a time (ms, median): writing,
    /// committing and storing.
    pub store_ms: f64,
    /// All at once: operations per second, from the first submit to the last done.
    pub ops_per_s: f64,
}

/// What the tiny submits measured on one server.
#[derive(Debug, Clone, Default)]
pub struct SubmitFigures {
    /// Round trips of `POST /v2/upload` with a 8-byte CSV, back to back (µs, sorted).
    pub upload_us: Vec<i64>,
    /// Round trips of `GET /v2/worker/status` (no task, no row), back to back.
    pub status_us: Vec<i64>,
    /// The server loop thread's CPU per upload submit, from the first submit until all
    /// the uploads are done (µs): parsing, the task's rows, dispatching and finishing.
    pub loop_us_per_upload: f64,
    /// The same per status request.
    pub loop_us_per_status: f64,
}

/// The whole run on one server.
#[derive(Debug, Clone, Default)]
pub struct ModeFigures {
    pub ops: Vec<OpFigures>,
    pub submits: SubmitFigures,
}

/// Tiny submits measured.
pub const TINY_SUBMITS: usize = 500;

/// The operations, given the data set to train on, the one to predict and the model.
fn ops(train_id: &str, forecast_id: &str, model_id: &str) -> Vec<Op> {
    let upload = |name, rows, one_at_a_time, at_once| {
        let body = rentals_csv(rows, 7, false).into_bytes();
        Op {
            name,
            path: "/v2/upload?name=bench.csv".into(),
            bytes: Some(body.len()),
            body,
            csv: true,
            one_at_a_time,
            at_once,
        }
    };
    let train = json!({"train_data_id": train_id, "target": "rentals", "algos": ["GLM", "GBM"],
                       "nfold": 2, "max_model": 2, "seed": 1});
    let predict = json!({"data_id": forecast_id, "model_id": model_id});
    vec![
        upload("upload 10 KB CSV", SMALL_ROWS, 100, 200),
        upload("upload 5 MB CSV", LARGE_ROWS, 4, 8),
        Op {
            name: "train GLM + GBM (330 rows, 2 folds, max_model 2)",
            path: "/v2/tasks/train".into(),
            body: train.to_string().into_bytes(),
            csv: false,
            bytes: None,
            one_at_a_time: 5,
            at_once: 10,
        },
        Op {
            name: "predict 330 rows",
            path: "/v2/tasks/predict".into(),
            body: predict.to_string().into_bytes(),
            csv: false,
            bytes: None,
            one_at_a_time: 40,
            at_once: 80,
        },
    ]
}

/// The operations' names and sizes, for the tables (no server needed).
pub fn op_names() -> Vec<(&'static str, Option<usize>, usize, usize)> {
    ops("", "", "")
        .into_iter()
        .map(|op| (op.name, op.bytes, op.one_at_a_time, op.at_once))
        .collect()
}

/// Runs every operation and the tiny submits on a fresh server of `binary`, with a data
/// directory `data_dir` if given.
///
/// # Errors
/// The server failed to start, a request failed or a task did not end `done`.
pub fn run_mode(binary: &Path, data_dir: Option<&Path>) -> Result<ModeFigures, BoxError> {
    let server = Server::start(binary, data_dir)?;
    let api = Api::new(server.url());
    // What train and predict need, made outside the measurement.
    let train_csv = rentals_csv(SMALL_ROWS, 11, false);
    let train_id = api
        .run("/v2/upload", train_csv.as_bytes(), true)?
        .result_id();
    let forecast = rentals_csv(SMALL_ROWS, 12, true);
    let forecast_id = api
        .run("/v2/upload", forecast.as_bytes(), true)?
        .result_id();
    let spec = json!({"train_data_id": train_id, "target": "rentals", "algos": ["GLM"]});
    let trained = api.run("/v2/tasks/train", spec.to_string().as_bytes(), false)?;
    let model_id = trained.result["models"][0].as_str().unwrap_or_default();
    let mut figures = ModeFigures::default();
    for op in ops(&train_id, &forecast_id, model_id) {
        eprintln!("   {}", op.name);
        figures.ops.push(measure_op(&api, &op)?);
    }
    eprintln!("   {TINY_SUBMITS} tiny submits");
    figures.submits = tiny_submits(&server, &api)?;
    server.stop()?;
    Ok(figures)
}

/// One operation: one at a time, then all at once.
fn measure_op(api: &Api, op: &Op) -> Result<OpFigures, BoxError> {
    let mut one = Vec::with_capacity(op.one_at_a_time);
    for _ in 0..op.one_at_a_time {
        one.push(api.run(&op.path, &op.body, op.csv)?);
    }
    let latencies: Vec<f64> = one.iter().map(Ended::latency).collect();
    let stores: Vec<f64> = one.iter().map(Ended::store_time).collect();
    let begun = unix_now();
    let tasks = (0..op.at_once)
        .map(|_| api.submit(&op.path, &op.body, op.csv))
        .collect::<Result<Vec<Submitted>, _>>()?;
    let ended = api.wait(&tasks, BATCH_POLL)?;
    let last = ended.iter().map(|e| e.finished_at).fold(begun, f64::max);
    Ok(OpFigures {
        latency_ms: p50_p90_ms(&latencies),
        store_ms: p50_p90_ms(&stores).0,
        ops_per_s: op.at_once as f64 / (last - begun),
    })
}

/// [`TINY_SUBMITS`] status requests, then as many tiny uploads, back to back; the round
/// trips and the loop thread's CPU for each.
fn tiny_submits(server: &Server, api: &Api) -> Result<SubmitFigures, BoxError> {
    let mut status = Vec::with_capacity(TINY_SUBMITS);
    let cpu = server.loop_cpu_ns()?;
    for _ in 0..TINY_SUBMITS {
        let begun = std::time::Instant::now();
        let (code, _) = api.get("/v2/worker/status")?;
        status.push(begun.elapsed());
        if code != 200 {
            return Err(format!("GET /v2/worker/status: {code}").into());
        }
    }
    let status_cpu = server.loop_cpu_ns()? - cpu;
    let cpu = server.loop_cpu_ns()?;
    let tasks = (0..TINY_SUBMITS)
        .map(|_| api.submit("/v2/upload", b"a,b\n1,2\n", true))
        .collect::<Result<Vec<Submitted>, _>>()?;
    // The loop's share ends when the last task is done; the status polls that find
    // that out are taken off at the cost measured above.
    let mut polls = 0;
    while busy(api)? {
        polls += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    let polls_cpu = (polls + 1) as f64 * status_cpu as f64 / TINY_SUBMITS as f64;
    let upload_cpu = (server.loop_cpu_ns()? - cpu) as f64 - polls_cpu;
    let round_trips: Vec<Duration> = tasks.iter().map(|t| t.round_trip).collect();
    api.wait(&tasks, BATCH_POLL)?;
    let n = TINY_SUBMITS as f64;
    Ok(SubmitFigures {
        upload_us: super::sorted_us(&round_trips),
        status_us: super::sorted_us(&status),
        loop_us_per_upload: upload_cpu / 1e3 / n,
        loop_us_per_status: status_cpu as f64 / 1e3 / n,
    })
}

/// Whether the server has tasks pending or running.
fn busy(api: &Api) -> Result<bool, BoxError> {
    let (_, doc) = api.get("/v2/worker/status")?;
    let count = |k: &str| doc[k].as_u64().ok_or_else(|| format!("no {k} in {doc}"));
    Ok(count("pending")? + count("running")? > 0)
}
