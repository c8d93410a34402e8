//! MN-AAA authentication (generalized authentication extension, type 36 subtype 1) for the
//! reserved SPIs of RFC 3012 §8 / RFC 4721 §8, used with a foreign-agent challenge
//! (MN-FA challenge extension 132, agent advertisement extension 24).
//!
//! For any other SPI the MN-AAA authenticator is plain HMAC-MD5 over the covered bytes
//! (RFC 4721 §6): use a [`crate::SecurityAssociation`] with [`crate::Algorithm::HmacMd5`].
//!
//! "Covered" is, as everywhere in this crate, the message from its type byte through the
//! SPI of this extension ("Preceding Mobile IP data || Type, Subtype, Length, SPI").
//!
//! # `CHAP_SPI` (2)
//! RFC 3012 §8 (unchanged in RFC 4721 §8), the RADIUS CHAP mapping:
//!
//! ```text
//! MD5( high-order byte of Challenge || Key ||
//!      MD5(Preceding Mobile IP data || Type, Subtype, Length, SPI) ||
//!      least-order 237 bytes of Challenge )
//! ```
//!
//! which is RFC 1994 CHAP `MD5(Identifier || secret || challenge)` with Identifier = the
//! challenge's first byte and CHAP-Challenge = the 16-byte inner digest followed by the last
//! 237 challenge bytes: 253 bytes, the largest RADIUS attribute. A challenge of 237 bytes or
//! fewer is used whole in the tail, so its first byte appears twice (as the CHAP identifier
//! and inside the tail). [`radius_chap`] gives the two RADIUS attributes.
//!
//! # `HMAC_CHAP_SPI` (3)
//! RFC 4721 §8 only says that this SPI "indicates the use of HMAC-MD5 instead of MD5 in the
//! above procedure". Our reading: the outer keyed MD5 becomes HMAC-MD5 keyed with the shared
//! secret (so the key no longer sits inside the hashed data), and the inner unkeyed MD5, a
//! mere compression to fit RADIUS, stays:
//!
//! ```text
//! HMAC-MD5( Key, high-order byte of Challenge ||
//!                MD5(Preceding Mobile IP data || Type, Subtype, Length, SPI) ||
//!                least-order 237 bytes of Challenge )
//! ```
//!
//! This is an interpretation, not checked against a second implementation.

use core::fmt;

use subtle::ConstantTimeEq;

use crate::digest::{hmac_md5, md5, Authenticator, AUTHENTICATOR_LEN};
use crate::key::Key;

/// Reserved SPI: CHAP-style MN-AAA authenticator with MD5 (RFC 3012 §9, RFC 4721 §9).
pub const CHAP_SPI: u32 = 2;
/// Reserved SPI: CHAP-style MN-AAA authenticator with HMAC-MD5 (RFC 4721 §9).
pub const HMAC_CHAP_SPI: u32 = 3;

/// How many trailing challenge bytes go into the computation (253 - 16).
pub const CHALLENGE_TAIL_LEN: usize = 237;

/// The CHAP-style MN-AAA computations, selected by the reserved SPI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MnAaaAlgorithm {
    /// SPI 2, [`CHAP_SPI`]: MD5.
    Chap,
    /// SPI 3, [`HMAC_CHAP_SPI`]: HMAC-MD5.
    HmacChap,
}

impl MnAaaAlgorithm {
    /// The algorithm for a reserved SPI, or `None` for any other SPI (which means HMAC-MD5
    /// under a configured security association, RFC 4721 §6).
    #[must_use]
    pub fn from_spi(spi: u32) -> Option<MnAaaAlgorithm> {
        match spi {
            CHAP_SPI => Some(MnAaaAlgorithm::Chap),
            HMAC_CHAP_SPI => Some(MnAaaAlgorithm::HmacChap),
            _ => None,
        }
    }

    /// The reserved SPI of this algorithm.
    #[must_use]
    pub fn spi(self) -> u32 {
        match self {
            MnAaaAlgorithm::Chap => CHAP_SPI,
            MnAaaAlgorithm::HmacChap => HMAC_CHAP_SPI,
        }
    }
}

/// The challenge cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeError {
    /// An empty challenge has no high-order byte.
    Empty,
}

impl fmt::Display for ChallengeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChallengeError::Empty => f.write_str("empty MN-FA challenge"),
        }
    }
}

impl std::error::Error for ChallengeError {}

fn split_challenge(challenge: &[u8]) -> Result<(&[u8], &[u8]), ChallengeError> {
    if challenge.is_empty() {
        return Err(ChallengeError::Empty);
    }
    let tail_start = challenge.len().saturating_sub(CHALLENGE_TAIL_LEN);
    Ok((&challenge[..1], &challenge[tail_start..]))
}

