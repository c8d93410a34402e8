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
//! | `ShowVisitor { All / Address / Nai }` | [`VisitorList`] |
//! | `ShowVisitor { Summary }` | [`VisitorSummary`] |
//! | `ShowVisitor { Pending }` | [`PendingList`] |
//! | `ShowVisitor { PendingSummary }` | [`PendingSummary`] |
//! | `ShowNode` | [`NodeView`] |
//! | `ShowDataplane` | [`DataplaneView`] |
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
//!
//! Foreign agent and mobile node (`mip_fa`, `mip_mn` snapshots): the conversions are in
//! [`crate::convert`] behind the cargo features `fa` and `mn` (for `mipd`), and written out as
//! the reference in `crates/mipctl/tests/show_fa_mn_core.rs`. Notes:
//!
//! * [`VisitorView`] follows `mip_fa::VisitorSnapshot` (seed 000's field table); the tunnel
//!   name is the daemon's (the core does not name tunnels). `reverse_allowed` is the T flag
//!   granted to that visitor (the foreign agent's tunnel is per visitor).
//! * [`TrafficView::foreign_agent`] ([`FaTrafficView`], the field names of
//!   `mip_fa::Counters`) is `None` without a foreign agent; the foreign agent's solicitation
//!   and advertisement counts are also added into the "Advertisements:" counters
//!   ([`TrafficView::add_foreign_agent`]).
//! * [`ViolationView::home_agent`] marks a foreign agent's FA-HA violations
//!   (`mip_fa::Violation::home_agent`).
//! * [`NodeView`] follows `mip_mn::Snapshot`: `foreign_agent` is
//!   [`NodeView::agent_address`], `flags` is `flags_text`, `lifetime_remaining_secs` is
//!   `remaining_secs`, `clock_offset_secs` becomes [`NodeView::clock_offset_ms`]; the enums
//!   and [`NodeCountersView`] have the core's spellings and field names. Unknown states and
//!   attachments (a newer daemon) read as `Unknown`.
//!
//! The data plane ([`DataplaneView`], every role): [`EngineCountersView`] has the field names
//! of `mip_io::net::engine::EngineCounters`; `mipd` copies them one by one (`mip-control`
//! does not depend on `mip-io`).

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
    /// The foreign agent's counters ("Foreign Agent Registrations:"), when the daemon runs a
    /// foreign agent; `None` (absent) otherwise. The daemon adds the foreign agent's
    /// solicitation and advertisement counts into the fields above as well (see
    /// [`TrafficView::add_foreign_agent`]): the "Advertisements:" lines are the daemon's.
    pub foreign_agent: Option<FaTrafficView>,
}

impl TrafficView {
    /// Sets [`TrafficView::foreign_agent`] and adds its solicitation and advertisement
    /// counts to the "Advertisements:" counters of the view.
    pub fn add_foreign_agent(&mut self, fa: FaTrafficView) {
        self.solicitations_received += fa.solicitations_received;
        self.advertisements_sent += fa.advertisements_sent;
        self.advertisements_response_to_solicitation += fa.advertisements_response_to_solicitation;
        self.foreign_agent = Some(fa);
    }
}

