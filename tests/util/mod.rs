//! Helpers shared by the behaviour tests: a runtime constructor, a watchdog that turns a
//! hang into a failure, a drop flag, and a loopback echo server and client.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use taskloop::net::{TcpListener, TcpStream};
use taskloop::Runtime;

/// How long a test may run before the watchdog calls it hung. Only a hang detector: every
/// test finishes in a small fraction of this on any machine.
pub const HANG_LIMIT: Duration = Duration::from_secs(30);

/// A runtime with the default settings.
pub fn rt() -> Runtime {
    Runtime::new().expect("the OS should allow a mio Poll and a few threads")
}

/// Runs `body` on its own thread and returns its result; fails the test if `body` takes
/// longer than [`HANG_LIMIT`] (a lost wake-up shows up as a hang, not as a wrong value).
/// A panic in `body` fails the test with that panic.
pub fn watchdog<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    let name = thread::current().name().unwrap_or("test").to_string();
    let (tx, rx) = mpsc::channel();
    let worker = thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            let _ = tx.send(body());
        })
        .expect("spawn the test thread");
    match rx.recv_timeout(HANG_LIMIT) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the body either sends its result or panics"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name} hung: it did not finish within {HANG_LIMIT:?}")
        }
    }
}

/// Sets a flag when dropped, so a test can tell whether a future (which owns it) was
/// dropped.
#[derive(Debug)]
pub struct DropFlag(Arc<AtomicBool>);

/// Whether the matching [`DropFlag`] has been dropped.
#[derive(Debug, Clone)]
pub struct Dropped(Arc<AtomicBool>);

impl Dropped {
    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A drop flag and the way to read it.
pub fn drop_flag() -> (DropFlag, Dropped) {
    let flag = Arc::new(AtomicBool::new(false));
    (DropFlag(flag.clone()), Dropped(flag))
}

/// A future that never completes and sets a drop flag when it is dropped.
pub async fn pending_until_dropped(flag: DropFlag) {
    let _flag = flag;
    std::future::pending::<()>().await
}

/// Deterministic bytes that differ for every `seed`, so a misrouted or corrupted echo
/// cannot pass for the right one.
pub fn message(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Accepts exactly `clients` connections, echoes each on its own task, and returns the
/// total number of bytes echoed once every connection has closed. Counts the connections
/// accepted so far in `accepted`.
pub async fn echo_server(
    listener: TcpListener,
    clients: usize,
    accepted: Rc<Cell<usize>>,
) -> io::Result<u64> {
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (conn, _) = listener.accept().await?;
        connections.push(taskloop::spawn(echo(conn)));
        accepted.set(accepted.get() + 1);
    }
    let mut total = 0;
    for handle in connections {
        total += handle.await.expect("an echo task does not panic")?;
    }
    Ok(total)
}

/// Writes back everything it reads until the peer closes; returns the byte count.
pub async fn echo(mut conn: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0; 64 * 1024];
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

/// Connects to an echo server, sends each message, and checks that exactly it comes back.
pub async fn echo_client(addr: SocketAddr, messages: Vec<Vec<u8>>) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    for msg in messages {
        let echoed = send_and_receive(&mut stream, &msg).await?;
        assert!(
            echoed == msg,
            "echo of a {}-byte message differs",
            msg.len()
        );
    }
    Ok(())
}

/// Sends `msg` and reads back as many bytes, writing and reading in turns: a message
/// larger than the socket buffers would deadlock if it were written whole before reading.
///
/// Each turn polls a fresh `write` or `read` future once. `Pending` means the socket said
/// `WouldBlock` and the stream will wake this task when it is ready again; dropping the
/// pending future loses nothing.
pub async fn send_and_receive(stream: &mut TcpStream, msg: &[u8]) -> io::Result<Vec<u8>> {
    let mut back = vec![0; msg.len()];
    let (mut sent, mut received) = (0, 0);
    poll_fn(|cx| loop {
        let mut progress = false;
        if sent < msg.len() {
            if let Poll::Ready(n) = pin!(stream.write(&msg[sent..])).poll(cx) {
                sent += n?;
                progress = true;
            }
        }
        if received < back.len() {
            if let Poll::Ready(n) = pin!(stream.read(&mut back[received..])).poll(cx) {
                match n? {
                    0 => return Poll::Ready(Err(io::Error::from(io::ErrorKind::UnexpectedEof))),
                    n => received += n,
                }
                progress = true;
            }
        }
        if received == back.len() {
            return Poll::Ready(Ok(()));
        }
        if !progress {
            return Poll::Pending;
        }
    })
    .await?;
    Ok(back)
}
