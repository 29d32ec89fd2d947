//! Slowloris (issue 19, item 5): connections that send their head a byte at a time
//! must not lock out the clients that send whole requests.
//!
//! Before: admission evicted only idle connections, and a head had 10 s to arrive, so
//! 300 unauthenticated connections trickling one byte every 200 ms into a server with
//! room for 100 made nearly every health probe get `503` (1,100 of them at the default
//! limit: 59 % for 25 s). Now the oldest partial heads are evicted first, a head has
//! `head_timeout` in all, and wrong credentials are refused as soon as their line ends.

#![cfg(feature = "server")]

mod server_util;

use std::io::{BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use server_util::*;

/// The slow start of a head: no credentials, and it never ends.
const TRICKLE_START: &[u8] = b"GET /v2/worker/status HTTP/1.1\r\nHost: x\r\nX-Slow: ";

/// One attacker connection, non-blocking; `None` if the server did not accept it.
fn slow_connection(addr: SocketAddr) -> Option<TcpStream> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    s.set_nonblocking(true).ok()?;
    s.write_all(&TRICKLE_START[..1]).ok()?;
    Some(s)
}

/// Whether the server closed `s` (or answered it, which also ends its slow head).
fn closed(s: &TcpStream) -> bool {
    let mut buf = [0u8; 1];
    match s.peek(&mut buf) {
        Ok(_) => true,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    }
}

/// Keeps `count` slow heads open until `stop`: every 200 ms each sends one more byte
/// of its head, and one that was closed is opened again. Counts the connections made.
fn attack(addr: SocketAddr, count: usize, stop: Arc<AtomicBool>, made: Arc<AtomicUsize>) {
    let mut conns: Vec<(Option<TcpStream>, usize)> = (0..count).map(|_| (None, 0)).collect();
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(20) {
        for (slot, sent) in &mut conns {
            let alive = match slot {
                Some(s) => !closed(s),
                None => false,
            };
            if !alive {
                *slot = slow_connection(addr);
                *sent = 1;
                made.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let s = slot.as_mut().unwrap();
            let byte = TRICKLE_START.get(*sent).copied().unwrap_or(b'a');
            if s.write(&[byte]).is_err() {
                *slot = None;
            }
            *sent += 1;
        }
        thread::sleep(Duration::from_millis(200));
    }
}

/// A health probe on a new connection: its status, or 0 if it got no answer.
fn probe(addr: SocketAddr) -> u16 {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return 0;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
    let request = format!(
        "GET /v2/worker/status HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(request.as_bytes()).is_err() {
        return 0;
    }
    read_answer(&mut BufReader::new(s)).map_or(0, |a| a.status)
}

#[test]
fn slow_heads_do_not_lock_out_health_probes() {
    const LIMIT: usize = 100;
    let server = start_with(|c| c.limits.max_connections = LIMIT);
    let addr = server.addr();
    let stop = Arc::new(AtomicBool::new(false));
    let made = Arc::new(AtomicUsize::new(0));
    // Three times the limit, from three threads.
    let attackers: Vec<_> = (0..3)
        .map(|_| {
            let (stop, made) = (stop.clone(), made.clone());
            thread::spawn(move || attack(addr, LIMIT, stop, made))
        })
        .collect();
    thread::sleep(Duration::from_secs(1));
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(probe(addr));
        thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        a.join().unwrap();
    }
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    eprintln!(
        "{ok} of {} probes answered 200 ({} slow connections made): {statuses:?}",
        statuses.len(),
        made.load(Ordering::Relaxed)
    );
    assert!(
        ok * 10 >= statuses.len() * 9,
        "at least 90 % of the probes are answered 200"
    );
    assert_alive(addr);
}

#[test]
fn wrong_credentials_are_refused_before_the_head_ends() {
    let server = start();
    let addr = server.addr();
    let mut s = connect(addr);
    // "wrong:wrong", then a head that never ends.
    s.write_all(
        b"GET /v2/worker/status HTTP/1.1\r\nAuthorization: Basic d3Jvbmc6d3Jvbmc=\r\nX-Slow: ",
    )
    .unwrap();
    let start = Instant::now();
    let answer = read_answer(&mut BufReader::new(s)).expect("an answer");
    eprintln!("status {} after {:?}", answer.status, start.elapsed());
    assert_eq!(answer.status, 401);
    assert!(answer.header("www-authenticate").is_some());
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_alive(addr);
}

#[test]
fn a_head_trickled_steadily_gets_408_at_the_head_timeout() {
    let server = start_with(|c| {
        c.limits.head_timeout = Duration::from_secs(1);
        c.limits.read_timeout = Duration::from_secs(30);
    });
    let addr = server.addr();
    let mut s = connect(addr);
    let reader = s.try_clone().unwrap();
    let start = Instant::now();
    let trickle = thread::spawn(move || {
        // A byte every 100 ms, never idle long, for at most 6 s.
        for &byte in TRICKLE_START.iter().chain([b'a'; 60].iter()) {
            if s.write_all(&[byte]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let answer = read_answer(&mut BufReader::new(reader)).expect("an answer");
    let took = start.elapsed();
    eprintln!("status {} after {took:?}", answer.status);
    assert_eq!(answer.status, 408);
    assert!(took < Duration::from_secs(4), "{took:?}");
    trickle.join().unwrap();
    assert_alive(addr);
}

#[test]
fn a_known_clients_kept_alive_connection_outlasts_a_flood_of_silent_ones() {
    let server = start_with(|c| c.limits.max_connections = 20);
    let addr = server.addr();
    let status = format!("GET /v2/worker/status HTTP/1.1\r\nAuthorization: {AUTH}\r\n\r\n");
    let mut known = connect(addr);
    let mut reader = BufReader::new(known.try_clone().unwrap());
    known.write_all(status.as_bytes()).unwrap();
    assert_eq!(read_answer(&mut reader).unwrap().status, 200);
    // Twice the limit of connections that never send a byte, all newer than `known`,
    // which is now the longest idle.
    let silent: Vec<_> = (0..40)
        .filter_map(|_| TcpStream::connect(addr).ok())
        .collect();
    thread::sleep(Duration::from_millis(300));
    let again = known
        .write_all(status.as_bytes())
        .map_err(|e| e.to_string())
        .and_then(|()| read_answer(&mut reader).map_err(|e| e.to_string()));
    drop(silent);
    assert_eq!(
        again.map(|a| a.status),
        Ok(200),
        "the known client kept its connection"
    );
}
