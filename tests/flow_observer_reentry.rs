//! Observers may use the flow's job handles: events are delivered with nothing borrowed.

use std::cell::RefCell;
use std::rc::Rc;

use taskloop::flow::{Event, Flow, Job, JobStatus};

type Handle = Rc<RefCell<Option<Job<u32>>>>;

#[test]
fn an_observer_may_read_and_configure_jobs_while_they_run() {
    let mut flow = Flow::new();
    let a = flow.job("a", || 1u32);
    let later = flow.job_after("later", &a, |a| *a + 1);
    let handle: Handle = Rc::new(RefCell::new(Some(later.clone())));
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (h, log) = (handle.clone(), seen.clone());
    flow.observe(move |e: &Event<'_>| {
        if let (Event::Finished { job, .. }, Some(later)) = (e, h.borrow().as_ref()) {
            // Reading and configuring from inside an event must not panic.
            log.borrow_mut()
                .push((job.name.to_string(), later.status()));
            let _ = later.clone().priority(5).retries(1);
        }
    });
    let report = flow.run();
    assert!(report.is_success(), "{report}");
    assert_eq!(*later.result().unwrap(), 2);
    let seen = seen.borrow();
    assert_eq!(
        seen.len(),
        2,
        "the observer saw every Finished event: {seen:?}"
    );
    assert_eq!(seen[0], ("a".to_string(), JobStatus::Pending));
}

#[test]
fn cancelling_from_an_observer_after_a_run_takes_effect_at_the_next_run() {
    let mut flow = Flow::new();
    let a = flow.job("a", || 1u32);
    let b = flow.job_after("b", &a, |a| *a);
    let c = flow.job_after("c", &b, |b| *b);
    let target: Handle = Rc::new(RefCell::new(Some(b.clone())));
    let t = target.clone();
    flow.observe(move |e: &Event<'_>| {
        if let Event::RunFinished { .. } = e {
            if let Some(b) = t.borrow_mut().take() {
                b.cancel();
            }
        }
    });
    // `wait` runs only what `a` needs; its RunFinished event cancels b from inside the
    // observer, when no run is under way.
    assert_eq!(*a.wait().unwrap(), 1);
    assert_eq!(
        b.status(),
        JobStatus::Pending,
        "the cancel waits for the next run"
    );
    let report = flow.run();
    assert_eq!(b.status(), JobStatus::Cancelled);
    assert_eq!(c.status(), JobStatus::UpstreamFailed);
    assert_eq!(report.count(JobStatus::Cancelled), 1, "{report}");
}
