//! Loading the store from its data directory at start.

use super::super::disk::{self, DataDir, Loaded, Row};
use super::made::{read_data, read_model};
use super::{Made, MadeModel, Store};

impl Store {
    /// Takes in every item `loaded` lists, oldest first, reading its files from the
    /// data directory, then evicts beyond the caps as if they had just been made.
    ///
    /// An item whose file is missing or damaged (the directory was edited by hand: the
    /// server itself never leaves one so) is dropped with a warning on stderr, its rows
    /// now and its files at the next start, so that no id ever names nothing.
    pub(crate) fn restore(&mut self, loaded: &mut Loaded) {
        let Some(dir) = self.disk.clone() else {
            return;
        };
        for item in std::mem::take(&mut loaded.items) {
            let made = match item.kind.as_str() {
                "data" => load_data(&dir, item.id.clone(), item.doc),
                _ => load_experiment(&dir, loaded, item.id.clone(), item.doc),
            };
            let made = match made {
                Ok(made) => made,
                Err(e) => {
                    eprintln!(
                        "automl-server: dropping stored item '{}' from {}: {e}",
                        item.id,
                        dir.root().display()
                    );
                    let _ = dir.commit(&[Row::DeleteItem(&item.id)]);
                    continue;
                }
            };
            self.admit(made);
        }
        self.evict("");
    }
}

fn load_data(dir: &DataDir, id: String, doc: serde_json::Value) -> Result<Made, String> {
    let bytes = dir
        .read_object(&disk::data_file(&id))
        .map_err(|e| format!("cannot read its file: {e}"))?;
    let name = doc["data_name"].as_str().unwrap_or("data").to_owned();
    let set = read_data(&bytes, name)?;
    Ok(Made::Data { id, set, doc })
}

fn load_experiment(
    dir: &DataDir,
    loaded: &mut Loaded,
    id: String,
    doc: serde_json::Value,
) -> Result<Made, String> {
    let mut models = Vec::new();
    for model_id in doc["models"].as_array().into_iter().flatten() {
        let model_id = model_id.as_str().ok_or("a model id is not a string")?;
        let row = loaded
            .models
            .remove(model_id)
            .filter(|m| m.exp_id == id)
            .ok_or_else(|| format!("model '{model_id}' has no row"))?;
        let bytes = dir
            .read_object(&disk::model_file(model_id))
            .map_err(|e| format!("cannot read model '{model_id}': {e}"))?;
        let model = read_model(&row.kind, &bytes)
            .map_err(|e| format!("cannot load model '{model_id}': {e}"))?;
        models.push(MadeModel {
            id: model_id.to_owned(),
            model,
            doc: row.doc,
        });
    }
    Ok(Made::Experiment { id, doc, models })
}
