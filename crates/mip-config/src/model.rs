//! The typed configuration model: what `mipd` runs from, whichever form it was written in.
//!
//! The router form (`ip mobile ...` lines, [`crate::parse_ios`]) and the TOML form
//! ([`crate::parse_toml`]) both produce a [`Config`]. Every type here is plain data with public
//! fields, except [`SecurityAssociation`], whose keyed hash states are prepared once when it is
//! built and which therefore exposes its fields through accessors.
//!
//! Defaults are the router's (seed 002, the command reference of the same release) unless a
//! field says otherwise.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use mip_security::{Algorithm, Key, ReplayProtection};

use crate::index::Index;

/// Registration lifetime the home agent grants when nothing narrower is configured: 36000 s
/// (10 hours), the router's default for `ip mobile home-agent lifetime` and
/// `ip mobile registration-lifetime`.
pub const DEFAULT_LIFETIME_SECS: u16 = 36_000;

/// A lifetime of 0xffff seconds means "infinite" (RFC 5944 §3.3, §3.4).
pub const INFINITE_LIFETIME: u16 = 0xffff;

/// Default timestamp tolerance, seconds (`Timestamp +/- 7`, seed 002; RFC 5944 §5.7.1).
pub const DEFAULT_REPLAY_WINDOW_SECS: u32 = mip_security::DEFAULT_TIMESTAMP_WINDOW_SECS;

/// Default limit of simultaneous bindings (care-of addresses) per mobile node at the home agent.
///
/// The router refuses simultaneous bindings altogether (it answers code 1, "accepted,
/// simultaneous bindings unsupported"); RFC 5944 (the S bit) lets a home agent keep several. Five
/// matches the foreign agent's limit of five pending requests per mobile node (seed 002): enough
/// for a laptop with Wi-Fi, cellular and a wired dock registering at once, small enough that a
/// misbehaving client cannot fill the binding table. Requests beyond it get code 135 (too many
/// simultaneous bindings); 1 turns simultaneous bindings off (code 1 when S is set).
pub const DEFAULT_MAX_BINDINGS: u16 = 5;

/// How long the foreign agent keeps a relayed request pending (`reg-wait`, seed 002: 15 s).
pub const DEFAULT_REG_WAIT_SECS: u16 = 15;

/// The lowest SPI a configuration may use. SPIs 0–255 are reserved (RFC 5944 §1.6); the router
/// accepts 100–FFFFFFFF, in hexadecimal (seed 003).
pub const MIN_SPI: u32 = 0x100;

/// IRDP default maximum advertisement interval, seconds (RFC 1256; the router's 600).
pub const DEFAULT_IRDP_MAX_ADVERT_INTERVAL: u16 = 600;

/// Number of a standard IP access list (1–99 or 1300–1999).
pub type AclId = u16;

/// A whole configuration.
///
/// Built by [`crate::parse_ios`], [`crate::parse_toml`] or [`crate::load`], which validate it
/// and index it for the lookups ([`Config::host_group_for`], [`Config::mobile_node_sa`], ...).
/// The fields are public for reading; code that changes them must call [`Config::reindex`]
/// afterwards (lookups on a stale index may miss, never panic) and should call
/// [`Config::validate`].
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// `router mobile`: the Mobile IP process runs. Without it neither the home agent nor the
    /// foreign agent serves anyone, whatever else is configured (the router behaves the same).
    pub mobile_ip: bool,
    /// `ip mobile home-agent ...`.
    pub home_agent: HomeAgent,
    /// `ip mobile foreign-agent ...` (global part; per interface in [`Interface`]).
    pub foreign_agent: ForeignAgent,
    /// `ip mobile virtual-network NET MASK` (also spelled `ip mobile network`): home networks
    /// with no physical link. The daemon installs a route for each.
    pub virtual_networks: Vec<Prefix>,
    /// `ip mobile host LOWER [UPPER] ...`: mobile nodes known by home address.
    pub host_groups: Vec<HostGroup>,
    /// `ip mobile host nai NAI ...`: mobile nodes known by NAI (RFC 2794).
    pub nai_hosts: Vec<NaiHost>,
    /// `ip local pool NAME LOWER [UPPER]`: home-address pools for NAI hosts, by name.
    pub address_pools: BTreeMap<String, AddressPool>,
    /// `ip mobile secure ...`: mobility security associations.
    pub security_associations: Vec<SecurityAssociation>,
    /// `access-list N ...`: numbered standard access lists, by number.
    pub access_lists: BTreeMap<AclId, AccessList>,
    /// `interface NAME` blocks, by name.
    pub interfaces: BTreeMap<String, Interface>,
    pub(crate) index: Index,
}

