//! The two primitives every authenticator here is built from, MD5 (RFC 1321) and HMAC-MD5
//! (RFC 2104), plus the keyed-MD5 prefix+suffix construction of RFC 2002 §3.5.1.
//!
//! Everything is computed directly on the MD5 compression function of the `md-5` crate
//! (`md5::block_api::compress`): complete 64-byte blocks are compressed straight from the
//! caller's slices, and only the bytes of a block that straddles two slices, plus the final
//! padding (RFC 1321 §3.1, §3.2), go through one 64-byte stack buffer. A prepared key holds
//! only what a message needs: for HMAC-MD5 two 16-byte chaining states ([`HmacMd5Key`]), for
//! prefix+suffix the key bytes (inline when short) and, for a key longer than a block, the
//! state after its complete blocks. Using one per message copies at most 32 bytes of state,
//! instead of cloning a whole hasher with its block buffers.

use core::fmt;

use md5::block_api::compress;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of every authenticator this crate computes (128 bits).
pub const AUTHENTICATOR_LEN: usize = 16;

/// An MD5 digest or HMAC-MD5 value.
pub type Authenticator = [u8; AUTHENTICATOR_LEN];

/// MD5 block length in bytes (RFC 1321 §3.4: sixteen 32-bit words).
const BLOCK_LEN: usize = 64;

/// Where the 64-bit message length goes in the last padded block (RFC 1321 §3.2).
const LENGTH_OFFSET: usize = BLOCK_LEN - 8;

/// Initial chaining state A, B, C, D (RFC 1321 §3.3).
const MD5_INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// HMAC inner and outer pad bytes (RFC 2104 §2).
const IPAD: u8 = 0x36;
const OPAD: u8 = 0x5c;

/// The digest as bytes: the four state words, each little-endian (RFC 1321 §3.5).
#[inline]
fn state_bytes(state: &[u32; 4]) -> Authenticator {
    let mut out = [0; AUTHENTICATOR_LEN];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// An MD5 computation in progress: chaining state, bytes absorbed so far and the bytes of an
/// incomplete block. Used for one message and dropped; the dropped state and buffer are
/// zeroized, since they may hold key bytes (prefix+suffix, CHAP) or key-derived state.
struct Md5Stream {
    state: [u32; 4],
    /// Bytes absorbed so far, including blocks compressed before this stream was resumed.
    len: u64,
    buf: [u8; BLOCK_LEN],
    /// Bytes of `buf` in use, always `< BLOCK_LEN` between calls.
    pos: usize,
}

impl Md5Stream {
    /// Continue from `state`, reached after compressing `len` bytes (a multiple of 64).
    #[inline]
    fn resume(state: [u32; 4], len: u64) -> Md5Stream {
        Md5Stream {
            state,
            len,
            buf: [0; BLOCK_LEN],
            pos: 0,
        }
    }

    /// Absorb `data`: complete the pending block if there is one, compress the complete
    /// blocks of `data` in place, keep the remainder.
    #[inline]
    fn update(&mut self, mut data: &[u8]) {
        self.len = self.len.wrapping_add(data.len() as u64);
        if self.pos > 0 {
            let take = (BLOCK_LEN - self.pos).min(data.len());
            self.buf[self.pos..self.pos + take].copy_from_slice(&data[..take]);
            self.pos += take;
            data = &data[take..];
            if self.pos < BLOCK_LEN {
                return;
            }
            compress(&mut self.state, core::slice::from_ref(&self.buf));
            self.pos = 0;
        }
        let (blocks, rest) = data.as_chunks::<BLOCK_LEN>();
        if !blocks.is_empty() {
            compress(&mut self.state, blocks);
        }
        self.buf[..rest.len()].copy_from_slice(rest);
        self.pos = rest.len();
    }

    /// Append the padding and the length in bits (RFC 1321 §3.1, §3.2), compress the last
    /// block or two, and return the digest.
    #[inline]
    fn finish(mut self) -> Authenticator {
        let bit_len = self.len.wrapping_mul(8);
        self.buf[self.pos] = 0x80;
        let mut pos = self.pos + 1;
        if pos > LENGTH_OFFSET {
            self.buf[pos..].fill(0);
            compress(&mut self.state, core::slice::from_ref(&self.buf));
            pos = 0;
        }
        self.buf[pos..LENGTH_OFFSET].fill(0);
        self.buf[LENGTH_OFFSET..].copy_from_slice(&bit_len.to_le_bytes());
        compress(&mut self.state, core::slice::from_ref(&self.buf));
        state_bytes(&self.state)
    }
}

impl Drop for Md5Stream {
    fn drop(&mut self) {
        // Slices, not arrays: `zeroize` clears a slice with one fill and a barrier.
        self.state.as_mut_slice().zeroize();
        self.buf.as_mut_slice().zeroize();
    }
}

/// MD5 (RFC 1321) over the concatenation of `parts`.
#[must_use]
pub fn md5(parts: &[&[u8]]) -> Authenticator {
    let mut h = Md5Stream::resume(MD5_INIT, 0);
    for p in parts {
        h.update(p);
    }
    h.finish()
}

/// HMAC-MD5 (RFC 2104) with `key` over the concatenation of `parts`. To use one key for many
/// messages, build an [`HmacMd5Key`] once instead.
#[must_use]
pub fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> Authenticator {
    HmacMd5Key::new(key).mac(parts)
}

/// True when `received` is exactly `expected`: constant time in the contents (the XOR of the
/// two, folded to 64 bits, goes through `subtle`'s branch-free comparison with zero). A
/// length other than 16 (not secret) is false at once.
#[must_use]
pub(crate) fn authenticator_eq(expected: &Authenticator, received: &[u8]) -> bool {
    let Ok(received) = <&Authenticator>::try_from(received) else {
        return false;
    };
    let diff = u128::from_ne_bytes(*expected) ^ u128::from_ne_bytes(*received);
    let folded = (diff as u64) | ((diff >> 64) as u64);
    folded.ct_eq(&0).into()
}

/// An HMAC-MD5 key, prepared once: the MD5 chaining states after the first block of the inner
/// hash, (key XOR ipad), and of the outer hash, (key XOR opad) (RFC 2104 §2; precomputing
/// them is the optimisation suggested in its §4). These two states are as good as the key:
/// they are zeroized on drop and `Debug` does not show them.
///
/// A message of `n` bytes then costs `(n + 9).div_ceil(64)` compressions for the inner hash
/// and exactly one for the outer hash.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct HmacMd5Key {
    inner: [u32; 4],
    outer: [u32; 4],
}

