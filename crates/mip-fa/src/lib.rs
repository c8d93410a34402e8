//! The foreign agent protocol core of the Mobile IPv4 suite: agent advertisements (RFC 5944
//! §2, RFC 1256), Registration Request and Reply relay with a pending table and the visitor
//! list (RFC 5944 §3.7, seed 002 `ip mobile foreign-agent`), reverse tunnelling (RFC 3024),
//! NAI (RFC 2794) and FA challenges (RFC 3012).
//!
//! Sans-I/O, in the manner of quinn-proto and of `mip-ha`: no sockets, no clock, no threads,
//! no randomness of its own (a seed comes in through [`FaOptions::seed`]). Time comes in as
//! `now` on every input; outputs are queued and drained by the caller.
//!
//! # Inputs
//!
//! * [`ForeignAgent::handle_udp`]`(now, interface, source, local, link_layer_source, payload)`:
//!   a datagram received on UDP port 434. Registration Requests come from mobile nodes on a
//!   foreign-service interface (the caller names the interface and the link-layer source
//!   address of the frame); Registration Replies come from home agents, on any interface.
//! * [`ForeignAgent::handle_solicitation`]`(now, interface, source, bytes)`: an ICMP Agent
//!   Solicitation (type 10; the ICMP message, from the type byte).
//! * [`ForeignAgent::handle_icmp_unreachable`]`(now, home_agent, kind)`: an ICMP error for a
//!   request relayed to `home_agent`.
//! * [`ForeignAgent::handle_timeout`]`(now)`: call at (or after) [`ForeignAgent::poll_timeout`].
//! * Configuration and interfaces: [`ForeignAgent::new`], [`ForeignAgent::reconfigure`],
//!   [`ForeignAgent::update_interface`], [`ForeignAgent::set_interface_up`].
//! * Operator actions: [`ForeignAgent::clear_visitors`], [`ForeignAgent::clear_counters`],
//!   [`ForeignAgent::undo_clear_counters`].
//!
//! # Outputs, drained in this order after every input
//!
//! 1. [`ForeignAgent::poll_dataplane`]: [`DataPlaneRequest`]s (visitor entries to add or
//!    remove: neighbour entry, host route, decapsulation, reverse tunnel), in the order they
//!    must be applied. A visitor's entry is requested before the reply that tells the mobile
//!    node it is registered, so apply these first.
//! 2. [`ForeignAgent::poll_transmit`]: [`Transmit`]s (relayed requests to home agents; replies
//!    to mobile nodes, which carry the interface and link-layer destination: send them
//!    without ARP).
//! 3. [`ForeignAgent::poll_advertisement`]: [`Advertisement`]s (ICMP type 9 with TTL 1, on one
//!    interface, to the all-systems address or a soliciting neighbour).
//!
//! then [`ForeignAgent::poll_timeout`] for the next deadline. A deadline at the Unix epoch
//! means "now": after creation (and when an interface starts advertising) the first
//! advertisement can only be scheduled once the agent knows the time, so call
//! [`ForeignAgent::handle_timeout`] at once.
//!
//! # Agent advertisements (RFC 5944 §2.1, §2.3; RFC 1256)
//!
//! Sent on every interface with ` ip irdp` that is up and gives foreign agent service
//! (` ip mobile foreign-service` and service enabled) or is a home link of an active home
//! agent (an `ip mobile host ... interface IF`). As on the router, the mobility extension rides
//! in the IRDP router advertisement: without ` ip irdp` nothing is advertised, though requests
//! are still served.
//!
//! * Schedule: a uniformly random point in [`minadvertinterval`, `maxadvertinterval`] after
//!   the previous one; the first three after the interface starts no more than 16 s apart
//!   (RFC 1256 MAX_INITIAL_ADVERT_INTERVAL).
//! * Sequence numbers: per interface, from 0, then [`mip_wire::icmp::next_sequence`]
//!   (0xffff → 256, RFC 5944 §2.3.2); solicited advertisements count too.
//! * Lifetime (RFC 1256): ` ip irdp holdtime`. Router address: the interface's, preference 0.
//!   Code 0.
//! * Registration lifetime: ` ip mobile registration-lifetime`, default 36000.
//! * Flags: F on foreign-service interfaces; R with `registration-required`; B when `limit N`
//!   visitors are on the link; H on a home link of an active home agent; T when reverse
//!   tunnelling is offered (`foreign-service reverse-tunnel [mandatory]` or `ip mobile
//!   foreign-agent reverse-tunnel`); M and G from [`FaOptions::encapsulations`] (the home
//!   agent's `encapsulation` on a home link only). IP in IP is always supported and has no
//!   flag. U, X and the reserved bits are clear.
//! * Care-of addresses (F only): the addresses of the `care-of` interfaces that are up. With
//!   none up the foreign agent is disabled (seed 002: "The foreign agent is not enabled until
//!   at least one care-of address is available"): no F advertisements, requests ignored.
//! * Prefix-lengths extension (19) with ` ip mobile prefix-length`; FA challenge extension (24)
//!   with a fresh challenge in every F advertisement when [`FaOptions::challenge`] is set.
//! * Destination: [`FaOptions::advertisement_destination`] (224.0.0.1 by default).
//!   Solicitations are all answered (see [`ForeignAgent::handle_solicitation`]).
//!
//! # Processing of a Registration Request (RFC 5944 §3.7.2, seed 002)
//!
//! Discarded without reply: service off, or no care-of address up; not received on an up
//! foreign-service interface; fixed part cut short; an unrecognised non-skippable extension
//! after the MN-HA extension (RFC 5944 §1.9; what comes before the MN-HA extension is for the
//! home agent and is relayed untouched). Then, in this order, each failure answered with the
//! code in parentheses:
//!
//! 1. extensions that do not frame (70);
//! 2. with challenges on: no MN-FA challenge extension (105), one never issued on this link
//!    (104), one older than the window or already used (106);
//! 3. with a visitor security association (`ip mobile secure visitor`, by NAI or home
//!    address): exactly one MN-FA extension, after the MN-HA one, with a known SPI and a valid
//!    authenticator (67, and a violation);
//! 4. no MN-HA (or MN-AAA) extension, reserved flag r or x set, M and G both set (70);
//! 5. home address 0.0.0.0 without NAI (97); home agent 0.0.0.0, broadcast, multicast or
//!    loopback (98 with an NAI, 90 without);
//! 6. a CVSE after the MN-HA extension (100);
//! 7. lifetime above the registration lifetime advertised on the link (69; the reply carries
//!    that lifetime);
//! 8. D clear and the care-of address not one of the advertised ones (77);
//! 9. `home-access ACL` denies the home agent (65);
//! 10. M or G for an encapsulation that is off (72); an Encapsulating Delivery Style extension
//!     and that style not offered (79);
//! 11. registrations only: T and no reverse tunnelling on the link (74); no T and
//!     `reverse-tunnel mandatory` (75);
//! 12. a new visitor on a link at its `limit` (66); five requests of this mobile node already
//!     pending (66); the pending table full (66).
//!
//! Accepted requests are relayed to the home agent from the care-of address, port 434: the
//! bytes through the MN-HA extension unchanged, everything after it removed, an FA-HA
//! extension appended when `ip mobile secure home-agent` has an SA for the home agent (seed
//! 002). A pending entry keyed by the mobile node (NAI, else home address) and the low 32
//! bits of the Identification is kept for `reg-wait` seconds (default 15); a retransmission
//! with the same Identification replaces its entry.
//!
//! # Processing of a Registration Reply (RFC 5944 §3.7.3)
//!
//! Discarded: fixed part cut short; no pending request matches (NAI or home address, low 32
//! bits of the Identification); an unrecognised non-skippable extension after the MN-HA
//! extension (the pending entry stays). Otherwise the pending entry is removed and:
//!
//! 1. extensions that do not frame: 71 to the mobile node;
//! 2. when an SA exists with the home agent (source address, Home Agent field, or the address
//!    the request went to): exactly one FA-HA extension after the MN-HA one, valid; else the
//!    reply is dropped, a violation logged and the mobile node gets 68;
//! 3. a CVSE after the MN-HA extension: 101;
//! 4. accepted (0 or 1): a zero home address gives 99; a deregistration (lifetime 0 asked or
//!    granted) removes the visitor; otherwise the visitor is created or updated with lifetime
//!    min(granted, asked), counted from when the request was relayed;
//! 5. the reply is relayed through its MN-HA extension, unchanged (denials keep their code;
//!    the visitor list is untouched by them), with a new challenge and MN-FA authentication
//!    appended when configured, to the mobile node's home address and UDP port on the
//!    visitor's interface and link-layer address.
//!
//! A pending request that gets no reply within `reg-wait` seconds is dropped and answered
//! with 78 ([`FaOptions::reply_on_pending_timeout`]); one whose home agent is reported
//! unreachable by ICMP is answered with 80, 81, 82 or 88.
//!
//! Every rejection is a [`Rejection`] variant; [`Rejection::disposition`] is the one place
//! that maps it to a reply code, a counter and a violation.
//!
//! Codes this agent never produces: 73 (reserved), 76 (mobile node too distant: no notion of
//! distance), 89 (vendor-specific), 96 (non-zero home address required: NAI requests with a
//! zero home address are served), 107 and 108 (MN-FA key generation and AAA authentication:
//! no AAA client in this core), 109 (home agent sent wrong challenge: replies do not echo
//! challenges in RFC 3012 as used here), 127 (experimental).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod agent;
pub mod output;
pub mod rejection;
mod rng;
pub mod snapshot;
mod timers;

pub use agent::{
    ChallengeOptions, FaInterface, FaOptions, ForeignAgent, VisitorSelector, ALL_SYSTEMS,
    DEFAULT_PENDING_PER_MOBILE_NODE, MAX_INITIAL_ADVERTISEMENTS, MAX_INITIAL_ADVERT_INTERVAL,
    MAX_UDP_PAYLOAD,
};
pub use output::{
    Advertisement, DataPlaneRequest, Transmit, UnreachableKind, VisitorRoute, ADVERTISEMENT_TTL,
};
pub use rejection::{AuthFailure, Disposition, Rejection, ViolationReason};
pub use snapshot::{Counters, InterfaceSnapshot, PendingSnapshot, Violation, VisitorSnapshot};
