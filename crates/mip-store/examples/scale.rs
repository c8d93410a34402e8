//! Scale check: 1 000 000 records (4-byte key, 60-byte value).
//!
//! ```text
//! cargo run --release -p mip-store --example scale [-- RECORDS [DIR]]
//! cargo run --release -p mip-store --example scale -- renewals [DIR]
//! ```
//!
//! Reports the apply rate (batches of 64 records, and one registration per batch), the time
//! of a checkpoint of the whole journal, restart times (open + iterate) with the state in the
//! journal (after a crash) and in the checkpoint, a steady state with background checkpoints,
//! the rate with an fdatasync per batch, and the checkpoint of a renewal-heavy journal
//! (1.7 million ops over 20 000 mobile nodes) folded op by op (`fold_chunk_keys: 1`, as before
//! coalescing) and coalesced (the default). `renewals` runs only the last.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mip_store::{Op, Options, Store, SyncPolicy, Table};

const VALUE_LEN: usize = 60;

fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l[name.len()..].trim().to_string())
            .unwrap_or_default()
    };
    format!("RSS {}, peak {}", field("VmRSS:"), field("VmHWM:"))
}

fn value(i: u32, round: u32) -> [u8; VALUE_LEN] {
    let mut v = [0u8; VALUE_LEN];
    for (j, b) in v.iter_mut().enumerate() {
        *b = (i as usize + j + round as usize) as u8;
    }
    v[0..4].copy_from_slice(&round.to_be_bytes());
    v
}

