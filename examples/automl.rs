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
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use taskloop::automl::{
    serve, Context, CsvSource, Experiment, PredictInput, Predictions, ServerConfig, TrainInput,
};
use taskloop::flow::{Flow, GanttOptions, GanttRecorder, Job, ProgressView, TraceRecorder};

const FEATURES: [&str; 5] = ["hour", "temp", "humidity", "workingday", "season"];

struct Args {
    server: Option<String>,
    user: String,
    password: String,
    experiments: usize,
    trace: Option<String>,
    svg: Option<String>,
    quiet: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        server: None,
        user: "demo".into(),
        password: "demo-password".into(),
        experiments: 1,
        trace: None,
        svg: None,
        quiet: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--server" => args.server = Some(value()?),
            "--user" => args.user = value()?,
            "--password" => args.password = value()?,
            "--experiments" => {
                args.experiments = value()?
                    .parse()
                    .map_err(|e| format!("--experiments: {e}"))?
            }
            "--trace" => args.trace = Some(value()?),
            "--svg" => args.svg = Some(value()?),
            "--quiet" => args.quiet = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.experiments == 0 {
        return Err("--experiments must be at least 1".into());
    }
    Ok(args)
}

const USAGE: &str = "usage: automl [--server URL --user U --password P] [--experiments N] [--trace PATH] [--svg PATH] [--quiet]";

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type Pipeline = (Job<Experiment>, Job<Predictions>);

fn run(args: &Args) -> Result<bool, Box<dyn std::error::Error>> {
    // The embedded default: the bundled server, in-process, on a free loopback port.
    let embedded = match &args.server {
        Some(_) => None,
        None => Some(serve(ServerConfig {
            workers: 2,
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
    if let Some(path) = &args.trace {
        flow.observe(TraceRecorder::to_file(path));
    }
    if let Some(path) = &args.svg {
        flow.observe(GanttRecorder::to_file(path, GanttOptions::default()));
    }

    let report = flow.run();
    for (i, (train, predict)) in pipelines.iter().enumerate() {
        print_pipeline(i, train, predict, &dir, i == 0)?;
    }
    println!("\n{report}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report.is_success())
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
    show_rows: bool,
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
            if show_rows {
                let text = std::fs::read_to_string(&path)?;
                for line in text.lines().take(6) {
                    println!("    {line}");
                }
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
