//! Mobility security associations: SPI, algorithm and mode, key, replay protection
//! (RFC 5944 §1.6 and §3.5; seed 002, `ip mobile secure`).
//!
//! A [`SecurityAssociation`] computes and verifies the 128-bit authenticator of the
//! MN-HA (32), MN-FA (33) and FA-HA (34) authentication extensions, and of the generalized
//! MN-AAA extension (36/1) for SPIs other than the reserved CHAP ones (RFC 4721 §6: HMAC-MD5).
//! "Covered bytes" are what the wire crate hands over: the UDP payload from the message type
//! byte through the SPI of the extension being checked (RFC 5944 §3.5.1).

use core::fmt;
use core::str::FromStr;

use crate::digest::{
    authenticator_eq, Authenticator, HmacMd5Key, PrefixSuffixKey, AUTHENTICATOR_LEN,
};
use crate::key::Key;

/// Authentication algorithm and mode of a security context.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Keyed MD5 in prefix+suffix mode: MD5(key || covered || key) (RFC 2002 §3.5.1). The
    /// router's default (`MD5, Prefix-suffix`).
    #[default]
    KeyedMd5PrefixSuffix,
    /// HMAC-MD5 (RFC 2104), the default of RFC 3344/5944 §3.5.1.
    HmacMd5,
}

impl Algorithm {
    /// The algorithm as the router prints it in `show ip mobile secure`: `MD5` or `HMAC-MD5`.
    #[must_use]
    pub fn algorithm_name(self) -> &'static str {
        match self {
            Algorithm::KeyedMd5PrefixSuffix => "MD5",
            Algorithm::HmacMd5 => "HMAC-MD5",
        }
    }

    /// The mode as the router prints it (`Prefix-suffix`); HMAC has no mode.
    #[must_use]
    pub fn mode_name(self) -> Option<&'static str> {
        match self {
            Algorithm::KeyedMd5PrefixSuffix => Some("Prefix-suffix"),
            Algorithm::HmacMd5 => None,
        }
    }

    /// Name used on command lines (`--key SPI:HEX:prefix-suffix`): `prefix-suffix` or
    /// `hmac-md5`. [`FromStr`] accepts these (and `md5` for prefix-suffix).
    #[must_use]
    pub fn cli_name(self) -> &'static str {
        match self {
            Algorithm::KeyedMd5PrefixSuffix => "prefix-suffix",
            Algorithm::HmacMd5 => "hmac-md5",
        }
    }
}

impl fmt::Display for Algorithm {
    /// `MD5, Prefix-suffix` or `HMAC-MD5`, as in the router's listing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.algorithm_name())?;
        if let Some(mode) = self.mode_name() {
            write!(f, ", {mode}")?;
        }
        Ok(())
    }
}

/// An algorithm name not known to [`Algorithm::from_str`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownAlgorithm(pub String);

impl fmt::Display for UnknownAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown authentication algorithm {:?} (expected prefix-suffix or hmac-md5)",
            self.0
        )
    }
}

impl std::error::Error for UnknownAlgorithm {}

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Case-insensitive: `prefix-suffix`, `md5`, `keyed-md5` or `hmac-md5`.
    fn from_str(s: &str) -> Result<Algorithm, UnknownAlgorithm> {
        match s.to_ascii_lowercase().as_str() {
            "prefix-suffix" | "md5" | "keyed-md5" => Ok(Algorithm::KeyedMd5PrefixSuffix),
            "hmac-md5" | "hmac" => Ok(Algorithm::HmacMd5),
            _ => Err(UnknownAlgorithm(s.to_owned())),
        }
    }
}

/// Default timestamp tolerance, seconds (RFC 5944 §5.7.1 "a default value of 7 seconds MAY be
/// used"; the router's `Timestamp +/- 7`).
pub const DEFAULT_TIMESTAMP_WINDOW_SECS: u32 = 7;

/// Replay protection style of a security context (RFC 5944 §5.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReplayProtection {
    /// Identification is an NTP timestamp that must be within ±`window_secs` of the home
    /// agent's clock and increase from request to request (§5.7.1).
    Timestamp {
        /// Tolerance in seconds; the router's `replay` setting, default 7.
        window_secs: u32,
    },
    /// Identification carries a home-agent nonce (high 32 bits) and a mobile-node nonce (low
    /// 32 bits) (§5.7.2).
    Nonce,
}

