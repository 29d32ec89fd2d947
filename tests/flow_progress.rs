//! Progress reported from inside a job body (a blocking one on its worker thread, or an
//! async one on the loop) reaches the observers as `Progress` events and is kept as the
//! job's latest progress, with the fraction clamped to `0.0..=1.0`.

mod flow_util;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{mpsc, Mutex};

use flow_util::{record, watchdog, Seen};
use taskloop::flow::{progress, Event, Flow, Progress};

/// The reports each test body makes, and what observers should see of them.
const REPORTS: [(f64, &str); 4] = [
    (-0.5, "below"),
    (0.5, "half"),
    (f64::NAN, "not a number"),
    (1.7, "above"),
];
const SEEN: [f64; 4] = [0.0, 0.5, 0.0, 1.0];

/// The `Progress` events of `job`, in order.
fn progress_of(log: &[Seen], job: &str) -> Vec<(f64, String)> {
    log.iter()
        .filter_map(|s| match s {
            Seen::Progress(name, f, m) if name == job => Some((*f, m.clone())),
            _ => None,
        })
        .collect()
}

fn expected() -> Vec<(f64, String)> {
    let messages = REPORTS.iter().map(|(_, m)| m.to_string());
    SEEN.iter().copied().zip(messages).collect()
}

#[test]
fn progress_from_a_blocking_body_reaches_observers_clamped() {
    watchdog(|| {
        let mut flow = Flow::new();
        let events = record(&mut flow);
        // The body waits for each report to reach the observer before the next, so that
        // none is merged with the next one.
        let (ack, acks) = mpsc::channel();
        flow.observe(move |e: &Event<'_>| {
            if matches!(e, Event::Progress { .. }) {
                ack.send(()).unwrap();
            }
        });
        let acks = Mutex::new(acks);
        let job = flow.job("train", move || {
            for (fraction, message) in REPORTS {
                progress(fraction, message);
                acks.lock().unwrap().recv().unwrap();
            }
        });

        assert!(flow.run().is_success());
        assert_eq!(progress_of(&events.borrow(), "train"), expected());
        assert_eq!(job.progress(), Some((1.0, "above".to_string())));
    });
}

#[test]
fn progress_from_an_async_body_reaches_observers_clamped() {
    watchdog(|| {
        let mut flow = Flow::new();
        let events = record(&mut flow);
        let seen = Rc::new(Cell::new(0));
        let counter = seen.clone();
        flow.observe(move |e: &Event<'_>| {
            if matches!(e, Event::Progress { .. }) {
                counter.set(counter.get() + 1);
            }
        });
        let job = flow.job_async("poll server", (), move |()| {
            let seen = seen.clone();
            async move {
                for (i, (fraction, message)) in REPORTS.into_iter().enumerate() {
                    progress(fraction, message);
                    while seen.get() <= i {
                        taskloop::yield_now().await;
                    }
                }
            }
        });

        assert!(flow.run().is_success());
        assert_eq!(progress_of(&events.borrow(), "poll server"), expected());
        assert_eq!(job.progress(), Some((1.0, "above".to_string())));
    });
}

#[test]
fn the_last_report_of_a_body_is_always_delivered() {
    watchdog(|| {
        // Reports made faster than the loop takes them may be merged; the last one
        // always arrives before the job finishes.
        let mut flow = Flow::new();
        let events = record(&mut flow);
        let job = flow.job("count", || {
            for i in 0..=100 {
                progress(f64::from(i) / 100.0, format!("step {i}"));
            }
        });
        flow.run();
        let seen = progress_of(&events.borrow(), "count");
        assert_eq!(seen.last(), Some(&(1.0, "step 100".to_string())));
        assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");
        assert_eq!(job.progress(), Some((1.0, "step 100".to_string())));
        // Every Progress event came before the job's Finished event.
        let log = events.borrow();
        let finished = log.iter().position(|s| matches!(s, Seen::Finished(..)));
        let last_progress = log.iter().rposition(|s| matches!(s, Seen::Progress(..)));
        assert!(last_progress < finished);
    });
}

#[test]
fn a_body_can_hand_its_progress_handle_to_a_thread_it_starts() {
    watchdog(|| {
        let mut flow = Flow::new();
        let job = flow.job("fan out", || {
            let handle = Progress::current().expect("inside a job body");
            std::thread::spawn(move || handle.report(0.75, "from a helper thread"))
                .join()
                .unwrap();
        });
        flow.run();
        assert_eq!(
            job.progress(),
            Some((0.75, "from a helper thread".to_string()))
        );
    });
}

#[test]
fn progress_outside_a_job_body_does_nothing() {
    progress(0.5, "nobody is listening");
    assert!(Progress::current().is_none());
}
