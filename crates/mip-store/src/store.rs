//! The store: journal writer, group commit, checkpoints and recovery.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redb::{
    Database, Durability, ReadableDatabase, ReadableTableMetadata, TableDefinition, TableError,
};

use crate::error::StoreError;
use crate::fsutil::{self, DirLock};
use crate::journal::{self, JournalHeader, TailMode, HEADER_LEN};
use crate::op::{Op, Table};

/// Name of the checkpoint database in the state directory.
pub const CHECKPOINT_FILE: &str = "checkpoint.redb";

const META: TableDefinition<'static, &'static str, &'static [u8]> =
    TableDefinition::new("mip_store_meta");
const META_FORMAT: &str = "format";
const META_GENERATION: &str = "generation";
const META_SEQ: &str = "seq";
const FORMAT_TAG: &[u8] = b"mip-store checkpoint v1";

const DEFAULT_FOLD_CHUNK_KEYS: usize = 65_536;
/// Bytes of keys and values (plus [`PENDING_OVERHEAD`] per record) a fold holds in memory at
/// most before it writes them out.
const FOLD_CHUNK_BYTES: usize = 16 << 20;
// Offsets into a chunk's buffer are u32; it holds at most the limit plus one record.
const _: () = assert!(FOLD_CHUNK_BYTES <= u32::MAX as usize / 2);
/// Memory per pending record besides its key and value (its entry and index slot).
const PENDING_OVERHEAD: usize = 48;

/// When the journal is made durable against power loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncPolicy {
    /// fdatasync after every [`Store::apply`]: a power cut loses nothing that was applied, at
    /// the cost of one disk flush per batch (a few hundred to a few thousand batches/s).
    EveryBatch,
    /// Group commit: a background thread fdatasyncs the journal every interval (and
    /// [`Store::sync`] does it on demand). A power cut loses at most the batches applied in the
    /// last interval (plus the time of one fdatasync); a process crash loses nothing.
    Interval(Duration),
}

impl Default for SyncPolicy {
    fn default() -> Self {
        SyncPolicy::Interval(Duration::from_millis(50))
    }
}

/// How to open a store.
#[derive(Clone, Debug)]
pub struct Options {
    /// When the journal is fdatasynced. Default: every 50 ms.
    pub sync: SyncPolicy,
    /// Journal size (bytes of records) from which [`Store::needs_checkpoint`] says yes and
    /// [`Store::maintain`] starts a background checkpoint. Default: 64 MiB.
    pub checkpoint_bytes: u64,
    /// Page cache of the checkpoint database, in bytes. Default: 32 MiB.
    pub cache_bytes: usize,
    /// Have redb verify the checksum of every page of the checkpoint database at open (reads
    /// the whole file: about 0.1 s per million records). A damaged file then fails with a
    /// clear error; without it redb trusts the file and may panic on damage later (the store
    /// catches such panics when built with `panic = "unwind"`). Default: on.
    pub verify_checkpoint_on_open: bool,
    /// Most distinct records a checkpoint (or recovery) holds in memory while folding the
    /// journal. A fold keeps only the last op per record and writes those to the checkpoint
    /// database whenever this many records (or about 16 MiB of keys and values) have
    /// gathered, and at the end, so a journal of many updates of few records costs one write
    /// per record instead of one per op. `1` writes every op of the journal one by one.
    /// Default: 65 536 (about 8 MB with 64-byte records).
    pub fold_chunk_keys: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sync: SyncPolicy::default(),
            checkpoint_bytes: 64 << 20,
            cache_bytes: 32 << 20,
            verify_checkpoint_on_open: true,
            fold_chunk_keys: DEFAULT_FOLD_CHUNK_KEYS,
        }
    }
}

/// A journal replayed at open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayedJournal {
    /// The journal file.
    pub path: PathBuf,
    /// Its generation.
    pub generation: u64,
    /// Batches replayed from it.
    pub batches: u64,
    /// Ops replayed from it.
    pub ops: u64,
    /// Bytes of intact records in it.
    pub bytes: u64,
}

/// Something recovery repaired on its own and the operator should hear about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoveryWarning {
    /// The last journal ended in an incomplete or damaged record (a write cut short by the
    /// crash, or pages a power cut did not keep). Everything from `offset` on was discarded;
    /// none of it had been reported durable by an fdatasync.
    TornTail {
        /// The journal file.
        path: PathBuf,
        /// Offset of the first discarded byte.
        offset: u64,
        /// Bytes discarded.
        discarded_bytes: u64,
        /// Intact records found after the damage (power cut only) and discarded with it.
        discarded_records: u64,
        /// What was wrong at `offset`.
        reason: String,
    },
}

