//! Section 1: bookkeeping per job.
//!
//! A layered graph of [`JOBS`] no-op jobs, [`LAYERS`] layers of [`WIDTH`]; job `i` of every
//! layer after the first takes two inputs from the previous layer: jobs `i` and
//! `(i + SECOND_INPUT) % WIDTH`. Each job returns a `u64` computed from its inputs, and the
//! sum of the last layer's values is checked against [`expected_checksum`], so every
//! implementation provably runs the same graph.
//!
//! Implementations, one function each:
//! - [`flow_run_async`]: `Flow` of `job_local` jobs, run with `run_async` on a taskloop
//!   runtime built beforehand (like the task baselines, whose runtimes are built beforehand);
//! - [`flow_run`]: the same, run with `Flow::run`, which builds the flow's own runtime
//!   (with its 4 blocking worker threads) inside the measured run time;
//! - [`taskloop_tasks`], [`tokio`], [`smol`]: one spawned task per job that awaits its two
//!   inputs' `Shared` join handles, then returns its value.

use std::time::{Duration, Instant};

use futures::future::{FutureExt, Map, Shared};
use taskloop::flow::{Flow, Job};

pub const WIDTH: usize = 100;
pub const LAYERS: usize = 100;
pub const JOBS: usize = WIDTH * LAYERS;
/// Job `i` of a layer takes jobs `i` and `(i + SECOND_INPUT) % WIDTH` of the previous one.
pub const SECOND_INPUT: usize = 37;

/// The value of job `i` of the first layer.
fn seed(i: usize) -> u64 {
    i as u64 + 1
}

/// The value of a job from its two inputs' values.
fn combine(a: u64, b: u64) -> u64 {
    a.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ b
}

fn inputs_of(i: usize) -> (usize, usize) {
    (i, (i + SECOND_INPUT) % WIDTH)
}

/// The wrapping sum of the last layer's values of a graph of `layers` layers, computed
/// without any runtime.
pub fn expected_checksum(layers: usize) -> u64 {
    let mut prev: Vec<u64> = (0..WIDTH).map(seed).collect();
    for _ in 1..layers {
        prev = (0..WIDTH)
            .map(|i| {
                let (a, b) = inputs_of(i);
                combine(prev[a], prev[b])
            })
            .collect();
    }
    prev.into_iter().fold(0, u64::wrapping_add)
}

/// One run, split in phases.
#[derive(Debug, Clone, Copy)]
pub struct Split {
    /// Building the graph: declaring the jobs, or spawning the tasks.
    pub declare: Duration,
    /// Running it to the end and reading the last layer's values.
    pub run: Duration,
    /// Dropping what is left (the flow with its results, or the last handles).
    pub teardown: Duration,
    pub checksum: u64,
}

impl Split {
    pub fn total(&self) -> Duration {
        self.declare + self.run + self.teardown
    }
}

/// Times the three phases: `declare` returns the state `run` consumes; `run` returns the
/// checksum and whatever must be dropped afterwards, whose drop is the teardown.
async fn phases<S, K, Fut>(declare: impl FnOnce() -> S, run: impl FnOnce(S) -> Fut) -> Split
where
    Fut: std::future::Future<Output = (u64, K)>,
{
    let t0 = Instant::now();
    let state = declare();
    let t1 = Instant::now();
    let (checksum, leftovers) = run(state).await;
    let t2 = Instant::now();
    drop(leftovers);
    let t3 = Instant::now();
    Split {
        declare: t1 - t0,
        run: t2 - t1,
        teardown: t3 - t2,
        checksum,
    }
}

// ---------------------------------------------------------------------------------------------
// taskloop flow
// ---------------------------------------------------------------------------------------------

/// Declares the graph as `job_local` jobs; returns the last layer's handles. Names are
/// short and distinct (`n0` .. `n9999`): one small `String` per job, as real names cost.
fn declare_flow(flow: &mut Flow, layers: usize) -> Vec<Job<u64>> {
    let mut prev: Vec<Job<u64>> = (0..WIDTH)
        .map(|i| flow.job_local(format!("n{i}"), (), move |()| seed(i)))
        .collect();
    for layer in 1..layers {
        prev = (0..WIDTH)
            .map(|i| {
                let (a, b) = inputs_of(i);
                flow.job_local(
                    format!("n{}", layer * WIDTH + i),
                    (&prev[a], &prev[b]),
                    |(a, b)| combine(*a, *b),
                )
            })
            .collect();
    }
    prev
}

fn flow_checksum(report: &taskloop::flow::Report, last: &[Job<u64>]) -> u64 {
    assert!(report.is_success(), "the flow failed:\n{report}");
    last.iter()
        .map(|j| *j.result().expect("a last-layer job has no result"))
        .fold(0, u64::wrapping_add)
}

/// `Flow` + `run_async` on the given (already built) taskloop runtime, on a graph of
/// `layers` layers.
pub fn flow_run_async(rt: &taskloop::Runtime, layers: usize) -> Split {
    rt.block_on(phases(
        || {
            let mut flow = Flow::new();
            let last = declare_flow(&mut flow, layers);
            (flow, last)
        },
        |(mut flow, last)| async move {
            let report = flow.run_async().await;
            (flow_checksum(&report, &last), (report, last, flow))
        },
    ))
}

