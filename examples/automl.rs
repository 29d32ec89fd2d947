//! The main demo: the Decanter-style AutoML workflow on taskloop.
//!
//! Upload the training data (A) and the forecast data (B) at once; train (C, after A)
//! with GLM, DRF and GBM; predict (D, after C and B); download the predictions and print the
//! chosen model and its scores. Every call returns a job handle at once; the flow runs
//! each job the moment its inputs are ready, with live progress.
//!
//! ```text
//! cargo run --release --example automl -- [--server URL --user U --password P]
//!     [--experiments N] [--trace PATH] [--svg PATH] [--quiet]
//! ```
//! Without `--server` it starts the bundled AutoML server in-process on 127.0.0.1:0.
//! The data are generated deterministically: daily bike rentals (target `rentals`)
//! from the hour, temperature, humidity, working day and season.

use std::fmt::Write as _;

#[path = "common/rentals.rs"]
mod rentals;
use rentals::rentals_csv;
#[path = "common/cli.rs"]
mod cli;
use cli::{Cli, Opt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::time::{Duration, Instant};
use taskloop::automl::{
    serve, Context, CsvSource, Experiment, Faults, PredictInput, Predictions, ServerConfig,
    TrainInput,
};
use taskloop::flow::{Flow, GanttRecorder, Job, JobStatus, ProgressView, Report, TraceRecorder};

const FEATURES: [&str; 5] = ["hour", "temp", "humidity", "workingday", "season"];

struct Args {
    server: Option<String>,
    user: String,
    password: String,
    experiments: usize,
    trace: Option<TraceRecorder>,
    svg: Option<GanttRecorder>,
    quiet: bool,
    faults: Faults,
}

const CLI: Cli = Cli {
    name: "automl",
    about: "The Decanter-style AutoML workflow on taskloop: upload training data (A) and \
            forecast data (B) at once, train GLM, DRF and GBM (C) as soon as A is in, \
            predict (D) once C and B are done. Without --server it starts the bundled \
            AutoML server in-process on 127.0.0.1:0.",
    options: &[
        Opt {
            flag: "--server",
            value: Some("URL"),
            help: "another server speaking the API (http:// or https://)",
        },
        Opt {
            flag: "--user",
            value: Some("U"),
            help: "its user name (required with --server)",
        },
        Opt {
            flag: "--password",
            value: Some("P"),
            help: "its password (required with --server)",
        },
        Opt {
            flag: "--experiments",
            value: Some("N"),
            help: "run N pipelines at once (default 1)",
        },
        cli::TRACE,
        cli::SVG,
        Opt {
            flag: "--fault-drop-rate",
            value: Some("F"),
            help: "bundled server: drop this fraction of requests, 0 to 1",
        },
        Opt {
            flag: "--fault-503-rate",
            value: Some("F"),
            help: "bundled server: answer this fraction of requests with 503",
        },
        Opt {
            flag: "--fault-latency-ms",
            value: Some("N"),
            help: "bundled server: delay every request by N ms",
        },
        Opt {
            flag: "--quiet",
            value: None,
            help: "no live progress view",
        },
    ],
};

fn parse_args() -> Args {
    let mut args = Args {
        server: None,
        user: String::new(),
        password: String::new(),
        experiments: 1,
        trace: None,
        svg: None,
        quiet: false,
        faults: Faults::default(),
    };
    for (flag, value) in CLI.parse() {
        let value = value.unwrap_or_default();
        match flag {
            "--server" => args.server = Some(value),
            "--user" => args.user = value,
            "--password" => args.password = value,
            "--experiments" => args.experiments = CLI.number(flag, &value),
            "--trace" => args.trace = Some(CLI.trace_file(flag, &value)),
            "--svg" => args.svg = Some(CLI.gantt_file(flag, &value)),
            "--fault-drop-rate" => args.faults.drop_rate = rate(flag, &value),
            "--fault-503-rate" => args.faults.rate_503 = rate(flag, &value),
            "--fault-latency-ms" => {
                args.faults.latency = Duration::from_millis(CLI.number(flag, &value));
            }
            _ => args.quiet = true,
        }
    }
    if args.experiments == 0 {
        CLI.fail("--experiments must be at least 1");
    }
    match &args.server {
        Some(_) if args.user.is_empty() || args.password.is_empty() => {
            CLI.fail("--server needs --user and --password")
        }
        Some(_) => {}
        None => {
            // The bundled server takes whatever credentials it is started with.
            if args.user.is_empty() {
                args.user = "demo".into();
            }
            if args.password.is_empty() {
                args.password = "demo-password".into();
            }
        }
    }
    args
}

/// A fraction from 0 to 1.
fn rate(flag: &str, value: &str) -> f64 {
    let rate: f64 = CLI.number(flag, value);
    if !(0.0..=1.0).contains(&rate) {
        CLI.fail(&format!("{flag} must be between 0 and 1"));
    }
    rate
}

fn main() -> ExitCode {
    let mut args = parse_args();
    match run(&mut args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type Pipeline = (Job<Experiment>, Job<Predictions>);

fn run(args: &mut Args) -> Result<bool, Box<dyn std::error::Error>> {
    // The embedded default: the bundled server, in-process, on a free loopback port.
    let embedded = match &args.server {
        Some(_) => None,
        None => Some(serve(ServerConfig {
            workers: 2,
            faults: args.faults.clone(),
            ..ServerConfig::new(&args.user, &args.password)
        })?),
    };
    let url = match (&args.server, &embedded) {
        (Some(url), _) => url.clone(),
        (None, Some(server)) => server.url(),
        (None, None) => unreachable!("one of the two is set"),
    };
    println!(
        "AutoML server: {url}{}",
        if embedded.is_some() {
            " (bundled, in-process)"
        } else {
            ""
        }
    );
    let ctx = Context::connect(&url, &args.user, &args.password)?;

    let dir = std::env::temp_dir().join(format!("taskloop-automl-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (train_csv, forecast_csv) = (dir.join("train.csv"), dir.join("forecast.csv"));
    std::fs::write(&train_csv, rentals_csv(3_000, 7, false))?;
    std::fs::write(&forecast_csv, rentals_csv(500, 8, true))?;

    let mut flow = Flow::new();
    flow.limit("uploads", 4);
    let pipelines: Vec<Pipeline> = (0..args.experiments)
        .map(|i| declare(&ctx, &mut flow, i, &train_csv, &forecast_csv))
        .collect();
    if !args.quiet {
        flow.observe(ProgressView::new());
    }
    if let Some(recorder) = args.trace.take() {
        flow.observe(recorder);
    }
    if let Some(recorder) = args.svg.take() {
        flow.observe(recorder);
    }

    let report = flow.run();
    if let Some((train, predict)) = pipelines.first() {
        print_pipeline(0, train, predict, &dir)?;
    }
    if pipelines.len() == 1 {
        println!("\n{report}");
    } else {
        print!("\n{}", summary_table(&pipelines));
        println!("\n{}", counts(&report));
    }
    print!("{}", overlap(&report));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report.is_success())
}

/// One line per pipeline: its status, the best model and its cross-validated scores.
fn summary_table(pipelines: &[Pipeline]) -> String {
    let mut out = format!(
        "{:<9} {:<9} {:<4} {:>10} {:>7}  predictions\n",
        "pipeline", "status", "best", "deviance", "r2"
    );
    let mut done = 0;
    for (i, (train, predict)) in pipelines.iter().enumerate() {
        let line = match (train.result(), predict.result()) {
            (Ok(exp), Ok(p)) => {
                done += 1;
                let best = exp.best_model("auto");
                let score = |k: &str| {
                    best.and_then(|m| m.cv_averages.get(k))
                        .map_or("-".into(), |v| format!("{v:.3}"))
                };
                let algo = best.map_or("-", |m| m.algo.as_str());
                format!(
                    "{:<9} {:<4} {:>10} {:>7}  {}",
                    "done",
                    algo,
                    score("deviance"),
                    score("r2"),
                    p.data_id
                )
            }
            (Err(e), _) | (Ok(_), Err(e)) => format!("{:<9} {e}", "failed"),
        };
        let _ = writeln!(out, "{i:<9} {line}");
    }
    let _ = writeln!(
        out,
        "{done} of {} pipelines done, {} failed",
        pipelines.len(),
        pipelines.len() - done
    );
    out
}

/// The report's counts, without the table of every job.
fn counts(report: &Report) -> String {
    format!(
        "jobs: {} done, {} failed, {} cancelled, {} skipped after a failed input, in {:.1} s",
        report.count(JobStatus::Done),
        report.count(JobStatus::Failed),
        report.count(JobStatus::Cancelled),
        report.count(JobStatus::UpstreamFailed),
        report.wall_time.as_secs_f64()
    )
}

/// Says in words what ran at once in pipeline 0: A and B, then D as soon as C and B.
fn overlap(report: &Report) -> String {
    let span = |prefix: &str| {
        let job = report.jobs.iter().find(|j| j.name.starts_with(prefix))?;
        Some((job.started?, job.finished?))
    };
    let ms = |t: Instant| report.offset(t).as_secs_f64() * 1e3;
    let mut out = String::new();
    if let (Some(a), Some(b)) = (span("A0"), span("B0")) {
        let (from, to) = (a.0.max(b.0), a.1.min(b.1));
        if from < to {
            let _ = writeln!(
                out,
                "A0 and B0 ran at once: both uploads were under way from {:.1} ms to {:.1} ms.",
                ms(from),
                ms(to)
            );
        }
    }
    if let (Some(b), Some(c), Some(d)) = (span("B0"), span("C0"), span("D0")) {
        let ready = b.1.max(c.1);
        let _ = writeln!(
            out,
            "D0 started {:.2} ms after the later of C0 and B0 finished (at {:.1} ms): no waiting for anything else.",
            d.0.saturating_duration_since(ready).as_secs_f64() * 1e3,
            ms(ready)
        );
    }
    out
}

/// A, B → C → D for pipeline `i`.
fn declare(ctx: &Context, flow: &mut Flow, i: usize, train: &Path, forecast: &Path) -> Pipeline {
    let a = ctx.upload(
        flow,
        format!("A{i}: upload training data"),
        CsvSource::path(train).named(format!("rentals-train-{i}")),
    );
    let b = ctx.upload(
        flow,
        format!("B{i}: upload forecast data"),
        CsvSource::path(forecast).named(format!("rentals-forecast-{i}")),
    );
    let a = a.limit("uploads").retries(2);
    let b = b.limit("uploads").retries(2);
    let spec = TrainInput::new(&a, "rentals")
        .algos(["GLM", "DRF", "GBM"])
        .nfold(5)
        .seed(i as u64)
        .features(FEATURES);
    let c = ctx.train(flow, format!("C{i}: train GLM + DRF + GBM"), spec);
    let d = ctx.predict(
        flow,
        format!("D{i}: predict"),
        PredictInput::new(&b, &c).keep_columns(["id"]),
    );
    (c, d)
}

fn print_pipeline(
    i: usize,
    train: &Job<Experiment>,
    predict: &Job<Predictions>,
    dir: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    println!("\n== pipeline {i}");
    let exp = match train.result() {
        Ok(exp) => exp,
        Err(e) => {
            println!("training: {e}");
            return Ok(());
        }
    };
    print!("{}", models_table(&exp));
    let best = exp
        .best_model("auto")
        .map(|m| format!("{} ({})", m.algo, m.id))
        .unwrap_or_else(|| "none".into());
    println!("chosen model (best by {}): {best}", exp.metric_for("auto"));
    match predict.result() {
        Ok(p) => {
            let path: PathBuf = dir.join(format!("predictions-{i}.csv"));
            let bytes = p.download(&path)?;
            println!(
                "predictions: data {} by model {}, {bytes} bytes downloaded",
                p.data_id, p.model_id
            );
            let text = std::fs::read_to_string(&path)?;
            for line in text.lines().take(6) {
                println!("    {line}");
            }
        }
        Err(e) => println!("prediction: {e}"),
    }
    Ok(())
}

fn models_table(exp: &Experiment) -> String {
    let mut out = format!(
        "experiment {} ({} target '{}'):\n",
        exp.id, exp.model_type, exp.target
    );
    for m in &exp.models {
        let score = |k: &str| {
            m.cv_averages
                .get(k)
                .map_or("-".into(), |v| format!("{v:.3}"))
        };
        let _ = writeln!(
            out,
            "  {:<4} {:<24} cv deviance {:>9}  rmse {:>7}  mae {:>7}  r2 {:>6}",
            m.algo,
            m.id,
            score("deviance"),
            score("rmse"),
            score("mae"),
            score("r2")
        );
    }
    out
}
