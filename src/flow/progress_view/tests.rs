use super::*;
use crate::flow::report::JobReport;
use crate::flow::status::JobId;
use std::{cell::RefCell, rc::Rc, sync::Arc, sync::OnceLock};

/// A writer whose bytes the test reads afterwards; with the flag set, it always fails.
#[derive(Clone, Default)]
struct Capture(Rc<RefCell<Vec<u8>>>, bool);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.flush()?;
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.1 {
            return Err(io::Error::other("disk full"));
        }
        Ok(())
    }
}

fn view(mode: ProgressMode) -> (ProgressView, Capture) {
    let out = Capture::default();
    (ProgressView::to_writer(Box::new(out.clone()), mode), out)
}

fn text(out: &Capture) -> String {
    String::from_utf8_lossy(&out.0.borrow()).into_owned()
}

fn t(ms: u64) -> Instant {
    static T0: OnceLock<Instant> = OnceLock::new();
    *T0.get_or_init(Instant::now) + Duration::from_millis(ms)
}

fn job(i: usize) -> JobInfo<'static> {
    const IDS: [JobId; 3] = [JobId(0), JobId(1), JobId(2)];
    JobInfo {
        id: IDS[i],
        name: ["a", "b", "c"][i],
        inputs: &[],
    }
}

fn report(statuses: &[JobStatus]) -> Report {
    let jobs = statuses.iter().enumerate().map(|(i, &status)| JobReport {
        id: JobId(i),
        name: job(i).name.into(),
        inputs: vec![],
        status,
        started: None,
        finished: None,
        attempts: 0,
        error: None,
        in_this_run: true,
    });
    let jobs = jobs.collect();
    Report {
        jobs,
        started: t(0),
        wall_time: Duration::from_millis(2500),
        critical_path: vec![],
        observer_errors: vec![],
    }
}

/// a reports progress, fails once and then is done; b fails; c is skipped.
#[rustfmt::skip]
fn feed(view: &mut ProgressView) {
    let boom = JobError::Failed { job: "b".into(), source: Arc::new(io::Error::other("boom")) };
    let skipped = boom.upstream_of("c");
    let progress = |ms, fraction, message| Event::Progress { at: t(ms), job: job(0), fraction, message };
    let finished = |ms, i, status, error| Event::Finished { at: t(ms), job: job(i), status, error, attempts: 1 };
    let events = [
        Event::RunStarted { at: t(0), pending: 3 },
        Event::Queued { at: t(0), job: job(0) },
        Event::Started { at: t(1), job: job(0), attempt: 1 },
        progress(2, 0.0, "loading"),
        progress(100, 0.05, "loading"),
        progress(200, 0.2, "rows"),
        progress(1300, 0.25, "rows"),
        Event::Started { at: t(10), job: job(1), attempt: 1 },
        finished(20, 1, JobStatus::Failed, Some(&boom)),
        finished(20, 2, JobStatus::UpstreamFailed, Some(&skipped)),
        Event::Retrying { at: t(1400), job: job(0), attempt: 1, error: &boom, delay: Duration::from_millis(200) },
        Event::Started { at: t(1600), job: job(0), attempt: 2 },
        finished(2001, 0, JobStatus::Done, None),
    ];
    for event in &events {
        view.on_event(event);
    }
    let report = report(&[JobStatus::Done, JobStatus::Failed, JobStatus::UpstreamFailed]);
    view.on_event(&Event::RunFinished { at: t(2500), report: &report });
}

#[test]
fn plain_mode_writes_one_line_per_event_of_interest() {
    let (mut view, out) = view(ProgressMode::Plain);
    feed(&mut view);
    let expected = [
        "[  0.000s] run      3 jobs",
        "[  0.001s] started  a (attempt 1)",
        "[  0.002s] progress a 0% loading",
        "[  0.200s] progress a 20% rows",
        "[  1.300s] progress a 25% rows",
        "[  0.010s] started  b (attempt 1)",
        "[  0.020s] failed   b: boom",
        "[  0.020s] skipped  c: input 'b' failed: boom",
        "[  1.400s] retrying a (attempt 1 failed: boom; next in 200ms)",
        "[  1.600s] started  a (attempt 2)",
        "[  2.001s] done     a  2.0s",
        "[  2.500s] finished 1 done, 1 failed, 1 skipped in 2.5s",
    ];
    assert_eq!(text(&out).lines().collect::<Vec<_>>(), expected);
}

#[test]
fn disabled_writes_nothing() {
    let (mut view, out) = view(ProgressMode::Disabled);
    feed(&mut view);
    assert_eq!(text(&out), "");
    feed(&mut ProgressView::disabled());
}

#[test]
fn live_mode_redraws_in_place_and_prints_finished_jobs_once() {
    let (mut view, out) = view(ProgressMode::Live);
    feed(&mut view);
    let text = text(&out);
    assert!(text.contains(&format!(
        "{ERASE_LINE}\ra [####----------------]  20% rows\n"
    )));
    assert!(
        !text.contains(" 0% loading"),
        "a redraw within 50 ms of the last is skipped"
    );
    let finished = [
        "\r✗ b  failed: boom\n",
        "\r- c  skipped: input 'b' failed: boom\n",
        "\r✓ a  2.0s\n",
    ];
    for line in finished {
        assert_eq!(text.matches(line).count(), 1, "{line:?} once in {text:?}");
    }
    assert!(text.ends_with("\r✓ a  2.0s\n\r1 done, 1 failed, 1 skipped in 2.5s\n"));
    assert_eq!(view.drawn, 0);
}

#[test]
fn odd_events_do_not_panic() {
    for mode in [ProgressMode::Live, ProgressMode::Plain] {
        let (mut view, out) = view(mode);
        let boom = JobError::Panicked {
            job: "c".into(),
            message: "oops\n\x1b[2J".into(),
        };
        let (attempt, delay) = (9, Duration::MAX);
        view.on_event(&Event::Progress {
            at: t(0),
            job: job(1),
            fraction: f64::NAN,
            message: "?",
        });
        view.on_event(&Event::Retrying {
            at: t(0),
            job: job(1),
            attempt,
            error: &boom,
            delay,
        });
        let (status, error) = (JobStatus::Failed, Some(&boom));
        view.on_event(&Event::Finished {
            at: t(0),
            job: job(2),
            status,
            error,
            attempts: 0,
        });
        view.on_event(&Event::Started {
            at: t(0),
            job: job(0),
            attempt: 1,
        });
        let fraction = f64::INFINITY;
        view.on_event(&Event::Progress {
            at: t(100),
            job: job(0),
            fraction,
            message: "",
        });
        view.on_event(&Event::RunFinished {
            at: t(0),
            report: &report(&[JobStatus::Running]),
        });
        let text = text(&out);
        assert!(text.contains("c  failed: panicked: oops") || text.contains("c: panicked: oops"));
        assert!(
            !text.contains("\x1b[2J"),
            "control characters are removed: {text:?}"
        );
        feed(&mut ProgressView::to_writer(
            Box::new(Capture(Rc::default(), true)),
            mode,
        ));
    }
}

#[test]
fn durations_read_naturally() {
    let cases = [
        (4_200, "4.2ms"),
        (340_000, "340ms"),
        (1_234_000, "1.2s"),
        (125_000_000, "2m05s"),
    ];
    for (micros, text) in cases {
        assert_eq!(human(Duration::from_micros(micros)), text);
    }
}
