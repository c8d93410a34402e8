//! What operators see: the foreign agent part of `show ip mobile traffic`, the visitor list
//! and the pending table (`show ip mobile visitor [pending]`, seed 000), the interfaces
//! (`show ip mobile interface`) and the violation log. All serialise to JSON.

use std::net::{Ipv4Addr, SocketAddrV4};

use mip_wire::codes::Encapsulation;
use mip_wire::ident::Identification;

use crate::rejection::{Counter, ViolationReason};

/// The foreign agent counters of `show ip mobile traffic` ("Advertisements" and "Foreign Agent
/// Registrations"), and a few more.
///
/// Every Registration Request handed to the agent is counted once in `requests_in` (and in
/// `deregister_requests_in` as well when its lifetime is 0); each is then either relayed
/// (`requests_forwarded`), answered with a denial (`requests_denied` and its reason), or
/// dropped (`requests_ignored` and its reason). Every Registration Reply is counted once in
/// `replies_in`; it is then relayed (`replies_forwarded`), replaced by a denial of the foreign
/// agent's own (68, 71, 99, 101: the reason counter), or dropped (`replies_ignored`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// "Solicitations received N".
    pub solicitations_received: u64,
    /// Solicitations not answered: bad checksum or code, or not an advertising interface.
    pub solicitations_ignored: u64,
    /// "Advertisements sent N" (periodic and solicited).
    pub advertisements_sent: u64,
    /// "..., response to solicitation N".
    pub advertisements_response_to_solicitation: u64,
    /// "Request in N".
    pub requests_in: u64,
    /// Requests with lifetime 0 (deregistrations), also counted in `requests_in`.
    pub deregister_requests_in: u64,
    /// "Forwarded N": requests relayed to a home agent.
    pub requests_forwarded: u64,
    /// "Denied N": requests answered with a code of 64 and above by this agent.
    pub requests_denied: u64,
    /// "Ignored N": requests dropped without an answer.
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
    /// Reverse tunnel mandatory, T not set (75).
    pub reverse_tunnel_mandatory: u64,
    /// Invalid care-of address (77).
    pub invalid_care_of_address: u64,
    /// Registration timeout: pending requests that got no reply in time (78).
    pub registration_timeout: u64,
    /// Delivery style not supported (79).
    pub unsupported_delivery_style: u64,
    /// Non-zero home agent address required / missing home agent (90, 98).
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
    /// "Bad N": poorly formed replies (71 sent to the mobile node).
    pub replies_bad: u64,
    /// "Ignored N": replies dropped (no matching pending request, cut short, unknown
    /// non-skippable extension).
    pub replies_ignored: u64,
    /// Replies dropped because no pending request matched (also in `replies_ignored`).
    pub replies_no_pending: u64,
    /// Requests ignored because service is off.
    pub ignored_service_disabled: u64,
    /// Requests ignored because they arrived on an interface without foreign service.
    pub ignored_interface: u64,
    /// Requests ignored because they could not be parsed.
    pub ignored_malformed: u64,
    /// Requests ignored because of an unknown non-skippable extension.
    pub ignored_unknown_extension: u64,
    /// Other UDP messages (neither request nor reply) dropped.
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

macro_rules! counter_fields {
    ($m:ident) => {
        $m!(
            solicitations_received,
            solicitations_ignored,
            advertisements_sent,
            advertisements_response_to_solicitation,
            requests_in,
            deregister_requests_in,
            requests_forwarded,
            requests_denied,
            requests_ignored,
            unspecified,
            ha_unreachable,
            administratively_prohibited,
            no_resource,
            bad_lifetime,
            bad_request_form,
            unsupported_encapsulation,
            unsupported_reverse_tunnel,
            reverse_tunnel_mandatory,
            invalid_care_of_address,
            registration_timeout,
            unsupported_delivery_style,
            missing_home_agent,
            missing_nai,
            missing_home_address,
            cvse_not_understood,
            unknown_challenge,
            missing_challenge,
            stale_challenge,
            auth_failed_mn,
            auth_failed_ha,
            replies_in,
            replies_forwarded,
            replies_bad,
            replies_ignored,
            replies_no_pending,
            ignored_service_disabled,
            ignored_interface,
            ignored_malformed,
            ignored_unknown_extension,
            other_messages_ignored,
            visitors_added,
            visitors_deregistered,
            visitors_expired,
            visitors_cleared
        )
    };
}

