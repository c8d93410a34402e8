//! Journal file format: header, framed and checksummed batch records, and the scanner that
//! reads them back (with torn-tail detection). See the crate documentation for the layout.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::error::StoreError;
use crate::op::{Op, Table, MAX_BATCH_BYTES, MAX_KEY_LEN, MAX_VALUE_LEN};

/// First 8 bytes of every journal file.
pub(crate) const JOURNAL_MAGIC: [u8; 8] = *b"MIPSJRNL";
/// Journal format version.
pub(crate) const JOURNAL_VERSION: u32 = 1;
/// Size of the journal file header.
pub(crate) const HEADER_LEN: u64 = 40;
/// First 4 bytes of every record.
pub(crate) const RECORD_MAGIC: [u8; 4] = *b"MIPR";
/// Size of a record's frame (magic, length, CRC).
pub(crate) const FRAME_LEN: usize = 12;
/// Fixed part of a record payload: seq (8), synced_upto (8), op count (4).
pub(crate) const PAYLOAD_FIXED: usize = 20;

const OP_PUT: u8 = 1;
const OP_DELETE: u8 = 2;

/// The decoded header of a journal file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JournalHeader {
    pub generation: u64,
    pub prev_seq: u64,
}

/// `magic(8) version(4) flags(4) generation(8) prev_seq(8) reserved(4) crc32(4)`, the CRC
/// covering bytes 0..36.
pub(crate) fn encode_header(h: JournalHeader) -> [u8; HEADER_LEN as usize] {
    let mut b = [0u8; HEADER_LEN as usize];
    b[0..8].copy_from_slice(&JOURNAL_MAGIC);
    b[8..12].copy_from_slice(&JOURNAL_VERSION.to_le_bytes());
    b[16..24].copy_from_slice(&h.generation.to_le_bytes());
    b[24..32].copy_from_slice(&h.prev_seq.to_le_bytes());
    let crc = crc32fast::hash(&b[0..36]);
    b[36..40].copy_from_slice(&crc.to_le_bytes());
    b
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Decodes a header. `bytes` holds the first `min(file length, HEADER_LEN)` bytes.
pub(crate) fn decode_header(bytes: &[u8], path: &Path) -> Result<JournalHeader, StoreError> {
    if bytes.is_empty() {
        return Err(StoreError::corrupt(path, 0, "empty journal file"));
    }
    let n = bytes.len().min(JOURNAL_MAGIC.len());
    if bytes[..n] != JOURNAL_MAGIC[..n] {
        return Err(StoreError::NotOurs {
            path: path.to_owned(),
            reason: "no journal magic at the start of the file".into(),
        });
    }
    if (bytes.len() as u64) < HEADER_LEN {
        return Err(StoreError::corrupt(
            path,
            bytes.len() as u64,
            "file ends inside the journal header",
        ));
    }
    let version = le_u32(bytes, 8);
    if version != JOURNAL_VERSION {
        return Err(StoreError::NotOurs {
            path: path.to_owned(),
            reason: format!("journal format version {version}, this build reads {JOURNAL_VERSION}"),
        });
    }
    if crc32fast::hash(&bytes[0..36]) != le_u32(bytes, 36) {
        return Err(StoreError::corrupt(
            path,
            0,
            "journal header checksum mismatch",
        ));
    }
    Ok(JournalHeader {
        generation: le_u64(bytes, 16),
        prev_seq: le_u64(bytes, 24),
    })
}

/// Encodes one batch as a complete record into `buf` (cleared first):
///
/// ```text
/// frame:   magic "MIPR" (4) | payload length (4) | CRC32 of (length bytes ++ payload) (4)
/// payload: seq (8) | synced_upto (8) | op count (4) | ops
/// op:      kind (1: put, 2: delete) | table id (1) | key length (2) | [value length (2)] | key | [value]
/// ```
///
/// All integers little-endian.
pub(crate) fn encode_batch(
    buf: &mut Vec<u8>,
    seq: u64,
    synced_upto: u64,
    ops: &[Op<'_>],
) -> Result<(), StoreError> {
    buf.clear();
    buf.extend_from_slice(&RECORD_MAGIC);
    buf.extend_from_slice(&[0u8; 8]);
    buf.extend_from_slice(&seq.to_le_bytes());
    buf.extend_from_slice(&synced_upto.to_le_bytes());
    let n_ops = u32::try_from(ops.len())
        .map_err(|_| StoreError::invalid(format!("{} ops in one batch", ops.len())))?;
    buf.extend_from_slice(&n_ops.to_le_bytes());
    for op in ops {
        let key = op.key();
        if key.len() > MAX_KEY_LEN {
            buf.clear();
            return Err(StoreError::invalid(format!(
                "key of {} bytes in table {} (at most {MAX_KEY_LEN})",
                key.len(),
                op.table().name()
            )));
        }
        match *op {
            Op::Put { table, key, value } => {
                if value.len() > MAX_VALUE_LEN {
                    buf.clear();
                    return Err(StoreError::invalid(format!(
                        "value of {} bytes in table {} (at most {MAX_VALUE_LEN})",
                        value.len(),
                        table.name()
                    )));
                }
                buf.push(OP_PUT);
                buf.push(table.id());
                buf.extend_from_slice(&(key.len() as u16).to_le_bytes());
                buf.extend_from_slice(&(value.len() as u16).to_le_bytes());
                buf.extend_from_slice(key);
                buf.extend_from_slice(value);
            }
            Op::Delete { table, key } => {
                buf.push(OP_DELETE);
                buf.push(table.id());
                buf.extend_from_slice(&(key.len() as u16).to_le_bytes());
                buf.extend_from_slice(key);
            }
        }
        if buf.len() - FRAME_LEN > MAX_BATCH_BYTES {
            buf.clear();
            return Err(StoreError::invalid(format!(
                "batch of {} ops exceeds {MAX_BATCH_BYTES} bytes",
                ops.len()
            )));
        }
    }
    let len = (buf.len() - FRAME_LEN) as u32;
    buf[4..8].copy_from_slice(&len.to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(&buf[FRAME_LEN..]);
    let crc = h.finalize();
    buf[8..12].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// A validated record payload.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BatchView<'a> {
    pub seq: u64,
    pub synced_upto: u64,
    pub n_ops: u32,
    ops: &'a [u8],
}

impl<'a> BatchView<'a> {
    /// The batch's ops, in order.
    pub fn ops(&self) -> OpsIter<'a> {
        OpsIter {
            bytes: self.ops,
            pos: 0,
            left: self.n_ops,
        }
    }
}

/// Iterator over the ops of a validated payload.
pub(crate) struct OpsIter<'a> {
    bytes: &'a [u8],
    pos: usize,
    left: u32,
}

impl<'a> Iterator for OpsIter<'a> {
    type Item = Op<'a>;

    fn next(&mut self) -> Option<Op<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // Validated by `parse_payload`; an error here cannot happen, and ends the iteration.
        decode_op(self.bytes, &mut self.pos).ok()
    }
}

