//! The home agent's durable state in `mip-store`: each [`StoreOp`] becomes one put or delete
//! under [`StoreOp::key`] (bindings in the `bindings` table, replay state in `replay`), and a
//! batch of ops becomes ONE journal record (one `write(2)`), so that after a crash either all
//! of a batch is back or none of it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mip_ha::StoreOp;
use mip_store::{Op, Options, Recovery, Store, StoreError, SyncPolicy, Table};

/// Records read back at start.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Binding and replay records, in key order per table.
    pub records: Vec<StoreOp>,
    /// Records that did not decode (skipped, each logged).
    pub undecodable: usize,
}

/// The store opened and read back on a thread of its own, while the caller loads the
/// configuration: with a million bindings each takes about two seconds, and a restart is
/// the sum of the slower of the two and what follows (see `scripts/bench-restart.sh`).
pub struct Opening {
    dir: PathBuf,
    thread: std::thread::JoinHandle<Result<(StoreGlue, Recovery, Loaded), StoreError>>,
}

impl Opening {
    /// Starts opening the store under `dir` and reading its records back.
    pub fn start(dir: PathBuf, fsync_interval: Option<Duration>) -> Opening {
        let at = dir.clone();
        let thread = std::thread::spawn(move || {
            let (store, recovery) = StoreGlue::open(&at, fsync_interval)?;
            let loaded = store.load()?;
            Ok((store, recovery, loaded))
        });
        Opening { dir, thread }
    }

    /// Waits for it.
    ///
    /// # Errors
    /// Those of [`StoreGlue::open`] and [`StoreGlue::load`].
    pub fn finish(self) -> Result<(StoreGlue, Recovery, Loaded), StoreError> {
        self.thread.join().unwrap_or_else(|_| {
            Err(StoreError::Io {
                path: self.dir.clone(),
                context: "open the state store",
                source: std::io::Error::other("the thread opening it panicked"),
            })
        })
    }
}

/// The store, with reusable encoding buffers.
pub struct StoreGlue {
    store: Store,
    arena: Vec<u8>,
    spans: Vec<Span>,
}

struct Span {
    table: Table,
    key: (usize, usize),
    value: Option<(usize, usize)>,
}

fn table_of(op: &StoreOp) -> Table {
    match op {
        StoreOp::PutReplay { .. } => Table::Replay,
        StoreOp::PutBinding(_) | StoreOp::DeleteBinding { .. } => Table::Bindings,
    }
}

impl StoreGlue {
    /// Opens (and locks) the state directory; `fsync_interval` `None` syncs every batch.
    ///
    /// # Errors
    /// Those of [`Store::open`]: locked by another process, damaged files, I/O.
    pub fn open(
        dir: &Path,
        fsync_interval: Option<Duration>,
    ) -> Result<(StoreGlue, Recovery), StoreError> {
        let options = Options {
            sync: match fsync_interval {
                Some(d) => SyncPolicy::Interval(d),
                None => SyncPolicy::EveryBatch,
            },
            ..Options::default()
        };
        let (store, recovery) = Store::open(dir, options)?;
        Ok((
            StoreGlue {
                store,
                arena: Vec::with_capacity(64 * 1024),
                spans: Vec::with_capacity(256),
            },
            recovery,
        ))
    }