impl PartialEq for Config {
    /// Equal when the configured values are equal (the lookup index is derived data).
    fn eq(&self, other: &Config) -> bool {
        self.mobile_ip == other.mobile_ip
            && self.home_agent == other.home_agent
            && self.foreign_agent == other.foreign_agent
            && self.virtual_networks == other.virtual_networks
            && self.host_groups == other.host_groups
            && self.nai_hosts == other.nai_hosts
            && self.address_pools == other.address_pools
            && self.security_associations == other.security_associations
            && self.access_lists == other.access_lists
            && self.interfaces == other.interfaces
    }
}

impl Eq for Config {}

impl Config {
    /// True when the home agent serves registrations: `router mobile` and
    /// `ip mobile home-agent` both present.
    #[must_use]
    pub fn home_agent_active(&self) -> bool {
        self.mobile_ip && self.home_agent.enabled
    }

    /// True when the foreign agent serves visitors: `router mobile`, `ip mobile foreign-agent`
    /// and at least one care-of interface (seed 002: "enables foreign agent service when at
    /// least one care-of address is configured").
    #[must_use]
    pub fn foreign_agent_active(&self) -> bool {
        self.mobile_ip && self.foreign_agent.enabled && !self.foreign_agent.care_of.is_empty()
    }

    /// The registration lifetime limit for a host group: its own `lifetime`, else the home
    /// agent's.
    #[must_use]
    pub fn lifetime_for(&self, group: &HostGroup) -> u16 {
        group.lifetime.unwrap_or(self.home_agent.lifetime)
    }
}

/// Home agent service (`ip mobile home-agent ...`, seed 002).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HomeAgent {
    /// The service is on (any `ip mobile home-agent` line; off after `no ip mobile home-agent`).
    /// Default off.
    pub enabled: bool,
    /// `address A` (repeatable): further home-agent addresses the home agent answers for, in
    /// addition to the addresses of its interfaces (e.g. a VRRP address). Default none.
    pub addresses: Vec<Ipv4Addr>,
    /// `broadcast`: forward broadcasts to mobile nodes that asked for them (B bit). Default off.
    pub broadcast: bool,
    /// `care-of-access ACL`: care-of addresses mobile nodes may register from. Default: any.
    pub care_of_access: Option<AclId>,
    /// `lifetime SECS`: the longest registration lifetime granted, 1–65535 (65535 infinite).
    /// Default [`DEFAULT_LIFETIME_SECS`].
    pub lifetime: u16,
    /// `replay SECS`: timestamp tolerance for mobile-node SAs (`secure host`) that give no
    /// `replay timestamp within N` of their own. Default 7 ([`DEFAULT_REPLAY_WINDOW_SECS`]).
    pub replay_window_secs: u32,
    /// Reverse tunnels (T bit, RFC 3024) are granted; `reverse-tunnel-off` clears it.
    /// Default on.
    pub reverse_tunnel: bool,
    /// `roam-access ACL`: home addresses allowed to roam. Default: any.
    pub roam_access: Option<AclId>,
    /// `suppress-unreachable`: no ICMP unreachable for packets to unregistered mobile nodes on
    /// a virtual network. Default off.
    pub suppress_unreachable: bool,
    /// mipd: simultaneous bindings per mobile node (`simultaneous-bindings N`). Default
    /// [`DEFAULT_MAX_BINDINGS`].
    pub max_bindings: u16,
    /// mipd: encapsulations granted (`encapsulation ipip [gre] [minimal]`). IP-in-IP is always
    /// granted (RFC 5944 §4.1). Default: all three.
    pub encapsulations: Encapsulations,
    /// `redundancy GROUP [virtual-network] [address A] [periodic-sync]`: the home agent is one
    /// of a redundant pair (slides, seed 001). Parsed now, acted on by the redundancy feature.
    pub redundancy: Option<Redundancy>,
}

