//! The A, B → C story: process training data (A) and forecast data (B), which are
//! independent, then train a model (C), which needs both.
//!
//! Written plainly, A, B and C would run one after another. On a taskloop flow, A and B
//! run at once on the worker pool and C starts the moment both are done. The work is
//! real: each data job generates a CSV text, parses it line by line and summarises it;
//! the training job fits a line by gradient descent and forecasts.
//!
//! ```text
//! cargo run --release --example abc -- [--rows N] [--trace PATH] [--svg PATH]
//! ```
//! `--trace` writes a Chrome trace (open it at ui.perfetto.dev); `--svg` a Gantt chart.

use std::time::Instant;

use taskloop::flow::{BoxError, Event, Flow, GanttRecorder, TraceRecorder};

#[path = "common/cli.rs"]
mod cli;
use cli::{Cli, Opt};

/// Parsed `x,y` rows.
struct Data {
    x: Vec<f64>,
    y: Vec<f64>,
}

/// Generates `rows` rows of `x,y` with y = 2.5x + 1 + noise, as CSV text.
fn generate(rows: usize, seed: u64) -> String {
    let mut state = seed;
    let mut csv = String::with_capacity(rows * 24);
    csv.push_str("x,y\n");
    for i in 0..rows {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let noise = ((state >> 33) as f64 / (1u64 << 31) as f64) - 0.5;
        let x = (i % 1000) as f64 / 100.0;
        csv.push_str(&format!("{x:.3},{:.4}\n", 2.5 * x + 1.0 + noise));
    }
    csv
}

/// Parses the CSV text, reporting progress every tenth of the way.
fn parse(csv: &str) -> Result<Data, BoxError> {
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    let mut data = Data {
        x: Vec::with_capacity(lines.len()),
        y: Vec::with_capacity(lines.len()),
    };
    let step = (lines.len() / 10).max(1);
    for (i, line) in lines.iter().enumerate() {
        let (x, y) = line
            .split_once(',')
            .ok_or_else(|| format!("line {}: no comma", i + 2))?;
        data.x.push(x.parse()?);
        data.y.push(y.parse()?);
        if i % step == 0 {
            taskloop::flow::progress(i as f64 / lines.len() as f64, "parsing");
        }
    }
    Ok(data)
}

fn process(rows: usize, seed: u64) -> Result<Data, BoxError> {
    let csv = generate(rows, seed);
    let data = parse(&csv)?;
    let mean = data.y.iter().sum::<f64>() / data.y.len() as f64;
    taskloop::flow::progress(1.0, format!("{} rows, mean y {mean:.3}", data.y.len()));
    Ok(data)
}

/// Fits y = a·x + b by gradient descent on `train`, then forecasts the mean of `forecast`.
fn train(train: &Data, forecast: &Data) -> (f64, f64, f64) {
    let (mut a, mut b) = (0.0, 0.0);
    let n = train.x.len() as f64;
    for epoch in 0..150 {
        let (mut ga, mut gb) = (0.0, 0.0);
        for (x, y) in train.x.iter().zip(&train.y) {
            let err = a * x + b - y;
            ga += err * x;
            gb += err;
        }
        a -= 0.02 * ga / n;
        b -= 0.02 * gb / n;
        if epoch % 15 == 0 {
            taskloop::flow::progress(epoch as f64 / 150.0, format!("epoch {epoch}"));
        }
    }
    let predicted = forecast.x.iter().map(|x| a * x + b).sum::<f64>() / forecast.x.len() as f64;
    (a, b, predicted)
}

struct Args {
    rows: usize,
    trace: Option<TraceRecorder>,
    svg: Option<GanttRecorder>,
}

const CLI: Cli = Cli {
    name: "abc",
    about: "A and B (independent data jobs) at once on the worker pool, then C (training) \
            the moment both are done.",
    options: &[
        Opt {
            flag: "--rows",
            value: Some("N"),
            help: "rows of training data (default 400000; B gets half)",
        },
        cli::TRACE,
        cli::SVG,
    ],
};

fn parse_args() -> Args {
    let mut args = Args {
        rows: 400_000,
        trace: None,
        svg: None,
    };
    for (flag, value) in CLI.parse() {
        let value = value.unwrap_or_default();
        match flag {
            "--rows" => args.rows = CLI.number(flag, &value),
            "--trace" => args.trace = Some(CLI.trace_file(flag, &value)),
            _ => args.svg = Some(CLI.gantt_file(flag, &value)),
        }
    }
    args
}

fn main() {
    let mut args = parse_args();
    let mut flow = Flow::new();
    let rows = args.rows;
    let a = flow.try_job("A: process training data", move || process(rows, 1));
    let b = flow.try_job("B: process forecast data", move || process(rows / 2, 2));
    let c = flow.job_after("C: train", (&a, &b), |(tr, fc)| train(&tr, &fc));

    let t0 = Instant::now();
    flow.observe(move |e: &Event<'_>| match e {
        Event::Started { job, .. } => println!("[{:>8.1} ms] start  {}", ms(t0, e.at()), job.name),
        Event::Finished { job, status, .. } => {
            println!("[{:>8.1} ms] {status:<6} {}", ms(t0, e.at()), job.name)
        }
        _ => {}
    });
    if let Some(recorder) = args.trace.take() {
        flow.observe(recorder);
    }
    if let Some(recorder) = args.svg.take() {
        flow.observe(recorder);
    }

    let report = flow.run();
    match c.result() {
        Ok(model) => println!(
            "\nmodel: y = {:.3}x + {:.3}; forecast mean {:.3}",
            model.0, model.1, model.2
        ),
        Err(e) => println!("\ntraining failed: {e}"),
    }
    explain(&report);
    println!("\n{report}");
    if !report.is_success() {
        std::process::exit(1);
    }
}

/// Says in words what the timestamps show.
fn explain(report: &taskloop::flow::Report) {
    let span = |i: usize| (report.jobs[i].started, report.jobs[i].finished);
    if let ((Some(a0), Some(a1)), (Some(b0), Some(b1)), (Some(c0), _)) = (span(0), span(1), span(2))
    {
        let overlap = a0.max(b0) < a1.min(b1);
        let gap = c0.saturating_duration_since(a1.max(b1));
        println!("A and B overlapped: {}", if overlap { "yes" } else { "no" });
        println!(
            "C started {:.2} ms after the later of A and B finished",
            gap.as_secs_f64() * 1e3
        );
    }
}

fn ms(t0: Instant, t: Instant) -> f64 {
    t.saturating_duration_since(t0).as_secs_f64() * 1e3
}
