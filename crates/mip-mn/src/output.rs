//! What the mobile node core asks of the outside world: Registration Requests to send, agent
//! solicitations to send, data-plane changes, and events for the log.

use core::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};

use mip_wire::codes::Encapsulation;
use mip_wire::ident::Identification;

/// An Ethernet (IEEE 802) address, as learnt from the link-layer source of an advertisement.
pub type LinkLayerAddress = [u8; 6];

/// An address the daemon obtained on a link (DHCP, or the static co-located address), usable
/// as a co-located care-of address (RFC 5944 §1.6) — or, when it lies in the home network, the
/// sign that the mobile node is at home.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ColocatedAddress {
    /// The address.
    pub address: Ipv4Addr,
    /// Its prefix length on the link.
    pub prefix_len: u8,
    /// The link's default router.
    pub gateway: Option<Ipv4Addr>,
}

impl ColocatedAddress {
    /// An address with its prefix length and router.
    #[must_use]
    pub fn new(address: Ipv4Addr, prefix_len: u8, gateway: Option<Ipv4Addr>) -> Self {
        ColocatedAddress {
            address,
            prefix_len: prefix_len.min(32),
            gateway,
        }
    }
}

impl From<(Ipv4Addr, u8, Ipv4Addr)> for ColocatedAddress {
    fn from((address, prefix_len, gateway): (Ipv4Addr, u8, Ipv4Addr)) -> Self {
        ColocatedAddress::new(address, prefix_len, Some(gateway))
    }
}

/// How a Registration Request reaches its first hop.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Delivery {
    /// Ordinary routing and ARP: at home (to the home agent), or from a co-located care-of
    /// address through the link's router.
    Routed {
        /// The router to use on that interface (co-located care-of address), if known.
        gateway: Option<Ipv4Addr>,
    },
    /// Straight to the foreign agent on the link, to the link-layer source address of its
    /// advertisement and without ARP: the request's IP source is the home address, and away
    /// from home the mobile node must not send ARP for it (RFC 5944 §4.6).
    AgentLinkLayer {
        /// The agent's IP address (the IP destination).
        agent: Ipv4Addr,
        /// Its link-layer address, when the daemon reported it with the advertisement.
        link_layer: Option<LinkLayerAddress>,
    },
}

/// A UDP datagram to send to port 434. Drained with
/// [`MobileNode::poll_transmit`](crate::MobileNode::poll_transmit).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Transmit {
    /// The interface to send on.
    pub interface: String,
    /// The IP source address: the co-located care-of address, or the home address (through
    /// a foreign agent, and at home). `0.0.0.0` for an NAI mobile node without a home address
    /// yet (RFC 2794).
    pub source: Ipv4Addr,
    /// The foreign agent (port 434) or the home agent (port 434).
    pub destination: SocketAddrV4,
    /// How to reach the first hop.
    pub delivery: Delivery,
    /// The Registration Request.
    pub payload: Vec<u8>,
}

/// An ICMP Agent Solicitation to send (RFC 5944 §2.2). Drained with
/// [`MobileNode::poll_solicitation`](crate::MobileNode::poll_solicitation).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Solicitation {
    /// The interface.
    pub interface: String,
    /// 224.0.0.2 (all routers) or 255.255.255.255.
    pub destination: Ipv4Addr,
    /// The IP TTL: 1 (RFC 5944 §2.2).
    pub ttl: u8,
    /// The ICMP message (type 10), checksum included.
    pub payload: Vec<u8>,
}

/// A change the operating system must make. Drained with
/// [`MobileNode::poll_dataplane`](crate::MobileNode::poll_dataplane); the same request is never
/// queued twice in a row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "request", rename_all = "kebab-case")]
pub enum DataPlaneRequest {
    /// Registered through a foreign agent: the home address on `interface`, the default route
    /// through the agent (its link-layer address, no ARP, RFC 5944 §4.6). With
    /// `reverse_tunnel` the agent tunnels the node's datagrams back home (RFC 3024); with
    /// `encapsulating_delivery` the node itself tunnels them to the agent (RFC 3024 §5.2).
    UseForeignAgent {
        /// The link of the agent.
        interface: String,
        /// The mobile node's home address.
        home_address: Ipv4Addr,
        /// The agent's address.
        foreign_agent: Ipv4Addr,
        /// Its link-layer address, if the daemon reported it.
        foreign_agent_link_layer: Option<LinkLayerAddress>,
        /// The care-of address registered.
        care_of_address: Ipv4Addr,
        /// T was granted.
        reverse_tunnel: bool,
        /// Encapsulating delivery style (RFC 3024) was asked for.
        encapsulating_delivery: bool,
    },
    /// Registered with a co-located care-of address: decapsulate what the home agent tunnels
    /// to `care_of_address` (D bit); with `reverse_tunnel`, send datagrams from the home
    /// address through a tunnel to the home agent (RFC 3024).
    UseColocated {
        /// The link of the care-of address.
        interface: String,
        /// The mobile node's home address.
        home_address: Ipv4Addr,
        /// The co-located care-of address (the tunnel's local end).
        care_of_address: Ipv4Addr,
        /// The link's router.
        gateway: Option<Ipv4Addr>,
        /// The home agent (the tunnel's remote end).
        home_agent: Ipv4Addr,
        /// What the home agent puts around tunnelled datagrams (IP in IP, GRE, minimal).
        #[serde(serialize_with = "ser_encap")]
        encapsulation: Encapsulation,
        /// T was granted.
        reverse_tunnel: bool,
    },
    /// At home: plain routing with the home address on `interface`; with `gratuitous_arp`
    /// (back from a foreign network, or state unknown at start) announce the home address's
    /// own link-layer address again (RFC 5944 §4.6).
    AtHome {
        /// The home link.
        interface: String,
        /// The mobile node's home address.
        home_address: Ipv4Addr,
        /// Send gratuitous ARP for the home address.
        gratuitous_arp: bool,
    },
    /// No usable point of attachment: remove the routes of the previous one.
    Detached,
}

