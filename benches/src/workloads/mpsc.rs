//! Workload 6: mpsc throughput. [`MPSC_PRODUCERS`] producer tasks each send
//! [`MPSC_MESSAGES`] numbers into one bounded channel of capacity [`MPSC_CAPACITY`]; one
//! consumer task receives and sums them all. The capacity is small next to the message
//! count, so producers keep filling the channel and wait for room: the run measures
//! sends, receives and the hand-off of waiting senders, with backpressure.

use super::{MPSC_CAPACITY, MPSC_MESSAGES, MPSC_PRODUCERS};
use crate::Sample;
use std::time::Instant;

/// The sum the consumer must see.
fn expected() -> u64 {
    let n = (MPSC_PRODUCERS * MPSC_MESSAGES) as u64;
    n * (n - 1) / 2
}

fn value(producer: usize, i: usize) -> u64 {
    (producer * MPSC_MESSAGES + i) as u64
}

pub fn taskloop(rt: &taskloop::Runtime) -> Sample {
    use taskloop::sync::mpsc;
    rt.block_on(async {
        let start = Instant::now();
        let (tx, mut rx) = mpsc::channel(MPSC_CAPACITY);
        for p in 0..MPSC_PRODUCERS {
            let tx = tx.clone();
            taskloop::spawn(async move {
                for i in 0..MPSC_MESSAGES {
                    tx.send(value(p, i)).await.expect("taskloop receiver gone");
                }
            });
        }
        drop(tx);
        let mut sum = 0;
        while let Some(v) = rx.recv().await {
            sum += v;
        }
        assert_eq!(sum, expected());
        Sample::time(start.elapsed())
    })
}

pub fn tokio(rt: &tokio::runtime::Runtime) -> Sample {
    use tokio::sync::mpsc;
    rt.block_on(async {
        let start = Instant::now();
        let (tx, mut rx) = mpsc::channel(MPSC_CAPACITY);
        for p in 0..MPSC_PRODUCERS {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..MPSC_MESSAGES {
                    tx.send(value(p, i)).await.expect("tokio receiver gone");
                }
            });
        }
        drop(tx);
        let mut sum = 0;
        while let Some(v) = rx.recv().await {
            sum += v;
        }
        assert_eq!(sum, expected());
        Sample::time(start.elapsed())
    })
}

pub fn smol(ex: &smol::LocalExecutor<'_>) -> Sample {
    smol::block_on(ex.run(async {
        let start = Instant::now();
        let (tx, rx) = smol::channel::bounded(MPSC_CAPACITY);
        for p in 0..MPSC_PRODUCERS {
            let tx = tx.clone();
            ex.spawn(async move {
                for i in 0..MPSC_MESSAGES {
                    tx.send(value(p, i)).await.expect("smol receiver gone");
                }
            })
            .detach();
        }
        drop(tx);
        let mut sum = 0;
        while let Ok(v) = rx.recv().await {
            sum += v;
        }
        assert_eq!(sum, expected());
        Sample::time(start.elapsed())
    }))
}
