//! Cancelling a job, or the whole flow, before or during a run: a cancelled job never
//! starts or is stopped, its dependents are skipped without running, and the run
//! returns even while cancelled blocking bodies are still busy.

mod flow_util;

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use flow_util::{drop_flag, watchdog, DropFlag, Gate};
use taskloop::flow::{CancelHandle, Event, Flow, Job, JobError, JobId, JobStatus};

/// An async body that tells `started` it runs, then never finishes; it owns `flag`.
fn forever(
    flag: DropFlag,
    started: mpsc::Sender<()>,
) -> impl Fn(()) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
    let flag = RefCell::new(Some(flag));
    move |()| {
        let flag = flag.borrow_mut().take();
        let _ = started.send(());
        Box::pin(async move {
            let _owned = flag;
            std::future::pending().await
        })
    }
}

/// Cancels through `handle` on another thread once `started` has heard `n` messages.
fn cancel_when_started(
    n: usize,
    started: mpsc::Receiver<()>,
    handle: CancelHandle,
    job: Option<JobId>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for _ in 0..n {
            started.recv().unwrap();
        }
        match job {
            Some(id) => handle.cancel_job(id),
            None => handle.cancel(),
        }
    })
}

#[test]
fn a_job_cancelled_before_the_run_never_starts_and_skips_its_dependents() {
    watchdog(|| {
        let mut flow = Flow::new();
        let ran = Arc::new(AtomicBool::new(false));
        let (r1, r2) = (ran.clone(), ran.clone());
        let doomed = flow.job("doomed", move || {
            r1.store(true, Ordering::SeqCst);
            1
        });
        let after = flow.job_after("after", &doomed, move |v| {
            r2.store(true, Ordering::SeqCst);
            *v
        });
        let free = flow.job("free", || 2);
        doomed.cancel();
        assert_eq!(doomed.status(), JobStatus::Cancelled);

        flow.run();

        assert!(
            !ran.load(Ordering::SeqCst),
            "a cancelled or skipped body ran"
        );
        assert!(matches!(doomed.result(), Err(JobError::Cancelled { .. })));
        assert_eq!(after.status(), JobStatus::UpstreamFailed);
        assert!(after.result().unwrap_err().is_cancelled());
        assert_eq!(*free.result().unwrap(), 2);
    });
}

#[test]
fn a_cancel_request_sent_before_the_run_applies_when_it_starts() {
    watchdog(|| {
        let mut flow = Flow::new();
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let job = flow.job("job", move || {
            r.store(true, Ordering::SeqCst);
        });
        flow.cancel_handle().cancel_job(job.id());
        flow.run();
        assert!(!ran.load(Ordering::SeqCst));
        assert_eq!(job.status(), JobStatus::Cancelled);
    });
}

#[test]
fn cancelling_a_running_async_job_drops_its_future() {
    watchdog(|| {
        let mut flow = Flow::new();
        let (flag, dropped) = drop_flag();
        let (tx, rx) = mpsc::channel();
        let stuck = flow.job_async("stuck", (), forever(flag, tx));
        let after = flow.job_after("after", &stuck, |_| ());
        let free = flow.job_async("free", (), |()| async { 3 });
        let canceller = cancel_when_started(1, rx, flow.cancel_handle(), Some(stuck.id()));

        flow.run();
        canceller.join().unwrap();

        assert_eq!(stuck.status(), JobStatus::Cancelled);
        assert!(
            dropped.load(Ordering::SeqCst),
            "the cancelled future was kept"
        );
        assert_eq!(after.status(), JobStatus::UpstreamFailed);
        assert_eq!(after.result().unwrap_err().root().job(), "stuck");
        assert_eq!(*free.result().unwrap(), 3);
    });
}

#[test]
fn cancelling_a_running_blocking_job_discards_its_result() {
    watchdog(|| {
        let mut flow = Flow::new();
        let gate = Gate::new();
        let body_gate = gate.clone();
        let (tx, rx) = mpsc::channel();
        let busy = flow.job("busy", move || {
            tx.send(()).unwrap();
            body_gate.wait();
            "late"
        });
        let canceller = cancel_when_started(1, rx, flow.cancel_handle(), Some(busy.id()));

        flow.run(); // returns although the body is still blocked
        canceller.join().unwrap();
        gate.open();

        assert_eq!(busy.status(), JobStatus::Cancelled);
        assert!(busy.result().is_err());
    });
}

#[test]
fn cancelling_the_flow_from_another_thread_stops_every_unfinished_job() {
    watchdog(|| {
        // The cancel comes once `done` has finished and the other two are running.
        let mut flow = Flow::new();
        let (tx, rx) = mpsc::channel();
        let done = flow.job_local("done", (), |()| 1);
        let done_tx = tx.clone();
        flow.observe(move |e: &Event<'_>| {
            if matches!(e, Event::Finished { job, .. } if job.name == "done") {
                done_tx.send(()).unwrap();
            }
        });
        let gate = Gate::new();
        let (body_gate, blocking_tx) = (gate.clone(), tx.clone());
        let blocking = flow.job("blocking", move || {
            blocking_tx.send(()).unwrap();
            body_gate.wait();
        });
        let (flag, dropped) = drop_flag();
        let waiting = flow.job_async("async", (), forever(flag, tx));
        let later = flow.job_after("later", (&blocking, &waiting), |_| ());
        let canceller = cancel_when_started(3, rx, flow.cancel_handle(), None);

        let report = flow.run();
        canceller.join().unwrap();
        gate.open();

        assert_eq!(*done.result().unwrap(), 1);
        for status in [blocking.status(), waiting.status(), later.status()] {
            assert_eq!(status, JobStatus::Cancelled);
        }
        assert!(dropped.load(Ordering::SeqCst));
        assert_eq!(report.count(JobStatus::Cancelled), 3);
        assert_eq!(report.count(JobStatus::Done), 1);
    });
}

