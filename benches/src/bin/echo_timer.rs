//! Is a TCP round trip delayed by a pending sub-millisecond timer? (issue 10, goal 3)
//!
//! ```sh
//! cd benches
//! cargo run --release --bin echo_timer
//! ```
//!
//! An echo server runs on a plain thread (blocking std sockets, `TCP_NODELAY`). On a
//! taskloop runtime, the main task sends one byte and reads the echo, `ROUND_TRIPS`
//! times, measuring each round trip. It does so twice: alone, and while a second task
//! sleeps 700 µs over and over, so that whenever the loop parks its earliest timer is
//! under a millisecond away. With the old nap design (`thread::sleep` of the time left,
//! outside `Poll`) an echo arriving during a nap waited for its end; with the timerfd
//! alarm the loop waits in `Poll` and the echo ends the wait at once. Prints p50, p99 and
//! mean round trip in µs.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

const ROUND_TRIPS: usize = 5_000;
const TIMER: Duration = Duration::from_micros(700);

fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut s = stream.expect("accept");
            s.set_nodelay(true).expect("nodelay");
            std::thread::spawn(move || {
                let mut b = [0u8; 1];
                while s.read_exact(&mut b).is_ok() {
                    if s.write_all(&b).is_err() {
                        break;
                    }
                }
            });
        }
    });
    println!("| taskloop, {ROUND_TRIPS} echo round trips | p50 (µs) | p99 (µs) | mean (µs) |");
    println!("| --- | --- | --- | --- |");
    for with_timer in [false, true] {
        let rt = taskloop::Runtime::new().expect("runtime");
        let mut rtt = rt.block_on(async move {
            if with_timer {
                taskloop::spawn(async {
                    loop {
                        taskloop::sleep(TIMER).await;
                    }
                });
            }
            let mut s = taskloop::net::TcpStream::connect(addr)
                .await
                .expect("connect");
            s.set_nodelay(true).expect("nodelay");
            let mut rtt = Vec::with_capacity(ROUND_TRIPS);
            let mut b = [7u8; 1];
            for _ in 0..ROUND_TRIPS {
                let start = Instant::now();
                s.write_all(&b).await.expect("write");
                s.read_exact(&mut b).await.expect("read");
                rtt.push(start.elapsed().as_secs_f64() * 1e6);
            }
            rtt
        });
        rtt.sort_by(f64::total_cmp);
        let at = |p: usize| rtt[(rtt.len() * p / 100).min(rtt.len() - 1)];
        let mean = rtt.iter().sum::<f64>() / rtt.len() as f64;
        let label = if with_timer {
            "a 700 µs sleep always pending"
        } else {
            "no timer"
        };
        println!("| {label} | {:.0} | {:.0} | {:.0} |", at(50), at(99), mean);
    }
}
