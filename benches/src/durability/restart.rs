//! Restart with 1,000 stored objects: a server with a data directory is given 500
//! uploads of varied sizes, 100 trains (two models each) and 200 predicts, which makes
//! 700 data sets, 100 experiments and 200 models (and 800 tasks); it is stopped and
//! started again on the directory, with the directory's files in the page cache
//! (warm) and evicted from it (cold).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use super::api::{Api, Submitted};
use super::rentals::rentals_csv;
use super::server::Server;
use super::BoxError;

/// Uploads, trains and predicts made before the restart.
pub const UPLOADS: usize = 500;
pub const TRAINS: usize = 100;
pub const PREDICTS: usize = 200;
/// Warm restarts measured (the table shows the median); one cold restart follows.
pub const WARM_RESTARTS: usize = 3;

/// Rows of upload `i`: 1 % of 100,000 rows (about 3 MB), 9 % of 10,000, 30 % of
/// 1,000, 60 % of 100 (about 3 KB).
fn upload_rows(i: usize) -> usize {
    match i % 100 {
        0 => 100_000,
        1..=9 => 10_000,
        10..=39 => 1_000,
        _ => 100,
    }
}

/// What the server that made the objects held.
#[derive(Debug, Clone, Default)]
pub struct Original {
    pub csv_bytes: usize,
    pub build_seconds: f64,
    pub rss_kib: u64,
    pub hwm_kib: u64,
    pub stored_bytes: u64,
    pub disk_bytes: u64,
    pub files: usize,
}

/// One restart.
#[derive(Debug, Clone, Default)]
pub struct Restart {
    pub to_listening: Duration,
    /// Process start to the first `200` for the oldest data set's document.
    pub to_first_get: Duration,
    pub hwm_kib: u64,
    pub rss_kib: u64,
    pub stored_bytes: u64,
}

/// The whole restart section.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub original: Original,
    /// Start of a server without a data directory, for scale.
    pub empty: Restart,
    pub warm: Vec<Restart>,
    pub cold: Restart,
}

/// Builds the objects in `dir` (created fresh), then restarts on it.
///
/// # Errors
/// A server failed, a request failed or a task did not end `done`.
pub fn run(binary: &Path, dir: &Path) -> Result<Figures, BoxError> {
    let _ = std::fs::remove_dir_all(dir);
    let mut figures = Figures::default();
    let empty = Server::start(binary, None)?;
    figures.empty = measured(&empty, &Api::new(empty.url()), None, empty.to_listening)?;
    empty.stop()?;

    let server = Server::start(binary, Some(dir))?;
    let api = Api::new(server.url());
    let (original, oldest) = build(&server, &api, dir)?;
    figures.original = original;
    server.stop()?;
    for i in 0..=WARM_RESTARTS {
        let cold = i == WARM_RESTARTS;
        if cold {
            evict_from_page_cache(dir)?;
        }
        eprintln!(
            "   restart {} ({})",
            i + 1,
            if cold { "cold" } else { "warm" }
        );
        let server = Server::start(binary, Some(dir))?;
        let api = Api::new(server.url());
        let restart = measured(&server, &api, Some(&oldest), server.to_listening)?;
        server.stop()?;
        match cold {
            true => figures.cold = restart,
            false => figures.warm.push(restart),
        }
    }
    std::fs::remove_dir_all(dir)?;
    Ok(figures)
}

