//! The mobile node's configuration: who it is (home address, NAI), where home is (home agent,
//! home network), its MN-HA security association, what it asks for (lifetime, flags), how it
//! finds a care-of address (foreign agent, co-located address), and its timers.
//!
//! Every type derives `serde::Deserialize`, so the daemon can read the whole struct from a TOML
//! table (unknown keys are errors). Defaults follow RFC 5944; [`MobileNodeConfig::validate`]
//! checks the rest (and [`crate::MobileNode::new`] calls it). Example:
//!
//! ```toml
//! home_address = "10.1.1.5"
//! home_agent = "10.1.1.1"
//! home_network = "10.1.1.0/24"
//! # nai = "mn1@example.net"          # RFC 2794; with an NAI home_address may be "0.0.0.0"
//! lifetime = 1800                      # seconds requested (capped by the agent's)
//! interfaces = ["wlan0", "eth0"]       # in order of preference
//!
//! [security_association]               # MN-HA (extension 32)
//! spi = 0x100                          # or "100" (hex, as the router writes it)
//! key_hex = "12345678123456781234567812345678"   # or key_ascii = "..."
//! algorithm = "md5-prefix-suffix"      # or "hmac-md5"
//! replay = "timestamp"                 # or "nonce"
//!
//! [flags]                              # what to ask for, if the agent offers it
//! reverse_tunnel = true                # T (RFC 3024)
//! gre = false                          # G
//! minimal = false                      # M
//! broadcast = false                    # B
//! simultaneous_bindings = false        # S
//! encapsulating_delivery = false       # RFC 3024 extension 130 (with T, via a foreign agent)
//!
//! [colocated]
//! mode = "off"                         # "off", "dynamic" (address reported by the daemon,
//!                                      # e.g. from DHCP) or "static":
//! # mode = "static"
//! # address = "192.0.2.50/24"
//! # gateway = "192.0.2.1"
//! # interface = "eth0"
//!
//! [solicitation]
//! enabled = true
//! initial_count = 3                    # RFC 5944 §2.4: at most 3 at one per second
//! initial_interval_ms = 1000
//! max_interval_ms = 60000              # SHOULD be at least one minute
//! jitter_percent = 10                  # RFC 5944 §2.4: MUST randomize
//! destination = "all-routers"          # 224.0.0.2, or "broadcast"
//!
//! [retransmission]                     # RFC 5944 §3.6.3
//! initial_ms = 1000
//! max_ms = 32000
//!
//! [renewal]
//! at_percent = 80                      # renew at 80% of the granted lifetime
//!
//! [move_detection]
//! network_prefix = true                # RFC 5944 §2.4.2.2
//! link_change_grace_ms = 3000
//! ```

use core::fmt;
use core::str::FromStr;
use std::net::Ipv4Addr;

use mip_security::{
    Algorithm, Key, ReplayProtection, SecurityAssociation, DEFAULT_TIMESTAMP_WINDOW_SECS,
};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// SPIs 0–255 are reserved (RFC 5944 §1.6); the router asks for 100–FFFFFFFF in hex.
pub const MIN_SPI: u32 = 0x100;
/// Default requested lifetime, seconds.
pub const DEFAULT_LIFETIME_SECS: u16 = 1800;

/// An IPv4 address with a prefix length, written `a.b.c.d/len`. The address is kept as given
/// (a host address for a static co-located care-of address, the network for a home network);
/// [`Ipv4Prefix::network`] masks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv4Prefix {
    address: Ipv4Addr,
    len: u8,
}

impl Ipv4Prefix {
    /// `None` when `len` is above 32.
    #[must_use]
    pub fn new(address: Ipv4Addr, len: u8) -> Option<Ipv4Prefix> {
        (len <= 32).then_some(Ipv4Prefix { address, len })
    }

    /// The address as written.
    #[must_use]
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// The prefix length.
    #[must_use]
    pub fn len(&self) -> u8 {
        self.len
    }

    /// True for a /0 prefix (which contains every address).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The netmask.
    #[must_use]
    pub fn mask(&self) -> u32 {
        mask(self.len)
    }

    /// The network address (the address with the host bits cleared).
    #[must_use]
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) & self.mask())
    }

    /// True when `a` is in the prefix.
    #[must_use]
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        u32::from(a) & self.mask() == u32::from(self.address) & self.mask()
    }
}

