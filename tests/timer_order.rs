//! Timers fire in deadline order and never early; a dropped `Sleep` leaves no timer
//! behind; `sleep_until` and `Sleep::reset` move deadlines as documented.

mod util;

use std::cell::RefCell;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use taskloop::Runtime;
use util::{rt, watchdog};

const HOUR: Duration = Duration::from_secs(3600);

/// How far ahead the order tests put their first deadline, so that every timer is set
/// (in the loop's first turn) before any is due. Only a stall of the loop this long in
/// its first microseconds could blur the order.
const LEAD: Duration = Duration::from_millis(100);

/// The number of pending timers, as `Runtime`'s `Debug` output reports it.
fn timers(rt: &Runtime) -> String {
    let debug = format!("{rt:?}");
    let start = debug.find("timers: ").expect("Debug shows the timer count");
    debug[start..].split(',').next().unwrap().to_string()
}

#[test]
fn timers_fire_in_deadline_order_whatever_the_spawn_order() {
    let (fired, expected) = watchdog(|| {
        let start = Instant::now() + LEAD;
        // 0..40 shuffled: 17 is coprime with 40.
        let offsets: Vec<u64> = (0..40).map(|i| i * 17 % 40).collect();
        let fired = Rc::new(RefCell::new(Vec::new()));
        rt().block_on(async {
            let tasks = offsets.iter().map(|&ms| {
                let fired = fired.clone();
                taskloop::spawn(async move {
                    taskloop::sleep_until(start + Duration::from_millis(ms)).await;
                    fired.borrow_mut().push(ms);
                })
            });
            taskloop::join_all(tasks).await;
        });
        let fired = fired.borrow().clone();
        (fired, (0..40).collect::<Vec<u64>>())
    });
    assert_eq!(fired, expected);
}

#[test]
fn timers_with_the_same_deadline_fire_in_the_order_they_were_set() {
    let fired = watchdog(|| {
        let deadline = Instant::now() + LEAD;
        let fired = Rc::new(RefCell::new(Vec::new()));
        rt().block_on(async {
            let tasks = (0..20).map(|i| {
                let fired = fired.clone();
                taskloop::spawn(async move {
                    taskloop::sleep_until(deadline).await;
                    fired.borrow_mut().push(i);
                })
            });
            taskloop::join_all(tasks).await;
        });
        let fired = fired.borrow().clone();
        fired
    });
    assert_eq!(fired, (0..20).collect::<Vec<_>>());
}

#[test]
fn a_sleep_never_ends_before_its_duration() {
    let slept = watchdog(|| {
        rt().block_on(async {
            let tasks = (0..30u64).map(|i| {
                taskloop::spawn(async move {
                    let duration = Duration::from_micros(i * 397);
                    let start = Instant::now();
                    taskloop::sleep(duration).await;
                    (start.elapsed(), duration)
                })
            });
            taskloop::join_all(tasks).await
        })
    });
    for result in slept {
        let (elapsed, duration) = result.unwrap();
        assert!(
            elapsed >= duration,
            "woke after {elapsed:?}, asked {duration:?}"
        );
    }
}

#[test]
fn dropping_a_sleep_removes_its_timer() {
    watchdog(|| {
        let rt = rt();
        rt.block_on(async {
            let mut long = pin!(taskloop::sleep(HOUR));
            assert_eq!(futures::poll!(long.as_mut()), Poll::Pending);
        });
        assert_eq!(timers(&rt), "timers: 0");

        // A long sleep that loses a race is dropped at once, so the loop does not wait
        // for it (the watchdog would catch that).
        let winner = rt.block_on(taskloop::select(
            taskloop::sleep(HOUR),
            taskloop::sleep(Duration::from_millis(1)),
        ));
        assert_eq!(winner, taskloop::Either::Right(()));
        assert_eq!(timers(&rt), "timers: 0");
    });
}

#[test]
fn a_pending_sleep_keeps_exactly_one_timer() {
    watchdog(|| {
        let rt = rt();
        let handle = rt.spawn(taskloop::sleep(HOUR));
        rt.block_on(taskloop::yield_now());
        assert_eq!(timers(&rt), "timers: 1");
        handle.abort();
        assert!(rt.block_on(handle).unwrap_err().is_cancelled());
        assert_eq!(timers(&rt), "timers: 0");
    });
}

#[test]
fn sleep_until_a_past_instant_is_ready_at_once() {
    watchdog(|| {
        rt().block_on(async {
            let past = Instant::now() - Duration::from_millis(10);
            assert_eq!(futures::poll!(taskloop::sleep_until(past)), Poll::Ready(()));
            assert_eq!(
                futures::poll!(taskloop::sleep(Duration::ZERO)),
                Poll::Ready(())
            );
        });
    });
}

#[test]
fn reset_to_an_earlier_deadline_ends_the_sleep_then() {
    watchdog(|| {
        let rt = rt();
        rt.block_on(async {
            let mut sleep = taskloop::sleep(HOUR);
            assert_eq!(futures::poll!(&mut sleep), Poll::Pending);
            let new_deadline = Instant::now() + Duration::from_millis(5);
            sleep.reset(new_deadline);
            assert_eq!(sleep.deadline(), new_deadline);
            sleep.await;
            assert!(Instant::now() >= new_deadline);
        });
        assert_eq!(timers(&rt), "timers: 0", "the hour-long timer is gone");
    });
}

#[test]
fn reset_to_a_later_deadline_makes_the_sleep_wait_longer() {
    watchdog(|| {
        rt().block_on(async {
            let mut sleep = taskloop::sleep(Duration::from_millis(1));
            assert_eq!(futures::poll!(&mut sleep), Poll::Pending);
            let new_deadline = Instant::now() + Duration::from_millis(20);
            sleep.reset(new_deadline);
            sleep.await;
            assert!(Instant::now() >= new_deadline);
        });
    });
}

#[test]
fn reset_after_the_sleep_ended_makes_it_pending_again() {
    watchdog(|| {
        rt().block_on(async {
            let mut sleep = taskloop::sleep(Duration::ZERO);
            (&mut sleep).await;
            assert!(sleep.is_elapsed());
            sleep.reset(Instant::now() + Duration::from_millis(5));
            assert!(!sleep.is_elapsed());
            assert_eq!(futures::poll!(&mut sleep), Poll::Pending);
            sleep.await;
        });
    });
}