impl Default for HomeAgent {
    fn default() -> HomeAgent {
        HomeAgent {
            enabled: false,
            addresses: Vec::new(),
            broadcast: false,
            care_of_access: None,
            lifetime: DEFAULT_LIFETIME_SECS,
            replay_window_secs: DEFAULT_REPLAY_WINDOW_SECS,
            reverse_tunnel: true,
            roam_access: None,
            suppress_unreachable: false,
            max_bindings: DEFAULT_MAX_BINDINGS,
            encapsulations: Encapsulations::default(),
            redundancy: None,
        }
    }
}

/// Tunnel encapsulations a home agent grants beyond IP-in-IP (which it always grants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Encapsulations {
    /// GRE (RFC 2784; the G bit). Default on.
    pub gre: bool,
    /// Minimal encapsulation (RFC 2004; the M bit). Default on.
    pub minimal: bool,
}

impl Default for Encapsulations {
    fn default() -> Encapsulations {
        Encapsulations {
            gre: true,
            minimal: true,
        }
    }
}

/// Home agent redundancy (`ip mobile home-agent redundancy`, seed 001 slides).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redundancy {
    /// The redundancy group's name (the router's HSRP group name; here the VRRP instance).
    pub group: String,
    /// `virtual-network`: the pair serves virtual networks only.
    pub virtual_network: bool,
    /// `address A`: the shared home-agent address, when not the group's own.
    pub address: Option<Ipv4Addr>,
    /// `periodic-sync`: synchronise binding lifetimes periodically, not only on change.
    pub periodic_sync: bool,
}

/// Foreign agent, global part (`ip mobile foreign-agent ...`, seed 002).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignAgent {
    /// `ip mobile foreign-agent` given (off after `no ip mobile foreign-agent`). Default off.
    pub enabled: bool,
    /// `care-of IF` (repeatable): interfaces whose primary address is advertised as a care-of
    /// address. The service is off while this is empty.
    pub care_of: Vec<String>,
    /// `reg-wait SECS`: how long a relayed request stays pending, 5–600. Default 15.
    pub reg_wait_secs: u16,
    /// `reverse-tunnel`: reverse tunnelling offered (T bit) on every foreign-service interface,
    /// not only on those with `ip mobile foreign-service reverse-tunnel`. Default off.
    pub reverse_tunnel: bool,
}

impl Default for ForeignAgent {
    fn default() -> ForeignAgent {
        ForeignAgent {
            enabled: false,
            care_of: Vec::new(),
            reg_wait_secs: DEFAULT_REG_WAIT_SECS,
            reverse_tunnel: false,
        }
    }
}

/// An IPv4 network: address with the host bits clear, and prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    network: Ipv4Addr,
    len: u8,
}

impl Prefix {
    /// A prefix; `None` when `len > 32` or `network` has host bits set.
    #[must_use]
    pub fn new(network: Ipv4Addr, len: u8) -> Option<Prefix> {
        if len > 32 || u32::from(network) & !mask_of(len) != 0 {
            return None;
        }
        Some(Prefix { network, len })
    }

    /// The network address.
    #[must_use]
    pub fn network(self) -> Ipv4Addr {
        self.network
    }

    /// The prefix length, 0–32.
    #[must_use]
    pub fn len(self) -> u8 {
        self.len
    }

