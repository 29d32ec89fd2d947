//! The flow layer: a graph of named jobs with dependencies, for users who never write
//! `async`.
//!
//! Declare jobs in plain sequential code; each declaration returns a typed [`Job`]
//! handle at once. [`Flow::run`] runs every job as soon as its inputs are done: blocking
//! bodies on the worker pool, async and local bodies on the loop thread. A failed input
//! fails its dependents without starting them; results are read from the handles
//! afterwards. This is the task abstraction of MoBagel's Decanter AI Core SDK.
//!
//! ```
//! use taskloop::flow::Flow;
//! let mut flow = Flow::new();
//! let a = flow.job("a", || Ok::<_, std::io::Error>(2));
//! let b = flow.job("b", || Ok::<_, std::io::Error>(3));
//! let c = flow.job_after("c", (&a, &b), |(a, b)| Ok::<_, std::io::Error>(*a * *b));
//! let report = flow.run();
//! assert_eq!(*c.result().unwrap(), 6);
//! assert_eq!(report.critical_path_names().last(), Some(&"c"));
//! ```

mod attempts;
mod body;
mod error;
#[allow(clippy::module_inception)]
mod flow;
mod inputs;
mod job;
mod limits;
mod observe;
mod remote;
mod report;
mod retry;
mod scheduler;
mod state;
mod status;

pub use error::{BoxError, JobError};
pub use flow::{Flow, FlowBuilder};
pub use inputs::Inputs;
pub use job::Job;
pub use observe::{Event, JobInfo, Observer};
#[cfg(feature = "ray")]
pub(crate) use remote::RunHold;
pub use remote::{progress, CancelHandle, Progress};
pub use report::{JobReport, Report};
pub use retry::Backoff;
pub use status::{JobId, JobStatus};

mod dot;
mod gantt;
mod progress_view;
mod trace;

pub use dot::to_dot;
pub use gantt::{gantt_svg, GanttOptions, GanttRecorder};
pub use progress_view::{ProgressMode, ProgressView};
pub use trace::{chrome_trace_json, TraceRecorder};
