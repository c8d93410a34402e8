//! The user-space data plane: TUN device + raw IPv4 sockets for IP-in-IP (4), GRE (47) and
//! minimal encapsulation (55), rtnetlink for routes, rules, neighbours and addresses, and
//! `AF_PACKET` for gratuitous ARP. The kernel this runs on has no `ipip`/`gre` modules, so
//! tunnels are made here.
//!
//! * [`netlink`]: a synchronous rtnetlink client ([`Netlink`]): host routes into the TUN
//!   device (replace semantics, any table), policy rules, permanent and proxy neighbours,
//!   addresses, link up/down/MTU, link lookup, `route get` with path MTU. [`sysctl`] for
//!   `ip_forward`, `proxy_arp`, `arp_accept`, `rp_filter`, `accept_local`.
//! * [`arp`]: gratuitous ARP (request and reply forms) and an ARP capture socket.
//! * [`tun`]: the TUN device.
//! * [`offload`]: `virtio_net_hdr`, user-space TCP segmentation (TSO) and coalescing (GRO)
//!   between the TUN device and the engine.
//! * [`raw`]: the raw sockets, batched with `sendmmsg`/`recvmmsg`.
//! * [`engine`]: the [`TunnelEngine`] thread — encapsulation by destination (or by source, for
//!   reverse tunnels), decapsulation from accepted remotes, DF/MTU/ICMP handling, counters;
//!   outer packets on a raw socket, or ([`TxMode::Packet`]) on an `AF_PACKET` socket to a
//!   next hop it resolves.
//! * [`ha`]: [`LinuxHaDataPlane`], the home agent's [`DataPlane`](crate::DataPlane).
//! * [`broadcast`]: home-link broadcasts forwarded by the engine into the tunnels of the
//!   bindings with B (RFC 5944 §4.3).
//! * [`packet`]: `AF_PACKET`/`SOCK_DGRAM` sockets with BPF filters: the foreign agent's
//!   UDP 434 listeners (with the sender's MAC) and sender, the mobile node's advertisement
//!   and ARP sockets, and the tunnel engine's batched sender of `TxMode::Packet`.
//! * [`icmp`]: the foreign agent's raw ICMP socket and its UDP 434 socket that reports the
//!   arrival interface (`IP_PKTINFO`).
//! * [`epoll`]: an epoll set, so one [`Poller`](crate::Poller) waits on many sockets.
//! * [`links`]: link up/down notifications (`RTMGRP_LINK`) for the mobile node.
//! * [`fa`], [`mn`]: the foreign agent's and the co-located mobile node's plumbing, as
//!   functions over a [`Netlink`] and a [`TunnelEngine`] (their cores emit their own request
//!   types; the daemon maps them onto these).
//!
//! Everything opens its sockets in the network namespace of the calling thread, and needs
//! `CAP_NET_ADMIN` + `CAP_NET_RAW`.

pub mod arp;
pub mod broadcast;
pub mod engine;
pub mod epoll;
pub mod fa;
pub mod ha;
pub mod icmp;
pub mod links;
pub mod mn;
pub mod netlink;
pub mod offload;
mod os;
pub mod packet;
pub mod raw;
pub mod sysctl;
pub mod tun;

pub use arp::{send_gratuitous_arp, ArpPacket, ArpSocket, GratuitousArpKind};
pub use engine::{
    BroadcastTarget, Encapsulation, EngineConfig, EngineCounters, EngineStats, TunnelCounters,
    TunnelEngine, TunnelId, TunnelSpec, TunnelStats, TxMode,
};
pub use epoll::Epoll;
pub use ha::{HaDataPlaneConfig, LinuxHaDataPlane};
pub use icmp::{IcmpSocket, InterfaceUdpSocket};
pub use links::{LinkChange, LinkMonitor, LinkState};
pub use netlink::{LinkInfo, Neighbour, Netlink, Route, RouteLookup, Rule, MAIN_TABLE};
pub use packet::{PacketIn, PacketSocket};
pub use tun::Tun;
