//! The data directory's crash rules, one interrupted step at a time: what a crash can
//! leave behind is cleaned up at the next open, and a row never outlives its file.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::automl::server::budget::MemoryBudget;
use crate::automl::server::store::{Caps, Store};

fn fresh(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taskloop-disk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_file_whose_row_was_never_committed_and_unfinished_temporaries_are_removed_at_open() {
    let root = fresh("orphans");
    let (dir, _) = DataDir::open(&root, None).unwrap();
    // A crash after the file was renamed into place but before its row was committed,
    // and one in the middle of writing a temporary file.
    dir.write_object(&data_file("aaaa"), &[b"whole"]).unwrap();
    std::fs::write(root.join("tmp").join("7-bbbb.data"), b"half").unwrap();
    let row = json!({"_id": "cccc"});
    dir.write_object(&model_file("cccc"), &[b"{}"]).unwrap();
    dir.commit(&[Row::Model {
        id: "cccc",
        exp_id: "e",
        kind: "cluster",
        doc: &row,
    }])
    .unwrap();
    dir.close();
    let (dir, loaded) = DataDir::open(&root, None).unwrap();
    assert!(!root.join("objects").join("aaaa.data").exists());
    assert!(std::fs::read_dir(root.join("tmp"))
        .unwrap()
        .next()
        .is_none());
    assert!(
        root.join("objects").join("cccc.model").exists(),
        "a file with a row stays"
    );
    assert_eq!(loaded.models.len(), 1);
    assert!(dir.used() >= 2);
    dir.close();
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_row_whose_file_is_gone_is_dropped_at_restore_so_no_id_names_nothing() {
    let root = fresh("dangling");
    let (dir, _) = DataDir::open(&root, None).unwrap();
    let doc = json!({"_id": "dddd", "data_name": "x"});
    dir.commit(&[Row::Data {
        id: "dddd",
        doc: &doc,
    }])
    .unwrap();
    dir.close();
    let (dir, mut loaded) = DataDir::open(&root, None).unwrap();
    assert_eq!(loaded.items.len(), 1);
    let dir = Arc::new(dir);
    let budget = MemoryBudget::new(usize::MAX);
    let mut store = Store::with_caps(Caps::default(), budget.reservation(), Some(dir.clone()));
    store.restore(&mut loaded);
    assert!(store.data_doc("dddd").is_none());
    dir.close();
    let (dir, loaded) = DataDir::open(&root, None).unwrap();
    assert!(loaded.items.is_empty(), "the dangling row was deleted");
    dir.close();
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn the_disk_budget_refuses_a_write_in_words_and_leaves_nothing() {
    let root = fresh("budget");
    let (dir, _) = DataDir::open(&root, Some(1 << 20)).unwrap();
    let big = vec![7u8; 2 << 20];
    let err = dir.write_object(&data_file("eeee"), &[&big]).unwrap_err();
    assert!(
        err.contains("data directory is full") && err.contains("--max-disk"),
        "{err}"
    );
    assert!(!root.join("objects").join("eeee.data").exists());
    assert!(std::fs::read_dir(root.join("tmp"))
        .unwrap()
        .next()
        .is_none());
    dir.write_object(&data_file("ffff"), &[b"small"]).unwrap();
    dir.remove_object(&data_file("ffff"));
    assert_eq!(dir.object_bytes.load(Ordering::Relaxed), 0);
    dir.close();
    let _ = std::fs::remove_dir_all(&root);
}
