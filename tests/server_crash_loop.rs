//! `automl-server --data-dir` killed with SIGKILL at random moments (mid-upload,
//! mid-training, mid-predict, mid-delete, mid-eviction), 24 times, restarted on the same
//! directory each time. After every restart:
//!
//! - every data set, prediction and model the client saw completed answers with the
//!   same bytes (hashed), unless the client deleted it (then `404`) or the store
//!   evicted it (oldest first, never one of the newest);
//! - every task the client created still answers: `done`, `fail` or `invalid`, and a
//!   task that had not ended before the kill ends `fail` with "the server restarted
//!   during this task" (or `done`, when it finished just before the kill);
//! - every listed data set serves a whole file (its row count matches its document);
//! - the server never found a row without its complete file (it says so on stderr).
//!
//! Seeded, bounded in rounds and in time.

#![cfg(feature = "server")]

mod server_util;

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use server_util::{read_answer, request_bytes, Answer, Binary, Lcg, AUTH};

const BIN: &str = env!("CARGO_BIN_EXE_automl-server");
const ROUNDS: usize = 24;
const RESTARTED: &str = "the server restarted during this task";

/// One request on a new connection; `Err` once the server is gone.
fn try_call(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> io::Result<Answer> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.write_all(&request_bytes(
        method,
        path,
        &[("Authorization", AUTH)],
        body,
    ))?;
    read_answer(&mut BufReader::new(stream))
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// A started server, its stderr file and the killer thread's handle on it.
struct Running {
    child: Arc<Mutex<Child>>,
    addr: SocketAddr,
}

fn start(dir: &Path, stderr: &Path) -> Running {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(stderr)
        .unwrap();
    let dir = dir.to_str().expect("a UTF-8 temporary directory");
    let extra = [
        "--workers",
        "2",
        "--max-memory",
        "64M",
        "--exit-on-stdin-close",
        "--data-dir",
        dir,
    ];
    let (child, addr, _stdout) = Binary {
        path: BIN,
        extra: &extra,
        stdin: Stdio::piped(),
        nofile: None,
        stderr: Some(log.into()),
    }
    .start();
    Running {
        child: Arc::new(Mutex::new(child)),
        addr,
    }
}

/// What the client saw completed, and what it asked for.
#[derive(Default)]
struct Seen {
    /// Data sets (uploads, setups, predictions) by id: the hash of their file, and when
    /// they were seen (a counter).
    data: BTreeMap<String, (u64, usize)>,
    /// Supervised models by id: the hash of their download.
    models: BTreeMap<String, (u64, usize)>,
    /// Experiments by id: their model ids.
    experiments: BTreeMap<String, Vec<String>>,
    /// Ids the client deleted (answered 200).
    deleted: HashSet<String>,
    /// Every task created, and whether the client saw it end.
    tasks: BTreeMap<String, bool>,
    clock: usize,
}

fn csv(rng: &mut Lcg) -> String {
    let rows = 200 + rng.below(6_000);
    let mut csv = String::from("x1,x2,color,y\n");
    for i in 0..rows {
        let (a, b) = (rng.unit(), rng.unit());
        let color = ["red", "green", "blue", ""][rng.below(4)];
        let x1 = if i % 11 == 0 {
            String::new()
        } else {
            format!("{a:.5}")
        };
        let _ = writeln!(csv, "{x1},{b:.5},{color},{:.5}", 2.0 * a - b);
    }
    csv
}

/// Drives a random mix of work until the server stops answering.
fn drive(addr: SocketAddr, rng: &mut Lcg, seen: &mut Seen) -> io::Result<()> {
    let mut live: Vec<String> = Vec::new(); // tasks not yet seen ending
    loop {
        let data: Vec<String> = seen.data.keys().cloned().collect();
        let models: Vec<String> = seen.models.keys().cloned().collect();
        let pick = |rng: &mut Lcg, ids: &[String]| ids[rng.below(ids.len())].clone();
        let body = match rng.below(10) {
            0..=3 => Some(("/v2/upload", csv(rng).into_bytes())),
            4 | 5 if !data.is_empty() => {
                let spec = json!({"train_data_id": pick(rng, &data), "target": "y",
                    "algos": ["GLM", "GBM"], "nfold": 2, "max_model": 2});
                Some(("/v2/tasks/train", spec.to_string().into_bytes()))
            }
            6 if !data.is_empty() && !models.is_empty() => {
                let spec = json!({"data_id": pick(rng, &data), "model_id": pick(rng, &models)});
                Some(("/v2/tasks/predict", spec.to_string().into_bytes()))
            }
            7 if !data.is_empty() => {
                let id = pick(rng, &data);
                let spec = json!({"data_id": id, "data_columns": [{"id": "color", "data_type": "categorical"}]});
                Some(("/v2/tasks/setup", spec.to_string().into_bytes()))
            }
            8 if !data.is_empty() => {
                let id = pick(rng, &data);
                if try_call(addr, "DELETE", &format!("/v2/data/{id}"), b"")?.status == 200 {
                    seen.data.remove(&id);
                    seen.deleted.insert(id);
                }
                None
            }
            9 if !seen.experiments.is_empty() => {
                let exps: Vec<String> = seen.experiments.keys().cloned().collect();
                let id = pick(rng, &exps);
                let path = format!("/v2/experiments/{id}");
                if try_call(addr, "DELETE", &path, b"")?.status == 200 {
                    for model in seen.experiments.remove(&id).unwrap_or_default() {
                        seen.models.remove(&model);
                        seen.deleted.insert(model);
                    }
                    seen.deleted.insert(id);
                }
                None
            }
            _ => None,
        };
        if let Some((path, body)) = body {
            let answer = try_call(addr, "POST", path, &body)?;
            assert_eq!(answer.status, 200, "POST {path}: {}", answer.text());
            let id = answer.json()["_id"].as_str().unwrap().to_owned();
            seen.tasks.insert(id.clone(), false);
            live.push(id);
        }
        // Read every live task once; record what ended.
        let mut still = Vec::new();
        for id in live.drain(..) {
            let doc = try_call(addr, "GET", &format!("/v2/tasks/{id}"), b"")?.json();
            match doc["status"].as_str().unwrap() {
                "pending" | "running" => still.push(id),
                status => {
                    seen.tasks.insert(id, true);
                    if status == "done" {
                        record(addr, &doc["result"], seen)?;
                    }
                }
            }
        }
        live = still;
        thread::sleep(Duration::from_millis(rng.below(30) as u64));
    }
}

/// Records a done task's result with the hashes of what it made.
fn record(addr: SocketAddr, result: &Value, seen: &mut Seen) -> io::Result<()> {
    let id = result["_id"].as_str().unwrap().to_owned();
    seen.clock += 1;
    match result["models"].as_array() {
        None => {
            let file = try_call(addr, "GET", &format!("/v2/data/{id}/file"), b"")?;
            if file.status == 200 {
                seen.data.insert(id, (hash(&file.body), seen.clock));
            }
        }
        Some(models) => {
            let mut ids = Vec::new();
            for model in models {
                let model = model.as_str().unwrap().to_owned();
                let download = try_call(addr, "GET", &format!("/v2/models/{model}/download"), b"")?;
                if download.status == 200 {
                    seen.models
                        .insert(model.clone(), (hash(&download.body), seen.clock));
                }
                ids.push(model);
            }
            seen.experiments.insert(id, ids);
        }
    }
    Ok(())
}

/// Checks everything after a restart; returns how many items were evicted.
fn verify(addr: SocketAddr, seen: &mut Seen, round: usize) -> usize {
    let get = |path: &str| try_call(addr, "GET", path, b"").expect("the restarted server answers");
    let newest = seen.clock.saturating_sub(3);
    let mut evicted = Vec::new();
    for (id, (want, when)) in &seen.data {
        let file = get(&format!("/v2/data/{id}/file"));
        match file.status {
            200 => assert_eq!(hash(&file.body), *want, "round {round}: data {id} changed"),
            404 if *when <= newest => evicted.push(id.clone()),
            s => panic!("round {round}: data {id} answers {s}: {}", file.text()),
        }
    }
    for (id, (want, when)) in &seen.models {
        let download = get(&format!("/v2/models/{id}/download"));
        match download.status {
            200 => assert_eq!(
                hash(&download.body),
                *want,
                "round {round}: model {id} changed"
            ),
            404 if *when <= newest => evicted.push(id.clone()),
            s => panic!("round {round}: model {id} answers {s}: {}", download.text()),
        }
    }
    for id in &seen.deleted {
        let status = get(&format!("/v2/data/{id}")).status;
        let model = get(&format!("/v2/models/{id}/download")).status;
        let exp = get(&format!("/v2/experiments/{id}")).status;
        assert_eq!(
            (status, model, exp),
            (404, 404, 404),
            "round {round}: deleted {id} is back"
        );
    }
    for (id, ended) in seen.tasks.iter_mut() {
        let doc = get(&format!("/v2/tasks/{id}")).json();
        let status = doc["status"]
            .as_str()
            .unwrap_or_else(|| panic!("task {id}: {doc}"));
        match status {
            "done" | "invalid" => {}
            "fail" if *ended => {}
            "fail" => assert_eq!(doc["progress_message"], RESTARTED, "round {round}: {doc}"),
            _ => panic!("round {round}: task {id} from before the kill is {status}: {doc}"),
        }
        *ended = true;
    }
    // Whatever is listed is whole.
    let mut listed = Vec::new();
    loop {
        let page = get(&format!("/v2/data?limit=500&offset={}", listed.len())).json();
        let items = page["items"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        listed.extend(items);
    }
    for doc in &listed {
        let id = doc["_id"].as_str().unwrap();
        let file = get(&format!("/v2/data/{id}/file"));
        assert_eq!(file.status, 200, "round {round}: listed {id} has no file");
        let lines = file.body.iter().filter(|&&b| b == b'\n').count() as u64;
        let rows = doc["rows"].as_u64().unwrap();
        assert!(
            lines == rows + 1 || lines == rows,
            "round {round}: {id}: {lines} lines, {rows} rows"
        );
    }
    for id in &evicted {
        seen.data.remove(id);
        seen.models.remove(id);
    }
    evicted.len()
}

#[test]
fn killed_at_random_moments_a_restart_finds_everything_complete_or_absent() {
    let dir: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("crash-loop");
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = dir.with_extension("stderr");
    let _ = std::fs::remove_file(&stderr);
    let mut rng = Lcg(2026);
    let mut seen = Seen::default();
    let started = Instant::now();
    let mut evicted = 0;
    for round in 0..ROUNDS {
        let server = start(&dir, &stderr);
        if round > 0 {
            evicted += verify(server.addr, &mut seen, round);
        }
        let delay = Duration::from_millis(50 + rng.below(900) as u64);
        let child = server.child.clone();
        let killer = thread::spawn(move || {
            thread::sleep(delay);
            let mut child = child.lock().unwrap();
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
        });
        let end = drive(server.addr, &mut rng, &mut seen);
        assert!(end.is_err());
        killer.join().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the loop ran too long"
        );
    }
    let server = start(&dir, &stderr);
    evicted += verify(server.addr, &mut seen, ROUNDS);
    let mut child = server.child.lock().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let log = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert!(
        !log.contains("dropping stored item") && !log.contains("skipping"),
        "a restart found a damaged item:\n{log}"
    );
    let done = seen.tasks.len();
    eprintln!(
        "{ROUNDS} kills; {done} tasks; {} data sets and {} models intact; {evicted} evicted; {:?}",
        seen.data.len(),
        seen.models.len(),
        started.elapsed()
    );
    assert!(
        seen.data.len() + seen.models.len() > 10,
        "too little work was checked"
    );
    // Under --max-memory 64M the store keeps about 24 MiB: kills also land mid-eviction.
    assert!(
        evicted > 0,
        "nothing was evicted: the loop never crashed mid-eviction"
    );
}
