//! The AutoML client: a [`Context`] for one server, and remote jobs (upload, train,
//! predict) declared into a [`Flow`](crate::flow::Flow), as MoBagel's Decanter AI Core
//! SDK did: each call returns a job handle at once, a job waits only for its inputs, a
//! failed input fails its dependents without submitting them, and results are read from
//! the handles afterwards.
//!
//! # When the server fails
//! A request is retried on transient faults (a dropped connection, a `429` or `5xx`
//! answer) up to [`ContextBuilder::attempts`] times, with back-off on loop timers. A
//! server that stops answering altogether is noticed once per [`Context`]: after
//! [`ContextBuilder::server_down_after`] (10 s by default) of connection failures with no
//! answer in between, every waiting and every new job of the context fails with
//! [`AutomlError::ServerDown`] within one more back-off, the flow does not retry them,
//! and nothing more is sent; meanwhile a silent server gets at most a few tries a
//! second, however many jobs wait. `server_down_after` says what bounds the time to
//! failure.

mod agent;
mod context;
mod error;
mod form;
mod health;
mod http;
mod inputs;
mod jobs;
mod models;
mod predictions;
mod resolve;
mod retry;
mod source;
mod types;

pub use context::{Context, ContextBuilder, PollInterval, WorkerStatus};
pub use error::AutomlError;
pub use inputs::{ModelChoice, PredictInput, SetupInput, TrainInput};
pub use predictions::Predictions;
pub use source::CsvSource;
pub use types::{ColumnInfo, DataInfo, Experiment, ModelInfo};
