//! `interval`: the first tick is immediate, ticks follow the schedule, and each
//! missed-tick policy picks the documented next deadline after the loop fell behind.
//! The loop is made late on purpose (a blocking sleep on the loop thread), so the checks
//! hold however fast or slow the machine is.

mod util;

use std::time::{Duration, Instant};

use taskloop::{interval, MissedTickBehavior};
use util::{rt, watchdog};

const PERIOD: Duration = Duration::from_millis(20);

/// Ticks once, blocks the loop for 3.5 periods, then returns the next three ticks' scheduled
/// instants, the first tick's, and the instant the loop woke from its block.
fn late_ticks(behavior: MissedTickBehavior) -> (Instant, Instant, [Instant; 3]) {
    watchdog(move || {
        rt().block_on(async move {
            let mut every = interval(PERIOD);
            every.set_missed_tick_behavior(behavior);
            let first = every.tick().await;
            std::thread::sleep(PERIOD * 7 / 2); // the loop misses three ticks
            let woke = Instant::now();
            let next = [every.tick().await, every.tick().await, every.tick().await];
            (first, woke, next)
        })
    })
}

#[test]
fn ticks_follow_the_schedule_when_the_loop_keeps_up() {
    watchdog(|| {
        rt().block_on(async {
            let start = Instant::now();
            let mut every = interval(PERIOD);
            let first = every.tick().await;
            assert!(first - start < PERIOD, "the first tick is immediate");
            for k in 1..4u32 {
                let due = every.tick().await;
                assert_eq!(due, first + PERIOD * k);
                assert!(Instant::now() >= due, "never early");
            }
        })
    });
}

#[test]
fn burst_fires_the_missed_ticks_at_their_original_times() {
    let (first, _, next) = late_ticks(MissedTickBehavior::Burst);
    assert_eq!(
        next,
        [first + PERIOD, first + PERIOD * 2, first + PERIOD * 3]
    );
}

#[test]
fn delay_restarts_the_schedule_one_period_after_the_late_tick() {
    let (first, woke, next) = late_ticks(MissedTickBehavior::Delay);
    assert_eq!(next[0], first + PERIOD, "the overdue tick fires first");
    assert!(
        next[1] >= woke + PERIOD,
        "then one period after it was served"
    );
    assert!(next[2] >= next[1] + PERIOD); // equal unless that tick was late again
}

#[test]
fn skip_drops_the_missed_ticks_and_stays_on_the_original_grid() {
    let (first, woke, next) = late_ticks(MissedTickBehavior::Skip);
    assert_eq!(next[0], first + PERIOD, "the overdue tick fires first");
    let offset = (next[1] - first).as_nanos() % PERIOD.as_nanos();
    assert_eq!(offset, 0, "still on the grid");
    assert!(next[1] > woke, "missed ticks are skipped");
    assert_eq!((next[2] - first).as_nanos() % PERIOD.as_nanos(), 0);
    assert!(next[2] > next[1]);
}