/// Times the first successful `GET` of `oldest` (or of the status), then reads memory.
fn measured(
    server: &Server,
    api: &Api,
    oldest: Option<&str>,
    to_listening: Duration,
) -> Result<Restart, BoxError> {
    let path = oldest.map_or("/v2/worker/status".into(), |id| format!("/v2/data/{id}"));
    loop {
        if api.get(&path)?.0 == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let to_first_get = to_listening + server.listening_at.elapsed();
    Ok(Restart {
        to_listening,
        to_first_get,
        hwm_kib: server.status_kib("VmHWM")?,
        rss_kib: server.status_kib("VmRSS")?,
        stored_bytes: stored_bytes(api)?,
    })
}

/// The store's bytes, as `GET /v2/worker/status` reports them.
fn stored_bytes(api: &Api) -> Result<u64, BoxError> {
    let (_, doc) = api.get("/v2/worker/status")?;
    let bytes = doc["memory"]["stored_bytes"].as_u64();
    bytes.ok_or_else(|| format!("no memory.stored_bytes in {doc}").into())
}

/// Makes the objects, all of a kind submitted at once; returns the server's figures
/// and the oldest data set's id.
fn build(server: &Server, api: &Api, dir: &Path) -> Result<(Original, String), BoxError> {
    let begun = Instant::now();
    let mut csvs: BTreeMap<usize, String> = BTreeMap::new();
    let mut csv_bytes = 0;
    let mut uploads = Vec::with_capacity(UPLOADS);
    for i in 0..UPLOADS {
        let rows = upload_rows(i);
        let csv = csvs
            .entry(rows)
            .or_insert_with(|| rentals_csv(rows, rows as u64, false));
        csv_bytes += csv.len();
        uploads.push(api.submit("/v2/upload?name=restart.csv", csv.as_bytes(), true)?);
    }
    let data: Vec<(usize, String)> = wait(api, &uploads)?
        .into_iter()
        .enumerate()
        .map(|(i, id)| (upload_rows(i), id))
        .collect();
    eprintln!("   {UPLOADS} uploads done");
    let mid: Vec<&String> = data
        .iter()
        .filter(|(rows, _)| *rows == 1_000)
        .map(|(_, id)| id)
        .collect();
    let trains = (0..TRAINS)
        .map(|i| {
            let spec = json!({"train_data_id": mid[i % mid.len()], "target": "rentals",
                              "algos": ["GLM", "GBM"], "nfold": 2, "max_model": 2, "seed": i});
            api.submit("/v2/tasks/train", spec.to_string().as_bytes(), false)
        })
        .collect::<Result<Vec<Submitted>, _>>()?;
    let mut models = Vec::new();
    for ended in api.wait(&trains, Duration::from_millis(20))? {
        let ids = ended.result["models"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        models.extend(ids.iter().filter_map(|m| m.as_str().map(str::to_owned)));
    }
    eprintln!("   {TRAINS} trains done ({} models)", models.len());
    let predicts = (0..PREDICTS)
        .map(|i| {
            let spec = json!({"data_id": mid[i % mid.len()], "model_id": models[i % models.len()]});
            api.submit("/v2/tasks/predict", spec.to_string().as_bytes(), false)
        })
        .collect::<Result<Vec<Submitted>, _>>()?;
    wait(api, &predicts)?;
    eprintln!("   {PREDICTS} predicts done");
    let (disk_bytes, files) = dir_size(dir)?;
    let original = Original {
        csv_bytes,
        build_seconds: begun.elapsed().as_secs_f64(),
        rss_kib: server.status_kib("VmRSS")?,
        hwm_kib: server.status_kib("VmHWM")?,
        stored_bytes: stored_bytes(api)?,
        disk_bytes,
        files,
    };
    Ok((original, data[0].1.clone()))
}

/// Waits for `tasks`; the ids of what they made, in order.
fn wait(api: &Api, tasks: &[Submitted]) -> Result<Vec<String>, BoxError> {
    let ended = api.wait(tasks, Duration::from_millis(20))?;
    Ok(ended.iter().map(|e| e.result_id()).collect())
}

/// Bytes and number of the files under `dir`.
pub fn dir_size(dir: &Path) -> Result<(u64, usize), BoxError> {
    let (mut bytes, mut files) = (0, 0);
    for entry in std::fs::read_dir(dir)?.flatten() {
        let meta = entry.metadata()?;
        if meta.is_dir() {
            let (b, f) = dir_size(&entry.path())?;
            (bytes, files) = (bytes + b, files + f);
        } else {
            (bytes, files) = (bytes + meta.len(), files + 1);
        }
    }
    Ok((bytes, files))
}

/// Drops the files under `dir` from the page cache (`POSIX_FADV_DONTNEED`; they are
/// clean, the server having stopped), so that the next start reads them from the disk.
fn evict_from_page_cache(dir: &Path) -> Result<(), BoxError> {
    use std::os::fd::AsRawFd;
    for entry in std::fs::read_dir(dir)?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            evict_from_page_cache(&path)?;
            continue;
        }
        let file = std::fs::File::open(&path)?;
        file.sync_all()?;
        #[allow(unsafe_code)]
        // SAFETY: posix_fadvise only reads its integer arguments; the descriptor is
        // open for the duration of the call.
        let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        if rc != 0 {
            return Err(format!("posix_fadvise {}: error {rc}", path.display()).into());
        }
    }
    Ok(())
}