/// The foreign agent part of `show ip mobile traffic` ("Foreign Agent Registrations:"): the
/// field names of `mip_fa::Counters`, so `serde_json::from_value(serde_json::to_value(c))`
/// converts it (and so does `convert::fa_traffic_view` with the `fa` feature).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct FaTrafficView {
    /// Agent Solicitations received.
    pub solicitations_received: u64,
    /// Solicitations not answered.
    pub solicitations_ignored: u64,
    /// Agent Advertisements sent (periodic and solicited).
    pub advertisements_sent: u64,
    /// Of which in response to a solicitation.
    pub advertisements_response_to_solicitation: u64,
    /// "Request in N".
    pub requests_in: u64,
    /// Of which deregistrations (lifetime 0).
    pub deregister_requests_in: u64,
    /// "Forwarded N": requests relayed to a home agent.
    pub requests_forwarded: u64,
    /// "Denied N": requests denied by this agent.
    pub requests_denied: u64,
    /// "Ignored N": requests dropped.
    pub requests_ignored: u64,
    /// "Unspecified N" (64).
    pub unspecified: u64,
    /// "HA unreachable N" (80, 81, 82, 88).
    pub ha_unreachable: u64,
    /// "Administrative prohibited N" (65).
    pub administratively_prohibited: u64,
    /// "No resource N" (66).
    pub no_resource: u64,
    /// "Bad lifetime N" (69).
    pub bad_lifetime: u64,
    /// "Bad request form N" (70).
    pub bad_request_form: u64,
    /// "Unsupported encapsulation N" (72).
    pub unsupported_encapsulation: u64,
    /// "Unsupported reverse tunnel N" (74).
    pub unsupported_reverse_tunnel: u64,
    /// "Reverse tunnel mandatory N" (75).
    pub reverse_tunnel_mandatory: u64,
    /// Invalid care-of address (77).
    pub invalid_care_of_address: u64,
    /// Registration timeout (78).
    pub registration_timeout: u64,
    /// Delivery style not supported (79).
    pub unsupported_delivery_style: u64,
    /// Missing home agent (90, 98).
    pub missing_home_agent: u64,
    /// Missing NAI (97).
    pub missing_nai: u64,
    /// Missing home address (99).
    pub missing_home_address: u64,
    /// CVSE not understood (100, 101).
    pub cvse_not_understood: u64,
    /// "Unknown challenge N" (104).
    pub unknown_challenge: u64,
    /// "Missing challenge N" (105).
    pub missing_challenge: u64,
    /// "Stale challenge N" (106).
    pub stale_challenge: u64,
    /// "Authentication failed MN N" (67).
    pub auth_failed_mn: u64,
    /// "..., HA N" (68).
    pub auth_failed_ha: u64,
    /// "Reply in N".
    pub replies_in: u64,
    /// "Forwarded N": replies relayed to mobile nodes.
    pub replies_forwarded: u64,
    /// "Bad N": poorly formed replies.
    pub replies_bad: u64,
    /// "Ignored N": replies dropped.
    pub replies_ignored: u64,
    /// Replies dropped because no pending request matched (also in `replies_ignored`).
    pub replies_no_pending: u64,
    /// Requests ignored: service off.
    pub ignored_service_disabled: u64,
    /// Requests ignored: interface without foreign service.
    pub ignored_interface: u64,
    /// Requests ignored: not parseable.
    pub ignored_malformed: u64,
    /// Requests ignored: unknown non-skippable extension.
    pub ignored_unknown_extension: u64,
    /// Other UDP messages dropped.
    pub other_messages_ignored: u64,
    /// Visitors accepted (new entries).
    pub visitors_added: u64,
    /// Visitors removed by an accepted deregistration.
    pub visitors_deregistered: u64,
    /// Visitors removed by lifetime expiry.
    pub visitors_expired: u64,
    /// Visitors removed by `clear ip mobile visitor`.
    pub visitors_cleared: u64,
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

/// The violation reasons, with the router's numbers
/// ([`mip_security::violation::ViolationReason`]).
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

