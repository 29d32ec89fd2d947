//! No job starts before all of its inputs have finished, whatever the shape of the graph
//! and whatever kind of body (blocking, async, local) each job has.

mod flow_util;

use std::sync::{Arc, Mutex};

use flow_util::{record, watchdog, Gate, Seen};
use taskloop::flow::{Event, Flow, Job, JobStatus};

/// A small deterministic random number generator (a 64-bit LCG), so the graph is the
/// same on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
}

/// Job `i`'s inputs: up to three distinct earlier jobs, chosen at random.
fn random_dag(n: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = Lcg(seed);
    (0..n)
        .map(|i| {
            let mut inputs = Vec::new();
            for _ in 0..rng.below(4).min(i) {
                let input = rng.below(i);
                if !inputs.contains(&input) {
                    inputs.push(input);
                }
            }
            inputs
        })
        .collect()
}

/// What job `i` computes from its inputs' results.
fn value(i: usize, inputs: &[Arc<u64>]) -> u64 {
    inputs.iter().map(|v| **v).sum::<u64>() + i as u64
}

/// Where a body logs that it began or ended.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mark {
    Begin(usize),
    End(usize),
}

#[test]
fn no_job_starts_before_its_inputs_finish_in_a_random_dag() {
    watchdog(|| {
        let dag = random_dag(50, 0x5eed);
        let mut flow = Flow::builder().blocking_threads(3).build();
        let events = record(&mut flow);
        let marks = Arc::new(Mutex::new(Vec::new()));
        let mut jobs: Vec<Job<u64>> = Vec::new();
        for (i, inputs) in dag.iter().enumerate() {
            let deps: Vec<Job<u64>> = inputs.iter().map(|&d| jobs[d].clone()).collect();
            let name = format!("job{i}");
            let job = match i % 3 {
                0 => {
                    let marks = marks.clone();
                    flow.job_after(name, &deps, move |values| {
                        marks.lock().unwrap().push(Mark::Begin(i));
                        std::thread::yield_now();
                        marks.lock().unwrap().push(Mark::End(i));
                        value(i, &values)
                    })
                }
                1 => {
                    let marks = marks.clone();
                    flow.job_async(name, &deps, move |values| {
                        let marks = marks.clone();
                        async move {
                            marks.lock().unwrap().push(Mark::Begin(i));
                            taskloop::yield_now().await;
                            marks.lock().unwrap().push(Mark::End(i));
                            value(i, &values)
                        }
                    })
                }
                _ => {
                    let marks = marks.clone();
                    flow.job_local(name, &deps, move |values| {
                        marks.lock().unwrap().push(Mark::Begin(i));
                        marks.lock().unwrap().push(Mark::End(i));
                        value(i, &values)
                    })
                }
            };
            jobs.push(job);
        }

        let report = flow.run();
        assert!(report.is_success(), "{report}");

        // Every result is what the graph computes sequentially.
        let mut expected: Vec<u64> = Vec::new();
        for (i, inputs) in dag.iter().enumerate() {
            expected.push(inputs.iter().map(|&d| expected[d]).sum::<u64>() + i as u64);
        }
        for (i, job) in jobs.iter().enumerate() {
            assert_eq!(*job.result().unwrap(), expected[i], "job{i}");
        }

        // In the bodies' own log, every input ended before its dependent began.
        let marks = marks.lock().unwrap();
        let at = |m: Mark| marks.iter().position(|&x| x == m).unwrap();
        for (i, inputs) in dag.iter().enumerate() {
            for &d in inputs {
                assert!(
                    at(Mark::End(d)) < at(Mark::Begin(i)),
                    "job{i} began before its input job{d} ended"
                );
            }
        }

        // Observers see the same: each input's Finished before the dependent's Started.
        let events = events.borrow();
        let seen = |s: Seen| events.iter().position(|x| *x == s).unwrap();
        for (i, inputs) in dag.iter().enumerate() {
            let started = seen(Seen::Started(format!("job{i}"), 1));
            for &d in inputs {
                let finished = seen(Seen::Finished(format!("job{d}"), JobStatus::Done));
                assert!(finished < started, "job{i} started before job{d} finished");
            }
        }
    });
}

#[test]
fn a_job_waits_for_its_slowest_input() {
    watchdog(|| {
        // `slow` cannot finish until `fast` has: the join must still wait for `slow`.
        let mut flow = Flow::new();
        let gate = Gate::new();
        let opener = gate.clone();
        let fast = flow.job("fast", || 1);
        let slow = flow.job("slow", move || {
            gate.wait();
            2
        });
        let join = flow.job_after("join", (&fast, &slow), |(a, b)| *a + *b);
        let events = record(&mut flow);
        flow.observe(move |e: &Event<'_>| {
            if let Event::Finished { job, .. } = e {
                if job.name == "fast" {
                    opener.open();
                }
            }
        });
        flow.run();
        assert_eq!(*join.result().unwrap(), 3);
        let events = events.borrow();
        let seen = |s: Seen| events.iter().position(|x| *x == s).unwrap();
        let slow_done = seen(Seen::Finished("slow".into(), JobStatus::Done));
        assert!(slow_done < seen(Seen::Started("join".into(), 1)));
    });
}
