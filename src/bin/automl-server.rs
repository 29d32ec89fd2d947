//! `automl-server`: the bundled AutoML server as a standalone program.
//!
//! ```text
//! automl-server --user U --password P [--addr 127.0.0.1:0] [--workers N]
//!               [--max-running N] [--max-memory SIZE] [--data-dir DIR]
//!               [--max-disk SIZE] [--fault-latency-ms N]
//!               [--fault-drop-rate F]
//!               [--fault-503-rate F] [--fault-seed N] [--exit-on-stdin-close]
//! ```
//!
//! It binds (loopback, any free port, by default), prints exactly one line,
//! `listening on http://HOST:PORT`, to stdout once it accepts connections and its
//! signal handlers are in place, and serves until SIGINT (Ctrl-C) or SIGTERM; then it
//! shuts down (in-flight answers are finished or their connections closed) and exits
//! with 0. So it runs as a service: started with `&` from a script or under a
//! supervisor, it keeps serving whatever its stdin is.
//!
//! Test harnesses that want the server never to outlive them pass
//! `--exit-on-stdin-close`: then it also stops when its standard input reaches end of
//! file, so a parent stops it by closing the pipe it gave as stdin.
//!
//! Bad arguments print the problem and the usage to stderr and exit with 2; a
//! failure to start (e.g. the address is in use) exits with 1.

use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use taskloop::automl::{serve, ServerConfig};
use taskloop::signal::Signal;

const USAGE: &str = "usage: automl-server --user U --password P [--addr HOST:PORT] \
[--workers N] [--max-running N] [--max-memory SIZE] [--data-dir DIR] [--max-disk SIZE] \
[--fault-latency-ms N] [--fault-drop-rate F] \
[--fault-503-rate F] [--fault-seed N] [--exit-on-stdin-close]";

const HELP: &str = "The bundled AutoML server: the Decanter-style job API over HTTP/1.1.
It prints `listening on http://HOST:PORT` once it accepts connections and serves until
SIGINT or SIGTERM (then it shuts down cleanly and exits with 0).