#[test]
fn a_job_can_be_cancelled_through_its_handle_during_a_run() {
    watchdog(|| {
        // An observer (on the loop thread) cancels `stuck` as soon as it starts.
        let mut flow = Flow::new();
        let (flag, dropped) = drop_flag();
        let stuck = flow.job_async("stuck", (), forever(flag, mpsc::channel().0));
        let handle = stuck.clone();
        flow.observe(move |e: &Event<'_>| {
            if let Event::Started { job, .. } = e {
                if job.name == "stuck" {
                    handle.cancel();
                }
            }
        });
        flow.run();
        assert_eq!(stuck.status(), JobStatus::Cancelled);
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn a_body_that_finished_before_the_cancel_was_handled_keeps_its_result() {
    watchdog(|| {
        // The flow is cancelled as `quick` starts; its body (a local one) still runs to
        // the end before the scheduler sees the cancel. It must then count as done, not
        // as cancelled with a result anyway.
        let mut flow = Flow::new();
        let quick = flow.job_local("quick", (), |()| 5);
        let next = flow.job_local("next", &quick, |q| *q);
        let cancel = flow.cancel_handle();
        flow.observe(move |e: &Event<'_>| {
            if matches!(e, Event::Started { job, .. } if job.name == "quick") {
                cancel.cancel();
            }
        });
        flow.run();
        assert_eq!(quick.status(), JobStatus::Done);
        assert_eq!(*quick.result().unwrap(), 5);
        assert_eq!(next.status(), JobStatus::Cancelled);
        assert!(next.result().is_err());
    });
}

/// Jobs `a`, `b`, `c` of which only one may run at a time (through `configure`); `b` is
/// cancelled while it waits for its turn. `c` must still run.
fn cancel_while_queued(mut flow: Flow, configure: impl Fn(Job<()>)) {
    let a = flow.job("a", || ());
    let b = flow.job("b", || ());
    let c = flow.job("c", || ());
    for job in [&a, &b, &c] {
        configure(job.clone());
    }
    let cancel_b = b.clone();
    flow.observe(move |e: &Event<'_>| {
        if matches!(e, Event::Started { job, .. } if job.name == "a") {
            cancel_b.cancel();
        }
    });
    flow.run();
    assert_eq!(a.status(), JobStatus::Done);
    assert_eq!(b.status(), JobStatus::Cancelled);
    assert_eq!(c.status(), JobStatus::Done);
}

#[test]
fn cancelling_a_job_queued_on_a_named_limit_does_not_stall_the_queue() {
    watchdog(|| {
        let mut flow = Flow::new();
        flow.limit("one", 1);
        cancel_while_queued(flow, |job| {
            job.limit("one");
        });
    });
}

#[test]
fn cancelling_a_job_queued_for_a_pool_worker_does_not_stall_the_queue() {
    watchdog(|| {
        let flow = Flow::builder().blocking_threads(1).build();
        cancel_while_queued(flow, drop);
    });
}

#[test]
fn a_cancelled_job_that_was_given_a_limit_slot_passes_it_on() {
    watchdog(|| {
        // `h` holds the only "one" slot, `b` and `c` queue for it, and `fill` holds one of
        // the two running slots. When `h` finishes, the slot goes to `b`, but `r` takes
        // the free running slot first and `b` is cancelled while it waits: `c` must
        // still get the "one" slot.
        let mut flow = Flow::builder().max_running(2).build();
        flow.limit("one", 1);
        let gate = Gate::new();
        let fill_gate = gate.clone();
        let h = flow.job_local("h", (), |()| ());
        let h = h.priority(10).limit("one");
        let b = flow.job_local("b", (), |()| ());
        let b = b.priority(5).limit("one");
        let c = flow.job_local("c", (), |()| ());
        let c = c.priority(1).limit("one");
        flow.job("fill", move || {
            fill_gate.wait();
        });
        flow.job_async("r", &h, |_| async {}).priority(20);
        let cancel_b = b.clone();
        flow.observe(move |e: &Event<'_>| {
            if matches!(e, Event::Finished { job, .. } if job.name == "h") {
                cancel_b.cancel();
                gate.open();
            }
        });
        flow.run();
        assert_eq!(b.status(), JobStatus::Cancelled);
        assert_eq!(c.status(), JobStatus::Done);
    });
}

#[test]
fn a_cancelled_job_queued_on_two_limits_passes_on_both() {
    watchdog(|| {
        // One pool worker, held by `p` until `h` finishes; `h` holds the only "one" slot.
        // `x` (blocking, "one") and `y` (async, "one") queue for "one". When `h`
        // finishes, "one" goes to `x`, which must then queue for the pool, and is
        // cancelled there: `y` must still get the "one" slot.
        let mut flow = Flow::builder().blocking_threads(1).build();
        flow.limit("one", 1);
        let gate = Gate::new();
        let p_gate = gate.clone();
        flow.job("p", move || {
            p_gate.wait();
        })
        .priority(10);
        flow.job_async("h", (), |()| async {})
            .priority(5)
            .limit("one");
        let x = flow.job("x", || ());
        let x = x.priority(2).limit("one");
        let y = flow.job_async("y", (), |()| async {});
        let y = y.priority(1).limit("one");
        let cancel_x = x.clone();
        flow.observe(move |e: &Event<'_>| {
            if matches!(e, Event::Finished { job, .. } if job.name == "h") {
                cancel_x.cancel();
                gate.open();
            }
        });
        flow.run();
        assert_eq!(x.status(), JobStatus::Cancelled);
        assert_eq!(y.status(), JobStatus::Done);
    });
}
