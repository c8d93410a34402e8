//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mip_store::{Op, Options, Store, SyncPolicy, Table};

/// The expected contents of every table.
pub type Model = BTreeMap<(Table, Vec<u8>), Vec<u8>>;

/// Small deterministic PRNG (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Options that never sync on their own (tests decide when data is synced).
pub fn manual_sync() -> Options {
    Options {
        sync: SyncPolicy::Interval(Duration::from_secs(3600)),
        ..Options::default()
    }
}

/// Everything the checkpoint holds, all tables.
pub fn contents(store: &Store) -> Model {
    let mut m = Model::new();
    for t in Table::ALL {
        for kv in store.iter(t).unwrap() {
            let (k, v) = kv.unwrap();
            m.insert((t, k), v);
        }
    }
    m
}

/// Applies `ops` to the model.
pub fn apply_model(model: &mut Model, ops: &[Op<'_>]) {
    for op in ops {
        match *op {
            Op::Put { table, key, value } => {
                model.insert((table, key.to_vec()), value.to_vec());
            }
            Op::Delete { table, key } => {
                model.remove(&(table, key.to_vec()));
            }
        }
    }
}

/// Owned ops, for generating random batches.
#[derive(Clone, Debug)]
pub enum OwnedOp {
    Put(Table, Vec<u8>, Vec<u8>),
    Delete(Table, Vec<u8>),
}

impl OwnedOp {
    pub fn as_op(&self) -> Op<'_> {
        match self {
            OwnedOp::Put(t, k, v) => Op::put(*t, k, v),
            OwnedOp::Delete(t, k) => Op::delete(*t, k),
        }
    }
}

/// A random batch over a small key space (so puts and deletes hit the same keys).
pub fn random_batch(rng: &mut Rng, max_ops: u64) -> Vec<OwnedOp> {
    let n = 1 + rng.below(max_ops);
    (0..n)
        .map(|_| {
            let table = Table::ALL[rng.below(Table::ALL.len() as u64) as usize];
            let key = (rng.below(200) as u32).to_be_bytes().to_vec();
            if rng.below(4) == 0 {
                OwnedOp::Delete(table, key)
            } else {
                let len = rng.below(100) as usize;
                let value = (0..len).map(|_| rng.next() as u8).collect();
                OwnedOp::Put(table, key, value)
            }
        })
        .collect()
}

pub fn apply_owned(store: &mut Store, model: &mut Model, batch: &[OwnedOp]) -> u64 {
    let ops: Vec<Op<'_>> = batch.iter().map(OwnedOp::as_op).collect();
    let seq = store.apply(&ops).unwrap();
    apply_model(model, &ops);
    seq
}

/// Copies the files of a state directory (what the kernel holds for them) to `dst`.
pub fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
}

/// The journal files in a state directory, oldest first.
pub fn journals(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n.starts_with("journal-") && n.ends_with(".log")
        })
        .collect();
    v.sort();
    v
}
