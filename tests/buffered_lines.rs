//! `io::BufReader`: lines across packet boundaries, CRLF, long lines, cancel-safety.

mod util;

use std::time::Duration;

use taskloop::io::BufReader;
use taskloop::net::UnixStream;
use util::{rt, watchdog};

#[test]
fn lines_split_across_writes_come_back_whole_without_their_endings() {
    let lines = watchdog(|| {
        rt().block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            let writer = taskloop::spawn(async move {
                for chunk in [&b"al"[..], b"pha\nbe", b"ta\r\n\ngam", b"ma"] {
                    a.write_all(chunk).await.unwrap();
                    taskloop::sleep(Duration::from_millis(1)).await;
                }
            });
            let mut lines = BufReader::with_capacity(4, b).lines();
            let mut got = Vec::new();
            while let Some(line) = lines.next_line().await.unwrap() {
                got.push(line);
            }
            writer.await.unwrap();
            got
        })
    });
    assert_eq!(lines, ["alpha", "beta", "", "gamma"]);
}

#[test]
fn read_line_keeps_the_newline_and_returns_zero_at_the_end() {
    watchdog(|| {
        rt().block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            let long = "x".repeat(100_000);
            a.write_all(format!("{long}\nshort\n").as_bytes())
                .await
                .unwrap();
            drop(a);
            let mut reader = BufReader::with_capacity(16, b);
            let mut line = String::new();
            assert_eq!(reader.read_line(&mut line).await.unwrap(), 100_001);
            assert_eq!(line.len(), 100_001);
            line.clear();
            reader.read_line(&mut line).await.unwrap();
            assert_eq!(line, "short\n");
            assert_eq!(reader.read_line(&mut line).await.unwrap(), 0);
        })
    });
}

#[test]
fn a_read_line_cancelled_halfway_loses_nothing() {
    watchdog(|| {
        rt().block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            let mut lines = BufReader::new(b).lines();
            a.write_all(b"half a ").await.unwrap();
            let timed_out = taskloop::timeout(Duration::from_millis(5), lines.next_line()).await;
            assert!(timed_out.is_err(), "no newline yet");
            a.write_all(b"line\n").await.unwrap();
            assert_eq!(lines.next_line().await.unwrap().unwrap(), "half a line");
        })
    });
}

#[test]
fn invalid_utf8_is_an_error() {
    watchdog(|| {
        rt().block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            a.write_all(b"\xff\xfe\nok\n").await.unwrap();
            let mut lines = BufReader::new(b).lines();
            let err = lines.next_line().await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
            assert_eq!(lines.next_line().await.unwrap().unwrap(), "ok");
        })
    });
}