impl Default for ReplayProtection {
    fn default() -> ReplayProtection {
        ReplayProtection::Timestamp {
            window_secs: DEFAULT_TIMESTAMP_WINDOW_SECS,
        }
    }
}

impl fmt::Display for ReplayProtection {
    /// `Timestamp +/- 7` (seed 002) or `Timestamp +/-255` (seed 000): the router pads the
    /// window to two columns. Nonces print as `Nonce`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayProtection::Timestamp { window_secs } => {
                write!(f, "Timestamp +/-{window_secs:>2}")
            }
            ReplayProtection::Nonce => f.write_str("Nonce"),
        }
    }
}

/// Keyed state prepared once per SA, so that a message costs only the MD5 compressions of
/// its own bytes (see [`crate::digest`]). Secret: zeroized on drop, never shown.
#[derive(Clone)]
enum Prepared {
    /// The key inline when short, else the chaining state after its complete blocks
    /// (RFC 2002 §3.5.1).
    PrefixSuffix(PrefixSuffixKey),
    /// Chaining states after (key XOR ipad) and (key XOR opad) (RFC 2104 §2, precomputed as
    /// its §4 suggests).
    Hmac(HmacMd5Key),
}

/// One security context: SPI, algorithm and mode, key, replay protection.
///
/// Build with [`SecurityAssociation::new`]; the keyed hash state is derived from the key
/// there, so the fields are read through accessors. `Debug` shows everything except the key
/// and the keyed state.
#[derive(Clone)]
pub struct SecurityAssociation {
    spi: u32,
    algorithm: Algorithm,
    key: Key,
    replay: ReplayProtection,
    prepared: Prepared,
}

impl SecurityAssociation {
    /// A security context, with its keyed hash state prepared.
    #[must_use]
    pub fn new(
        spi: u32,
        algorithm: Algorithm,
        key: Key,
        replay: ReplayProtection,
    ) -> SecurityAssociation {
        let prepared = match algorithm {
            Algorithm::KeyedMd5PrefixSuffix => {
                Prepared::PrefixSuffix(PrefixSuffixKey::new(key.expose_secret()))
            }
            Algorithm::HmacMd5 => Prepared::Hmac(HmacMd5Key::new(key.expose_secret())),
        };
        SecurityAssociation {
            spi,
            algorithm,
            key,
            replay,
            prepared,
        }
    }

    /// The router's default context: keyed MD5 prefix+suffix, timestamps ±7 s.
    #[must_use]
    pub fn with_defaults(spi: u32, key: Key) -> SecurityAssociation {
        SecurityAssociation::new(spi, Algorithm::default(), key, ReplayProtection::default())
    }

    /// Security Parameter Index.
    #[must_use]
    pub fn spi(&self) -> u32 {
        self.spi
    }

    /// Algorithm and mode.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The shared key.
    #[must_use]
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Replay protection style.
    #[must_use]
    pub fn replay(&self) -> ReplayProtection {
        self.replay
    }

    /// `MD5, Prefix-suffix, Timestamp +/- 7`: algorithm, mode and replay protection as the
    /// router lists them (the SPI and key are printed by the caller, in its own format).
    #[must_use]
    pub fn describe(&self) -> String {
        format!("{}, {}", self.algorithm, self.replay)
    }

    /// The authenticator over `covered` (message type byte through this extension's SPI):
    /// MD5(key || covered || key) or HMAC-MD5(key, covered) (RFC 5944 §3.5.1).
    #[must_use]
    pub fn authenticator(&self, covered: &[u8]) -> Authenticator {
        match &self.prepared {
            Prepared::PrefixSuffix(keyed) => keyed.mac(&[covered]),
            Prepared::Hmac(keyed) => keyed.mac(&[covered]),
        }
    }

    /// True when `authenticator` is the right one for `covered`. Constant time in the
    /// authenticator's contents; any length other than 16 (including empty) is false.
    #[must_use]
    pub fn verify(&self, covered: &[u8], authenticator: &[u8]) -> bool {
        if authenticator.len() != AUTHENTICATOR_LEN {
            return false;
        }
        authenticator_eq(&self.authenticator(covered), authenticator)
    }
}

