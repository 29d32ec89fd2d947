//! Loading the store from its data directory at start.

use super::super::disk::{self, DataDir, Loaded, LoadedItem, LoadedModel, Row};
use super::made::{read_data, read_model};
use super::{Made, MadeModel, Store};

impl Store {
    /// Takes in every item `loaded` lists, oldest first, reading and decoding its files
    /// from the data directory (on as many threads as the machine has cores: decoding
    /// the models' documents is most of a restart), then evicts beyond the caps as if
    /// they had just been made.
    ///
    /// An item whose file is missing or damaged (the directory was edited by hand: the
    /// server itself never leaves one so) is dropped with a warning on stderr, its rows
    /// now and its files at the next start, so that no id ever names nothing.
    pub(crate) fn restore(&mut self, loaded: &mut Loaded) {
        let Some(dir) = self.disk.clone() else {
            return;
        };
        let items: Vec<Stored> = std::mem::take(&mut loaded.items)
            .into_iter()
            .map(|item| {
                let rows = match item.kind.as_str() {
                    "data" => Ok(Vec::new()),
                    _ => model_rows(loaded, &item.id, &item.doc),
                };
                Stored { item, rows }
            })
            .collect();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        for (id, made) in parallel_map(items, threads, |stored| stored.load(&dir)) {
            match made {
                Ok(made) => drop(self.admit(made)),
                Err(e) => {
                    eprintln!(
                        "automl-server: dropping stored item '{id}' from {}: {e}",
                        dir.root().display()
                    );
                    let _ = dir.commit(&[Row::DeleteItem(&id)]);
                }
            }
        }
        self.evict("");
    }
}

/// A stored item and the rows of its models, waiting to be read.
struct Stored {
    item: LoadedItem,
    rows: Result<Vec<(String, LoadedModel)>, String>,
}

impl Stored {
    /// Reads and decodes the item's files; returns its id and what was made of them.
    fn load(self, dir: &DataDir) -> (String, Result<Made, String>) {
        let LoadedItem { id, kind, doc } = self.item;
        let made = match (kind.as_str(), self.rows) {
            ("data", _) => load_data(dir, id.clone(), doc),
            (_, Ok(rows)) => load_experiment(dir, rows, id.clone(), doc),
            (_, Err(e)) => Err(e),
        };
        (id, made)
    }
}

/// `f` of every item, in order, on up to `threads` threads that take the next item as
/// they come free (model documents differ in size by orders of magnitude).
fn parallel_map<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let count = items.len();
    let queue = std::sync::Mutex::new(items.into_iter().enumerate());
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, count.max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let next = crate::runtime::lock(&queue).next();
                        let Some((i, item)) = next else { break out };
                        out.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// The model rows of experiment `id`, in the order its document lists its models.
fn model_rows(
    loaded: &mut Loaded,
    id: &str,
    doc: &serde_json::Value,
) -> Result<Vec<(String, LoadedModel)>, String> {
    let mut rows = Vec::new();
    for model_id in doc["models"].as_array().into_iter().flatten() {
        let model_id = model_id.as_str().ok_or("a model id is not a string")?;
        let row = loaded
            .models
            .remove(model_id)
            .filter(|m| m.exp_id == id)
            .ok_or_else(|| format!("model '{model_id}' has no row"))?;
        rows.push((model_id.to_owned(), row));
    }
    Ok(rows)
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
    rows: Vec<(String, LoadedModel)>,
    id: String,
    doc: serde_json::Value,
) -> Result<Made, String> {
    let mut models = Vec::new();
    for (model_id, row) in rows {
        let bytes = dir
            .read_object(&disk::model_file(&model_id))
            .map_err(|e| format!("cannot read model '{model_id}': {e}"))?;
        let model = read_model(&row.kind, &bytes)
            .map_err(|e| format!("cannot load model '{model_id}': {e}"))?;
        models.push(MadeModel {
            id: model_id,
            model,
            doc: row.doc,
        });
    }
    Ok(Made::Experiment { id, doc, models })
}
