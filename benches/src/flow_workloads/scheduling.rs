//! Section 2: scheduling quality.
//!
//! A random layered graph ([`random_graph`], fixed seed) of [`LAYERS`] x [`PER_LAYER`]
//! blocking jobs that each `std::thread::sleep` a declared duration of 1-20 ms, run on a
//! flow with [`WORKERS`] blocking workers. The makespan is compared with the lower bound
//! `max(critical path, total work / workers)` (no schedule can beat it), and with greedy
//! list schedules of the same graph simulated with zero overhead ([`simulate`]): a
//! simulated schedule shows what the graph allows, so the gap between it and the measured
//! makespan is the flow's own overhead (dispatch latency and `sleep` overshoot).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use taskloop::flow::{Flow, Job};

use super::Rng;

pub const LAYERS: usize = 20;
pub const PER_LAYER: usize = 50;
pub const JOBS: usize = LAYERS * PER_LAYER;
pub const WORKERS: usize = 4;
pub const MIN_SLEEP_US: u64 = 1_000;
pub const MAX_SLEEP_US: u64 = 20_000;
const SEED: u64 = 0xF10E_5C4E_D01E_2024;

/// A job graph: per job its declared duration (µs) and its inputs (earlier jobs).
#[derive(Debug, Clone)]
pub struct Graph {
    pub micros: Vec<u64>,
    pub inputs: Vec<Vec<usize>>,
}

/// Every job after the first layer has 1-3 distinct inputs: the first from the previous
/// layer (so chains run through all layers), the others from any earlier layer.
pub fn random_graph() -> Graph {
    let mut rng = Rng::new(SEED);
    let mut g = Graph {
        micros: Vec::with_capacity(JOBS),
        inputs: Vec::with_capacity(JOBS),
    };
    for layer in 0..LAYERS {
        for _ in 0..PER_LAYER {
            g.micros
                .push(MIN_SLEEP_US + rng.below(MAX_SLEEP_US - MIN_SLEEP_US + 1));
            let mut inputs = Vec::new();
            if layer > 0 {
                let prev_start = (layer - 1) * PER_LAYER;
                inputs.push(prev_start + rng.below(PER_LAYER as u64) as usize);
                let extra = rng.below(3) as usize; // 0..=2 more
                while inputs.len() < 1 + extra {
                    let i = rng.below((layer * PER_LAYER) as u64) as usize;
                    if !inputs.contains(&i) {
                        inputs.push(i);
                    }
                }
            }
            g.inputs.push(inputs);
        }
    }
    g
}

impl Graph {
    pub fn len(&self) -> usize {
        self.micros.len()
    }

    pub fn is_empty(&self) -> bool {
        self.micros.is_empty()
    }

    pub fn total_work(&self) -> Duration {
        Duration::from_micros(self.micros.iter().sum())
    }

    /// The longest chain by declared durations.
    pub fn critical_path(&self) -> Duration {
        let mut finish = vec![0u64; self.len()];
        for i in 0..self.len() {
            let ready = self.inputs[i].iter().map(|&j| finish[j]).max().unwrap_or(0);
            finish[i] = ready + self.micros[i];
        }
        Duration::from_micros(finish.into_iter().max().unwrap_or(0))
    }

    /// `max(critical path, total work / workers)`.
    pub fn lower_bound(&self, workers: usize) -> Duration {
        self.critical_path().max(self.total_work() / workers as u32)
    }

    fn dependents(&self) -> Vec<Vec<usize>> {
        let mut deps = vec![Vec::new(); self.len()];
        for (i, inputs) in self.inputs.iter().enumerate() {
            for &j in inputs {
                deps[j].push(i);
            }
        }
        deps
    }

    /// Per job, the number of jobs on the longest chain from it to a sink: the tie-breaker
    /// taskloop's scheduler uses among ready jobs of equal priority.
    pub fn chain_in_jobs(&self) -> Vec<u64> {
        self.bottom_levels(|_| 1)
    }

    /// Per job, the longest declared duration from its start to the end of the graph
    /// (the classic "highest level first" list-scheduling priority).
    pub fn chain_in_micros(&self) -> Vec<u64> {
        self.bottom_levels(|i| self.micros[i])
    }

    fn bottom_levels(&self, weight: impl Fn(usize) -> u64) -> Vec<u64> {
        let deps = self.dependents();
        let mut level = vec![0u64; self.len()];
        for i in (0..self.len()).rev() {
            level[i] = weight(i) + deps[i].iter().map(|&d| level[d]).max().unwrap_or(0);
        }
        level
    }
}

/// Greedy list scheduling with zero overhead: whenever a worker is free and a job is
/// ready, the ready job with the highest `priority` starts (ties: first ready, first
/// started). Returns the makespan.
pub fn simulate(g: &Graph, workers: usize, priority: &[u64]) -> Duration {
    let deps = g.dependents();
    let mut waiting: Vec<usize> = g.inputs.iter().map(Vec::len).collect();
    let mut order = 0u64;
    let mut ready = BinaryHeap::new(); // (priority, Reverse(order), job)
    for i in (0..g.len()).filter(|&i| waiting[i] == 0) {
        order += 1;
        ready.push((priority[i], Reverse(order), i));
    }
    let mut running = BinaryHeap::new(); // Reverse((finish time, job))
    let (mut now, mut free) = (0u64, workers);
    loop {
        while free > 0 {
            let Some((_, _, i)) = ready.pop() else { break };
            running.push(Reverse((now + g.micros[i], i)));
            free -= 1;
        }
        let Some(Reverse((t, _))) = running.peek().copied() else {
            break;
        };
        now = t;
        while let Some(&Reverse((t, i))) = running.peek() {
            if t != now {
                break;
            }
            running.pop();
            free += 1;
            for &d in &deps[i] {
                waiting[d] -= 1;
                if waiting[d] == 0 {
                    order += 1;
                    ready.push((priority[d], Reverse(order), d));
                }
            }
        }
    }
    Duration::from_micros(now)
}

