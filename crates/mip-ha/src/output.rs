//! What the core asks of the outside world: datagrams to send and data-plane changes.

use std::net::{Ipv4Addr, SocketAddrV4};

use mip_wire::codes::Encapsulation;

/// A datagram to send from UDP port 434 (RFC 5944 §3.8.3.1: to the source address and port
/// of the request, from the address it was sent to).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send: the request's source address and port.
    pub destination: SocketAddrV4,
    /// The local address to send from (the request's destination when that is one of the home
    /// agent's unicast addresses, else the home agent address).
    pub source: Ipv4Addr,
    /// The Registration Reply.
    pub payload: Vec<u8>,
}

/// A tunnel, named by a small number the data plane may use in interface names
/// (`Tunnel0`). Ids are reused after a tunnel is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct TunnelId(pub u32);

/// The ends of a tunnel from the home agent to a care-of address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct TunnelEndpoints {
    /// The home agent address the mobile node registered with (outer source).
    pub source: Ipv4Addr,
    /// The care-of address (outer destination).
    pub destination: Ipv4Addr,
}

/// Why a gratuitous ARP is sent (RFC 5944 §4.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ArpReason {
    /// The mobile node left home: announce the home agent's link-layer address for the home
    /// address, so that nodes on the home link send to the home agent.
    MobileNodeLeft,
    /// The mobile node is back home (deregistered with care-of address = home address):
    /// stop answering for it and let neighbours learn its own link-layer address again.
    MobileNodeReturned,
}

/// A change the data plane must make. Drained with
/// [`HomeAgent::poll_dataplane`](crate::HomeAgent::poll_dataplane).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum DataPlaneRequest {
    /// Create a tunnel (the first binding with these endpoints and encapsulation).
    AddTunnel {
        /// Its id.
        tunnel: TunnelId,
        /// Its ends.
        endpoints: TunnelEndpoints,
        /// What goes inside: IP in IP, GRE or minimal encapsulation.
        #[serde(serialize_with = "crate::snapshot::ser_encap")]
        encapsulation: Encapsulation,
        /// Reverse-tunnelled datagrams from the care-of address are accepted (the
        /// router's `reverse-allowed`; `reverse-tunnel-off` clears it).
        reverse_allowed: bool,
    },
    /// Change whether a tunnel accepts reverse-tunnelled datagrams (after a reconfiguration;
    /// seed 002: "reverse-tunnel-off affects registered mobile nodes too").
    SetTunnelReverse {
        /// The tunnel.
        tunnel: TunnelId,
        /// New setting.
        reverse_allowed: bool,
    },
    /// Remove a tunnel (its last binding is gone).
    RemoveTunnel {
        /// Its id.
        tunnel: TunnelId,
        /// Its ends.
        endpoints: TunnelEndpoints,
        /// Its encapsulation.
        #[serde(serialize_with = "crate::snapshot::ser_encap")]
        encapsulation: Encapsulation,
    },
    /// Route datagrams for the home address into the tunnel. A mobile node with simultaneous
    /// bindings has one route per tunnel: a copy of each datagram goes into every one (RFC
    /// 5944 §3.6.1.3).
    AddHostRoute {
        /// The mobile node's home address.
        home_address: Ipv4Addr,
        /// Through this tunnel.
        tunnel: TunnelId,
    },
    /// Remove one of the home address's routes.
    RemoveHostRoute {
        /// The mobile node's home address.
        home_address: Ipv4Addr,
        /// The tunnel of the route.
        tunnel: TunnelId,
    },
    /// Answer ARP for the home address on the home link (proxy ARP, RFC 5944 §4.6), or stop.
    ProxyArp {
        /// The mobile node's home address.
        address: Ipv4Addr,
        /// The home link.
        interface: String,
        /// Start (true) or stop.
        enable: bool,
    },
    /// Send gratuitous ARP for the home address on the home link.
    GratuitousArp {
        /// The mobile node's home address.
        address: Ipv4Addr,
        /// The home link.
        interface: String,
        /// Leaving or returning.
        reason: ArpReason,
    },
    /// Forward (or stop forwarding) broadcasts of the home link to this binding (B granted).
    BroadcastForwarding {
        /// The mobile node's home address.
        home_address: Ipv4Addr,
        /// Through this tunnel.
        tunnel: TunnelId,
        /// Start (true) or stop.
        enable: bool,
        /// The home link whose broadcasts are forwarded (`None`: a virtual home network,
        /// which has no link and so no broadcasts).
        interface: Option<String>,
        /// D: the mobile node decapsulates itself (co-located care-of address), so a
        /// broadcast is tunnelled once. Otherwise the care-of address is a foreign agent's and
        /// the broadcast is first encapsulated to the home address, then tunnelled (RFC 5944
        /// §4.3), so that the foreign agent can tell which visitor it is for.
        colocated: bool,
    },
}
