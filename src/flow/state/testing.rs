//! Helpers for unit tests of the state and the scheduler: a flow of idle jobs declared
//! by index, and an observer that records how jobs ended.

use std::cell::RefCell;
use std::rc::Rc;

use super::super::body::{AttemptFuture, Body};
use super::super::error::JobError;
use super::super::inputs::InputLink;
use super::super::observe::Event;
use super::super::remote::Progress;
use super::super::status::JobStatus;
use super::{FlowState, WorkerLease};

/// A body whose attempts never finish: tests report outcomes themselves.
struct Idle;

impl Body for Idle {
    fn attempt(self: Rc<Self>, _: Progress, _: Option<WorkerLease>) -> AttemptFuture {
        Box::pin(std::future::pending())
    }
}

/// Declares an idle job taking jobs `inputs` of the same flow; returns its index.
/// `blocking` jobs count against the pool limit.
pub(crate) fn add(state: &FlowState, name: &str, inputs: &[usize], blocking: bool) -> usize {
    let links: Vec<InputLink> = inputs
        .iter()
        .map(|&index| InputLink {
            flow: state.id,
            index,
        })
        .collect();
    state
        .add_job(
            name.to_string(),
            |out| out.extend_from_slice(&links),
            Rc::new(Idle),
            blocking,
        )
        .index
}

/// How one job ended, as its `Finished` event said.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ended {
    pub(crate) job: String,
    pub(crate) status: JobStatus,
    /// The job named by the root of its error, if it has one.
    pub(crate) root: Option<String>,
}

/// Records every `Finished` event of `state`, in order.
pub(crate) fn record_ends(state: &FlowState) -> Rc<RefCell<Vec<Ended>>> {
    let ends = Rc::new(RefCell::new(Vec::new()));
    let sink = ends.clone();
    state.add_observer(Box::new(move |e: &Event<'_>| {
        if let Event::Finished {
            job, status, error, ..
        } = e
        {
            sink.borrow_mut().push(Ended {
                job: job.name.to_string(),
                status: *status,
                root: error.map(|e: &JobError| e.root().job().to_string()),
            });
        }
    }));
    ends
}
