//! Section 3: memory per pending job.
//!
//! Declares [`JOBS`] jobs with no-op bodies on an empty flow (never run) and reads the live
//! heap before and after through a probe: the bench binary's counting global allocator,
//! which counts the bytes requested from `malloc` (the allocator's own per-block overhead
//! is not included). Every second job takes the previous job as its one input. Names are
//! short and distinct (`j0` .. `j99999`). The handles are dropped as the loop goes
//! (only the previous one is kept), so what is counted is what the flow itself keeps per
//! job; a program that stores every handle adds `size_of::<Job<T>>()` per job for it.

use std::convert::Infallible;

use taskloop::flow::{Flow, Job};

pub const JOBS: usize = 100_000;

/// The live heap as the probe reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Live {
    pub bytes: usize,
    pub blocks: usize,
}

/// What declaring [`JOBS`] jobs cost.
#[derive(Debug, Clone, Copy)]
pub struct PerJob {
    pub bytes: f64,
    pub blocks: f64,
    /// Live bytes left after dropping the flow, compared with before it was created
    /// (0 means nothing leaked).
    pub left_after_drop: isize,
}

/// Which kind of job to declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `job_local`
    Local,
    /// `job` / `job_after` (blocking bodies)
    Blocking,
}

fn declare(flow: &mut Flow, kind: Kind, prev: Option<&Job<u64>>, i: usize) -> Job<u64> {
    let name = format!("j{i}");
    match (kind, prev) {
        (Kind::Local, None) => flow.job_local(name, (), |()| Ok::<u64, Infallible>(1)),
        (Kind::Local, Some(p)) => flow.job_local(name, p, |x| Ok::<u64, Infallible>(*x)),
        (Kind::Blocking, None) => flow.job(name, || Ok::<u64, Infallible>(1)),
        (Kind::Blocking, Some(p)) => flow.job_after(name, p, |x| Ok::<u64, Infallible>(*x)),
    }
}

/// Declares [`JOBS`] jobs of `kind` and measures them with `probe`. Run it while no other
/// thread allocates: the probe sees the whole process.
pub fn measure(kind: Kind, probe: fn() -> Live) -> PerJob {
    let baseline = probe();
    let mut flow = Flow::new();
    let before = probe();
    let mut prev: Option<Job<u64>> = None;
    for i in 0..JOBS {
        let input = if i % 2 == 1 { prev.as_ref() } else { None };
        let job = declare(&mut flow, kind, input, i);
        prev = Some(job);
    }
    drop(prev);
    let after = probe();
    drop(flow);
    let end = probe();
    PerJob {
        bytes: (after.bytes as f64 - before.bytes as f64) / JOBS as f64,
        blocks: (after.blocks as f64 - before.blocks as f64) / JOBS as f64,
        left_after_drop: end.bytes as isize - baseline.bytes as isize,
    }
}
