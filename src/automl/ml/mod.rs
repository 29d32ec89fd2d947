//! The AutoML engine behind the bundled server: CSV in, trained models out, predictions
//! back as a frame. Pure computation on the calling thread: no I/O beyond the reader or
//! writer handed in, no global state; threads only for folds fitted in parallel
//! ([`TrainSpec::threads`]) and a clock only for `max_run_time`.
//!
//! # How it works
//!
//! 1. [`parse_csv`] streams an upload into a [`Frame`] of typed columns: numerical when
//!    every value is a number, categorical otherwise ([`DataType`]). [`Frame::retype`]
//!    converts columns to another type (a 0/1 target made categorical, say, or a text
//!    column of dates made datetime: one year-first format per column).
//! 2. [`train()`] reads the target's type to decide the [`ModelType`] (numerical →
//!    regression, two classes → binary, more → multinomial), splits off the optional
//!    validation rows, deals the rest into shuffled folds and, for each requested
//!    [`Algo`], cross-validates it and fits a final model on all training rows. The
//!    result is a [`TrainedExperiment`] of [`TrainedModel`]s with their `cv_averages` and
//!    `validation_scores`: every metric of the model type ([`ModelType::metrics`])
//!    that is defined for the rows scored. A model also reports its
//!    [`importances`](TrainedModel::importances) and
//!    [`hyperparameters`](TrainedModel::hyperparameters).
//! 3. [`TrainedModel::predict`] scores a frame into a predictions frame: kept columns,
//!    the target (when the data has it), `prediction`, and for classifiers one
//!    probability column per class, named by the class label. [`Frame::write_csv`]
//!    turns it into the CSV the server serves.
//! 4. [`train_ts`] forecasts a numerical target over a datetime column: regular series
//!    per time group, lag features relative to the level at each origin, time-ordered
//!    validation and a small genetic search over (algorithm, window); each
//!    [`Forecaster`] forecasts the horizon after a history (module `timeseries`).
//!
//! Models are plain data (`Send + Sync`), deterministic for a given seed (whatever the
//! number of threads), and cancellable through an `AtomicBool` checked between folds
//! and trees.
//!
//! The learners: GLM is ridge least squares (normal equations up to 512 encoded
//! columns, L-BFGS beyond) or L2-penalised logistic/softmax regression by L-BFGS, with
//! scikit-learn's default penalty (`C = 1`) and no Hessian, so it scales with rows ×
//! columns × classes; DRF is a random forest of histogram-based CART trees with H2O's
//! defaults (50 trees of depth 20 down to single rows, 63.2% of the rows per tree, √p
//! or p/3 features per node); GBM boosts histogram trees grown leaf by leaf as LightGBM
//! grows them (31 leaves, learning rate 0.1, 255 bins, the number of trees chosen on the
//! folds). Both kinds of tree split categorical features natively on sets of levels and
//! send missing values to the better side. Every training searches (GBM settings, GLM
//! penalties) under a budget: [`TrainSpec::max_model`], `max_run_time`, or by default
//! one sized by the data (small sets get up to ten searched models, large ones their
//! defaults), every model tried listed; `StackedEnsemble` blends the best of them.
//! [`TrainSpec::threads`] fits a training's folds in parallel. The ranking
//! rules (metric names and directions, `auto`, best model) live in
//! [`evaluator`](crate::automl::evaluator), shared with the client.

mod cluster;
mod csv;
mod encode;
mod error;
mod experiment;
mod forest;
mod frame;
mod gbm;
mod glm;
mod importance;
mod lbfgs;
mod linalg;
mod metrics;
mod model;
mod options;
mod portable;
mod rng;
mod spec;
mod stack;
#[cfg(test)]
mod testdata;
mod timeseries;
mod train;
mod tree;

pub(crate) use cluster::working_memory as cluster_working_memory;
pub use cluster::{train_cluster, Center, ClusterModel, ClusterSpec};
pub use csv::{parse_csv, CsvError, CsvLimits};
pub use error::{PredictError, TrainError};
pub use experiment::TrainedExperiment;
pub use frame::{Column, ColumnData, DataType, DateFormat, Frame, FrameError, TimePart};
pub use model::TrainedModel;
pub use options::{Balance, SplitBound, SplitFold, SplitRange, TimeSplit};
pub use portable::{ModelFormatError, FORMAT as MODEL_FORMAT, VERSION as MODEL_FORMAT_VERSION};
pub use spec::{Algo, ModelType, ParseSpecError, TrainSpec};
pub use timeseries::{
    train_ts, Aggregate, Forecaster, Search, TimeUnit, TsError, TsExperiment, TsSpec,
};
#[cfg(test)]
pub use train::train;
pub use train::{cv_folds, train_tested};
pub(crate) use train::{frame_bytes, working_memory};
