//! The data directory (`--data-dir`, [`ServerConfig::data_dir`](super::ServerConfig)):
//! what makes the store and the task table outlive the process.
//!
//! # Layout
//! ```text
//! DIR/taskloop.db      SQLite (WAL): the format version, every data set's, experiment's,
//!                      model's and task's document, in the order they were made
//! DIR/objects/ID.data  a data set: its CSV and its typed columns
//! DIR/objects/ID.model a model: what scores with it
//! DIR/tmp/             files being written (emptied at start)
//! ```
//!
//! # Crash safety
//! A bulk file is written under `tmp/`, flushed to disk (`fsync`), renamed into
//! `objects/` and the directory flushed; only then is its row committed. A delete
//! commits the row's removal first and unlinks the file after. So at any moment a row
//! names a complete file, and a crash leaves at worst a file no row names, which the
//! next start removes ([`DataDir::open`]). SQLite's write-ahead log makes each commit
//! all or nothing; with `synchronous=NORMAL` a commit is durable once `write` returns,
//! against a killed process (its pages are in the kernel), and the log is flushed to
//! the disk at checkpoints, so a power cut may lose the last commits but never leaves a
//! row without its file.
//!
//! # One owner
//! The database is opened in SQLite's exclusive locking mode and written at once, so
//! this process holds its lock (a POSIX lock, which the kernel drops when the process
//! dies: a crashed owner never leaves it stuck). A second server on the directory is
//! refused at start, naming the process that holds it (`DIR/owner`).

mod files;
mod rows;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

pub(crate) use rows::{Loaded, LoadedItem, LoadedModel, Row};

/// The data directory format this build writes and reads. A directory of another
/// version is refused at start with both versions named.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The database file's name inside the directory.
const DB_FILE: &str = "taskloop.db";

/// An open, locked data directory.
#[derive(Debug)]
pub(crate) struct DataDir {
    root: PathBuf,
    objects: PathBuf,
    tmp: PathBuf,
    /// `None` once closed (the server shut down).
    db: Mutex<Option<Connection>>,
    /// Most bytes of files the directory may hold (`u64::MAX`: no limit).
    max_disk: u64,
    /// Bytes of the files under `objects/`.
    object_bytes: AtomicU64,
    /// Names temporary files uniquely.
    tmp_counter: AtomicU64,
}

