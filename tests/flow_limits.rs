//! Limits and priorities: no more jobs run at once than the flow-wide limit and each
//! named limit allow, and among ready jobs the higher priority starts first (first come,
//! first served among equals).
//!
//! Each limit test makes its bodies wait on a barrier of the limit's size, so the limit
//! is also reached (a flow that ran fewer at once would hang), and counts the bodies
//! running at once, so it is never exceeded.

mod flow_util;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use flow_util::{record, start_order, watchdog, AsyncBarrier, Gate, Meter};
use taskloop::flow::{Event, Flow};

/// Declares `n` blocking jobs that meet in groups of `group` and are counted by `meter`.
fn blocking_jobs(flow: &mut Flow, n: usize, group: usize, meter: &Meter, limit: Option<&str>) {
    let barrier = Arc::new(Barrier::new(group));
    for i in 0..n {
        let (barrier, meter) = (barrier.clone(), meter.clone());
        let job = flow.job(format!("blocking{i}"), move || {
            let _inside = meter.enter();
            barrier.wait();
            std::thread::sleep(Duration::from_millis(1));
        });
        if let Some(limit) = limit {
            job.limit(limit);
        }
    }
}

/// Declares `n` async jobs that meet in groups of `group` and are counted by `meter`.
fn async_jobs(flow: &mut Flow, n: usize, group: usize, meter: &Meter, limit: Option<&str>) {
    let barrier = AsyncBarrier::new(group);
    for i in 0..n {
        let (barrier, meter) = (barrier.clone(), meter.clone());
        let job = flow.job_async(format!("async{i}"), (), move |()| {
            let (barrier, meter) = (barrier.clone(), meter.clone());
            async move {
                let _inside = meter.enter();
                barrier.wait().await;
                taskloop::sleep(Duration::from_millis(1)).await;
            }
        });
        if let Some(limit) = limit {
            job.limit(limit);
        }
    }
}

#[test]
fn max_running_caps_blocking_jobs() {
    watchdog(|| {
        let mut flow = Flow::builder().blocking_threads(4).max_running(2).build();
        let meter = Meter::default();
        blocking_jobs(&mut flow, 8, 2, &meter, None);
        assert!(flow.run().is_success());
        assert_eq!(meter.max(), 2);
    });
}

#[test]
fn max_running_caps_async_jobs() {
    watchdog(|| {
        let mut flow = Flow::builder().max_running(3).build();
        let meter = Meter::default();
        async_jobs(&mut flow, 9, 3, &meter, None);
        assert!(flow.run().is_success());
        assert_eq!(meter.max(), 3);
    });
}

#[test]
fn max_running_counts_every_kind_of_job() {
    watchdog(|| {
        // Blocking and async bodies share one count: the cap holds across both kinds.
        let mut flow = Flow::builder().blocking_threads(4).max_running(2).build();
        let meter = Meter::default();
        blocking_jobs(&mut flow, 4, 1, &meter, None);
        async_jobs(&mut flow, 4, 1, &meter, None);
        assert!(flow.run().is_success());
        assert!(meter.max() <= 2, "{} ran at once", meter.max());
    });
}

#[test]
fn a_named_limit_caps_only_its_jobs() {
    watchdog(|| {
        let mut flow = Flow::builder().blocking_threads(4).build();
        flow.limit("upload", 2);
        let uploads = Meter::default();
        blocking_jobs(&mut flow, 6, 2, &uploads, Some("upload"));
        // Untagged jobs that must run together while uploads run.
        let others = Meter::default();
        let barrier = Arc::new(Barrier::new(2));
        for i in 0..2 {
            let (barrier, others) = (barrier.clone(), others.clone());
            flow.job(format!("other{i}"), move || {
                let _inside = others.enter();
                barrier.wait();
            });
        }
        assert!(flow.run().is_success());
        assert_eq!(uploads.max(), 2);
        assert_eq!(others.max(), 2);
    });
}

#[test]
fn a_named_limit_caps_async_jobs() {
    watchdog(|| {
        let mut flow = Flow::new();
        flow.limit("db", 2);
        let meter = Meter::default();
        async_jobs(&mut flow, 6, 2, &meter, Some("db"));
        assert!(flow.run().is_success());
        assert_eq!(meter.max(), 2);
    });
}

#[test]
fn a_user_limit_named_like_the_pool_leaves_the_pool_alone_and_still_limits_its_jobs() {
    watchdog(|| {
        // The pool limit once lived in the same map as named limits, under this name:
        // defining it replaced the pool's size, and the two blocking jobs below, which
        // must run together on the two workers, would have waited for each other forever.
        let name = "taskloop:blocking-pool";
        let mut flow = Flow::builder().blocking_threads(2).build();
        flow.limit(name, 1);
        let pool = Meter::default();
        blocking_jobs(&mut flow, 4, 2, &pool, None);
        let tagged = Meter::default();
        async_jobs(&mut flow, 3, 1, &tagged, Some(name));
        assert!(flow.run().is_success());
        assert_eq!(pool.max(), 2);
        assert_eq!(tagged.max(), 1);
    });
}

#[test]
fn higher_priority_ready_jobs_start_first_and_equals_in_order() {
    watchdog(|| {
        let mut flow = Flow::builder().max_running(1).build();
        let events = record(&mut flow);
        for (name, priority) in [("low", -1), ("a", 0), ("b", 0), ("high", 5), ("c", 0)] {
            flow.job(name, || ()).priority(priority);
        }
        assert!(flow.run().is_success());
        assert_eq!(
            start_order(&events.borrow()),
            ["high", "a", "b", "c", "low"]
        );
    });
}

#[test]
fn a_job_that_becomes_ready_later_still_goes_first_if_it_ranks_higher() {
    watchdog(|| {
        let mut flow = Flow::builder().max_running(1).build();
        let events = record(&mut flow);
        let first = flow.job("first", || ());
        flow.job_after("urgent", &first, |_| ()).priority(10);
        for name in ["x", "y"] {
            flow.job(name, || ());
        }
        assert!(flow.run().is_success());
        assert_eq!(start_order(&events.borrow()), ["first", "urgent", "x", "y"]);
    });
}

#[test]
fn jobs_queued_on_a_named_limit_get_it_by_priority() {
    watchdog(|| {
        // `holder` keeps the only "gpu" slot until `pre` has finished. Meanwhile `low`
        // queues for the slot first, then `high` (ready once `pre` is done) queues too.
        let mut flow = Flow::new();
        flow.limit("gpu", 1);
        let events = record(&mut flow);
        let gate = Gate::new();
        let opener = gate.clone();
        flow.job("holder", move || {
            gate.wait();
        })
        .limit("gpu");
        flow.job("low", || ()).limit("gpu");
        let pre = flow.job_local("pre", (), |()| ());
        flow.job_after("high", &pre, |_| ())
            .priority(5)
            .limit("gpu");
        flow.observe(move |e: &Event<'_>| {
            if matches!(e, Event::Finished { job, .. } if job.name == "pre") {
                opener.open();
            }
        });
        assert!(flow.run().is_success());
        let order = start_order(&events.borrow());
        let at = |name: &str| order.iter().position(|n| n == name).unwrap();
        assert!(at("high") < at("low"), "{order:?}");
    });
}
