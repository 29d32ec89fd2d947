//! A TCP echo server on taskloop: one loop thread, one task per connection, as many
//! clients at once as the OS allows.
//!
//! It shows the runtime's TCP layer and its tasks working together: the accept loop is a
//! task, each connection is another, and none of them blocks the others, because every
//! read, write and accept waits on the loop instead of on the OS.
//!
//! ```text
//! cargo run --release --example echo_server                       # serve 127.0.0.1:7000 forever
//! cargo run --release --example echo_server -- --addr 127.0.0.1:9000
//! cargo run --release --example echo_server -- --demo 500         # self-test, then exit
//! ```
//!
//! While it serves, try `nc 127.0.0.1 7000` and type a line. With `--demo N` it binds a
//! free loopback port, starts N clients itself (as tasks on the same loop), checks that
//! every message comes back intact, prints a one-line summary and exits: 0 if all echoes
//! were right, 1 if not.

use std::cell::Cell;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use taskloop::net::{TcpListener, TcpStream};

#[path = "common/cli.rs"]
mod cli;
use cli::{Cli, Opt};

/// Message sizes each demo client sends. Each is at most 16 KiB, which the socket
/// buffers always hold, so a client may write a whole message before reading its echo.
const DEMO_SIZES: [usize; 4] = [1, 300, 4_096, 16_384];

/// Demo clients connect in waves smaller than the listen backlog (128): a connection
/// that finds the backlog full is only retried by the OS a second later.
const DEMO_WAVE: usize = 64;

/// Connection counts: the server counts accepts, demo clients count failed connects, so
/// every client shows up in one or the other.
#[derive(Default)]
struct Tally {
    accepted: Cell<usize>,
    failed_connects: Cell<usize>,
}

struct Args {
    addr: String,
    demo: Option<usize>,
}

const CLI: Cli = Cli {
    name: "echo_server",
    about: "A TCP echo server on taskloop: one loop thread, one task per connection.",
    options: &[
        Opt {
            flag: "--addr",
            value: Some("HOST:PORT"),
            help: "where to listen (default 127.0.0.1:7000)",
        },
        Opt {
            flag: "--demo",
            value: Some("N"),
            help: "self-test with N clients on a free loopback port, then exit",
        },
    ],
};

fn parse_args() -> Args {
    let mut args = Args {
        addr: "127.0.0.1:7000".to_string(),
        demo: None,
    };
    for (flag, value) in CLI.parse() {
        let value = value.unwrap_or_default();
        match flag {
            "--addr" => args.addr = value,
            _ => args.demo = Some(CLI.number(flag, &value)),
        }
    }
    args
}

fn main() -> ExitCode {
    let args = parse_args();
    let rt = taskloop::Runtime::new().expect("create the runtime");
    let result = match args.demo {
        None => rt.block_on(serve_forever(&args.addr)),
        Some(clients) => rt.block_on(demo(clients)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_forever(addr: &str) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    println!("echo_server listening on {}", listener.local_addr()?);
    serve(listener, Rc::default(), true).await
}

/// Lines for stdout or stderr, written by a thread of their own: `println!` on the loop
/// thread blocks once nobody reads the pipe (`echo_server | sleep 1000`), and with it
/// every connection. Lines that find the queue full are counted, not waited for.
#[derive(Clone)]
struct Log {
    lines: std::sync::mpsc::SyncSender<(bool, String)>,
    dropped: Rc<std::cell::Cell<u64>>,
}

impl Log {
    fn new() -> Log {
        let (lines, rx) = std::sync::mpsc::sync_channel::<(bool, String)>(1024);
        std::thread::spawn(move || {
            for (to_stderr, line) in rx {
                if to_stderr {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
            }
        });
        Log {
            lines,
            dropped: Rc::default(),
        }
    }

    fn out(&self, line: String) {
        self.send(false, line);
    }

    fn err(&self, line: String) {
        self.send(true, line);
    }

    fn send(&self, to_stderr: bool, line: String) {
        let dropped = self.dropped.replace(0);
        let line = match dropped {
            0 => line,
            n => format!("({n} log lines dropped: output is not being read)\n{line}"),
        };
        if self.lines.try_send((to_stderr, line)).is_err() {
            self.dropped.set(dropped + 1);
        }
    }
}

/// Accepts connections forever, echoing each on its own task, and counts them.
async fn serve(listener: TcpListener, tally: Rc<Tally>, verbose: bool) -> io::Result<()> {
    let log = Log::new();
    loop {
        let (conn, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // For example, out of file descriptors: wait a little, keep serving.
                log.err(format!("accept failed: {e}"));
                taskloop::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        tally.accepted.set(tally.accepted.get() + 1);
        if verbose {
            log.out(format!("connection {} from {peer}", tally.accepted.get()));
        }
        let log = log.clone();
        taskloop::spawn(async move {
            match echo(conn).await {
                Ok(bytes) if verbose => log.out(format!("{peer} closed after {bytes} bytes")),
                Ok(_) => {}
                Err(e) => log.err(format!("{peer}: {e}")),
            }
        });
    }
}

/// Writes back everything it reads until the peer closes; returns the byte count.
async fn echo(mut conn: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0; 16 * 1024];
    let mut total = 0;
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        conn.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

/// Serves on a free loopback port, runs `clients` clients against it, and prints a
/// summary. Fails if any client's echo was wrong.
async fn demo(clients: usize) -> io::Result<()> {
    let start = Instant::now();
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let tally = Rc::new(Tally::default());
    let server = taskloop::spawn(serve(listener, tally.clone(), false));

    let mut handles = Vec::with_capacity(clients);
    for id in 0..clients {
        handles.push(taskloop::spawn(client(addr, id, tally.clone())));
        if handles.len() % DEMO_WAVE == 0 {
            while tally.accepted.get() + tally.failed_connects.get() < handles.len() {
                taskloop::yield_now().await;
            }
        }
    }
    let (mut bytes, mut failed) = (0, 0);
    for (id, handle) in handles.into_iter().enumerate() {
        match handle.await {
            Ok(Ok(n)) => bytes += n,
            Ok(Err(e)) => {
                eprintln!("client {id}: {e}");
                failed += 1;
            }
            Err(e) => {
                eprintln!("client {id}: {e}");
                failed += 1;
            }
        }
    }
    server.abort();

    let messages = clients * DEMO_SIZES.len();
    println!(
        "echo_server demo: {clients} clients, {messages} messages, {:.1} MB echoed and \
         checked in {:.0?}; {failed} failed",
        bytes as f64 / 1e6,
        start.elapsed()
    );
    if failed == 0 {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{failed} of {clients} clients failed"
        )))
    }
}

/// Sends each of [`DEMO_SIZES`] once and checks the echo; returns the bytes echoed.
async fn client(addr: SocketAddr, id: usize, tally: Rc<Tally>) -> io::Result<u64> {
    let mut stream = match TcpStream::connect(addr).await {
        Ok(stream) => stream,
        Err(e) => {
            tally.failed_connects.set(tally.failed_connects.get() + 1);
            return Err(e);
        }
    };
    let mut total = 0;
    for (i, &len) in DEMO_SIZES.iter().enumerate() {
        let msg: Vec<u8> = (0..len).map(|b| (b * 31 + id * 7 + i) as u8).collect();
        stream.write_all(&msg).await?;
        let mut back = vec![0; len];
        stream.read_exact(&mut back).await?;
        if back != msg {
            return Err(io::Error::other(format!(
                "wrong echo of a {len}-byte message"
            )));
        }
        total += len as u64;
    }
    Ok(total)
}
