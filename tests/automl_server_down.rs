//! The client when its server is gone for good (issue 19, item 8): three hundred
//! pipelines, with flow retries and a limit, against a server that is shut down under
//! them. The context notices the dead server once: every job that had not finished
//! fails with the one server-down error within a bound (the context's 10 s of silence,
//! plus a back-off), and the client does not hammer the dead address meanwhile.
//!
//! The dead server is a loopback listener on the old port that accepts and closes every
//! connection at once, counting them. Before the detector, each exchange tried 8 times,
//! times 3 flow attempts, 8 jobs at a time: hundreds of connections a minute for a
//! quarter of an hour (the test cancels the flow after 90 s and fails).

#![cfg(all(feature = "client", feature = "server"))]

mod automl_util;

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use automl_util::{linear, server_with, PASSWORD, USER};
use taskloop::automl::{AutomlError, Context, CsvSource, PollInterval, PredictInput, TrainInput};
use taskloop::flow::{Flow, JobError};

const PIPELINES: usize = 300;

/// Whether a job's error is (or was skipped because of) the server-down error.
fn is_server_down(e: &JobError) -> bool {
    match e.root() {
        JobError::Failed { source, .. } => matches!(
            source.downcast_ref::<AutomlError>(),
            Some(AutomlError::ServerDown { .. })
        ),
        _ => false,
    }
}

/// A listener on `addr` that accepts and closes every connection, counting them,
/// until `stop` is set.
fn dead_server(addr: &str, stop: Arc<AtomicBool>) -> (Arc<AtomicU64>, thread::JoinHandle<()>) {
    let listener = TcpListener::bind(addr).expect("the old port can be bound again");
    listener.set_nonblocking(true).unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    let thread = thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((conn, _)) => {
                    count.fetch_add(1, Ordering::Relaxed);
                    drop(conn);
                }
                Err(_) => thread::sleep(Duration::from_millis(2)),
            }
        }
    });
    (accepted, thread)
}

