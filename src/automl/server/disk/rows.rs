//! The data directory's database: one row per data set, experiment, model and task,
//! each holding its JSON document.
//!
//! ```sql
//! meta(key PRIMARY KEY, value)                       -- 'format_version'
//! items(seq AUTOINCREMENT, id UNIQUE, kind, doc)     -- kind 'data' | 'experiment'
//! models(id PRIMARY KEY, exp_id, kind, doc)          -- kind 'supervised' | 'cluster' | 'forecast'
//! tasks(seq AUTOINCREMENT, id UNIQUE, doc)
//! ```
//!
//! `seq` keeps the order items were made in, which eviction follows after a restart.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode};
use serde_json::Value;

use super::FORMAT_VERSION;

/// One change to the database.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Row<'a> {
    /// A new data set (its file is written).
    Data { id: &'a str, doc: &'a Value },
    /// A new experiment (its models follow as [`Row::Model`]).
    Experiment { id: &'a str, doc: &'a Value },
    /// A new model of experiment `exp_id` (its file is written); `kind` says how its
    /// file is read.
    Model {
        id: &'a str,
        exp_id: &'a str,
        kind: &'a str,
        doc: &'a Value,
    },
    /// A task's document, new or updated.
    Task { id: &'a str, doc: &'a Value },
    /// A data set or an experiment (with its models) is gone.
    DeleteItem(&'a str),
    /// A task is forgotten.
    DeleteTask(&'a str),
}

/// A stored data set or experiment, as loaded.
#[derive(Debug)]
pub(crate) struct LoadedItem {
    pub(crate) id: String,
    /// `"data"` or `"experiment"`.
    pub(crate) kind: String,
    pub(crate) doc: Value,
}

/// A stored model, as loaded.
#[derive(Debug)]
pub(crate) struct LoadedModel {
    pub(crate) exp_id: String,
    pub(crate) kind: String,
    pub(crate) doc: Value,
}

/// Everything a data directory holds, as its rows say.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// Data sets and experiments, oldest first.
    pub(crate) items: Vec<LoadedItem>,
    /// Models by id.
    pub(crate) models: HashMap<String, LoadedModel>,
    /// Task documents, oldest first.
    pub(crate) tasks: Vec<Value>,
}

impl Loaded {
    /// The names of the object files the rows refer to.
    pub(crate) fn file_names(&self) -> HashSet<String> {
        let data = self
            .items
            .iter()
            .filter(|i| i.kind == "data")
            .map(|i| super::data_file(&i.id));
        let models = self.models.keys().map(|id| super::model_file(id));
        data.chain(models).collect()
    }
}

/// Why the database could not be opened.
#[derive(Debug)]
pub(super) enum OpenError {
    /// Another process holds its lock.
    Locked,
    /// It was written by another format version (the version found).
    Version(String),
    /// SQLite failed, or refused what the directory needs.
    Other(String),
}

impl From<rusqlite::Error> for OpenError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => OpenError::Locked,
            _ => OpenError::Other(e.to_string()),
        }
    }
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS items (seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, doc TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS models (id TEXT PRIMARY KEY, exp_id TEXT NOT NULL,
        kind TEXT NOT NULL, doc TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS models_by_experiment ON models (exp_id);
    CREATE TABLE IF NOT EXISTS tasks (seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
";

/// Opens the database at `path`, takes its lock for good (exclusive locking mode and a
/// first write), creates the tables and checks the format version.
pub(super) fn open(path: &std::path::Path) -> Result<Connection, OpenError> {
    let mut db = Connection::open(path)?;
    db.busy_timeout(Duration::ZERO)?;
    db.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    let mode: String = db.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenError::Other(format!(
            "SQLite refused write-ahead logging (journal mode {mode})"
        )));
    }
    db.pragma_update(None, "synchronous", "NORMAL")?;
    let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
    tx.execute_batch(SCHEMA)?;
    let found: Option<String> = tx
        .query_row(
            "SELECT value FROM meta WHERE key = 'format_version'",
            [],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    match found {
        Some(v) if v == FORMAT_VERSION.to_string() => {}
        Some(v) => return Err(OpenError::Version(v)),
        None => {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('format_version', ?1)",
                params![FORMAT_VERSION.to_string()],
            )?;
        }
    }
    tx.commit()?;
    Ok(db)
}

/// Every row, parsed. A row whose document is not JSON (the database was edited by
/// hand) is left out, with a warning on stderr.
pub(super) fn load(db: &Connection) -> rusqlite::Result<Loaded> {
    let mut loaded = Loaded::default();
    let mut items = db.prepare("SELECT id, kind, doc FROM items ORDER BY seq")?;
    let rows = items.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    for row in rows {
        let (id, kind, doc): (String, String, String) = row?;
        if let Some(doc) = parse(&id, &doc) {
            loaded.items.push(LoadedItem { id, kind, doc });
        }
    }
    let mut models = db.prepare("SELECT id, exp_id, kind, doc FROM models")?;
    let rows = models.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    for row in rows {
        let (id, exp_id, kind, doc): (String, String, String, String) = row?;
        if let Some(doc) = parse(&id, &doc) {
            loaded.models.insert(id, LoadedModel { exp_id, kind, doc });
        }
    }
    let mut tasks = db.prepare("SELECT id, doc FROM tasks ORDER BY seq")?;
    let rows = tasks.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    for row in rows {
        let (id, doc): (String, String) = row?;
        loaded.tasks.extend(parse(&id, &doc));
    }
    Ok(loaded)
}

fn parse(id: &str, doc: &str) -> Option<Value> {
    match serde_json::from_str(doc) {
        Ok(doc) => Some(doc),
        Err(e) => {
            eprintln!("automl-server: skipping stored row '{id}': its document is not JSON ({e})");
            None
        }
    }
}

/// Applies `rows` in one transaction.
pub(super) fn commit(db: &mut Connection, rows: &[Row<'_>]) -> rusqlite::Result<()> {
    let tx = db.transaction()?;
    for row in rows {
        match *row {
            Row::Data { id, doc } => insert_item(&tx, id, "data", doc)?,
            Row::Experiment { id, doc } => insert_item(&tx, id, "experiment", doc)?,
            Row::Model {
                id,
                exp_id,
                kind,
                doc,
            } => {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO models (id, exp_id, kind, doc) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![id, exp_id, kind, doc.to_string()])?;
            }
            Row::Task { id, doc } => {
                tx.prepare_cached(
                    "INSERT INTO tasks (id, doc) VALUES (?1, ?2)
                     ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                )?
                .execute(params![id, doc.to_string()])?;
            }
            Row::DeleteItem(id) => {
                tx.prepare_cached("DELETE FROM items WHERE id = ?1")?
                    .execute(params![id])?;
                tx.prepare_cached("DELETE FROM models WHERE exp_id = ?1")?
                    .execute(params![id])?;
            }
            Row::DeleteTask(id) => {
                tx.prepare_cached("DELETE FROM tasks WHERE id = ?1")?
                    .execute(params![id])?;
            }
        }
    }
    tx.commit()
}

fn insert_item(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    kind: &str,
    doc: &Value,
) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT OR REPLACE INTO items (id, kind, doc) VALUES (?1, ?2, ?3)")?
        .execute(params![id, kind, doc.to_string()])?;
    Ok(())
}
