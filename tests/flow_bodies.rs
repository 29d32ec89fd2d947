//! Infallible and fallible bodies: `job`, `job_after`, `job_async` and `job_local` take a
//! body whose value is the result (`|| 2` just works); `try_job` and its three siblings
//! take a body returning `Result<T, BoxError>`, so `|| Ok(2)` needs no annotation, `?`
//! works on any error type and on `&str`/`String` messages, and the failure's source
//! keeps the error's own type.

mod flow_util;

use std::error::Error;
use std::fmt;
use std::io;
use std::sync::Arc;

use flow_util::watchdog;
use taskloop::flow::{Flow, Job, JobError, JobStatus};

/// A user's own error type.
#[derive(Debug, PartialEq)]
struct BadRow {
    line: usize,
}

impl fmt::Display for BadRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} is not a number", self.line)
    }
}

impl Error for BadRow {}

/// Sums the numbers of `text`, one a line.
fn sum_rows(text: &str) -> Result<u32, BadRow> {
    text.lines()
        .enumerate()
        .map(|(i, row)| row.parse::<u32>().map_err(|_| BadRow { line: i + 1 }))
        .sum()
}

/// The body's error of a job that failed, with its job's status checked.
fn failure<T: fmt::Debug>(job: &Job<T>) -> Arc<dyn Error + Send + Sync> {
    assert_eq!(job.status(), JobStatus::Failed, "{}", job.name());
    match job.result() {
        Err(JobError::Failed { source, .. }) => source,
        other => panic!("expected {} to have failed, got {other:?}", job.name()),
    }
}

/// A path in a directory that does not exist.
fn missing_file() -> std::path::PathBuf {
    let dir = format!("taskloop-flow-bodies-{}-missing", std::process::id());
    std::env::temp_dir().join(dir).join("rows.txt")
}

#[test]
fn infallible_bodies_of_every_kind_return_their_value() {
    watchdog(|| {
        let mut flow = Flow::new();
        let blocking = flow.job("blocking", || 2);
        let after = flow.job_after("after", &blocking, |two| *two * 10);
        let in_async = flow.job_async("async", &after, |twenty| async move { *twenty + 1 });
        let local = flow.job_local("local", (&blocking, &in_async), |(a, b)| *a + *b);

        let report = flow.run();

        assert!(report.is_success(), "{report}");
        assert_eq!(*blocking.result().unwrap(), 2);
        assert_eq!(*after.result().unwrap(), 20);
        assert_eq!(*in_async.result().unwrap(), 21);
        assert_eq!(*local.result().unwrap(), 23);
    });
}

#[test]
fn ok_needs_no_annotation_in_any_fallible_kind() {
    watchdog(|| {
        let mut flow = Flow::new();
        let blocking = flow.try_job("blocking", || Ok(2));
        let after = flow.try_job_after("after", &blocking, |two| Ok(*two + 1));
        let in_async = flow.try_job_async("async", &after, |three| async move { Ok(*three + 1) });
        let local = flow.try_job_local("local", &in_async, |four| Ok(*four + 1));

        assert!(flow.run().is_success());
        assert_eq!(*blocking.result().unwrap(), 2);
        assert_eq!(*after.result().unwrap(), 3);
        assert_eq!(*in_async.result().unwrap(), 4);
        assert_eq!(*local.result().unwrap(), 5);
    });
}

#[test]
fn question_mark_on_an_io_error_fails_the_job_with_that_error() {
    watchdog(|| {
        let mut flow = Flow::new();
        let path = missing_file();
        let read = flow.try_job("read", move || Ok(std::fs::read_to_string(&path)?));
        let found = flow.try_job("found", || Ok(std::fs::read_to_string("Cargo.toml")?));

        flow.run();

        let source = failure(&read);
        let io = source.downcast_ref::<io::Error>().expect("an io::Error");
        assert_eq!(io.kind(), io::ErrorKind::NotFound);
        assert!(found.result().unwrap().contains("[package]"));
    });
}