fn decode_op<'a>(b: &'a [u8], pos: &mut usize) -> Result<Op<'a>, &'static str> {
    let p = *pos;
    if b.len() < p + 4 {
        return Err("op header runs past the end of the record");
    }
    let kind = b[p];
    let table = Table::from_id(b[p + 1]).ok_or("unknown table id")?;
    let klen = le_u16(b, p + 2) as usize;
    if klen > MAX_KEY_LEN {
        return Err("key length above the limit");
    }
    match kind {
        OP_PUT => {
            if b.len() < p + 6 {
                return Err("op header runs past the end of the record");
            }
            let vlen = le_u16(b, p + 4) as usize;
            if vlen > MAX_VALUE_LEN {
                return Err("value length above the limit");
            }
            let k0 = p + 6;
            let v0 = k0 + klen;
            let end = v0 + vlen;
            if b.len() < end {
                return Err("op data runs past the end of the record");
            }
            *pos = end;
            Ok(Op::Put {
                table,
                key: &b[k0..v0],
                value: &b[v0..end],
            })
        }
        OP_DELETE => {
            let k0 = p + 4;
            let end = k0 + klen;
            if b.len() < end {
                return Err("op data runs past the end of the record");
            }
            *pos = end;
            Ok(Op::Delete {
                table,
                key: &b[k0..end],
            })
        }
        _ => Err("unknown op kind"),
    }
}

/// Validates a payload completely (every op decodes, nothing left over).
pub(crate) fn parse_payload(payload: &[u8]) -> Result<BatchView<'_>, &'static str> {
    if payload.len() < PAYLOAD_FIXED {
        return Err("record payload shorter than its fixed part");
    }
    let seq = le_u64(payload, 0);
    let synced_upto = le_u64(payload, 8);
    let n_ops = le_u32(payload, 16);
    let ops = &payload[PAYLOAD_FIXED..];
    let mut pos = 0;
    for _ in 0..n_ops {
        decode_op(ops, &mut pos)?;
    }
    if pos != ops.len() {
        return Err("bytes left over after the last op");
    }
    Ok(BatchView {
        seq,
        synced_upto,
        n_ops,
        ops,
    })
}

