//! `sync::oneshot`: one value, from any thread; each end sees the other go away.

mod util;

use std::time::Duration;

use futures::poll;
use taskloop::sync::oneshot::{self, TryRecvError};
use util::{rt, watchdog};

#[test]
fn a_value_sent_from_another_thread_wakes_the_receiving_task() {
    let got = watchdog(|| {
        rt().block_on(async {
            let (tx, rx) = oneshot::channel();
            let t = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                tx.send(7u32).unwrap();
            });
            let v = rx.await;
            t.join().unwrap();
            v
        })
    });
    assert_eq!(got, Ok(7));
}

#[test]
fn dropping_the_sender_ends_the_wait_with_an_error() {
    let got = watchdog(|| {
        rt().block_on(async {
            let (tx, rx) = oneshot::channel::<u8>();
            taskloop::spawn(async move {
                taskloop::yield_now().await;
                drop(tx);
            });
            rx.await
        })
    });
    assert_eq!(got.unwrap_err().to_string(), "channel closed");
}

#[test]
fn a_send_to_a_closed_or_dropped_receiver_returns_the_value() {
    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(String::from("back")), Err(String::from("back")));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, rx) = oneshot::channel();
    drop(rx);
    assert_eq!(tx.send(5), Err(5));
}

#[test]
fn try_recv_tells_empty_from_closed() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn a_sender_waiting_in_closed_wakes_when_the_receiver_goes() {
    watchdog(|| {
        rt().block_on(async {
            let (mut tx, rx) = oneshot::channel::<()>();
            let waiter = taskloop::spawn(async move {
                tx.closed().await;
                tx.is_closed()
            });
            taskloop::yield_now().await;
            assert!(!waiter.is_finished());
            drop(rx);
            assert!(waiter.await.unwrap());
        })
    });
}

#[test]
fn a_receive_cancelled_in_a_select_leaves_the_value_in_the_channel() {
    watchdog(|| {
        rt().block_on(async {
            let (tx, mut rx) = oneshot::channel();
            assert!(poll!(&mut rx).is_pending()); // polled, then abandoned
            tx.send("kept").unwrap();
            assert_eq!(rx.await, Ok("kept"));
        })
    });
}

#[test]
fn blocking_recv_waits_on_a_plain_thread() {
    let (tx, rx) = oneshot::channel();
    let waiter = std::thread::spawn(move || rx.blocking_recv());
    rt().block_on(async move {
        taskloop::sleep(Duration::from_millis(5)).await;
        tx.send(3).unwrap();
    });
    assert_eq!(waiter.join().unwrap(), Ok(3));
}