fn ser_encap<S: serde::Serializer>(e: &Encapsulation, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match e {
        Encapsulation::IpInIp => "ip-in-ip",
        Encapsulation::Gre => "gre",
        Encapsulation::Minimal => "minimal",
        Encapsulation::Unknown(_) => "unknown",
    })
}

/// What a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestKind {
    /// A new care-of address (or the first registration).
    Registration,
    /// Renewal of the current registration before it expires.
    Renewal,
    /// Lifetime 0: at home (care-of = home address), or asked by the operator.
    Deregistration,
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequestKind::Registration => "registration",
            RequestKind::Renewal => "renewal",
            RequestKind::Deregistration => "deregistration",
        })
    }
}

/// Why the node thinks it moved (RFC 5944 §2.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MoveReason {
    /// §2.4.2.1: the current agent's advertisement lifetime ran out.
    AgentLifetimeExpired,
    /// §2.4.2.2: an advertisement with a different network prefix.
    NetworkPrefix,
    /// The link went down or came up again (link-layer indication).
    LinkChange,
    /// The current agent withdrew (advertisement lifetime 0).
    AgentWithdrew,
}

/// Why a Registration Reply was dropped (RFC 5944 §3.6.2.1: silently, but counted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiscardReason {
    /// Not a Registration Reply, or cut short, or extensions that do not frame.
    Malformed,
    /// No request is waiting for a reply.
    Unexpected,
    /// The low-order 32 bits of the Identification match no outstanding request.
    IdentificationMismatch,
    /// The Home Address (or NAI) is not the mobile node's.
    WrongMobileNode,
    /// The MN-HA authentication extension is missing, has another SPI, or does not verify.
    Authentication,
    /// A non-skippable extension this node does not know (RFC 5944 §1.9).
    UnknownExtension,
}

/// A state change for the log and for `show ip mobile node`. Drained with
/// [`MobileNode::poll_event`](crate::MobileNode::poll_event).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// An agent was heard for the first time on an interface.
    AgentHeard {
        /// Interface.
        interface: String,
        /// The agent's address.
        agent: Ipv4Addr,
        /// H flag.
        home_agent: bool,
        /// F flag.
        foreign_agent: bool,
    },
    /// An agent's advertisement lifetime ran out (RFC 5944 §2.4.2.1), or it withdrew.
    AgentLost {
        /// Interface.
        interface: String,
        /// The agent's address.
        agent: Ipv4Addr,
    },
    /// An agent's sequence number fell below 256 (RFC 5944 §2.3.2: it rebooted).
    AgentRebooted {
        /// Interface.
        interface: String,
        /// The agent's address.
        agent: Ipv4Addr,
        /// Sequence number before.
        previous_sequence: u16,
        /// Sequence number now.
        sequence: u16,
    },
    /// Movement detected.
    MovementDetected {
        /// Interface.
        interface: String,
        /// Why.
        reason: MoveReason,
    },
    /// A co-located address no longer fits the link (§2.4.2.2 with a co-located care-of
    /// address): the daemon should obtain a new one.
    ColocatedAddressInvalid {
        /// Interface.
        interface: String,
        /// The address.
        address: Ipv4Addr,
    },
    /// A new point of attachment away from home was chosen.
    Attached {
        /// Interface.
        interface: String,
        /// The foreign agent, when registering through one.
        foreign_agent: Option<Ipv4Addr>,
        /// The care-of address.
        care_of_address: Ipv4Addr,
        /// Co-located care-of address.
        colocated: bool,
    },
    /// The node is on its home network.
    ReturnedHome {
        /// Interface.
        interface: String,
    },
    /// No point of attachment left.
    Detached,
    /// A Registration Request went out.
    RequestSent {
        /// What for.
        kind: RequestKind,
        /// Its Identification.
        identification: u64,
        /// Care-of address.
        care_of_address: Ipv4Addr,
        /// Lifetime requested.
        lifetime: u16,
        /// 0 for the first transmission, then 1, 2, ...
        retransmission: u32,
    },
    /// Registration (or renewal) accepted.
    Registered {
        /// What for.
        kind: RequestKind,
        /// Care-of address.
        care_of_address: Ipv4Addr,
        /// Lifetime granted, seconds (65535: infinity).
        lifetime: u16,
        /// 0 or 1.
        code: u8,
    },
    /// Deregistration accepted.
    Deregistered,
    /// Denied; `retry_in_ms` is 0 when the node retried at once with an adjusted request.
    Denied {
        /// What for.
        kind: RequestKind,
        /// Reply code.
        code: u8,
        /// Its name (RFC 5944 §3.4).
        name: String,
        /// When the node tries again.
        retry_in_ms: u64,
    },
    /// Code 133 with timestamps: the clock offset was taken from the home agent's reply
    /// (RFC 5944 §5.7.1); with nonces, the home agent's nonce was taken.
    ClockResynchronised {
        /// Offset added to the node's clock, milliseconds.
        offset_ms: i64,
    },
    /// No reply after the last retransmission (RFC 5944 §3.6.3).
    NoReply {
        /// What for.
        kind: RequestKind,
        /// Transmissions made.
        transmissions: u32,
        /// When the node tries again (`None`: it does not; a deregistration at home whose
        /// binding can no longer exist).
        retry_in_ms: Option<u64>,
    },
    /// The registration's lifetime ran out without renewal.
    BindingExpired {
        /// The care-of address it was for.
        care_of_address: Ipv4Addr,
    },
    /// A Registration Reply was dropped.
    ReplyDiscarded {
        /// Why.
        reason: DiscardReason,
    },
}

