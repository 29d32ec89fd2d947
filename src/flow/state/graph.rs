//! The job graph: the nodes in declaration order, and their edges kept in two flat
//! arrays instead of two small allocations per job.
//!
//! - **Inputs** are known when a job is declared, so each job's inputs are one
//!   contiguous run of `inputs` (its node keeps where).
//! - **Dependents** arrive later, one per job declared with this job as an input, so each
//!   job's dependents are a list threaded through `links`: the node keeps its first and
//!   last link, each link the next one. Appending keeps declaration order.
//!
//! Both arrays only grow, as the node vector does; a flow never forgets a job.

use std::ops::{Index, IndexMut};
use std::rc::Rc;

use super::super::body::Body;
use super::super::report::JobReport;
use super::super::status::JobId;
use super::node::{Dependents, Node, Span};

/// One dependent in a job's list of dependents.
#[derive(Debug, Clone, Copy)]
struct Link {
    dependent: u32,
    next: u32,
}

/// The nodes and their edges.
#[derive(Default)]
pub(crate) struct Graph {
    nodes: Vec<Node>,
    inputs: Vec<JobId>,
    links: Vec<Link>,
}

/// A position in one of the graph's arrays, which a flow keeps below `u32::MAX`.
fn position(n: usize) -> u32 {
    u32::try_from(n)
        .ok()
        .filter(|&p| p != Dependents::NONE)
        .expect("a flow holds fewer than 2^32 - 1 jobs and input edges")
}

impl Graph {
    /// The number of jobs.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes, to change them (only the state module does).
    pub(super) fn nodes_mut(&mut self) -> &mut [Node] {
        &mut self.nodes
    }

    /// Adds a job taking `inputs` (jobs already declared); returns its index.
    pub(super) fn add(
        &mut self,
        name: String,
        inputs: impl IntoIterator<Item = JobId>,
        body: Rc<dyn Body>,
        foreign: bool,
        uses_pool: bool,
    ) -> usize {
        let index = self.nodes.len();
        let dependent = position(index);
        let start = self.inputs.len();
        self.inputs.extend(inputs);
        let span = Span {
            start: position(start),
            len: position(self.inputs.len() - start),
        };
        for k in start..self.inputs.len() {
            let input = self.inputs[k].0;
            self.add_dependent(input, dependent);
        }
        self.nodes
            .push(Node::new(name, span, body, foreign, uses_pool));
        index
    }

    fn add_dependent(&mut self, input: usize, dependent: u32) {
        let link = position(self.links.len());
        self.links.push(Link {
            dependent,
            next: Dependents::NONE,
        });
        let list = &mut self.nodes[input].dependents;
        match list.last {
            Dependents::NONE => list.first = link,
            last => self.links[last as usize].next = link,
        }
        list.last = link;
    }

    /// The jobs job `i` takes its inputs from.
    pub(crate) fn inputs(&self, i: usize) -> &[JobId] {
        let Span { start, len } = self.nodes[i].inputs;
        &self.inputs[start as usize..(start + len) as usize]
    }

    /// The jobs that take job `i` as an input, in declaration order.
    pub(crate) fn dependents(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let mut next = self.nodes[i].dependents.first;
        std::iter::from_fn(move || {
            let link = *self.links.get(next as usize)?;
            next = link.next;
            Some(link.dependent as usize)
        })
    }

    /// Job `i`'s line in a report.
    pub(super) fn report(&self, i: usize) -> JobReport {
        let node = &self.nodes[i];
        let (started, finished) = node.times();
        JobReport {
            id: JobId(i),
            name: node.name().to_owned(),
            inputs: self.inputs(i).to_vec(),
            status: node.status(),
            started,
            finished,
            attempts: node.attempts(),
            error: node.error().cloned(),
            in_this_run: node.in_run(),
        }
    }
}

impl Index<usize> for Graph {
    type Output = Node;

    fn index(&self, i: usize) -> &Node {
        &self.nodes[i]
    }
}

impl IndexMut<usize> for Graph {
    fn index_mut(&mut self, i: usize) -> &mut Node {
        &mut self.nodes[i]
    }
}
