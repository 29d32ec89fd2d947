//! The real Decanter AI Core SDK for Python (`decanter-ai-core-sdk` 1.1.11 from PyPI,
//! unchanged) runs its documented workflow against the `automl-server` program:
//! uploads (a CSV file and DataFrames), setup, training (regression, binary and
//! multinomial classification), predictions, model look-ups, stopping a running job and
//! the job status table. The checks are in `tests/decanter_sdk/workflow.py` (and the
//! other scripts there, one test each; `restart.py` runs against two servers in turn on
//! one `--data-dir`); this test provides the Python environment and the server and
//! fails with the script's output.
//!
//! The first run creates a virtual environment at `<target dir>/decanter-sdk-venv` with
//! `python3 -m venv` and installs the SDK (and with it numpy, pandas and requests) from
//! PyPI; later runs reuse it. Without `python3` or without access to PyPI the test
//! fails and says so: it never skips. The workflow itself talks to the server on
//! loopback only.
//!
//! Run it with `cargo test --release --test decanter_sdk`; the workflow takes about a
//! minute (the SDK polls every 3 s and checks prerequisite jobs every 5 s). The script
//! stops at the first failed check; with `DECANTER_SDK_KEEP_GOING=1` in the environment
//! it goes on and lists every failure.

#![cfg(feature = "server")]

use std::env;
use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const BIN: &str = env!("CARGO_BIN_EXE_automl-server");
const SDK: &str = "decanter-ai-core-sdk==1.1.11";
const NEEDS: &str = "the real Decanter SDK test needs python3 and access to PyPI";
/// Creating the virtual environment and installing the SDK (first run only).
const VENV_LIMIT: Duration = Duration::from_secs(600);
/// The server's start, the whole workflow and the server's exit.
const WORKFLOW_LIMIT: Duration = Duration::from_secs(300);
const USER: &str = "sdk-user";
const PASSWORD: &str = "sdk-password";

/// What a finished (or killed) child process wrote.
struct Finished {
    /// `None` if it was killed at its deadline.
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    fn describe(&self) -> String {
        match self.status {
            Some(status) => format!("{status}"),
            None => "killed at its deadline".to_owned(),
        }
    }
}

/// Collects everything `source` yields on a thread of its own.
fn drain(mut source: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    let sink = Arc::new(Mutex::new(Vec::new()));
    let collected = Arc::clone(&sink);
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match source.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => collected.lock().unwrap().extend_from_slice(&chunk[..n]),
            }
        }
    });
    sink
}

fn text(sink: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&sink.lock().unwrap()).into_owned()
}

/// Runs `command` to completion, killing it at `deadline`. `Err` if it cannot start.
fn run_until(mut command: Command, deadline: Instant) -> std::io::Result<Finished> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(50));
    };
    // The readers end when the pipes close; a grandchild may hold them open, so wait
    // only briefly for them.
    thread::sleep(Duration::from_millis(100));
    Ok(Finished {
        status,
        stdout: text(&stdout),
        stderr: text(&stderr),
    })
}

/// The last `lines` lines of `s`, progress bars (carriage-return rewrites) dropped.
fn tail(s: &str, lines: usize) -> String {
    let kept: Vec<&str> = s
        .split(['\n', '\r'])
        .filter(|l| !l.trim().is_empty() && !l.starts_with("Progress "))
        .collect();
    kept[kept.len().saturating_sub(lines)..].join("\n")
}

