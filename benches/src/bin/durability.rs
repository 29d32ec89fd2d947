//! What `--data-dir` costs the bundled server: the same uploads, trains and predicts on
//! an `automl-server` in memory and on one with a data directory (latency one at a
//! time, throughput all at once, the ratio), the cost of a submit on the server's loop
//! thread, restart time and memory with 1,000 stored objects, and the floor under a
//! durable file write.
//!
//! ```sh
//! cargo build --release --bin automl-server     # in the repository root
//! cd benches
//! cargo run --release --bin durability          # all sections (about 90 s)
//! cargo run --release --bin durability -- restart   # only sections named so
//! ```
//!
//! Sections: `floor`, `work`, `restart`. The server runs as the real binary, a child
//! process per server (see the README for why); the data directories live under
//! `target/durability/` and are removed at the end. Tables to stdout, progress to
//! stderr; the exit code is 1 if a section failed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use taskloop_benches::durability::work::{op_names, ModeFigures, TINY_SUBMITS};
use taskloop_benches::durability::{floor, restart, server, work, BoxError};
use taskloop_benches::{percentile, print_table};

const SECTIONS: [&str; 3] = ["floor", "work", "restart"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(bad) = args.iter().find(|a| !SECTIONS.contains(&a.as_str())) {
        eprintln!("unknown section {bad:?}; sections: {SECTIONS:?}");
        return ExitCode::from(2);
    }
    let wanted = |s: &str| args.is_empty() || args.iter().any(|a| a == s);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/durability");
    let begun = Instant::now();
    let result = run(&root, &wanted);
    let _ = std::fs::remove_dir_all(&root);
    eprintln!("done in {:.1} s", begun.elapsed().as_secs_f64());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(root: &Path, wanted: &dyn Fn(&str) -> bool) -> Result<(), BoxError> {
    let _ = std::fs::remove_dir_all(root);
    if wanted("floor") {
        eprintln!("-- floor: durable writes alone");
        print_floor(&root.join("floor"))?;
    }
    let binary = server::binary()?;
    if wanted("work") {
        eprintln!("-- work: in memory");
        let memory = work::run_mode(&binary, None)?;
        eprintln!("-- work: with --data-dir");
        let dir: PathBuf = root.join("work");
        let disk = work::run_mode(&binary, Some(&dir))?;
        print_work(&memory, &disk);
    }
    if wanted("restart") {
        eprintln!("-- restart with 1,000 stored objects");
        let figures = restart::run(&binary, &root.join("restart"))?;
        print_restart(&figures);
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn ratio(a: f64, b: f64) -> String {
    format!("{:.2}x", a / b)
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn print_floor(dir: &Path) -> Result<(), BoxError> {
    println!("## Floor: one durable file write, step by step (median of 20, ms)\n");
    let mut rows = Vec::new();
    for bytes in [10_000, 5_000_000] {
        let s = floor::measure(dir, bytes, 20)?;
        rows.push(vec![
            format!("{} KB", bytes / 1000),
            ms(s.write),
            ms(s.fsync_file),
            ms(s.rename),
            ms(s.fsync_dir),
            ms(s.total()),
        ]);
    }
    let header = [
        "file",
        "write",
        "fsync file",
        "rename",
        "fsync dir",
        "total",
    ];
    print_table(&header, &rows);
    println!();
    Ok(())
}

fn print_work(memory: &ModeFigures, disk: &ModeFigures) {
    println!("## The same work in memory and with --data-dir\n");
    let mut latency = Vec::new();
    let mut throughput = Vec::new();
    for (i, (name, bytes, one, many)) in op_names().into_iter().enumerate() {
        let (m, d) = (&memory.ops[i], &disk.ops[i]);
        latency.push(vec![
            format!("{name} (x{one})"),
            format!("{:.2} / {:.2}", m.latency_ms.0, m.latency_ms.1),
            format!("{:.2} / {:.2}", d.latency_ms.0, d.latency_ms.1),
            ratio(d.latency_ms.0, m.latency_ms.0),
            format!("{:.2}", m.store_ms),
            format!("{:.2}", d.store_ms),
        ]);
        let mb = |f: f64| bytes.map_or("".into(), |b| format!(" ({:.1} MB/s)", f * b as f64 / 1e6));
        throughput.push(vec![
            format!("{name} (x{many})"),
            format!("{:.1}{}", m.ops_per_s, mb(m.ops_per_s)),
            format!("{:.1}{}", d.ops_per_s, mb(d.ops_per_s)),
            ratio(m.ops_per_s, d.ops_per_s),
        ]);
    }
    println!("One at a time: submit (client) to done (server), ms, median / p90; store = from the product named to done (writing, committing, storing), median ms.\n");
    let header = [
        "operation",
        "memory p50 / p90",
        "data-dir p50 / p90",
        "p50 ratio",
        "store, memory",
        "store, data-dir",
    ];
    print_table(&header, &latency);
    println!("\nAll at once (2 workers): operations per second from the first submit to the last done.\n");
    let header = [
        "operation",
        "memory ops/s",
        "data-dir ops/s",
        "memory / data-dir",
    ];
    print_table(&header, &throughput);
    println!("\nSubmits back to back ({TINY_SUBMITS} each): round trip in µs (p50 / p90 / p99 / max), and the server loop thread's CPU per request.\n");
    let mut rows = Vec::new();
    for (mode, f) in [("memory", memory), ("data-dir", disk)] {
        let s = &f.submits;
        rows.push(vec![
            "GET /v2/worker/status".into(),
            mode.into(),
            quantiles(&s.status_us),
            format!("{:.1}", s.loop_us_per_status),
        ]);
        rows.push(vec![
            "POST /v2/upload (8-byte CSV)".into(),
            mode.into(),
            quantiles(&s.upload_us),
            format!("{:.1}", s.loop_us_per_upload),
        ]);
    }
    let header = ["request", "server", "round trip µs", "loop CPU µs/request"];
    print_table(&header, &rows);
    println!();
}

fn quantiles(sorted: &[i64]) -> String {
    let at = |p| percentile(sorted, p).map_or("?".into(), |v| v.to_string());
    format!("{} / {} / {} / {}", at(50.0), at(90.0), at(99.0), at(100.0))
}

fn print_restart(f: &restart::Figures) {
    let o = &f.original;
    println!(
        "## Restart with 1,000 stored objects\n\n{} uploads ({:.1} MB of CSV), {} trains (GLM + GBM), {} predicts: {} files, {:.1} MB on disk, made in {:.1} s.\n",
        restart::UPLOADS,
        o.csv_bytes as f64 / 1e6,
        restart::TRAINS,
        restart::PREDICTS,
        o.files,
        o.disk_bytes as f64 / 1e6,
        o.build_seconds
    );
    let mut warm = f.warm.clone();
    warm.sort_by_key(|r| r.to_first_get);
    let mut rows = vec![vec![
        "original server (made the objects)".into(),
        "".into(),
        "".into(),
        mib(o.rss_kib),
        mib(o.hwm_kib),
        format!("{:.1}", o.stored_bytes as f64 / (1 << 20) as f64),
    ]];
    let mut row = |name: String, r: &restart::Restart| {
        rows.push(vec![
            name,
            ms(r.to_listening),
            ms(r.to_first_get),
            mib(r.rss_kib),
            mib(r.hwm_kib),
            format!("{:.1}", r.stored_bytes as f64 / (1 << 20) as f64),
        ])
    };
    row("start without a data directory".into(), &f.empty);
    if let Some(median) = warm.get((warm.len().max(1) - 1) / 2) {
        let spread: Vec<String> = warm.iter().map(|r| ms(r.to_first_get)).collect();
        row(
            format!(
                "restart, page cache warm (median of {}; first GET {} ms)",
                warm.len(),
                spread.join(", ")
            ),
            median,
        );
    }
    row(
        "restart, directory evicted from the page cache".into(),
        &f.cold,
    );
    let header = [
        "server",
        "start → listening (ms)",
        "start → first GET of the oldest object (ms)",
        "VmRSS (MiB)",
        "VmHWM (MiB)",
        "stored (MiB)",
    ];
    print_table(&header, &rows);
    println!();
}