/// The MN-AAA authenticator for a reserved SPI (see the module documentation for the exact
/// formulas). `secret` is the MN-AAA shared secret, `challenge` the bytes of the MN-FA
/// challenge (random bytes chosen by the foreign agent), `covered` the message through the
/// SPI of this extension.
///
/// # Errors
/// [`ChallengeError::Empty`] for an empty challenge.
pub fn mn_aaa_authenticator(
    algorithm: MnAaaAlgorithm,
    secret: &Key,
    challenge: &[u8],
    covered: &[u8],
) -> Result<Authenticator, ChallengeError> {
    let (high, tail) = split_challenge(challenge)?;
    let inner = md5(&[covered]);
    Ok(match algorithm {
        MnAaaAlgorithm::Chap => md5(&[high, secret.expose_secret(), &inner, tail]),
        MnAaaAlgorithm::HmacChap => hmac_md5(secret.expose_secret(), &[high, &inner, tail]),
    })
}

/// True when `authenticator` is right for this challenge and message. Constant time in the
/// authenticator's contents; a wrong length or an empty challenge is false.
#[must_use]
pub fn verify_mn_aaa(
    algorithm: MnAaaAlgorithm,
    secret: &Key,
    challenge: &[u8],
    covered: &[u8],
    authenticator: &[u8],
) -> bool {
    if authenticator.len() != AUTHENTICATOR_LEN {
        return false;
    }
    match mn_aaa_authenticator(algorithm, secret, challenge, covered) {
        Ok(expected) => expected.ct_eq(authenticator).into(),
        Err(_) => false,
    }
}

/// The RADIUS form of a [`CHAP_SPI`] MN-AAA authenticator, for a foreign agent that has the
/// AAA server check it (RFC 2865 §5.3 CHAP-Password, §5.40 CHAP-Challenge).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RadiusChap {
    /// CHAP identifier: the high-order byte of the challenge.
    pub chap_ident: u8,
    /// CHAP-Challenge attribute value: MD5(covered) followed by the last 237 (or all) bytes of
    /// the challenge; at most 253 bytes.
    pub chap_challenge: Vec<u8>,
}

impl RadiusChap {
    /// CHAP-Password attribute value: the identifier followed by the 16-byte authenticator.
    #[must_use]
    pub fn chap_password(&self, authenticator: &Authenticator) -> [u8; 17] {
        let mut out = [0; 17];
        out[0] = self.chap_ident;
        out[1..].copy_from_slice(authenticator);
        out
    }
}