impl HmacMd5Key {
    /// Prepare `key`, of any length. A key longer than the 64-byte block is replaced by its
    /// MD5 digest first; a shorter one is padded with zeros to the block (RFC 2104 §2, §3).
    #[must_use]
    pub fn new(key: &[u8]) -> HmacMd5Key {
        let mut block = [0u8; BLOCK_LEN];
        if key.len() > BLOCK_LEN {
            let mut digest = md5(&[key]);
            block[..AUTHENTICATOR_LEN].copy_from_slice(&digest);
            digest.as_mut_slice().zeroize();
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut inner = MD5_INIT;
        let mut outer = MD5_INIT;
        block.iter_mut().for_each(|b| *b ^= IPAD);
        compress(&mut inner, core::slice::from_ref(&block));
        block.iter_mut().for_each(|b| *b ^= IPAD ^ OPAD);
        compress(&mut outer, core::slice::from_ref(&block));
        block.as_mut_slice().zeroize();
        HmacMd5Key { inner, outer }
    }

    /// HMAC-MD5 over the concatenation of `parts` (RFC 2104 §2):
    /// MD5((K ^ opad) || MD5((K ^ ipad) || text)), resumed from the prepared states.
    #[must_use]
    pub fn mac(&self, parts: &[&[u8]]) -> Authenticator {
        // Inner hash: the (K ^ ipad) block is already compressed, and counts in the length.
        let mut h = Md5Stream::resume(self.inner, BLOCK_LEN as u64);
        for p in parts {
            h.update(p);
        }
        let inner_digest = h.finish();
        // Outer hash: after the (K ^ opad) block the rest, the 16-byte inner digest, fits one
        // padded block: digest, 0x80, zeros, and the length of 64 + 16 bytes in bits.
        let mut block = [0u8; BLOCK_LEN];
        block[..AUTHENTICATOR_LEN].copy_from_slice(&inner_digest);
        block[AUTHENTICATOR_LEN] = 0x80;
        block[LENGTH_OFFSET..]
            .copy_from_slice(&(((BLOCK_LEN + AUTHENTICATOR_LEN) as u64) * 8).to_le_bytes());
        let mut state = self.outer;
        compress(&mut state, core::slice::from_ref(&block));
        let out = state_bytes(&state);
        // `state` started as the outer key state; clear the copy.
        state.as_mut_slice().zeroize();
        out
    }
}

impl fmt::Debug for HmacMd5Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacMd5Key(<redacted>)")
    }
}

/// Longest key a [`PrefixSuffixKey`] keeps inline (covers 128- and 256-bit keys).
const INLINE_KEY_LEN: usize = 32;

