//! How a job names its inputs and receives their results, typed.
//!
//! A job's inputs are given as `()`, one `&Job<A>`, a tuple `(&Job<A>, &Job<B>, ...)` of up
//! to eight jobs, or a slice `&[Job<A>]`. The body receives `()`, `Arc<A>`,
//! `(Arc<A>, Arc<B>, ...)` or `Vec<Arc<A>>` respectively: shared results, no casting.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::job::Job;

/// Where a job's result is kept once it is done.
#[doc(hidden)]
pub type OutCell<T> = Rc<RefCell<Option<Arc<T>>>>;

/// Names one input job: which flow, which job.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLink {
    pub(crate) flow: u64,
    pub(crate) index: usize,
}

/// The inputs of a job (see the module docs for what implements it).
pub trait Inputs {
    /// What the job's body receives.
    type Values: 'static;
    /// The result cells of the input jobs.
    #[doc(hidden)]
    type Cells: InputCells<Values = Self::Values>;
    /// Clones the input jobs' result cells.
    #[doc(hidden)]
    fn cells(&self) -> Self::Cells;
    /// The input jobs.
    #[doc(hidden)]
    fn links(&self) -> Vec<InputLink>;
}

/// The owned half of [`Inputs`]: the input jobs' result cells, kept by the body.
#[doc(hidden)]
pub trait InputCells: 'static {
    /// What the job's body receives.
    type Values: 'static;
    /// The input results. Only called once every input is done.
    fn values(&self) -> Self::Values;
}

fn value<T>(cell: &OutCell<T>) -> Arc<T> {
    cell.borrow()
        .clone()
        .expect("the scheduler starts a job only after all its inputs are done")
}

impl Inputs for () {
    type Values = ();
    type Cells = ();
    fn cells(&self) {}
    fn links(&self) -> Vec<InputLink> {
        Vec::new()
    }
}

impl InputCells for () {
    type Values = ();
    fn values(&self) {}
}

impl<A: 'static> Inputs for &Job<A> {
    type Values = Arc<A>;
    type Cells = OutCell<A>;
    fn cells(&self) -> OutCell<A> {
        self.out.clone()
    }
    fn links(&self) -> Vec<InputLink> {
        vec![self.link]
    }
}

impl<A: 'static> InputCells for OutCell<A> {
    type Values = Arc<A>;
    fn values(&self) -> Arc<A> {
        value(self)
    }
}

impl<A: 'static> Inputs for &[Job<A>] {
    type Values = Vec<Arc<A>>;
    type Cells = Vec<OutCell<A>>;
    fn cells(&self) -> Vec<OutCell<A>> {
        self.iter().map(|j| j.out.clone()).collect()
    }
    fn links(&self) -> Vec<InputLink> {
        self.iter().map(|j| j.link).collect()
    }
}

impl<A: 'static> InputCells for Vec<OutCell<A>> {
    type Values = Vec<Arc<A>>;
    fn values(&self) -> Vec<Arc<A>> {
        self.iter().map(value).collect()
    }
}

impl<A: 'static> Inputs for &Vec<Job<A>> {
    type Values = Vec<Arc<A>>;
    type Cells = Vec<OutCell<A>>;
    fn cells(&self) -> Vec<OutCell<A>> {
        self.as_slice().cells()
    }
    fn links(&self) -> Vec<InputLink> {
        self.as_slice().links()
    }
}

macro_rules! tuple_inputs {
    ($($t:ident $i:tt),+) => {
        impl<$($t: 'static),+> Inputs for ($(&Job<$t>,)+) {
            type Values = ($(Arc<$t>,)+);
            type Cells = ($(OutCell<$t>,)+);
            fn cells(&self) -> Self::Cells {
                ($(self.$i.out.clone(),)+)
            }
            fn links(&self) -> Vec<InputLink> {
                vec![$(self.$i.link),+]
            }
        }

        impl<$($t: 'static),+> InputCells for ($(OutCell<$t>,)+) {
            type Values = ($(Arc<$t>,)+);
            fn values(&self) -> Self::Values {
                ($(value(&self.$i),)+)
            }
        }
    };
}

tuple_inputs!(A 0);
tuple_inputs!(A 0, B 1);
tuple_inputs!(A 0, B 1, C 2);
tuple_inputs!(A 0, B 1, C 2, D 3);
tuple_inputs!(A 0, B 1, C 2, D 3, E 4);
tuple_inputs!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_inputs!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_inputs!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