fn shown(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

/// Runs one step of the venv set-up; panics with what failed and [`NEEDS`].
fn setup_step(command: Command, deadline: Instant) {
    let line = shown(&command);
    let finished = run_until(command, deadline).unwrap_or_else(|e| {
        panic!("`{line}` could not start: {e}\n{NEEDS}");
    });
    assert!(
        finished.success(),
        "`{line}` failed ({}).\nstderr (tail):\n{}\nstdout (tail):\n{}\n{NEEDS}",
        finished.describe(),
        tail(&finished.stderr, 40),
        tail(&finished.stdout, 20),
    );
}

/// The Python of a virtual environment with the SDK installed, made once under the
/// cargo target directory. Concurrent test processes each build in a directory of
/// their own and rename it into place; the first rename wins. The marker file is
/// written only after pip succeeded and the SDK imports, before the rename.
fn sdk_python() -> PathBuf {
    // BIN is <target>/<profile>/automl-server
    let target = Path::new(BIN)
        .parent()
        .and_then(Path::parent)
        .expect("the server binary lives in <target>/<profile>/");
    let venv = target.join("decanter-sdk-venv");
    let marker = Path::new("decanter-ai-core-sdk-1.1.11.installed");
    let python = |dir: &Path| dir.join("bin").join("python");
    if venv.join(marker).is_file() {
        return python(&venv);
    }
    if venv.exists() && !venv.join(marker).is_file() {
        // not made by this test: a complete one has the marker when it appears there
        fs::remove_dir_all(&venv).expect("remove an incomplete venv");
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let building = target.join(format!(
        "decanter-sdk-venv.building-{}-{nanos}",
        std::process::id()
    ));
    let deadline = Instant::now() + VENV_LIMIT;
    eprintln!("creating {} (first run only)", venv.display());
    let _cleanup = RemoveOnDrop(building.clone()); // a failed attempt leaves nothing behind

    let mut make = Command::new("python3");
    make.args(["-m", "venv"]).arg(&building);
    setup_step(make, deadline);
    let mut pip = Command::new(python(&building));
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        SDK,
    ]);
    setup_step(pip, deadline);
    let mut import = Command::new(python(&building));
    import.args([
        "-c",
        "import decanter.core, numpy, pandas, requests; print('ok')",
    ]);
    import.env("MPLBACKEND", "Agg");
    setup_step(import, deadline);
    fs::write(building.join(marker), SDK).expect("write the venv marker");

    if let Err(e) = fs::rename(&building, &venv) {
        // another test process got there first; use its venv
        assert!(
            venv.join(marker).is_file(),
            "cannot move the new venv to {}: {e}",
            venv.display()
        );
    }
    python(&venv)
}

/// Removes a directory (if it still exists) when dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if self.0.exists() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

/// The running `automl-server`; stopping it closes its stdin. Dropping it (e.g. when the
/// test panics) kills the process if it is still running.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<Vec<u8>>>,
    url: String,
}

impl Server {
    /// Starts `automl-server` on a free loopback port with `extra` arguments (e.g.
    /// `--data-dir DIR`) after the common ones.
    fn start(deadline: Instant, extra: &[&OsStr]) -> Server {
        let mut child = Command::new(BIN)
            .args([
                "--addr",
                "127.0.0.1:0",
                "--user",
                USER,
                "--password",
                PASSWORD,
                "--workers",
                "2",
                "--exit-on-stdin-close",
            ])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start automl-server");
        let stdin = child.stdin.take();
        let stderr = drain(child.stderr.take().unwrap());
        let stdout = child.stdout.take().unwrap();
        let (line_tx, line_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = line_tx.send(line);
            // keep reading so that the server never blocks on a full pipe
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut server = Server {
            child,
            stdin,
            stderr,
            url: String::new(),
        };
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_secs(30));
        let line = line_rx.recv_timeout(wait).unwrap_or_default();
        let Some(addr) = line.trim_end().strip_prefix("listening on http://") else {
            panic!(
                "automl-server printed {line:?} instead of `listening on http://HOST:PORT`; \
                 stderr:\n{}",
                text(&server.stderr)
            );
        };
        assert!(
            addr.starts_with("127.0.0.1:"),
            "the server must listen on loopback: {addr}"
        );
        server.url = format!("http://{addr}");
        server
    }

    /// Closes its stdin and waits for it to exit (killing it at `deadline`).
    fn stop(mut self, deadline: Instant) -> Option<ExitStatus> {
        drop(self.stdin.take());
        self.wait(deadline)
    }

    /// Sends it SIGTERM (with `kill -TERM`, its stdin left open) and waits for it to
    /// exit (killing it at `deadline`).
    fn terminate(mut self, deadline: Instant) -> Option<ExitStatus> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(
            sent.as_ref().is_ok_and(|s| s.success()),
            "`kill -TERM {pid}` failed: {sent:?}"
        );
        self.wait(deadline)
    }

    fn wait(&mut self, deadline: Instant) -> Option<ExitStatus> {
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None; // Drop kills it
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A fresh directory for the script's files; removed when the test passes.
fn workdir() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = env::temp_dir().join(format!(
        "taskloop-decanter-sdk-{}-{nanos}",
        std::process::id()
    ));
    fs::create_dir_all(&dir).expect("create the work directory");
    dir
}

#[test]
fn the_real_decanter_sdk_runs_its_documented_workflow_against_automl_server() {
    run_script("workflow.py");
}

/// Runs `tests/decanter_sdk/{script}` against a fresh `automl-server` and fails with the
/// script's output unless every check passed and the server exited cleanly.
fn run_script(script: &str) {
    let python = sdk_python();
    let started = Instant::now();
    let deadline = started + WORKFLOW_LIMIT;
    let server = Server::start(deadline, &[]);
    let work = workdir();
    let command = script_command(&python, script, &server.url, &work, &[]);
    let stdout = expect_passed(script, command, deadline, &work, &server);
    let elapsed = started.elapsed();
    let server_exit = server.stop(Instant::now() + Duration::from_secs(30));
    assert!(
        server_exit.is_some_and(|s| s.success()),
        "automl-server did not exit cleanly when its stdin closed: {server_exit:?}"
    );
    println!("{stdout}");
    println!("{script} passed in {:.1} s", elapsed.as_secs_f64());
    let _ = std::io::stdout().flush();
    let _ = fs::remove_dir_all(&work);
}