impl From<mip_security::violation::ViolationReason> for ViolationReasonView {
    fn from(r: mip_security::violation::ViolationReason) -> Self {
        use mip_security::violation::ViolationReason as R;
        match r {
            R::NoMobilitySecurityAssociation => ViolationReasonView::NoMobilitySecurityAssociation,
            R::BadAuthenticator => ViolationReasonView::BadAuthenticator,
            R::BadIdentifier => ViolationReasonView::BadIdentifier,
            R::BadSpi => ViolationReasonView::BadSpi,
            R::MissingSecurityExtension => ViolationReasonView::MissingSecurityExtension,
            R::Other => ViolationReasonView::Other,
        }
    }
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
    /// The mobile node's home address, or the foreign (home) agent's address.
    pub address: Ipv4Addr,
    /// The mobile node's NAI, if it sent one.
    #[serde(default)]
    pub nai: Option<String>,
    /// `address` is a foreign agent (a home agent's log: FA-HA failure).
    pub foreign_agent: bool,
    /// `address` is a home agent (a foreign agent's log: FA-HA failure of a reply;
    /// `mip_fa::Violation::home_agent`). Otherwise `address` is a mobile node.
    #[serde(default)]
    pub home_agent: bool,
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
// show ip mobile visitor (foreign agent)
// ---------------------------------------------------------------------------------------

/// One visitor of the foreign agent (seed 000, "show ip mobile visitor Field Descriptions";
/// `mip_fa::VisitorSnapshot`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct VisitorView {
    /// "IP address": the visitor's home address (shown as `Home addr A` under the NAI when
    /// the mobile node registered with one).
    pub home_address: Ipv4Addr,
    /// NAI, when the mobile node registered with one (the block's title then).
    #[serde(default)]
    pub nai: Option<String>,
    /// "Session identifier", when the registration carried one.
    #[serde(default)]
    pub session_id: Option<String>,
    /// "Interface": where the visitor is (the request arrived on).
    pub interface: String,
    /// "MAC addr" in the router's notation (`0060.837b.95ec`), when known.
    #[serde(default)]
    pub mac_address: Option<String>,
    /// "IP src": source address of the visitor's registration request.
    pub source_address: Ipv4Addr,
    /// "dest": destination address of that request.
    pub destination_address: Ipv4Addr,
    /// "UDP src port".
    pub source_port: u16,
    /// "HA addr".
    pub home_agent: Ipv4Addr,
    /// The care-of address registered.
    pub care_of_address: Ipv4Addr,
    /// "Identification" of the last accepted request.
    pub identification: u64,
    /// Its router notation: `B7510E60.64436B38`.
    pub identification_text: String,
    /// "Lifetime": granted, seconds; [`INFINITE_LIFETIME`] (65535) means infinite.
    pub lifetime_granted: u32,
    /// "Remaining": seconds left (rounded down); `None` for an infinite lifetime.
    pub remaining_secs: Option<u64>,
    /// "TunnelN src A, dest B": the tunnel from the care-of address to the home agent.
    pub tunnel: TunnelRefView,
    /// `reverse-allowed` (reverse tunnel granted), else `reverse-off`.
    pub reverse_allowed: bool,
    /// The request's flags byte.
    pub flags: u8,
    /// The router's flag letters, `SbdmGvT` style (upper case = set; `mip_wire` notation).
    #[serde(default)]
    pub flags_text: String,
    /// "Routing Options": services granted, router order S B D M G T.
    pub routing_options: Vec<RoutingOption>,
    /// Encapsulation of the tunnel.
    pub encapsulation: EncapsulationView,
}

/// `show ip mobile visitor [A | nai NAI [session-id ID]]`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct VisitorList {
    /// "Total N": visitors listed (the filtered count when a filter was given).
    pub total: u64,
    /// The visitors (home address order).
    pub visitors: Vec<VisitorView>,
}

/// One pending registration request (`show ip mobile visitor pending`;
/// `mip_fa::PendingSnapshot`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PendingView {
    /// Home address in the request (0.0.0.0 for an NAI asking for one).
    pub home_address: Ipv4Addr,
    /// NAI, when the request had one.
    #[serde(default)]
    pub nai: Option<String>,
    /// Session identifier, when the request had one.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Interface the request arrived on.
    pub interface: String,
    /// MAC address of the mobile node, router notation.
    #[serde(default)]
    pub mac_address: Option<String>,
    /// Source address of the request.
    pub source_address: Ipv4Addr,
    /// Destination address of the request.
    pub destination_address: Ipv4Addr,
    /// Its UDP source port.
    pub source_port: u16,
    /// The home agent the request was relayed to.
    pub home_agent: Ipv4Addr,
    /// Care-of address in the request.
    pub care_of_address: Ipv4Addr,
    /// Identification.
    pub identification: u64,
    /// Its router notation.
    pub identification_text: String,
    /// Lifetime asked, seconds (65535: infinite).
    pub lifetime_requested: u32,
    /// Seconds before the entry times out (`reg-wait`), rounded down.
    pub remaining_secs: u64,
    /// The request's flags byte.
    pub flags: u8,
    /// The router's flag letters.
    #[serde(default)]
    pub flags_text: String,
}

