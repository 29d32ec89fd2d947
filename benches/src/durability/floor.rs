//! The floor under a durable write: what the data directory does for each object file
//! (`src/automl/server/disk/files.rs`: write to `tmp/`, `fsync`, rename into `objects/`,
//! `fsync` the directory), timed step by step with nothing of the server around it.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use super::BoxError;

/// Median times of the steps of one durable write.
#[derive(Debug, Clone)]
pub struct Steps {
    pub bytes: usize,
    pub write: Duration,
    pub fsync_file: Duration,
    pub rename: Duration,
    pub fsync_dir: Duration,
}

impl Steps {
    /// The whole write.
    pub fn total(&self) -> Duration {
        self.write + self.fsync_file + self.rename + self.fsync_dir
    }
}

/// Writes `count` files of `bytes` bytes durably under `dir` (created, then removed)
/// and returns the median of each step.
///
/// # Errors
/// The file system refused.
pub fn measure(dir: &Path, bytes: usize, count: usize) -> Result<Steps, BoxError> {
    let (tmp, objects) = (dir.join("tmp"), dir.join("objects"));
    fs::create_dir_all(&tmp)?;
    fs::create_dir_all(&objects)?;
    let body = vec![b'7'; bytes];
    let mut steps: [Vec<Duration>; 4] = Default::default();
    for i in 0..count {
        let (from, to) = (tmp.join(format!("{i}")), objects.join(format!("{i}")));
        let mut lap = Instant::now();
        let mut mark = |step: usize| {
            steps[step].push(lap.elapsed());
            lap = Instant::now();
        };
        let mut file = File::create(&from)?;
        file.write_all(&body)?;
        mark(0);
        file.sync_all()?;
        drop(file);
        mark(1);
        fs::rename(&from, &to)?;
        mark(2);
        File::open(&objects)?.sync_all()?;
        mark(3);
    }
    fs::remove_dir_all(dir)?;
    let [write, fsync_file, rename, fsync_dir] = steps.map(|mut s| crate::median(&mut s));
    Ok(Steps {
        bytes,
        write,
        fsync_file,
        rename,
        fsync_dir,
    })
}
