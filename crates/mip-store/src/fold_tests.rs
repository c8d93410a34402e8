//! Folding keeps only the last op per record: the result must be exactly what applying every
//! op in journal order gives, whatever the chunk limits and journal boundaries.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::{Op, Options, Store, StoreError, SyncPolicy, Table};

type Model = BTreeMap<(Table, Vec<u8>), Vec<u8>>;

/// An op that owns its bytes.
#[derive(Clone, Debug)]
enum Owned {
    Put(Table, Vec<u8>, Vec<u8>),
    Delete(Table, Vec<u8>),
}

impl Owned {
    fn as_op(&self) -> Op<'_> {
        match self {
            Owned::Put(t, k, v) => Op::put(*t, k, v),
            Owned::Delete(t, k) => Op::delete(*t, k),
        }
    }
}

fn put(t: Table, k: &str, v: &str) -> Owned {
    Owned::Put(t, k.as_bytes().to_vec(), v.as_bytes().to_vec())
}

fn del(t: Table, k: &str) -> Owned {
    Owned::Delete(t, k.as_bytes().to_vec())
}

/// The naive fold: every op applied one by one, in order.
fn naive(model: &mut Model, batch: &[Owned]) {
    for op in batch {
        match op {
            Owned::Put(t, k, v) => {
                model.insert((*t, k.clone()), v.clone());
            }
            Owned::Delete(t, k) => {
                model.remove(&(*t, k.clone()));
            }
        }
    }
}

fn apply(store: &mut Store, batch: &[Owned]) {
    let ops: Vec<Op<'_>> = batch.iter().map(Owned::as_op).collect();
    store.apply(&ops).unwrap();
}

