//! Client CPU against the asyncio peer (issue 10, goal 1).
//!
//! ```sh
//! cd benches
//! cargo run --release --bin client               # N = 100 and 1,000 pipelines
//! cargo run --release --bin client -- 100        # only these pipeline counts
//! ```
//!
//! The parent process runs the bundled server and writes the two CSVs; for each N it runs
//! the taskloop client (this binary again, `--taskloop ...`) and the asyncio peer
//! (`peers/asyncio_client.py`, Python stdlib only) as child processes, one after the
//! other, `RUNS` times each, taking turns. Each child does the same work against the same
//! server: per pipeline, upload a 300-row training CSV and a 100-row forecast CSV →
//! train GLM with 3 folds → predict the forecast with the best model → read the
//! predictions CSV, every task polled every 0.2 s. Each child measures its own CPU (user
//! and system, every thread of the process, `getrusage(RUSAGE_SELF)`) and wall time from
//! after reading its inputs to the end of the work, and the parent counts the
//! requests the server received meanwhile.
//!
//! Then a third child (`--floor ...`, `src/client_floor.rs`) sends the clients' poll
//! 10,000 times back to back with no runtime at all, three ways (a hand-written exchange
//! on a blocking socket, ureq on one thread, ureq behind a channel hand-off to a second
//! thread), and the parent prints its CPU per request against the asyncio peer's: the
//! floor under the clients' figures.

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

#[path = "../../../examples/common/rentals.rs"]
mod rentals;

use taskloop::automl::{serve, Context, CsvSource, PollInterval, ServerConfig};
use taskloop::flow::Flow;
use taskloop_benches::client_floor::{self, process_cpu};
use taskloop_benches::rentals_pipeline;