/// What one real run of the graph on a flow did.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// `Report::wall_time`: from the scheduler's start to the last job's end.
    pub makespan: Duration,
    /// Sum over jobs of `finished - started` (the time each held a worker slot).
    pub busy: Duration,
    /// Sum over jobs of the time their `thread::sleep` really took, measured in the body.
    pub slept: Duration,
}

impl Measured {
    /// Mean time a job's `thread::sleep` took beyond the declared duration (the OS's
    /// part of the overrun).
    pub fn oversleep_per_job(&self, g: &Graph) -> Duration {
        self.slept.saturating_sub(g.total_work()) / g.len() as u32
    }

    /// Mean time a job held its worker slot beyond its body's run: handing it to the pool
    /// and reporting its completion back to the loop (the flow's and runtime's part).
    pub fn dispatch_per_job(&self, g: &Graph) -> Duration {
        self.busy.saturating_sub(self.slept) / g.len() as u32
    }

    /// Worker-slot time spent idle: `workers x makespan - busy`.
    pub fn idle(&self, workers: usize) -> Duration {
        (self.makespan * workers as u32).saturating_sub(self.busy)
    }
}

/// Declares the graph as blocking jobs (`job` / `job_after` with a slice of inputs) on a
/// flow with [`WORKERS`] blocking threads, runs it, and measures.
pub fn run_flow(g: &Graph) -> Measured {
    let mut flow = Flow::builder().blocking_threads(WORKERS).build();
    let mut jobs: Vec<Job<()>> = Vec::with_capacity(g.len());
    let slept_ns = Arc::new(AtomicU64::new(0));
    for (i, (&us, inputs)) in g.micros.iter().zip(&g.inputs).enumerate() {
        let d = Duration::from_micros(us);
        let slept_ns = slept_ns.clone();
        let body = move || {
            let t = Instant::now();
            std::thread::sleep(d);
            slept_ns.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        };
        let name = format!("j{i}");
        let job = if inputs.is_empty() {
            flow.job(name, body)
        } else {
            let inputs: Vec<Job<()>> = inputs.iter().map(|&j| jobs[j].clone()).collect();
            flow.job_after(name, inputs.as_slice(), move |_| body())
        };
        jobs.push(job);
    }
    let report = flow.run();
    assert!(report.is_success(), "the flow failed:\n{report}");
    let busy = report.jobs.iter().filter_map(|j| j.duration()).sum();
    Measured {
        makespan: report.wall_time,
        busy,
        slept: Duration::from_nanos(slept_ns.load(Ordering::Relaxed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(micros: &[u64], inputs: &[&[usize]]) -> Graph {
        Graph {
            micros: micros.to_vec(),
            inputs: inputs.iter().map(|i| i.to_vec()).collect(),
        }
    }

    #[test]
    fn random_graph_is_deterministic_and_well_formed() {
        let g = random_graph();
        assert_eq!(g.micros, random_graph().micros);
        assert_eq!(g.inputs, random_graph().inputs);
        assert_eq!(g.len(), JOBS);
        for (i, inputs) in g.inputs.iter().enumerate() {
            let layer = i / PER_LAYER;
            assert_eq!(inputs.is_empty(), layer == 0);
            assert!(inputs.len() <= 3);
            assert!(inputs.iter().all(|&j| j < layer * PER_LAYER));
            assert!((MIN_SLEEP_US..=MAX_SLEEP_US).contains(&g.micros[i]));
        }
    }

    #[test]
    fn simulation_and_bounds_on_small_graphs() {
        // A chain: the critical path is the sum, whatever the workers.
        let chain = graph(&[10, 20, 30], &[&[], &[0], &[1]]);
        assert_eq!(chain.critical_path(), Duration::from_micros(60));
        assert_eq!(simulate(&chain, 4, &[0; 3]), Duration::from_micros(60));
        // Four independent jobs of 10 µs on 2 workers: 20 µs.
        let flat = graph(&[10; 4], &[&[], &[], &[], &[]]);
        assert_eq!(flat.lower_bound(2), Duration::from_micros(20));
        assert_eq!(simulate(&flat, 2, &[0; 4]), Duration::from_micros(20));
        // Priority decides: starting the long job first finishes at 30, not 40.
        let g = graph(&[10, 10, 30], &[&[], &[], &[]]);
        assert_eq!(
            simulate(&g, 2, &g.chain_in_micros()),
            Duration::from_micros(30)
        );
        assert_eq!(simulate(&g, 2, &[0; 3]), Duration::from_micros(40));
    }

    #[test]
    fn greedy_never_beats_the_lower_bound() {
        let g = random_graph();
        let lb = g.lower_bound(WORKERS);
        for priority in [g.chain_in_jobs(), g.chain_in_micros(), vec![0; g.len()]] {
            assert!(simulate(&g, WORKERS, &priority) >= lb);
        }
    }
}
