//! The A, B → C story on a Ray cluster: A and B are independent Python scripts that run
//! as Ray jobs at once and write their outputs to files; C is submitted the moment both
//! have succeeded, and reads both files.
//!
//! ```text
//! cargo run --release --example ray_abc -- [DASHBOARD_URL] [--token TOKEN] [--dir DIR]
//! ```
//! `DASHBOARD_URL` defaults to `http://127.0.0.1:8265`. The token defaults to where Ray's
//! CLI looks for it (`RAY_AUTH_TOKEN`, `RAY_AUTH_TOKEN_PATH`, `~/.ray/auth_token`).
//! `--dir` is where the scripts and their outputs go (default: a new temporary
//! directory); every node that may run a job must see it, which a one-machine cluster
//! started with `ray start --head` always does (on a real cluster, use shared storage).
//!
//! Start a local Ray head first:
//! ```text
//! python3 -m venv ray-venv && ray-venv/bin/pip install "ray[default]"
//! ray-venv/bin/ray start --head --dashboard-host=127.0.0.1
//! ```
//! The program exits with 1 unless C computed the expected result.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use taskloop::flow::{Flow, ProgressView};
use taskloop::ray::{Cluster, JobSpec};

/// A: "process the training data", with Ray tasks, since it runs as a Ray driver.
const A_PY: &str = r#"
import json, sys, ray
ray.init()

@ray.remote
def clean(x):
    return 2 * x + 1

values = ray.get([clean.remote(x) for x in range(100)])
json.dump({"rows": len(values), "sum": sum(values)}, open(sys.argv[1], "w"))
print(f"A: cleaned {len(values)} training rows, sum {sum(values)}")
"#;

/// B: "process the forecast data", plain Python.
const B_PY: &str = r#"
import json, sys
values = [x * x for x in range(10)]
json.dump({"rows": len(values), "sum": sum(values)}, open(sys.argv[1], "w"))
print(f"B: prepared {len(values)} forecast rows, sum {sum(values)}")
"#;

/// C: "train", reading both outputs.
const C_PY: &str = r#"
import json, sys
train, forecast = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
score = train["sum"] / train["rows"] + forecast["sum"] / forecast["rows"]
print(f"C: trained on {train['rows']} rows, forecast {forecast['rows']} rows, score {score}")
"#;

/// What C must print: mean(2x + 1 for x < 100) + mean(x^2 for x < 10) = 100 + 28.5.
const EXPECTED: &str = "score 128.5";

struct Args {
    url: String,
    token: Option<String>,
    dir: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: "http://127.0.0.1:8265".into(),
        token: None,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--token" => args.token = Some(value()?),
            "--dir" => args.dir = Some(value()?.into()),
            url if url.starts_with("http") => args.url = url.to_string(),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// Writes the three scripts into `dir`.
fn write_scripts(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in [("a.py", A_PY), ("b.py", B_PY), ("c.py", C_PY)] {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

fn run(args: Args) -> Result<bool, Box<dyn std::error::Error>> {
    let builder = Cluster::builder(&args.url).token_from_env();
    let builder = match args.token {
        Some(token) => builder.token(token),
        None => builder,
    };
    let cluster = builder.connect()?;
    println!(
        "connected to Ray {} at {}",
        cluster.ray_version(),
        cluster.url()
    );
    let dir = args.dir.unwrap_or_else(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        std::env::temp_dir().join(format!("taskloop-ray-abc-{nanos:x}"))
    });
    write_scripts(&dir)?;
    let d = dir.display().to_string();

    let mut flow = Flow::new();
    let (da, db) = (d.clone(), d.clone());
    let a = cluster.job(&mut flow, "A: process training data", (), move |()| {
        JobSpec::new(format!("python {da}/a.py {da}/train.json"))
    });
    let b = cluster.job(&mut flow, "B: process forecast data", (), move |()| {
        JobSpec::new(format!("python {db}/b.py {db}/forecast.json"))
    });
    let c = cluster.job(&mut flow, "C: train", (&a, &b), move |(a, b)| {
        JobSpec::new(format!("python {d}/c.py {d}/train.json {d}/forecast.json"))
            .metadata("inputs", format!("{} {}", a.submission_id, b.submission_id))
    });
    flow.observe(ProgressView::new());
    let report = flow.run();
    println!("{report}");
    for job in [&a, &b, &c] {
        match job.result() {
            Ok(details) => {
                let took = details.duration().unwrap_or_default();
                println!(
                    "{} ({}, {took:.1?} on Ray):",
                    details.submission_id, details.status
                );
                println!("  {}", details.logs_tail(1));
            }
            Err(e) => println!("{e}"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(c.result().is_ok_and(|c| c.logs.contains(EXPECTED)))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}\nusage: ray_abc [DASHBOARD_URL] [--token TOKEN] [--dir DIR]");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("C did not print '{EXPECTED}'");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
