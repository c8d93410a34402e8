//! The mobile node core of the Mobile IPv4 suite: agent discovery and move detection (RFC
//! 5944 §2.4), registration through a foreign agent or with a co-located care-of address
//! (§3.6, RFC 3024 for reverse tunnelling), retransmission, renewal, identification and its
//! resynchronisation (§5.7), deregistration at home (§2.4.3, §4.6).
//!
//! Sans-I/O, in the manner of quinn-proto and of the home agent core (`mip-ha`): no sockets, no
//! clock, no threads, no random source. Time comes in as `now` (wall-clock: the Identification
//! of timestamp-protected requests is the time of day, RFC 5944 §5.7.1); random numbers come
//! from a seed given at construction.
//!
//! # Inputs
//!
//! * [`MobileNode::link_changed`]`(now, interface, up, address)`: an interface came up (or
//!   re-associated: possibly a new link) or went down; `address` is the address the daemon
//!   holds there (DHCP), usable as a co-located care-of address. Report every configured
//!   interface once at start: that starts the first solicitations.
//! * [`MobileNode::handle_advertisement`]`(now, interface, source, icmp)` (or
//!   [`MobileNode::handle_advertisement_from`] with the link-layer source): an ICMP type 9
//!   message received with TTL 1.
//! * [`MobileNode::handle_reply`]`(now, source, payload)`: a UDP datagram received on port 434.
//! * [`MobileNode::handle_timeout`]`(now)` at [`MobileNode::poll_timeout`].
//! * Operator: [`MobileNode::force_register`], [`MobileNode::deregister`].
//!
//! # Outputs, drained in this order after every input
//!
//! 1. [`MobileNode::poll_dataplane`]: [`DataPlaneRequest`]s, applied first — `AtHome` puts the
//!    home address back on the home link before the deregistration goes out and its reply
//!    comes back.
//! 2. [`MobileNode::poll_transmit`]: Registration Requests ([`Transmit`]): interface, source
//!    address, destination (foreign agent or home agent, port 434), and whether to send
//!    straight to the agent's link-layer address without ARP.
//! 3. [`MobileNode::poll_solicitation`]: Agent Solicitations ([`Solicitation`]: interface,
//!    ICMP bytes, 224.0.0.2 or 255.255.255.255, TTL 1).
//! 4. [`MobileNode::poll_event`]: [`Event`]s for the log.
//!
//! then [`MobileNode::poll_timeout`] for the next deadline. [`MobileNode::snapshot`] gives
//! `show ip mobile node`.
//!
//! # State machine
//!
//! The node keeps the agents heard per interface, picks a point of attachment, and keeps a
//! registration for it:
//!
//! * **Point of attachment** (re-chosen after every input): the first interface, in
//!   configuration order, that is up and offers one of — *home* (an address in the home network
//!   on that link, or an advertisement with H from the home agent or the home network); a
//!   *co-located care-of address* (mode `static` or `dynamic`), unless an agent on that link
//!   sets R (RFC 5944 §2.1.1: then registration through the foreign agent is required); a
//!   *foreign agent* offering a care-of address and not busy. Among foreign agents the current
//!   one is kept unless the network-prefix method says the node left its link.
//! * **Move detection** (RFC 5944 §2.4.2): an agent whose advertisement Lifetime runs out is
//!   dropped (§2.4.2.1) and another one is used, or the search starts again; an advertisement
//!   from another agent on the same link whose prefixes (Prefix-Lengths extension on both)
//!   share none with the current one's means the node moved (§2.4.2.2) — for a co-located
//!   address, its own prefix is compared and the address is declared invalid; a link change
//!   reported by the daemon makes earlier agents stale (usable for a grace period unless a fresh
//!   advertisement arrives). A sequence number falling below 256 (agent reboot, §2.3.2) makes
//!   the node register again through that agent.
//! * **Discovery** (RFC 5944 §2.4): on link up and whenever the node is left without a point
//!   of attachment, 3 solicitations one second apart, then the interval doubles up to the
//!   maximum (≥ 1 min); randomised upwards by `jitter_percent`; stopped by any advertisement
//!   on that link, or once registered there.
//! * **Registration** (§3.6.1): on a new point of attachment away from home a Registration
//!   Request goes out at once — through the foreign agent (care-of address from its
//!   advertisement, from the home address, to the agent's link-layer address) or, co-located,
//!   straight to the home agent from the care-of address with D set. Flags as configured, G/M/T
//!   only when the agent advertises them; Lifetime = min(configured, advertised registration
//!   lifetime); NAI (RFC 2794) before, MN-HA authentication after the fixed part; RFC 3024
//!   Encapsulating Delivery Style after it when asked for. Identification: an NTP timestamp
//!   (strictly increasing, corrected by the offset learnt from 133) or the home agent's nonce
//!   and a fresh random one; no two recent requests share their low-order 32 bits.
//! * **Retransmission** (§3.6.3): the same request with a new Identification after
//!   `retransmission.initial_ms`, then doubling waits up to `retransmission.max_ms` (never more
//!   than the requested lifetime); after a wait of the maximum the attempt is given up
//!   ([`Event::NoReply`]) and started again one maximum wait later.
//! * **Replies** (§3.6.2): matched on the low-order 32 bits of the Identification of any
//!   transmission of the request in flight, the Home Address (and NAI), and a valid MN-HA
//!   authenticator (a foreign agent's denial, 64–127, carries none and is taken from the agent
//!   the request went to); anything else is dropped and counted. Accepted (0, 1): the lifetime
//!   (the smaller of granted and requested) counts from when that request was sent; renewal is
//!   due at `renewal.at_percent` (default 80 %) of it. 133: the clock offset is taken from the
//!   reply (timestamps) or the nonce (nonces) and the request is sent again at once (up to
//!   [`MAX_RESYNCS_IN_A_ROW`] times in a row). 69, 72/139, 74/137, 75/138: the request is
//!   adjusted (lifetime, encapsulation, T) and sent again at once, once each. Other denials:
//!   retry after 2×, 4×, ... the initial retransmission time, up to the maximum.
//! * **Home** (§2.4.3, §4.6): on arriving home (or starting there) `AtHome` with gratuitous ARP,
//!   then a deregistration (Lifetime 0, Care-of Address = home address, to the home agent) with
//!   the same retransmission rules; given up for good once the binding would have expired.
//! * **Data plane**: `UseForeignAgent` / `UseColocated` when a registration is accepted (seed
//!   004: "In the colocated care-of address case, it adds a tunnel to the Home Agent.
//!   Subsequently, it sends all packets to the Foreign Agent"), `AtHome` on arrival home,
//!   `Detached` when nothing is left; never the same request twice in a row.
//!
//! [`NodeState`] is what the operator sees: idle, discovering, registering, registered,
//! renewing, denied, no reply, deregistering, at home, administratively down.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod agents;
pub mod config;
mod node;
pub mod output;
mod random;
pub mod snapshot;
mod solicit;

pub use agents::MAX_AGENTS_PER_INTERFACE;
pub use config::{
    ColocatedMode, ConfigError, Ipv4Prefix, MnHaSecurity, MobileNodeConfig, MoveDetectionConfig,
    RenewalConfig, RequestedFlags, RetransmissionConfig, SolicitationConfig,
    SolicitationDestination,
};
pub use node::{MobileNode, MAX_RESYNCS_IN_A_ROW};
pub use output::{
    ColocatedAddress, DataPlaneRequest, Delivery, DiscardReason, Event, LinkLayerAddress,
    MoveReason, RequestKind, Solicitation, Transmit,
};
pub use snapshot::{AgentSnapshot, AttachmentKind, Counters, NodeState, Snapshot};
