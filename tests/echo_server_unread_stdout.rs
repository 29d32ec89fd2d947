//! `echo_server` keeps echoing when nothing reads its stdout (issue 9, item 8): it used
//! to `println!` a line per connection on the loop thread, which blocks for good once
//! the pipe (64 KiB on Linux) is full, and with it every connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name)
}

#[test]
fn a_full_stdout_pipe_does_not_stop_the_echo() {
    let mut child = Command::new(example("echo_server"))
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the example is built by cargo test");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line.trim().rsplit(' ').next().unwrap().to_string();
    // From here on nobody reads stdout. 3,000 connections log about 200 KiB.
    let mut failure = None;
    for i in 0..3000 {
        let attempt = (|| -> std::io::Result<()> {
            let mut s = TcpStream::connect(&addr)?;
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.write_all(b"ping")?;
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf)?;
            assert_eq!(&buf, b"ping");
            Ok(())
        })();
        if let Err(e) = attempt {
            failure = Some(format!("connection {i}: {e}"));
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(failure, None);
}