    /// True for the zero-length prefix 0.0.0.0/0.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.len == 0
    }

    /// The netmask, e.g. 255.0.0.0 for /8.
    #[must_use]
    pub fn mask(self) -> Ipv4Addr {
        Ipv4Addr::from(mask_of(self.len))
    }

    /// The first and last address covered.
    #[must_use]
    pub fn range(self) -> AddressRange {
        let lo = u32::from(self.network);
        AddressRange {
            lower: self.network,
            upper: Ipv4Addr::from(lo | !mask_of(self.len)),
        }
    }

    /// True when `addr` is inside.
    #[must_use]
    pub fn contains(self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & mask_of(self.len) == u32::from(self.network)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

/// The netmask of a prefix length (0–32) as a number.
#[must_use]
pub fn mask_of(len: u8) -> u32 {
    match len {
        0 => 0,
        1..=31 => u32::MAX << (32 - u32::from(len)),
        _ => u32::MAX,
    }
}

/// The prefix length of a netmask, `None` when the mask is not contiguous (ones, then zeros).
#[must_use]
pub fn mask_len(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let len = m.leading_ones();
    (m.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

impl FromStr for Prefix {
    type Err = String;

    /// `a.b.c.d/len` with the host bits clear.
    fn from_str(s: &str) -> Result<Prefix, String> {
        let (addr, len) = s
            .split_once('/')
            .ok_or_else(|| format!("'{s}' is not a prefix a.b.c.d/len"))?;
        let network: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("'{addr}' is not an IPv4 address"))?;
        let len: u8 = len
            .parse()
            .ok()
            .filter(|l| *l <= 32)
            .ok_or_else(|| format!("'{len}' is not a prefix length 0-32"))?;
        Prefix::new(network, len).ok_or_else(|| {
            let net = Ipv4Addr::from(u32::from(network) & mask_of(len));
            format!("{s} has host bits set (the network is {net}/{len})")
        })
    }
}

/// An address with its subnet, as on an interface (`ip address A M`): host bits allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InterfaceAddress {
    /// The interface's address.
    pub address: Ipv4Addr,
    /// Subnet prefix length, 0–32.
    pub prefix_len: u8,
}

impl InterfaceAddress {
    /// The subnet the address is on.
    #[must_use]
    pub fn subnet(self) -> Prefix {
        let net = Ipv4Addr::from(u32::from(self.address) & mask_of(self.prefix_len));
        Prefix {
            network: net,
            len: self.prefix_len.min(32),
        }
    }
}

impl fmt::Display for InterfaceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

/// An inclusive range of addresses (`LOWER [UPPER]` in the router syntax).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressRange {
    /// First address.
    pub lower: Ipv4Addr,
    /// Last address (equal to `lower` for a single address).
    pub upper: Ipv4Addr,
}

impl AddressRange {
    /// One address.
    #[must_use]
    pub fn single(addr: Ipv4Addr) -> AddressRange {
        AddressRange {
            lower: addr,
            upper: addr,
        }
    }

    /// True when `addr` is inside.
    #[must_use]
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        self.lower <= addr && addr <= self.upper
    }

    /// Number of addresses (0 when `lower > upper`).
    #[must_use]
    pub fn count(&self) -> u64 {
        let (lo, hi) = (u32::from(self.lower), u32::from(self.upper));
        if lo > hi {
            0
        } else {
            u64::from(hi - lo) + 1
        }
    }

    /// True when the two ranges share an address.
    #[must_use]
    pub fn overlaps(&self, other: &AddressRange) -> bool {
        self.lower <= other.upper && other.lower <= self.upper
    }
}

impl fmt::Display for AddressRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lower == self.upper {
            write!(f, "{}", self.lower)
        } else {
            write!(f, "{}-{}", self.lower, self.upper)
        }
    }
}

/// Where a mobile node's home is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HomeLocation {
    /// `interface NAME`: the home link is this interface (Linux name, e.g. `eth1`).
    Interface(String),
    /// `virtual-network NET MASK`: a virtual network (must be one of
    /// [`Config::virtual_networks`]).
    VirtualNetwork(Prefix),
}

