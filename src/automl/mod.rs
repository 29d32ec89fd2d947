//! The AutoML layer: a client for the AutoML job API, and the bundled server that
//! implements it (the wire contract is described in the repository's
//! `design/06-the-automl-api.md`).
//!
//! - [`client`]: a [`Context`] for one server; upload, train and predict declared as
//!   jobs of a [`Flow`](crate::flow::Flow).
//! - [`server`]: the bundled HTTP server, built on taskloop itself ([`serve`]).
//! - [`ml`]: the server's machine-learning engine (CSV, GLM, random forests, metrics).

pub mod client;
pub mod evaluator;
pub mod ml;
pub mod server;

pub use client::{
    AutomlError, ColumnInfo, Context, ContextBuilder, CsvSource, DataInfo, Experiment, ModelChoice,
    ModelInfo, PollInterval, PredictInput, Predictions, SetupInput, TrainInput, WorkerStatus,
};
pub use evaluator::{best_model_index, Evaluator, ModelType};
pub use server::{serve, Faults, Limits, ServerConfig, ServerHandle, ServerStats};
