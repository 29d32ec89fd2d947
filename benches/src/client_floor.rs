//! What one HTTP request costs the client process here, with no runtime at all: the floor
//! under the client benchmark's "CPU per request" (`src/bin/client.rs`, issue 10 goal 1).
//!
//! The same poll the clients send (`GET /v2/tasks/{id}` with Basic auth, one keep-alive
//! connection, the answer read to its end) is sent `count` times back to back, three ways:
//!
//! - **raw socket**: a blocking `std::net::TcpStream`, the request written in one `write`,
//!   the answer read until its `Content-Length` is in: the kernel's share alone;
//! - **ureq, one thread**: a ureq 3 agent called in a loop on the measuring thread;
//! - **ureq on a worker thread**: the same calls on a second thread, each one sent to it
//!   over a `crossbeam-channel` and its answer sent back, one at a time: the two thread
//!   hand-offs every blocking-pool call makes, and nothing else of taskloop.

use std::io::{Read, Write};
use std::net::TcpStream;

use base64::Engine as _;

/// CPU time of the whole process (every thread, live or exited), in seconds.
pub fn process_cpu() -> f64 {
    let usage = rusage();
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

#[allow(unsafe_code)]
fn rusage() -> libc::rusage {
    // SAFETY: getrusage fills the struct it is given; an all-zero rusage is valid.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Each way's process CPU per request, in µs: `(name, µs)`.
pub fn measure(
    url: &str,
    user: &str,
    password: &str,
    csv: &str,
    count: usize,
) -> Result<Vec<(&'static str, f64)>, BoxError> {
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    // Something to poll: one upload task.
    let answer = agent
        .post(format!("{url}/v2/upload"))
        .header("Authorization", &auth)
        .content_type("text/csv")
        .send(csv)?
        .body_mut()
        .read_to_string()?;
    let id = serde_json::from_str::<serde_json::Value>(&answer)?["_id"]
        .as_str()
        .ok_or("the upload's answer has no _id")?
        .to_owned();
    let poll_url = format!("{url}/v2/tasks/{id}");
    let per_request = |f: &mut dyn FnMut() -> Result<(), BoxError>| {
        f()?; // connect outside the measurement
        let cpu = process_cpu();
        for _ in 0..count {
            f()?;
        }
        Ok::<_, BoxError>((process_cpu() - cpu) / count as f64 * 1e6)
    };

    let mut rows = Vec::new();
    let host = url.trim_start_matches("http://");
    let mut raw = RawClient::connect(host, &format!("/v2/tasks/{id}"), &auth)?;
    rows.push(("raw socket, one thread", per_request(&mut || raw.poll())?));

    let call = |agent: &ureq::Agent| -> Result<(), BoxError> {
        let mut response = agent
            .get(&poll_url)
            .header("Authorization", &auth)
            .header("Accept", "application/json")
            .call()?;
        let body = response.body_mut().read_to_vec()?;
        if response.status() != 200 || body.len() < 10 {
            return Err(format!("the poll was answered {}", response.status()).into());
        }
        Ok(())
    };
    rows.push(("ureq, one thread", per_request(&mut || call(&agent))?));

    let (jobs, queued) = crossbeam_channel::unbounded::<()>();
    let (done, answers) = crossbeam_channel::unbounded::<Result<(), String>>();
    let worker = {
        let (agent, call) = (agent.clone(), call);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for () in queued {
                    let _ = done.send(call(&agent).map_err(|e| e.to_string()));
                }
            });
            let handed_off = per_request(&mut || {
                jobs.send(())?;
                Ok(answers.recv()??)
            });
            drop(jobs);
            handed_off
        })
    };
    rows.push(("ureq on a worker thread, one at a time", worker?));
    Ok(rows)
}

/// HTTP/1.1 by hand on one blocking keep-alive connection.
struct RawClient {
    stream: TcpStream,
    request: Vec<u8>,
    buf: Vec<u8>,
}

impl RawClient {
    fn connect(host: &str, path: &str, auth: &str) -> Result<RawClient, BoxError> {
        let stream = TcpStream::connect(host)?;
        stream.set_nodelay(true)?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n\
             Accept: application/json\r\n\r\n"
        );
        Ok(RawClient {
            stream,
            request: request.into_bytes(),
            buf: vec![0; 64 * 1024],
        })
    }

    fn poll(&mut self) -> Result<(), BoxError> {
        self.stream.write_all(&self.request)?;
        let mut got = 0;
        loop {
            let n = self.stream.read(&mut self.buf[got..])?;
            if n == 0 {
                return Err("the server closed the connection".into());
            }
            got += n;
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut response = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head) = response.parse(&self.buf[..got])? {
                let length = response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| {
                        std::str::from_utf8(h.value)
                            .ok()?
                            .trim()
                            .parse::<usize>()
                            .ok()
                    })
                    .ok_or("an answer without Content-Length")?;
                if response.code != Some(200) {
                    return Err(format!("the poll was answered {:?}", response.code).into());
                }
                if got >= head + length {
                    return Ok(());
                }
            }
        }
    }
}
