//! Bulk files of the data directory: written whole or not at all, and swept at start.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Writes `parts` to `tmp`, flushes it to the disk, renames it to `to` and flushes the
/// directory that holds `to`, so that `to` is either absent or complete, even after a
/// crash or a power cut. On failure `tmp` is removed.
pub(super) fn write_durably(tmp: &Path, to: &Path, parts: &[&[u8]]) -> io::Result<()> {
    let written = (|| {
        let mut file = File::create(tmp)?;
        for part in parts {
            file.write_all(part)?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(tmp, to)?;
        if let Some(parent) = to.parent() {
            File::open(parent)?.sync_all()?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = fs::remove_file(tmp);
    }
    written
}

/// Removes every file in `dir` (temporary files of writes a crash interrupted).
pub(super) fn clear_dir(dir: &Path) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let _ = fs::remove_file(entry.path());
    }
}

/// Removes the files of `dir` that `keep` does not name (written before a crash kept
/// their row from being committed, or whose row was deleted before the crash let the
/// file be unlinked); returns the bytes of the files kept.
pub(super) fn sweep_objects(dir: &Path, keep: &HashSet<String>) -> u64 {
    let mut kept = 0;
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if keep.contains(&name) {
            kept += entry.metadata().map_or(0, |m| m.len());
        } else {
            let _ = fs::remove_file(entry.path());
        }
    }
    kept
}