/// Where the security associations of mobile nodes come from (`aaa [load-sa]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SaSource {
    /// Configured locally with `ip mobile secure` (no `aaa`). Default.
    #[default]
    Local,
    /// `aaa`: fetched from the AAA server for each registration.
    Aaa,
    /// `aaa load-sa`: fetched from the AAA server and kept after the first registration.
    AaaLoadSa,
}

impl SaSource {
    /// TOML name: `local`, `aaa` or `aaa-load-sa`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SaSource::Local => "local",
            SaSource::Aaa => "aaa",
            SaSource::AaaLoadSa => "aaa-load-sa",
        }
    }
}

/// A group of mobile nodes by home address
/// (`ip mobile host LOWER [UPPER] {interface IF | virtual-network NET MASK} [aaa [load-sa]]
/// [care-of-access ACL] [lifetime N]`, seed 002).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostGroup {
    /// The home addresses.
    pub range: AddressRange,
    /// The home link or virtual network.
    pub location: HomeLocation,
    /// Where their security associations come from.
    pub sa_source: SaSource,
    /// `care-of-access ACL`: care-of addresses this group may register from (checked in
    /// addition to the home agent's own list).
    pub care_of_access: Option<AclId>,
    /// `lifetime N`: the longest lifetime granted to this group, overriding the home agent's.
    pub lifetime: Option<u16>,
}

/// How an NAI host gets its home address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HomeAddress {
    /// `address A`: always this address.
    Static(Ipv4Addr),
    /// `address pool local NAME`: one address per session from a local pool
    /// ([`Config::address_pools`]).
    Pool(String),
}

/// A mobile node known by its NAI (RFC 2794)
/// (`ip mobile host nai NAI address {A | pool local NAME} {interface IF | virtual-network NET
/// MASK} [aaa [load-sa]] [care-of-access ACL] [lifetime N]`, slides of seed 001). Several
/// sessions (session identifiers, seed 000) may share one NAI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NaiHost {
    /// The NAI, e.g. `herbert@left.com`.
    pub nai: String,
    /// Home address assignment.
    pub address: HomeAddress,
    /// The home link or virtual network.
    pub location: HomeLocation,
    /// Where its security associations come from.
    pub sa_source: SaSource,
    /// `care-of-access ACL`.
    pub care_of_access: Option<AclId>,
    /// `lifetime N`.
    pub lifetime: Option<u16>,
}

/// A local pool of home addresses (`ip local pool NAME LOWER [UPPER]`, one line per range).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressPool {
    /// The ranges, in configuration order.
    pub ranges: Vec<AddressRange>,
}

/// The other end of a security association (`ip mobile secure {host|visitor|foreign-agent|
/// home-agent}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// `host`: a mobile node at its home agent (MN-HA, extension 32).
    Host,
    /// `visitor`: a mobile node visiting this foreign agent (MN-FA, extension 33).
    Visitor,
    /// `foreign-agent`: a foreign agent, seen from the home agent (FA-HA, extension 34).
    ForeignAgent,
    /// `home-agent`: a home agent, seen from a foreign agent (FA-HA) or a redundant peer.
    HomeAgent,
}

impl Peer {
    /// All four, in index order.
    pub const ALL: [Peer; 4] = [
        Peer::Host,
        Peer::Visitor,
        Peer::ForeignAgent,
        Peer::HomeAgent,
    ];

    /// The router keyword (and TOML value): `host`, `visitor`, `foreign-agent`, `home-agent`.
    #[must_use]
    pub fn keyword(self) -> &'static str {
        match self {
            Peer::Host => "host",
            Peer::Visitor => "visitor",
            Peer::ForeignAgent => "foreign-agent",
            Peer::HomeAgent => "home-agent",
        }
    }

    /// The peer for a keyword (case-insensitive).
    #[must_use]
    pub fn from_keyword(s: &str) -> Option<Peer> {
        Peer::ALL
            .into_iter()
            .find(|p| p.keyword().eq_ignore_ascii_case(s))
    }

    pub(crate) fn slot(self) -> usize {
        self as usize
    }
}

