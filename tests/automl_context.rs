//! Connecting reports a clear error, never a panic or an exit, when the server is
//! unreachable, refuses the credentials, or answers garbage.

#![cfg(all(feature = "client", feature = "server"))]

mod automl_util;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use automl_util::{server, watchdog, PASSWORD, USER};
use taskloop::automl::{AutomlError, Context};

/// A loopback port on which nothing listens.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A one-connection-at-a-time server that answers every request with `answer`.
fn answering(answer: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten().take(20) {
            let mut conn = conn;
            let mut buf = [0u8; 4096];
            let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(answer);
        }
    });
    url
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    watchdog(Duration::from_secs(30), || {
        let url = format!("http://127.0.0.1:{}", closed_port());
        let err = Context::connect(&url, USER, PASSWORD).unwrap_err();
        assert!(matches!(err, AutomlError::Unreachable { .. }), "{err:?}");
        assert!(err.to_string().contains(&url), "{err}");
    });
}

#[test]
fn refused_credentials_are_a_clear_error_that_does_not_repeat_them() {
    watchdog(Duration::from_secs(30), || {
        let srv = server();
        let err = Context::connect(&srv.url(), USER, "not-the-password-123").unwrap_err();
        assert!(matches!(err, AutomlError::Unauthorized { .. }), "{err:?}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("not-the-password-123"), "{text}");
    });
}

#[test]
fn garbage_answers_are_a_protocol_error() {
    watchdog(Duration::from_secs(30), || {
        let not_json =
            answering(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        let err = Context::connect(&not_json, USER, PASSWORD).unwrap_err();
        assert!(matches!(err, AutomlError::Protocol { .. }), "{err:?}");

        let wrong_json = answering(
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"a\": 1}\n",
        );
        let err = Context::connect(&wrong_json, USER, PASSWORD).unwrap_err();
        assert!(err.to_string().contains("worker status"), "{err}");

        let not_http = answering(b"SSH-2.0-OpenSSH_9.0\r\n");
        let err = Context::connect(&not_http, USER, PASSWORD).unwrap_err();
        assert!(!err.to_string().is_empty());
    });
}

#[test]
fn a_healthy_server_reports_its_workers() {
    watchdog(Duration::from_secs(30), || {
        let srv = server();
        let ctx = Context::connect(&srv.url(), USER, PASSWORD).unwrap();
        let status = ctx.worker_status().unwrap();
        assert_eq!(status.workers, 2);
        assert_eq!(ctx.url(), srv.url());
    });
}