options:
  --user U                the user name clients must send (HTTP Basic; required)
  --password P            the password clients must send (required)
  --addr HOST:PORT        where to listen (default 127.0.0.1:0, a free loopback port)
  --workers N             worker threads for training and prediction (default 2)
  --max-running N         tasks running at once; more wait as pending (default: workers)
  --max-memory SIZE       the memory ceiling: bytes, or with K, M or G (default: half
                          the machine's memory); a train or predict that would not
                          fit fails before it allocates
  --data-dir DIR          keep data sets, experiments, models, predictions and tasks
                          in DIR (created if needed), so that they survive a restart
                          or a crash; one server per directory (default: memory only)
  --max-disk SIZE         the most DIR may hold: bytes, or with K, M or G; beyond it
                          uploads and new tasks are refused with 507 until data sets or
                          experiments are deleted (default: no limit)
  --fault-latency-ms N    delay every request by N ms (fault injection)
  --fault-drop-rate F     drop this fraction of requests, 0 to 1 (half after handling)
  --fault-503-rate F      answer this fraction of requests with 503, 0 to 1
  --fault-seed N          seed of the fault draws
  --exit-on-stdin-close   also stop when standard input closes (for test harnesses)
  -h, --help              print this help and exit";

fn main() -> ExitCode {
    let (config, exit_on_stdin_close) = match parse_args(std::env::args().skip(1)) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            println!("{USAGE}\n\n{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("automl-server: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (stop_tx, stop_rx) = mpsc::channel();
    if let Err(e) = watch_signals(stop_tx.clone()) {
        eprintln!("automl-server: cannot watch SIGINT and SIGTERM: {e}");
        return ExitCode::from(1);
    }
    let server = match serve(config) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("automl-server: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "listening on {}", server.url());
    let _ = stdout.flush();
    if exit_on_stdin_close {
        watch_stdin(stop_tx);
    }
    let _ = stop_rx.recv();
    server.shutdown();
    ExitCode::SUCCESS
}

/// Sends on `stop` at the first SIGINT or SIGTERM, from a thread with its own small
/// runtime. Returns once both signals are watched, so that one sent right after the
/// `listening on` line is never missed.
fn watch_signals(stop: mpsc::Sender<()>) -> io::Result<()> {
    let (ready_tx, ready_rx) = mpsc::channel();
    thread::Builder::new()
        .name("automl-server-signals".into())
        .spawn(move || {
            let rt = match taskloop::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => return drop(ready_tx.send(Err(e))),
            };
            rt.block_on(async move {
                let signals = Signal::interrupt().and_then(|i| Ok((i, Signal::terminate()?)));
                let (mut interrupt, mut terminate) = match signals {
                    Ok(pair) => pair,
                    Err(e) => return drop(ready_tx.send(Err(e))),
                };
                let _ = ready_tx.send(Ok(()));
                taskloop::select(interrupt.recv(), terminate.recv()).await;
                let _ = stop.send(());
            });
        })?;
    ready_rx
        .recv()
        .unwrap_or_else(|_| Err(io::Error::other("the signal thread ended")))
}

/// Sends on `stop` when standard input reaches end of file (or fails), reading it on its
/// own thread and discarding what it reads.
fn watch_stdin(done_tx: mpsc::Sender<()>) {
    thread::spawn(move || {
        let mut sink = [0u8; 4096];
        let mut stdin = io::stdin().lock();
        loop {
            match stdin.read(&mut sink) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = done_tx.send(());
    });
}

/// The flags that take a value.
const FLAGS: [&str; 12] = [
    "--addr",
    "--user",
    "--password",
    "--workers",
    "--max-running",
    "--max-memory",
    "--data-dir",
    "--max-disk",
    "--fault-latency-ms",
    "--fault-drop-rate",
    "--fault-503-rate",
    "--fault-seed",
];

/// Parses the arguments: the configuration and whether to stop when stdin closes;
/// `Ok(None)` for `--help`.
fn parse_args(
    mut args: impl Iterator<Item = String>,
) -> Result<Option<(ServerConfig, bool)>, String> {
    let mut exit_on_stdin_close = false;
    let mut parsed = Parsed {
        config: ServerConfig::new("", ""),
        user: None,
        password: None,
        max_running: None,
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        if flag == "--exit-on-stdin-close" && inline.is_none() {
            exit_on_stdin_close = true;
            continue;
        }
        if !FLAGS.contains(&flag.as_str()) {
            return Err(format!("unknown argument '{flag}'"));
        }
        let Some(value) = inline.or_else(|| args.next()) else {
            return Err(format!("{flag} needs a value"));
        };
        parsed.set(&flag, value)?;
    }
    Ok(Some((parsed.finish()?, exit_on_stdin_close)))
}

/// The arguments seen so far. (No `Debug`: it holds the password.)
struct Parsed {
    config: ServerConfig,
    user: Option<String>,
    password: Option<String>,
    max_running: Option<usize>,
}

impl Parsed {
    fn set(&mut self, flag: &str, value: String) -> Result<(), String> {
        let config = &mut self.config;
        match flag {
            "--addr" => config.addr = address(&value)?,
            "--user" => self.user = Some(value),
            "--password" => self.password = Some(value),
            "--workers" => config.workers = positive(flag, &value)?,
            "--max-running" => self.max_running = Some(positive(flag, &value)?),
            "--max-memory" => config.limits.max_memory = size(flag, &value, 64 << 20)?,
            "--data-dir" if value.is_empty() => return Err("--data-dir needs a path".into()),
            "--data-dir" => config.data_dir = Some(value.into()),
            "--max-disk" => config.limits.max_disk = Some(size(flag, &value, 1 << 20)? as u64),
            "--fault-latency-ms" => {
                config.faults.latency = Duration::from_millis(number(flag, &value)?);
            }
            "--fault-drop-rate" => config.faults.drop_rate = rate(flag, &value)?,
            "--fault-503-rate" => config.faults.rate_503 = rate(flag, &value)?,
            "--fault-seed" => config.faults.seed = number(flag, &value)?,
            _ => return Err(format!("unknown argument '{flag}'")),
        }
        Ok(())
    }

    fn finish(self) -> Result<ServerConfig, String> {
        let mut config = self.config;
        config.user = self.user.ok_or("--user is required")?;
        config.password = self.password.ok_or("--password is required")?;
        config.max_running = self.max_running.unwrap_or(config.workers);
        Ok(config)
    }
}

/// `value` if it names a socket address (`HOST:PORT`, the host resolved now).
fn address(value: &str) -> Result<String, String> {
    use std::net::ToSocketAddrs;
    match value.to_socket_addrs().map(|mut addrs| addrs.next()) {
        Ok(Some(_)) => Ok(value.to_owned()),
        Ok(None) => Err(format!("--addr: '{value}' names no address")),
        Err(e) => Err(format!("--addr: '{value}' is not HOST:PORT ({e})")),
    }
}

fn number<T: FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: '{value}' is not a valid number"))
}

fn positive(flag: &str, value: &str) -> Result<usize, String> {
    match number(flag, value)? {
        0 => Err(format!("{flag} must be at least 1")),
        n => Ok(n),
    }
}

/// A size in bytes: a number, optionally followed by K, M or G (powers of 1024), at
/// least `min` bytes.
fn size(flag: &str, value: &str, min: usize) -> Result<usize, String> {
    let upper = value.trim().to_ascii_uppercase();
    let digits = upper.trim_end_matches(['K', 'M', 'G', 'B', 'I']);
    let shift = match &upper[digits.len()..] {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("{flag}: '{value}' is not a size (e.g. 2G or 512M)")),
    };
    let bytes = number::<usize>(flag, digits)
        .map_err(|_| format!("{flag}: '{value}' is not a size (e.g. 2G or 512M)"))?
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{flag}: '{value}' is too large"))?;
    if bytes < min {
        return Err(format!(
            "{flag} must be at least {}M, not {value}",
            min >> 20
        ));
    }
    Ok(bytes)
}

fn rate(flag: &str, value: &str) -> Result<f64, String> {
    let rate: f64 = number(flag, value)?;
    if !(0.0..=1.0).contains(&rate) {
        return Err(format!("{flag} must be between 0 and 1, not {value}"));
    }
    Ok(rate)
}
