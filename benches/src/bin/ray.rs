//! Ray benchmark: what taskloop's loop thread spends per Ray job, and the end-to-end
//! overhead per job against `ray job submit` from a shell loop.
//!
//! Needs a Ray cluster on loopback: `bash tests/ray.sh bench` (from the repository root)
//! starts one in a loopback-only network namespace and runs this with `TASKLOOP_RAY_URL`
//! set. Arguments: `[N] [M]`, the jobs in flight at once (default 200) and the jobs run one
//! after another for the comparison (default 10).
//!
//! 1. **In flight**: N trivial jobs (`true`, each reserving one CPU, so Ray queues those it
//!    cannot run yet) declared in one flow with no limit: all N are submitted at once and
//!    polled until they end. The loop thread's CPU time (`/proc/thread-self/schedstat`)
//!    during `flow.run()` is divided by N; a counting proxy in front of the dashboard
//!    counts the requests.
//! 2. **One after another**: M trivial jobs as a chain of flow jobs, against
//!    `for i in 1..M; do ray job submit -- true; done` in bash. The difference in wall
//!    time per job is the orchestrator's overhead: a Python CLI process per job versus a
//!    few HTTP requests from a loop.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use taskloop::flow::{Flow, Job};
use taskloop::ray::{Cluster, JobDetails, JobSpec, JobStatus, PollInterval};

fn main() {
    let url = std::env::var("TASKLOOP_RAY_URL").expect("TASKLOOP_RAY_URL (run tests/ray.sh bench)");
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a number"));
    let n = args.next().unwrap_or(200);
    let m = args.next().unwrap_or(10);
    let proxy = CountingProxy::start(&url);
    let cluster = Cluster::builder(&proxy.url)
        .poll_interval(PollInterval::default())
        .connect()
        .expect("the cluster answers");
    eprintln!("Ray {} at {url}", cluster.ray_version());

    // Warm Ray up (worker processes, runtime env agent) so that neither side pays for it.
    run_chain(&cluster, &proxy, 2);

    let in_flight = run_in_flight(&cluster, &proxy, n);
    let chain = run_chain(&cluster, &proxy, m);
    let shell = run_shell_loop(&url, m);
    print_results(n, m, &in_flight, chain, shell);
}

struct InFlight {
    wall: Duration,
    loop_cpu: Duration,
    pool_cpu: Duration,
    requests: u64,
    succeeded: usize,
}

/// N jobs in flight at once; loop CPU and requests per job.
fn run_in_flight(cluster: &Cluster, proxy: &CountingProxy, n: usize) -> InFlight {
    let mut flow = Flow::new();
    let jobs: Vec<Job<JobDetails>> = (0..n)
        .map(|i| {
            cluster.job(&mut flow, format!("bench {i}"), (), |()| {
                JobSpec::new("true").num_cpus(1.0)
            })
        })
        .collect();
    eprintln!("{n} jobs in flight...");
    let threads_before = thread_cpu();
    let requests_before = proxy.requests.load(Ordering::Relaxed);
    let (cpu_before, started) = (this_thread_cpu(), Instant::now());
    let report = flow.run();
    let (loop_cpu, wall) = (this_thread_cpu() - cpu_before, started.elapsed());
    let requests = proxy.requests.load(Ordering::Relaxed) - requests_before;
    let threads_after = thread_cpu();
    let pool_cpu = threads_after
        .iter()
        .filter(|(_, (name, _))| name.starts_with("taskloop-blocki"))
        .map(|(tid, (_, ns))| ns - threads_before.get(tid).map_or(0, |(_, was)| *was))
        .sum();
    let succeeded = jobs
        .iter()
        .filter(|j| j.result().is_ok_and(|d| d.status == JobStatus::Succeeded))
        .count();
    assert!(report.is_success(), "{report}");
    InFlight {
        wall,
        loop_cpu,
        pool_cpu: Duration::from_nanos(pool_cpu),
        requests,
        succeeded,
    }
}

struct Chain {
    wall: Duration,
    loop_cpu: Duration,
    requests: u64,
    /// The sum of Ray's own start-to-end times of the jobs.
    on_ray: Duration,
}

/// M jobs one after another in one flow (each takes the previous one as its input).
fn run_chain(cluster: &Cluster, proxy: &CountingProxy, m: usize) -> Chain {
    let mut flow = Flow::new();
    let mut prev: Option<Job<JobDetails>> = None;
    let mut jobs = Vec::new();
    for i in 0..m {
        let job = match &prev {
            None => cluster.job(&mut flow, format!("chain {i}"), (), |()| {
                JobSpec::new("true")
            }),
            Some(p) => cluster.job(&mut flow, format!("chain {i}"), p, |_| JobSpec::new("true")),
        };
        jobs.push(job.clone());
        prev = Some(job);
    }
    let requests_before = proxy.requests.load(Ordering::Relaxed);
    let (cpu_before, started) = (this_thread_cpu(), Instant::now());
    let report = flow.run();
    let (loop_cpu, wall) = (this_thread_cpu() - cpu_before, started.elapsed());
    assert!(report.is_success(), "{report}");
    let on_ray = jobs
        .iter()
        .map(|j| j.result().unwrap().duration().unwrap_or_default())
        .sum();
    Chain {
        wall,
        loop_cpu,
        requests: proxy.requests.load(Ordering::Relaxed) - requests_before,
        on_ray,
    }
}

