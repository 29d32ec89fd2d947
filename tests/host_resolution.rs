//! Host names are resolved on the blocking pool: `lookup_host`, `connect("localhost:..")`.

mod util;

use taskloop::net::{lookup_host, TcpListener, TcpStream};
use util::{rt, watchdog};

#[test]
fn connect_resolves_a_host_name_and_reaches_the_listener() {
    watchdog(|| {
        rt().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let accept = taskloop::spawn(async move {
                let first = listener.accept().await.is_ok();
                first && listener.accept().await.is_ok()
            });
            let stream = TcpStream::connect(format!("localhost:{port}"))
                .await
                .unwrap();
            assert!(stream.peer_addr().unwrap().ip().is_loopback());
            let stream = TcpStream::connect(("localhost", port)).await.unwrap();
            assert_eq!(stream.peer_addr().unwrap().port(), port);
            assert!(accept.await.unwrap());
        })
    });
}

#[test]
fn lookup_host_finds_loopback_for_localhost_and_fails_for_an_invalid_name() {
    watchdog(|| {
        rt().block_on(async {
            let addrs: Vec<_> = lookup_host("localhost:5000").await.unwrap().collect();
            assert!(!addrs.is_empty());
            assert!(addrs
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 5000));
            assert!(lookup_host("no-such-host.invalid:1").await.is_err());
        })
    });
}

#[test]
fn other_tasks_run_while_a_name_is_looked_up() {
    watchdog(|| {
        rt().block_on(async {
            let ticker = taskloop::spawn(async {
                taskloop::yield_now().await;
                "ran"
            });
            let lookup = lookup_host("localhost:1");
            let (addrs, ticked) = taskloop::join!(lookup, ticker);
            assert!(addrs.is_ok());
            assert_eq!(ticked.unwrap(), "ran");
        })
    });
}
