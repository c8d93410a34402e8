//! A real `kill -9`: a child process (this test binary, in child mode) applies batches in a
//! loop with background checkpoints and reports each applied batch on stdout; the parent
//! SIGKILLs it at varying points, reopens the store and checks that every reported batch,
//! and nothing half-applied, is there. Several rounds on the same directory, each child
//! continuing from what the previous one left.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use mip_store::{Op, Options, Store, SyncPolicy, Table};

const CHILD_ENV: &str = "MIP_STORE_KILL9_CHILD_DIR";

fn options() -> Options {
    Options {
        sync: SyncPolicy::Interval(Duration::from_millis(20)),
        // Small, so that checkpoints (rotation, fold, removal) are often in flight at the kill.
        checkpoint_bytes: 32 << 10,
        ..Options::default()
    }
}

fn value(seq: u64) -> Vec<u8> {
    format!("binding of batch {seq}").into_bytes()
}

/// The state after batches 1..=n.
fn check_state(store: &Store, n: u64) {
    let mut expected = Vec::new();
    for i in 1..=n {
        let deleted = i < n && (i + 1) % 3 == 0;
        if !deleted {
            expected.push((i.to_be_bytes().to_vec(), value(i)));
        }
    }
    let got: Vec<(Vec<u8>, Vec<u8>)> = store
        .iter(Table::Bindings)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got.len(), expected.len(), "bindings after {n} batches");
    assert!(got == expected, "bindings differ after {n} batches");
    let counter = store.get(Table::Replay, b"counter").unwrap();
    if n == 0 {
        assert_eq!(counter, None);
    } else {
        assert_eq!(counter, Some(n.to_be_bytes().to_vec()));
    }
}

#[test]
fn kill9_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return; // Only does something when started by `kill9_parent`.
    };
    let (mut store, rec) = Store::open(&dir, options()).unwrap();
    let mut seq = rec.last_seq;
    loop {
        seq += 1;
        // Batch `seq` puts key `seq` and the replay counter; every third batch also deletes
        // the key of the batch before it.
        let key = seq.to_be_bytes();
        let prev = (seq - 1).to_be_bytes();
        let v = value(seq);
        let mut ops = vec![
            Op::put(Table::Bindings, &key, &v),
            Op::put(Table::Replay, b"counter", &key),
        ];
        if seq % 3 == 0 {
            ops.push(Op::delete(Table::Bindings, &prev));
        }
        assert_eq!(store.apply(&ops).unwrap(), seq);
        println!("applied {seq}");
        store.maintain().unwrap();
    }
}

#[test]
fn kill9_parent() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("state");
    let exe = std::env::current_exe().unwrap();
    let mut last = 0u64;
    for round in 0..8u64 {
        let mut child = Command::new(&exe)
            .args(["kill9_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let target = 200 + (round * 1777) % 3000;
        let mut reported = last;
        let mut seen = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("applied ") {
                reported = n.parse().unwrap();
                seen += 1;
                if seen >= target {
                    break;
                }
            }
        }
        // SIGKILL, with the child most likely in the middle of its next batch.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "child exited on its own: {status:?}");
        assert_eq!(seen, target, "child died before the kill (round {round})");

        let (store, rec) = Store::open(&dir, options()).unwrap();
        assert!(
            rec.last_seq >= reported,
            "round {round}: batch {reported} was reported applied, recovered only {}",
            rec.last_seq
        );
        println!(
            "round {round}: reported {reported}, recovered {}, {} journal(s) replayed, \
             {} stale file(s) removed, warnings {:?}",
            rec.last_seq,
            rec.journals.len(),
            rec.stale_files_removed,
            rec.warnings
        );
        check_state(&store, rec.last_seq);
        last = rec.last_seq;
        store.close().unwrap();
    }
}
