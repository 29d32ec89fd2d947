//! The AutoML client at scale: N pipelines (upload A and B → train C → predict D) in one
//! flow against the bundled server, in-process. For each N: the loop thread's CPU time
//! (total and per pipeline), wall time, HTTP requests per pipeline, peak memory, and how
//! they grow from 20 to 200 to 2,000 pipelines.
//!
//! `cargo run --release --bin automl [-- N...]` (default N = 20 200 2000).
//!
//! Every run is a fresh child process (this binary re-executed with the hidden argument
//! `--one N`), so the peak resident set (`VmHWM`) read at the end of the child is that
//! run's alone. Per N there are [`MEASURED_RUNS`] measured children (the tables show the
//! one with the median loop CPU time, and the spread) and one more (`--one N --heap`) that
//! repeats the run with heap accounting switched on (see [`Heap`]) to split the retained
//! memory between the client and the server; its times are not reported, so the measured
//! children's CPU figures carry no counting cost. Each child prints one
//! `RESULT key=value ...` line on stdout; the parent collects them and prints the tables.
//! Progress goes to stderr.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// The demo's generator, shared with `examples/automl.rs`.
#[path = "../../../examples/common/rentals.rs"]
mod rentals;
use rentals::rentals_csv;
use std::io::Read as _;
use std::process::{Command, ExitCode, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use taskloop::automl::{serve, Context, CsvSource, PollInterval, ServerConfig, ServerStats};
use taskloop::flow::{Event, Flow};
use taskloop_benches::{print_table, rentals_pipeline};

/// Measured child processes per N; the tables show the one with the median loop CPU time,
/// and the spread of loop CPU per pipeline over all of them.
const MEASURED_RUNS: usize = 3;
/// Pipeline counts measured when none are given.
const DEFAULT_SIZES: [usize; 3] = [20, 200, 2000];
/// Rows of the training CSV (A) and of the forecast CSV (B): small, so that the server's
/// machine learning does not drown the client's costs.
const TRAIN_ROWS: usize = 200;
const FORECAST_ROWS: usize = 50;
/// Cross-validation folds of the one algorithm trained (GLM).
const NFOLD: u32 = 2;
/// Server worker threads, and the most tasks it runs at once (the defaults).
const SERVER_WORKERS: usize = 2;
const SERVER_MAX_RUNNING: usize = 2;
/// The flow's blocking pool (the default of `Flow::new`): the client's HTTP exchanges run
/// there, at most this many at once.
const CLIENT_HTTP_THREADS: usize = 4;
/// A size whose run takes longer than this is flagged in the output.
const SLOW_RUN: Duration = Duration::from_secs(180);
/// A child still running after this long is killed and reported as hung.
const CHILD_LIMIT: Duration = Duration::from_secs(20 * 60);
/// How often the sampler thread reads the server's counters (for peak pending tasks).
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
/// The server's cap on waiting tasks (`MAX_PENDING` in `src/automl/server/worker.rs`): a
/// submit beyond it is answered `503` and the client retries it after its back-off.
const SERVER_PENDING_CAP: usize = 1000;

const USER: &str = "bench";
const PASSWORD: &str = "bench-password";
const USAGE: &str = "usage: automl [N...]   (pipeline counts; default 20 200 2000)";

/// The poll interval of every remote job, the same at every N so that the sizes compare:
/// the client's default (first poll after 50 ms, then 1.5x longer each time, at most 2 s).
/// A task still pending or running at its first poll is polled again after 75 ms, 112 ms,
/// ... up to every 2 s, so the polls per pipeline grow with how long tasks wait in the
/// server's queue, which depends on N (see the README).
fn poll_interval() -> PollInterval {
    PollInterval::default()
}

// ---------------------------------------------------------------------------------------------
// Heap accounting (heap children only)
// ---------------------------------------------------------------------------------------------

/// `System`, counting the live heap bytes (as requested, so malloc's own overhead is not
/// included) and their peak, but only once [`HEAP_ON`] is set, which only the `--heap`
/// child does, first thing in `main`. Otherwise each call costs one relaxed load.
struct Heap;

#[global_allocator]
static GLOBAL: Heap = Heap;

static HEAP_ON: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn heap_add(delta: isize) {
    if HEAP_ON.load(Ordering::Relaxed) {
        let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
        if delta > 0 {
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and only
// updates counters; `System` upholds the `GlobalAlloc` contract.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            heap_add(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            heap_add(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        heap_add(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            heap_add(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Live heap bytes counted so far (0 unless heap accounting is on).
fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--one") {
        let heap = args.get(2).map(String::as_str) == Some("--heap");
        if heap {
            HEAP_ON.store(true, Ordering::Relaxed);
        }
        return match args.get(1).and_then(|s| s.parse::<usize>().ok()) {
            Some(n) if n > 0 && args.len() == 2 + usize::from(heap) => child(n),
            _ => {
                eprintln!("--one needs one pipeline count (and optionally --heap)");
                ExitCode::from(2)
            }
        };
    }
    let mut sizes = Vec::new();
    for a in &args {
        match a.replace(['_', ','], "").parse::<usize>() {
            Ok(n) if n > 0 => sizes.push(n),
            _ => {
                eprintln!("bad argument {a:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if sizes.is_empty() {
        sizes = DEFAULT_SIZES.to_vec();
    }
    parent(&sizes)
}

// ---------------------------------------------------------------------------------------------
// Parent: child processes per N, then the tables
// ---------------------------------------------------------------------------------------------

type Fields = HashMap<String, String>;

/// One N's children: the measured runs, and the run with heap accounting.
struct Outcome {
    n: usize,
    /// The measured run with the median loop CPU time (or the first that failed).
    run: Result<Fields, String>,
    /// Loop CPU per pipeline in µs of every measured run that passed, sorted.
    loop_us: Vec<f64>,
    heap: Result<Fields, String>,
}

fn passed(r: &Result<Fields, String>) -> bool {
    r.as_ref()
        .is_ok_and(|f| f.get("ok").map(String::as_str) == Some("true"))
}

fn parent(sizes: &[usize]) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find this executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "taskloop AutoML benchmark: N = {sizes:?}, {} child processes each",
        MEASURED_RUNS + 1
    );
    let begun = Instant::now();
    let mut results = Vec::new();
    for &n in sizes {
        let mut runs = Vec::new();
        for i in 1..=MEASURED_RUNS {
            eprintln!("-- N = {n}: measured run {i} of {MEASURED_RUNS}");
            runs.push(run_child(&exe, n, false));
        }
        eprintln!("-- N = {n}: heap-accounting run");
        let heap = run_child(&exe, n, true);
        let mut loop_us: Vec<f64> = runs
            .iter()
            .filter(|r| passed(r))
            .filter_map(|r| r.as_ref().ok())
            .map(|f| num(f, "loop_ns") / 1e3 / n as f64)
            .collect();
        loop_us.sort_by(f64::total_cmp);
        let run = match runs.iter().position(|r| !passed(r)) {
            Some(bad) => runs.swap_remove(bad),
            None => {
                runs.sort_by(|a, b| {
                    let key =
                        |r: &Result<Fields, String>| r.as_ref().map_or(0.0, |f| num(f, "loop_ns"));
                    key(a).total_cmp(&key(b))
                });
                runs.swap_remove((runs.len() - 1) / 2)
            }
        };
        results.push(Outcome {
            n,
            run,
            loop_us,
            heap,
        });
    }
    print_report(&results);
    eprintln!("done in {:.1} s", begun.elapsed().as_secs_f64());
    if results.iter().all(|o| passed(&o.run) && passed(&o.heap)) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs `exe --one n [--heap]`, its stderr passed through; returns the fields of its
/// `RESULT` line.
fn run_child(exe: &std::path::Path, n: usize, heap: bool) -> Result<Fields, String> {
    let mut child = Command::new(exe);
    child.arg("--one").arg(n.to_string());
    if heap {
        child.arg("--heap");
    }
    let mut child = child
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the child: {e}"))?;
    // Read stdout on a thread, so a chatty child never blocks on a full pipe.
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > CHILD_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "HANG: no result after {} s; the child (pid {}) was killed",
                    CHILD_LIMIT.as_secs(),
                    child.id()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("waiting for the child: {e}")),
        }
    };
    let text = reader.join().unwrap_or_default();
    let line = text.lines().find_map(|l| l.strip_prefix("RESULT "));
    match line {
        Some(line) => Ok(line
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()),
        None => Err(format!(
            "the child exited with {status} without a result line (see its stderr above)"
        )),
    }
}

fn num(f: &Fields, key: &str) -> f64 {
    f.get(key).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

fn print_report(results: &[Outcome]) {
    let poll = poll_interval();
    println!("# taskloop AutoML benchmark\n");
    println!(
        "N pipelines in one `Flow`, each: upload A (training CSV, {TRAIN_ROWS} rows) and upload \
         B (forecast CSV, {FORECAST_ROWS} rows) → train C after A (GLM only, nfold {NFOLD}) → \
         predict D after B and C. Bundled server in the same process (`workers: \
         {SERVER_WORKERS}, max_running: {SERVER_MAX_RUNNING}`), client flow with \
         {CLIENT_HTTP_THREADS} blocking threads for the HTTP exchanges (the default), poll \
         interval {} ms ×{} up to {} s (the client's default) at every N, one observer that \
         counts progress events (= polls). Each run is a fresh process: {MEASURED_RUNS} \
         measured runs and 1 heap-accounting run per N. Loop CPU = CPU time of \
         the thread that runs `flow.run()` (`/proc/thread-self/schedstat`), from just before \
         `flow.run()` to just after it.\n",
        poll.initial.as_millis(),
        poll.factor,
        poll.max.as_secs_f64(),
    );
    let mut failures = Vec::new();
    for o in results {
        for (what, r) in [("measured run", &o.run), ("heap-accounting run", &o.heap)] {
            match r {
                Err(why) => failures.push(format!("N = {} ({what}): {why}", o.n)),
                Ok(f) if !passed(r) => failures.push(format!(
                    "N = {} ({what}): {}",
                    o.n,
                    f.get("why")
                        .map_or("failed", String::as_str)
                        .replace('_', " ")
                )),
                Ok(_) => {}
            }
        }
    }

    let mut rows = Vec::new();
    for o in results {
        let (n, nf) = (o.n, o.n as f64);
        let Ok(f) = &o.run else {
            rows.push(vec![n.to_string(), "FAILED".into()]);
            continue;
        };
        let wall = num(f, "wall_ns") / 1e9;
        let loop_ns = num(f, "loop_ns");
        let hwm_before = num(f, "hwm_before_kib");
        let hwm_end = num(f, "hwm_end_kib");
        let slow = if wall > SLOW_RUN.as_secs_f64() {
            " (slow)"
        } else {
            ""
        };
        rows.push(vec![
            format!("{n}{}", if passed(&o.run) { "" } else { " (FAILED)" }),
            format!("{wall:.2} s{slow}"),
            format!("{:.1} ms", loop_ns / 1e6),
            format!("{:.0}", loop_ns / 1e3 / nf),
            match (o.loop_us.first(), o.loop_us.last()) {
                (Some(lo), Some(hi)) => format!("{lo:.0}–{hi:.0}"),
                _ => "n/a".into(),
            },
            format!("{:.2}", num(f, "requests") / nf),
            format!("{:.1}", hwm_end / 1024.0),
            format!("{:.1}", hwm_before / 1024.0),
            format!("{:.1}", (hwm_end - hwm_before) / nf),
            format!(
                "{}/{}/{}",
                f.get("uploads").map_or("?", String::as_str),
                f.get("trains").map_or("?", String::as_str),
                f.get("predicts").map_or("?", String::as_str)
            ),
        ]);
    }
    print_table(
        &[
            "N",
            "wall time",
            "loop CPU total",
            "loop CPU/pipeline (µs)",
            "min–max of runs (µs)",
            "requests/pipeline",
            "peak RSS (MiB)",
            "RSS before flow (MiB)",
            "RSS growth/pipeline (KiB)",
            "tasks upload/train/predict",
        ],
        &rows,
    );
    println!(
        "\nThe row of each N is the run with the median loop CPU time of {MEASURED_RUNS} \
         measured runs (each a fresh process); the next column gives the lowest and highest \
         loop CPU/pipeline of those runs. wall time = `flow.run()`. peak RSS = `VmHWM` of \
         the child process at its end: client **and** in-process server (which keeps every data set, model and prediction in \
         memory, plus a record per task). RSS before flow = `VmHWM` after starting the \
         server, generating the CSVs and connecting, before declaring the jobs; \
         growth/pipeline = (peak − before) / N, fixed costs (the flow's 4 threads, malloc \
         arenas) included. requests/pipeline = requests the server received during \
         `flow.run()` / N. tasks = tasks the server created, by type (must be 2N/N/N).\n"
    );

    let mut rows = Vec::new();
    for o in results {
        let Ok(f) = &o.run else { continue };
        let nf = o.n as f64;
        let requests = num(f, "requests");
        let polls = num(f, "polls");
        // 2 upload + 1 train + 1 predict submits per pipeline (the train task's result is
        // the whole experiment: no separate read).
        let retried = requests - polls - 4.0 * nf;
        let ms = |k: &str| format!("{:.0} ms", num(f, k) / 1e6);
        rows.push(vec![
            o.n.to_string(),
            format!("{:.2}", polls / nf),
            format!("{:.2}", retried / nf),
            format!("{:.0}", num(f, "max_pending")),
            format!("{:.1}", num(f, "loop_ns") / 1e3 / requests),
            ms("threads_ns"),
            ms("loop_ns"),
            ms("pool_ns"),
            ms("server_loop_ns"),
            ms("server_workers_ns"),
        ]);
    }
    println!("## Requests and CPU by thread\n");
    print_table(
        &[
            "N",
            "polls/pipeline",
            "retried requests/pipeline",
            "server peak pending",
            "loop CPU/request (µs)",
            "all threads",
            "client loop",
            "client HTTP pool",
            "server loop",
            "server workers",
        ],
        &rows,
    );
    println!(
        "\nA pipeline's requests = 4 submits (2 uploads, train, predict) + \
         its polls + retried requests. polls = progress events seen by the counting observer \
         (one per poll answered pending, running or done). retried = requests − polls − 4 per \
         pipeline: tries of a request after a transient answer, in practice submits refused \
         with `503` while the server's queue is at its cap of {SERVER_PENDING_CAP} pending \
         tasks. server peak pending = most tasks waiting for a server worker, sampled every \
         {} ms. CPU during `flow.run()`, per thread from `/proc/self/task/*/schedstat`: all \
         threads = the process (no thread ends during the run); client loop = the thread \
         running the flow; client HTTP pool = the flow's {CLIENT_HTTP_THREADS} blocking threads (ureq \
         exchanges, JSON parsing); server loop = the `automl-server` thread (HTTP, routing, \
         task table); server workers = its {SERVER_WORKERS} blocking threads (CSV parsing, \
         training, prediction).\n",
        SAMPLE_EVERY.as_millis()
    );

    let mut rows = Vec::new();
    for o in results {
        let Ok(f) = &o.heap else {
            rows.push(vec![o.n.to_string(), "FAILED".into()]);
            continue;
        };
        let kib = |bytes: f64| format!("{:.1}", bytes / 1024.0 / o.n as f64);
        rows.push(vec![
            o.n.to_string(),
            kib(num(f, "heap_peak") - num(f, "heap_before")),
            kib(num(f, "heap_after_run") - num(f, "heap_before")),
            kib(num(f, "heap_after_run") - num(f, "heap_flow_dropped")),
            kib(num(f, "heap_flow_dropped") - num(f, "heap_server_down")),
        ]);
    }
    println!("## Heap per pipeline: client and server\n");
    print_table(
        &[
            "N",
            "peak live heap (KiB/pipeline)",
            "live after run (KiB/pipeline)",
            "freed by dropping the flow (KiB/pipeline)",
            "freed by stopping the server (KiB/pipeline)",
        ],
        &rows,
    );
    println!(
        "\nFrom the heap-accounting child of each N, which counts live heap bytes (as requested from malloc, \
         so without malloc's own overhead and fragmentation, which RSS includes). All columns \
         are above the live heap before the jobs were declared, divided by N. freed by \
         dropping the flow = what the client keeps: the flow's job nodes, the jobs' results \
         (DataInfo, Experiment, Predictions) and the report; freed by stopping the server = \
         what the server keeps: data sets (frames and CSV bytes), models, experiments, the \
         task table, the idempotency cache, its runtime.\n"
    );

    println!("## Reading\n");
    print!("{}", reading(results));
    if !failures.is_empty() {
        println!("\n## Failures\n");
        for f in &failures {
            println!("- {f}");
        }
    }
}

/// How CPU/pipeline and memory/pipeline change from one N to the next, computed from the
/// measured numbers.
fn reading(results: &[Outcome]) -> String {
    let ok: Vec<(usize, &Fields)> = results
        .iter()
        .filter(|o| passed(&o.run))
        .filter_map(|o| o.run.as_ref().ok().map(|f| (o.n, f)))
        .collect();
    let mut out = String::new();
    for &(n, f) in &ok {
        if num(f, "max_pending") >= SERVER_PENDING_CAP as f64 {
            let _ = writeln!(
                out,
                "- N = {n}: the server's queue reached its cap of {SERVER_PENDING_CAP} pending \
                 tasks; submits beyond it were refused with `503` and retried by the client \
                 ({:.2} retried requests per pipeline), and every pipeline still finished.",
                (num(f, "requests") - num(f, "polls") - 4.0 * n as f64) / n as f64
            );
        }
        if num(f, "wall_ns") > SLOW_RUN.as_nanos() as f64 {
            let _ = writeln!(out, "- N = {n} took more than {} s.", SLOW_RUN.as_secs());
        }
    }
    if ok.len() < 2 {
        out.push_str("- Fewer than two sizes succeeded: no growth to read.\n");
        return out;
    }
    let per = |f: &Fields, k: &str, n: usize| num(f, k) / n as f64;
    for pair in ok.windows(2) {
        let ((n0, f0), (n1, f1)) = (pair[0], pair[1]);
        let (cpu0, cpu1) = (per(f0, "loop_ns", n0), per(f1, "loop_ns", n1));
        let (req0, req1) = (per(f0, "requests", n0), per(f1, "requests", n1));
        let per_req0 = num(f0, "loop_ns") / num(f0, "requests");
        let per_req1 = num(f1, "loop_ns") / num(f1, "requests");
        let marginal_rss =
            (num(f1, "hwm_end_kib") - num(f0, "hwm_end_kib")) / (n1 as f64 - n0 as f64);
        let _ = writeln!(
            out,
            "- {n0} → {n1} pipelines ({:.0}x): loop CPU/pipeline {:.0} → {:.0} µs ({:.2}x); \
             requests/pipeline {:.2} → {:.2} ({:.2}x); loop CPU/request {:.1} → {:.1} µs \
             ({:.2}x); peak RSS {:.1} → {:.1} MiB, {:.1} KiB per added pipeline; wall {:.2} → \
             {:.2} s.",
            n1 as f64 / n0 as f64,
            cpu0 / 1e3,
            cpu1 / 1e3,
            cpu1 / cpu0,
            req0,
            req1,
            req1 / req0,
            per_req0 / 1e3,
            per_req1 / 1e3,
            per_req1 / per_req0,
            num(f0, "hwm_end_kib") / 1024.0,
            num(f1, "hwm_end_kib") / 1024.0,
            marginal_rss,
            num(f0, "wall_ns") / 1e9,
            num(f1, "wall_ns") / 1e9,
        );
    }
    out.push_str(
        "\nA flat per-pipeline figure means the total grows linearly with N. The loop's work \
         per pipeline is its jobs' bookkeeping plus one timer, one hand-off to the HTTP pool \
         and one answer to handle per request, so loop CPU per pipeline follows requests per \
         pipeline; those grow when tasks wait longer in the server's queue (more polls) or \
         are refused at its cap (retries), both of which depend on how many tasks the server \
         has queued, hence on N, since it runs at most 2 tasks at once. Loop CPU per request separates the cost of one exchange \
         from the number of exchanges. Peak RSS per added pipeline (the slope between two \
         sizes) leaves out the fixed costs that inflate growth/pipeline at small N.\n",
    );
    out
}

// ---------------------------------------------------------------------------------------------
// Child: one N, measured
// ---------------------------------------------------------------------------------------------

/// A child's result fields, printed as its `RESULT` line.
type Record = BTreeMap<&'static str, String>;
type BoxError = Box<dyn std::error::Error>;

fn child(n: usize) -> ExitCode {
    match measure(n) {
        Ok((fields, ok)) => {
            let mut line = String::from("RESULT");
            for (k, v) in &fields {
                let _ = write!(line, " {k}={v}");
            }
            println!("{line}");
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("N = {n}: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs N pipelines; returns the result fields and whether every check passed.
fn measure(n: usize) -> Result<(Record, bool), BoxError> {
    let server = serve(ServerConfig {
        workers: SERVER_WORKERS,
        max_running: SERVER_MAX_RUNNING,
        ..ServerConfig::new(USER, PASSWORD)
    })?;
    let ctx = Context::builder(&server.url(), USER, PASSWORD)
        .poll_interval(poll_interval())
        .connect()?;
    let train = CsvSource::text("train", rentals_csv(TRAIN_ROWS, 7, false));
    let forecast = CsvSource::text("forecast", rentals_csv(FORECAST_ROWS, 8, true));

    // The sampler: the server's peak pending tasks, read while the flow runs.
    let stop = AtomicBool::new(false);
    let max_pending = AtomicUsize::new(0);
    let mut fields = BTreeMap::new();
    let mut ok = true;
    std::thread::scope(|scope| -> Result<(), BoxError> {
        std::thread::Builder::new()
            .name("bench-sampler".into())
            .spawn_scoped(scope, || {
                while !stop.load(Ordering::Relaxed) {
                    max_pending.fetch_max(server.stats().pending, Ordering::Relaxed);
                    std::thread::sleep(SAMPLE_EVERY);
                }
            })?;
        let result = run_pipelines(n, &server, &ctx, &train, &forecast, &max_pending);
        stop.store(true, Ordering::Relaxed);
        let (f, passed) = result?;
        fields = f;
        ok = passed;
        Ok(())
    })?;
    fields.insert(
        "max_pending",
        max_pending.load(Ordering::Relaxed).to_string(),
    );
    server.shutdown();
    fields.insert("heap_server_down", live().to_string());
    Ok((fields, ok))
}

fn run_pipelines(
    n: usize,
    server: &taskloop::automl::ServerHandle,
    ctx: &Context,
    train: &CsvSource,
    forecast: &CsvSource,
    max_pending: &AtomicUsize,
) -> Result<(Record, bool), BoxError> {
    let hwm_before = status_kib("VmHWM")?;
    let rss_before = status_kib("VmRSS")?;
    let heap_before = live();
    PEAK.store(heap_before, Ordering::Relaxed);

    let declare_start = Instant::now();
    let mut flow = Flow::builder()
        .blocking_threads(CLIENT_HTTP_THREADS)
        .build();
    let mut predictions = Vec::with_capacity(n);
    for i in 0..n {
        predictions.push(rentals_pipeline::declare(
            ctx, &mut flow, i, train, forecast, NFOLD,
        ));
    }
    // Counts polls: every poll answered pending, running or done reports progress once.
    let polls = Rc::new(Cell::new(0_u64));
    let counter = polls.clone();
    flow.observe(move |e: &Event<'_>| {
        if let Event::Progress { .. } = e {
            counter.set(counter.get() + 1);
        }
    });
    let declare = declare_start.elapsed();
    eprintln!(
        "   declared {} jobs in {:.1} ms; running",
        flow.len(),
        declare.as_secs_f64() * 1e3
    );

    // Before: server counters, per-thread CPU, the process's CPU.
    let stats_before = server.stats();
    let threads_before = thread_cpu()?;
    let (loop_before, loop_source) = this_thread_cpu_ns()?;
    let wall_start = Instant::now();
    let report = flow.run();
    let wall = wall_start.elapsed();
    let (loop_after, _) = this_thread_cpu_ns()?;
    let threads_after = thread_cpu()?;
    let stats_after = server.stats();
    let hwm_end = status_kib("VmHWM")?;
    let rss_end = status_kib("VmRSS")?;
    let (heap_after_run, heap_peak) = (live(), PEAK.load(Ordering::Relaxed));

    let groups = cpu_groups(&threads_before, &threads_after);
    let requests = stats_after.requests - stats_before.requests;
    let count = |s: &ServerStats, k: &str| s.tasks_submitted.get(k).copied().unwrap_or(0);
    let created = |k: &str| count(&stats_after, k) - count(&stats_before, k);
    let (uploads, trains, predicts) = (created("upload"), created("train"), created("predict"));
    eprintln!(
        "   N = {n}: wall {:.2} s, loop CPU {:.1} ms, {requests} requests, peak RSS {:.1} MiB, \
         server peak pending {}",
        wall.as_secs_f64(),
        (loop_after - loop_before) as f64 / 1e6,
        hwm_end as f64 / 1024.0,
        max_pending.load(Ordering::Relaxed),
    );

    // Checks: every job done, every prediction present, exactly the tasks expected.
    let mut why = Vec::new();
    if !report.is_success() {
        let failed = report.jobs.iter().filter(|j| j.error.is_some()).count();
        why.push(format!("{failed} jobs did not succeed"));
        for e in report.errors().take(5) {
            eprintln!("   error: {e}");
        }
    }
    let missing = predictions.iter().filter(|d| d.result().is_err()).count();
    if missing > 0 {
        why.push(format!("{missing} predict jobs have no result"));
    }
    let expected = (2 * n as u64, n as u64, n as u64);
    if (uploads, trains, predicts) != expected {
        why.push(format!(
            "tasks created upload/train/predict {uploads}/{trains}/{predicts}, expected {}/{}/{}",
            expected.0, expected.1, expected.2
        ));
    }
    let retried = report.jobs.iter().filter(|j| j.attempts > 1).count();
    for w in &why {
        eprintln!("   CHECK FAILED: {w}");
    }

    let mut f = BTreeMap::new();
    f.insert("n", n.to_string());
    f.insert("ok", why.is_empty().to_string());
    f.insert("why", why.join("; ").replace(' ', "_"));
    f.insert("wall_ns", wall.as_nanos().to_string());
    f.insert("declare_ns", declare.as_nanos().to_string());
    f.insert("loop_ns", (loop_after - loop_before).to_string());
    f.insert("loop_source", loop_source.to_string());
    f.insert("threads_ns", groups.all.to_string());
    f.insert("pool_ns", groups.client_pool.to_string());
    f.insert("server_loop_ns", groups.server_loop.to_string());
    f.insert("server_workers_ns", groups.server_workers.to_string());
    f.insert("requests", requests.to_string());
    f.insert("polls", polls.get().to_string());
    f.insert("uploads", uploads.to_string());
    f.insert("trains", trains.to_string());
    f.insert("predicts", predicts.to_string());
    f.insert("job_retries", retried.to_string());
    f.insert("hwm_before_kib", hwm_before.to_string());
    f.insert("rss_before_kib", rss_before.to_string());
    f.insert("hwm_end_kib", hwm_end.to_string());
    f.insert("rss_end_kib", rss_end.to_string());
    let ok = why.is_empty();
    drop(report);
    drop(predictions);
    drop(flow);
    f.insert("heap_before", heap_before.to_string());
    f.insert("heap_peak", heap_peak.to_string());
    f.insert("heap_after_run", heap_after_run.to_string());
    f.insert("heap_flow_dropped", live().to_string());
    Ok((f, ok))
}

// ---------------------------------------------------------------------------------------------
// /proc readings
// ---------------------------------------------------------------------------------------------

/// A `kB` line of `/proc/self/status` (`VmHWM`, `VmRSS`), in KiB.
fn status_kib(key: &str) -> Result<u64, String> {
    let text = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {key} in /proc/self/status"))
}

/// Nanoseconds on CPU of the calling thread: the first field of
/// `/proc/thread-self/schedstat`, or utime + stime of `/proc/thread-self/stat` (clock
/// ticks) where schedstat is missing. Returns the value and which file it came from.
fn this_thread_cpu_ns() -> Result<(u64, &'static str), String> {
    if let Some(ns) = schedstat_ns("/proc/thread-self/schedstat") {
        return Ok((ns, "schedstat"));
    }
    stat_ticks_ns("/proc/thread-self/stat")
        .map(|ns| (ns, "stat"))
        .ok_or_else(|| "cannot read this thread's CPU time from /proc/thread-self".to_string())
}

fn schedstat_ns(path: &str) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// utime + stime (fields 14 and 15) of a `stat` file, at 100 ticks per second (Linux's
/// USER_HZ), in ns.
fn stat_ticks_ns(path: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may hold spaces; fields after it start past the ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) * 10_000_000)
}

/// Every thread of this process: tid → (name, ns on CPU).
fn thread_cpu() -> Result<HashMap<u32, (String, u64)>, String> {
    let dir = std::fs::read_dir("/proc/self/task").map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    for entry in dir.flatten() {
        let Ok(tid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let base = format!("/proc/self/task/{tid}");
        let name = std::fs::read_to_string(format!("{base}/comm")).unwrap_or_default();
        if let Some(ns) = schedstat_ns(&format!("{base}/schedstat")) {
            out.insert(tid, (name.trim().to_string(), ns));
        }
    }
    Ok(out)
}

/// CPU during the run by group of threads.
struct Groups {
    /// Every thread alive at the end (no thread of this process ends during the run).
    all: u64,
    /// Threads created by the run: the flow's blocking pool.
    client_pool: u64,
    /// The `automl-server` thread.
    server_loop: u64,
    /// The server's blocking workers (existing before the run).
    server_workers: u64,
}

fn cpu_groups(before: &HashMap<u32, (String, u64)>, after: &HashMap<u32, (String, u64)>) -> Groups {
    let mut g = Groups {
        all: 0,
        client_pool: 0,
        server_loop: 0,
        server_workers: 0,
    };
    for (tid, (name, ns)) in after {
        g.all += ns.saturating_sub(before.get(tid).map_or(0, |(_, was)| *was));
        match before.get(tid) {
            None if name.starts_with("taskloop-blocki") => g.client_pool += ns,
            None => {}
            Some((_, was)) if name.starts_with("automl-server") => {
                g.server_loop += ns.saturating_sub(*was)
            }
            Some((_, was)) if name.starts_with("taskloop-blocki") => {
                g.server_workers += ns.saturating_sub(*was)
            }
            Some(_) => {}
        }
    }
    g
}
