//! How a job names its inputs and receives their results, typed.
//!
//! A job's inputs are given as `()`, one `&Job<A>`, a tuple `(&Job<A>, &Job<B>, ...)` of up
//! to eight jobs, or a slice `&[Job<A>]` (or `&Vec<Job<A>>`). The body receives `()`,
//! `Arc<A>`, `(Arc<A>, Arc<B>, ...)` or `Vec<Arc<A>>` respectively: shared results, no
//! casting.
//!
//! [`Inputs`] is sealed: its working half, [`sealed::Wiring`], lives in a private module,
//! so no type outside this file can implement it, and none of its helper types are part
//! of the public API.

use std::rc::Rc;
use std::sync::Arc;

use super::job::Job;

/// Where a job's result is kept once it is done: a cell inside the job's body, which
/// the [`Job`] handle and the bodies of its dependents share (one allocation holds the
/// body and its result).
pub(crate) type OutCell<T> = Rc<dyn Output<T>>;

/// The inputs of a job: `()`, `&Job<A>`, a tuple of up to eight `&Job<_>`, or a slice
/// or `&Vec` of `Job<A>` (see [`Flow::job_after`](super::Flow::job_after)).
///
/// This trait is sealed: it is implemented for exactly those types, and cannot be
/// implemented outside taskloop.
///
/// ```compile_fail,E0277
/// use taskloop::flow::Inputs;
///
/// struct MyInputs;
///
/// impl Inputs for MyInputs {
///     type Values = ();
/// }
/// ```
pub trait Inputs: sealed::Wiring<<Self as Inputs>::Values> {
    /// What the job's body receives.
    type Values: 'static;
}

/// The private half of [`Inputs`]. A public trait in a private module: nameable inside
/// the crate, unreachable outside, which is what seals `Inputs`.
pub(crate) mod sealed {
    /// Names one input job: which flow, which job.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct InputLink {
        pub(crate) flow: u64,
        pub(crate) index: usize,
    }

    /// How the flow wires a job to its inputs; `V` is what the body receives.
    pub trait Wiring<V> {
        /// The result cells of the input jobs, kept by the job's body.
        type Cells: InputCells<Values = V>;
        /// Clones the input jobs' result cells.
        fn cells(&self) -> Self::Cells;
        /// Appends the input jobs to `out`.
        fn links(&self, out: &mut Vec<InputLink>);
    }

    /// What holds a job's result cell (its body).
    pub trait Output<T> {
        /// The cell the body stores its result in.
        fn cell(&self) -> &std::cell::RefCell<Option<std::sync::Arc<T>>>;
    }

    /// The owned half of the inputs: the input jobs' result cells, kept by the body.
    pub trait InputCells: 'static {
        /// What the job's body receives.
        type Values: 'static;
        /// The input results. Only called once every input is done.
        fn values(&self) -> Self::Values;
    }
}

pub(crate) use sealed::{InputCells, InputLink, Output, Wiring};

/// The result in `cell`, which the scheduler guarantees is there.
fn value<T>(cell: &OutCell<T>) -> Arc<T> {
    cell.cell()
        .borrow()
        .clone()
        .expect("the scheduler starts a job only after all its inputs are done")
}

impl Inputs for () {
    type Values = ();
}

impl Wiring<()> for () {
    type Cells = ();
    fn cells(&self) {}
    fn links(&self, _: &mut Vec<InputLink>) {}
}

impl InputCells for () {
    type Values = ();
    fn values(&self) {}
}

impl<A: 'static> Inputs for &Job<A> {
    type Values = Arc<A>;
}

impl<A: 'static> Wiring<Arc<A>> for &Job<A> {
    type Cells = OutCell<A>;
    fn cells(&self) -> OutCell<A> {
        self.out.clone()
    }
    fn links(&self, out: &mut Vec<InputLink>) {
        out.push(self.link);
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
}

impl<A: 'static> Wiring<Vec<Arc<A>>> for &[Job<A>] {
    type Cells = Vec<OutCell<A>>;
    fn cells(&self) -> Vec<OutCell<A>> {
        self.iter().map(|j| j.out.clone()).collect()
    }
    fn links(&self, out: &mut Vec<InputLink>) {
        out.extend(self.iter().map(|j| j.link));
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
}

impl<A: 'static> Wiring<Vec<Arc<A>>> for &Vec<Job<A>> {
    type Cells = Vec<OutCell<A>>;
    fn cells(&self) -> Vec<OutCell<A>> {
        self.as_slice().cells()
    }
    fn links(&self, out: &mut Vec<InputLink>) {
        self.as_slice().links(out)
    }
}

macro_rules! tuple_inputs {
    ($($t:ident $i:tt),+) => {
        impl<$($t: 'static),+> Inputs for ($(&Job<$t>,)+) {
            type Values = ($(Arc<$t>,)+);
        }

        impl<$($t: 'static),+> Wiring<($(Arc<$t>,)+)> for ($(&Job<$t>,)+) {
            type Cells = ($(OutCell<$t>,)+);
            fn cells(&self) -> Self::Cells {
                ($(self.$i.out.clone(),)+)
            }
            fn links(&self, out: &mut Vec<InputLink>) {
                out.extend([$(self.$i.link),+]);
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
