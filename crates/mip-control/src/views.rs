//! The data of every `show` answer: what `mipd` puts in [`Response::data`](crate::Response)
//! and `mipctl` turns into the router's text (or prints as JSON with `--json`).
//!
//! Which view answers which request:
//!
//! | request | `data` |
//! |---|---|
//! | `ShowBinding { All / Address / HomeAgent / Nai }` | [`BindingList`] |
//! | `ShowBinding { Summary }` | [`BindingSummary`] |
//! | `ShowHost { All / Address }` | [`HostList`] |
//! | `ShowHost { Group }` | [`HostGroupList`] |
//! | `ShowHost { Counters }` | [`HostCountersList`] |
//! | `ShowSecure` | [`SecureList`] |
//! | `ShowTraffic` | [`TrafficView`] |
//! | `ShowViolation` | [`ViolationList`] |
//! | `ShowGlobals` | [`GlobalsView`] |
//! | `ShowTunnel` | [`TunnelList`] |
//! | `Clear*`, `Reload` | [`ClearView`] (or no `data` at all) |
//!
//! Stability: fields are only ever added, with `#[serde(default)]`, so an older console reads
//! a newer daemon's answer. Addresses serialise as dotted strings, times as milliseconds since
//! the Unix epoch, durations as seconds. A secret key appears only when the request asked for
//! keys (`show_keys`), otherwise the key fields are `None` (absent in JSON) and only its
//! length is given.
//!
//! The views do not depend on the home agent core: `mipd` converts its snapshots
//! (`mip_ha::snapshot::BindingSnapshot`, `Counters`, ...) and its configuration into them.
//! Reference conversions, run against a real home agent: `crates/mipctl/tests/
//! show_from_core.rs`. Notes:
//!
//! * [`BindingView::reverse_allowed`] is the tunnel's mode (`reverse-allowed` /
//!   `reverse-off`), i.e. the home agent's `reverse-tunnel` setting, not the T flag: seed 000
//!   shows `reverse-allowed` for a mobile node that did not set T. The T flag granted is
//!   [`RoutingOption::ReverseTunnel`].
//! * [`TrafficView`] has the field names of `mip_ha::Counters` (plus the advertisement
//!   counters), so `serde_json::from_value(serde_json::to_value(counters))` converts it.
//! * Zero times of `mip_ha::HostCounters` ("never") become `None`.

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

use crate::PeerKind;

/// Lifetime value meaning "infinite" in a Registration Request/Reply (RFC 5944 §3.3).
pub const INFINITE_LIFETIME: u32 = 0xffff;

// ---------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------

/// Tunnel encapsulation.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum EncapsulationView {
    /// IP in IP (RFC 2003), IP protocol 4. The default.
    IpIp,
    /// GRE (RFC 2784), IP protocol 47.
    Gre,
    /// Minimal encapsulation (RFC 2004), IP protocol 55.
    Minimal,
}

impl EncapsulationView {
    /// The IP protocol number.
    pub fn protocol(self) -> u8 {
        match self {
            EncapsulationView::IpIp => 4,
            EncapsulationView::Gre => 47,
            EncapsulationView::Minimal => 55,
        }
    }

    /// From an IP protocol number (4, 47, 55).
    pub fn from_protocol(p: u8) -> Option<Self> {
        match p {
            4 => Some(EncapsulationView::IpIp),
            47 => Some(EncapsulationView::Gre),
            55 => Some(EncapsulationView::Minimal),
            _ => None,
        }
    }
}

/// A routing option of `show ip mobile binding` / `visitor`: a service the agent provides.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum RoutingOption {
    /// `(S)Mult-binding`: simultaneous bindings.
    SimultaneousBindings,
    /// `(B)Broadcast`: broadcasts forwarded.
    Broadcast,
    /// `(D)Direct-to-MN`: the mobile node decapsulates (co-located care-of address).
    DirectToMobileNode,
    /// `(M)MinIP`: minimal encapsulation.
    MinimalEncapsulation,
    /// `(G)GRE`: GRE encapsulation.
    Gre,
    /// `(T)Reverse-tunnel`: reverse tunnelling.
    ReverseTunnel,
}