/// `python tests/decanter_sdk/{script} --host URL --user U --password P --workdir WORK`
/// followed by `args`, in the environment every script runs in: loopback only, no proxy.
fn script_command(python: &Path, script: &str, url: &str, work: &Path, args: &[&str]) -> Command {
    let script_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/decanter_sdk")
        .join(script);
    let mut command = Command::new(python);
    command
        .arg(&script_path)
        .args(["--host", url, "--user", USER, "--password", PASSWORD])
        .arg("--workdir")
        .arg(work)
        .args(args)
        .args(env::var_os("DECANTER_SDK_KEEP_GOING").map(|_| "--keep-going"))
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("MPLBACKEND", "Agg")
        .env("MPLCONFIGDIR", work.join("matplotlib"))
        // loopback only: no proxy may see the traffic
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        command.env_remove(var);
    }
    command
}

/// Runs a script's `command` until `deadline`; fails with its output and the tail of
/// `server`'s stderr unless every check passed. Returns the script's stdout.
fn expect_passed(
    what: &str,
    command: Command,
    deadline: Instant,
    work: &Path,
    server: &Server,
) -> String {
    let python = command.get_program().to_string_lossy().into_owned();
    let finished = run_until(command, deadline).unwrap_or_else(|e| {
        panic!("cannot run {python}: {e} (delete the venv to have it made again)")
    });
    assert!(
        finished.success(),
        "{what} failed ({}; work directory {} kept).\n\
         --- stdout:\n{}\n\
         --- stderr (tail, progress bars dropped):\n{}\n\
         --- automl-server stderr (tail):\n{}",
        finished.describe(),
        work.display(),
        finished.stdout,
        tail(&finished.stderr, 80),
        tail(&text(&server.stderr), 40),
    );
    assert!(
        finished.stdout.contains(" checks passed"),
        "{what} exited 0 without its summary line"
    );
    finished.stdout
}

/// `restart.py`: what a server with `--data-dir` made (data sets, an experiment and
/// its models, a prediction, model downloads, tasks) the SDK reads back equal from the
/// next server on the same directory, the first stopped with SIGTERM while a training
/// ran; that training's task then reads `fail`, "the server restarted during this
/// task"; the restored model predicts the same file again; a new training works.
#[test]
fn the_real_decanter_sdk_reads_back_everything_after_a_restart() {
    let python = sdk_python();
    let started = Instant::now();
    let deadline = started + WORKFLOW_LIMIT;
    let work = workdir();
    let data_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(work.file_name().unwrap());
    eprintln!("data directory {}", data_dir.display());
    let with_data_dir = [OsStr::new("--data-dir"), data_dir.as_os_str()];
    let mut outputs = Vec::new();
    for phase in ["make", "read"] {
        let server = Server::start(deadline, &with_data_dir);
        let what = format!("restart.py --phase {phase}");
        let command = script_command(
            &python,
            "restart.py",
            &server.url,
            &work,
            &["--phase", phase],
        );
        outputs.push(expect_passed(&what, command, deadline, &work, &server));
        let exit = server.terminate(Instant::now() + Duration::from_secs(30));
        assert!(
            exit.is_some_and(|s| s.success()),
            "automl-server did not exit with 0 on SIGTERM after {what}: {exit:?}"
        );
    }
    println!("{}", outputs.join("\n"));
    println!(
        "restart.py passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let _ = std::io::stdout().flush();
    let _ = fs::remove_dir_all(&work);
    let _ = fs::remove_dir_all(&data_dir);
}

#[test]
fn every_train_input_option_is_honoured_or_refused_in_words() {
    run_script("train_options.py");
}

#[test]
fn the_real_decanter_sdk_clusters_blobs_and_assigns_fresh_points() {
    run_script("cluster.py");
}

/// `endpoints.py`: model downloads (scored in plain Python), the worker count, the data
/// and task lists, batch predict, `schema` and the prediction files' columns.
#[test]
fn the_real_decanter_sdk_downloads_models_lists_and_batch_predicts() {
    run_script("endpoints.py");
}

#[test]
fn the_real_decanter_sdk_sets_up_datetime_columns_and_forecasts_time_series() {
    run_script("timeseries.py");
}
