//! Futures from other crates (here `futures`) run on the loop: their wakers are the
//! loop's wakers, whether they are called on the loop thread or elsewhere.

mod util;

use std::thread;
use std::time::Duration;

use futures::channel::{mpsc, oneshot};
use futures::future::{self, Either};
use futures::stream::{FuturesUnordered, StreamExt};
use futures::SinkExt;
use util::{rt, watchdog};

#[test]
fn a_oneshot_carries_a_value_between_tasks() {
    let got = watchdog(|| {
        rt().block_on(async {
            let (tx, rx) = oneshot::channel();
            let receiver = taskloop::spawn(rx);
            taskloop::spawn(async move {
                taskloop::sleep(Duration::from_millis(1)).await;
                tx.send("hello").unwrap();
            });
            receiver.await.unwrap()
        })
    });
    assert_eq!(got, Ok("hello"));
}

#[test]
fn a_oneshot_carries_a_value_from_another_thread() {
    let got = watchdog(|| {
        rt().block_on(async {
            let (tx, rx) = oneshot::channel();
            let sender = thread::spawn(move || tx.send(99u32).unwrap());
            let got = taskloop::spawn(rx).await.unwrap();
            sender.join().unwrap();
            got
        })
    });
    assert_eq!(got, Ok(99));
}

#[test]
fn an_mpsc_stream_collects_messages_from_tasks() {
    let mut got = watchdog(|| {
        rt().block_on(async {
            let (tx, rx) = mpsc::channel::<u32>(4); // small: senders wait for room
            for task in 0..10 {
                let mut tx = tx.clone();
                taskloop::spawn(async move {
                    for i in 0..20 {
                        tx.send(task * 100 + i).await.unwrap();
                    }
                });
            }
            drop(tx);
            rx.collect::<Vec<_>>().await
        })
    });
    got.sort_unstable();
    let expected: Vec<u32> = (0..10)
        .flat_map(|t| (0..20).map(move |i| t * 100 + i))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn an_mpsc_stream_collects_messages_from_other_threads() {
    let got = watchdog(|| {
        let (tx, rx) = mpsc::unbounded::<u64>();
        let senders: Vec<_> = (0..4)
            .map(|t| {
                let tx = tx.clone();
                thread::spawn(move || {
                    (0..1000).for_each(|i| tx.unbounded_send(t * 1000 + i).unwrap())
                })
            })
            .collect();
        drop(tx);
        let rt = rt();
        let got = rt.block_on(rt.spawn(rx.collect::<Vec<_>>())).unwrap();
        senders.into_iter().for_each(|s| s.join().unwrap());
        got
    });
    assert_eq!(got.len(), 4000);
    assert_eq!(got.iter().sum::<u64>(), (0..4000u64).sum::<u64>());
}

#[test]
fn futures_combinators_drive_taskloop_futures() {
    let (joined, selected, unordered) = watchdog(|| {
        rt().block_on(async {
            let joined =
                future::join(taskloop::spawn(async { 1 }), taskloop::spawn_blocking(|| 2)).await;
            let selected = future::select(
                taskloop::sleep(Duration::from_secs(3600)),
                Box::pin(async { "quick" }),
            )
            .await;
            // The losing sleep comes back too; the winner is on the right.
            let selected = match selected {
                Either::Right((winner, _sleep)) => Some(winner),
                Either::Left(((), _)) => None,
            };
            let unordered: FuturesUnordered<_> = (0..5u64)
                .map(|i| async move {
                    taskloop::sleep(Duration::from_millis(5 - i)).await;
                    i
                })
                .collect();
            let mut unordered: Vec<u64> = unordered.collect().await;
            unordered.sort_unstable();
            (joined, selected, unordered)
        })
    });
    assert_eq!((joined.0.unwrap(), joined.1.unwrap()), (1, 2));
    assert_eq!(selected, Some("quick"));
    assert_eq!(unordered, [0, 1, 2, 3, 4]);
}