/// Keyed MD5 in prefix+suffix mode, MD5(key || data || key) (RFC 2002 §3.5.1, kept as an
/// option by RFC 5944 §3.5.1), prepared once per key.
///
/// A key of up to [`INLINE_KEY_LEN`] bytes (the usual 16) is copied inline, so a message
/// follows no pointer to reach it; there is nothing to precompute for it, since it shares its
/// first block with the message. A longer key stays on the heap, with its complete 64-byte
/// blocks compressed once. Either way this is key material: zeroized on drop, redacted in
/// `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) enum PrefixSuffixKey {
    /// A short key, `bytes[..len]`; the hash starts from the MD5 initial state.
    Inline {
        /// Key length, at most [`INLINE_KEY_LEN`].
        len: u8,
        /// The key, zero-padded.
        bytes: [u8; INLINE_KEY_LEN],
    },
    /// A longer key.
    Long {
        /// Chaining state after the key's complete blocks.
        state: [u32; 4],
        /// The key.
        key: Vec<u8>,
    },
}

impl PrefixSuffixKey {
    /// Prepare `key` (any length).
    pub(crate) fn new(key: &[u8]) -> PrefixSuffixKey {
        if let Ok(len) = u8::try_from(key.len()) {
            if usize::from(len) <= INLINE_KEY_LEN {
                let mut bytes = [0; INLINE_KEY_LEN];
                bytes[..key.len()].copy_from_slice(key);
                return PrefixSuffixKey::Inline { len, bytes };
            }
        }
        let mut state = MD5_INIT;
        let (blocks, _) = key.as_chunks::<BLOCK_LEN>();
        if !blocks.is_empty() {
            compress(&mut state, blocks);
        }
        PrefixSuffixKey::Long {
            state,
            key: key.to_vec(),
        }
    }

    /// MD5(key || concatenation of `parts` || key).
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> Authenticator {
        match self {
            PrefixSuffixKey::Inline { len, bytes } => {
                let key = &bytes[..usize::from(*len).min(INLINE_KEY_LEN)];
                let mut h = Md5Stream::resume(MD5_INIT, 0);
                h.update(key);
                for p in parts {
                    h.update(p);
                }
                h.update(key);
                h.finish()
            }
            PrefixSuffixKey::Long { state, key } => {
                let (blocks, key_tail) = key.as_chunks::<BLOCK_LEN>();
                let mut h = Md5Stream::resume(*state, (blocks.len() * BLOCK_LEN) as u64);
                h.update(key_tail);
                for p in parts {
                    h.update(p);
                }
                h.update(key);
                h.finish()
            }
        }
    }
}