/// `show ip mobile visitor pending [A]`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct PendingList {
    /// "Total N": requests listed.
    pub total: u64,
    /// The requests (home address order, then identification).
    pub pending: Vec<PendingView>,
}

/// Visitors (or pending requests) on one interface, for the summaries.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct InterfaceCountView {
    /// The interface.
    pub interface: String,
    /// Entries on it.
    pub count: u64,
    /// Its visitor limit (`ip mobile foreign-service limit N`), if any.
    #[serde(default)]
    pub limit: Option<u16>,
}

/// `show ip mobile visitor summary`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct VisitorSummary {
    /// Every visitor.
    pub total: u64,
    /// Visitors registered with an NAI.
    pub with_nai: u64,
    /// Visitors with a reverse tunnel.
    pub reverse_tunnels: u64,
    /// Distinct tunnels (home agents) in use.
    pub tunnels: u64,
    /// Requests pending now.
    pub pending: u64,
    /// Visitors per interface (interface order).
    pub interfaces: Vec<InterfaceCountView>,
}

/// `show ip mobile visitor pending summary`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct PendingSummary {
    /// Every pending request.
    pub total: u64,
    /// Distinct mobile nodes (NAI, else home address) with a pending request.
    pub mobile_nodes: u64,
    /// Requests with an NAI.
    pub with_nai: u64,
    /// Deregistrations (lifetime 0) among them.
    pub deregistrations: u64,
    /// Requests per interface.
    pub interfaces: Vec<InterfaceCountView>,
}

// ---------------------------------------------------------------------------------------
// show ip mobile node (mobile node)
// ---------------------------------------------------------------------------------------

/// The mobile node's state (`mip_mn::NodeState`, same spellings). A state this console does
/// not know reads as [`NodeStateView::Unknown`].
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum NodeStateView {
    /// No interface is up.
    Idle,
    /// Looking for an agent or a co-located address.
    Discovering,
    /// A registration is waiting for its reply.
    Registering,
    /// Registered away from home.
    Registered,
    /// Registered, renewal waiting for its reply.
    Renewing,
    /// The last request was denied; waiting to try again.
    Denied,
    /// The last request got no reply; waiting to try again.
    NoReply,
    /// At home, deregistration waiting for its reply.
    Deregistering,
    /// At home.
    AtHome,
    /// Deregistered by the operator.
    AdministrativelyDown,
    /// A state of a newer daemon.
    #[serde(other)]
    Unknown,
}

impl NodeStateView {
    /// The text shown (`at home`, `registered`, ...; `mip_mn::NodeState::name`).
    pub fn text(self) -> &'static str {
        match self {
            NodeStateView::Idle => "idle",
            NodeStateView::Discovering => "discovering",
            NodeStateView::Registering => "registering",
            NodeStateView::Registered => "registered",
            NodeStateView::Renewing => "renewing",
            NodeStateView::Denied => "denied",
            NodeStateView::NoReply => "no reply",
            NodeStateView::Deregistering => "deregistering",
            NodeStateView::AtHome => "at home",
            NodeStateView::AdministrativelyDown => "administratively down",
            NodeStateView::Unknown => "unknown",
        }
    }
}

