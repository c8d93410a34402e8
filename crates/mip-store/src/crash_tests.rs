//! Crashes at each step of a checkpoint, using the store's internal steps.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::{Op, Options, Store, SyncPolicy, Table};

type Model = BTreeMap<(Table, Vec<u8>), Vec<u8>>;

fn options() -> Options {
    Options {
        sync: SyncPolicy::Interval(Duration::from_secs(3600)),
        ..Options::default()
    }
}

fn put(store: &mut Store, model: &mut Model, i: u32) {
    let k = i.to_be_bytes();
    let v = format!("value {i}");
    let mut ops = vec![Op::put(Table::Bindings, &k, v.as_bytes())];
    model.insert((Table::Bindings, k.to_vec()), v.as_bytes().to_vec());
    let prev = i.wrapping_sub(7).to_be_bytes();
    if i.is_multiple_of(3) {
        ops.push(Op::delete(Table::Bindings, &prev));
        model.remove(&(Table::Bindings, prev.to_vec()));
    }
    store.apply(&ops).unwrap();
}

fn contents(store: &Store) -> Model {
    let mut m = Model::new();
    for t in Table::ALL {
        for kv in store.iter(t).unwrap() {
            let (k, v) = kv.unwrap();
            m.insert((t, k), v);
        }
    }
    m
}

fn journal_count(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            let n = e.as_ref().unwrap().file_name();
            let n = n.to_str().unwrap();
            n.starts_with("journal-") && n.ends_with(".log")
        })
        .count()
}

#[test]
fn crash_after_rotation_before_fold() {
    let tmp = tempfile::tempdir().unwrap();
    let mut model = Model::new();
    let (mut store, _) = Store::open(tmp.path(), options()).unwrap();
    for i in 0..100 {
        put(&mut store, &mut model, i);
    }
    store.test_rotate().unwrap();
    for i in 100..150 {
        put(&mut store, &mut model, i);
    }
    assert_eq!(journal_count(tmp.path()), 2);
    drop(store);
    let (store, rec) = Store::open(tmp.path(), options()).unwrap();
    assert_eq!(rec.journals.len(), 2, "{rec:?}");
    assert_eq!(rec.last_seq, 150);
    assert_eq!(contents(&store), model);
    assert_eq!(journal_count(tmp.path()), 1);
}

#[test]
fn crash_after_fold_commit_before_journal_removal() {
    let tmp = tempfile::tempdir().unwrap();
    let mut model = Model::new();
    let (mut store, _) = Store::open(tmp.path(), options()).unwrap();
    for i in 0..100 {
        put(&mut store, &mut model, i);
    }
    let old = store.test_journal_path();
    store.test_fold_without_removal().unwrap();
    assert!(old.exists());
    for i in 100..130 {
        put(&mut store, &mut model, i);
    }
    drop(store);
    let (store, rec) = Store::open(tmp.path(), options()).unwrap();
    assert!(!old.exists());
    assert_eq!(rec.stale_files_removed, 1);
    assert_eq!(rec.batches_replayed, 30);
    assert_eq!(contents(&store), model);
}

#[test]
fn crash_after_fold_commit_with_nothing_after() {
    let tmp = tempfile::tempdir().unwrap();
    let mut model = Model::new();
    let (mut store, _) = Store::open(tmp.path(), options()).unwrap();
    for i in 0..100 {
        put(&mut store, &mut model, i);
    }
    store.test_fold_without_removal().unwrap();
    drop(store);
    let (store, rec) = Store::open(tmp.path(), options()).unwrap();
    assert_eq!(rec.batches_replayed, 0);
    assert_eq!(rec.last_seq, 100);
    assert_eq!(contents(&store), model);
}

#[test]
fn crash_during_fold_before_commit() {
    // An uncommitted redb transaction leaves the checkpoint as it was: the same on-disk state
    // as a crash after rotation. Simulate by rotating twice (two closed journals) and crashing.
    let tmp = tempfile::tempdir().unwrap();
    let mut model = Model::new();
    let (mut store, _) = Store::open(tmp.path(), options()).unwrap();
    for i in 0..50 {
        put(&mut store, &mut model, i);
    }
    store.checkpoint().unwrap();
    for i in 50..80 {
        put(&mut store, &mut model, i);
    }
    store.test_rotate().unwrap();
    for i in 80..90 {
        put(&mut store, &mut model, i);
    }
    store.test_rotate().unwrap();
    put(&mut store, &mut model, 90);
    drop(store);
    let (store, rec) = Store::open(tmp.path(), options()).unwrap();
    assert_eq!(rec.journals.len(), 3);
    assert_eq!(rec.batches_replayed, 41);
    assert_eq!(contents(&store), model);
}
