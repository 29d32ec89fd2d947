//! Runs the same workloads on taskloop, tokio (current_thread) and smol (LocalExecutor)
//! and prints a markdown table of median times and ratios.
//!
//! `cargo run --release --bin runtime [-- NAME_FILTER...]` — with filters, only workloads
//! whose name contains one of them run (e.g. `-- sleep`).

use std::time::Instant;
use taskloop_benches::workloads::{blocking, mpsc, mutex, ping_pong, sleeps, spawn, yields};
use taskloop_benches::{
    fmt_ratio, fmt_time, new_smol, new_taskloop, new_tokio, print_table, repeat, run_cell, Cell,
    Sample, MEASURED_RUNS, WARMUP_RUNS,
};

/// One workload: its table name and its three implementations.
struct Workload {
    name: &'static str,
    taskloop: fn(&taskloop::Runtime) -> Sample,
    tokio: fn(&tokio::runtime::Runtime) -> Sample,
    smol: fn(&smol::LocalExecutor<'_>) -> Sample,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "spawn 25k empty tasks",
        taskloop: spawn::taskloop,
        tokio: spawn::tokio,
        smol: spawn::smol,
    },
    Workload {
        name: "200 tasks x 1k yield_now",
        taskloop: yields::taskloop,
        tokio: yields::tokio,
        smol: yields::smol,
    },
    Workload {
        name: "1k oneshot ping-pong pairs x 10",
        taskloop: ping_pong::taskloop,
        tokio: ping_pong::tokio,
        smol: ping_pong::smol,
    },
    Workload {
        name: "100 batches x 16 spawn_blocking",
        taskloop: blocking::taskloop,
        tokio: blocking::tokio,
        smol: blocking::smol,
    },
    Workload {
        name: "mpsc 4 x 25k msgs, capacity 128",
        taskloop: mpsc::taskloop,
        tokio: mpsc::tokio,
        smol: mpsc::smol,
    },
    Workload {
        name: "Mutex 50 tasks x 1k locks, contended",
        taskloop: mutex::taskloop,
        tokio: mutex::tokio,
        smol: mutex::smol,
    },
    Workload {
        name: "10k sleeps 1-100 ms",
        taskloop: sleeps::taskloop,
        tokio: sleeps::tokio,
        smol: sleeps::smol,
    },
];

/// The three cells of one workload, each run on its own thread with a fresh runtime.
fn run_workload(w: &Workload) -> [Cell; 3] {
    let (tl, tk, sm) = (w.taskloop, w.tokio, w.smol);
    let cell = |runtime: &str, body: Box<dyn FnOnce() -> Vec<Sample> + Send>| {
        let label = format!("{runtime}: {}", w.name);
        let begun = Instant::now();
        let cell = run_cell(&label, body);
        match &cell {
            Cell::Done { median, .. } => eprintln!(
                "  {label}: median {:.2} ms ({:.1} s for the cell)",
                median.as_secs_f64() * 1e3,
                begun.elapsed().as_secs_f64()
            ),
            Cell::Failed(why) => eprintln!("  {label}: {why}"),
        }
        cell
    };
    [
        cell(
            "taskloop",
            Box::new(move || {
                let rt = new_taskloop();
                repeat(|| tl(&rt))
            }),
        ),
        cell(
            "tokio",
            Box::new(move || {
                let rt = new_tokio();
                repeat(|| tk(&rt))
            }),
        ),
        cell(
            "smol",
            Box::new(move || {
                let ex = new_smol();
                repeat(|| sm(&ex))
            }),
        ),
    ]
}

fn secs(cell: &Cell) -> Option<f64> {
    cell.median().map(|d| d.as_secs_f64())
}

/// One table row: the three values and the taskloop/tokio and taskloop/smol ratios.
fn row(
    name: String,
    cells: &[Cell; 3],
    value: impl Fn(&Cell) -> (String, Option<f64>),
) -> Vec<String> {
    let [(tl, tl_n), (tk, tk_n), (sm, sm_n)] = [&cells[0], &cells[1], &cells[2]].map(value);
    vec![
        name,
        tl,
        tk,
        sm,
        fmt_ratio(tl_n, tk_n),
        fmt_ratio(tl_n, sm_n),
    ]
}

fn main() {
    let filters: Vec<String> = std::env::args().skip(1).collect();
    eprintln!(
        "taskloop vs tokio current_thread vs smol LocalExecutor: {WARMUP_RUNS} warm-up + \
         {MEASURED_RUNS} measured runs per cell, median reported"
    );
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for w in WORKLOADS {
        if !filters.is_empty() && !filters.iter().any(|f| w.name.contains(f.as_str())) {
            continue;
        }
        eprintln!("{}", w.name);
        let cells = run_workload(w);
        for (runtime, cell) in ["taskloop", "tokio", "smol"].iter().zip(&cells) {
            if let Cell::Failed(why) = cell {
                failures.push(format!("{runtime} / {}: {why}", w.name));
            }
        }
        rows.push(row(w.name.to_string(), &cells, |c| (fmt_time(c), secs(c))));
        if cells
            .iter()
            .any(|c| matches!(c, Cell::Done { lateness_us, .. } if !lateness_us.is_empty()))
        {
            for p in [50.0, 99.0] {
                let name = format!("sleeps: lateness p{p} (µs)");
                rows.push(row(name, &cells, |c| match c.lateness_percentile(p) {
                    Some(us) => (us.to_string(), Some(us as f64)),
                    None => ("n/a".to_string(), None),
                }));
            }
        }
    }
    println!();
    print_table(
        &[
            "workload",
            "taskloop",
            "tokio",
            "smol",
            "taskloop/tokio",
            "taskloop/smol",
        ],
        &rows,
    );
    if !failures.is_empty() {
        println!();
        println!("Failed cells:");
        for f in &failures {
            println!("- {f}");
        }
    }
    // A hung cell's thread is still running; leave without waiting for it.
    std::process::exit(if failures.is_empty() { 0 } else { 1 });
}
