//! A line-based chat server on taskloop: every line a client sends goes to every other
//! client. It shows the runtime's pieces working together on one loop thread:
//!
//! - a **broker** task owns the list of clients and receives their events over a bounded
//!   `mpsc` channel (backpressure: a flood of lines makes the senders wait, not the
//!   broker's memory grow); each client gets its outgoing lines over an unbounded one;
//! - each **connection** task reads lines with a `BufReader` on the read half of its
//!   socket and writes with the write half, in one `select!` loop;
//! - the **accept loop** keeps its connection tasks in a `JoinSet` and `select!`s
//!   between a new connection, a finished one, and shutdown;
//! - **Ctrl-C** (with the `signal` feature) shuts down cleanly: stop accepting, tell
//!   every client, let each connection write what it still has, wait for them all.
//!
//! ```text
//! cargo run --release --example chat_server            # 127.0.0.1:7001
//! cargo run --release --example chat_server -- --demo 50
//! ```
//!
//! While it serves, connect with `nc 127.0.0.1 7001` from two terminals and type. With
//! `--demo N` it starts N clients itself, checks that each receives every other client's
//! line, shuts down (by sending itself SIGINT when built with `signal`), checks that every
//! client was told, and exits 0 if all went right.

use std::cell::Cell;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use taskloop::io::{AsyncWriteExt, BufReader};
use taskloop::net::{TcpListener, TcpStream};
use taskloop::sync::{mpsc, oneshot, Notify};
use taskloop::JoinSet;

#[path = "common/cli.rs"]
mod cli;
use cli::{Cli, Opt};

const SHUTDOWN_NOTICE: &str = "* server shutting down";
/// How long shutdown waits for connections to drain before aborting them.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// What connections tell the broker.
enum Event {
    Join(u64, mpsc::UnboundedSender<Arc<str>>),
    Line(u64, String),
    Leave(u64),
    Shutdown,
}

const CLI: Cli = Cli {
    name: "chat_server",
    about: "A line-based chat server on taskloop: every line a client sends goes to every \
            other client. Ctrl-C shuts it down cleanly.",
    options: &[
        Opt {
            flag: "--addr",
            value: Some("HOST:PORT"),
            help: "where to listen (default 127.0.0.1:7001)",
        },
        Opt {
            flag: "--demo",
            value: Some("N"),
            help: "self-test with N clients, shut down, then exit",
        },
    ],
};

fn main() -> ExitCode {
    let (mut addr, mut demo) = ("127.0.0.1:7001".to_string(), None);
    for (flag, value) in CLI.parse() {
        let value = value.unwrap_or_default();
        match flag {
            "--addr" => addr = value,
            _ => demo = Some(CLI.number(flag, &value)),
        }
    }
    let rt = taskloop::Runtime::new().expect("create the runtime");
    let result = match demo {
        None => rt.block_on(serve_until_ctrl_c(&addr)),
        Some(clients) => rt.block_on(run_demo(clients)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat_server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_until_ctrl_c(addr: &str) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    println!("chat_server on {} (Ctrl-C to stop)", listener.local_addr()?);
    let (_never, trigger) = oneshot::channel();
    serve(listener, trigger).await
}

/// Resolves on Ctrl-C (with the `signal` feature) or when `trigger` fires or is dropped.
async fn shutdown_requested(trigger: oneshot::Receiver<()>) {
    #[cfg(feature = "signal")]
    taskloop::select! {
        _ = taskloop::signal::ctrl_c() => println!("Ctrl-C: shutting down"),
        Ok(()) = trigger => {}
    }
    #[cfg(not(feature = "signal"))]
    let _ = trigger.await;
}

/// Accepts clients until shutdown, then drains every connection.
async fn serve(listener: TcpListener, trigger: oneshot::Receiver<()>) -> io::Result<()> {
    let (events, inbox) = mpsc::channel(256);
    let broker = taskloop::spawn(broker(inbox));
    let mut conns = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown_requested(trigger));
    let mut next_id = 0;
    loop {
        taskloop::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    next_id += 1;
                    conns.spawn(connection(next_id, stream, events.clone()));
                }
                Err(e) => eprintln!("accept: {e}"),
            },
            Some(done) = conns.join_next() => {
                if let Ok(Err(e)) = done {
                    eprintln!("connection: {e}");
                }
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = events.send(Event::Shutdown).await;
    drop(events);
    let drained = taskloop::timeout(DRAIN_LIMIT, async {
        while conns.join_next().await.is_some() {}
    });
    if drained.await.is_err() {
        conns.shutdown().await; // some client does not read: abort the rest
    }
    let _ = broker.await;
    Ok(())
}

/// Owns the client list: joins, leaves, and relays each line to everyone else.
async fn broker(mut inbox: mpsc::Receiver<Event>) {
    let mut clients: HashMap<u64, mpsc::UnboundedSender<Arc<str>>> = HashMap::new();
    while let Some(event) = inbox.recv().await {
        match event {
            Event::Join(id, tx) => {
                let _ = tx.send(format!("* welcome, you are client {id}").into());
                clients.insert(id, tx);
            }
            Event::Line(from, line) => {
                let line: Arc<str> = format!("{from}: {line}").into();
                for (id, tx) in &clients {
                    if *id != from {
                        let _ = tx.send(line.clone());
                    }
                }
            }
            Event::Leave(id) => drop(clients.remove(&id)),
            Event::Shutdown => {
                for tx in clients.values() {
                    let _ = tx.send(SHUTDOWN_NOTICE.into());
                }
                clients.clear(); // each connection writes what it has, then ends
                inbox.close();
            }
        }
    }
}

/// One client: its lines go to the broker, the broker's lines go to its socket.
async fn connection(id: u64, stream: TcpStream, events: mpsc::Sender<Event>) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let (tx, mut outbox) = mpsc::unbounded_channel();
    if events.send(Event::Join(id, tx)).await.is_err() {
        return Ok(()); // shutting down already
    }
    let mut reading = true;
    loop {
        taskloop::select! {
            // Both futures are cancel-safe: the loser loses nothing.
            line = lines.next_line(), if reading => match line? {
                Some(line) => {
                    let _ = events.send(Event::Line(id, line)).await;
                }
                None => {
                    reading = false;
                    let _ = events.send(Event::Leave(id)).await;
                }
            },
            out = outbox.recv() => match out {
                Some(text) => write.write_all(format!("{text}\n").as_bytes()).await?,
                None => return Ok(()), // the broker let go of us: done
            },
        }
    }
}