impl fmt::Display for RecoveryWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecoveryWarning::TornTail {
                path,
                offset,
                discarded_bytes,
                discarded_records,
                reason,
            } => {
                write!(
                    f,
                    "journal {} ends in a torn record at offset {offset} ({reason}); \
                     discarded {discarded_bytes} bytes",
                    path.display()
                )?;
                if *discarded_records > 0 {
                    write!(
                        f,
                        " including {discarded_records} unsynced record(s) after the damage"
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// What [`Store::open`] found and did.
#[derive(Clone, Debug)]
pub struct Recovery {
    /// The state directory was new (or held no checkpoint yet).
    pub created: bool,
    /// Journal generation the checkpoint included before this open.
    pub checkpoint_generation: u64,
    /// Last batch the checkpoint included before this open.
    pub checkpoint_seq: u64,
    /// Journals replayed into the checkpoint, oldest first.
    pub journals: Vec<ReplayedJournal>,
    /// Batches replayed from journals.
    pub batches_replayed: u64,
    /// Ops replayed from journals.
    pub ops_replayed: u64,
    /// Sequence number of the last batch recovered; the next `apply` gets this plus one.
    pub last_seq: u64,
    /// Leftover files of interrupted checkpoints or journal creations that were removed.
    pub stale_files_removed: usize,
    /// Damage repaired on the way (torn tails).
    pub warnings: Vec<RecoveryWarning>,
    /// Time spent in `open`.
    pub elapsed: Duration,
}

/// What one checkpoint did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckpointStats {
    /// Journal generation the checkpoint now includes.
    pub generation: u64,
    /// Last batch the checkpoint now includes.
    pub last_seq: u64,
    /// Journals folded in.
    pub journals: usize,
    /// Batches folded in.
    pub batches: u64,
    /// Ops folded in.
    pub ops: u64,
    /// Ops written to the checkpoint database: of the ops folded in, only the last one per
    /// record (in each chunk of [`Options::fold_chunk_keys`] records) is written.
    pub applied: u64,
    /// Journal bytes folded in.
    pub bytes: u64,
    /// Time taken (fold, commit, removal of the journals).
    pub elapsed: Duration,
}

/// The journal being appended to.
#[derive(Debug)]
struct ActiveJournal {
    path: PathBuf,
    generation: u64,
    file: File,
    /// End of the last complete record written (page cache).
    written: AtomicU64,
    /// Everything before this offset has been fdatasynced.
    synced: AtomicU64,
}

impl ActiveJournal {
    fn sync(&self) -> Result<(), StoreError> {
        let w = self.written.load(Ordering::Acquire);
        if self.synced.load(Ordering::Acquire) >= w {
            return Ok(());
        }
        self.file
            .sync_data()
            .map_err(|e| StoreError::io(&self.path, "fdatasync journal", e))?;
        self.synced.fetch_max(w, Ordering::AcqRel);
        Ok(())
    }

    fn records_bytes(&self) -> u64 {
        self.written.load(Ordering::Relaxed) - HEADER_LEN
    }
}

/// State shared with the syncer thread.
#[derive(Debug)]
struct Shared {
    current: Mutex<Arc<ActiveJournal>>,
    failed: AtomicBool,
    failure: Mutex<Option<String>>,
    stop: Mutex<bool>,
    wake: Condvar,
    /// Thread id of the sync thread (0 until it has started).
    syncer_tid: std::sync::atomic::AtomicI32,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn syncer_loop(shared: Arc<Shared>, interval: Duration) {
    // SAFETY: gettid has no preconditions.
    shared
        .syncer_tid
        .store(unsafe { libc::gettid() }, Ordering::Release);
    loop {
        {
            let guard = lock(&shared.stop);
            let (guard, _) = shared
                .wake
                .wait_timeout_while(guard, interval, |stop| !*stop)
                .unwrap_or_else(|e| e.into_inner());
            if *guard {
                return;
            }
        }
        let journal = lock(&shared.current).clone();
        if let Err(e) = journal.sync() {
            *lock(&shared.failure) = Some(e.to_string());
            shared.failed.store(true, Ordering::Release);
            return;
        }
    }
}

/// The persistent store. See the crate documentation.
pub struct Store {
    dir: PathBuf,
    db_path: PathBuf,
    options: Options,
    db: Arc<Database>,
    journal: Arc<ActiveJournal>,
    shared: Arc<Shared>,
    syncer: Option<JoinHandle<()>>,
    checkpointer: Option<JoinHandle<Result<CheckpointStats, StoreError>>>,
    /// Thread id of the running checkpoint (0 until it has started), to promote it from
    /// background to normal priority when the journal outgrows it.
    checkpoint_tid: Arc<std::sync::atomic::AtomicI32>,
    /// Journals rotated out and not yet folded into the checkpoint, oldest first.
    closed: Vec<(u64, PathBuf)>,
    checkpoint_generation: u64,
    checkpoint_seq: u64,
    last_seq: u64,
    buf: Vec<u8>,
    poisoned: Option<String>,
    /// The CPUs the opening thread could use: checkpoint threads run on all of them even if
    /// the owner pins itself to one CPU later (`mipd --cpu`).
    background_cpus: Option<CpuSet>,
    /// Test hook: overrides [`FOLD_CHUNK_BYTES`] for checkpoints.
    #[cfg(test)]
    test_fold_chunk_bytes: Option<usize>,
    /// Test hook: [`FoldLimits::hash_mask`] for checkpoints.
    #[cfg(test)]
    test_fold_hash_mask: Option<u64>,
    // Last, so the lock is released after everything else is closed.
    _lock: DirLock,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .field("journal", &self.journal.path)
            .field("journal_bytes", &self.journal.records_bytes())
            .field("last_seq", &self.last_seq)
            .field("checkpoint_generation", &self.checkpoint_generation)
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

/// Runs redb work, turning a panic inside redb (which a damaged file can provoke) into an error.
fn no_panic<T>(db_path: &Path, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(StoreError::CheckpointCorrupt {
            path: db_path.to_owned(),
            reason: format!("redb failed: {}", panic_text(&payload)),
        }),
    }
}

fn panic_text(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

fn meta_u64(path: &Path, bytes: Option<&[u8]>, what: &str) -> Result<u64, StoreError> {
    match bytes {
        Some(b) if b.len() == 8 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            Ok(u64::from_le_bytes(a))
        }
        _ => Err(StoreError::CheckpointCorrupt {
            path: path.to_owned(),
            reason: format!("metadata entry {what:?} missing or malformed"),
        }),
    }
}

/// Reads `(generation, seq)` from the checkpoint; `None` when it has no metadata table.
fn read_meta(db: &Database, path: &Path) -> Result<Option<(u64, u64)>, StoreError> {
    let rtx = db
        .begin_read()
        .map_err(|e| StoreError::redb(path, "read checkpoint", e))?;
    let table = match rtx.open_table(META) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(StoreError::redb(path, "read checkpoint metadata", e)),
    };
    let get = |key: &str| -> Result<Option<Vec<u8>>, StoreError> {
        Ok(table
            .get(key)
            .map_err(|e| StoreError::redb(path, "read checkpoint metadata", e))?
            .map(|g| g.value().to_vec()))
    };
    match get(META_FORMAT)? {
        Some(f) if f == FORMAT_TAG => {}
        Some(f) => {
            return Err(StoreError::NotOurs {
                path: path.to_owned(),
                reason: format!(
                    "checkpoint format {:?}, this build reads {:?}",
                    String::from_utf8_lossy(&f),
                    String::from_utf8_lossy(FORMAT_TAG)
                ),
            })
        }
        None => {
            return Err(StoreError::NotOurs {
                path: path.to_owned(),
                reason: "metadata table without a format tag".into(),
            })
        }
    }
    let generation = meta_u64(path, get(META_GENERATION)?.as_deref(), META_GENERATION)?;
    let seq = meta_u64(path, get(META_SEQ)?.as_deref(), META_SEQ)?;
    Ok(Some((generation, seq)))
}

fn db_has_tables(db: &Database, path: &Path) -> Result<bool, StoreError> {
    let rtx = db
        .begin_read()
        .map_err(|e| StoreError::redb(path, "read checkpoint", e))?;
    let mut tables = rtx
        .list_tables()
        .map_err(|e| StoreError::redb(path, "list checkpoint tables", e))?;
    Ok(tables.next().is_some())
}

fn init_meta(db: &Database, path: &Path) -> Result<(), StoreError> {
    let ctx = "initialise checkpoint";
    let mut txn = db
        .begin_write()
        .map_err(|e| StoreError::redb(path, ctx, e))?;
    txn.set_durability(Durability::Immediate)
        .map_err(|e| StoreError::redb(path, ctx, e))?;
    txn.set_quick_repair(true);
    {
        let mut meta = txn
            .open_table(META)
            .map_err(|e| StoreError::redb(path, ctx, e))?;
        meta.insert(META_FORMAT, FORMAT_TAG)
            .map_err(|e| StoreError::redb(path, ctx, e))?;
        meta.insert(META_GENERATION, &0u64.to_le_bytes()[..])
            .map_err(|e| StoreError::redb(path, ctx, e))?;
        meta.insert(META_SEQ, &0u64.to_le_bytes()[..])
            .map_err(|e| StoreError::redb(path, ctx, e))?;
        for t in Table::ALL {
            txn.open_table(t.definition())
                .map_err(|e| StoreError::redb(path, ctx, e))?;
        }
    }
    txn.commit().map_err(|e| StoreError::redb(path, ctx, e))
}

/// What a fold did.
#[derive(Debug)]
struct Folded {
    generation: u64,
    last_seq: u64,
    journals: Vec<ReplayedJournal>,
    /// Ops written to the checkpoint tables (after coalescing).
    applied: u64,
    torn: Option<(PathBuf, journal::TornTail)>,
}

/// How much a fold holds in memory before it writes to the checkpoint tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FoldLimits {
    /// Distinct records (at least 1).
    keys: usize,
    /// Bytes of keys and values, plus [`PENDING_OVERHEAD`] per record.
    bytes: usize,
    /// Test hook: bits of the hash kept in the [`Coalescer`]'s index (few bits: many
    /// collisions).
    #[cfg(test)]
    hash_mask: u64,
}

impl FoldLimits {
    fn new(options: &Options) -> FoldLimits {
        FoldLimits {
            keys: options.fold_chunk_keys.max(1),
            bytes: FOLD_CHUNK_BYTES,
            #[cfg(test)]
            hash_mask: u64::MAX,
        }
    }
}

type CheckpointTable<'txn> = redb::Table<'txn, &'static [u8], &'static [u8]>;

/// Hasher for keys that are already hashes (the [`Coalescer`]'s index).
#[derive(Default)]
struct PrehashedKey(u64);

impl Hasher for PrehashedKey {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; fold anything else in for completeness.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The last op of one record so far, its key and value in [`Coalescer::data`].
#[derive(Clone, Copy, Debug)]
struct Pending {
    table: Table,
    put: bool,
    key_at: u32,
    key_len: u16,
    value_len: u16,
    value_at: u32,
    /// Room at `value_at` (a later value up to this long overwrites the old one in place).
    value_room: u16,
}

/// Gathers the last op per (table, key) of a stretch of journal and writes the result to the
/// checkpoint tables in chunks of at most [`FoldLimits`].
///
/// Within a chunk, a later op of a record replaces the earlier one, so the chunk holds the
/// state each record is left in by the chunk's ops; writing it over the state left by the
/// earlier chunks (in the same transaction) leaves each record as the last of all its ops
/// left it, which is what applying every op in journal order does. A chunk ends when its
/// limits are reached and at the end of the fold.
///
/// Keys and values are appended to one buffer and the records kept in the order they first
/// appeared, so a chunk is written to redb walking memory sequentially (in journal order, as
/// an op-by-op fold would), and a journal of distinct keys costs little more than before. The
/// index maps a keyed hash of (table, key) to the record; two records with the same 64-bit
/// hash (never seen in practice) end the chunk before the second goes in.
struct Coalescer {
    hasher: std::collections::hash_map::RandomState,
    index: HashMap<u64, u32, std::hash::BuildHasherDefault<PrehashedKey>>,
    records: Vec<Pending>,
    data: Vec<u8>,
    limits: FoldLimits,
    /// Ops written to the tables so far.
    applied: u64,
}

impl fmt::Debug for Coalescer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coalescer")
            .field("records", &self.records.len())
            .field("data", &self.data.len())
            .field("limits", &self.limits)
            .field("applied", &self.applied)
            .finish()
    }
}