/// `Flow` + `Flow::run`: the run includes building the flow's own runtime, and the teardown
/// includes shutting it down (joining its worker threads).
pub fn flow_run(layers: usize) -> Split {
    futures::executor::block_on(phases(
        || {
            let mut flow = Flow::new();
            let last = declare_flow(&mut flow, layers);
            (flow, last)
        },
        |(mut flow, last)| async move {
            let report = flow.run();
            (flow_checksum(&report, &last), (report, last, flow))
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Spawned tasks + Shared
// ---------------------------------------------------------------------------------------------

/// Sums the last layer's shared values (each already resolved or resolving).
async fn shared_checksum<N: std::future::Future<Output = u64> + Clone>(last: &[N]) -> u64 {
    let mut sum = 0u64;
    for node in last {
        sum = sum.wrapping_add(node.clone().await);
    }
    sum
}

type TaskloopNode =
    Shared<Map<taskloop::JoinHandle<u64>, fn(Result<u64, taskloop::JoinError>) -> u64>>;

fn taskloop_node(h: taskloop::JoinHandle<u64>) -> TaskloopNode {
    let unwrap: fn(Result<u64, taskloop::JoinError>) -> u64 = |r| r.expect("taskloop task failed");
    h.map(unwrap).shared()
}

/// One `taskloop::spawn` per job; inputs awaited through `Shared` join handles.
pub fn taskloop_tasks(rt: &taskloop::Runtime, layers: usize) -> Split {
    rt.block_on(phases(
        || {
            let mut prev: Vec<TaskloopNode> = (0..WIDTH)
                .map(|i| taskloop_node(taskloop::spawn(async move { seed(i) })))
                .collect();
            for _ in 1..layers {
                prev = (0..WIDTH)
                    .map(|i| {
                        let (a, b) = inputs_of(i);
                        let (a, b) = (prev[a].clone(), prev[b].clone());
                        taskloop_node(taskloop::spawn(async move { combine(a.await, b.await) }))
                    })
                    .collect();
            }
            prev
        },
        |last| async move { (shared_checksum(&last).await, last) },
    ))
}

type TokioNode =
    Shared<Map<tokio::task::JoinHandle<u64>, fn(Result<u64, tokio::task::JoinError>) -> u64>>;

fn tokio_node(h: tokio::task::JoinHandle<u64>) -> TokioNode {
    let unwrap: fn(Result<u64, tokio::task::JoinError>) -> u64 = |r| r.expect("tokio task failed");
    h.map(unwrap).shared()
}

/// One `tokio::spawn` per job on the current_thread runtime; inputs awaited through `Shared`
/// join handles.
pub fn tokio(rt: &tokio::runtime::Runtime, layers: usize) -> Split {
    rt.block_on(phases(
        || {
            let mut prev: Vec<TokioNode> = (0..WIDTH)
                .map(|i| tokio_node(tokio::spawn(async move { seed(i) })))
                .collect();
            for _ in 1..layers {
                prev = (0..WIDTH)
                    .map(|i| {
                        let (a, b) = inputs_of(i);
                        let (a, b) = (prev[a].clone(), prev[b].clone());
                        tokio_node(tokio::spawn(async move { combine(a.await, b.await) }))
                    })
                    .collect();
            }
            prev
        },
        |last| async move { (shared_checksum(&last).await, last) },
    ))
}

/// One `LocalExecutor::spawn` per job; inputs awaited through `Shared` tasks (a smol `Task`
/// is itself the join handle and yields the value directly).
pub fn smol(ex: &smol::LocalExecutor<'_>, layers: usize) -> Split {
    smol::block_on(ex.run(phases(
        || {
            let mut prev: Vec<Shared<smol::Task<u64>>> = (0..WIDTH)
                .map(|i| ex.spawn(async move { seed(i) }).shared())
                .collect();
            for _ in 1..layers {
                prev = (0..WIDTH)
                    .map(|i| {
                        let (a, b) = inputs_of(i);
                        let (a, b) = (prev[a].clone(), prev[b].clone());
                        ex.spawn(async move { combine(a.await, b.await) }).shared()
                    })
                    .collect();
            }
            prev
        },
        |last| async move { (shared_checksum(&last).await, last) },
    )))
}

/// What building a `Report` of the finished graph costs (median of `runs` calls of
/// `Flow::report`): a part of the flows' run time that the task baselines do not have.
pub fn flow_report_cost(rt: &taskloop::Runtime, runs: usize) -> Duration {
    let mut flow = Flow::new();
    let last = declare_flow(&mut flow, LAYERS);
    let report = rt.block_on(flow.run_async());
    assert_eq!(flow_checksum(&report, &last), expected_checksum(LAYERS));
    super::median_of((0..runs).map(|_| {
        let t = Instant::now();
        let report = flow.report();
        let d = t.elapsed();
        drop(report);
        d
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_implementation_computes_the_expected_checksum() {
        let layers = super::LAYERS;
        let expected = super::expected_checksum(layers);
        let rt = crate::new_taskloop();
        assert_eq!(super::flow_run_async(&rt, layers).checksum, expected);
        assert_eq!(super::taskloop_tasks(&rt, layers).checksum, expected);
        assert_eq!(super::tokio(&crate::new_tokio(), layers).checksum, expected);
        assert_eq!(super::smol(&crate::new_smol(), layers).checksum, expected);
    }
}
