//! TCP on the loop: an echo server with many concurrent clients, big messages that fill
//! the socket buffers, refused connections and peer close.

mod util;

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::rc::Rc;
use std::thread;

use taskloop::net::{TcpListener, TcpStream};
use util::{echo_client, echo_server, message, rt, watchdog};

const CLIENTS: u64 = 200;
/// Clients connect in waves smaller than the listen backlog (128 for std's listeners):
/// a connection that finds the backlog full is only retried by the OS a second later.
const WAVE: u64 = 50;
const MIB: usize = 1024 * 1024;

/// The messages client `c` sends: sizes from 1 byte to 64 KiB, and for a few clients
/// one of over 2 MiB, which cannot pass through the socket buffers in one go.
fn messages_of(c: u64) -> Vec<Vec<u8>> {
    let mut sizes = vec![1, 100 + c as usize, 4096, 65_536 - c as usize, 17];
    if c % 50 == 0 {
        sizes.insert(2, 2 * MIB + 3);
    }
    sizes
        .into_iter()
        .enumerate()
        .map(|(i, len)| message(c * 100 + i as u64, len))
        .collect()
}

#[test]
fn an_echo_server_serves_200_concurrent_clients() {
    let (echoed, expected) = watchdog(|| {
        rt().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let accepted = Rc::new(Cell::new(0));
            let server = taskloop::spawn(echo_server(listener, CLIENTS as usize, accepted.clone()));
            let mut clients = Vec::new();
            for c in 0..CLIENTS {
                clients.push(taskloop::spawn(echo_client(addr, messages_of(c))));
                if (c + 1) % WAVE == 0 {
                    while accepted.get() < clients.len() {
                        taskloop::yield_now().await;
                    }
                }
            }
            for (c, client) in clients.into_iter().enumerate() {
                client
                    .await
                    .unwrap()
                    .unwrap_or_else(|e| panic!("client {c}: {e}"));
            }
            let expected: usize = (0..CLIENTS).flat_map(messages_of).map(|m| m.len()).sum();
            (server.await.unwrap().unwrap(), expected as u64)
        })
    });
    assert_eq!(echoed, expected, "the server echoed every byte");
}

#[test]
fn an_echo_server_on_the_loop_serves_clients_on_other_threads() {
    watchdog(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<_> = (0..8u64)
            .map(|c| {
                thread::spawn(move || -> io::Result<()> {
                    let mut stream = std::net::TcpStream::connect(addr)?;
                    let msg = message(c, 1000 + c as usize);
                    stream.write_all(&msg)?;
                    stream.shutdown(Shutdown::Write)?;
                    let mut back = Vec::new();
                    stream.read_to_end(&mut back)?;
                    assert!(back == msg, "client {c} got a different echo");
                    Ok(())
                })
            })
            .collect();
        let echoed = rt()
            .block_on(echo_server(listener, 8, Rc::default()))
            .unwrap();
        for client in clients {
            client.join().unwrap().unwrap();
        }
        assert_eq!(echoed, (0..8).map(|c| 1000 + c).sum::<u64>());
    });
}

#[test]
fn a_write_larger_than_the_socket_buffers_waits_without_blocking_the_loop() {
    const SIZE: usize = 16 * MIB;
    watchdog(|| {
        rt().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let writer = taskloop::spawn(async move {
                let (mut conn, _) = listener.accept().await?;
                conn.write_all(&message(7, SIZE)).await
            });
            let mut reader = TcpStream::connect(addr).await.unwrap();
            // Nobody reads yet, so the writer gets WouldBlock and waits; meanwhile this
            // task keeps running.
            for _ in 0..100 {
                taskloop::yield_now().await;
            }
            assert!(
                !writer.is_finished(),
                "16 MiB cannot fit in the socket buffers"
            );
            let mut received = vec![0; SIZE];
            reader.read_exact(&mut received).await.unwrap();
            writer.await.unwrap().unwrap();
            assert!(received == message(7, SIZE), "the big write arrived intact");
        });
    });
}

#[test]
fn connecting_to_a_closed_port_fails_with_connection_refused() {
    let err = watchdog(|| {
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        }; // dropped: nothing listens there any more
        rt().block_on(TcpStream::connect(addr)).unwrap_err()
    });
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
}

#[test]
fn read_returns_zero_once_the_peer_closes() {
    let (first, after_close) = watchdog(|| {
        rt().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let client = taskloop::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.write_all(b"bye").await.unwrap();
                // dropped here: the connection closes
            });
            let (mut conn, _) = listener.accept().await.unwrap();
            client.await.unwrap();
            let mut buf = [0; 16];
            let mut first = Vec::new();
            while first.len() < 3 {
                let n = conn.read(&mut buf).await.unwrap();
                assert_ne!(n, 0, "the data comes before the close");
                first.extend_from_slice(&buf[..n]);
            }
            (first, conn.read(&mut buf).await.unwrap())
        })
    });
    assert_eq!(first, b"bye");
    assert_eq!(after_close, 0);
}