#[test]
fn question_mark_on_a_custom_error_keeps_its_type_for_downcast() {
    watchdog(|| {
        let mut flow = Flow::new();
        let good = flow.job("good", || String::from("1\n2\n3"));
        let bad = flow.job("bad", || String::from("1\n2\nthree"));
        let blocking = flow.try_job_after("sum good", &good, |text| Ok(sum_rows(&text)?));
        let after = flow.try_job_after("sum bad", &bad, |text| Ok(sum_rows(&text)?));
        let in_async = flow.try_job_async("sum bad async", &bad, |text| async move {
            taskloop::yield_now().await;
            Ok(sum_rows(&text)?)
        });
        let local = flow.try_job_local("sum bad local", &bad, |text| {
            let sum = sum_rows(&text)?;
            Ok(sum)
        });

        flow.run();

        assert_eq!(*blocking.result().unwrap(), 6);
        for job in [&after, &in_async, &local] {
            let source = failure(job);
            assert_eq!(source.downcast_ref::<BadRow>(), Some(&BadRow { line: 3 }));
            assert_eq!(source.to_string(), "line 3 is not a number");
        }
    });
}

#[test]
fn str_and_string_messages_fail_the_job() {
    watchdog(|| {
        let mut flow = Flow::new();
        let rows = flow.job("rows", Vec::<u32>::new);
        let into_str = flow.try_job_after("into str", &rows, |rows| {
            if rows.is_empty() {
                return Err("no rows".into());
            }
            Ok(rows.len())
        });
        let into_string = flow.try_job_after("into string", &rows, |rows| {
            if rows.is_empty() {
                return Err(format!("{} rows", rows.len()).into());
            }
            Ok(rows.len())
        });
        let q_str = flow.try_job_after("? str", &rows, |rows| {
            let first = rows.first().ok_or("no first row")?;
            Ok(*first)
        });
        let q_string = flow.try_job_local("? string", &rows, |rows| {
            let last = rows
                .last()
                .ok_or_else(|| format!("no last of {}", rows.len()))?;
            Ok(*last)
        });
        let fine = flow.try_job("fine", || {
            let n: u32 = "7".parse()?;
            Ok(n)
        });

        flow.run();

        assert_eq!(failure(&into_str).to_string(), "no rows");
        assert_eq!(failure(&into_string).to_string(), "0 rows");
        assert_eq!(failure(&q_str).to_string(), "no first row");
        assert_eq!(failure(&q_string).to_string(), "no last of 0");
        assert_eq!(*fine.result().unwrap(), 7);
    });
}

#[test]
fn an_infallible_dependent_of_a_failed_input_is_skipped() {
    watchdog(|| {
        let mut flow = Flow::new();
        let path = missing_file();
        let read = flow.try_job("read", move || Ok(std::fs::read_to_string(&path)?));
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let body_ran = ran.clone();
        let count = flow.job_after("count", &read, move |text| {
            body_ran.store(true, std::sync::atomic::Ordering::SeqCst);
            text.lines().count()
        });
        let local = flow.job_local("local", &count, |n| *n + 1);

        let report = flow.run();

        assert!(!report.is_success());
        assert!(
            !ran.load(std::sync::atomic::Ordering::SeqCst),
            "a skipped body ran"
        );
        for job in [&count, &local] {
            assert_eq!(job.status(), JobStatus::UpstreamFailed);
            let err = job.result().unwrap_err();
            assert_eq!(err.root().job(), "read", "{err}");
        }
        assert!(failure(&read).downcast_ref::<io::Error>().is_some());
    });
}

#[test]
fn a_result_returned_to_job_is_the_value_and_does_not_fail_it() {
    // The documented trap: `job` takes any value, a `Result` included.
    watchdog(|| {
        let mut flow = Flow::new();
        let result = flow.job("result", || "x".parse::<u32>());
        let after = flow.job_after("after", &result, |r| r.is_err());

        assert!(flow.run().is_success());
        assert_eq!(result.status(), JobStatus::Done);
        assert!(result.result().unwrap().is_err());
        assert!(*after.result().unwrap());
    });
}
