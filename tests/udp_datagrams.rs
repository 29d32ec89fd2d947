//! `net::UdpSocket`: datagrams on loopback, addressed and connected.

mod util;

use std::rc::Rc;

use taskloop::net::UdpSocket;
use util::{rt, watchdog};

#[test]
fn datagrams_arrive_whole_with_their_sender_address() {
    watchdog(|| {
        rt().block_on(async {
            let server = Rc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
            let addr = server.local_addr().unwrap();
            let echo = {
                let server = server.clone();
                taskloop::spawn(async move {
                    let mut buf = [0; 64];
                    for _ in 0..3 {
                        let (n, from) = server.recv_from(&mut buf).await.unwrap();
                        server.send_to(&buf[..n], from).await.unwrap();
                    }
                })
            };
            let client = UdpSocket::bind("127.0.0.1:0").unwrap();
            client.connect(addr).await.unwrap();
            assert_eq!(client.peer_addr().unwrap(), addr);
            for msg in [&b"one"[..], b"two two", b""] {
                client.send(msg).await.unwrap();
                let mut buf = [0; 64];
                let n = client.recv(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], msg);
            }
            echo.await.unwrap();
        })
    });
}

#[test]
fn a_receiver_waits_until_a_datagram_comes() {
    watchdog(|| {
        rt().block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").unwrap();
            let b_addr = b.local_addr().unwrap();
            let receiver = taskloop::spawn(async move {
                let mut buf = [0; 8];
                let (n, _) = b.recv_from(&mut buf).await.unwrap();
                buf[..n].to_vec()
            });
            taskloop::yield_now().await;
            assert!(!receiver.is_finished());
            a.send_to(b"late", ("127.0.0.1", b_addr.port()))
                .await
                .unwrap();
            assert_eq!(receiver.await.unwrap(), b"late");
        })
    });
}
