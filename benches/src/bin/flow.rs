//! Benchmarks of taskloop's `flow` layer: bookkeeping per job, scheduling quality, memory
//! per pending job. Prints one markdown table per section, with a short reading.
//!
//! `cargo run --release --bin flow [-- SECTION...]` — sections are `bookkeeping`,
//! `scheduling` and `memory`; with arguments, only the sections whose name contains one
//! of them run.

use std::time::{Duration, Instant};

use taskloop_benches::flow_workloads::harness::{interleaved, panic_message, MakeRun, Measured};
use taskloop_benches::flow_workloads::{bookkeeping, memory, ms, ns_per, scheduling, us};
use taskloop_benches::{new_smol, new_taskloop, new_tokio, print_table, WARMUP_RUNS};

/// Counts live heap bytes and allocation calls for sections 1 and 3 (see `memory::Counting`).
#[global_allocator]
static GLOBAL: memory::Counting = memory::Counting;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Runs `f` on a fresh thread (taskloop's and smol's runtimes are `!Send`, so `f` builds
/// its own); a panic comes back as its message.
fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    std::thread::spawn(f).join().map_err(|p| panic_message(&*p))
}

// ---------------------------------------------------------------------------------------------
// Section 1: bookkeeping per job
// ---------------------------------------------------------------------------------------------

/// Measured rounds in section 1 (one run is a few ms, so take many).
const BOOKKEEPING_RUNS: usize = 31;

/// The implementations of section 1: each builds its runtime (on its own thread) and
/// returns one run.
const VARIANTS: &[(&str, MakeRun)] = &[
    ("taskloop Flow, job_local, run_async", FLOW_RUN_ASYNC),
    ("taskloop Flow, job_local, Flow::run", |layers| {
        Box::new(move || bookkeeping::flow_run(layers))
    }),
    ("taskloop spawn + Shared", |layers| {
        let rt = new_taskloop();
        Box::new(move || bookkeeping::taskloop_tasks(&rt, layers))
    }),
    ("tokio current_thread spawn + Shared", TOKIO),
    ("smol LocalExecutor spawn + Shared", |layers| {
        let ex = new_smol();
        Box::new(move || bookkeeping::smol(&ex, layers))
    }),
];

const FLOW_RUN_ASYNC: MakeRun = |layers| {
    let rt = new_taskloop();
    Box::new(move || bookkeeping::flow_run_async(&rt, layers))
};

const TOKIO: MakeRun = |layers| {
    let rt = new_tokio();
    Box::new(move || bookkeeping::tokio(&rt, layers))
};

/// The graph sizes of the scaling table (layers of 100 jobs) and the measured rounds at
/// each: 10k, 100k and 1M jobs.
const SCALING: &[(usize, usize)] = &[(100, 11), (1_000, 5), (10_000, 3)];

fn section_bookkeeping() -> bool {
    let n = bookkeeping::JOBS;
    println!("## 1. Bookkeeping per job\n");
    println!(
        "{n} no-op jobs in {} layers of {}; each job after the first layer has 2 inputs from \
         the previous layer (i and (i+{})%{}). Median of {BOOKKEEPING_RUNS} runs after \
         {WARMUP_RUNS} warm-up (the implementations take turns, one run each per round), \
         ns per job.\n",
        bookkeeping::LAYERS,
        bookkeeping::WIDTH,
        bookkeeping::SECOND_INPUT,
        bookkeeping::WIDTH,
    );
    eprintln!(
        "  bookkeeping: {} implementations in interleaved rounds",
        VARIANTS.len()
    );
    let names = VARIANTS.iter().map(|&(name, _)| name);
    let makers: Vec<MakeRun> = VARIANTS.iter().map(|&(_, make)| make).collect();
    let runs = interleaved(&makers, bookkeeping::LAYERS, WARMUP_RUNS, BOOKKEEPING_RUNS);
    let results: Vec<(&str, Result<Measured, String>)> = names.zip(runs).collect();
    let tokio_total = results
        .iter()
        .find(|(name, _)| name.starts_with("tokio"))
        .and_then(|(_, r)| r.as_ref().ok())
        .map(|m| m.split.total());
    let ns = |d: Duration| format!("{:.0}", ns_per(d, n));
    let mut rows = Vec::new();
    for (name, result) in &results {
        rows.push(match result {
            Ok(Measured {
                split: s,
                allocs_per_job,
            }) => vec![
                name.to_string(),
                ns(s.declare),
                ns(s.run),
                ns(s.teardown),
                ns(s.total()),
                tokio_total.map_or("n/a".into(), |t| {
                    format!("{:.2}x", s.total().as_secs_f64() / t.as_secs_f64())
                }),
                format!("{allocs_per_job:.1}"),
            ],
            Err(why) => vec![name.to_string(), format!("FAILED: {why}")],
        });
    }
    print_table(
        &[
            "implementation",
            "declare ns/job",
            "run ns/job",
            "teardown ns/job",
            "total ns/job",
            "total vs tokio",
            "allocations/job",
        ],
        &rows,
    );
    println!(
        "\ndeclare = building the graph (declaring jobs / spawning tasks); run = running it \
         and reading the last layer's values (for a flow this includes building the \
         `Report`, one line per job); teardown = dropping what is left (a flow keeps every \
         job's node and result until it is dropped; `Flow::run` also shuts down the \
         runtime it built). `Flow::run` builds its own runtime inside the run: that row \
         includes starting and joining 4 blocking worker threads, unlike the others, whose \
         runtime is built before timing. allocations/job = calls to alloc/realloc during \
         the three phases, per job (median run).\n"
    );
    let report = on_thread(|| bookkeeping::flow_report_cost(&new_taskloop(), BOOKKEEPING_RUNS));
    match &report {
        Ok(d) => println!(
            "Of a flow's run, building the `Report` it returns (one `JobReport` per job, with \
             its name and inputs cloned) takes {:.0} ns/job (median of {BOOKKEEPING_RUNS} \
             `Flow::report` calls on the finished flow).\n",
            ns_per(*d, n)
        ),
        Err(why) => println!("Report cost: FAILED: {why}\n"),
    }
    let scaled = scaling();
    report.is_ok() && results.iter().all(|(_, r)| r.is_ok()) && scaled
}