/// Whom a security association is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SaTarget {
    /// `LOWER [UPPER]`: each address of the range has its own association with these
    /// parameters (one key shared by the range).
    Range(AddressRange),
    /// `nai NAI`.
    Nai(String),
}

impl fmt::Display for SaTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaTarget::Range(r) => write!(f, "{r}"),
            SaTarget::Nai(n) => write!(f, "nai {n}"),
        }
    }
}

/// How the key was written, so that it is written back the same way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeyFormat {
    /// `key hex ...`.
    #[default]
    Hex,
    /// `key ascii ...`.
    Ascii,
}

/// Replay protection as configured (`replay timestamp [within N]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReplaySetting {
    /// Timestamps, with an explicit window or (None) the default: the home agent's `replay`
    /// value for `host` SAs, 7 s for the others.
    Timestamp {
        /// `within N`, seconds.
        window_secs: Option<u32>,
    },
    /// Nonces (RFC 5944 §5.7.2). mipd extension: `replay nonce`.
    Nonce,
}

impl Default for ReplaySetting {
    fn default() -> ReplaySetting {
        ReplaySetting::Timestamp { window_secs: None }
    }
}

/// The configured parameters of a security association, before its keyed state is prepared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaParams {
    /// The other end's role.
    pub peer: Peer,
    /// Its address(es) or NAI.
    pub target: SaTarget,
    /// SPI of messages it sends to us (`inbound-spi`; `spi` sets both).
    pub inbound_spi: u32,
    /// SPI of messages we send to it (`outbound-spi`).
    pub outbound_spi: u32,
    /// Algorithm and mode (default keyed MD5 prefix+suffix).
    pub algorithm: Algorithm,
    /// The shared key.
    pub key: Key,
    /// How the key was written.
    pub key_format: KeyFormat,
    /// Replay protection (default timestamps).
    pub replay: ReplaySetting,
}

/// A mobility security association as configured, with the ready-to-use
/// [`mip_security::SecurityAssociation`] for each direction (built once, when the
/// configuration is loaded). `Debug` never shows the key.
#[derive(Clone, Debug)]
pub struct SecurityAssociation {
    params: SaParams,
    inbound: mip_security::SecurityAssociation,
    outbound: mip_security::SecurityAssociation,
}

impl PartialEq for SecurityAssociation {
    fn eq(&self, other: &SecurityAssociation) -> bool {
        self.params == other.params
    }
}

impl Eq for SecurityAssociation {}

impl SecurityAssociation {
    /// Builds the association; `default_window_secs` is used when the parameters give
    /// timestamps without a window.
    #[must_use]
    pub fn new(params: SaParams, default_window_secs: u32) -> SecurityAssociation {
        let replay = match params.replay {
            ReplaySetting::Timestamp { window_secs } => ReplayProtection::Timestamp {
                window_secs: window_secs.unwrap_or(default_window_secs),
            },
            ReplaySetting::Nonce => ReplayProtection::Nonce,
        };
        let inbound = mip_security::SecurityAssociation::new(
            params.inbound_spi,
            params.algorithm,
            params.key.clone(),
            replay,
        );
        let outbound = mip_security::SecurityAssociation::new(
            params.outbound_spi,
            params.algorithm,
            params.key.clone(),
            replay,
        );
        SecurityAssociation {
            params,
            inbound,
            outbound,
        }
    }

    /// The configured parameters.
    #[must_use]
    pub fn params(&self) -> &SaParams {
        &self.params
    }

    /// The other end's role.
    #[must_use]
    pub fn peer(&self) -> Peer {
        self.params.peer
    }

    /// Its address(es) or NAI.
    #[must_use]
    pub fn target(&self) -> &SaTarget {
        &self.params.target
    }

    /// SPI expected on messages from the peer.
    #[must_use]
    pub fn inbound_spi(&self) -> u32 {
        self.params.inbound_spi
    }

