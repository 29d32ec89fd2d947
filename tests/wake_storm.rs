//! Wakes from other threads are never lost: not under a storm of concurrent wakes, and
//! not when one arrives just as the loop goes to sleep.

mod util;

use std::future::{poll_fn, Future};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use futures::channel::oneshot;
use util::{rt, watchdog};

const TASKS: usize = 1_000;
const WAKER_THREADS: usize = 8;
const ROUNDS: u64 = 50;

/// What one task waits on: a round number other threads publish, and the task's waker
/// for them to call.
#[derive(Default)]
struct Gate {
    round: AtomicU64,
    waker: Mutex<Option<Waker>>,
}

/// Resolves once `gate` has reached `round`.
fn reach(gate: &Gate, round: u64) -> impl Future<Output = ()> + '_ {
    poll_fn(move |cx| {
        if gate.round.load(Ordering::Acquire) >= round {
            return Poll::Ready(());
        }
        *gate.waker.lock().unwrap() = Some(cx.waker().clone());
        // The round may have been published before the waker was stored: look again.
        if gate.round.load(Ordering::Acquire) >= round {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
}

/// Wakes every gate's task from this thread once per round, `ROUNDS` times.
fn waker_thread(gates: Arc<Vec<Gate>>, start: Arc<Barrier>) {
    for _ in 0..ROUNDS {
        start.wait();
        for gate in gates.iter() {
            let waker = gate.waker.lock().unwrap().clone();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// Publishes each round to every gate, lets the waker threads loose, and waits until
/// every task has seen the round before publishing the next.
fn coordinator(gates: Arc<Vec<Gate>>, start: Arc<Barrier>, seen: Arc<AtomicU64>) {
    for round in 1..=ROUNDS {
        for gate in gates.iter() {
            gate.round.store(round, Ordering::Release);
        }
        start.wait();
        while seen.load(Ordering::Acquire) < round * TASKS as u64 {
            thread::sleep(Duration::from_micros(100));
        }
    }
}

#[test]
fn every_task_sees_every_round_of_a_cross_thread_wake_storm() {
    let observed = watchdog(|| {
        let gates: Arc<Vec<Gate>> = Arc::new((0..TASKS).map(|_| Gate::default()).collect());
        let seen = Arc::new(AtomicU64::new(0));
        let start = Arc::new(Barrier::new(WAKER_THREADS + 1));
        let mut threads: Vec<_> = (0..WAKER_THREADS)
            .map(|_| {
                let (gates, start) = (gates.clone(), start.clone());
                thread::spawn(move || waker_thread(gates, start))
            })
            .collect();
        let (g, s, n) = (gates.clone(), start.clone(), seen.clone());
        threads.push(thread::spawn(move || coordinator(g, s, n)));

        let observed = rt().block_on(async {
            let tasks = (0..TASKS).map(|i| {
                let (gates, seen) = (gates.clone(), seen.clone());
                taskloop::spawn(async move {
                    let mut rounds_observed = 0;
                    for round in 1..=ROUNDS {
                        reach(&gates[i], round).await;
                        rounds_observed += 1;
                        seen.fetch_add(1, Ordering::AcqRel);
                    }
                    rounds_observed
                })
            });
            taskloop::join_all(tasks).await
        });
        for t in threads {
            t.join().unwrap();
        }
        observed
    });
    assert_eq!(observed.len(), TASKS);
    assert!(observed.into_iter().all(|rounds| rounds == Ok(ROUNDS)));
}

/// Sends `i` from a new thread after a pause of a few tens of microseconds (varied, so
/// that some sends land while the loop is still busy and some as it goes to sleep).
fn send_from_thread(i: u64) -> (oneshot::Receiver<u64>, thread::JoinHandle<()>) {
    let (tx, rx) = oneshot::channel();
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_micros(i % 7 * 30));
        tx.send(i).unwrap();
    });
    (rx, sender)
}

#[test]
fn a_wake_from_another_thread_interrupts_the_sleeping_loop_in_block_on() {
    watchdog(|| {
        rt().block_on(async {
            for i in 0..500 {
                let (rx, sender) = send_from_thread(i);
                assert_eq!(rx.await, Ok(i));
                sender.join().unwrap();
            }
        });
    });
}

#[test]
fn a_wake_from_another_thread_interrupts_the_sleeping_loop_in_a_task() {
    watchdog(|| {
        rt().block_on(async {
            for i in 0..500 {
                let (rx, sender) = send_from_thread(i);
                let task = taskloop::spawn(rx);
                assert_eq!(task.await.unwrap(), Ok(i));
                sender.join().unwrap();
            }
        });
    });
}