/// The netmask of a prefix length (lengths above 32 are taken as 32).
pub(crate) fn mask(len: u8) -> u32 {
    match len {
        0 => 0,
        l => u32::MAX << (32 - u32::from(l.min(32))),
    }
}

impl fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.len)
    }
}

impl FromStr for Ipv4Prefix {
    type Err = String;

    fn from_str(s: &str) -> Result<Ipv4Prefix, String> {
        let (a, l) = s
            .split_once('/')
            .ok_or_else(|| format!("\"{s}\": expected ADDRESS/LENGTH, e.g. 10.1.1.0/24"))?;
        let address: Ipv4Addr = a
            .parse()
            .map_err(|_| format!("\"{s}\": \"{a}\" is not an IPv4 address"))?;
        let len: u8 = l
            .parse()
            .ok()
            .filter(|l| *l <= 32)
            .ok_or_else(|| format!("\"{s}\": prefix length must be 0-32"))?;
        Ok(Ipv4Prefix { address, len })
    }
}

impl<'de> Deserialize<'de> for Ipv4Prefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ipv4Prefix, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

impl serde::Serialize for Ipv4Prefix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The mobile node's configuration. See the module documentation for the TOML form.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MobileNodeConfig {
    /// The home address. `0.0.0.0` asks the home agent to assign one (RFC 2794; needs `nai`).
    pub home_address: Ipv4Addr,
    /// The home agent's address.
    pub home_agent: Ipv4Addr,
    /// The home network: an address in it (or an advertisement with H from it) means home.
    pub home_network: Ipv4Prefix,
    /// Network access identifier (RFC 2794), sent as extension 131 before the MN-HA one.
    #[serde(default)]
    pub nai: Option<String>,
    /// The MN-HA mobility security association.
    pub security_association: MnHaSecurity,
    /// Registration lifetime to request, seconds (1–65535; 65535 is infinity). The request
    /// asks for the smaller of this and the foreign agent's advertised registration lifetime.
    #[serde(default = "default_lifetime")]
    pub lifetime: u16,
    /// Services to ask for.
    #[serde(default)]
    pub flags: RequestedFlags,
    /// Co-located care-of address.
    #[serde(default)]
    pub colocated: ColocatedMode,
    /// Interfaces to use, most preferred first.
    pub interfaces: Vec<String>,
    /// Agent solicitation (RFC 5944 §2.4).
    #[serde(default)]
    pub solicitation: SolicitationConfig,
    /// Registration retransmission (RFC 5944 §3.6.3).
    #[serde(default)]
    pub retransmission: RetransmissionConfig,
    /// When to renew.
    #[serde(default)]
    pub renewal: RenewalConfig,
    /// Move detection (RFC 5944 §2.4.2).
    #[serde(default)]
    pub move_detection: MoveDetectionConfig,
}

fn default_lifetime() -> u16 {
    DEFAULT_LIFETIME_SECS
}

/// The MN-HA security association: `spi`, `key_hex` or `key_ascii`, `algorithm`
/// (`"md5-prefix-suffix"`, the default, or `"hmac-md5"`), `replay` (`"timestamp"`, the
/// default, or `"nonce"`). The key never appears in `Debug` output.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "RawSecurity")]
pub struct MnHaSecurity {
    /// Security Parameter Index.
    pub spi: u32,
    /// Authentication algorithm.
    pub algorithm: Algorithm,
    /// The shared key.
    pub key: Key,
    /// Identification style (RFC 5944 §5.7).
    pub replay: ReplayProtection,
}

impl MnHaSecurity {
    /// A context with the default algorithm (keyed MD5 prefix+suffix) and timestamps.
    #[must_use]
    pub fn new(spi: u32, key: Key) -> MnHaSecurity {
        MnHaSecurity {
            spi,
            algorithm: Algorithm::default(),
            key,
            replay: ReplayProtection::default(),
        }
    }

