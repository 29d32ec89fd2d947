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
//! let a = flow.job("a", || 2);
//! let b = flow.job("b", || 3);
//! let c = flow.job_after("c", (&a, &b), |(a, b)| *a * *b);
//! let report = flow.run();
//! assert_eq!(*c.result().unwrap(), 6);
//! assert_eq!(report.critical_path_names().last(), Some(&"c"));
//! ```
//!
//! # Infallible and fallible bodies
//!
//! Each kind of job is declared in two ways. [`Flow::job`], [`Flow::job_after`],
//! [`Flow::job_async`] and [`Flow::job_local`] take a body that cannot fail: what it
//! returns is the job's result. [`Flow::try_job`], [`Flow::try_job_after`],
//! [`Flow::try_job_async`] and [`Flow::try_job_local`] take a body that returns
//! `Result<T, BoxError>`: `?` works on any error type (and on `&str` or `String`
//! messages), and an `Err` fails the job and skips its dependents. The error stays
//! reachable, with its own type, through [`JobError::Failed`]'s `source`.
//!
//! A body given to `job` that returns a `Result` does **not** fail the job: the
//! `Result` itself becomes the job's value. Use `try_job` for that.
//!
//! ```
//! use taskloop::flow::{Flow, JobError};
//! let mut flow = Flow::new();
//! let text = flow.job("text", || String::from("12 x"));
//! let first = flow.try_job_after("first", &text, |text| {
//!     let word = text.split(' ').next().ok_or("empty text")?;
//!     Ok(word.parse::<u32>()?)
//! });
//! let second = flow.try_job_after("second", &text, |text| Ok(text[3..].parse::<u32>()?));
//! let sum = flow.job_after("sum", (&first, &second), |(a, b)| *a + *b);
//! flow.run();
//! assert_eq!(*first.result().unwrap(), 12);
//! let Err(JobError::Failed { source, .. }) = second.result() else { panic!() };
//! assert!(source.downcast_ref::<std::num::ParseIntError>().is_some());
//! assert!(matches!(sum.result(), Err(JobError::UpstreamFailed { .. })));
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
