//! The two primitives every authenticator here is built from: MD5 (RFC 1321) and HMAC-MD5
//! (RFC 2104), on top of the `md-5` 0.11 and `hmac` 0.13 crates.

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};

/// Length of every authenticator this crate computes (128 bits).
pub const AUTHENTICATOR_LEN: usize = 16;

/// An MD5 digest or HMAC-MD5 value.
pub type Authenticator = [u8; AUTHENTICATOR_LEN];

pub(crate) type HmacMd5 = Hmac<Md5>;

/// MD5 over the concatenation of `parts`.
#[must_use]
pub fn md5(parts: &[&[u8]]) -> Authenticator {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// HMAC-MD5 (RFC 2104) with `key` over the concatenation of `parts`.
#[must_use]
pub fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> Authenticator {
    let mut mac = new_hmac(key);
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// A keyed HMAC-MD5 state (inner and outer pads already hashed), to be cloned per message.
pub(crate) fn new_hmac(key: &[u8]) -> HmacMd5 {
    match <HmacMd5 as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC accepts keys of any length (longer ones are hashed first, RFC 2104 §2).
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// RFC 1321 §A.5, the whole test suite.
    #[test]
    fn md5_rfc1321_suite() {
        let cases: [(&str, &str); 7] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(md5(&[input.as_bytes()]).to_vec(), h(expected), "{input:?}");
            // Split input: the streaming path gives the same answer.
            let (a, b) = input.as_bytes().split_at(input.len() / 3);
            assert_eq!(md5(&[a, b]).to_vec(), h(expected), "{input:?} split");
        }
    }

    /// RFC 2202 §2, HMAC-MD5 test cases 1-7.
    #[test]
    fn hmac_md5_rfc2202() {
        let cases: Vec<(Vec<u8>, Vec<u8>, &str)> = vec![
            (
                vec![0x0b; 16],
                b"Hi There".to_vec(),
                "9294727a3638bb1c13f48ef8158bfc9d",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                "750c783e6ab0b503eaa86e310a5db738",
            ),
            (
                vec![0xaa; 16],
                vec![0xdd; 50],
                "56be34521d144c88dbb8c733f0e8b3f6",
            ),
            (
                h("0102030405060708090a0b0c0d0e0f10111213141516171819"),
                vec![0xcd; 50],
                "697eaf0aca3a3aea3a75164746ffaa79",
            ),
            (
                vec![0x0c; 16],
                b"Test With Truncation".to_vec(),
                "56461ef2342edc00f9bab995690efd4c",
            ),
            (
                vec![0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
            ),
            (
                vec![0xaa; 80],
                b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"
                    .to_vec(),
                "6f630fad67cda0ee1fb1f562db3aa53e",
            ),
        ];
        for (i, (key, data, expected)) in cases.iter().enumerate() {
            assert_eq!(
                hmac_md5(key, &[data]).to_vec(),
                h(expected),
                "RFC 2202 case {}",
                i + 1
            );
        }
    }
}
