//! The AutoML layer: a client for the AutoML job API, and the bundled server that
//! implements it (the wire contract is described in the repository's
//! `design/06-the-automl-api.md`).
//!
//! - `client` (feature `client`): a [`Context`] for one server; upload, setup, train and
//!   predict declared as jobs of a [`Flow`](crate::flow::Flow).
//! - `server` (feature `server`): the bundled HTTP server, built on taskloop itself
//!   (`serve`), with its machine-learning engine (CSV, GLM, random forests, gradient
//!   boosting, metrics), which is private to the crate.
//! - [`evaluator`]: the rules that rank models, shared by both sides.
//! - [`Frame`]: the typed table a prediction is read into ([`Predictions::frame`]).
//! - [`Model`] (the same type as [`TrainedModel`]): a model downloaded from the server
//!   (`GET /v2/models/{id}/download`), loaded from its file with [`Model::load`], scores
//!   a frame ([`parse_csv`]) offline, exactly as the server would.

#[cfg(feature = "client")]
pub mod client;
pub mod evaluator;
// Without the server, the client uses only the engine's frame and CSV parser.
#[cfg_attr(not(feature = "server"), allow(dead_code, unused_imports))]
pub(crate) mod ml;
#[cfg(feature = "server")]
pub mod server;

#[cfg(feature = "client")]
pub use client::{
    AutomlError, ColumnInfo, Context, ContextBuilder, CsvSource, DataInfo, Experiment, ModelChoice,
    ModelInfo, PollInterval, PredictInput, Predictions, SetupInput, TrainInput, WorkerStatus,
};
pub use evaluator::{best_model_index, Evaluator, ModelType};
pub use ml::{Column, ColumnData, DataType, DateFormat, Frame, FrameError, TimePart};
// A model downloaded from `GET /v2/models/{id}/download` loads and scores here.
/// `Model` is [`TrainedModel`] under the name to score with: the same type, for a
/// program that loads a downloaded model (`Model::load(path)?.predict(&frame, &[],
/// None)?`) and trains nothing.
pub use ml::TrainedModel as Model;
pub use ml::{
    parse_csv, Algo, CsvError, CsvLimits, ModelFormatError, PredictError, TrainedModel,
    MODEL_FORMAT, MODEL_FORMAT_VERSION,
};
// The engine's training entry point, for programs that train in-process (the engine
// benchmark), and the folds it cross-validates on.
#[cfg(feature = "server")]
pub use ml::{
    cv_folds, train_tested, Balance, SplitBound, SplitFold, SplitRange, TimeSplit, TrainError,
    TrainSpec, TrainedExperiment,
};
#[cfg(feature = "server")]
pub use server::{serve, Faults, Limits, ServerConfig, ServerHandle, ServerStats};