impl Counters {
    /// Adds `other` field by field (used by `clear ip mobile traffic undo`).
    pub fn add(&mut self, other: &Counters) {
        macro_rules! add {
            ($($f:ident),*) => { $( self.$f += other.$f; )* };
        }
        counter_fields!(add);
    }

    pub(crate) fn bump(&mut self, c: Counter) {
        let f = match c {
            Counter::IgnoredServiceDisabled => &mut self.ignored_service_disabled,
            Counter::IgnoredInterface => &mut self.ignored_interface,
            Counter::IgnoredMalformed => &mut self.ignored_malformed,
            Counter::IgnoredUnknownExtension => &mut self.ignored_unknown_extension,
            Counter::Unspecified => &mut self.unspecified,
            Counter::AdministrativelyProhibited => &mut self.administratively_prohibited,
            Counter::NoResource => &mut self.no_resource,
            Counter::AuthFailedMobileNode => &mut self.auth_failed_mn,
            Counter::AuthFailedHomeAgent => &mut self.auth_failed_ha,
            Counter::BadLifetime => &mut self.bad_lifetime,
            Counter::BadRequestForm => &mut self.bad_request_form,
            Counter::BadReplyForm => &mut self.replies_bad,
            Counter::UnsupportedEncapsulation => &mut self.unsupported_encapsulation,
            Counter::UnsupportedReverseTunnel => &mut self.unsupported_reverse_tunnel,
            Counter::ReverseTunnelMandatory => &mut self.reverse_tunnel_mandatory,
            Counter::InvalidCareOfAddress => &mut self.invalid_care_of_address,
            Counter::RegistrationTimeout => &mut self.registration_timeout,
            Counter::UnsupportedDeliveryStyle => &mut self.unsupported_delivery_style,
            Counter::HomeAgentUnreachable => &mut self.ha_unreachable,
            Counter::MissingHomeAgent => &mut self.missing_home_agent,
            Counter::MissingNai => &mut self.missing_nai,
            Counter::MissingHomeAddress => &mut self.missing_home_address,
            Counter::CvseNotUnderstood => &mut self.cvse_not_understood,
            Counter::UnknownChallenge => &mut self.unknown_challenge,
            Counter::MissingChallenge => &mut self.missing_challenge,
            Counter::StaleChallenge => &mut self.stale_challenge,
            Counter::ReplyNoPending => &mut self.replies_no_pending,
            Counter::ReplyMalformed => return,
        };
        *f += 1;
    }
}

/// One entry of the violation log (`show ip mobile violation`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// The mobile node's home address, or the home agent's address.
    pub address: Ipv4Addr,
    /// The NAI, for a mobile node that sent one.
    pub nai: Option<String>,
    /// Whether `address` is a home agent (FA-HA failure) rather than a visitor (MN-FA).
    pub home_agent: bool,
    /// When (ms since the Unix epoch).
    pub time_ms: u64,
    /// The SPI of the failing extension (0 when missing).
    pub spi: u32,
    /// The message's Identification.
    pub identification: u64,
    /// The reply code sent to the mobile node.
    pub code: u8,
    /// Why.
    pub reason: ViolationReason,
}

/// A visitor as `show ip mobile visitor` shows it (seed 000, "show ip mobile visitor Field
/// Descriptions").
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct VisitorSnapshot {
    /// "IP address": the visitor's home address.
    pub home_address: Ipv4Addr,
    /// The NAI, shown instead of the address when the mobile node registered with one.
    pub nai: Option<String>,
    /// "Session identifier".
    pub session_id: Option<String>,
    /// "Interface".
    pub interface: String,
    /// "MAC addr", as bytes.
    pub mac: Option<[u8; 6]>,
    /// "MAC addr" in the router's notation, `0060.837b.95ec`.
    pub mac_text: Option<String>,
    /// "IP src" and "UDP src port": source of the registration request.
    pub source: SocketAddrV4,
    /// "dest": destination address of the registration request.
    pub destination: Ipv4Addr,
    /// "HA addr".
    pub home_agent: Ipv4Addr,
    /// The care-of address registered.
    pub care_of_address: Ipv4Addr,
    /// "Identification" of the last accepted request.
    pub identification: u64,
    /// The router's notation: `B7510E60.64436B38`.
    pub identification_text: String,
    /// "Lifetime": granted, seconds (65535 = infinite).
    pub lifetime_granted: u16,
    /// "Remaining", seconds rounded down; `None` for an infinite lifetime.
    pub remaining_secs: Option<u64>,
    /// "Tunnel ... src": the care-of address (tunnel end at this agent).
    pub tunnel_source: Ipv4Addr,
    /// "Tunnel ... dest": the home agent.
    pub tunnel_destination: Ipv4Addr,
    /// "reverse-allowed" (true) or "reverse-off".
    pub reverse_tunnel: bool,
    /// The encapsulation (IP protocol number: 4, 47, 55).
    #[serde(serialize_with = "ser_encap")]
    pub encapsulation: Encapsulation,
    /// Request flags byte.
    pub flags: u8,
    /// "Routing Options" letters granted: `S B D M G T` in that order.
    pub routing_options: String,
}

