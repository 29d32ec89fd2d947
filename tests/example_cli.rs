//! Every example answers `--help` with its options and exits 0, and a wrong flag names
//! the flag, shows the usage and exits 2. The examples are built by cargo for the test
//! run; this runs their binaries.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The example binaries sit in `target/<profile>/examples/`, next to `deps/` where this
/// test runs from.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    dir.join(name)
}

fn run(name: &str, args: &[&str]) -> Output {
    let path = example(name);
    Command::new(&path).args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run {}: {e} (built by `cargo test`?)",
            path.display()
        )
    })
}

fn examples() -> Vec<(&'static str, &'static str)> {
    let mut list = vec![
        ("abc", "--rows N"),
        ("echo_server", "--demo N"),
        ("chat_server", "--demo N"),
    ];
    if cfg!(all(feature = "client", feature = "server")) {
        list.push(("automl", "--experiments N"));
    }
    if cfg!(feature = "ray") {
        list.push(("ray_abc", "--url URL"));
    }
    list
}

#[test]
fn help_lists_the_options_and_exits_0() {
    for (name, option) in examples() {
        for flag in ["--help", "-h"] {
            let out = run(name, &[flag]);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{name} {flag}: {out:?}");
            assert!(text.contains(&format!("usage: {name}")), "{name}: {text}");
            assert!(
                text.contains(option) && text.contains("--help"),
                "{name}: {text}"
            );
        }
    }
}

#[test]
fn a_wrong_flag_is_named_with_the_usage_and_exits_2() {
    for (name, _) in examples() {
        let out = run(name, &["--bogus"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains("unknown option '--bogus'"), "{name}: {err}");
        assert!(err.contains(&format!("usage: {name}")), "{name}: {err}");
        let out = run(name, &["--help=now"]);
        assert_eq!(out.status.code(), Some(2), "{name}");
    }
    let out = run("abc", &["--rows", "many"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--rows: 'many' is not a valid number"),
        "{err}"
    );
    let out = run("abc", &["--rows"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rows needs a value"));
}

#[test]
fn an_unwritable_output_path_fails_before_the_run() {
    for (name, flag) in [
        ("abc", "--svg"),
        ("abc", "--trace"),
        ("automl", "--svg"),
        ("automl", "--trace"),
    ] {
        if name == "automl" && !cfg!(all(feature = "client", feature = "server")) {
            continue; // not built in this feature configuration
        }
        let out = run(name, &[flag, "/nonexistent-dir/taskloop/out"]);
        let err = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{name} {flag}: {err}");
        assert!(
            err.contains(&format!(
                "{flag}: cannot write /nonexistent-dir/taskloop/out"
            )),
            "{name} {flag}: {err}"
        );
        assert!(stdout.is_empty(), "{name} {flag} ran anyway: {stdout}");
    }
}