impl Coalescer {
    fn new(limits: FoldLimits) -> Coalescer {
        Coalescer {
            hasher: Default::default(),
            index: HashMap::default(),
            records: Vec::new(),
            data: Vec::new(),
            limits,
            applied: 0,
        }
    }

    fn key(&self, p: &Pending) -> &[u8] {
        let at = p.key_at as usize;
        &self.data[at..at + usize::from(p.key_len)]
    }

    fn value(&self, p: &Pending) -> &[u8] {
        let at = p.value_at as usize;
        &self.data[at..at + usize::from(p.value_len)]
    }

    fn memory(&self) -> usize {
        self.data.len() + self.records.len() * PENDING_OVERHEAD
    }

    /// Records `op` as the latest op of its record; writes the chunk out when it is full.
    fn push(
        &mut self,
        op: Op<'_>,
        tables: &mut [CheckpointTable<'_>],
    ) -> Result<(), redb::StorageError> {
        let (table, key, put, value) = match op {
            Op::Put { table, key, value } => (table, key, true, value),
            Op::Delete { table, key } => (table, key, false, &[][..]),
        };
        let hash = self.hasher.hash_one((table.id(), key));
        #[cfg(test)]
        let hash = hash & self.limits.hash_mask;
        if let Some(&i) = self.index.get(&hash) {
            let p = self.records[i as usize];
            if p.table == table && self.key(&p) == key {
                let p = &mut self.records[i as usize];
                p.put = put;
                // Lengths fit in u16: the journal format limits keys and values to 1024
                // and 4096 bytes.
                p.value_len = value.len() as u16;
                if value.len() > usize::from(p.value_room) {
                    p.value_at = self.data.len() as u32;
                    p.value_room = value.len() as u16;
                    self.data.extend_from_slice(value);
                } else {
                    let at = p.value_at as usize;
                    self.data[at..at + value.len()].copy_from_slice(value);
                }
                return self.flush_if_full(tables);
            }
            // Another record with the same hash: start a new chunk for this one.
            self.flush(tables)?;
        }
        let key_at = self.data.len() as u32;
        self.data.extend_from_slice(key);
        self.data.extend_from_slice(value);
        self.index.insert(hash, self.records.len() as u32);
        self.records.push(Pending {
            table,
            put,
            key_at,
            key_len: key.len() as u16,
            value_len: value.len() as u16,
            value_at: key_at + key.len() as u32,
            value_room: value.len() as u16,
        });
        self.flush_if_full(tables)
    }

    fn flush_if_full(
        &mut self,
        tables: &mut [CheckpointTable<'_>],
    ) -> Result<(), redb::StorageError> {
        if self.records.len() >= self.limits.keys || self.memory() >= self.limits.bytes {
            self.flush(tables)?;
        }
        Ok(())
    }

    /// Writes the chunk gathered so far to the tables and starts a new one (keeping the
    /// buffers, which the limits bound).
    fn flush(&mut self, tables: &mut [CheckpointTable<'_>]) -> Result<(), redb::StorageError> {
        for p in &self.records {
            let table = &mut tables[usize::from(p.table.id() - 1)];
            if p.put {
                table.insert(self.key(p), self.value(p))?;
            } else {
                table.remove(self.key(p))?;
            }
        }
        self.applied += self.records.len() as u64;
        self.records.clear();
        self.data.clear();
        self.index.clear();
        Ok(())
    }
}

/// Applies the journals (consecutive generations, oldest first, the first continuing from
/// batch `prev_seq`) to the checkpoint in ONE durable write transaction that also records the
/// last generation and batch included. Either all of it commits or none. Only the last op of
/// each record is written (see [`Coalescer`]).
fn fold(
    db: &Database,
    db_path: &Path,
    journals: &[(u64, PathBuf)],
    prev_seq: u64,
    tolerant_last: bool,
    limits: FoldLimits,
) -> Result<Folded, StoreError> {
    let ctx = "checkpoint";
    let rerr = |e: redb::Error| StoreError::redb(db_path, ctx, e);
    let mut txn = db.begin_write().map_err(|e| rerr(e.into()))?;
    txn.set_durability(Durability::Immediate)
        .map_err(|e| rerr(e.into()))?;
    // Saves the allocator state with the commit so that a crash during the next checkpoint
    // does not cost a full repair walk at the next open.
    txn.set_quick_repair(true);
    let mut out = Folded {
        generation: 0,
        last_seq: prev_seq,
        journals: Vec::with_capacity(journals.len()),
        applied: 0,
        torn: None,
    };
    {
        let mut tables = Vec::with_capacity(Table::ALL.len());
        for t in Table::ALL {
            tables.push(txn.open_table(t.definition()).map_err(|e| rerr(e.into()))?);
        }
        let mut meta = txn.open_table(META).map_err(|e| rerr(e.into()))?;
        let mut pending = Coalescer::new(limits);
        for (i, (generation, path)) in journals.iter().enumerate() {
            let mode = if tolerant_last && i + 1 == journals.len() {
                TailMode::Tolerant
            } else {
                TailMode::Strict
            };
            let res = journal::scan_journal(path, *generation, out.last_seq, mode, |batch| {
                for op in batch.ops() {
                    pending.push(op, &mut tables).map_err(|e| rerr(e.into()))?;
                }
                Ok(())
            })?;
            out.generation = *generation;
            out.last_seq = res.last_seq;
            out.journals.push(ReplayedJournal {
                path: path.clone(),
                generation: *generation,
                batches: res.batches,
                ops: res.ops,
                bytes: res.valid_end - HEADER_LEN,
            });
            if let Some(t) = res.torn {
                out.torn = Some((path.clone(), t));
            }
        }
        pending.flush(&mut tables).map_err(|e| rerr(e.into()))?;
        out.applied = pending.applied;
        meta.insert(META_GENERATION, &out.generation.to_le_bytes()[..])
            .map_err(|e| rerr(e.into()))?;
        meta.insert(META_SEQ, &out.last_seq.to_le_bytes()[..])
            .map_err(|e| rerr(e.into()))?;
    }
    txn.commit().map_err(|e| rerr(e.into()))?;
    Ok(out)
}

/// Removes folded journals (now older than the checkpoint) and makes that durable.
fn remove_journals(dir: &Path, journals: &[(u64, PathBuf)]) -> Result<(), StoreError> {
    for (_, path) in journals {
        fsutil::remove_file(path)?;
    }
    fsutil::sync_dir(dir)
}

/// A full background or foreground checkpoint of closed journals.
fn fold_and_remove(
    db: &Database,
    db_path: &Path,
    dir: &Path,
    journals: &[(u64, PathBuf)],
    prev_seq: u64,
    limits: FoldLimits,
) -> Result<CheckpointStats, StoreError> {
    let started = Instant::now();
    let folded = no_panic(db_path, || {
        fold(db, db_path, journals, prev_seq, false, limits)
    })?;
    // The checkpoint is committed; a failure to remove the folded journals loses nothing
    // (the next open removes journals the checkpoint includes), so it does not fail the
    // checkpoint.
    let _ = remove_journals(dir, journals);
    Ok(CheckpointStats {
        generation: folded.generation,
        last_seq: folded.last_seq,
        journals: folded.journals.len(),
        batches: folded.journals.iter().map(|j| j.batches).sum(),
        ops: folded.journals.iter().map(|j| j.ops).sum(),
        applied: folded.applied,
        bytes: folded.journals.iter().map(|j| j.bytes).sum(),
        elapsed: started.elapsed(),
    })
}

/// Creates journal `generation` atomically: header into a temporary file, fsync, rename,
/// fsync of the directory. A crash leaves either no journal of that generation or a complete
/// empty one (plus possibly a temporary file, removed at the next open).
fn create_journal(
    dir: &Path,
    generation: u64,
    prev_seq: u64,
) -> Result<Arc<ActiveJournal>, StoreError> {
    let path = dir.join(fsutil::journal_name(generation));
    let tmp = dir.join(format!("{}.tmp", fsutil::journal_name(generation)));
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| StoreError::io(&tmp, "create journal", e))?;
    let header = journal::encode_header(JournalHeader {
        generation,
        prev_seq,
    });
    file.write_all_at(&header, 0)
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io(&tmp, "write journal header", e))?;
    std::fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, "install journal", e))?;
    fsutil::sync_dir(dir)?;
    Ok(Arc::new(ActiveJournal {
        path,
        generation,
        file,
        written: AtomicU64::new(HEADER_LEN),
        synced: AtomicU64::new(HEADER_LEN),
    }))
}