/// How the mobile node is attached (`mip_mn::AttachmentKind`, same spellings).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum AttachmentView {
    /// On the home network.
    Home,
    /// Through a foreign agent's care-of address.
    ForeignAgent,
    /// With a co-located care-of address.
    Colocated,
    /// A kind of a newer daemon.
    #[serde(other)]
    Unknown,
}

impl AttachmentView {
    /// The text shown.
    pub fn text(self) -> &'static str {
        match self {
            AttachmentView::Home => "home",
            AttachmentView::ForeignAgent => "foreign agent",
            AttachmentView::Colocated => "co-located care-of address",
            AttachmentView::Unknown => "unknown",
        }
    }
}

/// Counters of the mobile node: the field names of `mip_mn::Counters`, so
/// `serde_json::from_value(serde_json::to_value(c))` converts them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct NodeCountersView {
    /// Registration Requests sent (with retransmissions).
    pub requests_sent: u64,
    /// Of which retransmissions.
    pub retransmissions: u64,
    /// Of which deregistrations.
    pub deregistrations_sent: u64,
    /// Replies received.
    pub replies_received: u64,
    /// Registrations and renewals accepted.
    pub registrations_accepted: u64,
    /// Deregistrations accepted.
    pub deregistrations_accepted: u64,
    /// Denials by a foreign agent (64-127).
    pub denied_by_foreign_agent: u64,
    /// Denials by the home agent (128 and up).
    pub denied_by_home_agent: u64,
    /// Identification resynchronisations (133).
    pub identification_resyncs: u64,
    /// Replies dropped: malformed.
    pub replies_malformed: u64,
    /// Replies dropped: no request waiting.
    pub replies_unexpected: u64,
    /// Replies dropped: identification mismatch.
    pub replies_identification_mismatch: u64,
    /// Replies dropped: another mobile node's.
    pub replies_wrong_mobile_node: u64,
    /// Replies dropped: MN-HA authentication failed.
    pub replies_failed_authentication: u64,
    /// Replies dropped: unknown non-skippable extension.
    pub replies_unknown_extension: u64,
    /// Attempts given up after the last retransmission.
    pub no_reply: u64,
    /// Registrations whose lifetime ran out.
    pub bindings_expired: u64,
    /// Agent advertisements received.
    pub advertisements_received: u64,
    /// Of which ignored.
    pub advertisements_ignored: u64,
    /// Agent reboots seen.
    pub agent_reboots: u64,
    /// Agents lost by advertisement lifetime expiry.
    pub agents_lost: u64,
    /// Agent solicitations sent.
    pub solicitations_sent: u64,
    /// Moves.
    pub moves: u64,
}

/// An agent the mobile node hears (`mip_mn::AgentSnapshot`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct HeardAgentView {
    /// Interface it is heard on.
    pub interface: String,
    /// Its address (source of the advertisement).
    pub address: Ipv4Addr,
    /// Advertisement flags as letters, `R-HF-G-T--` (R B H F M G r T U X, `-` when clear).
    pub flags_text: String,
    /// Sequence number of the last advertisement.
    pub sequence: u16,
    /// Advertisement lifetime, seconds.
    pub advertisement_lifetime: u32,
    /// Seconds until it runs out.
    pub expires_in_secs: u64,
    /// Seconds since its last advertisement.
    pub last_heard_secs_ago: u64,
    /// Registration lifetime it accepts (65535: infinite).
    pub registration_lifetime: u32,
    /// Care-of addresses offered.
    #[serde(default)]
    pub care_of_addresses: Vec<Ipv4Addr>,
    /// Router addresses with prefix lengths (`a.b.c.d/len` or `a.b.c.d`).
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// The agent in use.
    #[serde(default)]
    pub current: bool,
}