const USER: &str = "bench";
const PASSWORD: &str = "bench-password";
const TRAIN_ROWS: usize = 300;
const FORECAST_ROWS: usize = 100;
const NFOLD: u32 = 3;
const POLL: Duration = Duration::from_millis(200);
const RUNS: usize = 3;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--floor") {
        return match floor_child(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("floor: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if args.first().map(String::as_str) == Some("--taskloop") {
        return match taskloop_client(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("taskloop client: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let sizes: Vec<usize> = if args.is_empty() {
        vec![100, 1000]
    } else {
        match args.iter().map(|a| a.parse()).collect() {
            Ok(sizes) => sizes,
            Err(_) => {
                eprintln!("usage: client [N...]   (pipeline counts; default 100 1000)");
                return ExitCode::FAILURE;
            }
        }
    };
    match parent(&sizes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("client: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error>;

/// One child's figures.
#[derive(Clone, Copy, Default)]
struct Run {
    cpu_s: f64,
    wall_s: f64,
    requests: f64,
}

fn parent(sizes: &[usize]) -> Result<(), BoxError> {
    let server = serve(ServerConfig {
        workers: 2,
        ..ServerConfig::new(USER, PASSWORD)
    })?;
    let dir = std::env::temp_dir().join(format!("taskloop-client-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let train = dir.join("train.csv");
    let forecast = dir.join("forecast.csv");
    std::fs::write(&train, rentals::rentals_csv(TRAIN_ROWS, 7, false))?;
    std::fs::write(&forecast, rentals::rentals_csv(FORECAST_ROWS, 8, true))?;
    let exe = std::env::current_exe()?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/asyncio_client.py");
    let common = |n: usize| {
        [server.url(), USER.into(), PASSWORD.into()]
            .into_iter()
            .chain([train.display().to_string(), forecast.display().to_string()])
            .chain([n.to_string()])
            .collect::<Vec<_>>()
    };
    println!(
        "| N | client | CPU (s) | wall (s) | requests | CPU per request (µs) | CPU vs asyncio |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let mut asyncio_per_request = None;
    for &n in sizes {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for run in 0..RUNS {
            eprintln!("N = {n}, run {}/{RUNS}", run + 1);
            let requests = || server.stats().requests as f64;
            let before = requests();
            let mut run = child(Command::new(&exe).arg("--taskloop").args(common(n)))?;
            run.requests = requests() - before;
            ours.push(run);
            let before = requests();
            let mut run = child(Command::new("python3").arg(script).args(common(n)))?;
            run.requests = requests() - before;
            theirs.push(run);
        }
        let (ours, theirs) = (median(ours), median(theirs));
        asyncio_per_request = Some(theirs.cpu_s / theirs.requests * 1e6);
        for (name, r) in [("taskloop", ours), ("asyncio", theirs)] {
            println!(
                "| {n} | {name} | {:.3} | {:.2} | {:.0} | {:.0} | {:.3}x |",
                r.cpu_s,
                r.wall_s,
                r.requests,
                r.cpu_s / r.requests * 1e6,
                r.cpu_s / theirs.cpu_s
            );
        }
    }
    floor(&exe, &server.url(), &train, asyncio_per_request)?;
    server.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Requests in each floor measurement.
const FLOOR_REQUESTS: usize = 10_000;

/// Runs the floor child (`--floor`) and prints its table: the CPU one poll costs the
/// process with no runtime at all, against the asyncio peer's CPU per request.
fn floor(
    exe: &std::path::Path,
    url: &str,
    train: &std::path::Path,
    asyncio_per_request: Option<f64>,
) -> Result<(), BoxError> {
    eprintln!("floor: {FLOOR_REQUESTS} polls each way");
    let out = Command::new(exe)
        .arg("--floor")
        .args([url, USER, PASSWORD])
        .arg(train)
        .arg(FLOOR_REQUESTS.to_string())
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "the floor child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    println!();
    println!("| floor: {FLOOR_REQUESTS} polls back to back, no runtime | CPU per request (µs) | vs asyncio's CPU per request |");
    println!("| --- | --- | --- |");
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((name, us)) = line.strip_prefix("FLOOR ").and_then(|l| l.rsplit_once('=')) else {
            continue;
        };
        let us: f64 = us.parse()?;
        let ratio = asyncio_per_request.map_or("-".into(), |a| format!("{:.3}x", us / a));
        println!("| {name} | {us:.1} | {ratio} |");
    }
    Ok(())
}

/// The floor child: `URL USER PASSWORD TRAIN.csv COUNT`.
fn floor_child(args: &[String]) -> Result<(), BoxError> {
    let [url, user, password, train, count] = args else {
        return Err("expected URL USER PASSWORD TRAIN.csv COUNT".into());
    };
    let csv = std::fs::read_to_string(train)?;
    let rows = client_floor::measure(url, user, password, &csv, count.parse()?)
        .map_err(|e| e.to_string())?;
    for (name, us) in rows {
        println!("FLOOR {name}={us:.2}");
    }
    Ok(())
}

/// The run with the median CPU time.
fn median(mut runs: Vec<Run>) -> Run {
    runs.sort_by(|a, b| a.cpu_s.total_cmp(&b.cpu_s));
    runs[runs.len() / 2]
}

/// Runs a client; parses its `RESULT cpu_s=.. wall_s=.. requests=..` line.
fn child(cmd: &mut Command) -> Result<Run, BoxError> {
    let out = cmd.output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .ok_or_else(|| {
            format!(
                "{cmd:?} printed no RESULT ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    let mut run = Run::default();
    for field in line.split_whitespace().skip(1) {
        let (key, value) = field.split_once('=').ok_or("a RESULT field without '='")?;
        let value: f64 = value.parse()?;
        match key {
            "cpu_s" => run.cpu_s = value,
            "wall_s" => run.wall_s = value,
            _ => {}
        }
    }
    Ok(run)
}

/// The taskloop client: `URL USER PASSWORD TRAIN.csv FORECAST.csv N`.
fn taskloop_client(args: &[String]) -> Result<(), BoxError> {
    let [url, user, password, train, forecast, n] = args else {
        return Err("expected URL USER PASSWORD TRAIN.csv FORECAST.csv N".into());
    };
    let n: usize = n.parse()?;
    let train = CsvSource::text("train", std::fs::read_to_string(train)?);
    let forecast = CsvSource::text("forecast", std::fs::read_to_string(forecast)?);
    let poll = PollInterval {
        initial: POLL,
        factor: 1.0,
        max: POLL,
    };
    let ctx = Context::builder(url, user, password)
        .poll_interval(poll)
        .connect()?;
    let (cpu0, t0) = (process_cpu(), Instant::now());
    let mut flow = Flow::new();
    let mut reads = Vec::with_capacity(n);
    for i in 0..n {
        let d = rentals_pipeline::declare(&ctx, &mut flow, i, &train, &forecast, NFOLD);
        reads.push(flow.try_job_after(format!("E{i}"), &d, |p| Ok(p.frame()?.rows())));
    }
    let report = flow.run();
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), process_cpu() - cpu0);
    if let Some(failed) = reads
        .iter()
        .find(|r| !matches!(r.result(), Ok(rows) if *rows > 0))
    {
        return Err(format!("a pipeline failed: {:?}\n{report}", failed.result().err()).into());
    }
    println!("RESULT cpu_s={cpu:.4} wall_s={wall:.4}");
    Ok(())
}
