//! The simulated mobile nodes: their home addresses, care-of addresses and keys, all derived
//! from `(network, nodes, seed)` so that the configuration writer and the load generator agree
//! without storing a million keys anywhere.
//!
//! * Node `i` (0-based) has home address `network + 1 + i`.
//! * Its MN-HA key is `HMAC-MD5(key = seed as UTF-8, message = i as 4 bytes big-endian)`
//!   (16 bytes), SPI [`SPI`] in both directions, timestamp replay protection.
//! * Its care-of address is `198.18.0.1 + (i mod care_of_count)` (RFC 2544 benchmarking
//!   range), so that `care_of_count` foreign agents' tunnels are shared by the nodes.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use mip_security::{Algorithm, Key, ReplayProtection, SecurityAssociation};

/// The SPI of every node's security association.
pub const SPI: u32 = 0x100;

/// First care-of address (RFC 2544 benchmarking network 198.18.0.0/15).
pub const CARE_OF_BASE: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

/// The authentication algorithm of the MN-HA security associations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuthAlgorithm {
    /// HMAC-MD5 (RFC 5944 §3.5.1).
    #[default]
    HmacMd5,
    /// Keyed MD5 prefix+suffix (RFC 2002, the router's default).
    PrefixSuffix,
}

impl AuthAlgorithm {
    /// As `mip-security` names it.
    pub fn algorithm(self) -> Algorithm {
        match self {
            AuthAlgorithm::HmacMd5 => Algorithm::HmacMd5,
            AuthAlgorithm::PrefixSuffix => Algorithm::KeyedMd5PrefixSuffix,
        }
    }

    /// The `algorithm` value of the TOML configuration.
    pub fn toml_name(self) -> &'static str {
        match self {
            AuthAlgorithm::HmacMd5 => "hmac-md5",
            AuthAlgorithm::PrefixSuffix => "md5-prefix-suffix",
        }
    }
}

/// An IPv4 network `a.b.c.d/len` with the host bits clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    /// Network address.
    pub address: Ipv4Addr,
    /// Prefix length.
    pub len: u8,
}

impl Network {
    /// Addresses usable as home addresses: all but the network and broadcast addresses.
    pub fn capacity(self) -> u64 {
        (1u64 << (32 - u32::from(self.len))).saturating_sub(2)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.len)
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Network, String> {
        let (a, l) = s
            .split_once('/')
            .ok_or_else(|| format!("'{s}': expected a.b.c.d/len"))?;
        let address: Ipv4Addr = a.parse().map_err(|e| format!("'{a}': {e}"))?;
        let len: u8 = l.parse().map_err(|e| format!("'{l}': {e}"))?;
        if !(1..=30).contains(&len) {
            return Err(format!("prefix length {len}: expected 1-30"));
        }
        let mask = u32::MAX << (32 - u32::from(len));
        if u32::from(address) & !mask != 0 {
            return Err(format!("{s}: host bits are set"));
        }
        Ok(Network { address, len })
    }
}

/// The key of node `index` for `seed`: HMAC-MD5(seed, index as u32 big-endian).
pub fn derive_key(seed: &str, index: u32) -> [u8; 16] {
    mip_security::digest::hmac_md5(seed.as_bytes(), &[&index.to_be_bytes()])
}

/// Everything that identifies the simulated mobile nodes.
#[derive(Clone, Debug)]
pub struct Population {
    /// The home network (a virtual network of the home agent).
    pub network: Network,
    /// Number of mobile nodes.
    pub nodes: u32,
    /// Seed of the keys.
    pub seed: String,
    /// Algorithm of the security associations.
    pub algorithm: AuthAlgorithm,
    /// Number of distinct care-of addresses.
    pub care_of_count: u32,
}

impl Population {
    /// Checks that `nodes` home addresses fit in `network`.
    ///
    /// # Errors
    /// No nodes, or more than the network holds.
    pub fn new(
        network: Network,
        nodes: u32,
        seed: &str,
        algorithm: AuthAlgorithm,
    ) -> Result<Population, String> {
        if nodes == 0 {
            return Err("--nodes must be at least 1".into());
        }
        if u64::from(nodes) > network.capacity() {
            return Err(format!(
                "{nodes} nodes do not fit in {network} ({} host addresses)",
                network.capacity()
            ));
        }
        Ok(Population {
            network,
            nodes,
            seed: seed.to_owned(),
            algorithm,
            care_of_count: 1000,
        })
    }

    /// Home address of node `i`.
    pub fn home_address(&self, i: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network.address) + 1 + i)
    }

    /// Which node has `home` as its home address.
    pub fn index_of(&self, home: Ipv4Addr) -> Option<u32> {
        let i = u32::from(home)
            .checked_sub(u32::from(self.network.address))?
            .checked_sub(1)?;
        (i < self.nodes).then_some(i)
    }

    /// Care-of address of node `i`.
    pub fn care_of_address(&self, i: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(CARE_OF_BASE) + i % self.care_of_count.max(1))
    }

    /// The key of node `i`.
    pub fn key(&self, i: u32) -> [u8; 16] {
        derive_key(&self.seed, i)
    }

    /// The security association of node `i` (the mobile node's side; the home agent's is
    /// the same).
    pub fn security_association(&self, i: u32) -> SecurityAssociation {
        let key = match Key::from_bytes(&self.key(i)) {
            Ok(k) => k,
            Err(_) => unreachable!("a 16-byte key is never empty"),
        };
        SecurityAssociation::new(
            SPI,
            self.algorithm.algorithm(),
            key,
            ReplayProtection::default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pop(n: u32) -> Population {
        Population::new(
            "10.0.0.0/8".parse().unwrap(),
            n,
            "s",
            AuthAlgorithm::HmacMd5,
        )
        .unwrap()
    }

    #[test]
    fn addresses_round_trip() {
        let p = pop(1000);
        assert_eq!(p.home_address(0), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(p.home_address(999), Ipv4Addr::new(10, 0, 3, 232));
        assert_eq!(p.index_of(Ipv4Addr::new(10, 0, 3, 232)), Some(999));
        assert_eq!(p.index_of(Ipv4Addr::new(10, 0, 3, 233)), None);
        assert_eq!(p.index_of(Ipv4Addr::new(10, 0, 0, 0)), None);
        assert_eq!(p.index_of(Ipv4Addr::new(9, 0, 0, 1)), None);
        assert_eq!(p.care_of_address(0), CARE_OF_BASE);
        assert_eq!(p.care_of_address(1000), CARE_OF_BASE);
    }

    #[test]
    fn key_is_hmac_md5_of_the_index() {
        // Independent computation: RFC 2104 by hand over md5.
        let seed = b"s";
        let mut k = [0u8; 64];
        k[..seed.len()].copy_from_slice(seed);
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let inner = mip_security::digest::md5(&[&ipad, &7u32.to_be_bytes()]);
        let outer = mip_security::digest::md5(&[&opad, &inner]);
        assert_eq!(pop(10).key(7), outer);
        assert_ne!(pop(10).key(7), pop(10).key(8));
    }

    #[test]
    fn network_parsing() {
        assert!("10.0.0.0/8".parse::<Network>().is_ok());
        assert!("10.0.0.1/8".parse::<Network>().is_err());
        assert!("10.0.0.0".parse::<Network>().is_err());
        assert!("10.0.0.0/31".parse::<Network>().is_err());
        assert!(Population::new(
            "10.0.0.0/30".parse().unwrap(),
            3,
            "s",
            AuthAlgorithm::HmacMd5
        )
        .is_err());
    }
}