/// `show ip mobile node`: the mobile node's state (`mip_mn::Snapshot`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// State.
    pub state: NodeStateView,
    /// Home address (the assigned one for an NAI node, once known; else 0.0.0.0).
    pub home_address: Ipv4Addr,
    /// Home agent.
    pub home_agent: Ipv4Addr,
    /// NAI.
    #[serde(default)]
    pub nai: Option<String>,
    /// Interface in use.
    #[serde(default)]
    pub interface: Option<String>,
    /// How the node is attached (`None`: not attached).
    #[serde(default)]
    pub attachment: Option<AttachmentView>,
    /// The foreign agent in use (attachment `foreign-agent`).
    #[serde(default)]
    pub agent_address: Option<Ipv4Addr>,
    /// Care-of address in use or being registered.
    #[serde(default)]
    pub care_of_address: Option<Ipv4Addr>,
    /// Flags of the current registration as letters (`S-D---T-` style).
    #[serde(default)]
    pub flags_text: Option<String>,
    /// Lifetime requested in the current or last request, seconds.
    #[serde(default)]
    pub lifetime_requested: Option<u32>,
    /// Lifetime granted, seconds (65535: infinite).
    #[serde(default)]
    pub lifetime_granted: Option<u32>,
    /// Seconds left of the registration (`None`: none, or infinite).
    #[serde(default)]
    pub remaining_secs: Option<u64>,
    /// Seconds until the renewal is sent.
    #[serde(default)]
    pub renewal_in_secs: Option<u64>,
    /// Code of the last valid reply.
    #[serde(default)]
    pub last_reply_code: Option<u8>,
    /// Its name (`accepted`, ...).
    #[serde(default)]
    pub last_reply_name: Option<String>,
    /// Retransmissions of the request in flight.
    #[serde(default)]
    pub retransmissions: u32,
    /// Clock offset learnt from code 133, milliseconds (agent minus node).
    #[serde(default)]
    pub clock_offset_ms: i64,
    /// Counters.
    #[serde(default)]
    pub counters: NodeCountersView,
    /// Agents heard.
    #[serde(default)]
    pub agents: Vec<HeardAgentView>,
}

// ---------------------------------------------------------------------------------------
// show ip mobile dataplane (every role)
// ---------------------------------------------------------------------------------------

/// The data plane a daemon runs (`mipd --dataplane`). A kind this console does not know reads
/// as [`DataplaneKindView::Unknown`].
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum DataplaneKindView {
    /// The user-space data plane: TUN device, raw sockets, rtnetlink.
    Tun,
    /// Requests are recorded and counted; nothing is installed.
    Log,
    /// A kind of a newer daemon.
    #[serde(other)]
    Unknown,
}

impl DataplaneKindView {
    /// The text shown (the `--dataplane` word).
    pub fn text(self) -> &'static str {
        match self {
            DataplaneKindView::Tun => "tun",
            DataplaneKindView::Log => "log",
            DataplaneKindView::Unknown => "unknown",
        }
    }
}

/// How the tunnel engine sends outer packets (`mipd --tunnel-tx`,
/// `mip_io::net::engine::TxMode`). A mode this console does not know reads as
/// [`TunnelTxView::Unknown`].
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum TunnelTxView {
    /// An `IPPROTO_RAW` socket (the kernel routes each packet).
    Raw,
    /// An `AF_PACKET` socket to the resolved next hop.
    Packet,
    /// A mode of a newer daemon.
    #[serde(other)]
    Unknown,
}

impl TunnelTxView {
    /// The text shown (the `--tunnel-tx` word).
    pub fn text(self) -> &'static str {
        match self {
            TunnelTxView::Raw => "raw",
            TunnelTxView::Packet => "packet",
            TunnelTxView::Unknown => "unknown",
        }
    }
}