impl RoutingOption {
    /// The router's letter.
    pub fn letter(self) -> char {
        match self {
            RoutingOption::SimultaneousBindings => 'S',
            RoutingOption::Broadcast => 'B',
            RoutingOption::DirectToMobileNode => 'D',
            RoutingOption::MinimalEncapsulation => 'M',
            RoutingOption::Gre => 'G',
            RoutingOption::ReverseTunnel => 'T',
        }
    }

    /// The router's name.
    pub fn name(self) -> &'static str {
        match self {
            RoutingOption::SimultaneousBindings => "Mult-binding",
            RoutingOption::Broadcast => "Broadcast",
            RoutingOption::DirectToMobileNode => "Direct-to-MN",
            RoutingOption::MinimalEncapsulation => "MinIP",
            RoutingOption::Gre => "GRE",
            RoutingOption::ReverseTunnel => "Reverse-tunnel",
        }
    }
}

/// Authentication algorithm of a mobility security association.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum AuthAlgorithm {
    /// Keyed MD5 (RFC 5944 default), shown `MD5`.
    Md5,
    /// HMAC-MD5, shown `HMAC-MD5`.
    HmacMd5,
}

impl AuthAlgorithm {
    /// The router's text.
    pub fn text(self) -> &'static str {
        match self {
            AuthAlgorithm::Md5 => "MD5",
            AuthAlgorithm::HmacMd5 => "HMAC-MD5",
        }
    }
}

/// Authentication mode.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// Key before and after the data, shown `Prefix-suffix` (the only mode).
    #[default]
    PrefixSuffix,
}

impl AuthMode {
    /// The router's text.
    pub fn text(self) -> &'static str {
        match self {
            AuthMode::PrefixSuffix => "Prefix-suffix",
        }
    }
}

/// Replay protection of a security association.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum ReplayView {
    /// Timestamps accepted within `window_secs` of the agent's clock (`Timestamp +/- 7`).
    Timestamp {
        /// The window, seconds.
        window_secs: u32,
    },
    /// Nonces (`Nonce`).
    Nonce,
}

/// Where a security association comes from.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SaOrigin {
    /// `ip mobile secure ...` in the configuration.
    #[default]
    Configured,
    /// Fetched from the AAA server (and cached: `aaa load-sa`).
    Aaa,
    /// A dynamic key (root or session key, seed 000).
    Dynamic,
}

/// Kind of a dynamic key (seed 000).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum DynamicKeyKind {
    /// `root key`: from the user's login through AAA.
    Root,
    /// `session key`: derived from the root key, refreshed.
    Session,
}

impl DynamicKeyKind {
    /// The router's text.
    pub fn text(self) -> &'static str {
        match self {
            DynamicKeyKind::Root => "root key",
            DynamicKeyKind::Session => "session key",
        }
    }
}

/// A network and prefix length, e.g. a virtual network `20.0.0.0/8`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrefixView {
    /// Network address.
    pub network: Ipv4Addr,
    /// Prefix length, 0..=32.
    pub prefix_len: u8,
}

/// Where mobile nodes are at home.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum HomeLinkView {
    /// A physical home link (proxy and gratuitous ARP on it).
    Interface {
        /// The interface name (`eth1`).
        name: String,
    },
    /// A virtual network (no ARP).
    VirtualNetwork {
        /// The network.
        network: Ipv4Addr,
        /// Its prefix length.
        prefix_len: u8,
    },
}

/// Where the security associations of a host group come from (`aaa [load-sa]`).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SaSourceView {
    /// Configured on the agent (`Security associations on router`).
    #[default]
    Local,
    /// From AAA for each registration (`Security associations on AAA server`).
    Aaa,
    /// From AAA, kept after the first registration (`... on AAA server, load-sa`).
    AaaLoadSa,
}

// ---------------------------------------------------------------------------------------
// show ip mobile binding
// ---------------------------------------------------------------------------------------

