//! Crash-safe persistence for the Mobile IPv4 home agent.
//!
//! The store keeps opaque records — `key` (at most [`MAX_KEY_LEN`] bytes) → `value` (at most
//! [`MAX_VALUE_LEN`] bytes) — in a few named [`Table`]s (`bindings`, `replay`, `state`). The
//! home-agent core serialises its own records; the store only makes them durable and hands
//! them back after a restart. It does not keep the records in memory: the core already holds
//! the live state, the store is a write-behind log of its changes.
//!
//! ```no_run
//! use mip_store::{Op, Options, Store, Table};
//! # fn main() -> Result<(), mip_store::StoreError> {
//! let (mut store, recovery) = Store::open("/var/lib/mipd", Options::default())?;
//! for w in &recovery.warnings {
//!     eprintln!("warning: {w}");
//! }
//! for kv in store.iter(Table::Bindings)? {
//!     let (_key, _value) = kv?; // rebuild the binding, re-emit its data-plane requests
//! }
//! // Per registration (or per receive-loop iteration, for several at once):
//! store.apply(&[Op::put(Table::Bindings, b"key", b"value")])?;
//! // ... now the reply may go out.
//! // On the daemon's timer (say every 50 ms):
//! store.maintain()?;
//! // On shutdown:
//! store.close()?;
//! # Ok(()) }
//! ```
//!
//! # Files in the state directory
//!
//! | file | what |
//! | --- | --- |
//! | `LOCK` | `flock(2)`ed exclusively by the open store (holder's pid inside). A second daemon gets [`StoreError::Locked`]. The kernel drops the lock when the process dies. |
//! | `checkpoint.redb` | redb database: one table per [`Table`] (`&[u8]` → `&[u8]`) and `mip_store_meta` with `format` = `"mip-store checkpoint v1"`, `generation` (the last journal generation folded in) and `seq` (the last batch folded in), both `u64` little-endian. |
//! | `journal-<generation, 16 hex digits>.log` | write-ahead journal. Exactly one is being appended to; journals rotated out stay until a checkpoint has folded them in. |
//! | `journal-<generation>.log.tmp` | exists only while a new journal is being created; a leftover is removed at open. |
//!
//! The directory is created with mode 0700, the files with 0600.
//!
//! # Journal format
//!
//! All integers little-endian.
//!
//! ```text
//! header (40 bytes): magic "MIPSJRNL" (8) | version = 1 (4) | flags = 0 (4)
//!                    | generation (8) | prev_seq (8) | reserved (4) | CRC32 of bytes 0..36 (4)
//! record:  magic "MIPR" (4) | payload length (4) | CRC32 (IEEE) of (length bytes ++ payload) (4)
//! payload: seq (8) | synced_upto (8) | op count (4) | ops
//! op:      kind (1: put, 2: delete) | table id (1: bindings, 2: replay, 3: state)
//!          | key length (2) | value length (2, puts only) | key | value (puts only)
//! ```
//!
//! One record is one batch ([`Store::apply`]); batches are numbered 1, 2, 3, … across the
//! life of the store (`seq`), and a journal's header names the batch it continues from
//! (`prev_seq`), so replay checks that nothing is missing or out of order. `synced_upto` is the
//! journal offset up to which an fdatasync had completed when the record was written; recovery
//! uses it to tell a torn tail from corruption (below).
//!
//! # Write path and group commit
//!
//! [`Store::apply`] encodes the batch into one record and writes it with a single `pwrite(2)`
//! at the end of the journal (a short write is continued; a failed one is cut off again with
//! `ftruncate`). When it returns, the record is in the kernel's page cache: **a crash of the
//! process (`kill -9`, panic, OOM kill) cannot lose it**, so the daemon may send the reply.
//! There is no fsync on this path.
//!
//! Durability against power loss is a [`SyncPolicy`]:
//!
//! * [`SyncPolicy::Interval`] (default, 50 ms): group commit. A background thread fdatasyncs
//!   the journal every interval when something was written; [`Store::sync`] does it on demand
//!   and [`Store::close`] on shutdown.
//! * [`SyncPolicy::EveryBatch`]: `apply` fdatasyncs before it returns.
//!
//! A failed fdatasync (or a failed write that cannot be cut off) poisons the store: every later
//! `apply` returns [`StoreError::Poisoned`] and the daemon should restart (after an fsync error
//! Linux may have dropped the dirty pages, so the page cache is no longer trusted).
//!
//! # What a power cut (or kernel crash) can lose
//!
//! * With `Interval(d)`: the batches applied after the start of the last fdatasync that
//!   completed — at most about `d` plus the duration of one fdatasync (a few ms on SSDs) of
//!   the most recent registrations, whose replies may already have gone out. Mobile nodes
//!   re-register when their binding is not honoured; replay state may then roll back by the
//!   same window (the mobile node's identifications/timestamps keep increasing, so a rolled
//!   back replay record only accepts what the lost one would have accepted as well, except a
//!   replay of a message from inside the lost window).
//! * With `EveryBatch`: nothing that `apply` acknowledged.
//! * Either way, never a checkpoint or anything before the last completed fdatasync; the
//!   state after recovery is always exactly the state after some batch `n` (batches are
//!   atomic and applied in order), never a mix.
//!
//! This assumes the disk honours flushes (no volatile write cache that lies).
//!
//! # Checkpoints
//!
//! The journal is folded into `checkpoint.redb` incrementally, so memory stays flat whatever
//! the number of records:
//!
//! 1. **Rotate**: fdatasync journal `N`; create journal `N+1` (header with `prev_seq` = last
//!    batch, written to a `.tmp` file, fsynced, renamed, directory fsynced); switch appends to
//!    it. Takes a few ms and is done in the caller's thread.
//! 2. **Fold**: stream every closed journal (`G+1 ..= N`, `G` = generation in the checkpoint)
//!    and apply its ops to redb in ONE write transaction that also sets `generation` = `N`
//!    and `seq`; commit with `Durability::Immediate` (and quick-repair, so a crash in the
//!    next one does not cost a full repair walk). Ops are coalesced on the way: an in-memory
//!    map keeps only the last op per (table, key), in journal order across all the journals
//!    folded, and is written to redb and cleared whenever it holds
//!    [`Options::fold_chunk_keys`] records (default 65 536) or about 16 MiB of keys and
//!    values, and at the end. A later op of a record always replaces the earlier one in the
//!    map, and each chunk is written over the previous ones in the same transaction, so the
//!    result is exactly that of applying every op in order, while a journal of renewals
//!    (millions of ops over a few thousand records) costs redb one write per record instead
//!    of one per op.
//! 3. **Remove** journals `G+1 ..= N`, fsync the directory.
//!
//! [`Store::checkpoint`] does all three in the calling thread; [`Store::start_checkpoint`]
//! (and [`Store::maintain`], when the journal has passed [`Options::checkpoint_bytes`],
//! default 64 MiB) does step 1 and runs 2–3 in a background thread while `apply` goes on.
//!
//! # Recovery ([`Store::open`])
//!
//! Lock; remove `.tmp` leftovers; open (or create) the checkpoint and read `generation` = `G`,
//! `seq` = `S`; remove journals `≤ G` (already folded); check the remaining ones are `G+1,
//! G+2, …` without gaps; fold them all (the last one tolerating a torn tail) in one
//! transaction exactly as a checkpoint does; start journal `last+1`; remove the folded ones.
//! Afterwards [`Store::iter`] reads the complete recovered state straight from redb.
//!
//! # Crash analysis
//!
//! A crash (process or power) at any point leaves one of these states, each recovered
//! correctly:
//!
//! | crash | on disk | recovery |
//! | --- | --- | --- |
//! | during `apply`'s write | last record torn | torn tail discarded (that batch was never acknowledged) |
//! | between applies | complete records (power cut: minus the unsynced tail) | replayed |
//! | rotation, before the rename is durable | journal `N` (synced), maybe `N+1.tmp` | `.tmp` removed, `N` replayed |
//! | after rotation, before/during the fold commit | redb at `G`, journals `G+1..=N+1` | all replayed in one transaction; the uncommitted redb transaction is invisible (redb's commit is atomic) |
//! | after the fold commit, before/during removal | redb at `N`, some of `G+1..=N` left, `N+1` | journals `≤ N` removed unread, `N+1` replayed |
//! | during recovery itself | same states as above | recovery is itself a checkpoint; running it again is fine |
//!
//! The generation marker commits in the same transaction as the ops it covers, so no batch is
//! applied twice in practice. Should it be (say, an old journal restored from a backup with the
//! marker turned back), replaying puts and deletes in order up to the latest batch gives the
//! same state again: for each key the last op wins, whatever state it started from.
//!
//! # Torn tail or corruption?
//!
//! A bad record (short, checksum mismatch, malformed, out-of-sequence) in the **last** journal
//! ends it, with a [`RecoveryWarning::TornTail`], when nothing after it proves it had been
//! durable: a process crash can only tear the very last write, and a power cut can only damage
//! what was written after the last fdatasync (possibly keeping later pages but not earlier
//! ones). If an intact record after the bad one carries `synced_upto` beyond the bad offset,
//! the bad bytes had been synced before: that is corruption, and open fails with
//! [`StoreError::Corrupt`] naming the file and offset. Any bad record in an earlier (closed,
//! fdatasynced) journal, a damaged header or a missing generation is also an error. When open
//! fails no journal is modified or removed (only `.tmp` leftovers and journals the checkpoint
//! already includes may have been), so an operator can inspect or back up the files.
//!
//! A damaged `checkpoint.redb` gives [`StoreError::CheckpointCorrupt`] or
//! [`StoreError::Redb`]; redb can panic on some damaged files, which the store catches and
//! reports as `CheckpointCorrupt` (this needs the default `panic = "unwind"`; set
//! [`Options::verify_checkpoint_on_open`] to have redb check every page checksum at open
//! instead). Files that are not ours give [`StoreError::NotOurs`].
//!
//! # Performance
//!
//! `examples/scale.rs` (release build, 2-core AMD EPYC VM, shared virtual disk, other builds
//! running; 1 000 000 records of 4-byte key + 60-byte value), ranges over several runs:
//!
//! | what | figure |
//! | --- | --- |
//! | `apply`, batches of 64 records | 8–12 million records/s (journal: 67 MiB per million records) |
//! | `apply`, one registration (binding + replay record) per batch | 760 000–1 070 000 registrations/s |
//! | steady state, one registration per batch, background checkpoints every 64 MiB | 360 000–520 000 registrations/s sustained (checkpoints on the second core) |
//! | checkpoint, 1 000 000 ops folded into a checkpoint of 1 000 000 records | 0.85–1.0 s in the foreground (background: 2–4 s, sharing the cores with `apply`) |
//! | checkpoint of a renewal-heavy journal: 1 700 000 ops (850 000 registrations) over 20 000 mobile nodes, 96.5 MiB | 0.26–0.31 s, coalesced into 40 000 writes (op by op, as before coalescing: 1.2–1.4 s; 1.9–3.1 s with more load on the machine) |
//! | restart, 1 000 000 records in the checkpoint: open + iterate | 0.23–0.30 s (of which 0.1 s page verification) |
//! | restart after a crash with 1 000 000 records only in the journal: open + iterate | 1.0–1.6 s |
//! | restart after `abort()`, 1 000 000 records in the checkpoint + 1 000 000 updates in the journal | 1.1–1.3 s |
//! | `SyncPolicy::EveryBatch` | 300–8 000 batches/s, whatever the disk's flush latency allows |
//! | memory (RSS) | 40–95 MB during open and checkpoints (the 32 MiB redb cache, a fold's dirty pages and its chunk of coalesced records, about 10 MB); outside a fold the store holds no records in memory |
//!
//! The sustained write rate is bounded by the checkpoint's fold rate (about 1 million ops/s
//! on distinct records; repeated updates of the same records fold about 6 million ops/s);
//! above it the journal, and with it the restart time, grows until the load drops. The
//! checkpoint file is several times the raw data (redb's copy-on-write B-tree: about 280 MiB
//! for a million 64-byte records after a few rounds of updates).

mod error;
mod fsutil;
mod journal;
mod op;
mod store;

#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod fold_tests;

pub use error::StoreError;
pub use op::{Op, Table, MAX_BATCH_BYTES, MAX_KEY_LEN, MAX_VALUE_LEN};
pub use store::{
    CheckpointStats, Iter, Options, Recovery, RecoveryWarning, ReplayedJournal, Store, SyncPolicy,
    CHECKPOINT_FILE,
};