/// Applies `n` records in batches of `batch`; returns records/s.
fn load(store: &mut Store, n: u32, batch: u32, round: u32, maintain: bool) -> f64 {
    let started = Instant::now();
    let mut keys = Vec::with_capacity(batch as usize);
    let mut values = Vec::with_capacity(batch as usize);
    let mut i = 0;
    let mut batches = 0u64;
    while i < n {
        keys.clear();
        values.clear();
        let end = (i + batch).min(n);
        for k in i..end {
            keys.push(k.to_be_bytes());
            values.push(value(k, round));
        }
        let ops: Vec<Op<'_>> = keys
            .iter()
            .zip(&values)
            .map(|(k, v)| Op::put(Table::Bindings, k, v))
            .collect();
        store.apply(&ops).unwrap();
        batches += 1;
        if maintain && batches.is_multiple_of(256) {
            if let Some(stats) = store.maintain().unwrap() {
                println!(
                    "    background checkpoint: {} ops, {:.1} MiB in {:.2?}",
                    stats.ops,
                    stats.bytes as f64 / (1 << 20) as f64,
                    stats.elapsed
                );
            }
        }
        i = end;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// One registration per batch: the binding and its replay state.
fn registrations(store: &mut Store, n: u32) -> f64 {
    let started = Instant::now();
    for i in 0..n {
        let k = i.to_be_bytes();
        let v = value(i, 7);
        let ts = (i as u64).to_be_bytes();
        store
            .apply(&[
                Op::put(Table::Bindings, &k, &v),
                Op::put(Table::Replay, &k, &ts),
            ])
            .unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn reopen_and_iterate(dir: &Path, n: u32) -> (Store, Duration, Duration) {
    let started = Instant::now();
    let (store, rec) = Store::open(dir, Options::default()).unwrap();
    let opened = started.elapsed();
    let mut count = 0u32;
    let mut bytes = 0usize;
    for kv in store.iter(Table::Bindings).unwrap() {
        let (k, v) = kv.unwrap();
        count += 1;
        bytes += k.len() + v.len();
    }
    assert_eq!(count, n, "records after reopen");
    assert!(bytes > 0);
    println!(
        "    recovery: replayed {} batches / {} ops from {} journal(s), warnings {:?}",
        rec.batches_replayed,
        rec.ops_replayed,
        rec.journals.len(),
        rec.warnings
    );
    (store, opened, started.elapsed())
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

const CRASH_ENV: &str = "MIP_STORE_SCALE_CRASH_CHILD";

/// Mobile nodes of the renewal-heavy case.
const RENEWAL_NODES: u32 = 20_000;
/// Registrations (binding + replay record: 2 ops each) in the renewal-heavy journal.
const RENEWALS: u32 = 850_000;

/// Renewal-heavy load as the daemon sees it: `RENEWAL_NODES` mobile nodes registered (and in
/// the checkpoint), then `RENEWALS` renewals of random nodes (every 64th a deregistration),
/// then one foreground checkpoint of that journal. Returns the checkpoint's stats and the
/// final contents (to compare runs).
fn renewal_case(dir: &Path, options: Options) -> (mip_store::CheckpointStats, Vec<Vec<u8>>) {
    let _ = std::fs::remove_dir_all(dir);
    let options = Options {
        checkpoint_bytes: u64::MAX,
        ..options
    };
    let (mut store, _) = Store::open(dir, options).unwrap();
    for i in 0..RENEWAL_NODES {
        let k = i.to_be_bytes();
        store
            .apply(&[
                Op::put(Table::Bindings, &k, &value(i, 0)),
                Op::put(Table::Replay, &k, &0u64.to_be_bytes()),
            ])
            .unwrap();
    }
    store.checkpoint().unwrap();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..RENEWALS {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let node = (rng % u64::from(RENEWAL_NODES)) as u32;
        let k = node.to_be_bytes();
        let ts = u64::from(i).to_be_bytes();
        let v = value(node, i);
        let binding = if i % 64 == 63 {
            Op::delete(Table::Bindings, &k)
        } else {
            Op::put(Table::Bindings, &k, &v)
        };
        store
            .apply(&[binding, Op::put(Table::Replay, &k, &ts)])
            .unwrap();
    }
    let stats = store.checkpoint().unwrap();
    let mut contents = Vec::new();
    for t in Table::ALL {
        for kv in store.iter(t).unwrap() {
            let (k, v) = kv.unwrap();
            contents.push([&[t as u8][..], &k, &v].concat());
        }
    }
    store.close().unwrap();
    let _ = std::fs::remove_dir_all(dir);
    (stats, contents)
}

/// The renewal-heavy checkpoint folded op by op (as before coalescing) and coalesced.
fn renewals(dir: &Path) {
    let (naive, naive_contents) = renewal_case(
        dir,
        Options {
            fold_chunk_keys: 1,
            ..Options::default()
        },
    );
    let (coalesced, contents) = renewal_case(dir, Options::default());
    assert_eq!(naive.ops, coalesced.ops);
    assert!(contents == naive_contents, "coalesced fold differs");
    println!(
        "renewal-heavy checkpoint, {} ops over {RENEWAL_NODES} nodes ({:.1} MiB of journal): \
         op by op {:.2?} ({} writes), coalesced {:.2?} ({} writes)",
        coalesced.ops,
        coalesced.bytes as f64 / (1 << 20) as f64,
        naive.elapsed,
        naive.applied,
        coalesced.elapsed,
        coalesced.applied
    );
}

fn main() {
    if let Ok(dir) = std::env::var(CRASH_ENV) {
        // Child: write a journal's worth of updates on top of the checkpoint, then die
        // without any cleanup (SIGABRT: no destructors, no sync, redb left open).
        let n: u32 = std::env::args().nth(1).unwrap().parse().unwrap();
        let (mut store, _) = Store::open(
            &dir,
            Options {
                checkpoint_bytes: u64::MAX,
                ..Options::default()
            },
        )
        .unwrap();
        load(&mut store, n, 64, 4, false);
        std::process::abort();
    }
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("renewals") {
        args.next();
        let dir: PathBuf = args.next().map(PathBuf::from).unwrap_or_else(|| {
            std::env::temp_dir().join(format!("mip-store-renewals-{}", std::process::id()))
        });
        renewals(&dir);
        return;
    }
    let n: u32 = args.next().map(|a| a.parse().unwrap()).unwrap_or(1_000_000);
    let dir: PathBuf = args.next().map(PathBuf::from).unwrap_or_else(|| {
        std::env::temp_dir().join(format!("mip-store-scale-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    println!("state directory {} , {n} records", dir.display());

    // 1. Load into the journal only (no checkpoint), group commit every 50 ms.
    let no_checkpoint = Options {
        checkpoint_bytes: u64::MAX,
        ..Options::default()
    };
    let (mut store, _) = Store::open(&dir, no_checkpoint.clone()).unwrap();
    let rate = load(&mut store, n, 64, 1, false);
    println!(
        "apply, batches of 64:          {:>12.0} records/s  (journal {:.1} MiB; {})",
        rate,
        store.journal_bytes() as f64 / (1 << 20) as f64,
        rss()
    );

    // 2. Crash with everything in the journal; restart folds it all.
    drop(store);
    let (store, opened, total) = reopen_and_iterate(&dir, n);
    println!(
        "restart after crash, {n} records in journal: open {:.2?}, open+iterate {:.2?}  ({})",
        opened,
        total,
        rss()
    );

    // 3. One registration per batch (2 ops), 1M bindings resident.
    drop(store);
    let (mut store, _) = Store::open(&dir, no_checkpoint).unwrap();
    let rate = registrations(&mut store, n);
    println!(
        "apply, 1 registration/batch:   {:>12.0} registrations/s  ({} records/s)",
        rate,
        rate * 2.0
    );

    let stats = store.checkpoint().unwrap();
    println!(
        "checkpoint: {} ops / {:.1} MiB of journal folded in {:.2?}",
        stats.ops,
        stats.bytes as f64 / (1 << 20) as f64,
        stats.elapsed,
    );

    // 4. Update every record again, then checkpoint the whole journal in the foreground.
    let rate = load(&mut store, n, 64, 2, false);
    println!("apply, batches of 64, updates: {:>12.0} records/s", rate);
    let stats = store.checkpoint().unwrap();
    println!(
        "checkpoint: {} ops / {:.1} MiB of journal folded in {:.2?}  ({})",
        stats.ops,
        stats.bytes as f64 / (1 << 20) as f64,
        stats.elapsed,
        rss()
    );
    store.close().unwrap();

    // 5. Clean restart: everything in the checkpoint.
    let (store, opened, total) = reopen_and_iterate(&dir, n);
    println!(
        "restart, {n} records in checkpoint: open {:.2?}, open+iterate {:.2?}  (state dir {:.1} MiB)",
        opened,
        total,
        dir_size(&dir) as f64 / (1 << 20) as f64
    );
    drop(store);
    let started = Instant::now();
    let (store, _) = Store::open(
        &dir,
        Options {
            verify_checkpoint_on_open: false,
            ..Options::default()
        },
    )
    .unwrap();
    println!(
        "restart without verify_checkpoint_on_open: open {:.2?}",
        started.elapsed()
    );
    drop(store);

    // 6. Real crash (abort) with 1M records in the checkpoint and 1M updates in the journal.
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .arg(n.to_string())
        .env(CRASH_ENV, &dir)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success());
    let (store, opened, total) = reopen_and_iterate(&dir, n);
    println!(
        "restart after abort(), {n} in checkpoint + {n} updates in journal: open {:.2?}, open+iterate {:.2?}",
        opened, total
    );
    drop(store);

    // 7. Steady state: single-registration batches as fast as possible, background
    //    checkpoints every 64 MiB of journal, maintain() called as a 50 ms timer would.
    let (mut store, _) = Store::open(&dir, Options::default()).unwrap();
    let started = Instant::now();
    let mut last_tick = Instant::now();
    let mut checkpoints = 0;
    let total = n * 5;
    for i in 0..total {
        let k = (i % n).to_be_bytes();
        let v = value(i, 5);
        let ts = (i as u64).to_be_bytes();
        store
            .apply(&[
                Op::put(Table::Bindings, &k, &v),
                Op::put(Table::Replay, &k, &ts),
            ])
            .unwrap();
        if i.is_multiple_of(1024) && last_tick.elapsed() >= Duration::from_millis(50) {
            last_tick = Instant::now();
            if let Some(stats) = store.maintain().unwrap() {
                checkpoints += 1;
                println!(
                    "    background checkpoint: {} ops / {:.1} MiB folded in {:.2?}",
                    stats.ops,
                    stats.bytes as f64 / (1 << 20) as f64,
                    stats.elapsed
                );
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "steady state, 1 registration/batch + background checkpoints: {:.0} registrations/s \
         over {:.1} s, {checkpoints} checkpoints done, journal backlog {:.1} MiB  ({})",
        total as f64 / secs,
        secs,
        store.journal_bytes() as f64 / (1 << 20) as f64,
        rss()
    );
    store.close().unwrap();

    // 8. fdatasync per batch.
    let (mut store, _) = Store::open(
        &dir,
        Options {
            sync: SyncPolicy::EveryBatch,
            ..Options::default()
        },
    )
    .unwrap();
    let started = Instant::now();
    let mut batches = 0u32;
    while started.elapsed() < Duration::from_secs(2) {
        let k = batches.to_be_bytes();
        store
            .apply(&[Op::put(Table::Bindings, &k, &value(batches, 9))])
            .unwrap();
        batches += 1;
    }
    println!(
        "apply, EveryBatch (fdatasync per batch): {:.0} batches/s",
        batches as f64 / started.elapsed().as_secs_f64()
    );
    store.close().unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    // 9. Renewal-heavy journal: many updates of few records.
    renewals(&dir);
}