/// Serves on a free port, runs `clients` clients, shuts down, and checks every client.
async fn run_demo(clients: usize) -> io::Result<()> {
    let start = Instant::now();
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (trigger, triggered) = oneshot::channel();
    let server = taskloop::spawn(serve(listener, triggered));
    let joined = Rc::new((Cell::new(0), Notify::new()));
    let (heard_tx, mut heard_rx) = mpsc::unbounded_channel();
    let mut set = JoinSet::new();
    for i in 0..clients {
        set.spawn(demo_client(
            addr,
            i,
            clients,
            joined.clone(),
            heard_tx.clone(),
        ));
    }
    drop(heard_tx);
    while joined.0.get() < clients {
        taskloop::yield_now().await;
    }
    joined.1.notify_waiters(); // everyone is in: say hello
    let mut heard_all = 0;
    while heard_rx.recv().await.is_some() {
        heard_all += 1;
        if heard_all == clients {
            break;
        }
    }
    request_shutdown(trigger);
    let mut failures = clients - heard_all;
    while let Some(done) = set.join_next().await {
        if let Err(e) = done.map_err(io::Error::other).and_then(|r| r) {
            eprintln!("{e}");
            failures += 1;
        }
    }
    server.await.map_err(io::Error::other)??;
    println!(
        "chat_server demo: {clients} clients, {} lines relayed, every client told of the \
         shutdown, {failures} failed; {:.0?}",
        clients * clients.saturating_sub(1),
        start.elapsed()
    );
    if failures == 0 {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{failures} of {clients} clients failed"
        )))
    }
}

/// With the `signal` feature the demo stops the server the way a user would: Ctrl-C.
fn request_shutdown(trigger: oneshot::Sender<()>) {
    #[cfg(feature = "signal")]
    {
        drop(trigger);
        signal_hook::low_level::raise(signal_hook::consts::SIGINT).expect("raise SIGINT");
    }
    #[cfg(not(feature = "signal"))]
    let _ = trigger.send(());
}

/// Joins, says hello once everyone has joined, hears everyone else's hello (and reports
/// it), then expects the shutdown notice as the last line before the end of the stream.
async fn demo_client(
    addr: SocketAddr,
    i: usize,
    clients: usize,
    joined: Rc<(Cell<usize>, Notify)>,
    heard_all: mpsc::UnboundedSender<usize>,
) -> io::Result<()> {
    let (read, mut write) = TcpStream::connect(addr).await?.into_split();
    let mut lines = BufReader::new(read).lines();
    let hello = joined.1.notified();
    let welcome = lines.next_line().await?.unwrap_or_default();
    if !welcome.starts_with("* welcome") {
        return Err(io::Error::other(format!(
            "client {i}: no welcome: {welcome:?}"
        )));
    }
    joined.0.set(joined.0.get() + 1);
    hello.await;
    write
        .write_all(format!("hello from {i}\n").as_bytes())
        .await?;
    if clients == 1 {
        let _ = heard_all.send(i); // nobody else to hear
    }
    let (mut heard, mut last) = (0, None);
    while let Some(line) = lines.next_line().await? {
        if line.contains(": hello from") {
            heard += 1;
            if heard == clients - 1 {
                let _ = heard_all.send(i);
            }
        }
        last = Some(line);
    }
    if heard != clients - 1 || last.as_deref() != Some(SHUTDOWN_NOTICE) {
        return Err(io::Error::other(format!(
            "client {i}: heard {heard} of {} hellos, last line {last:?}",
            clients - 1
        )));
    }
    Ok(())
}
