//! What `show ip mobile node` shows: the state, the point of attachment, the registration,
//! the agents heard, the counters. Everything serialises to JSON.

use core::fmt;
use std::net::Ipv4Addr;

/// The node's state, as shown to the operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeState {
    /// No interface is up.
    Idle,
    /// Looking for an agent or a co-located address (soliciting).
    Discovering,
    /// A registration is waiting for its reply.
    Registering,
    /// Registered away from home.
    Registered,
    /// Registered, renewal waiting for its reply.
    Renewing,
    /// The last request was denied; waiting to try again.
    Denied,
    /// The last request got no reply after every retransmission; waiting to try again.
    NoReply,
    /// On the home network, deregistration waiting for its reply.
    Deregistering,
    /// On the home network.
    AtHome,
    /// Deregistered by the operator; no registration until `force_register`.
    AdministrativelyDown,
}

impl NodeState {
    /// The name shown (`at home`, `registered`, ...).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            NodeState::Idle => "idle",
            NodeState::Discovering => "discovering",
            NodeState::Registering => "registering",
            NodeState::Registered => "registered",
            NodeState::Renewing => "renewing",
            NodeState::Denied => "denied",
            NodeState::NoReply => "no reply",
            NodeState::Deregistering => "deregistering",
            NodeState::AtHome => "at home",
            NodeState::AdministrativelyDown => "administratively down",
        }
    }
}

impl fmt::Display for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the node is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttachmentKind {
    /// On the home network.
    Home,
    /// Through a foreign agent (its care-of address).
    ForeignAgent,
    /// With a co-located care-of address.
    Colocated,
}

/// Counters of the mobile node. Every reply handed to the core is counted once under
/// `replies_received`, then either as accepted, denied or under one discard reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// Registration Requests sent (first transmissions and retransmissions).
    pub requests_sent: u64,
    /// Of which retransmissions.
    pub retransmissions: u64,
    /// Of which deregistrations (lifetime 0).
    pub deregistrations_sent: u64,
    /// Replies handed to the core.
    pub replies_received: u64,
    /// Registrations and renewals accepted (codes 0 and 1).
    pub registrations_accepted: u64,
    /// Deregistrations accepted.
    pub deregistrations_accepted: u64,
    /// Denials by a foreign agent (codes 64–127).
    pub denied_by_foreign_agent: u64,
    /// Denials by the home agent (codes 128 and up).
    pub denied_by_home_agent: u64,
    /// Code 133 replies used to resynchronise the identification.
    pub identification_resyncs: u64,
    /// Replies dropped: not a reply, cut short, bad extensions.
    pub replies_malformed: u64,
    /// Replies dropped: no request waiting.
    pub replies_unexpected: u64,
    /// Replies dropped: identification matches no outstanding request.
    pub replies_identification_mismatch: u64,
    /// Replies dropped: another mobile node's home address or NAI.
    pub replies_wrong_mobile_node: u64,
    /// Replies dropped: MN-HA authentication missing or wrong (a security violation).
    pub replies_failed_authentication: u64,
    /// Replies dropped: unknown non-skippable extension.
    pub replies_unknown_extension: u64,
    /// Attempts given up after the last retransmission.
    pub no_reply: u64,
    /// Registrations whose lifetime ran out.
    pub bindings_expired: u64,
    /// Agent advertisements handed to the core.
    pub advertisements_received: u64,
    /// Of which ignored: malformed, bad checksum, no mobility extension, unknown code, unknown
    /// or down interface.
    pub advertisements_ignored: u64,
    /// Agent reboots seen (sequence number, RFC 5944 §2.3.2).
    pub agent_reboots: u64,
    /// Agents lost by advertisement lifetime expiry.
    pub agents_lost: u64,
    /// Agent solicitations sent.
    pub solicitations_sent: u64,
    /// Moves: a new point of attachment away from home (or back home).
    pub moves: u64,
}

/// One agent as listed by `show ip mobile node`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AgentSnapshot {
    /// Interface.
    pub interface: String,
    /// Its address.
    pub address: Ipv4Addr,
    /// Flags as letters (`R-HF-G-T--`: R B H F M G r T U X).
    pub flags: String,
    /// Sequence number of the last advertisement.
    pub sequence: u16,
    /// Advertisement lifetime, seconds.
    pub advertisement_lifetime: u16,
    /// Seconds until it runs out.
    pub expires_in_secs: u64,
    /// Seconds since its last advertisement.
    pub last_heard_secs_ago: u64,
    /// Registration lifetime it accepts (65535: infinity).
    pub registration_lifetime: u16,
    /// Care-of addresses offered.
    pub care_of_addresses: Vec<Ipv4Addr>,
    /// Router addresses with prefix lengths, `a.b.c.d/len` or just `a.b.c.d`.
    pub prefixes: Vec<String>,
    /// The current agent.
    pub current: bool,
}

/// The state of the mobile node (`show ip mobile node`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Snapshot {
    /// State.
    pub state: NodeState,
    /// Home address (the assigned one for an NAI node, once known).
    pub home_address: Ipv4Addr,
    /// Home agent.
    pub home_agent: Ipv4Addr,
    /// NAI.
    pub nai: Option<String>,
    /// Interface in use.
    pub interface: Option<String>,
    /// How the node is attached.
    pub attachment: Option<AttachmentKind>,
    /// The foreign agent in use.
    pub foreign_agent: Option<Ipv4Addr>,
    /// Care-of address in use (or being registered).
    pub care_of_address: Option<Ipv4Addr>,
    /// Flags of the current registration, `S-D---T-` style.
    pub flags: Option<String>,
    /// Lifetime requested in the current or last request.
    pub lifetime_requested: Option<u16>,
    /// Lifetime granted (65535: infinity).
    pub lifetime_granted: Option<u16>,
    /// Seconds left of the registration (`None`: none, or infinite).
    pub lifetime_remaining_secs: Option<u64>,
    /// Seconds until renewal.
    pub renewal_in_secs: Option<u64>,
    /// Code of the last reply accepted as valid.
    pub last_reply_code: Option<u8>,
    /// Its name.
    pub last_reply_name: Option<String>,
    /// Retransmissions of the request in flight.
    pub retransmissions: u32,
    /// Clock offset learnt from code 133, seconds.
    pub clock_offset_secs: f64,
    /// Counters.
    pub counters: Counters,
    /// Agents heard.
    pub agents: Vec<AgentSnapshot>,
}

/// Flags of an advertisement as letters, `-` when clear.
pub(crate) fn advertisement_flags_text(f: &mip_wire::icmp::AdvertisementFlags) -> String {
    [
        (f.registration_required, 'R'),
        (f.busy, 'B'),
        (f.home_agent, 'H'),
        (f.foreign_agent, 'F'),
        (f.minimal_encapsulation, 'M'),
        (f.gre_encapsulation, 'G'),
        (f.reserved_r, 'r'),
        (f.reverse_tunnelling, 'T'),
        (f.udp_tunnelling, 'U'),
        (f.revocation, 'X'),
    ]
    .iter()
    .map(|&(set, c)| if set { c } else { '-' })
    .collect()
}