/// `show ip mobile binding [A | home-agent A | nai NAI [session-id ID]]`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct BindingList {
    /// "Total N": bindings listed (the filtered count when a filter was given).
    pub total: u64,
    /// The bindings, grouped by mobile node (home address order).
    pub bindings: Vec<BindingView>,
}

/// The tunnel of a binding or visitor.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TunnelRefView {
    /// Interface-like name, `Tunnel0`.
    pub name: String,
    /// Outer source (the home agent address).
    pub source: Ipv4Addr,
    /// Outer destination (the care-of address).
    pub destination: Ipv4Addr,
}

/// A security association line of a binding with dynamic keys (seed 000: `SPI 333 (decimal
/// 819) MD5, Prefix-suffix, Timestamp +/-255, root key` / `Key 38a3...`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BindingSaView {
    /// The SPI.
    pub spi: u32,
    /// Algorithm.
    pub algorithm: AuthAlgorithm,
    /// Mode.
    pub mode: AuthMode,
    /// Replay protection.
    pub replay: ReplayView,
    /// Root or session key.
    pub kind: DynamicKeyKind,
    /// Key length in bytes.
    pub key_len: usize,
    /// The key in lower-case hex; present only when keys were requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A mobile network registered or configured for a mobile router (RFC 5177).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MobileNetworkView {
    /// Network address.
    pub network: Ipv4Addr,
    /// Mask.
    pub mask: Ipv4Addr,
    /// Registered (`D`, true) or configured (`S`, false).
    pub dynamic: bool,
}

/// One mobility binding.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BindingView {
    /// Home address.
    pub home_address: Ipv4Addr,
    /// NAI, when the mobile node registered with one (shown instead of the home address as
    /// the block's title).
    #[serde(default)]
    pub nai: Option<String>,
    /// Session identifier (seed 000), when the registration carried one.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Care-of address ("Care-of Addr").
    pub care_of_address: Ipv4Addr,
    /// Source address of the last accepted request ("Src Addr").
    pub source_address: Ipv4Addr,
    /// Its UDP source port.
    #[serde(default)]
    pub source_port: u16,
    /// The home agent address registered with.
    pub home_agent: Ipv4Addr,
    /// Lifetime granted, seconds; [`INFINITE_LIFETIME`] (65535) means infinite.
    pub lifetime_granted: u32,
    /// Seconds left (rounded down); `None` for an infinite lifetime.
    pub remaining_secs: Option<u64>,
    /// The request's flags byte.
    pub flags: u8,
    /// The router's flag letters, `SbdmGvt` (upper case = set).
    pub flags_text: String,
    /// Identification of the last accepted request.
    pub identification: u64,
    /// The router's notation of it: `B750FAC4.C28F56A8`.
    pub identification_text: String,
    /// The tunnel to the care-of address.
    pub tunnel: TunnelRefView,
    /// Reverse tunnel allowed (`reverse-allowed`, else `reverse-off`).
    pub reverse_allowed: bool,
    /// Services provided, in the router's order B D G T (`Routing Options - (G)GRE`).
    pub routing_options: Vec<RoutingOption>,
    /// Encapsulation of the tunnel.
    pub encapsulation: EncapsulationView,
    /// Home link interface (`None` on a virtual network).
    #[serde(default)]
    pub interface: Option<String>,
    /// Service options (`NAT detect`, seed 000), shown under "Service Options:".
    #[serde(default)]
    pub service_options: Vec<String>,
    /// Mobile networks of a mobile router (seed 000 "Mobile Networks:").
    #[serde(default)]
    pub mobile_networks: Vec<MobileNetworkView>,
    /// Dynamic-key security associations (root and session keys), if any.
    #[serde(default)]
    pub security_associations: Vec<BindingSaView>,
}

/// `show ip mobile binding summary`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct BindingSummary {
    /// Every binding.
    pub total: u64,
    /// Distinct mobile nodes (home addresses) with a binding.
    #[serde(default)]
    pub mobile_nodes: u64,
    /// Bindings registered with an NAI.
    #[serde(default)]
    pub with_nai: u64,
    /// Bindings with a reverse tunnel allowed.
    #[serde(default)]
    pub reverse_tunnels: u64,
    /// Tunnels in use.
    #[serde(default)]
    pub tunnels: u64,
}