/// The scaling table: the same layered graph at 10k, 100k and 1M jobs, a flow against
/// tokio, in interleaved rounds at each size.
fn scaling() -> bool {
    println!(
        "### Scaling\n\nThe same graph with 100, 1,000 and 10,000 layers of {} jobs; a flow \
         (`job_local`, `run_async`) and tokio (spawn + Shared) take turns, {WARMUP_RUNS} \
         warm-up round, then the measured rounds shown; median total ns per job \
         (declare + run + teardown).\n",
        bookkeeping::WIDTH
    );
    let mut rows = Vec::new();
    let mut ok = true;
    let mut flow_at_10k = None;
    for &(layers, rounds) in SCALING {
        let jobs = layers * bookkeeping::WIDTH;
        eprintln!("  bookkeeping: scaling, {jobs} jobs");
        let results = interleaved(&[FLOW_RUN_ASYNC, TOKIO], layers, WARMUP_RUNS, rounds);
        let [flow, tokio] = [&results[0], &results[1]].map(|r| {
            r.as_ref()
                .map(|m| ns_per(m.split.total(), jobs))
                .map_err(Clone::clone)
        });
        match (flow, tokio) {
            (Ok(flow), Ok(tokio)) => {
                let base = *flow_at_10k.get_or_insert(flow);
                rows.push(vec![
                    jobs.to_string(),
                    rounds.to_string(),
                    format!("{flow:.0}"),
                    format!("{tokio:.0}"),
                    format!("{:.2}x", flow / tokio),
                    format!("{:.2}x", flow / base),
                ]);
            }
            (flow, tokio) => {
                ok = false;
                let why = flow.err().or(tokio.err()).unwrap_or_default();
                rows.push(vec![jobs.to_string(), format!("FAILED: {why}")]);
            }
        }
    }
    print_table(
        &[
            "jobs",
            "rounds",
            "flow ns/job",
            "tokio ns/job",
            "flow vs tokio",
            "flow vs its 10k figure",
        ],
        &rows,
    );
    println!();
    ok
}

// ---------------------------------------------------------------------------------------------
// Section 2: scheduling quality
// ---------------------------------------------------------------------------------------------

const SCHEDULING_RUNS: usize = 3;
/// The target for makespan / lower bound.
const TARGET_RATIO: f64 = 1.05;

