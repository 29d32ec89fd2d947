//! `timeout`: the future's output if it is in time, `Elapsed` (and the future dropped)
//! if not.

mod util;

use std::time::{Duration, Instant};

use taskloop::Elapsed;
use util::{drop_flag, pending_until_dropped, rt, watchdog};

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_future_that_finishes_in_time_gives_its_output() {
    let out = watchdog(|| {
        rt().block_on(taskloop::timeout(HOUR, async {
            taskloop::sleep(Duration::from_millis(1)).await;
            "in time"
        }))
    });
    assert_eq!(out, Ok("in time"));
}

#[test]
fn a_ready_future_wins_even_with_a_zero_timeout() {
    let out = watchdog(|| rt().block_on(taskloop::timeout(Duration::ZERO, async { 3 })));
    assert_eq!(out, Ok(3));
}

#[test]
fn a_future_that_is_too_slow_gives_elapsed_after_the_duration() {
    let (out, waited) = watchdog(|| {
        let start = Instant::now();
        let duration = Duration::from_millis(10);
        let out = rt().block_on(taskloop::timeout(duration, taskloop::sleep(HOUR)));
        (out, start.elapsed() >= duration)
    });
    let err: Elapsed = out.expect_err("the sleep outlasts the timeout");
    assert_eq!(err.to_string(), "deadline has elapsed");
    assert!(waited, "a timeout never fires early");
}

#[test]
fn the_inner_future_is_dropped_when_the_time_is_up() {
    watchdog(|| {
        let (flag, dropped) = drop_flag();
        let rt = rt();
        let out = rt.block_on(async {
            let result = taskloop::timeout(Duration::from_millis(5), pending_until_dropped(flag));
            let result = result.await;
            assert!(dropped.get(), "dropped by the time timeout returns");
            result
        });
        assert!(out.is_err());
        assert!(
            format!("{rt:?}").contains("timers: 0"),
            "no timer left behind"
        );
    });
}