    /// SPI put on messages to the peer.
    #[must_use]
    pub fn outbound_spi(&self) -> u32 {
        self.params.outbound_spi
    }

    /// Algorithm and mode.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.params.algorithm
    }

    /// Replay protection in effect (window resolved).
    #[must_use]
    pub fn replay(&self) -> ReplayProtection {
        self.inbound.replay()
    }

    /// Verifies messages from the peer (its SPI is [`Self::inbound_spi`]).
    #[must_use]
    pub fn inbound(&self) -> &mip_security::SecurityAssociation {
        &self.inbound
    }

    /// Signs messages to the peer (its SPI is [`Self::outbound_spi`]).
    #[must_use]
    pub fn outbound(&self) -> &mip_security::SecurityAssociation {
        &self.outbound
    }

    /// True when this association applies to `addr`.
    #[must_use]
    pub fn covers(&self, addr: Ipv4Addr) -> bool {
        matches!(&self.params.target, SaTarget::Range(r) if r.contains(addr))
    }
}

/// Permit or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AclAction {
    /// `permit`.
    Permit,
    /// `deny`.
    Deny,
}

impl AclAction {
    /// `permit` or `deny`.
    #[must_use]
    pub fn keyword(self) -> &'static str {
        match self {
            AclAction::Permit => "permit",
            AclAction::Deny => "deny",
        }
    }
}

/// One line of a standard access list: addresses matching `address` on every bit where
/// `wildcard` is 0 (`any` is wildcard 255.255.255.255, `host A` or a bare `A` is wildcard 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AclRule {
    /// Permit or deny.
    pub action: AclAction,
    /// The address, with the wildcard bits cleared (as the router stores it).
    pub address: Ipv4Addr,
    /// The wildcard ("don't care") bits; need not be contiguous.
    pub wildcard: Ipv4Addr,
}

impl AclRule {
    /// A rule, normalising `address` (wildcard bits cleared).
    #[must_use]
    pub fn new(action: AclAction, address: Ipv4Addr, wildcard: Ipv4Addr) -> AclRule {
        let w = u32::from(wildcard);
        AclRule {
            action,
            address: Ipv4Addr::from(u32::from(address) & !w),
            wildcard,
        }
    }

    /// True when the rule matches `addr`.
    #[must_use]
    pub fn matches(&self, addr: Ipv4Addr) -> bool {
        (u32::from(addr) ^ u32::from(self.address)) & !u32::from(self.wildcard) == 0
    }

    /// True for `any`.
    #[must_use]
    pub fn is_any(&self) -> bool {
        self.wildcard == Ipv4Addr::BROADCAST
    }
}

impl fmt::Display for AclRule {
    /// The router form after the list number: `deny host 11.0.0.5`, `permit any`,
    /// `deny 13.0.0.0 0.255.255.255`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = self.action.keyword();
        if self.is_any() {
            write!(f, "{action} any")
        } else if self.wildcard == Ipv4Addr::UNSPECIFIED {
            write!(f, "{action} host {}", self.address)
        } else {
            write!(f, "{action} {} {}", self.address, self.wildcard)
        }
    }
}

/// A numbered standard access list (`access-list N ...`). First match wins; an address no
/// rule matches is denied (the implicit deny at the end).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessList {
    /// The rules in order.
    pub rules: Vec<AclRule>,
    /// `access-list N remark TEXT` lines.
    pub remarks: Vec<String>,
}

impl AccessList {
    /// First match wins; no match is a deny.
    #[must_use]
    pub fn permits(&self, addr: Ipv4Addr) -> bool {
        self.rules
            .iter()
            .find(|r| r.matches(addr))
            .is_some_and(|r| r.action == AclAction::Permit)
    }
}

