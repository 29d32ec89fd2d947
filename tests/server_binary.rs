//! The `automl-server` program: prints where it listens, serves until SIGINT or SIGTERM
//! (whatever its stdin is) and then exits cleanly, or also when its stdin closes if asked
//! to; bad arguments exit with 2 and the usage.

#![cfg(feature = "server")]

mod server_util;

use std::io::BufReader;
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use server_util::*;

const BIN: &str = env!("CARGO_BIN_EXE_automl-server");

/// Waits for `child` to exit, killing it (and failing) after 30 s.
fn wait_exit(child: &mut Child) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("automl-server did not exit");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Starts the binary with `extra` arguments and `stdin`; returns it and its address.
fn start(extra: &[&str], stdin: Stdio) -> (Child, SocketAddr, BufReader<ChildStdout>) {
    Binary {
        path: BIN,
        extra,
        stdin,
        nofile: None,
        stderr: None,
    }
    .start()
}

#[test]
fn runs_with_its_stdin_closed_until_sigterm_or_sigint() {
    for signal in ["-TERM", "-INT"] {
        let (mut child, addr, _stdout) = start(&[], Stdio::null());
        thread::sleep(Duration::from_millis(200));
        assert_eq!(
            child.try_wait().unwrap(),
            None,
            "stopped with stdin at /dev/null"
        );
        assert_eq!(get_json(addr, "/v2/worker/status")["status"], "ok");
        let kill = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = wait_exit(&mut child);
        assert!(status.success(), "{signal}: {status}");
    }
}

#[test]
fn prints_its_address_serves_and_exits_when_stdin_closes_if_asked() {
    let (mut child, addr, mut stdout) =
        start(&["--exit-on-stdin-close", "--workers", "1"], Stdio::piped());
    assert!(addr.ip().is_loopback());
    let status = get_json(addr, "/v2/worker/status");
    assert_eq!(
        (status["status"].as_str(), status["workers"].as_u64()),
        (Some("ok"), Some(1))
    );
    assert_eq!(
        request(addr, "GET", "/v2/worker/status", &[], b"").status,
        401
    );

    drop(child.stdin.take()); // EOF on its stdin
    assert!(wait_exit(&mut child).success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "", "exactly one line on stdout");
}

#[test]
fn bad_arguments_exit_with_2_and_the_usage() {
    for args in [
        &["--user", "u"][..],
        &["--user", "u", "--password", "p", "--workers", "zero"],
        &["--user", "u", "--password", "p", "--workers", "0"],
        &["--user", "u", "--password", "p", "--fault-drop-rate", "1.5"],
        &["--user", "u", "--password", "p", "--bogus", "1"],
        &["--user", "u", "--password"],
        &["--user", "u", "--password", "p", "--addr", "nonsense"],
    ] {
        let out = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("usage: automl-server"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    let out = Command::new(BIN)
        .args(["--user", "u", "--password", "p", "--addr", "nonsense"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--addr: 'nonsense' is not HOST:PORT"),
        "{stderr}"
    );
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.status.success() && text.contains("--fault-503-rate"),
        "{text}"
    );
    assert!(
        text.contains("--workers N") && text.contains("default 2"),
        "{text}"
    );
}
