//! The cooperative budget: a task whose socket is always ready yields after a bounded
//! number of I/O operations, so one busy connection cannot starve the others (issue 9,
//! item 2).
//!
//! The flooder writes 64 KiB at a time as fast as it can to a server task that reads 64
//! bytes at a time (as a line or request parser reading small pieces does): the server's
//! socket is never drained, every `read` is ready. Without a budget that task never
//! returns `Pending`, the loop never accepts the prober or answers it, and every probe
//! times out. With the budget, between two turns of the prober the loop makes at most
//! one poll of the flooder's task, 128 reads of 64 bytes (well under a millisecond of
//! work on any machine), so a probe's round trip costs a few loop turns.
//!
//! The bound on the prober's p99, 500 ms, is about a thousand times that work: it leaves
//! room for a loaded 2-core CI machine descheduling the loop thread or the prober, and
//! is still far below the unbounded wait (the 10 s probe timeout) without a budget.

mod util;

use std::io::{Read, Write};
use std::net::TcpStream as StdStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use taskloop::net::{TcpListener, TcpStream};

const PROBES: usize = 40;
const P99_BOUND: Duration = Duration::from_millis(500);

/// Echoes what a prober sends (first byte `P`); discards the flooder's bytes.
async fn handle(mut conn: TcpStream) {
    let mut buf = [0u8; 64];
    let mut echo = None;
    loop {
        let n = match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let echo = *echo.get_or_insert(buf[0] == b'P');
        if echo && conn.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

fn flood(addr: std::net::SocketAddr, stop: Arc<AtomicBool>) {
    let mut s = StdStream::connect(addr).unwrap();
    s.set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let chunk = vec![b'F'; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        if s.write(&chunk).is_err() && stop.load(Ordering::Relaxed) {
            break;
        }
    }
}

/// Round trips of one byte, one every 5 ms; a probe that gets no answer within 10 s
/// counts as 10 s.
fn probe(addr: std::net::SocketAddr) -> Vec<Duration> {
    let mut s = StdStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    let mut rtts = Vec::new();
    let mut byte = [0u8; 1];
    for _ in 0..PROBES {
        let start = Instant::now();
        if s.write_all(b"P").is_err() || s.read_exact(&mut byte).is_err() {
            rtts.push(Duration::from_secs(10));
            break;
        }
        rtts.push(start.elapsed());
        thread::sleep(Duration::from_millis(5));
    }
    rtts
}

#[test]
fn a_flooding_connection_does_not_starve_a_prober() {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let server_stop = stop.clone();
    let server = thread::spawn(move || {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        addr_tx.send(listener.local_addr().unwrap()).unwrap();
        util::rt().block_on(async move {
            let accept = taskloop::spawn(async move {
                while let Ok((conn, _)) = listener.accept().await {
                    taskloop::spawn(handle(conn));
                }
            });
            while !server_stop.load(Ordering::Relaxed) {
                taskloop::sleep(Duration::from_millis(10)).await;
            }
            accept.abort();
        });
    });
    let addr = addr_rx.recv().unwrap();
    let flood_stop = stop.clone();
    let flooder = thread::spawn(move || flood(addr, flood_stop));
    thread::sleep(Duration::from_millis(100)); // the flood is under way
    let mut rtts = probe(addr);
    stop.store(true, Ordering::Relaxed);
    flooder.join().unwrap();
    rtts.sort();
    let p99 = rtts[(rtts.len() * 99).div_ceil(100) - 1];
    eprintln!(
        "prober: {} probes, p50 {:?}, p99 {:?}",
        rtts.len(),
        rtts[rtts.len() / 2],
        p99
    );
    assert_eq!(rtts.len(), PROBES, "a probe got no answer within 10 s");
    assert!(p99 < P99_BOUND, "prober p99 {p99:?} (bound {P99_BOUND:?})");
    // The server loop exits once the flood stops (or the process ends if it is stuck).
    let _ = server.join();
}
