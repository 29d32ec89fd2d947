//! `net::UnixListener` / `UnixStream`: connections over a socket file in a temp dir.

mod util;

use std::path::PathBuf;

use taskloop::io::{AsyncReadExt, AsyncWriteExt};
use taskloop::net::{UnixListener, UnixStream};
use util::{rt, watchdog};

/// A fresh directory for this test's socket file, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("taskloop-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn clients_connect_by_path_and_get_their_bytes_echoed() {
    watchdog(|| {
        let dir = TempDir::new("unix-echo");
        let path = dir.0.join("echo.sock");
        rt().block_on(async move {
            let listener = UnixListener::bind(&path).unwrap();
            let server = taskloop::spawn(async move {
                for _ in 0..3 {
                    let (conn, _) = listener.accept().await.unwrap();
                    taskloop::spawn(async move {
                        let (mut r, mut w) = conn.into_split();
                        let mut buf = [0; 1024];
                        loop {
                            let n = r.read(&mut buf).await.unwrap();
                            if n == 0 {
                                break;
                            }
                            w.write_all(&buf[..n]).await.unwrap();
                        }
                    });
                }
            });
            let clients: Vec<_> = (0..3u8)
                .map(|i| {
                    let path = path.clone();
                    taskloop::spawn(async move {
                        let mut s = UnixStream::connect(&path).await.unwrap();
                        let msg = vec![i; 10_000];
                        s.write_all(&msg).await.unwrap();
                        let mut back = vec![0; msg.len()];
                        s.read_exact(&mut back).await.unwrap();
                        back == msg
                    })
                })
                .collect();
            for ok in taskloop::join_all(clients).await {
                assert!(ok.unwrap());
            }
            server.await.unwrap();
        });
    });
}

#[test]
fn connecting_to_a_path_nobody_listens_on_fails() {
    let dir = TempDir::new("unix-none");
    let err = rt().block_on(UnixStream::connect(dir.0.join("nobody.sock")));
    assert!(err.is_err());
}

#[test]
fn a_pair_is_connected_and_dropping_the_write_half_ends_the_peer_stream() {
    watchdog(|| {
        rt().block_on(async {
            let (a, mut b) = UnixStream::pair().unwrap();
            let (_read, mut write) = a.into_split();
            write.write_all(b"bye").await.unwrap();
            drop(write);
            let mut got = Vec::new();
            let mut buf = [0; 8];
            loop {
                match b.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
            assert_eq!(got, b"bye");
        })
    });
}