impl DataDir {
    /// Opens (creating if needed) the data directory at `root`: takes its lock, checks
    /// its format version, removes unfinished temporary files and files no row names,
    /// and returns it with everything stored in it.
    ///
    /// # Errors
    /// A message naming the directory: another server owns it, it was written by
    /// another format version, or the file system refused.
    pub(crate) fn open(root: &Path, max_disk: Option<u64>) -> Result<(DataDir, Loaded), String> {
        let shown = root.display();
        let objects = root.join("objects");
        let tmp = root.join("tmp");
        for dir in [root, &objects, &tmp] {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))?;
        }
        let db = rows::open(&root.join(DB_FILE)).map_err(|e| match e {
            rows::OpenError::Locked => {
                let owner = std::fs::read_to_string(root.join("owner")).unwrap_or_default();
                let owner = owner.trim();
                let by = match owner.is_empty() {
                    true => String::new(),
                    false => format!(" (process {owner})"),
                };
                format!("the data directory {shown} is in use by another automl-server{by}")
            }
            rows::OpenError::Version(found) => format!(
                "the data directory {shown} was written in data directory format version \
                 {found}; this build reads format version {FORMAT_VERSION} only"
            ),
            rows::OpenError::Other(e) => format!("cannot open the data directory {shown}: {e}"),
        })?;
        let _ = std::fs::write(root.join("owner"), format!("{}\n", std::process::id()));
        let loaded = rows::load(&db).map_err(|e| format!("cannot read {shown}/{DB_FILE}: {e}"))?;
        files::clear_dir(&tmp);
        let object_bytes = files::sweep_objects(&objects, &loaded.file_names());
        let dir = DataDir {
            root: root.to_owned(),
            objects,
            tmp,
            db: Mutex::new(Some(db)),
            max_disk: max_disk.unwrap_or(u64::MAX),
            object_bytes: AtomicU64::new(object_bytes),
            tmp_counter: AtomicU64::new(0),
        };
        Ok((dir, loaded))
    }

    /// The directory's path.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The disk budget (`u64::MAX`: none).
    pub(crate) fn max_disk(&self) -> u64 {
        self.max_disk
    }

    /// Bytes the directory's files take: the objects and the database with its log.
    pub(crate) fn used(&self) -> u64 {
        let db = self.root.join(DB_FILE);
        let wal = self.root.join(format!("{DB_FILE}-wal"));
        let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        self.object_bytes.load(Ordering::Relaxed) + size(&db) + size(&wal)
    }

    /// `Ok` if `bytes` more fit in the disk budget, else why not (for a `507` or a
    /// task's `fail` message).
    pub(crate) fn room_for(&self, bytes: u64) -> Result<(), String> {
        let used = self.used();
        if used.saturating_add(bytes) <= self.max_disk {
            return Ok(());
        }
        Err(format!(
            "the data directory is full: it holds {} of its {} disk budget (--max-disk) and \
             this needs {} more; delete data sets or experiments to free space",
            mib(used),
            mib(self.max_disk),
            mib(bytes)
        ))
    }

    /// Writes an object file `name` (e.g. `ID.data`) from `parts`, crash-safely: a
    /// temporary file, flushed, renamed into place, the directory flushed. Checks the
    /// disk budget first.
    ///
    /// # Errors
    /// Over the budget, or the file system failed (a full disk, say); nothing is left
    /// behind.
    pub(crate) fn write_object(&self, name: &str, parts: &[&[u8]]) -> Result<(), String> {
        let len: u64 = parts.iter().map(|p| p.len() as u64).sum();
        self.room_for(len)?;
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp = self.tmp.join(format!("{n}-{name}"));
        let to = self.objects.join(name);
        files::write_durably(&tmp, &to, parts)
            .map_err(|e| format!("cannot write {} in the data directory: {e}", name))?;
        self.object_bytes.fetch_add(len, Ordering::Relaxed);
        Ok(())
    }

    /// Reads an object file.
    pub(crate) fn read_object(&self, name: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.objects.join(name))
    }

    /// Removes an object file (after its row is gone); a missing file is no error.
    pub(crate) fn remove_object(&self, name: &str) {
        let path = self.objects.join(name);
        if let Ok(meta) = std::fs::metadata(&path) {
            if std::fs::remove_file(&path).is_ok() {
                self.object_bytes.fetch_sub(meta.len(), Ordering::Relaxed);
            }
        }
    }

    /// Commits `rows` in one transaction: all of them, or none.
    ///
    /// # Errors
    /// The database refused (a full disk, say) or the directory is closed.
    pub(crate) fn commit(&self, rows: &[Row<'_>]) -> Result<(), String> {
        let mut db = self.lock();
        let db = db.as_mut().ok_or("the data directory is closed")?;
        rows::commit(db, rows).map_err(|e| format!("cannot write the data directory: {e}"))
    }

    /// Closes the database, which releases the directory's lock (the server stopped).
    pub(crate) fn close(&self) {
        drop(self.lock().take());
        let _ = std::fs::remove_file(self.root.join("owner"));
    }

    fn lock(&self) -> MutexGuard<'_, Option<Connection>> {
        crate::runtime::lock(&self.db)
    }
}

/// The file of data set `id`.
pub(crate) fn data_file(id: &str) -> String {
    format!("{id}.data")
}

/// The file of model `id`.
pub(crate) fn model_file(id: &str) -> String {
    format!("{id}.model")
}

/// `bytes` in MiB, for messages.
fn mib(bytes: u64) -> String {
    super::memory::mib(usize::try_from(bytes).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests;
