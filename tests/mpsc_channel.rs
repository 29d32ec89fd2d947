//! `sync::mpsc`: order, backpressure, the end of the stream, closing, other threads.

mod util;

use std::cell::RefCell;
use std::pin::pin;
use std::rc::Rc;

use futures::poll;
use taskloop::sync::mpsc::{self, error::TryRecvError, error::TrySendError};
use util::{rt, watchdog};

#[test]
fn values_arrive_in_order_and_recv_ends_when_every_sender_is_dropped() {
    let got = watchdog(|| {
        rt().block_on(async {
            let (tx, mut rx) = mpsc::channel(3);
            let tx2 = tx.clone();
            taskloop::spawn(async move {
                for i in 0..10 {
                    tx.send(i).await.unwrap();
                }
            });
            drop(tx2);
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            got
        })
    });
    assert_eq!(got, (0..10).collect::<Vec<_>>());
}

#[test]
fn a_full_bounded_channel_makes_senders_wait_until_the_receiver_makes_room() {
    watchdog(|| {
        rt().block_on(async {
            let (tx, mut rx) = mpsc::channel(2);
            tx.send(1).await.unwrap();
            tx.try_send(2).unwrap();
            assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
            let mut third = pin!(tx.send(3));
            assert!(poll!(third.as_mut()).is_pending());
            assert_eq!(rx.recv().await, Some(1));
            assert!(poll!(third.as_mut()).is_ready());
            assert_eq!(rx.try_recv(), Ok(2));
            assert_eq!(rx.try_recv(), Ok(3));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        })
    });
}

#[test]
fn waiting_senders_get_their_slot_in_the_order_they_asked() {
    let order = watchdog(|| {
        rt().block_on(async {
            let (tx, mut rx) = mpsc::channel(1);
            tx.send(usize::MAX).await.unwrap(); // full
            let order = Rc::new(RefCell::new(Vec::new()));
            for i in 0..5 {
                let (tx, order) = (tx.clone(), order.clone());
                taskloop::spawn(async move {
                    tx.send(i).await.unwrap();
                    order.borrow_mut().push(i);
                });
                taskloop::yield_now().await; // task i queues before task i + 1
            }
            drop(tx);
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            assert_eq!(got, [usize::MAX, 0, 1, 2, 3, 4]);
            let order = order.borrow().clone();
            order
        })
    });
    assert_eq!(order, [0, 1, 2, 3, 4]);
}

#[test]
fn closing_the_receiver_fails_waiting_and_later_sends_with_their_values_but_keeps_the_queue() {
    watchdog(|| {
        rt().block_on(async {
            let (tx, mut rx) = mpsc::channel(1);
            tx.send("queued").await.unwrap();
            let tx2 = tx.clone();
            let waiting = taskloop::spawn(async move { tx2.send("waiting").await });
            taskloop::yield_now().await;
            rx.close();
            assert_eq!(waiting.await.unwrap().unwrap_err().0, "waiting");
            assert!(tx.is_closed());
            assert!(matches!(
                tx.try_send("late"),
                Err(TrySendError::Closed("late"))
            ));
            assert_eq!(tx.send("later").await.unwrap_err().0, "later");
            assert_eq!(rx.recv().await, Some("queued"));
            assert_eq!(rx.recv().await, None);
        })
    });
}

#[test]
fn a_send_to_a_dropped_receiver_returns_the_value() {
    let (tx, rx) = mpsc::unbounded_channel();
    drop(rx);
    assert_eq!(tx.send(vec![1, 2]).unwrap_err().0, vec![1, 2]);
}

#[test]
fn producers_on_other_threads_feed_a_loop_task() {
    let total = watchdog(|| {
        rt().block_on(async {
            let (tx, mut rx) = mpsc::channel(8);
            let (utx, mut urx) = mpsc::unbounded_channel();
            let threads: Vec<_> = (0..4u64)
                .map(|t| {
                    let (tx, utx) = (tx.clone(), utx.clone());
                    std::thread::spawn(move || {
                        for i in 0..1_000 {
                            tx.blocking_send(t * 1_000 + i).unwrap();
                            utx.send(1u64).unwrap();
                        }
                    })
                })
                .collect();
            drop((tx, utx));
            let mut sum = 0;
            while let Some(v) = rx.recv().await {
                sum += v;
            }
            let mut count = 0;
            while let Some(one) = urx.recv().await {
                count += one;
            }
            for t in threads {
                t.join().unwrap();
            }
            (sum, count)
        })
    });
    assert_eq!(total, ((0..4_000).sum(), 4_000));
}

#[test]
fn a_cancelled_recv_takes_nothing_from_the_channel() {
    watchdog(|| {
        rt().block_on(async {
            let (tx, mut rx) = mpsc::unbounded_channel();
            {
                let mut recv = pin!(rx.recv());
                assert!(poll!(recv.as_mut()).is_pending());
            } // dropped while waiting
            tx.send(9).unwrap();
            assert_eq!(rx.recv().await, Some(9));
        })
    });
}

#[test]
fn blocking_recv_on_a_plain_thread_sees_the_end() {
    let (tx, mut rx) = mpsc::channel(1);
    let consumer = std::thread::spawn(move || {
        let mut n = 0;
        while rx.blocking_recv().is_some() {
            n += 1;
        }
        n
    });
    rt().block_on(async move {
        for i in 0..50 {
            tx.send(i).await.unwrap();
        }
    });
    assert_eq!(consumer.join().unwrap(), 50);
}