/// Checks the frame fields; returns the payload length.
fn check_frame_header(frame: &[u8]) -> Result<usize, &'static str> {
    if frame[0..4] != RECORD_MAGIC {
        return Err("no record magic");
    }
    let len = le_u32(frame, 4) as usize;
    if !(PAYLOAD_FIXED..=MAX_BATCH_BYTES).contains(&len) {
        return Err("record length out of range");
    }
    Ok(len)
}

fn crc_ok(frame: &[u8], payload: &[u8]) -> bool {
    let mut h = crc32fast::Hasher::new();
    h.update(&frame[4..8]);
    h.update(payload);
    h.finalize() == le_u32(frame, 8)
}

/// Validates a whole record at the start of `bytes`; returns its total length and payload.
fn check_record(bytes: &[u8]) -> Result<(usize, BatchView<'_>), &'static str> {
    if bytes.len() < FRAME_LEN {
        return Err("incomplete record frame");
    }
    let len = check_frame_header(&bytes[..FRAME_LEN])?;
    if bytes.len() < FRAME_LEN + len {
        return Err("record extends past the end of the file");
    }
    let payload = &bytes[FRAME_LEN..FRAME_LEN + len];
    if !crc_ok(&bytes[..FRAME_LEN], payload) {
        return Err("record checksum mismatch");
    }
    Ok((FRAME_LEN + len, parse_payload(payload)?))
}

/// How to treat a bad record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TailMode {
    /// Any bad record is an error (journals that were closed after an fdatasync).
    Strict,
    /// A bad record that can be a torn or never-synced tail ends the journal (the last one).
    Tolerant,
}

/// A discarded tail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TornTail {
    pub offset: u64,
    pub file_len: u64,
    pub reason: String,
    /// Complete, checksummed records found after the bad one (possible only after a power
    /// cut, all written after the last fdatasync) and discarded with it.
    pub discarded_records: u64,
}

/// What a scan found.
#[derive(Clone, Debug)]
pub(crate) struct ScanResult {
    pub batches: u64,
    pub ops: u64,
    pub last_seq: u64,
    /// Offset just past the last good record.
    pub valid_end: u64,
    pub torn: Option<TornTail>,
}

/// Opens a journal and checks its header against what the caller expects.
pub(crate) fn open_journal(
    path: &Path,
    expected_generation: u64,
) -> Result<(File, u64, JournalHeader), StoreError> {
    let file = File::open(path).map_err(|e| StoreError::io(path, "open journal", e))?;
    let file_len = file
        .metadata()
        .map_err(|e| StoreError::io(path, "stat journal", e))?
        .len();
    let mut head = vec![0u8; file_len.min(HEADER_LEN) as usize];
    file.read_exact_at(&mut head, 0)
        .map_err(|e| StoreError::io(path, "read journal header", e))?;
    let header = decode_header(&head, path)?;
    if header.generation != expected_generation {
        return Err(StoreError::corrupt(
            path,
            16,
            format!(
                "header says generation {}, the file name says {expected_generation}",
                header.generation
            ),
        ));
    }
    Ok((file, file_len, header))
}

