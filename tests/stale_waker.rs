//! A waker may outlive its task. Waking it then does nothing, even after a new task has
//! taken over the finished task's slot.

mod util;

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::thread;

use util::{rt, watchdog};

/// A task that counts its polls and waits until `release` is set and it is woken.
fn counted_task(polls: Rc<Cell<u32>>, release: Rc<Cell<bool>>, waker: Rc<RefCell<Option<Waker>>>) {
    drop(taskloop::spawn(poll_fn(move |cx| {
        polls.set(polls.get() + 1);
        if release.get() {
            return Poll::Ready(());
        }
        *waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    })));
}

#[test]
fn waking_a_finished_task_does_not_poll_the_task_that_reused_its_slot() {
    let (polls_before_release, polls_after_release) = watchdog(|| {
        rt().block_on(async {
            // A short task whose waker outlives it.
            let old_waker = taskloop::spawn(poll_fn(|cx| Poll::Ready(cx.waker().clone())))
                .await
                .unwrap();

            // A new task, spawned once the old one's slot is free.
            let (polls, release, waker) = (Rc::default(), Rc::default(), Rc::default());
            counted_task(Rc::clone(&polls), Rc::clone(&release), Rc::clone(&waker));
            taskloop::yield_now().await;
            assert_eq!(polls.get(), 1);

            // Wake the finished task from this thread and from others, many times.
            for _ in 0..100 {
                old_waker.wake_by_ref();
            }
            let remote = old_waker.clone();
            thread::spawn(move || (0..100).for_each(|_| remote.wake_by_ref()))
                .join()
                .unwrap();
            for _ in 0..10 {
                taskloop::yield_now().await;
            }
            let before = polls.get();

            release.set(true);
            waker.borrow_mut().take().unwrap().wake();
            while polls.get() == before {
                taskloop::yield_now().await;
            }
            (before, polls.get())
        })
    });
    assert_eq!(
        polls_before_release, 1,
        "only its own wake may poll the new task"
    );
    assert_eq!(polls_after_release, 2);
}

#[test]
fn a_task_woken_as_it_finishes_does_not_cause_a_poll_of_its_slots_next_owner() {
    let polls = watchdog(|| {
        rt().block_on(async {
            let (polls, release, waker) = (Rc::default(), Rc::default(), Rc::default());
            // Wakes itself and finishes in the same poll: its id is still in the ready
            // queue when it is gone.
            let finisher = taskloop::spawn(poll_fn(|cx| {
                cx.waker().wake_by_ref();
                Poll::Ready(())
            }));
            // Runs right after it, and spawns into the slot it just freed.
            let (p, r, w) = (Rc::clone(&polls), Rc::clone(&release), Rc::clone(&waker));
            let spawner = taskloop::spawn(async move { counted_task(p, r, w) });
            finisher.await.unwrap();
            spawner.await.unwrap();
            for _ in 0..10 {
                taskloop::yield_now().await;
            }
            let polls_seen = polls.get();
            release.set(true);
            waker.borrow_mut().take().unwrap().wake();
            polls_seen
        })
    });
    assert_eq!(
        polls, 1,
        "the stale ready-queue entry must not poll the new task"
    );
}
