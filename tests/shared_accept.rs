//! Several tasks may accept on one shared listener: every waiting task is woken when a
//! connection arrives, and each connection goes to exactly one of them.

mod util;

use std::rc::Rc;

use taskloop::net::{TcpListener, TcpStream};
use util::{rt, watchdog};

#[test]
fn tasks_accepting_on_one_shared_listener_all_get_a_connection() {
    watchdog(|| {
        let rt = rt();
        rt.block_on(async {
            let listener = Rc::new(TcpListener::bind("127.0.0.1:0").unwrap());
            let addr = listener.local_addr().unwrap();
            let acceptors: Vec<_> = (0..4)
                .map(|_| {
                    let l = listener.clone();
                    taskloop::spawn(async move { l.accept().await.map(|(_, peer)| peer) })
                })
                .collect();
            taskloop::yield_now().await; // let every acceptor register its waker
            let mut clients = Vec::new();
            for _ in 0..4 {
                clients.push(TcpStream::connect(addr).await.unwrap());
            }
            let mut peers: Vec<_> = taskloop::join_all(acceptors)
                .await
                .into_iter()
                .map(|r| r.unwrap().unwrap())
                .collect();
            peers.sort();
            peers.dedup();
            assert_eq!(peers.len(), 4, "each connection went to a different task");
        });
    });
}