/// `ray job submit -- true`, M times from bash.
fn run_shell_loop(url: &str, m: usize) -> Duration {
    let script = format!(
        "for i in $(seq 1 {m}); do ray job submit --address {url} -- true >/dev/null 2>&1 || exit 1; done"
    );
    let started = Instant::now();
    let status = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .status()
        .expect("bash runs");
    assert!(status.success(), "the shell loop failed: {status}");
    started.elapsed()
}

fn print_results(n: usize, m: usize, f: &InFlight, chain: Chain, shell: Duration) {
    let per = |d: Duration, k: usize| d.as_secs_f64() * 1e3 / k as f64;
    println!("## Ray benchmark\n");
    println!("| {n} trivial jobs in flight | value |");
    println!("| --- | --- |");
    println!("| succeeded | {}/{n} |", f.succeeded);
    println!("| wall time | {:.1} s |", f.wall.as_secs_f64());
    println!(
        "| loop-thread CPU total | {:.1} ms |",
        f.loop_cpu.as_secs_f64() * 1e3
    );
    println!(
        "| loop-thread CPU per job | {:.0} µs |",
        f.loop_cpu.as_secs_f64() * 1e6 / n as f64
    );
    println!(
        "| HTTP pool CPU per job | {:.0} µs |",
        f.pool_cpu.as_secs_f64() * 1e6 / n as f64
    );
    println!("| requests per job | {:.1} |", f.requests as f64 / n as f64);
    println!(
        "| loop-thread CPU per request | {:.1} µs |",
        f.loop_cpu.as_secs_f64() * 1e6 / f.requests.max(1) as f64
    );
    println!();
    println!("| {m} trivial jobs one after another | wall per job |");
    println!("| --- | --- |");
    println!(
        "| taskloop flow (a chain of {m} Ray jobs) | {:.0} ms |",
        per(chain.wall, m)
    );
    println!(
        "| bash loop of `ray job submit -- true` | {:.0} ms |",
        per(shell, m)
    );
    println!(
        "| difference (the CLI's overhead per job) | {:.0} ms |",
        per(shell, m) - per(chain.wall, m)
    );
    println!(
        "| taskloop chain: Ray's own start-to-end time per job | {:.0} ms |",
        per(chain.on_ray, m)
    );
    println!(
        "| taskloop chain: overhead per job (wall - Ray's time) | {:.0} ms |",
        per(chain.wall.saturating_sub(chain.on_ray), m)
    );
    println!(
        "| {n} jobs in flight, wall per job | {:.0} ms |",
        per(f.wall, n)
    );
    println!();
    println!(
        "The chain, one job at a time: {:.1} requests per job, loop-thread CPU {:.0} µs per job, {:.1} µs per request.",
        chain.requests as f64 / m as f64,
        chain.loop_cpu.as_secs_f64() * 1e6 / m as f64,
        chain.loop_cpu.as_secs_f64() * 1e6 / chain.requests.max(1) as f64
    );
}

/// CPU time of the calling thread (`/proc/thread-self/schedstat`, first field).
fn this_thread_cpu() -> Duration {
    Duration::from_nanos(schedstat_ns("/proc/thread-self/schedstat").expect("schedstat"))
}

fn schedstat_ns(path: &str) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Every thread of this process: tid → (name, ns on CPU).
fn thread_cpu() -> HashMap<u32, (String, u64)> {
    let mut out = HashMap::new();
    for entry in std::fs::read_dir("/proc/self/task")
        .expect("/proc")
        .flatten()
    {
        let Ok(tid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let base = format!("/proc/self/task/{tid}");
        let name = std::fs::read_to_string(format!("{base}/comm")).unwrap_or_default();
        if let Some(ns) = schedstat_ns(&format!("{base}/schedstat")) {
            out.insert(tid, (name.trim().to_string(), ns));
        }
    }
    out
}

/// A byte-for-byte relay to the dashboard that counts requests (request lines sent
/// from client to server).
struct CountingProxy {
    url: String,
    requests: Arc<AtomicU64>,
}

impl CountingProxy {
    fn start(upstream: &str) -> CountingProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicU64::new(0));
        let counter = requests.clone();
        std::thread::Builder::new()
            .name("proxy".into())
            .spawn(move || {
                for client in listener.incoming().flatten() {
                    let server = TcpStream::connect(&upstream).unwrap();
                    let (c2, s2, counter) = (
                        client.try_clone().unwrap(),
                        server.try_clone().unwrap(),
                        counter.clone(),
                    );
                    let spawn = |f: Box<dyn FnOnce() + Send>| {
                        std::thread::Builder::new()
                            .name("proxy".into())
                            .spawn(f)
                            .unwrap()
                    };
                    spawn(Box::new(move || relay(client, server, Some(&counter))));
                    spawn(Box::new(move || relay(s2, c2, None)));
                }
            })
            .unwrap();
        CountingProxy { url, requests }
    }
}

/// Copies `from` to `to` until either closes, counting ` HTTP/1.1\r\n` (request lines).
fn relay(mut from: TcpStream, mut to: TcpStream, count: Option<&AtomicU64>) {
    let needle = b" HTTP/1.1\r\n";
    let mut buf = vec![0; 64 * 1024];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(counter) = count {
            carry.extend_from_slice(&buf[..n]);
            let hits = carry.windows(needle.len()).filter(|w| *w == needle).count();
            counter.fetch_add(hits as u64, Ordering::Relaxed);
            let keep = carry.len().min(needle.len() - 1);
            carry.drain(..carry.len() - keep);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}
