//! The only crate that touches the operating system: UDP 434 sockets, TUN,
//! raw sockets for IP-in-IP / GRE / minimal encapsulation, AF_PACKET for ARP,
//! and rtnetlink. Protocol crates never open sockets; they emit requests that
//! this crate carries out.
//!
//! Today:
//!
//! * [`udp`]: the registration socket. Bound with `SO_REUSEADDR` and `IP_PKTINFO` so that
//!   every received datagram carries the local address it was sent to and every reply
//!   leaves from the address the request was sent to (RFC 5944 §3.8.3.1); non-blocking,
//!   received and sent in batches with `recvmmsg(2)` / `sendmmsg(2)`, kernel drops counted
//!   through `SO_RXQ_OVFL`.
//! * [`poll`]: the readiness wait of the daemon's loop (`poll(2)` on the socket plus an
//!   `eventfd(2)` [`Waker`] other threads use to hand work to the loop).
//! * [`dataplane`]: the [`DataPlane`] executor trait the home agent's
//!   [`DataPlaneRequest`](mip_ha::DataPlaneRequest)s go to, and the [`LoggingDataPlane`]
//!   that records, counts and checks them until the user-space data plane (TUN, raw
//!   sockets, routes, proxy ARP) arrives.
//! * [`sys`]: the host's interfaces and IPv4 addresses (`getifaddrs(3)`) and random bytes
//!   (`getrandom(2)`).
//!
//! All `unsafe` code of the suite lives here, each block with the reason it is sound.

#![warn(missing_docs)]

pub mod dataplane;
pub mod net;
pub mod poll;
pub mod sys;
pub mod udp;

pub use dataplane::{
    DataPlane, DataPlaneCounts, DataPlaneState, LoggingDataPlane, ModelTunnel, TunnelTraffic,
};
pub use poll::{Poller, Readiness, Waker};
pub use udp::{Datagram, RecvBatch, SendReport, UdpEndpoint, UdpOptions, BATCH, MAX_DATAGRAM};