/// Split a [`CHAP_SPI`] computation into RADIUS attributes, such that
/// `MD5(chap_ident || secret || chap_challenge)` is the MN-AAA authenticator.
///
/// # Errors
/// [`ChallengeError::Empty`] for an empty challenge.
pub fn radius_chap(challenge: &[u8], covered: &[u8]) -> Result<RadiusChap, ChallengeError> {
    let (high, tail) = split_challenge(challenge)?;
    let mut chap_challenge = Vec::with_capacity(AUTHENTICATOR_LEN + tail.len());
    chap_challenge.extend_from_slice(&md5(&[covered]));
    chap_challenge.extend_from_slice(tail);
    Ok(RadiusChap {
        chap_ident: high[0],
        chap_challenge,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// A Registration Request with NAI `mn@example.com`, MN-HA authentication (SPI 0x100),
    /// MN-FA challenge 0f1e...f0 (16 bytes) and the generalized authentication header (36,
    /// subtype 1, length 20, SPI as given): everything the MN-AAA authenticator covers.
    fn covered(spi: u8) -> Vec<u8> {
        let mut v = h("01000708 0a000001 0a000064 14000001 c7d4a3b2 00000001");
        v.extend_from_slice(&[131, 14]);
        v.extend_from_slice(b"mn@example.com");
        v.extend_from_slice(&h("2014 00000100 4f74348ef2a8a062811690d2a9771d9a"));
        v.extend_from_slice(&[132, 16]);
        v.extend_from_slice(&challenge());
        v.extend_from_slice(&[36, 1, 0, 20, 0, 0, 0, spi]);
        v
    }

    fn challenge() -> Vec<u8> {
        h("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    }

    fn secret() -> Key {
        Key::from_ascii("aaa-secret").unwrap()
    }

    // Known answers produced independently with Python (hashlib, hmac):
    //
    //   tail = lambda c: c[-237:]
    //   chap  = md5(c[:1] + key + md5(covered).digest() + tail(c))
    //   hchap = hmac.new(key, c[:1] + md5(covered).digest() + tail(c), "md5")
    //
    // with key = b"aaa-secret", c and covered as built above (covered is 88 bytes,
    // 010007080a000001...2401001400000002 for SPI 2).
    const CHAP_KAT: &str = "009aa62354fc6b9ad79ee0f8d0d461e3";
    const HMAC_CHAP_KAT: &str = "c9270fbf88135c73417b06c45e0bf367";
    /// Same key and covered bytes (SPI 2), challenge = bytes 0..=239 (240 bytes, so the high
    /// byte 0x00 plus bytes 3..=239 as the tail).
    const CHAP_240_KAT: &str = "a5d53e5c93f1828d0dd3f4486a70c16b";

    #[test]
    fn chap_known_answer() {
        let data = covered(2);
        assert_eq!(data.len(), 88);
        let a = mn_aaa_authenticator(MnAaaAlgorithm::Chap, &secret(), &challenge(), &data).unwrap();
        assert_eq!(a.to_vec(), h(CHAP_KAT));
        assert!(verify_mn_aaa(
            MnAaaAlgorithm::Chap,
            &secret(),
            &challenge(),
            &data,
            &a
        ));
    }

    #[test]
    fn hmac_chap_known_answer() {
        let data = covered(3);
        let a =
            mn_aaa_authenticator(MnAaaAlgorithm::HmacChap, &secret(), &challenge(), &data).unwrap();
        assert_eq!(a.to_vec(), h(HMAC_CHAP_KAT));
    }

    #[test]
    fn long_challenge_uses_last_237_bytes() {
        let long: Vec<u8> = (0..240).map(|i| i as u8).collect();
        let data = covered(2);
        let a = mn_aaa_authenticator(MnAaaAlgorithm::Chap, &secret(), &long, &data).unwrap();
        assert_eq!(a.to_vec(), h(CHAP_240_KAT));
        // Bytes 1 and 2 are in neither the high byte nor the tail.
        let mut changed = long.clone();
        changed[1] ^= 0xff;
        changed[2] ^= 0xff;
        assert!(verify_mn_aaa(
            MnAaaAlgorithm::Chap,
            &secret(),
            &changed,
            &data,
            &a
        ));
        changed[3] ^= 0xff;
        assert!(!verify_mn_aaa(
            MnAaaAlgorithm::Chap,
            &secret(),
            &changed,
            &data,
            &a
        ));
    }

    #[test]
    fn radius_mapping_reproduces_the_authenticator() {
        let data = covered(2);
        let r = radius_chap(&challenge(), &data).unwrap();
        assert_eq!(r.chap_ident, 0x0f);
        assert_eq!(r.chap_challenge.len(), 16 + 16);
        assert_eq!(
            &r.chap_challenge[..16],
            h("afd15803fbc34e603614214b736201f2").as_slice()
        );
        // RFC 1994 CHAP response over the RADIUS attributes = the MN-AAA authenticator.
        let chap = md5(&[&[r.chap_ident], b"aaa-secret", &r.chap_challenge]);
        assert_eq!(chap.to_vec(), h(CHAP_KAT));
        let pw = r.chap_password(&chap);
        assert_eq!(pw[0], 0x0f);
        assert_eq!(&pw[1..], &chap);

        let long = vec![7u8; 400];
        assert_eq!(radius_chap(&long, &data).unwrap().chap_challenge.len(), 253);
    }

    #[test]
    fn verify_rejects_wrong_inputs() {
        let data = covered(2);
        let ch = challenge();
        for alg in [MnAaaAlgorithm::Chap, MnAaaAlgorithm::HmacChap] {
            let a = mn_aaa_authenticator(alg, &secret(), &ch, &data).unwrap();
            assert!(verify_mn_aaa(alg, &secret(), &ch, &data, &a));
            let mut bad = a;
            bad[15] ^= 0x80;
            assert!(!verify_mn_aaa(alg, &secret(), &ch, &data, &bad));
            assert!(!verify_mn_aaa(alg, &secret(), &ch, &data, &a[..8]));
            assert!(!verify_mn_aaa(alg, &secret(), &ch, &data, &[]));
            let other = Key::from_ascii("aaa-secreT").unwrap();
            assert!(!verify_mn_aaa(alg, &other, &ch, &data, &a));
            let mut other_ch = ch.clone();
            other_ch[0] ^= 1;
            assert!(!verify_mn_aaa(alg, &secret(), &other_ch, &data, &a));
            assert!(!verify_mn_aaa(alg, &secret(), &[], &data, &a));
        }
        // The two algorithms differ.
        let a = mn_aaa_authenticator(MnAaaAlgorithm::Chap, &secret(), &ch, &data).unwrap();
        let b = mn_aaa_authenticator(MnAaaAlgorithm::HmacChap, &secret(), &ch, &data).unwrap();
        assert_ne!(a, b);
        assert_eq!(
            mn_aaa_authenticator(MnAaaAlgorithm::Chap, &secret(), &[], &data),
            Err(ChallengeError::Empty)
        );
    }

    #[test]
    fn spi_mapping() {
        assert_eq!(MnAaaAlgorithm::from_spi(2), Some(MnAaaAlgorithm::Chap));
        assert_eq!(MnAaaAlgorithm::from_spi(3), Some(MnAaaAlgorithm::HmacChap));
        assert_eq!(MnAaaAlgorithm::from_spi(0x100), None);
        assert_eq!(MnAaaAlgorithm::HmacChap.spi(), HMAC_CHAP_SPI);
    }
}