fn options(fold_chunk_keys: usize) -> Options {
    Options {
        sync: SyncPolicy::Interval(Duration::from_secs(3600)),
        checkpoint_bytes: u64::MAX,
        fold_chunk_keys,
        ..Options::default()
    }
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

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Batches of 1–4 ops over `keys` keys per table, mostly puts (values of 0–40 bytes).
fn random_batches(rng: &mut Rng, batches: usize, keys: u64) -> Vec<Vec<Owned>> {
    (0..batches)
        .map(|_| {
            (0..1 + rng.below(4))
                .map(|_| {
                    let t = Table::ALL[rng.below(3) as usize];
                    let k = format!("key{}", rng.below(keys)).into_bytes();
                    if rng.below(5) == 0 {
                        Owned::Delete(t, k)
                    } else {
                        let len = rng.below(41) as usize;
                        let v = (0..len).map(|_| rng.below(256) as u8).collect();
                        Owned::Put(t, k, v)
                    }
                })
                .collect()
        })
        .collect()
}

/// Runs `phases` of batches against a store in `dir`, each phase ending in a different way
/// of folding (foreground checkpoint with rotations inside, recovery after a crash,
/// background checkpoint). Checks the contents against the naive fold after each and returns
/// the final contents and the ops written to the checkpoint by the checkpoints.
fn run(dir: &Path, opts: Options, phases: &[Vec<Vec<Owned>>]) -> (Model, u64) {
    let mut model = Model::new();
    let mut applied = 0;
    let (mut store, _) = Store::open(dir, opts.clone()).unwrap();
    for (p, batches) in phases.iter().enumerate() {
        for (i, b) in batches.iter().enumerate() {
            apply(&mut store, b);
            naive(&mut model, b);
            if i % 97 == 96 {
                // Several journals in one fold: records span journal boundaries.
                store.test_rotate().unwrap();
            }
        }
        match p % 3 {
            0 => {
                let stats = store.checkpoint().unwrap();
                assert_eq!(stats.ops, batches.iter().map(|b| b.len() as u64).sum());
                applied += stats.applied;
            }
            1 => {
                drop(store);
                let (s, rec) = Store::open(dir, opts.clone()).unwrap();
                assert_eq!(
                    rec.ops_replayed,
                    batches.iter().map(|b| b.len() as u64).sum()
                );
                store = s;
            }
            _ => {
                assert!(store.start_checkpoint().unwrap());
                let stats = loop {
                    if let Some(s) = store.poll_checkpoint().unwrap() {
                        break s;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                };
                applied += stats.applied;
            }
        }
        assert_eq!(contents(&store), model, "phase {p}");
    }
    store.close().unwrap();
    (model, applied)
}

#[test]
fn many_updates_of_few_keys_fold_like_op_by_op() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let phases: Vec<_> = (0..6).map(|_| random_batches(&mut rng, 2000, 12)).collect();
    let ops: u64 = phases.iter().flatten().map(|b| b.len() as u64).sum();

    let coalesced = tempfile::tempdir().unwrap();
    let (model, applied) = run(coalesced.path(), options(65_536), &phases);
    // Op by op, as before coalescing.
    let op_by_op = tempfile::tempdir().unwrap();
    let (naive_model, naive_applied) = run(op_by_op.path(), options(1), &phases);
    assert_eq!(model, naive_model);
    assert!(!model.is_empty());

    // Same state, and the checkpoint files hold the same records.
    let (a, _) = Store::open(coalesced.path(), options(65_536)).unwrap();
    let (b, _) = Store::open(op_by_op.path(), options(1)).unwrap();
    assert_eq!(contents(&a), contents(&b));

    // The four checkpoints (phases 0, 2, 3, 5) wrote at most one op per record touched
    // (12 keys x 3 tables), op by op every op.
    let checkpointed: u64 = [0, 2, 3, 5]
        .iter()
        .map(|&p| phases[p].iter().map(|b| b.len() as u64).sum::<u64>())
        .sum();
    assert_eq!(naive_applied, checkpointed);
    assert!(applied <= 4 * 36, "{applied} ops written");
    assert!(ops > 10 * applied);
}

#[test]
fn chunk_boundaries_with_a_bound_of_three_keys() {
    let (b, r) = (Table::Bindings, Table::Replay);
    let tmp = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::open(tmp.path(), options(3)).unwrap();
    let mut model = Model::new();
    let before = [put(b, "a", "0"), put(b, "b", "0"), put(b, "d", "0")];
    apply(&mut store, &before);
    naive(&mut model, &before);
    store.checkpoint().unwrap();

    #[rustfmt::skip]
    let batches: Vec<Vec<Owned>> = vec![
        // chunk 1: a, b, then c fills it (a's three ops leave a = 2)
        vec![put(b, "a", "1"), put(b, "b", "1")],
        vec![del(b, "a"), put(b, "a", "2"), put(b, "c", "1")],
        // chunk 2: b deleted (was 1 in chunk 1), a record of another table, d deleted
        vec![del(b, "b"), put(r, "x", "1"), del(b, "d")],
        // chunk 3: b and d come back, a goes
        vec![put(b, "b", "2"), del(b, "a"), put(b, "d", "2")],
        // chunk 4 spans two journals: a put and deleted again, e's last op a put, c deleted
        vec![put(b, "a", "3"), del(b, "a")],
        vec![put(b, "e", "1"), del(b, "e"), put(b, "e", "2"), del(b, "c")],
        // chunk 5, written at the end of the fold: c again
        vec![put(b, "c", "3")],
    ];
    for (i, batch) in batches.iter().enumerate() {
        apply(&mut store, batch);
        naive(&mut model, batch);
        if i == 4 {
            store.test_rotate().unwrap();
        }
    }
    let stats = store.checkpoint().unwrap();
    assert_eq!(stats.journals, 2);
    assert_eq!(stats.ops, 18);
    assert_eq!(stats.applied, 3 + 3 + 3 + 3 + 1);
    let expected: Model = [
        ((b, "b"), "2"),
        ((b, "c"), "3"),
        ((b, "d"), "2"),
        ((b, "e"), "2"),
        ((r, "x"), "1"),
    ]
    .into_iter()
    .map(|((t, k), v)| ((t, k.as_bytes().to_vec()), v.as_bytes().to_vec()))
    .collect();
    assert_eq!(model, expected);
    assert_eq!(contents(&store), expected);

    // The same journal replayed by recovery, with the same bound, and op by op.
    for bound in [3, 1] {
        let tmp = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(tmp.path(), options(bound)).unwrap();
        apply(&mut store, &before);
        store.checkpoint().unwrap();
        for (i, batch) in batches.iter().enumerate() {
            apply(&mut store, batch);
            if i == 4 {
                store.test_rotate().unwrap();
            }
        }
        drop(store);
        let (store, rec) = Store::open(tmp.path(), options(bound)).unwrap();
        assert_eq!(rec.journals.len(), 2);
        assert_eq!(rec.ops_replayed, 18);
        assert_eq!(contents(&store), expected, "bound {bound}");
    }
}

#[test]
fn chunks_written_before_a_failed_fold_are_not_committed() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::open(tmp.path(), options(2)).unwrap();
    let mut model = Model::new();
    let first: Vec<Owned> = (0..10)
        .map(|i| put(Table::Bindings, &format!("k{i}"), "old"))
        .collect();
    apply(&mut store, &first);
    naive(&mut model, &first);
    store.checkpoint().unwrap();
    // Journal 1: 10 updates, folded in chunks of 2 before the fold reaches journal 2.
    for i in 0..10 {
        apply(&mut store, &[put(Table::Bindings, &format!("k{i}"), "new")]);
    }
    store.test_rotate().unwrap();
    apply(&mut store, &[del(Table::Bindings, "k0")]);
    let damaged = store.test_journal_path();
    store.test_rotate().unwrap();
    // A closed journal is trusted to be intact: damage in it fails the whole fold.
    let len = std::fs::metadata(&damaged).unwrap().len();
    let mut bytes = std::fs::read(&damaged).unwrap();
    bytes[len as usize - 3] ^= 0xff;
    std::fs::write(&damaged, bytes).unwrap();
    assert!(matches!(
        store.checkpoint(),
        Err(StoreError::Corrupt { .. })
    ));
    assert_eq!(contents(&store), model, "a partial fold became visible");
    drop(store);
    assert!(matches!(
        Store::open(tmp.path(), options(2)),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn hash_collisions_end_chunks() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::open(tmp.path(), options(65_536)).unwrap();
    // Every record has the same hash.
    store.test_set_fold_hash_mask(0);
    let mut model = Model::new();
    let batches = [
        vec![
            put(Table::Bindings, "a", "1"),
            put(Table::Bindings, "a", "2"),
        ],
        vec![put(Table::Replay, "a", "1"), del(Table::Bindings, "a")],
        vec![
            put(Table::Bindings, "b", "1"),
            put(Table::Bindings, "b", "2"),
        ],
        vec![put(Table::Bindings, "a", "3")],
    ];
    for b in &batches {
        apply(&mut store, b);
        naive(&mut model, b);
    }
    let stats = store.checkpoint().unwrap();
    assert_eq!(stats.ops, 7);
    // Chunks: {bindings a}, {replay a}, {bindings a}, {bindings b}, {bindings a}.
    assert_eq!(stats.applied, 5);
    assert_eq!(contents(&store), model);
}

#[test]
fn byte_limit_ends_chunks() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut store, _) = Store::open(tmp.path(), options(65_536)).unwrap();
    // Room for about two records of 100-byte values (plus the per-record overhead).
    store.test_set_fold_chunk_bytes(2 * (100 + 48 + 2) + 1);
    let mut model = Model::new();
    let mut rng = Rng(77);
    let mut batches = Vec::new();
    for i in 0..300 {
        let k = format!("k{}", rng.below(8));
        // Values that grow as a record is overwritten end chunks as well.
        let v = "v".repeat(if i % 10 == 9 { 300 } else { 100 });
        let b = if i % 7 == 6 {
            vec![del(Table::State, &k)]
        } else {
            vec![put(Table::State, &k, &v)]
        };
        apply(&mut store, &b);
        naive(&mut model, &b);
        batches.push(b);
    }
    let stats = store.checkpoint().unwrap();
    assert_eq!(stats.ops, 300);
    // Many chunks of at most 3 records each.
    assert!(stats.applied > 300 / 4, "{} ops written", stats.applied);
    assert!(stats.applied < 300);
    assert_eq!(contents(&store), model);
}

#[test]
fn random_journals_fold_alike_with_any_bound() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..24 {
        let bound = 1 + rng.below(6) as usize;
        let keys = 1 + rng.below(10);
        let n = 50 + rng.below(300) as usize;
        let batches = random_batches(&mut rng, n, keys);
        let rotate_every = 1 + rng.below(60) as usize;
        let tmp = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(tmp.path(), options(bound)).unwrap();
        if case % 2 == 1 {
            store.test_set_fold_chunk_bytes(64 + rng.below(400) as usize);
        }
        if case % 3 == 2 {
            // Two hash bits: records with equal hashes meet often.
            store.test_set_fold_hash_mask(3);
        }
        let mut model = Model::new();
        for (i, b) in batches.iter().enumerate() {
            apply(&mut store, b);
            naive(&mut model, b);
            if i % rotate_every == rotate_every - 1 {
                store.test_rotate().unwrap();
            }
            if i % 150 == 149 {
                store.checkpoint().unwrap();
                assert_eq!(contents(&store), model, "case {case}, batch {i}");
            }
        }
        store.checkpoint().unwrap();
        assert_eq!(contents(&store), model, "case {case}");
    }
}
