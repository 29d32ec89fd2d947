//! The Python side: a venv with scikit-learn and LightGBM that the benchmark makes for
//! itself, and `peers/engine_peers.py`, which writes the data sets and cross-validates
//! the peers on the engine's folds.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use super::Scored;

/// The packages the venv needs.
const PACKAGES: [&str; 4] = ["scikit-learn", "lightgbm", "numpy", "pandas"];
/// Python that succeeds when they are all importable.
const IMPORT_CHECK: &str = "import sklearn, lightgbm, numpy, pandas";

/// One data set written by the script.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSet {
    /// Its name (one of [`SETS`](super::SETS)).
    pub name: String,
    /// The CSV file.
    pub path: PathBuf,
    /// Its data rows.
    pub rows: usize,
}

/// What the peers scored on one data set.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerRun {
    /// One entry per peer model, in the script's order.
    pub models: Vec<Scored>,
    /// The library versions, as `scikit-learn 1.5.0, lightgbm 4.5.0, ...`.
    pub versions: String,
}

/// The venv's interpreter and the peers script.
#[derive(Debug, Clone)]
pub struct Peers {
    python: PathBuf,
    script: PathBuf,
}

impl Peers {
    /// Uses the venv at `venv` when its packages import, otherwise creates it
    /// (`python3 -m venv`) and installs them with pip; says what it does on stderr.
    ///
    /// # Errors
    /// A message when python3, the venv or pip fails.
    pub fn setup(venv: &Path, script: PathBuf) -> Result<Peers, String> {
        let python = venv.join("bin").join("python");
        let ready = || python.exists() && imports(&python);
        if ready() {
            eprintln!("[engine] reusing the venv {}", venv.display());
            return Ok(Peers { python, script });
        }
        if !python.exists() {
            eprintln!(
                "[engine] creating a venv: python3 -m venv {}",
                venv.display()
            );
            run(Command::new("python3").args(["-m", "venv"]).arg(venv))?;
        }
        eprintln!(
            "[engine] installing into it: pip install {}",
            PACKAGES.join(" ")
        );
        let pip = [
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ];
        run(Command::new(&python).args(pip).args(PACKAGES))?;
        if !ready() {
            return Err(format!(
                "the venv at {} cannot import {PACKAGES:?}",
                venv.display()
            ));
        }
        Ok(Peers { python, script })
    }

    /// Writes (or reuses) the data sets `sets` in `out`, the generated ones at `rows`
    /// rows (their defaults when `None`).
    ///
    /// # Errors
    /// A message when the script fails or prints something unexpected.
    pub fn make_data(
        &self,
        out: &Path,
        rows: Option<usize>,
        sets: &[&str],
    ) -> Result<Vec<DataSet>, String> {
        let mut command = self.script_command("data");
        command
            .arg("--out")
            .arg(out)
            .args(["--sets", &sets.join(",")]);
        if let Some(rows) = rows {
            command.args(["--rows", &rows.to_string()]);
        }
        json_lines(&run(&mut command)?)?
            .iter()
            .map(data_set)
            .collect()
    }

    /// Cross-validates the peers `only` (names of [`PEERS`](super::args::PEERS)) on
    /// `set` with the folds in `folds`, scoring by `metric` (`rmse`, `logloss` or
    /// `auc`), on `threads` threads.
    ///
    /// # Errors
    /// A message when the script fails or prints something unexpected.
    pub fn cross_validate(
        &self,
        set: &DataSet,
        folds: &Path,
        metric: &str,
        only: &[&str],
        threads: usize,
    ) -> Result<PeerRun, String> {
        let mut command = self.script_command("peers");
        command
            .arg("--data")
            .arg(&set.path)
            .arg("--folds")
            .arg(folds);
        command.args(["--metric", metric, "--threads", &threads.to_string()]);
        command.args(["--peers", &only.join(",")]);
        for variable in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"] {
            command.env(variable, threads.to_string());
        }
        let lines = json_lines(&run(&mut command)?)?;
        let (head, models) = lines.split_first().ok_or("the peers printed nothing")?;
        Ok(PeerRun {
            versions: versions(head)?,
            models: models.iter().map(peer_model).collect::<Result<_, _>>()?,
        })
    }

    /// `python engine_peers.py SUBCOMMAND`, its stderr passed through.
    fn script_command(&self, subcommand: &str) -> Command {
        let mut command = Command::new(&self.python);
        command.arg(&self.script).arg(subcommand);
        command
    }
}

/// Whether `python` imports the packages.
fn imports(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", IMPORT_CHECK])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `command` with stderr passed through and returns its stdout; a failure to start
/// or a non-zero exit is an error naming the command.
fn run(command: &mut Command) -> Result<String, String> {
    let shown = format!("{command:?}");
    let Output { status, stdout, .. } = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if !status.success() {
        return Err(format!("{shown} failed ({status})"));
    }
    String::from_utf8(stdout).map_err(|_| format!("{shown} printed something not UTF-8"))
}

/// Each non-empty line of `text` as JSON.
fn json_lines(text: &str) -> Result<Vec<Value>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad line from the peers '{l}': {e}")))
        .collect()
}

/// `{"set", "path", "rows"}` as a [`DataSet`].
fn data_set(line: &Value) -> Result<DataSet, String> {
    let text = |key: &str| line[key].as_str().ok_or(format!("no {key} in {line}"));
    Ok(DataSet {
        name: text("set")?.to_owned(),
        path: PathBuf::from(text("path")?),
        rows: line["rows"].as_u64().ok_or(format!("no rows in {line}"))? as usize,
    })
}

/// `{"model", "value", "seconds", "rounds"}` as a [`Scored`] peer.
fn peer_model(line: &Value) -> Result<Scored, String> {
    let name = line["model"]
        .as_str()
        .ok_or(format!("no model in {line}"))?;
    Ok(Scored {
        name: name.to_owned(),
        value: line["value"].as_f64().filter(|v| v.is_finite()),
        seconds: line["seconds"].as_f64(),
        settings: "defaults".into(),
        rounds: line["rounds"].as_f64(),
    })
}

/// `{"versions": {name: version}}` as `name version, ...`.
fn versions(line: &Value) -> Result<String, String> {
    let map = line["versions"]
        .as_object()
        .ok_or(format!("no versions in {line}"))?;
    let pairs: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("?")))
        .collect();
    Ok(pairs.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_script_lines() {
        let lines = json_lines(
            "{\"versions\": {\"lightgbm\": \"4.7.0\"}}\n\n\
             {\"model\": \"LightGBM\", \"value\": 0.9, \"folds\": [0.9], \"seconds\": 1.5}\n",
        )
        .unwrap();
        assert_eq!(versions(&lines[0]).unwrap(), "lightgbm 4.7.0");
        let model = peer_model(&lines[1]).unwrap();
        assert_eq!((model.value, model.seconds), (Some(0.9), Some(1.5)));
        let set =
            json_lines("{\"set\": \"wine\", \"path\": \"/d/wine.csv\", \"rows\": 178}").unwrap();
        assert_eq!(data_set(&set[0]).unwrap().rows, 178);
        assert!(json_lines("Traceback").unwrap_err().contains("bad line"));
        assert!(peer_model(&set[0]).unwrap_err().contains("no model"));
    }
}
