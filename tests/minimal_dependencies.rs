//! The runtime-and-flow build (`default-features = false`) is for minimal embedding: it
//! depends on mio, slab and crossbeam-channel and on nothing else, and this test records
//! how many crates that makes in all. (The reactor's `timerfd` alarm, through rustix, is
//! the `timerfd` feature.) It asks `cargo tree` (offline, from the lock file),
//! so it sees what a user's build would compile.

use std::collections::BTreeSet;
use std::process::Command;

/// The crates (without versions) the build with `features` depends on, at `depth`.
fn dependencies(features: &[&str], depth: Option<u32>) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--offline",
            "-q",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(features);
    if let Some(depth) = depth {
        cmd.args(["--depth", &depth.to_string()]);
    }
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "taskloop")
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_runtime_and_flow_need_only_mio_slab_and_crossbeam_channel() {
    let direct = dependencies(&["--no-default-features"], Some(1));
    assert_eq!(
        direct.iter().map(String::as_str).collect::<Vec<_>>(),
        ["crossbeam-channel", "mio", "slab"]
    );
    let all = dependencies(&["--no-default-features"], None);
    println!("runtime and flow: {} crates: {all:?}", all.len());
    assert_eq!(all.len(), 6, "{all:?}");
    let timerfd = dependencies(&["--no-default-features", "--features", "timerfd"], Some(1));
    if cfg!(target_os = "linux") {
        assert!(timerfd.contains("rustix"), "{timerfd:?}");
    }
}

#[test]
fn each_feature_pulls_only_its_own_dependencies() {
    let direct = |features: &[&str]| dependencies(features, Some(1));
    let client = direct(&["--no-default-features", "--features", "client"]);
    assert!(
        client.contains("ureq") && !client.contains("httparse"),
        "{client:?}"
    );
    let server = direct(&["--no-default-features", "--features", "server"]);
    assert!(
        server.contains("httparse") && !server.contains("ureq"),
        "{server:?}"
    );
    for (name, features) in [
        (
            "client",
            vec!["--no-default-features", "--features", "client"],
        ),
        (
            "server",
            vec!["--no-default-features", "--features", "server"],
        ),
        ("default (automl, tls)", vec![]),
    ] {
        println!("{name}: {} crates", dependencies(&features, None).len());
    }
}
