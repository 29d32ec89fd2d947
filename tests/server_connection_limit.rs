//! The connection limit (issue 9, item 3): 400 idle connections at a 128-descriptor
//! limit used to lock every client out (accept failed until idle timeouts). Now the
//! server keeps its connections under the descriptor limit, closing the longest idle
//! one to admit a new one, so health checks are answered at once.

#![cfg(all(feature = "server", feature = "signal", unix))]

mod server_util;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use server_util::{Binary, AUTH};

const BIN: &str = env!("CARGO_BIN_EXE_automl-server");

fn health_check(addr: SocketAddr) -> Result<Duration, String> {
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let request = format!(
        "GET /v2/worker/status HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    match answer.starts_with("HTTP/1.1 200") {
        true => Ok(start.elapsed()),
        false => Err(format!("answer {:?}", answer.lines().next())),
    }
}

#[test]
fn idle_connections_at_the_descriptor_limit_do_not_lock_out_health_checks() {
    let (mut child, addr, _stdout) = Binary {
        path: BIN,
        extra: &["--exit-on-stdin-close"],
        stdin: Stdio::piped(),
        nofile: Some(128),
        stderr: None,
    }
    .start();
    let idle: Vec<_> = (0..400)
        .filter_map(|_| TcpStream::connect(addr).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let checks: Vec<_> = (0..10).map(|_| health_check(addr)).collect();
    drop(idle);
    drop(child.stdin.take());
    let _ = child.wait();
    eprintln!("{checks:?}");
    for check in &checks {
        let took = check.as_ref().expect("every health check is answered");
        assert!(*took < Duration::from_secs(5), "{took:?}");
    }
}