impl fmt::Debug for SecurityAssociation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityAssociation")
            .field("spi", &format_args!("{:#x}", self.spi))
            .field("algorithm", &self.algorithm)
            .field("key", &self.key)
            .field("replay", &self.replay)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::hmac_md5;
    use proptest::prelude::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// A Registration Request through the SPI of its MN-HA authentication extension:
    /// type 1, flags 0x00, lifetime 1800, home 10.0.0.1, HA 10.0.0.100, CoA 20.0.0.1,
    /// identification 0xc7d4a3b2_00000001, then extension 32, length 20, SPI 0x100.
    const REQUEST_COVERED: &str =
        "01000708 0a000001 0a000064 14000001 c7d4a3b2 00000001 2014 00000100";

    fn covered() -> Vec<u8> {
        h(&REQUEST_COVERED.replace(' ', ""))
    }

    fn seed_key() -> Key {
        // From seed 002: `ip mobile secure host 10.0.0.1 spi 100 key hex 1234...`.
        Key::from_hex("12345678123456781234567812345678").unwrap()
    }

    /// Known answers computed independently with Python's hashlib/hmac:
    ///
    /// ```text
    /// python3 -c 'import hashlib,hmac;k=bytes.fromhex("12345678123456781234567812345678");
    ///   d=bytes.fromhex("010007080a0000010a00006414000001c7d4a3b200000001201400000100");
    ///   print(hashlib.md5(k+d+k).hexdigest()); print(hmac.new(k,d,"md5").hexdigest())'
    /// ```
    const PREFIX_SUFFIX_KAT: &str = "4f74348ef2a8a062811690d2a9771d9a";
    const HMAC_KAT: &str = "6a8087930178919155bc363631a0878c";

    #[test]
    fn prefix_suffix_known_answer() {
        let sa = SecurityAssociation::with_defaults(0x100, seed_key());
        assert_eq!(sa.authenticator(&covered()).to_vec(), h(PREFIX_SUFFIX_KAT));
    }

    #[test]
    fn hmac_known_answer() {
        let sa = SecurityAssociation::new(
            0x100,
            Algorithm::HmacMd5,
            seed_key(),
            ReplayProtection::default(),
        );
        assert_eq!(sa.authenticator(&covered()).to_vec(), h(HMAC_KAT));
    }

    /// Prefix+suffix with a key longer than one MD5 block and an ASCII key, also from
    /// Python: `hashlib.md5(k+d+k)` with k = 0xaa * 70 and with k = b"oldkey".
    #[test]
    fn prefix_suffix_other_key_lengths() {
        let long = Key::from_bytes(&[0xaa; 70]).unwrap();
        let sa = SecurityAssociation::with_defaults(0x100, long);
        assert_eq!(
            sa.authenticator(&covered()).to_vec(),
            h("4c4519457ac5213a043df850eca731fd")
        );
        let ascii = Key::from_ascii("oldkey").unwrap();
        let sa = SecurityAssociation::with_defaults(0x300, ascii);
        assert_eq!(
            sa.authenticator(&covered()).to_vec(),
            h("6ed29dfeef896dcad1fea4ac11401688")
        );
    }

    #[test]
    fn verify_accepts_only_the_right_authenticator() {
        for alg in [Algorithm::KeyedMd5PrefixSuffix, Algorithm::HmacMd5] {
            let sa = SecurityAssociation::new(0x100, alg, seed_key(), ReplayProtection::Nonce);
            let data = covered();
            let auth = sa.authenticator(&data);
            assert!(sa.verify(&data, &auth), "{alg:?}");

            for bit in 0..128 {
                let mut bad = auth;
                bad[bit / 8] ^= 1 << (bit % 8);
                assert!(!sa.verify(&data, &bad), "{alg:?} bit {bit}");
            }
            assert!(!sa.verify(&data, &auth[..15]));
            let mut longer = auth.to_vec();
            longer.push(0);
            assert!(!sa.verify(&data, &longer));
            assert!(!sa.verify(&data, &[]));

            // Changing the covered bytes fails too.
            let mut other = data.clone();
            other[4] ^= 0x01;
            assert!(!sa.verify(&other, &auth));

            // Same SPI and algorithm, different key.
            let other_key = SecurityAssociation::new(
                0x100,
                alg,
                Key::from_hex("87654321876543218765432187654321").unwrap(),
                ReplayProtection::Nonce,
            );
            assert!(!other_key.verify(&data, &auth), "{alg:?}");
        }
    }

    #[test]
    fn debug_does_not_show_the_key() {
        for (key, hex_form, ascii_form) in [
            (seed_key(), "12345678123456781234567812345678", "\u{12}4Vx"),
            (
                Key::from_ascii("oldkey-secret").unwrap(),
                "6f6c646b65792d736563726574",
                "oldkey-secret",
            ),
        ] {
            for alg in [Algorithm::KeyedMd5PrefixSuffix, Algorithm::HmacMd5] {
                let sa =
                    SecurityAssociation::new(0x300, alg, key.clone(), ReplayProtection::default());
                for d in [format!("{sa:?}"), format!("{sa:#?}")] {
                    assert!(d.contains("0x300"), "{d}");
                    assert!(d.contains("<redacted>"), "{d}");
                    assert!(!d.to_lowercase().contains(&hex_form[..8]), "{d}");
                    assert!(!d.contains(ascii_form), "{d}");
                    // Nor any byte list of the key.
                    let bytes = format!("{:?}", key.expose_secret());
                    assert!(!d.contains(&bytes[1..bytes.len() - 1]), "{d}");
                }
            }
        }
    }

    #[test]
    fn router_names() {
        let sa = SecurityAssociation::with_defaults(0x300, seed_key());
        assert_eq!(sa.describe(), "MD5, Prefix-suffix, Timestamp +/- 7");
        assert_eq!(Algorithm::KeyedMd5PrefixSuffix.algorithm_name(), "MD5");
        assert_eq!(
            Algorithm::KeyedMd5PrefixSuffix.mode_name(),
            Some("Prefix-suffix")
        );
        assert_eq!(Algorithm::HmacMd5.algorithm_name(), "HMAC-MD5");
        assert_eq!(Algorithm::HmacMd5.mode_name(), None);
        assert_eq!(
            ReplayProtection::Timestamp { window_secs: 255 }.to_string(),
            "Timestamp +/-255"
        );
        assert_eq!(ReplayProtection::Nonce.to_string(), "Nonce");
        let hmac =
            SecurityAssociation::new(1, Algorithm::HmacMd5, seed_key(), ReplayProtection::Nonce);
        assert_eq!(hmac.describe(), "HMAC-MD5, Nonce");
    }

    #[test]
    fn algorithm_from_cli_names() {
        for alg in [Algorithm::KeyedMd5PrefixSuffix, Algorithm::HmacMd5] {
            assert_eq!(alg.cli_name().parse::<Algorithm>(), Ok(alg));
        }
        assert_eq!("HMAC-MD5".parse(), Ok(Algorithm::HmacMd5));
        assert_eq!("md5".parse(), Ok(Algorithm::KeyedMd5PrefixSuffix));
        assert!("sha1".parse::<Algorithm>().is_err());
    }

    proptest! {
        /// The SA's prepared states give the same answers as the `hmac` and `md-5` crates
        /// (HMAC-MD5, and MD5(key || data || key) in one go), every time they are used.
        #[test]
        fn cached_states_match_fresh(
            key in proptest::collection::vec(any::<u8>(), 1..=100),
            data in proptest::collection::vec(any::<u8>(), 0..=300),
        ) {
            use hmac::{KeyInit, Mac};
            use md5::Digest;

            let mut m = <hmac::Hmac<md5::Md5> as KeyInit>::new_from_slice(&key).unwrap();
            m.update(&data);
            let expected: Authenticator = m.finalize().into_bytes().into();
            let k = Key::from_bytes(&key).unwrap();
            let sa = SecurityAssociation::new(7, Algorithm::HmacMd5, k.clone(), ReplayProtection::Nonce);
            prop_assert_eq!(sa.authenticator(&data), expected);
            // Twice: the cached state is not consumed.
            prop_assert_eq!(sa.authenticator(&data), expected);
            prop_assert!(sa.verify(&data, &expected));
            prop_assert_eq!(hmac_md5(&key, &[&data]), expected);

            let ps = SecurityAssociation::with_defaults(7, k);
            let mut whole = key.clone();
            whole.extend_from_slice(&data);
            whole.extend_from_slice(&key);
            let expected: Authenticator = md5::Md5::digest(&whole).into();
            prop_assert_eq!(ps.authenticator(&data), expected);
            prop_assert_eq!(ps.clone().authenticator(&data), expected);
            prop_assert!(ps.verify(&data, &expected));
        }
    }
}