/// Writes `buf` at `offset`: one `pwrite(2)`, more only if the kernel writes short.
fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        match file.write_at(&buf[done..], offset + done as u64) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed, mode 0700) the state directory `dir`, locks it, and recovers:
    /// every journal newer than the checkpoint is folded into the checkpoint database (a torn
    /// tail of the last one is discarded with a warning), leftovers of interrupted checkpoints
    /// are removed, and a fresh journal is started. Afterwards [`Store::iter`] yields the
    /// complete recovered state.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<(Store, Recovery), StoreError> {
        let started = Instant::now();
        let dir = dir.as_ref().to_path_buf();
        fsutil::ensure_dir(&dir)?;
        let dir_lock = DirLock::acquire(&dir)?;
        let listing = fsutil::list_dir(&dir)?;
        let mut stale_files_removed = 0;
        for tmp in &listing.temporaries {
            fsutil::remove_file(tmp)?;
            stale_files_removed += 1;
        }

        let db_path = dir.join(CHECKPOINT_FILE);
        let db_exists = match std::fs::symlink_metadata(&db_path) {
            Ok(_) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(StoreError::io(&db_path, "stat checkpoint", e)),
        };
        if !db_exists {
            if let Some((_, first)) = listing.journals.first() {
                return Err(StoreError::CheckpointCorrupt {
                    path: db_path,
                    reason: format!(
                        "missing, but journal {} exists: the state before it is gone",
                        first.display()
                    ),
                });
            }
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(&db_path)
                .map_err(|e| StoreError::io(&db_path, "create checkpoint", e))?;
        }
        let mut builder = redb::Builder::new();
        builder
            .set_cache_size(options.cache_bytes)
            .set_check_integrity_on_open(options.verify_checkpoint_on_open);
        let db = no_panic(&db_path, || {
            builder.create(&db_path).map_err(|e| match e {
                redb::DatabaseError::Storage(redb::StorageError::Corrupted(reason)) => {
                    StoreError::CheckpointCorrupt {
                        path: db_path.clone(),
                        reason,
                    }
                }
                e => StoreError::redb(&db_path, "open checkpoint", e),
            })
        })?;

        let meta = no_panic(&db_path, || read_meta(&db, &db_path))?;
        let mut created = false;
        let (checkpoint_generation, checkpoint_seq) = match meta {
            Some(m) => m,
            None => {
                if no_panic(&db_path, || db_has_tables(&db, &db_path))? {
                    return Err(StoreError::NotOurs {
                        path: db_path,
                        reason: "a redb database without mip-store metadata".into(),
                    });
                }
                if let Some((_, first)) = listing.journals.first() {
                    return Err(StoreError::CheckpointCorrupt {
                        path: db_path,
                        reason: format!(
                            "empty, but journal {} exists: the state before it is gone",
                            first.display()
                        ),
                    });
                }
                no_panic(&db_path, || init_meta(&db, &db_path))?;
                created = true;
                (0, 0)
            }
        };

        // Journals the checkpoint already includes: leftovers of a checkpoint interrupted
        // between its commit and the removal of its journals.
        let (stale, live): (Vec<_>, Vec<_>) = listing
            .journals
            .into_iter()
            .partition(|(g, _)| *g <= checkpoint_generation);
        for (i, (generation, path)) in live.iter().enumerate() {
            let expected = checkpoint_generation + 1 + i as u64;
            if *generation != expected {
                return Err(StoreError::corrupt(
                    path,
                    0,
                    format!(
                        "journal generation {expected} is missing (checkpoint includes up to {checkpoint_generation})"
                    ),
                ));
            }
        }
        if !stale.is_empty() {
            remove_journals(&dir, &stale)?;
            stale_files_removed += stale.len();
        }

        let mut recovery = Recovery {
            created,
            checkpoint_generation,
            checkpoint_seq,
            journals: Vec::new(),
            batches_replayed: 0,
            ops_replayed: 0,
            last_seq: checkpoint_seq,
            stale_files_removed,
            warnings: Vec::new(),
            elapsed: Duration::ZERO,
        };
        let (mut generation, mut seq) = (checkpoint_generation, checkpoint_seq);
        if !live.is_empty() {
            let folded = no_panic(&db_path, || {
                fold(
                    &db,
                    &db_path,
                    &live,
                    checkpoint_seq,
                    true,
                    FoldLimits::new(&options),
                )
            })?;
            generation = folded.generation;
            seq = folded.last_seq;
            recovery.batches_replayed = folded.journals.iter().map(|j| j.batches).sum();
            recovery.ops_replayed = folded.journals.iter().map(|j| j.ops).sum();
            recovery.journals = folded.journals;
            recovery.last_seq = seq;
            if let Some((path, t)) = folded.torn {
                recovery.warnings.push(RecoveryWarning::TornTail {
                    path,
                    offset: t.offset,
                    discarded_bytes: t.file_len - t.offset,
                    discarded_records: t.discarded_records,
                    reason: t.reason,
                });
            }
        }

        let journal = create_journal(&dir, generation + 1, seq)?;
        if !live.is_empty() {
            remove_journals(&dir, &live)?;
        }

        let shared = Arc::new(Shared {
            current: Mutex::new(journal.clone()),
            failed: AtomicBool::new(false),
            failure: Mutex::new(None),
            stop: Mutex::new(false),
            wake: Condvar::new(),
            syncer_tid: std::sync::atomic::AtomicI32::new(0),
        });
        let syncer = match options.sync {
            SyncPolicy::EveryBatch => None,
            SyncPolicy::Interval(interval) => {
                let shared = shared.clone();
                Some(
                    std::thread::Builder::new()
                        .name("mip-store-sync".into())
                        .spawn(move || syncer_loop(shared, interval))
                        .map_err(|e| StoreError::io(&dir, "start journal sync thread", e))?,
                )
            }
        };
        recovery.elapsed = started.elapsed();
        let store = Store {
            dir,
            db_path,
            options,
            db: Arc::new(db),
            journal,
            shared,
            syncer,
            checkpointer: None,
            checkpoint_tid: Arc::default(),
            closed: Vec::new(),
            checkpoint_generation: generation,
            checkpoint_seq: seq,
            last_seq: seq,
            buf: Vec::with_capacity(4096),
            poisoned: None,
            background_cpus: CpuSet::of_current_thread(),
            #[cfg(test)]
            test_fold_chunk_bytes: None,
            #[cfg(test)]
            test_fold_hash_mask: None,
            _lock: dir_lock,
        };
        Ok((store, recovery))
    }

    fn check_writable(&mut self) -> Result<(), StoreError> {
        if self.poisoned.is_none() && self.shared.failed.load(Ordering::Acquire) {
            let reason = lock(&self.shared.failure)
                .clone()
                .unwrap_or_else(|| "journal sync failed".into());
            self.poisoned = Some(reason);
        }
        match &self.poisoned {
            Some(reason) => Err(StoreError::Poisoned {
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    fn poison(&mut self, e: &StoreError) {
        if self.poisoned.is_none() {
            self.poisoned = Some(e.to_string());
        }
    }

    /// Appends one batch to the journal with a single `write(2)` and returns its sequence
    /// number. When this returns `Ok`, the batch survives a crash of the process (it is in the
    /// kernel's page cache); with [`SyncPolicy::EveryBatch`] it also survives a power cut.
    /// An empty batch writes nothing and returns the last sequence number.
    ///
    /// On error nothing of the batch is in the journal (a partial write is cut off again);
    /// if even that fails the store is poisoned.
    pub fn apply(&mut self, ops: &[Op<'_>]) -> Result<u64, StoreError> {
        self.check_writable()?;
        if ops.is_empty() {
            return Ok(self.last_seq);
        }
        let seq = self.last_seq + 1;
        let offset = self.journal.written.load(Ordering::Relaxed);
        let synced = self.journal.synced.load(Ordering::Acquire);
        journal::encode_batch(&mut self.buf, seq, synced, ops)?;
        if let Err(e) = write_all_at(&self.journal.file, &self.buf, offset) {
            let err = StoreError::io(&self.journal.path, "write journal record", e);
            if let Err(e2) = self.journal.file.set_len(offset) {
                let e2 = StoreError::io(&self.journal.path, "cut off partial journal record", e2);
                self.poison(&e2);
            }
            return Err(err);
        }
        self.journal
            .written
            .store(offset + self.buf.len() as u64, Ordering::Release);
        self.last_seq = seq;
        if self.options.sync == SyncPolicy::EveryBatch {
            if let Err(e) = self.journal.sync() {
                self.poison(&e);
                return Err(e);
            }
        }
        Ok(seq)
    }

    /// fdatasyncs the journal now: every batch applied so far survives a power cut once this
    /// returns. Cheap when nothing was applied since the last sync. Call it on shutdown (or use
    /// [`Store::close`]); under [`SyncPolicy::Interval`] a background thread also calls it.
    pub fn sync(&mut self) -> Result<(), StoreError> {
        self.check_writable()?;
        if let Err(e) = self.journal.sync() {
            self.poison(&e);
            return Err(e);
        }
        Ok(())
    }

    /// Whether the journal has grown past [`Options::checkpoint_bytes`].
    pub fn needs_checkpoint(&self) -> bool {
        self.journal.records_bytes() >= self.options.checkpoint_bytes
    }

    /// Bytes of records in the current journal.
    pub fn journal_bytes(&self) -> u64 {
        self.journal.records_bytes()
    }

    /// Sequence number of the last batch applied (or recovered).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Closes the current journal (fdatasync) and starts the next generation. The closed
    /// journal stays on disk until a checkpoint has folded it in.
    fn rotate(&mut self) -> Result<(), StoreError> {
        self.check_writable()?;
        let old = self.journal.clone();
        if let Err(e) = old.sync() {
            self.poison(&e);
            return Err(e);
        }
        let new = create_journal(&self.dir, old.generation + 1, self.last_seq)?;
        *lock(&self.shared.current) = new.clone();
        self.journal = new;
        self.closed.push((old.generation, old.path.clone()));
        Ok(())
    }

    fn fold_limits(&self) -> FoldLimits {
        let limits = FoldLimits::new(&self.options);
        #[cfg(test)]
        let limits = FoldLimits {
            bytes: self.test_fold_chunk_bytes.unwrap_or(limits.bytes),
            hash_mask: self.test_fold_hash_mask.unwrap_or(limits.hash_mask),
            ..limits
        };
        limits
    }

    fn finish_checkpoint(&mut self, stats: &CheckpointStats) {
        if stats.journals > 0 {
            self.checkpoint_generation = stats.generation;
            self.checkpoint_seq = stats.last_seq;
            let g = stats.generation;
            self.closed.retain(|(gen, _)| *gen > g);
        }
    }

    fn reap(
        &mut self,
        handle: JoinHandle<Result<CheckpointStats, StoreError>>,
    ) -> Result<CheckpointStats, StoreError> {
        let result = handle.join().unwrap_or_else(|p| {
            Err(StoreError::CheckpointCorrupt {
                path: self.db_path.clone(),
                reason: format!("checkpoint thread panicked: {}", panic_text(&p)),
            })
        });
        if let Ok(stats) = &result {
            self.finish_checkpoint(stats);
        }
        result
    }

    /// Checkpoints in the calling thread: rotates the journal, folds every closed journal into
    /// the checkpoint database in one durable transaction, removes them. Waits for a running
    /// background checkpoint first. Memory use does not depend on the number of records.
    pub fn checkpoint(&mut self) -> Result<CheckpointStats, StoreError> {
        if let Some(h) = self.checkpointer.take() {
            // A failure there leaves its journals in `closed`; they are retried below.
            let _ = self.reap(h);
        }
        if self.journal.records_bytes() > 0 {
            self.rotate()?;
        }
        if self.closed.is_empty() {
            return Ok(CheckpointStats {
                generation: self.checkpoint_generation,
                last_seq: self.checkpoint_seq,
                ..CheckpointStats::default()
            });
        }
        let stats = fold_and_remove(
            &self.db,
            &self.db_path,
            &self.dir,
            &self.closed,
            self.checkpoint_seq,
            self.fold_limits(),
        )?;
        self.finish_checkpoint(&stats);
        Ok(stats)
    }

    /// Starts a checkpoint in a background thread: rotates the journal now (a few
    /// milliseconds: two fsyncs) and folds the closed journals into the checkpoint database
    /// while `apply` goes on. Returns `false` when one is already running or there is nothing
    /// to fold. Collect the result with [`Store::poll_checkpoint`] (or [`Store::maintain`]).
    pub fn start_checkpoint(&mut self) -> Result<bool, StoreError> {
        if self.checkpointer.is_some() {
            return Ok(false);
        }
        if self.journal.records_bytes() > 0 {
            self.rotate()?;
        }
        if self.closed.is_empty() {
            return Ok(false);
        }
        let db = self.db.clone();
        let db_path = self.db_path.clone();
        let dir = self.dir.clone();
        let journals = self.closed.clone();
        let prev_seq = self.checkpoint_seq;
        let limits = self.fold_limits();
        let cpus = self.background_cpus;
        let tid = Arc::new(std::sync::atomic::AtomicI32::new(0));
        self.checkpoint_tid = tid.clone();
        let handle = std::thread::Builder::new()
            .name("mip-store-checkpoint".into())
            .spawn(move || {
                // SAFETY: gettid has no preconditions.
                tid.store(unsafe { libc::gettid() }, Ordering::Release);
                background_priority(cpus.as_ref());
                fold_and_remove(&db, &db_path, &dir, &journals, prev_seq, limits)
            })
            .map_err(|e| StoreError::io(&self.dir, "start checkpoint thread", e))?;
        self.checkpointer = Some(handle);
        Ok(true)
    }

    /// Collects a finished background checkpoint: `Ok(None)` while none has finished. An error
    /// leaves the journals on disk (nothing is lost; the next checkpoint retries them).
    pub fn poll_checkpoint(&mut self) -> Result<Option<CheckpointStats>, StoreError> {
        match self.checkpointer.take() {
            Some(h) if h.is_finished() => self.reap(h).map(Some),
            other => {
                self.checkpointer = other;
                Ok(None)
            }
        }
    }

    /// Housekeeping for the daemon's timer: collects a finished background checkpoint and
    /// starts a new one when the journal has grown past [`Options::checkpoint_bytes`].
    pub fn maintain(&mut self) -> Result<Option<CheckpointStats>, StoreError> {
        let done = self.poll_checkpoint()?;
        if self.needs_checkpoint() {
            if self.checkpointer.is_none() {
                self.start_checkpoint()?;
            } else if self.journal.records_bytes()
                >= self.options.checkpoint_bytes.saturating_mul(PROMOTE_AFTER)
            {
                // The running checkpoint (on idle CPU time only) has fallen far behind: the
                // machine has had no idle time for a long while. Let it compete normally so
                // that the journals, and the replay at the next start, stay bounded.
                self.promote_checkpoint();
            }
        }
        Ok(done)
    }

    /// Waits for a running background checkpoint, fdatasyncs the journal and stops the sync
    /// thread. Dropping a `Store` without `close` is like a crash of the process: nothing is
    /// lost, but the last interval is not yet safe from a power cut.
    pub fn close(mut self) -> Result<(), StoreError> {
        let checkpoint = match self.checkpointer.take() {
            Some(h) => self.reap(h).map(|_| ()),
            None => Ok(()),
        };
        let synced = self.sync();
        self.stop_syncer();
        checkpoint.and(synced)
    }

    fn stop_syncer(&mut self) {
        if let Some(h) = self.syncer.take() {
            *lock(&self.shared.stop) = true;
            self.shared.wake.notify_all();
            let _ = h.join();
        }
    }

    /// Iterates over `table` in key order as of the last checkpoint. Right after
    /// [`Store::open`] that is the complete recovered state; batches applied since the last
    /// checkpoint are in the journal only and not seen here.
    pub fn iter(&self, table: Table) -> Result<Iter, StoreError> {
        let path = self.db_path.clone();
        no_panic(&self.db_path, || {
            let rtx = self
                .db
                .begin_read()
                .map_err(|e| StoreError::redb(&path, "read checkpoint", e))?;
            let t = match rtx.open_table(table.definition()) {
                Ok(t) => t,
                Err(TableError::TableDoesNotExist(_)) => {
                    return Ok(Iter {
                        range: None,
                        _table: None,
                        path,
                    })
                }
                Err(e) => return Err(StoreError::redb(&path, "open checkpoint table", e)),
            };
            let range = t
                .range::<&[u8]>(..)
                .map_err(|e| StoreError::redb(&path, "iterate checkpoint table", e))?;
            Ok(Iter {
                range: Some(range),
                _table: Some(t),
                path,
            })
        })
    }

    /// The value of `key` in `table` as of the last checkpoint (see [`Store::iter`]).
    pub fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let path = &self.db_path;
        no_panic(path, || {
            let rtx = self
                .db
                .begin_read()
                .map_err(|e| StoreError::redb(path, "read checkpoint", e))?;
            let t = match rtx.open_table(table.definition()) {
                Ok(t) => t,
                Err(TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(StoreError::redb(path, "open checkpoint table", e)),
            };
            Ok(t.get(key)
                .map_err(|e| StoreError::redb(path, "read checkpoint table", e))?
                .map(|g| g.value().to_vec()))
        })
    }

    /// Number of records in `table` as of the last checkpoint (see [`Store::iter`]).
    pub fn len(&self, table: Table) -> Result<u64, StoreError> {
        let path = &self.db_path;
        no_panic(path, || {
            let rtx = self
                .db
                .begin_read()
                .map_err(|e| StoreError::redb(path, "read checkpoint", e))?;
            let t = match rtx.open_table(table.definition()) {
                Ok(t) => t,
                Err(TableError::TableDoesNotExist(_)) => return Ok(0),
                Err(e) => return Err(StoreError::redb(path, "open checkpoint table", e)),
            };
            t.len()
                .map_err(|e| StoreError::redb(path, "count checkpoint table", e))
        })
    }

    /// Whether `table` is empty as of the last checkpoint.
    pub fn is_empty(&self, table: Table) -> Result<bool, StoreError> {
        Ok(self.len(table)? == 0)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.stop_syncer();
        if let Some(h) = self.checkpointer.take() {
            let _ = h.join();
        }
    }
}

/// Iterator over a table of the checkpoint, in key order. Items are `(key, value)`; an error
/// (I/O, or damage found while reading) ends the iteration.
pub struct Iter {
    range: Option<redb::Range<'static, &'static [u8], &'static [u8]>>,
    _table: Option<redb::ReadOnlyTable<&'static [u8], &'static [u8]>>,
    path: PathBuf,
}

impl Iterator for Iter {
    type Item = Result<(Vec<u8>, Vec<u8>), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let range = self.range.as_mut()?;
        let path = &self.path;
        let item = catch_unwind(AssertUnwindSafe(|| {
            range.next().map(|r| {
                r.map(|(k, v)| (k.value().to_vec(), v.value().to_vec()))
                    .map_err(|e| StoreError::redb(path, "iterate checkpoint table", e))
            })
        }));
        match item {
            Ok(Some(Ok(kv))) => Some(Ok(kv)),
            Ok(None) => {
                self.range = None;
                None
            }
            Ok(Some(Err(e))) => {
                self.range = None;
                Some(Err(e))
            }
            Err(p) => {
                self.range = None;
                Some(Err(StoreError::CheckpointCorrupt {
                    path: self.path.clone(),
                    reason: format!("redb failed: {}", panic_text(&p)),
                }))
            }
        }
    }
}

#[cfg(test)]
impl Store {
    /// Test hook: rotate only, as a checkpoint would before folding.
    pub(crate) fn test_rotate(&mut self) -> Result<(), StoreError> {
        self.rotate()
    }

    /// Test hook: rotate and fold (commit) but do not remove the folded journals, as a crash
    /// between the commit and the removal would leave things.
    pub(crate) fn test_fold_without_removal(&mut self) -> Result<(), StoreError> {
        if self.journal.records_bytes() > 0 {
            self.rotate()?;
        }
        let folded = fold(
            &self.db,
            &self.db_path,
            &self.closed,
            self.checkpoint_seq,
            false,
            self.fold_limits(),
        )?;
        self.checkpoint_generation = folded.generation;
        self.checkpoint_seq = folded.last_seq;
        self.closed.clear();
        Ok(())
    }

    /// Test hook: the byte limit of a checkpoint's fold chunks.
    pub(crate) fn test_set_fold_chunk_bytes(&mut self, bytes: usize) {
        self.test_fold_chunk_bytes = Some(bytes);
    }

    /// Test hook: keep only these bits of the hashes in a checkpoint's fold (to provoke hash
    /// collisions).
    pub(crate) fn test_set_fold_hash_mask(&mut self, mask: u64) {
        self.test_fold_hash_mask = Some(mask);
    }

    pub(crate) fn test_journal_path(&self) -> PathBuf {
        self.journal.path.clone()
    }
}

impl Store {
    /// Keeps the store's own threads (the journal sync thread, and checkpoints started from
    /// now on) off `cpu`, the CPU the owner has pinned its latency-sensitive loop to: they
    /// run on the other CPUs the store was opened with. Nothing changes when `cpu` is the
    /// only one. Best effort (a failure to move a thread only costs latency).
    pub fn keep_off_cpu(&mut self, cpu: usize) {
        let Some(CpuSet(mut set)) = self.background_cpus else {
            return;
        };
        if cpu >= libc::CPU_SETSIZE as usize {
            return;
        }
        // SAFETY: CPU_CLR/CPU_COUNT stay within the set (cpu < CPU_SETSIZE).
        unsafe {
            libc::CPU_CLR(cpu, &mut set);
            if libc::CPU_COUNT(&set) == 0 {
                return;
            }
        }
        self.background_cpus = Some(CpuSet(set));
        // The sync thread may not have started yet; it then keeps the mask it inherited,
        // which is the owner's before pinning.
        let tid = self.shared.syncer_tid.load(Ordering::Acquire);
        if tid > 0 {
            // SAFETY: a thread of this process (it lives as long as the store) and a valid,
            // initialised set of the size given.
            let _ = unsafe {
                libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set)
            };
        }
    }

    fn promote_checkpoint(&self) {
        // A finished thread's id may be reused: only a live checkpoint is promoted.
        if self.checkpointer.as_ref().is_none_or(|h| h.is_finished()) {
            return;
        }
        let tid = self.checkpoint_tid.swap(0, Ordering::AcqRel);
        if tid > 0 {
            let param = libc::sched_param { sched_priority: 0 };
            // SAFETY: sets the policy of one thread of this process, with a valid param.
            let _ = unsafe { libc::sched_setscheduler(tid, libc::SCHED_OTHER, &param) };
        }
    }
}

/// A running checkpoint is promoted from idle to normal priority when the journal written
/// meanwhile has reached this many times [`Options::checkpoint_bytes`].
const PROMOTE_AFTER: u64 = 4;

/// A CPU affinity mask.
#[derive(Clone, Copy)]
struct CpuSet(libc::cpu_set_t);

impl CpuSet {
    fn of_current_thread() -> Option<CpuSet> {
        // SAFETY: an all-zero cpu_set_t is valid; sched_getaffinity fills at most its size.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            (libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0)
                .then_some(CpuSet(set))
        }
    }
}

/// Makes the calling thread (a checkpoint fold) background work: the CPUs the store was
/// opened with (not the single CPU its owner may have pinned itself to since), and
/// `SCHED_IDLE`, so that it runs on CPU time nothing else wants and never delays the
/// registration loop it shares a small machine with. Durability does not depend on it (the
/// journal is already on disk); a checkpoint that takes longer only keeps older journals
/// around a little longer. Failures are harmless and ignored.
fn background_priority(cpus: Option<&CpuSet>) {
    // SAFETY: both calls act on the calling thread (pid 0) with valid, initialised structs.
    unsafe {
        if let Some(CpuSet(set)) = cpus {
            let _ = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set);
        }
        let param = libc::sched_param { sched_priority: 0 };
        let _ = libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
    }
}