#[test]
fn a_dead_server_fails_every_waiting_job_once_with_one_error_and_is_not_hammered() {
    let srv = server_with(|c| c.workers = 2);
    let url = srv.url();
    let addr = url.trim_start_matches("http://").to_string();
    let ctx = Context::builder(&url, USER, PASSWORD)
        .poll_interval(PollInterval {
            initial: Duration::from_millis(5),
            factor: 1.5,
            max: Duration::from_millis(200),
        })
        .connect()
        .unwrap();
    let (train_csv, _) = linear(60, 1, true);
    let (forecast_csv, _) = linear(20, 2, false);
    let mut flow = Flow::new();
    flow.limit("automl", 8);
    let (mut jobs, mut uploads) = (Vec::new(), Vec::new());
    for i in 0..PIPELINES {
        let mut up = |name: String, csv: &str| {
            let source = CsvSource::text("data.csv", csv.to_string());
            ctx.upload(&mut flow, name, source)
        };
        let a = up(format!("A{i}"), &train_csv).limit("automl").retries(2);
        let b = up(format!("B{i}"), &forecast_csv)
            .limit("automl")
            .retries(2);
        let spec = TrainInput::new(&a, "y").algos(["GLM"]).nfold(2);
        let c = ctx.train(&mut flow, format!("C{i}"), spec);
        let c = c.limit("automl").retries(2);
        let d = ctx.predict(&mut flow, format!("D{i}"), PredictInput::new(&b, &c));
        let d = d.limit("automl").retries(2);
        uploads.extend([a, b]);
        jobs.push(d);
    }

    // Kill the server once a few uploads are in, and put the dead listener in its place.
    let stop = Arc::new(AtomicBool::new(false));
    let killer = {
        let stop = stop.clone();
        thread::spawn(move || {
            let started = Instant::now();
            while srv
                .stats()
                .tasks_submitted
                .get("upload")
                .copied()
                .unwrap_or(0)
                < 10
                && started.elapsed() < Duration::from_secs(10)
            {
                thread::sleep(Duration::from_millis(5));
            }
            drop(srv);
            let killed = Instant::now();
            let (accepted, thread) = dead_server(&addr, stop);
            (killed, accepted, thread)
        })
    };
    // The old client would take a quarter of an hour: cancel it after 90 s.
    let cancel = flow.cancel_handle();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let canceller = thread::spawn(move || {
        if done_rx.recv_timeout(Duration::from_secs(90)).is_err() {
            cancel.cancel();
        }
    });

    let report = flow.run();
    let ended = Instant::now();
    drop(done_tx);
    canceller.join().unwrap();
    let (killed, accepted, listener) = killer.join().unwrap();
    let accepted_by_the_end = accepted.load(Ordering::Relaxed);
    thread::sleep(Duration::from_millis(500));
    let accepted_after = accepted.load(Ordering::Relaxed) - accepted_by_the_end;
    stop.store(true, Ordering::Relaxed);
    listener.join().unwrap();

    let took = ended.duration_since(killed);
    let (mut done, mut down, mut other) = (0, 0, Vec::new());
    for d in &jobs {
        match d.result() {
            Ok(_) => done += 1,
            Err(e) if is_server_down(&e) => down += 1,
            Err(e) => other.push(e.to_string()),
        }
    }
    eprintln!(
        "{done} pipelines done, {down} failed with the server down, {} otherwise; all \
         ended {took:?} after the server died; the dead address saw {accepted_by_the_end} \
         connections",
        other.len()
    );
    assert!(
        other.is_empty(),
        "every pipeline that did not finish fails with the server-down error; {} did not, \
         the first: {}",
        other.len(),
        other[0]
    );
    assert!(
        down >= PIPELINES / 2,
        "most pipelines were cut off: {report}"
    );
    let d = jobs.iter().find(|d| d.result().is_err()).unwrap();
    let text = d.result().unwrap_err().to_string();
    assert!(
        text.contains(&url) && text.contains("has not answered for"),
        "{text}"
    );
    assert!(
        took < Duration::from_secs(30),
        "every job ends within the documented bound (10 s of silence, plus a back-off); \
         took {took:?}"
    );
    assert!(
        accepted_by_the_end < 200,
        "a dead server gets a few probes a second, not a storm: {accepted_by_the_end} \
         connections"
    );
    assert_eq!(accepted_after, 0, "nothing is sent once the server is down");
    let retried = uploads.iter().filter(|j| j.attempts() > 1).count();
    assert_eq!(
        retried, 0,
        "the flow retries no job of a server that is down"
    );
}

/// No server at all, a refused port: every job, each with flow retries, fails with the
/// server-down error after the configured silence (before the detector: each upload
/// tried 8 times, 4 flow attempts, and ended "cannot reach" after about 17 s), and so
/// does a synchronous call made afterwards, without sending anything.
#[test]
fn a_refused_port_fails_every_job_with_the_server_down_error_after_the_set_silence() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{addr}");
    let ctx = Context::builder(&url, USER, PASSWORD)
        .server_down_after(Duration::from_secs(2))
        .build()
        .unwrap();
    let mut flow = Flow::new();
    let uploads: Vec<_> = (0..100)
        .map(|i| {
            let source = CsvSource::text("a.csv", "x\n1\n");
            ctx.upload(&mut flow, format!("A{i}"), source).retries(3)
        })
        .collect();
    let started = Instant::now();
    flow.run();
    let took = started.elapsed();
    for job in &uploads {
        let e = job.result().unwrap_err();
        assert!(is_server_down(&e), "{e}");
        assert_eq!(job.attempts(), 1, "not retried by the flow");
    }
    assert!(
        took < Duration::from_secs(12),
        "2 s of silence plus a back-off: took {took:?}"
    );
    let later = ctx.worker_status().unwrap_err();
    assert!(matches!(later, AutomlError::ServerDown { .. }), "{later}");
    eprintln!("100 uploads to a refused port ended in {took:?}: {later}");
}
