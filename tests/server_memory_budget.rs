//! One memory budget for every buffered body (issue 9, item 4): 60 clients each
//! sending a 60 MiB body at once used to take the server to 3.9 GB. Now a body the
//! budget cannot hold gets `503` with `Retry-After` before the client is invited to
//! send it (`Expect: 100-continue`), and the server's peak RSS stays under 1 GiB.

#![cfg(all(feature = "server", feature = "signal", target_os = "linux"))]

mod server_util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use server_util::{AUTH, PASSWORD, USER};

const BIN: &str = env!("CARGO_BIN_EXE_automl-server");
const CLIENTS: usize = 60;
const BODY: usize = 60 * 1024 * 1024;

/// Sends one large body the polite way; the status of the answer that decides
/// (`100` then the final one, or a refusal at once) and whether `Retry-After` came.
fn big_post(addr: SocketAddr) -> (u16, bool) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST /v2/tasks/train HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\n\
         Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {BODY}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let (status, retry_after) = read_head(&mut reader);
    if status != 100 {
        return (status, retry_after);
    }
    let chunk = vec![b' '; 1024 * 1024];
    for _ in 0..BODY / chunk.len() {
        if s.write_all(&chunk).is_err() {
            return (0, false);
        }
    }
    read_head(&mut reader)
}

fn read_head(reader: &mut impl BufRead) -> (u16, bool) {
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return (0, false);
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut retry_after = false;
    loop {
        let mut field = String::new();
        if reader.read_line(&mut field).unwrap_or(0) == 0 || field.trim().is_empty() {
            break;
        }
        retry_after |= field.to_ascii_lowercase().starts_with("retry-after:");
    }
    (status, retry_after)
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn sixty_large_bodies_at_once_get_503s_and_bounded_memory() {
    let mut child = Command::new(BIN)
        .args([
            "--user",
            USER,
            "--password",
            PASSWORD,
            "--exit-on-stdin-close",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line
        .trim()
        .trim_start_matches("listening on http://")
        .parse()
        .unwrap();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| std::thread::spawn(move || big_post(addr)))
        .collect();
    let answers: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let peak_mib = peak_rss_kib(child.id()) / 1024;
    drop(child.stdin.take());
    let _ = child.wait();
    let refused = answers.iter().filter(|a| **a == (503, true)).count();
    let read = answers.iter().filter(|a| a.0 == 400).count();
    eprintln!(
        "{read} bodies read (400: not JSON), {refused} refused with 503, peak RSS {peak_mib} MiB"
    );
    assert!(refused > 0, "{answers:?}");
    assert!(read > 0, "{answers:?}");
    assert_eq!(refused + read, CLIENTS, "{answers:?}");
    assert!(peak_mib < 1024, "peak RSS {peak_mib} MiB");
    let mut rest = Vec::new();
    let _ = child.stdout.take().unwrap().read_to_end(&mut rest);
}
