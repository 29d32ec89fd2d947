//! The task table's transitions, results and messages.

use super::*;
use crate::automl::server::worker::JobOutput;

fn job() -> Job {
    Box::new(|_| JobOutput::Fail("unused".into()))
}

fn status(table: &TaskTable, id: &str) -> Value {
    table.get(id).unwrap().to_json()["status"].clone()
}

#[test]
fn jobs_run_in_fifo_order_within_the_slot_limit() {
    let mut table = TaskTable::default();
    let ids: Vec<String> = (0..3)
        .map(|_| table.submit(TaskKind::Train, job()).unwrap())
        .collect();
    assert_eq!(table.next_runnable(2).unwrap().0, ids[0]);
    assert_eq!(table.next_runnable(2).unwrap().0, ids[1]);
    assert!(table.next_runnable(2).is_none());
    assert_eq!((table.running(), table.pending()), (2, 1));
    assert_eq!(status(&table, &ids[2]), "pending");
    let made = Arc::new(json!({"_id": "x", "rows": 3}));
    assert!(table.finish(&ids[0], Outcome::Done(made.clone())));
    table.release(&ids[0], None);
    assert_eq!(table.next_runnable(2).unwrap().0, ids[2]);
    let doc = table.get(&ids[0]).unwrap().to_json();
    assert_eq!(
        (doc["status"].as_str(), doc["progress"].as_f64()),
        (Some("done"), Some(1.0))
    );
    assert_eq!(doc["result"], *made);
    drop(made); // the item is deleted: the task still names it
    let doc = table.get(&ids[0]).unwrap().to_json();
    assert_eq!(doc["result"], json!({"_id": "x", "deleted": true}));
    assert!(doc["finished_at"].as_f64().unwrap() >= doc["created_at"].as_f64().unwrap());
}

#[test]
fn stop_fails_pending_and_running_tasks_but_not_finished_ones() {
    let mut table = TaskTable::default();
    let running = table.submit(TaskKind::Train, job()).unwrap();
    let pending = table.submit(TaskKind::Upload, job()).unwrap();
    table.next_runnable(1);
    let doc = table.stop(&pending).unwrap().to_json();
    assert_eq!(
        (doc["status"].as_str(), doc["progress_message"].as_str()),
        (Some("fail"), Some("stopped"))
    );
    assert_eq!(table.pending(), 0);
    table.stop(&running);
    assert!(table.get(&running).unwrap().cancel.load(Ordering::SeqCst));
    // The job returns later: its outcome is dropped, its slot freed.
    assert!(!table.finish(&running, Outcome::Done(Arc::new(json!({})))));
    table.release(&running, None);
    assert_eq!(status(&table, &running), "fail");
    assert_eq!(table.running(), 0);
    assert!(table.stop("task-nope").is_none());
}

#[test]
fn a_job_cut_short_by_the_shutdown_fails_as_interrupted_by_a_restart() {
    let mut table = TaskTable::default();
    let cut = table.submit(TaskKind::Train, job()).unwrap();
    let done = table.submit(TaskKind::Predict, job()).unwrap();
    table.next_runnable(2);
    table.next_runnable(2);
    table.cancel_all();
    assert!(table.finish(&cut, Outcome::Fail("stopped".into())));
    assert!(table.finish(&done, Outcome::Done(Arc::new(json!({"_id": "p"})))));
    let doc = table.get(&cut).unwrap().to_json();
    assert_eq!(
        (doc["status"].as_str(), doc["progress_message"].as_str()),
        (Some("fail"), Some(restore::RESTARTED))
    );
    assert_eq!(status(&table, &done), "done");
}

#[test]
fn an_ended_task_keeps_a_short_message() {
    let mut table = TaskTable::default();
    let id = table.submit(TaskKind::Upload, job()).unwrap();
    table.next_runnable(1);
    let long = format!("column '{}' is bad", "é".repeat(40_000));
    assert!(table.finish(&id, Outcome::Fail(long)));
    let doc = table.get(&id).unwrap().to_json();
    let message = doc["progress_message"].as_str().unwrap();
    assert!(message.len() <= MAX_MESSAGE_BYTES + 3 && message.ends_with("..."));
}

#[test]
fn a_panicking_job_fails_its_task() {
    let mut table = TaskTable::default();
    let id = table.submit(TaskKind::Predict, job()).unwrap();
    table.next_runnable(1);
    table.progress(&id, 7.0, "half");
    assert_eq!(table.get(&id).unwrap().to_json()["progress"], 1.0);
    table.release(&id, Some("internal error".into()));
    let doc = table.get(&id).unwrap().to_json();
    assert_eq!(
        (doc["status"].as_str(), doc["progress_message"].as_str()),
        (Some("fail"), Some("internal error"))
    );
}
