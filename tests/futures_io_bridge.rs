//! The `futures-io` feature: the sockets work with the `futures` crate's I/O utilities.
#![cfg(feature = "futures-io")]

mod util;

use futures::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use futures::StreamExt;
use taskloop::net::{TcpListener, TcpStream, UnixStream};
use util::{rt, watchdog};

#[test]
fn futures_io_copy_moves_a_stream_through_a_tcp_connection() {
    watchdog(|| {
        rt().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let data: Vec<u8> = (0..1 << 20).map(|i| (i % 253) as u8).collect();
            let sent = data.clone();
            let client = taskloop::spawn(async move {
                let mut s = TcpStream::connect(addr).await.unwrap();
                // futures::io::copy from an in-memory reader into the socket
                let n = futures::io::copy(&mut sent.as_slice(), &mut s)
                    .await
                    .unwrap();
                s.close().await.unwrap(); // futures-io's close: shut the write side
                n
            });
            let (conn, _) = listener.accept().await.unwrap();
            let mut received = Vec::new();
            let n = futures::io::copy(conn, &mut received).await.unwrap();
            assert_eq!(client.await.unwrap(), n);
            assert!(received == data);
        })
    });
}

#[test]
fn futures_buf_reader_reads_lines_from_a_split_half() {
    watchdog(|| {
        rt().block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            let (_, mut w) = a.into_split();
            let writer = taskloop::spawn(async move {
                futures::io::AsyncWriteExt::write_all(&mut w, b"one\ntwo\nthree\n")
                    .await
                    .unwrap();
            });
            let (r, _w) = b.into_split();
            let lines: Vec<String> = BufReader::new(r)
                .lines()
                .map(Result::unwrap)
                .take(3)
                .collect()
                .await;
            writer.await.unwrap();
            assert_eq!(lines, ["one", "two", "three"]);
        })
    });
}

#[test]
fn read_to_end_through_the_bridge_sees_the_peer_close() {
    watchdog(|| {
        rt().block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            AsyncWriteExt::write_all(&mut a, b"all of it")
                .await
                .unwrap();
            drop(a);
            let mut got = Vec::new();
            AsyncReadExt::read_to_end(&mut b, &mut got).await.unwrap();
            assert_eq!(got, b"all of it");
        })
    });
}