impl fmt::Debug for PrefixSuffixKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrefixSuffixKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// Reference HMAC-MD5: the `hmac` and `md-5` crates.
    fn reference_hmac(key: &[u8], data: &[u8]) -> Authenticator {
        use hmac::{KeyInit, Mac};
        let mut m = <hmac::Hmac<md5::Md5> as KeyInit>::new_from_slice(key).unwrap();
        m.update(data);
        m.finalize().into_bytes().into()
    }

    /// Reference MD5: the `md-5` crate.
    fn reference_md5(parts: &[&[u8]]) -> Authenticator {
        use md5::Digest;
        let mut h = md5::Md5::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }

    /// `data` cut at `cuts` (taken modulo `data.len() + 1`, in any order, repeats giving
    /// empty parts).
    fn split<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
        let mut at: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
        at.sort_unstable();
        let mut parts = Vec::with_capacity(at.len() + 1);
        let mut start = 0;
        for a in at {
            parts.push(&data[start..a]);
            start = a;
        }
        parts.push(&data[start..]);
        parts
    }

    /// Every length around the padding edges (55/56 bytes left in a block, exact blocks), each
    /// split at every point, against the `md-5` crate; and the same lengths through HMAC-MD5
    /// and prefix+suffix with keys around the block length.
    #[test]
    fn block_and_padding_boundaries() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..=200 {
            let d = &data[..len];
            let whole = reference_md5(&[d]);
            assert_eq!(md5(&[d]), whole, "len {len}");
            for cut in 0..=len {
                assert_eq!(md5(&[&d[..cut], &d[cut..]]), whole, "len {len} cut {cut}");
            }
            assert_eq!(md5(&[&[], d, &[]]), whole, "len {len} empty parts");
        }
        for key_len in [
            1, 15, 16, 31, 32, 33, 55, 56, 63, 64, 65, 127, 128, 129, 200, 255, 256, 300,
        ] {
            let key: Vec<u8> = (0..key_len).map(|i| (i as u8) ^ 0xa5).collect();
            let hk = HmacMd5Key::new(&key);
            let pk = PrefixSuffixKey::new(&key);
            for len in [0, 1, 23, 47, 48, 55, 56, 63, 64, 65, 119, 120, 128, 200] {
                let d = &data[..len];
                let (a, b) = d.split_at(len / 2);
                assert_eq!(hk.mac(&[a, b]), reference_hmac(&key, d), "{key_len}/{len}");
                assert_eq!(
                    pk.mac(&[a, b]),
                    reference_md5(&[&key, d, &key]),
                    "{key_len}/{len}"
                );
            }
        }
    }

    #[test]
    fn prepared_keys_zeroize() {
        let mut k = HmacMd5Key::new(b"Jefe");
        k.zeroize();
        assert_eq!((k.inner, k.outer), ([0; 4], [0; 4]));
        let mut p = PrefixSuffixKey::new(&[0x42; 16]);
        p.zeroize();
        assert!(matches!(p, PrefixSuffixKey::Inline { len: 0, bytes } if bytes == [0; 32]));
        let mut p = PrefixSuffixKey::new(&[0x42; 100]);
        p.zeroize();
        assert!(
            matches!(p, PrefixSuffixKey::Long { state: [0, 0, 0, 0], ref key } if key.is_empty())
        );
    }

    #[test]
    fn authenticator_eq_is_exact() {
        let a: Authenticator = md5(&[b"abc"]);
        assert!(authenticator_eq(&a, &a));
        for bit in 0..128 {
            let mut b = a;
            b[bit / 8] ^= 1 << (bit % 8);
            assert!(!authenticator_eq(&a, &b), "bit {bit}");
        }
        assert!(!authenticator_eq(&a, &a[..15]));
        assert!(!authenticator_eq(&a, &[]));
        let mut longer = a.to_vec();
        longer.push(0);
        assert!(!authenticator_eq(&a, &longer));
    }

    #[test]
    fn prepared_keys_do_not_show_in_debug() {
        let key = [0x42u8; 16];
        let d = format!(
            "{:?} {:#?}",
            HmacMd5Key::new(&key),
            PrefixSuffixKey::new(&key)
        );
        assert_eq!(
            d, "HmacMd5Key(<redacted>) PrefixSuffixKey(<redacted>)",
            "{d}"
        );
    }

    proptest! {
        /// HMAC-MD5 on the compression function equals the `hmac` crate, for random keys
        /// (empty, short, exactly one block, longer than a block) and random messages cut into
        /// random parts; a prepared key gives the same answer every time.
        #[test]
        fn hmac_md5_matches_hmac_crate(
            key in proptest::collection::vec(any::<u8>(), 0..=100),
            data in proptest::collection::vec(any::<u8>(), 0..=300),
            cuts in proptest::collection::vec(any::<usize>(), 0..6),
        ) {
            let parts = split(&data, &cuts);
            let expected = reference_hmac(&key, &data);
            prop_assert_eq!(hmac_md5(&key, &parts), expected);
            let prepared = HmacMd5Key::new(&key);
            prop_assert_eq!(prepared.mac(&parts), expected);
            prop_assert_eq!(prepared.clone().mac(&[&data]), expected);
        }

        /// Keyed MD5 prefix+suffix equals MD5(key || data || key) by the `md-5` crate.
        #[test]
        fn prefix_suffix_matches_md5_crate(
            key in proptest::collection::vec(any::<u8>(), 0..=100),
            data in proptest::collection::vec(any::<u8>(), 0..=300),
            cuts in proptest::collection::vec(any::<usize>(), 0..6),
        ) {
            let parts = split(&data, &cuts);
            let expected = reference_md5(&[&key, &data, &key]);
            let prepared = PrefixSuffixKey::new(&key);
            prop_assert_eq!(prepared.mac(&parts), expected);
            prop_assert_eq!(prepared.clone().mac(&[&data]), expected);
        }

        /// Plain MD5 over random parts equals the `md-5` crate over the whole.
        #[test]
        fn md5_matches_md5_crate(
            data in proptest::collection::vec(any::<u8>(), 0..=300),
            cuts in proptest::collection::vec(any::<usize>(), 0..6),
        ) {
            prop_assert_eq!(md5(&split(&data, &cuts)), reference_md5(&[&data]));
        }
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
            // A prepared key, used twice, with the data in two parts.
            let prepared = HmacMd5Key::new(key);
            let (a, b) = data.split_at(data.len() / 3);
            for _ in 0..2 {
                assert_eq!(
                    prepared.mac(&[a, b]).to_vec(),
                    h(expected),
                    "RFC 2202 case {} prepared",
                    i + 1
                );
            }
        }
    }
}
