//! A blocking job that timed out keeps its worker until its body returns; the flow
//! must not count that worker as free, or the next blocking job would be "running"
//! (its timeout ticking) while it waits for the worker in the pool's queue.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use taskloop::flow::{Flow, JobStatus};

#[test]
fn a_timed_out_blocking_body_holds_its_pool_slot_until_it_returns() {
    let mut flow = Flow::builder().blocking_threads(1).build();
    let body_returned: Arc<Mutex<Option<Instant>>> = Arc::default();
    let mark = body_returned.clone();
    let slow = flow
        .job("slow", move || {
            std::thread::sleep(Duration::from_millis(300));
            *mark.lock().unwrap() = Some(Instant::now());
        })
        .timeout(Duration::from_millis(20));
    let next = flow.job("next", || ());
    let report = flow.run();

    assert_eq!(slow.status(), JobStatus::Failed);
    assert_eq!(next.status(), JobStatus::Done);
    let returned = body_returned
        .lock()
        .unwrap()
        .expect("the slow body ran to its end");
    let next_started = report.job("next").unwrap().started.expect("next started");
    assert!(
        next_started >= returned,
        "'next' was marked running {:?} before the only worker was free",
        returned.saturating_duration_since(next_started)
    );
}

#[test]
fn a_pool_slot_owed_at_the_end_of_a_run_is_still_owed_in_the_next() {
    let mut flow = Flow::builder().blocking_threads(1).build();
    let body_returned: Arc<Mutex<Option<Instant>>> = Arc::default();
    let mark = body_returned.clone();
    flow.job("slow", move || {
        std::thread::sleep(Duration::from_millis(200));
        *mark.lock().unwrap() = Some(Instant::now());
    })
    .timeout(Duration::from_millis(10));
    flow.run(); // ends at the timeout, while the worker still sleeps
    let next = flow.job("next", || ());
    let report = flow.run();
    assert_eq!(next.status(), JobStatus::Done);
    let returned = body_returned
        .lock()
        .unwrap()
        .expect("the slow body ran to its end");
    assert!(report.job("next").unwrap().started.unwrap() >= returned);
}