/// An `interface NAME` block: the mobility settings of one (Linux) interface.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interface {
    /// ` ip address A M`: the address the agent uses on this link (advertised as router
    /// address and, for a care-of interface, as care-of address). When absent the daemon takes
    /// the interface's primary address from the system.
    pub address: Option<InterfaceAddress>,
    /// ` ip irdp ...`: router discovery, which carries the agent advertisements.
    pub irdp: Irdp,
    /// ` ip mobile foreign-service ...`: foreign agent service on this link.
    pub foreign_service: Option<ForeignService>,
    /// ` ip mobile prefix-length`: append the prefix-lengths extension (19) to advertisements.
    pub prefix_length: bool,
    /// ` ip mobile registration-lifetime N`: registration lifetime advertised on this link,
    /// 1–65535. Default [`DEFAULT_LIFETIME_SECS`].
    pub registration_lifetime: Option<u16>,
}

/// ICMP router discovery settings of an interface (RFC 1256, with the Mobile IP extension).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Irdp {
    /// ` ip irdp`.
    pub enabled: bool,
    /// ` ip irdp maxadvertinterval N` (seconds, 1–1800). Default 600.
    pub max_advert_interval: Option<u16>,
    /// ` ip irdp minadvertinterval N` (seconds, 1–max). Default 3/4 of the maximum.
    pub min_advert_interval: Option<u16>,
    /// ` ip irdp holdtime N` (seconds, max–9000): advertisement lifetime. Default 3 times the
    /// maximum.
    pub holdtime: Option<u16>,
}

impl Irdp {
    /// The maximum interval in effect.
    #[must_use]
    pub fn max_interval(&self) -> u16 {
        self.max_advert_interval
            .unwrap_or(DEFAULT_IRDP_MAX_ADVERT_INTERVAL)
    }

    /// The minimum interval in effect.
    #[must_use]
    pub fn min_interval(&self) -> u16 {
        self.min_advert_interval
            .unwrap_or_else(|| ((u32::from(self.max_interval()) * 3) / 4).max(1) as u16)
    }

    /// The advertisement lifetime in effect.
    #[must_use]
    pub fn holdtime(&self) -> u16 {
        self.holdtime
            .unwrap_or_else(|| (u32::from(self.max_interval()) * 3).min(9000) as u16)
    }
}

/// Foreign agent service on an interface
/// (` ip mobile foreign-service [home-access ACL] [limit N] [registration-required]
/// [reverse-tunnel [mandatory]]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ForeignService {
    /// `home-access ACL`: home agents visitors may register with.
    pub home_access: Option<AclId>,
    /// `limit N`: at most this many visitors (1–1000); advertisements set B (busy) when
    /// reached.
    pub limit: Option<u16>,
    /// `registration-required`: set R in advertisements.
    pub registration_required: bool,
    /// `reverse-tunnel`: reverse tunnelling offered (T bit, RFC 3024).
    pub reverse_tunnel: bool,
    /// `reverse-tunnel mandatory`: requests without T are refused (code 75).
    pub reverse_tunnel_mandatory: bool,
}

/// Normalises an NAI for lookups: the realm (after the last `@`) is case-insensitive
/// (RFC 7542), the user part is not.
#[must_use]
pub fn nai_key(nai: &str) -> String {
    nai_key_cow(nai).into_owned()
}

/// [`nai_key`] without allocating when the realm is already lower case (the usual case).
pub(crate) fn nai_key_cow(nai: &str) -> std::borrow::Cow<'_, str> {
    match nai.rsplit_once('@') {
        Some((user, realm)) if realm.bytes().any(|b| b.is_ascii_uppercase()) => {
            std::borrow::Cow::Owned(format!("{user}@{}", realm.to_ascii_lowercase()))
        }
        _ => std::borrow::Cow::Borrowed(nai),
    }
}

/// True when two NAIs name the same node: same user part, realms equal ignoring ASCII case.
#[must_use]
pub fn nai_eq(a: &str, b: &str) -> bool {
    match (a.rsplit_once('@'), b.rsplit_once('@')) {
        (Some((ua, ra)), Some((ub, rb))) => ua == ub && ra.eq_ignore_ascii_case(rb),
        (None, None) => a == b,
        _ => false,
    }
}
