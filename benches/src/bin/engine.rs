//! The bundled AutoML engine against scikit-learn and LightGBM: the same data sets, the
//! same 5 folds, the same metrics. See the README's "Engine against scikit-learn and
//! LightGBM" and [`taskloop_benches::engine_bench`].
//!
//! `cargo run --release --bin engine [-- --rows N --sets a,b --threads T]`
//!
//! Progress goes to stderr, the tables to stdout. Exit code 2 for a bad command line, 1
//! when the Python side cannot be set up or some data set failed.

use std::path::Path;
use std::process::ExitCode;

use taskloop_benches::engine_bench::args::{parse, Args, Command, USAGE};
use taskloop_benches::engine_bench::python::Peers;
use taskloop_benches::engine_bench::report::{per_model, speed, summary, Table};
use taskloop_benches::engine_bench::{run_set, Paths, SetResult};
use taskloop_benches::print_table;

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Command::Run(args)) => args,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("engine: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("engine: {message}");
            ExitCode::from(1)
        }
    }
}

/// Runs every data set and prints the tables; `Ok(false)` when some set failed.
fn run(args: &Args) -> Result<bool, String> {
    let paths = Paths::under(Path::new(env!("CARGO_MANIFEST_DIR")));
    let peers = Peers::setup(&paths.venv, paths.script.clone())?;
    std::fs::create_dir_all(&paths.data).map_err(|e| format!("{}: {e}", paths.data.display()))?;
    let sets = peers.make_data(&paths.data, args.rows, &args.sets)?;
    let mut results: Vec<SetResult> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    for set in &sets {
        eprintln!("[engine] {} ({} rows)", set.name, set.rows);
        match run_set(&peers, set, args) {
            Ok(result) => results.push(result),
            Err(message) => failures.push(format!("{}: {message}", set.name)),
        }
    }
    print_report(&results, args.threads);
    for failure in &failures {
        println!("FAILED {failure}");
    }
    Ok(failures.is_empty())
}

/// The three tables and what they were measured with.
fn print_report(results: &[SetResult], threads: usize) {
    let show = |title: &str, (header, rows): Table| {
        println!("\n### {title}\n");
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        print_table(&header, &rows);
    };
    show(
        "Engine against the best peer (5-fold CV, same folds)",
        summary(results),
    );
    show("Every model", per_model(results));
    show("Speed: GBM alone against LightGBM", speed(results, threads));
    let versions = results.first().map_or("n/a", |r| r.versions.as_str());
    println!(
        "\nPeers: {versions}. Threads: {threads} on both sides (the engine's \
         TrainSpec::threads, folds fitted at once; the peers' n_jobs, num_threads and \
         OMP_NUM_THREADS). Times are wall-clock seconds of the 5 fold fits and scorings; \
         `server total` adds the final fits on all rows."
    );
}