fn section_scheduling() -> bool {
    use scheduling::WORKERS;
    let g = scheduling::random_graph();
    let (work, cp, lb) = (g.total_work(), g.critical_path(), g.lower_bound(WORKERS));
    let edges: usize = g.inputs.iter().map(Vec::len).sum();
    println!("## 2. Scheduling quality\n");
    println!(
        "{} blocking jobs ({} layers of {}, {edges} edges, 1-3 inputs each from earlier \
         layers, fixed seed), each sleeping {}-{} ms; flow with {WORKERS} blocking workers. \
         Total work {}, critical path {}, lower bound max(critical path, work / {WORKERS}) \
         = {}.\n",
        g.len(),
        scheduling::LAYERS,
        scheduling::PER_LAYER,
        scheduling::MIN_SLEEP_US / 1000,
        scheduling::MAX_SLEEP_US / 1000,
        ms(work),
        ms(cp),
        ms(lb),
    );
    let ratio = |d: Duration| format!("{:.3}", d.as_secs_f64() / lb.as_secs_f64());
    let mut rows = Vec::new();
    let mut ok = true;
    let mut ratios = Vec::new();
    for run in 1..=SCHEDULING_RUNS {
        eprintln!("  scheduling: run {run}");
        let g2 = g.clone();
        match on_thread(move || scheduling::run_flow(&g2)) {
            Ok(m) => {
                ratios.push(m.makespan.as_secs_f64() / lb.as_secs_f64());
                rows.push(vec![
                    format!("measured run {run} (Flow::run)"),
                    ms(m.makespan),
                    ratio(m.makespan),
                    ms(m.idle(WORKERS)),
                    us(m.oversleep_per_job(&g)),
                    us(m.dispatch_per_job(&g)),
                ]);
            }
            Err(why) => {
                ok = false;
                rows.push(vec![
                    format!("measured run {run}"),
                    format!("FAILED: {why}"),
                ]);
            }
        }
    }
    let sims: [(&str, Vec<u64>); 3] = [
        (
            "flow's rule: longest chain in jobs, then FIFO",
            g.chain_in_jobs(),
        ),
        ("FIFO (first ready, first started)", vec![0; g.len()]),
        ("longest remaining path by duration", g.chain_in_micros()),
    ];
    for (name, priority) in &sims {
        let m = scheduling::simulate(&g, WORKERS, priority);
        let idle = (m * WORKERS as u32).saturating_sub(work);
        rows.push(vec![
            format!("simulated greedy, {name}"),
            ms(m),
            ratio(m),
            ms(idle),
            "0 µs".into(),
            "0 µs".into(),
        ]);
    }
    print_table(
        &[
            "schedule",
            "makespan",
            "makespan / lower bound",
            "idle worker time",
            "oversleep per job",
            "dispatch per job",
        ],
        &rows,
    );
    println!(
        "\nmakespan = `Report::wall_time` (scheduler start to end of the last job). The time a \
         job held a worker slot (its report's started to finished) = its declared sleep + \
         oversleep (how much longer `thread::sleep` took, measured inside the body: the \
         OS's part) + dispatch (handing it to the pool and reporting its completion back to \
         the loop: the flow's and runtime's part); so {WORKERS} x makespan = total work + \
         {} x (oversleep + dispatch) + idle worker time. The simulated rows schedule the \
         same graph with zero overhead: their ratio is the graph's inherent slack under \
         greedy scheduling, and the gap between them and the measured rows is overhead.\n",
        g.len()
    );
    let met = ratios.iter().filter(|&&r| r < TARGET_RATIO).count();
    println!(
        "Target makespan / lower bound < {TARGET_RATIO}: met in {met} of {} measured runs.\n",
        ratios.len()
    );
    ok
}

// ---------------------------------------------------------------------------------------------
// Section 3: memory per pending job
// ---------------------------------------------------------------------------------------------

/// Measures both kinds; run first, before any runtime thread exists, and on this thread:
/// the counters see the whole process.
fn measure_memory() -> Vec<(&'static str, memory::PerJob)> {
    [
        ("job_local (no-op body)", memory::Kind::Local),
        (
            "job / job_after (no-op blocking body)",
            memory::Kind::Blocking,
        ),
    ]
    .into_iter()
    .map(|(name, kind)| {
        eprintln!("  memory: {name}");
        (name, memory::measure(kind))
    })
    .collect()
}

fn print_memory(results: &[(&str, memory::PerJob)]) {
    let n = memory::JOBS;
    println!("## 3. Memory per pending job\n");
    println!(
        "{n} jobs declared on an empty flow, not run; every second job has the previous \
         job as its one input. Live heap bytes requested from the allocator (counting \
         global allocator; malloc's own per-block overhead not included), after - before, \
         divided by {n}. (Measured first, before any other section started threads.)\n"
    );
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|(name, m)| {
            vec![
                name.to_string(),
                format!("{:.1}", m.bytes),
                format!("{:.1}", m.node_vector),
                format!("{:.2}", m.blocks),
                format!("{} B", m.left_after_drop),
            ]
        })
        .collect();
    print_table(
        &[
            "kind",
            "live bytes per job",
            "of which node vector",
            "heap blocks per job",
            "left after dropping the flow",
        ],
        &rows,
    );
    println!(
        "\n\"of which node vector\" = live bytes per job minus the heap's growth per job \
         over jobs {}..{n} (when the flow's node vector, whose capacity doubles, does not \
         grow): one node slot per job plus the vector's spare capacity ({} slots for {n} \
         jobs), about {:.0} bytes per slot. The rest are the job's own allocations (name, \
         body, result cell, input and dependent lists). Handles were dropped as the loop \
         went; a program keeping every `Job<T>` handle adds {} bytes per job for them (plus \
         its Vec).\n",
        memory::WINDOW_START,
        n.next_power_of_two(),
        results
            .first()
            .map_or(0.0, |(_, m)| m.node_vector * n as f64
                / n.next_power_of_two() as f64),
        std::mem::size_of::<taskloop::flow::Job<u64>>()
    );
}

fn main() {
    let filters: Vec<String> = std::env::args().skip(1).collect();
    let wanted =
        |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let begun = Instant::now();
    eprintln!("taskloop flow benchmarks");
    // Memory first: no runtime or pool thread of ours exists yet to allocate meanwhile.
    let memory = wanted("memory").then(measure_memory);
    println!("# taskloop flow benchmarks\n");
    let mut ok = true;
    if wanted("bookkeeping") {
        ok &= section_bookkeeping();
    }
    if wanted("scheduling") {
        ok &= section_scheduling();
    }
    if let Some(results) = &memory {
        print_memory(results);
    }
    eprintln!("done in {:.1} s", begun.elapsed().as_secs_f64());
    std::process::exit(if ok { 0 } else { 1 });
}
