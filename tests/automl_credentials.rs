//! Credentials never appear in errors, debug output, reports or trace files.

#![cfg(all(feature = "client", feature = "server"))]

mod automl_util;

use std::time::Duration;

use automl_util::{context, linear, server, watchdog, PASSWORD, USER};
use taskloop::automl::{Context, CsvSource, TrainInput};
use taskloop::flow::{Flow, TraceRecorder};

/// The password and the Basic token that carries it.
fn secrets(password: &str) -> Vec<String> {
    let token = format!("{USER}:{password}");
    vec![password.to_string(), token]
}

fn assert_clean(text: &str, password: &str) {
    for secret in secrets(password) {
        assert!(!text.contains(&secret), "found a credential in: {text}");
    }
    assert!(
        !text.contains("Basic "),
        "found an Authorization header in: {text}"
    );
}

#[test]
fn a_successful_run_leaves_no_credentials_in_its_trace_or_report() {
    watchdog(Duration::from_secs(60), || {
        let srv = server();
        let ctx = context(&srv.url());
        let trace = std::env::temp_dir().join(format!("taskloop-cred-{}.json", std::process::id()));
        let mut flow = Flow::new();
        let a = ctx.upload(
            &mut flow,
            "data",
            CsvSource::text("d", linear(80, 1, true).0),
        );
        let _c = ctx.train(
            &mut flow,
            "train",
            TrainInput::new(&a, "y").algos(["GLM"]).nfold(2),
        );
        flow.observe(TraceRecorder::to_file(&trace).unwrap());
        let report = flow.run();
        assert!(report.is_success(), "{report}");
        let written = std::fs::read_to_string(&trace).unwrap();
        let _ = std::fs::remove_file(&trace);
        assert_clean(&written, PASSWORD);
        assert_clean(&format!("{report}\n{report:?}\n{ctx:?}\n{srv:?}"), PASSWORD);
    });
}

#[test]
fn failed_jobs_with_wrong_credentials_do_not_repeat_them() {
    watchdog(Duration::from_secs(60), || {
        let srv = server();
        let wrong = "wr0ng-p4ssword-xyz";
        let ctx = Context::builder(&srv.url(), USER, wrong).build().unwrap();
        let trace =
            std::env::temp_dir().join(format!("taskloop-cred-bad-{}.json", std::process::id()));
        let mut flow = Flow::new();
        let a = ctx.upload(&mut flow, "data", CsvSource::text("d", "x,y\n1,2\n"));
        flow.observe(TraceRecorder::to_file(&trace).unwrap());
        let report = flow.run();
        let err = a.result().unwrap_err();
        assert!(err.to_string().contains("refused the credentials"), "{err}");
        let written = std::fs::read_to_string(&trace).unwrap();
        let _ = std::fs::remove_file(&trace);
        assert_clean(
            &format!("{err}\n{err:?}\n{report}\n{report:?}\n{written}\n{ctx:?}"),
            wrong,
        );
    });
}
