//! Shared secrets of a mobility security association.
//!
//! A [`Key`] holds the secret bytes of one security context (RFC 5944 §1.6, "mobility
//! security association"). The router accepts keys as hex (`key hex 1234...`, seed 002) and
//! shows an ASCII form when the key was entered as text (`Key 'oldkey' 1230552d...`), so both
//! parsers are here. The bytes are zeroized on drop, `Debug` prints only the length, there is
//! no `Display`, and the one way to print the key is the explicit [`Key::expose_hex`], meant
//! for an operator who asked for it (`--show-keys`).

use core::fmt;

use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The secret of one security context. Any length from 1 byte up; the router's default is 128
/// bits.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key {
    bytes: Vec<u8>,
}

/// Why a key string was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The string was empty: an empty key authenticates nothing.
    Empty,
    /// A hex key needs two digits per byte; this one has an odd number of digits.
    OddLength {
        /// Number of hex digits given.
        digits: usize,
    },
    /// A character that is not a hex digit, at this character offset (0-based). The
    /// character itself is not reported: it is part of a secret.
    InvalidHexDigit {
        /// Offset of the offending character.
        offset: usize,
    },
    /// `from_ascii` was given a byte outside printable ASCII (0x20..=0x7e), at this offset.
    NotPrintableAscii {
        /// Offset of the offending byte.
        offset: usize,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Empty => f.write_str("empty key"),
            KeyError::OddLength { digits } => write!(
                f,
                "hex key has an odd number of digits ({digits}); two digits per byte are needed"
            ),
            KeyError::InvalidHexDigit { offset } => {
                write!(
                    f,
                    "hex key has a character that is not a hex digit at offset {offset}"
                )
            }
            KeyError::NotPrintableAscii { offset } => {
                write!(f, "ASCII key has a non-printable byte at offset {offset}")
            }
        }
    }
}

impl std::error::Error for KeyError {}

impl Key {
    /// A key from raw bytes. Fails only on an empty slice.
    ///
    /// # Errors
    /// [`KeyError::Empty`] when `bytes` is empty.
    pub fn from_bytes(bytes: &[u8]) -> Result<Key, KeyError> {
        if bytes.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(Key {
            bytes: bytes.to_vec(),
        })
    }

    /// A key from hex digits (either case), two per byte, as in the router's
    /// `key hex 12345678123456781234567812345678`. No prefix, separators or spaces.
    ///
    /// # Errors
    /// [`KeyError::Empty`], [`KeyError::OddLength`] or [`KeyError::InvalidHexDigit`].
    pub fn from_hex(hex: &str) -> Result<Key, KeyError> {
        let digits = hex.as_bytes();
        if digits.is_empty() {
            return Err(KeyError::Empty);
        }
        // Report a bad character before the length: "12g" is a typo, not a length problem.
        for (offset, &c) in digits.iter().enumerate() {
            if hex_value(c).is_none() {
                return Err(KeyError::InvalidHexDigit { offset });
            }
        }
        if !digits.len().is_multiple_of(2) {
            return Err(KeyError::OddLength {
                digits: digits.len(),
            });
        }
        let mut bytes = Vec::with_capacity(digits.len() / 2);
        for pair in digits.chunks_exact(2) {
            // Both digits were checked above.
            let hi = hex_value(pair[0]).unwrap_or(0);
            let lo = hex_value(pair[1]).unwrap_or(0);
            bytes.push((hi << 4) | lo);
        }
        Ok(Key { bytes })
    }

    /// A key from printable ASCII text (the router's `key ascii` form): the bytes of the text.
    ///
    /// # Errors
    /// [`KeyError::Empty`] or [`KeyError::NotPrintableAscii`].
    pub fn from_ascii(text: &str) -> Result<Key, KeyError> {
        if text.is_empty() {
            return Err(KeyError::Empty);
        }
        if let Some(offset) = text.bytes().position(|b| !(0x20..=0x7e).contains(&b)) {
            return Err(KeyError::NotPrintableAscii { offset });
        }
        Ok(Key {
            bytes: text.as_bytes().to_vec(),
        })
    }