impl fmt::Display for Event {
    /// One log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::AgentHeard {
                interface,
                agent,
                home_agent,
                foreign_agent,
            } => write!(
                f,
                "{interface}: agent {agent} heard ({}{})",
                if *home_agent { "H" } else { "-" },
                if *foreign_agent { "F" } else { "-" }
            ),
            Event::AgentLost { interface, agent } => write!(f, "{interface}: agent {agent} lost"),
            Event::AgentRebooted {
                interface,
                agent,
                previous_sequence,
                sequence,
            } => write!(
                f,
                "{interface}: agent {agent} rebooted (sequence {previous_sequence} -> {sequence})"
            ),
            Event::MovementDetected { interface, reason } => {
                write!(f, "{interface}: movement detected ({reason:?})")
            }
            Event::ColocatedAddressInvalid { interface, address } => {
                write!(
                    f,
                    "{interface}: co-located address {address} no longer on this link"
                )
            }
            Event::Attached {
                interface,
                foreign_agent,
                care_of_address,
                colocated,
            } => match (colocated, foreign_agent) {
                (true, _) => write!(
                    f,
                    "{interface}: co-located care-of address {care_of_address}"
                ),
                (false, Some(fa)) => write!(
                    f,
                    "{interface}: foreign agent {fa}, care-of address {care_of_address}"
                ),
                (false, None) => write!(f, "{interface}: care-of address {care_of_address}"),
            },
            Event::ReturnedHome { interface } => write!(f, "{interface}: at home"),
            Event::Detached => f.write_str("detached: no agent and no care-of address"),
            Event::RequestSent {
                kind,
                identification,
                care_of_address,
                lifetime,
                retransmission,
            } => write!(
                f,
                "{kind} request sent: care-of {care_of_address}, lifetime {lifetime}, id {}{}",
                Identification(*identification),
                if *retransmission > 0 {
                    format!(" (retransmission {retransmission})")
                } else {
                    String::new()
                }
            ),
            Event::Registered {
                kind,
                care_of_address,
                lifetime,
                code,
            } => write!(
                f,
                "{kind} accepted (code {code}): care-of {care_of_address}, lifetime {lifetime}"
            ),
            Event::Deregistered => f.write_str("deregistration accepted"),
            Event::Denied {
                kind,
                code,
                name,
                retry_in_ms,
            } => write!(
                f,
                "{kind} denied, code {code} ({name}); retry in {} ms",
                retry_in_ms
            ),
            Event::ClockResynchronised { offset_ms } => {
                write!(
                    f,
                    "identification resynchronised, clock offset {offset_ms} ms"
                )
            }
            Event::NoReply {
                kind,
                transmissions,
                retry_in_ms,
            } => match retry_in_ms {
                Some(ms) => write!(
                    f,
                    "{kind}: no reply after {transmissions} transmissions; retry in {ms} ms"
                ),
                None => write!(f, "{kind}: no reply after {transmissions} transmissions"),
            },
            Event::BindingExpired { care_of_address } => {
                write!(f, "registration for care-of {care_of_address} expired")
            }
            Event::ReplyDiscarded { reason } => write!(f, "reply discarded ({reason:?})"),
        }
    }
}
