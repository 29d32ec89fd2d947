//! The AutoML layer: a client for the AutoML job API, and the bundled server that
//! implements it (the wire contract is in `shared/design/automl-api.md`).

pub mod client;
pub mod ml;

pub use client::{
    AutomlError, ColumnInfo, Context, ContextBuilder, CsvSource, DataInfo, Experiment, ModelChoice,
    ModelInfo, PollInterval, PredictInput, Predictions, TrainInput, WorkerStatus,
};