    /// Length of the key in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false: an empty key cannot be built. Present for clippy's `len_without_is_empty`.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The secret bytes, for the authenticator computations. Do not log them.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    /// The key as lowercase hex, for an operator who explicitly asked to see keys
    /// (`show ip mobile secure` prints it like this). The string is zeroized when dropped.
    #[must_use]
    pub fn expose_hex(&self) -> Zeroizing<String> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = Zeroizing::new(String::with_capacity(self.bytes.len() * 2));
        for &b in &self.bytes {
            s.push(char::from(DIGITS[usize::from(b >> 4)]));
            s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
        }
        s
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key(<redacted>, {} bytes)", self.bytes.len())
    }
}

impl ConstantTimeEq for Key {
    /// Constant time in the contents; the lengths (not secret) are compared first.
    fn ct_eq(&self, other: &Key) -> Choice {
        self.bytes.as_slice().ct_eq(other.bytes.as_slice())
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Key {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_case() {
        let k = Key::from_hex("12345678ABCDEFabcdef000000000001").unwrap();
        assert_eq!(k.len(), 16);
        assert_eq!(k.expose_secret()[0], 0x12);
        assert_eq!(k.expose_secret()[4], 0xab);
        assert_eq!(&*k.expose_hex(), "12345678abcdefabcdef000000000001");
    }

    #[test]
    fn hex_errors_are_clear() {
        assert_eq!(Key::from_hex(""), Err(KeyError::Empty));
        assert_eq!(Key::from_hex("123"), Err(KeyError::OddLength { digits: 3 }));
        assert_eq!(
            Key::from_hex("12x4"),
            Err(KeyError::InvalidHexDigit { offset: 2 })
        );
        assert_eq!(
            Key::from_hex("0x1234"),
            Err(KeyError::InvalidHexDigit { offset: 1 })
        );
        assert_eq!(
            Key::from_hex("12 34"),
            Err(KeyError::InvalidHexDigit { offset: 2 })
        );
        let msg = KeyError::OddLength { digits: 31 }.to_string();
        assert!(msg.contains("odd") && msg.contains("31"), "{msg}");
        // The error text never repeats the bad character (it is part of a secret).
        let msg = Key::from_hex("12z4").unwrap_err().to_string();
        assert!(!msg.contains('z'), "{msg}");
    }

    #[test]
    fn ascii_keys() {
        let k = Key::from_ascii("oldkey").unwrap();
        assert_eq!(k.expose_secret(), b"oldkey");
        assert_eq!(&*k.expose_hex(), "6f6c646b6579");
        assert_eq!(Key::from_ascii(""), Err(KeyError::Empty));
        assert_eq!(
            Key::from_ascii("ab\ncd"),
            Err(KeyError::NotPrintableAscii { offset: 2 })
        );
        assert_eq!(
            Key::from_ascii("caf\u{e9}"),
            Err(KeyError::NotPrintableAscii { offset: 3 })
        );
    }

    #[test]
    fn debug_redacts() {
        let k = Key::from_hex("12345678123456781234567812345678").unwrap();
        let d = format!("{k:?}");
        assert_eq!(d, "Key(<redacted>, 16 bytes)");
        assert!(!d.contains("1234"));
        let k = Key::from_ascii("supersecret").unwrap();
        let d = format!("{k:?} {k:#?}");
        assert!(!d.contains("supersecret"));
        assert!(!d.contains("7375706572"));
    }

    #[test]
    fn equality_is_by_content() {
        let a = Key::from_hex("00112233").unwrap();
        let b = Key::from_bytes(&[0x00, 0x11, 0x22, 0x33]).unwrap();
        let c = Key::from_hex("00112234").unwrap();
        let d = Key::from_hex("0011223300").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert!(bool::from(a.ct_eq(&b)));
        assert_eq!(Key::from_bytes(&[]), Err(KeyError::Empty));
    }
}