/// The tunnel engine's engine-wide counters: the field names of
/// `mip_io::net::engine::EngineCounters` (every one of them, whatever the transmit mode).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct EngineCountersView {
    /// Packets read from the TUN device (to be encapsulated).
    pub tun_packets: u64,
    /// Packets received on the raw sockets (to be decapsulated).
    pub raw_packets: u64,
    /// Of those, TCP super-segments that GRO had coalesced on the way.
    pub rx_coalesced: u64,
    /// Dropped: tunnel packet from a source the engine does not accept.
    pub unknown_source: u64,
    /// Dropped: packet from the TUN device with neither a destination nor a source route.
    pub no_route: u64,
    /// Dropped: not IPv4 (from the TUN device).
    pub not_ipv4: u64,
    /// Dropped: malformed or truncated packet.
    pub malformed: u64,
    /// ICMP Fragmentation Needed sent.
    pub icmp_sent: u64,
    /// ICMP errors not sent (rate limit, or about a packet that must not get one).
    pub icmp_suppressed: u64,
    /// Failed reads on the TUN device.
    pub tun_read_errors: u64,
    /// Failed receives on the raw sockets.
    pub raw_recv_errors: u64,
    /// Wake-ups of the engine threads.
    pub wakeups: u64,
    /// Home-link broadcasts received on the links listened on.
    pub broadcast_rx: u64,
    /// Home-link broadcasts forwarded into tunnels.
    pub broadcast_forwarded: u64,
    /// Dropped: a broadcast that came out of a tunnel.
    pub broadcast_loop: u64,
    /// Dropped: over the broadcast rate limit.
    pub broadcast_rate_limited: u64,
    /// Dropped: broadcast with TTL <= 1.
    pub broadcast_ttl: u64,
    /// Packet transmit: outer packets sent on the packet socket.
    pub tx_packet_socket: u64,
    /// Packet transmit: outer packets sent on the raw socket for want of a usable next hop
    /// (or after the packet socket refused them).
    pub tx_raw_fallback: u64,
    /// Packet transmit: outer packets sent on the raw socket to keep the neighbour entry
    /// confirmed (the first of each tunnel's refresh period).
    pub tx_raw_refresh: u64,
    /// Packet transmit: next-hop resolutions that gave a usable next hop.
    pub nexthop_resolved: u64,
    /// Packet transmit: next-hop resolutions that did not.
    pub nexthop_unresolved: u64,
    /// Packet transmit: packets the packet socket refused.
    pub packet_send_errors: u64,
    /// Packet transmit: resolutions put off for want of the second's budget.
    pub nexthop_deferred: u64,
}

/// The tunnel engine of a `tun` data plane.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct EngineView {
    /// The TUN device (`mipt0`, `mipfa0`, `mipmn0`).
    pub tun: String,
    /// TUN queues (one engine thread each).
    pub queues: u32,
    /// Offloads on the TUN device (`IFF_VNET_HDR`: TSO super-segments in, GRO coalescing
    /// out); `None`: not known.
    #[serde(default)]
    pub offload: Option<bool>,
    /// Transmit mode.
    pub tx_mode: TunnelTxView,
    /// Tunnels in the engine.
    #[serde(default)]
    pub tunnels: u64,
    /// Packets encapsulated and sent, all tunnels together (per-tunnel counters).
    #[serde(default)]
    pub encapsulated: u64,
    /// Packets decapsulated and delivered, all tunnels together.
    #[serde(default)]
    pub decapsulated: u64,
    /// Engine-wide counters.
    #[serde(default)]
    pub counters: EngineCountersView,
    /// Packets read from each TUN queue (their sum is `counters.tun_packets`).
    #[serde(default)]
    pub queue_packets: Vec<u64>,
}

