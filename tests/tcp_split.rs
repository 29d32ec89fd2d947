//! `TcpStream::split` / `into_split`: reading and writing one connection at once.

mod util;

use std::time::Duration;

use taskloop::io::{AsyncReadExt, AsyncWriteExt};
use taskloop::net::{TcpListener, TcpStream};
use util::{rt, watchdog};

/// A connected pair on loopback.
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = taskloop::spawn(async move { TcpStream::connect(addr).await.unwrap() });
    let (server, _) = listener.accept().await.unwrap();
    (client.await.unwrap(), server)
}

#[test]
fn borrowed_halves_read_and_write_at_once_in_one_task() {
    watchdog(|| {
        rt().block_on(async {
            let (mut a, b) = pair().await;
            let echo = taskloop::spawn(async move {
                let (mut r, mut w) = b.into_split();
                let mut buf = vec![0; 64 * 1024];
                loop {
                    let n = r.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    w.write_all(&buf[..n]).await.unwrap();
                }
            });
            // 4 MiB is more than the socket buffers hold: writing it all before reading
            // would deadlock, so the halves must make progress together.
            let data: Vec<u8> = (0..4 << 20).map(|i| (i % 251) as u8).collect();
            let (mut r, mut w) = a.split();
            let writer = async {
                w.write_all(&data).await.unwrap();
                w.shutdown().await.unwrap();
            };
            let reader = async {
                let mut back = Vec::new();
                let mut buf = vec![0; 64 * 1024];
                loop {
                    match r.read(&mut buf).await.unwrap() {
                        0 => return back,
                        n => back.extend_from_slice(&buf[..n]),
                    }
                }
            };
            let ((), back) = taskloop::join!(writer, reader);
            assert!(back == data, "echo of 4 MiB came back intact");
            echo.await.unwrap();
        })
    });
}

#[test]
fn owned_halves_live_in_separate_tasks() {
    watchdog(|| {
        rt().block_on(async {
            let (a, mut b) = pair().await;
            let (mut r, mut w) = a.into_split();
            let reader = taskloop::spawn(async move {
                let mut buf = [0; 5];
                r.read_exact(&mut buf).await.unwrap();
                buf
            });
            taskloop::sleep(Duration::from_millis(5)).await;
            assert!(
                !reader.is_finished(),
                "the reader waits without blocking the loop"
            );
            b.write_all(b"hello").await.unwrap();
            assert_eq!(&reader.await.unwrap(), b"hello");
            w.write_all(b"back").await.unwrap();
            drop(w); // shuts the write direction down
            let mut got = Vec::new();
            let mut buf = [0; 16];
            loop {
                match b.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
            assert_eq!(got, b"back");
        })
    });
}
