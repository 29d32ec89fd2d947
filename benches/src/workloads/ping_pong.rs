//! Workload 3: [`PING_PONG_PAIRS`] pairs of tasks, all running concurrently. In each pair,
//! task A sends a number to task B through a oneshot and B answers `n + 1` through a second
//! oneshot; [`ROUND_TRIPS`] round trips per pair, with fresh oneshots every round (each ping
//! carries the receiver of the next round's ping channel).

use super::{PING_PONG_PAIRS, ROUND_TRIPS};
use crate::Sample;
use futures::channel::oneshot;
use std::future::Future;
use std::time::Instant;

/// One ping from A to B.
struct Ping {
    value: u64,
    reply: oneshot::Sender<u64>,
    /// Where the next ping will arrive; `None` after the last round.
    next: Option<oneshot::Receiver<Ping>>,
}

/// Task A: sends `ROUND_TRIPS` pings and checks each answer.
async fn side_a(mut to_b: oneshot::Sender<Ping>) {
    for round in 0..ROUND_TRIPS {
        let (reply, answer) = oneshot::channel();
        let (next_tx, next) = if round + 1 < ROUND_TRIPS {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let ping = Ping {
            value: round,
            reply,
            next,
        };
        if to_b.send(ping).is_err() {
            panic!("ping-pong: B went away");
        }
        assert_eq!(
            answer.await.expect("ping-pong: B dropped the reply"),
            round + 1
        );
        match next_tx {
            Some(tx) => to_b = tx,
            None => return,
        }
    }
}

/// Task B: answers pings until told there is no next round.
async fn side_b(mut from_a: oneshot::Receiver<Ping>) {
    loop {
        let ping = from_a.await.expect("ping-pong: A went away");
        ping.reply
            .send(ping.value + 1)
            .expect("ping-pong: A dropped the reply channel");
        match ping.next {
            Some(rx) => from_a = rx,
            None => return,
        }
    }
}

/// The two task bodies of one pair, connected by the first oneshot.
fn pair() -> (impl Future<Output = ()>, impl Future<Output = ()>) {
    let (tx, rx) = oneshot::channel();
    (side_a(tx), side_b(rx))
}

pub fn taskloop(rt: &taskloop::Runtime) -> Sample {
    rt.block_on(async {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(2 * PING_PONG_PAIRS);
        for _ in 0..PING_PONG_PAIRS {
            let (a, b) = pair();
            handles.push(taskloop::spawn(a));
            handles.push(taskloop::spawn(b));
        }
        for h in handles {
            h.await.expect("taskloop task failed");
        }
        Sample::time(start.elapsed())
    })
}

pub fn tokio(rt: &tokio::runtime::Runtime) -> Sample {
    rt.block_on(async {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(2 * PING_PONG_PAIRS);
        for _ in 0..PING_PONG_PAIRS {
            let (a, b) = pair();
            handles.push(tokio::spawn(a));
            handles.push(tokio::spawn(b));
        }
        for h in handles {
            h.await.expect("tokio task failed");
        }
        Sample::time(start.elapsed())
    })
}

pub fn smol(ex: &smol::LocalExecutor<'_>) -> Sample {
    smol::block_on(ex.run(async {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(2 * PING_PONG_PAIRS);
        for _ in 0..PING_PONG_PAIRS {
            let (a, b) = pair();
            handles.push(ex.spawn(a));
            handles.push(ex.spawn(b));
        }
        for h in handles {
            h.await;
        }
        Sample::time(start.elapsed())
    }))
}