    /// The security association that signs requests and checks replies.
    #[must_use]
    pub fn to_security_association(&self) -> SecurityAssociation {
        SecurityAssociation::new(self.spi, self.algorithm, self.key.clone(), self.replay)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecurity {
    spi: Spi,
    key_hex: Option<String>,
    key_ascii: Option<String>,
    algorithm: Option<String>,
    replay: Option<String>,
    replay_window_secs: Option<u32>,
}

impl TryFrom<RawSecurity> for MnHaSecurity {
    type Error = String;

    fn try_from(r: RawSecurity) -> Result<MnHaSecurity, String> {
        let key = match (r.key_hex, r.key_ascii) {
            (Some(h), None) => Key::from_hex(&h).map_err(|e| format!("key_hex: {e}"))?,
            (None, Some(a)) => Key::from_ascii(&a).map_err(|e| format!("key_ascii: {e}"))?,
            (None, None) => return Err("give the key as key_hex or key_ascii".into()),
            (Some(_), Some(_)) => return Err("give key_hex or key_ascii, not both".into()),
        };
        let algorithm = match r.algorithm.as_deref() {
            None => Algorithm::default(),
            Some("md5-prefix-suffix" | "prefix-suffix" | "md5") => Algorithm::KeyedMd5PrefixSuffix,
            Some("hmac-md5") => Algorithm::HmacMd5,
            Some(other) => {
                return Err(format!(
                    "algorithm \"{other}\": expected \"md5-prefix-suffix\" or \"hmac-md5\""
                ))
            }
        };
        let replay = match r.replay.as_deref() {
            None | Some("timestamp") => ReplayProtection::Timestamp {
                window_secs: r
                    .replay_window_secs
                    .unwrap_or(DEFAULT_TIMESTAMP_WINDOW_SECS),
            },
            Some("nonce") => ReplayProtection::Nonce,
            Some(other) => {
                return Err(format!(
                    "replay \"{other}\": expected \"timestamp\" or \"nonce\""
                ))
            }
        };
        Ok(MnHaSecurity {
            spi: r.spi.0,
            algorithm,
            key,
            replay,
        })
    }
}

/// An SPI: an integer (`0x100`) or a string of hex digits (`"100"`, as the router writes it).
struct Spi(u32);

impl<'de> Deserialize<'de> for Spi {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Spi, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Spi;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an SPI: an integer such as 0x100, or a hex string such as \"100\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Spi, E> {
                u32::try_from(v)
                    .map(Spi)
                    .map_err(|_| E::custom(format!("SPI {v} is not a 32-bit number")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Spi, E> {
                u32::try_from(v)
                    .map(Spi)
                    .map_err(|_| E::custom(format!("SPI {v} is not a 32-bit number")))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Spi, E> {
                let digits = s
                    .strip_prefix("0x")
                    .or_else(|| s.strip_prefix("0X"))
                    .unwrap_or(s);
                if digits.is_empty() || digits.len() > 8 {
                    return Err(E::custom(format!(
                        "bad SPI \"{s}\": 1-8 hex digits expected"
                    )));
                }
                u32::from_str_radix(digits, 16)
                    .map(Spi)
                    .map_err(|_| E::custom(format!("bad SPI \"{s}\": not hexadecimal")))
            }
        }
        d.deserialize_any(V)
    }
}

/// The services a registration asks for (RFC 5944 §3.3, RFC 3024). Through a foreign agent
/// G, M and T are asked for only when its advertisement offers them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestedFlags {
    /// T: reverse tunnelling (RFC 3024).
    #[serde(alias = "t")]
    pub reverse_tunnel: bool,
    /// G: GRE encapsulation (preferred over M when both are wanted and offered).
    #[serde(alias = "g")]
    pub gre: bool,
    /// M: minimal encapsulation.
    #[serde(alias = "m")]
    pub minimal: bool,
    /// B: broadcast datagrams.
    #[serde(alias = "b")]
    pub broadcast: bool,
    /// S: simultaneous bindings.
    #[serde(alias = "s")]
    pub simultaneous_bindings: bool,
    /// With T through a foreign agent, add the Encapsulating Delivery Style extension (RFC
    /// 3024 §3.3, type 130): the mobile node will tunnel its datagrams to the foreign agent.
    pub encapsulating_delivery: bool,
}

/// How the mobile node gets a co-located care-of address (RFC 5944 §1.6, §3.6.1.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ColocatedMode {
    /// Only foreign agent care-of addresses.
    #[default]
    Off,
    /// A fixed address on one interface.
    Static {
        /// The address and its prefix length (`192.0.2.50/24`).
        address: Ipv4Prefix,
        /// The default router of that link.
        #[serde(default)]
        gateway: Option<Ipv4Addr>,
        /// The interface; the first configured one when absent.
        #[serde(default)]
        interface: Option<String>,
    },
    /// Obtained on the link by the daemon (DHCP) and reported with
    /// [`crate::MobileNode::link_changed`].
    Dynamic,
}

/// Where solicitations go (RFC 1256 §5.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SolicitationDestination {
    /// 224.0.0.2.
    #[default]
    AllRouters,
    /// 255.255.255.255.
    Broadcast,
}