// ---------------------------------------------------------------------------------------
// show ip mobile traffic
// ---------------------------------------------------------------------------------------

/// `show ip mobile traffic`: the seed 002 counters in its order, then the home agent core's
/// extra counters (`mip_ha::snapshot::Counters`, same field names).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct TrafficView {
    /// "Solicitations received N".
    pub solicitations_received: u64,
    /// "Advertisements sent N".
    pub advertisements_sent: u64,
    /// "..., response to solicitation N".
    pub advertisements_response_to_solicitation: u64,
    /// "Register N, ... requests".
    pub register_requests: u64,
    /// "..., Deregister N requests".
    pub deregister_requests: u64,
    /// "Register N, ... replied".
    pub register_replied: u64,
    /// "..., Deregister N replied".
    pub deregister_replied: u64,
    /// "Accepted N" (code 0).
    pub accepted: u64,
    /// "No simultaneous bindings N" (code 1).
    pub no_simultaneous_bindings: u64,
    /// "Denied N" (codes 128 and above).
    pub denied: u64,
    /// "Ignored N" (no reply).
    pub ignored: u64,
    /// "Unspecified N" (128).
    pub unspecified: u64,
    /// "Unknown HA N" (136).
    pub unknown_ha: u64,
    /// "Administrative prohibited N" (129).
    pub administratively_prohibited: u64,
    /// "No resource N" (130).
    pub no_resource: u64,
    /// "Authentication failed MN N" (131).
    pub auth_failed_mn: u64,
    /// "..., FA N" (132).
    pub auth_failed_fa: u64,
    /// "Bad identification N" (133).
    pub bad_identification: u64,
    /// "Bad request form N" (134).
    pub bad_request_form: u64,
    /// Too many simultaneous bindings (135).
    pub too_many_bindings: u64,
    /// Reverse tunnel unavailable (137).
    pub reverse_tunnel_unavailable: u64,
    /// Reverse tunnel mandatory (138).
    pub reverse_tunnel_mandatory: u64,
    /// Encapsulation unavailable (139).
    pub encapsulation_unavailable: u64,
    /// CVSE not understood (140, 141).
    pub cvse_not_understood: u64,
    /// Ignored: home agent service off.
    pub ignored_service_disabled: u64,
    /// Ignored: datagram could not be parsed.
    pub ignored_malformed: u64,
    /// Ignored: unknown non-skippable extension.
    pub ignored_unknown_extension: u64,
    /// Ignored: no security association for the mobile node.
    pub ignored_no_security_association: u64,
    /// Gratuitous ARPs sent.
    pub gratuitous_arps: u64,
    /// Proxy ARP entries started.
    pub proxy_arps: u64,
    /// Bindings removed by lifetime expiry.
    pub bindings_expired: u64,
    /// Bindings removed by `clear ip mobile binding`.
    pub bindings_cleared: u64,
}

// ---------------------------------------------------------------------------------------
// show ip mobile host
// ---------------------------------------------------------------------------------------

/// Counters of one mobile node (`mip_ha::snapshot::HostCounters`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct HostCountersView {
    /// Accepted registrations.
    pub accepted: u64,
    /// When the last one was accepted (ms since the Unix epoch); `None` for never.
    pub last_accepted_ms: Option<u64>,
    /// Denied registrations.
    pub denied: u64,
    /// When the last one was denied; `None` for never.
    pub last_denied_ms: Option<u64>,
    /// Code of the last denial; `None` for never.
    pub last_code: Option<u8>,
    /// Security violations.
    pub violations: u64,
}

/// `show ip mobile host [A]`: one mobile node the home agent serves.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct HostView {
    /// Home address.
    pub home_address: Ipv4Addr,
    /// NAI, for a host configured by NAI.
    #[serde(default)]
    pub nai: Option<String>,
    /// Longest lifetime granted, seconds.
    pub allowed_lifetime: u32,
    /// Whether that lifetime is the home agent's (`Default`) rather than the group's own.
    pub lifetime_is_default: bool,
    /// Has at least one binding (`Roaming status -Registered-`, else `-Unregistered-`).
    pub registered: bool,
    /// Home link.
    pub home_link: HomeLinkView,
    /// Its counters (zero when per-host counters are off).
    pub counters: HostCountersView,
}

