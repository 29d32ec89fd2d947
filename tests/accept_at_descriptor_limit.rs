//! An accept loop without a pause, at the descriptor limit (issue 9, item 5): `accept`
//! fails at once ("too many open files") and the socket stays ready, so without the
//! cooperative budget the task never returns `Pending` and nothing else on the loop,
//! not even a reporter waking every 10 ms, runs again.
//!
//! The test runs itself again as a child process with `RLIMIT_NOFILE` set to 64 by the
//! shell's `ulimit` (only the child is limited), connects 100 clients to it from this
//! process, and waits for the child to say that its reporter kept ticking while
//! `accept` failed. The child's own watchdog thread exits with an error if the loop is
//! stuck.

use std::cell::Cell;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::Duration;

const CHILD: &str = "TASKLOOP_ACCEPT_CHILD";

#[test]
fn the_loop_keeps_running_when_accept_fails_at_the_descriptor_limit() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 64 && exec \"$0\" \"$@\"")
        .arg(exe)
        .args([
            "--exact",
            "the_loop_keeps_running_when_accept_fails_at_the_descriptor_limit",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("the child names its port").unwrap();
        // libtest may have printed the test's name on the same line.
        if let Some((_, port)) = line.split_once("PORT ") {
            break port.parse::<u16>().unwrap();
        }
    };
    let clients: Vec<_> = (0..100)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    let verdict = lines
        .map_while(Result::ok)
        .find(|l| l.contains("RESULT "))
        .unwrap_or_default();
    drop(clients);
    let status = child.wait().unwrap();
    assert!(
        status.success() && verdict.contains("ticks"),
        "child: {status}, {verdict:?}"
    );
}

fn child() {
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(20));
        println!("RESULT the loop is stuck: the reporter stopped");
        std::process::exit(3);
    });
    let rt = taskloop::Runtime::new().unwrap();
    rt.block_on(async {
        let listener = taskloop::net::TcpListener::bind("127.0.0.1:0").unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        let (errors, ticks) = (Rc::new(Cell::new(0u64)), Rc::new(Cell::new(0u64)));
        let e = errors.clone();
        taskloop::spawn(async move {
            let mut kept = Vec::new();
            loop {
                // No pause on error: the budget alone must make this loop yield.
                match listener.accept().await {
                    Ok((conn, _)) => kept.push(conn),
                    Err(_) => e.set(e.get() + 1),
                }
            }
        });
        let t = ticks.clone();
        taskloop::spawn(async move {
            loop {
                taskloop::sleep(Duration::from_millis(10)).await;
                t.set(t.get() + 1);
            }
        });
        while errors.get() == 0 {
            taskloop::sleep(Duration::from_millis(10)).await;
        }
        let at_first_error = ticks.get();
        while ticks.get() < at_first_error + 20 {
            taskloop::sleep(Duration::from_millis(10)).await;
        }
        println!(
            "RESULT the reporter ran 20 ticks while accept failed {} times",
            errors.get()
        );
    });
    std::process::exit(0);
}
