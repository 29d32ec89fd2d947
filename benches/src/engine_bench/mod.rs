//! The engine benchmark (`src/bin/engine.rs`): the bundled AutoML engine's GLM, DRF and
//! GBM against scikit-learn and LightGBM, scored on exactly the same 5 folds.
//!
//! For each data set: [`python`] writes the CSV (once, then reused); [`engine`] reads
//! it with the crate's `parse_csv`, writes the fold of every row as the engine deals
//! them (`cv_folds`) and trains in-process with `train_tested`; the peers script then
//! cross-validates its models on those folds; [`report`] prints the tables. The metric
//! of every model is the mean over the folds of the per-fold metric, computed the same
//! way on both sides (RMSE, logloss, AUC by the target).

pub mod args;
pub mod engine;
pub mod python;
pub mod report;

use std::path::{Path, PathBuf};

use taskloop::automl::evaluator::Evaluator;

use args::Args;
use python::{DataSet, Peers};

/// One model's cross-validated result.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// `GLM`, `DRF`, `GBM`, or the peer's name (`LightGBM`, ...).
    pub name: String,
    /// The mean over the folds of the per-fold metric; `None` when undefined.
    pub value: Option<f64>,
    /// Wall time of its 5 fold fits and scorings; `None` when not measured.
    pub seconds: Option<f64>,
    /// Its settings: the engine's hyper-parameters, `defaults` for a peer.
    pub settings: String,
    /// A boosted model's boosting rounds (the engine's final `ntrees`, which is the
    /// folds' mean; the peers' mean over the folds); `None` for other models.
    pub rounds: Option<f64>,
}

/// Everything measured on one data set.
#[derive(Debug, Clone, PartialEq)]
pub struct SetResult {
    /// The data set.
    pub set: DataSet,
    /// The metric compared.
    pub metric: Evaluator,
    /// The engine's GLM, DRF and GBM.
    pub engine: Vec<Scored>,
    /// Wall time of the engine's whole `train_tested` (folds and final fits).
    pub engine_total: f64,
    /// The peer models.
    pub peers: Vec<Scored>,
    /// The peers' library versions.
    pub versions: String,
}

/// Where the benchmark keeps its venv and data: `benches/target/engine-venv` and
/// `benches/target/engine-data`, and the peers script.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The venv directory.
    pub venv: PathBuf,
    /// The directory of the CSV files and their folds.
    pub data: PathBuf,
    /// `peers/engine_peers.py`.
    pub script: PathBuf,
}

impl Paths {
    /// The paths under the benches crate's directory `root`.
    pub fn under(root: &Path) -> Paths {
        Paths {
            venv: root.join("target").join("engine-venv"),
            data: root.join("target").join("engine-data"),
            script: root.join("peers").join("engine_peers.py"),
        }
    }
}

/// Runs the engine, then the peers `args.peers` on the engine's folds, on one data set,
/// both sides on `args.threads` threads.
///
/// # Errors
/// A message when the data cannot be read, the engine fails or the peers do.
pub fn run_set(peers: &Peers, set: &DataSet, args: &Args) -> Result<SetResult, String> {
    let frame = engine::load(&set.path)?;
    let spec = engine::spec(args.threads, args.max_model, &args.algos);
    let folds = set.path.with_extension("folds.csv");
    engine::write_folds(&frame, &spec, &folds)?;
    let ours = engine::train(&frame, &spec, &set.name)?;
    drop(frame);
    let metric = ours.metric.as_str();
    let theirs = peers.cross_validate(set, &folds, metric, &args.peers, args.threads)?;
    Ok(SetResult {
        set: set.clone(),
        metric: ours.metric,
        engine: ours.models,
        engine_total: ours.total_seconds,
        peers: theirs.models,
        versions: theirs.versions,
    })
}
