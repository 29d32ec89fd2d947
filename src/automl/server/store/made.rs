//! What a job made, named and ready to be stored: a data set or an experiment with its
//! models, each with its document, and (with a data directory) the files and rows that
//! keep it.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::super::disk::{self, DataDir, Row};
use super::{docs, DataSet, NewExperiment, ServedModel};

/// Builds an experiment's document and its models with their documents, given the
/// experiment's new id and its models' new ids (in the order of the models).
pub(crate) type BuildFn =
    Box<dyn FnOnce(&str, &[String]) -> (Value, Vec<(ServedModel, Value)>) + Send>;

/// An experiment a job trained, waiting for its ids.
pub(crate) struct Built {
    /// How many models it has.
    pub(crate) count: usize,
    /// Makes its documents once the ids are known.
    pub(crate) build: BuildFn,
}

impl fmt::Debug for Built {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Built").field("count", &self.count).finish()
    }
}

impl NewExperiment {
    /// The train experiment as a [`Built`] of supervised models.
    pub(crate) fn built(self) -> Built {
        Built {
            count: self.experiment.models.len(),
            build: Box::new(move |id, model_ids| {
                let doc = docs::experiment_json(id, &self, model_ids);
                let models = model_ids
                    .iter()
                    .zip(self.experiment.models)
                    .map(|(model_id, model)| {
                        let doc = docs::model_json(model_id, id, &model);
                        (ServedModel::Supervised(Arc::new(model)), doc)
                    })
                    .collect();
                (doc, models)
            }),
        }
    }
}

/// A model of a [`Made::Experiment`].
#[derive(Debug)]
pub(crate) struct MadeModel {
    pub(crate) id: String,
    pub(crate) model: ServedModel,
    pub(crate) doc: Value,
}

/// An item with its id and document.
#[derive(Debug)]
pub(crate) enum Made {
    /// A data set.
    Data {
        id: String,
        set: DataSet,
        doc: Value,
    },
    /// An experiment and its models.
    Experiment {
        id: String,
        doc: Value,
        models: Vec<MadeModel>,
    },
}

/// The first bytes of a data set's file; then the CSV's length (8 bytes, little
/// endian), the CSV, and the typed columns ([`Frame::to_stored`](crate::automl::ml::Frame)).
const DATA_MAGIC: &[u8] = b"taskloop-data 1\n";

impl Made {
    /// Data set `id`, with its document.
    pub(crate) fn data(id: String, set: DataSet) -> Made {
        let doc = docs::data_json(&id, &set);
        Made::Data { id, set, doc }
    }

    /// Experiment `id` with models `model_ids`, built by `built`.
    pub(crate) fn experiment(id: String, model_ids: &[String], built: Built) -> Made {
        let (doc, models) = (built.build)(&id, model_ids);
        let models = model_ids
            .iter()
            .zip(models)
            .map(|(model_id, (model, doc))| MadeModel {
                id: model_id.clone(),
                model,
                doc,
            })
            .collect();
        Made::Experiment { id, doc, models }
    }

    /// Writes the item's files into `dir` (on the job's worker thread, before the
    /// store's lock is taken).
    ///
    /// # Errors
    /// Over the disk budget or a failed write; whatever was written is removed.
    pub(crate) fn write(&self, dir: &DataDir) -> Result<(), String> {
        match self {
            Made::Data { id, set, .. } => {
                let frame = set.frame.to_stored();
                let len = (set.csv.len() as u64).to_le_bytes();
                let parts: [&[u8]; 4] = [DATA_MAGIC, &len, &set.csv, &frame];
                dir.write_object(&disk::data_file(id), &parts)
            }
            Made::Experiment { models, .. } => {
                for (i, m) in models.iter().enumerate() {
                    let bytes = stored_model(&m.model);
                    if let Err(e) = dir.write_object(&disk::model_file(&m.id), &[&bytes]) {
                        for written in &models[..i] {
                            dir.remove_object(&disk::model_file(&written.id));
                        }
                        return Err(e);
                    }
                }
                Ok(())
            }
        }
    }

    /// Removes the item's files from `dir` (its task was stopped, or its rows could
    /// not be committed).
    pub(crate) fn remove_files(&self, dir: &DataDir) {
        match self {
            Made::Data { id, .. } => dir.remove_object(&disk::data_file(id)),
            Made::Experiment { models, .. } => {
                for m in models {
                    dir.remove_object(&disk::model_file(&m.id));
                }
            }
        }
    }

    /// The rows that record the item.
    pub(crate) fn rows(&self) -> Vec<Row<'_>> {
        match self {
            Made::Data { id, doc, .. } => vec![Row::Data { id, doc }],
            Made::Experiment { id, doc, models } => {
                let mut rows = vec![Row::Experiment { id, doc }];
                rows.extend(models.iter().map(|m| Row::Model {
                    id: &m.id,
                    exp_id: id,
                    kind: stored_kind(&m.model),
                    doc: &m.doc,
                }));
                rows
            }
        }
    }
}

/// The `kind` a model's row records, which says how its file is read.
fn stored_kind(model: &ServedModel) -> &'static str {
    match model {
        ServedModel::Supervised(_) => "supervised",
        ServedModel::Cluster(_) => "cluster",
        ServedModel::Forecast(_) => "forecast",
    }
}

/// A model's file: the portable document for a supervised model, the stored form of
/// the engine otherwise.
fn stored_model(model: &ServedModel) -> Vec<u8> {
    match model {
        ServedModel::Supervised(m) => m.to_portable(),
        ServedModel::Cluster(m) => m.to_stored(),
        ServedModel::Forecast(m) => m.to_stored(),
    }
}

/// A data set's file read back: its CSV and its typed columns.
///
/// # Errors
/// The file is not a data set's, or is damaged.
pub(super) fn read_data(bytes: &[u8], name: String) -> Result<DataSet, String> {
    let rest = bytes
        .strip_prefix(DATA_MAGIC)
        .ok_or("not a data set's file")?;
    let (len, rest) = rest.split_at_checked(8).ok_or("the file is cut short")?;
    let len = u64::from_le_bytes(len.try_into().map_err(|_| "the file is cut short")?);
    let len = usize::try_from(len).map_err(|_| "the CSV length is too large")?;
    let (csv, frame) = rest.split_at_checked(len).ok_or("the file is cut short")?;
    let frame = crate::automl::ml::Frame::from_stored(frame)?;
    Ok(DataSet {
        name,
        frame: Arc::new(frame),
        csv: Arc::from(csv),
    })
}

/// A model's file read back, by the `kind` its row records.
///
/// # Errors
/// An unknown kind, or a damaged file.
pub(super) fn read_model(kind: &str, bytes: &[u8]) -> Result<ServedModel, String> {
    use crate::automl::ml::{ClusterModel, Forecaster, TrainedModel};
    Ok(match kind {
        "supervised" => ServedModel::Supervised(Arc::new(
            TrainedModel::from_portable(bytes).map_err(|e| e.to_string())?,
        )),
        "cluster" => ServedModel::Cluster(Arc::new(ClusterModel::from_stored(bytes)?)),
        "forecast" => ServedModel::Forecast(Arc::new(Forecaster::from_stored(bytes)?)),
        other => return Err(format!("unknown model kind '{other}'")),
    })
}
