//! The 64-bit Identification field of registration messages (RFC 5944 §3.3,
//! §5.7).
//!
//! With timestamp replay protection (RFC 5944 §5.7.1) the field holds an NTP
//! timestamp: seconds since 1900 in the high-order 32 bits, a fraction in the
//! low-order 32 bits. With nonces (§5.7.2) the high-order half is chosen by the
//! home agent and the low-order half by the mobile node. Either way the two
//! 32-bit halves matter on their own, so this type gives access to both.

use core::fmt;

/// A registration Identification value.
///
/// `Display` prints it the way the router does in its debugging output:
/// two groups of eight upper-case hexadecimal digits separated by a dot,
/// `C1BC0D4F.CB2E4CE8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Identification(pub u64);

impl Identification {
    /// Builds an Identification from its high-order and low-order halves.
    pub const fn from_parts(high: u32, low: u32) -> Self {
        Identification(((high as u64) << 32) | low as u64)
    }

    /// The high-order 32 bits (the NTP seconds, or the home agent's nonce).
    pub const fn high(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The low-order 32 bits (the NTP fraction, or the mobile node's nonce).
    pub const fn low(self) -> u32 {
        self.0 as u32
    }

    /// The value as 16 lower-case hexadecimal digits without separator.
    pub fn to_hex16(self) -> String {
        format!("{:016x}", self.0)
    }
}

impl From<u64> for Identification {
    fn from(v: u64) -> Self {
        Identification(v)
    }
}

impl From<Identification> for u64 {
    fn from(v: Identification) -> Self {
        v.0
    }
}

impl fmt::Display for Identification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08X}.{:08X}", self.high(), self.low())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn router_style_display() {
        let id = Identification(0xC1BC_0D4F_CB2E_4CE8);
        assert_eq!(id.to_string(), "C1BC0D4F.CB2E4CE8");
        assert_eq!(id.to_hex16(), "c1bc0d4fcb2e4ce8");
        assert_eq!(id.high(), 0xC1BC_0D4F);
        assert_eq!(id.low(), 0xCB2E_4CE8);
    }

    #[test]
    fn small_values_are_zero_padded() {
        let id = Identification::from_parts(1, 0xa);
        assert_eq!(id.to_string(), "00000001.0000000A");
        assert_eq!(id.to_hex16(), "000000010000000a");
        assert_eq!(u64::from(id), 0x1_0000_000a);
    }

    proptest! {
        #[test]
        fn parts_round_trip(v in any::<u64>()) {
            let id = Identification::from(v);
            prop_assert_eq!(Identification::from_parts(id.high(), id.low()), id);
            prop_assert_eq!(u64::from_str_radix(&id.to_hex16(), 16).unwrap(), v);
            let shown = id.to_string();
            prop_assert_eq!(shown.len(), 17);
            prop_assert_eq!(u64::from_str_radix(&shown.replace('.', ""), 16).unwrap(), v);
        }
    }
}