impl SolicitationDestination {
    /// The IP destination address.
    #[must_use]
    pub fn address(self) -> Ipv4Addr {
        match self {
            SolicitationDestination::AllRouters => Ipv4Addr::new(224, 0, 0, 2),
            SolicitationDestination::Broadcast => Ipv4Addr::BROADCAST,
        }
    }
}

/// Agent solicitation (RFC 5944 §2.4): `initial_count` solicitations `initial_interval_ms`
/// apart, then the interval doubles up to `max_interval_ms`; each interval is lengthened by a
/// random part of up to `jitter_percent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SolicitationConfig {
    /// Solicit at all.
    pub enabled: bool,
    /// Solicitations at the initial rate (at most 3).
    pub initial_count: u32,
    /// Initial interval (at least 1000 ms: at most one per second).
    pub initial_interval_ms: u64,
    /// Longest interval (RFC 5944 §2.4: SHOULD be at least one minute).
    pub max_interval_ms: u64,
    /// Random lengthening of each interval, percent (0–100).
    pub jitter_percent: u8,
    /// Destination.
    pub destination: SolicitationDestination,
}

impl Default for SolicitationConfig {
    fn default() -> Self {
        SolicitationConfig {
            enabled: true,
            initial_count: 3,
            initial_interval_ms: 1000,
            max_interval_ms: 60_000,
            jitter_percent: 10,
            destination: SolicitationDestination::AllRouters,
        }
    }
}

/// Registration retransmission (RFC 5944 §3.6.3): the first retransmission `initial_ms` after
/// the request, each wait twice the previous one up to `max_ms` (and never above the requested
/// lifetime); after a wait of the maximum the attempt is given up and reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetransmissionConfig {
    /// First wait (at least 1000 ms).
    pub initial_ms: u64,
    /// Longest wait.
    pub max_ms: u64,
}

impl Default for RetransmissionConfig {
    fn default() -> Self {
        RetransmissionConfig {
            initial_ms: 1000,
            max_ms: 32_000,
        }
    }
}

/// Renewal: a registration is renewed when `at_percent` of its granted lifetime has passed
/// (counted from when the accepted request was sent, RFC 5944 §3.6.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenewalConfig {
    /// 1–99.
    pub at_percent: u8,
}

impl Default for RenewalConfig {
    fn default() -> Self {
        RenewalConfig { at_percent: 80 }
    }
}

/// Move detection (RFC 5944 §2.4.2). The lifetime-expiry method is always on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MoveDetectionConfig {
    /// The network-prefix method (§2.4.2.2).
    pub network_prefix: bool,
    /// After a link change, agents heard before it stay usable this long, unless a fresh
    /// advertisement arrives on that link first.
    pub link_change_grace_ms: u64,
}

impl Default for MoveDetectionConfig {
    fn default() -> Self {
        MoveDetectionConfig {
            network_prefix: true,
            link_change_grace_ms: 3000,
        }
    }
}

/// A configuration the mobile node cannot run with: the key (as in the TOML form) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The offending key, e.g. `retransmission.initial_ms`.
    pub field: &'static str,
    /// What is wrong, with a hint.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn err(field: &'static str, message: impl Into<String>) -> Result<(), ConfigError> {
    Err(ConfigError {
        field,
        message: message.into(),
    })
}

fn not_unicast(a: Ipv4Addr) -> bool {
    a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback()
}

impl MobileNodeConfig {
    /// A configuration with the defaults for everything optional.
    #[must_use]
    pub fn new(
        home_address: Ipv4Addr,
        home_agent: Ipv4Addr,
        home_network: Ipv4Prefix,
        security_association: MnHaSecurity,
        interfaces: Vec<String>,
    ) -> MobileNodeConfig {
        MobileNodeConfig {
            home_address,
            home_agent,
            home_network,
            nai: None,
            security_association,
            lifetime: DEFAULT_LIFETIME_SECS,
            flags: RequestedFlags::default(),
            colocated: ColocatedMode::Off,
            interfaces,
            solicitation: SolicitationConfig::default(),
            retransmission: RetransmissionConfig::default(),
            renewal: RenewalConfig::default(),
            move_detection: MoveDetectionConfig::default(),
        }
    }

