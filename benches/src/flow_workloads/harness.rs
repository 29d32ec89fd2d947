//! The harness of section 1: each implementation runs on its own thread (taskloop's and
//! smol's runtimes are `!Send`) and the implementations take turns, one run each per
//! round, so that a change in the machine's load hits all of them alike.

use std::sync::mpsc;
use std::time::Duration;

use super::{bookkeeping, median_of, memory};

/// Builds an implementation's runtime (on its own thread) and returns one run of it on a
/// graph of the given number of layers.
pub type MakeRun = fn(usize) -> Box<dyn FnMut() -> bookkeeping::Split>;

/// One implementation's result: the median phases, and allocation calls per job.
pub struct Measured {
    pub split: bookkeeping::Split,
    pub allocs_per_job: f64,
}

/// An implementation on its own thread, running once per request; the reply is the run and
/// its allocation calls (counted process-wide: only one implementation runs at a time).
struct Worker {
    request: mpsc::Sender<()>,
    reply: mpsc::Receiver<(bookkeeping::Split, usize)>,
    thread: std::thread::JoinHandle<()>,
}

impl Worker {
    fn start(make: MakeRun, layers: usize) -> Worker {
        let (request, requests) = mpsc::channel::<()>();
        let (replies, reply) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let mut run = make(layers);
            while requests.recv().is_ok() {
                let calls = memory::alloc_calls();
                let split = run();
                let calls = memory::alloc_calls() - calls;
                if replies.send((split, calls)).is_err() {
                    return;
                }
            }
        });
        Worker {
            request,
            reply,
            thread,
        }
    }

    /// One run; `Err` with the panic message if the implementation panicked.
    fn run(&self) -> Result<(bookkeeping::Split, usize), String> {
        let _ = self.request.send(());
        self.reply
            .recv()
            .map_err(|_| "the run panicked".to_string())
    }

    /// Stops the thread; `Err` with the panic message if it panicked.
    fn stop(self) -> Result<(), String> {
        drop(self.request);
        self.thread.join().map_err(|p| panic_message(&*p))
    }
}

/// Runs the implementations on a graph of `layers` layers in interleaved rounds (`warmup`
/// unmeasured rounds, then `measured`), so a change in the machine's load hits all of
/// them alike; checks every run's checksum. One result per implementation, in order.
pub fn interleaved(
    makers: &[MakeRun],
    layers: usize,
    warmup: usize,
    measured: usize,
) -> Vec<Result<Measured, String>> {
    let expected = bookkeeping::expected_checksum(layers);
    let workers: Vec<Worker> = (makers.iter())
        .map(|&make| Worker::start(make, layers))
        .collect();
    let mut runs: Vec<Result<Vec<(bookkeeping::Split, usize)>, String>> =
        workers.iter().map(|_| Ok(Vec::new())).collect();
    for round in 0..warmup + measured {
        for (worker, runs) in workers.iter().zip(&mut runs) {
            let Ok(list) = runs else { continue };
            match worker.run() {
                Ok((s, _)) if s.checksum != expected => {
                    *runs = Err(format!(
                        "wrong checksum {} (expected {expected})",
                        s.checksum
                    ))
                }
                Ok(run) if round >= warmup => list.push(run),
                Ok(_) => {}
                Err(why) => *runs = Err(why),
            }
        }
    }
    let stopped = workers.into_iter().map(Worker::stop);
    runs.into_iter()
        .zip(stopped)
        .map(|(runs, stopped)| {
            stopped?;
            Ok(summarize(runs?, layers * bookkeeping::WIDTH))
        })
        .collect()
}

/// The median of each phase and of the total, and the median allocation calls per job.
fn summarize(runs: Vec<(bookkeeping::Split, usize)>, jobs: usize) -> Measured {
    let mut calls: Vec<usize> = runs.iter().map(|m| m.1).collect();
    calls.sort_unstable();
    let med = |f: fn(&bookkeeping::Split) -> Duration| median_of(runs.iter().map(|r| f(&r.0)));
    let total = med(bookkeeping::Split::total);
    let (declare, run, teardown) = (med(|s| s.declare), med(|s| s.run), med(|s| s.teardown));
    // Report the phases' medians, scaled so they add up to the median total.
    let scale = total.as_secs_f64() / (declare + run + teardown).as_secs_f64();
    Measured {
        split: bookkeeping::Split {
            declare: declare.mul_f64(scale),
            run: run.mul_f64(scale),
            teardown: teardown.mul_f64(scale),
            checksum: runs[0].0.checksum,
        },
        allocs_per_job: calls[(calls.len() - 1) / 2] as f64 / jobs as f64,
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string panic payload>".to_string())
}
