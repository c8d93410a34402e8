//! The home agent protocol core of the Mobile IPv4 suite (RFC 5944 §3.8, the router's
//! `ip mobile home-agent` rules of seed 002, NAI sessions of seed 000).
//!
//! Sans-I/O, in the manner of quinn-proto: no sockets, no clock, no threads. Time comes in as
//! `now` on every input; outputs are queued and drained by the caller.
//!
//! # Inputs
//!
//! * [`HomeAgent::handle_request`]`(now, source, local, payload)`: a UDP datagram received on
//!   port 434 from `source`, sent to the local address `local`.
//! * [`HomeAgent::handle_timeout`]`(now)`: call at (or after) [`HomeAgent::poll_timeout`].
//! * Operator actions: [`HomeAgent::clear_bindings`], [`HomeAgent::clear_counters`],
//!   [`HomeAgent::undo_clear_counters`], [`HomeAgent::reconfigure_policy`].
//! * [`HomeAgent::restore`] after a restart.
//!
//! # Outputs, drained in this order after every input
//!
//! 1. [`HomeAgent::poll_store`]: [`StoreOp`]s (binding puts and deletes, replay state). Make
//!    them durable first: "a reply goes out only after its binding change cannot be lost".
//! 2. [`HomeAgent::poll_dataplane`]: [`DataPlaneRequest`]s (tunnels, host routes, proxy and
//!    gratuitous ARP, broadcast forwarding), in the order they must be applied.
//! 3. [`HomeAgent::poll_transmit`]: [`Transmit`]s (Registration Replies).
//!
//! then [`HomeAgent::poll_timeout`] for the next deadline.
//!
//! # Processing of a Registration Request
//!
//! In this order (seed 002, refined by RFC 5944 §3.8.2):
//!
//! 1. Discard without reply (counted as Ignored): service off; not a request or fixed part
//!    cut short; Home Address 0.0.0.0 without NAI; no security association for the mobile
//!    node (the reply could not be signed); an unknown non-skippable extension (RFC 5944
//!    §1.9). Extensions that do not frame, while the fixed part does, are answered with 134
//!    when the mobile node has a security association.
//! 2. FA-HA authentication, when an SA exists for the foreign agent (source address, then
//!    care-of address): exactly one FA-HA extension, after the MN-HA one, valid → else 132.
//! 3. MN-HA authentication: exactly one MN-HA extension whose SPI selects an SA of the
//!    mobile node, valid → else 131; it must be the first authentication extension → else
//!    134. Extensions after it, other than FA-HA and MN-FA, are ignored.
//! 4. Identification (timestamp window or nonce, RFC 5944 §5.7) → else 133 with the home
//!    agent's time (or a fresh nonce) in the high-order 32 bits.
//! 5. Validity: 136 (Home Agent field not ours; the reply carries our address), 134
//!    (reserved flags), 140/141 (CVSE), 128 (home address served by no host group), 129/130
//!    (NAI address assignment), then for registrations 129 (roam-access, care-of-access), 134
//!    (care-of address unusable, M and G both set), 139 (encapsulation), 137/138 (reverse
//!    tunnel, RFC 3024), 135 (simultaneous bindings limit), 130 (binding limit).
//! 6. Accept: create, renew, replace or add a simultaneous binding (code 1 when S is asked
//!    and not supported), or deregister; the lifetime is reduced to the limit. The reply is
//!    signed with the MN-HA SA's outbound SPI, then FA-HA when an SA with the foreign agent
//!    exists.
//!
//! Every rejection is a [`Rejection`] variant; [`Rejection::disposition`] is the one place
//! that maps it to a reply code, a counter and a violation.
//!
//! A reply is also counted per host ([`HostCounters`], when [`HaOptions::per_host_counters`]
//! is on) under the home address, when that address is the mobile node's word: an address
//! mobile node's (its home address chose its security association), or the Home Address
//! field of a request whose MN-HA authenticator was verified. A request under an NAI that
//! fails before that (steps 1 to 3) is counted in [`Counters`] and the violation log only:
//! its Home Address field could be anything, and no state is created for it.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod addrmap;
mod agent;
mod chunked;
mod from_config;
mod fxhash;
pub mod output;
pub mod policy;
pub mod rejection;
pub mod session;
pub mod snapshot;
pub mod store;
mod table;

pub use agent::{BindingSelector, HaOptions, HomeAgent, RestoreReport};
pub use output::{ArpReason, DataPlaneRequest, Transmit, TunnelEndpoints, TunnelId};
pub use policy::{
    nai_key, Acl, AclEntry, AddressPool, ForeignAgentSa, HaPolicy, HomeLink, HostGroup,
    MobileNodeId, MobileNodeSa, NaiHost,
};
pub use rejection::{AuthFailure, Rejection, ViolationReason};
pub use snapshot::{BindingSnapshot, Counters, HostCounters, Violation};
pub use store::{BindingRecord, DecodeError, MobileNodeKey, StoreOp};
