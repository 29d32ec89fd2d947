//! Flow jobs that run on a Ray cluster, through the Ray dashboard's Jobs REST API
//! (feature `ray`).
//!
//! When jobs outgrow one machine, hand them to Ray and keep the flow: declare jobs and
//! their inputs in plain code, A and B run at once on the cluster, C is submitted the
//! moment both finish, a failed job skips its dependents without submitting them, and
//! cancelling the flow stops the remote work. Everything happens on the flow's one loop
//! thread; there is no Python in the orchestrator.
//!
//! - [`Cluster`]: the dashboard URL (`http://host:8265`) and, for clusters started with
//!   `RAY_AUTH_MODE=token`, the token. [`Cluster::connect`] checks `GET /api/version`.
//! - [`Cluster::job`]: declares a Ray job whose [`JobSpec`] (entrypoint, runtime_env,
//!   resources, metadata) is made from its inputs' results; its result is the job's
//!   [`JobDetails`], logs included.
//! - [`RayError`]: why a call or a job failed, quoting Ray.
//!
//! The remote-job pattern (submit, poll on loop timers, stop, idempotency) is the AutoML
//! client's; the repository's `design/08-remote-jobs.md` sets the two side by side.
//!
//! ```no_run
//! use taskloop::flow::Flow;
//! use taskloop::ray::{Cluster, JobSpec};
//!
//! let cluster = Cluster::builder("http://127.0.0.1:8265").token_from_env().connect()?;
//! let mut flow = Flow::new();
//! let hello = cluster.job(&mut flow, "hello", (), |()| {
//!     JobSpec::new("python -c 'import ray; ray.init(); print(ray.cluster_resources())'")
//! });
//! flow.run();
//! println!("{}", hello.result()?.logs);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cluster;
mod details;
mod error;
mod http;
mod job;
mod spec;
mod stop;

pub use crate::rest::PollInterval;
pub use cluster::{Cluster, ClusterBuilder};
pub use details::{JobDetails, JobStatus};
pub use error::RayError;
pub use spec::JobSpec;
