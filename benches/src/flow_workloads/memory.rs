//! Section 3: memory per pending job.
//!
//! Declares [`JOBS`] jobs with no-op bodies on an empty flow (never run) and reads the live
//! heap before and after from [`Counting`], the counting allocator the bench binary installs
//! as its global allocator. It counts the bytes requested from `malloc` (the allocator's own
//! per-block overhead is not included).
//!
//! Every second job takes the previous job as its one input. Names are short and distinct
//! (`j0` .. `j99999`). The handles are dropped as the loop goes (only the previous one is
//! kept), so what is counted is what the flow itself keeps per job; a program that stores
//! every handle adds `size_of::<Job<T>>()` per job for it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use taskloop::flow::{Flow, Job};

pub const JOBS: usize = 100_000;
/// From this job on the node vector (capacity 131,072 after job 65,536) does not grow, so
/// the heap's growth per job from here on is the jobs' own allocations.
pub const WINDOW_START: usize = 70_000;

// ---------------------------------------------------------------------------------------------
// Counting allocator: the binary installs it with `#[global_allocator]`; without that, the
// counters stay at zero.
// ---------------------------------------------------------------------------------------------

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE_BLOCKS: AtomicUsize = AtomicUsize::new(0);
/// Calls to `alloc`, `alloc_zeroed` and `realloc` since the start (never decremented).
static ALLOC_CALLS: AtomicUsize = AtomicUsize::new(0);

/// `System`, counting the bytes and blocks currently allocated (as requested, so malloc's
/// own per-block overhead is not included) and the allocation calls. A few relaxed atomic
/// adds per call: a few ns added to every allocation of every section, for every runtime.
pub struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and only
// updates counters; `System` upholds the `GlobalAlloc` contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Relaxed);
            LIVE_BLOCKS.fetch_add(1, Relaxed);
            ALLOC_CALLS.fetch_add(1, Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Relaxed);
            LIVE_BLOCKS.fetch_add(1, Relaxed);
            ALLOC_CALLS.fetch_add(1, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Relaxed);
        LIVE_BLOCKS.fetch_sub(1, Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(new_size, Relaxed);
            LIVE_BYTES.fetch_sub(layout.size(), Relaxed);
            ALLOC_CALLS.fetch_add(1, Relaxed);
        }
        p
    }
}

/// The live heap now (every thread's allocations).
pub fn live() -> Live {
    Live {
        bytes: LIVE_BYTES.load(Relaxed),
        blocks: LIVE_BLOCKS.load(Relaxed),
    }
}

/// Allocation calls so far (every thread's).
pub fn alloc_calls() -> usize {
    ALLOC_CALLS.load(Relaxed)
}

// ---------------------------------------------------------------------------------------------
// The measurement
// ---------------------------------------------------------------------------------------------

/// The live heap, as the counters report it.
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
    /// Of `bytes`, the share of the flow's node vector (one slot per job, in a vector
    /// whose capacity doubles): `bytes` minus the growth per job over the last jobs
    /// ([`WINDOW_START`]..[`JOBS`]), during which the vector does not reallocate.
    pub node_vector: f64,
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
        (Kind::Local, None) => flow.job_local(name, (), |()| 1),
        (Kind::Local, Some(p)) => flow.job_local(name, p, |x| *x),
        (Kind::Blocking, None) => flow.job(name, || 1),
        (Kind::Blocking, Some(p)) => flow.job_after(name, p, |x| *x),
    }
}

/// Declares [`JOBS`] jobs of `kind` and measures them. Run it while no other thread
/// allocates: the counters see the whole process.
///
/// # Panics
/// If [`Counting`] is not the global allocator.
pub fn measure(kind: Kind) -> PerJob {
    let baseline = live();
    assert!(
        baseline.blocks > 0,
        "install memory::Counting as the #[global_allocator] to measure memory"
    );
    let mut flow = Flow::new();
    let before = live();
    let mut prev: Option<Job<u64>> = None;
    let mut window = Live::default();
    for i in 0..JOBS {
        if i == WINDOW_START {
            window = live();
        }
        let input = if i % 2 == 1 { prev.as_ref() } else { None };
        let job = declare(&mut flow, kind, input, i);
        prev = Some(job);
    }
    drop(prev);
    let after = live();
    drop(flow);
    let end = live();
    let own = (after.bytes - window.bytes) as f64 / (JOBS - WINDOW_START) as f64;
    let bytes = (after.bytes as f64 - before.bytes as f64) / JOBS as f64;
    PerJob {
        bytes,
        node_vector: bytes - own,
        blocks: (after.blocks as f64 - before.blocks as f64) / JOBS as f64,
        left_after_drop: end.bytes as isize - baseline.bytes as isize,
    }
}
