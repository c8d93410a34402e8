//! Round trips, simulated crashes, torn tails, corruption and garbage.

mod common;

use std::fs::{self, OpenOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;
use mip_store::{
    Op, Options, RecoveryWarning, Store, StoreError, SyncPolicy, Table, CHECKPOINT_FILE,
};

fn open(dir: &Path) -> (Store, mip_store::Recovery) {
    Store::open(dir, manual_sync()).unwrap()
}

#[test]
fn fresh_directory_is_created_private() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b/state");
    let (store, rec) = open(&dir);
    assert!(rec.created);
    assert_eq!(rec.last_seq, 0);
    assert!(rec.warnings.is_empty());
    let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    for t in Table::ALL {
        assert!(store.is_empty(t).unwrap());
    }
    store.close().unwrap();
    let (_store, rec) = open(&dir);
    assert!(!rec.created);
}

#[test]
fn round_trip_many_batches() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x1234_5678);
    let mut model = Model::new();
    let (mut store, _) = open(tmp.path());
    for i in 0..2000 {
        let batch = random_batch(&mut rng, 8);
        let seq = apply_owned(&mut store, &mut model, &batch);
        assert_eq!(seq, i + 1);
        if i % 500 == 499 {
            store.checkpoint().unwrap();
            assert_eq!(contents(&store), model);
        }
    }
    store.close().unwrap();
    let (store, rec) = open(tmp.path());
    assert_eq!(rec.last_seq, 2000);
    assert!(rec.warnings.is_empty());
    assert_eq!(contents(&store), model);
    // Point reads and counts agree with iteration.
    for ((t, k), v) in &model {
        assert_eq!(store.get(*t, k).unwrap().as_deref(), Some(&v[..]));
    }
    let n: u64 = Table::ALL.iter().map(|t| store.len(*t).unwrap()).sum();
    assert_eq!(n as usize, model.len());
    drop(store);
    // And once more, with nothing new in the journal.
    let (store, rec) = open(tmp.path());
    assert_eq!(rec.last_seq, 2000);
    assert_eq!(contents(&store), model);
}

#[test]
fn sequence_continues_after_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut store, _) = open(tmp.path());
    assert_eq!(
        store.apply(&[Op::put(Table::State, b"a", b"1")]).unwrap(),
        1
    );
    assert_eq!(store.apply(&[]).unwrap(), 1);
    drop(store);
    let (mut store, rec) = open(tmp.path());
    assert_eq!(rec.last_seq, 1);
    assert_eq!(store.apply(&[Op::delete(Table::State, b"a")]).unwrap(), 2);
    drop(store);
    let (store, rec) = open(tmp.path());
    assert_eq!(rec.last_seq, 2);
    assert_eq!(store.get(Table::State, b"a").unwrap(), None);
}

#[test]
fn drop_without_sync_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Rng(77);
    let mut model = Model::new();
    for round in 0..5 {
        let (mut store, rec) = open(tmp.path());
        assert_eq!(contents(&store), model, "round {round}");
        assert_eq!(rec.last_seq, round * 100);
        for _ in 0..100 {
            let batch = random_batch(&mut rng, 5);
            apply_owned(&mut store, &mut model, &batch);
        }
        drop(store); // no sync, no checkpoint, no close
    }
    let (store, _) = open(tmp.path());
    assert_eq!(contents(&store), model);
}

#[test]
fn forgotten_store_loses_nothing_and_keeps_its_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state");
    let mut rng = Rng(99);
    let mut model = Model::new();
    let (mut store, _) = open(&dir);
    for i in 0..300 {
        let batch = random_batch(&mut rng, 5);
        apply_owned(&mut store, &mut model, &batch);
        if i == 150 {
            store.checkpoint().unwrap();
        }
    }
    // Nothing runs on the way out: no Drop, no sync. The files hold what the kernel holds.
    std::mem::forget(store);
    match Store::open(&dir, manual_sync()) {
        Err(StoreError::Locked { holder, .. }) => assert_eq!(holder, Some(std::process::id())),
        other => panic!("expected Locked, got {other:?}"),
    }
    // What a restarted daemon would find once the kernel has released the dead one's files.
    let copy = tmp.path().join("copy");
    copy_dir(&dir, &copy);
    let (store, rec) = open(&copy);
    assert_eq!(rec.last_seq, 300);
    assert_eq!(contents(&store), model);
}

