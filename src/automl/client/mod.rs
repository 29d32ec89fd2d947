//! The AutoML client: a [`Context`] for one server, and remote jobs (upload, train,
//! predict) declared into a [`Flow`](crate::flow::Flow), as MoBagel's Decanter AI Core
//! SDK did: each call returns a job handle at once, a job waits only for its inputs, a
//! failed input fails its dependents without submitting them, and results are read from
//! the handles afterwards.

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
