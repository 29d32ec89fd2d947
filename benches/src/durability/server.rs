//! The `automl-server` binary as a child process: started with or without `--data-dir`,
//! timed to its `listening on` line, read through `/proc/PID`, stopped by closing its
//! standard input (`--exit-on-stdin-close`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::BoxError;

/// The credentials every server of the benchmark is started with.
pub const USER: &str = "bench";
/// See [`USER`].
pub const PASSWORD: &str = "bench-password";

/// The binary: `$AUTOML_SERVER`, or `target/release/automl-server` of the taskloop crate
/// (built with `cargo build --release --bin automl-server` in the repository root). A
/// warning goes to stderr when a file under `src/` is newer than the binary.
///
/// # Errors
/// The binary does not exist; the message says how to build it.
pub fn binary() -> Result<PathBuf, BoxError> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = match std::env::var_os("AUTOML_SERVER") {
        Some(p) => PathBuf::from(p),
        None => root.join("target/release/automl-server"),
    };
    let built = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .map_err(|e| {
            format!(
                "{}: {e}; build it first: `cargo build --release --bin automl-server` in {}",
                path.display(),
                root.display()
            )
        })?;
    if newest_mtime(&root.join("src")).is_some_and(|src| src > built) {
        eprintln!(
            "warning: {} is older than a file under src/; rebuild it for current figures",
            path.display()
        );
    }
    Ok(path)
}

/// The latest modification time of the files under `dir`.
fn newest_mtime(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let time = match path.is_dir() {
            true => newest_mtime(&path),
            false => entry.metadata().and_then(|m| m.modified()).ok(),
        };
        newest = newest.max(time);
    }
    newest
}

/// A running server process.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// Closing it stops the server.
    stdin: Option<ChildStdin>,
    url: String,
    /// From just before the process was started to its `listening on` line.
    pub to_listening: Duration,
    /// When the `listening on` line was read.
    pub listening_at: Instant,
}

impl Server {
    /// Starts `binary` (2 workers, the default) on a free loopback port, keeping its
    /// items in `data_dir` if given, and waits for its `listening on` line.
    ///
    /// # Errors
    /// The process could not start or ended before it listened.
    pub fn start(binary: &Path, data_dir: Option<&Path>) -> Result<Server, BoxError> {
        let mut command = Command::new(binary);
        command
            .args([
                "--user",
                USER,
                "--password",
                PASSWORD,
                "--exit-on-stdin-close",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(dir) = data_dir {
            command.arg("--data-dir").arg(dir);
        }
        let begun = Instant::now();
        let mut child = command.spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let listening_at = Instant::now();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("the server printed {line:?}, not `listening on URL`"))?
            .to_owned();
        Ok(Server {
            stdin: child.stdin.take(),
            child,
            url,
            to_listening: listening_at - begun,
            listening_at,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A `kB` line of the process's `/proc/PID/status` (`VmHWM`, `VmRSS`), in KiB.
    ///
    /// # Errors
    /// The process is gone or the line is missing.
    pub fn status_kib(&self, key: &str) -> Result<u64, BoxError> {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no {key} in /proc/PID/status").into())
    }

    /// Nanoseconds on CPU of the server's loop thread (the thread named
    /// `automl-server` other than the main one: it accepts, parses requests and submits
    /// tasks), from its `schedstat`.
    ///
    /// # Errors
    /// No such thread, or `/proc` cannot be read.
    pub fn loop_cpu_ns(&self) -> Result<u64, BoxError> {
        let pid = self.child.id().to_string();
        for entry in std::fs::read_dir(format!("/proc/{pid}/task"))?.flatten() {
            // The main thread has the program's name too; it only waits for a signal.
            if entry.file_name().to_string_lossy() == pid {
                continue;
            }
            let dir = entry.path();
            let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            if name.trim() == "automl-server" {
                let stat = std::fs::read_to_string(dir.join("schedstat"))?;
                let ns = stat.split_whitespace().next().and_then(|v| v.parse().ok());
                return ns.ok_or_else(|| "an unreadable schedstat".into());
            }
        }
        Err("the server has no thread named automl-server".into())
    }

    /// Stops the server (closes its standard input) and waits for it to exit.
    ///
    /// # Errors
    /// It exited with a failure, or could not be waited for.
    pub fn stop(mut self) -> Result<(), BoxError> {
        drop(self.stdin.take());
        let status = self.child.wait()?;
        match status.success() {
            true => Ok(()),
            false => Err(format!("the server exited with {status}").into()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
