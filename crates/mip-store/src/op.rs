//! Tables and operations.

/// Longest key the store accepts, in bytes. Binding keys are a few bytes; replay-state keys
/// of NAI sessions carry the NAI and the session id (up to 255 bytes each), so the limit is
/// generous.
pub const MAX_KEY_LEN: usize = 1024;
/// Longest value the store accepts, in bytes.
pub const MAX_VALUE_LEN: usize = 4096;
/// Largest encoded batch (one journal record), in bytes.
pub const MAX_BATCH_BYTES: usize = 16 << 20;

/// A named table. The numeric id is part of the journal format and never changes; the name is
/// the redb table name in the checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Table {
    /// Mobility bindings.
    Bindings = 1,
    /// Replay-protection state (last accepted identification, issued nonces).
    Replay = 2,
    /// Small daemon-wide records (boot counters and the like).
    State = 3,
}

impl Table {
    /// Every table, in id order.
    pub const ALL: [Table; 3] = [Table::Bindings, Table::Replay, Table::State];

    /// The table's name (its redb table name).
    pub fn name(self) -> &'static str {
        match self {
            Table::Bindings => "bindings",
            Table::Replay => "replay",
            Table::State => "state",
        }
    }

    /// The table's id in the journal format.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// The table with journal id `id`.
    pub fn from_id(id: u8) -> Option<Table> {
        match id {
            1 => Some(Table::Bindings),
            2 => Some(Table::Replay),
            3 => Some(Table::State),
            _ => None,
        }
    }

    pub(crate) fn definition(self) -> redb::TableDefinition<'static, &'static [u8], &'static [u8]> {
        redb::TableDefinition::new(self.name())
    }
}

/// One change to one record. A batch of ops is applied atomically: after a crash either all of
/// a batch is back or none of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op<'a> {
    /// Insert or replace `key` in `table`.
    Put {
        /// The table.
        table: Table,
        /// The key (at most [`MAX_KEY_LEN`] bytes).
        key: &'a [u8],
        /// The value (at most [`MAX_VALUE_LEN`] bytes).
        value: &'a [u8],
    },
    /// Remove `key` from `table` (no effect when absent).
    Delete {
        /// The table.
        table: Table,
        /// The key (at most [`MAX_KEY_LEN`] bytes).
        key: &'a [u8],
    },
}

impl<'a> Op<'a> {
    /// `Op::Put`.
    pub fn put(table: Table, key: &'a [u8], value: &'a [u8]) -> Op<'a> {
        Op::Put { table, key, value }
    }

    /// `Op::Delete`.
    pub fn delete(table: Table, key: &'a [u8]) -> Op<'a> {
        Op::Delete { table, key }
    }

    /// The op's table.
    pub fn table(&self) -> Table {
        match *self {
            Op::Put { table, .. } | Op::Delete { table, .. } => table,
        }
    }

    /// The op's key.
    pub fn key(&self) -> &'a [u8] {
        match *self {
            Op::Put { key, .. } | Op::Delete { key, .. } => key,
        }
    }
}
