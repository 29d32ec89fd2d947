//! A job's body receives its inputs' results, typed: one job, a tuple of jobs of
//! different types, or a slice or `Vec` of jobs of one type. Mistakes in a declaration
//! (an input from another flow, an undefined limit) fail that job with a clear error
//! when the flow runs; they do not panic.

mod flow_util;

use std::sync::Arc;

use flow_util::watchdog;
use taskloop::flow::{Flow, JobError, JobStatus};

#[test]
fn tuples_of_one_to_three_inputs_of_different_types() {
    watchdog(|| {
        let mut flow = Flow::new();
        let n = flow.job("n", || 3usize);
        let word = flow.job("word", || String::from("ab"));
        let flag = flow.job_local("flag", (), |()| true);

        let one = flow.job_after("one", (&n,), |(n,): (Arc<usize>,)| *n * 2);
        let two = flow.job_async(
            "two",
            (&word, &n),
            |(word, n)| async move { word.repeat(*n) },
        );
        let three = flow.job_local("three", (&flag, &word, &n), |(flag, word, n)| {
            format!("{flag} {word} {n}")
        });
        let single = flow.job_after("single", &word, |word: Arc<String>| word.len());

        assert!(flow.run().is_success());
        assert_eq!(*one.result().unwrap(), 6);
        assert_eq!(*two.result().unwrap(), "ababab");
        assert_eq!(*three.result().unwrap(), "true ab 3");
        assert_eq!(*single.result().unwrap(), 2);
    });
}

#[test]
fn slices_and_vecs_of_jobs_arrive_in_order() {
    watchdog(|| {
        let mut flow = Flow::new();
        let parts: Vec<_> = (0..5)
            .map(|i| flow.job(format!("part{i}"), move || i * 10))
            .collect();
        let from_vec = flow.job_after("from vec", &parts, |values: Vec<Arc<i32>>| {
            values.iter().map(|v| **v).collect::<Vec<_>>()
        });
        let from_slice = flow.job_local("from slice", &parts[1..3], |values| {
            values.iter().map(|v| **v).sum::<i32>()
        });
        let none: Vec<taskloop::flow::Job<i32>> = Vec::new();
        let empty = flow.job_after("empty", &none, |values| values.len());

        assert!(flow.run().is_success());
        assert_eq!(*from_vec.result().unwrap(), [0, 10, 20, 30, 40]);
        assert_eq!(*from_slice.result().unwrap(), 30);
        assert_eq!(*empty.result().unwrap(), 0);
    });
}

#[test]
fn an_input_from_another_flow_fails_the_job_instead_of_panicking() {
    watchdog(|| {
        let mut other = Flow::new();
        let stranger = other.job("stranger", || 1);

        let mut flow = Flow::new();
        let mine = flow.job("mine", || 2);
        let mixed = flow.job_after("mixed", (&mine, &stranger), |(a, b)| *a + *b);
        let after = flow.job_after("after", &mixed, |v| *v);

        let report = flow.run();

        assert_eq!(*mine.result().unwrap(), 2);
        assert_eq!(mixed.status(), JobStatus::Failed);
        let err = mixed.result().unwrap_err();
        assert!(matches!(err, JobError::ForeignInput { .. }), "{err:?}");
        assert!(err.to_string().contains("mixed"), "{err}");
        assert_eq!(after.status(), JobStatus::UpstreamFailed);
        assert_eq!(report.count(JobStatus::Failed), 1);
        // The other flow is untouched.
        assert_eq!(stranger.status(), JobStatus::Pending);
    });
}

#[test]
fn an_undefined_limit_fails_the_job_with_a_clear_error() {
    watchdog(|| {
        let mut flow = Flow::new();
        let job = flow.job("upload", || ()).limit("uplods");
        let fine = flow.job("fine", || 1);

        flow.run();

        assert_eq!(job.status(), JobStatus::Failed);
        assert_eq!(job.attempts(), 0, "the body must not run");
        let text = job.result().unwrap_err().to_string();
        assert!(
            text.contains("upload") && text.contains("'uplods'"),
            "{text}"
        );
        assert!(text.contains("Flow::limit"), "{text}");
        assert_eq!(*fine.result().unwrap(), 1);
    });
}
