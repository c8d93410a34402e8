//! What the foreign agent asks of the outside world: agent advertisements to send, UDP
//! datagrams to send, and visitor entries for the data plane.

use std::net::{Ipv4Addr, SocketAddrV4};

use mip_wire::codes::Encapsulation;

/// The TTL of every agent advertisement (RFC 5944 §2.1: "The TTL for all Agent Advertisements
/// MUST be set to 1").
pub const ADVERTISEMENT_TTL: u8 = 1;

/// An ICMP Agent Advertisement to send. Drained with
/// [`ForeignAgent::poll_advertisement`](crate::ForeignAgent::poll_advertisement).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advertisement {
    /// Send on this interface only (the message is link-scoped).
    pub interface: String,
    /// IP source: the interface's address.
    pub source: Ipv4Addr,
    /// IP destination: the configured all-systems address (224.0.0.1 or 255.255.255.255), or
    /// the unicast address of a soliciting node on the link.
    pub destination: Ipv4Addr,
    /// IP TTL: always [`ADVERTISEMENT_TTL`].
    pub ttl: u8,
    /// The ICMP message (type 9), checksum filled in. The IP header is the caller's.
    pub payload: Vec<u8>,
    /// True when this advertisement answers a solicitation.
    pub solicited: bool,
}

/// A UDP datagram to send. Drained with
/// [`ForeignAgent::poll_transmit`](crate::ForeignAgent::poll_transmit).
///
/// Two kinds leave the foreign agent:
///
/// * a relayed Registration Request, to the home agent's port 434 from the care-of address,
///   port 434 (RFC 5944 §3.7.2.3 lets the source port vary; 434 lets the same socket receive the
///   reply): `interface` and `link_layer_destination` are `None`, the datagram is routed;
/// * a Registration Reply to a mobile node (relayed or the foreign agent's own denial), to the
///   mobile node's home address (255.255.255.255 when it has none yet) and the UDP source port
///   of its request, sent on the visitor's `interface` to its `link_layer_destination`
///   **without ARP** (RFC 5944 §3.7.3.2: the mobile node's home address is not on this link, so
///   ARP for it must not be used).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Send out of this interface (replies to mobile nodes); `None`: let routing decide.
    pub interface: Option<String>,
    /// Source address and port (always port 434).
    pub source: SocketAddrV4,
    /// Destination address and port.
    pub destination: SocketAddrV4,
    /// Link-layer destination, learned from the request; `None` when the caller gave none (the
    /// datagram is then sent the ordinary way, with ARP).
    pub link_layer_destination: Option<[u8; 6]>,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// The kind of ICMP error received for a request relayed to a home agent (RFC 5944 §3.7.2.3,
/// codes 80–88).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum UnreachableKind {
    /// ICMP network unreachable: code 80 (home network unreachable).
    Network,
    /// ICMP host unreachable: code 81 (home agent host unreachable).
    Host,
    /// ICMP port unreachable: code 82 (home agent port unreachable).
    Port,
    /// Any other ICMP error (administratively prohibited, fragmentation needed ...): code 88.
    Other,
}

/// A change the data plane must make for a visitor. Drained with
/// [`ForeignAgent::poll_dataplane`](crate::ForeignAgent::poll_dataplane).
///
/// `AddVisitor` means, for the data plane (seed 002: "a host route to the mobile node via
/// interface (of incoming request) is added ..., and an ARP entry added to avoid ARPing for the
/// visiting mobile node"; "the foreign agent will deencapsulate the packet and forward it out
/// its interface to the visiting mobile node, without ARPing"):
///
/// 1. a static neighbour entry `home_address → link_layer` on `interface` (when known);
/// 2. a host route to `home_address` out of `interface`;
/// 3. unless `decapsulate` is false (the mobile node decapsulates itself, D bit), accept
///    datagrams tunnelled from `home_agent` to `care_of_address` with `encapsulation` and
///    deliver the inner datagram for `home_address` by 1 and 2;
/// 4. when `reverse_tunnel` is true (T granted, RFC 3024), send datagrams arriving on
///    `interface` from `home_address` through a tunnel `care_of_address → home_agent` instead
///    of routing them.
///
/// A changed visitor (another interface, link-layer address, home agent or option) is a
/// `RemoveVisitor` of the old entry followed by an `AddVisitor` of the new one; a renewal that
/// changes none of these asks for nothing.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum DataPlaneRequest {
    /// Install delivery (and reverse tunnelling) for a visitor.
    AddVisitor(VisitorRoute),
    /// Remove what `AddVisitor` installed (expiry, deregistration, `clear ip mobile visitor`).
    RemoveVisitor(VisitorRoute),
}

/// Everything the data plane needs about one visitor.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct VisitorRoute {
    /// The mobile node's home address.
    pub home_address: Ipv4Addr,
    /// The link it visits.
    pub interface: String,
    /// Its link-layer address, learned from its request (`None` when the caller gave none).
    pub link_layer: Option<[u8; 6]>,
    /// The care-of address it registered (the tunnel's end here).
    pub care_of_address: Ipv4Addr,
    /// Its home agent (the tunnel's other end).
    pub home_agent: Ipv4Addr,
    /// Reverse tunnel granted (T, RFC 3024).
    pub reverse_tunnel: bool,
    /// The encapsulation the home agent tunnels with (G: GRE, M: minimal, else IP in IP),
    /// serialised as the IP protocol number.
    #[serde(serialize_with = "crate::snapshot::ser_encap")]
    pub encapsulation: Encapsulation,
    /// The foreign agent decapsulates (false when the mobile node registered a co-located
    /// care-of address with D set and only uses this agent because of R).
    pub decapsulate: bool,
}