/// A pending request (`show ip mobile visitor pending`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PendingSnapshot {
    /// Home address in the request (0.0.0.0 for an NAI asking for one).
    pub home_address: Ipv4Addr,
    /// NAI, when the request had one.
    pub nai: Option<String>,
    /// Session identifier, when the request had one.
    pub session_id: Option<String>,
    /// Interface the request arrived on.
    pub interface: String,
    /// MAC address of the mobile node, router notation.
    pub mac_text: Option<String>,
    /// Source of the request.
    pub source: SocketAddrV4,
    /// Destination address of the request.
    pub destination: Ipv4Addr,
    /// Home agent the request was relayed to.
    pub home_agent: Ipv4Addr,
    /// Care-of address in the request.
    pub care_of_address: Ipv4Addr,
    /// Identification.
    pub identification: u64,
    /// Router notation of the identification.
    pub identification_text: String,
    /// Lifetime asked, seconds.
    pub lifetime_requested: u16,
    /// Seconds left before the entry times out (`reg-wait`), rounded down.
    pub remaining_secs: u64,
    /// Request flags byte.
    pub flags: u8,
}

/// One interface as the foreign agent sees it (`show ip mobile interface`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InterfaceSnapshot {
    /// Name.
    pub name: String,
    /// Address in use.
    pub address: Ipv4Addr,
    /// Prefix length.
    pub prefix_len: u8,
    /// Up.
    pub up: bool,
    /// `ip mobile foreign-service` configured.
    pub foreign_service: bool,
    /// Listed in `ip mobile foreign-agent care-of`.
    pub care_of: bool,
    /// Agent advertisements go out on it now.
    pub advertising: bool,
    /// Flags of the advertisement it would send now (R B H F M G r T ...).
    pub advertisement_flags: u16,
    /// Registration lifetime advertised.
    pub registration_lifetime: u16,
    /// Sequence number of the next advertisement.
    pub next_sequence: u16,
    /// Visitors on this link.
    pub visitors: usize,
    /// `limit N`.
    pub visitor_limit: Option<u16>,
}

/// The router's MAC notation: `0060.837b.95ec`.
pub fn mac_text(mac: &[u8; 6]) -> String {
    format!(
        "{:02x}{:02x}.{:02x}{:02x}.{:02x}{:02x}",
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
    )
}

/// The routing options a visitor was granted, in the router's letters and order.
pub fn routing_options(flags: u8, reverse_tunnel: bool) -> String {
    const LETTERS: [(u8, char); 5] = [
        (0x80, 'S'),
        (0x40, 'B'),
        (0x20, 'D'),
        (0x10, 'M'),
        (0x08, 'G'),
    ];
    let mut s: String = LETTERS
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|&(_, c)| c)
        .collect();
    if reverse_tunnel {
        s.push('T');
    }
    s
}

/// Serialises an [`Encapsulation`] as its IP protocol number.
pub(crate) fn ser_encap<S: serde::Serializer>(e: &Encapsulation, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u8(u8::from(*e))
}

pub(crate) fn ident_text(id: u64) -> String {
    Identification(id).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_notations() {
        assert_eq!(
            mac_text(&[0x00, 0x60, 0x83, 0x7b, 0x95, 0xec]),
            "0060.837b.95ec"
        );
        assert_eq!(routing_options(0x02, true), "T");
        assert_eq!(routing_options(0x48, false), "BG");
        assert_eq!(ident_text(0xB751_0E60_6443_6B38), "B7510E60.64436B38");
    }

    #[test]
    fn add_is_field_by_field() {
        let mut a = Counters {
            requests_in: 1,
            ..Counters::default()
        };
        a.add(&Counters {
            requests_in: 2,
            visitors_cleared: 3,
            ..Counters::default()
        });
        assert_eq!((a.requests_in, a.visitors_cleared), (3, 3));
    }
}