/// `show ip mobile host [A]`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct HostList {
    /// The hosts (only those with counters or bindings for `show ip mobile host`, or the one
    /// asked for).
    pub hosts: Vec<HostView>,
}

/// One host group (`ip mobile host LOWER [UPPER] ...` or `ip mobile host nai NAI ...`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct HostGroupView {
    /// First home address (`None` for an NAI host with a pool).
    #[serde(default)]
    pub lower: Option<Ipv4Addr>,
    /// Last home address (= `lower` for one host).
    #[serde(default)]
    pub upper: Option<Ipv4Addr>,
    /// NAI, for an NAI host.
    #[serde(default)]
    pub nai: Option<String>,
    /// Address pool, for an NAI host assigned from a pool.
    #[serde(default)]
    pub pool: Option<String>,
    /// Home link.
    pub home_link: HomeLinkView,
    /// `care-of-access` ACL name.
    #[serde(default)]
    pub care_of_access: Option<String>,
    /// Where its security associations come from.
    #[serde(default)]
    pub sa_source: SaSourceView,
    /// Longest lifetime granted, seconds.
    pub allowed_lifetime: u32,
    /// Whether that lifetime is the home agent's.
    pub lifetime_is_default: bool,
}

/// `show ip mobile host group`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct HostGroupList {
    /// In configuration order.
    pub groups: Vec<HostGroupView>,
}

/// One entry of `show ip mobile host counters`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct HostCountersEntry {
    /// Home address.
    pub home_address: Ipv4Addr,
    /// Its counters.
    pub counters: HostCountersView,
}

/// `show ip mobile host counters [A]`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct HostCountersList {
    /// By home address.
    pub hosts: Vec<HostCountersEntry>,
}

// ---------------------------------------------------------------------------------------
// show ip mobile secure
// ---------------------------------------------------------------------------------------

/// One mobility security association.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SecureView {
    /// The peer kind.
    pub peer: PeerKind,
    /// The peer's address, or the first of a range.
    #[serde(default)]
    pub address: Option<Ipv4Addr>,
    /// Last address of a range sharing this association (`None` for one address).
    #[serde(default)]
    pub upper: Option<Ipv4Addr>,
    /// The peer's NAI.
    #[serde(default)]
    pub nai: Option<String>,
    /// SPI of messages from the peer.
    pub inbound_spi: u32,
    /// SPI of messages to the peer (= `inbound_spi` for `spi N`).
    pub outbound_spi: u32,
    /// Algorithm.
    pub algorithm: AuthAlgorithm,
    /// Mode.
    #[serde(default)]
    pub mode: AuthMode,
    /// Replay protection.
    pub replay: ReplayView,
    /// Where it comes from.
    #[serde(default)]
    pub origin: SaOrigin,
    /// Key length in bytes.
    pub key_len: usize,
    /// The key in lower-case hex; present only when keys were requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The key as configured with `key ascii ...`; present only when keys were requested
    /// and the key was given in ASCII.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ascii: Option<String>,
}

/// `show ip mobile secure KIND [A | nai NAI] [summary]`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SecureList {
    /// The kind asked for.
    pub peer: PeerKind,
    /// Associations listed.
    pub total: u64,
    /// The associations.
    pub associations: Vec<SecureView>,
}

// ---------------------------------------------------------------------------------------
// show ip mobile violation
// ---------------------------------------------------------------------------------------

/// The violation reasons, with the router's numbers (`mip_ha` `ViolationReason`).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum ViolationReasonView {
    /// 1.
    NoMobilitySecurityAssociation,
    /// 2.
    BadAuthenticator,
    /// 3.
    BadIdentifier,
    /// 4.
    BadSpi,
    /// 5.
    MissingSecurityExtension,
    /// 6.
    Other,
}