#[test]
fn second_open_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _) = open(tmp.path());
    let err = Store::open(tmp.path(), manual_sync()).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("in use"), "{err}");
    drop(store);
    let _ = open(tmp.path());
}

#[test]
fn invalid_input_is_rejected_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut store, _) = open(tmp.path());
    let big_key = vec![1u8; mip_store::MAX_KEY_LEN + 1];
    let big_value = vec![1u8; mip_store::MAX_VALUE_LEN + 1];
    let before = store.journal_bytes();
    assert!(matches!(
        store.apply(&[
            Op::put(Table::Bindings, b"k", b"v"),
            Op::delete(Table::Bindings, &big_key)
        ]),
        Err(StoreError::InvalidInput { .. })
    ));
    assert!(matches!(
        store.apply(&[Op::put(Table::Bindings, b"k", &big_value)]),
        Err(StoreError::InvalidInput { .. })
    ));
    assert_eq!(store.journal_bytes(), before);
    assert_eq!(
        store
            .apply(&[Op::put(Table::Bindings, b"k", b"v")])
            .unwrap(),
        1
    );
}

/// Applies five batches without any sync, crashes, and returns (journal offset where the
/// last record starts, the file length, model after four batches, model after five).
fn five_unsynced_batches(dir: &Path) -> (u64, u64, Model, Model) {
    let (mut store, _) = open(dir);
    let mut rng = Rng(5);
    let mut model = Model::new();
    for _ in 0..4 {
        let batch = random_batch(&mut rng, 6);
        apply_owned(&mut store, &mut model, &batch);
    }
    let four = model.clone();
    let start = 40 + store.journal_bytes();
    let batch = random_batch(&mut rng, 6);
    apply_owned(&mut store, &mut model, &batch);
    let end = 40 + store.journal_bytes();
    drop(store);
    (start, end, four, model)
}

#[test]
fn torn_tail_at_every_offset_of_the_last_record() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let (start, end, four, five) = five_unsynced_batches(&src);
    let journal = journals(&src).pop().unwrap();
    assert_eq!(fs::metadata(&journal).unwrap().len(), end);
    for cut in start..=end {
        let dir = tmp.path().join(format!("cut{cut}"));
        copy_dir(&src, &dir);
        let j = dir.join(journal.file_name().unwrap());
        OpenOptions::new()
            .write(true)
            .open(&j)
            .unwrap()
            .set_len(cut)
            .unwrap();
        let (store, rec) = open(&dir);
        if cut == end {
            assert_eq!(contents(&store), five);
            assert!(rec.warnings.is_empty());
        } else {
            assert_eq!(contents(&store), four, "cut at {cut}");
            assert_eq!(rec.last_seq, 4);
            if cut == start {
                assert!(rec.warnings.is_empty(), "cut at a record boundary");
            } else {
                assert_eq!(rec.warnings.len(), 1, "cut at {cut}");
                let RecoveryWarning::TornTail {
                    offset,
                    discarded_bytes,
                    ..
                } = &rec.warnings[0]
                else {
                    panic!()
                };
                assert_eq!(*offset, start);
                assert_eq!(*discarded_bytes, cut - start);
                assert!(rec.warnings[0].to_string().contains("torn"));
            }
        }
        drop(store);
        fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn zero_filled_tail_is_a_torn_tail() {
    // A power cut can leave the file longer than the data that reached the disk.
    let tmp = tempfile::tempdir().unwrap();
    let (_, end, _, five) = five_unsynced_batches(tmp.path());
    let journal = journals(tmp.path()).pop().unwrap();
    OpenOptions::new()
        .write(true)
        .open(&journal)
        .unwrap()
        .set_len(end + 8192)
        .unwrap();
    let (store, rec) = open(tmp.path());
    assert_eq!(contents(&store), five);
    assert_eq!(rec.warnings.len(), 1);
}

/// Writes `n` batches, each followed by an fdatasync when `sync` is set; returns the start
/// offset of every record and the model after each batch.
fn batches_with_offsets(
    dir: &Path,
    n: usize,
    options: Options,
    sync: bool,
) -> (Vec<u64>, Vec<Model>) {
    let (mut store, _) = Store::open(dir, options).unwrap();
    let mut rng = Rng(11);
    let mut model = Model::new();
    let mut offsets = Vec::new();
    let mut models = vec![model.clone()];
    for _ in 0..n {
        offsets.push(40 + store.journal_bytes());
        let batch = random_batch(&mut rng, 6);
        apply_owned(&mut store, &mut model, &batch);
        models.push(model.clone());
        if sync {
            store.sync().unwrap();
        }
    }
    drop(store);
    (offsets, models)
}

fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x5a;
    fs::write(path, bytes).unwrap();
}

