//! Decoding errors. Every error names the byte offset (from the start of the
//! buffer handed to the decoder) and the field that was being read, so that an
//! operator tool can say exactly where a message is broken.

use core::fmt;

/// What went wrong at [`Error::offset`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The buffer ends before the field does.
    Truncated {
        /// Bytes the field needs from `offset`.
        needed: usize,
        /// Bytes that are actually left from `offset`.
        available: usize,
    },
    /// A length field disagrees with the layout of the structure it describes.
    BadLength,
    /// A checksum does not verify.
    BadChecksum,
    /// A field holds a value the format does not allow (for example a wrong
    /// version number or a message type this decoder does not handle).
    BadValue,
}

/// A decoding error: where, which field, and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// Byte offset of the offending field from the start of the decoded buffer.
    pub offset: usize,
    /// Name of the field (as the RFC names it).
    pub field: &'static str,
    /// What is wrong with it.
    pub kind: ErrorKind,
}

/// Result alias for this crate.
pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// The field at `offset` needs `needed` bytes but only `available` remain.
    pub const fn truncated(
        offset: usize,
        field: &'static str,
        needed: usize,
        available: usize,
    ) -> Self {
        Error {
            offset,
            field,
            kind: ErrorKind::Truncated { needed, available },
        }
    }
    /// The length field at `offset` is inconsistent.
    pub const fn bad_length(offset: usize, field: &'static str) -> Self {
        Error {
            offset,
            field,
            kind: ErrorKind::BadLength,
        }
    }
    /// The checksum at `offset` does not verify.
    pub const fn bad_checksum(offset: usize, field: &'static str) -> Self {
        Error {
            offset,
            field,
            kind: ErrorKind::BadChecksum,
        }
    }
    /// The field at `offset` holds a value that is not allowed.
    pub const fn bad_value(offset: usize, field: &'static str) -> Self {
        Error {
            offset,
            field,
            kind: ErrorKind::BadValue,
        }
    }
    /// The same error, moved by `base` bytes: used when a decoder works on a
    /// sub-slice (an extension inside a message, a message inside a packet).
    pub const fn shifted(self, base: usize) -> Self {
        Error {
            offset: self.offset + base,
            ..self
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Truncated { needed, available } => write!(
                f,
                "truncated at byte {} in field '{}': needs {} byte(s), {} left",
                self.offset, self.field, needed, available
            ),
            ErrorKind::BadLength => {
                write!(
                    f,
                    "bad length at byte {} in field '{}'",
                    self.offset, self.field
                )
            }
            ErrorKind::BadChecksum => {
                write!(
                    f,
                    "bad checksum at byte {} in field '{}'",
                    self.offset, self.field
                )
            }
            ErrorKind::BadValue => {
                write!(
                    f,
                    "invalid value at byte {} in field '{}'",
                    self.offset, self.field
                )
            }
        }
    }
}

impl std::error::Error for Error {}

/// Internet checksum (RFC 1071) over `data`, returned in host order ready to
/// be written big-endian. Used by ICMP, minimal encapsulation, GRE and IPv4.
pub fn internet_checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum = sum.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
    }
    if let [last] = chunks.remainder() {
        sum = sum.wrapping_add(u32::from(*last) << 8);
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_rfc1071_example() {
        // RFC 1071 §3 example bytes: 00 01 f2 03 f4 f5 f6 f7 -> sum ddf2, checksum 220d
        let b = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&b), 0x220d);
        // a buffer with its checksum folded in sums to zero
        let mut with = b.to_vec();
        with.extend_from_slice(&0x220du16.to_be_bytes());
        assert_eq!(internet_checksum(&with), 0);
    }

    #[test]
    fn error_display_names_offset_and_field() {
        let e = Error::truncated(24, "extension length", 1, 0).shifted(8);
        assert_eq!(e.offset, 32);
        assert_eq!(
            e.to_string(),
            "truncated at byte 32 in field 'extension length': needs 1 byte(s), 0 left"
        );
    }
}
