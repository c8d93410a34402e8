//! The store's error type.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in the store. Every variant that concerns a file names it.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O call on `path` failed.
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What the store was doing (`"write journal record"`, `"fdatasync journal"`, ...).
        context: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
    /// A journal file is damaged at `offset` in a way that cannot be a torn tail: a record
    /// that was once known durable no longer reads back, a header is damaged, a generation is
    /// missing. Recovery refuses to guess; an operator has to look at the file.
    Corrupt {
        /// The file concerned.
        path: PathBuf,
        /// Byte offset of the first bad byte or record.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint database cannot be read (redb reported corruption or failed hard).
    CheckpointCorrupt {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file in the state directory is not one this store wrote (wrong magic, foreign redb
    /// database, unsupported format version).
    NotOurs {
        /// The file concerned.
        path: PathBuf,
        /// Why it was rejected.
        reason: String,
    },
    /// Another process (or another `Store` in this process) holds the state directory.
    Locked {
        /// The lock file.
        path: PathBuf,
        /// The pid recorded in the lock file by the holder, when readable.
        holder: Option<u32>,
    },
    /// redb returned an error.
    Redb {
        /// The checkpoint file.
        path: PathBuf,
        /// What the store was doing.
        context: &'static str,
        /// redb's error.
        source: Box<redb::Error>,
    },
    /// The caller passed something the store does not accept (key or value too long, batch
    /// too large).
    InvalidInput {
        /// What is wrong.
        reason: String,
    },
    /// An earlier failure (a journal write that could not be undone, a failed fdatasync) left
    /// the journal in an unknown state; the store refuses further writes. Restart the daemon:
    /// recovery reads back what the kernel kept.
    Poisoned {
        /// The original failure.
        reason: String,
    },
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, context: &'static str, source: io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            context,
            source,
        }
    }

    pub(crate) fn corrupt(
        path: impl Into<PathBuf>,
        offset: u64,
        reason: impl Into<String>,
    ) -> Self {
        StoreError::Corrupt {
            path: path.into(),
            offset,
            reason: reason.into(),
        }
    }

    pub(crate) fn redb(
        path: impl Into<PathBuf>,
        context: &'static str,
        source: impl Into<redb::Error>,
    ) -> Self {
        StoreError::Redb {
            path: path.into(),
            context,
            source: Box::new(source.into()),
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        StoreError::InvalidInput {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io {
                path,
                context,
                source,
            } => write!(f, "{context}: {}: {source}", path.display()),
            StoreError::Corrupt {
                path,
                offset,
                reason,
            } => write!(
                f,
                "corrupt journal {} at offset {offset}: {reason}",
                path.display()
            ),
            StoreError::CheckpointCorrupt { path, reason } => {
                write!(
                    f,
                    "corrupt checkpoint database {}: {reason}",
                    path.display()
                )
            }
            StoreError::NotOurs { path, reason } => {
                write!(f, "{} is not a mip-store file: {reason}", path.display())
            }
            StoreError::Locked { path, holder } => {
                write!(
                    f,
                    "state directory is in use by another process (lock {} is held",
                    path.display()
                )?;
                match holder {
                    Some(pid) => write!(f, ", holder pid {pid})"),
                    None => write!(f, ")"),
                }
            }
            StoreError::Redb {
                path,
                context,
                source,
            } => write!(f, "{context}: {}: {source}", path.display()),
            StoreError::InvalidInput { reason } => write!(f, "invalid input: {reason}"),
            StoreError::Poisoned { reason } => write!(
                f,
                "store refuses writes after an earlier failure ({reason}); restart to recover"
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            StoreError::Redb { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}