impl ViolationReasonView {
    /// The router's number.
    pub fn number(self) -> u8 {
        match self {
            ViolationReasonView::NoMobilitySecurityAssociation => 1,
            ViolationReasonView::BadAuthenticator => 2,
            ViolationReasonView::BadIdentifier => 3,
            ViolationReasonView::BadSpi => 4,
            ViolationReasonView::MissingSecurityExtension => 5,
            ViolationReasonView::Other => 6,
        }
    }

    /// The router's text.
    pub fn text(self) -> &'static str {
        match self {
            ViolationReasonView::NoMobilitySecurityAssociation => {
                "No mobility security association"
            }
            ViolationReasonView::BadAuthenticator => "Bad authenticator",
            ViolationReasonView::BadIdentifier => "Bad identifier",
            ViolationReasonView::BadSpi => "Bad SPI",
            ViolationReasonView::MissingSecurityExtension => "Missing security extension",
            ViolationReasonView::Other => "Other",
        }
    }
}

/// One logged violation.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ViolationView {
    /// The mobile node's home address or the foreign agent's address.
    pub address: Ipv4Addr,
    /// The mobile node's NAI, if it sent one.
    #[serde(default)]
    pub nai: Option<String>,
    /// `address` is a foreign agent.
    pub foreign_agent: bool,
    /// When (ms since the Unix epoch).
    pub time_ms: u64,
    /// SPI of the failing extension (0 when missing).
    pub spi: u32,
    /// The request's Identification.
    pub identification: u64,
    /// Its router notation.
    pub identification_text: String,
    /// The reply code sent.
    pub code: u8,
    /// Why.
    pub reason: ViolationReasonView,
}

/// `show ip mobile violation`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct ViolationList {
    /// Violations since start (the log may hold fewer: oldest dropped first).
    pub total: u64,
    /// The log, oldest first.
    pub violations: Vec<ViolationView>,
}

// ---------------------------------------------------------------------------------------
// show ip mobile globals
// ---------------------------------------------------------------------------------------

/// `show ip mobile globals`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct GlobalsView {
    /// `ip mobile home-agent` configured and on.
    pub home_agent_enabled: bool,
    /// Home agent addresses (local ones and configured ones).
    pub home_agent_addresses: Vec<Ipv4Addr>,
    /// Longest registration lifetime granted, seconds.
    pub lifetime_secs: u32,
    /// Default timestamp replay window for mobile nodes, seconds.
    pub replay_secs: u32,
    /// Broadcasts forwarded to mobile nodes that ask.
    pub broadcast: bool,
    /// Reverse tunnels offered (`reverse-tunnel-off` clears it).
    pub reverse_tunnel: bool,
    /// Reverse tunnel mandatory.
    pub reverse_tunnel_mandatory: bool,
    /// ICMP unreachable sent for unreachable mobile nodes (`suppress-unreachable` clears).
    pub icmp_unreachable: bool,
    /// `roam-access` ACL name.
    pub roam_access: Option<String>,
    /// `care-of-access` ACL name.
    pub care_of_access: Option<String>,
    /// Binding limit (`max-bindings`); `None` = no limit.
    pub max_bindings: Option<u32>,
    /// Simultaneous bindings per mobile node (0 = not supported).
    pub simultaneous_bindings: u32,
    /// Encapsulations offered (IP in IP always).
    pub encapsulations: Vec<EncapsulationView>,
    /// Virtual networks.
    pub virtual_networks: Vec<PrefixView>,
    /// Host groups configured (address ranges and NAI hosts).
    pub host_groups: u64,
    /// Bindings now.
    pub bindings: u64,
    /// Tunnels now.
    pub tunnels: u64,
    /// Redundancy group name, if any.
    pub redundancy_group: Option<String>,
    /// Foreign agent service enabled.
    pub foreign_agent_enabled: bool,
    /// Foreign agent care-of interfaces.
    pub care_of_interfaces: Vec<String>,
    /// Interfaces providing foreign agent service.
    pub interfaces_providing_service: u64,
}

// ---------------------------------------------------------------------------------------
// show ip mobile tunnel
// ---------------------------------------------------------------------------------------