    /// Every binding and replay record recovered.
    ///
    /// # Errors
    /// Reading the checkpoint failed.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let mut out = Loaded::default();
        for table in [Table::Bindings, Table::Replay] {
            for item in self.store.iter(table)? {
                let (key, value) = item?;
                match StoreOp::decode(&value) {
                    Ok(op) if op.key() == key && table_of(&op) == table => out.records.push(op),
                    Ok(_) => {
                        out.undecodable += 1;
                        tracing::warn!(table = table.name(), key = %hex(&key), "store record under the wrong key; skipped");
                    }
                    Err(e) => {
                        out.undecodable += 1;
                        tracing::warn!(table = table.name(), key = %hex(&key), error = %e, "store record does not decode; skipped");
                    }
                }
            }
        }
        Ok(out)
    }

    /// Applies `ops` as one atomic batch (one journal record). Durable against a crash of
    /// the process when this returns `Ok`.
    ///
    /// # Errors
    /// Those of [`Store::apply`]; nothing of the batch is applied then.
    pub fn apply(&mut self, ops: &[StoreOp]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        self.arena.clear();
        self.spans.clear();
        for op in ops {
            let k0 = self.arena.len();
            self.arena.extend_from_slice(&op.key());
            let k1 = self.arena.len();
            let value = if op.is_delete() {
                None
            } else {
                op.encode(&mut self.arena);
                Some((k1, self.arena.len()))
            };
            self.spans.push(Span {
                table: table_of(op),
                key: (k0, k1),
                value,
            });
        }
        let arena = &self.arena;
        let batch: Vec<Op<'_>> = self
            .spans
            .iter()
            .map(|s| {
                let key = &arena[s.key.0..s.key.1];
                match s.value {
                    Some((v0, v1)) => Op::put(s.table, key, &arena[v0..v1]),
                    None => Op::delete(s.table, key),
                }
            })
            .collect();
        self.store.apply(&batch).map(drop)
    }

    /// Timer housekeeping: collects a finished background checkpoint and starts one when the
    /// journal has grown large.
    ///
    /// # Errors
    /// Those of [`Store::maintain`].
    pub fn maintain(&mut self) -> Result<Option<mip_store::CheckpointStats>, StoreError> {
        self.store.maintain()
    }

    /// Keeps the store's threads off the registration loop's CPU (`--cpu`).
    pub fn keep_off_cpu(&mut self, cpu: usize) {
        self.store.keep_off_cpu(cpu);
    }

    /// Bytes in the current journal.
    pub fn journal_bytes(&self) -> u64 {
        self.store.journal_bytes()
    }

    /// Waits for a running checkpoint, syncs and closes.
    ///
    /// # Errors
    /// Those of [`Store::close`].
    pub fn close(self) -> Result<(), StoreError> {
        self.store.close()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mip_ha::{BindingRecord, MobileNodeKey};
    use mip_security::ReplayState;
    use std::net::{Ipv4Addr, SocketAddrV4};

    fn binding(home: u8) -> StoreOp {
        StoreOp::PutBinding(BindingRecord {
            home_address: Ipv4Addr::new(10, 0, 0, home),
            care_of_address: Ipv4Addr::new(68, 0, 0, 31),
            source: SocketAddrV4::new(Ipv4Addr::new(68, 0, 0, 31), 434),
            home_agent: Ipv4Addr::new(66, 0, 0, 5),
            lifetime_granted: 100,
            expires_at_ms: 1_900_000_000_000,
            flags: 0,
            options: 0,
            encapsulation: 4,
            identification: 7,
            interface: None,
            nai: None,
            session_id: None,
        })
    }

    #[test]
    fn batches_survive_reopen_and_deletes_remove() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut s, rec) = StoreGlue::open(dir.path(), None).unwrap();
            assert!(rec.created);
            s.apply(&[
                binding(1),
                binding(2),
                StoreOp::PutReplay {
                    mobile_node: MobileNodeKey::Nai {
                        nai: "a@b".into(),
                        session: "x".into(),
                    },
                    state: ReplayState {
                        last_accepted: Some(5),
                        issued_nonce: None,
                    },
                },
            ])
            .unwrap();
            s.apply(&[StoreOp::DeleteBinding {
                home_address: Ipv4Addr::new(10, 0, 0, 1),
                care_of_address: Ipv4Addr::new(68, 0, 0, 31),
            }])
            .unwrap();
            // Dropped without close: as a crash of the process.
        }
        let (s, rec) = StoreGlue::open(dir.path(), Some(Duration::from_millis(50))).unwrap();
        assert_eq!(rec.batches_replayed, 2);
        let l = s.load().unwrap();
        assert_eq!(l.undecodable, 0);
        assert_eq!(l.records.len(), 2);
        assert_eq!(l.records[0], binding(2));
        assert!(matches!(l.records[1], StoreOp::PutReplay { .. }));
    }
}