/// `show ip mobile dataplane` (product-defined, every role): the data plane in use, why, and
/// its tunnel engine when there is one.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DataplaneView {
    /// The data plane in use.
    pub kind: DataplaneKindView,
    /// Why it was chosen (`--dataplane`, `default: root with /dev/net/tun`, or why `tun`
    /// could not start), when known.
    #[serde(default)]
    pub reason: Option<String>,
    /// Data-plane requests seen since start (with `log`: recorded, nothing installed).
    #[serde(default)]
    pub requests: Option<u64>,
    /// The tunnel engine (`tun` with an engine only).
    #[serde(default)]
    pub engine: Option<EngineView>,
    /// Why there is no engine with `tun` (a mobile node without a co-located care-of
    /// address, an engine that did not answer).
    #[serde(default)]
    pub note: Option<String>,
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
        // A console newer than the daemon: no foreign agent section, no home_agent flag.
        assert_eq!(t.foreign_agent, None);
        let f: FaTrafficView = serde_json::from_str(r#"{"requests_in":2}"#).unwrap();
        assert_eq!(f.requests_in, 2);
        let v: ViolationView = serde_json::from_value(serde_json::json!({
            "address": "10.0.0.1", "foreign_agent": false, "time_ms": 0, "spi": 0,
            "identification": 0, "identification_text": "00000000.00000000", "code": 131,
            "reason": "bad-authenticator"
        }))
        .unwrap();
        assert!(!v.home_agent);
        let n: NodeCountersView = serde_json::from_str("{}").unwrap();
        assert_eq!(n, NodeCountersView::default());
    }

    #[test]
    fn add_foreign_agent_merges_the_advertisement_counts() {
        let mut t = TrafficView {
            solicitations_received: 1,
            advertisements_sent: 10,
            ..TrafficView::default()
        };
        t.add_foreign_agent(FaTrafficView {
            solicitations_received: 2,
            advertisements_sent: 5,
            advertisements_response_to_solicitation: 2,
            requests_in: 7,
            ..FaTrafficView::default()
        });
        assert_eq!(
            (
                t.solicitations_received,
                t.advertisements_sent,
                t.advertisements_response_to_solicitation
            ),
            (3, 15, 2)
        );
        assert_eq!(t.foreign_agent.as_ref().unwrap().requests_in, 7);
    }

    #[test]
    fn dataplane_view_round_trips_and_reads_sparse_answers() {
        let v = DataplaneView {
            kind: DataplaneKindView::Tun,
            reason: Some("--dataplane".into()),
            requests: Some(7),
            engine: Some(EngineView {
                tun: "mipt0".into(),
                queues: 2,
                offload: Some(true),
                tx_mode: TunnelTxView::Packet,
                tunnels: 1,
                encapsulated: 90,
                decapsulated: 40,
                counters: EngineCountersView {
                    tun_packets: 100,
                    raw_packets: 41,
                    tx_packet_socket: 88,
                    nexthop_deferred: 1,
                    ..EngineCountersView::default()
                },
                queue_packets: vec![60, 40],
            }),
            note: None,
        };
        let j = serde_json::to_string(&v).unwrap();
        assert!(j.contains(r#""kind":"tun""#), "{j}");
        assert!(j.contains(r#""tx_mode":"packet""#), "{j}");
        assert!(j.contains(r#""tx_packet_socket":88"#), "{j}");
        // Every counter is in the JSON, also the packet-transmit ones at 0.
        for f in [
            "tx_raw_refresh",
            "nexthop_unresolved",
            "packet_send_errors",
            "wakeups",
        ] {
            assert!(j.contains(&format!(r#""{f}":0"#)), "{f}: {j}");
        }
        assert_eq!(serde_json::from_str::<DataplaneView>(&j).unwrap(), v);
        // The log data plane: only the kind is needed; a newer daemon's words read as unknown.
        let l: DataplaneView = serde_json::from_str(r#"{"kind":"log"}"#).unwrap();
        assert_eq!(
            (l.kind, l.engine, l.requests),
            (DataplaneKindView::Log, None, None)
        );
        let u: DataplaneView = serde_json::from_value(serde_json::json!({
            "kind": "xdp",
            "engine": {"tun": "mipt0", "queues": 1, "tx_mode": "af-xdp"}
        }))
        .unwrap();
        assert_eq!(u.kind, DataplaneKindView::Unknown);
        let e = u.engine.unwrap();
        assert_eq!(e.tx_mode, TunnelTxView::Unknown);
        assert_eq!(e.counters, EngineCountersView::default());
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
