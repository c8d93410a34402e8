//! Directory lock and small file-system helpers.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::StoreError;

/// Name of the lock file in the state directory.
pub(crate) const LOCK_FILE: &str = "LOCK";

/// An exclusive `flock(2)` on `<dir>/LOCK`, held for the life of the value. The kernel drops
/// it when the process dies, so a crashed daemon never leaves a stale lock.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, StoreError> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| StoreError::io(&path, "open lock file", e))?;
        // SAFETY: flock on a file descriptor we own; no memory is passed.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let mut text = String::new();
                let holder = file
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse().ok());
                return Err(StoreError::Locked { path, holder });
            }
            return Err(StoreError::io(&path, "lock state directory", err));
        }
        // Record our pid for the error message of whoever finds the lock held.
        let _ = file.set_len(0);
        let _ = file.write_all(format!("{}\n", std::process::id()).as_bytes());
        Ok(DirLock { _file: file })
    }
}

/// Creates `dir` (mode 0700, parents as needed) unless it exists, and checks it is a directory.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(StoreError::io(
            dir,
            "open state directory",
            io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| StoreError::io(dir, "create state directory", e))?;
            if let Some(parent) = dir.parent() {
                if !parent.as_os_str().is_empty() {
                    // Make the new entry itself durable.
                    let _ = sync_dir(parent);
                }
            }
            Ok(())
        }
        Err(e) => Err(StoreError::io(dir, "open state directory", e)),
    }
}

/// fsync a directory, making creates, renames and unlinks in it durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, "fsync state directory", e))
}

/// Removes a file; a file already gone is fine.
pub(crate) fn remove_file(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io(path, "remove file", e)),
    }
}

/// What a directory listing found.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// `(generation, path)` of every journal, sorted by generation.
    pub journals: Vec<(u64, PathBuf)>,
    /// Leftover temporary files of an interrupted journal creation.
    pub temporaries: Vec<PathBuf>,
}

/// `journal-<generation as 16 hex digits>.log`
pub(crate) fn journal_name(generation: u64) -> String {
    format!("journal-{generation:016x}.log")
}

fn parse_journal_name(name: &str) -> Option<u64> {
    let hex = name.strip_prefix("journal-")?.strip_suffix(".log")?;
    if hex.len() != 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

pub(crate) fn list_dir(dir: &Path) -> Result<Listing, StoreError> {
    let mut out = Listing::default();
    let entries = fs::read_dir(dir).map_err(|e| StoreError::io(dir, "list state directory", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io(dir, "list state directory", e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(generation) = parse_journal_name(name) {
            out.journals.push((generation, entry.path()));
        } else if name.starts_with("journal-") && name.ends_with(".tmp") {
            out.temporaries.push(entry.path());
        }
    }
    out.journals.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(journal_name(0x2a), "journal-000000000000002a.log");
        assert_eq!(parse_journal_name(&journal_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_journal_name("journal-2a.log"), None);
        assert_eq!(parse_journal_name("journal-000000000000002a.log.tmp"), None);
    }
}