/// Reads every record of a journal in order and hands each batch to `apply`.
///
/// The header must name `expected_generation` and continue from batch `expected_prev_seq`;
/// record sequence numbers must follow on one by one. In [`TailMode::Tolerant`] a bad record
/// ends the journal (reported as [`TornTail`]) unless a later intact record shows that the bad
/// one had been made durable (its `synced_upto` lies beyond the bad offset): that is real
/// corruption and an error, as is any bad record in [`TailMode::Strict`].
pub(crate) fn scan_journal(
    path: &Path,
    expected_generation: u64,
    expected_prev_seq: u64,
    mode: TailMode,
    mut apply: impl FnMut(&BatchView<'_>) -> Result<(), StoreError>,
) -> Result<ScanResult, StoreError> {
    let (file, file_len, header) = open_journal(path, expected_generation)?;
    if header.prev_seq != expected_prev_seq {
        return Err(StoreError::corrupt(
            path,
            24,
            format!(
                "journal continues after batch {}, but the state before it ends at batch {expected_prev_seq}",
                header.prev_seq
            ),
        ));
    }
    let mut reader = BufReader::with_capacity(1 << 20, &file);
    reader
        .seek(SeekFrom::Start(HEADER_LEN))
        .map_err(|e| StoreError::io(path, "seek journal", e))?;
    let mut res = ScanResult {
        batches: 0,
        ops: 0,
        last_seq: header.prev_seq,
        valid_end: HEADER_LEN,
        torn: None,
    };
    let mut frame = [0u8; FRAME_LEN];
    let mut payload = Vec::new();
    let bad: &'static str = loop {
        let off = res.valid_end;
        if off == file_len {
            return Ok(res);
        }
        if file_len - off < FRAME_LEN as u64 {
            break "incomplete record frame";
        }
        reader
            .read_exact(&mut frame)
            .map_err(|e| StoreError::io(path, "read journal", e))?;
        let len = match check_frame_header(&frame) {
            Ok(len) => len,
            Err(reason) => break reason,
        };
        if file_len - off - (FRAME_LEN as u64) < len as u64 {
            break "record extends past the end of the file";
        }
        payload.resize(len, 0);
        match reader.read_exact(&mut payload) {
            Ok(()) => {}
            // The file shrank under us; treat like a short file.
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                break "record extends past the end of the file"
            }
            Err(e) => return Err(StoreError::io(path, "read journal", e)),
        }
        if !crc_ok(&frame, &payload) {
            break "record checksum mismatch";
        }
        let view = match parse_payload(&payload) {
            Ok(v) => v,
            Err(reason) => break reason,
        };
        if view.seq != res.last_seq + 1 {
            break "record sequence number out of order";
        }
        apply(&view)?;
        res.batches += 1;
        res.ops += u64::from(view.n_ops);
        res.last_seq = view.seq;
        res.valid_end = off + (FRAME_LEN + len) as u64;
    };
    let off = res.valid_end;
    if mode == TailMode::Strict {
        return Err(StoreError::corrupt(path, off, bad));
    }
    // Look at what follows the bad record: intact records after it are possible only when a
    // power cut kept later pages but not earlier ones, which is legitimate only for data
    // never reported durable.
    let mut rest = vec![0u8; (file_len - off) as usize];
    file.read_exact_at(&mut rest, off)
        .map_err(|e| StoreError::io(path, "read journal tail", e))?;
    let mut discarded = 0u64;
    let mut p = 1usize;
    while p + FRAME_LEN <= rest.len() {
        if rest[p..p + 4] != RECORD_MAGIC {
            p += 1;
            continue;
        }
        match check_record(&rest[p..]) {
            // Records of older generations (stale blocks a file system may expose after a
            // power cut) have sequence numbers at or below this journal's last good one.
            Ok((total, view)) if view.seq > res.last_seq => {
                if view.synced_upto > off {
                    return Err(StoreError::corrupt(
                        path,
                        off,
                        format!(
                            "{bad}; an intact record at offset {} was written after this \
                             part of the journal had been synced, so this is not a torn tail",
                            off + p as u64
                        ),
                    ));
                }
                discarded += 1;
                p += total;
            }
            _ => p += 1,
        }
    }
    res.torn = Some(TornTail {
        offset: off,
        file_len,
        reason: bad.to_string(),
        discarded_records: discarded,
    });
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_round_trip() {
        let ops = [
            Op::put(Table::Bindings, b"k1", b"v1"),
            Op::delete(Table::Replay, b"k2"),
            Op::put(Table::State, b"", b""),
        ];
        let mut buf = Vec::new();
        encode_batch(&mut buf, 7, 99, &ops).unwrap();
        let (total, view) = check_record(&buf).unwrap();
        assert_eq!(total, buf.len());
        assert_eq!(view.seq, 7);
        assert_eq!(view.synced_upto, 99);
        assert_eq!(view.ops().collect::<Vec<_>>(), ops);
        for i in 0..buf.len() {
            let mut b = buf.clone();
            b[i] ^= 0x40;
            assert!(check_record(&b).is_err(), "flip at {i} undetected");
        }
    }

    #[test]
    fn limits() {
        let mut buf = Vec::new();
        let big = vec![0u8; MAX_KEY_LEN + 1];
        assert!(encode_batch(&mut buf, 1, 0, &[Op::delete(Table::Bindings, &big)]).is_err());
        let big = vec![0u8; MAX_VALUE_LEN + 1];
        assert!(encode_batch(&mut buf, 1, 0, &[Op::put(Table::Bindings, b"k", &big)]).is_err());
    }

    #[test]
    fn header_round_trip() {
        let h = JournalHeader {
            generation: 5,
            prev_seq: 77,
        };
        let b = encode_header(h);
        assert_eq!(decode_header(&b, Path::new("x")).unwrap(), h);
        let mut bad = b;
        bad[20] ^= 1;
        assert!(matches!(
            decode_header(&bad, Path::new("x")),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(
            decode_header(b"garbage", Path::new("x")),
            Err(StoreError::NotOurs { .. })
        ));
    }
}
