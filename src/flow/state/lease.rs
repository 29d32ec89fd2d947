//! [`WorkerLease`]: a blocking attempt's hold on a pool worker.

use std::rc::Rc;

use super::FlowState;

/// Marks one attempt of a blocking job as occupying a pool worker, from the moment it
/// is handed to the pool until the worker is done with it, even if the attempt was
/// abandoned (timed out, cancelled) long before. The scheduler gives the job's pool slot
/// back only when the last lease of an ended job drops, so the flow never counts a
/// worker as free while it still runs an abandoned body.
pub(crate) struct WorkerLease {
    state: Rc<FlowState>,
    index: usize,
}

impl WorkerLease {
    /// A lease for an attempt of job `index`, taken as the attempt goes to the pool.
    pub(crate) fn new(state: &Rc<FlowState>, index: usize) -> WorkerLease {
        state.graph.borrow_mut()[index].worker_taken();
        WorkerLease {
            state: state.clone(),
            index,
        }
    }
}

impl Drop for WorkerLease {
    fn drop(&mut self) {
        let owed = self.state.graph.borrow_mut()[self.index].worker_freed();
        if owed {
            let freed = &self.state.pool_freed;
            freed.set(freed.get() + 1);
            self.state.wake_driver();
        }
    }
}