    /// Checks what the types cannot.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if not_unicast(self.home_agent) {
            return err("home_agent", "must be a unicast address");
        }
        match &self.nai {
            Some(n) if n.is_empty() || n.len() > 255 => {
                return err("nai", "must be 1-255 bytes long");
            }
            None if self.home_address.is_unspecified() => {
                return err(
                    "home_address",
                    "0.0.0.0 (assigned by the home agent) needs an nai (RFC 2794)",
                );
            }
            _ => {}
        }
        if !self.home_address.is_unspecified() {
            if not_unicast(self.home_address) {
                return err("home_address", "must be a unicast address");
            }
            if !self.home_network.contains(self.home_address) {
                return err(
                    "home_address",
                    format!(
                        "{} is not in home_network {}",
                        self.home_address, self.home_network
                    ),
                );
            }
        }
        if self.security_association.spi < MIN_SPI {
            return err(
                "security_association.spi",
                "SPIs 0-255 are reserved (RFC 5944 §1.6); use 0x100 or above",
            );
        }
        if self.lifetime == 0 {
            return err("lifetime", "must be 1-65535 seconds (0 would deregister)");
        }
        if self.interfaces.is_empty() {
            return err("interfaces", "name at least one interface");
        }
        for (i, name) in self.interfaces.iter().enumerate() {
            if name.is_empty() {
                return err("interfaces", "an interface name is empty");
            }
            if self.interfaces[..i].contains(name) {
                return err("interfaces", format!("\"{name}\" is listed twice"));
            }
        }
        if let ColocatedMode::Static {
            address, interface, ..
        } = &self.colocated
        {
            if not_unicast(address.address()) {
                return err("colocated.address", "must be a unicast address");
            }
            if self.home_network.contains(address.address()) {
                return err(
                    "colocated.address",
                    "is in the home network: a care-of address belongs to a foreign network",
                );
            }
            if let Some(i) = interface {
                if !self.interfaces.contains(i) {
                    return err(
                        "colocated.interface",
                        format!("\"{i}\" is not in interfaces"),
                    );
                }
            }
        }
        let s = &self.solicitation;
        if s.initial_count > 3 {
            return err(
                "solicitation.initial_count",
                "RFC 5944 §2.4 allows at most 3 solicitations at the initial rate",
            );
        }
        if s.initial_interval_ms < 1000 {
            return err(
                "solicitation.initial_interval_ms",
                "at most one solicitation per second (RFC 5944 §2.4): use 1000 or more",
            );
        }
        if s.max_interval_ms < s.initial_interval_ms {
            return err(
                "solicitation.max_interval_ms",
                "must not be below initial_interval_ms (RFC 5944 §2.4 suggests 60000 or more)",
            );
        }
        if s.jitter_percent > 100 {
            return err("solicitation.jitter_percent", "must be 0-100");
        }
        let r = &self.retransmission;
        if r.initial_ms < 1000 {
            return err(
                "retransmission.initial_ms",
                "RFC 5944 §3.6.3: the first retransmission comes at least one second later",
            );
        }
        if r.max_ms < r.initial_ms {
            return err(
                "retransmission.max_ms",
                "must not be below retransmission.initial_ms",
            );
        }
        if !(1..=99).contains(&self.renewal.at_percent) {
            return err("renewal.at_percent", "must be 1-99");
        }
        Ok(())
    }

    /// The interface a static co-located address belongs to.
    pub(crate) fn static_colocated_interface(&self) -> Option<&str> {
        match &self.colocated {
            ColocatedMode::Static { interface, .. } => interface
                .as_deref()
                .or_else(|| self.interfaces.first().map(String::as_str)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let p: Ipv4Prefix = "10.1.1.7/24".parse().unwrap();
        assert_eq!(p.network(), Ipv4Addr::new(10, 1, 1, 0));
        assert_eq!(p.address(), Ipv4Addr::new(10, 1, 1, 7));
        assert!(p.contains(Ipv4Addr::new(10, 1, 1, 200)));
        assert!(!p.contains(Ipv4Addr::new(10, 1, 2, 1)));
        assert_eq!(p.to_string(), "10.1.1.7/24");
        let all: Ipv4Prefix = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(Ipv4Addr::BROADCAST) && all.is_empty());
        assert!("10.0.0.0/33".parse::<Ipv4Prefix>().is_err());
        assert!("10.0.0.0".parse::<Ipv4Prefix>().is_err());
        assert!("x/8".parse::<Ipv4Prefix>().is_err());
        assert_eq!(mask(32), u32::MAX);
        assert_eq!(mask(1), 0x8000_0000);
    }
}