/// One mobile tunnel.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TunnelView {
    /// `Tunnel0`.
    pub name: String,
    /// Outer source.
    pub source: Ipv4Addr,
    /// Outer destination.
    pub destination: Ipv4Addr,
    /// Encapsulation.
    pub encapsulation: EncapsulationView,
    /// Reverse-tunnelled datagrams accepted (`reverse-allowed`, else `reverse-off`).
    pub reverse_allowed: bool,
    /// Bindings using it.
    pub users: u64,
    /// Created by the home agent (`HA created`) or the foreign agent (`FA created`).
    #[serde(default)]
    pub created_by_home_agent: bool,
    /// IP MTU of the tunnel, bytes, if known.
    #[serde(default)]
    pub mtu: Option<u32>,
    /// Outbound interface, if known.
    #[serde(default)]
    pub interface: Option<String>,
    /// Packets received through it (decapsulated).
    #[serde(default)]
    pub packets_in: u64,
    /// Bytes received.
    #[serde(default)]
    pub bytes_in: u64,
    /// Packets dropped on input.
    #[serde(default)]
    pub drops_in: u64,
    /// Packets sent through it (encapsulated).
    #[serde(default)]
    pub packets_out: u64,
    /// Bytes sent.
    #[serde(default)]
    pub bytes_out: u64,
}

/// `show ip mobile tunnel`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct TunnelList {
    /// Tunnels.
    pub total: u64,
    /// The tunnels, by name.
    pub tunnels: Vec<TunnelView>,
}

// ---------------------------------------------------------------------------------------
// clear, reload
// ---------------------------------------------------------------------------------------

/// The answer to `clear ...` and `Reload` (optional: `data` may be absent).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct ClearView {
    /// How many items (bindings, associations) were removed, when that is meaningful.
    pub cleared: Option<u64>,
    /// A note for the operator (e.g. "counters restored").
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_absent_unless_requested() {
        let v = SecureView {
            peer: PeerKind::Host,
            address: Some(Ipv4Addr::new(10, 0, 0, 1)),
            upper: None,
            nai: None,
            inbound_spi: 0x300,
            outbound_spi: 0x300,
            algorithm: AuthAlgorithm::Md5,
            mode: AuthMode::PrefixSuffix,
            replay: ReplayView::Timestamp { window_secs: 7 },
            origin: SaOrigin::Configured,
            key_len: 16,
            key: None,
            key_ascii: None,
        };
        let j = serde_json::to_string(&v).unwrap();
        assert!(!j.contains("\"key\""), "{j}");
        assert!(j.contains("\"key_len\":16"));
        assert!(j.contains(r#""replay":{"method":"timestamp","window_secs":7}"#));
        assert_eq!(serde_json::from_str::<SecureView>(&j).unwrap(), v);
    }

    #[test]
    fn defaults_let_old_consoles_read_sparse_answers() {
        let t: TrafficView = serde_json::from_str(r#"{"accepted":3}"#).unwrap();
        assert_eq!(t.accepted, 3);
        let g: GlobalsView = serde_json::from_str("{}").unwrap();
        assert!(!g.home_agent_enabled);
        let c: ClearView = serde_json::from_str("{}").unwrap();
        assert_eq!(c, ClearView::default());
    }

    #[test]
    fn enum_spellings() {
        assert_eq!(
            serde_json::to_string(&RoutingOption::DirectToMobileNode).unwrap(),
            "\"direct-to-mobile-node\""
        );
        assert_eq!(
            serde_json::to_string(&EncapsulationView::IpIp).unwrap(),
            "\"ip-ip\""
        );
        assert_eq!(
            serde_json::to_string(&HomeLinkView::VirtualNetwork {
                network: Ipv4Addr::new(20, 0, 0, 0),
                prefix_len: 8
            })
            .unwrap(),
            r#"{"kind":"virtual_network","network":"20.0.0.0","prefix_len":8}"#
        );
        for p in [4, 47, 55] {
            assert_eq!(EncapsulationView::from_protocol(p).unwrap().protocol(), p);
        }
        assert_eq!(ViolationReasonView::BadSpi.number(), 4);
    }
}
