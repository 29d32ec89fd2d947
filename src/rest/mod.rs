//! What the HTTP clients of remote jobs share (the AutoML client and the Ray client):
//! how a job polls its remote work ([`PollInterval`]), the `ureq` agent and what an
//! exchange without an answer means ([`NoAnswer`]), and the Ray client's retry loop that
//! runs each blocking exchange on the worker pool and waits between tries on loop timers
//! (`retry_on_pool`; `retry_here` for synchronous callers). The AutoML client has its
//! own loops, which ask its server-down detector before every try
//! (`automl/client/retry.rs`).
//!
//! Both clients follow the same contract: a remote job holds a worker thread only during
//! an HTTP exchange; waiting for its remote work, and backing off after a fault, are
//! loop timers.

mod agent;
mod poll;
#[cfg(feature = "ray")]
mod retry;

#[cfg(feature = "ray")]
pub(crate) use agent::agent;
pub(crate) use agent::NoAnswer;
pub use poll::PollInterval;
#[cfg(feature = "ray")]
pub(crate) use retry::{retry_here, retry_on_pool, Retries};