#[test]
fn corruption_in_synced_middle_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (offsets, _) = batches_with_offsets(tmp.path(), 10, manual_sync(), true);
    let journal = journals(tmp.path()).pop().unwrap();
    flip_byte(&journal, offsets[3] + 30);
    let err = Store::open(tmp.path(), manual_sync()).unwrap_err();
    match &err {
        StoreError::Corrupt { path, offset, .. } => {
            assert_eq!(path, &journal);
            assert_eq!(*offset, offsets[3]);
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains(&journal.display().to_string()), "{text}");
    assert!(text.contains(&offsets[3].to_string()), "{text}");
    // Nothing was changed: the same error again.
    assert!(matches!(
        Store::open(tmp.path(), manual_sync()),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn corruption_in_the_middle_with_every_batch_sync_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let options = Options {
        sync: SyncPolicy::EveryBatch,
        ..Options::default()
    };
    let (offsets, _) = batches_with_offsets(tmp.path(), 6, options.clone(), false);
    let journal = journals(tmp.path()).pop().unwrap();
    // Zero a whole record, as a lost page would.
    let mut bytes = fs::read(&journal).unwrap();
    for b in &mut bytes[offsets[2] as usize..offsets[3] as usize] {
        *b = 0;
    }
    fs::write(&journal, bytes).unwrap();
    assert!(matches!(
        Store::open(tmp.path(), options),
        Err(StoreError::Corrupt { offset, .. }) if offset == offsets[2]
    ));
}

#[test]
fn hole_in_never_synced_data_is_discarded_with_a_warning() {
    // Only a power cut can produce this: later pages reached the disk, an earlier one did
    // not, and none of it had been fdatasynced. Nothing reported durable is lost.
    let tmp = tempfile::tempdir().unwrap();
    let (offsets, models) = batches_with_offsets(tmp.path(), 10, manual_sync(), false);
    let journal = journals(tmp.path()).pop().unwrap();
    flip_byte(&journal, offsets[3] + 30);
    let (store, rec) = open(tmp.path());
    assert_eq!(contents(&store), models[3]);
    assert_eq!(rec.last_seq, 3);
    match &rec.warnings[..] {
        [RecoveryWarning::TornTail {
            offset,
            discarded_records,
            ..
        }] => {
            assert_eq!(*offset, offsets[3]);
            assert_eq!(*discarded_records, 6);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn foreign_and_garbage_files_give_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();

    // A journal that is not ours.
    let d = tmp.path().join("j");
    let (store, _) = open(&d);
    drop(store);
    let j = journals(&d).pop().unwrap();
    fs::write(&j, b"hello, this is not a journal at all").unwrap();
    let err = Store::open(&d, manual_sync()).unwrap_err();
    assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");

    // A checkpoint that is not a redb file.
    let d = tmp.path().join("c");
    fs::create_dir(&d).unwrap();
    fs::write(d.join(CHECKPOINT_FILE), vec![0x42u8; 10_000]).unwrap();
    let err = Store::open(&d, manual_sync()).unwrap_err();
    assert!(err.to_string().contains(CHECKPOINT_FILE), "{err}");

    // A redb database of someone else.
    let d = tmp.path().join("r");
    fs::create_dir(&d).unwrap();
    {
        let db = redb::Database::create(d.join(CHECKPOINT_FILE)).unwrap();
        let t: redb::TableDefinition<u64, u64> = redb::TableDefinition::new("theirs");
        let w = db.begin_write().unwrap();
        w.open_table(t).unwrap().insert(1, 2).unwrap();
        w.commit().unwrap();
    }
    let err = Store::open(&d, manual_sync()).unwrap_err();
    assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");

    // Journals without their checkpoint.
    let d = tmp.path().join("m");
    let (mut store, _) = open(&d);
    store.apply(&[Op::put(Table::State, b"k", b"v")]).unwrap();
    drop(store);
    fs::remove_file(d.join(CHECKPOINT_FILE)).unwrap();
    let err = Store::open(&d, manual_sync()).unwrap_err();
    assert!(matches!(err, StoreError::CheckpointCorrupt { .. }), "{err}");

    // The state directory is a file.
    let f = tmp.path().join("file");
    fs::write(&f, b"x").unwrap();
    assert!(matches!(
        Store::open(&f, manual_sync()),
        Err(StoreError::Io { .. })
    ));
}

#[test]
fn missing_generation_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut store, _) = open(tmp.path());
    store.apply(&[Op::put(Table::State, b"k", b"v")]).unwrap();
    drop(store);
    // Pretend a journal between the checkpoint and this one vanished.
    let j = journals(tmp.path()).pop().unwrap();
    let name = j.file_name().unwrap().to_str().unwrap();
    let generation = u64::from_str_radix(&name[8..24], 16).unwrap();
    let later = tmp
        .path()
        .join(format!("journal-{:016x}.log", generation + 1));
    fs::rename(&j, &later).unwrap();
    let err = Store::open(tmp.path(), manual_sync()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn random_garbage_never_panics() {
    garbage_cases(manual_sync(), 120);
}

#[test]
fn random_garbage_without_verification_never_panics() {
    // redb may panic on a damaged file it was not asked to verify; the store catches that.
    let options = Options {
        verify_checkpoint_on_open: false,
        ..manual_sync()
    };
    garbage_cases(options, 40);
}

fn garbage_cases(options: Options, cases: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Rng(0xdead_beef);
    // A valid store to damage.
    let base = tmp.path().join("base");
    let (mut store, _) = open(&base);
    let mut model = Model::new();
    for i in 0..400 {
        let batch = random_batch(&mut rng, 6);
        apply_owned(&mut store, &mut model, &batch);
        if i == 200 {
            store.checkpoint().unwrap();
        }
    }
    drop(store);
    let journal_name = journals(&base).pop().unwrap();
    let journal_name = journal_name.file_name().unwrap().to_owned();

    for case in 0..cases {
        let d = tmp.path().join(format!("case{case}"));
        copy_dir(&base, &d);
        let target = if case % 2 == 0 {
            d.join(&journal_name)
        } else {
            d.join(CHECKPOINT_FILE)
        };
        let mut bytes = fs::read(&target).unwrap();
        match case % 6 {
            // Entirely random content of a random length.
            0 | 1 => {
                let len = rng.below(20_000) as usize;
                bytes = (0..len).map(|_| rng.next() as u8).collect();
            }
            // Random bytes flipped.
            2 | 3 => {
                for _ in 0..1 + rng.below(20) {
                    let at = rng.below(bytes.len() as u64) as usize;
                    bytes[at] = rng.next() as u8;
                }
            }
            // Random truncation.
            _ => {
                let len = rng.below(bytes.len() as u64) as usize;
                bytes.truncate(len);
            }
        }
        fs::write(&target, &bytes).unwrap();
        // Must not panic; either an error or a store whose every record reads back.
        if let Ok((store, _)) = Store::open(&d, options.clone()) {
            for t in Table::ALL {
                if let Ok(iter) = store.iter(t) {
                    for kv in iter {
                        if kv.is_err() {
                            break;
                        }
                    }
                }
            }
        }
        let _ = fs::remove_dir_all(&d);
    }
}

#[test]
fn leftover_temporary_journal_is_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut store, _) = open(tmp.path());
    store.apply(&[Op::put(Table::State, b"k", b"v")]).unwrap();
    drop(store);
    // A crash in the middle of creating the next journal leaves a temporary file.
    let tmpfile = tmp.path().join("journal-00000000000000ff.log.tmp");
    fs::write(&tmpfile, b"half a header").unwrap();
    let (store, rec) = open(tmp.path());
    assert!(!tmpfile.exists());
    assert_eq!(rec.stale_files_removed, 1);
    assert_eq!(
        store.get(Table::State, b"k").unwrap().as_deref(),
        Some(&b"v"[..])
    );
}

#[test]
fn replaying_a_journal_twice_is_idempotent() {
    // Force a replay of a journal the checkpoint already includes: restore the journal and
    // turn the checkpoint's generation marker back. In-order put/delete replay must give the
    // same state.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut store, rec0) = open(dir);
    let mut rng = Rng(3);
    let mut model = Model::new();
    for _ in 0..200 {
        let batch = random_batch(&mut rng, 6);
        apply_owned(&mut store, &mut model, &batch);
    }
    // Same key put, deleted, put again in one batch and across batches.
    let ops = [
        Op::put(Table::Bindings, b"x", b"1"),
        Op::delete(Table::Bindings, b"x"),
        Op::put(Table::Bindings, b"x", b"2"),
        Op::delete(Table::Replay, b"gone"),
    ];
    store.apply(&ops).unwrap();
    apply_model(&mut model, &ops);
    let journal = journals(dir).pop().unwrap();
    let saved = fs::read(&journal).unwrap();
    store.sync().unwrap();
    store.checkpoint().unwrap();
    assert!(!journal.exists());
    drop(store);
    fs::write(&journal, saved).unwrap();
    {
        let db = redb::Database::create(dir.join(CHECKPOINT_FILE)).unwrap();
        let meta: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("mip_store_meta");
        let w = db.begin_write().unwrap();
        {
            let mut t = w.open_table(meta).unwrap();
            let g = rec0.checkpoint_generation;
            t.insert("generation", &g.to_le_bytes()[..]).unwrap();
            t.insert("seq", &0u64.to_le_bytes()[..]).unwrap();
        }
        w.commit().unwrap();
    }
    let (store, rec) = open(dir);
    assert_eq!(rec.batches_replayed, 201, "{rec:?}");
    assert_eq!(contents(&store), model);
}

#[test]
fn background_checkpoints_while_applying() {
    let tmp = tempfile::tempdir().unwrap();
    let options = Options {
        checkpoint_bytes: 16 << 10,
        ..manual_sync()
    };
    let (mut store, _) = Store::open(tmp.path(), options.clone()).unwrap();
    let mut rng = Rng(8);
    let mut model = Model::new();
    let mut done = 0;
    for _ in 0..5000 {
        let batch = random_batch(&mut rng, 4);
        apply_owned(&mut store, &mut model, &batch);
        if let Some(stats) = store.maintain().unwrap() {
            assert!(stats.batches > 0);
            done += 1;
        }
        if rng.below(50) == 0 {
            // Let the checkpoint thread get somewhere, as a daemon's pace would.
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
    assert!(done >= 2, "only {done} background checkpoints finished");
    // Crash with a checkpoint possibly in flight.
    drop(store);
    let (mut store, rec) = Store::open(tmp.path(), options).unwrap();
    assert_eq!(rec.last_seq, 5000);
    assert_eq!(contents(&store), model);
    assert_eq!(journals(tmp.path()).len(), 1);
    // A synchronous checkpoint after a background one.
    store.apply(&[Op::put(Table::State, b"z", b"z")]).unwrap();
    assert!(store.start_checkpoint().unwrap());
    store.apply(&[Op::put(Table::State, b"y", b"y")]).unwrap();
    let stats = store.checkpoint().unwrap();
    assert_eq!(stats.last_seq, 5002);
    assert_eq!(
        store.get(Table::State, b"y").unwrap().as_deref(),
        Some(&b"y"[..])
    );
    assert_eq!(journals(tmp.path()).len(), 1);
    store.close().unwrap();
}

#[test]
fn every_batch_policy_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let options = Options {
        sync: SyncPolicy::EveryBatch,
        ..Options::default()
    };
    let (mut store, _) = Store::open(tmp.path(), options.clone()).unwrap();
    let mut rng = Rng(21);
    let mut model = Model::new();
    for _ in 0..50 {
        let batch = random_batch(&mut rng, 4);
        apply_owned(&mut store, &mut model, &batch);
    }
    drop(store);
    let (store, _) = Store::open(tmp.path(), options).unwrap();
    assert_eq!(contents(&store), model);
}

#[test]
fn interval_sync_thread_syncs() {
    let tmp = tempfile::tempdir().unwrap();
    let options = Options {
        sync: SyncPolicy::Interval(std::time::Duration::from_millis(5)),
        ..Options::default()
    };
    let (mut store, _) = Store::open(tmp.path(), options.clone()).unwrap();
    store.apply(&[Op::put(Table::State, b"a", b"1")]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    // The second record carries the synced offset: a flip in the first one is now real
    // corruption, not a torn tail.
    store.apply(&[Op::put(Table::State, b"b", b"2")]).unwrap();
    drop(store);
    let j = journals(tmp.path()).pop().unwrap();
    flip_byte(&j, 40 + 30);
    assert!(matches!(
        Store::open(tmp.path(), options),
        Err(StoreError::Corrupt { offset: 40, .. })
    ));
}

#[test]
fn stale_records_of_an_older_journal_after_a_torn_tail_are_not_evidence() {
    // Some file systems (ext4 data=writeback) can expose stale blocks after a power cut: old
    // journal records, intact and with large `synced_upto`, after the torn point. Their
    // sequence numbers give them away.
    let tmp = tempfile::tempdir().unwrap();
    let (offsets, _) = batches_with_offsets(tmp.path(), 10, manual_sync(), true);
    let old = fs::read(journals(tmp.path()).pop().unwrap()).unwrap();
    let (mut store, rec) = open(tmp.path());
    assert_eq!(rec.last_seq, 10);
    let mut model = contents(&store);
    let mut rng = Rng(12);
    for _ in 0..3 {
        let batch = random_batch(&mut rng, 4);
        apply_owned(&mut store, &mut model, &batch);
    }
    drop(store);
    let j = journals(tmp.path()).pop().unwrap();
    let mut bytes = fs::read(&j).unwrap();
    bytes.extend_from_slice(&[0x11; 7]); // torn
    bytes.extend_from_slice(&old[offsets[0] as usize..]); // stale, intact, "synced"
    fs::write(&j, bytes).unwrap();
    let (store, rec) = open(tmp.path());
    assert_eq!(rec.last_seq, 13);
    assert_eq!(rec.warnings.len(), 1);
    assert_eq!(contents(&store), model);
}
